/*
 * Fuzz target "chain": the whole evaluation (DER decoding, path building and
 * every check) on attacker-controlled certificates.
 *
 * Input: up to TG_FUZZ_MAX_CERTS records of a 2-byte big-endian length and
 * that many bytes of DER (see fuzz.h). They become the presented chain, leaf
 * first, of a request for TG_FUZZ_HOST, evaluated with a context that trusts
 * no certificate at all (TLSGUARD_CTX_NO_SYSTEM_CA, no CA files) at the fixed
 * time TG_FUZZ_TIME.
 *
 * Invariants checked (abort() when violated):
 * - a result object is returned, also on error, and its error equals the
 *   return code;
 * - rc != 0 implies verdict == TLSGUARD_REJECT (fail closed);
 * - nothing is ever accepted: with no trust anchor every chain must be
 *   rejected;
 * - a rejection is explained: at least one event is fatal or was answered
 *   REJECT;
 * - every event and check accessor returns sane values (non-NULL strings,
 *   certificate indices within the chain, known codes and severities).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <tlsguard/tlsguard.h>

#include "fuzz.h"

/* Looks at every event the way a client would; answers DEFAULT. */
static int event_cb(const tlsguard_event *ev, void *ud)
{
	unsigned *calls = ud;
	size_t len = 0;

	(*calls)++;
	if (tlsguard_event_message(ev) == NULL || tlsguard_event_detail(ev) == NULL ||
	    strcmp(tlsguard_event_host(ev), TG_FUZZ_HOST) != 0)
		abort();
	if (tlsguard_event_cert_count(ev) > 0 && tlsguard_event_cert(ev, 0, &len) == NULL)
		abort();
	return TLSGUARD_DECISION_DEFAULT;
}

static void check_result(const tlsguard_result *res, int rc, size_t ncerts, unsigned calls)
{
	size_t i, n = tlsguard_result_event_count(res);
	int fatal = 0;

	if (tlsguard_result_error(res) != rc)
		abort();
	if (rc != 0 && tlsguard_result_verdict(res) != TLSGUARD_REJECT)
		abort();
	if (tlsguard_result_verdict(res) != TLSGUARD_REJECT)
		abort(); /* nothing is trusted, so nothing may be accepted */
	if (tlsguard_result_cert_count(res) != ncerts)
		abort();
	/* Every event reaches the callback, also when the evaluation could not
	 * complete. */
	if (calls != n)
		abort();
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		int code, sev, idx;
		if (ev == NULL)
			abort();
		code = tlsguard_event_code(ev);
		sev = tlsguard_event_severity(ev);
		idx = tlsguard_event_cert_index(ev);
		if (tlsguard_code_key(code) == NULL || strcmp(tlsguard_event_name(ev), tlsguard_code_name(code)) != 0)
			abort();
		if (sev < TLSGUARD_SEV_INFO || sev > TLSGUARD_SEV_FATAL)
			abort();
		if (idx < -1 || (idx >= 0 && (size_t)idx >= ncerts))
			abort();
		if (tlsguard_event_message(ev)[0] == '\0' || tlsguard_event_check(ev)[0] == '\0')
			abort();
		if (tlsguard_event_overridable(ev))
			abort(); /* mode enforce: nothing is overridable */
		if (sev == TLSGUARD_SEV_FATAL || tlsguard_event_decision(ev) == TLSGUARD_DECISION_REJECT)
			fatal = 1;
	}
	if (!fatal)
		abort(); /* a rejection without a reason */
	if (tlsguard_result_event(res, n) != NULL)
		abort();
	for (i = 0; i < tlsguard_result_check_count(res); i++)
		if (tlsguard_result_check_name(res, i) == NULL)
			abort();
}

TG_FUZZ_TARGET(chain)
{
	tlsguard_ctx *ctx = NULL;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t pos = 0, ncerts = 0;
	unsigned calls = 0;
	int rc;

	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		return 0;
	if (tlsguard_ctx_set_time(ctx, TG_FUZZ_TIME) != 0 || tlsguard_ctx_set_event_callback(ctx, event_cb, &calls) != 0)
		abort();
	if (tlsguard_request_new(&req, TG_FUZZ_HOST, strlen(TG_FUZZ_HOST)) != 0)
		abort();
	if (tlsguard_request_set_port(req, 443) != 0)
		abort();
	while (ncerts < TG_FUZZ_MAX_CERTS && size - pos >= 2) {
		size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (len == 0)
			continue;
		if (tlsguard_request_add_cert(req, data + pos, len) != 0)
			abort();
		pos += len;
		ncerts++;
	}

	rc = tlsguard_verify(ctx, req, &res);
	if (res == NULL)
		abort(); /* only allowed when even the result cannot be allocated */
	if (ncerts == 0 && rc != TLSGUARD_E_EMPTY_CHAIN)
		abort();
	check_result(res, rc, ncerts, calls);

	tlsguard_result_free(res);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	return 0;
}
