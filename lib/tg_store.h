/*
 * The persistent store: one SQLite database shared by every process and
 * thread that uses tlsguard on a machine (per user). It holds what tlsguard
 * learns over time: trust-on-first-use keys, and the observation history and
 * Merkle tree heads of the consistency checks (tg_history.h, history.c).
 * New tables arrive as migrations; see store.c.
 *
 * Concurrency: WAL mode, a busy timeout, and every write in one
 * BEGIN IMMEDIATE transaction. A struct tg_store may be shared by the
 * threads of a process (a mutex serialises its use of the connection).
 *
 * Failure: a store that cannot be opened, is corrupt, or has a schema version
 * newer than this library knows is an error (TLSGUARD_E_STORE) with a message
 * naming the file; it is never recreated over the user's data.
 */
#ifndef TLSGUARD_TG_STORE_H
#define TLSGUARD_TG_STORE_H

#include <stddef.h>
#include <stdint.h>

#define TG_SPKI_LEN 32 /* SHA-256 of a SubjectPublicKeyInfo */

struct tg_store;

/* Default path: $TLSGUARD_STORE, else $XDG_DATA_HOME/tlsguard/store.db, else
 * $HOME/.local/share/tlsguard/store.db. Environment read with
 * secure_getenv(). Returns 0 or TLSGUARD_E_STORE (no HOME) with a message. */
int tg_store_default_path(char *out, size_t outlen, char *err, size_t errlen);

/* Open (creating the file and its directory when @create is non-zero and it
 * does not exist; migrating an older schema in a transaction). On error
 * *out is NULL and @err says what and where. */
int tg_store_open(struct tg_store **out, const char *path, int create, char *err, size_t errlen);
void tg_store_close(struct tg_store *st);
const char *tg_store_path(const struct tg_store *st);

/* A trust-on-first-use record for host:port. */
struct tg_tofu {
	char host[254];
	unsigned port;
	unsigned char spki[TG_SPKI_LEN];   /* the accepted key */
	int64_t first_seen;                /* when it was first accepted */
	int64_t last_seen;                 /* last time it was seen and accepted */
	uint64_t seen_count;
	int has_pending;                   /* a different key was seen since */
	unsigned char pending[TG_SPKI_LEN];
	int64_t pending_seen;              /* when the pending key was last seen */
};

/* Look up host:port. Returns 1 found (filled in), 0 not found, or a
 * negative TLSGUARD_E_* code with a message in @err. */
int tg_store_tofu_get(struct tg_store *st, const char *host, unsigned port, struct tg_tofu *out, char *err,
                      size_t errlen);

/* Record that @spki was seen and accepted for host:port at @now: inserts the
 * first-use record, or refreshes last_seen/seen_count when it is the stored
 * key. Does NOT replace a different stored key (returns 1 then and changes
 * nothing); 0 on success; negative code on error. Atomic. */
int tg_store_tofu_seen(struct tg_store *st, const char *host, unsigned port, const unsigned char spki[TG_SPKI_LEN],
                       int64_t now, char *err, size_t errlen);

/* Remember @spki as the pending (changed) key for host:port at @now, so that
 * an operator can review and accept it. 0 or negative code. */
int tg_store_tofu_set_pending(struct tg_store *st, const char *host, unsigned port,
                              const unsigned char spki[TG_SPKI_LEN], int64_t now, char *err, size_t errlen);

/* Make the pending key the accepted key (first_seen = pending_seen,
 * seen_count = 1). Returns 0, TLSGUARD_E_RANGE when host:port has no pending
 * key or no record, or another negative code. */
int tg_store_tofu_accept(struct tg_store *st, const char *host, unsigned port, char *err, size_t errlen);

/* Delete records of @host (every port when @port is 0). Returns the number
 * deleted (>= 0) or a negative code. */
int tg_store_tofu_forget(struct tg_store *st, const char *host, unsigned port, char *err, size_t errlen);

/* Call @fn for every record (ordered by host, port), or only those of @host
 * when it is not NULL. Stops early when @fn returns non-zero. Returns the
 * number of records visited or a negative code. */
int tg_store_tofu_foreach(struct tg_store *st, const char *host, int (*fn)(const struct tg_tofu *rec, void *ud),
                          void *ud, char *err, size_t errlen);

/* PRAGMA integrity_check and schema version check. 0 or TLSGUARD_E_STORE. */
int tg_store_check(struct tg_store *st, char *err, size_t errlen);

/* Schema version this library writes: 1 trust on first use, 2 the
 * observation history (tg_history.h). */
#define TG_STORE_SCHEMA_VERSION 2

/* ---- Internal: for the code of the other tables (history.c) only. ----
 * The caller holds the lock (tg_store_lock) around every call below and
 * around the use of the statements it gets. */
#define TG_STORE_STMT_SLOTS 32
struct sqlite3_stmt;
void tg_store_lock(struct tg_store *st);
void tg_store_unlock(struct tg_store *st);
/* A statement prepared once per connection in @slot (< TG_STORE_STMT_SLOTS;
 * each slot always gets the same @sql), reset and with bindings cleared.
 * The caller resets it after use (an unreset SELECT keeps a read
 * transaction open). 0 or a negative code. */
int tg_store_stmt(struct tg_store *st, unsigned slot, const char *sql, struct sqlite3_stmt **out, char *err,
                  size_t errlen);
/* BEGIN IMMEDIATE (@write) or BEGIN DEFERRED; COMMIT; ROLLBACK if a
 * transaction is open. */
int tg_store_begin(struct tg_store *st, int write, char *err, size_t errlen);
int tg_store_commit(struct tg_store *st, char *err, size_t errlen);
void tg_store_rollback(struct tg_store *st);
/* "path: what: sqlite message" in @err; TLSGUARD_E_NOMEM or TLSGUARD_E_STORE. */
int tg_store_db_error(struct tg_store *st, int src, const char *what, char *err, size_t errlen);
/* printf into @err (NULL or 0 bytes: nothing). */
void tg_store_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* TLSGUARD_E_INVALID with a message unless @host is a normalised host name. */
int tg_store_check_host(const struct tg_store *st, const char *host, char *err, size_t errlen);
/* @s (untrusted bytes) made printable for a message: host alphabet kept,
 * anything else '?', long text cut with "...". */
void tg_store_safe_text(const unsigned char *s, size_t n, char *out, size_t outlen);

#endif
