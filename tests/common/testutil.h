/* Helpers shared by the Check programs. */
#ifndef TLSGUARD_TESTUTIL_H
#define TLSGUARD_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <tlsguard/tlsguard.h>

/* Verification time used with the generated fixtures: 2026-06-01 00:00 UTC. */
#define TEST_TIME INT64_C(1780272000)

/* A chain loaded from a PEM file: DER certificates, leaf first. */
struct test_chain {
	unsigned char *der[64];
	size_t len[64];
	size_t n;
};

/* Absolute path of a fixture file ($TG_DATA/name). Static buffer per call
 * slot: valid until the 8th next call. */
const char *fixture(const char *name);
/* Load every certificate of a PEM (or one DER) fixture file; aborts the
 * test (ck_abort) when the file is missing or empty. */
void chain_load(struct test_chain *c, const char *name);
void chain_free(struct test_chain *c);
/* Read a whole fixture file; aborts on failure. Caller frees. */
unsigned char *file_load(const char *name, size_t *len);

/* A context trusting only root-ca.pem, at TEST_TIME. Aborts on failure. */
tlsguard_ctx *test_ctx(void);
/* Evaluate chain file @name for @host with @ctx; returns the result (never
 * NULL: aborts otherwise) and stores the return code in *rc. */
tlsguard_result *verify_file(const tlsguard_ctx *ctx, const char *name, const char *host, int *rc);

/* Start `gnutls-serv` on 127.0.0.1 with the given cert chain and key
 * fixtures (extra args appended, NULL-terminated) on a free port. Returns the
 * pid and stores the port; aborts if it does not come up within 10 s. */
pid_t server_start(const char *chain, const char *key, unsigned *port, ...);
void server_stop(pid_t pid);

#endif
