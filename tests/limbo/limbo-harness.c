/*
 * x509-limbo harness: runs every testcase of a limbo.json (C2SP x509-limbo,
 * schema version 1) through tlsguard's evaluation and writes the results in
 * limbo's result format.
 *
 *   limbo-harness LIMBO.JSON RESULTS.JSON [BASELINE.JSON]
 *
 * Each case gets its own context: the case's trusted_certs are the only
 * trust anchors (no system store), its validation_time is the context's
 * fixed time (tlsguard_ctx_set_time, never the clock), its max_chain_depth
 * the config key max-chain-depth. The peer certificate and the untrusted
 * intermediates are the presented chain, the expected peer name the host.
 * The policy is tlsguard's default one: the web-PKI server profile.
 *
 * Cases are skipped generically, by field or feature, never by id: client
 * validation, CRLs, RFC 822 names, no peer name, and key-usage, EKU or
 * signature-algorithm requirements other than the server profile's own.
 *
 * It prints a summary line
 *   limbo: pass N fail N skip N must-fail-accepted N online-fail N
 * then, with a baseline (a results file with the same ids, e.g. stock
 * GnuTLS's), a table by category (the id up to "::") and every case whose
 * outcome differs from the baseline. Exit status 0 when every case was
 * evaluated or skipped (the verdicts are judged by tests/limbo.sh), 1 when
 * the input or the output could not be handled, 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include <tlsguard/tlsguard.h>

enum outcome { R_SUCCESS, R_FAILURE, R_SKIPPED };
static const char *const outcome_name[] = {"SUCCESS", "FAILURE", "SKIPPED"};

static const char *tmpdir;

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static size_t jlen(json_object *o, const char *key)
{
	json_object *a = jarr(o, key);
	return a ? json_object_array_length(a) : 0;
}

/* Does array @key of @o hold only strings from @allowed (NULL-terminated)?
 * The first other one goes to *bad. */
static bool only(json_object *o, const char *key, const char *const *allowed, const char **bad)
{
	json_object *a = jarr(o, key);
	size_t i, k;

	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));
		bool ok = false;
		for (k = 0; s != NULL && allowed[k] != NULL; k++)
			ok |= strcmp(s, allowed[k]) == 0;
		if (!ok) {
			*bad = s ? s : "(not a string)";
			return false;
		}
	}
	return true;
}

/* RFC 3339 "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)" to Unix time. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	int off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = atoi(p + 1), m = atoi(p + 4);
		off = (h * 60 + m) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}

/* Every PEM certificate of @pem appended (as DER) to @req. */
static int add_pem(tlsguard_request *req, const char *pem, char *ctxt, size_t clen)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem)}, der = {NULL, 0};
	int ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, &der);
	int rc;

	if (ret < 0) {
		snprintf(ctxt, clen, "harness: a certificate is not PEM: %s", gnutls_strerror(ret));
		return -1;
	}
	rc = tlsguard_request_add_cert(req, der.data, der.size);
	gnutls_free(der.data);
	if (rc != 0) {
		/* A request the API refuses (e.g. more than 64 certificates) is
		 * what an application would see as a rejection. */
		snprintf(ctxt, clen, "request refused the chain: %s", tlsguard_strerror(rc));
		return 1;
	}
	return 0;
}

/* Why tlsguard cannot run @tc as the suite means it, or NULL. Generic:
 * by validation kind, field and feature, never by id. */
static const char *skip_reason(json_object *tc, char *buf, size_t len)
{
	static const char *const eku_ok[] = {"serverAuth", NULL};
	static const char *const none[] = {NULL};
	/* Features whose cases tlsguard does not implement: CRLs; RFC 5280
	 * rules that the web PKI drops (tlsguard implements the web-PKI
	 * profile); pedantic RFC 5280 readings that contradict valid cases of
	 * the suite (a trust anchor without authorityKeyIdentifier). */
	static const char *const unimplemented[] = {"has-crl", "rfc5280-incompatible-with-webpki", "pedantic-rfc5280",
	                                            NULL};
	json_object *pn;
	const char *kind = jstr(tc, "validation_kind"), *bad = NULL;

	if (kind == NULL || strcmp(kind, "SERVER") != 0) {
		snprintf(buf, len, "validation_kind %s: tlsguard validates servers only", kind ? kind : "(missing)");
		return buf;
	}
	/* A case that conflicts with a web-PKI case of the suite asks for the
	 * opposite of tlsguard's profile: the webpki::* case is run instead. */
	{
		json_object *cw = jarr(tc, "conflicts_with");
		size_t i;
		for (i = 0; cw != NULL && i < json_object_array_length(cw); i++) {
			const char *other = json_object_get_string(json_object_array_get_idx(cw, i));
			const char *id = jstr(tc, "id");
			if (other != NULL && strncmp(other, "webpki::", 8) == 0 && id != NULL && strncmp(id, "webpki::", 8) != 0) {
				snprintf(buf, len, "conflicts with %s: tlsguard implements the web-PKI profile", other);
				return buf;
			}
		}
	}
	if (jlen(tc, "crls") > 0)
		return "CRLs are not supported (tlsguard uses stapled OCSP)";
	{
		json_object *f = jarr(tc, "features");
		size_t i, k;
		for (i = 0; f != NULL && i < json_object_array_length(f); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(f, i));
			for (k = 0; s != NULL && unimplemented[k] != NULL; k++)
				if (strcmp(s, unimplemented[k]) == 0) {
					snprintf(buf, len, "feature %s is not implemented", s);
					return buf;
				}
		}
	}
	if (!only(tc, "extended_key_usage", eku_ok, &bad)) {
		snprintf(buf, len, "extended_key_usage %s: tlsguard's server profile always requires serverAuth", bad);
		return buf;
	}
	if (!only(tc, "key_usage", none, &bad)) {
		snprintf(buf, len, "key_usage %s: a caller-chosen key usage is not part of tlsguard's server profile", bad);
		return buf;
	}
	if (jlen(tc, "signature_algorithms") > 0)
		return "signature_algorithms: tlsguard's algorithm policy is not caller-chosen per evaluation";
	if (jlen(tc, "expected_peer_names") > 0)
		return "expected_peer_names: tlsguard matches exactly one peer name";
	if (!json_object_object_get_ex(tc, "expected_peer_name", &pn) || pn == NULL ||
	    json_object_get_type(pn) != json_type_object)
		return "no expected_peer_name: tlsguard always verifies the server's name";
	kind = jstr(pn, "kind");
	if (kind == NULL || (strcmp(kind, "DNS") != 0 && strcmp(kind, "IP") != 0)) {
		snprintf(buf, len, "peer name kind %s: tlsguard verifies DNS names and IP addresses only",
		         kind ? kind : "(missing)");
		return buf;
	}
	return NULL;
}

/* Run one case. Returns R_SUCCESS or R_FAILURE (tlsguard's verdict), or
 * R_SKIPPED; -1 when the case itself is unusable (harness error). */
static int run_case(json_object *tc, char *ctxt, size_t clen)
{
	tlsguard_ctx *ctx = NULL;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	json_object *a, *pn = NULL, *v;
	const char *why, *host;
	char buf[512], path[256];
	size_t i, n, nanchors = 0;
	int rc, result = -1;

	why = skip_reason(tc, buf, sizeof(buf));
	if (why != NULL) {
		snprintf(ctxt, clen, "%s", why);
		return R_SKIPPED;
	}
	json_object_object_get_ex(tc, "expected_peer_name", &pn);
	host = jstr(pn, "value");
	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0) {
		snprintf(ctxt, clen, "harness: cannot create a context");
		return -1;
	}
	/* Trust anchors: exactly the case's trusted_certs, one file each. */
	a = jarr(tc, "trusted_certs");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		const char *pem = json_object_get_string(json_object_array_get_idx(a, i));
		FILE *f;
		snprintf(path, sizeof(path), "%s/anchor-%zu.pem", tmpdir, i);
		f = fopen(path, "w");
		if (f == NULL || pem == NULL || fputs(pem, f) < 0 || fclose(f) != 0) {
			snprintf(ctxt, clen, "harness: cannot write %s: %s", path, strerror(errno));
			goto out;
		}
		/* The file is read again when the context is first used: it is
		 * removed only after the evaluation. */
		rc = tlsguard_ctx_add_ca(ctx, path);
		nanchors = i + 1;
		if (rc != 0) {
			snprintf(ctxt, clen, "harness: trusted_certs[%zu] refused: %s", i, tlsguard_ctx_last_error(ctx));
			goto out;
		}
	}
	if (json_object_object_get_ex(tc, "validation_time", &v) && v != NULL &&
	    json_object_is_type(v, json_type_string)) {
		int64_t t;
		if (parse_rfc3339(json_object_get_string(v), &t) != 0 || tlsguard_ctx_set_time(ctx, t) != 0) {
			snprintf(ctxt, clen, "harness: bad validation_time '%s'", json_object_get_string(v));
			goto out;
		}
	}
	if (json_object_object_get_ex(tc, "max_chain_depth", &v) && v != NULL &&
	    json_object_is_type(v, json_type_int)) {
		char conf[64];
		int len = snprintf(conf, sizeof(conf), "max-chain-depth = %d\n", json_object_get_int(v));
		if (tlsguard_ctx_load_config_mem(ctx, conf, (size_t)len, "limbo") != 0) {
			snprintf(ctxt, clen, "harness: max_chain_depth: %s", tlsguard_ctx_last_error(ctx));
			goto out;
		}
	}
	rc = host ? tlsguard_request_new(&req, host, strlen(host)) : TLSGUARD_E_INVALID;
	if (rc != 0) {
		/* A name the API refuses can match nothing: a rejection. */
		snprintf(ctxt, clen, "request refused the peer name '%s': %s", host ? host : "(null)",
		         tlsguard_strerror(rc));
		result = R_FAILURE;
		goto out;
	}
	rc = add_pem(req, jstr(tc, "peer_certificate") ? jstr(tc, "peer_certificate") : "", ctxt, clen);
	a = jarr(tc, "untrusted_intermediates");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; rc == 0 && i < n; i++)
		rc = add_pem(req, json_object_get_string(json_object_array_get_idx(a, i)), ctxt, clen);
	if (rc != 0) {
		result = rc > 0 ? R_FAILURE : -1;
		goto out;
	}
	rc = tlsguard_verify(ctx, req, &res);
	if (rc == 0 && tlsguard_result_verdict(res) == TLSGUARD_ACCEPT) {
		snprintf(ctxt, clen, "accepted");
		result = R_SUCCESS;
	} else {
		size_t used = (size_t)snprintf(ctxt, clen, "rejected%s%s:", rc ? " with " : "",
		                               rc ? tlsguard_strerror(rc) : "");
		for (i = 0; res != NULL && i < tlsguard_result_event_count(res) && used < clen; i++) {
			const tlsguard_event *ev = tlsguard_result_event(res, i);
			if (tlsguard_event_severity(ev) != TLSGUARD_SEV_FATAL)
				continue;
			used += (size_t)snprintf(ctxt + used, clen - used, " [%s] %s;", tlsguard_code_key(tlsguard_event_code(ev)),
			                         tlsguard_event_detail(ev));
		}
		result = R_FAILURE;
	}
out:
	for (i = 0; i < nanchors; i++) {
		snprintf(path, sizeof(path), "%s/anchor-%zu.pem", tmpdir, i);
		unlink(path);
	}
	tlsguard_result_free(res);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	return result;
}

struct tally {
	char name[64];
	unsigned pass, fail, skip; /* tlsguard */
	unsigned bpass, bfail, bskip; /* baseline */
};

static struct tally *tally_of(struct tally *t, size_t *nt, size_t cap, const char *id)
{
	const char *sep = strstr(id, "::");
	size_t len = sep ? (size_t)(sep - id) : strlen(id), i;

	if (len >= sizeof(t[0].name))
		len = sizeof(t[0].name) - 1;
	for (i = 0; i < *nt; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, id, len) == 0)
			return &t[i];
	if (*nt == cap)
		return &t[cap - 1]; /* "other" */
	memcpy(t[*nt].name, id, len);
	t[*nt].name[len] = '\0';
	return &t[(*nt)++];
}

static int outcome_of(const char *actual, const char *expected)
{
	if (actual == NULL || expected == NULL || strcmp(actual, "SKIPPED") == 0)
		return 2; /* skipped */
	return strcmp(actual, expected) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	json_object *root, *cases, *out, *results, *base = NULL, *base_idx = NULL;
	struct tally cat[64];
	size_t ncat = 0, i;
	unsigned pass = 0, fail = 0, skip = 0, bad_accept = 0, online_fail = 0, errors = 0;
	char dir[] = "/tmp/limbo-harness-XXXXXX";

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s LIMBO.JSON RESULTS.JSON [BASELINE.JSON]\n", argv[0]);
		return 2;
	}
	root = json_object_from_file(argv[1]);
	if (root == NULL || !json_object_object_get_ex(root, "testcases", &cases) ||
	    !json_object_is_type(cases, json_type_array)) {
		fprintf(stderr, "%s: not a limbo testcase file (no testcases array): %s\n", argv[1],
		        json_util_get_last_err() ? json_util_get_last_err() : "");
		return 1;
	}
	{
		json_object *ver;
		if (!json_object_object_get_ex(root, "version", &ver) || json_object_get_int(ver) != 1) {
			fprintf(stderr, "%s: limbo schema version is not 1\n", argv[1]);
			return 1;
		}
	}
	if (argc == 4) {
		json_object *br;
		base = json_object_from_file(argv[3]);
		if (base == NULL || (br = jarr(base, "results")) == NULL) {
			fprintf(stderr, "%s: not a limbo results file (no results array)\n", argv[3]);
			return 1;
		}
		base_idx = json_object_new_object();
		for (i = 0; i < json_object_array_length(br); i++) {
			json_object *r = json_object_array_get_idx(br, i);
			if (jstr(r, "id") != NULL)
				json_object_object_add(base_idx, jstr(r, "id"), json_object_get(r));
		}
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "cannot create a temporary directory %s: %s\n", dir, strerror(errno));
		return 1;
	}
	tmpdir = dir;
	memset(cat, 0, sizeof(cat));
	snprintf(cat[63].name, sizeof(cat[63].name), "(other)");

	out = json_object_new_object();
	results = json_object_new_array();
	json_object_object_add(out, "version", json_object_new_int(1));
	json_object_object_add(out, "harness", json_object_new_string("tlsguard"));
	json_object_object_add(out, "results", results);

	for (i = 0; i < json_object_array_length(cases); i++) {
		json_object *tc = json_object_array_get_idx(cases, i), *r, *b = NULL;
		const char *id = jstr(tc, "id"), *expected = jstr(tc, "expected_result");
		char ctxt[2048] = "";
		int got, o;
		struct tally *t;

		if (id == NULL || expected == NULL) {
			fprintf(stderr, "%s: testcase %zu has no id or expected_result\n", argv[1], i);
			errors++;
			continue;
		}
		got = run_case(tc, ctxt, sizeof(ctxt));
		if (got < 0) {
			fprintf(stderr, "%s: %s\n", id, ctxt);
			errors++;
			got = R_SKIPPED;
		}
		r = json_object_new_object();
		json_object_object_add(r, "id", json_object_new_string(id));
		json_object_object_add(r, "actual_result", json_object_new_string(outcome_name[got]));
		json_object_object_add(r, "context", json_object_new_string(ctxt));
		json_object_array_add(results, r);

		o = outcome_of(outcome_name[got], expected);
		t = tally_of(cat, &ncat, 63, id);
		if (o == 0) {
			pass++;
			t->pass++;
		} else if (o == 1) {
			fail++;
			t->fail++;
			if (got == R_SUCCESS)
				bad_accept++;
			if (strncmp(id, "online::", 8) == 0)
				online_fail++;
		} else {
			skip++;
			t->skip++;
		}
		if (base_idx != NULL && json_object_object_get_ex(base_idx, id, &b)) {
			int bo = outcome_of(jstr(b, "actual_result"), expected);
			if (bo == 0)
				t->bpass++;
			else if (bo == 1)
				t->bfail++;
			else
				t->bskip++;
			if (bo != o)
				printf("# %-70s expected %-7s gnutls %-7s tlsguard %-7s %s\n", id, expected,
				       jstr(b, "actual_result"), outcome_name[got], o == 0 ? "(fixed)" : o == 1 ? "(WORSE)" : "");
		} else if (base_idx != NULL) {
			t->bskip++;
			printf("# %-70s not in the baseline\n", id);
		}
		if (o == 1)
			printf("# FAIL %s: expected %s, got %s: %.300s\n", id, expected, outcome_name[got], ctxt);
	}
	if (json_object_to_file_ext(argv[2], out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) != 0) {
		fprintf(stderr, "%s: cannot write results: %s\n", argv[2], json_util_get_last_err());
		errors++;
	}
	if (base_idx != NULL) {
		unsigned tp = 0, tf = 0, ts = 0;
		printf("%-14s %6s | %-21s | %-21s\n", "category", "cases", "GnuTLS pass/fail/skip",
		       "tlsguard pass/fail/skip");
		for (i = 0; i < 64; i++) {
			struct tally *t = &cat[i];
			if (t->pass + t->fail + t->skip == 0)
				continue;
			printf("%-14s %6u | %5u %5u %5u       | %5u %5u %5u\n", t->name, t->pass + t->fail + t->skip, t->bpass,
			       t->bfail, t->bskip, t->pass, t->fail, t->skip);
			tp += t->bpass;
			tf += t->bfail;
			ts += t->bskip;
		}
		printf("%-14s %6u | %5u %5u %5u       | %5u %5u %5u\n", "total", pass + fail + skip, tp, tf, ts, pass, fail,
		       skip);
	}
	printf("limbo: pass %u fail %u skip %u must-fail-accepted %u online-fail %u (%.1f%% of %u evaluated)\n", pass,
	       fail, skip, bad_accept, online_fail, pass + fail ? 100.0 * pass / (pass + fail) : 0.0, pass + fail);
	json_object_put(out);
	json_object_put(root);
	json_object_put(base);
	json_object_put(base_idx);
	rmdir(dir);
	if (errors) {
		fprintf(stderr, "limbo-harness: %u testcases could not be handled\n", errors);
		return 1;
	}
	return 0;
}
