/*
 * Public API of the observation history (tlsguard_store_history,
 * tlsguard_store_verify, tlsguard_observation_*): thin wrappers over
 * history.c for the CLI and for applications that show users what a host
 * served.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "tg.h"
#include "tg_history.h"

/* A tlsguard_observation is the internal record itself. */
struct tlsguard_observation {
	struct tg_observation o;
};

struct history_walk {
	tlsguard_observation_cb cb;
	void *ud;
};

static int history_one(const struct tg_observation *o, void *ud)
{
	struct history_walk *w = ud;
	/* Same layout: the public type wraps the record. */
	return w->cb((const tlsguard_observation *)(const void *)o, w->ud);
}

int tlsguard_store_history(tlsguard_store *h, const char *host, unsigned port, size_t limit,
                           tlsguard_observation_cb cb, void *userdata)
{
	char norm[TG_MAX_HOST + 1], *err;
	struct history_walk w = {cb, userdata};
	struct tg_store *st;
	size_t errlen;

	if ((st = tg_store_of(h, &err, &errlen)) == NULL)
		return h == NULL ? TLSGUARD_E_INVALID : TLSGUARD_E_STORE;
	if (cb == NULL) {
		tg_snprintf(err, errlen, "callback is NULL");
		return TLSGUARD_E_INVALID;
	}
	if (port > 65535) {
		tg_snprintf(err, errlen, "port %u is not within 0..65535", port);
		return TLSGUARD_E_INVALID;
	}
	if (host != NULL && tg_host_normalize(host, strlen(host), norm) != 0) {
		tg_snprintf(err, errlen, "'%.80s' is not a host name", host);
		return TLSGUARD_E_INVALID;
	}
	/* A limit past what the log can hold means all of it. */
	return tg_history_foreach(st, host ? norm : NULL, port, limit > (size_t)INT64_MAX ? 0 : (int64_t)limit,
	                          history_one, &w, err, errlen);
}

_Static_assert(sizeof(struct tlsguard_observation) == sizeof(struct tg_observation), "the wrapper adds nothing");

int64_t tlsguard_observation_seq(const tlsguard_observation *obs)
{
	return obs ? obs->o.seq : -1;
}

int64_t tlsguard_observation_time(const tlsguard_observation *obs)
{
	return obs ? obs->o.time : 0;
}

const char *tlsguard_observation_host(const tlsguard_observation *obs)
{
	return obs ? obs->o.host : "";
}

unsigned tlsguard_observation_port(const tlsguard_observation *obs)
{
	return obs ? obs->o.port : 0;
}

const char *tlsguard_observation_address(const tlsguard_observation *obs)
{
	return obs ? obs->o.address : "";
}

int tlsguard_observation_from_probe(const tlsguard_observation *obs)
{
	return obs ? obs->o.source == TG_OBS_PROBE : 0;
}

int tlsguard_observation_verdict(const tlsguard_observation *obs)
{
	return obs ? obs->o.verdict : TLSGUARD_REJECT;
}

uint64_t tlsguard_observation_reasons(const tlsguard_observation *obs)
{
	return obs ? obs->o.fatal_codes : 0;
}

const char *tlsguard_observation_issuer(const tlsguard_observation *obs)
{
	return obs ? obs->o.issuer_name : "";
}

const char *tlsguard_observation_anchor(const tlsguard_observation *obs)
{
	return obs ? obs->o.anchor_name : "";
}

const unsigned char *tlsguard_observation_key(const tlsguard_observation *obs)
{
	static const unsigned char none[TG_SPKI_LEN];
	return obs ? obs->o.leaf_spki : none;
}

const unsigned char *tlsguard_observation_chain(const tlsguard_observation *obs, size_t *n)
{
	if (n != NULL)
		*n = obs ? obs->o.nchain : 0;
	return obs ? &obs->o.chain[0][0] : NULL;
}

const char *tlsguard_observation_ct(const tlsguard_observation *obs)
{
	if (obs == NULL)
		return "unknown";
	return obs->o.ct == TG_OBS_CT_COMPLIANT ? "compliant" : obs->o.ct == TG_OBS_CT_NOT_COMPLIANT ? "not-compliant" : "unknown";
}

const char *tlsguard_observation_pin(const tlsguard_observation *obs)
{
	if (obs == NULL)
		return "none";
	return obs->o.pin == TG_OBS_PIN_OK ? "ok" : obs->o.pin == TG_OBS_PIN_MISMATCH ? "mismatch" : "none";
}

/* ---- verification ---- */

/* "SIZE:BASE64ROOT" */
static int head_parse(const char *text, struct tg_tree_head *out)
{
	gnutls_datum_t in, dec = {NULL, 0};
	const char *colon = strchr(text, ':');
	char *end;
	long long size;
	int ok;

	if (colon == NULL || colon == text || text[0] < '0' || text[0] > '9')
		return -1;
	size = strtoll(text, &end, 10);
	if (end != colon || size < 0)
		return -1;
	in.data = (unsigned char *)(uintptr_t)(colon + 1);
	in.size = (unsigned)strlen(colon + 1);
	if (gnutls_base64_decode2(&in, &dec) != 0)
		return -1;
	ok = dec.size == sizeof(out->root);
	if (ok)
		memcpy(out->root, dec.data, sizeof(out->root));
	gnutls_free(dec.data);
	out->size = size;
	out->time = 0;
	return ok ? 0 : -1;
}

static int head_format(const struct tg_tree_head *h, char *out, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)h->root, sizeof(h->root)}, enc = {NULL, 0};
	int n;

	if (gnutls_base64_encode2(&in, &enc) != 0)
		return TLSGUARD_E_NOMEM;
	n = tg_snprintf(out, len, "%lld:%.*s", (long long)h->size, (int)enc.size, (const char *)enc.data);
	gnutls_free(enc.data);
	return n < 0 || (size_t)n >= len ? TLSGUARD_E_RANGE : 0;
}

struct problem_sink {
	tlsguard_problem_cb cb;
	void *ud;
};

static void problem_one(int64_t seq, const char *msg, void *ud)
{
	struct problem_sink *p = ud;
	if (p->cb != NULL)
		p->cb(seq, msg, p->ud);
}

int tlsguard_store_verify(tlsguard_store *h, const char *trusted_head, tlsguard_problem_cb cb, void *userdata,
                          char *head, size_t headlen, int64_t *records, int64_t *compacted)
{
	struct tg_tree_head trusted, current;
	struct tg_history_stats stats;
	struct problem_sink sink = {cb, userdata};
	struct tg_store *st;
	char *err;
	size_t errlen;
	int rc;

	if (head != NULL && headlen > 0)
		head[0] = '\0';
	if (records != NULL)
		*records = 0;
	if (compacted != NULL)
		*compacted = 0;
	if ((st = tg_store_of(h, &err, &errlen)) == NULL)
		return h == NULL ? TLSGUARD_E_INVALID : TLSGUARD_E_STORE;
	if (trusted_head != NULL && head_parse(trusted_head, &trusted) != 0) {
		tg_snprintf(err, errlen, "'%.80s' is not a tree head (expected SIZE:BASE64ROOT, as 'store verify' prints)",
		            trusted_head);
		return TLSGUARD_E_INVALID;
	}
	memset(&stats, 0, sizeof(stats));
	rc = tg_history_verify(st, trusted_head ? &trusted : NULL, problem_one, &sink, &current, &stats, err, errlen);
	if (rc < 0)
		return rc;
	if (records != NULL)
		*records = stats.records;
	if (compacted != NULL)
		*compacted = stats.compacted;
	if (head != NULL && headlen > 0 && head_format(&current, head, headlen) != 0)
		head[0] = '\0';
	if (rc == 1) {
		tg_snprintf(err, errlen, "the history has %lld problem%s", (long long)stats.problems,
		            stats.problems == 1 ? "" : "s");
		return TLSGUARD_E_VERIFY;
	}
	return 0;
}
