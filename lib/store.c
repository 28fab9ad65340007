/*
 * The persistent store (see tg_store.h): one SQLite database per user,
 * shared by every process and thread using tlsguard.
 *
 * Connection settings (set at every open):
 *   - journal_mode=WAL: readers never block the writer and the writer never
 *     blocks readers; many processes share the file. The mode is persistent
 *     in the file; if the file system cannot do WAL (no shared memory, e.g.
 *     some network file systems) SQLite keeps its rollback journal, which is
 *     just as safe, only less concurrent.
 *   - synchronous=FULL: in WAL mode, NORMAL may lose the last transactions on
 *     power loss (they stay consistent, but are gone). For a trust-on-first-
 *     use store that is a security property: a key recorded as "seen" or a
 *     changed key recorded as pending must not vanish, or the next connection
 *     would silently trust a different key on "first" use again. FULL costs
 *     one fsync of the WAL per commit, small next to a TLS handshake.
 *   - busy_timeout 10 s: other processes' write transactions are waited for,
 *     not reported as errors.
 *   - foreign_keys=ON: observation.chain_id references chain(id)
 *     (migration 2).
 *   - defensive mode and trusted_schema=OFF where SQLite has them: the file
 *     is untrusted input, so its schema (views, triggers) may not call
 *     functions with side effects and may not be edited through SQL.
 *
 * Every write runs in one BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any
 * error), with prepared statements and bound parameters only. Every row read
 * back is validated (types, lengths, ranges, normalised host name) before it
 * is used: a bad row is TLSGUARD_E_STORE naming the host and the column.
 *
 * Schema versions live in PRAGMA user_version; the file is marked as ours in
 * PRAGMA application_id. A file at version 0 (a new empty file, or another
 * program's SQLite file without our tables) is initialised only when the
 * caller asked to create the store; newer versions than ours are refused;
 * older ones are migrated in one transaction. Nothing here ever deletes,
 * truncates or recreates a store file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tg.h"
#include "tg_store.h"

/* "TLSG": PRAGMA application_id of a tlsguard store. */
#define TG_STORE_APP_ID 0x544c5347

#define BUSY_TIMEOUT_MS 10000
#define MAX_PATH 4096

struct tg_store {
	sqlite3 *db;
	pthread_mutex_t lock; /* serialises the use of db */
	char *path;
	bool busy; /* the last SQLite error was SQLITE_BUSY */
	/* Statements prepared once per connection for the history's hot paths
	 * (tg_store_stmt); finalised at close. */
	sqlite3_stmt *cache[TG_STORE_STMT_SLOTS];
};

/* ------------------------------------------------------------------ schema */

/*
 * Migrations: step i brings the file from version i to version i + 1. Each
 * step is fixed SQL and ends by setting its own user_version; all pending
 * steps run in one BEGIN IMMEDIATE transaction, so a store is always at one
 * complete version. Never edit a released step: append one.
 *
 * Version 1: trust on first use. One row per host:port; the accepted key,
 * and at most one pending (changed) key an operator may accept. The host is
 * stored normalised (lower case, no trailing dot); port 0 is "unknown".
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE tofu ("
	" host TEXT NOT NULL CHECK (typeof(host) = 'text' AND length(host) BETWEEN 1 AND 253),"
	" port INTEGER NOT NULL CHECK (typeof(port) = 'integer' AND port BETWEEN 0 AND 65535),"
	" spki BLOB NOT NULL CHECK (typeof(spki) = 'blob' AND length(spki) = 32),"
	" first_seen INTEGER NOT NULL CHECK (typeof(first_seen) = 'integer'),"
	" last_seen INTEGER NOT NULL CHECK (typeof(last_seen) = 'integer'),"
	" seen_count INTEGER NOT NULL CHECK (typeof(seen_count) = 'integer' AND seen_count >= 1),"
	" pending BLOB CHECK (pending IS NULL OR (typeof(pending) = 'blob' AND length(pending) = 32)),"
	" pending_seen INTEGER CHECK (pending_seen IS NULL OR typeof(pending_seen) = 'integer'),"
	" CHECK ((pending IS NULL) = (pending_seen IS NULL)),"
	" PRIMARY KEY (host, port)"
	") WITHOUT ROWID;"
	"PRAGMA application_id = 1414288199;" /* TG_STORE_APP_ID */
	"PRAGMA user_version = 1;",

	/*
	 * 1 -> 2: the observation history of the consistency checks (history.c,
	 * tg_history.h). Rows are kept small: a chain (fingerprints, keys and CA
	 * names) repeats across many records, so it is stored once in chain and
	 * referenced; seq is the record's Merkle leaf index and leaf_hash its
	 * leaf hash (over the whole record, chain included, see history.c), so
	 * that verification need not trust either table. tree_head keeps one
	 * head per append; log_state (one row) the compacted prefix's size and
	 * Merkle frontier and the current frontier; host_summary what compaction
	 * must not forget. The CHECKs are for honest writers only: readers
	 * validate every value again (the file is untrusted).
	 */
	"CREATE TABLE chain ("
	" id INTEGER PRIMARY KEY,"
	" digest BLOB NOT NULL UNIQUE CHECK (typeof(digest) = 'blob' AND length(digest) = 32),"
	" fingerprints BLOB NOT NULL CHECK (typeof(fingerprints) = 'blob' AND length(fingerprints) % 32 = 0"
	"  AND length(fingerprints) <= 512),"
	" leaf_spki BLOB NOT NULL CHECK (typeof(leaf_spki) = 'blob' AND length(leaf_spki) = 32),"
	" issuer_spki BLOB NOT NULL CHECK (typeof(issuer_spki) = 'blob' AND length(issuer_spki) = 32),"
	" anchor_spki BLOB NOT NULL CHECK (typeof(anchor_spki) = 'blob' AND length(anchor_spki) = 32),"
	" issuer_name TEXT NOT NULL CHECK (typeof(issuer_name) = 'text' AND length(CAST(issuer_name AS BLOB)) < 256),"
	" anchor_name TEXT NOT NULL CHECK (typeof(anchor_name) = 'text' AND length(CAST(anchor_name AS BLOB)) < 256)"
	");"
	"CREATE TABLE observation ("
	" seq INTEGER PRIMARY KEY CHECK (seq >= 0),"
	" time INTEGER NOT NULL CHECK (typeof(time) = 'integer' AND time >= 0),"
	" host TEXT NOT NULL CHECK (typeof(host) = 'text' AND length(host) BETWEEN 1 AND 253),"
	" port INTEGER NOT NULL CHECK (typeof(port) = 'integer' AND port BETWEEN 1 AND 65535),"
	" address TEXT NOT NULL CHECK (typeof(address) = 'text' AND length(CAST(address AS BLOB)) < 64),"
	" source INTEGER NOT NULL CHECK (source IN (0, 1)),"
	" chain_id INTEGER NOT NULL REFERENCES chain(id),"
	" ct INTEGER NOT NULL CHECK (ct IN (0, 1, 2)),"
	" pin INTEGER NOT NULL CHECK (pin IN (0, 1, 2)),"
	" verdict INTEGER NOT NULL CHECK (verdict IN (0, 1)),"
	" fatal_codes INTEGER NOT NULL CHECK (typeof(fatal_codes) = 'integer'),"
	" leaf_hash BLOB NOT NULL CHECK (typeof(leaf_hash) = 'blob' AND length(leaf_hash) = 32)"
	");"
	/* newest accepted record per address of host:port since T */
	"CREATE INDEX observation_address ON observation (host, port, verdict, address, time);"
	/* newest first for host:port */
	"CREATE INDEX observation_host ON observation (host, port, time);"
	/* last time per source (the probe cache) */
	"CREATE INDEX observation_source ON observation (host, port, source, time);"
	/* compaction deletes chains no record uses any more (and the foreign
	 * key check on that delete needs it too) */
	"CREATE INDEX observation_chain ON observation (chain_id);"
	"CREATE TABLE tree_head ("
	" size INTEGER PRIMARY KEY CHECK (size >= 1),"
	" root BLOB NOT NULL CHECK (typeof(root) = 'blob' AND length(root) = 32),"
	" time INTEGER NOT NULL CHECK (typeof(time) = 'integer')"
	");"
	"CREATE TABLE log_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 0),"
	" base_size INTEGER NOT NULL CHECK (typeof(base_size) = 'integer' AND base_size >= 0),"
	" base_frontier BLOB NOT NULL CHECK (typeof(base_frontier) = 'blob'),"
	" size INTEGER NOT NULL CHECK (typeof(size) = 'integer' AND size >= base_size),"
	" frontier BLOB NOT NULL CHECK (typeof(frontier) = 'blob')"
	");"
	"INSERT INTO log_state (id, base_size, base_frontier, size, frontier) VALUES (0, 0, x'', 0, x'');"
	"CREATE TABLE host_summary ("
	" host TEXT NOT NULL CHECK (typeof(host) = 'text' AND length(host) BETWEEN 1 AND 253),"
	" port INTEGER NOT NULL CHECK (typeof(port) = 'integer' AND port BETWEEN 1 AND 65535),"
	" kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),"
	" hash BLOB NOT NULL CHECK (typeof(hash) = 'blob' AND length(hash) = 32),"
	" name TEXT NOT NULL CHECK (typeof(name) = 'text' AND length(CAST(name AS BLOB)) < 256),"
	" first_seen INTEGER NOT NULL CHECK (typeof(first_seen) = 'integer'),"
	" last_seen INTEGER NOT NULL CHECK (typeof(last_seen) = 'integer'),"
	" accepted INTEGER NOT NULL CHECK (typeof(accepted) = 'integer' AND accepted >= 0),"
	" rejected INTEGER NOT NULL CHECK (typeof(rejected) = 'integer' AND rejected >= 0),"
	" last_rejected INTEGER NOT NULL CHECK (typeof(last_rejected) = 'integer'),"
	" last_rejected_codes INTEGER NOT NULL CHECK (typeof(last_rejected_codes) = 'integer'),"
	" PRIMARY KEY (host, port, kind, hash)"
	") WITHOUT ROWID;"
	"PRAGMA user_version = 2;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == TG_STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* Expected shape of our tables at TG_STORE_SCHEMA_VERSION, as
 * pragma_table_info reports it. A hand-made table with other columns,
 * types, NOT NULL or keys is refused at open (the readers still validate
 * every value: CHECK constraints are not part of the shape). */
struct column_shape {
	const char *name;
	const char *type;
	int notnull;
	int pk; /* position in the primary key, 0 if not part of it */
};

static const struct column_shape tofu_shape[] = {
	{"host", "TEXT", 1, 1},
	{"port", "INTEGER", 1, 2},
	{"spki", "BLOB", 1, 0},
	{"first_seen", "INTEGER", 1, 0},
	{"last_seen", "INTEGER", 1, 0},
	{"seen_count", "INTEGER", 1, 0},
	{"pending", "BLOB", 0, 0},
	{"pending_seen", "INTEGER", 0, 0},
};

/* Migration 2 (history.c). INTEGER PRIMARY KEY columns report not null 0. */
static const struct column_shape chain_shape[] = {
	{"id", "INTEGER", 0, 1},
	{"digest", "BLOB", 1, 0},
	{"fingerprints", "BLOB", 1, 0},
	{"leaf_spki", "BLOB", 1, 0},
	{"issuer_spki", "BLOB", 1, 0},
	{"anchor_spki", "BLOB", 1, 0},
	{"issuer_name", "TEXT", 1, 0},
	{"anchor_name", "TEXT", 1, 0},
};

static const struct column_shape observation_shape[] = {
	{"seq", "INTEGER", 0, 1},
	{"time", "INTEGER", 1, 0},
	{"host", "TEXT", 1, 0},
	{"port", "INTEGER", 1, 0},
	{"address", "TEXT", 1, 0},
	{"source", "INTEGER", 1, 0},
	{"chain_id", "INTEGER", 1, 0},
	{"ct", "INTEGER", 1, 0},
	{"pin", "INTEGER", 1, 0},
	{"verdict", "INTEGER", 1, 0},
	{"fatal_codes", "INTEGER", 1, 0},
	{"leaf_hash", "BLOB", 1, 0},
};

static const struct column_shape tree_head_shape[] = {
	{"size", "INTEGER", 0, 1},
	{"root", "BLOB", 1, 0},
	{"time", "INTEGER", 1, 0},
};

static const struct column_shape log_state_shape[] = {
	{"id", "INTEGER", 0, 1},
	{"base_size", "INTEGER", 1, 0},
	{"base_frontier", "BLOB", 1, 0},
	{"size", "INTEGER", 1, 0},
	{"frontier", "BLOB", 1, 0},
};

static const struct column_shape host_summary_shape[] = {
	{"host", "TEXT", 1, 1},
	{"port", "INTEGER", 1, 2},
	{"kind", "INTEGER", 1, 3},
	{"hash", "BLOB", 1, 4},
	{"name", "TEXT", 1, 0},
	{"first_seen", "INTEGER", 1, 0},
	{"last_seen", "INTEGER", 1, 0},
	{"accepted", "INTEGER", 1, 0},
	{"rejected", "INTEGER", 1, 0},
	{"last_rejected", "INTEGER", 1, 0},
	{"last_rejected_codes", "INTEGER", 1, 0},
};

#define SHAPE(t) {#t, t##_shape, sizeof(t##_shape) / sizeof(t##_shape[0])}
static const struct table_shape {
	const char *name;
	const struct column_shape *cols;
	size_t ncols;
} table_shapes[] = {
	SHAPE(tofu), SHAPE(chain), SHAPE(observation), SHAPE(tree_head), SHAPE(log_state), SHAPE(host_summary),
};

#define TOFU_COLUMNS "host, port, spki, first_seen, last_seen, seen_count, pending, pending_seen"

/* ------------------------------------------------------------------ helpers */

#define seterr tg_store_seterr

void tg_store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n < 0)
		err[0] = '\0';
}

/* "path: what: sqlite message"; TLSGUARD_E_NOMEM when SQLite ran out of
 * memory, else TLSGUARD_E_STORE. */
static int db_error(struct tg_store *st, int src, const char *what, char *err, size_t errlen)
{
	int prim = src & 0xff;

	st->busy = prim == SQLITE_BUSY;
	seterr(err, errlen, "%s: %s: %s", st->path, what,
	       st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(src));
	return prim == SQLITE_NOMEM ? TLSGUARD_E_NOMEM : TLSGUARD_E_STORE;
}

/* Host names in messages come from the caller or from the file: show them
 * with anything outside the host alphabet replaced, and cut long ones. */
static void safe_host(const unsigned char *h, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < outlen; i++) {
		unsigned char c = h[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		          c == '-' || c == '_' || c == ':';
		out[o++] = ok ? (char)c : '?';
	}
	if (i < n && o + 3 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Hosts given to the internal API must already be normalised (what
 * tg_host_normalize makes), so that every row written reads back valid. */
static int check_host(const struct tg_store *st, const char *host, char *err, size_t errlen)
{
	char norm[TG_MAX_HOST + 1];
	char shown[80];
	size_t len;

	if (host == NULL) {
		seterr(err, errlen, "%s: host name is missing", st->path);
		return TLSGUARD_E_INVALID;
	}
	len = strnlen(host, TG_MAX_HOST + 1);
	if (len == 0 || len > TG_MAX_HOST || tg_host_normalize(host, len, norm) != 0 || strcmp(norm, host) != 0) {
		safe_host((const unsigned char *)host, len, shown, sizeof(shown));
		seterr(err, errlen, "%s: invalid host name '%s'", st->path, shown);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

static int check_port(const struct tg_store *st, unsigned port, char *err, size_t errlen)
{
	if (port > 65535) {
		seterr(err, errlen, "%s: invalid port %u", st->path, port);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

static int prepare(struct tg_store *st, const char *sql, sqlite3_stmt **stmt, char *err, size_t errlen)
{
	int src = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);

	if (src != SQLITE_OK) {
		*stmt = NULL;
		return db_error(st, src, "cannot prepare statement", err, errlen);
	}
	return 0;
}

/* Run a statement that returns no rows. */
static int exec_simple(struct tg_store *st, const char *sql, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc, src;

	rc = prepare(st, sql, &stmt, err, errlen);
	if (rc != 0)
		return rc;
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_error(st, src, what, err, errlen);
	sqlite3_finalize(stmt);
	return rc;
}

static int begin(struct tg_store *st, char *err, size_t errlen)
{
	return exec_simple(st, "BEGIN IMMEDIATE", "cannot begin a write transaction", err, errlen);
}

static int commit(struct tg_store *st, char *err, size_t errlen)
{
	return exec_simple(st, "COMMIT", "cannot commit", err, errlen);
}

/* Undo whatever the failed transaction did. SQLite may already have rolled
 * back by itself (e.g. after SQLITE_FULL); then there is nothing to do. */
static void rollback(struct tg_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* One integer from a query such as "PRAGMA user_version". */
static int query_int(struct tg_store *st, const char *sql, const char *what, int64_t *out, char *err,
                     size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc, src;

	rc = prepare(st, sql, &stmt, err, errlen);
	if (rc != 0)
		return rc;
	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) {
		*out = sqlite3_column_int64(stmt, 0);
	} else if (src == SQLITE_ROW || src == SQLITE_DONE) {
		seterr(err, errlen, "%s: %s: no integer answer", st->path, what);
		rc = TLSGUARD_E_STORE;
	} else {
		rc = db_error(st, src, what, err, errlen);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* ------------------------------------------------------------------ rows */

static int bad_row(const struct tg_store *st, const unsigned char *host, size_t hostlen, int64_t port,
                   const char *column, const char *why, char *err, size_t errlen)
{
	char shown[80];

	safe_host(host, hostlen, shown, sizeof(shown));
	seterr(err, errlen, "%s: bad tofu record for host '%s' port %lld: column %s %s", st->path, shown,
	       (long long)port, column, why);
	return TLSGUARD_E_STORE;
}

static int read_int(sqlite3_stmt *stmt, int col, int64_t *out)
{
	if (sqlite3_column_type(stmt, col) != SQLITE_INTEGER)
		return -1;
	*out = sqlite3_column_int64(stmt, col);
	return 0;
}

static int read_key(sqlite3_stmt *stmt, int col, unsigned char out[TG_SPKI_LEN])
{
	const void *p;

	if (sqlite3_column_type(stmt, col) != SQLITE_BLOB)
		return -1;
	p = sqlite3_column_blob(stmt, col);
	if (p == NULL || sqlite3_column_bytes(stmt, col) != TG_SPKI_LEN)
		return -1;
	memcpy(out, p, TG_SPKI_LEN);
	return 0;
}

/* Decode and validate one row of SELECT TOFU_COLUMNS. The file is untrusted:
 * nothing of a row is used unless all of it is well-formed. */
static int read_row(const struct tg_store *st, sqlite3_stmt *stmt, struct tg_tofu *out, char *err, size_t errlen)
{
	const unsigned char *host;
	char norm[TG_MAX_HOST + 1];
	int hostlen;
	int64_t port = -1, count;

	int hosttype;

	memset(out, 0, sizeof(*out));
	/* Types first: reading a value may convert it. */
	hosttype = sqlite3_column_type(stmt, 0);
	if (read_int(stmt, 1, &port) != 0)
		port = -1;
	host = sqlite3_column_text(stmt, 0);
	hostlen = sqlite3_column_bytes(stmt, 0);
	if (host == NULL)
		hostlen = 0;
	if (hosttype != SQLITE_TEXT || hostlen < 1 || hostlen > TG_MAX_HOST)
		return bad_row(st, host, (size_t)hostlen, port, "host", "is not a host name of 1 to 253 bytes", err,
		               errlen);
	if (memchr(host, '\0', (size_t)hostlen) != NULL ||
	    tg_host_normalize((const char *)host, (size_t)hostlen, norm) != 0 || strlen(norm) != (size_t)hostlen ||
	    memcmp(norm, host, (size_t)hostlen) != 0)
		return bad_row(st, host, (size_t)hostlen, port, "host", "is not a normalised host name", err, errlen);
	memcpy(out->host, host, (size_t)hostlen);
	out->host[hostlen] = '\0';

	if (port < 0 || port > 65535)
		return bad_row(st, host, (size_t)hostlen, port, "port", "is not an integer in 0..65535", err, errlen);
	out->port = (unsigned)port;
	if (read_key(stmt, 2, out->spki) != 0)
		return bad_row(st, host, (size_t)hostlen, port, "spki", "is not a 32-byte blob", err, errlen);
	if (read_int(stmt, 3, &out->first_seen) != 0)
		return bad_row(st, host, (size_t)hostlen, port, "first_seen", "is not an integer", err, errlen);
	if (read_int(stmt, 4, &out->last_seen) != 0)
		return bad_row(st, host, (size_t)hostlen, port, "last_seen", "is not an integer", err, errlen);
	if (read_int(stmt, 5, &count) != 0 || count < 1)
		return bad_row(st, host, (size_t)hostlen, port, "seen_count", "is not a positive integer", err, errlen);
	out->seen_count = (uint64_t)count;
	if (sqlite3_column_type(stmt, 6) == SQLITE_NULL) {
		if (sqlite3_column_type(stmt, 7) != SQLITE_NULL)
			return bad_row(st, host, (size_t)hostlen, port, "pending_seen", "is set without a pending key",
			               err, errlen);
		out->has_pending = 0;
	} else {
		if (read_key(stmt, 6, out->pending) != 0)
			return bad_row(st, host, (size_t)hostlen, port, "pending", "is not a 32-byte blob", err, errlen);
		if (read_int(stmt, 7, &out->pending_seen) != 0)
			return bad_row(st, host, (size_t)hostlen, port, "pending_seen", "is not an integer", err, errlen);
		out->has_pending = 1;
	}
	return 0;
}

/* Look up host:port inside the caller's lock (and transaction, if any):
 * 1 found, 0 not found, or a negative code. */
static int get_locked(struct tg_store *st, const char *host, unsigned port, struct tg_tofu *out, char *err,
                      size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc, src;

	rc = prepare(st, "SELECT " TOFU_COLUMNS " FROM tofu WHERE host = ?1 AND port = ?2", &stmt, err, errlen);
	if (rc != 0)
		return rc;
	if ((src = sqlite3_bind_text(stmt, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(stmt, 2, (sqlite3_int64)port)) != SQLITE_OK) {
		rc = db_error(st, src, "cannot bind parameters", err, errlen);
		goto cleanup;
	}
	src = sqlite3_step(stmt);
	if (src == SQLITE_DONE) {
		rc = 0;
	} else if (src == SQLITE_ROW) {
		rc = read_row(st, stmt, out, err, errlen);
		if (rc == 0)
			rc = 1;
	} else {
		rc = db_error(st, src, "cannot read tofu record", err, errlen);
	}
cleanup:
	sqlite3_finalize(stmt);
	return rc;
}

/* ------------------------------------------------------------------ schema checks */

/* One table: a real table (not a view), with exactly the expected columns. */
static int check_table_shape(struct tg_store *st, const struct table_shape *t, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	size_t n = 0, ncols = t->ncols;
	int rc, src;

	rc = prepare(st, "SELECT name, type, \"notnull\", pk, (SELECT type FROM sqlite_master WHERE name = ?1)"
	             " FROM pragma_table_info(?1) ORDER BY cid", &stmt, err, errlen);
	if (rc != 0)
		return rc;
	if ((src = sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC)) != SQLITE_OK) {
		rc = db_error(st, src, "cannot bind parameters", err, errlen);
		goto cleanup;
	}
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		const char *type = (const char *)sqlite3_column_text(stmt, 1);
		const char *kind = (const char *)sqlite3_column_text(stmt, 4);
		const struct column_shape *want = n < ncols ? &t->cols[n] : NULL;

		if (kind == NULL || strcmp(kind, "table") != 0) {
			seterr(err, errlen, "%s: %s is not a table (it is a %.16s)", st->path, t->name, kind ? kind : "?");
			rc = TLSGUARD_E_STORE;
			goto cleanup;
		}
		if (want == NULL) {
			seterr(err, errlen, "%s: table %s has an unexpected extra column '%.64s'", st->path, t->name,
			       name ? name : "");
			rc = TLSGUARD_E_STORE;
			goto cleanup;
		}
		if (name == NULL || strcmp(name, want->name) != 0 || type == NULL ||
		    strcasecmp(type, want->type) != 0 || sqlite3_column_int(stmt, 2) != want->notnull ||
		    sqlite3_column_int(stmt, 3) != want->pk) {
			seterr(err, errlen,
			       "%s: table %s has an unexpected shape: column %zu is '%.64s %.32s' (not null %d, key %d), "
			       "expected '%s %s' (not null %d, key %d)",
			       st->path, t->name, n + 1, name ? name : "", type ? type : "", sqlite3_column_int(stmt, 2),
			       sqlite3_column_int(stmt, 3), want->name, want->type, want->notnull, want->pk);
			rc = TLSGUARD_E_STORE;
			goto cleanup;
		}
		n++;
	}
	if (src != SQLITE_DONE) {
		seterr(err, errlen, "%s: cannot read the schema of table %s: %s", st->path, t->name,
		       sqlite3_errmsg(st->db));
		rc = (src & 0xff) == SQLITE_NOMEM ? TLSGUARD_E_NOMEM : TLSGUARD_E_STORE;
		goto cleanup;
	}
	if (n == 0) {
		seterr(err, errlen, "%s: schema version %d but table %s is missing", st->path, TG_STORE_SCHEMA_VERSION,
		       t->name);
		rc = TLSGUARD_E_STORE;
	} else if (n != ncols) {
		seterr(err, errlen, "%s: table %s has an unexpected shape: %zu columns, expected %zu", st->path, t->name,
		       n, ncols);
		rc = TLSGUARD_E_STORE;
	}
cleanup:
	sqlite3_finalize(stmt);
	return rc;
}

/* Every table of TG_STORE_SCHEMA_VERSION. */
static int check_shapes(struct tg_store *st, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(table_shapes) / sizeof(table_shapes[0]); i++)
		if ((rc = check_table_shape(st, &table_shapes[i], err, errlen)) != 0)
			return rc;
	return 0;
}

/* Versions and application id: 0 if usable as is or after migration. */
static int check_version(struct tg_store *st, int64_t version, int64_t app_id, char *err, size_t errlen)
{
	if (app_id != 0 && app_id != TG_STORE_APP_ID) {
		seterr(err, errlen, "%s: not a tlsguard store (SQLite application_id 0x%llx)", st->path,
		       (unsigned long long)(uint32_t)app_id);
		return TLSGUARD_E_STORE;
	}
	if (version > TG_STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: schema version %lld is newer than this tlsguard supports (%d)", st->path,
		       (long long)version, TG_STORE_SCHEMA_VERSION);
		return TLSGUARD_E_STORE;
	}
	if (version < 0) {
		seterr(err, errlen, "%s: invalid schema version %lld", st->path, (long long)version);
		return TLSGUARD_E_STORE;
	}
	return 0;
}

/* Bring the file to TG_STORE_SCHEMA_VERSION in one write transaction. The
 * version is read again inside it: another process may have migrated the
 * file since we looked. */
static int migrate(struct tg_store *st, int create, char *err, size_t errlen)
{
	int64_t version = 0, app_id = 0;
	int rc, src;
	char *msg = NULL;

	rc = begin(st, err, errlen);
	if (rc != 0)
		return rc;
	if ((rc = query_int(st, "PRAGMA user_version", "cannot read the schema version", &version, err, errlen)) !=
	        0 ||
	    (rc = query_int(st, "PRAGMA application_id", "cannot read the application id", &app_id, err, errlen)) != 0 ||
	    (rc = check_version(st, version, app_id, err, errlen)) != 0)
		goto cleanup;
	if (version == 0 && !create) {
		seterr(err, errlen, "%s: not an initialised tlsguard store (schema version 0); open it with create to "
		                    "initialise it", st->path);
		rc = TLSGUARD_E_STORE;
		goto cleanup;
	}
	for (; version < TG_STORE_SCHEMA_VERSION; version++) {
		src = sqlite3_exec(st->db, migrations[version], NULL, NULL, &msg);
		if (src != SQLITE_OK) {
			seterr(err, errlen, "%s: cannot migrate the store from schema version %lld to %lld: %s", st->path,
			       (long long)version, (long long)version + 1, msg ? msg : sqlite3_errstr(src));
			sqlite3_free(msg);
			st->busy = (src & 0xff) == SQLITE_BUSY;
			rc = (src & 0xff) == SQLITE_NOMEM ? TLSGUARD_E_NOMEM : TLSGUARD_E_STORE;
			goto cleanup;
		}
	}
	if ((rc = query_int(st, "PRAGMA user_version", "cannot read the schema version", &version, err, errlen)) != 0)
		goto cleanup;
	if (version != TG_STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: migration ended at schema version %lld, expected %d", st->path,
		       (long long)version, TG_STORE_SCHEMA_VERSION);
		rc = TLSGUARD_E_STORE;
		goto cleanup;
	}
	/* A hand-made older file (e.g. a version 1 store whose tofu table is
	 * not ours) is refused before anything is committed to it. */
	if ((rc = check_shapes(st, err, errlen)) != 0)
		goto cleanup;
	rc = commit(st, err, errlen);
cleanup:
	if (rc != 0)
		rollback(st);
	return rc;
}

/* ------------------------------------------------------------------ paths */

int tg_store_default_path(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *v;
	int n;

	if (out == NULL || outlen == 0)
		return TLSGUARD_E_INVALID;
	out[0] = '\0';
	if ((v = secure_getenv("TLSGUARD_STORE")) != NULL && v[0] != '\0')
		n = snprintf(out, outlen, "%s", v);
	else if ((v = secure_getenv("XDG_DATA_HOME")) != NULL && v[0] == '/')
		/* The XDG spec says relative values are invalid and ignored. */
		n = snprintf(out, outlen, "%s/tlsguard/store.db", v);
	else if ((v = secure_getenv("HOME")) != NULL && v[0] != '\0')
		n = snprintf(out, outlen, "%s/.local/share/tlsguard/store.db", v);
	else {
		seterr(err, errlen, "no store path: set TLSGUARD_STORE, XDG_DATA_HOME or HOME (none is set, or the "
		                    "program runs set-user-ID)");
		return TLSGUARD_E_STORE;
	}
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		seterr(err, errlen, "store path is too long (from $TLSGUARD_STORE, $XDG_DATA_HOME or $HOME)");
		return TLSGUARD_E_STORE;
	}
	return 0;
}

/* mkdir -p of the directory holding @path; new directories get mode 0700.
 * Existing ones are left as they are. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char dir[MAX_PATH];
	char *p;
	size_t len = strlen(path);

	if (len >= sizeof(dir)) {
		seterr(err, errlen, "%s: path too long", path);
		return TLSGUARD_E_STORE;
	}
	memcpy(dir, path, len + 1);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0; /* current directory or "/" */
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			seterr(err, errlen, "%s: cannot create directory %s: %s", path, dir, strerror(errno));
			return TLSGUARD_E_STORE;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

/* Before SQLite sees the path: it must be a regular file (or missing, with
 * create). A missing file is created empty with mode 0600, so that the
 * store (and the -wal and -shm files, which SQLite gives the same mode) are
 * private to the user; SQLite treats an empty file as a new database. */
static int prepare_file(const char *path, int create, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			seterr(err, errlen, "%s: cannot open store: is a directory", path);
			return TLSGUARD_E_STORE;
		}
		if (!S_ISREG(sb.st_mode)) {
			seterr(err, errlen, "%s: cannot open store: not a regular file", path);
			return TLSGUARD_E_STORE;
		}
		return 0;
	}
	if (errno != ENOENT) {
		seterr(err, errlen, "%s: cannot open store: %s", path, strerror(errno));
		return TLSGUARD_E_STORE;
	}
	if (!create) {
		seterr(err, errlen, "%s: no such store (one is created at the first connection to a host with trust on first use)",
		       path);
		return TLSGUARD_E_STORE;
	}
	if (make_parent_dirs(path, err, errlen) != 0)
		return TLSGUARD_E_STORE;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno != EEXIST) { /* EEXIST: another process won the race */
		seterr(err, errlen, "%s: cannot create store: %s", path, strerror(errno));
		return TLSGUARD_E_STORE;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* ------------------------------------------------------------------ open / close */

/* Settings of the connection itself, before the first statement. */
static int connection_settings(struct tg_store *st, char *err, size_t errlen)
{
	int src;

	src = sqlite3_extended_result_codes(st->db, 1);
	if (src == SQLITE_OK)
		src = sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (src != SQLITE_OK)
		return db_error(st, src, "cannot configure the connection", err, errlen);
#ifdef SQLITE_DBCONFIG_DEFENSIVE
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
#endif
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
#endif
	return 0;
}

/* Settings stored in the file or per connection that need statements. */
static int configure(struct tg_store *st, char *err, size_t errlen)
{
	int rc, src;
	sqlite3_stmt *stmt = NULL;

	/* journal_mode answers with the mode now in effect; anything but WAL
	 * (a file system without shared memory) still works, see above. */
	rc = prepare(st, "PRAGMA journal_mode = WAL", &stmt, err, errlen);
	if (rc != 0)
		return rc;
	src = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return db_error(st, src, "cannot switch to WAL journal mode", err, errlen);
	if ((rc = exec_simple(st, "PRAGMA synchronous = FULL", "cannot set synchronous mode", err, errlen)) != 0 ||
	    (rc = exec_simple(st, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", err, errlen)) != 0)
		return rc;
	return 0;
}

/* Everything after sqlite3_open_v2: look, configure, migrate, verify. */
static int setup(struct tg_store *st, int create, char *err, size_t errlen)
{
	int64_t version = 0, app_id = 0;
	int rc;

	/* Look before writing anything: reading the header fails on a file
	 * that is not a database ("file is not a database") and leaves it
	 * untouched; a newer or foreign schema is refused before we switch the
	 * journal mode or migrate. */
	if ((rc = query_int(st, "PRAGMA user_version", "cannot read the schema version", &version, err, errlen)) !=
	        0 ||
	    (rc = query_int(st, "PRAGMA application_id", "cannot read the application id", &app_id, err, errlen)) != 0 ||
	    (rc = check_version(st, version, app_id, err, errlen)) != 0)
		return rc;
	if (version == 0 && !create) {
		seterr(err, errlen, "%s: not an initialised tlsguard store (schema version 0; an empty file or another "
		                    "program's database); open it with TLSGUARD_STORE_CREATE to initialise it", st->path);
		return TLSGUARD_E_STORE;
	}
	if ((rc = configure(st, err, errlen)) != 0)
		return rc;
	if (version < TG_STORE_SCHEMA_VERSION && (rc = migrate(st, create, err, errlen)) != 0)
		return rc;
	return check_shapes(st, err, errlen);
}

int tg_store_open(struct tg_store **out, const char *path, int create, char *err, size_t errlen)
{
	struct tg_store *st = NULL;
	int rc, src, flags;
	bool mutex_ok = false;
	long waited_ms = 0, pause_ms = 1;

	if (out == NULL)
		return TLSGUARD_E_INVALID;
	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		seterr(err, errlen, "store path is empty");
		return TLSGUARD_E_INVALID;
	}
	if (strlen(path) >= MAX_PATH) {
		seterr(err, errlen, "%.64s...: store path too long", path);
		return TLSGUARD_E_INVALID;
	}
	st = tg_calloc(1, sizeof(*st));
	if (st == NULL || (st->path = tg_strdup(path)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		rc = TLSGUARD_E_NOMEM;
		goto cleanup;
	}
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		seterr(err, errlen, "%s: cannot create mutex", path);
		rc = TLSGUARD_E_INTERNAL;
		goto cleanup;
	}
	mutex_ok = true;
	if ((rc = prepare_file(path, create, err, errlen)) != 0)
		goto cleanup;

	/* The file exists now (made by prepare_file with mode 0600 when
	 * creating), so SQLITE_OPEN_CREATE is never needed: if the file
	 * vanished meanwhile, that is an error, not a new store. */
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	src = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (src != SQLITE_OK) {
		if (st->db == NULL) {
			seterr(err, errlen, "%s: cannot open store: %s", path, sqlite3_errstr(src));
			rc = (src & 0xff) == SQLITE_NOMEM ? TLSGUARD_E_NOMEM : TLSGUARD_E_STORE;
		} else {
			rc = db_error(st, src, "cannot open store", err, errlen);
		}
		goto cleanup;
	}
	if ((rc = connection_settings(st, err, errlen)) != 0)
		goto cleanup;
	/* While another process creates the store or switches it to WAL,
	 * SQLite can answer SQLITE_BUSY at once, without its busy handler: wait
	 * and retry, as the busy handler would, up to the same timeout. */
	for (;;) {
		st->busy = false;
		rc = setup(st, create, err, errlen);
		if (rc == 0 || !st->busy || waited_ms >= BUSY_TIMEOUT_MS)
			break;
		struct timespec ts = {0, pause_ms * 1000000L};
		nanosleep(&ts, NULL);
		waited_ms += pause_ms;
		if (pause_ms < 64)
			pause_ms *= 2;
	}
	if (rc != 0)
		goto cleanup;
	*out = st;
	st = NULL;
cleanup:
	if (st != NULL) {
		if (st->db != NULL)
			sqlite3_close_v2(st->db);
		if (mutex_ok)
			pthread_mutex_destroy(&st->lock);
		tg_free(st->path);
		tg_free(st);
	}
	return rc;
}

void tg_store_close(struct tg_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < TG_STORE_STMT_SLOTS; i++)
		sqlite3_finalize(st->cache[i]);
	/* close_v2: statements are all finalised by now; it also copes if
	 * not. The last connection checkpoints the WAL into the file. */
	sqlite3_close_v2(st->db);
	pthread_mutex_destroy(&st->lock);
	tg_free(st->path);
	tg_free(st);
}

const char *tg_store_path(const struct tg_store *st)
{
	return st ? st->path : "";
}

/* ------------------------------------------------------------------ TOFU */

static int args_ok(struct tg_store *st, const char *host, unsigned port, char *err, size_t errlen)
{
	int rc;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	if ((rc = check_host(st, host, err, errlen)) != 0)
		return rc;
	return check_port(st, port, err, errlen);
}

int tg_store_tofu_get(struct tg_store *st, const char *host, unsigned port, struct tg_tofu *out, char *err,
                      size_t errlen)
{
	struct tg_tofu rec;
	int rc;

	if ((rc = args_ok(st, host, port, err, errlen)) != 0)
		return rc;
	if (out == NULL) {
		seterr(err, errlen, "%s: no record to fill in", st->path);
		return TLSGUARD_E_INVALID;
	}
	pthread_mutex_lock(&st->lock);
	rc = get_locked(st, host, port, &rec, err, errlen);
	pthread_mutex_unlock(&st->lock);
	if (rc == 1)
		*out = rec;
	return rc;
}

/* Bind (host, port, key, time) to ?1..?4 of @stmt and run it once. */
static int run_write(struct tg_store *st, sqlite3_stmt *stmt, const char *host, unsigned port,
                     const unsigned char *key, int64_t now, const char *what, char *err, size_t errlen)
{
	int src;

	if ((src = sqlite3_bind_text(stmt, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(stmt, 2, (sqlite3_int64)port)) != SQLITE_OK ||
	    (key != NULL && (src = sqlite3_bind_blob(stmt, 3, key, TG_SPKI_LEN, SQLITE_STATIC)) != SQLITE_OK) ||
	    (src = sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now)) != SQLITE_OK)
		return db_error(st, src, "cannot bind parameters", err, errlen);
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE)
		return db_error(st, src, what, err, errlen);
	if (sqlite3_changes(st->db) != 1) {
		seterr(err, errlen, "%s: %s: %d rows changed, expected 1", st->path, what, sqlite3_changes(st->db));
		return TLSGUARD_E_STORE;
	}
	return 0;
}

/* Arguments of a write that records a key. */
static int key_args_ok(struct tg_store *st, const char *host, unsigned port, const unsigned char *spki, char *err,
                       size_t errlen)
{
	int rc = args_ok(st, host, port, err, errlen);
	if (rc == 0 && spki == NULL) {
		seterr(err, errlen, "%s: no key given", st->path);
		rc = TLSGUARD_E_INVALID;
	}
	return rc;
}

/* Start a write transaction (lock held) and read host:port's record:
 * 1 found, 0 not, or a negative code. The caller commits or rolls back. */
static int begin_and_read(struct tg_store *st, const char *host, unsigned port, struct tg_tofu *rec, char *err,
                          size_t errlen)
{
	int rc = begin(st, err, errlen);
	return rc != 0 ? rc : get_locked(st, host, port, rec, err, errlen);
}

int tg_store_tofu_seen(struct tg_store *st, const char *host, unsigned port, const unsigned char spki[TG_SPKI_LEN],
                       int64_t now, char *err, size_t errlen)
{
	struct tg_tofu rec;
	sqlite3_stmt *stmt = NULL;
	int rc, found;

	if ((rc = key_args_ok(st, host, port, spki, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	if ((found = begin_and_read(st, host, port, &rec, err, errlen)) < 0) {
		rc = found;
		goto cleanup;
	}
	if (found && memcmp(rec.spki, spki, TG_SPKI_LEN) != 0) {
		rc = 1; /* a different key: the caller decides; nothing changes */
		goto cleanup;
	}
	if (!found)
		rc = prepare(st,
		             "INSERT INTO tofu (" TOFU_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?4, 1, NULL, NULL)", &stmt,
		             err, errlen);
	else
		/* Saturate the count; last_seen never goes backwards, even if
		 * processes' clocks disagree. */
		rc = prepare(st,
		             "UPDATE tofu SET last_seen = max(last_seen, ?4),"
		             " seen_count = CASE WHEN seen_count < 9223372036854775807 THEN seen_count + 1"
		             " ELSE seen_count END"
		             " WHERE host = ?1 AND port = ?2 AND spki = ?3",
		             &stmt, err, errlen);
	if (rc != 0)
		goto cleanup;
	if ((rc = run_write(st, stmt, host, port, spki, now, found ? "cannot update tofu record" :
	                    "cannot insert tofu record", err, errlen)) != 0)
		goto cleanup;
	rc = commit(st, err, errlen);
cleanup:
	sqlite3_finalize(stmt);
	if (rc != 0)
		rollback(st); /* also for 1: nothing was written */
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int tg_store_tofu_set_pending(struct tg_store *st, const char *host, unsigned port,
                              const unsigned char spki[TG_SPKI_LEN], int64_t now, char *err, size_t errlen)
{
	struct tg_tofu rec;
	sqlite3_stmt *stmt = NULL;
	int rc, found;

	if ((rc = key_args_ok(st, host, port, spki, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	if ((found = begin_and_read(st, host, port, &rec, err, errlen)) < 0) {
		rc = found;
		goto cleanup;
	}
	if (!found) {
		seterr(err, errlen, "%s: %s port %u has no tofu record to attach a pending key to", st->path, host, port);
		rc = TLSGUARD_E_RANGE;
		goto cleanup;
	}
	if (memcmp(rec.spki, spki, TG_SPKI_LEN) == 0) {
		/* It is the accepted key already (someone accepted it since the
		 * caller looked): nothing is pending. */
		rc = 0;
		rollback(st);
		goto cleanup;
	}
	/* The latest changed key wins: an operator reviews what is served now. */
	rc = prepare(st, "UPDATE tofu SET pending = ?3, pending_seen = ?4 WHERE host = ?1 AND port = ?2", &stmt, err,
	             errlen);
	if (rc != 0)
		goto cleanup;
	if ((rc = run_write(st, stmt, host, port, spki, now, "cannot record pending key", err, errlen)) != 0)
		goto cleanup;
	rc = commit(st, err, errlen);
cleanup:
	sqlite3_finalize(stmt);
	if (rc != 0)
		rollback(st);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int tg_store_tofu_accept(struct tg_store *st, const char *host, unsigned port, char *err, size_t errlen)
{
	struct tg_tofu rec;
	sqlite3_stmt *stmt = NULL;
	int rc, found;

	if ((rc = args_ok(st, host, port, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	if ((found = begin_and_read(st, host, port, &rec, err, errlen)) < 0) {
		rc = found;
		goto cleanup;
	}
	if (!found || !rec.has_pending) {
		seterr(err, errlen, "%s: %s port %u has %s", st->path, host, port,
		       found ? "no pending key to accept" : "no tofu record");
		rc = TLSGUARD_E_RANGE;
		goto cleanup;
	}
	/* Swap in exactly the pending key that was read and validated above. */
	rc = prepare(st,
	             "UPDATE tofu SET spki = pending, first_seen = pending_seen, last_seen = pending_seen,"
	             " seen_count = 1, pending = NULL, pending_seen = NULL"
	             " WHERE host = ?1 AND port = ?2 AND pending = ?3 AND pending_seen = ?4",
	             &stmt, err, errlen);
	if (rc != 0)
		goto cleanup;
	if ((rc = run_write(st, stmt, host, port, rec.pending, rec.pending_seen, "cannot accept pending key", err,
	                    errlen)) != 0)
		goto cleanup;
	rc = commit(st, err, errlen);
cleanup:
	sqlite3_finalize(stmt);
	if (rc != 0)
		rollback(st);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int tg_store_tofu_forget(struct tg_store *st, const char *host, unsigned port, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc, src, n = 0;

	if ((rc = args_ok(st, host, port, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	if ((rc = begin(st, err, errlen)) != 0)
		goto cleanup;
	rc = prepare(st, port == 0 ? "DELETE FROM tofu WHERE host = ?1" : "DELETE FROM tofu WHERE host = ?1 AND port = ?2",
	             &stmt, err, errlen);
	if (rc != 0)
		goto cleanup;
	if ((src = sqlite3_bind_text(stmt, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (port != 0 && (src = sqlite3_bind_int64(stmt, 2, (sqlite3_int64)port)) != SQLITE_OK)) {
		rc = db_error(st, src, "cannot bind parameters", err, errlen);
		goto cleanup;
	}
	src = sqlite3_step(stmt);
	if (src != SQLITE_DONE) {
		rc = db_error(st, src, "cannot delete tofu records", err, errlen);
		goto cleanup;
	}
	n = sqlite3_changes(st->db);
	rc = commit(st, err, errlen);
cleanup:
	sqlite3_finalize(stmt);
	if (rc != 0)
		rollback(st);
	pthread_mutex_unlock(&st->lock);
	return rc != 0 ? rc : n;
}

/* Read every matching row (one consistent snapshot: a single statement),
 * validate all of them, then call @fn without holding the lock, so that the
 * callback may use the store itself. */
int tg_store_tofu_foreach(struct tg_store *st, const char *host, int (*fn)(const struct tg_tofu *rec, void *ud),
                          void *ud, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	struct tg_tofu *recs = NULL, *grown;
	size_t n = 0, cap = 0, i;
	int rc, src, visited = 0;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	if (fn == NULL) {
		seterr(err, errlen, "%s: no callback given", st->path);
		return TLSGUARD_E_INVALID;
	}
	if (host != NULL && (rc = check_host(st, host, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	rc = prepare(st,
	             host != NULL ? "SELECT " TOFU_COLUMNS " FROM tofu WHERE host = ?1 ORDER BY host, port"
	                          : "SELECT " TOFU_COLUMNS " FROM tofu ORDER BY host, port",
	             &stmt, err, errlen);
	if (rc != 0)
		goto unlock;
	if (host != NULL && (src = sqlite3_bind_text(stmt, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK) {
		rc = db_error(st, src, "cannot bind parameters", err, errlen);
		goto unlock;
	}
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			if (ncap > (size_t)INT_MAX || (grown = tg_realloc(recs, ncap * sizeof(*recs))) == NULL) {
				seterr(err, errlen, "%s: out of memory listing tofu records", st->path);
				rc = TLSGUARD_E_NOMEM;
				goto unlock;
			}
			recs = grown;
			cap = ncap;
		}
		if ((rc = read_row(st, stmt, &recs[n], err, errlen)) != 0)
			goto unlock;
		n++;
	}
	if (src != SQLITE_DONE)
		rc = db_error(st, src, "cannot list tofu records", err, errlen);
unlock:
	sqlite3_finalize(stmt);
	pthread_mutex_unlock(&st->lock);
	if (rc != 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		visited++;
		if (fn(&recs[i], ud) != 0)
			break;
	}
	rc = visited;
cleanup:
	tg_free(recs);
	return rc;
}

static int count_rows(const struct tg_tofu *rec, void *ud)
{
	(void)rec;
	(void)ud;
	return 0;
}

int tg_store_check(struct tg_store *st, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int64_t version = 0, app_id = 0;
	char problems[TG_ERRBUF] = "";
	size_t plen = 0;
	int rc, src, nproblems = 0;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	pthread_mutex_lock(&st->lock);
	if ((rc = query_int(st, "PRAGMA user_version", "cannot read the schema version", &version, err, errlen)) !=
	        0 ||
	    (rc = query_int(st, "PRAGMA application_id", "cannot read the application id", &app_id, err, errlen)) != 0 ||
	    (rc = check_version(st, version, app_id, err, errlen)) != 0)
		goto unlock;
	if (version != TG_STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: schema version %lld, expected %d", st->path, (long long)version,
		       TG_STORE_SCHEMA_VERSION);
		rc = TLSGUARD_E_STORE;
		goto unlock;
	}
	if ((rc = check_shapes(st, err, errlen)) != 0)
		goto unlock;
	/* Integrity of the file: b-trees, indexes, NOT NULL and CHECK
	 * constraints (the last ones only say which table). */
	rc = prepare(st, "PRAGMA integrity_check(20)", &stmt, err, errlen);
	if (rc != 0)
		goto unlock;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(stmt, 0);
		if (line != NULL && strcmp(line, "ok") == 0)
			continue;
		nproblems++;
		if (plen + 3 < sizeof(problems)) {
			int k = snprintf(problems + plen, sizeof(problems) - plen, "%s%s", plen ? "; " : "",
			                 line ? line : "?");
			if (k > 0)
				plen = plen + (size_t)k < sizeof(problems) ? plen + (size_t)k : sizeof(problems) - 1;
		}
	}
	if (src != SQLITE_DONE)
		rc = db_error(st, src, "integrity check failed", err, errlen);
	else if (nproblems > 0) {
		seterr(err, errlen, "%s: integrity check found %d problem%s: %s", st->path, nproblems,
		       nproblems == 1 ? "" : "s", problems);
		rc = TLSGUARD_E_STORE;
	}
unlock:
	sqlite3_finalize(stmt);
	pthread_mutex_unlock(&st->lock);
	if (rc != 0 && nproblems == 0)
		return rc;
	/* Every record must also read back valid; when the integrity check
	 * failed, a bad record names the host and column, which says more. */
	{
		char rowerr[TG_ERRBUF] = "";
		int rrc = tg_store_tofu_foreach(st, NULL, count_rows, NULL, rowerr, sizeof(rowerr));
		if (rrc < 0) {
			seterr(err, errlen, "%s", rowerr);
			return rrc;
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ internal API (history.c) */

void tg_store_lock(struct tg_store *st)
{
	pthread_mutex_lock(&st->lock);
}

void tg_store_unlock(struct tg_store *st)
{
	pthread_mutex_unlock(&st->lock);
}

int tg_store_stmt(struct tg_store *st, unsigned slot, const char *sql, sqlite3_stmt **out, char *err,
                  size_t errlen)
{
	int src;

	*out = NULL;
	if (slot >= TG_STORE_STMT_SLOTS) {
		seterr(err, errlen, "%s: internal error: statement slot %u", st->path, slot);
		return TLSGUARD_E_INTERNAL;
	}
	if (st->cache[slot] == NULL) {
		src = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->cache[slot], NULL);
		if (src != SQLITE_OK) {
			st->cache[slot] = NULL;
			return db_error(st, src, "cannot prepare statement", err, errlen);
		}
	}
	sqlite3_reset(st->cache[slot]);
	sqlite3_clear_bindings(st->cache[slot]);
	*out = st->cache[slot];
	return 0;
}

int tg_store_begin(struct tg_store *st, int write, char *err, size_t errlen)
{
	return write ? begin(st, err, errlen)
	             : exec_simple(st, "BEGIN DEFERRED", "cannot begin a read transaction", err, errlen);
}

int tg_store_commit(struct tg_store *st, char *err, size_t errlen)
{
	return commit(st, err, errlen);
}

void tg_store_rollback(struct tg_store *st)
{
	rollback(st);
}

int tg_store_db_error(struct tg_store *st, int src, const char *what, char *err, size_t errlen)
{
	return db_error(st, src, what, err, errlen);
}

int tg_store_check_host(const struct tg_store *st, const char *host, char *err, size_t errlen)
{
	return check_host(st, host, err, errlen);
}

void tg_store_safe_text(const unsigned char *s, size_t n, char *out, size_t outlen)
{
	safe_host(s, n, out, outlen);
}

/* ------------------------------------------------------------------ public API */

struct tlsguard_store {
	struct tg_store *st; /* NULL when opening failed */
	char path[MAX_PATH]; /* what was (to be) opened; "" if unknown */
	char err[TG_ERRBUF];
	char open_err[TG_ERRBUF]; /* why opening failed */
};

int tlsguard_store_open(tlsguard_store **out, const char *path, unsigned flags)
{
	tlsguard_store *h;
	int rc;

	if (out == NULL)
		return TLSGUARD_E_INVALID;
	*out = NULL;
	h = tg_calloc(1, sizeof(*h));
	if (h == NULL)
		return TLSGUARD_E_NOMEM;
	*out = h; /* also on error, so that the caller can read why */
	if (flags & ~TLSGUARD_STORE_CREATE) {
		tg_snprintf(h->err, sizeof(h->err), "unknown store flags 0x%x", flags & ~TLSGUARD_STORE_CREATE);
		rc = TLSGUARD_E_INVALID;
		goto cleanup;
	}
	if (path == NULL) {
		rc = tg_store_default_path(h->path, sizeof(h->path), h->err, sizeof(h->err));
		if (rc != 0)
			goto cleanup;
	} else if ((size_t)tg_snprintf(h->path, sizeof(h->path), "%s", path) >= sizeof(h->path)) {
		h->path[0] = '\0';
		tg_snprintf(h->err, sizeof(h->err), "%.64s...: store path too long", path);
		rc = TLSGUARD_E_INVALID;
		goto cleanup;
	}
	rc = tg_store_open(&h->st, h->path, (flags & TLSGUARD_STORE_CREATE) != 0, h->err, sizeof(h->err));
cleanup:
	if (rc != 0)
		memcpy(h->open_err, h->err, sizeof(h->err));
	return rc;
}

void tlsguard_store_close(tlsguard_store *h)
{
	if (h == NULL)
		return;
	tg_store_close(h->st);
	tg_free(h);
}

const char *tlsguard_store_path(const tlsguard_store *h)
{
	return h ? h->path : "";
}

const char *tlsguard_store_last_error(const tlsguard_store *h)
{
	return h ? h->err : "";
}

/* Common entry: clear the message; a handle whose open failed keeps saying
 * why. */
static int store_begin(tlsguard_store *h)
{
	if (h == NULL)
		return TLSGUARD_E_INVALID;
	h->err[0] = '\0';
	if (h->st == NULL) {
		tg_snprintf(h->err, sizeof(h->err), "store is not open: %s", h->open_err);
		return TLSGUARD_E_STORE;
	}
	return 0;
}

/* Hosts from users ("Example.COM.") are normalised like request hosts. */
static int public_host(tlsguard_store *h, const char *host, char norm[TG_MAX_HOST + 1])
{
	char shown[80];

	if (host == NULL) {
		tg_snprintf(h->err, sizeof(h->err), "%s: host name is missing", h->path);
		return TLSGUARD_E_INVALID;
	}
	if (tg_host_normalize(host, strlen(host), norm) != 0) {
		safe_host((const unsigned char *)host, strlen(host), shown, sizeof(shown));
		tg_snprintf(h->err, sizeof(h->err), "%s: invalid host name '%s'", h->path, shown);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

struct list_ctx {
	tlsguard_tofu_cb cb;
	void *ud;
};

static int list_one(const struct tg_tofu *rec, void *ud)
{
	const struct list_ctx *lc = ud;

	return lc->cb(rec->host, rec->port, rec->spki, rec->first_seen, rec->last_seen, rec->seen_count,
	              rec->has_pending ? rec->pending : NULL, rec->has_pending ? rec->pending_seen : 0, lc->ud);
}

int tlsguard_store_tofu_list(tlsguard_store *h, const char *host, tlsguard_tofu_cb cb, void *userdata)
{
	char norm[TG_MAX_HOST + 1];
	struct list_ctx lc = {cb, userdata};
	int rc = store_begin(h);

	if (rc != 0)
		return rc;
	if (cb == NULL) {
		tg_snprintf(h->err, sizeof(h->err), "%s: no callback given", h->path);
		return TLSGUARD_E_INVALID;
	}
	if (host != NULL && (rc = public_host(h, host, norm)) != 0)
		return rc;
	return tg_store_tofu_foreach(h->st, host ? norm : NULL, list_one, &lc, h->err, sizeof(h->err));
}

int tlsguard_store_tofu_forget(tlsguard_store *h, const char *host, unsigned port)
{
	char norm[TG_MAX_HOST + 1];
	int rc = store_begin(h);

	if (rc != 0)
		return rc;
	if ((rc = public_host(h, host, norm)) != 0)
		return rc;
	return tg_store_tofu_forget(h->st, norm, port, h->err, sizeof(h->err));
}

int tlsguard_store_tofu_accept(tlsguard_store *h, const char *host, unsigned port)
{
	char norm[TG_MAX_HOST + 1];
	int rc = store_begin(h);

	if (rc != 0)
		return rc;
	if ((rc = public_host(h, host, norm)) != 0)
		return rc;
	return tg_store_tofu_accept(h->st, norm, port, h->err, sizeof(h->err));
}

int tlsguard_store_check(tlsguard_store *h)
{
	int rc = store_begin(h);

	if (rc != 0)
		return rc;
	return tg_store_check(h->st, h->err, sizeof(h->err));
}

struct tg_store *tg_store_of(tlsguard_store *h, char **err, size_t *errlen)
{
	if (h == NULL)
		return NULL;
	*err = h->err;
	*errlen = sizeof(h->err);
	return store_begin(h) == 0 ? h->st : NULL;
}
