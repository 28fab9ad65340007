/*
 * The observation history (issue 5): what every evaluated connection, and
 * every cross-path probe, showed for a host. Kept in the store (tg_store.h,
 * schema version 2) as an append-only, tamper-evident log: each record's
 * canonical encoding is a Merkle leaf (RFC 9162 hashing, merkle.c), a tree
 * head is kept after every append, and tg_history_verify() recomputes the
 * tree from the records and says exactly which record was altered, removed
 * or moved.
 *
 * Bounded: when the log passes the retention limits, the oldest records are
 * compacted away. What they proved is kept as the Merkle frontier of the
 * compacted prefix (at most 64 subtree hashes), so later heads still verify
 * and the log keeps growing from the same tree; what they taught (which keys,
 * issuers and anchors a host was seen with, since when, how often, accepted
 * or rejected) is kept in a per-host summary that compaction never deletes.
 *
 * Every function takes the store's mutex; writes are one BEGIN IMMEDIATE
 * transaction each. Errors: a negative TLSGUARD_E_* code with a message in
 * @err naming the store file and what was wrong (a malformed row names its
 * sequence number and column).
 */
#ifndef TLSGUARD_TG_HISTORY_H
#define TLSGUARD_TG_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "tg_store.h"

#define TG_OBS_MAX_CHAIN 16     /* chain fingerprints kept per record */
#define TG_OBS_NAME 256         /* DN text kept per CA (truncated) */

enum tg_obs_source { TG_OBS_CONNECTION = 0, TG_OBS_PROBE = 1 };
enum tg_obs_ct { TG_OBS_CT_UNKNOWN = 0, TG_OBS_CT_COMPLIANT = 1, TG_OBS_CT_NOT_COMPLIANT = 2 };
enum tg_obs_pin { TG_OBS_PIN_NONE = 0, TG_OBS_PIN_OK = 1, TG_OBS_PIN_MISMATCH = 2 };

/* One record. Strings are NUL-terminated; hashes are SHA-256. */
struct tg_observation {
	int64_t seq;                 /* leaf index; set by tg_history_append */
	int64_t time;                /* seconds since the epoch */
	char host[254];              /* normalised host name */
	unsigned port;               /* 1..65535 */
	char address[64];            /* peer address as text, "" unknown */
	int source;                  /* enum tg_obs_source */
	unsigned char leaf_spki[TG_SPKI_LEN];
	unsigned char issuer_spki[TG_SPKI_LEN]; /* issuing CA's key; zero: none */
	unsigned char anchor_spki[TG_SPKI_LEN]; /* trust anchor's key; zero: none */
	char issuer_name[TG_OBS_NAME];          /* DN of the issuing CA, "" unknown */
	char anchor_name[TG_OBS_NAME];          /* DN of the trust anchor */
	unsigned char chain[TG_OBS_MAX_CHAIN][TG_SPKI_LEN]; /* SHA-256 of each
	                                                  * presented cert's DER */
	unsigned nchain;             /* 0..TG_OBS_MAX_CHAIN */
	int ct;                      /* enum tg_obs_ct */
	int pin;                     /* enum tg_obs_pin */
	int verdict;                 /* TLSGUARD_ACCEPT or TLSGUARD_REJECT */
	uint64_t fatal_codes;        /* bit (1 << code) per fatal event code < 64 */
};

/* Retention rule (config "history-retention", "history-max-rows"). */
struct tg_history_limits {
	int64_t retention;           /* seconds; records older are compacted; 0 = forever */
	int64_t max_rows;            /* at most this many records; 0 = unbounded */
};
#define TG_HISTORY_DEFAULT_RETENTION (90 * 86400)
#define TG_HISTORY_DEFAULT_MAX_ROWS 200000

/* Append @obs (obs->seq is set to its leaf index), update the host summary
 * (connection records only), store the new tree head, and compact when the
 * limits are passed (retention is measured from obs->time). One
 * transaction. 0 or a negative code. */
int tg_history_append(struct tg_store *st, struct tg_observation *obs, const struct tg_history_limits *lim,
                      char *err, size_t errlen);

/* The newest ACCEPTED record (connection or probe) of each address of
 * host:port with time >= @since, except @exclude_address (NULL or "": none)
 * and except records with an empty address. @fn is called once per
 * address, ordered by address; it stops the walk by returning non-zero.
 * Returns the number of addresses visited or a negative code. */
int tg_history_latest_by_address(struct tg_store *st, const char *host, unsigned port, int64_t since,
                                 const char *exclude_address,
                                 int (*fn)(const struct tg_observation *obs, void *ud), void *ud, char *err,
                                 size_t errlen);

/* Records of @host (every port when @port is 0; every host when @host is
 * NULL), newest first, at most @limit (0: all). Returns the number visited
 * or a negative code. */
int tg_history_foreach(struct tg_store *st, const char *host, unsigned port, int64_t limit,
                       int (*fn)(const struct tg_observation *obs, void *ud), void *ud, char *err, size_t errlen);

/* Time of the newest record of host:port from @source; 0 in *out when none.
 * 0 or a negative code. */
int tg_history_last_time(struct tg_store *st, const char *host, unsigned port, int source, int64_t *out, char *err,
                         size_t errlen);

/* Per-host summary: what connections to host:port were seen with. */
enum tg_hist_kind { TG_HIST_KEY = 0, TG_HIST_ISSUER = 1, TG_HIST_ANCHOR = 2 };
struct tg_hist_summary {
	int kind;                    /* enum tg_hist_kind */
	unsigned char hash[TG_SPKI_LEN]; /* SPKI SHA-256 of the key / CA / anchor */
	char name[TG_OBS_NAME];      /* DN for CAs and anchors, "" for keys */
	int64_t first_seen, last_seen;
	uint64_t accepted, rejected; /* connections with each verdict */
	int64_t last_rejected;       /* time of the last rejection, 0 none */
	uint64_t last_rejected_codes; /* fatal_codes of that rejection */
};
/* Summary rows of host:port of @kind: rows with accepted connections first,
 * then by first_seen. Only connections whose chain reached a trust anchor
 * are summarised. Returns the number visited or a negative code. */
int tg_history_summary_foreach(struct tg_store *st, const char *host, unsigned port, int kind,
                               int (*fn)(const struct tg_hist_summary *s, void *ud), void *ud, char *err,
                               size_t errlen);

/* A Merkle tree head of the history log. */
struct tg_tree_head {
	int64_t size;                /* number of records ever appended */
	unsigned char root[32];      /* RFC 9162 MTH; SHA-256("") when empty */
	int64_t time;                /* when it was made (0 for the empty tree) */
};
int tg_history_head(struct tg_store *st, struct tg_tree_head *out, char *err, size_t errlen);

/* Figures of a verification (tg_history_verify). */
struct tg_history_stats {
	int64_t records;             /* records checked */
	int64_t compacted;           /* records compacted away (first seq kept) */
	int64_t heads;               /* tree heads checked */
	int64_t problems;            /* problems reported */
};

/* Verify the history: every record's content against the log, sequence
 * gaps (removed records), every stored tree head against the tree the
 * records make, and consistency (RFC 9162 proofs, checked with the Merkle
 * code) between successive heads and from @trusted (a head kept elsewhere,
 * NULL: none) to the current one. Each problem is reported through
 * @problem with the record's sequence number (-1 when it is not about one
 * record) and a message, e.g. "record 41 (example.com:443 via 127.0.0.2 at
 * 2026-06-01 10:00:00 UTC) was altered: its content no longer matches the
 * log". Returns 0 intact, 1 problems found, or a negative code when the
 * store could not be read. @current and @stats may be NULL. */
int tg_history_verify(struct tg_store *st, const struct tg_tree_head *trusted,
                      void (*problem)(int64_t seq, const char *msg, void *ud), void *ud,
                      struct tg_tree_head *current, struct tg_history_stats *stats, char *err, size_t errlen);

#endif
