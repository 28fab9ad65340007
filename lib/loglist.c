/*
 * Certificate Transparency log lists: the v3 JSON format Chrome publishes
 * (log_list.json, all_logs_list.json) and the lists that copy its layout
 * (Apple's current_log_list.json, crt.sh's all_logs_list.json).
 *
 *   { "version"?, "log_list_timestamp"?: RFC 3339,
 *     "operators": [ { "name", "email"?: [..],
 *         "logs"?:       [ LOG with "url" ],
 *         "tiled_logs"?: [ LOG with "submission_url", "monitoring_url"? ] } ] }
 *   LOG = { "description"?, "log_id": b64(SHA-256(key)), "key": b64 DER SPKI,
 *           "mmd", "log_type"?, "state"?: { ONE state: { "timestamp", .. } },
 *           "temporal_interval"?: { "start_inclusive", "end_exclusive" },
 *           "previous_operators"?: [ { "name", "end_time" } ] }
 *
 * The input is untrusted. JSON is parsed strictly (json-c's strict mode,
 * UTF-8 validated, nesting limited, nothing after the top-level object);
 * every field we use is type-checked with json_object_is_type(), never read
 * through json-c's converting getters; unknown fields are ignored because
 * the format grows (Apple adds "version" to states, "tls_only", ...).
 * Every error message is "NAME: JSON.PATH: what is wrong".
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "tg.h"
#include "tg_ct.h"

#define LL_MAX_INPUT (16u << 20) /* bytes; real lists are < 200 KB */
#define LL_MAX_DEPTH 16          /* real lists nest 8 deep (final_tree_head) */
#define LL_PATH 128

/* The states of a v3 list, in enum tg_log_state order from TG_LOG_PENDING. */
static const char *const state_names[] = {"pending", "qualified", "usable", "readonly", "retired", "rejected"};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))
#define STATE_LIST "pending, qualified, usable, readonly, retired or rejected"

struct pctx {
	const char *name;
	char *err;
	size_t errlen;
};

/* A log while the list is being read: where it came from, for messages. */
struct entry {
	struct tg_ct_log log;
	char path[LL_PATH];
	size_t seq; /* position in the file */
};

static int fail(struct pctx *c, int rc, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct pctx *c, int rc, const char *path, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (c->err == NULL || c->errlen == 0)
		return rc;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		tg_snprintf(c->err, c->errlen, "%s: %s: %s", c->name, path, msg);
	else
		tg_snprintf(c->err, c->errlen, "%s: %s", c->name, msg);
	return rc;
}

static int nomem(struct pctx *c)
{
	return fail(c, TLSGUARD_E_NOMEM, NULL, "out of memory");
}

/* "operators[2]" + "logs" -> "operators[2].logs" */
static void join(char *out, size_t n, const char *path, const char *key)
{
	if (path[0] == '\0')
		tg_snprintf(out, n, "%s", key);
	else
		tg_snprintf(out, n, "%s.%s", path, key);
}

static const char *type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a non-integer number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

/* A printable, shortened copy of an untrusted string for messages. */
static const char *shown(const char *s, size_t len, char *buf, size_t n)
{
	size_t i, o = 0, max = n > 8 ? n - 5 : 0;

	for (i = 0; i < len && o < max; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	if (i < len && o + 3 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ typed field access */

/* The member @key of object @obj: 1 and *out when present, 0 when absent. A
 * present JSON null counts as present (and then fails every type check). */
static int member(struct json_object *obj, const char *key, struct json_object **out)
{
	*out = NULL;
	return json_object_object_get_ex(obj, key, out) ? 1 : 0;
}

static int want_type(struct pctx *c, struct json_object *v, json_type t, const char *path, const char *what)
{
	if (json_object_is_type(v, t))
		return 0;
	return fail(c, TLSGUARD_E_INVALID, path, "expected %s, got %s", what, type_name(v));
}

/* A string member: absent -> 0 with *s NULL (an error if @required). Strings
 * with a NUL character (\u0000) are rejected: C consumers would see less. */
static int get_string(struct pctx *c, struct json_object *obj, const char *path, const char *key, bool required,
                      const char **s, size_t *len)
{
	char p[LL_PATH];
	struct json_object *v;
	int rc;

	*s = NULL;
	*len = 0;
	join(p, sizeof(p), path, key);
	if (!member(obj, key, &v))
		return required ? fail(c, TLSGUARD_E_INVALID, p, "missing") : 0;
	if ((rc = want_type(c, v, json_type_string, p, "a string")) != 0)
		return rc;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (memchr(*s, '\0', *len) != NULL)
		return fail(c, TLSGUARD_E_INVALID, p, "contains a NUL character");
	return 0;
}

static int dup_string(struct pctx *c, struct json_object *obj, const char *path, const char *key, bool required,
                      char **out)
{
	const char *s;
	size_t len;
	int rc = get_string(c, obj, path, key, required, &s, &len);

	if (rc != 0)
		return rc;
	*out = tg_strndup(s != NULL ? s : "", len);
	return *out == NULL ? nomem(c) : 0;
}

/* An optional array or object member: NULL when absent. */
static int get_typed(struct pctx *c, struct json_object *obj, const char *path, const char *key, json_type t,
                     const char *what, bool required, struct json_object **out)
{
	char p[LL_PATH];

	join(p, sizeof(p), path, key);
	if (!member(obj, key, out))
		return required ? fail(c, TLSGUARD_E_INVALID, p, "missing") : 0;
	return want_type(c, *out, t, p, what);
}

/* ------------------------------------------------------------------ RFC 3339 times */

static int digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.F+](Z|+HH:MM|-HH:MM) into ms since
 * the epoch (fractions below 1 ms are dropped). Upper-case 'T' and 'Z' only;
 * no leap second (":60"); at most 9 fraction digits. NULL on success, else
 * what is wrong.
 */
static const char *parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, ms = 0;
	size_t i = 19, nf = 0;
	int64_t t, off = 0;

	if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		goto syntax;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nf++)
			if (nf < 3)
				ms = ms * 10 + (s[i] - '0');
		if (nf == 0 || nf > 9)
			goto syntax;
		for (; nf < 3; nf++)
			ms *= 10;
	}
	if (i + 1 == len && s[i] == 'Z') {
		off = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && !digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
	           !digits(s + i + 4, 2, &om)) {
		if (oh > 23 || om > 59)
			return "time zone offset out of range";
		off = (int64_t)(oh * 60 + om) * 60;
		if (s[i] == '-')
			off = -off;
	} else {
		goto syntax;
	}
	if (mo < 1 || mo > 12)
		return "month out of range";
	if (d < 1 || d > days_in_month(y, mo))
		return "no such day in that month";
	if (h > 23)
		return "hour out of range";
	if (mi > 59)
		return "minute out of range";
	if (sec > 59)
		return "second out of range";
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*out = t * 1000 + ms;
	return NULL;
syntax:
	return "not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction] with Z or +HH:MM)";
}

static int get_time(struct pctx *c, struct json_object *obj, const char *path, const char *key, bool required,
                    int64_t *out)
{
	char p[LL_PATH], show[48];
	const char *s, *why;
	size_t len;
	int rc;

	if ((rc = get_string(c, obj, path, key, required, &s, &len)) != 0 || s == NULL)
		return rc;
	if ((why = parse_rfc3339(s, len, out)) != NULL) {
		join(p, sizeof(p), path, key);
		return fail(c, TLSGUARD_E_INVALID, p, "\"%s\": %s", shown(s, len, show, sizeof(show)), why);
	}
	return 0;
}

/* ------------------------------------------------------------------ base64 and keys */

static int b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Strict standard base64 (RFC 4648 sec. 4): padded to a multiple of 4, no
 * white space, zero padding bits. @out holds len / 4 * 3 bytes. NULL on
 * success, else what is wrong. */
static const char *b64_decode(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	if (len == 0)
		return "empty";
	if (len % 4 != 0)
		return "not base64 (length is not a multiple of 4)";
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		int v[4], k;
		bool last = i + 4 == len;
		for (k = 0; k < 4; k++) {
			if (last && (size_t)k >= 4 - pad) {
				v[k] = 0;
				continue;
			}
			v[k] = b64_val((unsigned char)s[i + (size_t)k]);
			if (v[k] < 0)
				return s[i + (size_t)k] == '=' ? "not base64 (misplaced '=')"
				                               : "not base64 (character outside the base64 alphabet)";
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (last && pad == 2) {
			if ((v[1] & 15) != 0)
				return "not base64 (non-zero padding bits)";
			break;
		}
		out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (last && pad == 1) {
			if ((v[2] & 3) != 0)
				return "not base64 (non-zero padding bits)";
			break;
		}
		out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o;
	return NULL;
}

/* Import a DER SubjectPublicKeyInfo that a CT log may use: ECDSA P-256 or
 * RSA >= 2048 bits (RFC 6962 sec. 2.1.4), encoded canonically (re-encoding
 * gives the same bytes, so the log_id is the hash of exactly this key). */
static int import_key(struct pctx *c, const char *path, const unsigned char *der, size_t len, gnutls_pubkey_t *out)
{
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)der, (unsigned)len}, again = {NULL, 0};
	gnutls_pubkey_t pk = NULL;
	unsigned bits = 0;
	int rc, alg;

	*out = NULL;
	if (len > 16384)
		return fail(c, TLSGUARD_E_INVALID, path, "key too long (%zu bytes)", len);
	if ((rc = gnutls_pubkey_init(&pk)) < 0)
		return rc == GNUTLS_E_MEMORY_ERROR ? nomem(c) : fail(c, TLSGUARD_E_INTERNAL, path, "%s", gnutls_strerror(rc));
	rc = gnutls_pubkey_import(pk, &d, GNUTLS_X509_FMT_DER);
	if (rc < 0) {
		gnutls_pubkey_deinit(pk);
		if (rc == GNUTLS_E_MEMORY_ERROR)
			return nomem(c);
		return fail(c, TLSGUARD_E_INVALID, path, "not a DER SubjectPublicKeyInfo (GnuTLS: %s)", gnutls_strerror(rc));
	}
	alg = gnutls_pubkey_get_pk_algorithm(pk, &bits);
	if (alg == GNUTLS_PK_RSA) {
		if (bits < 2048) {
			gnutls_pubkey_deinit(pk);
			return fail(c, TLSGUARD_E_INVALID, path, "RSA key of %u bits (at least 2048 required)", bits);
		}
	} else if (alg == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
		rc = gnutls_pubkey_export_ecc_raw2(pk, &curve, &x, &y, 0);
		gnutls_free(x.data);
		gnutls_free(y.data);
		if (rc < 0 || curve != GNUTLS_ECC_CURVE_SECP256R1) {
			gnutls_pubkey_deinit(pk);
			return fail(c, TLSGUARD_E_INVALID, path, "ECDSA key not on P-256 (%s)",
			            rc < 0 ? gnutls_strerror(rc) : gnutls_ecc_curve_get_name(curve));
		}
	} else {
		gnutls_pubkey_deinit(pk);
		return fail(c, TLSGUARD_E_INVALID, path, "unsupported key algorithm %s (CT logs use ECDSA P-256 or RSA)",
		            gnutls_pk_get_name((gnutls_pk_algorithm_t)alg) ? gnutls_pk_get_name((gnutls_pk_algorithm_t)alg)
		                                                           : "?");
	}
	rc = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &again);
	if (rc < 0) {
		gnutls_pubkey_deinit(pk);
		return rc == GNUTLS_E_MEMORY_ERROR ? nomem(c) : fail(c, TLSGUARD_E_INTERNAL, path, "%s", gnutls_strerror(rc));
	}
	rc = again.size == len && memcmp(again.data, der, len) == 0;
	gnutls_free(again.data);
	if (!rc) {
		gnutls_pubkey_deinit(pk);
		return fail(c, TLSGUARD_E_INVALID, path, "not a canonical DER SubjectPublicKeyInfo (trailing or non-DER bytes)");
	}
	*out = pk;
	return 0;
}

/* ------------------------------------------------------------------ one log */

static void log_clear(struct tg_ct_log *l)
{
	size_t i;

	tg_free(l->description);
	tg_free(l->operator_name);
	for (i = 0; i < l->n_prev_ops; i++)
		tg_free(l->prev_ops[i].name);
	tg_free(l->prev_ops);
	tg_free(l->key);
	if (l->pubkey != NULL)
		gnutls_pubkey_deinit(l->pubkey);
	tg_free(l->url);
	memset(l, 0, sizeof(*l));
}

static int parse_state(struct pctx *c, struct json_object *log, const char *path, struct tg_ct_log *l)
{
	char p[LL_PATH], sp[LL_PATH], show[48];
	struct json_object *st;
	struct json_object_iterator it, end;
	const char *first = NULL;
	size_t i, n = 0;
	int64_t t;
	int rc;

	l->state = TG_LOG_NONE;
	if ((rc = get_typed(c, log, path, "state", json_type_object, "an object", false, &st)) != 0 || st == NULL)
		return rc;
	join(p, sizeof(p), path, "state");
	it = json_object_iter_begin(st);
	end = json_object_iter_end(st);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		for (i = 0; i < N_STATES && strcmp(k, state_names[i]) != 0; i++)
			;
		if (i == N_STATES)
			return fail(c, TLSGUARD_E_INVALID, p, "unknown state \"%s\" (expected %s)",
			            shown(k, strlen(k), show, sizeof(show)), STATE_LIST);
		join(sp, sizeof(sp), p, state_names[i]);
		if ((rc = want_type(c, v, json_type_object, sp, "an object")) != 0)
			return rc;
		/* "final_tree_head" (readonly), Apple's "version", ...: ignored */
		if ((rc = get_time(c, v, sp, "timestamp", true, &t)) != 0)
			return rc;
		/* Chrome and Apple give one state; some lists (Mozilla's) give the
		 * history. The current state is the latest; a tie is ambiguous. */
		if (n++ > 0 && t == l->state_time)
			return fail(c, TLSGUARD_E_INVALID, p, "states \"%s\" and \"%s\" have the same timestamp", first,
			            state_names[i]);
		if (n == 1 || t > l->state_time) {
			first = state_names[i];
			l->state_time = t;
			l->state = TG_LOG_PENDING + (int)i;
		}
	}
	if (n == 0)
		return fail(c, TLSGUARD_E_INVALID, p, "empty (expected one of %s)", STATE_LIST);
	return 0;
}

static int cmp_prev(const void *a, const void *b)
{
	const struct tg_prev_operator *x = a, *y = b;
	return x->end_time < y->end_time ? -1 : x->end_time > y->end_time;
}

static int parse_prev_ops(struct pctx *c, struct json_object *log, const char *path, struct tg_ct_log *l)
{
	char p[LL_PATH], ep[LL_PATH];
	struct json_object *arr;
	size_t i, n;
	int rc;

	if ((rc = get_typed(c, log, path, "previous_operators", json_type_array, "an array", false, &arr)) != 0 ||
	    arr == NULL)
		return rc;
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	l->prev_ops = tg_calloc(n, sizeof(*l->prev_ops));
	if (l->prev_ops == NULL)
		return nomem(c);
	join(p, sizeof(p), path, "previous_operators");
	for (i = 0; i < n; i++) {
		struct json_object *po = json_object_array_get_idx(arr, i);
		struct tg_prev_operator *op = &l->prev_ops[i];
		tg_snprintf(ep, sizeof(ep), "%s[%zu]", p, i);
		if ((rc = want_type(c, po, json_type_object, ep, "an object")) != 0)
			return rc;
		if ((rc = dup_string(c, po, ep, "name", true, &op->name)) != 0)
			return rc;
		l->n_prev_ops++;
		if (op->name[0] == '\0') {
			join(p, sizeof(p), ep, "name");
			return fail(c, TLSGUARD_E_INVALID, p, "empty");
		}
		if ((rc = get_time(c, po, ep, "end_time", true, &op->end_time)) != 0)
			return rc;
	}
	qsort(l->prev_ops, n, sizeof(*l->prev_ops), cmp_prev);
	for (i = 1; i < n; i++)
		if (l->prev_ops[i].end_time == l->prev_ops[i - 1].end_time)
			return fail(c, TLSGUARD_E_INVALID, p, "two previous operators with the same end_time");
	return 0;
}

static int parse_log(struct pctx *c, struct json_object *log, const char *path, bool tiled, const char *operator_name,
                     struct tg_ct_log *l)
{
	char p[LL_PATH];
	const char *s, *why;
	size_t len, n;
	unsigned char id[TG_CT_LOG_ID_LEN + 3], digest[32];
	struct json_object *v, *ti;
	int rc;

	if ((rc = want_type(c, log, json_type_object, path, "an object")) != 0)
		return rc;
	l->tiled = tiled;
	if ((l->operator_name = tg_strdup(operator_name)) == NULL)
		return nomem(c);
	if ((rc = dup_string(c, log, path, "description", false, &l->description)) != 0)
		return rc;
	if ((rc = dup_string(c, log, path, tiled ? "submission_url" : "url", true, &l->url)) != 0)
		return rc;
	if (tiled && (rc = get_string(c, log, path, "monitoring_url", false, &s, &len)) != 0)
		return rc;
	if ((rc = get_string(c, log, path, "log_type", false, &s, &len)) != 0)
		return rc;

	/* key, then log_id = SHA-256(key) */
	join(p, sizeof(p), path, "key");
	if ((rc = get_string(c, log, path, "key", true, &s, &len)) != 0)
		return rc;
	if (len > 32768)
		return fail(c, TLSGUARD_E_INVALID, p, "too long (%zu characters)", len);
	if ((l->key = tg_malloc(len / 4 * 3 + 1)) == NULL)
		return nomem(c);
	if ((why = b64_decode(s, len, l->key, &l->key_len)) != NULL)
		return fail(c, TLSGUARD_E_INVALID, p, "%s", why);
	if ((rc = import_key(c, p, l->key, l->key_len, &l->pubkey)) != 0)
		return rc;

	join(p, sizeof(p), path, "log_id");
	if ((rc = get_string(c, log, path, "log_id", true, &s, &len)) != 0)
		return rc;
	if (len != 44) /* 32 bytes */
		return fail(c, TLSGUARD_E_INVALID, p, "not 32 bytes of base64 (%zu characters, expected 44)", len);
	if ((why = b64_decode(s, len, id, &n)) != NULL)
		return fail(c, TLSGUARD_E_INVALID, p, "%s", why);
	if (n != TG_CT_LOG_ID_LEN)
		return fail(c, TLSGUARD_E_INVALID, p, "not 32 bytes (%zu)", n);
	if ((rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, l->key, l->key_len, digest)) < 0)
		return fail(c, TLSGUARD_E_INTERNAL, p, "SHA-256: %s", gnutls_strerror(rc));
	if (memcmp(digest, id, TG_CT_LOG_ID_LEN) != 0)
		return fail(c, TLSGUARD_E_INVALID, p, "does not match SHA-256 of the key");
	memcpy(l->log_id, id, TG_CT_LOG_ID_LEN);

	/* mmd: seconds, a JSON integer 0 .. 2^32-1 */
	join(p, sizeof(p), path, "mmd");
	if (!member(log, "mmd", &v))
		return fail(c, TLSGUARD_E_INVALID, p, "missing");
	if ((rc = want_type(c, v, json_type_int, p, "an integer")) != 0)
		return rc;
	{
		/* json-c clamps integers beyond 64 bits (to INT64_MIN / INT64_MAX
		 * here): the range check rejects those too. */
		int64_t m = json_object_get_int64(v);
		if (m < 0 || m > (int64_t)UINT32_MAX)
			return fail(c, TLSGUARD_E_INVALID, p, "out of range (0 to %u seconds)", UINT32_MAX);
		l->mmd = (uint32_t)m;
	}

	if ((rc = parse_state(c, log, path, l)) != 0)
		return rc;

	if ((rc = get_typed(c, log, path, "temporal_interval", json_type_object, "an object", false, &ti)) != 0)
		return rc;
	if (ti != NULL) {
		join(p, sizeof(p), path, "temporal_interval");
		if ((rc = get_time(c, ti, p, "start_inclusive", true, &l->interval_start)) != 0 ||
		    (rc = get_time(c, ti, p, "end_exclusive", true, &l->interval_end)) != 0)
			return rc;
		if (l->interval_start >= l->interval_end)
			return fail(c, TLSGUARD_E_INVALID, p, "start_inclusive is not before end_exclusive");
	}
	return parse_prev_ops(c, log, path, l);
}

/* ------------------------------------------------------------------ the list */

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = memcmp(x->log.log_id, y->log.log_id, TG_CT_LOG_ID_LEN);
	if (r != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void tg_loglist_free(struct tg_loglist *ll)
{
	size_t i;

	if (ll == NULL)
		return;
	for (i = 0; i < ll->n; i++)
		log_clear(&ll->logs[i]);
	tg_free(ll->logs);
	tg_free(ll->version);
	tg_free(ll);
}

/* Count the logs of every operator (type-checking the arrays on the way). */
static int count_logs(struct pctx *c, struct json_object *ops, size_t *total)
{
	static const char *const kinds[2] = {"logs", "tiled_logs"};
	char p[LL_PATH];
	size_t i, k, n = json_object_array_length(ops);
	int rc;

	*total = 0;
	for (i = 0; i < n; i++) {
		struct json_object *op = json_object_array_get_idx(ops, i), *arr;
		tg_snprintf(p, sizeof(p), "operators[%zu]", i);
		if ((rc = want_type(c, op, json_type_object, p, "an object")) != 0)
			return rc;
		for (k = 0; k < 2; k++) {
			if ((rc = get_typed(c, op, p, kinds[k], json_type_array, "an array", false, &arr)) != 0)
				return rc;
			if (arr != NULL)
				*total += json_object_array_length(arr);
		}
	}
	return 0;
}

static int parse_operators(struct pctx *c, struct json_object *ops, struct entry *ents, size_t *n_ents)
{
	static const char *const kinds[2] = {"logs", "tiled_logs"};
	char p[LL_PATH], lp[LL_PATH], ep[LL_PATH];
	size_t i, j, k, n = json_object_array_length(ops);
	int rc;

	for (i = 0; i < n; i++) {
		struct json_object *op = json_object_array_get_idx(ops, i), *arr;
		const char *name;
		size_t len;

		tg_snprintf(p, sizeof(p), "operators[%zu]", i);
		if ((rc = get_string(c, op, p, "name", true, &name, &len)) != 0)
			return rc;
		if (len == 0) {
			join(ep, sizeof(ep), p, "name");
			return fail(c, TLSGUARD_E_INVALID, ep, "empty");
		}
		if ((rc = get_typed(c, op, p, "email", json_type_array, "an array", false, &arr)) != 0)
			return rc;
		for (j = 0; arr != NULL && j < json_object_array_length(arr); j++) {
			tg_snprintf(ep, sizeof(ep), "%s.email[%zu]", p, j);
			if ((rc = want_type(c, json_object_array_get_idx(arr, j), json_type_string, ep, "a string")) != 0)
				return rc;
		}
		for (k = 0; k < 2; k++) {
			if ((rc = get_typed(c, op, p, kinds[k], json_type_array, "an array", false, &arr)) != 0)
				return rc;
			for (j = 0; arr != NULL && j < json_object_array_length(arr); j++) {
				struct entry *e = &ents[*n_ents];
				tg_snprintf(lp, sizeof(lp), "%s.%s[%zu]", p, kinds[k], j);
				memcpy(e->path, lp, sizeof(e->path));
				e->seq = *n_ents;
				(*n_ents)++; /* counted before parsing: a half-built log is freed too */
				if ((rc = parse_log(c, json_object_array_get_idx(arr, j), lp, k == 1, name, &e->log)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

static int parse_top(struct pctx *c, struct json_object *top, struct tg_loglist *ll, struct entry **entsp,
                     size_t *n_ents)
{
	struct json_object *ops;
	struct entry *ents = NULL;
	size_t total, i;
	int rc;

	if (!json_object_is_type(top, json_type_object))
		return fail(c, TLSGUARD_E_INVALID, "top level", "expected an object, got %s", type_name(top));
	{
		const char *s;
		size_t len;
		if ((rc = get_string(c, top, "", "version", false, &s, &len)) != 0)
			return rc;
		if (s != NULL && (ll->version = tg_strndup(s, len)) == NULL)
			return nomem(c);
	}
	if ((rc = get_time(c, top, "", "log_list_timestamp", false, &ll->timestamp)) != 0)
		return rc;
	if ((rc = get_typed(c, top, "", "operators", json_type_array, "an array", true, &ops)) != 0)
		return rc;
	if ((rc = count_logs(c, ops, &total)) != 0)
		return rc;
	if (total > 0) {
		if ((ents = tg_calloc(total, sizeof(*ents))) == NULL)
			return nomem(c);
		*entsp = ents;
	}
	if ((rc = parse_operators(c, ops, ents, n_ents)) != 0 || total == 0)
		return rc;

	qsort(ents, total, sizeof(*ents), cmp_entry);
	for (i = 1; i < total; i++) {
		if (memcmp(ents[i].log.log_id, ents[i - 1].log.log_id, TG_CT_LOG_ID_LEN) == 0) {
			char p[LL_PATH + 8];
			join(p, sizeof(p), ents[i].path, "log_id");
			return fail(c, TLSGUARD_E_INVALID, p, "duplicate of %s.log_id", ents[i - 1].path);
		}
	}
	ll->logs = tg_calloc(total, sizeof(*ll->logs));
	if (ll->logs == NULL)
		return nomem(c);
	for (i = 0; i < total; i++) {
		ll->logs[i] = ents[i].log;
		memset(&ents[i].log, 0, sizeof(ents[i].log));
	}
	ll->n = total;
	return 0;
}

/*
 * Two things json-c accepts silently and other JSON parsers read
 * differently, so that one list could mean two things: a member name given
 * twice in one object (json-c keeps the last value) and a NUL character
 * (\u0000) in a member name, where json-c cuts it ("key\u0000x" becomes
 * "key"). Both are rejected. (A NUL in a value is kept by json-c and
 * rejected by get_string(), with the value's path.) @buf is JSON that json-c
 * accepted.
 *
 * scan_raw() counts the member names of every object, in the order the
 * objects open; check_counts() walks json-c's tree in the same order: an
 * object with fewer members there than names in the text had a name twice.
 * (Up to the first such object both orders agree, so the first mismatch is
 * found at the right object.)
 */
struct scan {
	size_t *counts; /* member names per object, in the order the objects open */
	size_t n, cap, next;
};

static int scan_raw(struct pctx *c, const char *buf, size_t len, size_t skip, struct scan *sc)
{
	size_t stack[LL_MAX_DEPTH + 1]; /* object index + 1, or 0 for an array */
	size_t depth = 0, i;
	bool want_name = false;

	for (i = 0; i < len; i++) {
		char ch = buf[i];
		if (ch == '"') {
			bool name = want_name && depth > 0 && stack[depth - 1] != 0;
			if (name)
				sc->counts[stack[depth - 1] - 1]++;
			want_name = false;
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] != '\\')
					continue;
				if (name && i + 5 < len && buf[i + 1] == 'u' && memcmp(buf + i + 2, "0000", 4) == 0)
					return fail(c, TLSGUARD_E_INVALID, NULL, "byte %zu: \\u0000 (NUL) in a member name", i + skip);
				i++; /* the escaped character; \uXXXX: its hex digits are plain */
			}
		} else if (ch == '{' || ch == '[') {
			if (depth == LL_MAX_DEPTH + 1)
				return fail(c, TLSGUARD_E_INTERNAL, NULL, "byte %zu: nesting", i + skip); /* json-c let it pass */
			if (ch == '{') {
				if (sc->n == sc->cap) {
					size_t cap = sc->cap ? 2 * sc->cap : 64;
					size_t *n = tg_realloc(sc->counts, cap * sizeof(*n));
					if (n == NULL)
						return nomem(c);
					sc->counts = n;
					sc->cap = cap;
				}
				sc->counts[sc->n++] = 0;
				stack[depth++] = sc->n;
				want_name = true;
			} else {
				stack[depth++] = 0;
			}
		} else if (ch == '}' || ch == ']') {
			if (depth > 0)
				depth--;
		} else if (ch == ',') {
			want_name = depth > 0 && stack[depth - 1] != 0;
		}
	}
	return 0;
}

static int check_counts(struct pctx *c, struct json_object *o, const char *path, struct scan *sc)
{
	char p[LL_PATH];
	size_t i, n;
	int rc;

	if (json_object_is_type(o, json_type_object)) {
		if (sc->next >= sc->n || (size_t)json_object_object_length(o) != sc->counts[sc->next])
			return fail(c, TLSGUARD_E_INVALID, path[0] ? path : "top level", "a member name appears twice");
		sc->next++;
		json_object_object_foreach(o, key, val)
		{
			join(p, sizeof(p), path, key);
			if ((rc = check_counts(c, val, p, sc)) != 0)
				return rc;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			tg_snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if ((rc = check_counts(c, json_object_array_get_idx(o, i), p, sc)) != 0)
				return rc;
		}
	}
	return 0;
}

static int parse_json(struct pctx *c, const char *json, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	struct scan sc = {NULL, 0, 0, 0};
	char *buf;
	size_t end, i, skip = 0;
	int rc;

	*out = NULL;
	/* A UTF-8 byte order mark is allowed to be ignored (RFC 8259 sec. 8.1). */
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	/* json-c needs the terminating NUL to finish a value at the end of the
	 * input (a bare number); the input need not have one. */
	if ((buf = tg_malloc(len - skip + 1)) == NULL)
		return nomem(c);
	memcpy(buf, json + skip, len - skip);
	buf[len - skip] = '\0';
	if ((tok = json_tokener_new_ex(LL_MAX_DEPTH)) == NULL) {
		tg_free(buf);
		return nomem(c);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, buf, (int)(len - skip + 1));
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (*out == NULL || jerr != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
		tg_free(buf);
		if (jerr == json_tokener_error_depth)
			return fail(c, TLSGUARD_E_INVALID, NULL, "byte %zu: not JSON: nested deeper than %d levels", end + skip,
			            LL_MAX_DEPTH);
		if (jerr == json_tokener_success || jerr == json_tokener_continue || end >= len - skip)
			return fail(c, TLSGUARD_E_INVALID, NULL, "byte %zu: not JSON: unexpected end of input", len);
		return fail(c, TLSGUARD_E_INVALID, NULL, "byte %zu: not JSON: %s", end + skip, json_tokener_error_desc(jerr));
	}
	for (i = end; i < len - skip; i++) {
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') {
			rc = fail(c, TLSGUARD_E_INVALID, NULL, "byte %zu: trailing data after the top-level value", i + skip);
			goto out;
		}
	}
	if ((rc = scan_raw(c, buf, end, skip, &sc)) == 0)
		rc = check_counts(c, *out, "", &sc);
out:
	tg_free(sc.counts);
	tg_free(buf);
	if (rc != 0) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

int tg_loglist_parse(const char *json, size_t len, const char *name, struct tg_loglist **out, char *err,
                     size_t errlen)
{
	struct pctx c = {name != NULL ? name : "log list", err, errlen};
	struct json_object *top = NULL;
	struct tg_loglist *ll;
	struct entry *ents = NULL;
	size_t n_ents = 0, i;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return TLSGUARD_E_INVALID;
	*out = NULL;
	if (json == NULL)
		return fail(&c, TLSGUARD_E_INVALID, NULL, "no input");
	if (len > LL_MAX_INPUT)
		return fail(&c, TLSGUARD_E_RANGE, NULL, "%zu bytes: larger than the %u bytes allowed", len, LL_MAX_INPUT);
	if ((rc = parse_json(&c, json, len, &top)) != 0)
		return rc;
	if ((ll = tg_calloc(1, sizeof(*ll))) == NULL) {
		json_object_put(top);
		return nomem(&c);
	}
	rc = parse_top(&c, top, ll, &ents, &n_ents);
	json_object_put(top);
	for (i = 0; i < n_ents; i++)
		log_clear(&ents[i].log); /* moved-out logs are zeroed */
	tg_free(ents);
	if (rc != 0) {
		tg_loglist_free(ll);
		return rc;
	}
	*out = ll;
	return 0;
}

static int cmp_id(const void *key, const void *elem)
{
	const struct tg_ct_log *l = elem;
	return memcmp(key, l->log_id, TG_CT_LOG_ID_LEN);
}

const struct tg_ct_log *tg_loglist_find(const struct tg_loglist *ll, const unsigned char log_id[TG_CT_LOG_ID_LEN])
{
	if (ll == NULL || log_id == NULL || ll->n == 0)
		return NULL;
	return bsearch(log_id, ll->logs, ll->n, sizeof(*ll->logs), cmp_id);
}

const char *tg_ct_log_operator_at(const struct tg_ct_log *log, int64_t when)
{
	size_t i;

	if (log == NULL)
		return NULL;
	/* prev_ops is sorted by end_time: the first one still running at
	 * @when (end_time exclusive) ran the log then. */
	for (i = 0; i < log->n_prev_ops; i++)
		if (when < log->prev_ops[i].end_time)
			return log->prev_ops[i].name;
	return log->operator_name;
}

/* ------------------------------------------------------------------ detached signature */

int tg_loglist_verify_signature(const char *json, size_t len, const unsigned char *sig, size_t sig_len,
                                const char *pubkey_pem, size_t pem_len, char *err, size_t errlen)
{
	struct pctx c = {"log list signature", err, errlen};
	gnutls_pubkey_t pk = NULL;
	gnutls_datum_t pem, data, sd;
	unsigned bits = 0;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (json == NULL || sig == NULL || pubkey_pem == NULL || sig_len == 0 || pem_len == 0 || len > UINT32_MAX ||
	    sig_len > 65536 || pem_len > 65536)
		return fail(&c, TLSGUARD_E_INVALID, NULL, "missing or oversized input");
	pem.data = (unsigned char *)(uintptr_t)pubkey_pem;
	pem.size = (unsigned)pem_len;
	if ((rc = gnutls_pubkey_init(&pk)) < 0)
		return nomem(&c);
	if ((rc = gnutls_pubkey_import(pk, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_pubkey_deinit(pk);
		return fail(&c, TLSGUARD_E_INVALID, NULL, "public key: not a PEM \"PUBLIC KEY\" (GnuTLS: %s)",
		            gnutls_strerror(rc));
	}
	if (gnutls_pubkey_get_pk_algorithm(pk, &bits) != GNUTLS_PK_RSA || bits < 2048) {
		gnutls_pubkey_deinit(pk);
		return fail(&c, TLSGUARD_E_INVALID, NULL,
		            "public key: not an RSA key of at least 2048 bits (log lists are signed with RSA)");
	}
	data.data = (unsigned char *)(uintptr_t)json;
	data.size = (unsigned)len;
	sd.data = (unsigned char *)(uintptr_t)sig;
	sd.size = (unsigned)sig_len;
	rc = gnutls_pubkey_verify_data2(pk, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sd);
	gnutls_pubkey_deinit(pk);
	if (rc < 0)
		return fail(&c, TLSGUARD_E_VERIFY, NULL, "RSA PKCS#1 v1.5 SHA-256 signature does not verify (GnuTLS: %s)",
		            gnutls_strerror(rc));
	return 0;
}
