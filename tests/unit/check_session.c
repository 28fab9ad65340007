/* End-to-end: real GnuTLS handshakes against gnutls-serv on 127.0.0.1
 * through tlsguard_session_attach(). */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <tlsguard/gnutls.h>

#include "testutil.h"

struct client {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	int fd;
	int hs;
};

static int tcp(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Connect to 127.0.0.1:port, attach @ctx for @host, handshake. */
static void client_run(struct client *c, const tlsguard_ctx *ctx, const char *host, unsigned port,
                       const char *priority)
{
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&c->cred), 0);
	ck_assert_int_eq(gnutls_init(&c->s, GNUTLS_CLIENT), 0);
	if (priority)
		ck_assert_int_eq(gnutls_priority_set_direct(c->s, priority, NULL), 0);
	else
		ck_assert_int_eq(gnutls_set_default_priority(c->s), 0);
	ck_assert_int_eq(gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred), 0);
	c->fd = tcp(port);
	gnutls_transport_set_int(c->s, c->fd);
	ck_assert_int_eq(tlsguard_session_attach(ctx, c->s, host, port), 0);
	do
		c->hs = gnutls_handshake(c->s);
	while (c->hs < 0 && !gnutls_error_is_fatal(c->hs));
}

static void client_done(struct client *c)
{
	gnutls_deinit(c->s);
	gnutls_certificate_free_credentials(c->cred);
	close(c->fd);
}

static const char *prio[] = {NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.3"};

START_TEST(good_chain_handshakes)
{
	tlsguard_ctx *ctx = test_ctx();
	unsigned port;
	pid_t srv = server_start("good-chain.pem", "good.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;
	char buf[8];

	client_run(&c, ctx, "good.example.test", port, prio[_i]);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(r), 0);
	ck_assert_uint_eq(tlsguard_result_cert_count(r), 2);
	/* The peer address came from the socket. */
	ck_assert_int_eq(gnutls_record_send(c.s, "x", 1), 1);
	(void)buf;
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Expected failure: which event, and the handshake fails with a certificate error. */
struct bad_case {
	const char *chain, *key, *host;
	int code;
};

static const struct bad_case bad[] = {
	{"expired-chain.pem", "expired.key", "expired.example.test", TLSGUARD_EV_EXPIRED},
	{"wronghost-chain.pem", "wronghost.key", "good.example.test", TLSGUARD_EV_HOSTNAME_MISMATCH},
	{"selfsigned.pem", "selfsigned.key", "good.example.test", TLSGUARD_EV_UNTRUSTED_ISSUER},
	{"untrusted.pem", "untrusted.key", "good.example.test", TLSGUARD_EV_UNTRUSTED_ISSUER},
	{"weak-rsa-chain.pem", "weak-rsa.key", "weak.example.test", TLSGUARD_EV_WEAK_CRYPTO},
	{"clientauth-chain.pem", "clientauth.key", "client.example.test", TLSGUARD_EV_BAD_KEY_USAGE},
	{"good-chain.pem", "good.key", "other.example.test", TLSGUARD_EV_HOSTNAME_MISMATCH},
};

static int cb_calls;
static int count_cb(const tlsguard_event *ev, void *data)
{
	(void)ev;
	(void)data;
	cb_calls++;
	return TLSGUARD_DECISION_DEFAULT;
}

START_TEST(bad_chain_fails_handshake)
{
	const struct bad_case *bc = &bad[_i];
	tlsguard_ctx *ctx;
	unsigned port;
	pid_t srv = server_start(bc->chain, bc->key, &port, NULL);
	struct client c;
	const tlsguard_result *r;
	const tlsguard_event *ev;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, count_cb, NULL), 0);
	cb_calls = 0;
	client_run(&c, ctx, bc->host, port, NULL);
	ck_assert_msg(c.hs == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, "%s: handshake returned %s", bc->chain,
	              gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_REJECT);
	ck_assert_msg(tlsguard_result_has_event(r, bc->code), "%s: no event %d", bc->chain, bc->code);
	ck_assert_int_ge(cb_calls, 1);
	ev = tlsguard_result_event(r, 0);
	ck_assert_str_eq(tlsguard_event_host(ev), bc->host);
	ck_assert_uint_eq(tlsguard_event_port(ev), port);
	ck_assert_str_eq(tlsguard_event_address(ev), "127.0.0.1");
	/* Nothing can be sent on the refused session. */
	ck_assert_int_lt(gnutls_record_send(c.s, "secret", 6), 0);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The server staples OCSP; tlsguard reads it from the session. */
static int64_t ocsp_this_update(const char *name)
{
	size_t len;
	unsigned char *der = file_load(name, &len);
	gnutls_ocsp_resp_t resp;
	gnutls_datum_t d = {der, (unsigned)len};
	time_t tu = 0;

	ck_assert_int_eq(gnutls_ocsp_resp_init(&resp), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_import(resp, &d), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, NULL, NULL, &tu, NULL, NULL, NULL), 0);
	gnutls_ocsp_resp_deinit(resp);
	free(der);
	return (int64_t)tu;
}

START_TEST(stapled_revoked_fails)
{
	tlsguard_ctx *ctx;
	unsigned port;
	pid_t srv = server_start("revoked-chain.pem", "revoked.key", &port, "--ocsp-response",
	                         fixture("ocsp-revoked.der"), "--ignore-ocsp-response-errors", NULL);
	struct client c;
	const tlsguard_result *r;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, ocsp_this_update("ocsp-revoked.der") + 3600), 0);
	client_run(&c, ctx, "revoked.example.test", port, NULL);
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_ne(c.hs, 0);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_REJECT);
	ck_assert(tlsguard_result_has_event(r, TLSGUARD_EV_REVOKED));
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(stapled_good_accepted)
{
	tlsguard_ctx *ctx;
	unsigned port;
	pid_t srv = server_start("good-chain.pem", "good.key", &port, "--ocsp-response", fixture("ocsp-good.der"),
	                         "--ignore-ocsp-response-errors", NULL);
	struct client c;
	const tlsguard_result *r;
	size_t i;
	int ocsp_outcome = -1;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, ocsp_this_update("ocsp-good.der") + 3600), 0);
	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	for (i = 0; i < tlsguard_result_check_count(r); i++)
		if (!strcmp(tlsguard_result_check_name(r, i), "ocsp"))
			ocsp_outcome = tlsguard_result_check_outcome(r, i);
	/* The staple was delivered and checked, not skipped. */
	ck_assert_int_eq(ocsp_outcome, TLSGUARD_CHECK_PASS);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A frozen context whose trust store vanished: the handshake fails closed. */
START_TEST(internal_error_fails_closed)
{
	tlsguard_ctx *ctx;
	unsigned port;
	pid_t srv = server_start("good-chain.pem", "good.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;
	char tmpl[] = "/tmp/tlsguard-ca-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t len;
	unsigned char *pem = file_load("root-ca.pem", &len);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, pem, len), (ssize_t)len);
	close(fd);
	free(pem);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, tmpl), 0);
	unlink(tmpl);
	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_int_ne(c.hs, 0);
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_REJECT);
	ck_assert(tlsguard_result_has_event(r, TLSGUARD_EV_INTERNAL_ERROR));
	ck_assert_int_ne(tlsguard_result_error(r), 0);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(attach_bad_arguments)
{
	tlsguard_ctx *ctx = test_ctx();
	gnutls_session_t s;

	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
	ck_assert_int_eq(tlsguard_session_attach(NULL, s, "a.test", 443), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_session_attach(ctx, NULL, "a.test", 443), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, NULL, 443), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, "bad host", 443), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, "a.test", 70000), TLSGUARD_E_INVALID);
	ck_assert_ptr_null(tlsguard_session_result(s));
	/* Attaching twice is allowed and replaces the host. */
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, "a.test", 443), 0);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, "b.test", 443), 0);
	ck_assert_ptr_null(tlsguard_session_result(s));
	ck_assert_ptr_null(tlsguard_session_result(NULL));
	gnutls_deinit(s);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A failed re-attach leaves the earlier host in force. */
START_TEST(failed_reattach_keeps_host)
{
	tlsguard_ctx *ctx = test_ctx();
	unsigned port;
	pid_t srv = server_start("good-chain.pem", "good.key", &port, NULL);
	struct client c;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&c.cred), 0);
	ck_assert_int_eq(gnutls_init(&c.s, GNUTLS_CLIENT), 0);
	ck_assert_int_eq(gnutls_set_default_priority(c.s), 0);
	ck_assert_int_eq(gnutls_credentials_set(c.s, GNUTLS_CRD_CERTIFICATE, c.cred), 0);
	ck_assert_int_eq(tlsguard_session_attach(ctx, c.s, "good.example.test", port), 0);
	ck_assert_int_eq(tlsguard_session_attach(ctx, c.s, "badx host", port), TLSGUARD_E_INVALID);
	c.fd = tcp(port);
	gnutls_transport_set_int(c.s, c.fd);
	do
		c.hs = gnutls_handshake(c.s);
	while (c.hs < 0 && !gnutls_error_is_fatal(c.hs));
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	ck_assert_str_eq(tlsguard_result_host(tlsguard_session_result(c.s)), "good.example.test");
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The application's own session pointer is left alone. */
START_TEST(session_ptr_untouched)
{
	tlsguard_ctx *ctx = test_ctx();
	gnutls_session_t s;
	int mine;

	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
	gnutls_session_set_ptr(s, &mine);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, "a.test", 443), 0);
	ck_assert_ptr_eq(gnutls_session_get_ptr(s), &mine);
	gnutls_deinit(s);
	tlsguard_ctx_free(ctx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("handshake");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, good_chain_handshakes, 0, (int)(sizeof(prio) / sizeof(prio[0])));
	tcase_add_loop_test(tc, bad_chain_fails_handshake, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, stapled_revoked_fails);
	tcase_add_test(tc, stapled_good_accepted);
	tcase_add_test(tc, internal_error_fails_closed);
	tcase_add_test(tc, attach_bad_arguments);
	tcase_add_test(tc, session_ptr_untouched);
	tcase_add_test(tc, failed_reattach_keeps_host);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	gnutls_global_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	gnutls_global_deinit();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
