/*
 * The observation history (lib/history.c, tg_history.h): records, queries,
 * the per-host summary, Merkle tree heads against a from-scratch MTH,
 * compaction, verification of intact and tampered logs (edited with raw
 * SQLite), invalid arguments, hostile rows, and the migration of a schema 1
 * store.
 *
 * Every test works in its own temporary directory (on /dev/shm when it is
 * writable: thousands of synchronous commits would otherwise wait for the
 * disk) and removes it. No test asserts a duration.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "testutil.h"
#include "tg.h"
#include "tg_history.h"
#include "tg_store.h"

#define T0 TEST_TIME
#define H "www.example.test"

/* ------------------------------------------------------------------ helpers */

static char dir[96];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static void dir_setup(void)
{
	snprintf(dir, sizeof(dir), "%s/tlsguard-history-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void dir_teardown(void)
{
	ck_assert_msg(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove %s", dir);
}

static const char *pathof(const char *name)
{
	static char bufs[8][256];
	static unsigned slot;
	char *b = bufs[slot++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static struct tg_store *open_ok(const char *path)
{
	struct tg_store *st = NULL;
	char err[TG_ERRBUF] = "";
	int rc = tg_store_open(&st, path, 1, err, sizeof(err));

	ck_assert_msg(rc == 0, "open %s: %d %s", path, rc, err);
	return st;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A deterministic record: chain and keys from @chain_no, so that chains
 * repeat when the numbers do. */
static struct tg_observation obs_make(const char *host, unsigned port, const char *addr, int64_t t, int verdict,
                                      int source, unsigned chain_no)
{
	struct tg_observation o;
	unsigned i;

	memset(&o, 0, sizeof(o));
	snprintf(o.host, sizeof(o.host), "%s", host);
	o.port = port;
	snprintf(o.address, sizeof(o.address), "%s", addr);
	o.time = t;
	o.verdict = verdict;
	o.source = source;
	memset(o.leaf_spki, (int)(0x10 + chain_no), TG_SPKI_LEN);
	memset(o.issuer_spki, (int)(0x80 + chain_no % 4), TG_SPKI_LEN);
	memset(o.anchor_spki, 0xee, TG_SPKI_LEN);
	snprintf(o.issuer_name, sizeof(o.issuer_name), "CN=Issuer %u,O=Test", chain_no % 4);
	snprintf(o.anchor_name, sizeof(o.anchor_name), "CN=Root,O=Test");
	o.nchain = 2 + chain_no % 3;
	for (i = 0; i < o.nchain; i++)
		memset(o.chain[i], (int)(chain_no * 7 + i), TG_SPKI_LEN);
	o.ct = TG_OBS_CT_COMPLIANT;
	o.pin = TG_OBS_PIN_NONE;
	o.fatal_codes = verdict == TLSGUARD_ACCEPT ? 0 : (UINT64_C(1) << 5 | UINT64_C(1) << 63);
	return o;
}

static const struct tg_history_limits unbounded = {0, 0};

static int64_t append_ok(struct tg_store *st, struct tg_observation *o, const struct tg_history_limits *lim)
{
	char err[TG_ERRBUF] = "";
	int rc = tg_history_append(st, o, lim ? lim : &unbounded, err, sizeof(err));

	ck_assert_msg(rc == 0, "append: %d %s", rc, err);
	return o->seq;
}

/* n simple records: host a/b, addresses cycling, time T0 + 10 i. */
static void append_many(struct tg_store *st, int64_t n, const struct tg_history_limits *lim)
{
	int64_t i;
	char addr[32];

	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", (int)(i % 5));
		struct tg_observation o = obs_make(i % 2 ? "a.example.test" : "b.example.test", 443, addr, T0 + 10 * i,
		                                   i % 7 == 3 ? TLSGUARD_REJECT : TLSGUARD_ACCEPT, TG_OBS_CONNECTION,
		                                   (unsigned)(i % 6));
		append_ok(st, &o, lim);
	}
}

struct collect {
	struct tg_observation o[64];
	int n, stop_at;
};

static int collect_cb(const struct tg_observation *o, void *ud)
{
	struct collect *c = ud;

	if (c->n < 64)
		c->o[c->n] = *o;
	c->n++;
	return c->stop_at && c->n >= c->stop_at;
}

struct probs {
	int n;
	int64_t seq[256];
	char msg[256][512];
};

static void prob_cb(int64_t seq, const char *msg, void *ud)
{
	struct probs *p = ud;

	if (p->n < 256) {
		p->seq[p->n] = seq;
		snprintf(p->msg[p->n], sizeof(p->msg[0]), "%s", msg);
	}
	p->n++;
}

static int verify(struct tg_store *st, const struct tg_tree_head *trusted, struct probs *p,
                  struct tg_history_stats *stats)
{
	char err[TG_ERRBUF] = "";
	int rc;

	memset(p, 0, sizeof(*p));
	rc = tg_history_verify(st, trusted, prob_cb, p, NULL, stats, err, sizeof(err));
	ck_assert_msg(rc >= 0, "verify: %d %s", rc, err);
	return rc;
}

/* Some problem is about @seq and its message contains @needle. */
static bool has_problem(const struct probs *p, int64_t seq, const char *needle)
{
	int i;

	for (i = 0; i < p->n && i < 256; i++)
		if ((seq == -2 || p->seq[i] == seq) && strstr(p->msg[i], needle) != NULL)
			return true;
	return false;
}

static void dump(const struct probs *p)
{
	int i;

	for (i = 0; i < p->n && i < 256; i++)
		fprintf(stderr, "  problem seq %lld: %s\n", (long long)p->seq[i], p->msg[i]);
}

/* Reference MTH (RFC 9162 2.1.1) over @n leaf hashes, recursively. */
static void mth(const unsigned char *leaves, size_t n, unsigned char out[32])
{
	size_t k = 1;
	unsigned char l[32], r[32];

	if (n == 0) {
		ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, out), 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves, 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(leaves, k, l);
	mth(leaves + k * 32, n - k, r);
	ck_assert_int_eq(tlsguard_merkle_node_hash(l, r, out), 0);
}

/* Leaf hashes [0, n) and head roots [1, n] straight from the file. */
static unsigned char *raw_blobs(const char *path, const char *sql, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	unsigned char *v = calloc(n + 1, 32);
	size_t i = 0;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW && i < n) {
		ck_assert_int_eq(sqlite3_column_bytes(s, 0), 32);
		memcpy(v + i * 32, sqlite3_column_blob(s, 0), 32);
		i++;
	}
	ck_assert_uint_eq(i, n);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* ------------------------------------------------------------------ records */

START_TEST(test_roundtrip)
{
	const char *path = pathof("s.db");
	struct tg_store *st = open_ok(path);
	struct tg_observation o = obs_make(H, 8443, "2001:db8::1", T0, TLSGUARD_REJECT, TG_OBS_PROBE, 5), p;
	struct collect c;
	char err[TG_ERRBUF] = "";
	int rc;

	o.ct = TG_OBS_CT_NOT_COMPLIANT;
	o.pin = TG_OBS_PIN_MISMATCH;
	o.nchain = TG_OBS_MAX_CHAIN;
	memset(o.chain[15], 0xab, TG_SPKI_LEN);
	memset(o.issuer_name, 'x', TG_OBS_NAME - 1);
	o.issuer_name[TG_OBS_NAME - 1] = '\0';
	o.fatal_codes = UINT64_MAX;
	o.seq = 99; /* ignored: set by append */
	ck_assert_int_eq(append_ok(st, &o, NULL), 0);
	p = obs_make("b.example.test", 1, "", T0 + 1, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 0);
	p.nchain = 0;
	memset(p.chain, 0, sizeof(p.chain));
	memset(p.issuer_spki, 0, TG_SPKI_LEN);
	memset(p.issuer_name, 0, sizeof(p.issuer_name));
	ck_assert_int_eq(append_ok(st, &p, NULL), 1);

	memset(&c, 0, sizeof(c));
	rc = tg_history_foreach(st, H, 8443, 0, collect_cb, &c, err, sizeof(err));
	ck_assert_msg(rc == 1, "%d %s", rc, err);
	ck_assert_int_eq(memcmp(&c.o[0], &o, sizeof(o)), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, "b.example.test", 0, 0, collect_cb, &c, err, sizeof(err)), 1);
	ck_assert_int_eq(memcmp(&c.o[0], &p, sizeof(p)), 0);
	tg_store_close(st);
	/* Chains are stored once each. */
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM chain"), 2);
}
END_TEST

static int latest(struct tg_store *st, unsigned port, int64_t since, const char *excl, struct collect *c)
{
	char err[TG_ERRBUF] = "";
	int rc;

	memset(c, 0, sizeof(*c));
	rc = tg_history_latest_by_address(st, H, port, since, excl, collect_cb, c, err, sizeof(err));
	ck_assert_msg(rc >= 0, "%d %s", rc, err);
	ck_assert_int_eq(rc, c->n);
	return rc;
}

START_TEST(test_latest_by_address)
{
	struct tg_store *st = open_ok(pathof("s.db"));
	struct tg_observation o;
	struct collect c;

	/* .2: accepted at T0 + 1 and T0 + 5 (a probe), rejected at T0 + 9 */
	o = obs_make(H, 443, "192.0.2.2", T0 + 1, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.2", T0 + 5, TLSGUARD_ACCEPT, TG_OBS_PROBE, 2);
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.2", T0 + 9, TLSGUARD_REJECT, TG_OBS_CONNECTION, 3);
	append_ok(st, &o, NULL);
	/* .1: accepted at T0 + 3; appended later with an older time */
	o = obs_make(H, 443, "192.0.2.1", T0 + 3, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 4);
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.1", T0 + 2, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 5);
	append_ok(st, &o, NULL);
	/* no address; another port; another host */
	o = obs_make(H, 443, "", T0 + 20, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	append_ok(st, &o, NULL);
	o = obs_make(H, 8443, "192.0.2.3", T0 + 20, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	append_ok(st, &o, NULL);
	o = obs_make("other.example.test", 443, "192.0.2.4", T0 + 20, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	append_ok(st, &o, NULL);

	ck_assert_int_eq(latest(st, 443, 0, NULL, &c), 2);
	ck_assert_str_eq(c.o[0].address, "192.0.2.1");
	ck_assert_int_eq(c.o[0].time, T0 + 3);
	ck_assert_int_eq(c.o[0].seq, 3);
	ck_assert_str_eq(c.o[1].address, "192.0.2.2");
	ck_assert_int_eq(c.o[1].time, T0 + 5);
	ck_assert_int_eq(c.o[1].source, TG_OBS_PROBE);
	ck_assert_int_eq(latest(st, 443, T0 + 4, NULL, &c), 1);
	ck_assert_str_eq(c.o[0].address, "192.0.2.2");
	ck_assert_int_eq(latest(st, 443, 0, "192.0.2.1", &c), 1);
	ck_assert_str_eq(c.o[0].address, "192.0.2.2");
	ck_assert_int_eq(latest(st, 443, 0, "", &c), 2);
	ck_assert_int_eq(latest(st, 443, T0 + 6, NULL, &c), 0);
	ck_assert_int_eq(latest(st, 8443, 0, NULL, &c), 1);
	ck_assert_int_eq(latest(st, 80, 0, NULL, &c), 0);
	/* the callback stops the walk */
	{
		char err[TG_ERRBUF];
		memset(&c, 0, sizeof(c));
		c.stop_at = 1;
		ck_assert_int_eq(tg_history_latest_by_address(st, H, 443, 0, NULL, collect_cb, &c, err, sizeof(err)), 1);
	}
	/* many addresses: more than one batch, still once each, in order */
	{
		char addr[32];
		int i;
		for (i = 0; i < 150; i++) {
			snprintf(addr, sizeof(addr), "198.51.100.%03d", i);
			o = obs_make(H, 9000, addr, T0 + i, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
			append_ok(st, &o, NULL);
			o.time += 1000;
			append_ok(st, &o, NULL);
		}
		ck_assert_int_eq(latest(st, 9000, 0, NULL, &c), 150);
		ck_assert_str_eq(c.o[63].address, "198.51.100.063");
		ck_assert_int_eq(c.o[63].time, T0 + 63 + 1000);
	}
	tg_store_close(st);
}
END_TEST

START_TEST(test_foreach_and_last_time)
{
	struct tg_store *st = open_ok(pathof("s.db"));
	struct tg_observation o;
	struct collect c;
	char err[TG_ERRBUF] = "";
	int64_t t = -1;
	int i;

	for (i = 0; i < 200; i++) {
		o = obs_make(i % 2 ? H : "b.example.test", i % 4 < 2 ? 443 : 8443, "192.0.2.9", T0 + i,
		             TLSGUARD_ACCEPT, i % 3 ? TG_OBS_CONNECTION : TG_OBS_PROBE, (unsigned)i % 4);
		append_ok(st, &o, NULL);
	}
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, NULL, 0, 0, collect_cb, &c, err, sizeof(err)), 200);
	ck_assert_int_eq(c.o[0].seq, 199); /* newest first */
	ck_assert_int_eq(c.o[63].seq, 136);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, H, 0, 0, collect_cb, &c, err, sizeof(err)), 100);
	ck_assert_int_eq(c.o[0].seq, 199);
	ck_assert_int_eq(c.o[1].seq, 197);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, H, 443, 0, collect_cb, &c, err, sizeof(err)), 50);
	ck_assert_int_eq(c.o[0].seq, 197);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, H, 443, 7, collect_cb, &c, err, sizeof(err)), 7);
	ck_assert_int_eq(c.n, 7);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, NULL, 0, 70, collect_cb, &c, err, sizeof(err)), 70);
	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	ck_assert_int_eq(tg_history_foreach(st, NULL, 0, 0, collect_cb, &c, err, sizeof(err)), 3);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(tg_history_foreach(st, "none.example.test", 0, 0, collect_cb, &c, err, sizeof(err)), 0);

	/* H:443 are i % 4 == 1: connections unless i % 3 == 0 */
	ck_assert_int_eq(tg_history_last_time(st, H, 443, TG_OBS_CONNECTION, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t, T0 + 197);
	ck_assert_int_eq(tg_history_last_time(st, H, 443, TG_OBS_PROBE, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t, T0 + 189);
	ck_assert_int_eq(tg_history_last_time(st, H, 80, TG_OBS_PROBE, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t, 0);
	tg_store_close(st);
}
END_TEST

struct sums {
	int n;
	struct tg_hist_summary s[8];
};

static int sum_cb(const struct tg_hist_summary *s, void *ud)
{
	struct sums *x = ud;

	if (x->n < 8)
		x->s[x->n] = *s;
	x->n++;
	return 0;
}

static int summary(struct tg_store *st, unsigned port, int kind, struct sums *x)
{
	char err[TG_ERRBUF] = "";
	int rc;

	memset(x, 0, sizeof(*x));
	rc = tg_history_summary_foreach(st, H, port, kind, sum_cb, x, err, sizeof(err));
	ck_assert_msg(rc >= 0, "%d %s", rc, err);
	return rc;
}

START_TEST(test_summary)
{
	struct tg_store *st = open_ok(pathof("s.db"));
	struct tg_observation o;
	struct sums x;

	o = obs_make(H, 443, "192.0.2.1", T0 + 10, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.1", T0 + 5, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1); /* older clock */
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.1", T0 + 20, TLSGUARD_REJECT, TG_OBS_CONNECTION, 1);
	o.fatal_codes = 1u << 7;
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.1", T0 + 30, TLSGUARD_REJECT, TG_OBS_CONNECTION, 2);
	append_ok(st, &o, NULL);
	/* probes do not count */
	o = obs_make(H, 443, "192.0.2.1", T0 + 40, TLSGUARD_REJECT, TG_OBS_PROBE, 1);
	append_ok(st, &o, NULL);
	o = obs_make(H, 443, "192.0.2.1", T0 + 50, TLSGUARD_ACCEPT, TG_OBS_PROBE, 3);
	append_ok(st, &o, NULL);

	ck_assert_int_eq(summary(st, 443, TG_HIST_KEY, &x), 2);
	ck_assert_int_eq(x.s[0].first_seen, T0 + 5);
	ck_assert_int_eq(x.s[0].last_seen, T0 + 20);
	ck_assert_uint_eq(x.s[0].accepted, 2);
	ck_assert_uint_eq(x.s[0].rejected, 1);
	ck_assert_int_eq(x.s[0].last_rejected, T0 + 20);
	ck_assert_uint_eq(x.s[0].last_rejected_codes, 1u << 7);
	ck_assert_str_eq(x.s[0].name, "");
	ck_assert_int_eq(x.s[0].hash[0], 0x11);
	ck_assert_int_eq(x.s[1].first_seen, T0 + 30);
	ck_assert_uint_eq(x.s[1].accepted, 0);
	ck_assert_uint_eq(x.s[1].rejected, 1);
	ck_assert_int_eq(summary(st, 443, TG_HIST_ISSUER, &x), 2);
	ck_assert_str_eq(x.s[0].name, "CN=Issuer 1,O=Test");
	ck_assert_int_eq(summary(st, 443, TG_HIST_ANCHOR, &x), 1);
	ck_assert_uint_eq(x.s[0].accepted + x.s[0].rejected, 4);
	ck_assert_str_eq(x.s[0].name, "CN=Root,O=Test");
	ck_assert_int_eq(summary(st, 8443, TG_HIST_KEY, &x), 0);
	tg_store_close(st);
}
END_TEST

/* ------------------------------------------------------------------ tree */

START_TEST(test_heads_mth)
{
	const char *path = pathof("s.db");
	struct tg_store *st = open_ok(path);
	struct tg_tree_head h;
	char err[TG_ERRBUF] = "";
	unsigned char ref[32], *leaves, *roots;
	static const size_t big[] = {1024, 1025, 2047, 3000};
	size_t n, i;

	ck_assert_int_eq(tg_history_head(st, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.size, 0);
	mth(NULL, 0, ref);
	ck_assert_int_eq(memcmp(h.root, ref, 32), 0);
	append_many(st, 3000, NULL);
	ck_assert_int_eq(tg_history_head(st, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.size, 3000);
	ck_assert_int_eq(h.time, T0 + 10 * 2999);
	tg_store_close(st);

	leaves = raw_blobs(path, "SELECT leaf_hash FROM observation ORDER BY seq", 3000);
	roots = raw_blobs(path, "SELECT root FROM tree_head ORDER BY size", 3000);
	for (n = 1; n <= 300; n++) {
		mth(leaves, n, ref);
		ck_assert_msg(memcmp(roots + (n - 1) * 32, ref, 32) == 0, "head at size %zu differs from MTH", n);
	}
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		mth(leaves, big[i], ref);
		ck_assert_msg(memcmp(roots + (big[i] - 1) * 32, ref, 32) == 0, "head at size %zu", big[i]);
	}
	mth(leaves, 3000, ref);
	ck_assert_int_eq(memcmp(h.root, ref, 32), 0);
	free(leaves);
	free(roots);
}
END_TEST

START_TEST(test_verify_intact)
{
	struct tg_store *st = open_ok(pathof("s.db"));
	struct tg_history_stats stats;
	struct tg_tree_head cur, h10, h;
	struct probs p;
	char err[TG_ERRBUF] = "";

	/* empty */
	ck_assert_int_eq(verify(st, NULL, &p, &stats), 0);
	ck_assert_int_eq(stats.records, 0);
	append_many(st, 10, NULL);
	ck_assert_int_eq(tg_history_head(st, &h10, err, sizeof(err)), 0);
	append_many(st, 290, NULL);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(tg_history_verify(st, &h10, prob_cb, &p, &cur, &stats, err, sizeof(err)), 0);
	ck_assert_int_eq(p.n, 0);
	ck_assert_int_eq(stats.records, 300);
	ck_assert_int_eq(stats.heads, 300);
	ck_assert_int_eq(stats.problems, 0);
	ck_assert_int_eq(stats.compacted, 0);
	ck_assert_int_eq(tg_history_head(st, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(cur.size, 300);
	ck_assert_int_eq(memcmp(cur.root, h.root, 32), 0);
	ck_assert_int_eq(cur.time, h.time);
	/* the current head as the trusted one; a wrong trusted root */
	ck_assert_int_eq(verify(st, &h, &p, NULL), 0);
	h10.root[0] ^= 1;
	ck_assert_int_eq(verify(st, &h10, &p, NULL), 1);
	ck_assert(has_problem(&p, -1, "not consistent with the trusted tree head at size 10"));
	/* a trusted head larger than the log */
	h.size = 301;
	ck_assert_int_eq(verify(st, &h, &p, NULL), 1);
	ck_assert(has_problem(&p, -1, "fewer than the 301"));
	tg_store_close(st);
}
END_TEST

START_TEST(test_compaction)
{
	const char *path = pathof("s.db");
	struct tg_store *st = open_ok(path);
	struct tg_history_limits lim = {0, 100};
	struct tg_history_stats stats;
	struct tg_tree_head early, mid, h;
	struct probs p;
	struct sums x;
	char err[TG_ERRBUF] = "";
	int64_t rows, acc = 0;
	int i;

	append_many(st, 5, &lim);
	ck_assert_int_eq(tg_history_head(st, &early, err, sizeof(err)), 0);
	append_many(st, 995, &lim);
	rows = raw_int(path, "SELECT count(*) FROM observation");
	ck_assert_msg(rows >= 90 && rows <= 100, "%lld rows", (long long)rows);
	ck_assert_int_le(raw_int(path, "SELECT count(*) FROM tree_head"), 101);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM chain WHERE id NOT IN (SELECT chain_id FROM observation)"),
	                 0);
	ck_assert_int_eq(raw_int(path, "SELECT min(size) FROM tree_head"),
	                 raw_int(path, "SELECT min(seq) FROM observation"));
	ck_assert_int_eq(tg_history_head(st, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.size, 1000);
	ck_assert_int_eq(verify(st, NULL, &p, &stats), 0);
	ck_assert_int_eq(stats.compacted, 1000 - rows);
	ck_assert_int_eq(stats.records, rows);
	/* the summary keeps every connection */
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(tg_history_summary_foreach(st, "a.example.test", 443, TG_HIST_KEY, sum_cb, &x, err,
	                                            sizeof(err)), 3); /* odd records: chains 1, 3, 5 */
	for (i = 0; i < 3; i++)
		acc += (int64_t)(x.s[i].accepted + x.s[i].rejected);
	ck_assert_int_eq(acc, 2 + 497); /* odd i of the two calls */
	/* a trusted head before the compacted part cannot be checked; one
	 * inside the kept part can */
	ck_assert_int_eq(verify(st, &early, &p, NULL), 1);
	ck_assert(has_problem(&p, -1, "cannot be checked"));
	mid.size = h.size - 5;
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM tree_head WHERE size = 995"), 1);
	{
		sqlite3 *db;
		sqlite3_stmt *s;
		ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT root FROM tree_head WHERE size = 995", -1, &s, NULL),
		                 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		memcpy(mid.root, sqlite3_column_blob(s, 0), 32);
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
	ck_assert_int_eq(verify(st, &mid, &p, NULL), 0);
	/* an altered compacted frontier is seen at the head where it ends */
	tg_store_close(st);
	raw_exec(path, "UPDATE log_state SET base_frontier = zeroblob(length(base_frontier))");
	st = open_ok(path);
	ck_assert_int_eq(verify(st, NULL, &p, NULL), 1);
	ck_assert_msg(has_problem(&p, -1, "compacted part ends"), "base frontier");
	tg_store_close(st);

	/* retention: 100 s, records 10 s apart */
	st = open_ok(pathof("r.db"));
	lim.retention = 100;
	lim.max_rows = 0;
	append_many(st, 200, &lim);
	rows = raw_int(pathof("r.db"), "SELECT count(*) FROM observation");
	/* Kept: the last 100 s (11 records), plus at most the tenth of the
	 * retention that amortises compaction (one more record). */
	ck_assert_msg(rows == 11 || rows == 12, "%lld rows", (long long)rows);
	ck_assert_int_eq(raw_int(pathof("r.db"), "SELECT min(time) FROM observation"), T0 + 10 * (200 - rows));
	ck_assert_int_eq(verify(st, NULL, &p, &stats), 0);
	ck_assert_int_eq(stats.compacted, 200 - rows);
	tg_store_close(st);
}
END_TEST

/* ------------------------------------------------------------------ tampering */

/* A store of 40 records; closed. */
static const char *tamper_store(const char *name)
{
	const char *path = pathof(name);
	struct tg_store *st = open_ok(path);

	append_many(st, 40, NULL);
	tg_store_close(st);
	return path;
}

static int verify_path(const char *path, const struct tg_tree_head *trusted, struct probs *p)
{
	struct tg_store *st = open_ok(path);
	int rc = verify(st, trusted, p, NULL);

	tg_store_close(st);
	return rc;
}

START_TEST(test_tamper_records)
{
	const char *path;
	struct probs p;
	int i;

	/* an edited address: exactly that record */
	path = tamper_store("addr.db");
	raw_exec(path, "UPDATE observation SET address = '203.0.113.66' WHERE seq = 5");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert_int_eq(p.n, 1);
	ck_assert_msg(has_problem(&p, 5, "record 5 (a.example.test:443 via 203.0.113.66 at 2026-06-01 00:00:50 UTC) "
	                                 "was altered"), "%s", p.msg[0]);

	/* a deleted record */
	path = tamper_store("del.db");
	raw_exec(path, "DELETE FROM observation WHERE seq = 7");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, 7, "record 7 was removed"));
	/* the newest ones */
	raw_exec(path, "DELETE FROM observation WHERE seq >= 38");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, 38, "records 38 to 39"));

	/* two records swapped */
	path = tamper_store("swap.db");
	raw_exec(path, "UPDATE observation SET seq = 1000 WHERE seq = 3; UPDATE observation SET seq = 3 WHERE seq = 4;"
	               " UPDATE observation SET seq = 4 WHERE seq = 1000");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, 3, "altered or moved"));
	ck_assert(has_problem(&p, 4, "altered or moved"));
	/* and the stored leaf hashes moved with them: the heads from 4 on */
	ck_assert(has_problem(&p, 3, "tree head at size 4 does not match the records: record 3"));

	/* an edited chain: every record that uses it (chains repeat every 6) */
	path = tamper_store("chain.db");
	raw_exec(path, "UPDATE chain SET issuer_name = 'CN=Evil' WHERE id = (SELECT chain_id FROM observation WHERE "
	               "seq = 2)");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	for (i = 2; i < 40; i += 6)
		ck_assert_msg(has_problem(&p, i, "altered"), "record %d", i);
	ck_assert_int_eq(p.n, 7);
}
END_TEST

START_TEST(test_tamper_leaf_and_heads)
{
	const char *path, *other;
	struct tg_store *st;
	struct probs p;
	struct tg_tree_head trusted;
	char err[TG_ERRBUF] = "", sql[512];
	int64_t i;

	/* record 12 edited together with its leaf hash: the content matches
	 * its leaf again, the heads from 13 on do not. The forged leaf hash is
	 * made by the library itself: a second store with the same records,
	 * record 12 edited. */
	path = tamper_store("leaf.db");
	other = pathof("forge.db");
	st = open_ok(other);
	for (i = 0; i < 13; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "192.0.2.%d", (int)(i % 5));
		struct tg_observation o = obs_make(i % 2 ? "a.example.test" : "b.example.test", 443,
		                                   i == 12 ? "203.0.113.7" : addr, T0 + 10 * i,
		                                   i % 7 == 3 ? TLSGUARD_REJECT : TLSGUARD_ACCEPT, TG_OBS_CONNECTION,
		                                   (unsigned)(i % 6));
		append_ok(st, &o, NULL);
	}
	tg_store_close(st);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS f; UPDATE observation SET address = '203.0.113.7', leaf_hash ="
	                           " (SELECT leaf_hash FROM f.observation WHERE seq = 12) WHERE seq = 12", other);
	raw_exec(path, sql);
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	if (!has_problem(&p, 12, "tree head at size 13 does not match the records: record 12 makes the difference"))
		dump(&p);
	ck_assert(has_problem(&p, 12, "tree head at size 13 does not match the records: record 12 makes the difference"));
	ck_assert(!has_problem(&p, 12, "altered or moved"));

	/* a deleted head */
	path = tamper_store("head.db");
	raw_exec(path, "DELETE FROM tree_head WHERE size = 17");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, -1, "tree head at size 17 is missing"));
	ck_assert_int_eq(p.n, 1);
	/* an edited head root */
	raw_exec(path, "UPDATE tree_head SET root = zeroblob(32) WHERE size = 20");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, -1, "tree head at size 20 does not match the records (the heads after it do)"));
	/* the current head */
	raw_exec(path, "UPDATE tree_head SET root = zeroblob(32) WHERE size = 40");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, 39, "tree head at size 40 does not match"));
	/* an edited frontier in the log state */
	path = tamper_store("front.db");
	raw_exec(path, "UPDATE log_state SET frontier = zeroblob(length(frontier))");
	ck_assert_int_eq(verify_path(path, NULL, &p), 1);
	ck_assert(has_problem(&p, -1, "frontier does not match"));

	/* a log rewritten from scratch after a head was kept elsewhere */
	path = tamper_store("rewrite.db");
	st = open_ok(path);
	ck_assert_int_eq(tg_history_head(st, &trusted, err, sizeof(err)), 0);
	tg_store_close(st);
	raw_exec(path, "DELETE FROM observation; DELETE FROM tree_head; DELETE FROM chain;"
	               " UPDATE log_state SET base_size = 0, base_frontier = x'', size = 0, frontier = x''");
	st = open_ok(path);
	for (i = 0; i < 45; i++) {
		struct tg_observation o = obs_make("a.example.test", 443, "203.0.113.9", T0 + i, TLSGUARD_ACCEPT,
		                                   TG_OBS_CONNECTION, 1);
		append_ok(st, &o, NULL);
	}
	ck_assert_int_eq(verify(st, NULL, &p, NULL), 0); /* consistent in itself */
	ck_assert_int_eq(verify(st, &trusted, &p, NULL), 1);
	ck_assert(has_problem(&p, -1, "not consistent with the trusted tree head at size 40"));
	tg_store_close(st);
}
END_TEST

/* ------------------------------------------------------------------ errors */

START_TEST(test_invalid_args)
{
	struct tg_store *st = open_ok(pathof("s.db"));
	struct tg_observation o, good = obs_make(H, 443, "192.0.2.1", T0, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	struct tg_history_limits bad = {-1, 0};
	struct collect c;
	struct tg_tree_head h;
	char err[TG_ERRBUF];
	int64_t t;
	static const char *const fields[] = {"invalid host", "invalid host", "host", "port", "port", "address",
	                                     "address", "source", "ct", "pin", "verdict", "nchain", "time",
	                                     "issuer_name", "anchor_name"};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		o = good;
		switch (i) {
		case 0: snprintf(o.host, sizeof(o.host), "Upper.Example.test"); break;
		case 1: o.host[0] = '\0'; break;
		case 2: memset(o.host, 'a', sizeof(o.host)); break;
		case 3: o.port = 0; break;
		case 4: o.port = 65536; break;
		case 5: memset(o.address, '1', sizeof(o.address)); break;
		case 6: snprintf(o.address, sizeof(o.address), "a b"); break;
		case 7: o.source = 2; break;
		case 8: o.ct = 3; break;
		case 9: o.pin = -1; break;
		case 10: o.verdict = 2; break;
		case 11: o.nchain = TG_OBS_MAX_CHAIN + 1; break;
		case 12: o.time = -5; break;
		case 13: memset(o.issuer_name, 'n', sizeof(o.issuer_name)); break;
		default: memset(o.anchor_name, 'n', sizeof(o.anchor_name)); break;
		}
		err[0] = '\0';
		ck_assert_int_eq(tg_history_append(st, &o, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
		ck_assert_msg(strstr(err, fields[i]) != NULL, "case %zu: %s", i, err);
	}
	ck_assert_int_eq(tg_history_append(NULL, &good, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_append(st, NULL, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_append(st, &good, &bad, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "retention") != NULL, "%s", err);
	ck_assert_int_eq(tg_history_foreach(st, "BAD", 0, 0, collect_cb, &c, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_foreach(st, NULL, 443, 0, collect_cb, &c, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_foreach(st, H, 0, -1, collect_cb, &c, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_foreach(st, H, 0, 0, NULL, &c, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_latest_by_address(st, H, 0, 0, NULL, collect_cb, &c, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_latest_by_address(st, NULL, 443, 0, NULL, collect_cb, &c, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_last_time(st, H, 443, 5, &t, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "source") != NULL, "%s", err);
	ck_assert_int_eq(tg_history_last_time(st, H, 443, 0, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_summary_foreach(st, H, 443, 3, sum_cb, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_head(st, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_head(NULL, &h, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_history_verify(NULL, NULL, NULL, NULL, NULL, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	/* nothing was written */
	ck_assert_int_eq(tg_history_head(st, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.size, 0);
	tg_store_close(st);
}
END_TEST

/* A store with one good record, then @sql run with CHECKs off; every reader
 * must fail with TLSGUARD_E_STORE naming @needle. */
enum { ROWS, SUMMARY, STATE };
static void hostile(const char *name, const char *sql, const char *needle, int what)
{
	const char *path = pathof(name);
	struct tg_store *st = open_ok(path);
	struct tg_observation o = obs_make(H, 443, "192.0.2.1", T0, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	struct collect c;
	struct sums x;
	struct tg_tree_head h;
	char err[TG_ERRBUF], full[1024];
	int rc;

	append_ok(st, &o, NULL);
	tg_store_close(st);
	snprintf(full, sizeof(full), "PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF; %s", sql);
	raw_exec(path, full);
	st = open_ok(path);
	if (what == STATE) {
		err[0] = '\0';
		rc = tg_history_verify(st, NULL, NULL, NULL, NULL, NULL, err, sizeof(err));
		ck_assert_msg(rc == TLSGUARD_E_STORE && strstr(err, needle) && strstr(err, path), "%s: verify %d %s",
		              name, rc, err);
		rc = tg_history_head(st, &h, err, sizeof(err));
		ck_assert_msg(rc == TLSGUARD_E_STORE && strstr(err, needle), "%s: head %d %s", name, rc, err);
		tg_store_close(st);
		return;
	}
	if (what == SUMMARY) {
		err[0] = '\0';
		rc = tg_history_summary_foreach(st, H, 443, TG_HIST_KEY, sum_cb, &x, err, sizeof(err));
		ck_assert_msg(rc == TLSGUARD_E_STORE && strstr(err, needle) && strstr(err, path), "%s: %d %s", name, rc,
		              err);
		tg_store_close(st);
		return;
	}
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	rc = tg_history_foreach(st, NULL, 0, 0, collect_cb, &c, err, sizeof(err));
	ck_assert_msg(rc == TLSGUARD_E_STORE && strstr(err, needle) && strstr(err, path), "%s: foreach %d %s", name, rc,
	              err);
	ck_assert_int_eq(c.n, 0);
	err[0] = '\0';
	rc = tg_history_verify(st, NULL, NULL, NULL, NULL, NULL, err, sizeof(err));
	ck_assert_msg(rc == TLSGUARD_E_STORE && strstr(err, needle), "%s: verify %d %s", name, rc, err);
	err[0] = '\0';
	rc = tg_history_latest_by_address(st, H, 443, 0, NULL, collect_cb, &c, err, sizeof(err));
	ck_assert_msg(rc == TLSGUARD_E_STORE || rc >= 0, "%s: latest %d %s", name, rc, err);
	rc = tg_history_head(st, &h, err, sizeof(err));
	ck_assert_msg(rc == 0 || rc == TLSGUARD_E_STORE, "%s: head %d %s", name, rc, err);
	tg_store_close(st);
}

START_TEST(test_hostile_rows)
{
	hostile("time.db", "UPDATE observation SET time = 'yesterday' WHERE seq = 0", "record 0: column time", ROWS);
	hostile("leaf.db", "UPDATE observation SET leaf_hash = randomblob(31) WHERE seq = 0",
	        "record 0: column leaf_hash", ROWS);
	hostile("addr.db", "UPDATE observation SET address = x'3132' WHERE seq = 0", "record 0: column address", ROWS);
	hostile("ctl.db", "UPDATE observation SET address = 'a' || char(27) || '[2J' WHERE seq = 0",
	        "record 0: column address", ROWS);
	hostile("host.db", "UPDATE observation SET host = 'WWW.example.test' WHERE seq = 0", "record 0: column host",
	        ROWS);
	hostile("verdict.db", "UPDATE observation SET verdict = 7 WHERE seq = 0", "record 0: column verdict", ROWS);
	hostile("port.db", "UPDATE observation SET port = 0 WHERE seq = 0", "record 0: column port", ROWS);
	hostile("nochain.db", "UPDATE observation SET chain_id = 999 WHERE seq = 0", "refers to no chain", ROWS);
	hostile("fp.db", "UPDATE chain SET fingerprints = randomblob(33)", "chain.fingerprints", ROWS);
	hostile("name.db", "UPDATE chain SET issuer_name = x'4100'", "chain.issuer_name", ROWS);
	hostile("spki.db", "UPDATE chain SET leaf_spki = 'k'", "chain.leaf_spki", ROWS);
	hostile("state.db", "UPDATE log_state SET frontier = randomblob(3)", "column frontier", STATE);
	hostile("state2.db", "DELETE FROM log_state", "log state", STATE);
	hostile("head.db", "UPDATE tree_head SET root = 'x'", "tree head at size 1: column root", STATE);
	hostile("sum.db", "UPDATE host_summary SET accepted = 'many'", "column accepted", SUMMARY);
	hostile("sum2.db", "UPDATE host_summary SET hash = randomblob(2)", "column hash", SUMMARY);
	/* appends refuse a broken log state */
	{
		struct tg_store *st = open_ok(pathof("state.db"));
		struct tg_observation o = obs_make(H, 443, "192.0.2.1", T0, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
		char err[TG_ERRBUF] = "";
		ck_assert_int_eq(tg_history_append(st, &o, NULL, err, sizeof(err)), TLSGUARD_E_STORE);
		ck_assert_msg(strstr(err, "frontier") != NULL, "%s", err);
		tg_store_close(st);
	}
}
END_TEST

/* The SQL of schema version 1 (store.c, migration 0 -> 1). */
#define SCHEMA_1                                                                                                     \
	"CREATE TABLE tofu (host TEXT NOT NULL CHECK (typeof(host) = 'text' AND length(host) BETWEEN 1 AND 253),"      \
	" port INTEGER NOT NULL CHECK (typeof(port) = 'integer' AND port BETWEEN 0 AND 65535),"                        \
	" spki BLOB NOT NULL CHECK (typeof(spki) = 'blob' AND length(spki) = 32),"                                     \
	" first_seen INTEGER NOT NULL CHECK (typeof(first_seen) = 'integer'),"                                         \
	" last_seen INTEGER NOT NULL CHECK (typeof(last_seen) = 'integer'),"                                           \
	" seen_count INTEGER NOT NULL CHECK (typeof(seen_count) = 'integer' AND seen_count >= 1),"                     \
	" pending BLOB CHECK (pending IS NULL OR (typeof(pending) = 'blob' AND length(pending) = 32)),"                \
	" pending_seen INTEGER CHECK (pending_seen IS NULL OR typeof(pending_seen) = 'integer'),"                      \
	" CHECK ((pending IS NULL) = (pending_seen IS NULL)), PRIMARY KEY (host, port)) WITHOUT ROWID;"               \
	"PRAGMA application_id = 1414288199; PRAGMA user_version = 1;"

START_TEST(test_migration_and_shapes)
{
	const char *path = pathof("v1.db");
	struct tg_store *st;
	struct tg_tofu rec;
	struct tg_observation o = obs_make(H, 443, "192.0.2.1", T0, TLSGUARD_ACCEPT, TG_OBS_CONNECTION, 1);
	struct probs p;
	char err[TG_ERRBUF] = "";

	raw_exec(path, SCHEMA_1 "INSERT INTO tofu VALUES ('old.example.test', 443, zeroblob(32), 1, 2, 3, NULL, NULL);");
	st = open_ok(path);
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 2);
	ck_assert_int_eq(tg_store_tofu_get(st, "old.example.test", 443, &rec, err, sizeof(err)), 1);
	ck_assert_uint_eq(rec.seen_count, 3);
	append_ok(st, &o, NULL);
	ck_assert_int_eq(verify(st, NULL, &p, NULL), 0);
	ck_assert_int_eq(tg_store_check(st, err, sizeof(err)), 0);
	tg_store_close(st);

	/* hand-made history tables are refused, naming file and table */
	{
		static const struct {
			const char *sql, *needle;
		} bad[] = {
			{"DROP TABLE tree_head; CREATE TABLE tree_head (size INTEGER PRIMARY KEY, root, time INTEGER)",
			 "table tree_head has an unexpected shape"},
			{"DROP TABLE host_summary; CREATE TABLE host_summary (host TEXT)", "table host_summary"},
			{"DROP INDEX observation_address; DROP INDEX observation_host; DROP INDEX observation_chain;"
			 " ALTER TABLE observation RENAME TO o2; CREATE VIEW observation AS SELECT * FROM o2",
			 "observation is not a table"},
			{"DROP TABLE log_state", "table log_state is missing"},
		};
		size_t i;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char name[32];
			const char *pi;
			snprintf(name, sizeof(name), "shape%zu.db", i);
			pi = pathof(name);
			st = open_ok(pi);
			tg_store_close(st);
			raw_exec(pi, bad[i].sql);
			st = (struct tg_store *)&st;
			ck_assert_int_eq(tg_store_open(&st, pi, 1, err, sizeof(err)), TLSGUARD_E_STORE);
			ck_assert_ptr_null(st);
			ck_assert_msg(strstr(err, bad[i].needle) && strstr(err, pi), "%zu: %s", i, err);
		}
	}
	/* a version 1 file with a history table of its own: not migrated */
	path = pathof("v1b.db");
	raw_exec(path, SCHEMA_1 "CREATE TABLE chain (x);");
	st = (struct tg_store *)&st;
	ck_assert_int_eq(tg_store_open(&st, path, 1, err, sizeof(err)), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(err, "cannot migrate") != NULL, "%s", err);
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 1);
}
END_TEST

/* Two threads appending through one handle, and a second handle. */
static void *appender(void *arg)
{
	struct tg_store *st = arg;
	int i;

	for (i = 0; i < 100; i++) {
		struct tg_observation o = obs_make(H, 443, "192.0.2.1", T0 + i, TLSGUARD_ACCEPT, TG_OBS_CONNECTION,
		                                   (unsigned)i % 3);
		char err[TG_ERRBUF];
		if (tg_history_append(st, &o, NULL, err, sizeof(err)) != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_threads)
{
	const char *path = pathof("s.db");
	struct tg_store *a = open_ok(path), *b = open_ok(path);
	pthread_t t[3];
	void *r;
	struct probs p;
	int i;

	ck_assert_int_eq(pthread_create(&t[0], NULL, appender, a), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, appender, a), 0);
	ck_assert_int_eq(pthread_create(&t[2], NULL, appender, b), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_null(r);
	}
	ck_assert_int_eq(verify(a, NULL, &p, NULL), 0);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM observation"), 300);
	tg_store_close(a);
	tg_store_close(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("history");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_latest_by_address);
	tcase_add_test(tc, test_foreach_and_last_time);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_heads_mth);
	tcase_add_test(tc, test_verify_intact);
	tcase_add_test(tc, test_compaction);
	tcase_add_test(tc, test_tamper_records);
	tcase_add_test(tc, test_tamper_leaf_and_heads);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_hostile_rows);
	tcase_add_test(tc, test_migration_and_shapes);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(suite());
}
