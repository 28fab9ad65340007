/*
 * The persistent store (lib/store.c): trust-on-first-use records, the
 * public tlsguard_store_* API, the default path, files that are not (our)
 * stores, many processes and threads writing at once, and processes killed
 * in the middle of a transaction.
 *
 * Every test works in its own mkdtemp() directory under /tmp and removes
 * it; none touches the user's real store (tests of the default path point
 * TLSGUARD_STORE, XDG_DATA_HOME and HOME at temporary directories). Helper
 * processes synchronise with the test through pipes, never by sleeping, and
 * no test asserts a duration.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"
#include "tg.h"
#include "tg_store.h"

#define NPROC 8
#define PER_WORKER 200
#define SHARED_HOST "shared.example.test"

/* ------------------------------------------------------------------ helpers */

/* A new directory /tmp/tlsguard-store-XXXXXX in @d. */
#define TMPDIR_LEN 64
static void make_tmpdir(char d[TMPDIR_LEN])
{
	snprintf(d, TMPDIR_LEN, "/tmp/tlsguard-store-XXXXXX");
	ck_assert_msg(mkdtemp(d) != NULL, "mkdtemp: %s", strerror(errno));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700);
	return remove(path) == 0 ? 0 : -1;
}

/* rm -rf @dir (SQLite leaves -wal and -shm files next to a store). */
static void rm_tmpdir(const char *d)
{
	ck_assert_msg(nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove %s: %s", d, strerror(errno));
}

/* Each test's own directory, made and removed by the checked fixture
 * (in the test's process). Not on the heap: helper processes forked by a
 * test inherit it and leave through _exit() leak-free. */
static char dir[TMPDIR_LEN];

static void dir_setup(void)
{
	make_tmpdir(dir);
}

static void dir_teardown(void)
{
	rm_tmpdir(dir);
	dir[0] = '\0';
}

/* "<test directory>/name" in a static slot (valid for the next 7 calls). */
static const char *pathof(const char *name)
{
	static char bufs[8][4096];
	static unsigned slot;
	char *b = bufs[slot++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void key_fill(unsigned char k[TG_SPKI_LEN], unsigned char v)
{
	memset(k, v, TG_SPKI_LEN);
}

static struct tg_store *open_ok(const char *path, int create)
{
	struct tg_store *st = NULL;
	char err[TG_ERRBUF] = "";
	int rc = tg_store_open(&st, path, create, err, sizeof(err));

	ck_assert_msg(rc == 0, "open %s: rc %d: %s", path, rc, err);
	ck_assert_ptr_nonnull(st);
	return st;
}

/* Open must fail with TLSGUARD_E_STORE and a message naming the path and
 * containing @needle (may be NULL). */
static void open_fails(const char *path, int create, const char *needle)
{
	struct tg_store *st = (struct tg_store *)&st; /* must be reset to NULL */
	char err[TG_ERRBUF] = "";
	int rc = tg_store_open(&st, path, create, err, sizeof(err));

	ck_assert_msg(rc == TLSGUARD_E_STORE, "open %s (create %d): rc %d, expected TLSGUARD_E_STORE; %s", path,
	              create, rc, err);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, path) != NULL, "message does not name the file: %s", err);
	if (needle != NULL)
		ck_assert_msg(strstr(err, needle) != NULL, "message lacks '%s': %s", needle, err);
}

static void seen_ok(struct tg_store *st, const char *host, unsigned port, unsigned char kv, int64_t now)
{
	unsigned char k[TG_SPKI_LEN];
	char err[TG_ERRBUF] = "";
	int rc;

	key_fill(k, kv);
	rc = tg_store_tofu_seen(st, host, port, k, now, err, sizeof(err));
	ck_assert_msg(rc == 0, "seen %s:%u: rc %d: %s", host, port, rc, err);
}

static struct tg_tofu get_ok(struct tg_store *st, const char *host, unsigned port)
{
	struct tg_tofu rec;
	char err[TG_ERRBUF] = "";
	int rc = tg_store_tofu_get(st, host, port, &rec, err, sizeof(err));

	ck_assert_msg(rc == 1, "get %s:%u: rc %d: %s", host, port, rc, err);
	ck_assert_str_eq(rec.host, host);
	ck_assert_uint_eq(rec.port, port);
	return rec;
}

static int count_cb(const struct tg_tofu *rec, void *ud)
{
	(void)rec;
	(*(int *)ud)++;
	return 0;
}

static int count_records(struct tg_store *st, const char *host)
{
	char err[TG_ERRBUF] = "";
	int n = 0, rc = tg_store_tofu_foreach(st, host, count_cb, &n, err, sizeof(err));

	ck_assert_msg(rc >= 0, "foreach: rc %d: %s", rc, err);
	ck_assert_int_eq(rc, n);
	return n;
}

/* Run SQL on @path through a plain SQLite connection (to build files the
 * library must cope with). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", path, sqlite3_errstr(rc));
	sqlite3_busy_timeout(db, 10000);
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s: %s", path, sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void assert_same_bytes(const char *path, const unsigned char *before, size_t before_len)
{
	size_t len;
	unsigned char *now = read_bytes(path, &len);

	ck_assert_msg(len == before_len && memcmp(now, before, len) == 0, "%s was modified (%zu -> %zu bytes)", path,
	              before_len, len);
	free(now);
}

/* Save and restore the variables the default path depends on. */
struct env_save {
	char *v[3];
};
static const char *const env_names[3] = {"TLSGUARD_STORE", "XDG_DATA_HOME", "HOME"};

static void env_push(struct env_save *s)
{
	int i;
	for (i = 0; i < 3; i++) {
		const char *v = getenv(env_names[i]);
		s->v[i] = v ? strdup(v) : NULL;
		unsetenv(env_names[i]);
	}
}

static void env_pop(struct env_save *s)
{
	int i;
	for (i = 0; i < 3; i++) {
		if (s->v[i] != NULL)
			setenv(env_names[i], s->v[i], 1);
		else
			unsetenv(env_names[i]);
		free(s->v[i]);
	}
}

/* ------------------------------------------------------------------ basics */

START_TEST(test_create_and_schema)
{
	const char *path = pathof("sub/dir/store.db");
	struct tg_store *st;
	struct stat sb;

	open_fails(path, 0, "no such store");
	st = open_ok(path, 1);
	ck_assert_str_eq(tg_store_path(st), path);
	/* SQLite gives the WAL the store's mode. */
	ck_assert_int_eq(stat(pathof("sub/dir/store.db-wal"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	tg_store_close(st);
	/* A new store and its new directories are private to the user. */
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(pathof("sub/dir"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(pathof("sub"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);

	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), TG_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int(path, "PRAGMA application_id"), 0x544c5347);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'tofu'"), 1);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM pragma_table_info('tofu')"), 8);

	/* Reopening an existing store with or without create. */
	st = open_ok(path, 0);
	tg_store_close(st);
	st = open_ok(path, 1);
	tg_store_close(st);
}
END_TEST

START_TEST(test_seen_get)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	struct tg_tofu rec;
	unsigned char k1[TG_SPKI_LEN], k2[TG_SPKI_LEN];
	char err[TG_ERRBUF] = "";

	key_fill(k1, 0x11);
	key_fill(k2, 0x22);
	ck_assert_int_eq(tg_store_tofu_get(st, "a.example.test", 443, &rec, err, sizeof(err)), 0);

	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, k1, 1000, err, sizeof(err)), 0);
	rec = get_ok(st, "a.example.test", 443);
	ck_assert_mem_eq(rec.spki, k1, TG_SPKI_LEN);
	ck_assert_int_eq(rec.first_seen, 1000);
	ck_assert_int_eq(rec.last_seen, 1000);
	ck_assert_uint_eq(rec.seen_count, 1);
	ck_assert_int_eq(rec.has_pending, 0);
	/* Other ports and hosts are other records. */
	ck_assert_int_eq(tg_store_tofu_get(st, "a.example.test", 8443, &rec, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_store_tofu_get(st, "b.example.test", 443, &rec, err, sizeof(err)), 0);

	/* The same key refreshes last_seen and the count. */
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, k1, 2000, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, k1, 3000, err, sizeof(err)), 0);
	rec = get_ok(st, "a.example.test", 443);
	ck_assert_int_eq(rec.first_seen, 1000);
	ck_assert_int_eq(rec.last_seen, 3000);
	ck_assert_uint_eq(rec.seen_count, 3);
	/* A clock that goes back does not move last_seen back. */
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, k1, 2500, err, sizeof(err)), 0);
	rec = get_ok(st, "a.example.test", 443);
	ck_assert_int_eq(rec.last_seen, 3000);
	ck_assert_uint_eq(rec.seen_count, 4);

	/* A different key: 1, and nothing changes. */
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, k2, 4000, err, sizeof(err)), 1);
	rec = get_ok(st, "a.example.test", 443);
	ck_assert_mem_eq(rec.spki, k1, TG_SPKI_LEN);
	ck_assert_int_eq(rec.first_seen, 1000);
	ck_assert_int_eq(rec.last_seen, 3000);
	ck_assert_uint_eq(rec.seen_count, 4);
	ck_assert_int_eq(rec.has_pending, 0);

	/* Port 0 (unknown) is a port like any other. */
	seen_ok(st, "a.example.test", 0, 0x33, 5000);
	ck_assert_int_eq(get_ok(st, "a.example.test", 0).seen_count, 1);
	ck_assert_int_eq(count_records(st, NULL), 2);

	/* Data survives closing and reopening. */
	tg_store_close(st);
	st = open_ok(pathof("store.db"), 0);
	rec = get_ok(st, "a.example.test", 443);
	ck_assert_uint_eq(rec.seen_count, 4);
	tg_store_close(st);
}
END_TEST

START_TEST(test_pending_accept)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	struct tg_tofu rec;
	unsigned char k1[TG_SPKI_LEN], k2[TG_SPKI_LEN], k3[TG_SPKI_LEN];
	char err[TG_ERRBUF] = "";

	key_fill(k1, 1);
	key_fill(k2, 2);
	key_fill(k3, 3);
	/* No record: nothing to attach a pending key to, nothing to accept. */
	ck_assert_int_eq(tg_store_tofu_set_pending(st, "p.example.test", 443, k2, 10, err, sizeof(err)),
	                 TLSGUARD_E_RANGE);
	ck_assert_int_eq(tg_store_tofu_accept(st, "p.example.test", 443, err, sizeof(err)), TLSGUARD_E_RANGE);
	ck_assert_msg(strstr(err, "p.example.test") != NULL, "%s", err);

	ck_assert_int_eq(tg_store_tofu_seen(st, "p.example.test", 443, k1, 100, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_store_tofu_seen(st, "p.example.test", 443, k1, 200, err, sizeof(err)), 0);
	/* Accept without pending: RANGE, nothing changes. */
	ck_assert_int_eq(tg_store_tofu_accept(st, "p.example.test", 443, err, sizeof(err)), TLSGUARD_E_RANGE);
	ck_assert_msg(strstr(err, "no pending key") != NULL, "%s", err);
	ck_assert_uint_eq(get_ok(st, "p.example.test", 443).seen_count, 2);

	ck_assert_int_eq(tg_store_tofu_set_pending(st, "p.example.test", 443, k2, 300, err, sizeof(err)), 0);
	rec = get_ok(st, "p.example.test", 443);
	ck_assert_mem_eq(rec.spki, k1, TG_SPKI_LEN);
	ck_assert_int_eq(rec.has_pending, 1);
	ck_assert_mem_eq(rec.pending, k2, TG_SPKI_LEN);
	ck_assert_int_eq(rec.pending_seen, 300);
	ck_assert_uint_eq(rec.seen_count, 2);
	ck_assert_int_eq(rec.last_seen, 200);

	/* The latest changed key replaces an earlier pending one. */
	ck_assert_int_eq(tg_store_tofu_set_pending(st, "p.example.test", 443, k3, 400, err, sizeof(err)), 0);
	rec = get_ok(st, "p.example.test", 443);
	ck_assert_mem_eq(rec.pending, k3, TG_SPKI_LEN);
	ck_assert_int_eq(rec.pending_seen, 400);
	/* The accepted key as "pending": nothing changes. */
	ck_assert_int_eq(tg_store_tofu_set_pending(st, "p.example.test", 443, k1, 450, err, sizeof(err)), 0);
	rec = get_ok(st, "p.example.test", 443);
	ck_assert_mem_eq(rec.pending, k3, TG_SPKI_LEN);
	ck_assert_int_eq(rec.pending_seen, 400);
	/* Seeing the accepted key again keeps the pending key for review. */
	ck_assert_int_eq(tg_store_tofu_seen(st, "p.example.test", 443, k1, 500, err, sizeof(err)), 0);
	rec = get_ok(st, "p.example.test", 443);
	ck_assert_int_eq(rec.has_pending, 1);
	ck_assert_uint_eq(rec.seen_count, 3);

	/* Accept swaps: first_seen = pending_seen, count 1, no pending. */
	ck_assert_int_eq(tg_store_tofu_accept(st, "p.example.test", 443, err, sizeof(err)), 0);
	rec = get_ok(st, "p.example.test", 443);
	ck_assert_mem_eq(rec.spki, k3, TG_SPKI_LEN);
	ck_assert_int_eq(rec.first_seen, 400);
	ck_assert_int_eq(rec.last_seen, 400);
	ck_assert_uint_eq(rec.seen_count, 1);
	ck_assert_int_eq(rec.has_pending, 0);
	/* The old key is now the different one. */
	ck_assert_int_eq(tg_store_tofu_seen(st, "p.example.test", 443, k1, 600, err, sizeof(err)), 1);
	ck_assert_int_eq(tg_store_tofu_seen(st, "p.example.test", 443, k3, 600, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_store_tofu_accept(st, "p.example.test", 443, err, sizeof(err)), TLSGUARD_E_RANGE);
	tg_store_close(st);
}
END_TEST

START_TEST(test_forget)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	char err[TG_ERRBUF] = "";

	seen_ok(st, "f.example.test", 443, 1, 1);
	seen_ok(st, "f.example.test", 8443, 1, 1);
	seen_ok(st, "f.example.test", 993, 1, 1);
	seen_ok(st, "g.example.test", 443, 1, 1);
	seen_ok(st, "f.example.test.other", 443, 1, 1);

	ck_assert_int_eq(tg_store_tofu_forget(st, "f.example.test", 8443, err, sizeof(err)), 1);
	ck_assert_int_eq(tg_store_tofu_forget(st, "f.example.test", 8443, err, sizeof(err)), 0);
	ck_assert_int_eq(count_records(st, "f.example.test"), 2);
	ck_assert_int_eq(tg_store_tofu_forget(st, "f.example.test", 0, err, sizeof(err)), 2);
	ck_assert_int_eq(count_records(st, "f.example.test"), 0);
	ck_assert_int_eq(tg_store_tofu_forget(st, "nothing.example.test", 0, err, sizeof(err)), 0);
	/* Other hosts are untouched (no prefix or pattern matching). */
	ck_assert_int_eq(count_records(st, NULL), 2);
	get_ok(st, "g.example.test", 443);
	get_ok(st, "f.example.test.other", 443);
	tg_store_close(st);
}
END_TEST

struct visit {
	char seen[16][300];
	int n;
	int stop_after;
	struct tg_store *st; /* when set: use the store from inside the callback */
};

static int visit_cb(const struct tg_tofu *rec, void *ud)
{
	struct visit *v = ud;

	if (v->n < 16)
		snprintf(v->seen[v->n], sizeof(v->seen[0]), "%s:%u", rec->host, rec->port);
	v->n++;
	if (v->st != NULL) {
		struct tg_tofu again;
		char err[TG_ERRBUF];
		if (tg_store_tofu_get(v->st, rec->host, rec->port, &again, err, sizeof(err)) != 1)
			return -1;
	}
	return v->stop_after != 0 && v->n >= v->stop_after;
}

START_TEST(test_foreach)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	struct visit v;
	char err[TG_ERRBUF] = "";
	int rc;

	/* Inserted out of order. */
	seen_ok(st, "m.example.test", 8443, 1, 1);
	seen_ok(st, "z.example.test", 443, 1, 1);
	seen_ok(st, "a.example.test", 443, 1, 1);
	seen_ok(st, "m.example.test", 443, 1, 1);
	seen_ok(st, "m.example.test", 25, 1, 1);

	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(tg_store_tofu_foreach(st, NULL, visit_cb, &v, err, sizeof(err)), 5);
	ck_assert_int_eq(v.n, 5);
	ck_assert_str_eq(v.seen[0], "a.example.test:443");
	ck_assert_str_eq(v.seen[1], "m.example.test:25");
	ck_assert_str_eq(v.seen[2], "m.example.test:443");
	ck_assert_str_eq(v.seen[3], "m.example.test:8443");
	ck_assert_str_eq(v.seen[4], "z.example.test:443");

	/* Filter by host. */
	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(tg_store_tofu_foreach(st, "m.example.test", visit_cb, &v, err, sizeof(err)), 3);
	ck_assert_str_eq(v.seen[0], "m.example.test:25");
	ck_assert_str_eq(v.seen[2], "m.example.test:8443");
	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(tg_store_tofu_foreach(st, "none.example.test", visit_cb, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.n, 0);

	/* Early stop: the record that stopped it counts as visited. */
	memset(&v, 0, sizeof(v));
	v.stop_after = 2;
	ck_assert_int_eq(tg_store_tofu_foreach(st, NULL, visit_cb, &v, err, sizeof(err)), 2);
	ck_assert_int_eq(v.n, 2);

	/* The callback may use the store (no deadlock). */
	memset(&v, 0, sizeof(v));
	v.st = st;
	rc = tg_store_tofu_foreach(st, NULL, visit_cb, &v, err, sizeof(err));
	ck_assert_msg(rc == 5, "rc %d: %s", rc, err);
	tg_store_close(st);
}
END_TEST

START_TEST(test_invalid_args)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	struct tg_tofu rec;
	unsigned char k[TG_SPKI_LEN];
	char err[TG_ERRBUF] = "", long_host[300];

	key_fill(k, 7);
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	ck_assert_int_eq(tg_store_open(NULL, pathof("x.db"), 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	{
		struct tg_store *o = NULL;
		ck_assert_int_eq(tg_store_open(&o, NULL, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
		ck_assert_int_eq(tg_store_open(&o, "", 1, err, sizeof(err)), TLSGUARD_E_INVALID);
		ck_assert_ptr_null(o);
	}
	tg_store_close(NULL);
	ck_assert_int_eq(tg_store_tofu_get(NULL, "a.example.test", 443, &rec, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_get(st, NULL, 443, &rec, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_get(st, "a.example.test", 443, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_get(st, "a.example.test", 65536, &rec, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "65536") != NULL, "%s", err);
	/* Hosts must be normalised already (what requests hold). */
	ck_assert_int_eq(tg_store_tofu_seen(st, "A.example.test", 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test.", 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_seen(st, "", 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_seen(st, "a b", 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_seen(st, "bad\x1b[31m", 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strchr(err, '\x1b') == NULL, "control character in message: %s", err);
	ck_assert_int_eq(tg_store_tofu_seen(st, long_host, 443, k, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_seen(st, "a.example.test", 443, NULL, 1, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_set_pending(st, "a.example.test", 443, NULL, 1, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_accept(st, "a.example.test", 70000, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_forget(st, NULL, 0, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_foreach(st, NULL, NULL, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_tofu_foreach(st, "UPPER.example.test", count_cb, NULL, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_store_check(NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	/* IPv6 literals and 253-byte names are hosts too. */
	seen_ok(st, "2001:db8::1", 443, 1, 1);
	memset(long_host, 'a', 253);
	long_host[253] = '\0';
	long_host[63] = '.';
	long_host[127] = '.';
	long_host[191] = '.';
	seen_ok(st, long_host, 443, 1, 1);
	get_ok(st, long_host, 443);
	/* A NULL error buffer is allowed. */
	ck_assert_int_eq(tg_store_tofu_get(st, "a.example.test", 65536, &rec, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(count_records(st, NULL), 2);
	tg_store_close(st);
}
END_TEST

/* Every allocation of open, list and close may fail: then NOMEM, no leak. */
START_TEST(test_alloc_failures)
{
	const char *path = pathof("store.db");
	struct tg_store *st = open_ok(path, 1);
	char err[TG_ERRBUF];
	unsigned long i;
	int rc, ok = 0;

	seen_ok(st, "a.example.test", 443, 1, 1);
	tg_store_close(st);
	for (i = 1; i < 20 && !ok; i++) {
		st = NULL;
		tg_alloc_fail_at(i);
		rc = tg_store_open(&st, path, 0, err, sizeof(err));
		if (rc == 0) {
			int n = 0;
			rc = tg_store_tofu_foreach(st, NULL, count_cb, &n, err, sizeof(err));
			ok = rc == 1;
			ck_assert_msg(rc == 1 || rc == TLSGUARD_E_NOMEM, "fail at %lu: foreach rc %d", i, rc);
			tg_store_close(st);
		} else {
			ck_assert_msg(rc == TLSGUARD_E_NOMEM, "fail at %lu: rc %d: %s", i, rc, err);
			ck_assert_ptr_null(st);
		}
	}
	tg_alloc_fail_at(0);
	ck_assert_msg(ok, "never succeeded");
	{
		tlsguard_store *h = NULL;
		tg_alloc_fail_at(1);
		ck_assert_int_eq(tlsguard_store_open(&h, path, 0), TLSGUARD_E_NOMEM);
		tg_alloc_fail_at(0);
		ck_assert_ptr_null(h);
	}
}
END_TEST

/* ------------------------------------------------------------------ public API */

struct list_seen {
	int n;
	char first_host[64];
	unsigned first_port;
	int pending_count;
	int stop_after;
};

static int list_cb(const char *host, unsigned port, const unsigned char spki[32], int64_t first_seen,
                   int64_t last_seen, uint64_t seen_count, const unsigned char *pending, int64_t pending_seen,
                   void *ud)
{
	struct list_seen *l = ud;

	(void)spki;
	(void)first_seen;
	(void)last_seen;
	(void)seen_count;
	(void)pending_seen;
	if (l->n == 0) {
		snprintf(l->first_host, sizeof(l->first_host), "%s", host);
		l->first_port = port;
	}
	if (pending != NULL)
		l->pending_count++;
	l->n++;
	return l->stop_after != 0 && l->n >= l->stop_after;
}

START_TEST(test_public_api)
{
	const char *path = pathof("pub/store.db");
	tlsguard_store *h = NULL;
	struct tg_store *st;
	struct list_seen l;
	unsigned char k9[TG_SPKI_LEN];
	char err[TG_ERRBUF];
	struct stat sb;

	/* Missing without CREATE: E_STORE, a handle that says why. */
	ck_assert_int_eq(tlsguard_store_open(&h, path, 0), TLSGUARD_E_STORE);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), path) != NULL, "%s", tlsguard_store_last_error(h));
	ck_assert_msg(strstr(tlsguard_store_last_error(h), "no such store") != NULL, "%s",
	              tlsguard_store_last_error(h));
	ck_assert_str_eq(tlsguard_store_path(h), path);
	/* Using the failed handle keeps failing with the reason. */
	ck_assert_int_eq(tlsguard_store_check(h), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), "no such store") != NULL, "%s",
	              tlsguard_store_last_error(h));
	ck_assert_int_eq(tlsguard_store_tofu_forget(h, "a.example.test", 0), TLSGUARD_E_STORE);
	tlsguard_store_close(h);
	ck_assert_int_eq(stat(pathof("pub"), &sb), -1); /* nothing was created */

	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, path, 0x80), TLSGUARD_E_INVALID);
	ck_assert_str_ne(tlsguard_store_last_error(h), "");
	tlsguard_store_close(h);
	ck_assert_int_eq(tlsguard_store_open(NULL, path, 0), TLSGUARD_E_INVALID);
	tlsguard_store_close(NULL);
	ck_assert_str_eq(tlsguard_store_path(NULL), "");
	ck_assert_str_eq(tlsguard_store_last_error(NULL), "");
	ck_assert_int_eq(tlsguard_store_check(NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_store_tofu_list(NULL, NULL, list_cb, NULL), TLSGUARD_E_INVALID);

	/* With CREATE. */
	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, path, TLSGUARD_STORE_CREATE), 0);
	ck_assert_str_eq(tlsguard_store_last_error(h), "");
	ck_assert_str_eq(tlsguard_store_path(h), path);
	ck_assert_int_eq(tlsguard_store_check(h), 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(tlsguard_store_tofu_list(h, NULL, list_cb, &l), 0);

	/* Records made through the internal API (as the tofu check does). */
	st = open_ok(path, 0);
	seen_ok(st, "www.example.test", 443, 1, 100);
	seen_ok(st, "www.example.test", 8443, 1, 100);
	seen_ok(st, "api.example.test", 443, 1, 100);
	key_fill(k9, 9);
	ck_assert_int_eq(tg_store_tofu_set_pending(st, "www.example.test", 443, k9, 200, err, sizeof(err)), 0);

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(tlsguard_store_tofu_list(h, NULL, list_cb, &l), 3);
	ck_assert_int_eq(l.n, 3);
	ck_assert_str_eq(l.first_host, "api.example.test");
	ck_assert_int_eq(l.pending_count, 1);
	/* Host names from people are normalised. */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(tlsguard_store_tofu_list(h, "WWW.Example.TEST.", list_cb, &l), 2);
	ck_assert_uint_eq(l.first_port, 443);
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	ck_assert_int_eq(tlsguard_store_tofu_list(h, NULL, list_cb, &l), 1);
	ck_assert_int_eq(tlsguard_store_tofu_list(h, NULL, NULL, NULL), TLSGUARD_E_INVALID);
	ck_assert_str_ne(tlsguard_store_last_error(h), "");
	ck_assert_int_eq(tlsguard_store_tofu_list(h, "bad host", list_cb, &l), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), "invalid host") != NULL, "%s",
	              tlsguard_store_last_error(h));

	/* Accept. */
	ck_assert_int_eq(tlsguard_store_tofu_accept(h, "api.example.test", 443), TLSGUARD_E_RANGE);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), "no pending key") != NULL, "%s",
	              tlsguard_store_last_error(h));
	ck_assert_int_eq(tlsguard_store_tofu_accept(h, "Www.Example.Test", 443), 0);
	ck_assert_str_eq(tlsguard_store_last_error(h), "");
	{
		struct tg_tofu rec = get_ok(st, "www.example.test", 443);
		ck_assert_mem_eq(rec.spki, k9, TG_SPKI_LEN);
		ck_assert_int_eq(rec.first_seen, 200);
		ck_assert_int_eq(rec.has_pending, 0);
	}
	ck_assert_int_eq(tlsguard_store_tofu_accept(h, NULL, 443), TLSGUARD_E_INVALID);

	/* Forget. */
	ck_assert_int_eq(tlsguard_store_tofu_forget(h, "www.example.test", 8443), 1);
	ck_assert_int_eq(tlsguard_store_tofu_forget(h, "www.example.test", 0), 1);
	ck_assert_int_eq(tlsguard_store_tofu_forget(h, "www.example.test", 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_forget(h, "api.example.test", 70000), TLSGUARD_E_INVALID);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(tlsguard_store_tofu_list(h, NULL, list_cb, &l), 1);
	ck_assert_int_eq(tlsguard_store_check(h), 0);

	tg_store_close(st);
	tlsguard_store_close(h);
}
END_TEST

/* ------------------------------------------------------------------ default path */

START_TEST(test_default_path)
{
	struct env_save saved;
	char path[4096], err[TG_ERRBUF];
	tlsguard_store *h = NULL;
	struct stat sb;

	env_push(&saved);

	/* None set: an error, and no store is opened anywhere. */
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(err, "HOME") != NULL, "%s", err);
	ck_assert_int_eq(tlsguard_store_open(&h, NULL, TLSGUARD_STORE_CREATE), TLSGUARD_E_STORE);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), "TLSGUARD_STORE") != NULL, "%s",
	              tlsguard_store_last_error(h));
	tlsguard_store_close(h);

	/* Only HOME. */
	setenv("HOME", pathof("home"), 1);
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("home/.local/share/tlsguard/store.db"));
	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, NULL, 0), TLSGUARD_E_STORE);
	tlsguard_store_close(h);
	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, NULL, TLSGUARD_STORE_CREATE), 0);
	ck_assert_str_eq(tlsguard_store_path(h), pathof("home/.local/share/tlsguard/store.db"));
	tlsguard_store_close(h);
	ck_assert_int_eq(stat(pathof("home/.local/share/tlsguard"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(pathof("home/.local/share/tlsguard/store.db"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);

	/* XDG_DATA_HOME wins over HOME; a relative one is ignored (XDG spec). */
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("home/.local/share/tlsguard/store.db"));
	setenv("XDG_DATA_HOME", pathof("xdg"), 1);
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("xdg/tlsguard/store.db"));
	unsetenv("HOME");
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("xdg/tlsguard/store.db"));
	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, NULL, TLSGUARD_STORE_CREATE), 0);
	tlsguard_store_close(h);
	ck_assert_int_eq(stat(pathof("xdg/tlsguard/store.db"), &sb), 0);

	/* TLSGUARD_STORE wins over both; an empty one is ignored. */
	setenv("HOME", pathof("home"), 1);
	setenv("TLSGUARD_STORE", "", 1);
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("xdg/tlsguard/store.db"));
	setenv("TLSGUARD_STORE", pathof("explicit.db"), 1);
	ck_assert_int_eq(tg_store_default_path(path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_str_eq(path, pathof("explicit.db"));
	h = NULL;
	ck_assert_int_eq(tlsguard_store_open(&h, NULL, TLSGUARD_STORE_CREATE), 0);
	ck_assert_str_eq(tlsguard_store_path(h), pathof("explicit.db"));
	tlsguard_store_close(h);

	/* Too small a buffer is an error, not a truncated path. */
	ck_assert_int_eq(tg_store_default_path(path, 8, err, sizeof(err)), TLSGUARD_E_STORE);
	ck_assert_str_eq(path, "");

	env_pop(&saved);
}
END_TEST

/* ------------------------------------------------------------------ bad stores */

START_TEST(test_random_bytes)
{
	const char *path = pathof("store.db");
	unsigned char junk[8192];
	size_t i;
	unsigned seed = 12345;
	tlsguard_store *h = NULL;
	struct stat sb;

	for (i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (unsigned char)(seed >> 16);
	}
	write_bytes(path, junk, sizeof(junk));
	open_fails(path, 0, "not a database");
	assert_same_bytes(path, junk, sizeof(junk));
	open_fails(path, 1, "not a database"); /* never recreated */
	assert_same_bytes(path, junk, sizeof(junk));
	ck_assert_int_eq(tlsguard_store_open(&h, path, TLSGUARD_STORE_CREATE), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), path) != NULL, "%s", tlsguard_store_last_error(h));
	tlsguard_store_close(h);
	assert_same_bytes(path, junk, sizeof(junk));
	/* No journal or WAL files were left behind either. */
	ck_assert_int_eq(stat(pathof("store.db-wal"), &sb), -1);
	ck_assert_int_eq(stat(pathof("store.db-journal"), &sb), -1);

	/* A text file that starts like SQLite's header is not one either. */
	write_bytes(path, "SQLite format 3\0garbage garbage garbage", 39);
	open_fails(path, 1, NULL);
}
END_TEST

/* An empty file is an uninitialised store: with create it becomes one (as
 * SQLite treats an empty file as an empty database); without create it is
 * an error and stays empty. */
START_TEST(test_empty_file)
{
	const char *path = pathof("store.db");
	struct tg_store *st;
	struct stat sb;

	write_bytes(path, "", 0);
	open_fails(path, 0, "schema version 0");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	st = open_ok(path, 1);
	seen_ok(st, "e.example.test", 443, 1, 1);
	tg_store_close(st);
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), TG_STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST(test_not_a_file)
{
	const char *path = pathof("store.db");
	char *ro;

	/* A directory. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	open_fails(path, 0, "directory");
	open_fails(path, 1, "directory");
	/* A path through a file: ENOTDIR, with and without create. */
	write_bytes(pathof("file"), "x", 1);
	open_fails(pathof("file/store.db"), 0, "Not a directory");
	open_fails(pathof("file/store.db"), 1, NULL);
	open_fails(pathof("file/sub/store.db"), 1, NULL);
	/* A device is not a store. */
	open_fails("/dev/null", 1, "not a regular file");

	/* An unreadable file (root reads anything: skip that there). */
	ro = strdup(pathof("unreadable.db"));
	{
		struct tg_store *st = open_ok(ro, 1);
		tg_store_close(st);
	}
	if (geteuid() == 0) {
		printf("check_store: running as root; skipping the unreadable-file case (permissions do not apply)\n");
	} else {
		ck_assert_int_eq(chmod(ro, 0), 0);
		open_fails(ro, 0, NULL);
		ck_assert_int_eq(chmod(ro, 0600), 0);
	}
	free(ro);
}
END_TEST

START_TEST(test_newer_version)
{
	const char *path = pathof("store.db");
	struct tg_store *st = open_ok(path, 1);
	size_t len;
	unsigned char *before;
	char want[64];

	tg_store_close(st);
	raw_exec(path, "PRAGMA user_version = 7");
	before = read_bytes(path, &len);
	snprintf(want, sizeof(want), "schema version 7 is newer than this tlsguard supports (%d)",
	         TG_STORE_SCHEMA_VERSION);
	open_fails(path, 0, want);
	open_fails(path, 1, want);
	assert_same_bytes(path, before, len);
	free(before);

	/* A store file of some other application. */
	raw_exec(path, "PRAGMA user_version = 1; PRAGMA application_id = 42");
	open_fails(path, 1, "not a tlsguard store");
}
END_TEST

START_TEST(test_wrong_shape)
{
	const char *p1 = pathof("v1.db");
	const char *p0 = pathof("v0.db");
	const char *p2 = pathof("missing.db");
	const char *p3 = pathof("extra.db");
	char *s1 = strdup(p1), *s0 = strdup(p0), *s2 = strdup(p2), *s3 = strdup(p3);
	size_t len;
	unsigned char *before;

	/* Version 1, but tofu has other columns. */
	raw_exec(s1, "CREATE TABLE tofu (host TEXT, port INTEGER, key TEXT); PRAGMA user_version = 1");
	open_fails(s1, 1, "table tofu has an unexpected shape");
	/* Version 0 with a tofu table of its own: migration fails, no change. */
	raw_exec(s0, "CREATE TABLE tofu (x); INSERT INTO tofu VALUES (1)");
	before = read_bytes(s0, &len);
	open_fails(s0, 1, "cannot migrate");
	open_fails(s0, 0, "schema version 0");
	ck_assert_int_eq(raw_int(s0, "SELECT x FROM tofu"), 1);
	ck_assert_int_eq(raw_int(s0, "PRAGMA user_version"), 0);
	free(before);
	/* Version 1 without the table. */
	raw_exec(s2, "CREATE TABLE other (x); PRAGMA user_version = 1");
	open_fails(s2, 1, "table tofu is missing");
	/* Version 1 with one column too many. */
	raw_exec(s3, "CREATE TABLE tofu (host TEXT NOT NULL, port INTEGER NOT NULL, spki BLOB NOT NULL,"
	             " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, seen_count INTEGER NOT NULL,"
	             " pending BLOB, pending_seen INTEGER, extra TEXT, PRIMARY KEY (host, port));"
	             " PRAGMA user_version = 1");
	open_fails(s3, 1, "extra column 'extra'");
	free(s0);
	free(s1);
	free(s2);
	free(s3);
}
END_TEST

/* Another program's SQLite file at version 0: initialised (our table
 * added, theirs kept) only with create. */
START_TEST(test_foreign_db)
{
	const char *path = pathof("store.db");
	struct tg_store *st;

	raw_exec(path, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')");
	open_fails(path, 0, "schema version 0");
	st = open_ok(path, 1);
	seen_ok(st, "n.example.test", 443, 1, 1);
	ck_assert_int_eq(tg_store_check(st, NULL, 0), 0);
	tg_store_close(st);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM notes WHERE t = 'keep me'"), 1);
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), TG_STORE_SCHEMA_VERSION);
}
END_TEST

/* Insert a row bypassing the CHECK constraints; every read of it must fail
 * with TLSGUARD_E_STORE naming host and column. */
static void bad_row_case(const char *name, const char *insert, const char *host,
                         const char *column)
{
	char path[4096], sql[1024], err[TG_ERRBUF] = "";
	struct tg_store *st;
	struct tg_tofu rec;
	tlsguard_store *h = NULL;
	int rc, n = 0;

	snprintf(path, sizeof(path), "%s", pathof(name));
	st = open_ok(path, 1);

	seen_ok(st, "good.example.test", 443, 1, 1);
	tg_store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA ignore_check_constraints = ON; %s", insert);
	raw_exec(path, sql);

	st = open_ok(path, 0);
	if (host != NULL) {
		rc = tg_store_tofu_get(st, host, 443, &rec, err, sizeof(err));
		ck_assert_msg(rc == TLSGUARD_E_STORE, "%s: get rc %d", name, rc);
		ck_assert_msg(strstr(err, host) != NULL && strstr(err, column) != NULL && strstr(err, path) != NULL,
		              "%s: %s", name, err);
		/* Writes that read the row first refuse it as well. */
		{
			unsigned char k[TG_SPKI_LEN];
			key_fill(k, 1);
			ck_assert_int_eq(tg_store_tofu_seen(st, host, 443, k, 2, err, sizeof(err)), TLSGUARD_E_STORE);
			ck_assert_int_eq(tg_store_tofu_accept(st, host, 443, err, sizeof(err)), TLSGUARD_E_STORE);
		}
	}
	err[0] = '\0';
	rc = tg_store_tofu_foreach(st, NULL, count_cb, &n, err, sizeof(err));
	ck_assert_msg(rc == TLSGUARD_E_STORE, "%s: foreach rc %d", name, rc);
	ck_assert_int_eq(n, 0); /* nothing is reported from a store with a bad row */
	ck_assert_msg(strstr(err, column) != NULL, "%s: %s", name, err);
	ck_assert_int_eq(tg_store_check(st, err, sizeof(err)), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(err, column) != NULL, "%s: %s", name, err);
	/* The good record is still readable on its own. */
	get_ok(st, "good.example.test", 443);
	tg_store_close(st);

	ck_assert_int_eq(tlsguard_store_open(&h, path, 0), 0);
	ck_assert_int_eq(tlsguard_store_check(h), TLSGUARD_E_STORE);
	ck_assert_msg(strstr(tlsguard_store_last_error(h), column) != NULL, "%s", tlsguard_store_last_error(h));
	tlsguard_store_close(h);
}

START_TEST(test_bad_rows)
{

	bad_row_case("short.db",
	             "INSERT INTO tofu VALUES ('short.example.test', 443, randomblob(31), 1, 1, 1, NULL, NULL)",
	             "short.example.test", "spki");
	bad_row_case("textkey.db",
	             "INSERT INTO tofu VALUES ('text.example.test', 443, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 1, 1, "
	             "NULL, NULL)",
	             "text.example.test", "spki");
	bad_row_case("pending.db",
	             "INSERT INTO tofu VALUES ('pend.example.test', 443, randomblob(32), 1, 1, 1, randomblob(33), 5)",
	             "pend.example.test", "pending");
	bad_row_case("pendseen.db",
	             "INSERT INTO tofu VALUES ('ps.example.test', 443, randomblob(32), 1, 1, 1, NULL, 5)",
	             "ps.example.test", "pending_seen");
	bad_row_case("count.db",
	             "INSERT INTO tofu VALUES ('count.example.test', 443, randomblob(32), 1, 1, -5, NULL, NULL)",
	             "count.example.test", "seen_count");
	bad_row_case("time.db",
	             "INSERT INTO tofu VALUES ('time.example.test', 443, randomblob(32), 'yesterday', 1, 1, NULL, NULL)",
	             "time.example.test", "first_seen");
	/* Rows a lookup cannot reach: only listing and checking see them. */
	bad_row_case("port.db",
	             "INSERT INTO tofu VALUES ('port.example.test', 70000, randomblob(32), 1, 1, 1, NULL, NULL)", NULL,
	             "port");
	bad_row_case("host.db",
	             "INSERT INTO tofu VALUES ('Evil' || char(27) || '[2J.example.test', 443, randomblob(32), 1, 1, 1, "
	             "NULL, NULL)",
	             NULL, "host");
	bad_row_case("blobhost.db",
	             "INSERT INTO tofu VALUES (x'6162', 443, randomblob(32), 1, 1, 1, NULL, NULL)", NULL, "host");
}
END_TEST

/* A store whose pages are damaged: integrity_check fails, the file is left
 * exactly as it was. */
START_TEST(test_corrupt_pages)
{
	char path[4096], host[64], err[TG_ERRBUF] = "";
	struct tg_store *st;
	unsigned char *bytes;
	size_t len, i;
	int rc;

	snprintf(path, sizeof(path), "%s", pathof("store.db"));
	st = open_ok(path, 1);

	for (i = 0; i < 400; i++) {
		snprintf(host, sizeof(host), "host%03zu.example.test", i);
		seen_ok(st, host, 443, (unsigned char)i, 1);
	}
	tg_store_close(st); /* the last close checkpoints the WAL into the file */
	bytes = read_bytes(path, &len);
	ck_assert_uint_gt(len, 4 * 4096);
	/* Scribble over the second and third pages (b-tree pages of tofu). */
	for (i = 4096 + 16; i < 3 * 4096; i++)
		bytes[i] ^= 0x5a;
	write_bytes(path, bytes, len);

	st = NULL;
	rc = tg_store_open(&st, path, 0, err, sizeof(err));
	if (rc == 0) {
		rc = tg_store_check(st, err, sizeof(err));
		tg_store_close(st);
	}
	ck_assert_msg(rc == TLSGUARD_E_STORE, "rc %d: %s", rc, err);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	assert_same_bytes(path, bytes, len);
	free(bytes);
}
END_TEST

/* ------------------------------------------------------------------ concurrency */

static int child_work(const char *path, int i)
{
	char err[TG_ERRBUF], host[64];
	unsigned char k[TG_SPKI_LEN], shared[TG_SPKI_LEN];
	struct tg_store *st = NULL;
	int j, rc;

	key_fill(shared, 0xee);
	if ((rc = tg_store_open(&st, path, 0, err, sizeof(err))) != 0) {
		fprintf(stderr, "child %d: open: %s\n", i, err);
		return 2;
	}
	for (j = 0; j < PER_WORKER; j++) {
		snprintf(host, sizeof(host), "h%d-%d.example.test", i, j);
		key_fill(k, (unsigned char)(i * PER_WORKER + j));
		if ((rc = tg_store_tofu_seen(st, host, 443, k, 1000 + j, err, sizeof(err))) != 0 ||
		    (rc = tg_store_tofu_seen(st, SHARED_HOST, 443, shared, 1000 + j, err, sizeof(err))) != 0) {
			fprintf(stderr, "child %d: seen: rc %d: %s\n", i, rc, err);
			tg_store_close(st);
			return 3;
		}
	}
	tg_store_close(st);
	return 0;
}

static void assert_workload(struct tg_store *st, const char *prefix)
{
	char host[64];
	struct tg_tofu rec;
	int i, j;

	ck_assert_int_eq(count_records(st, NULL), NPROC * PER_WORKER + 1);
	rec = get_ok(st, SHARED_HOST, 443);
	ck_assert_uint_eq(rec.seen_count, NPROC * PER_WORKER);
	for (i = 0; i < NPROC; i++)
		for (j = 0; j < PER_WORKER; j += 37) {
			snprintf(host, sizeof(host), "%s%d-%d.example.test", prefix, i, j);
			rec = get_ok(st, host, 443);
			ck_assert_uint_eq(rec.seen_count, 1);
			ck_assert_uint_eq(rec.spki[0], (unsigned char)(i * PER_WORKER + j));
		}
}

START_TEST(test_processes)
{
	char path[4096], err[TG_ERRBUF] = "";
	pid_t pids[NPROC];
	int go[2], i, status;
	struct tg_store *st;

	snprintf(path, sizeof(path), "%s", pathof("store.db"));
	st = open_ok(path, 1);

	tg_store_close(st); /* no connection crosses fork() */
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			/* Start together: wait until the parent closes the pipe. */
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(child_work(path, i));
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status 0x%x", i, status);
	}
	st = open_ok(path, 0);
	assert_workload(st, "h");
	ck_assert_int_eq(tg_store_check(st, err, sizeof(err)), 0);
	tg_store_close(st);
}
END_TEST

/* Many processes creating the same new store at once: one creates and
 * initialises it, none fails. */
START_TEST(test_processes_create_race)
{
	char path[4096];
	pid_t pids[NPROC];
	int go[2], i, status;
	struct tg_store *st;

	snprintf(path, sizeof(path), "%s", pathof("new/store.db"));

	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char c, err[TG_ERRBUF], host[64];
			unsigned char k[TG_SPKI_LEN];
			struct tg_store *cst = NULL;
			int rc;
			close(go[1]);
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			if (tg_store_open(&cst, path, 1, err, sizeof(err)) != 0) {
				fprintf(stderr, "child %d: open: %s\n", i, err);
				_exit(2);
			}
			snprintf(host, sizeof(host), "c%d.example.test", i);
			key_fill(k, (unsigned char)i);
			rc = tg_store_tofu_seen(cst, host, 443, k, 1, err, sizeof(err));
			if (rc != 0)
				fprintf(stderr, "child %d: seen: %s\n", i, err);
			tg_store_close(cst);
			_exit(rc == 0 ? 0 : 3);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status 0x%x", i, status);
	}
	st = open_ok(path, 0);
	ck_assert_int_eq(count_records(st, NULL), NPROC);
	tg_store_close(st);
}
END_TEST

struct thread_job {
	struct tg_store *st;
	pthread_barrier_t *start;
	int i;
	int errors;
	char err[TG_ERRBUF];
};

static void *thread_work(void *arg)
{
	struct thread_job *job = arg;
	unsigned char k[TG_SPKI_LEN], shared[TG_SPKI_LEN];
	char host[64];
	int j;

	key_fill(shared, 0xee);
	pthread_barrier_wait(job->start);
	for (j = 0; j < PER_WORKER; j++) {
		snprintf(host, sizeof(host), "t%d-%d.example.test", job->i, j);
		key_fill(k, (unsigned char)(job->i * PER_WORKER + j));
		if (tg_store_tofu_seen(job->st, host, 443, k, 1000 + j, job->err, sizeof(job->err)) != 0 ||
		    tg_store_tofu_seen(job->st, SHARED_HOST, 443, shared, 1000 + j, job->err, sizeof(job->err)) != 0)
			job->errors++;
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct tg_store *st = open_ok(pathof("store.db"), 1);
	pthread_t tids[NPROC];
	struct thread_job jobs[NPROC];
	pthread_barrier_t start;
	char err[TG_ERRBUF] = "";
	int i;

	ck_assert_int_eq(pthread_barrier_init(&start, NULL, NPROC), 0);
	for (i = 0; i < NPROC; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].st = st;
		jobs[i].start = &start;
		jobs[i].i = i;
		ck_assert_int_eq(pthread_create(&tids[i], NULL, thread_work, &jobs[i]), 0);
	}
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
		ck_assert_msg(jobs[i].errors == 0, "thread %d: %d errors, last: %s", i, jobs[i].errors, jobs[i].err);
	}
	pthread_barrier_destroy(&start);
	assert_workload(st, "t");
	ck_assert_int_eq(tg_store_check(st, err, sizeof(err)), 0);
	tg_store_close(st);
}
END_TEST

/* ------------------------------------------------------------------ crashes */

enum crash_point {
	CRASH_MID_TRANSACTION,  /* still inserting (pages spilled to the WAL) */
	CRASH_BEFORE_COMMIT,    /* all inserted, COMMIT not yet run */
	CRASH_BETWEEN_COMMITS   /* tg_store_tofu_seen in a loop, committing */
};

#define COMMITTED 50

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(10);
		p += n;
		len -= (size_t)n;
	}
}

/* The child: a raw connection (as another tlsguard process would have)
 * writing a transaction it never commits. Reports through @fd. */
static void crash_child_raw(const char *path, int fd, int hold_fd, enum crash_point where)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char host[64], c;
	int k;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		_exit(2);
	sqlite3_busy_timeout(db, 10000);
	/* A tiny page cache makes SQLite write uncommitted pages to the WAL
	 * long before COMMIT: recovery must ignore those frames. */
	if (sqlite3_exec(db, "PRAGMA cache_size = 4; BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		_exit(3);
	if (sqlite3_prepare_v2(db, "INSERT INTO tofu VALUES (?1, 443, randomblob(32), 1, 1, 1, NULL, NULL)", -1,
	                       &stmt, NULL) != SQLITE_OK)
		_exit(4);
	for (k = 0;; k++) {
		snprintf(host, sizeof(host), "uncommitted-%d.example.test", k);
		sqlite3_bind_text(stmt, 1, host, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			_exit(5);
		sqlite3_reset(stmt);
		if (k == 3000) {
			write_all(fd, "x", 1);
			if (where == CRASH_BEFORE_COMMIT) {
				/* Wait to be killed; the parent never writes. */
				while (read(hold_fd, &c, 1) < 0 && errno == EINTR)
					;
				_exit(6); /* the parent died: give up */
			}
		}
	}
}

static void crash_child_commits(const char *path, int fd)
{
	struct tg_store *st = NULL;
	char err[TG_ERRBUF], host[64];
	unsigned char k[TG_SPKI_LEN];
	int j;

	if (tg_store_open(&st, path, 0, err, sizeof(err)) != 0)
		_exit(2);
	key_fill(k, 0x77);
	for (j = 0;; j++) {
		snprintf(host, sizeof(host), "loop-%d.example.test", j);
		if (tg_store_tofu_seen(st, host, 443, k, j, err, sizeof(err)) != 0)
			_exit(3);
		write_all(fd, &j, sizeof(j)); /* j is committed */
	}
}

static int loop_cb(const struct tg_tofu *rec, void *ud)
{
	int *mask = ud; /* [0] count of loop-* rows, [1] highest index, [2] uncommitted rows */
	int j;

	if (sscanf(rec->host, "loop-%d.", &j) == 1) {
		mask[0]++;
		if (j > mask[1])
			mask[1] = j;
	}
	if (strncmp(rec->host, "uncommitted-", 12) == 0)
		mask[2]++;
	return 0;
}

static void crash_case(enum crash_point where)
{
	char path[4096], host[64], err[TG_ERRBUF] = "";
	struct tg_store *st;
	int report[2], hold[2], i, status, last = -1, counts[3] = {0, -1, 0};
	pid_t pid;

	snprintf(path, sizeof(path), "%s", pathof("store.db"));
	st = open_ok(path, 1);

	for (i = 0; i < COMMITTED; i++) {
		snprintf(host, sizeof(host), "committed-%d.example.test", i);
		seen_ok(st, host, 443, (unsigned char)i, 1);
	}
	tg_store_close(st);

	ck_assert_int_eq(pipe(report), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(report[0]);
		close(hold[1]);
		if (where == CRASH_BETWEEN_COMMITS)
			crash_child_commits(path, report[1]);
		else
			crash_child_raw(path, report[1], hold[0], where);
		_exit(9);
	}
	close(report[1]);
	close(hold[0]);
	if (where == CRASH_BETWEEN_COMMITS) {
		/* Kill once 100 commits have been confirmed (more may be done). */
		while (last < 100) {
			ssize_t n = read(report[0], &last, sizeof(last));
			ck_assert_msg(n == (ssize_t)sizeof(last), "child stopped reporting (read %zd)", n);
		}
	} else {
		char c;
		ssize_t n;
		while ((n = read(report[0], &c, 1)) < 0 && errno == EINTR)
			;
		ck_assert_msg(n == 1, "child did not reach the crash point");
	}
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child ended otherwise: 0x%x", status);
	close(report[0]);
	close(hold[1]);
	if (where != CRASH_BETWEEN_COMMITS) {
		/* The test means something: uncommitted pages were in the WAL
		 * (the store was closed, hence checkpointed, before the child ran). */
		struct stat sb;
		ck_assert_int_eq(stat(pathof("store.db-wal"), &sb), 0);
		ck_assert_msg(sb.st_size > 32 * 1024, "WAL holds only %lld bytes", (long long)sb.st_size);
	}

	/* Recovery: the store opens, is intact, holds every committed row and
	 * none of the uncommitted ones, and takes new writes. */
	st = open_ok(path, 0);
	ck_assert_msg(tg_store_check(st, err, sizeof(err)) == 0, "check: %s", err);
	for (i = 0; i < COMMITTED; i++) {
		snprintf(host, sizeof(host), "committed-%d.example.test", i);
		get_ok(st, host, 443);
	}
	ck_assert_int_ge(tg_store_tofu_foreach(st, NULL, loop_cb, counts, err, sizeof(err)), 0);
	ck_assert_int_eq(counts[2], 0);
	if (where == CRASH_BETWEEN_COMMITS) {
		/* Every confirmed commit is there, and the rows form an unbroken
		 * run 0..n-1: no transaction was half applied. */
		ck_assert_int_ge(counts[1], last);
		ck_assert_int_eq(counts[0], counts[1] + 1);
		ck_assert_int_eq(count_records(st, NULL), COMMITTED + counts[0]);
	} else {
		ck_assert_int_eq(counts[0], 0);
		ck_assert_int_eq(count_records(st, NULL), COMMITTED);
	}
	seen_ok(st, "after.example.test", 443, 1, 1);
	seen_ok(st, "uncommitted-0.example.test", 443, 1, 1);
	ck_assert_int_eq(count_records(st, "after.example.test"), 1);
	tg_store_close(st);

	/* And once more from scratch. */
	st = open_ok(path, 0);
	ck_assert_int_eq(tg_store_check(st, err, sizeof(err)), 0);
	get_ok(st, "after.example.test", 443);
	tg_store_close(st);
}

START_TEST(test_crash_mid_transaction)
{
	crash_case(CRASH_MID_TRANSACTION);
}
END_TEST

START_TEST(test_crash_before_commit)
{
	crash_case(CRASH_BEFORE_COMMIT);
}
END_TEST

START_TEST(test_crash_between_commits)
{
	crash_case(CRASH_BETWEEN_COMMITS);
}
END_TEST

/* ------------------------------------------------------------------ main */

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("records");
	tcase_add_test(tc, test_create_and_schema);
	tcase_add_test(tc, test_seen_get);
	tcase_add_test(tc, test_pending_accept);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_alloc_failures);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("public");
	tcase_add_test(tc, test_public_api);
	tcase_add_test(tc, test_default_path);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad-stores");
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_not_a_file);
	tcase_add_test(tc, test_newer_version);
	tcase_add_test(tc, test_wrong_shape);
	tcase_add_test(tc, test_foreign_db);
	tcase_add_test(tc, test_bad_rows);
	tcase_add_test(tc, test_corrupt_pages);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	/* Timeouts only catch hangs (valgrind is slow); nothing is timed. */
	tc = tcase_create("concurrency");
	tcase_add_test(tc, test_processes);
	tcase_add_test(tc, test_processes_create_race);
	tcase_add_test(tc, test_threads);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);

	tc = tcase_create("crash");
	tcase_add_test(tc, test_crash_mid_transaction);
	tcase_add_test(tc, test_crash_before_commit);
	tcase_add_test(tc, test_crash_between_commits);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
