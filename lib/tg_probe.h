/*
 * The cross-path probe (issue 5): ask a host's other addresses which
 * certificate chain they serve, within a hard deadline, with no outside
 * service.
 *
 * tg_resolve() finds a name's A and AAAA addresses; tg_probe() opens a TCP
 * connection to each address at once (non-blocking sockets, one poll loop),
 * starts a TLS handshake (GnuTLS, SNI = host, TLS 1.2 and 1.3), keeps the
 * certificate chain the server sends and aborts the handshake at that point:
 * no application data is ever sent, no trust decision is made here (the
 * consistency check evaluates the chains). Whatever has not finished at the
 * deadline is abandoned and reported as timed out.
 *
 * Thread-safe: no shared state. Both functions return by the deadline
 * (plus scheduling noise) whatever the network or resolver does.
 */
#ifndef TLSGUARD_TG_PROBE_H
#define TLSGUARD_TG_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "tg.h"
#include "tg_history.h"

#define TG_PROBE_MAX 16          /* addresses probed at once, at most */
#define TG_ADDR_LEN 64           /* numeric address text, NUL included */

enum tg_probe_status {
	TG_PROBE_OK = 0,             /* chain captured (ncerts > 0) */
	TG_PROBE_TIMEOUT = 1,        /* deadline passed first */
	TG_PROBE_CONNECT_FAILED = 2, /* TCP connection refused or failed */
	TG_PROBE_TLS_FAILED = 3,     /* handshake failed before a certificate */
	TG_PROBE_NO_CERT = 4         /* the server sent no certificate */
};

struct tg_probe_result {
	char address[TG_ADDR_LEN];
	int status;                  /* enum tg_probe_status */
	char error[160];             /* what failed, for people ("" when OK) */
	struct tg_buf certs[TG_OBS_MAX_CHAIN]; /* DER, leaf first; tg_malloc'd */
	size_t ncerts;
	int64_t elapsed_ms;          /* from the start of tg_probe() */
};

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t tg_monotonic_ms(void);

/* Resolve @host (a name; an IP literal resolves to itself) to its numeric
 * addresses (A and AAAA, each once, in the resolver's order), at most @max,
 * written to @out with the count in *n. The lookup runs in a detached
 * thread: if it has not answered by @deadline_ms (tg_monotonic_ms() time),
 * returns TLSGUARD_E_TIMEOUT and the thread finishes on its own. Other
 * failures: TLSGUARD_E_IO (name not found: message names the host and the
 * resolver's reason), TLSGUARD_E_NOMEM, TLSGUARD_E_INVALID. */
int tg_resolve(const char *host, char (*out)[TG_ADDR_LEN], size_t max, size_t *n, int64_t deadline_ms, char *err,
               size_t errlen);

/* Probe each of @addrs (numeric, n <= TG_PROBE_MAX) on @port in parallel
 * until @deadline_ms. Fills out[0..n-1] (clear them with
 * tg_probe_result_clear). Returns 0 (per-address outcomes are in @out), or
 * a negative code (TLSGUARD_E_INVALID for bad arguments, TLSGUARD_E_NOMEM)
 * with a message; then out[] holds nothing to free. */
int tg_probe(const char *host, unsigned port, const char (*addrs)[TG_ADDR_LEN], size_t n, int64_t deadline_ms,
             struct tg_probe_result *out, char *err, size_t errlen);
void tg_probe_result_clear(struct tg_probe_result *r);

#endif
