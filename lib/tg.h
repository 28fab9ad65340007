/*
 * tlsguard internals shared between library files. Not installed.
 *
 * One way through: a front end builds a tlsguard_request (plain data), then
 * tg_evaluate() decodes it into a struct tg_eval, runs every check listed in
 * checks.c in order, each adding events, and tg_decide() turns the events,
 * the host's policy and the callback's answers into the verdict.
 */
#ifndef TLSGUARD_TG_H
#define TLSGUARD_TG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlsguard/tlsguard.h"
#include "tg_store.h"

#define TG_MAX_CHAIN 64      /* certificates accepted in one request */
#define TG_MAX_HOST 253      /* longest DNS name */
#define TG_MAX_CHECKS 32
#define TG_ERRBUF 512
#define TG_MAX_SCT_LISTS 4   /* SCT lists handed over per request */

/* ---- allocation (one place, so tests can fail the Nth call) ---- */
void *tg_malloc(size_t n);
void *tg_calloc(size_t n, size_t size);
void *tg_realloc(void *p, size_t n);
char *tg_strdup(const char *s);
char *tg_strndup(const char *s, size_t n);
void tg_free(void *p);
/* Test hook: make the Nth allocation from now fail (0 disables). Returns the
 * number of allocations made since the last call. Not exported. */
unsigned long tg_alloc_fail_at(unsigned long n);

/* ---- policy ---- */
enum tg_mode { TG_MODE_ENFORCE = 0, TG_MODE_INTERACTIVE = 1, TG_MODE_REPORT_ONLY = 2 };

/* Bits of struct tg_policy.set: which fields a config section set. */
enum {
	TG_POL_MODE = 1u << 0,
	TG_POL_MIN_RSA = 1u << 1,
	TG_POL_ALLOW_SHA1 = 1u << 2,
	TG_POL_OVERRIDABLE = 1u << 3,
	TG_POL_OCSP_MAX_AGE = 1u << 4,
	TG_POL_PINS = 1u << 5,
	TG_POL_PIN_MODE = 1u << 6,
	TG_POL_PIN_EXPIRES = 1u << 7,
	TG_POL_TOFU = 1u << 8,
	TG_POL_TOFU_MODE = 1u << 9,
	TG_POL_CT_POLICY = 1u << 10,
	TG_POL_CT_MODE = 1u << 11,
	TG_POL_CONSISTENCY = 1u << 12,
	TG_POL_WINDOW = 1u << 13,
	TG_POL_PROBE = 1u << 14,
	TG_POL_PROBE_TIMEOUT = 1u << 15,
	TG_POL_PROBE_MAX = 1u << 16,
	TG_POL_PROBE_CACHE = 1u << 17,
	TG_POL_ADDRS = 1u << 18,
	TG_POL_MAX_DEPTH = 1u << 19,     /* max_chain_depth is set (web-PKI profile, [default] only) */
	TG_POL_PSL_PRIVATE = 1u << 20    /* psl_private is set ([default] only) */
};

/* Consistency checks (config "consistency"): off, or on with failures
 * fatal (enforce) or only reported. */
enum tg_consistency { TG_CONS_OFF = 0, TG_CONS_ENFORCE = 1, TG_CONS_REPORT_ONLY = 2 };
/* Cross-path probe (config "probe"). */
enum tg_probe_mode { TG_PROBE_OFF = 0, TG_PROBE_ON_CHANGE = 1, TG_PROBE_ALWAYS = 2 };
#define TG_ADDR_TEXT 64      /* numeric address text, NUL included */
#define TG_PROBE_MAX_ADDRS 16 /* "addresses" and "probe-max", at most */

/* Certificate Transparency policy of a host (config "ct-policy"). AUTO, the
 * default, means Chrome's policy when a log list is configured, else off. */
enum tg_ct_policy { TG_CT_AUTO = 0, TG_CT_OFF = 1, TG_CT_CHROME = 2, TG_CT_APPLE = 3 };

#define TG_PIN_LEN 32 /* SHA-256 of a SubjectPublicKeyInfo */

struct tg_policy {
	unsigned set;           /* TG_POL_* fields given explicitly */
	int mode;               /* enum tg_mode */
	unsigned min_rsa_bits;  /* RSA/DSA keys below this are weak */
	bool allow_sha1;        /* accept SHA-1 signatures */
	uint64_t overridable;   /* bit (1 << code): callback may override */
	unsigned ocsp_max_age;  /* seconds a staple without nextUpdate stays fresh */
	/* Pinning. In a section's own policy @pins is owned by the section; in
	 * an effective policy (tg_policy_for_host) it is borrowed. */
	unsigned char (*pins)[TG_PIN_LEN];
	size_t npins;
	bool pin_report_only;   /* pin failures only reported */
	bool tofu_report_only;  /* key changes only reported */
	int64_t pin_expires;    /* 0 = never */
	bool tofu;              /* trust on first use */
	int ct_policy;          /* enum tg_ct_policy */
	bool ct_report_only;    /* CT failures only reported (ct-mode) */
	/* Consistency checks (check_consistency.c). */
	int consistency;        /* enum tg_consistency */
	unsigned window;        /* seconds of history compared for split view */
	int probe;              /* enum tg_probe_mode */
	unsigned probe_timeout; /* milliseconds the probe may add */
	unsigned probe_max;     /* other addresses probed, at most */
	unsigned probe_cache;   /* seconds a probe's results stand */
	/* Resolver override ("addresses"): owned by a section, borrowed in an
	 * effective policy, like pins. */
	char (*addrs)[TG_ADDR_TEXT];
	size_t naddrs;
	/* Web-PKI profile (check_chain.c, check_hostname.c). Both are
	 * [default]-only keys, so they live in the defaults that every
	 * effective policy starts from. max_chain_depth: intermediates
	 * allowed between leaf and trust anchor, self-issued ones not counted
	 * (RFC 5280 6.1), meaningful only with TG_POL_MAX_DEPTH. psl_private:
	 * wildcards directly over a private-section public suffix
	 * ("*.github.io") are refused too, not only over ICANN suffixes. */
	unsigned max_chain_depth;
	bool psl_private;
};

struct tg_host_policy {
	char *pattern;          /* "example.com" or "*.example.com", lower case */
	bool wildcard;          /* pattern starts with "*." */
	bool include_subdomains; /* an exact section that also covers subdomains */
	unsigned line;          /* where it was last opened (for messages) */
	unsigned load;          /* which load (tg_config.loads) last opened it */
	unsigned pins_load;     /* which load set its pins */
	unsigned pin_line;      /* where its pins were given (for warnings) */
	struct tg_policy pol;
};

/* Everything a config file or the setters can change. Built aside and
 * swapped in whole, so a failed load leaves the context unchanged. */
struct tg_config {
	bool use_system_ca;
	char **ca_paths;        /* files or directories, absolute or as given */
	size_t n_ca;
	struct tg_policy defaults;
	struct tg_host_policy *hosts;
	size_t n_hosts, hosts_cap;
	struct tg_host_index {  /* pattern -> index in hosts (hostindex.c) */
		size_t *slots;      /* index + 1; 0 = empty */
		size_t cap;
	} index;
	unsigned loads;         /* config texts parsed so far */
	char *store_path;       /* NULL = default */
	int64_t history_retention; /* seconds ("history-retention-days") */
	int64_t history_max_rows;  /* "history-max-rows" */
	char *report_path;      /* NULL = no report file */
	char **warnings;        /* "file:line: warning: ..." */
	size_t n_warnings, warnings_cap;
	struct tg_ct_list *ct_list; /* CT log list (shared by copies), or NULL */
	/* The last CT log list configured failed to load (ct_list is then
	 * NULL): CT is unavailable, and fails closed where it is enforced.
	 * ct_list_err is the loader's message (NULL only if it could not be
	 * copied). */
	bool ct_list_failed;
	char *ct_list_err;
};

/* Host index: O(1) section lookup by pattern, so that policy lookup costs
 * the same with 10 or 100,000 host sections. */
int tg_hostindex_add(struct tg_config *cfg, size_t idx);
long tg_hostindex_find(const struct tg_config *cfg, const char *pattern, size_t len);
int tg_hostindex_rebuild(struct tg_config *cfg);
void tg_hostindex_free(struct tg_config *cfg);
/* Find or create the section for @pattern ("host" or "*.suffix",
 * normalised). Returns its index or a negative code. */
long tg_config_section(struct tg_config *cfg, const char *pattern, unsigned line);
int tg_config_warn(struct tg_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Install a loaded CT log list (taking the reference), clearing any
 * earlier failure; or record that the list configured failed to load
 * (dropping any earlier list), with @msg saying why. The latter returns
 * TLSGUARD_E_NOMEM if @msg could not be copied (the failure is recorded
 * anyway). */
void tg_config_set_ct_list(struct tg_config *cfg, struct tg_ct_list *l);
int tg_config_ct_list_failed(struct tg_config *cfg, const char *msg);

/* Pins */
int tg_pin_parse(const char *text, size_t len, unsigned char out[TG_PIN_LEN]);
/* Parse a list of pins separated by commas/white space, appending to
 * @pins and @npins. On a bad pin returns TLSGUARD_E_INVALID and names it in err. */
int tg_pins_parse_list(const char *text, unsigned char (**pins)[TG_PIN_LEN], size_t *npins, char *err,
                       size_t errlen);
int tg_spki_sha256(gnutls_x509_crt_t crt, unsigned char out[TG_PIN_LEN]);
void tg_pin_b64(const unsigned char pin[TG_PIN_LEN], char out[48]);

/* Parse a list of numeric addresses ("addresses" key), de-duplicated, at
 * most TG_PROBE_MAX_ADDRS; TLSGUARD_E_INVALID names the bad one in err. */
int tg_addrs_parse_list(const char *text, char (**out)[TG_ADDR_TEXT], size_t *n, char *err, size_t errlen);
void tg_policy_init_defaults(struct tg_policy *p);
void tg_config_free(struct tg_config *c);
int tg_config_copy(struct tg_config *dst, const struct tg_config *src);
/* Parse a config text into @cfg (which holds the values to start from).
 * On error fills @err with "name:line: reason". */
int tg_config_parse(struct tg_config *cfg, const char *data, size_t len, const char *name,
                    const char *basedir, int64_t now, char *err, size_t errlen);
/* Effective policy for host: defaults overlaid by the most specific section. */
void tg_policy_for_host(const struct tg_config *cfg, const char *host, struct tg_policy *out);
/* Load CA certificates of a file or directory into a trust list; returns
 * the number added (> 0) or a TLSGUARD_E_* code, with a message in err. */
int tg_trust_add_path(gnutls_x509_trust_list_t tl, const char *path, char *err, size_t errlen);

/* ---- Certificate Transparency (check_ct.c) ----
 * A CT log list, parsed once when it is configured (config "ct-log-list" or
 * tlsguard_ctx_set_ct_log_list()) so that errors surface then, and read-only
 * afterwards. Config copies share it: @refs counts them and is only touched
 * by the configuring thread (and by tlsguard_ctx_free()). */
struct tg_loglist;
struct tg_ct_list {
	unsigned refs;
	char *path;
	struct tg_loglist *ll;
	/* The list's date in ms, for Chrome's 70-day freshness rule: its
	 * log_list_timestamp, or, for a list without one (Apple's), the newest
	 * state timestamp in it (the list cannot be older than that); 0 when
	 * neither exists (age unknown: CT is not enforced). */
	int64_t date_ms;
	bool date_from_states;
};
/* Read and parse the list at @path. TLSGUARD_E_IO (unreadable),
 * TLSGUARD_E_CONFIG (bad list; @err holds the loader's "path: json.path:
 * reason"), TLSGUARD_E_NOMEM. */
int tg_ct_list_load(const char *path, struct tg_ct_list **out, char *err, size_t errlen);
struct tg_ct_list *tg_ct_list_ref(struct tg_ct_list *l);
void tg_ct_list_unref(struct tg_ct_list *l);
/* The load-time warning for a list without log_list_timestamp ("" when
 * none is due), written to @buf; the caller names the list. */
void tg_ct_list_date_note(const struct tg_ct_list *l, char *buf, size_t len);

/* Cache of SCT signature checks, shared by every evaluation of a context:
 * the one mutable part of a frozen context, internally locked. Keyed by
 * SHA-256 of the signed entry and SHA-256 of the SCT's signed fields (and
 * log id); bounded (TG_CT_CACHE_SLOTS, two-way, oldest way evicted). */
#define TG_CT_CACHE_SLOTS 1024
struct tg_ct_cache;
int tg_ct_cache_new(struct tg_ct_cache **out);
void tg_ct_cache_free(struct tg_ct_cache *c);
/* Test hook (not exported): signatures verified and cache hits so far. */
void tg_ct_cache_stats(const tlsguard_ctx *ctx, uint64_t *verified, uint64_t *hits);

struct tlsguard_ctx {
	struct tg_config cfg;
	int64_t fixed_time;              /* 0 = clock */
	tlsguard_event_cb cb;
	void *cb_data;
	char errbuf[TG_ERRBUF];

	/* Derived once, on first evaluation, then read-only. */
	pthread_mutex_t lock;
	int frozen;                      /* accessed with __atomic builtins */
	int prep_rc;
	char prep_err[TG_ERRBUF];
	gnutls_x509_trust_list_t tl;
	bool needs_store;                /* some policy uses TOFU or consistency */
	struct tg_store *store;          /* NULL: not needed or failed (store_err) */
	int store_rc;
	char store_err[TG_ERRBUF];
	/* SCT verification cache, made at prepare when a CT log list is
	 * configured (NULL otherwise, or if it could not be allocated: then
	 * every SCT is verified every time). Unlike everything else here it
	 * changes after the freeze, under its own lock (check_ct.c). */
	struct tg_ct_cache *ct_cache;
};

/* Freeze @ctx and build derived state once (thread-safe). */
int tg_ctx_prepare(const tlsguard_ctx *ctx);
bool tg_ctx_frozen(const tlsguard_ctx *ctx);
int64_t tg_ctx_now(const tlsguard_ctx *ctx);

/* ---- request and result ---- */
struct tg_buf {
	unsigned char *data;
	size_t len;
};

struct tlsguard_request {
	char host[TG_MAX_HOST + 1]; /* lower case, no trailing dot */
	unsigned port;
	char address[64];           /* "" = unknown */
	struct tg_buf certs[TG_MAX_CHAIN];
	size_t ncerts;
	struct tg_buf ocsp;
	/* SCT lists the TLS stack received (tlsguard_request_add_sct_list). */
	struct tg_sct_input {
		int source;             /* TLSGUARD_SCT_TLS or TLSGUARD_SCT_OCSP */
		struct tg_buf list;
	} sct_lists[TG_MAX_SCT_LISTS];
	size_t n_sct_lists;
	/* Set by the consistency check for the chains its probe fetched: run
	 * the checks only (no callback, no consistency check, no after hooks,
	 * no report), to learn what a chain shows. */
	bool nested;
	struct tg_observation *nested_out; /* the consistency check's view of it */
};

struct tlsguard_event {
	tlsguard_result *res;       /* owner: host, port, address, chain */
	int code;
	int severity;
	int cert_index;
	bool overridable;
	int decision;
	const char *check;          /* static */
	char *message;
	char *detail;
	bool in_report;             /* part of the evaluation's report */
};

struct tg_check_record {
	const char *name;
	int outcome;
};

/* One SCT an evaluation saw (tlsguard_result_sct). */
struct tg_sct_record {
	unsigned char log_id[32];
	char *log_name;             /* NULL when the log is unknown */
	char *operator_name;        /* operator at the SCT's time, or NULL */
	int64_t timestamp_ms;
	int source;                 /* enum tlsguard_sct_source */
	int status;                 /* enum tlsguard_sct_status */
};

struct tlsguard_result {
	int verdict;
	int error;
	char host[TG_MAX_HOST + 1];
	unsigned port;
	char address[64];
	struct tg_buf *certs;
	size_t ncerts;
	struct tlsguard_event *events;
	size_t nevents, cap;
	struct tg_check_record checks[TG_MAX_CHECKS];
	size_t nchecks;
	char *report;               /* JSON, or NULL */
	struct tg_sct_record *scts;
	size_t nscts;
	/* Other addresses of the host the consistency check compared with
	 * (tlsguard_result_peer). */
	struct tg_peer_record {
		char address[TG_ADDR_TEXT];
		int status;             /* enum tlsguard_peer_status */
		bool from_probe;
		char *detail;
	} *peers;
	size_t npeers;
};

/* ---- evaluation ---- */
struct tg_eval {
	const tlsguard_ctx *ctx;
	const tlsguard_request *req;
	struct tg_policy pol;        /* effective policy for req->host */
	int64_t now;
	gnutls_x509_crt_t certs[TG_MAX_CHAIN]; /* presented chain, decoded */
	size_t ncerts;
	/* The path built from the leaf through presented certificates: indices
	 * into certs[]; path[0] == 0 is the leaf. */
	size_t path[TG_MAX_CHAIN];
	size_t npath;
	/* Trust anchor from the trust store that issued the last path element
	 * (a copy owned by the evaluation), or NULL if none was found. */
	gnutls_x509_crt_t anchor;
	bool anchor_owned;           /* anchor is a copy to deinit */
	unsigned gnutls_status;      /* gnutls_x509_trust_list_verify_crt2's */
	/* The path builder verified the chosen path (gnutls_status holds the
	 * result): the chain check uses it instead of verifying again. */
	bool path_verified;
	tlsguard_result *res;
	const char *current_check;   /* set by the runner for tg_event_add */
	int oom;                     /* an event could not be recorded */
	bool want_report;            /* a check asked for a report */
	/* SHA-256 of the SPKI of certs[i] (and of the anchor), computed on
	 * demand by tg_eval_spki(). */
	unsigned char spki[TG_MAX_CHAIN + 1][TG_PIN_LEN];
	bool spki_done[TG_MAX_CHAIN + 1];
	/* TOFU: what to record once the verdict is known. */
	int tofu_action;             /* TG_TOFU_NONE / _SEEN / _PENDING */
	/* Consistency: the observation to record once the verdict is known
	 * (check_consistency.c; freed by tg_evaluate). */
	struct tg_observation *obs;
};

enum { TG_TOFU_NONE = 0, TG_TOFU_SEEN = 1, TG_TOFU_PENDING = 2 };

/* Pin of certs[idx], or of the anchor when idx == TG_MAX_CHAIN. */
int tg_eval_spki(struct tg_eval *e, size_t idx, const unsigned char **out);
/* Build the JSON report of an evaluation into res->report. */
int tg_report_build(struct tg_eval *e);
/* Append res->report as one line to @path; 0 or a negative code. */
int tg_report_append(const char *path, const char *report, char *err, size_t errlen);

/* Add an event about presented certificate @cert_index (-1: none). @detail
 * is a printf format. The message comes from the code table. Returns the
 * event (valid until the next tg_event_add), or NULL on allocation failure,
 * which also marks the evaluation so that it rejects with TLSGUARD_E_NOMEM. */
struct tlsguard_event *tg_event_add(struct tg_eval *e, int code, int severity, int cert_index,
                                    const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- checks ----
 * A check reads the evaluation and adds events. It returns
 * TLSGUARD_CHECK_PASS (its events decide whether it counts as failed),
 * TLSGUARD_CHECK_SKIP when not applicable, or a negative TLSGUARD_E_* code
 * when it could not run (the runner then adds an internal-error event, which
 * rejects). Adding a check: a new file check_<name>.c defining one
 * struct tg_check, and one line in the table in checks.c. */
struct tg_check {
	const char *name;
	int (*run)(struct tg_eval *e);
	/* Optional: called once the verdict is known (e.g. to record what was
	 * learnt). A negative return rejects the evaluation (fail closed). */
	int (*after)(struct tg_eval *e, int verdict);
};

extern const struct tg_check tg_check_chain;
extern const struct tg_check tg_check_validity;
extern const struct tg_check tg_check_hostname;
extern const struct tg_check tg_check_eku;
extern const struct tg_check tg_check_crypto;
extern const struct tg_check tg_check_ocsp;
extern const struct tg_check tg_check_pin;
extern const struct tg_check tg_check_tofu;
extern const struct tg_check tg_check_ct;
extern const struct tg_check tg_check_consistency;
extern const struct tg_check tg_check_webpki;

/* NULL-terminated, in running order. */
extern const struct tg_check *const tg_checks[];

/* ---- codes and messages ---- */
struct tg_code_info {
	int code;
	const char *name;     /* ERR_... */
	const char *key;      /* config name */
	const char *message;  /* one %s: the host */
};
const struct tg_code_info *tg_code_info(int code);
/* Parse a config name ("expired") into a code; -1 if unknown. */
int tg_code_from_key(const char *key, size_t len);

/* ---- helpers ---- */
/* Subject and issuer names are the same bytes (a cheap self-issued test). */
bool tg_crt_self_issued(gnutls_x509_crt_t crt);
/* Host name matching (hostname check; exported internally for tests). */
bool tg_dns_match(const char *pattern, size_t plen, const char *host);
/* Normalise a host: lower case, strip one trailing dot, validate. Returns
 * 0 or TLSGUARD_E_INVALID. out must hold TG_MAX_HOST + 1 bytes. */
int tg_host_normalize(const char *in, size_t len, char *out);
/* 4 or 16 bytes into @out if @s is an IPv4/IPv6 literal, else 0. */
int tg_ip_parse(const char *s, unsigned char out[16]);
/* The canonical text of an IPv4 or IPv6 literal (inet_ntop's; an
 * IPv4-mapped IPv6 address as plain IPv4), so that one address has one
 * spelling in requests, config and the history. 0 or TLSGUARD_E_INVALID. */
int tg_ip_canonical(const char *s, char *out, size_t outlen);
int tg_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "2024-01-02 03:04:05 UTC" */
void tg_format_time(int64_t t, char *buf, size_t len);
/* RFC 3339: "2024-01-02T03:04:05Z" */
void tg_format_time_iso(int64_t t, char *buf, size_t len);
/* "2024-01-02", "2024-01-02T03:04:05Z" or "2024-01-02 03:04:05" (UTC). */
int tg_parse_time(const char *s, int64_t *out);

int tg_evaluate(const tlsguard_ctx *ctx, const tlsguard_request *req, tlsguard_result **out);

/* ---- web-PKI profile helpers ---- */
/* Does the anchor of @e come only from the context's own CA files (no
 * system store)? The certificate-profile rules apply to such anchors; the
 * system store's roots are vetted by the distribution's root program. */
bool tg_anchor_profiled(const struct tg_eval *e);
/* Is @name (no leading "*.") a public suffix in the Public Suffix List
 * (libpsl, the distribution's list)? ICANN suffixes always; private-section
 * ones ("github.io") when @private_too. -1 when no list could be loaded. */
int tg_public_suffix(const char *name, bool private_too);
/* Path selection (evaluate.c tries candidate paths until one passes):
 * the GnuTLS-style verification status of the path e->path up to
 * e->anchor (check_chain.c: GnuTLS's chain verification, or a link-by-link
 * one for paths with self-issued intermediates); 0 or a TLSGUARD_E_* code. */
int tg_chain_path_status(const struct tg_eval *e, unsigned *status);
/* Does @status (of tg_chain_path_status) with the path's depth pass the
 * chain check? */
bool tg_chain_path_ok(const struct tg_eval *e, unsigned status);
/* Does the path pass tlsguard's name-constraint rule (check_webpki.c)?
 * Adds no event; false on any doubt (including allocation failure). */
bool tg_webpki_path_constraints_ok(struct tg_eval *e);
/* Does @crt have a nameConstraints extension that must not be handed to
 * GnuTLS (a name type it does not implement, or unreadable)? */
bool tg_nc_unsupported(gnutls_x509_crt_t crt);

/* The internal store of a public handle, with the handle's error buffer
 * cleared (store.c). NULL when @h is NULL or its open failed (then *err
 * says why, when @h is not NULL). */
struct tg_store *tg_store_of(tlsguard_store *h, char **err, size_t *errlen);

/* ---- Certificate Transparency Merkle trees (merkle.c) ---- */
/* SHA-256(0x01 || left || right) for children of any length (known-answer
 * tests use short raw children); tlsguard_merkle_node_hash() is the 32-byte
 * form. 0, TLSGUARD_E_INVALID or TLSGUARD_E_INTERNAL. */
int tg_merkle_node_hash_raw(const unsigned char *left, size_t left_len, const unsigned char *right,
                            size_t right_len, unsigned char out[32]);

#endif /* TLSGUARD_TG_H */
