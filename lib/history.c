/*
 * The observation history (tg_history.h): an append-only, tamper-evident
 * log of what connections and probes showed for each host, in the store
 * (schema version 2, see store.c for the tables).
 *
 * Records and the Merkle tree
 *   Record seq is leaf seq of an RFC 9162 Merkle tree (merkle.c hashing).
 *   Its leaf is tlsguard_merkle_leaf_hash() of the canonical encoding below,
 *   stored with the row (observation.leaf_hash) so that the tree can be
 *   recomputed without trusting the row's other columns, and the row can be
 *   checked against it. Appends are O(log n): log_state keeps the tree's
 *   frontier (the hashes of the perfect subtrees along the right edge, one
 *   per set bit of the size, largest first); a new leaf is merged into it
 *   like a binary increment and the root is the right-to-left fold of it.
 *   A tree head (size, root, time) is stored after every append.
 *
 * Canonical record encoding, version 1 (all integers big-endian):
 *     "TGOBS" 0x01
 *     u64 seq                 the leaf index: moving a row changes its leaf
 *     u64 time                (int64 two's complement)
 *     u8  len, host           normalised, 1..253 bytes
 *     u16 port
 *     u8  len, address        0..63 bytes
 *     u8  source, u8 ct, u8 pin, u8 verdict
 *     u64 fatal_codes
 *     chain:
 *     32  leaf_spki, 32 issuer_spki, 32 anchor_spki
 *     u16 len, issuer_name    0..255 bytes
 *     u16 len, anchor_name    0..255 bytes
 *     u8  nchain, nchain * 32 fingerprints
 *   Every field is covered, so editing any column of the record or of the
 *   (shared, deduplicated) chain row it refers to is detected. The chain
 *   row's digest (its UNIQUE key) is SHA-256("TGCHAIN" 0x01 || chain part).
 *
 * Retention rule (compaction, after every append, in the same transaction)
 *   - max_rows > 0 and more than max_rows records are kept: the oldest are
 *     deleted down to max_rows - max_rows / 10 (at least 1 kept), so that
 *     the cost of a compaction is spread over a tenth of max_rows appends;
 *   - retention > 0: once the oldest record is older than
 *     obs->time - retention - retention / 10, the oldest records (in seq
 *     order, stopping at the first that is not) with time <
 *     obs->time - retention are deleted (amortised: one compaction per
 *     tenth of the retention, not one per append).
 *   The deleted prefix [N0, N0') is folded into the stored frontier at the
 *   compacted size N0 (log_state.base_frontier, at most 64 hashes), tree
 *   heads below N0' are deleted (the one at N0' is kept: verification
 *   checks the frontier against it), and chain rows no record uses any more
 *   are deleted. Sizes and seq keep counting every record ever appended, and
 *   host_summary (per host:port and key, issuer or anchor: first and last
 *   seen, counts, last rejection) is never compacted. Probe records do not
 *   touch the summary, which describes connections.
 *
 * Verification (tg_history_verify) recomputes every leaf from the rows, finds
 * gaps, rebuilds the tree from the N0 frontier and the stored leaf hashes
 * (as a hash pyramid, so any root or consistency proof is O(log n)), checks
 * every stored head, RFC 9162 consistency proofs between sampled heads and
 * from a trusted head, and names the records that make a difference.
 *
 * The file is untrusted: every value read back is checked (type, length,
 * range) and a malformed row is TLSGUARD_E_STORE naming its seq and column.
 * Every function holds the store's mutex while it uses the connection and
 * calls the caller's callbacks only after releasing it.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "tg.h"
#include "tg_history.h"

#define HLEN 32
#define MAX_LEVELS 64
#define ENC_MAX 2048      /* a whole record encodes in < 1500 bytes */
#define BATCH 64          /* records read per lock hold by the walks */
#define MAX_PROBLEMS 10000 /* reported one by one; the rest are counted */

/* Cached statements (tg_store_stmt slots) of the append path. */
enum {
	S_STATE_GET,
	S_STATE_SET,
	S_CHAIN_GET,
	S_CHAIN_ADD,
	S_OBS_ADD,
	S_HEAD_ADD,
	S_SUMMARY,
	S_OLDEST,
	S_FOLD,
	S_DEL_OBS,
	S_DEL_HEADS,
	S_DEL_CHAIN,
	S_LAST_TIME,
	S_WALK_ALL,
	S_WALK_ALL_NEXT,
	S_WALK_HOST,
	S_WALK_HOST_NEXT,
	S_WALK_PORT,
	S_WALK_PORT_NEXT,
	S_LATEST,
	S_SUMMARY_GET,
	S_HEAD_GET,
	S_VERIFY_ROWS,
	S_VERIFY_HEADS,
	S_NSLOTS
};
_Static_assert(S_NSLOTS <= TG_STORE_STMT_SLOTS, "enough statement slots");

#define seterr tg_store_seterr

static const char *P(const struct tg_store *st)
{
	return tg_store_path(st);
}

/* ------------------------------------------------------------------ hashing */

static int empty_root(unsigned char out[HLEN])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, out) < 0 ? TLSGUARD_E_INTERNAL : 0;
}

static int node(const unsigned char *l, const unsigned char *r, unsigned char *out)
{
	unsigned char tmp[HLEN];
	int rc = tlsguard_merkle_node_hash(l, r, tmp);

	if (rc == 0)
		memcpy(out, tmp, HLEN);
	return rc;
}

static unsigned popcount(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* Frontier @f of a tree of @size leaves (popcount(size) hashes, largest
 * subtree first) becomes the frontier of size + 1 with @leaf appended. */
static int frontier_push(unsigned char *f, uint64_t size, const unsigned char leaf[HLEN])
{
	unsigned char c[HLEN];
	unsigned k = popcount(size);
	int rc;

	memcpy(c, leaf, HLEN);
	while (size & 1) {
		if ((rc = node(f + (size_t)(k - 1) * HLEN, c, c)) != 0)
			return rc;
		k--;
		size >>= 1;
	}
	memcpy(f + (size_t)k * HLEN, c, HLEN);
	return 0;
}

/* RFC 9162 MTH from the frontier: fold right to left. */
static int frontier_root(const unsigned char *f, uint64_t size, unsigned char out[HLEN])
{
	unsigned k = popcount(size), i;
	unsigned char r[HLEN];
	int rc;

	if (size == 0)
		return empty_root(out);
	memcpy(r, f + (size_t)(k - 1) * HLEN, HLEN);
	for (i = k - 1; i-- > 0;)
		if ((rc = node(f + (size_t)i * HLEN, r, r)) != 0)
			return rc;
	memcpy(out, r, HLEN);
	return 0;
}

/* ------------------------------------------------------------------ encoding */

struct enc {
	unsigned char b[ENC_MAX];
	size_t n;
};

static void put(struct enc *e, const void *p, size_t len)
{
	/* Callers bound every length (see the format above); ENC_MAX has room. */
	memcpy(e->b + e->n, p, len);
	e->n += len;
}

static void put_u8(struct enc *e, unsigned v)
{
	e->b[e->n++] = (unsigned char)v;
}

static void put_u16(struct enc *e, unsigned v)
{
	put_u8(e, (v >> 8) & 0xff);
	put_u8(e, v & 0xff);
}

static void put_u64(struct enc *e, uint64_t v)
{
	int i;

	for (i = 56; i >= 0; i -= 8)
		put_u8(e, (unsigned)(v >> i) & 0xff);
}

static void put_chain(struct enc *e, const struct tg_observation *o)
{
	size_t in = strlen(o->issuer_name), an = strlen(o->anchor_name);

	put(e, o->leaf_spki, TG_SPKI_LEN);
	put(e, o->issuer_spki, TG_SPKI_LEN);
	put(e, o->anchor_spki, TG_SPKI_LEN);
	put_u16(e, (unsigned)in);
	put(e, o->issuer_name, in);
	put_u16(e, (unsigned)an);
	put(e, o->anchor_name, an);
	put_u8(e, o->nchain);
	put(e, o->chain, (size_t)o->nchain * TG_SPKI_LEN);
}

/* The leaf hash of a (validated) record. */
static int record_leaf(const struct tg_observation *o, unsigned char out[HLEN])
{
	struct enc e;
	size_t hl = strlen(o->host), al = strlen(o->address);

	e.n = 0;
	put(&e, "TGOBS\x01", 6);
	put_u64(&e, (uint64_t)o->seq);
	put_u64(&e, (uint64_t)o->time);
	put_u8(&e, (unsigned)hl);
	put(&e, o->host, hl);
	put_u16(&e, o->port);
	put_u8(&e, (unsigned)al);
	put(&e, o->address, al);
	put_u8(&e, (unsigned)o->source);
	put_u8(&e, (unsigned)o->ct);
	put_u8(&e, (unsigned)o->pin);
	put_u8(&e, (unsigned)o->verdict);
	put_u64(&e, o->fatal_codes);
	put_chain(&e, o);
	return tlsguard_merkle_leaf_hash(e.b, e.n, out);
}

static int chain_digest(const struct tg_observation *o, unsigned char out[HLEN])
{
	struct enc e;

	e.n = 0;
	put(&e, "TGCHAIN\x01", 8);
	put_chain(&e, o);
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, e.b, e.n, out) < 0 ? TLSGUARD_E_INTERNAL : 0;
}

/* ------------------------------------------------------------------ validation */

static bool is_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Printable ASCII without spaces: what inet_ntop and friends write. */
static bool address_ok(const unsigned char *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] <= 0x20 || a[i] >= 0x7f)
			return false;
	return true;
}

static int invalid(const struct tg_store *st, const char *field, const char *why, char *err, size_t errlen)
{
	seterr(err, errlen, "%s: invalid observation: %s %s", P(st), field, why);
	return TLSGUARD_E_INVALID;
}

static int check_port(const struct tg_store *st, unsigned port, char *err, size_t errlen)
{
	if (port < 1 || port > 65535) {
		seterr(err, errlen, "%s: invalid port %u (expected 1 to 65535)", P(st), port);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

static int check_observation(const struct tg_store *st, const struct tg_observation *o, char *err, size_t errlen)
{
	size_t al;
	int rc;

	if (strnlen(o->host, sizeof(o->host)) == sizeof(o->host))
		return invalid(st, "host", "is not NUL-terminated", err, errlen);
	if ((rc = tg_store_check_host(st, o->host, err, errlen)) != 0)
		return rc;
	if (o->port < 1 || o->port > 65535)
		return invalid(st, "port", "is not in 1..65535", err, errlen);
	al = strnlen(o->address, sizeof(o->address));
	if (al == sizeof(o->address))
		return invalid(st, "address", "is not NUL-terminated", err, errlen);
	if (!address_ok((const unsigned char *)o->address, al))
		return invalid(st, "address", "is not printable ASCII without spaces", err, errlen);
	if (o->time < 0)
		return invalid(st, "time", "is negative", err, errlen);
	if (o->source != TG_OBS_CONNECTION && o->source != TG_OBS_PROBE)
		return invalid(st, "source", "is not TG_OBS_CONNECTION or TG_OBS_PROBE", err, errlen);
	if (o->ct < TG_OBS_CT_UNKNOWN || o->ct > TG_OBS_CT_NOT_COMPLIANT)
		return invalid(st, "ct", "is not a tg_obs_ct value", err, errlen);
	if (o->pin < TG_OBS_PIN_NONE || o->pin > TG_OBS_PIN_MISMATCH)
		return invalid(st, "pin", "is not a tg_obs_pin value", err, errlen);
	if (o->verdict != TLSGUARD_ACCEPT && o->verdict != TLSGUARD_REJECT)
		return invalid(st, "verdict", "is not TLSGUARD_ACCEPT or TLSGUARD_REJECT", err, errlen);
	if (o->nchain > TG_OBS_MAX_CHAIN)
		return invalid(st, "nchain", "is more than TG_OBS_MAX_CHAIN (16)", err, errlen);
	if (strnlen(o->issuer_name, TG_OBS_NAME) == TG_OBS_NAME)
		return invalid(st, "issuer_name", "is not NUL-terminated", err, errlen);
	if (strnlen(o->anchor_name, TG_OBS_NAME) == TG_OBS_NAME)
		return invalid(st, "anchor_name", "is not NUL-terminated", err, errlen);
	return 0;
}

static int check_limits(const struct tg_store *st, const struct tg_history_limits *lim, char *err, size_t errlen)
{
	if (lim->retention < 0) {
		seterr(err, errlen, "%s: invalid history limits: retention %lld is negative", P(st),
		       (long long)lim->retention);
		return TLSGUARD_E_INVALID;
	}
	if (lim->max_rows < 0) {
		seterr(err, errlen, "%s: invalid history limits: max_rows %lld is negative", P(st),
		       (long long)lim->max_rows);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

/* ------------------------------------------------------------------ reading rows */

static int bad_obs(const struct tg_store *st, int64_t seq, const char *column, const char *why, char *err,
                   size_t errlen)
{
	seterr(err, errlen, "%s: bad history record %lld: column %s %s", P(st), (long long)seq, column, why);
	return TLSGUARD_E_STORE;
}

static int col_int(sqlite3_stmt *s, int col, int64_t *out)
{
	if (sqlite3_column_type(s, col) != SQLITE_INTEGER)
		return -1;
	*out = sqlite3_column_int64(s, col);
	return 0;
}

/* A blob of exactly @len bytes. */
static int col_blob(sqlite3_stmt *s, int col, unsigned char *out, size_t len)
{
	const void *p;

	if (sqlite3_column_type(s, col) != SQLITE_BLOB)
		return -1;
	p = sqlite3_column_blob(s, col);
	if ((size_t)sqlite3_column_bytes(s, col) != len || (len > 0 && p == NULL))
		return -1;
	if (len > 0)
		memcpy(out, p, len);
	return 0;
}

/* Text of minlen..cap-1 bytes without NUL, copied NUL-terminated. */
static int col_text(sqlite3_stmt *s, int col, char *out, size_t cap, size_t minlen)
{
	const unsigned char *p;
	size_t n;

	if (sqlite3_column_type(s, col) != SQLITE_TEXT)
		return -1;
	p = sqlite3_column_text(s, col);
	n = (size_t)sqlite3_column_bytes(s, col);
	if (p == NULL || n < minlen || n >= cap || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int col_enum(sqlite3_stmt *s, int col, int lo, int hi, int *out)
{
	int64_t v;

	if (col_int(s, col, &v) != 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

#define OBS_COLUMNS                                                                                                \
	"o.seq, o.time, o.host, o.port, o.address, o.source, o.chain_id, o.ct, o.pin, o.verdict, o.fatal_codes,"    \
	" o.leaf_hash, c.id, c.fingerprints, c.leaf_spki, c.issuer_spki, c.anchor_spki, c.issuer_name,"             \
	" c.anchor_name"
#define OBS_FROM " FROM observation o LEFT JOIN chain c ON c.id = o.chain_id"

/* Decode and validate one row of SELECT OBS_COLUMNS OBS_FROM; @leaf gets
 * the stored leaf hash. Nothing is used unless all of it is well-formed. */
static int read_obs(const struct tg_store *st, sqlite3_stmt *s, struct tg_observation *o, unsigned char leaf[HLEN],
                    char *err, size_t errlen)
{
	char norm[TG_MAX_HOST + 1];
	int64_t v, seq;
	const void *fp;
	size_t fplen;

	memset(o, 0, sizeof(*o));
	if (col_int(s, 0, &seq) != 0 || seq < 0) {
		seterr(err, errlen, "%s: bad history record: column seq is not a non-negative integer", P(st));
		return TLSGUARD_E_STORE;
	}
	o->seq = seq;
	if (col_int(s, 1, &o->time) != 0 || o->time < 0)
		return bad_obs(st, seq, "time", "is not a non-negative integer", err, errlen);
	if (col_text(s, 2, o->host, sizeof(o->host), 1) != 0)
		return bad_obs(st, seq, "host", "is not a host name of 1 to 253 bytes", err, errlen);
	if (strlen(o->host) > TG_MAX_HOST || tg_host_normalize(o->host, strlen(o->host), norm) != 0 ||
	    strcmp(norm, o->host) != 0)
		return bad_obs(st, seq, "host", "is not a normalised host name", err, errlen);
	if (col_int(s, 3, &v) != 0 || v < 1 || v > 65535)
		return bad_obs(st, seq, "port", "is not an integer in 1..65535", err, errlen);
	o->port = (unsigned)v;
	if (col_text(s, 4, o->address, sizeof(o->address), 0) != 0 ||
	    !address_ok((const unsigned char *)o->address, strlen(o->address)))
		return bad_obs(st, seq, "address", "is not printable text of at most 63 bytes", err, errlen);
	if (col_enum(s, 5, TG_OBS_CONNECTION, TG_OBS_PROBE, &o->source) != 0)
		return bad_obs(st, seq, "source", "is not 0 or 1", err, errlen);
	if (col_int(s, 6, &v) != 0)
		return bad_obs(st, seq, "chain_id", "is not an integer", err, errlen);
	if (col_enum(s, 7, TG_OBS_CT_UNKNOWN, TG_OBS_CT_NOT_COMPLIANT, &o->ct) != 0)
		return bad_obs(st, seq, "ct", "is not 0, 1 or 2", err, errlen);
	if (col_enum(s, 8, TG_OBS_PIN_NONE, TG_OBS_PIN_MISMATCH, &o->pin) != 0)
		return bad_obs(st, seq, "pin", "is not 0, 1 or 2", err, errlen);
	if (col_enum(s, 9, TLSGUARD_REJECT, TLSGUARD_ACCEPT, &o->verdict) != 0)
		return bad_obs(st, seq, "verdict", "is not 0 or 1", err, errlen);
	if (col_int(s, 10, &v) != 0)
		return bad_obs(st, seq, "fatal_codes", "is not an integer", err, errlen);
	o->fatal_codes = (uint64_t)v;
	if (col_blob(s, 11, leaf, HLEN) != 0)
		return bad_obs(st, seq, "leaf_hash", "is not a 32-byte blob", err, errlen);
	if (sqlite3_column_type(s, 12) == SQLITE_NULL)
		return bad_obs(st, seq, "chain_id", "refers to no chain", err, errlen);
	if (sqlite3_column_type(s, 13) != SQLITE_BLOB && sqlite3_column_type(s, 13) != SQLITE_NULL)
		return bad_obs(st, seq, "chain.fingerprints", "is not a blob", err, errlen);
	fp = sqlite3_column_blob(s, 13);
	fplen = (size_t)sqlite3_column_bytes(s, 13);
	if (sqlite3_column_type(s, 13) == SQLITE_NULL || fplen % TG_SPKI_LEN != 0 ||
	    fplen > (size_t)TG_OBS_MAX_CHAIN * TG_SPKI_LEN || (fplen > 0 && fp == NULL))
		return bad_obs(st, seq, "chain.fingerprints", "is not a blob of 0 to 16 32-byte hashes", err, errlen);
	o->nchain = (unsigned)(fplen / TG_SPKI_LEN);
	if (fplen > 0)
		memcpy(o->chain, fp, fplen);
	if (col_blob(s, 14, o->leaf_spki, TG_SPKI_LEN) != 0)
		return bad_obs(st, seq, "chain.leaf_spki", "is not a 32-byte blob", err, errlen);
	if (col_blob(s, 15, o->issuer_spki, TG_SPKI_LEN) != 0)
		return bad_obs(st, seq, "chain.issuer_spki", "is not a 32-byte blob", err, errlen);
	if (col_blob(s, 16, o->anchor_spki, TG_SPKI_LEN) != 0)
		return bad_obs(st, seq, "chain.anchor_spki", "is not a 32-byte blob", err, errlen);
	if (col_text(s, 17, o->issuer_name, sizeof(o->issuer_name), 0) != 0)
		return bad_obs(st, seq, "chain.issuer_name", "is not text of at most 255 bytes", err, errlen);
	if (col_text(s, 18, o->anchor_name, sizeof(o->anchor_name), 0) != 0)
		return bad_obs(st, seq, "chain.anchor_name", "is not text of at most 255 bytes", err, errlen);
	return 0;
}

/* ------------------------------------------------------------------ log state */

struct log_state {
	int64_t base, size;                  /* N0 and the number of records ever appended */
	unsigned char basef[MAX_LEVELS * HLEN]; /* frontier at N0 */
	unsigned char f[MAX_LEVELS * HLEN];     /* frontier at size */
};

static int bad_state(const struct tg_store *st, const char *column, const char *why, char *err, size_t errlen)
{
	seterr(err, errlen, "%s: bad history log state: column %s %s", P(st), column, why);
	return TLSGUARD_E_STORE;
}

static int frontier_col(sqlite3_stmt *s, int col, int64_t size, unsigned char *out)
{
	return col_blob(s, col, out, (size_t)popcount((uint64_t)size) * HLEN);
}

/* The one row of log_state, validated. Lock held. */
static int state_read(struct tg_store *st, struct log_state *ls, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_STATE_GET, "SELECT base_size, base_frontier, size, frontier FROM log_state"
	                                         " WHERE id = 0", &s, err, errlen)) != 0)
		return rc;
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		rc = bad_state(st, "id", "0 (the only row) is missing", err, errlen);
	} else if (src != SQLITE_ROW) {
		rc = tg_store_db_error(st, src, "cannot read the history log state", err, errlen);
	} else if (col_int(s, 0, &ls->base) != 0 || ls->base < 0) {
		rc = bad_state(st, "base_size", "is not a non-negative integer", err, errlen);
	} else if (col_int(s, 2, &ls->size) != 0 || ls->size < ls->base) {
		rc = bad_state(st, "size", "is not an integer of at least base_size", err, errlen);
	} else if (frontier_col(s, 1, ls->base, ls->basef) != 0) {
		rc = bad_state(st, "base_frontier", "is not 32 bytes per set bit of base_size", err, errlen);
	} else if (frontier_col(s, 3, ls->size, ls->f) != 0) {
		rc = bad_state(st, "frontier", "is not 32 bytes per set bit of size", err, errlen);
	}
	sqlite3_reset(s);
	return rc;
}

/* ------------------------------------------------------------------ append */

static int bind_fail(struct tg_store *st, sqlite3_stmt *s, int src, char *err, size_t errlen)
{
	sqlite3_reset(s);
	return tg_store_db_error(st, src, "cannot bind parameters", err, errlen);
}

/* Run a write statement once; reset it. */
static int step_done(struct tg_store *st, sqlite3_stmt *s, const char *what, char *err, size_t errlen)
{
	int src = sqlite3_step(s), rc = 0;

	if (src != SQLITE_DONE)
		rc = tg_store_db_error(st, src, what, err, errlen);
	sqlite3_reset(s);
	return rc;
}

/* Run the one-parameter write @sql (statement slot @slot) with ?1 = @v. */
static int exec_int(struct tg_store *st, unsigned slot, const char *sql, int64_t v, const char *what, char *err,
                    size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, slot, sql, &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_int64(s, 1, v)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	return step_done(st, s, what, err, errlen);
}

/* The id of the chain row holding @o's chain, added when new. An existing
 * row must hold exactly that chain: a row edited behind our back is not
 * reused (the store was altered; verification names the records). */
static int chain_id(struct tg_store *st, const struct tg_observation *o, int64_t *id, char *err, size_t errlen)
{
	unsigned char digest[HLEN];
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = chain_digest(o, digest)) != 0)
		return rc;
	if ((rc = tg_store_stmt(st, S_CHAIN_GET,
	                        "SELECT id, fingerprints, leaf_spki, issuer_spki, anchor_spki, issuer_name, anchor_name"
	                        " FROM chain WHERE digest = ?1", &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_blob(s, 1, digest, HLEN, SQLITE_STATIC)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		struct tg_observation c;
		const void *fp = sqlite3_column_blob(s, 1);
		size_t fplen = (size_t)sqlite3_column_bytes(s, 1);

		memset(&c, 0, sizeof(c));
		if (col_int(s, 0, id) != 0 || sqlite3_column_type(s, 1) != SQLITE_BLOB ||
		    fplen != (size_t)o->nchain * TG_SPKI_LEN || (fplen > 0 && memcmp(fp, o->chain, fplen) != 0) ||
		    col_blob(s, 2, c.leaf_spki, TG_SPKI_LEN) != 0 || col_blob(s, 3, c.issuer_spki, TG_SPKI_LEN) != 0 ||
		    col_blob(s, 4, c.anchor_spki, TG_SPKI_LEN) != 0 ||
		    col_text(s, 5, c.issuer_name, sizeof(c.issuer_name), 0) != 0 ||
		    col_text(s, 6, c.anchor_name, sizeof(c.anchor_name), 0) != 0 ||
		    memcmp(c.leaf_spki, o->leaf_spki, TG_SPKI_LEN) != 0 ||
		    memcmp(c.issuer_spki, o->issuer_spki, TG_SPKI_LEN) != 0 ||
		    memcmp(c.anchor_spki, o->anchor_spki, TG_SPKI_LEN) != 0 || strcmp(c.issuer_name, o->issuer_name) != 0 ||
		    strcmp(c.anchor_name, o->anchor_name) != 0) {
			sqlite3_reset(s);
			seterr(err, errlen, "%s: bad history chain row: its content does not match its digest (the store "
			                    "was altered; verify the history)", P(st));
			return TLSGUARD_E_STORE;
		}
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return tg_store_db_error(st, src, "cannot read history chain", err, errlen);
	if ((rc = tg_store_stmt(st, S_CHAIN_ADD,
	                        "INSERT INTO chain (digest, fingerprints, leaf_spki, issuer_spki, anchor_spki,"
	                        " issuer_name, anchor_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_blob(s, 1, digest, HLEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 2, o->chain, (int)(o->nchain * TG_SPKI_LEN), SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 3, o->leaf_spki, TG_SPKI_LEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 4, o->issuer_spki, TG_SPKI_LEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 5, o->anchor_spki, TG_SPKI_LEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(s, 6, o->issuer_name, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(s, 7, o->anchor_name, -1, SQLITE_STATIC)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	if ((rc = step_done(st, s, "cannot insert history chain", err, errlen)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
	return 0;
}

static int insert_obs(struct tg_store *st, const struct tg_observation *o, int64_t cid, const unsigned char *leaf,
                      char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_OBS_ADD,
	                        "INSERT INTO observation (seq, time, host, port, address, source, chain_id, ct, pin,"
	                        " verdict, fatal_codes, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                        " ?12)", &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_int64(s, 1, o->seq)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 2, o->time)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(s, 3, o->host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 4, o->port)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(s, 5, o->address, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int(s, 6, o->source)) != SQLITE_OK || (src = sqlite3_bind_int64(s, 7, cid)) != SQLITE_OK ||
	    (src = sqlite3_bind_int(s, 8, o->ct)) != SQLITE_OK || (src = sqlite3_bind_int(s, 9, o->pin)) != SQLITE_OK ||
	    (src = sqlite3_bind_int(s, 10, o->verdict)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 11, (sqlite3_int64)o->fatal_codes)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 12, leaf, HLEN, SQLITE_STATIC)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	return step_done(st, s, "cannot insert history record", err, errlen);
}

static int insert_head(struct tg_store *st, int64_t size, const unsigned char *root, int64_t t, char *err,
                       size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_HEAD_ADD, "INSERT INTO tree_head (size, root, time) VALUES (?1, ?2, ?3)", &s,
	                        err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_int64(s, 1, size)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 2, root, HLEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 3, t)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	return step_done(st, s, "cannot insert history tree head", err, errlen);
}

/* Counts saturate at INT64_MAX (SQLite would turn an overflowing sum into
 * a REAL); the latest rejection wins, even if clocks disagree a little. */
static int summary_add(struct tg_store *st, const struct tg_observation *o, int kind, const unsigned char *hash,
                       const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src, acc = o->verdict == TLSGUARD_ACCEPT;

	if (is_zero(hash, TG_SPKI_LEN))
		return 0; /* none (no issuer, no anchor) */
	if ((rc = tg_store_stmt(st, S_SUMMARY,
	                        "INSERT INTO host_summary (host, port, kind, hash, name, first_seen, last_seen, accepted,"
	                        " rejected, last_rejected, last_rejected_codes)"
	                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)"
	                        " ON CONFLICT (host, port, kind, hash) DO UPDATE SET"
	                        " name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END,"
	                        " first_seen = min(first_seen, excluded.first_seen),"
	                        " last_seen = max(last_seen, excluded.last_seen),"
	                        " accepted = CASE WHEN accepted < 9223372036854775807 THEN accepted + excluded.accepted"
	                        "  ELSE accepted END,"
	                        " rejected = CASE WHEN rejected < 9223372036854775807 THEN rejected + excluded.rejected"
	                        "  ELSE rejected END,"
	                        " last_rejected = CASE WHEN excluded.rejected > 0"
	                        "  AND excluded.last_rejected >= last_rejected THEN excluded.last_rejected"
	                        "  ELSE last_rejected END,"
	                        " last_rejected_codes = CASE WHEN excluded.rejected > 0"
	                        "  AND excluded.last_rejected >= last_rejected THEN excluded.last_rejected_codes"
	                        "  ELSE last_rejected_codes END",
	                        &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_text(s, 1, o->host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 2, o->port)) != SQLITE_OK || (src = sqlite3_bind_int(s, 3, kind)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 4, hash, TG_SPKI_LEN, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(s, 5, name, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 6, o->time)) != SQLITE_OK || (src = sqlite3_bind_int(s, 7, acc)) != SQLITE_OK ||
	    (src = sqlite3_bind_int(s, 8, !acc)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 9, acc ? 0 : o->time)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 10, acc ? 0 : (sqlite3_int64)o->fatal_codes)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	return step_done(st, s, "cannot update history host summary", err, errlen);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Where the kept records start after an append at @now: see the retention
 * rule at the top. Lock and transaction held. */
static int compaction_cut(struct tg_store *st, const struct log_state *ls, int64_t now,
                          const struct tg_history_limits *lim, int64_t *cut, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int64_t c = ls->base, seq, t;
	int rc, src;

	if (lim->max_rows > 0 && ls->size - ls->base > lim->max_rows) {
		int64_t keep = lim->max_rows - lim->max_rows / 10;
		c = ls->size - (keep < 1 ? 1 : keep);
	}
	if (lim->retention > 0) {
		/* now >= 0 and retention > 0: no overflow. */
		int64_t cutoff = now - lim->retention;
		if ((rc = tg_store_stmt(st, S_OLDEST, "SELECT seq, time FROM observation WHERE seq >= ?1 ORDER BY seq", &s,
		                        err, errlen)) != 0)
			return rc;
		if ((src = sqlite3_bind_int64(s, 1, c)) != SQLITE_OK)
			return bind_fail(st, s, src, err, errlen);
		/* A gap or a malformed row stops here; folding the prefix below
		 * refuses it with a message. Amortised like max_rows: nothing is
		 * compacted until the oldest record is a tenth of the retention
		 * past it, then everything past it goes at once. */
		bool first = true;
		while ((src = sqlite3_step(s)) == SQLITE_ROW && c < ls->size - 1 && col_int(s, 0, &seq) == 0 && seq == c &&
		       col_int(s, 1, &t) == 0 && t < (first ? cutoff - lim->retention / 10 : cutoff)) {
			first = false;
			c++;
		}
		sqlite3_reset(s);
		if (src != SQLITE_ROW && src != SQLITE_DONE)
			return tg_store_db_error(st, src, "cannot read the oldest history records", err, errlen);
	}
	*cut = c;
	return 0;
}

/* Delete records [base, cut), folding their stored leaf hashes into the
 * frontier at base; drop the heads below cut and chains left unused. */
static int compact(struct tg_store *st, struct log_state *ls, int64_t cut, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	unsigned char leaf[HLEN];
	int64_t *ids = NULL, seq, id, expect = ls->base;
	size_t nids = 0, cap = 0, i;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_FOLD, "SELECT seq, leaf_hash, chain_id FROM observation WHERE seq >= ?1 AND"
	                                    " seq < ?2 ORDER BY seq", &s, err, errlen)) != 0)
		goto out;
	if ((src = sqlite3_bind_int64(s, 1, ls->base)) != SQLITE_OK || (src = sqlite3_bind_int64(s, 2, cut)) != SQLITE_OK) {
		rc = bind_fail(st, s, src, err, errlen);
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (col_int(s, 0, &seq) != 0 || seq != expect) {
			sqlite3_reset(s);
			seterr(err, errlen, "%s: cannot compact the history: record %lld is missing (the store was altered; "
			                    "verify the history)", P(st), (long long)expect);
			rc = TLSGUARD_E_STORE;
			goto out;
		}
		if (col_blob(s, 1, leaf, HLEN) != 0 || col_int(s, 2, &id) != 0) {
			sqlite3_reset(s);
			rc = bad_obs(st, seq, col_blob(s, 1, leaf, HLEN) != 0 ? "leaf_hash" : "chain_id",
			             "is malformed (cannot compact the history)", err, errlen);
			goto out;
		}
		if ((rc = frontier_push(ls->basef, (uint64_t)expect, leaf)) != 0) {
			sqlite3_reset(s);
			goto out;
		}
		/* Grown as rows come: a hostile log_state may claim any size. */
		if (nids == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			int64_t *g = ncap < SIZE_MAX / sizeof(*ids) ? tg_realloc(ids, ncap * sizeof(*ids)) : NULL;
			if (g == NULL) {
				sqlite3_reset(s);
				seterr(err, errlen, "%s: out of memory compacting the history", P(st));
				rc = TLSGUARD_E_NOMEM;
				goto out;
			}
			ids = g;
			cap = ncap;
		}
		ids[nids++] = id;
		expect++;
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE) {
		rc = tg_store_db_error(st, src, "cannot read history records to compact", err, errlen);
		goto out;
	}
	if (expect != cut) {
		seterr(err, errlen, "%s: cannot compact the history: record %lld is missing (the store was altered; verify "
		                    "the history)", P(st), (long long)expect);
		rc = TLSGUARD_E_STORE;
		goto out;
	}
	if ((rc = exec_int(st, S_DEL_OBS, "DELETE FROM observation WHERE seq < ?1", cut,
	                   "cannot delete compacted history records", err, errlen)) != 0 ||
	    (rc = exec_int(st, S_DEL_HEADS, "DELETE FROM tree_head WHERE size < ?1", cut,
	                   "cannot delete compacted tree heads", err, errlen)) != 0)
		goto out;
	qsort(ids, nids, sizeof(*ids), cmp_i64);
	for (i = 0; i < nids; i++) {
		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		if ((rc = exec_int(st, S_DEL_CHAIN, "DELETE FROM chain WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM"
		                                    " observation WHERE chain_id = ?1)", ids[i],
		                   "cannot delete unused history chains", err, errlen)) != 0)
			goto out;
	}
	ls->base = cut;
out:
	tg_free(ids);
	return rc;
}

static int state_write(struct tg_store *st, const struct log_state *ls, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_STATE_SET, "UPDATE log_state SET base_size = ?1, base_frontier = ?2, size = ?3,"
	                                         " frontier = ?4 WHERE id = 0", &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_int64(s, 1, ls->base)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 2, ls->basef, (int)(popcount((uint64_t)ls->base) * HLEN), SQLITE_STATIC)) !=
	        SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 3, ls->size)) != SQLITE_OK ||
	    (src = sqlite3_bind_blob(s, 4, ls->f, (int)(popcount((uint64_t)ls->size) * HLEN), SQLITE_STATIC)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	if ((rc = step_done(st, s, "cannot update the history log state", err, errlen)) != 0)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(s)) != 1) {
		seterr(err, errlen, "%s: cannot update the history log state: row 0 is missing", P(st));
		return TLSGUARD_E_STORE;
	}
	return 0;
}

int tg_history_append(struct tg_store *st, struct tg_observation *obs, const struct tg_history_limits *lim,
                      char *err, size_t errlen)
{
	static const struct tg_history_limits defaults = {TG_HISTORY_DEFAULT_RETENTION, TG_HISTORY_DEFAULT_MAX_ROWS};
	struct log_state *ls;
	struct tg_observation o;
	unsigned char leaf[HLEN], root[HLEN];
	int64_t cid = 0, cut = 0;
	int rc;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	if (obs == NULL) {
		seterr(err, errlen, "%s: no observation given", P(st));
		return TLSGUARD_E_INVALID;
	}
	if (lim == NULL)
		lim = &defaults; /* NULL: the documented defaults */
	if ((rc = check_limits(st, lim, err, errlen)) != 0 || (rc = check_observation(st, obs, err, errlen)) != 0)
		return rc;
	ls = tg_malloc(sizeof(*ls));
	if (ls == NULL) {
		seterr(err, errlen, "%s: out of memory", P(st));
		return TLSGUARD_E_NOMEM;
	}
	o = *obs;
	tg_store_lock(st);
	if ((rc = tg_store_begin(st, 1, err, errlen)) != 0 || (rc = state_read(st, ls, err, errlen)) != 0)
		goto out;
	if (ls->size == INT64_MAX) {
		seterr(err, errlen, "%s: the history log is full", P(st));
		rc = TLSGUARD_E_STORE;
		goto out;
	}
	o.seq = ls->size;
	if ((rc = chain_id(st, &o, &cid, err, errlen)) != 0 || (rc = record_leaf(&o, leaf)) != 0 ||
	    (rc = insert_obs(st, &o, cid, leaf, err, errlen)) != 0)
		goto out;
	if ((rc = frontier_push(ls->f, (uint64_t)ls->size, leaf)) != 0)
		goto out;
	ls->size++;
	if ((rc = frontier_root(ls->f, (uint64_t)ls->size, root)) != 0 ||
	    (rc = insert_head(st, ls->size, root, o.time, err, errlen)) != 0)
		goto out;
	/* Only connections that reached a trust anchor teach the summary: a
	 * chain anyone can make up (no anchor) must not fill it. */
	if (o.source == TG_OBS_CONNECTION && !is_zero(o.anchor_spki, sizeof(o.anchor_spki)) &&
	    ((rc = summary_add(st, &o, TG_HIST_KEY, o.leaf_spki, "", err, errlen)) != 0 ||
	     (rc = summary_add(st, &o, TG_HIST_ISSUER, o.issuer_spki, o.issuer_name, err, errlen)) != 0 ||
	     (rc = summary_add(st, &o, TG_HIST_ANCHOR, o.anchor_spki, o.anchor_name, err, errlen)) != 0))
		goto out;
	if ((rc = compaction_cut(st, ls, o.time, lim, &cut, err, errlen)) != 0)
		goto out;
	if (cut > ls->base && (rc = compact(st, ls, cut, err, errlen)) != 0)
		goto out;
	if ((rc = state_write(st, ls, err, errlen)) != 0)
		goto out;
	rc = tg_store_commit(st, err, errlen);
out:
	if (rc != 0) {
		if (rc > 0) /* never: every step returns 0 or a negative code */
			rc = TLSGUARD_E_INTERNAL;
		tg_store_rollback(st);
	}
	tg_store_unlock(st);
	tg_free(ls);
	if (rc == 0)
		obs->seq = o.seq;
	return rc;
}

/* ------------------------------------------------------------------ queries */

static int query_args(struct tg_store *st, const char *host, unsigned port, int port_zero_ok, bool have_fn,
                      char *err, size_t errlen)
{
	int rc;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	if (!have_fn) {
		seterr(err, errlen, "%s: no callback given", P(st));
		return TLSGUARD_E_INVALID;
	}
	if (host != NULL && (rc = tg_store_check_host(st, host, err, errlen)) != 0)
		return rc;
	if (!(port_zero_ok && port == 0) && (rc = check_port(st, port, err, errlen)) != 0)
		return rc;
	return 0;
}

/* Parameters of one batch of a walk; every walk statement numbers its
 * parameters ?1 host, ?2 port, ?3 .. ?4 keyset or filters, ?5 limit, ?6 and
 * ?7 text filters; ?5 at least is used, so ?1 .. ?5 may always be bound. */
struct walk_q {
	const char *host;
	unsigned port;
	int64_t p3, p4;
	int64_t limit;
	const char *p6, *p7;
};

/* Run the walk statement in @slot once, reading at most q->limit rows into
 * @out. Lock held. Returns the number read or a negative code. */
static int read_batch(struct tg_store *st, unsigned slot, const char *sql, const struct walk_q *q,
                      struct tg_observation *out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	unsigned char leaf[HLEN];
	int n = 0, rc, src, np;

	if ((rc = tg_store_stmt(st, slot, sql, &s, err, errlen)) != 0)
		return rc;
	np = sqlite3_bind_parameter_count(s);
	if ((q->host != NULL && (src = sqlite3_bind_text(s, 1, q->host, -1, SQLITE_STATIC)) != SQLITE_OK) ||
	    (src = sqlite3_bind_int64(s, 2, q->port)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 3, q->p3)) != SQLITE_OK || (src = sqlite3_bind_int64(s, 4, q->p4)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 5, q->limit)) != SQLITE_OK ||
	    (np >= 6 && (src = sqlite3_bind_text(s, 6, q->p6 ? q->p6 : "", -1, SQLITE_STATIC)) != SQLITE_OK) ||
	    (np >= 7 && (src = sqlite3_bind_text(s, 7, q->p7 ? q->p7 : "", -1, SQLITE_STATIC)) != SQLITE_OK))
		return bind_fail(st, s, src, err, errlen);
	while (n < q->limit && (src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = read_obs(st, s, &out[n], leaf, err, errlen)) != 0) {
			sqlite3_reset(s);
			return rc;
		}
		n++;
	}
	sqlite3_reset(s);
	if (n < q->limit && src != SQLITE_DONE)
		return tg_store_db_error(st, src, "cannot read history records", err, errlen);
	return n;
}

#define WALK_ORDER " ORDER BY o.time DESC, o.seq DESC LIMIT ?5"
#define WALK_AFTER "(o.time < ?3 OR (o.time = ?3 AND o.seq < ?4))"

int tg_history_foreach(struct tg_store *st, const char *host, unsigned port, int64_t limit,
                       int (*fn)(const struct tg_observation *obs, void *ud), void *ud, char *err, size_t errlen)
{
	static const char *const sql[3][2] = {
		{"SELECT " OBS_COLUMNS OBS_FROM WALK_ORDER, "SELECT " OBS_COLUMNS OBS_FROM " WHERE " WALK_AFTER WALK_ORDER},
		{"SELECT " OBS_COLUMNS OBS_FROM " WHERE o.host = ?1" WALK_ORDER,
		 "SELECT " OBS_COLUMNS OBS_FROM " WHERE o.host = ?1 AND " WALK_AFTER WALK_ORDER},
		{"SELECT " OBS_COLUMNS OBS_FROM " WHERE o.host = ?1 AND o.port = ?2" WALK_ORDER,
		 "SELECT " OBS_COLUMNS OBS_FROM " WHERE o.host = ?1 AND o.port = ?2 AND " WALK_AFTER WALK_ORDER},
	};
	static const unsigned slots[3][2] = {
		{S_WALK_ALL, S_WALK_ALL_NEXT}, {S_WALK_HOST, S_WALK_HOST_NEXT}, {S_WALK_PORT, S_WALK_PORT_NEXT}};
	struct tg_observation *batch;
	struct walk_q q;
	int64_t visited = 0;
	int v = host == NULL ? 0 : port == 0 ? 1 : 2, next = 0, n, i, rc;

	if ((rc = query_args(st, host, port, 1, fn != NULL, err, errlen)) != 0)
		return rc;
	if (host == NULL && port != 0) {
		seterr(err, errlen, "%s: a port (%u) without a host", P(st), port);
		return TLSGUARD_E_INVALID;
	}
	if (limit < 0) {
		seterr(err, errlen, "%s: invalid limit %lld", P(st), (long long)limit);
		return TLSGUARD_E_INVALID;
	}
	batch = tg_malloc(BATCH * sizeof(*batch));
	if (batch == NULL) {
		seterr(err, errlen, "%s: out of memory", P(st));
		return TLSGUARD_E_NOMEM;
	}
	memset(&q, 0, sizeof(q));
	q.host = host;
	q.port = port;
	for (;;) {
		q.limit = BATCH;
		if (limit > 0 && limit - visited < BATCH)
			q.limit = limit - visited;
		tg_store_lock(st);
		n = read_batch(st, slots[v][next], sql[v][next], &q, batch, err, errlen);
		tg_store_unlock(st);
		if (n < 0) {
			rc = n;
			goto out;
		}
		/* Callbacks without the lock: they may use the store. */
		for (i = 0; i < n; i++) {
			visited++;
			if (fn(&batch[i], ud) != 0)
				goto done;
		}
		if (n < q.limit || (limit > 0 && visited >= limit))
			break;
		next = 1;
		q.p3 = batch[n - 1].time;
		q.p4 = batch[n - 1].seq;
	}
done:
	rc = visited > INT_MAX ? INT_MAX : (int)visited;
out:
	tg_free(batch);
	return rc;
}

/* The newest accepted record of each address, one index seek per address
 * (a skip-scan over observation_address: the recursive part walks the
 * distinct addresses after ?7, the subquery takes each one's newest record
 * since ?3), so the cost grows with the number of addresses, not with the
 * number of connections in the window. */
#define LATEST_SQL                                                                                              \
	"WITH RECURSIVE a(addr) AS ("                                                                                \
	" SELECT (SELECT min(address) FROM observation WHERE host = ?1 AND port = ?2 AND verdict = 1"              \
	" AND address > ?7)"                                                                                        \
	" UNION ALL SELECT (SELECT min(address) FROM observation WHERE host = ?1 AND port = ?2 AND verdict = 1"    \
	" AND address > a.addr) FROM a WHERE a.addr IS NOT NULL)"                                                   \
	" SELECT " OBS_COLUMNS " FROM a JOIN observation o ON o.seq = (SELECT seq FROM observation"                \
	" WHERE host = ?1 AND port = ?2 AND verdict = 1 AND address = a.addr AND time >= ?3"                        \
	" ORDER BY time DESC, seq DESC LIMIT 1)"                                                                    \
	" LEFT JOIN chain c ON c.id = o.chain_id WHERE a.addr IS NOT NULL AND a.addr <> ?6"                        \
	" ORDER BY o.address LIMIT ?5"

int tg_history_latest_by_address(struct tg_store *st, const char *host, unsigned port, int64_t since,
                                 const char *exclude_address,
                                 int (*fn)(const struct tg_observation *obs, void *ud), void *ud, char *err,
                                 size_t errlen)
{
	struct tg_observation *batch;
	struct walk_q q;
	char after[sizeof(batch->address)] = "";
	int visited = 0, next = 0, n, i, rc;

	if ((rc = query_args(st, host, port, 0, fn != NULL, err, errlen)) != 0)
		return rc;
	if (host == NULL) {
		seterr(err, errlen, "%s: host name is missing", P(st));
		return TLSGUARD_E_INVALID;
	}
	if (exclude_address != NULL && strnlen(exclude_address, sizeof(after)) == sizeof(after)) {
		seterr(err, errlen, "%s: the address to exclude is longer than 63 bytes", P(st));
		return TLSGUARD_E_INVALID;
	}
	batch = tg_malloc(BATCH * sizeof(*batch));
	if (batch == NULL) {
		seterr(err, errlen, "%s: out of memory", P(st));
		return TLSGUARD_E_NOMEM;
	}
	memset(&q, 0, sizeof(q));
	q.host = host;
	q.port = port;
	q.p3 = since;
	q.p6 = exclude_address ? exclude_address : "";
	q.p7 = after;
	for (;;) {
		q.limit = BATCH;
		tg_store_lock(st);
		/* Keyset on the address: the next batch starts after the last
		 * (?7, "" for the first, which also skips empty addresses). */
		n = read_batch(st, S_LATEST, LATEST_SQL, &q, batch, err, errlen);
		tg_store_unlock(st);
		if (n < 0) {
			rc = n;
			goto out;
		}
		for (i = 0; i < n; i++) {
			const struct tg_observation *o = &batch[i];
			/* The SQL asked for exactly this; a hand-made table (other
			 * collations) could answer something else. */
			if (strcmp(o->host, host) != 0 || o->port != port || o->verdict != TLSGUARD_ACCEPT ||
			    o->time < since || o->address[0] == '\0' ||
			    (exclude_address != NULL && strcmp(o->address, exclude_address) == 0) ||
			    (next && strcmp(o->address, after) <= 0) ||
			    (i > 0 && strcmp(o->address, batch[i - 1].address) <= 0)) {
				rc = bad_obs(st, o->seq, "host, port, verdict, time or address",
				             "does not match the query (the table was altered)", err, errlen);
				goto out;
			}
		}
		for (i = 0; i < n; i++) {
			visited++;
			if (fn(&batch[i], ud) != 0)
				goto done;
		}
		if (n < BATCH)
			break;
		next = 1;
		memcpy(after, batch[n - 1].address, sizeof(after));
	}
done:
	rc = visited;
out:
	tg_free(batch);
	return rc;
}

int tg_history_last_time(struct tg_store *st, const char *host, unsigned port, int source, int64_t *out, char *err,
                         size_t errlen)
{
	sqlite3_stmt *s;
	int64_t t = 0;
	int rc, src;

	if ((rc = query_args(st, host, port, 0, true, err, errlen)) != 0)
		return rc;
	if (host == NULL || out == NULL) {
		seterr(err, errlen, "%s: %s", P(st), host == NULL ? "host name is missing" : "no result to fill in");
		return TLSGUARD_E_INVALID;
	}
	if (source != TG_OBS_CONNECTION && source != TG_OBS_PROBE) {
		seterr(err, errlen, "%s: invalid source %d (expected TG_OBS_CONNECTION or TG_OBS_PROBE)", P(st), source);
		return TLSGUARD_E_INVALID;
	}
	tg_store_lock(st);
	/* A non-integer time sorts above every integer: it is read first and
	 * refused. */
	if ((rc = tg_store_stmt(st, S_LAST_TIME, "SELECT seq, time FROM observation WHERE host = ?1 AND port = ?2 AND"
	                                         " source = ?3 ORDER BY time DESC LIMIT 1", &s, err, errlen)) != 0)
		goto out;
	if ((src = sqlite3_bind_text(s, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 2, port)) != SQLITE_OK || (src = sqlite3_bind_int(s, 3, source)) != SQLITE_OK) {
		rc = bind_fail(st, s, src, err, errlen);
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		int64_t seq = -1;
		if (col_int(s, 0, &seq) != 0 || col_int(s, 1, &t) != 0 || t < 0)
			rc = bad_obs(st, seq, "time", "is not a non-negative integer", err, errlen);
	} else if (src != SQLITE_DONE) {
		rc = tg_store_db_error(st, src, "cannot read history records", err, errlen);
	}
	sqlite3_reset(s);
out:
	tg_store_unlock(st);
	if (rc == 0)
		*out = t;
	return rc;
}

static int bad_summary(const struct tg_store *st, const char *host, unsigned port, const char *column, char *err,
                       size_t errlen)
{
	seterr(err, errlen, "%s: bad history summary row of %s:%u: column %s is malformed", P(st), host, port, column);
	return TLSGUARD_E_STORE;
}

int tg_history_summary_foreach(struct tg_store *st, const char *host, unsigned port, int kind,
                               int (*fn)(const struct tg_hist_summary *s, void *ud), void *ud, char *err,
                               size_t errlen)
{
	struct tg_hist_summary *rows = NULL, *grown;
	sqlite3_stmt *s;
	char h[TG_MAX_HOST + 2];
	size_t n = 0, cap = 0, i;
	int64_t v, port_v, kind_v;
	int rc, src, visited = 0;

	if ((rc = query_args(st, host, port, 0, fn != NULL, err, errlen)) != 0)
		return rc;
	if (host == NULL) {
		seterr(err, errlen, "%s: host name is missing", P(st));
		return TLSGUARD_E_INVALID;
	}
	if (kind < TG_HIST_KEY || kind > TG_HIST_ANCHOR) {
		seterr(err, errlen, "%s: invalid summary kind %d", P(st), kind);
		return TLSGUARD_E_INVALID;
	}
	tg_store_lock(st);
	if ((rc = tg_store_stmt(st, S_SUMMARY_GET,
	                        "SELECT host, port, kind, hash, name, first_seen, last_seen, accepted, rejected,"
	                        " last_rejected, last_rejected_codes FROM host_summary WHERE host = ?1 AND port = ?2 AND"
	                        " kind = ?3 ORDER BY accepted = 0, first_seen, hash", &s, err, errlen)) != 0)
		goto unlock;
	if ((src = sqlite3_bind_text(s, 1, host, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (src = sqlite3_bind_int64(s, 2, port)) != SQLITE_OK || (src = sqlite3_bind_int(s, 3, kind)) != SQLITE_OK) {
		rc = bind_fail(st, s, src, err, errlen);
		goto unlock;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		struct tg_hist_summary *r;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			if (ncap > (size_t)INT_MAX || (grown = tg_realloc(rows, ncap * sizeof(*rows))) == NULL) {
				seterr(err, errlen, "%s: out of memory listing the history summary", P(st));
				rc = TLSGUARD_E_NOMEM;
				break;
			}
			rows = grown;
			cap = ncap;
		}
		r = &rows[n];
		memset(r, 0, sizeof(*r));
		/* A hand-made table may answer rows of another host (collation). */
		if (col_text(s, 0, h, sizeof(h), 1) != 0 || strcmp(h, host) != 0)
			rc = bad_summary(st, host, port, "host", err, errlen);
		else if (col_int(s, 1, &port_v) != 0 || port_v != (int64_t)port)
			rc = bad_summary(st, host, port, "port", err, errlen);
		else if (col_int(s, 2, &kind_v) != 0 || kind_v != kind)
			rc = bad_summary(st, host, port, "kind", err, errlen);
		else if (col_blob(s, 3, r->hash, TG_SPKI_LEN) != 0)
			rc = bad_summary(st, host, port, "hash", err, errlen);
		else if (col_text(s, 4, r->name, sizeof(r->name), 0) != 0)
			rc = bad_summary(st, host, port, "name", err, errlen);
		else if (col_int(s, 5, &r->first_seen) != 0)
			rc = bad_summary(st, host, port, "first_seen", err, errlen);
		else if (col_int(s, 6, &r->last_seen) != 0)
			rc = bad_summary(st, host, port, "last_seen", err, errlen);
		else if (col_int(s, 7, &v) != 0 || v < 0 || (r->accepted = (uint64_t)v, 0))
			rc = bad_summary(st, host, port, "accepted", err, errlen);
		else if (col_int(s, 8, &v) != 0 || v < 0 || (r->rejected = (uint64_t)v, 0))
			rc = bad_summary(st, host, port, "rejected", err, errlen);
		else if (col_int(s, 9, &r->last_rejected) != 0)
			rc = bad_summary(st, host, port, "last_rejected", err, errlen);
		else if (col_int(s, 10, &v) != 0)
			rc = bad_summary(st, host, port, "last_rejected_codes", err, errlen);
		if (rc != 0)
			break;
		r->last_rejected_codes = (uint64_t)v;
		r->kind = kind;
		n++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = tg_store_db_error(st, src, "cannot read the history summary", err, errlen);
	sqlite3_reset(s);
unlock:
	tg_store_unlock(st);
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++) {
		visited++;
		if (fn(&rows[i], ud) != 0)
			break;
	}
	rc = visited;
out:
	tg_free(rows);
	return rc;
}

/* The stored head at @size (> 0): 1 found, 0 not, or a negative code. */
static int head_get(struct tg_store *st, int64_t size, struct tg_tree_head *out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_HEAD_GET, "SELECT root, time FROM tree_head WHERE size = ?1", &s, err, errlen)) != 0)
		return rc;
	if ((src = sqlite3_bind_int64(s, 1, size)) != SQLITE_OK)
		return bind_fail(st, s, src, err, errlen);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		out->size = size;
		if (col_blob(s, 0, out->root, HLEN) != 0 || col_int(s, 1, &out->time) != 0) {
			seterr(err, errlen, "%s: bad history tree head at size %lld: column %s is malformed", P(st),
			       (long long)size, col_blob(s, 0, out->root, HLEN) != 0 ? "root" : "time");
			rc = TLSGUARD_E_STORE;
		} else {
			rc = 1;
		}
	} else if (src != SQLITE_DONE) {
		rc = tg_store_db_error(st, src, "cannot read history tree heads", err, errlen);
	}
	sqlite3_reset(s);
	return rc;
}

int tg_history_head(struct tg_store *st, struct tg_tree_head *out, char *err, size_t errlen)
{
	struct log_state *ls;
	struct tg_tree_head h;
	int rc;

	if (st == NULL || out == NULL) {
		seterr(err, errlen, "%s: %s", st ? P(st) : "store", st ? "no head to fill in" : "is not open");
		return TLSGUARD_E_INVALID;
	}
	if ((ls = tg_malloc(sizeof(*ls))) == NULL) {
		seterr(err, errlen, "%s: out of memory", P(st));
		return TLSGUARD_E_NOMEM;
	}
	memset(&h, 0, sizeof(h));
	tg_store_lock(st);
	/* One snapshot for both reads. */
	if ((rc = tg_store_begin(st, 0, err, errlen)) != 0 || (rc = state_read(st, ls, err, errlen)) != 0)
		goto out;
	if (ls->size == 0) {
		rc = empty_root(h.root);
		goto out;
	}
	rc = head_get(st, ls->size, &h, err, errlen);
	if (rc == 0) {
		seterr(err, errlen, "%s: the history tree head at size %lld is missing (the store was altered; verify the "
		                    "history)", P(st), (long long)ls->size);
		rc = TLSGUARD_E_STORE;
	} else if (rc == 1) {
		rc = 0;
	}
out:
	if (rc == 0)
		rc = tg_store_commit(st, err, errlen);
	if (rc != 0)
		tg_store_rollback(st);
	tg_store_unlock(st);
	tg_free(ls);
	if (rc == 0)
		*out = h;
	return rc;
}

/* ------------------------------------------------------------------ verification */

struct problem {
	int64_t seq;
	char *msg;
};

struct problems {
	struct problem *v;
	size_t n, cap;
	int64_t total;
	bool oom;
};

static void report(struct problems *p, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Problems are collected under the lock and reported after it. */
static void report(struct problems *p, int64_t seq, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	p->total++;
	if (p->n >= MAX_PROBLEMS || p->oom)
		return;
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct problem *g = tg_realloc(p->v, ncap * sizeof(*g));
		if (g == NULL) {
			p->oom = true;
			return;
		}
		p->v = g;
		p->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((p->v[p->n].msg = tg_strdup(buf)) == NULL) {
		p->oom = true;
		return;
	}
	p->v[p->n++].seq = seq;
}

static void problems_free(struct problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		tg_free(p->v[i].msg);
	tg_free(p->v);
}

/* "record 41 (example.com:443 via 127.0.0.2 at 2026-06-01 10:00:00 UTC)" */
static void describe(const struct tg_observation *o, char *buf, size_t len)
{
	char when[64];
	struct tm tm;
	time_t t = (time_t)o->time;

	if ((int64_t)t != o->time || gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
	                                                                    &tm) == 0)
		snprintf(when, sizeof(when), "time %lld", (long long)o->time);
	snprintf(buf, len, "record %lld (%s:%u%s%s at %s)", (long long)o->seq, o->host, o->port,
	         o->address[0] ? " via " : "", o->address, when);
}

static void report_gap(struct problems *p, int64_t from, int64_t to, const char *where)
{
	if (from == to)
		report(p, from, "record %lld was removed from the log%s", (long long)from, where);
	else
		report(p, from, "records %lld to %lld (%lld records) were removed from the log%s", (long long)from,
		       (long long)to, (long long)(to - from + 1), where);
}

/*
 * All node hashes of the tree over leaves [0, L) that can be known from the
 * frontier at B (the compacted prefix) and the leaf hashes [B, L): level j
 * holds the perfect subtrees [k 2^j, (k + 1) 2^j) for k in [lo_j, lo_j +
 * cnt_j), lo_j = (B >> j) & ~1 (the first one is the frontier's subtree
 * when bit j of B is set; the others start at or straddle B). About
 * 2 (L - B) hashes; any root or proof is then O(log n).
 */
struct pyramid {
	uint64_t B, L;
	unsigned char *lvl[MAX_LEVELS];
	uint64_t lo[MAX_LEVELS], cnt[MAX_LEVELS];
};

static void pyr_free(struct pyramid *p)
{
	int j;

	for (j = 0; j < MAX_LEVELS; j++)
		tg_free(p->lvl[j]);
}

static const unsigned char *pyr_get(const struct pyramid *p, unsigned j, uint64_t k)
{
	if (j >= MAX_LEVELS || k < p->lo[j] || k - p->lo[j] >= p->cnt[j])
		return NULL;
	return p->lvl[j] + (size_t)(k - p->lo[j]) * HLEN;
}

static int pyr_build(struct pyramid *p, uint64_t B, const unsigned char *basef, const unsigned char *leaves,
                     uint64_t m)
{
	unsigned j;
	uint64_t k, i;
	int rc;

	memset(p, 0, sizeof(*p));
	p->B = B;
	p->L = B + m;
	for (j = 0; j < MAX_LEVELS; j++) {
		p->lo[j] = (B >> j) & ~(uint64_t)1;
		p->cnt[j] = (p->L >> j) > p->lo[j] ? (p->L >> j) - p->lo[j] : 0;
		if (p->cnt[j] == 0)
			continue;
		if ((p->lvl[j] = tg_malloc((size_t)p->cnt[j] * HLEN)) == NULL)
			return TLSGUARD_E_NOMEM;
		for (i = 0; i < p->cnt[j]; i++) {
			unsigned char *out = p->lvl[j] + (size_t)i * HLEN;
			k = p->lo[j] + i;
			if (i == 0 && ((B >> j) & 1)) {
				/* bit j of B: the frontier's subtree of that size */
				memcpy(out, basef + (size_t)popcount(B >> j >> 1) * HLEN, HLEN);
			} else if (j == 0) {
				memcpy(out, leaves + (size_t)(k - B) * HLEN, HLEN);
			} else {
				const unsigned char *l = pyr_get(p, j - 1, 2 * k), *r = pyr_get(p, j - 1, 2 * k + 1);
				if (l == NULL || r == NULL)
					return TLSGUARD_E_INTERNAL;
				if ((rc = node(l, r, out)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

/* MTH(D[lo:hi]) for a node range of the RFC 9162 recursion. 0, 1 when it
 * lies in the compacted part (not known), or a negative code. */
static int pyr_range(const struct pyramid *p, uint64_t lo, uint64_t hi, unsigned char out[HLEN])
{
	uint64_t n = hi - lo, k = 1;
	unsigned char l[HLEN], r[HLEN];
	int rc;

	if ((n & (n - 1)) == 0) {
		unsigned j = (unsigned)__builtin_ctzll(n);
		const unsigned char *h = pyr_get(p, j, lo >> j);
		if (h == NULL || (lo & (n - 1)) != 0)
			return 1;
		memcpy(out, h, HLEN);
		return 0;
	}
	while (k < n / 2 + (n & 1))
		k <<= 1;
	while (k >= n)
		k >>= 1;
	if ((rc = pyr_range(p, lo, lo + k, l)) != 0 || (rc = pyr_range(p, lo + k, hi, r)) != 0)
		return rc;
	return node(l, r, out);
}

/* Root of the tree of @size leaves (B <= size <= L): 0, 1 not known, or < 0. */
static int pyr_root(const struct pyramid *p, uint64_t size, unsigned char out[HLEN])
{
	if (size == 0)
		return empty_root(out);
	return pyr_range(p, 0, size, out);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b); appends to @proof. */
static int pyr_subproof(const struct pyramid *p, uint64_t m, uint64_t lo, uint64_t hi, bool b, unsigned char *proof,
                        size_t *n)
{
	uint64_t len = hi - lo, k = 1;
	int rc;

	if (*n >= 128)
		return TLSGUARD_E_INTERNAL;
	if (m == len) {
		if (b)
			return 0;
		rc = pyr_range(p, lo, hi, proof + *n * HLEN);
		(*n)++;
		return rc;
	}
	while (k * 2 < len)
		k *= 2;
	if (m <= k) {
		if ((rc = pyr_subproof(p, m, lo, lo + k, b, proof, n)) != 0)
			return rc;
		rc = pyr_range(p, lo + k, hi, proof + *n * HLEN);
	} else {
		if ((rc = pyr_subproof(p, m - k, lo + k, hi, false, proof, n)) != 0)
			return rc;
		rc = pyr_range(p, lo, lo + k, proof + *n * HLEN);
	}
	(*n)++;
	return rc;
}

/* Check with tlsguard_merkle_verify_consistency that @root2 at @size2
 * extends @root1 at @size1, with a proof made from the records. 0 yes, 1
 * no, 2 not provable from what is kept, or a negative code. */
static int consistent(const struct pyramid *p, uint64_t size1, const unsigned char *root1, uint64_t size2,
                      const unsigned char *root2)
{
	unsigned char proof[128 * HLEN];
	size_t n = 0;
	int rc;

	if (size1 == 0 || size1 > size2 || size2 > p->L)
		return 2;
	rc = pyr_subproof(p, size1, 0, size2, true, proof, &n);
	if (rc != 0)
		return rc < 0 ? rc : 2;
	rc = tlsguard_merkle_verify_consistency(size1, size2, root1, root2, proof, n * HLEN);
	if (rc == TLSGUARD_E_VERIFY)
		return 1;
	return rc;
}

enum { H_UNCHECKED, H_MATCH, H_MISMATCH };

struct vhead {
	int64_t size;
	unsigned char root[HLEN];
	int64_t time;
	int state;
};

static const struct vhead *find_head(const struct vhead *h, size_t n, int64_t size)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h[mid].size == size)
			return &h[mid];
		if (h[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Everything read under the lock. */
struct vdata {
	struct log_state ls;
	unsigned char *leaves; /* stored leaf hashes of [B, B + m) */
	uint64_t m;
	struct vhead *heads;
	size_t nheads;
	int64_t records;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 256;
	void *g;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return TLSGUARD_E_NOMEM;
		ncap *= 2;
	}
	if ((g = tg_realloc(*p, ncap * elem)) == NULL)
		return TLSGUARD_E_NOMEM;
	*p = g;
	*cap = ncap;
	return 0;
}

/* Walk the records in seq order: content against the stored leaf hash,
 * gaps, rows outside [B, size). Lock and read transaction held. */
static int verify_rows(struct tg_store *st, struct vdata *d, struct problems *pr, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	struct tg_observation o;
	unsigned char stored[HLEN], leaf[HLEN];
	char what[448];
	int64_t B = d->ls.base, size = d->ls.size, expect = B;
	size_t cap = 0;
	bool gap = false;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_VERIFY_ROWS, "SELECT " OBS_COLUMNS OBS_FROM " ORDER BY o.seq", &s, err, errlen)) !=
	    0)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = read_obs(st, s, &o, stored, err, errlen)) != 0)
			goto out;
		describe(&o, what, sizeof(what));
		if (o.seq < B) {
			report(pr, o.seq, "%s lies in the compacted part of the log (before record %lld): it was added "
			                  "afterwards", what, (long long)B);
			continue;
		}
		if (o.seq >= size) {
			report(pr, o.seq, "%s lies beyond the log's %lld records: it was added afterwards", what,
			       (long long)size);
			continue;
		}
		d->records++;
		if (o.seq > expect) {
			report_gap(pr, expect, o.seq - 1, "");
			gap = true;
		}
		expect = o.seq + 1;
		if ((rc = record_leaf(&o, leaf)) != 0)
			goto out;
		if (memcmp(leaf, stored, HLEN) != 0)
			report(pr, o.seq, "%s was altered or moved: its content no longer matches the log", what);
		if (!gap) {
			if ((rc = grow((void **)&d->leaves, &cap, (size_t)d->m + 1, HLEN)) != 0) {
				seterr(err, errlen, "%s: out of memory verifying the history", P(st));
				goto out;
			}
			memcpy(d->leaves + (size_t)d->m * HLEN, stored, HLEN);
			d->m++;
		}
	}
	if (src != SQLITE_DONE) {
		rc = tg_store_db_error(st, src, "cannot read history records", err, errlen);
		goto out;
	}
	if (expect < size)
		report_gap(pr, expect, size - 1, " (the newest records)");
out:
	sqlite3_reset(s);
	return rc;
}

static int verify_read_heads(struct tg_store *st, struct vdata *d, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc, src;

	if ((rc = tg_store_stmt(st, S_VERIFY_HEADS, "SELECT size, root, time FROM tree_head ORDER BY size", &s, err,
	                        errlen)) != 0)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		struct vhead *h;
		int64_t size = -1;
		if ((rc = grow((void **)&d->heads, &cap, d->nheads + 1, sizeof(*h))) != 0) {
			seterr(err, errlen, "%s: out of memory verifying the history", P(st));
			goto out;
		}
		h = &d->heads[d->nheads];
		memset(h, 0, sizeof(*h));
		if (col_int(s, 0, &size) != 0 || size < 1 || (d->nheads > 0 && size <= d->heads[d->nheads - 1].size)) {
			seterr(err, errlen, "%s: bad history tree head: column size is not a positive integer", P(st));
			rc = TLSGUARD_E_STORE;
			goto out;
		}
		h->size = size;
		if (col_blob(s, 1, h->root, HLEN) != 0 || col_int(s, 2, &h->time) != 0) {
			seterr(err, errlen, "%s: bad history tree head at size %lld: column %s is malformed", P(st),
			       (long long)size, col_blob(s, 1, h->root, HLEN) != 0 ? "root" : "time");
			rc = TLSGUARD_E_STORE;
			goto out;
		}
		d->nheads++;
	}
	if (src != SQLITE_DONE)
		rc = tg_store_db_error(st, src, "cannot read history tree heads", err, errlen);
out:
	sqlite3_reset(s);
	return rc;
}

/* Every kept head against the tree the records make; missing heads. */
static int verify_heads(struct vdata *d, const struct pyramid *p, struct problems *pr, int64_t *checked)
{
	int64_t B = d->ls.base, size = d->ls.size, L = (int64_t)p->L, expect = B > 0 ? B : 1;
	unsigned char root[HLEN];
	size_t i, first, last;
	int rc;

	for (i = 0; i < d->nheads; i++) {
		struct vhead *h = &d->heads[i];
		if (h->size < B)
			continue; /* compacted: only a trusted head of that size looks at it */
		if (h->size > size) {
			report(pr, -1, "tree head at size %lld lies beyond the log's %lld records: it was added afterwards",
			       (long long)h->size, (long long)size);
			continue;
		}
		if (h->size > expect) {
			if (h->size - 1 == expect)
				report(pr, -1, "tree head at size %lld is missing", (long long)expect);
			else
				report(pr, -1, "tree heads at sizes %lld to %lld are missing", (long long)expect,
				       (long long)h->size - 1);
		}
		expect = h->size + 1;
		if (h->size > L)
			continue; /* after missing records: reported there */
		if ((rc = pyr_root(p, (uint64_t)h->size, root)) < 0)
			return rc;
		if (rc != 0)
			continue;
		(*checked)++;
		h->state = memcmp(root, h->root, HLEN) == 0 ? H_MATCH : H_MISMATCH;
	}
	if (size > 0 && expect <= size) {
		if (expect == size)
			report(pr, -1, "tree head at size %lld (the current one) is missing", (long long)size);
		else
			report(pr, -1, "tree heads at sizes %lld to %lld are missing", (long long)expect, (long long)size);
	}

	/* Runs of mismatching heads. A run followed by a matching head: those
	 * heads were altered (a changed record would change every later root).
	 * A run to the end: the records changed from the last matching head
	 * on; when the heads are dense, the first record after it is the one. */
	for (i = 0; i < d->nheads; i = last + 1) {
		int64_t prev = B;
		size_t j;
		bool later_match = false;

		last = i;
		if (d->heads[i].state != H_MISMATCH)
			continue;
		first = i;
		for (j = i; j-- > 0;)
			if (d->heads[j].state == H_MATCH) {
				prev = d->heads[j].size;
				break;
			}
		while (last + 1 < d->nheads && d->heads[last + 1].state != H_MATCH)
			last++;
		for (j = last + 1; j < d->nheads && !later_match; j++)
			later_match = d->heads[j].state == H_MATCH;
		if (later_match) {
			for (j = first; j <= last; j++)
				if (d->heads[j].state == H_MISMATCH)
					report(pr, -1, "tree head at size %lld does not match the records (the heads after it "
					               "do): the head was altered", (long long)d->heads[j].size);
			continue;
		}
		if (d->heads[first].size == B)
			report(pr, -1, "tree head at size %lld (where the compacted part ends) does not match the frontier "
			               "kept for the compacted records: the log state or the head was altered",
			       (long long)B);
		else if (d->heads[first].size - 1 == prev)
			report(pr, prev, "tree head at size %lld does not match the records: record %lld makes the "
			                 "difference (it was altered together with its leaf hash, or replaced)",
			       (long long)d->heads[first].size, (long long)prev);
		else
			report(pr, -1, "tree head at size %lld does not match the records: one of records %lld to %lld "
			               "makes the difference", (long long)d->heads[first].size, (long long)prev,
			       (long long)d->heads[first].size - 1);
		if (last > first)
			report(pr, -1, "tree heads at sizes %lld to %lld do not match the records either",
			       (long long)d->heads[first + 1].size, (long long)d->heads[last].size);
	}
	return 0;
}

/* Consistency proofs between successive sampled heads: the one at B, every
 * power of two and the last. */
static int verify_proofs(struct vdata *d, const struct pyramid *p, struct problems *pr)
{
	const struct vhead *prev = NULL, *h;
	int64_t size = d->ls.size, s;
	int rc;

	for (s = d->ls.base > 0 ? d->ls.base : 1; s <= size && s <= (int64_t)p->L;) {
		h = find_head(d->heads, d->nheads, s);
		if (h != NULL && h->state != H_UNCHECKED) {
			if (prev != NULL) {
				rc = consistent(p, (uint64_t)prev->size, prev->root, (uint64_t)h->size, h->root);
				if (rc < 0)
					return rc;
				if (rc == 1 && prev->state == H_MATCH && h->state == H_MATCH)
					report(pr, -1, "tree heads at sizes %lld and %lld are not consistent",
					       (long long)prev->size, (long long)h->size);
			}
			prev = h;
		}
		if (s == size)
			break;
		/* next power of two above s, or the last */
		{
			int64_t n = 1;
			while (n <= s && n < INT64_MAX / 2)
				n *= 2;
			s = n < size ? n : size;
		}
	}
	return 0;
}

static int verify_trusted(struct vdata *d, const struct pyramid *p, const struct tg_tree_head *t,
                          const unsigned char *cur_root, bool cur_known, struct problems *pr)
{
	int64_t B = d->ls.base, size = d->ls.size;
	unsigned char root[HLEN];
	int rc;

	if (t->size < 0) {
		report(pr, -1, "the trusted tree head has a negative size (%lld)", (long long)t->size);
		return 0;
	}
	if (t->size == 0)
		return 0; /* the empty tree: every log extends it */
	if (t->size > size) {
		report(pr, -1, "the log has %lld records, fewer than the %lld of the trusted tree head: records were "
		               "removed or the log was rewritten", (long long)size, (long long)t->size);
		return 0;
	}
	if (t->size < B) {
		const struct vhead *h = find_head(d->heads, d->nheads, t->size);
		if (h == NULL)
			report(pr, -1, "the trusted tree head at size %lld lies in the compacted part of the log (records "
			               "before %lld are gone) and no stored head of that size is kept: it cannot be checked",
			       (long long)t->size, (long long)B);
		else if (memcmp(h->root, t->root, HLEN) != 0)
			report(pr, -1, "the log is not consistent with the trusted tree head at size %lld: the stored head "
			               "of that size differs (the log was rewritten)", (long long)t->size);
		return 0;
	}
	if (t->size > (int64_t)p->L) {
		report(pr, -1, "the trusted tree head at size %lld cannot be checked: records before it are missing",
		       (long long)t->size);
		return 0;
	}
	if ((rc = pyr_root(p, (uint64_t)t->size, root)) < 0)
		return rc;
	if (rc != 0 || memcmp(root, t->root, HLEN) != 0) {
		report(pr, -1, "the log is not consistent with the trusted tree head at size %lld: the records before it "
		               "were changed or the log was rewritten", (long long)t->size);
		return 0;
	}
	if (cur_known) {
		rc = consistent(p, (uint64_t)t->size, t->root, (uint64_t)size, cur_root);
		if (rc < 0)
			return rc;
		if (rc != 0)
			report(pr, -1, "no consistency proof from the trusted tree head at size %lld to the current one at "
			               "size %lld verifies", (long long)t->size, (long long)size);
	}
	return 0;
}

int tg_history_verify(struct tg_store *st, const struct tg_tree_head *trusted,
                      void (*problem)(int64_t seq, const char *msg, void *ud), void *ud,
                      struct tg_tree_head *current, struct tg_history_stats *stats, char *err, size_t errlen)
{
	struct vdata *d;
	struct pyramid pyr;
	struct problems pr;
	struct tg_tree_head cur;
	unsigned char top[MAX_LEVELS * HLEN];
	int64_t checked = 0;
	bool cur_known = false;
	size_t i;
	int rc;

	if (st == NULL) {
		seterr(err, errlen, "store is not open");
		return TLSGUARD_E_INVALID;
	}
	if ((d = tg_calloc(1, sizeof(*d))) == NULL) {
		seterr(err, errlen, "%s: out of memory", P(st));
		return TLSGUARD_E_NOMEM;
	}
	memset(&pr, 0, sizeof(pr));
	memset(&pyr, 0, sizeof(pyr));
	memset(&cur, 0, sizeof(cur));

	/* One read transaction: every table from the same snapshot. */
	tg_store_lock(st);
	if ((rc = tg_store_begin(st, 0, err, errlen)) == 0 && (rc = state_read(st, &d->ls, err, errlen)) == 0 &&
	    (rc = verify_read_heads(st, d, err, errlen)) == 0)
		rc = verify_rows(st, d, &pr, err, errlen);
	tg_store_rollback(st); /* read only: nothing to commit */
	tg_store_unlock(st);
	if (rc != 0)
		goto out;

	if ((rc = pyr_build(&pyr, (uint64_t)d->ls.base, d->ls.basef, d->leaves, d->m)) != 0) {
		seterr(err, errlen, "%s: %s verifying the history", P(st),
		       rc == TLSGUARD_E_NOMEM ? "out of memory" : "internal error");
		goto out;
	}
	if ((rc = verify_heads(d, &pyr, &pr, &checked)) != 0 || (rc = verify_proofs(d, &pyr, &pr)) != 0)
		goto internal;

	/* The current head, and the frontier the next append will extend. */
	cur.size = d->ls.size;
	if (pyr.L == (uint64_t)d->ls.size) {
		if ((rc = pyr_root(&pyr, (uint64_t)d->ls.size, cur.root)) < 0)
			goto internal;
		cur_known = rc == 0;
		{
			const struct vhead *h = find_head(d->heads, d->nheads, d->ls.size);
			if (h != NULL)
				cur.time = h->time;
		}
		if (cur_known && d->ls.size > 0) {
			uint64_t size = (uint64_t)d->ls.size, pos = 0;
			unsigned k = 0;
			int j;
			for (j = MAX_LEVELS - 1; j >= 0; j--) {
				if (!((size >> j) & 1))
					continue;
				const unsigned char *h = pyr_get(&pyr, (unsigned)j, pos >> j);
				if (h == NULL)
					break;
				memcpy(top + (size_t)k++ * HLEN, h, HLEN);
				pos += (uint64_t)1 << j;
			}
			if (j >= 0 || memcmp(top, d->ls.f, (size_t)k * HLEN) != 0)
				report(&pr, -1, "the log state's frontier does not match the records: the next records would "
				                "be appended to another tree (log_state was altered)");
		}
	} else {
		const struct vhead *h = find_head(d->heads, d->nheads, d->ls.size);
		if (h != NULL) {
			memcpy(cur.root, h->root, HLEN);
			cur.time = h->time;
		} else if (d->ls.size == 0) {
			empty_root(cur.root);
		}
	}
	if (trusted != NULL && (rc = verify_trusted(d, &pyr, trusted, cur.root, cur_known, &pr)) != 0)
		goto internal;
	if (pr.oom) {
		seterr(err, errlen, "%s: out of memory verifying the history", P(st));
		rc = TLSGUARD_E_NOMEM;
		goto out;
	}
	if (problem != NULL) {
		for (i = 0; i < pr.n; i++)
			problem(pr.v[i].seq, pr.v[i].msg, ud);
		if (pr.total > (int64_t)pr.n) {
			char more[96];
			snprintf(more, sizeof(more), "and %lld more problems (not listed)",
			         (long long)(pr.total - (int64_t)pr.n));
			problem(-1, more, ud);
		}
	}
	if (current != NULL)
		*current = cur;
	if (stats != NULL) {
		stats->records = d->records;
		stats->compacted = d->ls.base;
		stats->heads = checked;
		stats->problems = pr.total;
	}
	rc = pr.total > 0 ? 1 : 0;
	goto out;
internal:
	if (rc >= 0)
		rc = TLSGUARD_E_INTERNAL;
	seterr(err, errlen, "%s: %s verifying the history", P(st), rc == TLSGUARD_E_NOMEM ? "out of memory" :
	       "internal error");
out:
	pyr_free(&pyr);
	problems_free(&pr);
	tg_free(d->leaves);
	tg_free(d->heads);
	tg_free(d);
	return rc;
}
