/*
 * make bench: verifications per second of tlsguard's chain evaluation on a
 * realistic three-certificate chain (leaf + intermediate presented, root as
 * trust anchor), RSA-2048 and ECDSA P-256, against raw GnuTLS
 * gnutls_x509_trust_list_verify_crt2() on the same chain in the same run.
 * Both sides start from DER bytes (tlsguard must decode what it is given),
 * and GnuTLS is asked for the host name and server purpose too, so the two
 * do comparable work. Runs alternate, best of several rounds is kept.
 * A last row adds the consistency checks (issue 5) to the RSA chain: every
 * evaluation reads the host's history and summary and appends its
 * observation to the Merkle log in the store (SQLite, WAL; probe off), and
 * is compared with tlsguard without them. The store goes to $TG_BENCH_DIR
 * (default /tmp): put it on a real disk to include fsync costs.
 * This is a benchmark, not a test: it never fails on timing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <tlsguard/tlsguard.h>

#define ROUNDS 7
#define TARGET_SEC 0.25

struct chain {
	const char *label, *leaf, *inter, *root;
	gnutls_datum_t der[2];
};

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load(const char *dir, const char *name, gnutls_datum_t *d)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gnutls_load_file(path, d) < 0) {
		fprintf(stderr, "bench: cannot read %s (make tests/data/stamp)\n", path);
		exit(2);
	}
}

static int run_tlsguard(const tlsguard_ctx *ctx, struct chain *c, long n)
{
	const unsigned char *der[2] = {c->der[0].data, c->der[1].data};
	size_t len[2] = {c->der[0].size, c->der[1].size};
	long i;
	for (i = 0; i < n; i++) {
		tlsguard_result *res = NULL;
		int rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, der, len, 2, &res);
		if (rc != 0 || tlsguard_result_verdict(res) != TLSGUARD_ACCEPT) {
			fprintf(stderr, "bench: tlsguard rejected the %s chain\n", c->label);
			return -1;
		}
		tlsguard_result_free(res);
	}
	return 0;
}

/* Like run_tlsguard, through a request that carries a peer address (the
 * consistency check compares addresses). */
static int run_tlsguard_addr(const tlsguard_ctx *ctx, struct chain *c, long n)
{
	tlsguard_request *req = NULL;
	long i;

	if (tlsguard_request_new(&req, "good.example.test", 17) != 0 || tlsguard_request_set_port(req, 443) != 0 ||
	    tlsguard_request_set_address(req, "192.0.2.10") != 0 ||
	    tlsguard_request_add_cert(req, c->der[0].data, c->der[0].size) != 0 ||
	    tlsguard_request_add_cert(req, c->der[1].data, c->der[1].size) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		tlsguard_result *res = NULL;
		int rc = tlsguard_verify(ctx, req, &res);
		if (rc != 0 || tlsguard_result_verdict(res) != TLSGUARD_ACCEPT) {
			fprintf(stderr, "bench: tlsguard with consistency checks rejected the %s chain (%s)\n", c->label,
			        tlsguard_strerror(rc));
			tlsguard_result_free(res);
			tlsguard_request_free(req);
			return -1;
		}
		tlsguard_result_free(res);
	}
	tlsguard_request_free(req);
	return 0;
}

/* The RSA chain with and without consistency checks, same run. */
static int bench_consistency(const char *dir, struct chain *c)
{
	const char *base = getenv("TG_BENCH_DIR") ? getenv("TG_BENCH_DIR") : "/tmp";
	static const char conf[] = "[default]\nconsistency = enforce\nprobe = off\n";
	char tmpl[4096], root[4096], store[4200], cmd[4300];
	tlsguard_ctx *plain = NULL, *cons = NULL;
	double best_plain = 1e9, best_cons = 1e9, t0, dt;
	long n = 2000;
	int r, rc = -1;

	snprintf(tmpl, sizeof(tmpl), "%s/tlsguard-bench-XXXXXX", base);
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "bench: cannot make a directory in %s\n", base);
		return -1;
	}
	snprintf(store, sizeof(store), "%s/store.db", tmpl);
	snprintf(root, sizeof(root), "%s/%s", dir, c->root);
	if (tlsguard_ctx_new(&plain, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 || tlsguard_ctx_add_ca(plain, root) != 0 ||
	    tlsguard_ctx_set_time(plain, 1780272000) != 0 || tlsguard_ctx_new(&cons, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 ||
	    tlsguard_ctx_add_ca(cons, root) != 0 || tlsguard_ctx_set_time(cons, 1780272000) != 0 ||
	    tlsguard_ctx_set_store(cons, store) != 0 || tlsguard_ctx_load_config_mem(cons, conf, strlen(conf), "bench") != 0) {
		fprintf(stderr, "bench: context with consistency checks: %s\n", cons ? tlsguard_ctx_last_error(cons) : "");
		goto out;
	}
	for (r = 0; r < ROUNDS; r++) {
		t0 = now_sec();
		if (run_tlsguard_addr(plain, c, n) < 0)
			goto out;
		dt = (now_sec() - t0) / (double)n;
		best_plain = dt < best_plain ? dt : best_plain;
		t0 = now_sec();
		if (run_tlsguard_addr(cons, c, n) < 0)
			goto out;
		dt = (now_sec() - t0) / (double)n;
		best_cons = dt < best_cons ? dt : best_cons;
	}
	printf("%-12s %14.0f %14.0f %14s %8.3f %+9.1f%%   <- consistency checks on (vs tlsguard without)\n",
	       "RSA+history", 1 / best_cons, 1 / best_plain, "-", best_cons / best_plain,
	       (best_cons / best_plain - 1) * 100);
	printf("%-12s   per verification: %.1f us with the history (store in %s), %.1f us without; %ld records\n", "",
	       best_cons * 1e6, base, best_plain * 1e6, n * ROUNDS);
	rc = 0;
out:
	tlsguard_ctx_free(plain);
	tlsguard_ctx_free(cons);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: cannot remove %s\n", tmpl);
	return rc;
}

static int run_gnutls(gnutls_x509_trust_list_t tl, struct chain *c, long n)
{
	gnutls_typed_vdata_st vd[2];
	long i;

	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)(uintptr_t) "good.example.test";
	vd[0].size = 0;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER;
	vd[1].size = 0;
	for (i = 0; i < n; i++) {
		gnutls_x509_crt_t crts[2];
		unsigned status = 0, k;
		for (k = 0; k < 2; k++)
			if (gnutls_x509_crt_init(&crts[k]) < 0 ||
			    gnutls_x509_crt_import(crts[k], &c->der[k], GNUTLS_X509_FMT_DER) < 0)
				return -1;
		if (gnutls_x509_trust_list_verify_crt2(tl, crts, 2, vd, 2, 0, &status, NULL) < 0 || status != 0) {
			fprintf(stderr, "bench: GnuTLS rejected the %s chain (status 0x%x)\n", c->label, status);
			return -1;
		}
		for (k = 0; k < 2; k++)
			gnutls_x509_crt_deinit(crts[k]);
	}
	return 0;
}

/* Decoding alone: the part both sides share. */
static int run_decode(struct chain *c, long n)
{
	long i;
	for (i = 0; i < n; i++) {
		gnutls_x509_crt_t crts[2];
		unsigned k;
		for (k = 0; k < 2; k++)
			if (gnutls_x509_crt_init(&crts[k]) < 0 ||
			    gnutls_x509_crt_import(crts[k], &c->der[k], GNUTLS_X509_FMT_DER) < 0)
				return -1;
		for (k = 0; k < 2; k++)
			gnutls_x509_crt_deinit(crts[k]);
	}
	return 0;
}

int main(void)
{
	const char *dir = getenv("TG_DATA") ? getenv("TG_DATA") : "tests/data";
	struct chain chains[2] = {
		{"RSA-2048", "good.der", "int-ca.der", "root-ca.pem", {{0}}},
		{"ECDSA P-256", "ec-good.der", "ec-int-ca.der", "ec-root-ca.pem", {{0}}},
	};
	size_t ci;
	int worst = 0;

	gnutls_global_init();
	printf("tlsguard %s benchmark: chain verification, leaf + intermediate + root anchor\n", tlsguard_version());
	printf("%-12s %14s %14s %14s %8s %10s\n", "chain", "tlsguard/s", "gnutls/s", "decode-only/s", "ratio",
	       "overhead");
	for (ci = 0; ci < 2; ci++) {
		struct chain *c = &chains[ci];
		char root[4096];
		tlsguard_ctx *ctx = NULL;
		gnutls_x509_trust_list_t tl;
		double best_tg = 1e9, best_gt = 1e9, best_dec = 1e9, t0, dt;
		long n = 16;
		int r;

		load(dir, c->leaf, &c->der[0]);
		load(dir, c->inter, &c->der[1]);
		snprintf(root, sizeof(root), "%s/%s", dir, c->root);
		if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 || tlsguard_ctx_add_ca(ctx, root) != 0 ||
		    tlsguard_ctx_set_time(ctx, 1780272000) != 0) {
			fprintf(stderr, "bench: context: %s\n", ctx ? tlsguard_ctx_last_error(ctx) : "no memory");
			return 2;
		}
		gnutls_x509_trust_list_init(&tl, 0);
		if (gnutls_x509_trust_list_add_trust_file(tl, root, NULL, GNUTLS_X509_FMT_PEM, 0, 0) <= 0)
			return 2;
		/* Calibrate n so one batch takes about TARGET_SEC. */
		for (;;) {
			t0 = now_sec();
			if (run_tlsguard(ctx, c, n) < 0)
				return 1;
			dt = now_sec() - t0;
			if (dt > TARGET_SEC / 4)
				break;
			n *= 4;
		}
		n = (long)((double)n * TARGET_SEC / dt) + 1;
		for (r = 0; r < ROUNDS; r++) {
			t0 = now_sec();
			if (run_gnutls(tl, c, n) < 0)
				return 1;
			dt = (now_sec() - t0) / (double)n;
			best_gt = dt < best_gt ? dt : best_gt;
			t0 = now_sec();
			if (run_tlsguard(ctx, c, n) < 0)
				return 1;
			dt = (now_sec() - t0) / (double)n;
			best_tg = dt < best_tg ? dt : best_tg;
			t0 = now_sec();
			if (run_decode(c, n) < 0)
				return 1;
			dt = (now_sec() - t0) / (double)n;
			best_dec = dt < best_dec ? dt : best_dec;
		}
		printf("%-12s %14.0f %14.0f %14.0f %8.3f %+9.1f%%\n", c->label, 1 / best_tg, 1 / best_gt, 1 / best_dec,
		       best_tg / best_gt, (best_tg / best_gt - 1) * 100);
		printf("%-12s   per verification: tlsguard %.1f us, gnutls %.1f us, of which DER decoding %.1f us\n", "",
		       best_tg * 1e6, best_gt * 1e6, best_dec * 1e6);
		if (best_tg / best_gt > 1.10)
			worst = 1;
		if (ci == 0 && bench_consistency(dir, c) < 0)
			return 1;
		tlsguard_ctx_free(ctx);
		gnutls_x509_trust_list_deinit(tl, 1);
		gnutls_free(c->der[0].data);
		gnutls_free(c->der[1].data);
	}
	printf("ratio = tlsguard time / GnuTLS time (1.000 = same cost); target overhead < 10%%%s\n",
	       worst ? " (NOT met)" : " (met)");
	gnutls_global_deinit();
	return 0;
}
