/*
 * make bench: verifications per second of tlsguard's chain evaluation on a
 * realistic three-certificate chain (leaf + intermediate presented, root as
 * trust anchor), RSA-2048 and ECDSA P-256, against raw GnuTLS
 * gnutls_x509_trust_list_verify_crt2() on the same chain in the same run.
 * Both sides start from DER bytes (tlsguard must decode what it is given),
 * and GnuTLS is asked for the host name and server purpose too, so the two
 * do comparable work. Runs alternate, best of several rounds is kept.
 * This is a benchmark, not a test: it never fails on timing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
