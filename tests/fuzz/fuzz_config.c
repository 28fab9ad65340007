/*
 * Fuzz target "config": the config parser (tlsguard.conf(5)) through
 * tlsguard_ctx_load_config_mem() on a fresh context.
 *
 * Invariants checked (abort() when violated):
 * - the call returns 0 or TLSGUARD_E_CONFIG (no I/O error, no internal
 *   error; allocation does not fail here);
 * - on success the last error is "", on failure it is "fuzz.conf:LINE: ..."
 *   with LINE >= 1;
 * - a failed load leaves the context as it was: loading a known-good config
 *   afterwards still works, and loading the same bytes again gives the same
 *   code and message (the parser keeps no state between calls).
 *
 * The input may name CA files ("ca-file = /some/path"); the parser reads
 * them. Run the fuzzer from a directory without large files and do not let
 * it run as a user that can read devices (see README.md).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <tlsguard/tlsguard.h>

#include "fuzz.h"

#define NAME "fuzz.conf"

static void check_message(const char *msg, int rc)
{
	const char *p;

	if (msg == NULL)
		abort();
	if (rc == 0) {
		if (msg[0] != '\0')
			abort();
		return;
	}
	/* "fuzz.conf:<line>: <reason>" */
	if (strncmp(msg, NAME ":", sizeof(NAME)) != 0)
		abort();
	p = msg + sizeof(NAME);
	if (*p < '1' || *p > '9')
		abort();
	while (*p >= '0' && *p <= '9')
		p++;
	if (p[0] != ':' || p[1] != ' ' || p[2] == '\0')
		abort();
}

TG_FUZZ_TARGET(config)
{
	static const char good[] = "[default]\nmode = enforce\n";
	tlsguard_ctx *ctx = NULL;
	char *first = NULL;
	int rc, rc2;

	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		return 0; /* out of memory: not what we are testing */
	rc = tlsguard_ctx_load_config_mem(ctx, (const char *)data, size, NAME);
	if (rc != 0 && rc != TLSGUARD_E_CONFIG)
		abort();
	check_message(tlsguard_ctx_last_error(ctx), rc);

	if (rc != 0) {
		/* Same bytes, same answer. */
		first = strdup(tlsguard_ctx_last_error(ctx));
		if (first == NULL)
			abort();
		rc2 = tlsguard_ctx_load_config_mem(ctx, (const char *)data, size, NAME);
		if (rc2 != rc || strcmp(first, tlsguard_ctx_last_error(ctx)) != 0)
			abort();
		free(first);
		/* The failed loads left nothing behind that breaks a good one. */
		if (tlsguard_ctx_load_config_mem(ctx, good, sizeof(good) - 1, NAME) != 0)
			abort();
	}
	tlsguard_ctx_free(ctx);
	return 0;
}
