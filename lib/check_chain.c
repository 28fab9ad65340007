/* Check "chain": a path from the leaf to a trust anchor, with valid
 * signatures and issuers allowed to issue (GnuTLS does the verification;
 * time and algorithm strength are left to the validity and crypto checks so
 * that each failure is reported as its own event). */
#include "config.h"

#include <limits.h>
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
		if (tg_nc_unsupported(issuer)) /* not for GnuTLS: see tg_nc_unsupported() */
			return (int)e->path[i];
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

/* Name types GnuTLS can check a certificate against (the rest of
 * gnutls_x509_subject_alt_name_t is refused when constrained, see below). */
static const gnutls_x509_subject_alt_name_t nc_types[] = {GNUTLS_SAN_DNSNAME, GNUTLS_SAN_RFC822NAME, GNUTLS_SAN_DN,
                                                          GNUTLS_SAN_IPADDRESS, GNUTLS_SAN_URI};

static bool nc_type_known(unsigned type)
{
	size_t k;
	for (k = 0; k < sizeof(nc_types) / sizeof(nc_types[0]); k++)
		if (type == (unsigned)nc_types[k])
			return true;
	return false;
}

/* The name constraints of @ca applied to path[0..below-1], as GnuTLS's
 * own chain verification applies them (every name type it implements;
 * a constraint of a type it does not implement refuses, as GnuTLS does):
 * the manual path verification below must not be more lenient than the
 * GnuTLS verification it replaces. Self-issued intermediates are exempt
 * (RFC 5280 6.1.3 (b)). */
static unsigned nc_status(const struct tg_eval *e, gnutls_x509_crt_t ca, size_t below)
{
	gnutls_x509_name_constraints_t nc;
	gnutls_datum_t name;
	unsigned crit = 0, type, k, status = 0;
	size_t j, t;
	int ret;

	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
	ret = gnutls_x509_crt_get_name_constraints(ca, nc, 0, &crit);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		goto out;
	if (ret < 0) {
		status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
		goto out;
	}
	for (k = 0; status == 0 && gnutls_x509_name_constraints_get_permitted(nc, k, &type, &name) >= 0; k++)
		if (!nc_type_known(type))
			status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
	for (k = 0; status == 0 && gnutls_x509_name_constraints_get_excluded(nc, k, &type, &name) >= 0; k++)
		if (!nc_type_known(type))
			status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
	for (j = 0; status == 0 && j < below; j++) {
		gnutls_x509_crt_t sub = e->certs[e->path[j]];
		if (j > 0 && tg_crt_self_issued(sub))
			continue;
		for (t = 0; t < sizeof(nc_types) / sizeof(nc_types[0]); t++)
			if (!gnutls_x509_name_constraints_check_crt(nc, nc_types[t], sub)) {
				status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
				break;
			}
	}
out:
	gnutls_x509_name_constraints_deinit(nc);
	return status;
}

/* Verify the path link by link ourselves, in GnuTLS status bits. Used for
 * paths with a self-issued intermediate (key rollover: "ICA' -> ICA'"),
 * which gnutls_x509_trust_list_verify_crt2 cannot verify when anything
 * is above them in the path: its chain sorting treats a certificate whose
 * subject equals its issuer as the end of the chain (as if self-signed),
 * looks for that certificate's issuer in the trust store, and so never
 * reaches the certificates and the anchor above it (x509-limbo
 * pathlen::self-issued-certs-pathlen: "no trusted authority issued").
 * There is no verification flag to change that, and handing it the chain
 * without the self-issued certificates breaks the signature links. A
 * self-issued certificate directly below the anchor is the end of the
 * chain anyway, and GnuTLS verifies such paths itself.
 *
 * Where this is stricter than GnuTLS's chain verification:
 * gnutls_x509_crt_verify() applies the issuer's name constraints to a
 * self-issued certificate too (RFC 5280 6.1.3 (b) exempts it), so a key
 * rollover under a name-constrained CA is rejected (fail closed).
 *
 * Each link is gnutls_x509_crt_verify() of a certificate against exactly
 * its issuer in the path (or the anchor), which checks the signature and
 * that the issuer is a CA allowed to sign certificates; on top of that,
 * explicitly and fail closed: every intermediate has basicConstraints
 * cA=TRUE and, if it has keyUsage, keyCertSign; pathLenConstraint counted
 * as RFC 5280 6.1.4 (k)-(m) counts it, self-issued intermediates not
 * counted, the anchor's own pathLenConstraint applied as GnuTLS applies
 * it; name constraints as GnuTLS applies them (nc_status). Validity and
 * algorithm strength are the validity and crypto checks' (as with GnuTLS's
 * verification, which runs with those checks disabled). */
static unsigned verify_links(const struct tg_eval *e)
{
	const unsigned fail = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
	unsigned status = 0, max_path = UINT_MAX, crit, ca, ku;
	int pathlen, ret;
	size_t i;

	if (e->anchor == NULL)
		return GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	for (i = 0; i < e->npath; i++) {
		gnutls_x509_crt_t c = e->certs[e->path[i]];
		gnutls_x509_crt_t issuer = i + 1 < e->npath ? e->certs[e->path[i + 1]] : e->anchor;
		unsigned st = 0;
		if (gnutls_x509_crt_verify(c, &issuer, 1, VERIFY_FLAGS, &st) < 0)
			return fail;
		status |= st;
		/* gnutls_x509_crt_verify() looks the issuer up by name: make
		 * sure it took the one given and not, say, @c itself. */
		if (!gnutls_x509_crt_check_issuer(c, issuer))
			status |= GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	}
	/* pathLenConstraint, from the anchor down (RFC 5280 6.1.4). */
	crit = ca = 0;
	pathlen = -1;
	ret = gnutls_x509_crt_get_basic_constraints(e->anchor, &crit, &ca, &pathlen);
	if (ret >= 0 && !ca)
		return status | GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_CA;
	if (ret >= 0 && pathlen >= 0)
		max_path = (unsigned)pathlen;
	for (i = e->npath - 1; i >= 1; i--) {
		gnutls_x509_crt_t c = e->certs[e->path[i]];
		crit = ca = 0;
		pathlen = -1;
		if (gnutls_x509_crt_get_basic_constraints(c, &crit, &ca, &pathlen) < 0 || !ca)
			return status | GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_CA;
		ret = gnutls_x509_crt_get_key_usage(c, &ku, &crit);
		if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && (ret < 0 || !(ku & GNUTLS_KEY_KEY_CERT_SIGN)))
			return status | fail;
		if (!tg_crt_self_issued(c)) {
			if (max_path == 0)
				return status | fail;
			if (max_path != UINT_MAX)
				max_path--;
		}
		if (pathlen >= 0 && (unsigned)pathlen < max_path)
			max_path = (unsigned)pathlen;
	}
	/* Name constraints: the anchor's over the whole path, each
	 * intermediate's over the certificates below it. */
	status |= nc_status(e, e->anchor, e->npath);
	for (i = 1; i < e->npath; i++)
		status |= nc_status(e, e->certs[e->path[i]], i);
	return status;
}

/* GnuTLS-style status of the path e->path up to e->anchor; see tg.h. */
int tg_chain_path_status(const struct tg_eval *e, unsigned *status)
{
	gnutls_x509_crt_t list[TG_MAX_CHAIN];
	bool self_issued = false;
	size_t i;

	*status = 0;
	/* Name constraints GnuTLS cannot parse without leaking: it would
	 * refuse the path anyway (tg_nc_unsupported). */
	for (i = 0; i <= e->npath; i++) {
		gnutls_x509_crt_t c = i < e->npath ? e->certs[e->path[i]] : e->anchor;
		if (c != NULL && tg_nc_unsupported(c)) {
			*status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
			return 0;
		}
	}
	for (i = 0; i < e->npath; i++) {
		list[i] = e->certs[e->path[i]];
		/* GnuTLS copes with a self-issued certificate right below the
		 * anchor (it is the end of its chain anyway), not elsewhere. */
		self_issued |= i > 0 && i + 1 < e->npath && tg_crt_self_issued(list[i]);
	}
	if (self_issued && e->anchor != NULL) {
		*status = verify_links(e);
		return 0;
	}
	if (gnutls_x509_trust_list_verify_crt2(e->ctx->tl, list, (unsigned)e->npath, NULL, 0, VERIFY_FLAGS, status,
	                                       NULL) < 0)
		return TLSGUARD_E_INTERNAL;
	return 0;
}

/* Intermediates of the path, self-issued ones not counted (RFC 5280 6.1
 * does not count them for pathLenConstraint). */
static unsigned path_depth(const struct tg_eval *e)
{
	unsigned depth = 0;
	size_t i;
	for (i = 1; i < e->npath; i++)
		depth += !tg_crt_self_issued(e->certs[e->path[i]]);
	return depth;
}

bool tg_chain_path_ok(const struct tg_eval *e, unsigned status)
{
	const unsigned others = GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED;

	/* Time and algorithm strength are other checks' (GNUTLS_CERT_INVALID
	 * then only says that one of those was seen); anything else, or
	 * GNUTLS_CERT_INVALID on its own, is a path GnuTLS refuses. */
	if ((status & ~(others | GNUTLS_CERT_INVALID)) != 0 ||
	    ((status & GNUTLS_CERT_INVALID) && !(status & others)))
		return false;
	return !(e->pol.set & TG_POL_MAX_DEPTH) || path_depth(e) <= e->pol.max_chain_depth;
}

static int run(struct tg_eval *e)
{
	unsigned status = 0, rest;
	char text[512];
	int ret;

	if (e->path_verified) {
		status = e->gnutls_status; /* the path builder's verification of this path */
	} else {
		ret = tg_chain_path_status(e, &status);
		if (ret < 0)
			return ret;
		e->gnutls_status = status;
	}

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
	/* Web-PKI profile: at most max-chain-depth intermediates. */
	if ((e->pol.set & TG_POL_MAX_DEPTH) && path_depth(e) > e->pol.max_chain_depth)
		tg_event_add(e, TLSGUARD_EV_CHAIN_TOO_DEEP, TLSGUARD_SEV_FATAL, (int)e->path[e->npath - 1],
		             "the path has %u intermediate certificates (self-issued ones not counted); "
		             "max-chain-depth allows %u", path_depth(e), e->pol.max_chain_depth);
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_chain = {"chain", run, NULL};
