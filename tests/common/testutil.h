/* Helpers shared by the Check programs. */
#ifndef TLSGUARD_TESTUTIL_H
#define TLSGUARD_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <check.h>

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
/* Evaluate chain file @chain for @host with @ctx and assert that the
 * evaluation completed (rc 0) with @verdict (TLSGUARD_ACCEPT or
 * TLSGUARD_REJECT). The result is freed. */
void assert_verdict(const tlsguard_ctx *ctx, const char *chain, const char *host, int verdict);

/* Temporary directories for file-based tests. Each path returned below
 * stays valid until tmpdir_remove() of its directory. Every helper aborts
 * the test (ck_abort) on failure.
 *
 * A new, empty directory $TMPDIR/tlsguard-test-XXXXXX (TMPDIR defaults to
 * /tmp). Caller passes it to tmpdir_remove(). */
char *tmpdir_new(void);
/* Write @text (without its NUL) to @dir/@name, replacing any earlier file of
 * that name; @dir is a tmpdir_new() directory or a tmpdir_mkdir() below one.
 * Returns the file's path. */
const char *tmpdir_write(const char *dir, const char *name, const char *text);
/* Copy fixture @fixture_name to @dir/@as byte for byte; returns the path. */
const char *tmpdir_copy_fixture(const char *dir, const char *fixture_name, const char *as);
/* Create the directory @dir/@name (mode 0700); returns its path. */
const char *tmpdir_mkdir(const char *dir, const char *name);
/* Remove the file @path, made by one of the helpers above, ahead of
 * tmpdir_remove(), asserting that it was still there. A path the helpers
 * returned is invalid afterwards (as after free()). */
void tmpdir_unlink(const char *path);
/* Remove every file and directory the helpers above made below @dir
 * (newest first), then @dir itself, and free @dir. Asserts that each removal
 * succeeds: the directory held exactly what the test made. (A test that
 * empties @dir with tmpdir_unlink() and removes it itself just frees it.) */
void tmpdir_remove(char *dir);

/* main() of a Check program: run @s (CK_NORMAL output; the CK_FORK,
 * CK_RUN_CASE, ... environment variables still apply), free it, and return
 * EXIT_SUCCESS when every test passed, else EXIT_FAILURE. */
int test_run(Suite *s);

/* Start `gnutls-serv` on 127.0.0.1 with the given cert chain and key
 * fixtures (extra args appended, NULL-terminated) on a free port. Returns the
 * pid and stores the port; aborts if it does not come up within 10 s. */
pid_t server_start(const char *chain, const char *key, unsigned *port, ...);
/* A free TCP port on 127.0.0.1 (bound, read back, released). */
unsigned test_free_port(void);
/* Run the server @argv (argv[0] looked up in PATH; NULL-terminated, at
 * most 31 words) with stdin from /dev/null and its output to @log (NULL:
 * /dev/null); return its pid once 127.0.0.1:@port accepts connections.
 * Aborts the test if it exits or does not listen within 10 s. */
pid_t test_spawn_server(const char *const *argv, const char *log, unsigned port);
void server_stop(pid_t pid);

/* Like test_spawn_server(), but waits until @addr:@port (a numeric IPv4 or
 * IPv6 address, e.g. "127.0.0.2" for a server bound to that loopback
 * address only) accepts connections. */
pid_t test_spawn_server_at(const char *const *argv, const char *log, const char *addr, unsigned port);
/* Is @tool (looked up in PATH) there to run? Returns 0 if so. Otherwise
 * prints why on behalf of the Check program @prog and returns the status
 * main() should exit with: 77 (skip), or EXIT_FAILURE when CI=true, where
 * every tool is required. */
int test_need_tool(const char *prog, const char *tool);

#endif
