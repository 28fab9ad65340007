/*
 * make bench: what Certificate Transparency costs, against OpenSSL 3.
 *
 * Certificates (with their issuers, from $TG_SHARED/testdata/ct, see its
 * README.md): OpenSSL's embeddedSCTs3.pem (www.comodo.com 2015, RSA, 3 real
 * SCTs from Google Pilot, Google Aviator and DigiCert, keys from OpenSSL's
 * log_list.cnf), letsencrypt.org 2026 (ECDSA, 2 SCTs, Chrome list v89.25)
 * and Cloudflare 2025 (ECDSA, 2 SCTs, Chrome list v81.14). Every SCT here is
 * ECDSA P-256. Both sides use the same log keys: tlsguard parses the JSON
 * list (for embeddedSCTs3 a v3 JSON list derived at run time from
 * log_list.cnf, since OpenSSL ships it only in its own format), OpenSSL
 * loads the .cnf conversion of the same list with CTLOG_STORE_load_file.
 *
 * 1. tlsguard without cache: the signed data is built once per certificate
 *    (tg_sct_signed_precert: issuer key hash, TBS without the SCT
 *    extension), then tg_sct_verify per SCT. Reported per SCT, per
 *    certificate (build + every verify, timed as one), and the build alone.
 * 2. The whole evaluation (tlsguard_verify_der_chain, leaf + issuer
 *    presented, the issuer as trust anchor, the list and ct-policy in the
 *    context): ct-policy off, chrome with the context's verified-SCT cache
 *    warm (tg_ct_cache_stats must show that the timed evaluations verified
 *    nothing again), and chrome with the cache detached (every SCT verified
 *    every time, as a context whose cache could not be allocated does). The
 *    difference to "off" is the CT check's share; for the cached check, a
 *    few microseconds in hundreds, it is timed on alternating calls.
 *    embeddedSCTs3's derived list marks every log usable since 2013 and is
 *    dated the day before its evaluation time, so that it is enforced.
 * 3. OpenSSL (TG_BENCH_OPENSSL): SCT_LIST_validate on the list from
 *    X509_get_ext_d2i(NID_ct_precert_scts), with a CT_POLICY_EVAL_CTX
 *    (certificate, issuer, time, CTLOG_STORE). The floor: one P-256
 *    signature check, EVP_DigestVerifyInit + EVP_DigestVerify with the
 *    log's key on a fixed message (the exact bytes the SCT signs, so it
 *    also checks them), and the same with GnuTLS
 *    (gnutls_pubkey_verify_data2), tlsguard's own backend.
 * 4. Every SCT must verify on both sides, in every timed call; a wrong
 *    result exits 1 (2 when test data is missing). Timing never fails.
 * Medians of interleaved rounds of thread CPU time.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <tlsguard/tlsguard.h>

#include "tg.h"
#include "tg_ct.h"

#ifdef TG_BENCH_OPENSSL
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

#define ROUNDS 11
#define TARGET_SEC 0.015 /* per batch */
#define MAXSCT 8
#define COLW 15 /* table column width */

enum meas {
	M_TG_PARSE,    /* tg_sct_list_from_cert + tg_sct_list_parse */
	M_TG_BUILD,    /* tg_sct_signed_precert (+ free) */
	M_TG_VERIFY,   /* tg_sct_verify of every SCT; per SCT = / n */
	M_TG_CERT,     /* build + verify every SCT + free */
	M_GT_FLOOR,    /* gnutls_pubkey_verify_data2 on every SCT's signed bytes */
	M_EV_OFF,      /* whole evaluation, ct-policy off */
	M_EV_CACHED,   /* ct-policy chrome, cache warm */
	M_EV_NOCACHE,  /* ct-policy chrome, cache detached */
	M_EV_DIFF,     /* paired: (chrome, cache warm) - (off), call by call */
	M_OS_PARSE,    /* X509_get_ext_d2i(NID_ct_precert_scts) + SCT_LIST_free */
	M_OS_VALIDATE, /* SCT_LIST_validate */
	M_OS_FLOOR,    /* EVP_DigestVerifyInit + EVP_DigestVerify on every SCT's signed bytes */
	NMEAS
};

struct cert {
	/* given */
	const char *label, *host, *leaf_file, *issuer_file;
	const char *json_file; /* NULL: derive from cnf_file */
	const char *cnf_file;
	int64_t when; /* evaluation time, Unix seconds */
	size_t want_scts;

	/* loaded */
	char json_path[4096], cnf_path[4096];
	gnutls_datum_t der[2]; /* leaf, issuer */
	gnutls_x509_crt_t leaf, issuer;
	struct tg_loglist *ll;
	unsigned char *list;
	size_t list_len, n;
	struct tg_sct scts[TG_CT_MAX_SCTS];
	const struct tg_ct_log *log[MAXSCT];
	gnutls_datum_t msg[MAXSCT]; /* the bytes SCT k signs */
	struct tg_sct_signed sd;
	tlsguard_ctx *ctx_ct, *ctx_off;
	uint64_t verified1, hits2, verified_end, hits_end; /* cache stats */
#ifdef TG_BENCH_OPENSSL
	X509 *ox_leaf, *ox_issuer;
	STACK_OF(SCT) *ox_scts;
	CTLOG_STORE *store;
	CT_POLICY_EVAL_CTX *pctx;
	EVP_PKEY *okey[MAXSCT];
	EVP_MD_CTX *md;
#endif
	double t[NMEAS][ROUNDS], med[NMEAS];
	long iters[NMEAS];
};

static const char *shared_dir;
static char tmp_json[4096]; /* derived list, removed at exit */

/* CPU time of this thread only. */
static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cleanup(void)
{
	if (tmp_json[0] != '\0')
		unlink(tmp_json);
}

static void die(int code, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "bench_sct: ");
	fprintf(stderr, "%s", fmt);
	if (a)
		fprintf(stderr, ": %s", a);
	if (b)
		fprintf(stderr, ": %s", b);
	fprintf(stderr, "\n");
	cleanup();
	exit(code);
}

/* A result is wrong: exit 1. */
static void wrong(const struct cert *c, const char *what)
{
	fprintf(stderr, "bench_sct: %s: WRONG RESULT: %s\n", c->label, what);
	cleanup();
	exit(1);
}

static void data_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/testdata/ct/%s", shared_dir, rel);
}

static void load_crt(const char *rel, gnutls_datum_t *der, gnutls_x509_crt_t *crt)
{
	char path[4096];
	gnutls_datum_t d;

	data_path(path, sizeof(path), rel);
	if (gnutls_load_file(path, &d) < 0)
		die(2, "cannot read (set TG_SHARED to the shared directory)", path, NULL);
	if (gnutls_x509_crt_init(crt) < 0 || gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_DER, der) < 0)
		die(2, "not a PEM certificate", path, NULL);
	gnutls_free(d.data);
}

static void format_rfc3339(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- a v3 JSON log list from an OpenSSL log list (.cnf) ----
 * Every log with a key, state usable since 2013, dated the day before the
 * evaluation (so that it is enforced). Operator: the first word of the
 * description ("Google Pilot Log" -> Google), else the section name. */

struct cnf_log {
	char name[64], desc[160], op[64], key[1024], id[48];
};

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static size_t read_cnf(const char *path, struct cnf_log *logs, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	size_t n = 0;
	struct cnf_log *cur = NULL;

	if (f == NULL)
		die(2, "cannot read", path, NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v;
		trim(line);
		if (line[0] == '[') {
			char *end = strchr(line, ']');
			if (end == NULL || n == max)
				die(2, "bad or too long .cnf", path, line);
			*end = '\0';
			cur = &logs[n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%.*s", (int)sizeof(cur->name) - 1, line + 1);
			continue;
		}
		if (cur == NULL || (v = strchr(line, '=')) == NULL || line[0] == '#')
			continue;
		*v++ = '\0';
		trim(line);
		while (*v == ' ')
			v++;
		if (strcmp(line, "description") == 0)
			snprintf(cur->desc, sizeof(cur->desc), "%.*s", (int)sizeof(cur->desc) - 1, v);
		else if (strcmp(line, "key") == 0)
			snprintf(cur->key, sizeof(cur->key), "%.*s", (int)sizeof(cur->key) - 1, v);
	}
	fclose(f);
	return n;
}

static void derive_json(struct cert *c)
{
	static struct cnf_log logs[64];
	char from[40], listed[40];
	size_t n, i, j, k, nk = 0;
	FILE *f;
	int fd;

	n = read_cnf(c->cnf_path, logs, 64);
	for (i = 0; i < n; i++) {
		struct cnf_log *l = &logs[i];
		gnutls_datum_t b64, raw = {NULL, 0};
		unsigned char id[32];
		size_t w;
		if (l->key[0] == '\0')
			continue;
		b64.data = (unsigned char *)l->key;
		b64.size = (unsigned)strlen(l->key);
		if (gnutls_base64_decode2(&b64, &raw) < 0 || gnutls_hash_fast(GNUTLS_DIG_SHA256, raw.data, raw.size, id) < 0)
			die(2, "bad key in", c->cnf_path, l->name);
		gnutls_free(raw.data);
		tg_pin_b64(id, l->id);
		w = strcspn(l->desc, " ");
		if (l->desc[0] == '\0' || strncmp(l->desc, "http", 4) == 0 || w >= sizeof(l->op))
			snprintf(l->op, sizeof(l->op), "%s", l->name);
		else
			snprintf(l->op, sizeof(l->op), "%.*s", (int)w, l->desc);
		nk++;
	}
	snprintf(tmp_json, sizeof(tmp_json), "%s/bench_sct-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(tmp_json)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		tmp_json[0] = '\0';
		die(2, "cannot create a temporary file", NULL, NULL);
	}
	format_rfc3339(INT64_C(1356998400), from, sizeof(from));
	format_rfc3339(c->when - 86400, listed, sizeof(listed));
	fprintf(f, "{\"version\": \"derived from %s\", \"log_list_timestamp\": \"%s\", \"operators\": [", c->cnf_file,
	        listed);
	/* operators in order of first appearance */
	for (i = 0, k = 0; i < n; i++) {
		int first = 1;
		if (logs[i].key[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (logs[j].key[0] != '\0' && strcmp(logs[j].op, logs[i].op) == 0)
				break;
		if (j < i)
			continue;
		fprintf(f, "%s\n {\"name\": \"%s\", \"email\": [], \"logs\": [", k++ ? "," : "", logs[i].op);
		for (j = i; j < n; j++) {
			if (logs[j].key[0] == '\0' || strcmp(logs[j].op, logs[i].op) != 0)
				continue;
			fprintf(f,
			        "%s\n  {\"description\": \"%s\", \"log_id\": \"%s\", \"key\": \"%s\", "
			        "\"url\": \"https://%s.invalid/\", \"mmd\": 86400, "
			        "\"state\": {\"usable\": {\"timestamp\": \"%s\"}}}",
			        first ? "" : ",", logs[j].desc, logs[j].id, logs[j].key, logs[j].name, from);
			first = 0;
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]}\n");
	if (fclose(f) != 0 || nk == 0)
		die(2, "cannot write the derived log list", tmp_json, NULL);
	snprintf(c->json_path, sizeof(c->json_path), "%s", tmp_json);
}

/* ---- setup ---- */

static tlsguard_ctx *eval_ctx(struct cert *c, const char *policy)
{
	char root[4096], conf[64];
	tlsguard_ctx *ctx = NULL;

	data_path(root, sizeof(root), c->issuer_file);
	snprintf(conf, sizeof(conf), "ct-policy = %s\n", policy);
	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		die(2, "context", "out of memory", NULL);
	if (tlsguard_ctx_add_ca(ctx, root) != 0 || tlsguard_ctx_set_time(ctx, c->when) != 0 ||
	    tlsguard_ctx_set_ct_log_list(ctx, c->json_path) != 0 ||
	    tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "bench") != 0)
		die(2, "context", c->label, tlsguard_ctx_last_error(ctx));
	return ctx;
}

static int eval_ok(const tlsguard_ctx *ctx, const struct cert *c)
{
	const unsigned char *der[2] = {c->der[0].data, c->der[1].data};
	size_t len[2] = {c->der[0].size, c->der[1].size};
	tlsguard_result *res = NULL;
	int ok = tlsguard_verify_der_chain(ctx, c->host, 443, der, len, 2, &res) == 0 &&
	         tlsguard_result_verdict(res) == TLSGUARD_ACCEPT;
	tlsguard_result_free(res);
	return ok;
}

/* The first evaluation, checked in detail: accepted, the ct check passed
 * (or was skipped, with @ct 0), every SCT valid. */
static void eval_check(struct cert *c, const tlsguard_ctx *ctx, int ct)
{
	const unsigned char *der[2] = {c->der[0].data, c->der[1].data};
	size_t len[2] = {c->der[0].size, c->der[1].size}, i;
	tlsguard_result *res = NULL;
	int rc = tlsguard_verify_der_chain(ctx, c->host, 443, der, len, 2, &res), seen = 0;

	if (rc != 0 || tlsguard_result_verdict(res) != TLSGUARD_ACCEPT) {
		for (i = 0; i < tlsguard_result_event_count(res); i++)
			fprintf(stderr, "  event: %s: %s\n", tlsguard_event_name(tlsguard_result_event(res, i)),
			        tlsguard_event_detail(tlsguard_result_event(res, i)));
		wrong(c, ct ? "the evaluation with ct-policy chrome rejected the chain"
		            : "the evaluation with ct-policy off rejected the chain");
	}
	for (i = 0; i < tlsguard_result_check_count(res); i++) {
		if (strcmp(tlsguard_result_check_name(res, i), "ct") != 0)
			continue;
		seen = 1;
		if (tlsguard_result_check_outcome(res, i) != (ct ? TLSGUARD_CHECK_PASS : TLSGUARD_CHECK_SKIP))
			wrong(c, ct ? "the ct check did not pass" : "the ct check ran with ct-policy off");
	}
	if (!seen)
		wrong(c, "no ct check in the result");
	if (ct) {
		if (tlsguard_result_sct_count(res) != c->n)
			wrong(c, "the evaluation saw a different number of SCTs");
		for (i = 0; i < c->n; i++) {
			int status = -1;
			if (tlsguard_result_sct(res, i, NULL, NULL, NULL, NULL, NULL, &status) != 0 ||
			    status != TLSGUARD_SCT_VALID)
				wrong(c, "an SCT was not valid in the evaluation");
		}
	}
	tlsguard_result_free(res);
}

static const char *sig_name(const struct tg_sct *s)
{
	return s->sig_alg == 3 ? "ECDSA" : s->sig_alg == 1 ? "RSA" : "?";
}

static void setup(struct cert *c)
{
	char err[TG_ERRBUF];
	gnutls_datum_t d;
	size_t k;

	load_crt(c->leaf_file, &c->der[0], &c->leaf);
	load_crt(c->issuer_file, &c->der[1], &c->issuer);
	data_path(c->cnf_path, sizeof(c->cnf_path), c->cnf_file);
	if (c->json_file != NULL)
		data_path(c->json_path, sizeof(c->json_path), c->json_file);
	else
		derive_json(c);

	/* tlsguard: the list, the SCTs, their logs, the signed data. */
	if (gnutls_load_file(c->json_path, &d) < 0)
		die(2, "cannot read", c->json_path, NULL);
	if (tg_loglist_parse((const char *)d.data, d.size, c->json_path, &c->ll, err, sizeof(err)) != 0)
		die(2, "log list", c->json_path, err);
	gnutls_free(d.data);
	if (tg_sct_list_from_cert(c->leaf, &c->list, &c->list_len, err, sizeof(err)) != 1 ||
	    tg_sct_list_parse(c->list, c->list_len, c->scts, TG_CT_MAX_SCTS, &c->n, NULL, err, sizeof(err)) != 0)
		wrong(c, "tlsguard cannot read the embedded SCT list");
	if (c->n != c->want_scts || c->n > MAXSCT)
		wrong(c, "unexpected number of SCTs");
	if (tg_sct_signed_precert(c->leaf, c->issuer, &c->sd, err, sizeof(err)) != 0)
		wrong(c, err);
	for (k = 0; k < c->n; k++) {
		const struct tg_sct *s = &c->scts[k];
		const struct tg_sct_signed *sd = &c->sd;
		unsigned char *w;
		int i;

		if ((c->log[k] = tg_loglist_find(c->ll, s->log_id)) == NULL)
			wrong(c, "an SCT's log is not in the list");
		if (tg_sct_verify(s, sd, c->log[k]->pubkey) != 0)
			wrong(c, "tg_sct_verify rejected an SCT");
		/* The digitally-signed input (RFC 6962 sec. 3.2), for the floors. */
		c->msg[k].size = (unsigned)(12 + 32 + 3 + sd->entry_len + 2 + s->ext_len);
		if ((c->msg[k].data = w = malloc(c->msg[k].size)) == NULL)
			die(2, "out of memory", NULL, NULL);
		*w++ = 0;
		*w++ = 0;
		for (i = 0; i < 8; i++)
			*w++ = (unsigned char)(s->timestamp >> (56 - 8 * i));
		*w++ = 0;
		*w++ = 1; /* precert_entry */
		memcpy(w, sd->issuer_key_hash, 32);
		w += 32;
		*w++ = (unsigned char)(sd->entry_len >> 16);
		*w++ = (unsigned char)(sd->entry_len >> 8);
		*w++ = (unsigned char)sd->entry_len;
		memcpy(w, sd->entry, sd->entry_len);
		w += sd->entry_len;
		*w++ = (unsigned char)(s->ext_len >> 8);
		*w++ = (unsigned char)s->ext_len;
		if (s->ext_len)
			memcpy(w, s->ext, s->ext_len);
	}

	/* Whole evaluations: the first one fills the cache, the second hits it. */
	c->ctx_ct = eval_ctx(c, "chrome");
	c->ctx_off = eval_ctx(c, "off");
	eval_check(c, c->ctx_off, 0);
	eval_check(c, c->ctx_ct, 1);
	tg_ct_cache_stats(c->ctx_ct, &c->verified1, &c->hits2);
	if (c->verified1 != c->n || c->hits2 != 0)
		wrong(c, "the first evaluation did not verify each SCT exactly once");
	eval_check(c, c->ctx_ct, 1);
	tg_ct_cache_stats(c->ctx_ct, &c->verified_end, &c->hits2);
	if (c->verified_end != c->n || c->hits2 != c->n)
		wrong(c, "the second evaluation verified SCTs again instead of using the cache");

#ifdef TG_BENCH_OPENSSL
	{
		const unsigned char *p = c->der[0].data;
		int r;
		if ((c->ox_leaf = d2i_X509(NULL, &p, (long)c->der[0].size)) == NULL)
			wrong(c, "OpenSSL cannot read the certificate");
		p = c->der[1].data;
		if ((c->ox_issuer = d2i_X509(NULL, &p, (long)c->der[1].size)) == NULL)
			wrong(c, "OpenSSL cannot read the issuer");
		c->ox_scts = X509_get_ext_d2i(c->ox_leaf, NID_ct_precert_scts, NULL, NULL);
		if (c->ox_scts == NULL || (size_t)sk_SCT_num(c->ox_scts) != c->n)
			wrong(c, "OpenSSL found a different SCT list");
		if ((c->store = CTLOG_STORE_new()) == NULL || CTLOG_STORE_load_file(c->store, c->cnf_path) != 1) {
			ERR_print_errors_fp(stderr);
			die(2, "CTLOG_STORE_load_file", c->cnf_path, NULL);
		}
		if ((c->pctx = CT_POLICY_EVAL_CTX_new()) == NULL || CT_POLICY_EVAL_CTX_set1_cert(c->pctx, c->ox_leaf) != 1 ||
		    CT_POLICY_EVAL_CTX_set1_issuer(c->pctx, c->ox_issuer) != 1 || (c->md = EVP_MD_CTX_new()) == NULL)
			die(2, "OpenSSL CT_POLICY_EVAL_CTX", NULL, NULL);
		CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(c->pctx, c->store);
		CT_POLICY_EVAL_CTX_set_time(c->pctx, (uint64_t)c->when * 1000);
		if ((r = SCT_LIST_validate(c->ox_scts, c->pctx)) != 1) {
			ERR_print_errors_fp(stderr);
			wrong(c, "OpenSSL SCT_LIST_validate did not validate every SCT");
		}
		for (k = 0; k < c->n; k++) {
			const SCT *s = sk_SCT_value(c->ox_scts, (int)k);
			unsigned char *id = NULL;
			if (SCT_get0_log_id(s, &id) != TG_CT_LOG_ID_LEN || memcmp(id, c->scts[k].log_id, TG_CT_LOG_ID_LEN) != 0)
				wrong(c, "OpenSSL lists the SCTs in another order");
			if (SCT_get_validation_status(s) != SCT_VALIDATION_STATUS_VALID)
				wrong(c, "OpenSSL: an SCT is not valid");
			p = c->log[k]->key;
			if ((c->okey[k] = d2i_PUBKEY(NULL, &p, (long)c->log[k]->key_len)) == NULL)
				wrong(c, "OpenSSL cannot read a log key");
		}
	}
#endif

	printf("%s: %s (%s), issuer %s, evaluated at ", c->label, c->leaf_file, c->host, c->issuer_file);
	{
		char when[40];
		format_rfc3339(c->when, when, sizeof(when));
		printf("%s\n  log list %s%s%s; %zu SCTs, signed data %zu bytes (TBS %zu):\n", when,
		       c->json_file ? c->json_file : "derived from ", c->json_file ? "" : c->cnf_file,
		       c->json_file ? "" : " (JSON)", c->n, (size_t)c->msg[0].size, c->sd.entry_len);
	}
	for (k = 0; k < c->n; k++) {
		unsigned bits = 0;
		int pk = gnutls_pubkey_get_pk_algorithm(c->log[k]->pubkey, &bits);
		printf("    %-28s %s-SHA256, key %s-%u: tlsguard valid%s\n",
		       c->log[k]->description ? c->log[k]->description : "?", sig_name(&c->scts[k]),
		       pk == GNUTLS_PK_ECDSA ? "ECDSA" : pk == GNUTLS_PK_RSA ? "RSA" : "?", bits,
#ifdef TG_BENCH_OPENSSL
		       ", OpenSSL valid"
#else
		       ""
#endif
		);
	}
}

/* ---- timed batches ---- */

static volatile size_t sink;

/* Run @m @n times; a wrong result exits. Returns seconds of CPU time. */
static double batch(struct cert *c, int m, long n)
{
	char err[TG_ERRBUF];
	struct tg_ct_cache *saved;
	double t0;
	long i;
	size_t k;

	t0 = now_sec();
	switch (m) {
	case M_TG_PARSE:
		for (i = 0; i < n; i++) {
			struct tg_sct tmp[TG_CT_MAX_SCTS];
			unsigned char *list = NULL;
			size_t len = 0, got = 0;
			if (tg_sct_list_from_cert(c->leaf, &list, &len, err, sizeof(err)) != 1 ||
			    tg_sct_list_parse(list, len, tmp, TG_CT_MAX_SCTS, &got, NULL, err, sizeof(err)) != 0 || got != c->n)
				wrong(c, "tlsguard SCT list");
			sink += tmp[0].sig_len;
			gnutls_free(list);
		}
		break;
	case M_TG_BUILD:
		for (i = 0; i < n; i++) {
			struct tg_sct_signed sd;
			if (tg_sct_signed_precert(c->leaf, c->issuer, &sd, err, sizeof(err)) != 0 ||
			    sd.entry_len != c->sd.entry_len)
				wrong(c, "tg_sct_signed_precert");
			tg_sct_signed_free(&sd);
		}
		break;
	case M_TG_VERIFY:
		for (i = 0; i < n; i++)
			for (k = 0; k < c->n; k++)
				if (tg_sct_verify(&c->scts[k], &c->sd, c->log[k]->pubkey) != 0)
					wrong(c, "tg_sct_verify");
		break;
	case M_TG_CERT:
		for (i = 0; i < n; i++) {
			struct tg_sct_signed sd;
			if (tg_sct_signed_precert(c->leaf, c->issuer, &sd, err, sizeof(err)) != 0)
				wrong(c, "tg_sct_signed_precert");
			for (k = 0; k < c->n; k++)
				if (tg_sct_verify(&c->scts[k], &sd, c->log[k]->pubkey) != 0)
					wrong(c, "tg_sct_verify");
			tg_sct_signed_free(&sd);
		}
		break;
	case M_GT_FLOOR:
		for (i = 0; i < n; i++)
			for (k = 0; k < c->n; k++) {
				gnutls_datum_t sig;
				sig.data = (unsigned char *)(uintptr_t)c->scts[k].sig;
				sig.size = (unsigned)c->scts[k].sig_len;
				if (gnutls_pubkey_verify_data2(c->log[k]->pubkey,
				                               c->scts[k].sig_alg == 3 ? GNUTLS_SIGN_ECDSA_SHA256
				                                                       : GNUTLS_SIGN_RSA_SHA256,
				                               0, &c->msg[k], &sig) < 0)
					wrong(c, "gnutls_pubkey_verify_data2 on the signed bytes");
			}
		break;
	case M_EV_OFF:
	case M_EV_CACHED:
		for (i = 0; i < n; i++)
			if (!eval_ok(m == M_EV_OFF ? c->ctx_off : c->ctx_ct, c))
				wrong(c, "evaluation rejected");
		break;
	case M_EV_NOCACHE:
		/* As a context whose cache could not be allocated: every SCT
		 * verified every time (check_ct.c handles a NULL cache). */
		saved = c->ctx_ct->ct_cache;
		c->ctx_ct->ct_cache = NULL;
		for (i = 0; i < n; i++)
			if (!eval_ok(c->ctx_ct, c))
				wrong(c, "evaluation rejected (cache detached)");
		c->ctx_ct->ct_cache = saved;
		break;
	case M_EV_DIFF: {
		/* The cached CT check is a few microseconds in an evaluation
		 * of hundreds: difference each pair of calls, so that drift
		 * between batches cancels. Returns the summed difference. */
		double d = 0, t1, t2, t3;
		for (i = 0; i < n; i++) {
			t1 = now_sec();
			if (!eval_ok(c->ctx_off, c))
				wrong(c, "evaluation rejected");
			t2 = now_sec();
			if (!eval_ok(c->ctx_ct, c))
				wrong(c, "evaluation rejected");
			t3 = now_sec();
			d += (t3 - t2) - (t2 - t1);
		}
		return d;
	}
#ifdef TG_BENCH_OPENSSL
	case M_OS_PARSE:
		for (i = 0; i < n; i++) {
			STACK_OF(SCT) *s = X509_get_ext_d2i(c->ox_leaf, NID_ct_precert_scts, NULL, NULL);
			if (s == NULL || (size_t)sk_SCT_num(s) != c->n)
				wrong(c, "OpenSSL SCT list");
			SCT_LIST_free(s);
		}
		break;
	case M_OS_VALIDATE:
		for (i = 0; i < n; i++) {
			if (SCT_LIST_validate(c->ox_scts, c->pctx) != 1)
				wrong(c, "SCT_LIST_validate");
			for (k = 0; k < c->n; k++)
				if (SCT_get_validation_status(sk_SCT_value(c->ox_scts, (int)k)) != SCT_VALIDATION_STATUS_VALID)
					wrong(c, "SCT_LIST_validate: an SCT is not valid");
		}
		break;
	case M_OS_FLOOR:
		for (i = 0; i < n; i++)
			for (k = 0; k < c->n; k++) {
				EVP_MD_CTX_reset(c->md);
				if (EVP_DigestVerifyInit(c->md, NULL, EVP_sha256(), NULL, c->okey[k]) != 1 ||
				    EVP_DigestVerify(c->md, c->scts[k].sig, c->scts[k].sig_len, c->msg[k].data, c->msg[k].size) != 1)
					wrong(c, "EVP_DigestVerify on the signed bytes");
			}
		break;
#endif
	default:
		return 0;
	}
	return now_sec() - t0;
}

static int have(int m)
{
#ifdef TG_BENCH_OPENSSL
	(void)m;
	return 1;
#else
	return m < M_OS_PARSE;
#endif
}

static long calibrate(struct cert *c, int m)
{
	long n = 1;
	double dt;

	if (m == M_EV_DIFF) /* a pair costs two evaluations; the sum is no time */
		return c->iters[M_EV_OFF] / 2 + 1;
	for (;;) {
		dt = batch(c, m, n);
		if (dt > TARGET_SEC / 8 || n >= (1L << 24))
			break;
		n *= 2;
	}
	n = (long)((double)n * TARGET_SEC / (dt > 0 ? dt : 1e-9)) + 1;
	return n;
}

/* ---- report ---- */

static struct cert certs[] = {
    {.label = "embeddedSCTs3",
     .host = "www.comodo.com",
     .leaf_file = "openssl/embeddedSCTs3.pem",
     .issuer_file = "openssl/embeddedSCTs3_issuer.pem",
     .json_file = NULL, /* derived from the .cnf */
     .cnf_file = "openssl/log_list.cnf",
     .when = INT64_C(1464739200), /* 2016-06-01 */
     .want_scts = 3},
    {.label = "letsencrypt.org",
     .host = "letsencrypt.org",
     .leaf_file = "real-world/letsencrypt.org-2026/leaf.pem",
     .issuer_file = "real-world/letsencrypt.org-2026/issuer.pem",
     .json_file = "loglists/chrome-all_logs_list.v89.25.json",
     .cnf_file = "loglists/chrome-all_logs_list.v89.25.cnf",
     .when = INT64_C(1775001600), /* 2026-04-01 */
     .want_scts = 2},
    {.label = "cloudflare",
     .host = "cloudflare.com",
     .leaf_file = "real-world/cloudflare-sni-2025/leaf.pem",
     .issuer_file = "real-world/cloudflare-sni-2025/issuer-we1.pem",
     .json_file = "loglists/chrome-log_list.v81.14.json",
     .cnf_file = "loglists/chrome-log_list.v81.14.cnf",
     .when = INT64_C(1759276800), /* 2025-10-01 */
     .want_scts = 2},
};
#define NCERTS (sizeof(certs) / sizeof(certs[0]))

/* One row: @per_sct divides by the SCT count. */
static void row(const char *name, int m, int per_sct)
{
	size_t ci;

	printf("%-50s", name);
	for (ci = 0; ci < NCERTS; ci++) {
		if (!have(m))
			printf(" %*s", COLW, "-");
		else
			printf(" %*.1f", COLW, certs[ci].med[m] * 1e6 / (per_sct ? (double)certs[ci].n : 1));
	}
	printf("\n");
}

/* A row of values computed by @f (microseconds, percent or a ratio). */
static void row_f(const char *name, double (*f)(const struct cert *), int decimals)
{
	size_t ci;
	printf("%-50s", name);
	for (ci = 0; ci < NCERTS; ci++)
		printf(" %*.*f", COLW, decimals, f(&certs[ci]));
	printf("\n");
}

static double us_cert_amortized(const struct cert *c) { return c->med[M_TG_CERT] * 1e6 / (double)c->n; }
static double us_ct_cached(const struct cert *c) { return c->med[M_EV_DIFF] * 1e6; }
static double us_ct_uncached(const struct cert *c) { return (c->med[M_EV_NOCACHE] - c->med[M_EV_OFF]) * 1e6; }
static double pct_ct_cached(const struct cert *c)
{
	return c->med[M_EV_DIFF] / c->med[M_EV_CACHED] * 100;
}
static double pct_ct_uncached(const struct cert *c)
{
	return (c->med[M_EV_NOCACHE] - c->med[M_EV_OFF]) / c->med[M_EV_NOCACHE] * 100;
}
static double r_verify_gnutls(const struct cert *c) { return c->med[M_TG_VERIFY] / c->med[M_GT_FLOOR]; }
static double r_cert_gnutls(const struct cert *c) { return c->med[M_TG_CERT] / c->med[M_GT_FLOOR]; }
#ifdef TG_BENCH_OPENSSL
static double r_verify_os(const struct cert *c) { return c->med[M_TG_VERIFY] / c->med[M_OS_VALIDATE]; }
static double r_cert_os(const struct cert *c) { return c->med[M_TG_CERT] / c->med[M_OS_VALIDATE]; }
static double r_verify_floor(const struct cert *c) { return c->med[M_TG_VERIFY] / c->med[M_OS_FLOOR]; }
static double r_cert_floor(const struct cert *c) { return c->med[M_TG_CERT] / c->med[M_OS_FLOOR]; }
static double r_os_floor(const struct cert *c) { return c->med[M_OS_VALIDATE] / c->med[M_OS_FLOOR]; }
static double r_cached_os(const struct cert *c)
{
	return c->med[M_EV_DIFF] / c->med[M_OS_VALIDATE];
}
static double r_uncached_os(const struct cert *c)
{
	return (c->med[M_EV_NOCACHE] - c->med[M_EV_OFF]) / c->med[M_OS_VALIDATE];
}
static double r_gnutls_os_floor(const struct cert *c) { return c->med[M_GT_FLOOR] / c->med[M_OS_FLOOR]; }
#endif

static void header(const char *title)
{
	size_t ci;
	char col[32];

	printf("\n%-50s", title);
	for (ci = 0; ci < NCERTS; ci++) {
		snprintf(col, sizeof(col), "%.*s", COLW, certs[ci].label);
		printf(" %*s", COLW, col);
	}
	printf("\n%-50s", "");
	for (ci = 0; ci < NCERTS; ci++) {
		snprintf(col, sizeof(col), "(%zu SCTs)", certs[ci].n);
		printf(" %*s", COLW, col);
	}
	printf("\n");
}

int main(void)
{
	size_t ci;
	int m, r;
	double t_start = now_sec();

	shared_dir = getenv("TG_SHARED") ? getenv("TG_SHARED") : "../shared";
	gnutls_global_init();
	printf("tlsguard %s benchmark: Certificate Transparency, embedded SCT verification\n", tlsguard_version());
#ifdef TG_BENCH_OPENSSL
	printf("compared with %s (SCT_LIST_validate), same certificates, same log keys, same run\n\n",
	       OpenSSL_version(OPENSSL_VERSION));
#else
	printf("OpenSSL comparison not built (configure did not find OpenSSL >= 3.0): tlsguard figures only\n\n");
#endif
	for (ci = 0; ci < NCERTS; ci++)
		setup(&certs[ci]);

	for (ci = 0; ci < NCERTS; ci++)
		for (m = 0; m < NMEAS; m++)
			if (have(m))
				certs[ci].iters[m] = calibrate(&certs[ci], m);
	for (r = 0; r < ROUNDS; r++)
		for (ci = 0; ci < NCERTS; ci++)
			for (m = 0; m < NMEAS; m++)
				if (have(m))
					certs[ci].t[m][r] = batch(&certs[ci], m, certs[ci].iters[m]) / (double)certs[ci].iters[m];
	for (ci = 0; ci < NCERTS; ci++)
		for (m = 0; m < NMEAS; m++)
			if (have(m))
				certs[ci].med[m] = median(certs[ci].t[m], ROUNDS);

	/* The cached evaluations must not have verified anything again. */
	for (ci = 0; ci < NCERTS; ci++) {
		struct cert *c = &certs[ci];
		tg_ct_cache_stats(c->ctx_ct, &c->verified_end, &c->hits_end);
		if (c->verified_end != c->n)
			wrong(c, "timed evaluations with the cache verified SCTs again");
		if (c->hits_end <= c->hits2)
			wrong(c, "timed evaluations did not use the cache");
	}

	printf("\nmicroseconds (thread CPU time), median of %d interleaved rounds; every call checked\n", ROUNDS);
	header("1. tlsguard, no cache");
	row("SCT list from the certificate + parse, per cert", M_TG_PARSE, 0);
	row("signed data build (tg_sct_signed_precert), once", M_TG_BUILD, 0);
	row("tg_sct_verify, per SCT", M_TG_VERIFY, 1);
	row("per certificate: build + verify every SCT", M_TG_CERT, 0);
	row_f("  same, per SCT (build amortized)", us_cert_amortized, 1);
	row("floor: GnuTLS gnutls_pubkey_verify_data2, per SCT", M_GT_FLOOR, 1);

	header("2. whole evaluation (tlsguard_verify_der_chain)");
	row("ct-policy off", M_EV_OFF, 0);
	row("ct-policy chrome, SCT cache warm", M_EV_CACHED, 0);
	row("ct-policy chrome, cache detached (verify all)", M_EV_NOCACHE, 0);
	row_f("CT check, cached (chrome - off, paired calls)", us_ct_cached, 1);
	row_f("  share of the evaluation, %", pct_ct_cached, 1);
	row_f("CT check, uncached (detached - off)", us_ct_uncached, 1);
	row_f("  share of the evaluation, %", pct_ct_uncached, 1);
	printf("SCT cache (tg_ct_cache_stats), verified / hits:\n");
	for (ci = 0; ci < NCERTS; ci++)
		printf("  %-16s after the 1st evaluation %llu / 0, after the 2nd %llu / %llu, after all timed ones %llu / %llu\n",
		       certs[ci].label, (unsigned long long)certs[ci].verified1, (unsigned long long)certs[ci].n,
		       (unsigned long long)certs[ci].hits2, (unsigned long long)certs[ci].verified_end,
		       (unsigned long long)certs[ci].hits_end);
	printf("  (the 2nd and later evaluations re-verified nothing; the detached-cache runs bypass the counters)\n");

#ifdef TG_BENCH_OPENSSL
	header("3. OpenSSL");
	row("X509_get_ext_d2i(NID_ct_precert_scts), per cert", M_OS_PARSE, 0);
	row("SCT_LIST_validate, per certificate", M_OS_VALIDATE, 0);
	row("SCT_LIST_validate, per SCT", M_OS_VALIDATE, 1);
	row("floor: EVP_DigestVerify P-256 (+Init), per SCT", M_OS_FLOOR, 1);

	header("ratios (time / time; < 1: tlsguard faster)");
	row_f("tlsguard uncached / OpenSSL, per SCT (verify)", r_verify_os, 3);
	row_f("tlsguard uncached / OpenSSL, per cert (+build)", r_cert_os, 3);
	row_f("tlsguard verify / raw signature floor (OpenSSL)", r_verify_floor, 3);
	row_f("tlsguard per cert / floor, per SCT amortized", r_cert_floor, 3);
	row_f("tlsguard verify / raw signature floor (GnuTLS)", r_verify_gnutls, 3);
	row_f("tlsguard per cert / GnuTLS floor, amortized", r_cert_gnutls, 3);
	row_f("cached CT check / OpenSSL SCT_LIST_validate", r_cached_os, 3);
	row_f("uncached CT check / OpenSSL SCT_LIST_validate", r_uncached_os, 3);
	row_f("OpenSSL SCT_LIST_validate / its own floor", r_os_floor, 3);
	row_f("GnuTLS floor / OpenSSL floor (backends' P-256)", r_gnutls_os_floor, 3);
	printf("per SCT: tlsguard builds the signed data once per certificate and then only checks signatures;\n"
	       "OpenSSL's SCT_validate re-encodes the certificate and issuer key for every SCT. The gap between\n"
	       "tlsguard and the OpenSSL floor is mostly the two libraries' P-256 code (last row).\n");
#else
	header("ratios (time / time)");
	row_f("tlsguard verify / raw signature floor (GnuTLS)", r_verify_gnutls, 3);
	row_f("tlsguard per cert / GnuTLS floor, amortized", r_cert_gnutls, 3);
	printf("OpenSSL comparison not built: no SCT_LIST_validate or EVP_DigestVerify figures.\n");
#endif
	{
		double worst = 0;
		for (ci = 0; ci < NCERTS; ci++)
			worst = r_cert_gnutls(&certs[ci]) > worst ? r_cert_gnutls(&certs[ci]) : worst;
		printf("target: tlsguard's per-SCT cost (build amortized) within 10%% of one signature check with the\n"
		       "same crypto backend (GnuTLS): worst %.3f (%s)\n",
		       worst, worst <= 1.10 ? "met" : "NOT met");
	}
	printf("all SCTs verified on %s, in every timed call (%.1f s CPU)\n",
#ifdef TG_BENCH_OPENSSL
	       "both sides",
#else
	       "the tlsguard side",
#endif
	       now_sec() - t_start);

	for (ci = 0; ci < NCERTS; ci++) {
		struct cert *c = &certs[ci];
		size_t k;
		tlsguard_ctx_free(c->ctx_ct);
		tlsguard_ctx_free(c->ctx_off);
		tg_sct_signed_free(&c->sd);
		tg_loglist_free(c->ll);
		gnutls_free(c->list);
		for (k = 0; k < c->n; k++)
			free(c->msg[k].data);
		gnutls_x509_crt_deinit(c->leaf);
		gnutls_x509_crt_deinit(c->issuer);
		gnutls_free(c->der[0].data);
		gnutls_free(c->der[1].data);
#ifdef TG_BENCH_OPENSSL
		for (k = 0; k < c->n; k++)
			EVP_PKEY_free(c->okey[k]);
		EVP_MD_CTX_free(c->md);
		CT_POLICY_EVAL_CTX_free(c->pctx);
		CTLOG_STORE_free(c->store);
		SCT_LIST_free(c->ox_scts);
		X509_free(c->ox_leaf);
		X509_free(c->ox_issuer);
#endif
	}
	cleanup();
	gnutls_global_deinit();
	return 0;
}
