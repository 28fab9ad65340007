/*
 * The consistency check (lib/check_consistency.c): split view across a
 * host's addresses, from the observation history and from the cross-path
 * probe against real servers on 127.0.0.x; CA-change and seen-rejected
 * warnings; recording; configuration; fail-closed store errors.
 *
 * The attack as it happened in 2014: the host resolves to 127.0.0.2 (the
 * genuine chain, root-ca -> int-ca) and 127.0.0.3 (a forged chain from
 * rogue-ca, which the client's store also trusts). Connecting through
 * 127.0.0.3 must be refused; through 127.0.0.2 it must pass.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <tlsguard/gnutls.h>
#include <tlsguard/tlsguard.h>

#include "testutil.h"
#include "tg.h"
#include "tg_history.h"
#include "tg_probe.h"

#define GOOD "good.example.test"
#define CTHOST "ct.example.test"

static char *dir;
static char store_path[4096];

static void setup(void)
{
	dir = tmpdir_new();
	snprintf(store_path, sizeof(store_path), "%s/store.db", dir);
}

static void teardown(void)
{
	char cmd[4200];
	/* The store and its -wal/-shm files: not made by tmpdir helpers. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(dir);
	dir = NULL;
}

/* Both CAs trusted, consistency on (enforce unless @extra says otherwise),
 * probe off unless @extra turns it on; a private store; TEST_TIME + @dt. */
static tlsguard_ctx *cons_ctx(const char *extra, int64_t dt)
{
	tlsguard_ctx *ctx = NULL;
	char conf[4096];

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME + dt), 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, store_path), 0);
	snprintf(conf, sizeof(conf), "[default]\nconsistency = enforce\nprobe = off\n");
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "base.conf") == 0, "config: %s",
	              tlsguard_ctx_last_error(ctx));
	/* A later load overrides: the test's own settings. */
	if (extra != NULL)
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, extra, strlen(extra), "test.conf") == 0, "config: %s",
		              tlsguard_ctx_last_error(ctx));
	return ctx;
}

static tlsguard_result *verify_at(const tlsguard_ctx *ctx, const char *chain, const char *host, const char *address,
                                  unsigned port)
{
	struct test_chain c;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t i;
	int rc;

	chain_load(&c, chain);
	ck_assert_int_eq(tlsguard_request_new(&req, host, strlen(host)), 0);
	ck_assert_int_eq(tlsguard_request_set_port(req, port), 0);
	if (address != NULL)
		ck_assert_int_eq(tlsguard_request_set_address(req, address), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	rc = tlsguard_verify(ctx, req, &res);
	ck_assert_msg(res != NULL, "no result (rc %d)", rc);
	tlsguard_request_free(req);
	chain_free(&c);
	return res;
}

static const char *describe(const tlsguard_result *res)
{
	static char buf[16384];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < tlsguard_result_event_count(res) && n < sizeof(buf) - 1; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[%s %s: %s] ", tlsguard_severity_name(tlsguard_event_severity(ev)),
		                      tlsguard_code_key(tlsguard_event_code(ev)), tlsguard_event_detail(ev));
	}
	for (i = 0; i < tlsguard_result_peer_count(res) && n < sizeof(buf) - 1; i++) {
		const char *a, *d;
		int st, pr;
		ck_assert_int_eq(tlsguard_result_peer(res, i, &a, &st, &pr, &d), 0);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{peer %s %s %s: %s} ", a, tlsguard_peer_status_name(st),
		                      pr ? "probe" : "history", d);
	}
	return buf;
}

static const tlsguard_event *find_event(const tlsguard_result *res, int code)
{
	size_t i;
	for (i = 0; i < tlsguard_result_event_count(res); i++)
		if (tlsguard_event_code(tlsguard_result_event(res, i)) == code)
			return tlsguard_result_event(res, i);
	return NULL;
}

static int severity_of(const tlsguard_result *res, int code)
{
	const tlsguard_event *ev = find_event(res, code);
	return ev ? tlsguard_event_severity(ev) : -1;
}

/* Status of peer @address, or -1 if it is not listed. */
static int peer_status(const tlsguard_result *res, const char *address, int *from_probe)
{
	size_t i;
	for (i = 0; i < tlsguard_result_peer_count(res); i++) {
		const char *a;
		int st, pr;
		ck_assert_int_eq(tlsguard_result_peer(res, i, &a, &st, &pr, NULL), 0);
		if (!strcmp(a, address)) {
			if (from_probe)
				*from_probe = pr;
			return st;
		}
	}
	return -1;
}

static void expect(const tlsguard_result *res, int verdict)
{
	ck_assert_msg(tlsguard_result_verdict(res) == verdict, "verdict %d, expected %d: %s", tlsguard_result_verdict(res),
	              verdict, describe(res));
}

/* ---- history-based split view ---------------------------------------- */

START_TEST(history_split_view_refuses_forged_address)
{
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res;
	const tlsguard_event *ev;
	int probe = -1;

	/* 127.0.0.2 serves the genuine chain: first contact, nothing to compare. */
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_ptr_null(find_event(res, TLSGUARD_EV_SPLIT_VIEW));
	ck_assert_uint_eq(tlsguard_result_peer_count(res), 0);
	tlsguard_result_free(res);

	/* 127.0.0.3 serves a chain from another CA the store also trusts. */
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 443);
	expect(res, TLSGUARD_REJECT);
	ck_assert_msg(severity_of(res, TLSGUARD_EV_SPLIT_VIEW) == TLSGUARD_SEV_FATAL, "%s", describe(res));
	ev = find_event(res, TLSGUARD_EV_SPLIT_VIEW);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "127.0.0.2"));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "127.0.0.3"));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(ev), "Rogue But Trusted Root CA"));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), "different authority"));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), "Do not sign in"));
	ck_assert_int_eq(peer_status(res, "127.0.0.2", &probe), TLSGUARD_PEER_DIFFERS);
	ck_assert_int_eq(probe, 0);
	/* The host was always seen with int-ca: the CA change is said too. */
	ck_assert_msg(severity_of(res, TLSGUARD_EV_CA_CHANGED) == TLSGUARD_SEV_WARNING, "%s", describe(res));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_CA_CHANGED)), "(1 connection, last on"));
	tlsguard_result_free(res);

	/* The genuine address still passes: the refused view is not a view. */
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_ptr_null(find_event(res, TLSGUARD_EV_SPLIT_VIEW));
	tlsguard_result_free(res);

	/* The forged key again: refused before, and said so. */
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 443);
	expect(res, TLSGUARD_REJECT);
	ck_assert_msg(find_event(res, TLSGUARD_EV_SEEN_REJECTED) != NULL, "%s", describe(res));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_SEEN_REJECTED)), "split-view"));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A CDN: two addresses, two different leaf keys, same issuing CA. */
START_TEST(cdn_different_leaves_same_ca_pass)
{
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	res = verify_at(ctx, "rotated-chain.pem", GOOD, "127.0.0.3", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_msg(tlsguard_result_event_count(res) == 0, "%s", describe(res));
	ck_assert_int_eq(peer_status(res, "127.0.0.2", NULL), TLSGUARD_PEER_AGREES);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(report_only_warns)
{
	tlsguard_ctx *ctx = cons_ctx("consistency = report-only\n", 0);
	tlsguard_result *res;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	tlsguard_result_free(res);
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(severity_of(res, TLSGUARD_EV_SPLIT_VIEW), TLSGUARD_SEV_WARNING);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Only the window counts: an address seen long ago is not compared. */
START_TEST(window_limits_history)
{
	tlsguard_ctx *ctx = cons_ctx("consistency-window-days = 7\n", 0);
	tlsguard_result *res;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	ctx = cons_ctx("consistency-window-days = 7\n", 8 * 86400);
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 443);
	ck_assert_msg(find_event(res, TLSGUARD_EV_SPLIT_VIEW) == NULL, "%s", describe(res));
	/* ... but the change of CA is still noticed, from the summary. */
	ck_assert_msg(find_event(res, TLSGUARD_EV_CA_CHANGED) != NULL, "%s", describe(res));
	expect(res, TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Different ports are different services. */
START_TEST(ports_are_separate)
{
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	tlsguard_result_free(res);
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 8443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_ptr_null(find_event(res, TLSGUARD_EV_SPLIT_VIEW));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* One address, one spelling: a dual-stack socket's IPv4-mapped peer is the
 * same peer as the plain IPv4 address the resolver gives, and is excluded
 * from the comparison with itself. */
START_TEST(addresses_are_canonical)
{
	tlsguard_ctx *ctx = cons_ctx("[" GOOD "]\naddresses = ::FFFF:127.0.0.2, 2001:DB8:0::1\n", 0);
	tlsguard_request *req = NULL;
	tlsguard_result *res;
	struct tg_policy pol;

	tg_policy_for_host(&ctx->cfg, GOOD, &pol);
	ck_assert_uint_eq(pol.naddrs, 2);
	ck_assert_str_eq(pol.addrs[0], "127.0.0.2");
	ck_assert_str_eq(pol.addrs[1], "2001:db8::1");
	ck_assert_int_eq(tlsguard_request_new(&req, GOOD, strlen(GOOD)), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, "::ffff:127.0.0.3"), 0);
	tlsguard_request_free(req);

	res = verify_at(ctx, "good-chain.pem", GOOD, "::ffff:127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_str_eq(tlsguard_result_address(res), "127.0.0.2");
	tlsguard_result_free(res);
	/* The same address, spelt as plain IPv4: its own history is not a
	 * peer that agrees with it. */
	res = verify_at(ctx, "rotated-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(peer_status(res, "127.0.0.2", NULL), -1);
	tlsguard_result_free(res);
	/* And from another address, the genuine view is there. */
	res = verify_at(ctx, "forged-chain.pem", GOOD, "::ffff:127.0.0.3", 443);
	expect(res, TLSGUARD_REJECT);
	ck_assert_int_eq(peer_status(res, "127.0.0.2", NULL), TLSGUARD_PEER_DIFFERS);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ---- recording ---------------------------------------------------------- */

struct seen {
	int n, accepted, rejected, probes;
	char last_address[64];
};

static int count_obs(const tlsguard_observation *o, void *ud)
{
	struct seen *s = ud;
	if (s->n == 0)
		snprintf(s->last_address, sizeof(s->last_address), "%s", tlsguard_observation_address(o));
	s->n++;
	if (tlsguard_observation_verdict(o) == TLSGUARD_ACCEPT)
		s->accepted++;
	else
		s->rejected++;
	s->probes += tlsguard_observation_from_probe(o);
	return 0;
}

START_TEST(every_connection_is_recorded)
{
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res;
	tlsguard_store *st = NULL;
	struct seen s = {0};
	char head[80];
	int64_t records = -1;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	tlsguard_result_free(res);
	res = verify_at(ctx, "forged-chain.pem", GOOD, "127.0.0.3", 443);
	tlsguard_result_free(res);
	/* Rejected for another reason (expired), recorded too. */
	res = verify_at(ctx, "expired-chain.pem", "expired.example.test", "127.0.0.4", 443);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ck_assert_int_eq(tlsguard_store_open(&st, store_path, 0), 0);
	ck_assert_int_eq(tlsguard_store_history(st, GOOD, 0, 0, count_obs, &s), 2);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_int_eq(s.rejected, 1);
	ck_assert_str_eq(s.last_address, "127.0.0.3");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(tlsguard_store_history(st, NULL, 0, 0, count_obs, &s), 3);
	ck_assert_int_eq(tlsguard_store_verify(st, NULL, NULL, NULL, head, sizeof(head), &records, NULL), 0);
	ck_assert_int_eq(records, 3);
	ck_assert_ptr_nonnull(strchr(head, ':'));
	ck_assert_int_eq(tlsguard_store_verify(st, head, NULL, NULL, NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(tlsguard_store_verify(st, "3:notbase64!", NULL, NULL, NULL, 0, NULL, NULL), TLSGUARD_E_INVALID);
	ck_assert_ptr_nonnull(strstr(tlsguard_store_last_error(st), "not a tree head"));
	tlsguard_store_close(st);
}
END_TEST

START_TEST(off_records_nothing)
{
	tlsguard_ctx *ctx = cons_ctx("consistency = off\n", 0);
	tlsguard_result *res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);

	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(tlsguard_result_check_outcome(res, tlsguard_result_check_count(res) - 1), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	ck_assert_int_ne(access(store_path, F_OK), 0);
}
END_TEST

/* ---- fail closed ---------------------------------------------------------- */

START_TEST(unusable_store_fails_closed)
{
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res;

	/* A store path below a regular file cannot be created. */
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, "/dev/null/store.db"), 0);
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_REJECT);
	ck_assert_msg(severity_of(res, TLSGUARD_EV_INTERNAL_ERROR) == TLSGUARD_SEV_FATAL, "%s", describe(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = cons_ctx("consistency = report-only\n", 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, "/dev/null/store.db"), 0);
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", 443);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(severity_of(res, TLSGUARD_EV_INTERNAL_ERROR), TLSGUARD_SEV_WARNING);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Every allocation of an evaluation with the consistency check made to
 * fail in turn: the forged address is never accepted, the genuine one only
 * when the evaluation completed without error, and nothing crashes or
 * leaks (ASan). */
static tlsguard_request *make_req(const char *chain, const char *host, const char *address)
{
	struct test_chain c;
	tlsguard_request *req = NULL;
	size_t i;

	chain_load(&c, chain);
	ck_assert_int_eq(tlsguard_request_new(&req, host, strlen(host)), 0);
	ck_assert_int_eq(tlsguard_request_set_address(req, address), 0);
	for (i = 0; i < c.n; i++)
		ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
	chain_free(&c);
	return req;
}

START_TEST(allocation_failures_fail_closed)
{
	tlsguard_request *forged = make_req("forged-chain.pem", GOOD, "127.0.0.3");
	tlsguard_request *genuine = make_req("good-chain.pem", GOOD, "127.0.0.2");
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);
	tlsguard_result *res = NULL;
	unsigned long n, made = 0;
	int rc;

	ck_assert_int_eq(tlsguard_verify(ctx, genuine, &res), 0);
	expect(res, TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	for (n = 1; n < 10000; n++) {
		ctx = cons_ctx(NULL, 0);
		res = NULL;
		tg_alloc_fail_at(n);
		rc = tlsguard_verify(ctx, forged, &res);
		made = tg_alloc_fail_at(0);
		ck_assert_msg(rc == 0 || rc == TLSGUARD_E_NOMEM, "n=%lu: rc %d", n, rc);
		ck_assert_msg(tlsguard_result_verdict(res) == TLSGUARD_REJECT, "n=%lu: forged chain accepted", n);
		tlsguard_result_free(res);
		res = NULL;
		tg_alloc_fail_at(n);
		rc = tlsguard_verify(ctx, genuine, &res);
		tg_alloc_fail_at(0);
		if (tlsguard_result_verdict(res) == TLSGUARD_ACCEPT)
			ck_assert_msg(rc == 0 && tlsguard_result_error(res) == 0, "n=%lu: accepted with rc %d", n, rc);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
		if (made < n)
			break; /* the forged run needed fewer allocations: all were tried */
	}
	ck_assert_msg(made < n, "still failing after %lu allocations", n);
	tlsguard_request_free(forged);
	tlsguard_request_free(genuine);
}
END_TEST

/* ---- configuration and API ----------------------------------------------- */

static void config_rejects(const char *text, const char *msg)
{
	tlsguard_ctx *ctx = NULL;
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "c.conf"), TLSGUARD_E_CONFIG);
	ck_assert_msg(strstr(tlsguard_ctx_last_error(ctx), msg) != NULL, "'%s' lacks '%s'", tlsguard_ctx_last_error(ctx),
	              msg);
	tlsguard_ctx_free(ctx);
}

START_TEST(config_keys_checked)
{
	tlsguard_ctx *ctx = NULL;
	const char *good = "[default]\nconsistency = enforce\nprobe = always\nprobe-timeout-ms = 800\nprobe-max = 3\n"
	                   "probe-cache-seconds = 0\nconsistency-window-days = 14\nhistory-retention-days = 30\n"
	                   "history-max-rows = 5000\n[a.example]\naddresses = 127.0.0.2, ::1 127.0.0.2\n"
	                   "consistency = report-only\n[*.b.example]\nprobe = off\n";
	struct tg_policy pol;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, good, strlen(good), "c.conf") == 0, "%s",
	              tlsguard_ctx_last_error(ctx));
	tg_policy_for_host(&ctx->cfg, "a.example", &pol);
	ck_assert_int_eq(pol.consistency, TG_CONS_REPORT_ONLY);
	ck_assert_int_eq(pol.probe, TG_PROBE_ALWAYS);
	ck_assert_uint_eq(pol.probe_timeout, 800);
	ck_assert_uint_eq(pol.probe_max, 3);
	ck_assert_uint_eq(pol.probe_cache, 0);
	ck_assert_uint_eq(pol.window, 14 * 86400);
	ck_assert_uint_eq(pol.naddrs, 2); /* de-duplicated */
	ck_assert_str_eq(pol.addrs[1], "::1");
	tg_policy_for_host(&ctx->cfg, "x.b.example", &pol);
	ck_assert_int_eq(pol.probe, TG_PROBE_OFF);
	ck_assert_int_eq(pol.consistency, TG_CONS_ENFORCE);
	ck_assert_uint_eq(pol.naddrs, 0);
	ck_assert_int_eq(ctx->cfg.history_retention, 30 * 86400);
	ck_assert_int_eq(ctx->cfg.history_max_rows, 5000);
	tlsguard_ctx_free(ctx);

	config_rejects("consistency = maybe\n", "c.conf:1: consistency: expected enforce, report-only or off");
	config_rejects("probe = sometimes\n", "c.conf:1: probe: expected off, on-change or always");
	config_rejects("probe-timeout-ms = 10\n", "c.conf:1: probe-timeout-ms: expected a whole number from 50");
	config_rejects("probe-max = 17\n", "probe-max: expected a whole number from 1 to 16");
	config_rejects("[a.example]\naddresses = 127.0.0.2, host.example\n",
	               "c.conf:2: addresses: 'host.example' is not a numeric IPv4 or IPv6 address");
	config_rejects("[a.example]\naddresses = ,\n", "c.conf:2: addresses: no address given");
	config_rejects("[*.a.example]\naddresses = 127.0.0.2\n", "only an exact host section");
	config_rejects("addresses = 127.0.0.2\n", "c.conf:1: addresses");
	config_rejects("[a.example]\nhistory-max-rows = 5000\n", "c.conf:2: history-max-rows");
	config_rejects("history-max-rows = 10\n", "history-max-rows: expected a whole number from 1000");
}
END_TEST

START_TEST(api_arguments_checked)
{
	tlsguard_ctx *ctx = NULL;
	const char *two[] = {"127.0.0.2", "::1"};
	const char *bad[] = {"127.0.0.2", "nohost"};
	const char *null1[] = {NULL};
	struct tg_policy pol;

	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	/* Never the user's own store. */
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, "/dev/null/store.db"), 0);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(NULL, NULL, 1, 1, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, NULL, 3, 1, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_ptr_nonnull(strstr(tlsguard_ctx_last_error(ctx), "consistency mode 3"));
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, NULL, 1, -1, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, NULL, 1, 1, 17, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, NULL, 1, 1, 0, 10), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, "bad host!", 1, 1, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, "a.example", TLSGUARD_CONSISTENCY_REPORT_ONLY,
	                                              TLSGUARD_PROBE_ALWAYS, 2, 300),
	                 0);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "a.example", two, 2), 0);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "a.example", bad, 2), TLSGUARD_E_INVALID);
	ck_assert_ptr_nonnull(strstr(tlsguard_ctx_last_error(ctx), "'nohost' is not a numeric"));
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "a.example", null1, 1), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "a.example", two, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "*.a.example", two, 2), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, NULL, two, 2), TLSGUARD_E_INVALID);
	tg_policy_for_host(&ctx->cfg, "a.example", &pol);
	ck_assert_int_eq(pol.consistency, TG_CONS_REPORT_ONLY);
	ck_assert_int_eq(pol.probe, TG_PROBE_ALWAYS);
	ck_assert_uint_eq(pol.probe_max, 2);
	ck_assert_uint_eq(pol.probe_timeout, 300);
	ck_assert_uint_eq(pol.naddrs, 2);
	/* Frozen after the first evaluation. */
	assert_verdict(ctx, "good-chain.pem", GOOD, TLSGUARD_REJECT);
	ck_assert_int_eq(tlsguard_ctx_set_host_addresses(ctx, "a.example", two, 2), TLSGUARD_E_FROZEN);
	ck_assert_int_eq(tlsguard_ctx_set_consistency(ctx, NULL, 0, 0, 0, 0), TLSGUARD_E_FROZEN);
	tlsguard_ctx_free(ctx);
	ck_assert_str_eq(tlsguard_peer_status_name(TLSGUARD_PEER_DIFFERS), "differs");
	ck_assert_str_eq(tlsguard_peer_status_name(99), "unknown");
	ck_assert_uint_eq(tlsguard_result_peer_count(NULL), 0);
	ck_assert_int_eq(tlsguard_result_peer(NULL, 0, NULL, NULL, NULL, NULL), TLSGUARD_E_RANGE);
	ck_assert_str_eq(tlsguard_code_key(TLSGUARD_EV_CA_CHANGED), "ca-changed");
	ck_assert_str_eq(tlsguard_code_key(TLSGUARD_EV_SEEN_REJECTED), "seen-rejected");
}
END_TEST

/* ---- the cross-path probe against real servers ------------------------- */

/* openssl s_server bound to @addr:@port serving @leaf (and the
 * intermediate @chain unless NULL) with @key. */
static pid_t serve(const char *addr, unsigned port, const char *leaf, const char *chain, const char *key,
                   const char *version)
{
	const char *argv[20];
	char accept[64];
	int argc = 0;

	snprintf(accept, sizeof(accept), "%s:%u", addr, port);
	argv[argc++] = "openssl";
	argv[argc++] = "s_server";
	argv[argc++] = "-accept";
	argv[argc++] = accept;
	argv[argc++] = "-cert";
	argv[argc++] = fixture(leaf);
	if (chain != NULL) {
		argv[argc++] = "-cert_chain";
		argv[argc++] = fixture(chain);
	}
	argv[argc++] = "-key";
	argv[argc++] = fixture(key);
	argv[argc++] = version;
	argv[argc++] = "-www";
	argv[argc] = NULL;
	return test_spawn_server_at(argv, NULL, addr, port);
}

static const char *ct_config(const char *extra)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf),
	         "ct-log-list = %s\nct-mode = report-only\nprobe = on-change\nprobe-timeout-ms = 3000\n[" CTHOST
	         "]\naddresses = 127.0.0.2, 127.0.0.3\n%s",
	         fixture("ct-loglist.json"), extra ? extra : "");
	return buf;
}

/* The attack on first contact: nothing in the history, the probe asks the
 * other address, and CT tells the views apart (the interceptor has no
 * SCTs). Through 127.0.0.3 refused; through 127.0.0.2 accepted, with a
 * warning naming the address that may be intercepted. */
START_TEST(probe_first_contact)
{
	unsigned port = test_free_port();
	pid_t legit = serve("127.0.0.2", port, "ct-good.pem", "int-ca.pem", "ct-good.key", _i ? "-tls1_3" : "-tls1_2");
	pid_t forged = serve("127.0.0.3", port, "forged-ct.pem", NULL, "forged-ct.key", _i ? "-tls1_3" : "-tls1_2");
	tlsguard_ctx *ctx = cons_ctx(ct_config(NULL), 0);
	tlsguard_result *res;
	int probe = -1;

	res = verify_at(ctx, "forged-ct-chain.pem", CTHOST, "127.0.0.3", port);
	expect(res, TLSGUARD_REJECT);
	ck_assert_msg(severity_of(res, TLSGUARD_EV_SPLIT_VIEW) == TLSGUARD_SEV_FATAL, "%s", describe(res));
	ck_assert_int_eq(peer_status(res, "127.0.0.2", &probe), TLSGUARD_PEER_DIFFERS);
	ck_assert_int_eq(probe, 1);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	/* A fresh store: the genuine address first. */
	teardown();
	setup();
	ctx = cons_ctx(ct_config(NULL), 0);
	res = verify_at(ctx, "ct-good-chain.pem", CTHOST, "127.0.0.2", port);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_msg(severity_of(res, TLSGUARD_EV_SPLIT_VIEW) == TLSGUARD_SEV_WARNING, "%s", describe(res));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(find_event(res, TLSGUARD_EV_SPLIT_VIEW)), "127.0.0.3"));
	ck_assert_int_eq(peer_status(res, "127.0.0.3", &probe), TLSGUARD_PEER_DIFFERS);
	ck_assert_int_eq(probe, 1);
	tlsguard_result_free(res);
	/* Then the forged one, within the probe cache: from the history now. */
	res = verify_at(ctx, "forged-ct-chain.pem", CTHOST, "127.0.0.3", port);
	expect(res, TLSGUARD_REJECT);
	ck_assert_msg(severity_of(res, TLSGUARD_EV_SPLIT_VIEW) == TLSGUARD_SEV_FATAL, "%s", describe(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	server_stop(legit);
	server_stop(forged);
}
END_TEST

/* Nothing tells the views apart (no CT, no pins, no history): tlsguard
 * cannot know which address is intercepted and refuses both. */
START_TEST(probe_tie_refuses_both)
{
	unsigned port = test_free_port();
	pid_t legit = serve("127.0.0.2", port, "good.pem", "int-ca.pem", "good.key", "-tls1_3");
	pid_t forged = serve("127.0.0.3", port, "forged.pem", NULL, "forged.key", "-tls1_3");
	const char *conf = "probe = on-change\nprobe-timeout-ms = 3000\n[" GOOD "]\naddresses = 127.0.0.2 127.0.0.3\n";
	tlsguard_ctx *ctx = cons_ctx(conf, 0);
	tlsguard_result *res;

	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", port);
	expect(res, TLSGUARD_REJECT);
	ck_assert_int_eq(severity_of(res, TLSGUARD_EV_SPLIT_VIEW), TLSGUARD_SEV_FATAL);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	server_stop(legit);
	server_stop(forged);
}
END_TEST

/* With pins, the pinned view wins even on first contact. */
START_TEST(probe_pins_decide)
{
	unsigned port = test_free_port();
	pid_t legit = serve("127.0.0.2", port, "good.pem", "int-ca.pem", "good.key", "-tls1_2");
	pid_t forged = serve("127.0.0.3", port, "forged.pem", NULL, "forged.key", "-tls1_2");
	unsigned char pin[32];
	char conf[1024], pin_b64[64];
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	size_t len;
	unsigned char *der = file_load("int-ca.der", &len);

	ck_assert_int_eq(tlsguard_pin_from_cert(der, len, pin), 0);
	free(der);
	ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_SHA256, pin_b64, sizeof(pin_b64)), 0);
	snprintf(conf, sizeof(conf),
	         "probe = on-change\nprobe-timeout-ms = 3000\npin-mode = report-only\n[" GOOD
	         "]\naddresses = 127.0.0.2 127.0.0.3\npin = %s\n",
	         pin_b64);
	ctx = cons_ctx(conf, 0);
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.2", port);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(severity_of(res, TLSGUARD_EV_SPLIT_VIEW), TLSGUARD_SEV_WARNING);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	server_stop(legit);
	server_stop(forged);
}
END_TEST

/* An address that never answers does not hold the connection past the
 * probe deadline (a correctness bound with generous slack, not a timing). */
START_TEST(probe_deadline_bounds_connection)
{
	unsigned port = test_free_port();
	pid_t legit = serve("127.0.0.2", port, "good.pem", "int-ca.pem", "good.key", "-tls1_3");
	struct sockaddr_in a;
	int tarpit = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	const char *conf = "probe = always\nprobe-timeout-ms = 600\n[" GOOD "]\naddresses = 127.0.0.2 127.0.0.5\n";
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	struct timespec t0, t1;
	double elapsed;

	/* Listens on 127.0.0.5 but never accepts: the TCP handshake completes
	 * from the backlog, TLS never answers. */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.5", &a.sin_addr);
	ck_assert_int_eq(setsockopt(tarpit, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(bind(tarpit, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(tarpit, 8), 0);

	ctx = cons_ctx(conf, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = verify_at(ctx, "good-chain.pem", GOOD, "127.0.0.9", port);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(elapsed < 0.6 + 1.5, "the probe held the evaluation %.2f s (deadline 0.6 s)", elapsed);
	expect(res, TLSGUARD_ACCEPT);
	ck_assert_int_eq(peer_status(res, "127.0.0.2", NULL), TLSGUARD_PEER_AGREES);
	ck_assert_msg(peer_status(res, "127.0.0.5", NULL) == TLSGUARD_PEER_UNREACHABLE, "%s", describe(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	close(tarpit);
	server_stop(legit);
}
END_TEST

/* The sign-in flow: a real handshake through tlsguard's GnuTLS glue. The
 * session to the intercepted address fails with a certificate error. */
static int handshake_to(const tlsguard_ctx *ctx, const char *host, const char *addr, unsigned port)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), hs;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, addr, &a.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
	ck_assert_int_eq(gnutls_set_default_priority(s), 0);
	ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
	gnutls_transport_set_int(s, fd);
	ck_assert_int_eq(tlsguard_session_attach(ctx, s, host, port), 0);
	do
		hs = gnutls_handshake(s);
	while (hs < 0 && !gnutls_error_is_fatal(hs));
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	return hs;
}

START_TEST(session_refuses_intercepted_address)
{
	unsigned port = test_free_port();
	pid_t legit = serve("127.0.0.2", port, "good.pem", "int-ca.pem", "good.key", "-tls1_3");
	pid_t forged = serve("127.0.0.3", port, "forged.pem", NULL, "forged.key", "-tls1_3");
	tlsguard_ctx *ctx = cons_ctx(NULL, 0);

	ck_assert_int_eq(handshake_to(ctx, GOOD, "127.0.0.2", port), 0);
	ck_assert_int_eq(handshake_to(ctx, GOOD, "127.0.0.3", port), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	ck_assert_int_eq(handshake_to(ctx, GOOD, "127.0.0.2", port), 0);
	tlsguard_ctx_free(ctx);
	server_stop(legit);
	server_stop(forged);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("consistency");
	TCase *tc = tcase_create("history");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, history_split_view_refuses_forged_address);
	tcase_add_test(tc, cdn_different_leaves_same_ca_pass);
	tcase_add_test(tc, report_only_warns);
	tcase_add_test(tc, window_limits_history);
	tcase_add_test(tc, ports_are_separate);
	tcase_add_test(tc, addresses_are_canonical);
	tcase_add_test(tc, every_connection_is_recorded);
	tcase_add_test(tc, off_records_nothing);
	tcase_add_test(tc, unusable_store_fails_closed);
	tcase_add_test(tc, allocation_failures_fail_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_test(tc, config_keys_checked);
	tcase_add_test(tc, api_arguments_checked);
	suite_add_tcase(s, tc);

	tc = tcase_create("probe");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, probe_first_contact, 0, 2);
	tcase_add_test(tc, probe_tie_refuses_both);
	tcase_add_test(tc, probe_pins_decide);
	tcase_add_test(tc, probe_deadline_bounds_connection);
	tcase_add_test(tc, session_refuses_intercepted_address);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc = test_need_tool("check_consistency", "openssl");
	return rc != 0 ? rc : test_run(suite());
}
