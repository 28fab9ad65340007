/*
 * Fuzz target "loglist": the CT log-list parser (tg_loglist_parse(), the v3
 * JSON format of Chrome, Apple and crt.sh; lib/loglist.c).
 *
 * The whole input is one list, named "fuzz.json".
 *
 * Invariants checked (abort() when violated):
 * - tg_loglist_parse() returns 0, TLSGUARD_E_INVALID, TLSGUARD_E_NOMEM or
 *   TLSGUARD_E_RANGE; on failure *out is NULL and the message starts with
 *   "fuzz.json: "; on success the message is empty;
 * - a parsed list is sorted by log_id with no duplicates, and
 *   tg_loglist_find() returns every log (and nothing for an id one bit off
 *   that is not in the list);
 * - every log has a parsed public key whose DER export is exactly the stored
 *   key bytes, and log_id = SHA-256 of those bytes; description, url and
 *   operator name are set; the state is one of enum tg_log_state, with a
 *   time only when there is a state; a temporal interval is non-empty;
 *   previous operators are sorted by strictly increasing end_time and
 *   tg_ct_log_operator_at() follows them (end_time exclusive);
 * - parsing the same bytes again gives the same answer (no hidden state).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <tlsguard/tlsguard.h>

#include "fuzz.h"
#include "tg_ct.h"

#define NAME "fuzz.json"

static void check_log(const struct tg_loglist *ll, const struct tg_ct_log *l)
{
	unsigned char digest[32], other[TG_CT_LOG_ID_LEN];
	gnutls_datum_t der = {NULL, 0};
	const struct tg_ct_log *f;
	size_t j;

	if (l->pubkey == NULL || l->key == NULL || l->key_len == 0 || l->url == NULL || l->description == NULL ||
	    l->operator_name == NULL || l->operator_name[0] == '\0')
		abort();
	if (gnutls_pubkey_export2(l->pubkey, GNUTLS_X509_FMT_DER, &der) < 0)
		abort();
	if (der.size != l->key_len || memcmp(der.data, l->key, l->key_len) != 0)
		abort();
	gnutls_free(der.data);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, l->key, l->key_len, digest) < 0 ||
	    memcmp(digest, l->log_id, TG_CT_LOG_ID_LEN) != 0)
		abort();
	if (tg_loglist_find(ll, l->log_id) != l)
		abort();
	memcpy(other, l->log_id, TG_CT_LOG_ID_LEN);
	other[TG_CT_LOG_ID_LEN - 1] ^= 1;
	f = tg_loglist_find(ll, other);
	if (f != NULL && memcmp(f->log_id, other, TG_CT_LOG_ID_LEN) != 0)
		abort();
	if (l->state < TG_LOG_NONE || l->state > TG_LOG_REJECTED)
		abort();
	if (l->state == TG_LOG_NONE && l->state_time != 0)
		abort();
	if ((l->interval_start != 0 || l->interval_end != 0) && l->interval_start >= l->interval_end)
		abort();
	if (l->n_prev_ops > 0 && l->prev_ops == NULL)
		abort();
	for (j = 0; j < l->n_prev_ops; j++) {
		const struct tg_prev_operator *p = &l->prev_ops[j];
		if (p->name == NULL || p->name[0] == '\0')
			abort();
		if (j > 0 && l->prev_ops[j - 1].end_time >= p->end_time)
			abort();
		/* just before its end: this operator (the earlier ones ended) */
		if (p->end_time > INT64_MIN && strcmp(tg_ct_log_operator_at(l, p->end_time - 1), p->name) != 0)
			abort();
	}
	if (l->n_prev_ops > 0 &&
	    tg_ct_log_operator_at(l, l->prev_ops[l->n_prev_ops - 1].end_time) != l->operator_name)
		abort();
	if (tg_ct_log_operator_at(l, INT64_MAX) != l->operator_name)
		abort();
}

static int parse(const uint8_t *data, size_t size, struct tg_loglist **ll, char *err, size_t errlen)
{
	int rc = tg_loglist_parse((const char *)data, size, NAME, ll, err, errlen);

	if (rc != 0 && rc != TLSGUARD_E_INVALID && rc != TLSGUARD_E_NOMEM && rc != TLSGUARD_E_RANGE)
		abort();
	if (rc != 0 && (*ll != NULL || strncmp(err, NAME ": ", strlen(NAME) + 2) != 0))
		abort();
	if (rc == 0 && (*ll == NULL || err[0] != '\0'))
		abort();
	return rc;
}

TG_FUZZ_TARGET(loglist)
{
	struct tg_loglist *ll = NULL, *again = NULL;
	char err[512], err2[512];
	size_t i;
	int rc, rc2;

	rc = parse(data, size, &ll, err, sizeof(err));
	if (rc == 0) {
		for (i = 0; i < ll->n; i++) {
			if (i > 0 && memcmp(ll->logs[i - 1].log_id, ll->logs[i].log_id, TG_CT_LOG_ID_LEN) >= 0)
				abort();
			check_log(ll, &ll->logs[i]);
		}
		if (ll->n > 0 && ll->logs == NULL)
			abort();
	}
	/* Deterministic: same bytes, same verdict, same message, same logs. */
	rc2 = parse(data, size, &again, err2, sizeof(err2));
	if (rc2 != rc || strcmp(err, err2) != 0)
		abort();
	if (rc == 0) {
		if (again->n != ll->n || again->timestamp != ll->timestamp)
			abort();
		for (i = 0; i < ll->n; i++)
			if (memcmp(again->logs[i].log_id, ll->logs[i].log_id, TG_CT_LOG_ID_LEN) != 0 ||
			    again->logs[i].state != ll->logs[i].state || again->logs[i].state_time != ll->logs[i].state_time)
				abort();
	}
	tg_loglist_free(again);
	tg_loglist_free(ll);
	return 0;
}
