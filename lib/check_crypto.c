/* Check "crypto": no certificate of the path is signed with MD5/MD2 (or
 * SHA-1 unless the policy allows it), and no key of the path or its trust
 * anchor is weak (RSA/DSA below min-rsa-bits, RSA moduli not a multiple of 8
 * bits, DSA at all, unknown curves).
 * A trust anchor's signature on itself is not checked: nobody relies on it. */
#include "config.h"

#include "tg.h"

static const char *weak_sig(const struct tg_eval *e, gnutls_x509_crt_t c)
{
	int sig = gnutls_x509_crt_get_signature_algorithm(c);
	gnutls_digest_algorithm_t h;

	if (sig < 0)
		return "unreadable signature algorithm";
	h = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	switch (h) {
	case GNUTLS_DIG_MD5:
	case GNUTLS_DIG_MD2:
		return "MD5/MD2 signature";
	case GNUTLS_DIG_SHA1:
		return e->pol.allow_sha1 ? NULL : "SHA-1 signature";
	case GNUTLS_DIG_UNKNOWN:
		/* EdDSA has no separate hash; anything else unknown is weak. */
		if (sig == GNUTLS_SIGN_EDDSA_ED25519 || sig == GNUTLS_SIGN_EDDSA_ED448)
			return NULL;
		return "unknown signature algorithm";
	default:
		return NULL;
	}
}

static void weak_key(const struct tg_eval *e, gnutls_x509_crt_t c, char *why, size_t len)
{
	unsigned bits = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(c, &bits);

	why[0] = '\0';
	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		if (bits < e->pol.min_rsa_bits)
			tg_snprintf(why, len, "RSA key of %u bits (minimum %u)", bits, e->pol.min_rsa_bits);
		else if (bits % 8 != 0) /* CA/B Forum BR 6.1.5: a whole number of octets */
			tg_snprintf(why, len, "RSA key of %u bits, not a multiple of 8", bits);
		break;
	case GNUTLS_PK_DSA:
		tg_snprintf(why, len, "DSA key (%u bits)", bits);
		break;
	case GNUTLS_PK_ECDSA: {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		if (gnutls_x509_crt_get_pk_ecc_raw(c, &curve, NULL, NULL) < 0 ||
		    (curve != GNUTLS_ECC_CURVE_SECP256R1 && curve != GNUTLS_ECC_CURVE_SECP384R1 &&
		     curve != GNUTLS_ECC_CURVE_SECP521R1))
			tg_snprintf(why, len, "elliptic curve %s is not accepted",
			            gnutls_ecc_curve_get_name(curve) ? gnutls_ecc_curve_get_name(curve) : "(unknown)");
		break;
	}
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		break;
	default:
		tg_snprintf(why, len, "unsupported public key algorithm %d", pk);
	}
}

static int run(struct tg_eval *e)
{
	char why[128];
	size_t i;

	for (i = 0; i < e->npath; i++) {
		size_t idx = e->path[i];
		gnutls_x509_crt_t c = e->certs[idx];
		const char *s;
		/* A self-signed certificate ending the path signs only itself:
		 * an untrusted one, or a presented copy of the trust anchor. */
		/* (Cheapest test first: the usual last element, an intermediate
		 * below a stored anchor, is not self-issued.) */
		bool self_end = i + 1 == e->npath && tg_crt_self_issued(c) &&
		                (e->anchor == NULL || gnutls_x509_crt_equals(c, e->anchor));

		if (!self_end && (s = weak_sig(e, c)) != NULL)
			tg_event_add(e, TLSGUARD_EV_WEAK_CRYPTO, TLSGUARD_SEV_FATAL, (int)idx, "certificate %zu: %s", idx, s);
		weak_key(e, c, why, sizeof(why));
		if (why[0])
			tg_event_add(e, TLSGUARD_EV_WEAK_CRYPTO, TLSGUARD_SEV_FATAL, (int)idx, "certificate %zu: %s", idx,
			             why);
	}
	if (e->anchor != NULL) {
		weak_key(e, e->anchor, why, sizeof(why));
		if (why[0])
			tg_event_add(e, TLSGUARD_EV_WEAK_CRYPTO, TLSGUARD_SEV_FATAL, -1, "trust anchor: %s", why);
	}
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_crypto = {"crypto", run, NULL};
