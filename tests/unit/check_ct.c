/*
 * Certificate Transparency through the public API: log lists (config key
 * and setter), SCTs embedded, from TLS and from stapled OCSP responses,
 * per-SCT statuses, Chrome's and Apple's policies, report-only, stale
 * lists, the signature cache and concurrent evaluation.
 *
 * The Chrome-policy verdicts of shared/testdata/ct/README.md sec. 3 are
 * reproduced with the real chains against the system trust store (Debian's
 * ca-certificates) at the README's check times, like check_realworld.c.
 * Tests that need the shared data skip when it is absent, except under
 * CI=true, where that fails. The rest uses generated fixtures and lists
 * made here.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "testutil.h"
#include "tg.h"

static char ct_dir[4096]; /* $TG_SHARED/testdata/ct */

/* 2025-10-01, 2026-08-20, 2026-04-01, 2026-11-28, 2026-03-01 (README sec. 3) */
#define T_2025_10_01 INT64_C(1759276800)
#define T_2026_08_20 INT64_C(1787184000)
#define T_2026_04_01 INT64_C(1775001600)
#define T_2026_11_28 INT64_C(1795824000)
#define T_2026_03_01 INT64_C(1772323200)
#define T_2020_01_01 INT64_C(1577836800)
#define T_2013_01_01 INT64_C(1356998400)

#define V81 "loglists/chrome-log_list.v81.14.json"
#define V89 "loglists/chrome-all_logs_list.v89.25.json"
#define APPLE "loglists/apple-current_log_list.v511.json"

/* ------------------------------------------------------------------ helpers */

static const char *ct_path(const char *rel)
{
	static char bufs[8][4200];
	static unsigned slot;
	char *b = bufs[slot++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", ct_dir, rel);
	return b;
}

static gnutls_datum_t load(const char *path)
{
	gnutls_datum_t d = {NULL, 0};
	ck_assert_msg(gnutls_load_file(path, &d) == 0, "cannot read %s", path);
	return d;
}

/* Append every certificate of the PEM files (paths relative to ct_dir). */
static void chain_add(struct test_chain *c, const char *rel)
{
	gnutls_datum_t pem = load(ct_path(rel));
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;

	ck_assert_int_eq(gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM, 0), 0);
	for (i = 0; i < n; i++) {
		gnutls_datum_t der = {NULL, 0};
		ck_assert_int_eq(gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &der), 0);
		c->der[c->n] = malloc(der.size);
		memcpy(c->der[c->n], der.data, der.size);
		c->len[c->n++] = der.size;
		gnutls_free(der.data);
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	gnutls_free(pem.data);
}

static void chain_of(struct test_chain *c, const char *leaf, const char *issuer)
{
	memset(c, 0, sizeof(*c));
	chain_add(c, leaf);
	if (issuer != NULL)
		chain_add(c, issuer);
}

static char *b64(const unsigned char *p, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)p, (unsigned)len}, out = {NULL, 0};
	char *s;
	ck_assert_int_eq(gnutls_base64_encode2(&in, &out), 0);
	s = strndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	return s;
}

/* base64 of a PEM public key's DER and of its SHA-256 (the log id). */
static void key_b64(const char *pem_path, char **key, char **id)
{
	gnutls_datum_t pem = load(pem_path), der = {NULL, 0};
	gnutls_pubkey_t pk;
	unsigned char h[32];

	ck_assert_int_eq(gnutls_pubkey_init(&pk), 0);
	ck_assert_int_eq(gnutls_pubkey_import(pk, &pem, GNUTLS_X509_FMT_PEM), 0);
	ck_assert_int_eq(gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der), 0);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, h), 0);
	*key = b64(der.data, der.size);
	*id = b64(h, 32);
	gnutls_free(der.data);
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pk);
}

/* A fresh P-256 key, as a log key (no shared data needed). */
static void gen_key_b64(char **key, char **id)
{
	gnutls_privkey_t priv;
	gnutls_pubkey_t pk;
	gnutls_datum_t der = {NULL, 0};
	unsigned char h[32];

	ck_assert_int_eq(gnutls_privkey_init(&priv), 0);
	ck_assert_int_eq(gnutls_privkey_generate(priv, GNUTLS_PK_ECDSA,
	                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	                 0);
	ck_assert_int_eq(gnutls_pubkey_init(&pk), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(pk, priv, 0, 0), 0);
	ck_assert_int_eq(gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der), 0);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, h), 0);
	*key = b64(der.data, der.size);
	*id = b64(h, 32);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	gnutls_privkey_deinit(priv);
}

/* One log of a crafted v3 list. */
struct tlog {
	const char *desc, *op;
	char *key, *id;
	const char *state; /* "usable", ..., or NULL for none */
	const char *state_time;
	bool tiled;
};

/* Write a v3 log list (one operator entry per log, as the format allows
 * operators to repeat nothing else) with @list_ts ("" for none). */
static const char *write_list(const char *dir, const char *name, const char *list_ts, const struct tlog *logs,
                              size_t n)
{
	char *buf = malloc(65536);
	size_t o = 0, i;
	const char *path;

	o += (size_t)snprintf(buf + o, 65536 - o, "{\"version\": \"1.0\",%s%s%s \"operators\": [", list_ts[0] ? " \"log_list_timestamp\": \"" : "",
	                      list_ts, list_ts[0] ? "\"," : "");
	for (i = 0; i < n; i++) {
		const struct tlog *l = &logs[i];
		o += (size_t)snprintf(buf + o, 65536 - o,
		                      "%s{\"name\": \"%s\", \"email\": [\"ct@example.test\"], \"%s\": [{\"description\": "
		                      "\"%s\", \"log_id\": \"%s\", \"key\": \"%s\", \"%s\": \"https://ct.example.test/%zu/\", "
		                      "\"mmd\": 86400",
		                      i ? ", " : "", l->op, l->tiled ? "tiled_logs" : "logs", l->desc, l->id, l->key,
		                      l->tiled ? "submission_url" : "url", i);
		if (l->state != NULL)
			o += (size_t)snprintf(buf + o, 65536 - o, ", \"state\": {\"%s\": {\"timestamp\": \"%s\"}}", l->state,
			                      l->state_time);
		o += (size_t)snprintf(buf + o, 65536 - o, "}]}");
	}
	snprintf(buf + o, 65536 - o, "]}\n");
	path = tmpdir_write(dir, name, buf);
	free(buf);
	return path;
}

static int outcome(const tlsguard_result *res, const char *check)
{
	size_t i;
	for (i = 0; i < tlsguard_result_check_count(res); i++)
		if (strcmp(tlsguard_result_check_name(res, i), check) == 0)
			return tlsguard_result_check_outcome(res, i);
	ck_abort_msg("no check %s", check);
	return -1;
}

static const tlsguard_event *find_event(const tlsguard_result *res, int code)
{
	size_t i;
	for (i = 0; i < tlsguard_result_event_count(res); i++)
		if (tlsguard_event_code(tlsguard_result_event(res, i)) == code)
			return tlsguard_result_event(res, i);
	return NULL;
}

static size_t count_events(const tlsguard_result *res, int code)
{
	size_t i, n = 0;
	for (i = 0; i < tlsguard_result_event_count(res); i++)
		n += tlsguard_event_code(tlsguard_result_event(res, i)) == code;
	return n;
}

/* Every event as text, for failure messages. */
static const char *describe(const tlsguard_result *res)
{
	static char buf[8192];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < tlsguard_result_event_count(res) && o < sizeof(buf) - 1; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "[%s %s: %s] ", tlsguard_severity_name(tlsguard_event_severity(ev)),
		                      tlsguard_event_name(ev), tlsguard_event_detail(ev));
	}
	return buf;
}

/* The events of the ct check must be exactly @codes (0-terminated). */
static void ct_events_are(const tlsguard_result *res, const int *codes)
{
	size_t i, k = 0;

	for (i = 0; i < tlsguard_result_event_count(res); i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		if (strcmp(tlsguard_event_check(ev), "ct") != 0)
			continue;
		ck_assert_msg(codes[k] != 0 && tlsguard_event_code(ev) == codes[k], "ct event %zu is %s; all: %s", k,
		              tlsguard_event_name(ev), describe(res));
		k++;
	}
	ck_assert_msg(codes[k] == 0, "ct event %zu (%s) missing; all: %s", k, tlsguard_code_name(codes[k]),
	              describe(res));
}

static const int NO_EVENTS[] = {0};

/* Assert SCT @i of @res. @id_b64 NULL: not checked; @name "" for unknown. */
static void sct_is(const tlsguard_result *res, size_t i, const char *id_b64, const char *name, const char *op,
                   int64_t ts, int source, int status)
{
	const unsigned char *id = NULL;
	const char *n = NULL, *o = NULL;
	int64_t t = 0;
	int src = -1, st = -1;

	ck_assert_msg(i < tlsguard_result_sct_count(res), "SCT %zu missing (have %zu)", i, tlsguard_result_sct_count(res));
	ck_assert_int_eq(tlsguard_result_sct(res, i, &id, &n, &o, &t, &src, &st), 0);
	if (id_b64 != NULL) {
		char *got = b64(id, 32);
		ck_assert_str_eq(got, id_b64);
		free(got);
	}
	ck_assert_str_eq(n, name);
	ck_assert_str_eq(o, op);
	ck_assert_int_eq(t, ts);
	ck_assert_int_eq(src, source);
	ck_assert_msg(st == status, "SCT %zu (%s): status %s, expected %s; events: %s", i, n, tlsguard_sct_status_name(st),
	              tlsguard_sct_status_name(status), describe(res));
}

static tlsguard_result *verify_chain(const tlsguard_ctx *ctx, const char *host, const struct test_chain *c, int *rc)
{
	tlsguard_result *res = NULL;
	*rc = tlsguard_verify_der_chain(ctx, host, 443, (const unsigned char *const *)c->der, c->len, c->n, &res);
	ck_assert_ptr_nonnull(res);
	return res;
}

/* A context trusting the system store at @when with the log list @list
 * (relative to ct_dir; NULL: none) and the config text @conf. */
static tlsguard_ctx *rw_ctx(int64_t when, const char *list, const char *conf)
{
	tlsguard_ctx *ctx = NULL;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, when), 0);
	if (list != NULL)
		ck_assert_msg(tlsguard_ctx_set_ct_log_list(ctx, ct_path(list)) == 0, "%s", tlsguard_ctx_last_error(ctx));
	if (conf != NULL)
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "t.conf") == 0, "%s",
		              tlsguard_ctx_last_error(ctx));
	return ctx;
}

/* The base64 key of the log @id_b64 in an OpenSSL-format copy of a list
 * (loglists/NAME.cnf: "key = BASE64" lines). Caller frees. */
static char *cnf_key(const char *cnf_rel, const char *id_b64)
{
	gnutls_datum_t cnf = load(ct_path(cnf_rel));
	char *s = strndup((const char *)cnf.data, cnf.size), *line, *save = NULL, *found = NULL;

	for (line = strtok_r(s, "\n", &save); line != NULL && found == NULL; line = strtok_r(NULL, "\n", &save)) {
		gnutls_datum_t in, der = {NULL, 0};
		unsigned char h[32];
		char *id;
		if (strncmp(line, "key = ", 6) != 0)
			continue;
		in.data = (unsigned char *)line + 6;
		in.size = (unsigned)strlen(line + 6);
		if (gnutls_base64_decode2(&in, &der) != 0)
			continue;
		ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, h), 0);
		id = b64(h, 32);
		if (strcmp(id, id_b64) == 0)
			found = strdup(line + 6);
		free(id);
		gnutls_free(der.data);
	}
	free(s);
	gnutls_free(cnf.data);
	ck_assert_msg(found != NULL, "no key for %s in %s", id_b64, cnf_rel);
	return found;
}

/* ------------------------------------------------------------------ README sec. 3 */

#define CF_DIR "real-world/cloudflare-sni-2025/"
#define CF_HOST "26d54cff.sni.cloudflaressl.com"
#define AWS_DIR "real-world/aws.amazon.com-2025/"
#define LE_DIR "real-world/letsencrypt.org-2026/"

#define XENON25 "3dzKNJXX4RYF55Uy+sef+D0cUN/bADoUEnYKLKy7yCo="
#define NIMBUS25 "zPsPaoVxCWX+lZtTzumyfCLphVwNl422qX5UwP5MDbA="
#define XENON26 "2AlVO5RPev/IFhlvlE+Fq7D4/F6HVSYPFdEucrtFSxQ="
#define WYVERN26 "wjF+V0UZo0XufzjespBB68fCIVoiv3/Vta12mtkOUs0="
#define SPHINX26 "lE5Dh/rswe+B8xkkJqgYZQHH0184AgE/cmd9VTcuGdg="
#define NIMBUS26 "yzj3FYl8hKFEX1vB3fvJbvKaWc1HCmkFhbDLFMMUWOc="
#define TUSCOLO "cX6V88I4im2x44RJPTHhWqliCHYtQgDgBQzQZ7WmYeI="

/* cloudflare-sni-2025, chrome-log_list.v81.14, 2025-10-01: COMPLIANT
 * (90-day certificate: 2 logs, Google and Cloudflare). */
START_TEST(readme_cloudflare_v81)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2025_10_01, V81, NULL);
	tlsguard_result *res;
	int rc;

	chain_of(&c, CF_DIR "leaf.pem", CF_DIR "issuer-we1-gtsr4.pem");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 2);
	sct_is(res, 0, XENON25, "Google 'Xenon2025h2' log", "Google", INT64_C(1757531517152), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	sct_is(res, 1, NIMBUS25, "Cloudflare 'Nimbus2025'", "Cloudflare", INT64_C(1757531517172), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* aws.amazon.com-2025, chrome-all_logs_list.v89.25, 2026-08-20: COMPLIANT
 * (346 days: 3 logs, operators Google and DigiCert). */
START_TEST(readme_aws_v89)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_08_20, V89, NULL);
	tlsguard_result *res;
	int rc;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	res = verify_chain(ctx, "aws.amazon.com", &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 3);
	sct_is(res, 0, XENON26, "Google 'Xenon2026h2' log", "Google", INT64_C(1762471780544), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	sct_is(res, 1, WYVERN26, "DigiCert 'Wyvern2026h2'", "DigiCert", INT64_C(1762471780542), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	sct_is(res, 2, SPHINX26, "DigiCert 'Sphinx2026h2'", "DigiCert", INT64_C(1762471780579), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* letsencrypt.org-2026, v89.25, 2026-04-01: COMPLIANT. In v89.25
 * Tuscolo2026h1 is "rejected" since 2026-07-09, after the check time: the
 * state at the time of check is inferred (usable), as README sec. 3 says.
 * Taking the snapshot's state literally would make it NOT COMPLIANT. */
START_TEST(readme_letsencrypt_v89_state_at_check_time)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_04_01, V89, NULL);
	tlsguard_result *res;
	int rc;

	chain_of(&c, LE_DIR "leaf.pem", LE_DIR "issuer.pem");
	res = verify_chain(ctx, "letsencrypt.org", &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 2);
	sct_is(res, 0, NIMBUS26, "Cloudflare 'Nimbus2026'", "Cloudflare", INT64_C(1772992980455), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	sct_is(res, 1, TUSCOLO, "Geomys 'Tuscolo2026h1'", "Geomys", INT64_C(1772992980608), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* letsencrypt.org-2026, v89.25, 2026-11-28: "COMPLIANT by enforcement
 * timeout (list >= 70 days old)". Chrome's compliance here means "CT is
 * not enforced": tlsguard does the same and says so with a
 * ct-unavailable warning; the ct check is skipped and raises no CT
 * failure. (The certificate itself expired on 2026-06-06, so the
 * evaluation is rejected for that alone.) */
START_TEST(readme_letsencrypt_v89_enforcement_timeout)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_11_28, V89, NULL);
	tlsguard_result *res;
	const tlsguard_event *ev;
	static const int want[] = {TLSGUARD_EV_CT_UNAVAILABLE, 0};
	int rc;

	chain_of(&c, LE_DIR "leaf.pem", LE_DIR "issuer.pem");
	res = verify_chain(ctx, "letsencrypt.org", &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
	ct_events_are(res, want);
	ev = find_event(res, TLSGUARD_EV_CT_UNAVAILABLE);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_WARNING);
	ck_assert_msg(strstr(tlsguard_event_detail(ev), "dated 2026-08-20T13:34:57Z, 99 days before the evaluation "
	                                                "time; a list older than 70 days is not enforced") != NULL,
	              "%s", tlsguard_event_detail(ev));
	ck_assert_ptr_null(tlsguard_event_report(ev));
	/* Only the expiry rejects. */
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_uint_eq(count_events(res, TLSGUARD_EV_EXPIRED), 1);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 2);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* cloudflare-sni-2025, v89.25, 2025-10-01: NOT COMPLIANT (the 2025 shards
 * were pruned from the list: both SCTs are from unknown logs). */
START_TEST(readme_cloudflare_v89_not_compliant)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2025_10_01, V89, NULL);
	tlsguard_result *res;
	const tlsguard_event *ev;
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};
	int rc;

	chain_of(&c, CF_DIR "leaf.pem", CF_DIR "issuer-we1-gtsr4.pem");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_FAIL);
	ct_events_are(res, want);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ev = find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_int_eq(tlsguard_event_cert_index(ev), 0);
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_CT_POLICY_NOT_MET");
	ck_assert_msg(strstr(tlsguard_event_detail(ev), "Chrome CT policy: 2 valid embedded SCTs from distinct logs needed "
	                                                "for a certificate valid 90 days; found 0. Not counted: unknown "
	                                                "log " XENON25 " (embedded, 2025-09-10T19:11:57.152Z): unknown_log; "
	                                                "unknown log " NIMBUS25) != NULL,
	              "%s", tlsguard_event_detail(ev));
	/* Pin-style: part of the report. */
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	ck_assert_ptr_nonnull(strstr(tlsguard_result_report(res), "ct-policy-not-met"));
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 2);
	sct_is(res, 0, XENON25, "", "", INT64_C(1757531517152), TLSGUARD_SCT_EMBEDDED, TLSGUARD_SCT_UNKNOWN_LOG);
	sct_is(res, 1, NIMBUS25, "", "", INT64_C(1757531517172), TLSGUARD_SCT_EMBEDDED, TLSGUARD_SCT_UNKNOWN_LOG);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* The same with ct-mode report-only: accepted, the failure reported. */
START_TEST(cloudflare_v89_report_only)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2025_10_01, V89, "ct-mode = report-only\n");
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	chain_of(&c, CF_DIR "leaf.pem", CF_DIR "issuer-we1-gtsr4.pem");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_FAIL);
	ev = find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_WARNING);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "(ct-mode report-only)"));
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* aws.amazon.com-2025, Apple's list v511, 2026-03-01: COMPLIANT under
 * Chrome's rules (README) and under Apple's (181-398 days: 3 SCTs, at most
 * 2 per operator: DigiCert 2 + Google 1; RFC 6962 logs). Apple's list has no
 * log_list_timestamp: its newest state (2026-03-30) dates it, with a load
 * warning. */
START_TEST(readme_aws_apple_list)
{
	static const char *const policies[] = {"ct-policy = chrome\n", "ct-policy = apple\n"};
	struct test_chain c;
	size_t k;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	for (k = 0; k < 2; k++) {
		tlsguard_ctx *ctx = rw_ctx(T_2026_03_01, APPLE, policies[k]);
		tlsguard_result *res;
		int rc;

		ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
		ck_assert_msg(strstr(tlsguard_ctx_warning(ctx, 0), "warning: ") != NULL &&
		                  strstr(tlsguard_ctx_warning(ctx, 0),
		                         "has no log_list_timestamp; its age is counted from its newest log state "
		                         "(2026-03-30T19:10:05Z)") != NULL,
		              "%s", tlsguard_ctx_warning(ctx, 0));
		res = verify_chain(ctx, "aws.amazon.com", &c, &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s: %s", policies[k], describe(res));
		ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
		ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
		sct_is(res, 0, XENON26, "Google 'Xenon 2026H2' log", "Google", INT64_C(1762471780544), TLSGUARD_SCT_EMBEDDED,
		       TLSGUARD_SCT_VALID);
		sct_is(res, 1, WYVERN26, "DigiCert 'Wyvern 2026h2' Log", "DigiCert", INT64_C(1762471780542),
		       TLSGUARD_SCT_EMBEDDED, TLSGUARD_SCT_VALID);
		sct_is(res, 2, SPHINX26, "DigiCert 'Sphinx 2026h2' Log", "DigiCert", INT64_C(1762471780579),
		       TLSGUARD_SCT_EMBEDDED, TLSGUARD_SCT_VALID);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}
	chain_free(&c);
}
END_TEST

/* Apple's list at 2026-03-01 knows Nimbus 2025 and Xenon 2025H2 as
 * rejected since 2026-01-29 (Apple's mark for expired shards): at
 * 2025-10-01 they were usable, so the cloudflare certificate complies with
 * Apple's rules there; at 2026-01-30 (after the rejection) the SCTs are
 * log_not_accepted, whatever the certificate's own expiry says. */
START_TEST(apple_rejected_logs)
{
	struct test_chain c;
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	int rc;

	chain_of(&c, CF_DIR "leaf.pem", CF_DIR "issuer-we1-gtsr4.pem");
	ctx = rw_ctx(T_2025_10_01, APPLE, "ct-policy = apple\n");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	sct_is(res, 0, XENON25, "Google 'Xenon 2025H2' log", "Google", INT64_C(1757531517152), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = rw_ctx(INT64_C(1769731200) /* 2026-01-30 */, APPLE, "ct-policy = apple\n");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_ptr_nonnull(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET));
	ck_assert_msg(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
	                     "Apple CT policy: SCTs from 2 distinct approved logs needed; found 0") != NULL,
	              "%s", describe(res));
	sct_is(res, 0, XENON25, "Google 'Xenon 2025H2' log", "Google", INT64_C(1757531517152), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_LOG_NOT_ACCEPTED);
	sct_is(res, 1, NIMBUS25, "Cloudflare 'Nimbus 2025' log", "Cloudflare", INT64_C(1757531517172),
	       TLSGUARD_SCT_EMBEDDED, TLSGUARD_SCT_LOG_NOT_ACCEPTED);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* Operator diversity: a list in which the Cloudflare log is run by Google
 * (a crafted copy of both entries under one operator). */
START_TEST(chrome_needs_two_operators)
{
	char *dir = tmpdir_new();
	struct tlog logs[2] = {
	    {"Google 'Xenon2025h2' log", "Google", NULL, NULL, "usable", "2023-11-26T12:00:00Z", false},
	    {"Cloudflare 'Nimbus2025'", "Google", NULL, NULL, "usable", "2023-12-19T07:00:00Z", false},
	};
	const char *list;
	struct test_chain c;
	tlsguard_ctx *ctx = NULL;
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	logs[0].key = cnf_key("loglists/chrome-log_list.v81.14.cnf", XENON25);
	logs[0].id = strdup(XENON25);
	logs[1].key = cnf_key("loglists/chrome-log_list.v81.14.cnf", NIMBUS25);
	logs[1].id = strdup(NIMBUS25);
	list = write_list(dir, "one-operator.json", "2025-09-20T00:00:00Z", logs, 2);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, T_2025_10_01), 0);
	ck_assert_msg(tlsguard_ctx_set_ct_log_list(ctx, list) == 0, "%s", tlsguard_ctx_last_error(ctx));
	chain_of(&c, CF_DIR "leaf.pem", CF_DIR "issuer-we1-gtsr4.pem");
	res = verify_chain(ctx, CF_HOST, &c, &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ev = find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(tlsguard_event_detail(ev), "Chrome CT policy: embedded SCTs from at least 2 operators needed; "
	                                            "all are from Google");
	sct_is(res, 1, NIMBUS25, "Cloudflare 'Nimbus2025'", "Google", INT64_C(1757531517172), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
	free(logs[0].key);
	free(logs[0].id);
	free(logs[1].key);
	free(logs[1].id);
	tmpdir_remove(dir);
}
END_TEST

/* Log states at the time of check (Chrome, notes sec. 2), with a list of
 * the aws.amazon.com logs whose states are set here: a retired log counts
 * for embedded SCTs when the earliest embedded SCT predates its retirement;
 * pending logs never count; a state that starts after the check time is
 * not in force yet (a log qualified later was pending then). */
START_TEST(chrome_log_states)
{
	static const struct {
		const char *xenon_state, *xenon_time, *sphinx_state, *sphinx_time;
		int verdict, sphinx_status, xenon_status;
	} cases[] = {
	    /* retired after the SCTs */
	    {"usable", "2024-09-30T22:19:27Z", "retired", "2025-12-01T00:00:00Z", TLSGUARD_ACCEPT, TLSGUARD_SCT_VALID,
	     TLSGUARD_SCT_VALID},
	    /* retired between the earliest SCT (…40.542Z, Wyvern) and Sphinx's own (…40.579Z) */
	    {"usable", "2024-09-30T22:19:27Z", "retired", "2025-11-06T23:29:40.560Z", TLSGUARD_ACCEPT, TLSGUARD_SCT_VALID,
	     TLSGUARD_SCT_VALID},
	    /* retired before the certificate was issued */
	    {"usable", "2024-09-30T22:19:27Z", "retired", "2025-11-01T00:00:00Z", TLSGUARD_REJECT,
	     TLSGUARD_SCT_LOG_NOT_ACCEPTED, TLSGUARD_SCT_VALID},
	    {"usable", "2024-09-30T22:19:27Z", "pending", "2024-01-01T00:00:00Z", TLSGUARD_REJECT,
	     TLSGUARD_SCT_LOG_NOT_ACCEPTED, TLSGUARD_SCT_VALID},
	    {"usable", "2024-09-30T22:19:27Z", "rejected", "2026-01-01T00:00:00Z", TLSGUARD_REJECT,
	     TLSGUARD_SCT_LOG_NOT_ACCEPTED, TLSGUARD_SCT_VALID},
	    /* Xenon qualified only after the check time: pending then; the
	     * two DigiCert logs alone are one operator */
	    {"qualified", "2026-09-01T00:00:00Z", "readonly", "2026-01-01T00:00:00Z", TLSGUARD_REJECT, TLSGUARD_SCT_VALID,
	     TLSGUARD_SCT_LOG_NOT_ACCEPTED},
	};
	struct test_chain c;
	size_t k;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *dir = tmpdir_new();
		struct tlog logs[3] = {
		    {"Google 'Xenon2026h2' log", "Google", NULL, NULL, cases[k].xenon_state, cases[k].xenon_time, false},
		    {"DigiCert 'Wyvern2026h2'", "DigiCert", NULL, NULL, "usable", "2024-11-08T00:00:00Z", false},
		    {"DigiCert 'Sphinx2026h2'", "DigiCert", NULL, NULL, cases[k].sphinx_state, cases[k].sphinx_time, false},
		};
		static const char *const ids[3] = {XENON26, WYVERN26, SPHINX26};
		const char *list;
		tlsguard_ctx *ctx = NULL;
		tlsguard_result *res;
		size_t i;
		int rc, st = -1;

		for (i = 0; i < 3; i++) {
			logs[i].key = cnf_key("loglists/chrome-all_logs_list.v89.25.cnf", ids[i]);
			logs[i].id = strdup(ids[i]);
		}
		list = write_list(dir, "states.json", "2026-08-15T00:00:00Z", logs, 3);
		ck_assert_int_eq(tlsguard_ctx_new(&ctx, 0), 0);
		ck_assert_int_eq(tlsguard_ctx_set_time(ctx, T_2026_08_20), 0);
		ck_assert_msg(tlsguard_ctx_set_ct_log_list(ctx, list) == 0, "%s", tlsguard_ctx_last_error(ctx));
		res = verify_chain(ctx, "aws.amazon.com", &c, &rc);
		ck_assert_msg(tlsguard_result_verdict(res) == cases[k].verdict, "case %zu: %s", k, describe(res));
		ck_assert_int_eq(tlsguard_result_sct(res, 2, NULL, NULL, NULL, NULL, NULL, &st), 0);
		ck_assert_msg(st == cases[k].sphinx_status, "case %zu: Sphinx %s", k, tlsguard_sct_status_name(st));
		ck_assert_int_eq(tlsguard_result_sct(res, 0, NULL, NULL, NULL, NULL, NULL, &st), 0);
		ck_assert_msg(st == cases[k].xenon_status, "case %zu: Xenon %s", k, tlsguard_sct_status_name(st));
		if (k == 2)
			ck_assert_str_eq(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
			                 "Chrome CT policy: 3 valid embedded SCTs from distinct logs needed for a certificate "
			                 "valid 346 days; found 2 (Google 'Xenon2026h2' log, DigiCert 'Wyvern2026h2'). Not "
			                 "counted: DigiCert 'Sphinx2026h2' (embedded, 2025-11-06T23:29:40.579Z): log_not_accepted");
		if (k == 5)
			ck_assert_str_eq(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
			                 "Chrome CT policy: 3 valid embedded SCTs from distinct logs needed for a certificate "
			                 "valid 346 days; found 2 (DigiCert 'Wyvern2026h2', DigiCert 'Sphinx2026h2'). Not "
			                 "counted: Google 'Xenon2026h2' log (embedded, 2025-11-06T23:29:40.544Z): "
			                 "log_not_accepted");
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
		for (i = 0; i < 3; i++) {
			free(logs[i].key);
			free(logs[i].id);
		}
		tmpdir_remove(dir);
	}
	chain_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ google-ct test log */

/* The google test logs as two operators: the ECDSA log ("Google test
 * log", 3xwuwRUA...) and the RSA log ("RSA test log"). */
static char *test_dir;
static const char *test_list;      /* list dated 2019-12-01 */
static const char *test_list_2012; /* list dated 2012-12-15 */

#define TEST_LOG_ID "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q="
#define RSA_LOG_ID "oCQsumIkVhezsKvGJ+spTJIM9H+jy/OdvSGDIX0VsgY="
#define TEST_SCT_TS INT64_C(1365181456089) /* 2013-04-05T17:04:16.089Z */

static void google_setup(void)
{
	struct tlog logs[2] = {
	    {"Google test log", "Test Operator A", NULL, NULL, "usable", "2012-06-01T00:00:00Z", false},
	    {"RSA test log", "Test Operator B", NULL, NULL, "usable", "2012-06-01T00:00:00Z", false},
	};
	test_dir = tmpdir_new();
	key_b64(ct_path("google-ct/ct-server-key-public.pem"), &logs[0].key, &logs[0].id);
	key_b64(ct_path("google-ct/rsa/ct-server-key-public-rsa.pem"), &logs[1].key, &logs[1].id);
	ck_assert_str_eq(logs[0].id, TEST_LOG_ID);
	ck_assert_str_eq(logs[1].id, RSA_LOG_ID);
	test_list = write_list(test_dir, "test-logs.json", "2019-12-01T00:00:00Z", logs, 2);
	test_list_2012 = write_list(test_dir, "test-logs-2012.json", "2012-12-15T00:00:00Z", logs, 2);
	free(logs[0].key);
	free(logs[0].id);
	free(logs[1].key);
	free(logs[1].id);
}

static void google_teardown(void)
{
	tmpdir_remove(test_dir);
	test_dir = NULL;
}

/* A context for the google test certificates: their CA, their time, their
 * weak keys allowed, and @policy. */
static tlsguard_ctx *google_ctx(int64_t when, const char *list, const char *extra)
{
	tlsguard_ctx *ctx = NULL;
	char conf[512];

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, ct_path("google-ct/ca-cert.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, when), 0);
	ck_assert_msg(tlsguard_ctx_set_ct_log_list(ctx, list) == 0, "%s", tlsguard_ctx_last_error(ctx));
	snprintf(conf, sizeof(conf), "allow-sha1 = yes\nmin-rsa-bits = 1024\n%s", extra ? extra : "");
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "g.conf") == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	return ctx;
}

/* Evaluate test-cert.pem (+ ca-cert.pem) with SCT lists and an OCSP staple. */
static tlsguard_result *google_eval(const tlsguard_ctx *ctx, const char *leaf, const unsigned char *const *lists,
                                    const size_t *lens, const int *sources, size_t nlists, const gnutls_datum_t *ocsp)
{
	struct test_chain c;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t i;

	chain_of(&c, leaf, "google-ct/ca-cert.pem");
	ck_assert_int_eq(tlsguard_request_new(&req, "ct.example.test", 15), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	for (i = 0; i < nlists; i++)
		ck_assert_int_eq(tlsguard_request_add_sct_list(req, sources[i], lists[i], lens[i]), 0);
	if (ocsp != NULL)
		ck_assert_int_eq(tlsguard_request_set_ocsp_response(req, ocsp->data, ocsp->size), 0);
	ck_assert_int_eq(tlsguard_verify(ctx, req, &res), 0);
	tlsguard_request_free(req);
	chain_free(&c);
	return res;
}

/* A SignedCertificateTimestampList of the raw SCT files given. */
static unsigned char *sct_list(size_t *len, const char *first, const char *second)
{
	const char *files[2] = {first, second};
	unsigned char *out = malloc(65536);
	size_t o = 2, k;

	for (k = 0; k < 2 && files[k] != NULL; k++) {
		gnutls_datum_t d = load(ct_path(files[k]));
		out[o++] = (unsigned char)(d.size >> 8);
		out[o++] = (unsigned char)d.size;
		memcpy(out + o, d.data, d.size);
		o += d.size;
		gnutls_free(d.data);
	}
	out[0] = (unsigned char)((o - 2) >> 8);
	out[1] = (unsigned char)(o - 2);
	*len = o;
	return out;
}

static const int TLS_SRC[] = {TLSGUARD_SCT_TLS, TLSGUARD_SCT_TLS, TLSGUARD_SCT_TLS, TLSGUARD_SCT_TLS};

/* test-cert.sctlist as the TLS extension: the SCT verifies (x509 entry);
 * one log is not Chrome's policy (2 operators via TLS). */
START_TEST(google_tls_sct_valid)
{
	gnutls_datum_t l = load(ct_path("google-ct/test-cert.sctlist"));
	const unsigned char *lists[1] = {l.data};
	size_t lens[1] = {l.size};
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res = google_eval(ctx, "google-ct/test-cert.pem", lists, lens, TLS_SRC, 1, NULL);
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};
	const tlsguard_event *ev;

	ck_assert_uint_eq(tlsguard_result_sct_count(res), 1);
	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_TLS,
	       TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ev = find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET);
	ck_assert_msg(strstr(tlsguard_event_detail(ev),
	                     "or via TLS: SCTs from 2 logs of distinct operators, qualified, usable or read-only now, "
	                     "needed; found 1 (Google test log) from 1 operator") != NULL,
	              "%s", tlsguard_event_detail(ev));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	gnutls_free(l.data);
}
END_TEST

/* Two TLS SCTs from logs of two operators: Chrome's and Apple's policy. */
START_TEST(google_tls_two_operators)
{
	static const char *const policies[] = {"ct-policy = chrome\n", "ct-policy = apple\n"};
	size_t len, k;
	unsigned char *l = sct_list(&len, "google-ct/test-cert.proof", "google-ct/rsa/test-cert-rsa.proof");
	const unsigned char *lists[1] = {l};

	for (k = 0; k < 2; k++) {
		tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, policies[k]);
		tlsguard_result *res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, TLS_SRC, 1, NULL);
		ct_events_are(res, NO_EVENTS);
		ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
		sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_TLS,
		       TLSGUARD_SCT_VALID);
		sct_is(res, 1, RSA_LOG_ID, "RSA test log", "Test Operator B", TEST_SCT_TS, TLSGUARD_SCT_TLS,
		       TLSGUARD_SCT_VALID);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}
	free(l);
}
END_TEST

/* Via TLS, Chrome never counts a retired log, even for SCTs issued before
 * the retirement; an SCT issued after it is log_not_accepted. */
START_TEST(google_tls_retired_log)
{
	static const char *const retired_at[] = {"2014-01-01T00:00:00Z", "2013-01-01T00:00:00Z"};
	static const int status[] = {TLSGUARD_SCT_VALID, TLSGUARD_SCT_LOG_NOT_ACCEPTED};
	size_t len, k;
	unsigned char *l = sct_list(&len, "google-ct/test-cert.proof", "google-ct/rsa/test-cert-rsa.proof");
	const unsigned char *lists[1] = {l};

	for (k = 0; k < 2; k++) {
		struct tlog logs[2] = {
		    {"Google test log", "Test Operator A", NULL, NULL, "usable", "2012-06-01T00:00:00Z", false},
		    {"RSA test log", "Test Operator B", NULL, NULL, "retired", retired_at[k], false},
		};
		const char *list;
		tlsguard_ctx *ctx;
		tlsguard_result *res;
		const char *d;

		key_b64(ct_path("google-ct/ct-server-key-public.pem"), &logs[0].key, &logs[0].id);
		key_b64(ct_path("google-ct/rsa/ct-server-key-public-rsa.pem"), &logs[1].key, &logs[1].id);
		list = write_list(test_dir, "retired.json", "2019-12-01T00:00:00Z", logs, 2);
		ctx = google_ctx(T_2020_01_01, list, NULL);
		res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, TLS_SRC, 1, NULL);
		sct_is(res, 1, RSA_LOG_ID, "RSA test log", "Test Operator B", TEST_SCT_TS, TLSGUARD_SCT_TLS, status[k]);
		d = tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET));
		ck_assert_msg(strstr(d, k == 0 ? "RSA test log (TLS, 2013-04-05T17:04:16.089Z): log retired (retired logs do "
		                                 "not count for SCTs delivered by TLS)"
		                               : "RSA test log (TLS, 2013-04-05T17:04:16.089Z): log_not_accepted") != NULL,
		              "%s", d);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
		free(logs[0].key);
		free(logs[0].id);
		free(logs[1].key);
		free(logs[1].id);
	}
	free(l);
}
END_TEST

/* One flipped bit in the signature: invalid_signature and ct-invalid. */
START_TEST(google_tampered_sct)
{
	gnutls_datum_t l = load(ct_path("google-ct/test-cert.sctlist"));
	const unsigned char *lists[1] = {l.data};
	size_t lens[1] = {l.size};
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res;
	const tlsguard_event *ev;
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	l.data[l.size - 5] ^= 0x01; /* inside s of the ECDSA signature */
	res = google_eval(ctx, "google-ct/test-cert.pem", lists, lens, TLS_SRC, 1, NULL);
	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_TLS,
	       TLSGUARD_SCT_INVALID_SIGNATURE);
	ct_events_are(res, want);
	ev = find_event(res, TLSGUARD_EV_CT_INVALID);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_WARNING);
	ck_assert_str_eq(tlsguard_event_detail(ev), "SCT from Google test log (TLS, 2013-04-05T17:04:16.089Z): its "
	                                            "signature does not verify with the log's key: it was not issued by "
	                                            "that log for this certificate");
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_CT_SCT_INVALID");
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
	                             "Not counted: Google test log (TLS, 2013-04-05T17:04:16.089Z): invalid_signature"));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	gnutls_free(l.data);
}
END_TEST

/* Evaluated on 2013-01-01, before the SCT's time: future_timestamp. */
START_TEST(google_future_sct)
{
	gnutls_datum_t l = load(ct_path("google-ct/test-cert.sctlist"));
	const unsigned char *lists[1] = {l.data};
	size_t lens[1] = {l.size};
	tlsguard_ctx *ctx = google_ctx(T_2013_01_01, test_list_2012, NULL);
	tlsguard_result *res = google_eval(ctx, "google-ct/test-cert.pem", lists, lens, TLS_SRC, 1, NULL);
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_TLS,
	       TLSGUARD_SCT_FUTURE_TIMESTAMP);
	ct_events_are(res, want);
	ck_assert_str_eq(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_INVALID)),
	                 "SCT from Google test log (TLS, 2013-04-05T17:04:16.089Z): it is dated after the evaluation time "
	                 "(2013-01-01T00:00:00.000Z)");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	gnutls_free(l.data);
}
END_TEST

/* Embedded SCTs (precert entries): test-embedded-cert.pem verifies with
 * its CA as issuer; test-invalid-embedded-cert.pem carries an SCT copied
 * from another certificate. */
START_TEST(google_embedded)
{
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res = google_eval(ctx, "google-ct/test-embedded-cert.pem", NULL, NULL, NULL, 0, NULL);
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};
	static const int want_bad[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	ck_assert_uint_eq(tlsguard_result_sct_count(res), 1);
	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", INT64_C(1365181456275), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
	                             "3 valid embedded SCTs from distinct logs needed for a certificate valid 3652 days; "
	                             "found 1 (Google test log)"));
	tlsguard_result_free(res);

	res = google_eval(ctx, "google-ct/test-invalid-embedded-cert.pem", NULL, NULL, NULL, 0, NULL);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 1);
	ck_assert_int_eq(tlsguard_result_sct(res, 0, NULL, NULL, NULL, NULL, NULL, NULL), 0);
	{
		int st = -1;
		ck_assert_int_eq(tlsguard_result_sct(res, 0, NULL, NULL, NULL, NULL, NULL, &st), 0);
		ck_assert_int_eq(st, TLSGUARD_SCT_INVALID_SIGNATURE);
	}
	ct_events_are(res, want_bad);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Without the issuer (nothing trusted, no CA certificate sent) an
 * embedded SCT cannot be checked: unverifiable, and said why. */
START_TEST(google_embedded_unverifiable)
{
	tlsguard_ctx *ctx = NULL;
	struct test_chain c;
	tlsguard_result *res;
	const char *d;
	int rc;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, T_2020_01_01), 0);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, test_list), 0);
	chain_of(&c, "google-ct/test-embedded-cert.pem", NULL);
	res = verify_chain(ctx, "ct.example.test", &c, &rc);
	ck_assert_int_eq(rc, 0);
	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", INT64_C(1365181456275), TLSGUARD_SCT_EMBEDDED,
	       TLSGUARD_SCT_UNVERIFIABLE);
	d = tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_INVALID));
	ck_assert_msg(strstr(d, "cannot be verified: the certificate's issuer is unknown") != NULL, "%s", d);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* ---- a stapled OCSP response carrying SCTs (RFC 6962 sec. 3.3) ---- */

struct dbuf {
	unsigned char b[8192];
	size_t n;
};

static void put(struct dbuf *d, const void *p, size_t n)
{
	ck_assert_uint_le(d->n + n, sizeof(d->b));
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* Append TLV(@tag, @c) to @out. */
static void tlv(struct dbuf *out, unsigned char tag, const void *c, size_t n)
{
	unsigned char h[4];
	size_t hl = 0;

	h[hl++] = tag;
	if (n < 0x80) {
		h[hl++] = (unsigned char)n;
	} else if (n < 0x100) {
		h[hl++] = 0x81;
		h[hl++] = (unsigned char)n;
	} else {
		h[hl++] = 0x82;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	put(out, h, hl);
	put(out, c, n);
}

static void wrap(struct dbuf *d, unsigned char tag)
{
	struct dbuf t;
	t.n = 0;
	tlv(&t, tag, d->b, d->n);
	*d = t;
}

/* An OCSP response (status good, not validly signed: CT does not need
 * its signature) for @leaf issued by @issuer, whose single response has
 * the SCT list extension with @list. */
static gnutls_datum_t ocsp_with_scts(const char *leaf, const char *issuer, const unsigned char *list, size_t len)
{
	static const unsigned char sha1_alg[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00};
	static const unsigned char sct_oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05};
	static const unsigned char basic_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
	static const unsigned char sig_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	                                        0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
	static const unsigned char good[] = {0x80, 0x00}, status[] = {0x0a, 0x01, 0x00};
	static const char when[] = "20191215000000Z";
	static const unsigned char sig[] = {0x00, 0x01, 0x02, 0x03};
	unsigned char zero[20] = {0};
	gnutls_x509_crt_t lc, ic;
	gnutls_datum_t lp = load(ct_path(leaf)), ip = load(ct_path(issuer)), nh, kh, serial, out;
	gnutls_digest_algorithm_t dig;
	gnutls_ocsp_req_t req;
	struct dbuf cert_id = {{0}, 0}, ext = {{0}, 0}, single = {{0}, 0}, tbs = {{0}, 0}, basic = {{0}, 0},
	            rb = {{0}, 0}, resp = {{0}, 0}, tmp = {{0}, 0};

	ck_assert_int_eq(gnutls_x509_crt_init(&lc), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&ic), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(lc, &lp, GNUTLS_X509_FMT_PEM), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(ic, &ip, GNUTLS_X509_FMT_PEM), 0);
	ck_assert_int_eq(gnutls_ocsp_req_init(&req), 0);
	ck_assert_int_eq(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, ic, lc), 0);
	ck_assert_int_eq(gnutls_ocsp_req_get_cert_id(req, 0, &dig, &nh, &kh, &serial), 0);

	put(&cert_id, sha1_alg, sizeof(sha1_alg));
	tlv(&cert_id, 0x04, nh.data, nh.size);
	tlv(&cert_id, 0x04, kh.data, kh.size);
	tlv(&cert_id, 0x02, serial.data, serial.size);
	wrap(&cert_id, 0x30);

	/* Extension { extnID, extnValue OCTET STRING { OCTET STRING list } } */
	tlv(&ext, 0x06, sct_oid, sizeof(sct_oid));
	tlv(&tmp, 0x04, list, len);
	tlv(&ext, 0x04, tmp.b, tmp.n);
	wrap(&ext, 0x30); /* Extension */
	wrap(&ext, 0x30); /* Extensions */
	wrap(&ext, 0xa1); /* [1] singleExtensions */

	put(&single, cert_id.b, cert_id.n);
	put(&single, good, sizeof(good));
	tlv(&single, 0x18, when, strlen(when));
	put(&single, ext.b, ext.n);
	wrap(&single, 0x30); /* SingleResponse */
	wrap(&single, 0x30); /* responses */

	tmp.n = 0;
	tlv(&tmp, 0x04, zero, sizeof(zero));
	tlv(&tbs, 0xa2, tmp.b, tmp.n); /* responderID byKey */
	tlv(&tbs, 0x18, when, strlen(when));
	put(&tbs, single.b, single.n);
	wrap(&tbs, 0x30);

	put(&basic, tbs.b, tbs.n);
	put(&basic, sig_alg, sizeof(sig_alg));
	tlv(&basic, 0x03, sig, sizeof(sig));
	wrap(&basic, 0x30);

	tlv(&rb, 0x06, basic_oid, sizeof(basic_oid));
	tlv(&rb, 0x04, basic.b, basic.n);
	wrap(&rb, 0x30);
	wrap(&rb, 0xa0);

	put(&resp, status, sizeof(status));
	put(&resp, rb.b, rb.n);
	wrap(&resp, 0x30);

	out.data = gnutls_malloc(resp.n);
	memcpy(out.data, resp.b, resp.n);
	out.size = (unsigned)resp.n;
	gnutls_free(nh.data);
	gnutls_free(kh.data);
	gnutls_free(serial.data);
	gnutls_ocsp_req_deinit(req);
	gnutls_x509_crt_deinit(lc);
	gnutls_x509_crt_deinit(ic);
	gnutls_free(lp.data);
	gnutls_free(ip.data);
	return out;
}

/* SCTs from the staple: found and verified (x509 entry); Chrome 148+
 * does not count them, Apple does. */
START_TEST(google_ocsp_scts)
{
	size_t len;
	unsigned char *l = sct_list(&len, "google-ct/test-cert.proof", "google-ct/rsa/test-cert-rsa.proof");
	gnutls_datum_t ocsp = ocsp_with_scts("google-ct/test-cert.pem", "google-ct/ca-cert.pem", l, len);
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res = google_eval(ctx, "google-ct/test-cert.pem", NULL, NULL, NULL, 0, &ocsp);
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	ck_assert_uint_eq(tlsguard_result_sct_count(res), 2);
	sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_OCSP,
	       TLSGUARD_SCT_VALID);
	sct_is(res, 1, RSA_LOG_ID, "RSA test log", "Test Operator B", TEST_SCT_TS, TLSGUARD_SCT_OCSP, TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)),
	                             "SCTs from stapled OCSP responses do not count (Chrome 148 and later)"));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = google_ctx(T_2020_01_01, test_list, "ct-policy = apple\n");
	res = google_eval(ctx, "google-ct/test-cert.pem", NULL, NULL, NULL, 0, &ocsp);
	ct_events_are(res, NO_EVENTS);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
	tlsguard_result_free(res);

	/* The same SCTs handed over as an OCSP-source list count the same. */
	{
		const unsigned char *lists[1] = {l};
		static const int src[1] = {TLSGUARD_SCT_OCSP};
		res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, src, 1, NULL);
		ct_events_are(res, NO_EVENTS);
		sct_is(res, 0, TEST_LOG_ID, "Google test log", "Test Operator A", TEST_SCT_TS, TLSGUARD_SCT_OCSP,
		       TLSGUARD_SCT_VALID);
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
	gnutls_free(ocsp.data);
	free(l);
}
END_TEST

/* A malformed list is an event naming its source and what is wrong. */
START_TEST(malformed_list)
{
	static const unsigned char bad[] = {0x00, 0x05, 0x00, 0x09, 0x00, 0x01, 0x02};
	const unsigned char *lists[1] = {bad};
	size_t lens[1] = {sizeof(bad)};
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res = google_eval(ctx, "google-ct/test-cert.pem", lists, lens, TLS_SRC, 1, NULL);
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_MISSING, 0};

	ct_events_are(res, want);
	ck_assert_str_eq(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CT_INVALID)),
	                 "the SCT list from the TLS handshake is malformed: SCT 0: length 9 at offset 2 runs past the "
	                 "end of the list (3 bytes left)");
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The cache: the second evaluation of the same chain verifies nothing. */
START_TEST(cache_second_evaluation)
{
	size_t len;
	unsigned char *l = sct_list(&len, "google-ct/test-cert.proof", "google-ct/rsa/test-cert-rsa.proof");
	const unsigned char *lists[1] = {l};
	tlsguard_ctx *ctx = google_ctx(T_2020_01_01, test_list, NULL);
	tlsguard_result *res;
	uint64_t verified, hits;

	tg_ct_cache_stats(ctx, &verified, &hits);
	ck_assert_uint_eq(verified, 0);
	res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, TLS_SRC, 1, NULL);
	tlsguard_result_free(res);
	tg_ct_cache_stats(ctx, &verified, &hits);
	ck_assert_uint_eq(verified, 2);
	ck_assert_uint_eq(hits, 0);
	res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, TLS_SRC, 1, NULL);
	ct_events_are(res, NO_EVENTS);
	sct_is(res, 1, RSA_LOG_ID, "RSA test log", "Test Operator B", TEST_SCT_TS, TLSGUARD_SCT_TLS, TLSGUARD_SCT_VALID);
	tlsguard_result_free(res);
	tg_ct_cache_stats(ctx, &verified, &hits);
	ck_assert_uint_eq(verified, 2); /* nothing verified again */
	ck_assert_uint_eq(hits, 2);
	/* A tampered copy is a different key: verified, and fails. */
	l[len - 5] ^= 1;
	res = google_eval(ctx, "google-ct/test-cert.pem", lists, &len, TLS_SRC, 1, NULL);
	sct_is(res, 1, RSA_LOG_ID, "RSA test log", "Test Operator B", TEST_SCT_TS, TLSGUARD_SCT_TLS,
	       TLSGUARD_SCT_INVALID_SIGNATURE);
	tlsguard_result_free(res);
	tg_ct_cache_stats(ctx, &verified, &hits);
	ck_assert_uint_eq(verified, 3);
	ck_assert_uint_eq(hits, 3);
	tlsguard_ctx_free(ctx);
	free(l);
}
END_TEST

/* Embedded SCTs of a real chain are cached too. */
START_TEST(cache_embedded)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_08_20, V89, NULL);
	tlsguard_result *res;
	uint64_t verified, hits;
	int rc, k;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	for (k = 0; k < 2; k++) {
		res = verify_chain(ctx, "aws.amazon.com", &c, &rc);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
		tlsguard_result_free(res);
		tg_ct_cache_stats(ctx, &verified, &hits);
		ck_assert_uint_eq(verified, 3);
		ck_assert_uint_eq(hits, (uint64_t)(3 * k));
	}
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* ---- threads ---- */

struct thread_arg {
	const tlsguard_ctx *ctx;
	const struct test_chain *c;
	char summary[2048];
	int mismatch;
};

static void summarize(const tlsguard_result *res, char *out, size_t len)
{
	size_t i, o = 0;
	o += (size_t)snprintf(out + o, len - o, "v=%d e=%zu", tlsguard_result_verdict(res),
	                      tlsguard_result_event_count(res));
	for (i = 0; i < tlsguard_result_sct_count(res) && o < len; i++) {
		const char *n = NULL;
		int64_t t = 0;
		int st = -1;
		tlsguard_result_sct(res, i, NULL, &n, NULL, &t, NULL, &st);
		o += (size_t)snprintf(out + o, len - o, " [%s %lld %d]", n, (long long)t, st);
	}
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	char s[2048];
	int k;

	for (k = 0; k < 25; k++) {
		tlsguard_result *res = NULL;
		int rc = tlsguard_verify_der_chain(a->ctx, "aws.amazon.com", 443, (const unsigned char *const *)a->c->der,
		                                   a->c->len, a->c->n, &res);
		if (rc != 0 || res == NULL) {
			a->mismatch++;
			tlsguard_result_free(res);
			continue;
		}
		summarize(res, s, sizeof(s));
		if (k == 0)
			memcpy(a->summary, s, sizeof(s));
		else if (strcmp(s, a->summary) != 0)
			a->mismatch++;
		tlsguard_result_free(res);
	}
	return NULL;
}

/* Four threads, one context, the same CT chain: identical results. */
START_TEST(threads_same_results)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_08_20, V89, NULL);
	struct thread_arg args[4];
	pthread_t th[4];
	uint64_t verified, hits;
	size_t i;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	for (i = 0; i < 4; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].ctx = ctx;
		args[i].c = &c;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(args[i].mismatch, 0);
		ck_assert_str_eq(args[i].summary, args[0].summary);
	}
	ck_assert_msg(strstr(args[0].summary, "v=1 e=0 [Google 'Xenon2026h2' log 1762471780544 0]") == args[0].summary,
	              "%s", args[0].summary);
	tg_ct_cache_stats(ctx, &verified, &hits);
	ck_assert_uint_eq(verified + hits, 4 * 25 * 3);
	ck_assert_uint_le(verified, 4 * 3); /* at most each thread's first round */
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* Allocation failures anywhere in a CT evaluation never accept a chain
 * unless the evaluation completed (fail closed). The context is prepared
 * first, so that the failures hit the evaluation. */
START_TEST(oom_fails_closed)
{
	struct test_chain c;
	tlsguard_ctx *ctx = rw_ctx(T_2026_08_20, V89, NULL);
	tlsguard_result *res;
	unsigned long n;
	int rc, completed = 0, rejected = 0;

	chain_of(&c, AWS_DIR "leaf.pem", AWS_DIR "issuer.pem");
	res = verify_chain(ctx, "aws.amazon.com", &c, &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	for (n = 1; n < 2000 && !completed; n++) {
		res = NULL;
		tg_alloc_fail_at(n);
		rc = tlsguard_verify_der_chain(ctx, "aws.amazon.com", 443, (const unsigned char *const *)c.der, c.len, c.n,
		                               &res);
		tg_alloc_fail_at(0);
		if (rc == 0 && res != NULL && !tlsguard_result_has_event(res, TLSGUARD_EV_INTERNAL_ERROR)) {
			ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
			ck_assert_uint_eq(tlsguard_result_sct_count(res), 3);
			completed = 1;
		} else {
			ck_assert_msg(res == NULL || tlsguard_result_verdict(res) == TLSGUARD_REJECT, "allocation %lu: %s", n,
			              describe(res));
			rejected++;
		}
		tlsguard_result_free(res);
	}
	ck_assert(completed);
	ck_assert_int_gt(rejected, 10);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ without shared data */

static char *local_dir;
static const char *local_list; /* a fresh list with a generated log key */

static void local_setup(void)
{
	struct tlog logs[1] = {{"Example 'Local' log", "Example", NULL, NULL, "usable", "2026-01-01T00:00:00Z", false}};
	local_dir = tmpdir_new();
	gen_key_b64(&logs[0].key, &logs[0].id);
	/* TEST_TIME is 2026-06-01: 11 days old */
	local_list = write_list(local_dir, "list.json", "2026-05-21T00:00:00Z", logs, 1);
	free(logs[0].key);
	free(logs[0].id);
}

static void local_teardown(void)
{
	tmpdir_remove(local_dir);
	local_dir = NULL;
}

static tlsguard_ctx *local_ctx(const char *conf)
{
	tlsguard_ctx *ctx = test_ctx();
	if (conf != NULL)
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "t.conf") == 0, "%s",
		              tlsguard_ctx_last_error(ctx));
	return ctx;
}

/* A certificate without SCTs, CT enforced: ct-missing rejects. */
START_TEST(no_scts_rejected)
{
	tlsguard_ctx *ctx = local_ctx(NULL);
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ev = tlsguard_result_event(res, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_CT_MISSING);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_str_eq(tlsguard_event_check(ev), "ct");
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED");
	ck_assert_str_eq(tlsguard_event_detail(ev), "no SCT: the certificate has no embedded SCTs and none came with the "
	                                            "connection (TLS extension or stapled OCSP response)");
	ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), "good.example.test"));
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_FAIL);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 0);
	ck_assert_int_eq(tlsguard_result_sct(res, 0, NULL, NULL, NULL, NULL, NULL, NULL), TLSGUARD_E_RANGE);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ct-mode report-only (default section or host section): accepted, and
 * the missing SCTs are a warning in the report. */
START_TEST(no_scts_report_only)
{
	static const char *const confs[] = {"ct-mode = report-only\n", "[good.example.test]\nct-mode = report-only\n",
	                                    "mode = report-only\n"};
	size_t k;

	for (k = 0; k < 3; k++) {
		tlsguard_ctx *ctx = local_ctx(confs[k]);
		tlsguard_result *res;
		const tlsguard_event *ev;
		int rc;

		ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
		res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
		ev = find_event(res, TLSGUARD_EV_CT_MISSING);
		ck_assert_ptr_nonnull(ev);
		ck_assert_int_eq(tlsguard_event_severity(ev), k < 2 ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL);
		ck_assert_ptr_nonnull(tlsguard_event_report(ev));
		tlsguard_result_free(res);
		/* The host section does not cover other names. */
		if (k == 1) {
			res = verify_file(ctx, "good-chain.pem", "www.good.example.test", &rc);
			ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
			tlsguard_result_free(res);
		}
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

/* ct-policy off, globally or for one host: skipped, no event. */
START_TEST(policy_off)
{
	static const char *const confs[] = {"ct-policy = off\n", "[good.example.test]\nct-policy = off\n"};
	size_t k;

	for (k = 0; k < 2; k++) {
		tlsguard_ctx *ctx = local_ctx(confs[k]);
		tlsguard_result *res;
		int rc;

		ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
		res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
		ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
		ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

/* A policy without a list: an info event, accepted. No policy and no
 * list (the default): skipped silently. */
START_TEST(no_list)
{
	tlsguard_ctx *ctx = local_ctx("ct-policy = chrome\n");
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ev = tlsguard_result_event(res, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_CT_UNAVAILABLE);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_INFO);
	ck_assert_int_eq(tlsguard_event_cert_index(ev), -1);
	ck_assert_str_eq(tlsguard_event_name(ev), "TLSGUARD_CT_UNAVAILABLE");
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "no CT log list configured"));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), "good.example.test"));
	ck_assert_ptr_null(tlsguard_event_report(ev));
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = local_ctx(NULL);
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A list 70 days old or more, or of unknown age, is not enforced. */
START_TEST(stale_list)
{
	struct tlog logs[1] = {{"Example 'Local' log", "Example", NULL, NULL, "usable", "2026-01-01T00:00:00Z", false}};
	struct tlog nostate[1] = {{"Example 'Local' log", "Example", NULL, NULL, NULL, NULL, false}};
	char *dir = tmpdir_new();
	const char *old, *edge, *undated;
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	gen_key_b64(&logs[0].key, &logs[0].id);
	nostate[0].key = logs[0].key;
	nostate[0].id = logs[0].id;
	old = write_list(dir, "old.json", "2026-03-01T00:00:00Z", logs, 1);       /* 92 days */
	edge = write_list(dir, "edge.json", "2026-03-23T00:00:01Z", logs, 1);     /* 69 d 23:59:59 */
	undated = write_list(dir, "undated.json", "", nostate, 1);

	ctx = local_ctx(NULL);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, old), 0);
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ev = tlsguard_result_event(res, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_CT_UNAVAILABLE);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_WARNING);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "is dated 2026-03-01T00:00:00Z, 92 days before"));
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = local_ctx(NULL);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, edge), 0);
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT); /* enforced: no SCTs */
	ck_assert_ptr_nonnull(find_event(res, TLSGUARD_EV_CT_MISSING));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = local_ctx(NULL);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, undated), 0);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_ptr_nonnull(strstr(tlsguard_ctx_warning(ctx, 0), "has neither log_list_timestamp nor log states"));
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	ev = find_event(res, TLSGUARD_EV_CT_UNAVAILABLE);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_WARNING);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "its age is unknown"));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	free(logs[0].key);
	free(logs[0].id);
	tmpdir_remove(dir);
}
END_TEST

/* Config keys: ct-log-list relative to the config file, errors naming
 * file:line and the JSON path; ct-policy and ct-mode values. */
START_TEST(config_keys)
{
	char *dir = tmpdir_new();
	char conf[4300], want[4300];
	const char *path;
	tlsguard_ctx *ctx;
	char badkey[] = "not*base64", badid[] = "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=";
	struct tlog bad[1] = {{"x", "X", badkey, badid, NULL, NULL, false}};

	write_list(dir, "bad.json", "2026-05-21T00:00:00Z", bad, 1);
	{
		gnutls_datum_t d = load(local_list);
		char *s = strndup((const char *)d.data, d.size);
		tmpdir_write(dir, "good.json", s);
		free(s);
		gnutls_free(d.data);
	}

	/* Relative to the config file. */
	path = tmpdir_write(dir, "ok.conf", "[default]\nct-log-list = good.json\nct-policy = apple\nct-mode = enforce\n");
	ctx = local_ctx(NULL);
	ck_assert_msg(tlsguard_ctx_load_config(ctx, path) == 0, "%s", tlsguard_ctx_last_error(ctx));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_REJECT);
	tlsguard_ctx_free(ctx);

	/* A list without log_list_timestamp: dated by its newest state, with
	 * a load warning naming file:line and the list. */
	{
		struct tlog l1[1] = {{"Example 'Local' log", "Example", NULL, NULL, "usable", "2026-05-01T00:00:00Z", false}};
		gen_key_b64(&l1[0].key, &l1[0].id);
		write_list(dir, "nots.json", "", l1, 1);
		free(l1[0].key);
		free(l1[0].id);
		path = tmpdir_write(dir, "nots.conf", "\nct-log-list = nots.json\n");
		ctx = local_ctx(NULL);
		ck_assert_msg(tlsguard_ctx_load_config(ctx, path) == 0, "%s", tlsguard_ctx_last_error(ctx));
		ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
		snprintf(want, sizeof(want),
		         "%s:2: warning: ct-log-list: %s/nots.json: the list has no log_list_timestamp; its age is counted "
		         "from its newest log state (2026-05-01T00:00:00Z), so it stops being enforced 70 days after that",
		         path, dir);
		ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), want);
		assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_REJECT); /* 31 days: enforced */
		tlsguard_ctx_free(ctx);
	}

	/* A bad list: the load succeeds, with a warning naming file:line,
	 * the list's path and the JSON path (list_failed tests the rest). */
	path = tmpdir_write(dir, "bad.conf", "# CT\nct-log-list = bad.json\n");
	ctx = local_ctx(NULL);
	ck_assert_msg(tlsguard_ctx_load_config(ctx, path) == 0, "%s", tlsguard_ctx_last_error(ctx));
	snprintf(want, sizeof(want), "%s:2: warning: ct-log-list: %s/bad.json: operators[0].logs[0].key: not base64 "
	                             "(length is not a multiple of 4)", path, dir);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), want);
	/* ct-policy not set explicitly: CT unavailable, a warning. */
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);

	/* A missing list: the same, naming the path and the reason. */
	ctx = local_ctx(NULL);
	snprintf(conf, sizeof(conf), "ct-log-list = %s/missing.json\n", dir);
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "m.conf") == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	snprintf(want, sizeof(want), "m.conf:1: warning: ct-log-list: %s/missing.json: cannot read CT log list: No such "
	                             "file or directory", dir);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), want);
	tlsguard_ctx_free(ctx);
	ctx = local_ctx(NULL);

#define BAD_CONF(text, msg)                                                                                          \
	do {                                                                                                             \
		ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "t.conf"), TLSGUARD_E_CONFIG);       \
		ck_assert_str_eq(tlsguard_ctx_last_error(ctx), msg);                                                         \
	} while (0)
	BAD_CONF("[a.example.test]\nct-log-list = x.json\n", "t.conf:2: ct-log-list is only allowed in [default]");
	BAD_CONF("ct-policy = firefox\n", "t.conf:1: ct-policy: expected chrome, apple or off, got 'firefox'");
	BAD_CONF("ct-mode = relaxed\n", "t.conf:1: ct-mode: expected enforce or report-only, got 'relaxed'");
	BAD_CONF("ct-policy = off\nct-policy = chrome\n", "t.conf:2: ct-policy given twice in this section");
	/* ct-policy-not-met etc. are event names for "overridable". */
	{
		static const char ov[] = "overridable = ct-missing, ct-policy-not-met, ct-invalid, ct-unavailable\n";
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, ov, strlen(ov), "t.conf") == 0, "%s",
		              tlsguard_ctx_last_error(ctx));
	}
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

/* tlsguard_ctx_set_ct_log_list: errors and freezing. */
START_TEST(setter)
{
	char *dir = tmpdir_new();
	tlsguard_ctx *ctx = local_ctx(NULL);
	const char *notjson = tmpdir_write(dir, "x.json", "{\"operators\": [}\n");
	char want[4300];

	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(NULL, local_list), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, ""), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, "/nonexistent/list.json"), TLSGUARD_E_IO);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "/nonexistent/list.json: cannot read CT log list: No such file or directory");
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, notjson), TLSGUARD_E_CONFIG);
	snprintf(want, sizeof(want), "%s: byte ", notjson);
	ck_assert_msg(strncmp(tlsguard_ctx_last_error(ctx), want, strlen(want)) == 0, "%s", tlsguard_ctx_last_error(ctx));
	/* Still usable: a later good list works. */
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), TLSGUARD_E_FROZEN);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

/* A CT log list that fails to load (config key or API) leaves the rest of
 * tlsguard working with CT unavailable: fatal for a host whose ct-policy
 * is explicitly chrome/apple with ct-mode enforce, else a warning; hosts
 * with ct-policy off are unaffected. */
static void failed_list_event(tlsguard_ctx *ctx, const char *host, int verdict, int sev, const char *detail_part)
{
	tlsguard_result *res;
	const tlsguard_event *ev;
	int rc;

	res = verify_file(ctx, "good-chain.pem", host, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), verdict);
	ev = find_event(res, TLSGUARD_EV_CT_UNAVAILABLE);
	if (sev < 0) {
		ck_assert_ptr_null(ev);
		ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_SKIP);
		tlsguard_result_free(res);
		return;
	}
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(tlsguard_event_severity(ev), sev);
	ck_assert_msg(strstr(tlsguard_event_detail(ev), detail_part) != NULL, "%s", tlsguard_event_detail(ev));
	ck_assert_int_eq(outcome(res, "ct"), sev == TLSGUARD_SEV_FATAL ? TLSGUARD_CHECK_FAIL : TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
}

START_TEST(list_failed)
{
	char *dir = tmpdir_new();
	char conf[4300], loader[4300];
	const char *bad, *notjson;
	tlsguard_ctx *ctx;
	char badkey[] = "not*base64", badid[] = "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=";
	struct tlog badlog[1] = {{"x", "X", badkey, badid, NULL, NULL, false}};

	bad = write_list(dir, "bad.json", "2026-05-21T00:00:00Z", badlog, 1);
	notjson = tmpdir_write(dir, "x.json", "{\"operators\": [}\n");
	snprintf(loader, sizeof(loader), "t.conf:2: ct-log-list: %s: operators[0].logs[0].key: not base64", bad);

	/* Explicit ct-policy in [default], ct-mode enforce (the default):
	 * fail closed, the detail carrying the loader's message. Keys after
	 * the list still apply (ct-policy off for the other host). */
	snprintf(conf, sizeof(conf),
	         "[default]\nct-log-list = %s\nct-policy = chrome\n[good.example.test]\nmin-rsa-bits = 2048\n"
	         "[off.example.test]\nct-policy = off\n", bad);
	ctx = local_ctx(conf);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_ptr_nonnull(strstr(tlsguard_ctx_warning(ctx, 0), "t.conf:2: warning: ct-log-list: "));
	failed_list_event(ctx, "good.example.test", TLSGUARD_REJECT, TLSGUARD_SEV_FATAL, loader);
	tlsguard_ctx_free(ctx);

	/* Explicit in the host's section (apple); report-only warns; off and
	 * the implicit policy are unaffected / warn. */
	snprintf(conf, sizeof(conf),
	         "ct-log-list = %s\n[good.example.test]\nct-policy = apple\n", bad);
	ctx = local_ctx(conf);
	failed_list_event(ctx, "good.example.test", TLSGUARD_REJECT, TLSGUARD_SEV_FATAL, "ct-policy apple");
	tlsguard_ctx_free(ctx);

	snprintf(conf, sizeof(conf), "ct-log-list = %s\nct-policy = apple\nct-mode = report-only\n", bad);
	ctx = local_ctx(conf);
	failed_list_event(ctx, "good.example.test", TLSGUARD_ACCEPT, TLSGUARD_SEV_WARNING, "(ct-mode report-only)");
	tlsguard_ctx_free(ctx);

	snprintf(conf, sizeof(conf), "\nct-log-list = %s\n[other.example.test]\nct-policy = chrome\n", bad);
	ctx = local_ctx(conf);
	failed_list_event(ctx, "good.example.test", TLSGUARD_ACCEPT, TLSGUARD_SEV_WARNING, loader);
	failed_list_event(ctx, "other.example.test", TLSGUARD_REJECT, TLSGUARD_SEV_FATAL, loader);
	tlsguard_ctx_free(ctx);

	snprintf(conf, sizeof(conf), "ct-log-list = %s\nct-policy = off\n", bad);
	ctx = local_ctx(conf);
	failed_list_event(ctx, "good.example.test", TLSGUARD_ACCEPT, -1, NULL);
	tlsguard_ctx_free(ctx);

	/* A missing list is treated the same way. */
	snprintf(conf, sizeof(conf), "ct-policy = chrome\nct-log-list = %s/missing.json\n", dir);
	ctx = local_ctx(conf);
	snprintf(loader, sizeof(loader), "t.conf:2: ct-log-list: %s/missing.json: cannot read CT log list: No such file",
	         dir);
	failed_list_event(ctx, "good.example.test", TLSGUARD_REJECT, TLSGUARD_SEV_FATAL, loader);
	tlsguard_ctx_free(ctx);

	/* A later good list clears the failure (CT enforced again: no SCTs
	 * is ct-missing, not ct-unavailable); a later bad one drops a good
	 * one. */
	snprintf(conf, sizeof(conf), "ct-log-list = %s\n", bad);
	ctx = local_ctx(conf);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
	{
		int rc;
		tlsguard_result *res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		ck_assert_ptr_nonnull(find_event(res, TLSGUARD_EV_CT_MISSING));
		ck_assert_ptr_null(find_event(res, TLSGUARD_EV_CT_UNAVAILABLE));
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);

	/* The API: the error is returned, and an app that ignores it still
	 * fails closed where CT is explicitly enforced. */
	ctx = local_ctx("ct-policy = chrome\n");
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, local_list), 0);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, notjson), TLSGUARD_E_CONFIG);
	snprintf(loader, sizeof(loader), "%s: byte ", notjson);
	ck_assert_msg(strncmp(tlsguard_ctx_last_error(ctx), loader, strlen(loader)) == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	failed_list_event(ctx, "good.example.test", TLSGUARD_REJECT, TLSGUARD_SEV_FATAL, loader);
	tlsguard_ctx_free(ctx);

	ctx = local_ctx(NULL);
	ck_assert_int_eq(tlsguard_ctx_set_ct_log_list(ctx, "/nonexistent/list.json"), TLSGUARD_E_IO);
	failed_list_event(ctx, "good.example.test", TLSGUARD_ACCEPT, TLSGUARD_SEV_WARNING,
	                  "/nonexistent/list.json: cannot read CT log list: No such file or directory");
	tlsguard_ctx_free(ctx);

	tmpdir_remove(dir);
}
END_TEST

/* Request and result API edges; names of statuses and codes. */
START_TEST(api_edges)
{
	static const unsigned char one[] = {0x00, 0x01, 0x00};
	unsigned char *big = calloc(1, 65538);
	tlsguard_request *req = NULL;
	int i;

	ck_assert_int_eq(tlsguard_request_new(&req, "a.example.test", 14), 0);
	ck_assert_int_eq(tlsguard_request_add_sct_list(NULL, TLSGUARD_SCT_TLS, one, 3), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_EMBEDDED, one, 3), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, 7, one, 3), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, NULL, 3), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, one, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, big, 65538), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, big, 65537), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_OCSP, one, 3), 0);
	ck_assert_int_eq(tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, one, 3), TLSGUARD_E_RANGE);
	tlsguard_request_free(req);
	free(big);

	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_VALID), "valid");
	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_INVALID_SIGNATURE), "invalid_signature");
	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_UNKNOWN_LOG), "unknown_log");
	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_FUTURE_TIMESTAMP), "future_timestamp");
	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_LOG_NOT_ACCEPTED), "log_not_accepted");
	ck_assert_str_eq(tlsguard_sct_status_name(TLSGUARD_SCT_UNVERIFIABLE), "unverifiable");
	ck_assert_str_eq(tlsguard_sct_status_name(6), "unknown");
	ck_assert_str_eq(tlsguard_sct_status_name(-1), "unknown");
	ck_assert_uint_eq(tlsguard_result_sct_count(NULL), 0);
	ck_assert_int_eq(tlsguard_result_sct(NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL), TLSGUARD_E_RANGE);
	ck_assert_str_eq(tlsguard_code_name(TLSGUARD_EV_CT_UNAVAILABLE), "TLSGUARD_CT_UNAVAILABLE");
	ck_assert_str_eq(tlsguard_code_key(TLSGUARD_EV_CT_UNAVAILABLE), "ct-unavailable");
	ck_assert_str_eq(tlsguard_code_key(TLSGUARD_EV_CT_MISSING), "ct-missing");
}
END_TEST

/* The check runs 9th, after tofu and before consistency (which reads its outcome). */
START_TEST(check_order)
{
	tlsguard_ctx *ctx = local_ctx(NULL);
	tlsguard_result *res;
	int rc;

	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_uint_eq(tlsguard_result_check_count(res), 11);
	ck_assert_str_eq(tlsguard_result_check_name(res, 7), "tofu");
	ck_assert_str_eq(tlsguard_result_check_name(res, 8), "ct");
	ck_assert_str_eq(tlsguard_result_check_name(res, 10), "consistency");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ the suite's own test logs */

/* Leaves for ct.example.test with embedded SCTs from tests/ct-testlog,
 * checked against its ct-loglist.json (operator A: logs 1-3, operator B:
 * log 4, all usable since 2020; leaves valid 2026-05-01..2045-01-01, so
 * Chrome wants 3 SCTs). SCT i is dated 2026-05-02T00:00:0i.000Z. */
#define TL_TS INT64_C(1777680000000)
#define TL_FUTURE INT64_C(1782864000000) /* 2026-07-01 */
#define OP_A "tlsguard test operator A"
#define OP_B "tlsguard test operator B"
#define EMB TLSGUARD_SCT_EMBEDDED

static tlsguard_ctx *testlog_ctx_policy(const char *conf)
{
	tlsguard_ctx *ctx = test_ctx();
	ck_assert_msg(tlsguard_ctx_set_ct_log_list(ctx, fixture("ct-loglist.json")) == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "t.conf") == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	return ctx;
}

static tlsguard_ctx *testlog_ctx(void)
{
	return testlog_ctx_policy("ct-policy = chrome\n");
}

static tlsguard_result *testlog_eval(tlsguard_ctx *ctx, const char *name)
{
	char file[128];
	int rc;
	tlsguard_result *res;

	snprintf(file, sizeof(file), "ct-%s-chain.pem", name);
	res = verify_file(ctx, file, "ct.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), strcmp(name, "too-few") == 0 ? 1 : 3);
	return res;
}

static const char *ct_detail(const tlsguard_result *res, int code)
{
	const tlsguard_event *ev = find_event(res, code);
	ck_assert_msg(ev != NULL, "no %s; all: %s", tlsguard_code_name(code), describe(res));
	return tlsguard_event_detail(ev);
}

START_TEST(testlog_good)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "good");

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 1, NULL, "tlsguard test log 2", OP_A, TL_TS + 1000, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 2, NULL, "tlsguard test log 4", OP_B, TL_TS + 2000, EMB, TLSGUARD_SCT_VALID);
	ct_events_are(res, NO_EVENTS);
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_PASS);
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	tlsguard_result_free(res);

	tlsguard_ctx_free(ctx);

	/* Apple's policy accepts it too */
	ctx = testlog_ctx_policy("ct-policy = apple\n");
	res = testlog_eval(ctx, "good");
	ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s", describe(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_one_operator)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "one-operator");
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};
	const tlsguard_event *ev;

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 1, NULL, "tlsguard test log 2", OP_A, TL_TS + 1000, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 2, NULL, "tlsguard test log 3", OP_A, TL_TS + 2000, EMB, TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ev = find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_str_eq(tlsguard_event_detail(ev), "Chrome CT policy: embedded SCTs from at least 2 operators needed; "
	                                            "all are from tlsguard test operator A");
	ck_assert_int_eq(outcome(res, "ct"), TLSGUARD_CHECK_FAIL);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_too_few)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "too-few");
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ck_assert_int_eq(tlsguard_event_severity(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)), TLSGUARD_SEV_FATAL);
	ck_assert_str_eq(ct_detail(res, TLSGUARD_EV_CT_POLICY_NOT_MET),
	                 "Chrome CT policy: 3 valid embedded SCTs from distinct logs needed for a certificate valid 6820 "
	                 "days; found 1 (tlsguard test log 1)");
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_tampered)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "tampered");
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 1, NULL, "tlsguard test log 2", OP_A, TL_TS + 1000, EMB, TLSGUARD_SCT_INVALID_SIGNATURE);
	sct_is(res, 2, NULL, "tlsguard test log 4", OP_B, TL_TS + 2000, EMB, TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ck_assert_int_eq(tlsguard_event_severity(find_event(res, TLSGUARD_EV_CT_INVALID)), TLSGUARD_SEV_WARNING);
	ck_assert_str_eq(ct_detail(res, TLSGUARD_EV_CT_INVALID),
	                 "SCT from tlsguard test log 2 (embedded, 2026-05-02T00:00:01.000Z): its signature does not "
	                 "verify with the log's key: it was not issued by that log for this certificate");
	ck_assert_str_eq(ct_detail(res, TLSGUARD_EV_CT_POLICY_NOT_MET),
	                 "Chrome CT policy: 3 valid embedded SCTs from distinct logs needed for a certificate valid 6820 "
	                 "days; found 2 (tlsguard test log 1, tlsguard test log 4). Not counted: tlsguard test log 2 "
	                 "(embedded, 2026-05-02T00:00:01.000Z): invalid_signature");
	ck_assert_int_eq(tlsguard_event_severity(find_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET)), TLSGUARD_SEV_FATAL);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_unknown_log)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "unknown-log");
	static const int want[] = {TLSGUARD_EV_CT_POLICY_NOT_MET, 0};
	int st = -1;
	const char *name = "x";

	ck_assert_int_eq(tlsguard_result_sct(res, 0, NULL, &name, NULL, NULL, NULL, &st), 0);
	ck_assert_int_eq(st, TLSGUARD_SCT_UNKNOWN_LOG);
	ck_assert_int_eq(tlsguard_result_sct(res, 1, NULL, NULL, NULL, NULL, NULL, &st), 0);
	ck_assert_int_eq(st, TLSGUARD_SCT_UNKNOWN_LOG);
	sct_is(res, 2, NULL, "tlsguard test log 4", OP_B, TL_TS + 2000, EMB, TLSGUARD_SCT_VALID);
	ct_events_are(res, want);
	ck_assert_ptr_nonnull(strstr(ct_detail(res, TLSGUARD_EV_CT_POLICY_NOT_MET),
	                             "needed for a certificate valid 6820 days; found 1 (tlsguard test log 4). "
	                             "Not counted: unknown log "));
	ck_assert_ptr_nonnull(strstr(ct_detail(res, TLSGUARD_EV_CT_POLICY_NOT_MET),
	                             "(embedded, 2026-05-02T00:00:01.000Z): unknown_log"));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_future)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "future");
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 1, NULL, "tlsguard test log 2", OP_A, TL_TS + 1000, EMB, TLSGUARD_SCT_VALID);
	sct_is(res, 2, NULL, "tlsguard test log 4", OP_B, TL_FUTURE, EMB, TLSGUARD_SCT_FUTURE_TIMESTAMP);
	ct_events_are(res, want);
	ck_assert_str_eq(ct_detail(res, TLSGUARD_EV_CT_INVALID),
	                 "SCT from tlsguard test log 4 (embedded, 2026-07-01T00:00:00.000Z): it is dated after the "
	                 "evaluation time (2026-06-01T00:00:00.000Z)");
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(testlog_wrong_issuer)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res = testlog_eval(ctx, "wrong-issuer");
	static const int want[] = {TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_INVALID, TLSGUARD_EV_CT_INVALID,
	                           TLSGUARD_EV_CT_POLICY_NOT_MET, 0};

	sct_is(res, 0, NULL, "tlsguard test log 1", OP_A, TL_TS, EMB, TLSGUARD_SCT_INVALID_SIGNATURE);
	sct_is(res, 1, NULL, "tlsguard test log 2", OP_A, TL_TS + 1000, EMB, TLSGUARD_SCT_INVALID_SIGNATURE);
	sct_is(res, 2, NULL, "tlsguard test log 4", OP_B, TL_TS + 2000, EMB, TLSGUARD_SCT_INVALID_SIGNATURE);
	ct_events_are(res, want);
	ck_assert_uint_eq(count_events(res, TLSGUARD_EV_CT_INVALID), 3);
	ck_assert_ptr_nonnull(strstr(ct_detail(res, TLSGUARD_EV_CT_POLICY_NOT_MET), "; found 0. Not counted: "));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The same list and policy: a certificate without SCTs is ct-missing. */
START_TEST(testlog_no_scts)
{
	tlsguard_ctx *ctx = testlog_ctx();
	tlsguard_result *res;
	static const int want[] = {TLSGUARD_EV_CT_MISSING, 0};
	int rc;

	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ct_events_are(res, want);
	ck_assert_int_eq(tlsguard_event_severity(find_event(res, TLSGUARD_EV_CT_MISSING)), TLSGUARD_SEV_FATAL);
	ck_assert_uint_eq(tlsguard_result_sct_count(res), 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

int main(void)
{
	const char *shared = getenv("TG_SHARED");
	struct stat st;
	Suite *s = suite_create("ct");
	TCase *tc;

	tc = tcase_create("local");
	tcase_add_checked_fixture(tc, local_setup, local_teardown);
	tcase_add_test(tc, no_scts_rejected);
	tcase_add_test(tc, no_scts_report_only);
	tcase_add_test(tc, policy_off);
	tcase_add_test(tc, no_list);
	tcase_add_test(tc, stale_list);
	tcase_add_test(tc, config_keys);
	tcase_add_test(tc, setter);
	tcase_add_test(tc, list_failed);
	tcase_add_test(tc, api_edges);
	tcase_add_test(tc, check_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("testlog");
	tcase_add_test(tc, testlog_good);
	tcase_add_test(tc, testlog_one_operator);
	tcase_add_test(tc, testlog_too_few);
	tcase_add_test(tc, testlog_tampered);
	tcase_add_test(tc, testlog_unknown_log);
	tcase_add_test(tc, testlog_future);
	tcase_add_test(tc, testlog_wrong_issuer);
	tcase_add_test(tc, testlog_no_scts);
	suite_add_tcase(s, tc);

	snprintf(ct_dir, sizeof(ct_dir), "%s/testdata/ct", shared ? shared : "../shared");
	if (stat(ct_dir, &st) != 0) {
		const char *ci = getenv("CI");
		if (ci != NULL && strcmp(ci, "true") == 0) {
			fprintf(stderr, "check_ct: %s is missing, and CI=true requires it\n", ct_dir);
			return EXIT_FAILURE;
		}
		printf("check_ct: shared test data not found at %s: only the local tests run\n", ct_dir);
		return test_run(s);
	}

	tc = tcase_create("readme");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, readme_cloudflare_v81);
	tcase_add_test(tc, readme_aws_v89);
	tcase_add_test(tc, readme_letsencrypt_v89_state_at_check_time);
	tcase_add_test(tc, readme_letsencrypt_v89_enforcement_timeout);
	tcase_add_test(tc, readme_cloudflare_v89_not_compliant);
	tcase_add_test(tc, cloudflare_v89_report_only);
	tcase_add_test(tc, readme_aws_apple_list);
	tcase_add_test(tc, apple_rejected_logs);
	tcase_add_test(tc, chrome_needs_two_operators);
	tcase_add_test(tc, chrome_log_states);
	tcase_add_test(tc, cache_embedded);
	tcase_add_test(tc, threads_same_results);
	tcase_add_test(tc, oom_fails_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("google-test-log");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, google_setup, google_teardown);
	tcase_add_test(tc, google_tls_sct_valid);
	tcase_add_test(tc, google_tls_two_operators);
	tcase_add_test(tc, google_tls_retired_log);
	tcase_add_test(tc, google_tampered_sct);
	tcase_add_test(tc, google_future_sct);
	tcase_add_test(tc, google_embedded);
	tcase_add_test(tc, google_embedded_unverifiable);
	tcase_add_test(tc, google_ocsp_scts);
	tcase_add_test(tc, malformed_list);
	tcase_add_test(tc, cache_second_evaluation);
	suite_add_tcase(s, tc);
	return test_run(s);
}
