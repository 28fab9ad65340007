/*
 * Check "ocsp": a stapled OCSP response, when the server sent one. Revoked
 * (in a response whose signature verifies against the leaf's issuer) is
 * fatal. A response that does not verify, is about another certificate, is
 * not yet valid or is stale is a warning: the server could simply have sent
 * nothing, so a bad staple alone proves no attack. No staple: skipped.
 */
#include "config.h"

#include <gnutls/ocsp.h>

#include "tg.h"

#define CLOCK_SKEW 300
#define MAX_SINGLES 64

static int run(struct tg_eval *e)
{
	const struct tg_buf *b = &e->req->ocsp;
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t d;
	gnutls_x509_crt_t issuer;
	unsigned verify = 0, cert_status = 0;
	time_t this_update = 0, next_update = 0, rev_time = 0;
	char t1[40], t2[40];
	unsigned idx;
	int ret, rc = TLSGUARD_CHECK_PASS;

	if (b->data == NULL)
		return TLSGUARD_CHECK_SKIP;
	if (b->len > UINT32_MAX) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0, "stapled OCSP response too large");
		return rc;
	}
	d.data = b->data;
	d.size = (unsigned)b->len;
	if (gnutls_ocsp_resp_init(&resp) < 0)
		return TLSGUARD_E_NOMEM;
	ret = gnutls_ocsp_resp_import(resp, &d);
	if (ret < 0) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response could not be decoded: %s", gnutls_strerror(ret));
		goto out;
	}
	ret = gnutls_ocsp_resp_get_status(resp);
	if (ret != GNUTLS_OCSP_RESP_SUCCESSFUL) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response status is %d, not successful", ret);
		goto out;
	}
	issuer = e->npath > 1 ? e->certs[e->path[1]] : e->anchor;
	if (issuer == NULL) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response cannot be checked: the leaf's issuer is unknown");
		goto out;
	}
	ret = gnutls_ocsp_resp_verify_direct(resp, issuer, &verify, 0);
	if (ret < 0 || verify != 0) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response signature does not verify against the leaf's issuer (%s, 0x%x)",
		             ret < 0 ? gnutls_strerror(ret) : "bad signature", verify);
		goto out;
	}
	/* A response may carry several SingleResponses: use the leaf's. */
	for (idx = 0; idx < MAX_SINGLES; idx++) {
		ret = gnutls_ocsp_resp_check_crt(resp, idx, e->certs[0]);
		if (ret == 0 || ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
	}
	if (ret != 0) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response is about another certificate");
		goto out;
	}
	ret = gnutls_ocsp_resp_get_single(resp, idx, NULL, NULL, NULL, NULL, &cert_status, &this_update, &next_update,
	                                  &rev_time, NULL);
	if (ret < 0) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response has no readable status: %s", gnutls_strerror(ret));
		goto out;
	}
	if (cert_status == GNUTLS_OCSP_CERT_REVOKED) {
		tg_format_time((int64_t)rev_time, t1, sizeof(t1));
		tg_event_add(e, TLSGUARD_EV_REVOKED, TLSGUARD_SEV_FATAL, 0,
		             "the issuer's signed OCSP response says the certificate was revoked at %s", t1);
		goto out;
	}
	tg_format_time((int64_t)this_update, t1, sizeof(t1));
	if ((int64_t)this_update > e->now + CLOCK_SKEW) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response is dated in the future (%s)", t1);
		goto out;
	}
	if (next_update != (time_t)-1 && next_update != 0) {
		if ((int64_t)next_update + CLOCK_SKEW < e->now) {
			tg_format_time((int64_t)next_update, t2, sizeof(t2));
			tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
			             "stapled OCSP response is stale: valid until %s", t2);
			goto out;
		}
	} else if ((int64_t)this_update + e->pol.ocsp_max_age < e->now) {
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "stapled OCSP response from %s is older than %u days", t1, e->pol.ocsp_max_age / 86400);
		goto out;
	}
	if (cert_status != GNUTLS_OCSP_CERT_GOOD)
		tg_event_add(e, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0,
		             "the OCSP responder does not know this certificate");
out:
	gnutls_ocsp_resp_deinit(resp);
	return rc;
}

const struct tg_check tg_check_ocsp = {"ocsp", run, NULL};
