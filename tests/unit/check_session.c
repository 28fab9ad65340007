/* End-to-end: real GnuTLS handshakes against gnutls-serv on 127.0.0.1
 * through tlsguard_session_attach(). */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
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

/* Connect to 127.0.0.1:@connect_port, attach @ctx for @host:@port (the port
 * tlsguard is told: trust on first use keys on it), handshake. */
static void client_run_to(struct client *c, const tlsguard_ctx *ctx, const char *host, unsigned port,
                          unsigned connect_port, const char *priority)
{
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&c->cred), 0);
	ck_assert_int_eq(gnutls_init(&c->s, GNUTLS_CLIENT), 0);
	if (priority)
		ck_assert_int_eq(gnutls_priority_set_direct(c->s, priority, NULL), 0);
	else
		ck_assert_int_eq(gnutls_set_default_priority(c->s), 0);
	ck_assert_int_eq(gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred), 0);
	c->fd = tcp(connect_port);
	gnutls_transport_set_int(c->s, c->fd);
	ck_assert_int_eq(tlsguard_session_attach(ctx, c->s, host, port), 0);
	do
		c->hs = gnutls_handshake(c->s);
	while (c->hs < 0 && !gnutls_error_is_fatal(c->hs));
}

/* Connect to 127.0.0.1:port, attach @ctx for @host, handshake. */
static void client_run(struct client *c, const tlsguard_ctx *ctx, const char *host, unsigned port,
                       const char *priority)
{
	client_run_to(c, ctx, host, port, port, priority);
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

/* ---- Pinning through real handshakes ----
 *
 * The man in the middle: the client trusts root-ca AND rogue-ca (a
 * compromised or government-controlled CA in the system store). The
 * interceptor serves forged-chain.pem, a certificate for good.example.test
 * that rogue-ca issued. Chain validation accepts it; only a pin catches it. */

/* The pin of fixture @der_name as "sha256/BASE64". */
static void pin_of(const char *der_name, char out[100])
{
	size_t len;
	unsigned char *der = file_load(der_name, &len), pin[32];

	ck_assert_int_eq(tlsguard_pin_from_cert(der, len, pin), 0);
	ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_SHA256, out, 100), 0);
	free(der);
}

/* A context trusting both CAs, at TEST_TIME; pinned when @pinned: the
 * genuine leaf key plus the int-ca key as backup. */
static tlsguard_ctx *mitm_ctx(int pinned)
{
	tlsguard_ctx *ctx;
	char leaf[100], backup[100], pins[210];

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	if (pinned) {
		pin_of("good.der", leaf);
		pin_of("int-ca.der", backup);
		snprintf(pins, sizeof(pins), "%s, %s", leaf, backup);
		ck_assert_msg(tlsguard_ctx_add_pin_set(ctx, "good.example.test", pins, 0, 0) == 0, "%s",
		              tlsguard_ctx_last_error(ctx));
	}
	return ctx;
}

static int check_outcome(const tlsguard_result *r, const char *name)
{
	size_t i;
	for (i = 0; i < tlsguard_result_check_count(r); i++)
		if (!strcmp(tlsguard_result_check_name(r, i), name))
			return tlsguard_result_check_outcome(r, i);
	return -1;
}

/* The danger: without a pin, a trusted rogue CA's forgery is accepted and
 * the client would send its secrets to the interceptor. */
START_TEST(mitm_unpinned_accepts_forgery)
{
	tlsguard_ctx *ctx = mitm_ctx(0);
	unsigned port;
	pid_t srv = server_start("forged-chain.pem", "forged.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;

	client_run(&c, ctx, "good.example.test", port, prio[_i]);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(r), 0);
	ck_assert_int_eq(check_outcome(r, "pin"), TLSGUARD_CHECK_SKIP);
	ck_assert_int_eq(gnutls_record_send(c.s, "secret", 6), 6);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(mitm_pinned_refuses_forgery)
{
	tlsguard_ctx *ctx = mitm_ctx(1);
	unsigned port;
	pid_t srv = server_start("forged-chain.pem", "forged.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;
	const tlsguard_event *ev = NULL;
	char leaf[100];
	size_t i;

	client_run(&c, ctx, "good.example.test", port, prio[_i]);
	ck_assert_msg(c.hs == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, "handshake returned %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_result_error(r), 0);
	/* The forgery passes every other check: the pin is the only failure. */
	ck_assert_uint_eq(tlsguard_result_event_count(r), 1);
	for (i = 0; i < tlsguard_result_event_count(r); i++)
		if (tlsguard_event_code(tlsguard_result_event(r, i)) == TLSGUARD_EV_PIN_MISMATCH)
			ev = tlsguard_result_event(r, i);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_str_eq(tlsguard_event_check(ev), "pin");
	ck_assert_str_eq(tlsguard_event_host(ev), "good.example.test");
	ck_assert_uint_eq(tlsguard_event_port(ev), port);
	ck_assert_str_eq(tlsguard_event_address(ev), "127.0.0.1");
	ck_assert_int_eq(check_outcome(r, "chain"), TLSGUARD_CHECK_PASS);
	ck_assert_int_eq(check_outcome(r, "pin"), TLSGUARD_CHECK_FAIL);
	/* The report names the expected pins and the forged chain. */
	pin_of("good.der", leaf);
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	ck_assert_ptr_nonnull(strstr(tlsguard_result_report(r), leaf + strlen("sha256/")));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), leaf));
	/* Nothing can be sent to the interceptor. */
	ck_assert_int_lt(gnutls_record_send(c.s, "secret", 6), 0);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The same pinned context signs in to the genuine server. */
START_TEST(mitm_pinned_accepts_genuine)
{
	tlsguard_ctx *ctx = mitm_ctx(1);
	unsigned port;
	pid_t srv = server_start("good-chain.pem", "good.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;

	client_run(&c, ctx, "good.example.test", port, prio[_i]);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_ACCEPT);
	ck_assert_uint_eq(tlsguard_result_event_count(r), 0);
	ck_assert_int_eq(check_outcome(r, "pin"), TLSGUARD_CHECK_PASS);
	ck_assert_ptr_null(tlsguard_result_report(r));
	ck_assert_int_eq(gnutls_record_send(c.s, "x", 1), 1);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A legitimate key rotation, issued by the same int-ca: still accepted,
 * because the backup pin (int-ca) is in the validated path. */
START_TEST(mitm_pinned_accepts_rotation_via_backup)
{
	tlsguard_ctx *ctx = mitm_ctx(1);
	unsigned port;
	pid_t srv = server_start("rotated-chain.pem", "rotated.key", &port, NULL);
	struct client c;
	const tlsguard_result *r;

	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_ACCEPT);
	ck_assert_int_eq(check_outcome(r, "pin"), TLSGUARD_CHECK_PASS);
	client_done(&c);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ---- Trust on first use across handshakes ---- */

struct tofu_seen {
	unsigned port;
	unsigned char spki[32], pending[32];
	int has_pending;
	uint64_t count;
	int records;
};

static int tofu_cb(const char *host, unsigned port, const unsigned char spki[32], int64_t first_seen,
                   int64_t last_seen, uint64_t seen_count, const unsigned char *pending, int64_t pending_seen,
                   void *userdata)
{
	struct tofu_seen *t = userdata;
	(void)first_seen;
	(void)last_seen;
	(void)pending_seen;
	ck_assert_str_eq(host, "good.example.test");
	t->records++;
	t->port = port;
	memcpy(t->spki, spki, 32);
	t->count = seen_count;
	t->has_pending = pending != NULL;
	if (pending)
		memcpy(t->pending, pending, 32);
	return 0;
}

static void tofu_read(const char *path, struct tofu_seen *t)
{
	tlsguard_store *st = NULL;

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(tlsguard_store_open(&st, path, 0), 0);
	ck_assert_int_ge(tlsguard_store_tofu_list(st, NULL, tofu_cb, t), 0);
	tlsguard_store_close(st);
}

static void raw_pin(const char *der_name, unsigned char out[32])
{
	size_t len;
	unsigned char *der = file_load(der_name, &len);
	ck_assert_int_eq(tlsguard_pin_from_cert(der, len, out), 0);
	free(der);
}

/* A context with TOFU for good.example.test and the store at @path: one
 * per "run of the application". */
static tlsguard_ctx *tofu_ctx(const char *path)
{
	tlsguard_ctx *ctx = test_ctx();
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "good.example.test", 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, path), 0);
	return ctx;
}

/* rm -r of a flat directory (the store and SQLite's -wal and -shm files). */
static void rmdir_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(unlink(p), 0);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

START_TEST(tofu_learns_then_refuses_changed_key)
{
	char dir[] = "/tmp/tlsguard-tofu-XXXXXX", store[64];
	unsigned port, port2;
	pid_t srv, srv2;
	struct client c;
	const tlsguard_result *r;
	const tlsguard_event *ev;
	tlsguard_ctx *ctx, *ctx2;
	tlsguard_store *st;
	struct tofu_seen t;
	unsigned char good[32], rotated[32];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store.db", dir);
	raw_pin("good.der", good);
	raw_pin("rotated.der", rotated);
	srv = server_start("good-chain.pem", "good.key", &port, NULL);
	ctx = tofu_ctx(store);

	/* First use: accepted, and the key is learnt for good.example.test:port. */
	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_ACCEPT);
	ck_assert_int_eq(check_outcome(r, "tofu"), TLSGUARD_CHECK_PASS);
	client_done(&c);
	tofu_read(store, &t);
	ck_assert_int_eq(t.records, 1);
	ck_assert_uint_eq(t.port, port);
	ck_assert_mem_eq(t.spki, good, 32);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_int_eq(t.has_pending, 0);

	/* The same key again: accepted, counted. */
	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	client_done(&c);
	tofu_read(store, &t);
	ck_assert_uint_eq(t.count, 2);

	/* A different key for the same host:port (the server now runs on
	 * port2; tlsguard is told the first port): key changed, refused, and
	 * nothing can be sent. */
	srv2 = server_start("rotated-chain.pem", "rotated.key", &port2, NULL);
	client_run_to(&c, ctx, "good.example.test", port, port2, NULL);
	ck_assert_msg(c.hs == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, "handshake returned %s", gnutls_strerror(c.hs));
	r = tlsguard_session_result(c.s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tlsguard_result_verdict(r), TLSGUARD_REJECT);
	ck_assert_uint_eq(tlsguard_result_event_count(r), 1);
	ev = tlsguard_result_event(r, 0);
	ck_assert_int_eq(tlsguard_event_code(ev), TLSGUARD_EV_KEY_CHANGED);
	ck_assert_int_eq(tlsguard_event_severity(ev), TLSGUARD_SEV_FATAL);
	ck_assert_uint_eq(tlsguard_event_port(ev), port);
	ck_assert_ptr_nonnull(tlsguard_event_report(ev));
	ck_assert_int_lt(gnutls_record_send(c.s, "secret", 6), 0);
	client_done(&c);
	/* The learnt key is kept; the new one waits for review. */
	tofu_read(store, &t);
	ck_assert_int_eq(t.records, 1);
	ck_assert_mem_eq(t.spki, good, 32);
	ck_assert_uint_eq(t.count, 2);
	ck_assert_int_eq(t.has_pending, 1);
	ck_assert_mem_eq(t.pending, rotated, 32);

	/* TOFU is per host:port: the rotated key on its own port is a first use. */
	client_run(&c, ctx, "good.example.test", port2, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	client_done(&c);

	/* The store persists: a new context (the next run) still refuses... */
	ctx2 = tofu_ctx(store);
	client_run_to(&c, ctx2, "good.example.test", port, port2, NULL);
	ck_assert_int_eq(c.hs, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	ck_assert(tlsguard_result_has_event(tlsguard_session_result(c.s), TLSGUARD_EV_KEY_CHANGED));
	client_done(&c);
	tlsguard_ctx_free(ctx2);

	/* ...until an operator accepts the change; then the old key is the
	 * changed one. */
	ck_assert_int_eq(tlsguard_store_open(&st, store, 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_accept(st, "good.example.test", port), 0);
	tlsguard_store_close(st);
	ctx2 = tofu_ctx(store);
	client_run_to(&c, ctx2, "good.example.test", port, port2, NULL);
	ck_assert_msg(c.hs == 0, "handshake after accept: %s", gnutls_strerror(c.hs));
	client_done(&c);
	client_run(&c, ctx2, "good.example.test", port, NULL);
	ck_assert_int_eq(c.hs, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	ck_assert(tlsguard_result_has_event(tlsguard_session_result(c.s), TLSGUARD_EV_KEY_CHANGED));
	client_done(&c);
	tlsguard_ctx_free(ctx2);

	server_stop(srv2);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
	rmdir_flat(dir);
}
END_TEST

/* A forged chain the learnt key does not match is refused as well, and a
 * rejected chain is never learnt. */
START_TEST(tofu_refuses_forgery_and_never_learns_it)
{
	char dir[] = "/tmp/tlsguard-tofu-XXXXXX", store[64];
	unsigned port, port2;
	pid_t srv, srv2;
	struct client c;
	tlsguard_ctx *ctx;
	struct tofu_seen t;
	unsigned char good[32];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store.db", dir);
	raw_pin("good.der", good);
	srv = server_start("good-chain.pem", "good.key", &port, NULL);
	srv2 = server_start("forged-chain.pem", "forged.key", &port2, NULL);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "good.example.test", 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, store), 0);

	client_run(&c, ctx, "good.example.test", port, NULL);
	ck_assert_msg(c.hs == 0, "handshake: %s", gnutls_strerror(c.hs));
	client_done(&c);
	client_run_to(&c, ctx, "good.example.test", port, port2, NULL);
	ck_assert_int_eq(c.hs, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	ck_assert(tlsguard_result_has_event(tlsguard_session_result(c.s), TLSGUARD_EV_KEY_CHANGED));
	client_done(&c);
	tofu_read(store, &t);
	ck_assert_int_eq(t.records, 1);
	ck_assert_mem_eq(t.spki, good, 32);
	ck_assert_uint_eq(t.count, 1);

	server_stop(srv2);
	server_stop(srv);
	tlsguard_ctx_free(ctx);
	rmdir_flat(dir);
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

	tc = tcase_create("pinning");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, mitm_unpinned_accepts_forgery, 0, (int)(sizeof(prio) / sizeof(prio[0])));
	tcase_add_loop_test(tc, mitm_pinned_refuses_forgery, 0, (int)(sizeof(prio) / sizeof(prio[0])));
	tcase_add_loop_test(tc, mitm_pinned_accepts_genuine, 0, (int)(sizeof(prio) / sizeof(prio[0])));
	tcase_add_test(tc, mitm_pinned_accepts_rotation_via_backup);
	tcase_add_test(tc, tofu_learns_then_refuses_changed_key);
	tcase_add_test(tc, tofu_refuses_forgery_and_never_learns_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	gnutls_global_init();
	rc = test_run(suite());
	gnutls_global_deinit();
	return rc;
}
