/* The cross-path probe (lib/probe.c): tg_resolve() and tg_probe() against
 * real servers on loopback addresses only (127.0.0.0/8, and ::1 where
 * refused connections are tested). openssl s_server serves the genuine chain
 * on 127.0.0.2 and the interceptor's forged chain (rogue CA) on 127.0.0.3,
 * on the same port, as one name's two addresses would. Sockets in the test
 * play a tarpit, servers that misbehave, and a relay that records every
 * byte the probe sends. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "tg_probe.h"

#define HOST "good.example.test"
#define LEGIT "127.0.0.2"
#define FORGED "127.0.0.3"
#define TARPIT "127.0.0.4"
#define TARPIT_SYN "127.0.0.5"
#define FAKE "127.0.0.6"
#define RELAY "127.0.0.7"

/* An address that never answers must not hold tg_probe() past its deadline
 * by more than this (scheduling noise on a loaded CI machine). */
#define SLACK_MS 1000

static const char *const versions[] = {"-tls1_2", "-tls1_3"};

static int64_t in_ms(int64_t ms)
{
	return tg_monotonic_ms() + ms;
}

/* ------------------------------------------------------------------ servers */

/* openssl s_server bound to @addr:@port only, serving @cert then @chain;
 * @version: "-tls1_2", "-tls1_3" or NULL (both). */
static pid_t openssl_serve(const char *addr, unsigned port, const char *cert, const char *chain, const char *key,
                           const char *version)
{
	char acc[80];
	const char *argv[16] = {"openssl", "s_server", "-accept", acc, "-cert", fixture(cert), "-cert_chain",
	                        fixture(chain), "-key", fixture(key), "-rev", "-quiet", "-no_dhe", version, NULL};

	snprintf(acc, sizeof(acc), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	return test_spawn_server_at(argv, NULL, addr, port);
}

struct pair {
	unsigned port;
	pid_t legit, forged;
};

/* The genuine server on 127.0.0.2 and the interceptor on 127.0.0.3. */
static void pair_start(struct pair *p, const char *version)
{
	p->port = test_free_port();
	p->legit = openssl_serve(LEGIT, p->port, "good.pem", "int-ca.pem", "good.key", version);
	p->forged = openssl_serve(FORGED, p->port, "forged.pem", "rogue-ca.pem", "forged.key", version);
}

static void pair_stop(struct pair *p)
{
	server_stop(p->legit);
	server_stop(p->forged);
}

/* A listening TCP socket on @addr:@port (port 0: any; read back into
 * *@port when not NULL). */
static int listen_on(const char *addr, unsigned port, int backlog, unsigned *got)
{
	struct sockaddr_in a;
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind %s:%u: %s", addr, port, strerror(errno));
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	if (got != NULL)
		*got = ntohs(a.sin_port);
	return fd;
}

/* Accept one connection within @ms, or -1. */
static int accept_within(int lfd, int ms)
{
	struct pollfd p = {lfd, POLLIN, 0};

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(lfd, NULL, NULL);
}

/* ------------------------------------------------------------------ checks on results */

static void expect_chain(const struct tg_probe_result *r, const char *const *files, size_t nfiles)
{
	size_t i;

	ck_assert_msg(r->status == TG_PROBE_OK, "%s: status %d (%s)", r->address, r->status, r->error);
	ck_assert_str_eq(r->error, "");
	ck_assert_uint_eq(r->ncerts, nfiles);
	for (i = 0; i < nfiles; i++) {
		struct test_chain c;
		chain_load(&c, files[i]);
		ck_assert_uint_eq(c.n, 1);
		ck_assert_msg(r->certs[i].len == c.len[0] && memcmp(r->certs[i].data, c.der[0], c.len[0]) == 0,
		              "%s: certificate %zu is not %s", r->address, i, files[i]);
		chain_free(&c);
	}
	for (; i < TG_OBS_MAX_CHAIN; i++)
		ck_assert_ptr_null(r->certs[i].data);
}

static const char *const legit_chain[] = {"good.pem", "int-ca.pem"};
static const char *const forged_chain[] = {"forged.pem", "rogue-ca.pem"};

static void clear_all(struct tg_probe_result *out, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		tg_probe_result_clear(&out[i]);
}

/* ------------------------------------------------------------------ chains */

/* Both addresses answer with their own chain, exactly as served, leaf first. */
START_TEST(chains_captured)
{
	static const char addrs[][TG_ADDR_LEN] = {LEGIT, FORGED};
	struct tg_probe_result out[2];
	struct pair sv;
	char err[256];
	int rc;

	pair_start(&sv, versions[_i]);
	rc = tg_probe(HOST, sv.port, addrs, 2, in_ms(10000), out, err, sizeof(err));
	ck_assert_msg(rc == 0, "tg_probe: %d %s", rc, err);
	ck_assert_str_eq(out[0].address, LEGIT);
	ck_assert_str_eq(out[1].address, FORGED);
	expect_chain(&out[0], legit_chain, 2);
	expect_chain(&out[1], forged_chain, 2);
	ck_assert_int_ge(out[0].elapsed_ms, 0);
	ck_assert_int_lt(out[0].elapsed_ms, 10000);
	clear_all(out, 2);
	ck_assert_uint_eq(out[0].ncerts, 0);
	ck_assert_ptr_null(out[0].certs[0].data);
	pair_stop(&sv);
}
END_TEST

/* A server that allows either version: the probe's default priorities
 * negotiate one of them, with SNI set from a host given in upper case with a
 * trailing dot (normalised), and from an IP literal (no SNI). */
START_TEST(default_versions_and_ip_host)
{
	static const char addrs[][TG_ADDR_LEN] = {LEGIT};
	struct tg_probe_result out[1];
	unsigned port = test_free_port();
	pid_t srv = openssl_serve(LEGIT, port, "good.pem", "int-ca.pem", "good.key", NULL);
	char err[256];

	ck_assert_int_eq(tg_probe("GOOD.example.test.", port, addrs, 1, in_ms(10000), out, err, sizeof(err)), 0);
	expect_chain(&out[0], legit_chain, 2);
	clear_all(out, 1);
	ck_assert_int_eq(tg_probe(LEGIT, port, addrs, 1, in_ms(10000), out, err, sizeof(err)), 0);
	expect_chain(&out[0], legit_chain, 2);
	clear_all(out, 1);
	server_stop(srv);
}
END_TEST

/* IPv6: a server on ::1, when this system has IPv6 loopback. */
START_TEST(ipv6_server)
{
	static const char addrs[][TG_ADDR_LEN] = {"::1"};
	struct tg_probe_result out[1];
	struct sockaddr_in6 a;
	unsigned port = test_free_port();
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	char err[256];
	pid_t srv;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	a.sin6_port = htons((unsigned short)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		printf("check_probe: no IPv6 loopback here: ipv6_server skipped\n");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	srv = openssl_serve("::1", port, "good.pem", "int-ca.pem", "good.key", NULL);
	ck_assert_int_eq(tg_probe(HOST, port, addrs, 1, in_ms(10000), out, err, sizeof(err)), 0);
	expect_chain(&out[0], legit_chain, 2);
	clear_all(out, 1);
	server_stop(srv);
}
END_TEST

/* ------------------------------------------------------------------ failures */

START_TEST(closed_port_refused)
{
	static const char addrs[][TG_ADDR_LEN] = {"127.0.0.1", "::1"};
	struct tg_probe_result out[2];
	unsigned port = test_free_port();
	int64_t t0 = tg_monotonic_ms();
	char err[256];

	ck_assert_int_eq(tg_probe(HOST, port, addrs, 2, t0 + 10000, out, err, sizeof(err)), 0);
	ck_assert_int_lt(tg_monotonic_ms() - t0, 2000); /* refused at once, not at the deadline */
	ck_assert_int_eq(out[0].status, TG_PROBE_CONNECT_FAILED);
	ck_assert_str_eq(out[0].error, "connection refused");
	ck_assert_uint_eq(out[0].ncerts, 0);
	/* ::1: refused, or IPv6 is not available here; a connection failure
	 * either way, with a reason. */
	ck_assert_int_eq(out[1].status, TG_PROBE_CONNECT_FAILED);
	ck_assert_str_ne(out[1].error, "");
	clear_all(out, 2);
}
END_TEST

/* In-test servers that break the protocol. Each reads the ClientHello,
 * then: sends an HTTP error; closes; sends a fatal handshake_failure alert;
 * sends a TLS 1.2 ServerHello and an empty Certificate; sends 3 bytes of a
 * record header and stalls. */
enum fake_mode { FAKE_GARBAGE, FAKE_CLOSE, FAKE_ALERT, FAKE_EMPTY_CERT, FAKE_STALL };

static const char garbage[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
static const unsigned char alert[] = {21, 3, 3, 0, 2, 2, 40};
static const unsigned char empty_cert[] = {
	22, 3, 3, 0, 56,
	/* ServerHello: TLS 1.2, zero random (no TLS 1.3 downgrade sentinel), no
	 * session id, ECDHE-RSA-AES128-GCM-SHA256, renegotiation_info */
	2, 0, 0, 45, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0xc0, 0x2f, 0, 0, 5, 0xff, 0x01, 0, 1, 0,
	/* Certificate: an empty certificate_list */
	11, 0, 0, 3, 0, 0, 0};
static const unsigned char stall[] = {22, 3, 3};

struct fake {
	int lfd;
	enum fake_mode mode;
	pthread_t th;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	char buf[4096];
	int c = accept_within(f->lfd, 10000);
	struct pollfd p;
	const void *reply = NULL;
	size_t len = 0;

	if (c < 0)
		return NULL;
	switch (f->mode) {
	case FAKE_GARBAGE:
		reply = garbage, len = sizeof(garbage) - 1;
		break;
	case FAKE_ALERT:
		reply = alert, len = sizeof(alert);
		break;
	case FAKE_EMPTY_CERT:
		reply = empty_cert, len = sizeof(empty_cert);
		break;
	case FAKE_STALL:
		reply = stall, len = sizeof(stall);
		break;
	case FAKE_CLOSE:
		break;
	}
	p.fd = c;
	p.events = POLLIN;
	if (poll(&p, 1, 10000) == 1 && read(c, buf, sizeof(buf)) > 0 && reply != NULL) {
		(void)!send(c, reply, len, MSG_NOSIGNAL);
		/* Keep the connection until the probe drops it. */
		while (poll(&p, 1, 10000) == 1 && read(c, buf, sizeof(buf)) > 0)
			;
	}
	close(c);
	return NULL;
}

static const char *const fake_names[] = {"garbage", "close", "alert", "empty certificate", "stall"};

/* Probe a fake server in @mode with @deadline_ms to go; expect @status and
 * @expect in the message. */
static void fake_case(enum fake_mode mode, int64_t deadline_ms, int status, const char *expect)
{
	static const char addrs[][TG_ADDR_LEN] = {FAKE};
	struct tg_probe_result out[1];
	struct fake f;
	unsigned port;
	char err[256];
	int64_t deadline;

	f.lfd = listen_on(FAKE, 0, 8, &port);
	f.mode = mode;
	ck_assert_int_eq(pthread_create(&f.th, NULL, fake_run, &f), 0);
	deadline = in_ms(deadline_ms);
	ck_assert_int_eq(tg_probe(HOST, port, addrs, 1, deadline, out, err, sizeof(err)), 0);
	ck_assert_int_le(tg_monotonic_ms(), deadline + SLACK_MS);
	ck_assert_msg(out[0].status == status, "%s: status %d (%s)", fake_names[mode], out[0].status, out[0].error);
	ck_assert_msg(strstr(out[0].error, expect) != NULL, "error \"%s\", expected \"%s\"", out[0].error, expect);
	ck_assert_uint_eq(out[0].ncerts, 0);
	printf("check_probe: %s -> \"%s\"\n", fake_names[mode], out[0].error);
	clear_all(out, 1);
	pthread_join(f.th, NULL);
	close(f.lfd);
}

START_TEST(garbage_server)
{
	fake_case(FAKE_GARBAGE, 10000, TG_PROBE_TLS_FAILED, "TLS handshake failed: ");
}
END_TEST

START_TEST(closing_server)
{
	fake_case(FAKE_CLOSE, 10000, TG_PROBE_TLS_FAILED, "closed the connection");
}
END_TEST

START_TEST(alert_server)
{
	fake_case(FAKE_ALERT, 10000, TG_PROBE_TLS_FAILED, "TLS alert from the server: Handshake failed");
}
END_TEST

START_TEST(empty_certificate_server)
{
	fake_case(FAKE_EMPTY_CERT, 10000, TG_PROBE_NO_CERT, "no certificate");
}
END_TEST

/* Part of a record, then silence: GnuTLS must not wait for the rest inside
 * gnutls_handshake(). */
START_TEST(stalling_server)
{
	fake_case(FAKE_STALL, 500, TG_PROBE_TIMEOUT, "timed out after");
}
END_TEST

/* ------------------------------------------------------------------ deadline */

/* A tarpit (listens, the kernel completes the TCP handshake, nobody ever
 * reads or writes) next to a genuine server: the genuine chain comes back,
 * the tarpit times out, and tg_probe() returns at the deadline. */
START_TEST(deadline_tarpit)
{
	static const char addrs[][TG_ADDR_LEN] = {TARPIT, LEGIT};
	struct tg_probe_result out[2];
	unsigned port = test_free_port();
	pid_t srv = openssl_serve(LEGIT, port, "good.pem", "int-ca.pem", "good.key", NULL);
	int lfd = listen_on(TARPIT, port, 8, NULL), c;
	int64_t t0, t1, deadline;
	unsigned char buf[4096];
	ssize_t got;
	size_t total = 0;
	char err[256];

	t0 = tg_monotonic_ms();
	deadline = t0 + 700;
	ck_assert_int_eq(tg_probe(HOST, port, addrs, 2, deadline, out, err, sizeof(err)), 0);
	t1 = tg_monotonic_ms();
	ck_assert_msg(t1 <= deadline + SLACK_MS, "returned %lld ms after the deadline", (long long)(t1 - deadline));
	ck_assert_int_ge(t1, deadline);
	ck_assert_msg(out[0].status == TG_PROBE_TIMEOUT, "tarpit: status %d (%s)", out[0].status, out[0].error);
	ck_assert_msg(strstr(out[0].error, "timed out after") != NULL && strstr(out[0].error, "no server certificate"),
	              "%s", out[0].error);
	ck_assert_int_ge(out[0].elapsed_ms, 690);
	ck_assert_uint_eq(out[0].ncerts, 0);
	expect_chain(&out[1], legit_chain, 2);
	ck_assert_int_lt(out[1].elapsed_ms, 700);

	/* The tarpit's connection got a ClientHello and was closed when
	 * tg_probe() returned: reading it ends (EOF), nothing stays open. */
	c = accept_within(lfd, 1000);
	ck_assert_int_ge(c, 0);
	for (;;) {
		struct pollfd p = {c, POLLIN, 0};
		ck_assert_msg(poll(&p, 1, 2000) == 1, "the probe left its tarpit connection open");
		got = read(c, buf + (total < sizeof(buf) ? total : 0), total < sizeof(buf) ? sizeof(buf) - total : 1);
		if (got <= 0)
			break;
		total += (size_t)got;
	}
	ck_assert_uint_gt(total, 5);
	ck_assert_uint_eq(buf[0], 22); /* a handshake record: the ClientHello */
	close(c);
	close(lfd);
	clear_all(out, 2);
	server_stop(srv);
}
END_TEST

/* A host whose SYNs are dropped (listen backlog full): the TCP connection
 * itself never completes. Returns the listening socket, filling @fill, or -1
 * when this system does not drop them. */
static int syn_tarpit(const char *addr, unsigned *port, int fill[8])
{
	struct sockaddr_in a;
	int lfd = listen_on(addr, 0, 0, port), i;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)*port);
	inet_pton(AF_INET, addr, &a.sin_addr);
	for (i = 0; i < 8; i++) {
		struct pollfd p;
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(fill[i], 0);
		if (connect(fill[i], (struct sockaddr *)&a, sizeof(a)) == 0)
			continue;
		p.fd = fill[i];
		p.events = POLLOUT;
		if (poll(&p, 1, 200) == 0) {
			/* This one is stuck: the queue is full. */
			close(fill[i]);
			fill[i] = -1;
			return lfd;
		}
	}
	return -1;
}

START_TEST(deadline_connect)
{
	static const char addrs[][TG_ADDR_LEN] = {TARPIT_SYN};
	struct tg_probe_result out[1];
	int fill[8], i, lfd;
	unsigned port;
	int64_t t1, deadline;
	char err[256];

	for (i = 0; i < 8; i++)
		fill[i] = -1;
	lfd = syn_tarpit(TARPIT_SYN, &port, fill);
	if (lfd < 0) {
		printf("check_probe: this system does not drop SYNs to a full listen queue: deadline_connect skipped\n");
	} else {
		deadline = in_ms(500);
		ck_assert_int_eq(tg_probe(HOST, port, addrs, 1, deadline, out, err, sizeof(err)), 0);
		t1 = tg_monotonic_ms();
		ck_assert_int_le(t1, deadline + SLACK_MS);
		ck_assert_int_eq(out[0].status, TG_PROBE_TIMEOUT);
		ck_assert_msg(strstr(out[0].error, "no TCP connection") != NULL, "%s", out[0].error);
		clear_all(out, 1);
		close(lfd);
	}
	for (i = 0; i < 8; i++)
		if (fill[i] >= 0)
			close(fill[i]);
}
END_TEST

/* A deadline already past: nothing is attempted, everything times out. */
START_TEST(deadline_passed)
{
	static const char addrs[][TG_ADDR_LEN] = {LEGIT, "::1"};
	struct tg_probe_result out[2];
	int64_t t0 = tg_monotonic_ms();
	char err[256];

	ck_assert_int_eq(tg_probe(HOST, 443, addrs, 2, t0 - 1, out, err, sizeof(err)), 0);
	ck_assert_int_lt(tg_monotonic_ms() - t0, 200);
	ck_assert_int_eq(out[0].status, TG_PROBE_TIMEOUT);
	ck_assert_int_eq(out[1].status, TG_PROBE_TIMEOUT);
	ck_assert_str_eq(out[1].address, "::1");
	clear_all(out, 2);
}
END_TEST

/* ------------------------------------------------------------------ what the client sends */

/* A TCP relay between the probe and a server that keeps every byte the
 * client sends. */
struct relay {
	int lfd;
	unsigned port, target_port;
	unsigned char sent[65536];
	size_t nsent;
	bool overflow, connected;
	pthread_t th;
};

static bool send_all(int fd, const unsigned char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

static void *relay_run(void *arg)
{
	struct relay *r = arg;
	struct sockaddr_in a;
	unsigned char buf[16384];
	struct pollfd p[2];
	int c = accept_within(r->lfd, 10000), s;
	ssize_t n;

	if (c < 0)
		return NULL;
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)r->target_port);
	inet_pton(AF_INET, LEGIT, &a.sin_addr);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(c);
		if (s >= 0)
			close(s);
		return NULL;
	}
	r->connected = true;
	p[0].fd = c;
	p[1].fd = s;
	p[0].events = p[1].events = POLLIN;
	while (poll(p, 2, 10000) > 0) {
		if (p[0].revents) {
			if ((n = read(c, buf, sizeof(buf))) <= 0)
				break; /* the probe closed (or reset) its connection */
			if (r->nsent + (size_t)n > sizeof(r->sent))
				r->overflow = true;
			else
				memcpy(r->sent + r->nsent, buf, (size_t)n);
			r->nsent += (size_t)n;
			send_all(s, buf, (size_t)n);
		}
		if (p[1].revents) {
			if ((n = read(s, buf, sizeof(buf))) <= 0) {
				shutdown(c, SHUT_WR);
				p[1].fd = -1;
			} else if (!send_all(c, buf, (size_t)n)) {
				break;
			}
		}
	}
	close(c);
	close(s);
	return NULL;
}

static void relay_start(struct relay *r, unsigned target_port)
{
	memset(r, 0, sizeof(*r));
	r->lfd = listen_on(RELAY, 0, 8, &r->port);
	r->target_port = target_port;
	ck_assert_int_eq(pthread_create(&r->th, NULL, relay_run, r), 0);
}

static void relay_finish(struct relay *r)
{
	pthread_join(r->th, NULL);
	close(r->lfd);
	ck_assert_msg(r->connected, "the relay got no connection");
	ck_assert(!r->overflow);
}

/* What the client sent, by TLS record. */
struct sent_summary {
	unsigned records[256];   /* count by content type */
	unsigned hs_types[256];  /* plaintext handshake messages by type */
	unsigned nhs;
	bool sni_present;
	char sni[256];
};

static void parse_client_hello(const unsigned char *b, size_t n, struct sent_summary *s)
{
	size_t off = 2 + 32, end, l;

	ck_assert_uint_ge(n, off + 1);
	off += 1 + b[off];                                   /* session id */
	ck_assert_uint_ge(n, off + 2);
	off += 2 + (size_t)(b[off] << 8 | b[off + 1]);       /* cipher suites */
	ck_assert_uint_ge(n, off + 1);
	off += 1 + b[off];                                   /* compression */
	ck_assert_uint_ge(n, off + 2);
	end = off + 2 + (size_t)(b[off] << 8 | b[off + 1]);
	ck_assert_uint_le(end, n);
	for (off += 2; off + 4 <= end; off += 4 + l) {
		unsigned type = (unsigned)(b[off] << 8 | b[off + 1]);
		l = (size_t)(b[off + 2] << 8 | b[off + 3]);
		ck_assert_uint_le(off + 4 + l, end);
		if (type == 0 && l >= 5 && b[off + 6] == 0) { /* server_name, host_name */
			size_t nl = (size_t)(b[off + 7] << 8 | b[off + 8]);
			ck_assert_uint_le(9 + nl, 4 + l);
			ck_assert_uint_lt(nl, sizeof(s->sni));
			memcpy(s->sni, b + off + 9, nl);
			s->sni[nl] = '\0';
			s->sni_present = true;
		}
	}
}

static void summarize(const struct relay *r, struct sent_summary *s)
{
	static unsigned char hs[65536];
	size_t off = 0, nhs = 0;

	memset(s, 0, sizeof(*s));
	while (off + 5 <= r->nsent) {
		const unsigned char *rec = r->sent + off;
		size_t len = (size_t)(rec[3] << 8 | rec[4]);
		ck_assert_msg(off + 5 + len <= r->nsent, "a truncated record");
		s->records[rec[0]]++;
		if (rec[0] == 22 && s->records[20] == 0) { /* plaintext handshake */
			memcpy(hs + nhs, rec + 5, len);
			nhs += len;
		}
		off += 5 + len;
	}
	ck_assert_uint_eq(off, r->nsent);
	for (off = 0; off + 4 <= nhs;) {
		size_t len = (size_t)hs[off + 1] << 16 | (size_t)hs[off + 2] << 8 | hs[off + 3];
		ck_assert_uint_le(off + 4 + len, nhs);
		s->hs_types[hs[off]]++;
		s->nhs++;
		if (hs[off] == 1)
			parse_client_hello(hs + off + 4, len, s);
		off += 4 + len;
	}
	ck_assert_uint_eq(off, nhs);
}

/* The probe gets the server's chain through the relay, and the relay saw:
 * ClientHello(s), no ChangeCipherSpec in TLS 1.2, no record of type 23 (no
 * application data; in TLS 1.3 also no encrypted Finished or alert), no
 * other handshake message (no key exchange, no Finished), and at most an
 * alert. SNI is the host, and absent when the host is an IP literal. */
START_TEST(no_application_data)
{
	static const char addrs[][TG_ADDR_LEN] = {RELAY};
	const char *hosts[] = {HOST, RELAY};
	struct tg_probe_result out[1];
	struct sent_summary s;
	unsigned port = test_free_port(), h, t;
	pid_t srv = openssl_serve(LEGIT, port, "good.pem", "int-ca.pem", "good.key", versions[_i]);
	static struct relay r;
	char err[256];

	for (h = 0; h < 2; h++) {
		relay_start(&r, port);
		ck_assert_int_eq(tg_probe(hosts[h], r.port, addrs, 1, in_ms(10000), out, err, sizeof(err)), 0);
		expect_chain(&out[0], legit_chain, 2);
		clear_all(out, 1);
		relay_finish(&r);
		summarize(&r, &s);
		printf("check_probe: %s, host %s: client sent %zu bytes: %u handshake, %u change_cipher_spec, %u alert, "
		       "%u application_data records\n",
		       versions[_i], hosts[h], r.nsent, s.records[22], s.records[20], s.records[21], s.records[23]);
		ck_assert_uint_eq(s.records[23], 0);
		ck_assert_uint_le(s.records[21], 1);
		if (_i == 0)
			ck_assert_uint_eq(s.records[20], 0);
		for (t = 0; t < 256; t++)
			if (t < 20 || t > 23)
				ck_assert_uint_eq(s.records[t], 0);
		ck_assert_uint_ge(s.nhs, 1);
		ck_assert_uint_eq(s.hs_types[1], s.nhs); /* ClientHello only */
		if (h == 0) {
			ck_assert(s.sni_present);
			ck_assert_str_eq(s.sni, HOST);
		} else {
			ck_assert(!s.sni_present);
		}
	}
	server_stop(srv);
}
END_TEST

/* ------------------------------------------------------------------ arguments */

START_TEST(probe_bad_arguments)
{
	static const char good[][TG_ADDR_LEN] = {LEGIT};
	static const char names[][TG_ADDR_LEN] = {LEGIT, "localhost"};
	static const char bad_ip[][TG_ADDR_LEN] = {"256.1.1.1"};
	static char unterminated[1][TG_ADDR_LEN];
	struct tg_probe_result out[TG_PROBE_MAX + 1];
	char many[TG_PROBE_MAX + 1][TG_ADDR_LEN];
	char err[256];
	int64_t dl = in_ms(5000);
	size_t i;

	memset(out, 0, sizeof(out));
	for (i = 0; i <= TG_PROBE_MAX; i++)
		snprintf(many[i], sizeof(many[i]), "127.0.0.%zu", i + 1);
	memset(unterminated[0], '1', sizeof(unterminated[0]));

#define BAD(call, word)                                                                                              \
	do {                                                                                                             \
		err[0] = '\0';                                                                                               \
		ck_assert_int_eq((call), TLSGUARD_E_INVALID);                                                                \
		ck_assert_msg(strstr(err, word) != NULL, "message \"%s\" does not name %s", err, word);                       \
	} while (0)
	BAD(tg_probe(NULL, 443, good, 1, dl, out, err, sizeof(err)), "host");
	BAD(tg_probe("", 443, good, 1, dl, out, err, sizeof(err)), "host");
	BAD(tg_probe("bad host", 443, good, 1, dl, out, err, sizeof(err)), "host");
	BAD(tg_probe(HOST, 0, good, 1, dl, out, err, sizeof(err)), "port");
	BAD(tg_probe(HOST, 65536, good, 1, dl, out, err, sizeof(err)), "port");
	BAD(tg_probe(HOST, 443, (const char(*)[TG_ADDR_LEN])many, TG_PROBE_MAX + 1, dl, out, err, sizeof(err)),
	    "TG_PROBE_MAX");
	BAD(tg_probe(HOST, 443, NULL, 1, dl, out, err, sizeof(err)), "addrs");
	BAD(tg_probe(HOST, 443, good, 1, dl, NULL, err, sizeof(err)), "out");
	BAD(tg_probe(HOST, 443, names, 2, dl, out, err, sizeof(err)), "addrs[1] \"localhost\"");
	BAD(tg_probe(HOST, 443, bad_ip, 1, dl, out, err, sizeof(err)), "addrs[0]");
	BAD(tg_probe(HOST, 443, (const char(*)[TG_ADDR_LEN])unterminated, 1, dl, out, err, sizeof(err)), "addrs[0]");
#undef BAD
	/* No message buffer is fine too. */
	ck_assert_int_eq(tg_probe(NULL, 443, good, 1, dl, out, NULL, 0), TLSGUARD_E_INVALID);
	/* out[] was not touched: nothing to free. */
	for (i = 0; i <= TG_PROBE_MAX; i++)
		ck_assert_int_eq(out[i].status + (int)out[i].ncerts + out[i].address[0], 0);
	/* Nothing to probe is not an error. */
	ck_assert_int_eq(tg_probe(HOST, 443, NULL, 0, dl, NULL, err, sizeof(err)), 0);
}
END_TEST

/* ------------------------------------------------------------------ resolver */

static bool has_addr(char (*a)[TG_ADDR_LEN], size_t n, const char *want)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(a[i], want) == 0)
			return true;
	return false;
}

START_TEST(resolve_localhost)
{
	char a[16][TG_ADDR_LEN], err[256];
	size_t n = 99, i, j;

	ck_assert_msg(tg_resolve("localhost", a, 16, &n, in_ms(5000), err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(n, 1);
	ck_assert(has_addr(a, n, "127.0.0.1"));
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ck_assert_str_ne(a[i], a[j]); /* each once */
	/* At most max. */
	ck_assert_int_eq(tg_resolve("localhost", a, 1, &n, in_ms(5000), err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(resolve_literal)
{
	static const struct {
		const char *in, *out;
	} cases[] = {{"127.0.0.2", "127.0.0.2"}, {"::1", "::1"}, {"0:0::1", "::1"}, {"[::1]", "::1"},
	             {"2001:DB8::1", "2001:db8::1"}};
	char a[4][TG_ADDR_LEN], err[256];
	size_t n, i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = 0;
		/* No lookup, so even a deadline already past does not matter. */
		ck_assert_msg(tg_resolve(cases[i].in, a, 4, &n, tg_monotonic_ms() - 1, err, sizeof(err)) == 0, "%s: %s",
		              cases[i].in, err);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(a[0], cases[i].out);
	}
}
END_TEST

/* A name that cannot exist (RFC 6761 .invalid): an error naming it, or a
 * timeout, by the deadline either way. */
START_TEST(resolve_invalid_name)
{
	char a[4][TG_ADDR_LEN], err[256];
	size_t n = 7;
	int64_t t0 = tg_monotonic_ms();
	int rc = tg_resolve("example.invalid", a, 4, &n, t0 + 3000, err, sizeof(err));

	ck_assert_int_le(tg_monotonic_ms(), t0 + 3000 + SLACK_MS);
	ck_assert_msg(rc == TLSGUARD_E_IO || rc == TLSGUARD_E_TIMEOUT, "rc %d (%s)", rc, err);
	ck_assert_msg(strncmp(err, "cannot resolve example.invalid: ", 32) == 0 && strlen(err) > 32, "%s", err);
	ck_assert_uint_eq(n, 0);
	printf("check_probe: %s\n", err);
}
END_TEST

/* Deadlines: one already past, and one a millisecond away (the lookup goes
 * on in its detached thread, which frees its job when it ends). */
START_TEST(resolve_deadline)
{
	char a[4][TG_ADDR_LEN], err[256];
	size_t n = 7;
	int64_t t0 = tg_monotonic_ms();
	int rc, i;

	ck_assert_int_eq(tg_resolve("localhost", a, 4, &n, t0 - 1, err, sizeof(err)), TLSGUARD_E_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(err, "localhost"));
	ck_assert_uint_eq(n, 0);
	for (i = 0; i < 20; i++) {
		t0 = tg_monotonic_ms();
		rc = tg_resolve("no-such-host.invalid", a, 4, &n, t0 + 1, err, sizeof(err));
		ck_assert_int_le(tg_monotonic_ms(), t0 + 1 + SLACK_MS);
		ck_assert_msg(rc == TLSGUARD_E_IO || rc == TLSGUARD_E_TIMEOUT, "rc %d (%s)", rc, err);
		ck_assert_ptr_nonnull(strstr(err, "no-such-host.invalid"));
	}
	/* Let the detached lookups finish, so that leak checkers see them end. */
	usleep(300 * 1000);
}
END_TEST

START_TEST(resolve_bad_arguments)
{
	char a[4][TG_ADDR_LEN], err[256], longname[300];
	size_t n;
	int64_t dl = in_ms(5000);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
#define BAD(call, word)                                                                                              \
	do {                                                                                                             \
		err[0] = '\0';                                                                                               \
		ck_assert_int_eq((call), TLSGUARD_E_INVALID);                                                                \
		ck_assert_msg(strstr(err, word) != NULL, "message \"%s\" does not name %s", err, word);                       \
	} while (0)
	BAD(tg_resolve(NULL, a, 4, &n, dl, err, sizeof(err)), "host");
	BAD(tg_resolve("", a, 4, &n, dl, err, sizeof(err)), "host");
	BAD(tg_resolve("a b", a, 4, &n, dl, err, sizeof(err)), "host");
	BAD(tg_resolve(longname, a, 4, &n, dl, err, sizeof(err)), "host");
	BAD(tg_resolve("localhost", NULL, 4, &n, dl, err, sizeof(err)), "out");
	BAD(tg_resolve("localhost", a, 0, &n, dl, err, sizeof(err)), "max");
	BAD(tg_resolve("localhost", a, 4, NULL, dl, err, sizeof(err)), "n is NULL");
#undef BAD
	ck_assert_int_eq(tg_resolve(NULL, a, 4, &n, dl, NULL, 0), TLSGUARD_E_INVALID);
}
END_TEST

/* ------------------------------------------------------------------ allocation failures */

START_TEST(alloc_failures)
{
	static const char addrs[][TG_ADDR_LEN] = {LEGIT, FORGED};
	struct tg_probe_result out[2];
	struct pair sv;
	char a[4][TG_ADDR_LEN], err[256];
	unsigned long k;
	size_t n;
	int rc = -1;

	pair_start(&sv, NULL);
	for (k = 1; k < 100; k++) {
		tg_alloc_fail_at(k);
		rc = tg_probe(HOST, sv.port, addrs, 2, in_ms(10000), out, err, sizeof(err));
		tg_alloc_fail_at(0);
		if (rc == 0)
			break;
		ck_assert_msg(rc == TLSGUARD_E_NOMEM, "allocation %lu: rc %d (%s)", k, rc, err);
		ck_assert_str_eq(err, "tg_probe: out of memory");
		/* Nothing to free. */
		ck_assert_uint_eq(out[0].ncerts + out[1].ncerts, 0);
		ck_assert_ptr_null(out[0].certs[0].data);
		ck_assert_ptr_null(out[1].certs[0].data);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_gt(k, 1);
	expect_chain(&out[0], legit_chain, 2);
	expect_chain(&out[1], forged_chain, 2);
	clear_all(out, 2);

	tg_alloc_fail_at(1);
	rc = tg_resolve("localhost", a, 4, &n, in_ms(5000), err, sizeof(err));
	tg_alloc_fail_at(0);
	ck_assert_int_eq(rc, TLSGUARD_E_NOMEM);
	ck_assert_ptr_nonnull(strstr(err, "out of memory"));
	pair_stop(&sv);
}
END_TEST

/* ------------------------------------------------------------------ threads */

#define NTHREADS 8
#define ROUNDS 3

struct worker {
	unsigned port;
	int rc[ROUNDS], rrc;
	struct tg_probe_result out[ROUNDS][3];
	size_t nres;
	char resolved[4][TG_ADDR_LEN];
	char err[256];
};

static void *worker_run(void *arg)
{
	static const char addrs[][TG_ADDR_LEN] = {LEGIT, FORGED, "127.0.0.1"};
	struct worker *w = arg;
	int i;

	w->rrc = tg_resolve("localhost", w->resolved, 4, &w->nres, in_ms(10000), w->err, sizeof(w->err));
	for (i = 0; i < ROUNDS; i++)
		w->rc[i] = tg_probe(HOST, w->port, addrs, 3, in_ms(20000), w->out[i], w->err, sizeof(w->err));
	return NULL;
}

/* Eight threads probing (and resolving) at once, sharing nothing. */
START_TEST(threads)
{
	static struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct pair sv;
	int t, i;

	pair_start(&sv, NULL);
	memset(w, 0, sizeof(w));
	for (t = 0; t < NTHREADS; t++) {
		w[t].port = sv.port;
		ck_assert_int_eq(pthread_create(&th[t], NULL, worker_run, &w[t]), 0);
	}
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < NTHREADS; t++) {
		ck_assert_msg(w[t].rrc == 0, "thread %d: resolve: %s", t, w[t].err);
		ck_assert(has_addr(w[t].resolved, w[t].nres, "127.0.0.1"));
		for (i = 0; i < ROUNDS; i++) {
			ck_assert_msg(w[t].rc[i] == 0, "thread %d: %s", t, w[t].err);
			expect_chain(&w[t].out[i][0], legit_chain, 2);
			expect_chain(&w[t].out[i][1], forged_chain, 2);
			ck_assert_int_eq(w[t].out[i][2].status, TG_PROBE_CONNECT_FAILED);
			clear_all(w[t].out[i], 3);
		}
	}
	pair_stop(&sv);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;
	int rc = test_need_tool("check_probe", "openssl");

	if (rc != 0)
		return rc;
	s = suite_create("probe");

	tc = tcase_create("chains");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, chains_captured, 0, 2);
	tcase_add_test(tc, default_versions_and_ip_host);
	tcase_add_test(tc, ipv6_server);
	tcase_add_loop_test(tc, no_application_data, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, closed_port_refused);
	tcase_add_test(tc, garbage_server);
	tcase_add_test(tc, closing_server);
	tcase_add_test(tc, alert_server);
	tcase_add_test(tc, empty_certificate_server);
	tcase_add_test(tc, stalling_server);
	tcase_add_test(tc, probe_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, deadline_tarpit);
	tcase_add_test(tc, deadline_connect);
	tcase_add_test(tc, deadline_passed);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolver");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, resolve_localhost);
	tcase_add_test(tc, resolve_literal);
	tcase_add_test(tc, resolve_invalid_name);
	tcase_add_test(tc, resolve_deadline);
	tcase_add_test(tc, resolve_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, alloc_failures);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);

	return test_run(s);
}
