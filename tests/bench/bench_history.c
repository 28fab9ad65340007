/*
 * make bench: what the observation history costs (lib/history.c).
 *
 * Appends N (default 1,000,000; first argument to change it) realistic
 * observations with the default limits (TG_HISTORY_DEFAULT_RETENTION and
 * _MAX_ROWS) to a new store: 3,000 hosts, each with 1 to 4 addresses and 1 or
 * 2 certificate chains (so chains repeat a lot), one in 10 a probe, one in 25
 * rejected, 60 s apart on average (so that after 90 days of records the
 * retention rule compacts at every append: the steady state).
 *
 * Printed: microseconds per append over the first and the last 10,000
 * (their ratio: 1 means appends do not slow down as the log grows and is
 * compacted), the store's size on disk with its -wal after N, the records
 * kept, and a BASELINE from the same run: N plain SQLite single-row inserts
 * of a comparable row into a table without indexes, with the same journal
 * settings (WAL, synchronous=FULL) and one transaction each, no Merkle tree
 * and no summary; then the time of tg_history_verify on the final store.
 *
 * The files go to $TG_BENCH_DIR, else /dev/shm when writable, else $TMPDIR
 * or /tmp. On /dev/shm (tmpfs) an fsync costs nothing, so the figures are
 * the CPU and SQLite cost of an append; on a disk both runs add one fsync
 * of the WAL per commit. Wall-clock time (the work is I/O and CPU). A
 * benchmark, not a test: it fails only when an operation fails.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sqlite3.h>
#include <tlsguard/tlsguard.h>

#include "tg.h"
#include "tg_history.h"
#include "tg_store.h"

#define WINDOW 10000
#define NHOSTS 3000
#define T_START INT64_C(1780272000)

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_history: %s: %s\n", what, msg);
	exit(2);
}

/* xorshift64*: the same sequence in every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

static long long file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Observation i: host h (skewed: low numbers are visited more), one of
 * its addresses, one of its chains (the second one after a "renewal"). */
static void make_obs(struct tg_observation *o, int64_t t)
{
	unsigned h = (unsigned)(rnd() % NHOSTS), naddr = 1 + h % 4, a = (unsigned)(rnd() % naddr);
	unsigned chain = h * 2 + (t > T_START + (int64_t)(h % 365) * 86400 ? 1 : 0), k;
	uint64_t r = rnd();

	if (r % 3 == 0)
		h = h % 300; /* popular hosts */
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "host%04u.example.test", h);
	o->port = 443;
	snprintf(o->address, sizeof(o->address), "%u.%u.%u.%u", 10 + h % 200, h / 200 % 256, h % 251, a + 1);
	o->time = t;
	o->source = r % 10 == 0 ? TG_OBS_PROBE : TG_OBS_CONNECTION;
	o->verdict = r % 25 == 7 ? TLSGUARD_REJECT : TLSGUARD_ACCEPT;
	o->fatal_codes = o->verdict == TLSGUARD_REJECT ? UINT64_C(1) << 3 : 0;
	o->ct = TG_OBS_CT_COMPLIANT;
	memcpy(o->leaf_spki, &chain, sizeof(chain));
	o->issuer_spki[0] = (unsigned char)(1 + h % 8);
	o->anchor_spki[0] = (unsigned char)(1 + h % 3);
	snprintf(o->issuer_name, sizeof(o->issuer_name), "CN=Example Issuing CA %u,O=Example Trust Services,C=US", h % 8);
	snprintf(o->anchor_name, sizeof(o->anchor_name), "CN=Example Root CA %u,O=Example Trust Services,C=US", h % 3);
	o->nchain = 3;
	for (k = 0; k < 3; k++) {
		memcpy(o->chain[k], &chain, sizeof(chain));
		o->chain[k][31] = (unsigned char)k;
	}
}

static void baseline(const char *path, long n, double *first, double *last, double *total)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *b = NULL, *c = NULL;
	struct tg_observation o;
	double tw = 0, start;
	int64_t t = T_START;
	long i;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                     "CREATE TABLE t (seq INTEGER PRIMARY KEY, time INTEGER, host TEXT, port INTEGER,"
	                     " address TEXT, verdict INTEGER, leaf_spki BLOB)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &b, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &c, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	start = now_sec();
	for (i = 0; i < n; i++) {
		t += (int64_t)(rnd() % 121);
		make_obs(&o, t);
		if (i == 0 || i == n - WINDOW)
			tw = now_sec();
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_bind_int64(ins, 2, o.time);
		sqlite3_bind_text(ins, 3, o.host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, o.port);
		sqlite3_bind_text(ins, 5, o.address, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 6, o.verdict);
		sqlite3_bind_blob(ins, 7, o.leaf_spki, 32, SQLITE_STATIC);
		if (sqlite3_step(b) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(c) != SQLITE_DONE)
			die("baseline insert", sqlite3_errmsg(db));
		sqlite3_reset(b);
		sqlite3_reset(c);
		if (i == WINDOW - 1)
			*first = (now_sec() - tw) / WINDOW;
		if (i == n - 1)
			*last = (now_sec() - tw) / WINDOW;
	}
	*total = now_sec() - start;
	sqlite3_finalize(ins);
	sqlite3_finalize(b);
	sqlite3_finalize(c);
	sqlite3_close(db);
}

static void problem(int64_t seq, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "bench_history: verify: record %lld: %s\n", (long long)seq, msg);
}

int main(int argc, char **argv)
{
	static const struct tg_history_limits lim = {TG_HISTORY_DEFAULT_RETENTION, TG_HISTORY_DEFAULT_MAX_ROWS};
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	const char *base = getenv("TG_BENCH_DIR");
	char dir[512], store[600], wal[610], plain[600], pwal[610], err[TG_ERRBUF];
	struct tg_store *st = NULL;
	struct tg_observation o;
	struct tg_history_stats stats;
	struct tg_tree_head cur;
	double first = 0, last = 0, tw = 0, total, bfirst = 0, blast = 0, btotal, vt;
	long long size, psize;
	int64_t t = T_START, rows;
	long i;
	int rc;

	if (n < 2 * WINDOW)
		die("N", "must be at least 20000");
	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/tg-bench-history-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		die(dir, strerror(errno));
	snprintf(store, sizeof(store), "%s/store.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", store);
	snprintf(plain, sizeof(plain), "%s/plain.db", dir);
	snprintf(pwal, sizeof(pwal), "%s-wal", plain);
	gnutls_global_init();
	printf("tlsguard %s benchmark: observation history (%ld appends, default limits: retention %d days, "
	       "max_rows %d)\nfiles in %s%s\n", tlsguard_version(), n, TG_HISTORY_DEFAULT_RETENTION / 86400,
	       TG_HISTORY_DEFAULT_MAX_ROWS, dir,
	       strncmp(dir, "/dev/shm", 8) == 0 ? " (tmpfs: fsync is free; set TG_BENCH_DIR for a disk)" : "");
	fflush(stdout);

	if (tg_store_open(&st, store, 1, err, sizeof(err)) != 0)
		die("open", err);
	total = now_sec();
	for (i = 0; i < n; i++) {
		t += (int64_t)(rnd() % 121);
		make_obs(&o, t);
		if (i == 0 || i == n - WINDOW)
			tw = now_sec();
		if ((rc = tg_history_append(st, &o, &lim, err, sizeof(err))) != 0)
			die("append", err);
		if (i == WINDOW - 1)
			first = (now_sec() - tw) / WINDOW;
		if (i == n - 1)
			last = (now_sec() - tw) / WINDOW;
	}
	total = now_sec() - total;
	tg_store_close(st); /* checkpoints the WAL */
	if (tg_store_open(&st, store, 0, err, sizeof(err)) != 0)
		die("reopen", err);
	size = file_size(store) + file_size(wal);

	vt = now_sec();
	rc = tg_history_verify(st, NULL, problem, NULL, &cur, &stats, err, sizeof(err));
	vt = now_sec() - vt;
	if (rc != 0)
		die("verify", rc < 0 ? err : "problems found");
	rows = stats.records;
	tg_store_close(st);

	rng_state = 0x9e3779b97f4a7c15u; /* the same rows */
	baseline(plain, n, &bfirst, &blast, &btotal);
	psize = file_size(plain) + file_size(pwal);

	printf("\n%-44s %12s %12s %8s\n", "", "tlsguard", "baseline", "ratio");
	printf("%-44s %12.1f %12.1f %8.2f\n", "us per append, first 10,000", first * 1e6, bfirst * 1e6, first / bfirst);
	printf("%-44s %12.1f %12.1f %8.2f\n", "us per append, last 10,000", last * 1e6, blast * 1e6, last / blast);
	printf("%-44s %12.2f %12.2f\n", "last / first", last / first, blast / bfirst);
	printf("%-44s %12.1f %12.1f %8.2f\n", "us per append, all", total / (double)n * 1e6, btotal / (double)n * 1e6,
	       total / btotal);
	printf("%-44s %12.1f %12.1f\n", "store + -wal after all appends (MB)", (double)size / 1e6, (double)psize / 1e6);
	printf("%-44s %12lld %12ld\n", "records kept", (long long)rows, n);
	printf("%-44s %12lld\n", "records compacted (first seq kept)", (long long)stats.compacted);
	printf("%-44s %12.2f\n", "tg_history_verify of the final store (s)", vt);
	printf("%-44s %12lld\n", "  tree heads checked", (long long)stats.heads);
	printf("baseline: the same rows as plain single-row INSERTs into a table without indexes, one\n"
	       "BEGIN IMMEDIATE ... COMMIT each, WAL, synchronous=FULL: no Merkle tree, heads, summary, chains\n"
	       "or compaction.\n");

	unlink(store);
	unlink(wal);
	unlink(plain);
	unlink(pwal);
	snprintf(wal, sizeof(wal), "%s-shm", store);
	unlink(wal);
	snprintf(pwal, sizeof(pwal), "%s-shm", plain);
	unlink(pwal);
	rmdir(dir);
	gnutls_global_deinit();
	return 0;
}
