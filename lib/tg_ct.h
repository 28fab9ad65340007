/*
 * Certificate Transparency internals: SCT lists (RFC 6962 sec. 3.2-3.3),
 * the signed data an SCT covers, and CT log lists (the v3 JSON format that
 * Chrome and Apple publish). Every input here is untrusted bytes: parsers
 * are strict, check every length, and report what was wrong and where.
 */
#ifndef TLSGUARD_TG_CT_H
#define TLSGUARD_TG_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#define TG_CT_LOG_ID_LEN 32
#define TG_CT_MAX_SCTS 64 /* more SCTs in one list is an error */

/* Where an SCT came from. */
enum tg_sct_source {
	TG_SCT_EMBEDDED = 0, /* X.509 extension 1.3.6.1.4.1.11129.2.4.2: precert entry */
	TG_SCT_TLS = 1,      /* TLS extension 18: x509 entry */
	TG_SCT_OCSP = 2      /* OCSP extension 1.3.6.1.4.1.11129.2.4.5: x509 entry */
};

/* One parsed v1 SCT. Pointers point into the list buffer given to the
 * parser and are valid while it is. */
struct tg_sct {
	unsigned char log_id[TG_CT_LOG_ID_LEN];
	uint64_t timestamp;              /* ms since the epoch */
	const unsigned char *ext;        /* CtExtensions, may be empty */
	size_t ext_len;
	uint8_t hash_alg, sig_alg;       /* TLS 1.2 SignatureAndHashAlgorithm */
	const unsigned char *sig;        /* the signature bytes */
	size_t sig_len;
};

/*
 * Parse a TLS-encoded SignedCertificateTimestampList: opaque
 * SerializedSCT<1..2^16-1> list<1..2^16-1>. Strict: the outer and every
 * inner length must match exactly, an empty list or an empty SCT is an
 * error. SCTs whose version is not v1 (0) are skipped, as RFC 6962 says
 * (counted in *skipped). Returns 0 and fills out[0..*n), or
 * TLSGUARD_E_INVALID with @err saying what was wrong at which byte offset
 * (TLSGUARD_E_RANGE for more than @max SCTs).
 */
int tg_sct_list_parse(const unsigned char *data, size_t len, struct tg_sct *out, size_t max, size_t *n,
                      size_t *skipped, char *err, size_t errlen);

/* The SCT list of the leaf's X.509 extension (the extension's OCTET STRING
 * content, decoded from its DER wrapping). Returns 1 and a gnutls_free()able
 * copy in *list, 0 when the certificate has none, or a negative code. */
int tg_sct_list_from_cert(gnutls_x509_crt_t crt, unsigned char **list, size_t *len, char *err, size_t errlen);

/*
 * The data every SCT of a certificate signs except the per-SCT fields
 * (version, log id is not signed; timestamp, extensions): built once per
 * certificate, not once per SCT.
 *   precert entry: issuer_key_hash (SHA-256 of the issuer's SPKI) and the
 *     TBSCertificate with the SCT list extension removed (libtasn1);
 *   x509 entry: the DER certificate.
 */
struct tg_sct_signed {
	int entry_type;                  /* 0 x509_entry, 1 precert_entry */
	unsigned char issuer_key_hash[32];
	unsigned char *entry;            /* TBS (precert) or certificate DER (x509) */
	size_t entry_len;
};

int tg_sct_signed_precert(gnutls_x509_crt_t leaf, gnutls_x509_crt_t issuer, struct tg_sct_signed *out, char *err,
                          size_t errlen);
int tg_sct_signed_x509(gnutls_x509_crt_t leaf, struct tg_sct_signed *out, char *err, size_t errlen);
void tg_sct_signed_free(struct tg_sct_signed *s);

/* Verify one SCT against the log's public key: builds the digitally-signed
 * input (version, signature_type certificate_timestamp, timestamp,
 * entry_type, signed entry, extensions) and checks the signature (ECDSA
 * P-256 and RSA with SHA-256; ECDSA signatures must be DER). 0 valid,
 * TLSGUARD_E_VERIFY, or TLSGUARD_E_INVALID (unsupported algorithm). */
int tg_sct_verify(const struct tg_sct *sct, const struct tg_sct_signed *sd, gnutls_pubkey_t log_key);

/* ---- log lists ---- */

enum tg_log_state {
	TG_LOG_NONE = 0, /* no state given */
	TG_LOG_PENDING,
	TG_LOG_QUALIFIED,
	TG_LOG_USABLE,
	TG_LOG_READONLY,
	TG_LOG_RETIRED,
	TG_LOG_REJECTED
};

struct tg_prev_operator {
	char *name;
	int64_t end_time;                /* ms: operated the log until then */
};

struct tg_ct_log {
	char *description;
	char *operator_name;             /* current operator */
	struct tg_prev_operator *prev_ops;
	size_t n_prev_ops;
	unsigned char log_id[TG_CT_LOG_ID_LEN]; /* checked = SHA-256(key) */
	unsigned char *key;              /* DER SubjectPublicKeyInfo */
	size_t key_len;
	gnutls_pubkey_t pubkey;          /* parsed once at load */
	char *url;                       /* url, or submission_url for tiled logs */
	bool tiled;                      /* from "tiled_logs" (static-ct-api) */
	int state;                       /* enum tg_log_state */
	int64_t state_time;              /* ms: when it entered that state */
	int64_t interval_start, interval_end; /* temporal_interval in ms; 0 = none */
	uint32_t mmd;                    /* maximum merge delay, seconds */
};

struct tg_loglist {
	char *version;                   /* "version" field, may be NULL */
	int64_t timestamp;               /* log_list_timestamp, ms */
	struct tg_ct_log *logs;          /* sorted by log_id */
	size_t n;
};

/* Parse a v3 log list. Unknown fields are ignored (the format grows);
 * missing required fields, wrong types, a bad base64 key, a key that is not
 * a supported public key, a log_id that is not SHA-256 of the key, a
 * duplicate log_id, an unknown state or a bad timestamp are errors naming the
 * JSON path ("operators[3].logs[1].key: ..."). @name prefixes messages. */
int tg_loglist_parse(const char *json, size_t len, const char *name, struct tg_loglist **out, char *err,
                     size_t errlen);
void tg_loglist_free(struct tg_loglist *ll);
/* The log with this id, or NULL. O(log n). */
const struct tg_ct_log *tg_loglist_find(const struct tg_loglist *ll, const unsigned char log_id[TG_CT_LOG_ID_LEN]);
/* The operator of @log at @when (ms), following previous_operators. */
const char *tg_ct_log_operator_at(const struct tg_ct_log *log, int64_t when);

/* Verify the detached signature (*.sig) of a log list: RSA PKCS#1 v1.5 with
 * SHA-256 over the exact JSON bytes, as Google signs log_list.json and
 * all_logs_list.json with log_list_pubkey.pem (RSA-4096). @pubkey_pem is a
 * PEM "PUBLIC KEY" of an RSA key >= 2048 bits. 0 valid, TLSGUARD_E_VERIFY
 * (bad signature) or TLSGUARD_E_INVALID (unusable key or input), with a
 * message in @err. */
int tg_loglist_verify_signature(const char *json, size_t len, const unsigned char *sig, size_t sig_len,
                                const char *pubkey_pem, size_t pem_len, char *err, size_t errlen);

#endif
