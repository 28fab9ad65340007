/*
 * tlsguard: TLS certificate validation that is hard to fool.
 *
 * This is the core API. It uses no GnuTLS types, so applications on any TLS
 * stack can hand over a DER chain and get a verdict. The GnuTLS session glue
 * lives in <tlsguard/gnutls.h>.
 *
 * Conventions
 * -----------
 * - Fallible calls return int: 0 (TLSGUARD_OK) on success, a negative
 *   TLSGUARD_E_* code on failure. tlsguard_strerror() names every code.
 *   Codes are stable: values are never renumbered or reused.
 * - "Could not evaluate" is an error code; "evaluated and rejected" is the
 *   verdict of a result object. A caller must treat both as "do not trust".
 * - Handles are opaque and come in _new/_free pairs; _free(NULL) is a no-op.
 * - Inputs are borrowed for the duration of a call; anything kept is copied.
 *   Returned pointers are borrowed; each function says for how long.
 * - NULL arguments are rejected with TLSGUARD_E_INVALID unless the
 *   documentation allows them. The library never aborts and never writes to
 *   stderr.
 *
 * Thread safety
 * -------------
 * libtlsguard keeps no mutable global state of its own. A tlsguard_ctx is
 * configured by one thread (the tlsguard_ctx_set_* / _add_* / _load_* calls),
 * and no evaluation may start until configuration is done.
 * The first evaluation freezes it: from then on configuration calls fail with
 * TLSGUARD_E_FROZEN and any number of threads may evaluate with the same
 * context concurrently. Event callbacks run synchronously in the thread that
 * is evaluating (for an attached GnuTLS session: the thread inside
 * gnutls_handshake()), possibly in several threads at once, so they must be
 * reentrant. To change the policy, build a new context and swap it in.
 * Request and result objects belong to one thread at a time.
 */
#ifndef TLSGUARD_TLSGUARD_H
#define TLSGUARD_TLSGUARD_H

#include <stddef.h>
#include <stdint.h>

#include <tlsguard/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define TLSGUARD_API __attribute__((visibility("default")))
#define TLSGUARD_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define TLSGUARD_API
#define TLSGUARD_WARN_UNUSED
#endif

/** \defgroup errors Error codes (stable; never renumbered) */
enum tlsguard_error {
	TLSGUARD_OK = 0,
	TLSGUARD_E_INVALID = -1,     /**< bad argument (NULL, NUL in host, ...) */
	TLSGUARD_E_NOMEM = -2,       /**< allocation failed */
	TLSGUARD_E_IO = -3,          /**< a file could not be read */
	TLSGUARD_E_CONFIG = -4,      /**< config file or value rejected */
	TLSGUARD_E_CERT_PARSE = -5,  /**< a certificate could not be decoded */
	TLSGUARD_E_EMPTY_CHAIN = -6, /**< no certificate given */
	TLSGUARD_E_CHAIN_TOO_LONG = -7, /**< more certificates than allowed */
	TLSGUARD_E_FROZEN = -8,      /**< context already used for evaluation */
	TLSGUARD_E_INTERNAL = -9,    /**< GnuTLS or internal failure */
	TLSGUARD_E_TRUST_STORE = -10, /**< trust anchors could not be loaded */
	TLSGUARD_E_RANGE = -11,      /**< index or value out of range */
	TLSGUARD_E_STORE = -12,      /**< the persistent store is unreadable, corrupt
	                                  or of an unknown schema version */
	TLSGUARD_E_VERIFY = -13,     /**< a proof or signature does not verify */
	TLSGUARD_E_TIMEOUT = -14     /**< a network step passed its deadline */
};

/**
 * Name an error code ("TLSGUARD_E_NOMEM: out of memory").
 * \return a static string; never NULL, also for unknown codes.
 * \since 0.1
 */
TLSGUARD_API const char *tlsguard_strerror(int rc);

/** Library version string at run time, e.g. "0.1.0". \since 0.1 */
TLSGUARD_API const char *tlsguard_version(void);

/* ------------------------------------------------------------------ */
/** \defgroup events Event codes, severities, decisions                */

/**
 * Event codes: one value per failure class. Stable: values are never
 * renumbered or reused; new codes are appended. Codes 32..41 are pinning,
 * Certificate Transparency and consistency checks; 42..50 the web-PKI
 * certificate profile. Every code stays below 64 (the "overridable" mask).
 */
enum tlsguard_code {
	TLSGUARD_EV_INTERNAL_ERROR = 1,     /**< evaluation could not complete */
	TLSGUARD_EV_MALFORMED_CHAIN = 2,    /**< undecodable, empty or overlong chain */
	TLSGUARD_EV_UNTRUSTED_ISSUER = 3,   /**< no path to a trust anchor */
	TLSGUARD_EV_EXPIRED = 4,            /**< a certificate's notAfter has passed */
	TLSGUARD_EV_NOT_YET_VALID = 5,      /**< a certificate's notBefore is ahead */
	TLSGUARD_EV_HOSTNAME_MISMATCH = 6,  /**< certificate not issued for host */
	TLSGUARD_EV_REVOKED = 7,            /**< stapled OCSP says revoked */
	TLSGUARD_EV_WEAK_CRYPTO = 8,        /**< MD5/SHA-1 signature or small key */
	TLSGUARD_EV_BAD_KEY_USAGE = 9,      /**< EKU does not allow TLS servers */
	TLSGUARD_EV_INVALID_CHAIN = 10,     /**< bad signature, issuer not a CA, ... */
	TLSGUARD_EV_OCSP_INVALID = 11,      /**< stapled OCSP bad, stale or unrelated */
	/* reserved for later capabilities */
	TLSGUARD_EV_PIN_MISMATCH = 32,
	TLSGUARD_EV_CT_MISSING = 33,
	TLSGUARD_EV_CT_INVALID = 34,
	TLSGUARD_EV_CT_POLICY_NOT_MET = 35,
	TLSGUARD_EV_KEY_CHANGED = 36,
	TLSGUARD_EV_SPLIT_VIEW = 37,
	TLSGUARD_EV_PIN_EXPIRED = 38,       /**< info: a pin set is past its expiry
	                                         date and was not enforced */
	TLSGUARD_EV_CT_UNAVAILABLE = 39,    /**< info/warning: CT could not be
	                                         evaluated (no or stale log list) */
	TLSGUARD_EV_CA_CHANGED = 40,        /**< warning: a host always seen with
	                                         one issuing CA or anchor shows another */
	TLSGUARD_EV_SEEN_REJECTED = 41,     /**< warning: a key or CA refused
	                                         before for this host is back */
	/* Web-PKI certificate profile (since 0.2): rules of RFC 5280 and the
	 * CA/Browser Forum Baseline Requirements that GnuTLS does not enforce. */
	TLSGUARD_EV_BAD_BASIC_CONSTRAINTS = 42, /**< a CA without critical cA=TRUE,
	                                         or a leaf that is a CA */
	TLSGUARD_EV_BAD_KEY_IDENTIFIER = 43, /**< authority/subject key identifier
	                                         missing, critical or malformed */
	TLSGUARD_EV_OLD_CERT_VERSION = 44,  /**< an X.509 v1 or v2 certificate */
	TLSGUARD_EV_BAD_NAMES = 45,         /**< subject / subjectAltName rules: CN
	                                         not a SAN, bad DNS or IP syntax,
	                                         wrong SAN criticality, empty subject */
	TLSGUARD_EV_BAD_EXTENSION = 46,     /**< an extension critical or present
	                                         where it must not be, or malformed */
	TLSGUARD_EV_BAD_SERIAL = 47,        /**< serial number zero, negative or
	                                         longer than 20 octets */
	TLSGUARD_EV_NAME_CONSTRAINTS = 48,  /**< a name outside a CA's name
	                                         constraints, or bad constraints */
	TLSGUARD_EV_CHAIN_TOO_DEEP = 49,    /**< more intermediates than
	                                         max-chain-depth */
	TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD = 50 /**< a wildcard directly over a
	                                         public suffix ("*.co.uk") */
};

/** Severity of an event. */
enum tlsguard_severity {
	TLSGUARD_SEV_INFO = 0,    /**< noteworthy, never affects the verdict */
	TLSGUARD_SEV_WARNING = 1, /**< suspicious; the verdict is unaffected */
	TLSGUARD_SEV_FATAL = 2    /**< rejects the connection unless overridden */
};

/** What an event callback answers. */
enum tlsguard_decision {
	TLSGUARD_DECISION_DEFAULT = 0, /**< follow the policy */
	TLSGUARD_DECISION_REJECT = 1,  /**< reject; always honoured */
	TLSGUARD_DECISION_OVERRIDE = 2 /**< accept despite this fatal event; honoured
	                                    only in mode "interactive" and for codes
	                                    the host's policy lists as overridable */
};

/** Verdict of an evaluation. Zero is "reject", so a zeroed value fails closed. */
enum tlsguard_verdict {
	TLSGUARD_REJECT = 0,
	TLSGUARD_ACCEPT = 1
};

/** Outcome of one check in a result. */
enum tlsguard_outcome {
	TLSGUARD_CHECK_PASS = 0,
	TLSGUARD_CHECK_FAIL = 1,   /**< raised at least one warning or fatal event */
	TLSGUARD_CHECK_SKIP = 2,   /**< not applicable (e.g. no OCSP staple) */
	TLSGUARD_CHECK_ERROR = 3   /**< could not run; the evaluation is rejected */
};

/**
 * Short machine name of an event code, in the style of browser error names
 * ("ERR_CERT_DATE_INVALID"). \return static string; "UNKNOWN" for unknown codes.
 * \since 0.1
 */
TLSGUARD_API const char *tlsguard_code_name(int code);

/** Lower-case config name of a code ("expired", "untrusted-issuer"), as used
 *  in the config key "overridable". \return static string or NULL if unknown. */
TLSGUARD_API const char *tlsguard_code_key(int code);

/** "info", "warning" or "fatal". \return static string; never NULL. */
TLSGUARD_API const char *tlsguard_severity_name(int severity);

/* ------------------------------------------------------------------ */
/** \defgroup ctx Context: trust anchors, policy, callback              */

typedef struct tlsguard_ctx tlsguard_ctx;
typedef struct tlsguard_request tlsguard_request;
typedef struct tlsguard_result tlsguard_result;
typedef struct tlsguard_event tlsguard_event;

/** tlsguard_ctx_new() flag: do not use the system trust store; only CA files
 *  added with tlsguard_ctx_add_ca() (or config "ca-file") are trusted. */
#define TLSGUARD_CTX_NO_SYSTEM_CA 1u

/**
 * Create a context with the default policy (mode enforce, system trust
 * store, RSA keys >= 2048 bits, no MD5/SHA-1 signatures).
 * \param out receives the new context; free with tlsguard_ctx_free().
 * \param flags 0 or TLSGUARD_CTX_NO_SYSTEM_CA; other bits: TLSGUARD_E_INVALID.
 * \return 0, TLSGUARD_E_INVALID, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_new(tlsguard_ctx **out, unsigned flags);

/** Free a context. NULL is a no-op. Results and requests stay valid. \since 0.1 */
TLSGUARD_API void tlsguard_ctx_free(tlsguard_ctx *ctx);

/**
 * Trust the CA certificates in a PEM or DER file, or in every file of a
 * directory, in addition to (or, with TLSGUARD_CTX_NO_SYSTEM_CA, instead of)
 * the system store. The file is read and checked now.
 * \param path borrowed.
 * \return 0; TLSGUARD_E_IO (unreadable), TLSGUARD_E_CERT_PARSE (no
 *   certificate in it), TLSGUARD_E_TRUST_STORE (GnuTLS refused the
 *   certificates), TLSGUARD_E_FROZEN, TLSGUARD_E_INVALID, TLSGUARD_E_NOMEM.
 *   If the file becomes unreadable before the first evaluation, every
 *   evaluation fails closed with TLSGUARD_E_TRUST_STORE.
 *   tlsguard_ctx_last_error() says which file and why.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_add_ca(tlsguard_ctx *ctx, const char *path);

/** Use (1) or do not use (0) the system trust store. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_system_ca(tlsguard_ctx *ctx, int use);

/**
 * Evaluate at a fixed time (seconds since the Unix epoch) instead of the
 * clock: for tests, and for "what would have happened then". 0 restores the
 * clock. Only affects this context (no process-wide GnuTLS state).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_time(tlsguard_ctx *ctx, int64_t unix_time);

/**
 * Load a config file (format: tlsguard.conf(5)). Keys override what was set
 * before. Errors name "file:line: reason" in tlsguard_ctx_last_error(); on
 * error the context is unchanged.
 * \return 0; TLSGUARD_E_IO, TLSGUARD_E_CONFIG, TLSGUARD_E_FROZEN,
 *   TLSGUARD_E_INVALID, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_load_config(tlsguard_ctx *ctx, const char *path);

/**
 * Same as tlsguard_ctx_load_config() for a config held in memory.
 * \param data borrowed, need not be NUL-terminated; NUL bytes are an error.
 *   May be NULL when \p len is 0 (an empty config changes nothing).
 * \param name used in error messages in place of a file name (may be NULL).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_load_config_mem(tlsguard_ctx *ctx, const char *data,
                                                                   size_t len, const char *name);

/**
 * Message of the last failed configuration call on this context, e.g.
 * "site.conf:12: unknown key 'mdoe'". Borrowed until the next configuration
 * call or tlsguard_ctx_free(); "" when there was none. Only for the
 * configuring thread. \since 0.1
 */
TLSGUARD_API const char *tlsguard_ctx_last_error(const tlsguard_ctx *ctx);

/**
 * Event callback. Called once per event, in order, in the evaluating thread,
 * after all checks ran. Events added after the decision (a failure to
 * record a trust-on-first-use key or to write the report file) are in the
 * result but do not reach the callback; they can only make the verdict
 * stricter. \p ev is valid only during the call. The callback may
 * call any tlsguard_event_* accessor and tlsguard_*_name(); it must not free
 * or reconfigure the context, and for an attached GnuTLS session it must not
 * call GnuTLS on that session.
 * \return a tlsguard_decision.
 */
typedef int (*tlsguard_event_cb)(const tlsguard_event *ev, void *userdata);

/** Register the event callback (NULL removes it). \p userdata is borrowed
 *  and passed back untouched. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_event_callback(tlsguard_ctx *ctx, tlsguard_event_cb cb,
                                                                      void *userdata);

/**
 * Use the CT log list (v3 JSON, as Chrome and Apple publish it) at \p path
 * (copied) for Certificate Transparency checks; same as config
 * "ct-log-list". tlsguard ships no list: choose one (see tlsguard.conf(5)).
 * The file is read and checked now; errors name the JSON path.
 * A list that cannot be read or parsed returns its error, and also leaves
 * the context as a bad config "ct-log-list" does (where that is only a
 * load warning): any earlier list is dropped and CT is unavailable, so
 * that evaluations still fail closed if the error is ignored: event
 * TLSGUARD_CT_UNAVAILABLE (detail: this message), fatal for hosts whose
 * ct-policy is set explicitly (chrome/apple) with ct-mode enforce, else a
 * warning; hosts with ct-policy off are unaffected. A later good list
 * clears that state.
 * \return 0; TLSGUARD_E_IO, TLSGUARD_E_CONFIG (bad list: see
 *   tlsguard_ctx_last_error()), TLSGUARD_E_FROZEN, TLSGUARD_E_INVALID,
 *   TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_ct_log_list(tlsguard_ctx *ctx, const char *path);

/**
 * Warnings found while loading configuration (a pin set without a backup
 * pin, an expired pin set, a "ct-log-list" that cannot be read or parsed,
 * ...), as "file:line: warning: text". They do not make a load fail. Borrowed until tlsguard_ctx_free().
 * \since 0.1
 */
TLSGUARD_API size_t tlsguard_ctx_warning_count(const tlsguard_ctx *ctx);
TLSGUARD_API const char *tlsguard_ctx_warning(const tlsguard_ctx *ctx, size_t i);

/* ------------------------------------------------------------------ */
/** \defgroup pins Pinning: static SPKI pins and trust on first use      */

/** Pin-set and TOFU flags. */
#define TLSGUARD_PIN_INCLUDE_SUBDOMAINS 1u /**< also for every name under host */
#define TLSGUARD_PIN_REPORT_ONLY 2u        /**< report a mismatch, never reject */

/**
 * Pin \p host: a chain passes when at least one certificate of the
 * validated path (leaf, intermediate or trust anchor) has one of the pins'
 * SubjectPublicKeyInfo SHA-256. Same effect as a config section with
 * "pin" keys; a pin set added for a host replaces an earlier one.
 * \param host "example.com" or "*.example.com"; copied.
 * \param pins one or more pins separated by commas or white space, each as
 *   "sha256/BASE64" or "sha256//BASE64" (curl), pin-sha256="BASE64" (HPKP)
 *   or 64 hex digits (colons allowed); copied.
 * \param flags TLSGUARD_PIN_INCLUDE_SUBDOMAINS, TLSGUARD_PIN_REPORT_ONLY.
 * \param expires Unix time after which the pins are not enforced (an info
 *   event says so); 0 = never.
 * \return 0; TLSGUARD_E_INVALID (bad host, flags or pin: see
 *   tlsguard_ctx_last_error()), TLSGUARD_E_FROZEN, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_add_pin_set(tlsguard_ctx *ctx, const char *host, const char *pins,
                                                               unsigned flags, int64_t expires);

/**
 * Trust on first use for \p host: the first key (leaf SPKI) that passes
 * every other check is remembered in the store per host and port; a later
 * different key raises TLSGUARD_EV_KEY_CHANGED (fatal, or a warning with
 * TLSGUARD_PIN_REPORT_ONLY) and is kept as pending until accepted with
 * tlsguard_store_tofu_accept(). Same effect as config "tofu = yes". The
 * key is kept per host and port; an unknown port (0) counts as 443. A
 * changed key is kept as pending only when the chain failed nothing else.
 * TLSGUARD_PIN_REPORT_ONLY here affects key changes only, not static pins.
 * \return 0; TLSGUARD_E_INVALID (see tlsguard_ctx_last_error()),
 *   TLSGUARD_E_FROZEN, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_tofu(tlsguard_ctx *ctx, const char *host, unsigned flags);

/** tlsguard_ctx_set_consistency() modes (config "consistency"). */
enum tlsguard_consistency {
	TLSGUARD_CONSISTENCY_OFF = 0,
	TLSGUARD_CONSISTENCY_ENFORCE = 1,    /**< split view is fatal */
	TLSGUARD_CONSISTENCY_REPORT_ONLY = 2 /**< split view is a warning */
};
/** tlsguard_ctx_set_consistency() probe modes (config "probe"). */
enum tlsguard_probe {
	TLSGUARD_PROBE_OFF = 0,
	TLSGUARD_PROBE_ON_CHANGE = 1, /**< when a connection shows a key, CA or
	                                   anchor not seen before for the host */
	TLSGUARD_PROBE_ALWAYS = 2     /**< every connection (results cached) */
};

/**
 * Consistency checks for \p host ("example.com", "*.example.com", or NULL
 * for every host): every evaluated connection is recorded in the store's
 * tamper-evident observation history; a connection whose trust anchor,
 * issuing CA, CT compliance or pin status differs from what the host's
 * other addresses serve raises TLSGUARD_EV_SPLIT_VIEW; a new CA for a host
 * always seen with another raises TLSGUARD_EV_CA_CHANGED; a key or CA
 * refused before raises TLSGUARD_EV_SEEN_REJECTED. \p probe says when to
 * ask the host's other addresses (up to \p probe_max, within \p timeout_ms
 * in all, which is the most the probe adds to a connection). Same effect as
 * config "consistency", "probe", "probe-max" and "probe-timeout-ms".
 * \param mode enum tlsguard_consistency.
 * \param probe enum tlsguard_probe.
 * \param probe_max 1..16 (0: keep the current value, default 4).
 * \param timeout_ms 50..30000 (0: keep the current value, default 1500).
 * \return 0; TLSGUARD_E_INVALID (see tlsguard_ctx_last_error()),
 *   TLSGUARD_E_FROZEN, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_consistency(tlsguard_ctx *ctx, const char *host, int mode,
                                                                   int probe, unsigned probe_max,
                                                                   unsigned timeout_ms);

/**
 * Resolver override: the consistency check's cross-path probe takes \p host's
 * addresses from here instead of DNS (for tests, and for deployments that
 * know a service's addresses). Same effect as config "addresses".
 * \param host an exact host name; copied.
 * \param addrs \p n numeric IPv4 or IPv6 addresses (1..16); copied.
 * \return 0; TLSGUARD_E_INVALID (a bad host or address, named by
 *   tlsguard_ctx_last_error()), TLSGUARD_E_FROZEN, TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_host_addresses(tlsguard_ctx *ctx, const char *host,
                                                                      const char *const *addrs, size_t n);

/**
 * Use the store at \p path (copied) instead of the default
 * ($TLSGUARD_STORE, else $XDG_DATA_HOME/tlsguard/store.db, else
 * ~/.local/share/tlsguard/store.db). Opened at the first evaluation that
 * needs it; a store that cannot be used rejects those evaluations.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_store(tlsguard_ctx *ctx, const char *path);

/**
 * Append a JSON report (one object per line) to \p path for every
 * evaluation that has a pin failure or runs in report-only mode with
 * warnings or fatal events. Appends are atomic across processes.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_ctx_set_report_file(tlsguard_ctx *ctx, const char *path);

/** Parse one pin in any accepted syntax into its 32 bytes.
 *  \return 0 or TLSGUARD_E_INVALID. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_pin_parse(const char *text, size_t len, unsigned char out[32]);

/** The pin (SHA-256 of the SubjectPublicKeyInfo) of a DER certificate.
 *  \return 0, TLSGUARD_E_CERT_PARSE, TLSGUARD_E_INVALID. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_pin_from_cert(const unsigned char *der, size_t len,
                                                             unsigned char out[32]);

/** Pin syntaxes for tlsguard_pin_format(). */
enum tlsguard_pin_syntax {
	TLSGUARD_PIN_SYNTAX_SHA256 = 0, /**< sha256/BASE64 */
	TLSGUARD_PIN_SYNTAX_CURL = 1,   /**< sha256//BASE64 (curl --pinnedpubkey) */
	TLSGUARD_PIN_SYNTAX_HPKP = 2,   /**< pin-sha256="BASE64" */
	TLSGUARD_PIN_SYNTAX_HEX = 3     /**< 64 lower-case hex digits */
};

/** Write \p pin in \p syntax, NUL-terminated, into \p out (100 bytes
 *  always suffice). \return 0, TLSGUARD_E_INVALID, TLSGUARD_E_RANGE (buffer
 *  too small). \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_pin_format(const unsigned char pin[32], int syntax, char *out,
                                                          size_t outlen);

/* ------------------------------------------------------------------ */
/** \defgroup verify Evaluating a chain                                  */

/**
 * Create an evaluation request for a host.
 * \param host the name the client wants to reach, or an IPv4/IPv6 literal;
 *   \p host_len bytes, copied. A NUL byte within those bytes, an empty name
 *   or one longer than 253 bytes is TLSGUARD_E_INVALID.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_new(tlsguard_request **out, const char *host,
                                                           size_t host_len);

/** Free a request. NULL is a no-op. \since 0.1 */
TLSGUARD_API void tlsguard_request_free(tlsguard_request *req);

/** Set the port (1..65535; 0 = unknown, the default). \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_set_port(tlsguard_request *req, unsigned port);

/** Set the peer's IP address as text ("192.0.2.1", "2001:db8::1"); copied.
 *  Anything that is not an IP address is TLSGUARD_E_INVALID. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_set_address(tlsguard_request *req, const char *addr);

/**
 * Append one DER certificate of the peer's chain, leaf first; copied.
 * Decoding happens at evaluation, so bad bytes are reported there.
 * \return 0; TLSGUARD_E_CHAIN_TOO_LONG after 64 certificates;
 *   TLSGUARD_E_INVALID (NULL with len > 0, or len == 0); TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_add_cert(tlsguard_request *req,
                                                                const unsigned char *der, size_t len);

/** Attach the stapled OCSP response (DER) the server sent; copied. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_set_ocsp_response(tlsguard_request *req,
                                                                         const unsigned char *der, size_t len);

/** Where an SCT list came from, for tlsguard_request_add_sct_list(). SCTs
 *  embedded in the leaf certificate are read from it automatically. */
enum tlsguard_sct_source {
	TLSGUARD_SCT_EMBEDDED = 0, /**< X.509 extension (reported; not an input) */
	TLSGUARD_SCT_TLS = 1,      /**< TLS signed_certificate_timestamp extension */
	TLSGUARD_SCT_OCSP = 2      /**< stapled OCSP response extension */
};

/**
 * Hand over a TLS-encoded SignedCertificateTimestampList (RFC 6962 sec.
 * 3.3) that the TLS stack received for this connection; copied. At most 4
 * lists per request. Parsing happens at evaluation: a malformed list is a
 * ct-invalid event there.
 * \return 0; TLSGUARD_E_INVALID (bad source, NULL, len 0 or > 65537);
 *   TLSGUARD_E_RANGE (too many lists); TLSGUARD_E_NOMEM.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_request_add_sct_list(tlsguard_request *req, int source,
                                                                    const unsigned char *list, size_t len);

/**
 * Evaluate a request: run every check, report every event (to the callback
 * and into the result) and decide.
 * \param out receives a result object, also when the evaluation could not
 *   complete (then its verdict is TLSGUARD_REJECT and an event says why);
 *   NULL when an argument is invalid or even the result could not be
 *   allocated. Free with tlsguard_result_free().
 * \return 0 when the evaluation completed (read the verdict);
 *   TLSGUARD_E_CERT_PARSE, TLSGUARD_E_EMPTY_CHAIN, TLSGUARD_E_TRUST_STORE,
 *   TLSGUARD_E_STORE (a trust-on-first-use host and an unusable store),
 *   TLSGUARD_E_INTERNAL, TLSGUARD_E_NOMEM, TLSGUARD_E_INVALID when it could
 *   not (a bad OCSP staple is an event, not an error). Any non-zero return
 *   means: do not trust the peer.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_verify(const tlsguard_ctx *ctx, const tlsguard_request *req,
                                                      tlsguard_result **out);

/**
 * Convenience for apps on any TLS stack: evaluate a DER chain (leaf first)
 * for \p host (NUL-terminated) on \p port (0 = unknown).
 * Same returns as tlsguard_verify(), plus those of building the request:
 * TLSGUARD_E_INVALID (bad host, port or certificate buffer) and
 * TLSGUARD_E_CHAIN_TOO_LONG (more than 64 certificates); *out is NULL then.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_verify_der_chain(const tlsguard_ctx *ctx, const char *host,
                                                                unsigned port,
                                                                const unsigned char *const *certs,
                                                                const size_t *lens, size_t n,
                                                                tlsguard_result **out);

/* ------------------------------------------------------------------ */
/** \defgroup result Result objects (owned by the caller)                */

/** TLSGUARD_ACCEPT or TLSGUARD_REJECT. NULL gives TLSGUARD_REJECT. \since 0.1 */
TLSGUARD_API int tlsguard_result_verdict(const tlsguard_result *res);

/** The error code of an evaluation that could not complete, else 0. \since 0.1 */
TLSGUARD_API int tlsguard_result_error(const tlsguard_result *res);

/** Host name evaluated (normalised: lower case, no trailing dot); "" for
 *  NULL. Borrowed until tlsguard_result_free(). \since 0.1 */
TLSGUARD_API const char *tlsguard_result_host(const tlsguard_result *res);

/** Port given in the request, 0 if unknown. \since 0.1 */
TLSGUARD_API unsigned tlsguard_result_port(const tlsguard_result *res);

/** Peer address given in the request, "" if unknown. Borrowed. \since 0.1 */
TLSGUARD_API const char *tlsguard_result_address(const tlsguard_result *res);

/** Number of events (0 for NULL). \since 0.1 */
TLSGUARD_API size_t tlsguard_result_event_count(const tlsguard_result *res);

/** Event \p i, borrowed until tlsguard_result_free(); NULL if out of range. */
TLSGUARD_API const tlsguard_event *tlsguard_result_event(const tlsguard_result *res, size_t i);

/** 1 if some event has code \p code, else 0. \since 0.1 */
TLSGUARD_API int tlsguard_result_has_event(const tlsguard_result *res, int code);

/** Number of checks that were run (in order). \since 0.1 */
TLSGUARD_API size_t tlsguard_result_check_count(const tlsguard_result *res);

/** Name of check \p i ("chain", "validity", ...), static; NULL if out of range. */
TLSGUARD_API const char *tlsguard_result_check_name(const tlsguard_result *res, size_t i);

/** Outcome (tlsguard_outcome) of check \p i; TLSGUARD_CHECK_ERROR if out of range. */
TLSGUARD_API int tlsguard_result_check_outcome(const tlsguard_result *res, size_t i);

/** Number of certificates the peer presented. \since 0.1 */
TLSGUARD_API size_t tlsguard_result_cert_count(const tlsguard_result *res);

/** DER of presented certificate \p i, borrowed until tlsguard_result_free();
 *  NULL if out of range. \since 0.1 */
TLSGUARD_API const unsigned char *tlsguard_result_cert(const tlsguard_result *res, size_t i, size_t *len);

/**
 * The JSON report of this evaluation (HPKP-style: host, port, address,
 * time, served chain as PEM, validated chain, expected pins, failed checks
 * and events), or NULL when none was made (see
 * tlsguard_ctx_set_report_file()). Borrowed until tlsguard_result_free().
 * \since 0.1
 */
TLSGUARD_API const char *tlsguard_result_report(const tlsguard_result *res);

/** Status of one SCT in a result. */
enum tlsguard_sct_status {
	TLSGUARD_SCT_VALID = 0,
	TLSGUARD_SCT_INVALID_SIGNATURE = 1,
	TLSGUARD_SCT_UNKNOWN_LOG = 2,      /**< log not in the configured list */
	TLSGUARD_SCT_FUTURE_TIMESTAMP = 3, /**< issued after the evaluation time */
	TLSGUARD_SCT_LOG_NOT_ACCEPTED = 4, /**< log pending/rejected, or retired
	                                        before the SCT was issued */
	TLSGUARD_SCT_UNVERIFIABLE = 5      /**< e.g. precert SCT without issuer */
};

/** "valid", "invalid_signature", "unknown_log", "future_timestamp",
 *  "log_not_accepted", "unverifiable"; "unknown" otherwise. Static. */
TLSGUARD_API const char *tlsguard_sct_status_name(int status);

/** Number of SCTs the evaluation saw (all sources). \since 0.1 */
TLSGUARD_API size_t tlsguard_result_sct_count(const tlsguard_result *res);

/**
 * SCT \p i of a result: any out-parameter may be NULL. Strings are
 * borrowed until tlsguard_result_free() ("" when the log is unknown).
 * \param log_id 32 bytes, borrowed.
 * \return 0 or TLSGUARD_E_RANGE.
 * \since 0.1
 */
TLSGUARD_API int tlsguard_result_sct(const tlsguard_result *res, size_t i, const unsigned char **log_id,
                                     const char **log_name, const char **operator_name, int64_t *timestamp_ms,
                                     int *source, int *status);

/** How another address of the host compared with this connection (the
 *  consistency check; see tlsguard.conf(5), "consistency"). */
enum tlsguard_peer_status {
	TLSGUARD_PEER_AGREES = 0,      /**< same trust anchor, issuing CA, CT and pin status */
	TLSGUARD_PEER_DIFFERS = 1,     /**< served a chain with other trust properties */
	TLSGUARD_PEER_REJECTED = 2,    /**< served a chain that fails tlsguard's checks */
	TLSGUARD_PEER_UNREACHABLE = 3  /**< the probe got no chain by its deadline */
};

/** "agrees", "differs", "rejected", "unreachable"; "unknown" otherwise. Static. */
TLSGUARD_API const char *tlsguard_peer_status_name(int status);

/** Number of other addresses of the host this evaluation compared with
 *  (from the observation history and the cross-path probe). \since 0.1 */
TLSGUARD_API size_t tlsguard_result_peer_count(const tlsguard_result *res);

/**
 * Peer \p i of a result: its address, its tlsguard_peer_status, whether it
 * was asked just now by the cross-path probe (1) or comes from the history
 * (0), and a detail for people (which CA it served and when, or why the
 * probe failed). Any out-parameter may be NULL; strings are borrowed until
 * tlsguard_result_free().
 * \return 0 or TLSGUARD_E_RANGE.
 * \since 0.1
 */
TLSGUARD_API int tlsguard_result_peer(const tlsguard_result *res, size_t i, const char **address, int *status,
                                      int *from_probe, const char **detail);

/** Free a result and its events. NULL is a no-op. \since 0.1 */
TLSGUARD_API void tlsguard_result_free(tlsguard_result *res);

/* ------------------------------------------------------------------ */
/** \defgroup event Event accessors. An event is borrowed: valid during the
 *  callback, or until its result is freed. Strings are never NULL ("" when
 *  unknown) unless stated. */

TLSGUARD_API int tlsguard_event_code(const tlsguard_event *ev);
TLSGUARD_API int tlsguard_event_severity(const tlsguard_event *ev);
/** Short machine name, e.g. "ERR_CERT_DATE_INVALID". */
TLSGUARD_API const char *tlsguard_event_name(const tlsguard_event *ev);
/** Plain-language message a client can show a person: what happened, why it
 *  may be an attack, and what not to do. */
TLSGUARD_API const char *tlsguard_event_message(const tlsguard_event *ev);
/** Technical detail for logs (dates, algorithm, GnuTLS status ...). */
TLSGUARD_API const char *tlsguard_event_detail(const tlsguard_event *ev);
/** Name of the check that raised the event ("chain", "hostname", ...). */
TLSGUARD_API const char *tlsguard_event_check(const tlsguard_event *ev);
TLSGUARD_API const char *tlsguard_event_host(const tlsguard_event *ev);
/** Port, 0 if unknown. */
TLSGUARD_API unsigned tlsguard_event_port(const tlsguard_event *ev);
/** Peer address, "" if unknown. */
TLSGUARD_API const char *tlsguard_event_address(const tlsguard_event *ev);
/** Index of the offending certificate in the presented chain (0 = leaf), or
 *  -1 when the event is not about one presented certificate. */
TLSGUARD_API int tlsguard_event_cert_index(const tlsguard_event *ev);
/** Number of presented certificates, and DER of certificate \p i. */
TLSGUARD_API size_t tlsguard_event_cert_count(const tlsguard_event *ev);
TLSGUARD_API const unsigned char *tlsguard_event_cert(const tlsguard_event *ev, size_t i, size_t *len);
/** The evaluation's JSON report when this event is part of it (pin
 *  failures; every warning or fatal event in report-only mode), else NULL. */
TLSGUARD_API const char *tlsguard_event_report(const tlsguard_event *ev);
/** 1 if the policy lets the callback override this event, else 0. */
TLSGUARD_API int tlsguard_event_overridable(const tlsguard_event *ev);
/** The decision the callback returned for this event (TLSGUARD_DECISION_*). */
TLSGUARD_API int tlsguard_event_decision(const tlsguard_event *ev);

/* ------------------------------------------------------------------ */
/** \defgroup merkle Certificate Transparency: Merkle trees and signed tree
 *  heads (RFC 9162 sec. 2.1, RFC 6962 sec. 2.1 and 3.5). Pure functions:
 *  safe from any thread. Hashes are SHA-256, 32 bytes. */

#define TLSGUARD_MERKLE_HASH_LEN 32

/** Leaf hash: SHA-256(0x00 || leaf). \return 0 or TLSGUARD_E_INVALID. */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_merkle_leaf_hash(const unsigned char *leaf, size_t len,
                                                                unsigned char out[32]);

/** Interior node hash: SHA-256(0x01 || left || right). \return 0 or
 *  TLSGUARD_E_INVALID. */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_merkle_node_hash(const unsigned char left[32],
                                                                const unsigned char right[32], unsigned char out[32]);

/**
 * Verify that \p leaf_hash is leaf \p index (0-based) of the tree of
 * \p tree_size leaves whose root is \p root, given the audit path
 * \p proof (\p proof_len bytes: 32 per hash, leaf side first).
 * \return 0 valid; TLSGUARD_E_VERIFY does not verify (including a proof of
 *   the wrong length for index and size); TLSGUARD_E_INVALID bad arguments
 *   (NULL, index >= tree_size, proof_len not a multiple of 32).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_merkle_verify_inclusion(const unsigned char leaf_hash[32],
                                                                       uint64_t index, uint64_t tree_size,
                                                                       const unsigned char *proof, size_t proof_len,
                                                                       const unsigned char root[32]);

/**
 * Verify that the tree of \p size2 leaves with root \p root2 extends the
 * tree of \p size1 leaves with root \p root1, given the consistency proof.
 * size1 == size2 needs an empty proof and equal roots; size1 == 0 is not
 * provable (TLSGUARD_E_VERIFY).
 * \return 0, TLSGUARD_E_VERIFY, TLSGUARD_E_INVALID (as above).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                                                         const unsigned char root1[32],
                                                                         const unsigned char root2[32],
                                                                         const unsigned char *proof, size_t proof_len);

/**
 * Verify a signed tree head: \p sig is the TLS-encoded digitally-signed
 * struct (hash and signature algorithm, length-prefixed signature) over the
 * TreeHeadSignature (version 0, signature type tree_hash, timestamp in ms,
 * tree size, root) made with the log key \p log_key (DER
 * SubjectPublicKeyInfo, as in log lists). ECDSA P-256 and RSA with SHA-256.
 * \return 0; TLSGUARD_E_VERIFY; TLSGUARD_E_INVALID (bad key or encoding).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_sth_verify(const unsigned char *log_key, size_t key_len,
                                                          uint64_t timestamp_ms, uint64_t tree_size,
                                                          const unsigned char root[32], const unsigned char *sig,
                                                          size_t sig_len);

/* ------------------------------------------------------------------ */
/** \defgroup store The persistent store (trust-on-first-use keys, ...).
 *  A tlsguard_store handle belongs to one thread at a time; any number of
 *  processes may use the same store file at once. */

typedef struct tlsguard_store tlsguard_store;

/** tlsguard_store_open() flag: create the file (and directory) if missing. */
#define TLSGUARD_STORE_CREATE 1u

/**
 * Open the store at \p path (NULL: the default path, see
 * tlsguard_ctx_set_store()). A missing store without TLSGUARD_STORE_CREATE,
 * an unreadable or corrupt file, or a schema newer than this library is
 * TLSGUARD_E_STORE; the file is never recreated. When *out is set on
 * error, tlsguard_store_last_error(*out) says why; free it with
 * tlsguard_store_close().
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_store_open(tlsguard_store **out, const char *path, unsigned flags);
TLSGUARD_API void tlsguard_store_close(tlsguard_store *st);
/** Path of the store file; borrowed. */
TLSGUARD_API const char *tlsguard_store_path(const tlsguard_store *st);
/** Message of the last failed call on this handle; "" if none. */
TLSGUARD_API const char *tlsguard_store_last_error(const tlsguard_store *st);

/** One trust-on-first-use record, as tlsguard_store_tofu_list() reports it.
 *  \p pending is NULL when no changed key is waiting for acceptance. All
 *  pointers are valid during the call only. Return non-zero to stop. */
typedef int (*tlsguard_tofu_cb)(const char *host, unsigned port, const unsigned char spki[32], int64_t first_seen,
                                int64_t last_seen, uint64_t seen_count, const unsigned char *pending,
                                int64_t pending_seen, void *userdata);

/** Visit every record (or those of \p host when not NULL), ordered by host
 *  and port. \return the number visited, or a negative code. \since 0.1 */
TLSGUARD_API int tlsguard_store_tofu_list(tlsguard_store *st, const char *host, tlsguard_tofu_cb cb, void *userdata);

/** Forget \p host (every port when \p port is 0). \return the number of
 *  records removed, or a negative code. \since 0.1 */
TLSGUARD_API int tlsguard_store_tofu_forget(tlsguard_store *st, const char *host, unsigned port);

/** Accept the pending (changed) key of host:port as its key.
 *  \return 0; TLSGUARD_E_RANGE when nothing is pending; other codes.
 *  \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_store_tofu_accept(tlsguard_store *st, const char *host,
                                                                 unsigned port);

/** Integrity and schema check. \return 0 or TLSGUARD_E_STORE. \since 0.1 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_store_check(tlsguard_store *st);

/** One record of the observation history (consistency checks): what a
 *  connection to, or a probe of, one address of a host showed. Borrowed
 *  during a tlsguard_store_history() callback only. */
typedef struct tlsguard_observation tlsguard_observation;
/** Return non-zero to stop the walk. */
typedef int (*tlsguard_observation_cb)(const tlsguard_observation *obs, void *userdata);

/**
 * Visit the history of \p host (every host when NULL; every port when
 * \p port is 0), newest first, at most \p limit records (0: all).
 * \return the number visited, or a negative code (see
 *   tlsguard_store_last_error()).
 * \since 0.1
 */
TLSGUARD_API int tlsguard_store_history(tlsguard_store *st, const char *host, unsigned port, size_t limit,
                                        tlsguard_observation_cb cb, void *userdata);
/** Position of the record in the log (its Merkle leaf index). */
TLSGUARD_API int64_t tlsguard_observation_seq(const tlsguard_observation *obs);
/** When it was made (seconds since the epoch). */
TLSGUARD_API int64_t tlsguard_observation_time(const tlsguard_observation *obs);
TLSGUARD_API const char *tlsguard_observation_host(const tlsguard_observation *obs);
TLSGUARD_API unsigned tlsguard_observation_port(const tlsguard_observation *obs);
/** Peer address ("" when the front end did not know it). */
TLSGUARD_API const char *tlsguard_observation_address(const tlsguard_observation *obs);
/** 1 when the cross-path probe made the record, 0 for a connection. */
TLSGUARD_API int tlsguard_observation_from_probe(const tlsguard_observation *obs);
/** TLSGUARD_ACCEPT or TLSGUARD_REJECT (for a probe: whether the chain
 *  passed every check). */
TLSGUARD_API int tlsguard_observation_verdict(const tlsguard_observation *obs);
/** Bit (1 << code) for each fatal event code below 64 that was raised. */
TLSGUARD_API uint64_t tlsguard_observation_reasons(const tlsguard_observation *obs);
/** Distinguished names of the issuing CA and of the trust anchor ("" unknown). */
TLSGUARD_API const char *tlsguard_observation_issuer(const tlsguard_observation *obs);
TLSGUARD_API const char *tlsguard_observation_anchor(const tlsguard_observation *obs);
/** SHA-256 of the leaf's SubjectPublicKeyInfo (32 bytes; see tlsguard_pin_format()). */
TLSGUARD_API const unsigned char *tlsguard_observation_key(const tlsguard_observation *obs);
/** SHA-256 of each presented certificate (32 bytes each, leaf first); *n gets the count. */
TLSGUARD_API const unsigned char *tlsguard_observation_chain(const tlsguard_observation *obs, size_t *n);
/** "compliant", "not-compliant" or "unknown" (CT not evaluated). */
TLSGUARD_API const char *tlsguard_observation_ct(const tlsguard_observation *obs);
/** "ok", "mismatch" or "none" (no pins for the host). */
TLSGUARD_API const char *tlsguard_observation_pin(const tlsguard_observation *obs);

/** Called for each problem tlsguard_store_verify() finds: \p seq is the
 *  record it is about (-1 when it is not about one record). */
typedef void (*tlsguard_problem_cb)(int64_t seq, const char *message, void *userdata);

/**
 * Verify the observation history: every record against the log's Merkle
 * tree (RFC 9162 hashing), gaps (removed records), order, every stored tree
 * head, consistency between successive heads, and, when \p trusted_head
 * is given ("SIZE:BASE64ROOT", as an earlier call wrote to \p head), that
 * today's log extends that head. Each problem names the record that was
 * altered, removed or moved.
 * \param head receives the current head as "SIZE:BASE64ROOT" (may be NULL;
 *   66 bytes always suffice).
 * \param records receives the number of records checked (may be NULL).
 * \param compacted receives the number of records compacted away by the
 *   retention rule, which the tree still covers (may be NULL).
 * \return 0 intact; TLSGUARD_E_VERIFY problems found (reported through
 *   \p cb); TLSGUARD_E_INVALID (bad \p trusted_head); other codes when the
 *   store cannot be read (tlsguard_store_last_error()).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_store_verify(tlsguard_store *st, const char *trusted_head,
                                                            tlsguard_problem_cb cb, void *userdata, char *head,
                                                            size_t headlen, int64_t *records, int64_t *compacted);

#ifdef __cplusplus
}
#endif
#endif /* TLSGUARD_TLSGUARD_H */
