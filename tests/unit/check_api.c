/*
 * The API contract and bad input: NULL arguments, host names, malformed
 * chains, frozen contexts, trust-store failures, allocation failures and
 * out-of-range accessors. Everything must fail closed.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tg.h"

/* ------------------------------------------------------------------ helpers */

static int dummy_cb(const tlsguard_event *ev, void *userdata)
{
	(void)ev;
	(void)userdata;
	return TLSGUARD_DECISION_DEFAULT;
}

static void assert_only_event(const tlsguard_result *res, int code, int cert_index)
{
	const tlsguard_event *ev;

	ck_assert_ptr_nonnull(res);
	ck_assert_msg(tlsguard_result_event_count(res) == 1, "%zu events", tlsguard_result_event_count(res));
	ev = tlsguard_result_event(res, 0);
	ck_assert_msg(tlsguard_event_code(ev) == code, "code %d (%s), expected %s; detail %s", tlsguard_event_code(ev),
	              tlsguard_event_name(ev), tlsguard_code_name(code), tlsguard_event_detail(ev));
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_int_eq(tlsguard_event_cert_index(ev), cert_index);
	ck_assert_msg(strstr(tlsguard_event_message(ev), "Do not sign in") != NULL, "%s", tlsguard_event_message(ev));
}

/* Evaluate raw DER buffers for good.example.test. */
static tlsguard_result *verify_raw(const tlsguard_ctx *ctx, const unsigned char *const *certs, const size_t *lens,
                                   size_t n, int *rc)
{
	tlsguard_result *res = NULL;
	*rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, certs, lens, n, &res);
	return res;
}

/* A parse failure of certificate @idx: rc, verdict, error and the event. */
static void assert_parse_failure(const tlsguard_ctx *ctx, const unsigned char *const *certs, const size_t *lens,
                                 size_t n, int idx)
{
	int rc;
	tlsguard_result *res = verify_raw(ctx, certs, lens, n, &rc);

	ck_assert_msg(rc == TLSGUARD_E_CERT_PARSE, "rc %d (%s)", rc, tlsguard_strerror(rc));
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_result_error(res), TLSGUARD_E_CERT_PARSE);
	assert_only_event(res, TLSGUARD_EV_MALFORMED_CHAIN, idx);
	ck_assert_uint_eq(tlsguard_result_cert_count(res), n);
	tlsguard_result_free(res);
}

/* ------------------------------------------------------------------ NULL arguments */

START_TEST(test_null_ctx_functions)
{
	tlsguard_ctx *ctx = NULL;

	ck_assert_int_eq(tlsguard_ctx_new(NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_new(NULL, TLSGUARD_CTX_NO_SYSTEM_CA), TLSGUARD_E_INVALID);
	tlsguard_ctx_free(NULL);
	ck_assert_int_eq(tlsguard_ctx_add_ca(NULL, fixture("root-ca.pem")), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_system_ca(NULL, 1), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_time(NULL, TEST_TIME), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config(NULL, "/nonexistent"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(NULL, "mode = enforce\n", 15, NULL), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(NULL), "");
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(NULL, dummy_cb, NULL), TLSGUARD_E_INVALID);

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_str_ne(tlsguard_ctx_last_error(ctx), "");
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, ""), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, NULL, 5, NULL), TLSGUARD_E_INVALID);
	/* name may be NULL */
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "mode = enforce\n", 15, NULL), 0);
	/* cb NULL removes the callback */
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, dummy_cb, NULL), 0);
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, NULL, NULL), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, -1), TLSGUARD_E_RANGE);
	ck_assert_str_ne(tlsguard_ctx_last_error(ctx), "");
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, 0), 0);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_null_request_functions)
{
	static const unsigned char der[] = {0x30, 0x00};
	tlsguard_request *req = (tlsguard_request *)(uintptr_t)1;

	ck_assert_int_eq(tlsguard_request_new(NULL, "a.example", 9), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_new(&req, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	ck_assert_int_eq(tlsguard_request_new(&req, NULL, 5), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	tlsguard_request_free(NULL);
	ck_assert_int_eq(tlsguard_request_set_port(NULL, 443), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_address(NULL, "127.0.0.1"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_cert(NULL, der, sizeof(der)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_ocsp_response(NULL, der, sizeof(der)), TLSGUARD_E_INVALID);

	ck_assert_int_eq(tlsguard_request_new(&req, "a.example", 9), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_cert(req, NULL, 5), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_cert(req, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_add_cert(req, der, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_ocsp_response(req, NULL, 5), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_ocsp_response(req, der, 0), TLSGUARD_E_INVALID);
	tlsguard_request_free(req);
}
END_TEST

START_TEST(test_null_verify_functions)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_request *req = NULL;
	tlsguard_result *res = (tlsguard_result *)(uintptr_t)1;
	struct test_chain c;

	chain_load(&c, "good-chain.pem");
	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test", 17), 0);
	ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[0], c.len[0]), 0);

	ck_assert_int_eq(tlsguard_verify(NULL, req, &res), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(res);
	res = (tlsguard_result *)(uintptr_t)1;
	ck_assert_int_eq(tlsguard_verify(ctx, NULL, &res), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(tlsguard_verify(ctx, req, NULL), TLSGUARD_E_INVALID);

	res = (tlsguard_result *)(uintptr_t)1;
	ck_assert_int_eq(tlsguard_verify_der_chain(NULL, "good.example.test", 443, (const unsigned char *const *)c.der,
	                                           c.len, c.n, &res),
	                 TLSGUARD_E_INVALID);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(
	    tlsguard_verify_der_chain(ctx, NULL, 443, (const unsigned char *const *)c.der, c.len, c.n, &res),
	    TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_verify_der_chain(ctx, "good.example.test", 443, (const unsigned char *const *)c.der,
	                                           c.len, c.n, NULL),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_verify_der_chain(ctx, "good.example.test", 443, NULL, c.len, c.n, &res),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_verify_der_chain(ctx, "good.example.test", 443, (const unsigned char *const *)c.der,
	                                           NULL, c.n, &res),
	                 TLSGUARD_E_INVALID);
	ck_assert_ptr_null(res);
	/* A NULL certificate inside the list. */
	{
		const unsigned char *certs[2] = {c.der[0], NULL};
		size_t lens[2] = {c.len[0], 10};
		ck_assert_int_eq(tlsguard_verify_der_chain(ctx, "good.example.test", 443, certs, lens, 2, &res),
		                 TLSGUARD_E_INVALID);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
	}
	/* The failed calls above did not freeze the context. */
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);

	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

START_TEST(test_null_result_functions)
{
	size_t len = 77;

	ck_assert_int_eq(tlsguard_result_verdict(NULL), TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_result_error(NULL), TLSGUARD_E_INVALID);
	ck_assert_uint_eq(tlsguard_result_event_count(NULL), 0);
	ck_assert_ptr_null(tlsguard_result_event(NULL, 0));
	ck_assert_int_eq(tlsguard_result_has_event(NULL, TLSGUARD_EV_EXPIRED), 0);
	ck_assert_uint_eq(tlsguard_result_check_count(NULL), 0);
	ck_assert_ptr_null(tlsguard_result_check_name(NULL, 0));
	ck_assert_int_eq(tlsguard_result_check_outcome(NULL, 0), TLSGUARD_CHECK_ERROR);
	ck_assert_uint_eq(tlsguard_result_cert_count(NULL), 0);
	ck_assert_ptr_null(tlsguard_result_cert(NULL, 0, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(tlsguard_result_cert(NULL, 0, NULL));
	tlsguard_result_free(NULL);
}
END_TEST

START_TEST(test_null_event_functions)
{
	size_t len = 77;

	ck_assert_int_eq(tlsguard_event_code(NULL), 0);
	/* Undocumented, but must fail closed: a NULL event is not harmless. */
	ck_assert_int_eq(tlsguard_event_severity(NULL), TLSGUARD_SEV_FATAL);
	ck_assert_str_eq(tlsguard_event_name(NULL), "UNKNOWN");
	ck_assert_str_eq(tlsguard_event_message(NULL), "");
	ck_assert_str_eq(tlsguard_event_detail(NULL), "");
	ck_assert_str_eq(tlsguard_event_check(NULL), "");
	ck_assert_str_eq(tlsguard_event_host(NULL), "");
	ck_assert_uint_eq(tlsguard_event_port(NULL), 0);
	ck_assert_str_eq(tlsguard_event_address(NULL), "");
	ck_assert_int_eq(tlsguard_event_cert_index(NULL), -1);
	ck_assert_uint_eq(tlsguard_event_cert_count(NULL), 0);
	ck_assert_ptr_null(tlsguard_event_cert(NULL, 0, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(tlsguard_event_overridable(NULL), 0);
	ck_assert_int_eq(tlsguard_event_decision(NULL), TLSGUARD_DECISION_DEFAULT);
}
END_TEST

/* ------------------------------------------------------------------ codes, flags, version */

START_TEST(test_ctx_flags)
{
	tlsguard_ctx *ctx = (tlsguard_ctx *)(uintptr_t)1;
	unsigned bad[] = {2u, 4u, 0x80000000u, ~0u, TLSGUARD_CTX_NO_SYSTEM_CA | 2u};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(tlsguard_ctx_new(&ctx, bad[i]), TLSGUARD_E_INVALID);
		ck_assert_ptr_null(ctx);
	}
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, 0), 0);
	ck_assert_ptr_nonnull(ctx);
	tlsguard_ctx_free(ctx);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_strerror)
{
	static const int codes[] = {TLSGUARD_OK,         TLSGUARD_E_INVALID,        TLSGUARD_E_NOMEM,
	                            TLSGUARD_E_IO,       TLSGUARD_E_CONFIG,         TLSGUARD_E_CERT_PARSE,
	                            TLSGUARD_E_EMPTY_CHAIN, TLSGUARD_E_CHAIN_TOO_LONG, TLSGUARD_E_FROZEN,
	                            TLSGUARD_E_INTERNAL, TLSGUARD_E_TRUST_STORE,    TLSGUARD_E_RANGE,
	                            TLSGUARD_E_STORE,    TLSGUARD_E_VERIFY,         TLSGUARD_E_TIMEOUT};
	static const char *const names[] = {"TLSGUARD_OK",         "TLSGUARD_E_INVALID",        "TLSGUARD_E_NOMEM",
	                                    "TLSGUARD_E_IO",       "TLSGUARD_E_CONFIG",         "TLSGUARD_E_CERT_PARSE",
	                                    "TLSGUARD_E_EMPTY_CHAIN", "TLSGUARD_E_CHAIN_TOO_LONG", "TLSGUARD_E_FROZEN",
	                                    "TLSGUARD_E_INTERNAL", "TLSGUARD_E_TRUST_STORE",    "TLSGUARD_E_RANGE",
	                                    "TLSGUARD_E_STORE",    "TLSGUARD_E_VERIFY",         "TLSGUARD_E_TIMEOUT"};
	static const int unknown[] = {1, 2, -15, -16, 100, -1000, INT32_MIN, INT32_MAX};
	size_t i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = tlsguard_strerror(codes[i]);
		size_t n = strlen(names[i]);
		ck_assert_ptr_nonnull(s);
		/* Names itself: "TLSGUARD_E_NOMEM: ..." */
		ck_assert_msg(strncmp(s, names[i], n) == 0 && s[n] == ':', "code %d: %s", codes[i], s);
		ck_assert_ptr_null(strstr(s, "UNKNOWN"));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(tlsguard_strerror(codes[j]), s);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		const char *s = tlsguard_strerror(unknown[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_msg(strstr(s, "UNKNOWN") != NULL, "code %d: %s", unknown[i], s);
	}
}
END_TEST

START_TEST(test_version)
{
	ck_assert_ptr_nonnull(tlsguard_version());
	ck_assert_str_eq(tlsguard_version(), TLSGUARD_VERSION);
	{
		char buf[32];
		snprintf(buf, sizeof(buf), "%d.%d.%d", TLSGUARD_VERSION_MAJOR, TLSGUARD_VERSION_MINOR,
		         TLSGUARD_VERSION_PATCH);
		ck_assert_str_eq(tlsguard_version(), buf);
	}
}
END_TEST

/* ------------------------------------------------------------------ host names */

START_TEST(test_host_invalid)
{
	static const char *const bad[] = {
	    "", ".", "..", "a..b", ".a", "a.b..", "*.example.test", "good example.test", "good.example.test/",
	    "%s.example.test", "good.example.test\n", "[::1", "::1]", "1:2", "[]", "caf\xc3\xa9.example",
	    "[good.example.test", "a\tb",
	};
	tlsguard_request *req = (tlsguard_request *)(uintptr_t)1;
	size_t i;

	/* NUL inside the given bytes */
	ck_assert_int_eq(tlsguard_request_new(&req, "a\0b", 3), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test\0.evil.com", 26), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test\0", 18), TLSGUARD_E_INVALID);
	/* empty */
	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test", 0), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = tlsguard_request_new(&req, bad[i], strlen(bad[i]));
		ck_assert_msg(rc == TLSGUARD_E_INVALID, "host '%s' accepted (rc %d)", bad[i], rc);
		ck_assert_ptr_null(req);
	}
}
END_TEST

/* A name of @len bytes made of 63-byte labels (valid DNS syntax). */
static char *long_name(size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < len; i++)
		s[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	if (s[len - 1] == '.')
		s[len - 1] = 'z';
	s[len] = '\0';
	return s;
}

START_TEST(test_host_length)
{
	tlsguard_request *req = NULL;
	char *n253 = long_name(253), *n254 = long_name(254), *n300 = long_name(300);

	ck_assert_int_eq(tlsguard_request_new(&req, n254, 254), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	ck_assert_int_eq(tlsguard_request_new(&req, n300, 300), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(req);
	ck_assert_int_eq(tlsguard_request_new(&req, n253, 253), 0);
	ck_assert_ptr_nonnull(req);
	tlsguard_request_free(req);
	/* host_len bounds the copy: a longer buffer cut at 253 is fine */
	ck_assert_int_eq(tlsguard_request_new(&req, n300, 253), 0);
	tlsguard_request_free(req);
	ck_assert_int_eq(tlsguard_request_new(&req, "a", 1), 0);
	tlsguard_request_free(req);
	/* through verify_der_chain too */
	{
		tlsguard_ctx *ctx = test_ctx();
		tlsguard_result *res = NULL;
		struct test_chain c;
		int rc;
		chain_load(&c, "good-chain.pem");
		rc = tlsguard_verify_der_chain(ctx, n254, 443, (const unsigned char *const *)c.der, c.len, c.n, &res);
		ck_assert_int_eq(rc, TLSGUARD_E_INVALID);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
		res = NULL;
		rc = tlsguard_verify_der_chain(ctx, n253, 443, (const unsigned char *const *)c.der, c.len, c.n, &res);
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		ck_assert_int_eq(tlsguard_result_has_event(res, TLSGUARD_EV_HOSTNAME_MISMATCH), 1);
		ck_assert_str_eq(tlsguard_event_host(tlsguard_result_event(res, 0)), n253);
		tlsguard_result_free(res);
		chain_free(&c);
		tlsguard_ctx_free(ctx);
	}
	free(n253);
	free(n254);
	free(n300);
}
END_TEST

/* Host forms that normalise to a name of the good certificate. */
START_TEST(test_host_normalised)
{
	static const char *const ok[] = {"Good.Example.Test.", "GOOD.EXAMPLE.TEST", "good.example.test.", "[::1]",
	                                 "::1", "127.0.0.1", "0:0:0:0:0:0:0:1", "[0:0::1]"};
	tlsguard_ctx *ctx = test_ctx();
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc;
		tlsguard_result *res = verify_file(ctx, "good-chain.pem", ok[i], &rc);
		ck_assert_msg(rc == 0, "%s: rc %d", ok[i], rc);
		ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_ACCEPT, "%s rejected (%zu events: %s)", ok[i],
		              tlsguard_result_event_count(res),
		              tlsguard_event_detail(tlsguard_result_event(res, 0)));
		ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
		tlsguard_result_free(res);
	}
	/* The stored host is the normalised one. */
	{
		int rc;
		tlsguard_result *res = verify_file(ctx, "expired-chain.pem", "EXPIRED.Example.TEST.", &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(tlsguard_event_host(tlsguard_result_event(res, 0)), "expired.example.test");
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ port and address */

START_TEST(test_port_address)
{
	tlsguard_request *req = NULL;
	static const char *const bad_addr[] = {"not-an-ip", "", "good.example.test", "127.0.0.1 ", " 127.0.0.1",
	                                       "127.0.0.256", "1.2.3", "::g", "[::1]", "127.0.0.1:443",
	                                       "fe80::1%eth0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	size_t i;

	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test", 17), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, 70000), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_port(req, 65536), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_port(req, ~0u), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_request_set_port(req, 65535), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, 1), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, 0), 0);
	for (i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++)
		ck_assert_msg(tlsguard_request_set_address(req, bad_addr[i]) == TLSGUARD_E_INVALID, "address '%s' accepted",
		              bad_addr[i]);
	ck_assert_int_eq(tlsguard_request_set_address(req, "::1"), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, "127.0.0.1"), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, "2001:db8::1"), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, "::ffff:192.0.2.1"), 0);
	tlsguard_request_free(req);

	/* verify_der_chain checks the port too. */
	{
		tlsguard_ctx *ctx = test_ctx();
		tlsguard_result *res = NULL;
		struct test_chain c;
		chain_load(&c, "good-chain.pem");
		ck_assert_int_eq(tlsguard_verify_der_chain(ctx, "good.example.test", 70000,
		                                           (const unsigned char *const *)c.der, c.len, c.n, &res),
		                 TLSGUARD_E_INVALID);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
		chain_free(&c);
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

/* ------------------------------------------------------------------ bad chains */

START_TEST(test_empty_chain)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	int rc;

	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, NULL, NULL, 0, &res);
	ck_assert_int_eq(rc, TLSGUARD_E_EMPTY_CHAIN);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_result_error(res), TLSGUARD_E_EMPTY_CHAIN);
	assert_only_event(res, TLSGUARD_EV_MALFORMED_CHAIN, -1);
	ck_assert_uint_eq(tlsguard_result_cert_count(res), 0);
	tlsguard_result_free(res);

	/* Same through the request API. */
	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test", 17), 0);
	res = NULL;
	rc = tlsguard_verify(ctx, req, &res);
	ck_assert_int_eq(rc, TLSGUARD_E_EMPTY_CHAIN);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	assert_only_event(res, TLSGUARD_EV_MALFORMED_CHAIN, -1);
	tlsguard_result_free(res);
	tlsguard_request_free(req);

	/* A permissive policy does not change that. */
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "mode = report-only\n", 19, NULL), 0);
	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, NULL, NULL, 0, &res);
	ck_assert_int_eq(rc, TLSGUARD_E_EMPTY_CHAIN);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_truncated_der)
{
	tlsguard_ctx *ctx = test_ctx();
	size_t len, cuts[4], i;
	unsigned char *der = file_load("good.der", &len);

	cuts[0] = 1;
	cuts[1] = 10;
	cuts[2] = len / 2;
	cuts[3] = len - 1;
	for (i = 0; i < 4; i++) {
		const unsigned char *certs[1] = {der};
		size_t lens[1] = {cuts[i]};
		assert_parse_failure(ctx, certs, lens, 1, 0);
	}
	/* The whole certificate alone parses (and is untrusted without int-ca). */
	{
		const unsigned char *certs[1] = {der};
		size_t lens[1] = {len};
		int rc;
		tlsguard_result *res = verify_raw(ctx, certs, lens, 1, &rc);
		ck_assert_int_eq(rc, 0);
		assert_only_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER, 0);
		tlsguard_result_free(res);
	}
	free(der);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_trailing_garbage)
{
	tlsguard_ctx *ctx = test_ctx();
	size_t len;
	unsigned char *der = file_load("good.der", &len);
	unsigned char *longer = malloc(len + 16);
	const unsigned char *certs[1] = {longer};
	size_t lens[1] = {len + 16};

	ck_assert_ptr_nonnull(longer);
	memcpy(longer, der, len);
	memset(longer + len, 0x41, 16);
	assert_parse_failure(ctx, certs, lens, 1, 0);
	free(longer);
	free(der);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_garbage_and_pem)
{
	static const unsigned char garbage[] = "\x01\x02\x03 this is not a certificate at all \xff\xfe";
	static const unsigned char empty_seq[] = {0x30, 0x00};
	static const unsigned char huge_len[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00};
	tlsguard_ctx *ctx = test_ctx();
	size_t plen;
	unsigned char *pem = file_load("good.pem", &plen);
	const unsigned char *certs[1];
	size_t lens[1];

	certs[0] = garbage;
	lens[0] = sizeof(garbage) - 1;
	assert_parse_failure(ctx, certs, lens, 1, 0);
	certs[0] = empty_seq;
	lens[0] = sizeof(empty_seq);
	assert_parse_failure(ctx, certs, lens, 1, 0);
	certs[0] = huge_len;
	lens[0] = sizeof(huge_len);
	assert_parse_failure(ctx, certs, lens, 1, 0);
	/* PEM text is not DER */
	certs[0] = pem;
	lens[0] = plen;
	assert_parse_failure(ctx, certs, lens, 1, 0);
	free(pem);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_second_cert_garbage)
{
	static const unsigned char garbage[] = "garbage garbage garbage";
	tlsguard_ctx *ctx = test_ctx();
	struct test_chain c;
	const unsigned char *certs[3];
	size_t lens[3];

	chain_load(&c, "good-chain.pem");
	certs[0] = c.der[0];
	lens[0] = c.len[0];
	certs[1] = garbage;
	lens[1] = sizeof(garbage) - 1;
	assert_parse_failure(ctx, certs, lens, 2, 1);
	/* third of three */
	certs[1] = c.der[1];
	lens[1] = c.len[1];
	certs[2] = garbage;
	lens[2] = sizeof(garbage) - 1;
	assert_parse_failure(ctx, certs, lens, 3, 2);
	chain_free(&c);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_chain_too_long)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t len, i;
	unsigned char *der = file_load("good.der", &len);
	const unsigned char *certs[100];
	size_t lens[100];
	int rc;

	ck_assert_int_eq(tlsguard_request_new(&req, "good.example.test", 17), 0);
	for (i = 0; i < 100; i++) {
		rc = tlsguard_request_add_cert(req, der, len);
		if (i < 64)
			ck_assert_msg(rc == 0, "cert %zu: rc %d", i + 1, rc);
		else
			ck_assert_msg(rc == TLSGUARD_E_CHAIN_TOO_LONG, "cert %zu: rc %d", i + 1, rc);
	}
	/* The 64 accepted ones still evaluate. */
	rc = tlsguard_verify(ctx, req, &res);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_cert_count(res), 64);
	tlsguard_result_free(res);
	tlsguard_request_free(req);

	/* verify_der_chain with 100: an error, never an accept. */
	for (i = 0; i < 100; i++) {
		certs[i] = der;
		lens[i] = len;
	}
	res = NULL;
	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, certs, lens, 100, &res);
	ck_assert_int_eq(rc, TLSGUARD_E_CHAIN_TOO_LONG);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	free(der);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* good + 63 duplicates of it: a loop-free path search, no crash. */
START_TEST(test_64_duplicates)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = NULL;
	size_t len, i;
	unsigned char *der = file_load("good.der", &len);
	const unsigned char *certs[64];
	size_t lens[64];
	int rc;

	for (i = 0; i < 64; i++) {
		certs[i] = der;
		lens[i] = len;
	}
	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, certs, lens, 64, &res);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(res);
	ck_assert_uint_eq(tlsguard_result_cert_count(res), 64);
	/* int-ca is missing, so the path ends at the leaf: untrusted. */
	ck_assert_int_eq(tlsguard_result_has_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER), 1);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);

	/* good, int-ca, then 62 more copies of int-ca and good: a good path. */
	{
		struct test_chain c;
		chain_load(&c, "good-chain.pem");
		for (i = 0; i < 64; i++) {
			certs[i] = c.der[i % 2];
			lens[i] = c.len[i % 2];
		}
		rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, certs, lens, 64, &res);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
		tlsguard_result_free(res);
		chain_free(&c);
	}
	free(der);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ frozen context */

START_TEST(test_frozen)
{
	tlsguard_ctx *ctx = test_ctx();

	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);

#define FROZEN(call)                                                                                         \
	do {                                                                                                     \
		ck_assert_int_eq((call), TLSGUARD_E_FROZEN);                                                         \
		ck_assert_msg(tlsguard_ctx_last_error(ctx)[0] != '\0', "no message after " #call);                   \
	} while (0)
	FROZEN(tlsguard_ctx_add_ca(ctx, fixture("other-root-ca.pem")));
	FROZEN(tlsguard_ctx_set_time(ctx, 0));
	FROZEN(tlsguard_ctx_load_config_mem(ctx, "mode = report-only\n", 19, NULL));
	FROZEN(tlsguard_ctx_set_event_callback(ctx, dummy_cb, NULL));
	FROZEN(tlsguard_ctx_set_event_callback(ctx, NULL, NULL));
	FROZEN(tlsguard_ctx_set_system_ca(ctx, 1));
	FROZEN(tlsguard_ctx_load_config(ctx, fixture("README.md")));
#undef FROZEN

	/* Still evaluates, with the old policy. */
	assert_verdict(ctx, "expired-chain.pem", "expired.example.test", TLSGUARD_REJECT);
	assert_verdict(ctx, "untrusted.pem", "good.example.test", TLSGUARD_REJECT);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A verification that failed on its input still freezes the context. */
START_TEST(test_frozen_after_failed_verify)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res = NULL;
	int rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, NULL, NULL, 0, &res);

	ck_assert_int_eq(rc, TLSGUARD_E_EMPTY_CHAIN);
	tlsguard_result_free(res);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, 0), TLSGUARD_E_FROZEN);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ add_ca */

START_TEST(test_add_ca_errors)
{
	tlsguard_ctx *ctx = NULL;
	char *dir = tmpdir_new();
	const char *path;
	char missing[4096];

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);

	snprintf(missing, sizeof(missing), "%s/does-not-exist.pem", dir);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, missing), TLSGUARD_E_IO);
	ck_assert_msg(strstr(tlsguard_ctx_last_error(ctx), missing) != NULL, "last_error: %s",
	              tlsguard_ctx_last_error(ctx));

	path = tmpdir_write(dir, "garbage.pem", "not a certificate\n");
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, path), TLSGUARD_E_CERT_PARSE);
	ck_assert_msg(strstr(tlsguard_ctx_last_error(ctx), path) != NULL, "last_error: %s",
	              tlsguard_ctx_last_error(ctx));

	/* A directory with only that garbage file holds no CA. */
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, dir), TLSGUARD_E_CERT_PARSE);
	ck_assert_msg(strstr(tlsguard_ctx_last_error(ctx), dir) != NULL, "last_error: %s", tlsguard_ctx_last_error(ctx));
	tmpdir_unlink(path);

	/* An empty directory neither. */
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, dir), TLSGUARD_E_CERT_PARSE);

	/* A successful call clears the message. */
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.der")), 0);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");

	/* None of the failed paths was kept: only root-ca.der is trusted. */
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
	free(dir); /* removed above */
}
END_TEST

START_TEST(test_add_ca_directory)
{
	tlsguard_ctx *ctx = NULL;
	tlsguard_result *res;
	char *dir = tmpdir_new();
	int rc;

	tmpdir_copy_fixture(dir, "root-ca.pem", "root-ca.pem");
	tmpdir_write(dir, "README", "not a certificate\n"); /* skipped */

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_msg(tlsguard_ctx_add_ca(ctx, dir) == 0, "%s", tlsguard_ctx_last_error(ctx));
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(tlsguard_result_event_count(res), 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

/* ------------------------------------------------------------------ trust store failure */

/* Verify good-chain with @ctx whose CA file is gone: rejected, never an
 * accept, whatever the policy says. */
static void assert_trust_failure(tlsguard_ctx *ctx, int rc_a, int rc_b)
{
	int round;

	for (round = 0; round < 2; round++) {
		int rc;
		tlsguard_result *res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
		ck_assert_msg(rc == rc_a || rc == rc_b, "rc %d (%s)", rc, tlsguard_strerror(rc));
		ck_assert_int_eq(tlsguard_result_error(res), rc);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		assert_only_event(res, TLSGUARD_EV_INTERNAL_ERROR, -1);
		ck_assert_int_eq(tlsguard_event_overridable(tlsguard_result_event(res, 0)), 0);
		tlsguard_result_free(res);
	}
}

static int override_all_cb(const tlsguard_event *ev, void *userdata)
{
	(void)ev;
	(void)userdata;
	return TLSGUARD_DECISION_OVERRIDE;
}

START_TEST(test_trust_store_removed)
{
	char *dir = tmpdir_new();
	const char *path = tmpdir_copy_fixture(dir, "root-ca.pem", "ca.pem");
	tlsguard_ctx *ctx = NULL;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, path), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	tmpdir_unlink(path);
	assert_trust_failure(ctx, TLSGUARD_E_TRUST_STORE, TLSGUARD_E_IO);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_trust_store_removed_config)
{
	char *dir = tmpdir_new();
	const char *path = tmpdir_copy_fixture(dir, "root-ca.pem", "ca.pem");
	char conf[4200];
	tlsguard_ctx *ctx = NULL;

	/* the most permissive policy there is, with a callback overriding all */
	snprintf(conf, sizeof(conf),
	         "[default]\nca-file = %s\nmode = interactive\noverridable = untrusted-issuer, expired\n", path);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "t.conf") == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, override_all_cb, NULL), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	tmpdir_unlink(path);
	assert_trust_failure(ctx, TLSGUARD_E_TRUST_STORE, TLSGUARD_E_IO);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_trust_store_replaced)
{
	char *dir = tmpdir_new();
	const char *path = tmpdir_copy_fixture(dir, "root-ca.pem", "ca.pem");
	tlsguard_ctx *ctx = NULL;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, path), 0);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "mode = report-only\n", 19, NULL), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	tmpdir_write(dir, "ca.pem", "garbage\n");
	/* Report-only does not let a missing trust store through. */
	assert_trust_failure(ctx, TLSGUARD_E_TRUST_STORE, TLSGUARD_E_CERT_PARSE);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

/* ------------------------------------------------------------------ allocation failure */

struct alloc_scenario {
	const char *chain;
	const char *host;
	const char *config;   /* loaded before verifying, or NULL */
	int accept;           /* expected verdict when nothing failed */
	int event;            /* the one event expected when nothing failed, 0: none */
};

static const struct alloc_scenario alloc_scenarios[] = {
    {"good-chain.pem", "good.example.test", NULL, TLSGUARD_ACCEPT, 0},
    {"expired-chain.pem", "expired.example.test", NULL, TLSGUARD_REJECT, TLSGUARD_EV_EXPIRED},
    /* report-only: a lost event must not turn into a silent accept */
    {"expired-chain.pem", "expired.example.test", "[*.example.test]\nmode = report-only\n", TLSGUARD_ACCEPT,
     TLSGUARD_EV_EXPIRED},
};

START_TEST(test_alloc_fail_verify)
{
	const struct alloc_scenario *sc = &alloc_scenarios[_i];
	struct test_chain c;
	unsigned long n, made = 0;
	int completed = 0;

	chain_load(&c, sc->chain);
	for (n = 1; n < 10000; n++) {
		tlsguard_ctx *ctx = NULL;
		tlsguard_result *res = NULL;
		int rc_new, rc_ca = 0, rc_time = 0, rc_cfg = 0, rc_v = TLSGUARD_E_INTERNAL, verdict, all_ok;
		size_t nev = 0;
		int has_event = 0, res_error = 0;

		tg_alloc_fail_at(n);
		rc_new = tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA);
		if (rc_new == 0) {
			rc_ca = tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem"));
			rc_time = tlsguard_ctx_set_time(ctx, TEST_TIME);
			if (sc->config != NULL)
				rc_cfg = tlsguard_ctx_load_config_mem(ctx, sc->config, strlen(sc->config), NULL);
			/* verify even when the setup failed: it must still not accept */
			rc_v = tlsguard_verify_der_chain(ctx, sc->host, 443, (const unsigned char *const *)c.der, c.len, c.n,
			                                 &res);
		}
		made = tg_alloc_fail_at(0);

		verdict = tlsguard_result_verdict(res);
		nev = tlsguard_result_event_count(res);
		has_event = sc->event ? tlsguard_result_has_event(res, sc->event) : 0;
		res_error = res ? tlsguard_result_error(res) : 0;
		all_ok = rc_new == 0 && rc_ca == 0 && rc_time == 0 && rc_cfg == 0 && rc_v == 0;
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);

		/* every failure is a clean NOMEM */
		ck_assert_msg(rc_new == 0 || rc_new == TLSGUARD_E_NOMEM, "n=%lu: ctx_new rc %d", n, rc_new);
		ck_assert_msg(rc_ca == 0 || rc_ca == TLSGUARD_E_NOMEM, "n=%lu: add_ca rc %d", n, rc_ca);
		ck_assert_msg(rc_time == 0, "n=%lu: set_time rc %d", n, rc_time);
		ck_assert_msg(rc_cfg == 0 || rc_cfg == TLSGUARD_E_NOMEM, "n=%lu: config rc %d", n, rc_cfg);
		if (rc_new == 0)
			ck_assert_msg(rc_v == 0 || rc_v == TLSGUARD_E_NOMEM, "n=%lu: verify rc %d", n, rc_v);
		if (verdict == TLSGUARD_ACCEPT)
			ck_assert_msg(all_ok && sc->accept == TLSGUARD_ACCEPT,
			              "n=%lu: ACCEPT with rc new=%d ca=%d cfg=%d verify=%d", n, rc_new, rc_ca, rc_cfg, rc_v);
		if (rc_v != 0) {
			ck_assert_int_eq(verdict, TLSGUARD_REJECT);
			ck_assert_msg(res_error == 0 || res_error == rc_v, "n=%lu: result error %d, rc %d", n, res_error,
			              rc_v);
		}
		if (all_ok) {
			/* Nothing failed visibly: the evaluation is complete. */
			ck_assert_msg(verdict == sc->accept, "n=%lu: verdict %d with every call ok", n, verdict);
			ck_assert_uint_eq(nev, sc->event ? 1 : 0);
			if (sc->event)
				ck_assert_msg(has_event, "n=%lu: event %d lost without an error", n, sc->event);
		}
		if (made < n) {
			ck_assert_msg(all_ok, "n=%lu: no allocation failed, yet a call failed", n);
			completed = 1;
			break;
		}
	}
	ck_assert_msg(completed, "never completed (last run made %lu allocations)", made);
	ck_assert_uint_gt(n, 5); /* the hook does see the library's allocations */
	chain_free(&c);
}
END_TEST

START_TEST(test_alloc_fail_config)
{
	char conf[2048];
	struct test_chain c;
	unsigned long n, made = 0;
	int completed = 0;

	snprintf(conf, sizeof(conf),
	         "# a few sections\n"
	         "[default]\n"
	         "ca-file = %s\n"
	         "mode = enforce\n"
	         "min-rsa-bits = 2048\n"
	         "[*.example.test]\n"
	         "mode = report-only\n"
	         "overridable = expired, not-yet-valid\n"
	         "[good.example.test]\n"
	         "allow-sha1 = no\n"
	         "ocsp-max-age-days = 3\n"
	         "[*.example.org]\n"
	         "mode = interactive\n"
	         "[host.example.org]\n"
	         "min-rsa-bits = 3072\n",
	         fixture("root-ca.pem"));
	chain_load(&c, "expired-chain.pem");
	for (n = 1; n < 10000; n++) {
		tlsguard_ctx *ctx = NULL;
		tlsguard_result *res = NULL;
		int rc, rc_v, verdict, untrusted, expired;

		ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
		ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
		tg_alloc_fail_at(n);
		rc = tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "alloc.conf");
		made = tg_alloc_fail_at(0);

		ck_assert_msg(rc == 0 || rc == TLSGUARD_E_NOMEM, "n=%lu: rc %d (%s)", n, rc, tlsguard_ctx_last_error(ctx));
		/* Which config is in force? On error the context is unchanged:
		 * no CA, enforce. On success: trusted root, report-only. */
		rc_v = tlsguard_verify_der_chain(ctx, "expired.example.test", 443, (const unsigned char *const *)c.der,
		                                 c.len, c.n, &res);
		ck_assert_int_eq(rc_v, 0);
		verdict = tlsguard_result_verdict(res);
		untrusted = tlsguard_result_has_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER);
		expired = tlsguard_result_has_event(res, TLSGUARD_EV_EXPIRED);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
		ck_assert_int_eq(expired, 1);
		if (rc == 0) {
			ck_assert_msg(verdict == TLSGUARD_ACCEPT && !untrusted, "n=%lu: config ok but not in force", n);
		} else {
			ck_assert_msg(verdict == TLSGUARD_REJECT && untrusted, "n=%lu: failed load changed the context", n);
		}
		if (made < n) {
			ck_assert_int_eq(rc, 0);
			completed = 1;
			break;
		}
	}
	ck_assert_msg(completed, "never completed (last run made %lu allocations)", made);
	ck_assert_uint_gt(n, 5);
	chain_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ out of range */

START_TEST(test_out_of_range)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res;
	size_t len = 123, n;
	int rc;

	res = verify_file(ctx, "expired-chain.pem", "expired.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	n = tlsguard_result_cert_count(res);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(tlsguard_result_cert(res, n, &len));
	ck_assert_uint_eq(len, 0);
	len = 123;
	ck_assert_ptr_null(tlsguard_result_cert(res, SIZE_MAX, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(tlsguard_result_cert(res, 0, NULL));
	ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
	ck_assert_ptr_nonnull(tlsguard_result_event(res, 0));
	ck_assert_ptr_null(tlsguard_result_event(res, 1));
	ck_assert_ptr_null(tlsguard_result_event(res, SIZE_MAX));
	ck_assert_uint_eq(tlsguard_result_check_count(res), 11);
	ck_assert_int_eq(tlsguard_result_check_outcome(res, 11), TLSGUARD_CHECK_ERROR);
	ck_assert_int_eq(tlsguard_result_check_outcome(res, SIZE_MAX), TLSGUARD_CHECK_ERROR);
	ck_assert_ptr_null(tlsguard_result_check_name(res, 11));
	ck_assert_ptr_null(tlsguard_result_check_name(res, SIZE_MAX));
	ck_assert_int_eq(tlsguard_result_has_event(res, 0), 0);
	ck_assert_int_eq(tlsguard_result_has_event(res, 9999), 0);
	len = 5;
	ck_assert_ptr_null(tlsguard_event_cert(tlsguard_result_event(res, 0), 2, &len));
	ck_assert_uint_eq(len, 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Inputs are copied: changing the caller's buffers after the call, or
 * freeing the request, does not change the evaluation. */
START_TEST(test_inputs_copied)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	struct test_chain c;
	char host[] = "good.example.test";
	char addr[] = "127.0.0.1";
	size_t i, len;
	int rc;

	chain_load(&c, "good-chain.pem");
	ck_assert_int_eq(tlsguard_request_new(&req, host, strlen(host)), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, addr), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	memset(host, 'x', strlen(host));
	memset(addr, '9', strlen(addr));
	for (i = 0; i < c.n; i++)
		c.der[i][c.len[i] / 2] ^= 0xff;
	rc = tlsguard_verify(ctx, req, &res);
	tlsguard_request_free(req);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	for (i = 0; i < c.n; i++) {
		const unsigned char *d = tlsguard_result_cert(res, i, &len);
		ck_assert_uint_eq(len, c.len[i]);
		ck_assert_int_ne(memcmp(d, c.der[i], len), 0); /* the copy, not the changed buffer */
	}
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc;

	tc = tcase_create("null");
	tcase_add_test(tc, test_null_ctx_functions);
	tcase_add_test(tc, test_null_request_functions);
	tcase_add_test(tc, test_null_verify_functions);
	tcase_add_test(tc, test_null_result_functions);
	tcase_add_test(tc, test_null_event_functions);
	tcase_add_test(tc, test_ctx_flags);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_host_invalid);
	tcase_add_test(tc, test_host_length);
	tcase_add_test(tc, test_host_normalised);
	tcase_add_test(tc, test_port_address);
	tcase_add_test(tc, test_empty_chain);
	tcase_add_test(tc, test_truncated_der);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_garbage_and_pem);
	tcase_add_test(tc, test_second_cert_garbage);
	tcase_add_test(tc, test_chain_too_long);
	tcase_add_test(tc, test_64_duplicates);
	tcase_add_test(tc, test_inputs_copied);
	tcase_add_test(tc, test_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("context");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_frozen);
	tcase_add_test(tc, test_frozen_after_failed_verify);
	tcase_add_test(tc, test_add_ca_errors);
	tcase_add_test(tc, test_add_ca_directory);
	tcase_add_test(tc, test_trust_store_removed);
	tcase_add_test(tc, test_trust_store_removed_config);
	tcase_add_test(tc, test_trust_store_replaced);
	suite_add_tcase(s, tc);

	tc = tcase_create("alloc");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_alloc_fail_verify, 0,
	                    (int)(sizeof(alloc_scenarios) / sizeof(alloc_scenarios[0])));
	tcase_add_test(tc, test_alloc_fail_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(api_suite());
}
