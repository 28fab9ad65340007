/*
 * Fuzz target "store": the readers of the trust-on-first-use store
 * (lib/store.c) on a store file that someone else wrote.
 *
 * The store is an SQLite file in the user's home; another program, or an
 * attacker with write access to the user's files, may have put anything in
 * it. The input is a small program that builds such a file with raw SQLite
 * (in a temporary directory made once per process; the file is deleted and
 * made again for every input), then the library opens and reads it.
 *
 * Input format (missing bytes read as 0):
 *   byte 0 with bit 7 set: the observation history, see HISTORY below;
 *   otherwise
 *   byte 0: mode = byte % 8
 *     0  the real schema (tg_store_open with create)
 *     1  the real schema, then user_version and application_id from byte 1
 *        (see set_pragmas) -- old, newer, negative, foreign files
 *     2  a hand-made table "tofu" with the right column names, no types and
 *        no constraints (fails the shape check)
 *     3  a hand-made rowid table with the right types, NOT NULL and primary
 *        key but no CHECK constraints (passes the shape check)
 *     4  as 3, but the host column is COLLATE NOCASE (case-folded matches)
 *     5  the real schema plus triggers that abort every UPDATE and DELETE
 *     6  a view named "tofu" over a hand-made table
 *     7  raw image: bytes 1.. are written as the store file itself
 *   modes 0..6: byte 1 is the pragma selector (modes 1, 2, 3, 4, 6 use it),
 *   then rows until the input ends (at most MAX_ROWS), each:
 *     flags  (1 byte: column types, see insert_row)
 *     hostlen(1 byte) host bytes (any bytes: NUL, non-UTF-8, upper case)
 *     port   (value, see get_i64), spki (key, see get_key),
 *     first_seen, last_seen, seen_count (values),
 *     pend   (1 byte: bit 0 pending set, bit 1 pending_seen set),
 *     pending (key), pending_seen (value)
 *   Rows are inserted with PRAGMA ignore_check_constraints = ON (and INSERT
 *   OR IGNORE: NOT NULL and key conflicts drop the row), so that rows the
 *   real schema forbids reach the file.
 *
 * Then, without create: tg_store_open, tg_store_check, tg_store_tofu_get for
 * the rows' hosts and for "a.example.test", tg_store_tofu_foreach (all and
 * per host), and tg_store_tofu_seen / set_pending / accept / forget on the
 * first row's host.
 *
 * Invariants checked (abort() when violated):
 * - every call returns a documented code: 0/1 (or a count) or a negative
 *   TLSGUARD_E_*, with a message on failure; tg_store_open returns 0 or
 *   TLSGUARD_E_STORE / TLSGUARD_E_NOMEM and leaves *out NULL on failure;
 * - every record that get or foreach returns is valid: host 1..253 bytes,
 *   normalised (tg_host_normalize gives it back unchanged), port 0..65535,
 *   seen_count >= 1, has_pending 0 or 1 (a pending key always comes with
 *   its time: the struct holds both); get returns the host:port asked for;
 * - foreach returns the number of records it passed to the callback;
 * - with the real schema (modes 0, 1 and 5 without triggers in the way):
 *   after tg_store_tofu_seen returned 0 the record reads back with that key;
 *   after accept returned 0 it has no pending key and seen_count 1;
 * - raw image: a file that tg_store_open refuses before it may write (its
 *   header does not say schema version 1 or 2 with application_id 0 or "TLSG")
 *   is left byte for byte as it was; in every case it is never deleted.
 *
 * HISTORY (byte 0 >= 0x80; tg_history.h, lib/history.c): bit 4 of byte 0
 * selects the tables: 0 the real schema, 1 the history tables made again by
 * hand with the same columns, types, NOT NULL and keys but no CHECK, UNIQUE
 * or foreign key (so they pass the shape check). Byte 1: how many valid
 * records (byte % 24) are appended through tg_history_append first (hosts
 * h0/h1.example.test, port 443, a few addresses and chains; byte 2 bit 0: a
 * max_rows limit of 5 so that compaction runs). Then edits until the input
 * ends (at most MAX_EDITS), each an op byte and values (see hist_edit):
 * insert an observation / chain / tree_head / host_summary row of fuzzed
 * values, set one column of a row (or of every row) to a fuzzed value of
 * any type, delete rows, swap two records' seq, or rewrite log_state. Then,
 * without create: tg_history_foreach (all, per host, per host:port, with
 * and without a limit), tg_history_latest_by_address, _summary_foreach (3
 * kinds), _last_time, _head, _verify (with the head read before the edits
 * as the trusted one), one more append, and _verify again.
 * Invariants: documented codes with a message on failure; a walk returns
 * the number of callbacks; every record passed to a callback is valid
 * (normalised host, port 1..65535, enums in range, nchain <= 16, strings
 * terminated) and latest_by_address passes accepted records of the host:port
 * asked, with non-empty addresses in increasing order; verify returns 1 iff
 * it reported a problem, and 0 when nothing was edited (real schema).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <tlsguard/tlsguard.h>

#include "fuzz.h"
#include "tg.h"
#include "tg_history.h"
#include "tg_store.h"

#define MAX_ROWS 16
#define MAX_QUERIES 4
#define APP_ID 0x544c5347 /* "TLSG" */

static char dir[256];
static char path[300];
static char walpath[310];
static char shmpath[310];

static void remove_files(void)
{
	unlink(path);
	unlink(walpath);
	unlink(shmpath);
	snprintf(walpath + strlen(path), sizeof(walpath) - strlen(path), "-journal");
	unlink(walpath);
	snprintf(walpath + strlen(path), sizeof(walpath) - strlen(path), "-wal");
}

static void cleanup_dir(void)
{
	remove_files();
	rmdir(dir);
}

static void init_dir(void)
{
	const char *base;

	if (dir[0] != '\0')
		return;
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/tg-fuzz-store-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/store.db", dir);
	snprintf(walpath, sizeof(walpath), "%s-wal", path);
	snprintf(shmpath, sizeof(shmpath), "%s-shm", path);
	atexit(cleanup_dir);
}

/* ------------------------------------------------------------ input reader */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* A selector byte: below 0x80 a value from a table of interesting ones,
 * otherwise the next 8 bytes (big-endian). */
static int64_t get_i64(struct in *in)
{
	static const int64_t table[] = {
		0, 1, -1, 2, 443, 65535, 65536, INT64_MAX, INT64_MIN, TG_FUZZ_TIME, -TG_FUZZ_TIME, 4294967296 + 443,
		UINT32_MAX, 0x7fffffff, 80, 8443,
	};
	uint8_t s = get8(in);
	uint64_t v = 0;
	int i;

	if (s < 0x80)
		return table[s % (sizeof(table) / sizeof(table[0]))];
	for (i = 0; i < 8; i++)
		v = (v << 8) | get8(in);
	return (int64_t)v;
}

/* A key: selector byte (low 3 bits: length, high bits: fill pattern). */
static size_t get_key(struct in *in, unsigned char *out)
{
	static const size_t lens[] = {32, 32, 32, 32, 0, 31, 33, 64};
	uint8_t s = get8(in);
	uint8_t fill = get8(in);
	size_t len = lens[s & 7], i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(fill + (s & 0x80 ? i : 0));
	return len;
}

/* ------------------------------------------------------------ building */

struct row {
	unsigned char host[256];
	size_t hostlen;
	int64_t port;
	unsigned char spki[64];
	size_t spkilen;
};

static const char real_cols[] =
	"host TEXT NOT NULL, port INTEGER NOT NULL, spki BLOB NOT NULL, first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL, seen_count INTEGER NOT NULL, pending BLOB, pending_seen INTEGER,";

static void exec(sqlite3 *db, const char *sql)
{
	sqlite3_exec(db, sql, NULL, NULL, NULL); /* errors are part of the game */
}

static void set_pragmas(sqlite3 *db, uint8_t sel)
{
	static const int64_t versions[] = {1, 0, 2, -1, 1, 1, 100, INT32_MIN};
	static const int64_t apps[] = {APP_ID, 0, 0x12345678, -1};
	char sql[128];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld; PRAGMA application_id = %lld;",
	         (long long)versions[sel & 7], (long long)apps[(sel >> 3) & 3]);
	exec(db, sql);
}

static void bind_value(sqlite3_stmt *stmt, int idx, int64_t v, int as)
{
	char text[32];

	switch (as) {
	case 1:
		snprintf(text, sizeof(text), "%lld", (long long)v);
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
		break;
	case 2:
		sqlite3_bind_double(stmt, idx, (double)v + (v & 1 ? 0.5 : 0.0));
		break;
	case 3:
		sqlite3_bind_blob(stmt, idx, &v, sizeof(v), SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_int64(stmt, idx, v);
	}
}

/*
 * flags: bits 0-1 host as text / blob / NULL / text+trailing garbage type
 * (0 text, 1 blob, 2 NULL, 3 text); bits 2-3 port type, bits 4-5 type of the
 * times and seen_count (0 integer, 1 text, 2 real, 3 blob); bit 6 spki as
 * text; bit 7 pending as text.
 */
static void insert_row(sqlite3 *db, sqlite3_stmt *stmt, struct in *in, struct row *r)
{
	uint8_t flags = get8(in), pend;
	unsigned char pending[64];
	size_t i, plen;
	int64_t first, last, count, pseen;

	r->hostlen = get8(in);
	for (i = 0; i < r->hostlen; i++)
		r->host[i] = get8(in);
	r->port = get_i64(in);
	r->spkilen = get_key(in, r->spki);
	first = get_i64(in);
	last = get_i64(in);
	count = get_i64(in);
	pend = get8(in);
	plen = get_key(in, pending);
	pseen = get_i64(in);

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	switch (flags & 3) {
	case 1:
		sqlite3_bind_blob(stmt, 1, r->host, (int)r->hostlen, SQLITE_STATIC);
		break;
	case 2:
		sqlite3_bind_null(stmt, 1);
		break;
	default:
		sqlite3_bind_text(stmt, 1, (const char *)r->host, (int)r->hostlen, SQLITE_STATIC);
	}
	bind_value(stmt, 2, r->port, (flags >> 2) & 3);
	if (flags & 0x40)
		sqlite3_bind_text(stmt, 3, (const char *)r->spki, (int)r->spkilen, SQLITE_STATIC);
	else
		sqlite3_bind_blob(stmt, 3, r->spki, (int)r->spkilen, SQLITE_STATIC);
	bind_value(stmt, 4, first, (flags >> 4) & 3);
	bind_value(stmt, 5, last, 0);
	bind_value(stmt, 6, count, (flags >> 4) & 1);
	if (pend & 1) {
		if (flags & 0x80)
			sqlite3_bind_text(stmt, 7, (const char *)pending, (int)plen, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(stmt, 7, pending, (int)plen, SQLITE_TRANSIENT);
	}
	if (pend & 2)
		bind_value(stmt, 8, pseen, (pend >> 2) & 3);
	sqlite3_step(stmt); /* a NOT NULL or key conflict just drops the row */
	(void)db;
}

/* Build the store file of modes 0..6. Returns the number of rows read from
 * the input (inserted or not). */
static size_t build(int mode, struct in *in, struct row *rows)
{
	char err[TG_ERRBUF];
	struct tg_store *st = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	uint8_t sel = get8(in);
	size_t n = 0;
	int fd;
	char sql[1024];

	if (mode == 0 || mode == 1 || mode == 5) {
		if (tg_store_open(&st, path, 1, err, sizeof(err)) != 0)
			abort(); /* a fresh file in our own directory */
		tg_store_close(st);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			abort();
		close(fd);
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		abort();
	switch (mode) {
	case 1:
		set_pragmas(db, sel);
		break;
	case 2:
		exec(db, "CREATE TABLE tofu (host, port, spki, first_seen, last_seen, seen_count, pending, "
		         "pending_seen)");
		set_pragmas(db, sel);
		break;
	case 3:
	case 4:
		if (mode == 3)
			snprintf(sql, sizeof(sql), "CREATE TABLE tofu (%s PRIMARY KEY (host, port))", real_cols);
		else
			snprintf(sql, sizeof(sql),
			         "CREATE TABLE tofu (host TEXT NOT NULL COLLATE NOCASE, %s PRIMARY KEY (host, port))",
			         real_cols + strlen("host TEXT NOT NULL, "));
		exec(db, sql);
		set_pragmas(db, sel);
		break;
	case 5:
		exec(db, "CREATE TRIGGER tofu_no_update BEFORE UPDATE ON tofu BEGIN SELECT RAISE(ABORT, 'no'); END;"
		         "CREATE TRIGGER tofu_no_delete BEFORE DELETE ON tofu BEGIN SELECT RAISE(ABORT, 'no'); END;");
		break;
	case 6:
		snprintf(sql, sizeof(sql), "CREATE TABLE t (%s PRIMARY KEY (host, port));"
		                           "CREATE VIEW tofu AS SELECT * FROM t;", real_cols);
		exec(db, sql);
		set_pragmas(db, sel);
		break;
	}
	exec(db, "PRAGMA ignore_check_constraints = ON");
	if (sqlite3_prepare_v2(db,
	                       mode == 6 ? "INSERT OR IGNORE INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	                                 : "INSERT OR IGNORE INTO tofu VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		stmt = NULL;
	exec(db, "BEGIN");
	while (in->n > 0 && n < MAX_ROWS) {
		if (stmt != NULL)
			insert_row(db, stmt, in, &rows[n]);
		else
			in->n = 0;
		n++;
	}
	exec(db, "COMMIT");
	sqlite3_finalize(stmt);
	if (sqlite3_close(db) != SQLITE_OK)
		abort();
	return stmt != NULL ? n : 0;
}

/* ------------------------------------------------------------ checks */

static void check_code(int rc, const char *err, int allow_one)
{
	if (rc == 0 || (allow_one && rc == 1))
		return;
	if (rc > 0 || rc < TLSGUARD_E_VERIFY)
		abort();
	if (err[0] == '\0')
		abort();
}

static void check_record(const struct tg_tofu *r)
{
	char norm[TG_MAX_HOST + 1];
	size_t len = strnlen(r->host, sizeof(r->host));

	if (len < 1 || len > TG_MAX_HOST)
		abort();
	if (tg_host_normalize(r->host, len, norm) != 0 || strcmp(norm, r->host) != 0)
		abort();
	if (r->port > 65535)
		abort();
	if (r->seen_count < 1 || r->seen_count > (uint64_t)INT64_MAX)
		abort();
	if (r->has_pending != 0 && r->has_pending != 1)
		abort();
}

struct walk {
	int calls;
	int stop_at; /* stop after this many calls; 0: never */
};

static int walk_cb(const struct tg_tofu *rec, void *ud)
{
	struct walk *w = ud;

	check_record(rec);
	w->calls++;
	return w->stop_at != 0 && w->calls >= w->stop_at;
}

static void foreach(struct tg_store *st, const char *host, int stop_at)
{
	char err[TG_ERRBUF] = "";
	struct walk w = {0, stop_at};
	int rc = tg_store_tofu_foreach(st, host, walk_cb, &w, err, sizeof(err));

	if (rc >= 0) {
		if (rc != w.calls)
			abort();
		if (stop_at != 0 && rc > stop_at)
			abort();
	} else {
		check_code(rc, err, 0);
		if (w.calls != 0)
			abort(); /* validated all before calling back */
	}
}

/* Returns get's code; *rec is valid when it is 1. */
static int get(struct tg_store *st, const char *host, unsigned port, struct tg_tofu *rec)
{
	char err[TG_ERRBUF] = "";
	int rc = tg_store_tofu_get(st, host, port, rec, err, sizeof(err));

	check_code(rc, err, 1);
	if (rc == 1) {
		check_record(rec);
		if (strcmp(rec->host, host) != 0 || rec->port != port)
			abort();
	}
	return rc;
}

/* The row's host as a C string (up to the first NUL). */
static void row_host(const struct row *r, char *out)
{
	size_t i;

	for (i = 0; i < r->hostlen && r->host[i] != '\0'; i++)
		out[i] = (char)r->host[i];
	out[i] = '\0';
}

static void exercise(int mode, const struct row *rows, size_t nrows, int writes)
{
	char err[TG_ERRBUF] = "";
	char host[257];
	struct tg_store *st = (struct tg_store *)&err; /* must become NULL on failure */
	struct tg_tofu rec;
	unsigned char key[TG_SPKI_LEN];
	size_t i;
	int rc, strict = mode == 0 || mode == 1;
	unsigned port;

	rc = tg_store_open(&st, path, 0, err, sizeof(err));
	if (rc != 0) {
		if (st != NULL || (rc != TLSGUARD_E_STORE && rc != TLSGUARD_E_NOMEM) || err[0] == '\0')
			abort();
		return;
	}
	if (st == NULL)
		abort();
	err[0] = '\0';
	rc = tg_store_check(st, err, sizeof(err));
	check_code(rc, err, 0);
	foreach(st, NULL, 0);
	foreach(st, NULL, 1);
	get(st, "a.example.test", 443, &rec);
	for (i = 0; i < nrows && i < MAX_QUERIES; i++) {
		row_host(&rows[i], host);
		port = (unsigned)rows[i].port;
		get(st, host, port, &rec);
		get(st, host, 0, &rec);
		if (host[0] != '\0')
			foreach(st, host, 0);
	}
	if (writes && nrows > 0) {
		row_host(&rows[0], host);
		port = (unsigned)rows[0].port;
		memset(key, 0, sizeof(key));
		memcpy(key, rows[0].spki, rows[0].spkilen < sizeof(key) ? rows[0].spkilen : sizeof(key));

		err[0] = '\0';
		rc = tg_store_tofu_seen(st, host, port, key, TG_FUZZ_TIME, err, sizeof(err));
		check_code(rc, err, 1);
		if (rc == 0 && strict) {
			if (get(st, host, port, &rec) != 1 || memcmp(rec.spki, key, sizeof(key)) != 0)
				abort();
		}
		key[0] ^= 0x55;
		err[0] = '\0';
		rc = tg_store_tofu_set_pending(st, host, port, key, TG_FUZZ_TIME + 1, err, sizeof(err));
		check_code(rc, err, 0);
		err[0] = '\0';
		rc = tg_store_tofu_accept(st, host, port, err, sizeof(err));
		check_code(rc, err, 0);
		if (rc == 0 && strict) {
			if (get(st, host, port, &rec) != 1 || rec.has_pending || rec.seen_count != 1)
				abort();
		}
		foreach(st, NULL, 0);
		err[0] = '\0';
		rc = tg_store_tofu_forget(st, host, port & 1 ? port : 0, err, sizeof(err));
		if (rc < 0)
			check_code(rc, err, 0);
		err[0] = '\0';
		rc = tg_store_check(st, err, sizeof(err));
		check_code(rc, err, 0);
	}
	tg_store_close(st);
}

/* ------------------------------------------------------------ raw image */

static unsigned char *read_file(size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		abort();
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void raw_image(const uint8_t *data, size_t size)
{
	unsigned char *after;
	size_t alen = 0;
	int fd, may_write;
	struct row none;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
		abort();
	/* tg_store_open without create writes (switches to WAL, migrates)
	 * only after reading user_version 1 or 2 and application_id 0 or TLSG
	 * from the header. Offsets 60 and 68 of the SQLite header. */
	may_write = size >= 100 && memcmp(data, "SQLite format 3", 16) == 0 &&
	            (be32(data + 60) == 1 || be32(data + 60) == 2) &&
	            (be32(data + 68) == 0 || be32(data + 68) == APP_ID);
	memset(&none, 0, sizeof(none));
	exercise(7, &none, 0, 0);
	after = read_file(&alen);
	if (after == NULL)
		abort(); /* the store file was deleted */
	if (!may_write && (alen != size || (size > 0 && memcmp(after, data, size) != 0)))
		abort();
	free(after);
}

/* ------------------------------------------------------------ history */

#define MAX_EDITS 24

static const char *const hist_tables[] = {"observation", "chain", "tree_head", "log_state", "host_summary"};
static const char *const hist_cols[][12] = {
	{"seq", "time", "host", "port", "address", "source", "chain_id", "ct", "pin", "verdict", "fatal_codes",
	 "leaf_hash"},
	{"id", "digest", "fingerprints", "leaf_spki", "issuer_spki", "anchor_spki", "issuer_name", "anchor_name"},
	{"size", "root", "time"},
	{"id", "base_size", "base_frontier", "size", "frontier"},
	{"host", "port", "kind", "hash", "name", "first_seen", "last_seen", "accepted", "rejected", "last_rejected",
	 "last_rejected_codes"},
};
static const int hist_ncols[] = {12, 8, 3, 5, 11};

/* The history tables without CHECK, UNIQUE or REFERENCES. */
static const char hand_made[] =
	"DROP TABLE observation; DROP TABLE chain; DROP TABLE tree_head; DROP TABLE log_state;"
	" DROP TABLE host_summary;"
	"CREATE TABLE chain (id INTEGER PRIMARY KEY, digest BLOB NOT NULL, fingerprints BLOB NOT NULL,"
	" leaf_spki BLOB NOT NULL, issuer_spki BLOB NOT NULL, anchor_spki BLOB NOT NULL, issuer_name TEXT NOT NULL,"
	" anchor_name TEXT NOT NULL);"
	"CREATE TABLE observation (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, host TEXT NOT NULL,"
	" port INTEGER NOT NULL, address TEXT NOT NULL, source INTEGER NOT NULL, chain_id INTEGER NOT NULL,"
	" ct INTEGER NOT NULL, pin INTEGER NOT NULL, verdict INTEGER NOT NULL, fatal_codes INTEGER NOT NULL,"
	" leaf_hash BLOB NOT NULL);"
	"CREATE TABLE tree_head (size INTEGER PRIMARY KEY, root BLOB NOT NULL, time INTEGER NOT NULL);"
	"CREATE TABLE log_state (id INTEGER PRIMARY KEY, base_size INTEGER NOT NULL, base_frontier BLOB NOT NULL,"
	" size INTEGER NOT NULL, frontier BLOB NOT NULL);"
	"CREATE TABLE host_summary (host TEXT NOT NULL, port INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" hash BLOB NOT NULL, name TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, last_rejected INTEGER NOT NULL,"
	" last_rejected_codes INTEGER NOT NULL, PRIMARY KEY (host, port, kind, hash)) WITHOUT ROWID;";

static struct tg_observation hist_record(unsigned i)
{
	struct tg_observation o;
	unsigned k;

	memset(&o, 0, sizeof(o));
	snprintf(o.host, sizeof(o.host), "h%u.example.test", i % 2);
	o.port = 443;
	snprintf(o.address, sizeof(o.address), "192.0.2.%u", i % 3);
	o.time = TG_FUZZ_TIME + i;
	o.source = i % 4 == 3 ? TG_OBS_PROBE : TG_OBS_CONNECTION;
	o.verdict = i % 5 == 4 ? TLSGUARD_REJECT : TLSGUARD_ACCEPT;
	memset(o.leaf_spki, (int)(1 + i % 3), TG_SPKI_LEN);
	memset(o.issuer_spki, 0x40, TG_SPKI_LEN);
	snprintf(o.issuer_name, sizeof(o.issuer_name), "CN=CA %u", i % 2);
	o.nchain = 1 + i % 3;
	for (k = 0; k < o.nchain; k++)
		memset(o.chain[k], (int)(i % 3 + k), TG_SPKI_LEN);
	return o;
}

/* A value of any type for ?@idx: selector byte, then its bytes. */
static void bind_fuzz(sqlite3_stmt *stmt, int idx, struct in *in)
{
	unsigned char buf[300];
	uint8_t sel = get8(in);
	size_t n, i;

	switch (sel % 6) {
	case 0:
	case 1:
		sqlite3_bind_int64(stmt, idx, get_i64(in));
		break;
	case 2:
	case 3:
		n = get8(in);
		if (sel & 0x80)
			n += 32; /* up to 287: longer than every limit */
		for (i = 0; i < n; i++)
			buf[i] = get8(in);
		if (sel % 6 == 2)
			sqlite3_bind_text(stmt, idx, (const char *)buf, (int)n, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(stmt, idx, buf, (int)n, SQLITE_TRANSIENT);
		break;
	case 4: {
		/* a blob of 32 bytes per selector bit count: hashes, frontiers */
		n = (size_t)(sel >> 3) * 32 / 8;
		n = n > sizeof(buf) ? sizeof(buf) : n;
		for (i = 0; i < n; i++)
			buf[i] = (unsigned char)(get8(in) ^ i);
		sqlite3_bind_blob(stmt, idx, buf, (int)n, SQLITE_TRANSIENT);
		break;
	}
	default:
		if (sel & 0x40)
			sqlite3_bind_double(stmt, idx, (double)get_i64(in) + 0.5);
		else
			sqlite3_bind_null(stmt, idx);
	}
}

/*
 * op % 8: 0 insert a row of fuzzed values into table (op >> 3) % 5; 1 set
 * one column ((op >> 3) % ncols of table next byte % 5) of the row(s)
 * whose first column equals a value (bit 7: of every row); 2 delete rows
 * of a table whose first column equals a value; 3 swap two records' seq;
 * 4 set log_state from a fuzzed frontier and sizes; 5 delete a range of
 * records; 6 a valid chain edit (issuer_name of a chain); 7 nothing.
 */
static void hist_edit(sqlite3 *db, struct in *in)
{
	uint8_t op = get8(in);
	unsigned t = (op >> 3) % 5, i;
	char sql[512];
	sqlite3_stmt *stmt = NULL;
	size_t o;

	switch (op % 8) {
	case 0:
		o = (size_t)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s VALUES (", hist_tables[t]);
		for (i = 0; i < (unsigned)hist_ncols[t]; i++)
			o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s?%u", i ? ", " : "", i + 1);
		snprintf(sql + o, sizeof(sql) - o, ")");
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
			for (i = 0; i < (unsigned)hist_ncols[t]; i++)
				bind_fuzz(stmt, (int)i + 1, in);
			sqlite3_step(stmt);
		}
		break;
	case 1: {
		unsigned tt = get8(in) % 5;
		const char *col = hist_cols[tt][(op >> 3) % hist_ncols[tt]];
		if (op & 0x80)
			snprintf(sql, sizeof(sql), "UPDATE OR IGNORE %s SET %s = ?1", hist_tables[tt], col);
		else
			snprintf(sql, sizeof(sql), "UPDATE OR IGNORE %s SET %s = ?1 WHERE %s = ?2", hist_tables[tt], col,
			         hist_cols[tt][0]);
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
			bind_fuzz(stmt, 1, in);
			if (!(op & 0x80))
				sqlite3_bind_int64(stmt, 2, get_i64(in));
			sqlite3_step(stmt);
		}
		break;
	}
	case 2:
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?1", hist_tables[t], hist_cols[t][0]);
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(stmt, 1, get8(in) % 32);
			sqlite3_step(stmt);
		}
		break;
	case 3: {
		unsigned a = get8(in) % 32, b = get8(in) % 32;
		snprintf(sql, sizeof(sql), "UPDATE observation SET seq = -99 WHERE seq = %u;"
		                           "UPDATE observation SET seq = %u WHERE seq = %u;"
		                           "UPDATE observation SET seq = %u WHERE seq = -99;", a, a, b, b);
		exec(db, sql);
		break;
	}
	case 4:
		if (sqlite3_prepare_v2(db, "UPDATE log_state SET base_size = ?1, base_frontier = ?2, size = ?3,"
		                           " frontier = ?4", -1, &stmt, NULL) == SQLITE_OK) {
			/* small sizes near the real ones; bit 7 of op: any (huge) */
			sqlite3_bind_int64(stmt, 1, op & 0x80 ? get_i64(in) : get8(in) % 40);
			bind_fuzz(stmt, 2, in);
			sqlite3_bind_int64(stmt, 3, op & 0x80 ? get_i64(in) : (int64_t)(get8(in) % 48) - 2);
			bind_fuzz(stmt, 4, in);
			sqlite3_step(stmt);
		}
		break;
	case 5:
		snprintf(sql, sizeof(sql), "DELETE FROM observation WHERE seq >= %u AND seq < %u", get8(in) % 32u,
		         get8(in) % 32u);
		exec(db, sql);
		break;
	case 6:
		snprintf(sql, sizeof(sql), "UPDATE chain SET issuer_name = 'CN=Evil' WHERE id = %u", get8(in) % 8u);
		exec(db, sql);
		break;
	}
	sqlite3_finalize(stmt);
}

static void check_obs(const struct tg_observation *o)
{
	char norm[TG_MAX_HOST + 1];
	size_t len = strnlen(o->host, sizeof(o->host));

	if (len < 1 || len > TG_MAX_HOST || tg_host_normalize(o->host, len, norm) != 0 || strcmp(norm, o->host) != 0)
		abort();
	if (o->port < 1 || o->port > 65535 || o->seq < 0 || o->time < 0)
		abort();
	if (strnlen(o->address, sizeof(o->address)) == sizeof(o->address) ||
	    strnlen(o->issuer_name, TG_OBS_NAME) == TG_OBS_NAME || strnlen(o->anchor_name, TG_OBS_NAME) == TG_OBS_NAME)
		abort();
	if ((o->source != TG_OBS_CONNECTION && o->source != TG_OBS_PROBE) || o->ct < 0 || o->ct > 2 || o->pin < 0 ||
	    o->pin > 2 || (o->verdict != TLSGUARD_ACCEPT && o->verdict != TLSGUARD_REJECT) ||
	    o->nchain > TG_OBS_MAX_CHAIN)
		abort();
}

struct hwalk {
	int calls, stop_at;
	const char *host;
	unsigned port;
	char last[64];
};

static int hwalk_cb(const struct tg_observation *o, void *ud)
{
	struct hwalk *w = ud;

	check_obs(o);
	if (w->host != NULL) { /* latest_by_address */
		if (strcmp(o->host, w->host) != 0 || o->port != w->port || o->verdict != TLSGUARD_ACCEPT ||
		    o->address[0] == '\0' || (w->calls > 0 && strcmp(o->address, w->last) <= 0))
			abort();
		memcpy(w->last, o->address, sizeof(w->last));
	}
	w->calls++;
	return w->stop_at != 0 && w->calls >= w->stop_at;
}

static int hsum_cb(const struct tg_hist_summary *s, void *ud)
{
	if (s->kind < TG_HIST_KEY || s->kind > TG_HIST_ANCHOR || strnlen(s->name, TG_OBS_NAME) == TG_OBS_NAME ||
	    s->accepted > (uint64_t)INT64_MAX || s->rejected > (uint64_t)INT64_MAX)
		abort();
	(*(int *)ud)++;
	return 0;
}

static void hprob_cb(int64_t seq, const char *msg, void *ud)
{
	if (msg == NULL || msg[0] == '\0' || seq < -1)
		abort();
	(*(int *)ud)++;
}

static void hist_walk(struct tg_store *st, const char *host, unsigned port, int64_t limit)
{
	char err[TG_ERRBUF] = "";
	struct hwalk w = {0, 0, NULL, 0, ""};
	int rc = tg_history_foreach(st, host, port, limit, hwalk_cb, &w, err, sizeof(err));

	/* On an error, records of earlier batches may have been passed on
	 * (the walk reads 64 at a time); each of them was valid. */
	if (rc < 0)
		check_code(rc, err, 0);
	else if (rc != w.calls || (limit > 0 && rc > limit))
		abort();
}

static int hist_verify(struct tg_store *st, const struct tg_tree_head *trusted)
{
	char err[TG_ERRBUF] = "";
	struct tg_history_stats stats;
	struct tg_tree_head cur;
	int n = 0, rc = tg_history_verify(st, trusted, hprob_cb, &n, &cur, &stats, err, sizeof(err));

	if (rc == 0 && (n != 0 || stats.problems != 0))
		abort();
	if (rc == 1 && (n == 0 || stats.problems < 1))
		abort();
	if (rc < 0)
		check_code(rc, err, 0);
	return rc;
}

static void history(uint8_t b0, struct in *in)
{
	char err[TG_ERRBUF] = "";
	struct tg_store *st = NULL;
	struct tg_history_limits lim = {0, 0};
	struct tg_tree_head before, h;
	struct tg_observation o;
	sqlite3 *db = NULL;
	unsigned n, i, edits = 0;
	int rc, have_before = 0, hand = (b0 >> 4) & 1, count;
	int64_t t;

	if (tg_store_open(&st, path, 1, err, sizeof(err)) != 0)
		abort();
	n = get8(in) % 24;
	if (get8(in) & 1)
		lim.max_rows = 5;
	if (hand) {
		tg_store_close(st);
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			abort();
		if (sqlite3_exec(db, hand_made, NULL, NULL, NULL) != SQLITE_OK)
			abort();
		exec(db, "INSERT INTO log_state VALUES (0, 0, x'', 0, x'')");
		sqlite3_close(db);
		if (tg_store_open(&st, path, 0, err, sizeof(err)) != 0)
			abort(); /* the same shape passes */
	}
	for (i = 0; i < n; i++) {
		o = hist_record(i);
		if (tg_history_append(st, &o, &lim, err, sizeof(err)) != 0 || o.seq != (int64_t)i)
			abort();
	}
	if (tg_history_head(st, &before, err, sizeof(err)) != 0 || before.size != (int64_t)n)
		abort();
	have_before = 1;
	tg_store_close(st);

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		abort();
	exec(db, "PRAGMA ignore_check_constraints = ON");
	exec(db, "BEGIN");
	while (in->n > 0 && edits < MAX_EDITS) {
		hist_edit(db, in);
		edits++;
	}
	exec(db, "COMMIT");
	if (sqlite3_close(db) != SQLITE_OK)
		abort();

	st = (struct tg_store *)&err;
	rc = tg_store_open(&st, path, 0, err, sizeof(err));
	if (rc != 0) {
		if (st != NULL || (rc != TLSGUARD_E_STORE && rc != TLSGUARD_E_NOMEM))
			abort();
		return;
	}
	hist_walk(st, NULL, 0, 0);
	hist_walk(st, NULL, 0, 3);
	hist_walk(st, "h0.example.test", 0, 0);
	hist_walk(st, "h1.example.test", 443, 2);
	{
		struct hwalk w = {0, 0, "h0.example.test", 443, ""};
		err[0] = '\0';
		rc = tg_history_latest_by_address(st, "h0.example.test", 443, 0, "192.0.2.1", hwalk_cb, &w, err,
		                                  sizeof(err));
		if (rc >= 0 ? rc != w.calls : (check_code(rc, err, 0), 0))
			abort();
	}
	for (i = 0; i < 3; i++) {
		count = 0;
		err[0] = '\0';
		rc = tg_history_summary_foreach(st, "h1.example.test", 443, (int)i, hsum_cb, &count, err, sizeof(err));
		if (rc >= 0 ? rc != count : (check_code(rc, err, 0), 0))
			abort();
	}
	err[0] = '\0';
	rc = tg_history_last_time(st, "h0.example.test", 443, TG_OBS_CONNECTION, &t, err, sizeof(err));
	if (rc != 0)
		check_code(rc, err, 0);
	err[0] = '\0';
	rc = tg_history_head(st, &h, err, sizeof(err));
	if (rc != 0)
		check_code(rc, err, 0);
	rc = hist_verify(st, have_before ? &before : NULL);
	if (edits == 0 && !hand && rc != 0)
		abort(); /* an untouched log verifies */
	o = hist_record(n);
	err[0] = '\0';
	rc = tg_history_append(st, &o, &lim, err, sizeof(err));
	if (rc != 0)
		check_code(rc, err, 0);
	else if (edits == 0 && !hand && hist_verify(st, &before) != 0)
		abort();
	else
		hist_verify(st, NULL);
	tg_store_close(st);
}

TG_FUZZ_TARGET(store)
{
	struct row rows[MAX_ROWS];
	struct in in = {data, size};
	size_t n;
	int mode;

	init_dir();
	remove_files();
	mode = get8(&in);
	if (mode & 0x80) {
		history((uint8_t)mode, &in);
		remove_files();
		return 0;
	}
	mode %= 8;
	if (mode == 7) {
		raw_image(in.p, in.n);
	} else {
		n = build(mode, &in, rows);
		exercise(mode, rows, n, 1);
	}
	remove_files();
	return 0;
}
