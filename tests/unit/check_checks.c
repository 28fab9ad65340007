/*
 * Every check and every event code on the fixture chains: which event, which
 * severity, which certificate, which check, which verdict, which return code.
 * Also OCSP staples, the wildcard rules of tg_dns_match(), event accessors,
 * callbacks and per-host policy.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>

#include "testutil.h"
#include "tg.h"

#define NCHECKS 10
static const char *const check_names[NCHECKS] = {"chain", "validity", "hostname", "eku", "crypto",
                                                 "ocsp",  "pin",      "tofu",     "ct",  "webpki"};

enum { P = TLSGUARD_CHECK_PASS, F = TLSGUARD_CHECK_FAIL, S = TLSGUARD_CHECK_SKIP };

/* ------------------------------------------------------------------ helpers */

/* Assert that event @i of @res is exactly this. */
static void assert_event(const tlsguard_result *res, size_t i, int code, int severity, int cert_index,
                         const char *check, const char *host)
{
	const tlsguard_event *ev = tlsguard_result_event(res, i);

	ck_assert_msg(ev != NULL, "event %zu missing (have %zu)", i, tlsguard_result_event_count(res));
	ck_assert_msg(tlsguard_event_code(ev) == code, "event %zu: code %d (%s), expected %d (%s); detail: %s", i,
	              tlsguard_event_code(ev), tlsguard_event_name(ev), code, tlsguard_code_name(code),
	              tlsguard_event_detail(ev));
	ck_assert_int_eq(tlsguard_event_severity(ev), severity);
	ck_assert_msg(tlsguard_event_cert_index(ev) == cert_index, "event %zu (%s): cert index %d, expected %d", i,
	              tlsguard_event_name(ev), tlsguard_event_cert_index(ev), cert_index);
	ck_assert_str_eq(tlsguard_event_check(ev), check);
	ck_assert_str_eq(tlsguard_event_name(ev), tlsguard_code_name(code));
	ck_assert_str_eq(tlsguard_event_host(ev), host);
	ck_assert_msg(strstr(tlsguard_event_message(ev), host) != NULL, "message does not name %s: %s", host,
	              tlsguard_event_message(ev));
	ck_assert_ptr_null(strstr(tlsguard_event_message(ev), "%s"));
	ck_assert_str_ne(tlsguard_event_detail(ev), "");
	if (severity == TLSGUARD_SEV_FATAL)
		ck_assert_msg(strstr(tlsguard_event_message(ev), "Do not sign in") != NULL,
		              "fatal message lacks the warning: %s", tlsguard_event_message(ev));
}

static void assert_outcomes(const tlsguard_result *res, const int outcomes[NCHECKS])
{
	size_t i;

	/* The tables cover the checks these tests configure; the last check,
	 * consistency, is off here and always skips. */
	ck_assert_uint_eq(tlsguard_result_check_count(res), NCHECKS + 1);
	ck_assert_str_eq(tlsguard_result_check_name(res, NCHECKS), "consistency");
	ck_assert_int_eq(tlsguard_result_check_outcome(res, NCHECKS), TLSGUARD_CHECK_SKIP);
	for (i = 0; i < NCHECKS; i++) {
		ck_assert_str_eq(tlsguard_result_check_name(res, i), check_names[i]);
		ck_assert_msg(tlsguard_result_check_outcome(res, i) == outcomes[i], "check %s: outcome %d, expected %d",
		              check_names[i], tlsguard_result_check_outcome(res, i), outcomes[i]);
	}
	ck_assert_ptr_null(tlsguard_result_check_name(res, NCHECKS + 1));
}

static tlsguard_ctx *ctx_with_config(const char *config)
{
	tlsguard_ctx *ctx = test_ctx();
	if (config != NULL)
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, config, strlen(config), "test.conf") == 0, "config: %s",
		              tlsguard_ctx_last_error(ctx));
	return ctx;
}

/* thisUpdate of an OCSP fixture (they are stamped with the real clock). */
static int64_t ocsp_this_update(const char *name)
{
	size_t len;
	unsigned char *der = file_load(name, &len);
	gnutls_datum_t d = {der, (unsigned)len};
	gnutls_ocsp_resp_t resp;
	time_t this_update = 0;

	ck_assert_int_eq(gnutls_ocsp_resp_init(&resp), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_import(resp, &d), 0);
	ck_assert_int_ge(
	    gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, NULL, NULL, &this_update, NULL, NULL, NULL), 0);
	gnutls_ocsp_resp_deinit(resp);
	free(der);
	ck_assert_int_gt(this_update, 0);
	return (int64_t)this_update;
}

/* Evaluate @chain for @host with the request API, with an optional staple
 * (@ocsp_file, or raw bytes @raw/@rawlen). */
static tlsguard_result *verify_req(const tlsguard_ctx *ctx, const char *chain, const char *host,
                                   const char *ocsp_file, const unsigned char *raw, size_t rawlen, int *rc)
{
	struct test_chain c;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t i;

	chain_load(&c, chain);
	ck_assert_int_eq(tlsguard_request_new(&req, host, strlen(host)), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, 443), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	if (ocsp_file != NULL) {
		size_t len;
		unsigned char *der = file_load(ocsp_file, &len);
		ck_assert_int_eq(tlsguard_request_set_ocsp_response(req, der, len), 0);
		free(der);
	} else if (raw != NULL) {
		ck_assert_int_eq(tlsguard_request_set_ocsp_response(req, raw, rawlen), 0);
	}
	*rc = tlsguard_verify(ctx, req, &res);
	tlsguard_request_free(req);
	chain_free(&c);
	ck_assert_msg(res != NULL, "no result (rc %d)", *rc);
	return res;
}

/* ------------------------------------------------------------------ chain table */

struct exp_event {
	int code;
	int severity;
	int cert_index;
	const char *check;
};

struct chain_case {
	const char *file;
	const char *host;
	const char *config; /* NULL: default policy */
	int verdict;
	size_t nevents;
	struct exp_event ev[3];
	int outcomes[NCHECKS];
	const char *detail; /* substring of event 0's detail, or NULL */
};

#define FATAL TLSGUARD_SEV_FATAL
#define EV(c, i, chk) {TLSGUARD_EV_##c, FATAL, i, chk}
#define ACCEPT_ALL {P, P, P, P, P, S, S, S, S}

static const struct chain_case chain_cases[] = {
    /* success paths, DNS and IP SANs, with and without the root */
    {"good-chain.pem", "good.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-chain.pem", "www.good.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-chain.pem", "127.0.0.1", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-chain.pem", "::1", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-fullchain.pem", "good.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-fullchain.pem", "www.good.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-fullchain.pem", "127.0.0.1", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"good-fullchain.pem", "::1", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    /* an IP the certificate does not name, and a name it does not list */
    {"good-chain.pem", "127.0.0.2", NULL, TLSGUARD_REJECT, 1, {EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {P, P, F, P, P, S, S, S, S}, "127.0.0.2"},
    {"good-chain.pem", "example.test", NULL, TLSGUARD_REJECT, 1, {EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {P, P, F, P, P, S, S, S, S}, "DNS:good.example.test"},
    /* no staple is not a failure: revocation is then unknown, not "revoked" */
    {"revoked-chain.pem", "revoked.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},

    /* chain */
    {"untrusted.pem", "good.example.test", NULL, TLSGUARD_REJECT, 1, {EV(UNTRUSTED_ISSUER, 0, "chain")},
     {F, P, P, P, P, S, S, S, S}, "Untrusted Other Root CA"},
    {"selfsigned.pem", "good.example.test", NULL, TLSGUARD_REJECT, 1, {EV(UNTRUSTED_ISSUER, 0, "chain")},
     {F, P, P, P, P, S, S, S, S}, "self-signed"},
    /* the web-PKI profile names the leaf acting as a CA as well */
    {"notca-chain.pem", "notca.example.test", NULL, TLSGUARD_REJECT, 3,
     {EV(INVALID_CHAIN, 0, "chain"), EV(BAD_BASIC_CONSTRAINTS, 1, "webpki"), EV(BAD_KEY_USAGE, 1, "webpki")},
     {F, P, P, P, P, S, S, S, S, F}, NULL},

    /* validity */
    {"expired-chain.pem", "expired.example.test", NULL, TLSGUARD_REJECT, 1, {EV(EXPIRED, 0, "validity")},
     {P, F, P, P, P, S, S, S, S}, "2021-01-01"},
    {"notyet-chain.pem", "notyet.example.test", NULL, TLSGUARD_REJECT, 1, {EV(NOT_YET_VALID, 0, "validity")},
     {P, F, P, P, P, S, S, S, S}, "2040-01-01"},

    /* hostname: SAN only, the CN is never used */
    {"wronghost-chain.pem", "good.example.test", NULL, TLSGUARD_REJECT, 1,
     {EV(HOSTNAME_MISMATCH, 0, "hostname")}, {P, P, F, P, P, S, S, S, S}, "other.example.test"},
    {"cn-only-chain.pem", "good.example.test", NULL, TLSGUARD_REJECT, 2,
     {EV(HOSTNAME_MISMATCH, 0, "hostname"), EV(BAD_NAMES, 0, "webpki")},
     {P, P, F, P, P, S, S, S, S, F}, "no subjectAltName"},

    /* crypto */
    {"weak-rsa-chain.pem", "weak.example.test", NULL, TLSGUARD_REJECT, 1, {EV(WEAK_CRYPTO, 0, "crypto")},
     {P, P, P, P, F, S, S, S, S}, "1024"},
    {"weak-rsa-chain.pem", "weak.example.test", "min-rsa-bits = 1024\n", TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL,
     NULL},
    {"sha1-chain.pem", "sha1.example.test", NULL, TLSGUARD_REJECT, 1, {EV(WEAK_CRYPTO, 0, "crypto")},
     {P, P, P, P, F, S, S, S, S}, "SHA-1"},
    {"sha1-chain.pem", "sha1.example.test", "allow-sha1 = yes\n", TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    /* allow-sha1 does not allow MD5 */
    {"md5-chain.pem", "md5.example.test", "allow-sha1 = yes\n", TLSGUARD_REJECT, 1, {EV(WEAK_CRYPTO, 0, "crypto")},
     {P, P, P, P, F, S, S, S, S}, "MD5"},
    {"md5-chain.pem", "md5.example.test", NULL, TLSGUARD_REJECT, 1, {EV(WEAK_CRYPTO, 0, "crypto")},
     {P, P, P, P, F, S, S, S, S}, "MD5"},

    /* eku */
    {"clientauth-chain.pem", "client.example.test", NULL, TLSGUARD_REJECT, 1, {EV(BAD_KEY_USAGE, 0, "eku")},
     {P, P, P, F, P, S, S, S, S}, "1.3.6.1.5.5.7.3.2"},
    {"eku-int-chain.pem", "ekuint.example.test", NULL, TLSGUARD_REJECT, 1, {EV(BAD_KEY_USAGE, 1, "eku")},
     {P, P, P, F, P, S, S, S, S}, "certificate 1"},

    /* everything at once: every check runs after one failed */
    {"bad-all.pem", "good.example.test", NULL, TLSGUARD_REJECT, 3,
     {EV(UNTRUSTED_ISSUER, 0, "chain"), EV(EXPIRED, 0, "validity"), EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {F, F, F, P, P, S, S, S, S}, "self-signed"},

    /* wildcards end to end */
    {"wildcard-chain.pem", "a.wild.example.test", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"wildcard-chain.pem", "A.Wild.Example.TEST", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"wildcard-chain.pem", "a.wild.example.test.", NULL, TLSGUARD_ACCEPT, 0, {{0}}, ACCEPT_ALL, NULL},
    {"wildcard-chain.pem", "wild.example.test", NULL, TLSGUARD_REJECT, 1, {EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {P, P, F, P, P, S, S, S, S}, "*.wild.example.test"},
    {"wildcard-chain.pem", "a.b.wild.example.test", NULL, TLSGUARD_REJECT, 1,
     {EV(HOSTNAME_MISMATCH, 0, "hostname")}, {P, P, F, P, P, S, S, S, S}, "*.wild.example.test"},
    {"wildcard-chain.pem", "127.0.0.1", NULL, TLSGUARD_REJECT, 1, {EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {P, P, F, P, P, S, S, S, S}, NULL},
    {"wildcard-chain.pem", "::1", NULL, TLSGUARD_REJECT, 1, {EV(HOSTNAME_MISMATCH, 0, "hostname")},
     {P, P, F, P, P, S, S, S, S}, NULL},
};

#define NCASES (sizeof(chain_cases) / sizeof(chain_cases[0]))

/* Host as the library reports it: lower case, no trailing dot. */
static void normalized(const char *in, char *out, size_t outlen)
{
	size_t i, n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	ck_assert_uint_lt(n, outlen);
	for (i = 0; i < n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	out[n] = '\0';
}

START_TEST(test_chain_table)
{
	const struct chain_case *t = &chain_cases[_i];
	tlsguard_ctx *ctx = ctx_with_config(t->config);
	tlsguard_result *res;
	char host[TG_MAX_HOST + 1];
	size_t i;
	int rc;

	normalized(t->host, host, sizeof(host));
	res = verify_file(ctx, t->file, t->host, &rc);
	ck_assert_msg(rc == 0, "%s for %s: rc %d (%s)", t->file, t->host, rc, tlsguard_strerror(rc));
	ck_assert_int_eq(tlsguard_result_error(res), 0);
	ck_assert_msg(tlsguard_result_event_count(res) == t->nevents, "%s for %s: %zu events, expected %zu%s%s",
	              t->file, t->host, tlsguard_result_event_count(res), t->nevents,
	              tlsguard_result_event_count(res) ? "; first: " : "",
	              tlsguard_result_event_count(res) ? tlsguard_event_detail(tlsguard_result_event(res, 0)) : "");
	for (i = 0; i < t->nevents; i++) {
		const tlsguard_event *ev;
		assert_event(res, i, t->ev[i].code, t->ev[i].severity, t->ev[i].cert_index, t->ev[i].check, host);
		ev = tlsguard_result_event(res, i);
		ck_assert_int_eq(tlsguard_event_overridable(ev), 0);
		ck_assert_int_eq(tlsguard_event_decision(ev), TLSGUARD_DECISION_DEFAULT);
		ck_assert_int_eq(tlsguard_result_has_event(res, t->ev[i].code), 1);
	}
	if (t->detail != NULL)
		ck_assert_msg(strstr(tlsguard_event_detail(tlsguard_result_event(res, 0)), t->detail) != NULL,
		              "detail lacks '%s': %s", t->detail, tlsguard_event_detail(tlsguard_result_event(res, 0)));
	ck_assert_ptr_null(tlsguard_result_event(res, t->nevents));
	assert_outcomes(res, t->outcomes);
	ck_assert_msg(tlsguard_result_verdict(res) == t->verdict, "%s for %s: verdict %d", t->file, t->host,
	              tlsguard_result_verdict(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The ECDSA hierarchy: P-256 keys and ecdsa-with-SHA256 are strong. */
START_TEST(test_ecdsa_chain)
{
	static const int all_pass[NCHECKS] = ACCEPT_ALL;
	tlsguard_ctx *ctx = NULL;
	tlsguard_result *res;
	int rc;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("ec-root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	res = verify_file(ctx, "ec-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	assert_outcomes(res, all_pass);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);

	/* The RSA chain is not trusted by this context. */
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	assert_event(res, 0, TLSGUARD_EV_UNTRUSTED_ISSUER, FATAL, 1, "chain", "good.example.test");
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A trust anchor's own self-signature is never relied on, so a SHA-1
 * self-signed root (many still-trusted roots are) must not make the chain
 * weak, also when the server sends a copy of that root along. The PKI is
 * generated here: root RSA-2048 self-signed with SHA-1, intermediate and
 * leaf ECDSA P-256 signed with SHA-256. */
struct mini_pki {
	gnutls_x509_privkey_t key[3];
	gnutls_x509_crt_t crt[3]; /* root, int, leaf */
	gnutls_datum_t der[3];
	char root_path[64];
};

static void mini_cert(struct mini_pki *p, int i, const char *dn, int ca, int issuer, gnutls_digest_algorithm_t dig)
{
	gnutls_x509_crt_t c;
	unsigned char serial[1] = {(unsigned char)(0x10 + i)};
	const char *err = NULL;

	ck_assert_int_eq(gnutls_x509_crt_init(&p->crt[i]), 0);
	c = p->crt[i];
	ck_assert_int_eq(gnutls_x509_crt_set_version(c, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn(c, dn, &err), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(c, p->key[i]), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(c, (time_t)1577836800), 0);  /* 2020-01-01 */
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(c, (time_t)2366841600), 0);  /* 2045-01-01 */
	ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(c, ca, -1), 0);
	if (ca) {
		ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
	} else {
		ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, "leaf.example.test",
		                                                      (unsigned)strlen("leaf.example.test"),
		                                                      GNUTLS_FSAN_SET),
		                 0);
	}
	{
		unsigned char id[64];
		size_t idlen = sizeof(id);
		ck_assert_int_eq(gnutls_x509_crt_get_key_id(c, 0, id, &idlen), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_subject_key_id(c, id, idlen), 0);
	}
	if (issuer != i) {
		unsigned char id[64];
		size_t idlen = sizeof(id);
		ck_assert_int_eq(gnutls_x509_crt_get_subject_key_id(p->crt[issuer], id, &idlen, NULL), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_authority_key_id(c, id, idlen), 0);
	}
	ck_assert_int_eq(gnutls_x509_crt_sign2(c, p->crt[issuer], p->key[issuer], dig, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &p->der[i]), 0);
}

static void mini_pki_make(struct mini_pki *p)
{
	FILE *f;
	gnutls_datum_t pem = {NULL, 0};
	int fd;

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(gnutls_x509_privkey_init(&p->key[0]), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(p->key[0], GNUTLS_PK_RSA, 2048, 0), 0);
	ck_assert_int_eq(gnutls_x509_privkey_init(&p->key[1]), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(p->key[1], GNUTLS_PK_ECDSA,
	                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	                 0);
	ck_assert_int_eq(gnutls_x509_privkey_init(&p->key[2]), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(p->key[2], GNUTLS_PK_ECDSA,
	                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	                 0);
	mini_cert(p, 0, "CN=tlsguard SHA-1 Test Root", 1, 0, GNUTLS_DIG_SHA1);
	mini_cert(p, 1, "CN=tlsguard SHA-256 Test Intermediate", 1, 0, GNUTLS_DIG_SHA256);
	mini_cert(p, 2, "CN=leaf.example.test", 0, 1, GNUTLS_DIG_SHA256);
	ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(p->crt[0]), GNUTLS_SIGN_RSA_SHA1);

	snprintf(p->root_path, sizeof(p->root_path), "/tmp/tlsguard-root-XXXXXX");
	fd = mkstemp(p->root_path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gnutls_x509_crt_export2(p->crt[0], GNUTLS_X509_FMT_PEM, &pem), 0);
	ck_assert_uint_eq(fwrite(pem.data, 1, pem.size, f), pem.size);
	ck_assert_int_eq(fclose(f), 0);
	gnutls_free(pem.data);
}

static void mini_pki_free(struct mini_pki *p)
{
	int i;
	unlink(p->root_path);
	for (i = 0; i < 3; i++) {
		gnutls_free(p->der[i].data);
		gnutls_x509_crt_deinit(p->crt[i]);
		gnutls_x509_privkey_deinit(p->key[i]);
	}
}

START_TEST(test_sha1_anchor_selfsig)
{
	static const int all_pass[NCHECKS] = ACCEPT_ALL;
	struct mini_pki p;
	tlsguard_ctx *ctx = NULL;
	int n;

	mini_pki_make(&p);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_msg(tlsguard_ctx_add_ca(ctx, p.root_path) == 0, "%s", tlsguard_ctx_last_error(ctx));
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	/* leaf + int, then leaf + int + the trusted root itself */
	for (n = 2; n <= 3; n++) {
		const unsigned char *certs[3] = {p.der[2].data, p.der[1].data, p.der[0].data};
		size_t lens[3] = {p.der[2].size, p.der[1].size, p.der[0].size};
		tlsguard_result *res = NULL;
		int rc = tlsguard_verify_der_chain(ctx, "leaf.example.test", 443, certs, lens, (size_t)n, &res);

		/* The first evaluation loaded the trust anchors: the file can go
		 * now, before any assertion can abort the test. */
		unlink(p.root_path);
		ck_assert_int_eq(rc, 0);
		ck_assert_msg(tlsguard_result_event_count(res) == 0, "%d certs: %zu events, first %s: %s", n,
		              tlsguard_result_event_count(res), tlsguard_event_name(tlsguard_result_event(res, 0)),
		              tlsguard_event_detail(tlsguard_result_event(res, 0)));
		assert_outcomes(res, all_pass);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);

	/* The same root, untrusted: the chain is rejected as untrusted, and
	 * the SHA-1 self-signature is not what is reported. */
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	{
		const unsigned char *certs[3] = {p.der[2].data, p.der[1].data, p.der[0].data};
		size_t lens[3] = {p.der[2].size, p.der[1].size, p.der[0].size};
		tlsguard_result *res = NULL;
		int rc = tlsguard_verify_der_chain(ctx, "leaf.example.test", 443, certs, lens, 3, &res);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
		assert_event(res, 0, TLSGUARD_EV_UNTRUSTED_ISSUER, FATAL, 2, "chain", "leaf.example.test");
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
	mini_pki_free(&p);
}
END_TEST

/* ------------------------------------------------------------------ wildcards */

struct dns_case {
	const char *pattern;
	size_t plen; /* 0: strlen */
	const char *host;
	bool match;
};

static const struct dns_case dns_cases[] = {
    {"good.example.test", 0, "good.example.test", true},
    {"GOOD.Example.TEST", 0, "good.example.test", true},
    {"good.example.test", 0, "GOOD.EXAMPLE.TEST", true},
    {"good.example.test.", 0, "good.example.test", true},
    {"good.example.test..", 0, "good.example.test", false},
    {"good.example.test", 0, "www.good.example.test", false},
    {"www.good.example.test", 0, "good.example.test", false},
    {"good.example.tes", 0, "good.example.test", false},
    {"*.wild.example.test", 0, "a.wild.example.test", true},
    {"*.WILD.example.test", 0, "A.wild.Example.test", true},
    {"*.wild.example.test.", 0, "a.wild.example.test", true},
    {"*.wild.example.test", 0, "wild.example.test", false},
    {"*.wild.example.test", 0, ".wild.example.test", false},
    {"*.wild.example.test", 0, "a.b.wild.example.test", false},
    {"*.wild.example.test", 0, "awild.example.test", false},
    {"*.example.com", 0, "a.example.com", true},
    {"*.com", 0, "a.com", false},
    {"*.com.", 0, "a.com", false},
    {"*.", 0, "a", false},
    {"*", 0, "a", false},
    {"*.*.example.com", 0, "a.b.example.com", false},
    {"**.example.com", 0, "a.example.com", false},
    {"f*.example.com", 0, "foo.example.com", false},
    {"f*.example.com", 0, "f.example.com", false},
    {"*a.example.com", 0, "ba.example.com", false},
    {"*a.example.com", 0, "a.example.com", false},
    {"a.*.example.com", 0, "a.b.example.com", false},
    {"a.example.*", 0, "a.example.com", false},
    {"*.0.0.1", 0, "127.0.0.1", false},
    {"*.1", 0, "0.1", false},
    {"127.0.0.1", 0, "127.0.0.1", true}, /* DNS-name compare; the check never uses DNS SANs for IPs */
    {"", 0, "a.example.com", false},
    {".", 0, "a.example.com", false},
    /* embedded NUL: a CA-signed name for an attacker's domain must never
     * match the prefix before the NUL */
    {"good.example.test\0.evil.com", 26, "good.example.test", false},
    {"good.example.test\0", 18, "good.example.test", false},
    {"*.example.test\0.evil.com", 23, "a.example.test", false},
    {"\0", 1, "a.example.com", false},
};

#define NDNS (sizeof(dns_cases) / sizeof(dns_cases[0]))

START_TEST(test_dns_match)
{
	const struct dns_case *t = &dns_cases[_i];
	size_t plen = t->plen ? t->plen : strlen(t->pattern);

	ck_assert_msg(tg_dns_match(t->pattern, plen, t->host) == t->match, "tg_dns_match(\"%.*s\", %zu, \"%s\") != %d",
	              (int)plen, t->pattern, plen, t->host, t->match);
}
END_TEST

/* ------------------------------------------------------------------ OCSP */

static const int ocsp_pass[NCHECKS] = {P, P, P, P, P, P, S, S, S};
static const int ocsp_fail[NCHECKS] = {P, P, P, P, P, F, S, S, S};

static tlsguard_ctx *ctx_at(int64_t t)
{
	tlsguard_ctx *ctx = test_ctx();
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, t), 0);
	return ctx;
}

/* Evaluate @chain for @host on @ctx with the staple fixture @ocsp_file, the
 * clock set @offset seconds after that staple's thisUpdate. The evaluation
 * must complete (rc 0). */
static tlsguard_result *verify_stapled(tlsguard_ctx *ctx, const char *chain, const char *host, const char *ocsp_file,
                                       int64_t offset)
{
	tlsguard_result *res;
	int rc;

	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, ocsp_this_update(ocsp_file) + offset), 0);
	res = verify_req(ctx, chain, host, ocsp_file, NULL, 0, &rc);
	ck_assert_int_eq(rc, 0);
	return res;
}

/* A good staple: no event, every check passes (ocsp too), accepted. */
static void assert_ocsp_pass(const tlsguard_result *res)
{
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	assert_outcomes(res, ocsp_pass);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
}

static void assert_ocsp_warning(tlsguard_result *res, const char *host, const char *detail)
{
	const tlsguard_event *ev;

	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	assert_event(res, 0, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0, "ocsp", host);
	ev = tlsguard_result_event(res, 0);
	ck_assert_msg(strstr(tlsguard_event_detail(ev), detail) != NULL, "detail lacks '%s': %s", detail,
	              tlsguard_event_detail(ev));
	assert_outcomes(res, ocsp_fail);
	/* A bad staple alone proves no attack: the verdict is unaffected. */
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
}

START_TEST(test_ocsp_good)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-good.der", 3600);

	assert_ocsp_pass(res);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_good_fullchain)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-fullchain.pem", "good.example.test", "ocsp-good.der", 3600);

	assert_ocsp_pass(res);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_revoked)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res =
	    verify_stapled(ctx, "revoked-chain.pem", "revoked.example.test", "ocsp-revoked.der", 3600);

	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	assert_event(res, 0, TLSGUARD_EV_REVOKED, FATAL, 0, "ocsp", "revoked.example.test");
	ck_assert_msg(strstr(tlsguard_event_detail(tlsguard_result_event(res, 0)), "2025-01-01") != NULL, "detail: %s",
	              tlsguard_event_detail(tlsguard_result_event(res, 0)));
	assert_outcomes(res, ocsp_fail);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_badsig)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-badsig.der", 3600);

	assert_ocsp_warning(res, "good.example.test", "signature does not verify");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_other_cert)
{
	/* A genuine, correctly signed response, but about the revoked cert. */
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-revoked.der", 3600);

	ck_assert_int_eq(tlsguard_result_has_event(res, TLSGUARD_EV_REVOKED), 0);
	assert_ocsp_warning(res, "good.example.test", "another certificate");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_stale)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-short.der", 30 * 86400);

	assert_ocsp_warning(res, "good.example.test", "stale");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	/* Two days after thisUpdate the one-day response is also stale... */
	ctx = test_ctx();
	res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-short.der", 2 * 86400);
	assert_ocsp_warning(res, "good.example.test", "stale");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	/* ...but fresh one hour after it. */
	ctx = test_ctx();
	res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-short.der", 3600);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	assert_outcomes(res, ocsp_pass);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_future)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-good.der", -86400);

	assert_ocsp_warning(res, "good.example.test", "future");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_garbage)
{
	static const unsigned char garbage[] = "this is not an OCSP response \x30\x82\xff\xff\x00\x01";
	tlsguard_ctx *ctx = ctx_at(ocsp_this_update("ocsp-good.der") + 3600);
	int rc;
	tlsguard_result *res =
	    verify_req(ctx, "good-chain.pem", "good.example.test", NULL, garbage, sizeof(garbage) - 1, &rc);

	ck_assert_int_eq(rc, 0);
	assert_ocsp_warning(res, "good.example.test", "could not be decoded");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ocsp_truncated)
{
	size_t len;
	unsigned char *der = file_load("ocsp-good.der", &len);
	tlsguard_ctx *ctx = ctx_at(ocsp_this_update("ocsp-good.der") + 3600);
	int rc;
	tlsguard_result *res = verify_req(ctx, "good-chain.pem", "good.example.test", NULL, der, len - 1, &rc);

	ck_assert_int_eq(rc, 0);
	assert_ocsp_warning(res, "good.example.test", "could not be decoded");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	free(der);
}
END_TEST

/* A staple on a chain whose leaf issuer is unknown cannot be checked. */
START_TEST(test_ocsp_no_issuer)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = verify_stapled(ctx, "good.der", "good.example.test", "ocsp-good.der", 3600);

	ck_assert_uint_eq(tlsguard_result_event_count(res), 2);
	assert_event(res, 0, TLSGUARD_EV_UNTRUSTED_ISSUER, FATAL, 0, "chain", "good.example.test");
	assert_event(res, 1, TLSGUARD_EV_OCSP_INVALID, TLSGUARD_SEV_WARNING, 0, "ocsp", "good.example.test");
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ codes */

static const int all_codes[] = {
    TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_EV_UNTRUSTED_ISSUER,
    TLSGUARD_EV_EXPIRED,        TLSGUARD_EV_NOT_YET_VALID,   TLSGUARD_EV_HOSTNAME_MISMATCH,
    TLSGUARD_EV_REVOKED,        TLSGUARD_EV_WEAK_CRYPTO,     TLSGUARD_EV_BAD_KEY_USAGE,
    TLSGUARD_EV_INVALID_CHAIN,  TLSGUARD_EV_OCSP_INVALID,    TLSGUARD_EV_PIN_MISMATCH,
    TLSGUARD_EV_CT_MISSING,     TLSGUARD_EV_CT_INVALID,      TLSGUARD_EV_CT_POLICY_NOT_MET,
    TLSGUARD_EV_KEY_CHANGED,    TLSGUARD_EV_SPLIT_VIEW,
};
#define NCODES (sizeof(all_codes) / sizeof(all_codes[0]))

START_TEST(test_code_names)
{
	size_t i, j;

	for (i = 0; i < NCODES; i++) {
		int c = all_codes[i];
		const char *key = tlsguard_code_key(c);
		ck_assert_str_ne(tlsguard_code_name(c), "UNKNOWN");
		ck_assert_msg(strncmp(tlsguard_code_name(c), "ERR_", 4) == 0, "code %d: name %s", c,
		              tlsguard_code_name(c));
		ck_assert_msg(key != NULL && key[0] != '\0', "code %d has no config key", c);
		ck_assert_int_eq(tg_code_from_key(key, strlen(key)), c);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(tlsguard_code_key(all_codes[j]), key);
	}
	ck_assert_str_eq(tlsguard_code_name(0), "UNKNOWN");
	ck_assert_str_eq(tlsguard_code_name(12), "UNKNOWN");
	ck_assert_str_eq(tlsguard_code_name(-1), "UNKNOWN");
	ck_assert_str_eq(tlsguard_code_name(64), "UNKNOWN");
	ck_assert_ptr_null(tlsguard_code_key(0));
	ck_assert_ptr_null(tlsguard_code_key(31));
	ck_assert_str_eq(tlsguard_severity_name(TLSGUARD_SEV_INFO), "info");
	ck_assert_str_eq(tlsguard_severity_name(TLSGUARD_SEV_WARNING), "warning");
	ck_assert_str_eq(tlsguard_severity_name(TLSGUARD_SEV_FATAL), "fatal");
	ck_assert_ptr_nonnull(tlsguard_severity_name(7));
}
END_TEST

/* Each key works in "overridable", except the two never-overridable codes. */
START_TEST(test_code_keys_in_config)
{
	char conf[256];
	size_t i;

	for (i = 0; i < NCODES; i++) {
		int c = all_codes[i];
		tlsguard_ctx *ctx = NULL;
		int rc, expect;

		ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
		snprintf(conf, sizeof(conf), "mode = interactive\noverridable = %s\n", tlsguard_code_key(c));
		rc = tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "k.conf");
		expect = (c == TLSGUARD_EV_INTERNAL_ERROR || c == TLSGUARD_EV_MALFORMED_CHAIN) ? TLSGUARD_E_CONFIG : 0;
		ck_assert_msg(rc == expect, "overridable = %s: rc %d (%s)", tlsguard_code_key(c), rc,
		              tlsguard_ctx_last_error(ctx));
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

/* Every code's message names the host; all but the (warning-only) OCSP
 * message tell the person not to sign in. Codes no check raises yet are
 * added with the internal tg_event_add(). */
START_TEST(test_code_messages)
{
	static const char host[] = "msg-host.example.test";
	tlsguard_result *res = tg_calloc(1, sizeof(*res));
	struct tg_eval e;
	size_t i;

	ck_assert_ptr_nonnull(res);
	memcpy(res->host, host, sizeof(host));
	memset(&e, 0, sizeof(e));
	e.res = res;
	e.current_check = "test";
	for (i = 0; i < NCODES; i++)
		tg_event_add(&e, all_codes[i], TLSGUARD_SEV_FATAL, -1, "detail for %d", all_codes[i]);
	ck_assert_int_eq(e.oom, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), NCODES);
	for (i = 0; i < NCODES; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		const char *msg = tlsguard_event_message(ev);
		char want[32];

		ck_assert_int_eq(tlsguard_event_code(ev), all_codes[i]);
		ck_assert_str_eq(tlsguard_event_name(ev), tlsguard_code_name(all_codes[i]));
		ck_assert_str_eq(tlsguard_event_check(ev), "test");
		ck_assert_msg(strstr(msg, host) != NULL, "code %d: message lacks the host: %s", all_codes[i], msg);
		ck_assert_ptr_null(strchr(msg, '%'));
		snprintf(want, sizeof(want), "detail for %d", all_codes[i]);
		ck_assert_str_eq(tlsguard_event_detail(ev), want);
		if (all_codes[i] != TLSGUARD_EV_OCSP_INVALID)
			ck_assert_msg(strstr(msg, "Do not sign in") != NULL, "code %d: %s", all_codes[i], msg);
	}
	tlsguard_result_free(res);
}
END_TEST

/* ------------------------------------------------------------------ accessors */

START_TEST(test_event_accessors)
{
	struct test_chain c;
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	const tlsguard_event *ev;
	size_t i, len;
	int rc;

	chain_load(&c, "expired-chain.pem");
	ck_assert_uint_eq(c.n, 2);
	ck_assert_int_eq(tlsguard_request_new(&req, "Expired.Example.Test.", 21), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, 443), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, "127.0.0.1"), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	rc = tlsguard_verify(ctx, req, &res);
	/* The request was copied: freeing it now must not affect the result. */
	tlsguard_request_free(req);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(res);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ev = tlsguard_result_event(res, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_EXPIRED);
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_CERT_DATE_INVALID");
	ck_assert_str_eq(tlsguard_event_check(ev), "validity");
	ck_assert_str_eq(tlsguard_event_host(ev), "expired.example.test");
	ck_assert_uint_eq(tlsguard_event_port(ev), 443);
	ck_assert_str_eq(tlsguard_event_address(ev), "127.0.0.1");
	ck_assert_int_eq(tlsguard_event_cert_index(ev), 0);
	ck_assert_uint_eq(tlsguard_event_cert_count(ev), 2);
	ck_assert_uint_eq(tlsguard_result_cert_count(res), 2);
	for (i = 0; i < c.n; i++) {
		const unsigned char *d = tlsguard_event_cert(ev, i, &len);
		ck_assert_ptr_nonnull(d);
		ck_assert_uint_eq(len, c.len[i]);
		ck_assert_int_eq(memcmp(d, c.der[i], len), 0);
		d = tlsguard_result_cert(res, i, &len);
		ck_assert_uint_eq(len, c.len[i]);
		ck_assert_int_eq(memcmp(d, c.der[i], len), 0);
	}
	len = 99;
	ck_assert_ptr_null(tlsguard_event_cert(ev, 2, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(tlsguard_event_detail(ev), "2021-01-01 00:00:00 UTC") != NULL, "detail: %s",
	              tlsguard_event_detail(ev));
	ck_assert_msg(strstr(tlsguard_event_detail(ev), "2026-06-01 00:00:00 UTC") != NULL, "detail: %s",
	              tlsguard_event_detail(ev));
	/* Results outlive their context. */
	tlsguard_ctx_free(ctx);
	ck_assert_str_eq(tlsguard_event_host(ev), "expired.example.test");
	tlsguard_result_free(res);
	chain_free(&c);
}
END_TEST

START_TEST(test_event_defaults)
{
	/* No port, no address: 0 and "". */
	struct test_chain c;
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = NULL;
	const tlsguard_event *ev;
	int rc;

	chain_load(&c, "wronghost-chain.pem");
	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 0, (const unsigned char *const *)c.der, c.len, c.n,
	                               &res);
	ck_assert_int_eq(rc, 0);
	ev = tlsguard_result_event(res, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_HOSTNAME_MISMATCH);
	ck_assert_uint_eq(tlsguard_event_port(ev), 0);
	ck_assert_str_eq(tlsguard_event_address(ev), "");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ callbacks and policy */

#define MAXREC 16
struct cb_rec {
	int answer; /* what to return for every event */
	size_t n;
	int codes[MAXREC];
	int severities[MAXREC];
	int cert_index[MAXREC];
	int overridable[MAXREC];
	char checks[MAXREC][16];
	char hosts[MAXREC][64];
	size_t cert_count[MAXREC];
	int msg_has_host[MAXREC];
};

static int record_cb(const tlsguard_event *ev, void *userdata)
{
	struct cb_rec *r = userdata;
	if (r->n < MAXREC) {
		size_t i = r->n;
		r->codes[i] = tlsguard_event_code(ev);
		r->severities[i] = tlsguard_event_severity(ev);
		r->cert_index[i] = tlsguard_event_cert_index(ev);
		r->overridable[i] = tlsguard_event_overridable(ev);
		snprintf(r->checks[i], sizeof(r->checks[i]), "%s", tlsguard_event_check(ev));
		snprintf(r->hosts[i], sizeof(r->hosts[i]), "%s", tlsguard_event_host(ev));
		r->cert_count[i] = tlsguard_event_cert_count(ev);
		r->msg_has_host[i] = strstr(tlsguard_event_message(ev), tlsguard_event_host(ev)) != NULL;
	}
	r->n++;
	return r->answer;
}

static tlsguard_ctx *cb_ctx(const char *config, struct cb_rec *rec)
{
	tlsguard_ctx *ctx = ctx_with_config(config);
	if (rec != NULL)
		ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, record_cb, rec), 0);
	return ctx;
}

/* Run @file for @host, return the verdict; the single event's decision in
 * *decision (if non-NULL). */
static int run_policy(const char *config, struct cb_rec *rec, const char *file, const char *host, int code,
                      int *decision, int *overridable)
{
	tlsguard_ctx *ctx = cb_ctx(config, rec);
	tlsguard_result *res;
	int rc, verdict;

	res = verify_file(ctx, file, host, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ck_assert_int_eq(tlsguard_event_code(tlsguard_result_event(res, 0)), code);
	if (decision != NULL)
		*decision = tlsguard_event_decision(tlsguard_result_event(res, 0));
	if (overridable != NULL)
		*overridable = tlsguard_event_overridable(tlsguard_result_event(res, 0));
	if (rec != NULL) {
		ck_assert_uint_eq(rec->n, 1);
		ck_assert_int_eq(rec->codes[0], code);
	}
	verdict = tlsguard_result_verdict(res);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	return verdict;
}

START_TEST(test_override_enforce_ignored)
{
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_OVERRIDE};
	int d, o;

	ck_assert_int_eq(run_policy(NULL, &rec, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, &d, &o),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(d, TLSGUARD_DECISION_OVERRIDE);
	ck_assert_int_eq(o, 0);
	ck_assert_int_eq(rec.overridable[0], 0);
	/* Listing the code as overridable is not enough outside interactive mode. */
	memset(&rec, 0, sizeof(rec));
	rec.answer = TLSGUARD_DECISION_OVERRIDE;
	ck_assert_int_eq(run_policy("overridable = expired\n", &rec, "expired-chain.pem", "expired.example.test",
	                            TLSGUARD_EV_EXPIRED, &d, &o),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(o, 0);
}
END_TEST

START_TEST(test_override_interactive)
{
	static const char conf[] = "mode = interactive\noverridable = expired\n";
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_OVERRIDE};
	int d, o;

	ck_assert_int_eq(run_policy(conf, &rec, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, &d, &o),
	                 TLSGUARD_ACCEPT);
	ck_assert_int_eq(d, TLSGUARD_DECISION_OVERRIDE);
	ck_assert_int_eq(o, 1);
	ck_assert_int_eq(rec.overridable[0], 1); /* visible to the callback */

	/* Hostname mismatch is not listed: the override is not honoured. */
	memset(&rec, 0, sizeof(rec));
	rec.answer = TLSGUARD_DECISION_OVERRIDE;
	ck_assert_int_eq(run_policy(conf, &rec, "wronghost-chain.pem", "good.example.test",
	                            TLSGUARD_EV_HOSTNAME_MISMATCH, &d, &o),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(o, 0);
	ck_assert_int_eq(rec.overridable[0], 0);

	/* Interactive, overridable, but the callback follows the policy. */
	memset(&rec, 0, sizeof(rec));
	rec.answer = TLSGUARD_DECISION_DEFAULT;
	ck_assert_int_eq(run_policy(conf, &rec, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, &d, &o),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(d, TLSGUARD_DECISION_DEFAULT);

	/* Interactive without any callback. */
	ck_assert_int_eq(run_policy(conf, NULL, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, &d, &o),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(o, 1);
}
END_TEST

/* An override of one event does not cover the others. */
START_TEST(test_override_partial)
{
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_OVERRIDE};
	int rc;

	ctx = cb_ctx("mode = interactive\noverridable = expired, untrusted-issuer\n", &rec);
	res = verify_file(ctx, "bad-all.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_int_eq(rec.overridable[0], 1);
	ck_assert_int_eq(rec.overridable[1], 1);
	ck_assert_int_eq(rec.overridable[2], 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_report_only)
{
	tlsguard_ctx *ctx = ctx_with_config("mode = report-only\n");
	tlsguard_result *res;
	int rc;

	res = verify_file(ctx, "expired-chain.pem", "expired.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	assert_event(res, 0, TLSGUARD_EV_EXPIRED, FATAL, 0, "validity", "expired.example.test");
	ck_assert_int_eq(tlsguard_result_check_outcome(res, 1), TLSGUARD_CHECK_FAIL);
	tlsguard_result_free(res);

	/* Report-only never lets an undecodable chain through. */
	{
		static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
		const unsigned char *certs[1] = {junk};
		size_t lens[1] = {sizeof(junk)};
		rc = tlsguard_verify_der_chain(ctx, "expired.example.test", 443, certs, lens, 1, &res);
		ck_assert_int_eq(rc, TLSGUARD_E_CERT_PARSE);
		ck_assert_ptr_nonnull(res);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		assert_event(res, 0, TLSGUARD_EV_MALFORMED_CHAIN, FATAL, 0, "evaluation", "expired.example.test");
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_callback_reject_warning)
{
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_REJECT};
	tlsguard_ctx *ctx = cb_ctx(NULL, &rec);
	tlsguard_result *res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-badsig.der", 3600);

	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.codes[0], TLSGUARD_EV_OCSP_INVALID);
	ck_assert_int_eq(rec.severities[0], TLSGUARD_SEV_WARNING);
	ck_assert_int_eq(tlsguard_event_decision(tlsguard_result_event(res, 0)), TLSGUARD_DECISION_REJECT);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_result_error(res), 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_callback_unknown_answer)
{
	struct cb_rec rec = {.answer = 42};
	int d;

	/* Report-only would accept; an unknown answer is a rejection. */
	ck_assert_int_eq(run_policy("mode = report-only\n", &rec, "expired-chain.pem", "expired.example.test",
	                            TLSGUARD_EV_EXPIRED, &d, NULL),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(d, TLSGUARD_DECISION_REJECT);

	memset(&rec, 0, sizeof(rec));
	rec.answer = -1;
	ck_assert_int_eq(run_policy("mode = interactive\noverridable = expired\n", &rec, "expired-chain.pem",
	                            "expired.example.test", TLSGUARD_EV_EXPIRED, &d, NULL),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(d, TLSGUARD_DECISION_REJECT);

	/* Warning + unknown answer: also rejected. */
	{
		tlsguard_ctx *ctx;
		tlsguard_result *res;
		memset(&rec, 0, sizeof(rec));
		rec.answer = 42;
		ctx = cb_ctx(NULL, &rec);
		res = verify_stapled(ctx, "good-chain.pem", "good.example.test", "ocsp-badsig.der", 3600);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

START_TEST(test_callback_sees_all_events)
{
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_DEFAULT};
	tlsguard_ctx *ctx = cb_ctx(NULL, &rec);
	tlsguard_result *res;
	size_t i;
	int rc;

	res = verify_file(ctx, "bad-all.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_int_eq(rec.codes[0], TLSGUARD_EV_UNTRUSTED_ISSUER);
	ck_assert_int_eq(rec.codes[1], TLSGUARD_EV_EXPIRED);
	ck_assert_int_eq(rec.codes[2], TLSGUARD_EV_HOSTNAME_MISMATCH);
	ck_assert_str_eq(rec.checks[0], "chain");
	ck_assert_str_eq(rec.checks[1], "validity");
	ck_assert_str_eq(rec.checks[2], "hostname");
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(rec.severities[i], TLSGUARD_SEV_FATAL);
		ck_assert_int_eq(rec.cert_index[i], 0);
		ck_assert_str_eq(rec.hosts[i], "good.example.test");
		ck_assert_uint_eq(rec.cert_count[i], 1);
		ck_assert_int_eq(rec.msg_has_host[i], 1);
		ck_assert_int_eq(tlsguard_event_code(tlsguard_result_event(res, i)), rec.codes[i]);
		ck_assert_int_eq(tlsguard_event_decision(tlsguard_result_event(res, i)), TLSGUARD_DECISION_DEFAULT);
	}
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);

	/* No events, no calls. */
	rec.n = 0;
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rec.n, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_callback_removed)
{
	struct cb_rec rec = {.answer = TLSGUARD_DECISION_OVERRIDE};
	tlsguard_ctx *ctx = cb_ctx("mode = interactive\noverridable = expired\n", &rec);
	tlsguard_result *res;
	int rc;

	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, NULL, NULL), 0);
	res = verify_file(ctx, "expired-chain.pem", "expired.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rec.n, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_host_sections)
{
	static const char wild[] = "[*.example.test]\nmode = report-only\n";
	static const char both[] = "[*.example.test]\nmode = report-only\n[expired.example.test]\nmode = enforce\n";
	static const char exact_first[] =
	    "[expired.example.test]\nmode = enforce\n[*.example.test]\nmode = report-only\n";
	static const char other[] = "[*.example.org]\nmode = report-only\n[example.test]\nmode = report-only\n";
	static const char deeper[] = "[*.example.test]\nmode = enforce\n[*.wild.example.test]\nmode = report-only\n";

	ck_assert_int_eq(run_policy(wild, NULL, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, NULL,
	                            NULL),
	                 TLSGUARD_ACCEPT);
	ck_assert_int_eq(run_policy(both, NULL, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED, NULL,
	                            NULL),
	                 TLSGUARD_REJECT);
	ck_assert_int_eq(run_policy(exact_first, NULL, "expired-chain.pem", "expired.example.test",
	                            TLSGUARD_EV_EXPIRED, NULL, NULL),
	                 TLSGUARD_REJECT);
	/* Sections for other names do not apply. */
	ck_assert_int_eq(run_policy(other, NULL, "expired-chain.pem", "expired.example.test", TLSGUARD_EV_EXPIRED,
	                            NULL, NULL),
	                 TLSGUARD_REJECT);
	/* The wildcard section applies to the host as normalised. */
	ck_assert_int_eq(run_policy(wild, NULL, "expired-chain.pem", "EXPIRED.Example.Test.", TLSGUARD_EV_EXPIRED,
	                            NULL, NULL),
	                 TLSGUARD_ACCEPT);
	/* A longer wildcard suffix beats a shorter one. */
	ck_assert_int_eq(run_policy(deeper, NULL, "wildcard-chain.pem", "a.b.wild.example.test",
	                            TLSGUARD_EV_HOSTNAME_MISMATCH, NULL, NULL),
	                 TLSGUARD_ACCEPT);
}
END_TEST

/* Per-host keys other than mode (no events at all when allowed). */
START_TEST(test_host_sections_keys)
{
	tlsguard_ctx *ctx = ctx_with_config("[sha1.example.test]\nallow-sha1 = yes\n[weak.example.test]\nmin-rsa-bits = 1024\n");
	tlsguard_result *res;
	int rc;

	res = verify_file(ctx, "sha1-chain.pem", "sha1.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	res = verify_file(ctx, "weak-rsa-chain.pem", "weak.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	/* ...and only for those hosts: the weak key under another name. */
	res = verify_file(ctx, "weak-rsa-chain.pem", "weak.example.test.evil", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_has_event(res, TLSGUARD_EV_WEAK_CRYPTO), 1);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *checks_suite(void)
{
	Suite *s = suite_create("checks");
	TCase *tc;

	tc = tcase_create("chains");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_chain_table, 0, (int)NCASES);
	tcase_add_test(tc, test_ecdsa_chain);
	tcase_add_test(tc, test_sha1_anchor_selfsig);
	suite_add_tcase(s, tc);

	tc = tcase_create("wildcards");
	tcase_add_loop_test(tc, test_dns_match, 0, (int)NDNS);
	suite_add_tcase(s, tc);

	tc = tcase_create("ocsp");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ocsp_good);
	tcase_add_test(tc, test_ocsp_good_fullchain);
	tcase_add_test(tc, test_ocsp_revoked);
	tcase_add_test(tc, test_ocsp_badsig);
	tcase_add_test(tc, test_ocsp_other_cert);
	tcase_add_test(tc, test_ocsp_stale);
	tcase_add_test(tc, test_ocsp_future);
	tcase_add_test(tc, test_ocsp_garbage);
	tcase_add_test(tc, test_ocsp_truncated);
	tcase_add_test(tc, test_ocsp_no_issuer);
	suite_add_tcase(s, tc);

	tc = tcase_create("codes");
	tcase_add_test(tc, test_code_names);
	tcase_add_test(tc, test_code_keys_in_config);
	tcase_add_test(tc, test_code_messages);
	tcase_add_test(tc, test_event_accessors);
	tcase_add_test(tc, test_event_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_override_enforce_ignored);
	tcase_add_test(tc, test_override_interactive);
	tcase_add_test(tc, test_override_partial);
	tcase_add_test(tc, test_report_only);
	tcase_add_test(tc, test_callback_reject_warning);
	tcase_add_test(tc, test_callback_unknown_answer);
	tcase_add_test(tc, test_callback_sees_all_events);
	tcase_add_test(tc, test_callback_removed);
	tcase_add_test(tc, test_host_sections);
	tcase_add_test(tc, test_host_sections_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(checks_suite());
}
