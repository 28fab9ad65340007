/* Check "chain": a path from the leaf to a trust anchor, with valid
 * signatures and issuers allowed to issue (GnuTLS does the verification;
 * time and algorithm strength are left to the validity and crypto checks so
 * that each failure is reported as its own event). */
#include "config.h"

#include <string.h>

#include "tg.h"

#define VERIFY_FLAGS                                                                                         \
	(GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS | GNUTLS_VERIFY_ALLOW_BROKEN)

#define STRUCTURAL_FAILURES                                                                                  \
	(GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE |     \
	 GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_MISMATCH | GNUTLS_CERT_PURPOSE_MISMATCH)

/* Find which certificate of the path fails on its own link. */
static int offending_index(const struct tg_eval *e)
{
	size_t i;
	for (i = 0; i < e->npath; i++) {
		gnutls_x509_crt_t issuer = i + 1 < e->npath ? e->certs[e->path[i + 1]] : e->anchor;
		unsigned st = 0;
		if (issuer == NULL)
			break;
		if (gnutls_x509_crt_verify(e->certs[e->path[i]], &issuer, 1, VERIFY_FLAGS, &st) < 0 ||
		    (st & STRUCTURAL_FAILURES) != 0)
			return (int)e->path[i];
	}
	return 0;
}

static void status_text(unsigned status, char *buf, size_t len)
{
	gnutls_datum_t out = {NULL, 0};
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
		tg_snprintf(buf, len, "%s", (const char *)out.data);
		gnutls_free(out.data);
	} else {
		tg_snprintf(buf, len, "GnuTLS status 0x%x", status);
	}
}

static void issuer_dn(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	gnutls_datum_t dn = {NULL, 0};
	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) == 0) {
		tg_snprintf(buf, len, "%s", (const char *)dn.data);
		gnutls_free(dn.data);
	} else {
		tg_snprintf(buf, len, "(unreadable issuer name)");
	}
}

static int run(struct tg_eval *e)
{
	gnutls_x509_crt_t list[TG_MAX_CHAIN];
	unsigned status = 0, rest;
	char text[512];
	size_t i;
	int ret;

	for (i = 0; i < e->npath; i++)
		list[i] = e->certs[e->path[i]];
	ret = gnutls_x509_trust_list_verify_crt2(e->ctx->tl, list, (unsigned)e->npath, NULL, 0, VERIFY_FLAGS, &status,
	                                         NULL);
	if (ret < 0)
		return TLSGUARD_E_INTERNAL;
	e->gnutls_status = status;

	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		size_t last = e->path[e->npath - 1];
		gnutls_x509_crt_t c = e->certs[last];
		issuer_dn(c, text, sizeof(text));
		if (gnutls_x509_crt_check_issuer(c, c))
			tg_event_add(e, TLSGUARD_EV_UNTRUSTED_ISSUER, TLSGUARD_SEV_FATAL, (int)last,
			             "certificate %zu is self-signed (%s) and not a trusted anchor", last, text);
		else
			tg_event_add(e, TLSGUARD_EV_UNTRUSTED_ISSUER, TLSGUARD_SEV_FATAL, (int)last,
			             "no trusted authority issued certificate %zu (issuer: %s)", last, text);
	}
	if (status & STRUCTURAL_FAILURES) {
		status_text(status & (STRUCTURAL_FAILURES | GNUTLS_CERT_INVALID), text, sizeof(text));
		tg_event_add(e, TLSGUARD_EV_INVALID_CHAIN, TLSGUARD_SEV_FATAL, offending_index(e), "%s", text);
	}
	if (status & GNUTLS_CERT_REVOKED)
		tg_event_add(e, TLSGUARD_EV_REVOKED, TLSGUARD_SEV_FATAL, 0, "a revocation list in the trust store lists it");
	/* Anything else GnuTLS objected to (other than time and algorithm
	 * strength, which other checks own) still rejects. */
	rest = status & ~(GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND | STRUCTURAL_FAILURES |
	                  GNUTLS_CERT_REVOKED | GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_EXPIRED |
	                  GNUTLS_CERT_NOT_ACTIVATED);
	if (rest != 0) {
		status_text(rest | GNUTLS_CERT_INVALID, text, sizeof(text));
		tg_event_add(e, TLSGUARD_EV_INVALID_CHAIN, TLSGUARD_SEV_FATAL, 0, "%s", text);
	} else if ((status & GNUTLS_CERT_INVALID) &&
	           !(status & (GNUTLS_CERT_SIGNER_NOT_FOUND | STRUCTURAL_FAILURES | GNUTLS_CERT_REVOKED |
	                       GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))) {
		tg_event_add(e, TLSGUARD_EV_INVALID_CHAIN, TLSGUARD_SEV_FATAL, 0, "GnuTLS rejected the chain");
	}
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_chain = {"chain", run, NULL};
