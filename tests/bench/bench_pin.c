/*
 * make bench: what host pinning costs.
 *
 * 1. Policy lookup (tg_policy_for_host, the internal function every
 *    evaluation calls first) in a context with N = 10, 1,000 and 100,000
 *    pinned hosts: a third exact sections, a third with include-subdomains,
 *    a third wildcard sections. Hits for an exact host, a subdomain of an
 *    include-subdomains host and a name under a wildcard, and misses. The
 *    host index makes a lookup a few hash probes per label, so the cost
 *    should not depend on N: the 100,000 / 10 ratio should be about 1.
 *    Measured twice: one name looked up again and again (the probe count
 *    alone: the table stays in the CPU cache), and rotating over 1,024
 *    names spread over the table (a large table then also pays cache
 *    misses, as a busy client with many hosts would). Names have the same
 *    length for every N, so hashing costs the same.
 * 2. The time to load a generated config text with those hosts
 *    (tlsguard_ctx_load_config_mem), and to add them one by one with
 *    tlsguard_ctx_add_pin_set.
 * 3. A whole verification (tlsguard_verify_der_chain, RSA-2048 leaf +
 *    intermediate, root anchor) without pins, with good.example.test
 *    pinned, and pinned among 100,000 pinned hosts: the ratio to the
 *    unpinned run is the pin check's own cost, most of it the SHA-256 of
 *    the leaf's SubjectPublicKeyInfo (tg_spki_sha256), timed alone too.
 * Medians of several interleaved rounds of thread CPU time. A benchmark,
 * not a test: it never fails on timing (only on a wrong lookup or verdict).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <tlsguard/tlsguard.h>

#include "tg.h"

#define ROUNDS 11
#define LOAD_ROUNDS 5
#define TARGET_SEC 0.02 /* per lookup batch */
#define VERIFY_SEC 0.05 /* per verification batch */
#define MAXQ 1024
#define TEST_TIME INT64_C(1780272000)

enum { K_EXACT, K_SUB, K_WILD, K_MISS, NKINDS };
static const char *const kind_name[NKINDS] = {"exact", "subdomain", "wildcard", "miss"};
static const size_t sizes[] = {10, 1000, 100000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Two arbitrary pins for the generated hosts (two, so that no section
 * draws the "no backup pin" warning). */
static char pin_a[100], pin_b[100];

/* CPU time of this (only) thread: other processes on a busy machine do
 * not count. */
static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, const tlsguard_ctx *ctx)
{
	fprintf(stderr, "bench_pin: %s: %s\n", what, ctx ? tlsguard_ctx_last_error(ctx) : "out of memory");
	exit(2);
}

/* Host i of a table: kind i % 3. Fixed-width numbers: every name of a kind
 * has the same length, whatever N. */
static void section_name(size_t i, char *buf, size_t len)
{
	switch (i % 3) {
	case 0: snprintf(buf, len, "e%06zu.pinned.test", i); break;
	case 1: snprintf(buf, len, "s%06zu.pinned.test", i); break;
	default: snprintf(buf, len, "*.w%06zu.pinned.test", i); break;
	}
}

/* A name that kind @k finds (or, K_MISS, does not find) in a table built
 * from host i (i % 3 == k for hits). */
static void query_name(int k, size_t i, char *buf, size_t len)
{
	switch (k) {
	case K_EXACT: snprintf(buf, len, "e%06zu.pinned.test", i); break;
	case K_SUB: snprintf(buf, len, "www.s%06zu.pinned.test", i); break;
	case K_WILD: snprintf(buf, len, "www.w%06zu.pinned.test", i); break;
	default: snprintf(buf, len, "www.m%06zu.unpinned.test", i); break;
	}
}

/* The config text for @n hosts, plus good.example.test with @good_pins
 * (NULL: none). Caller frees. */
static char *config_text(size_t n, const char *good_pins, size_t *len)
{
	size_t cap = n * 256 + 512, used = 0, i; /* a host takes under 170 bytes */
	char *t = malloc(cap), name[64];

	if (t == NULL)
		die("config text", NULL);
	for (i = 0; i < n && used < cap; i++) {
		section_name(i, name, sizeof(name));
		used += (size_t)snprintf(t + used, cap - used, "[%s]\npin = %s\npin = %s\n%s", name, pin_a, pin_b,
		                         i % 3 == 1 ? "include-subdomains = yes\n" : "");
	}
	if (good_pins && used < cap)
		used += (size_t)snprintf(t + used, cap - used, "[good.example.test]\npin = %s\n", good_pins);
	if (used >= cap)
		die("config text too long", NULL);
	*len = used;
	return t;
}

static tlsguard_ctx *ctx_from_text(const char *text, size_t len, double *secs)
{
	tlsguard_ctx *ctx = NULL;
	double t0;

	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		die("context", NULL);
	t0 = now_sec();
	if (tlsguard_ctx_load_config_mem(ctx, text, len, "generated.conf") != 0)
		die("load generated config", ctx);
	*secs = now_sec() - t0;
	if (tlsguard_ctx_warning_count(ctx) != 0)
		die(tlsguard_ctx_warning(ctx, 0), NULL);
	return ctx;
}

static tlsguard_ctx *ctx_from_api(size_t n, double *secs)
{
	tlsguard_ctx *ctx = NULL;
	char name[64], pins[210];
	size_t i;
	double t0;

	snprintf(pins, sizeof(pins), "%s, %s", pin_a, pin_b);
	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		die("context", NULL);
	t0 = now_sec();
	for (i = 0; i < n; i++) {
		section_name(i, name, sizeof(name));
		if (tlsguard_ctx_add_pin_set(ctx, name, pins, i % 3 == 1 ? TLSGUARD_PIN_INCLUDE_SUBDOMAINS : 0, 0) != 0)
			die("tlsguard_ctx_add_pin_set", ctx);
	}
	*secs = now_sec() - t0;
	return ctx;
}

/* MAXQ query names per kind over a table of @n hosts, spread over the
 * table (a small table's hosts repeat). */
struct queries {
	char name[NKINDS][MAXQ][64];
};

static void queries_make(struct queries *q, size_t n)
{
	int k;
	for (k = 0; k < NKINDS; k++) {
		size_t have = n / 3 + (n % 3 > (size_t)k), j;
		for (j = 0; j < MAXQ; j++) {
			/* host number j * have / MAXQ (or j % have) of kind k */
			size_t m = have >= MAXQ ? j * have / MAXQ : j % have;
			query_name(k, k == K_MISS ? j : m * 3 + (size_t)k, q->name[k][j], sizeof(q->name[k][j]));
		}
	}
}

/* Correctness first: every hit finds its two pins, every miss none. */
static void queries_check(const struct tg_config *cfg, const struct queries *q)
{
	struct tg_policy pol;
	int k;
	size_t j;

	for (k = 0; k < NKINDS; k++)
		for (j = 0; j < MAXQ; j++) {
			tg_policy_for_host(cfg, q->name[k][j], &pol);
			if (pol.npins != (k == K_MISS ? 0u : 2u)) {
				fprintf(stderr, "bench_pin: lookup of %s found %zu pins\n", q->name[k][j], pol.npins);
				exit(1);
			}
		}
}

static volatile size_t sink;

/* @rotate: cycle over the MAXQ names; else look up the first again and again. */
static double time_lookups(const struct tg_config *cfg, const struct queries *q, int k, int rotate, long iters)
{
	struct tg_policy pol;
	size_t j = 0, acc = 0, mask = rotate ? MAXQ - 1 : 0;
	long i;
	double t0 = now_sec();

	for (i = 0; i < iters; i++) {
		tg_policy_for_host(cfg, q->name[k][j], &pol);
		acc += pol.npins;
		j = (j + 1) & mask;
	}
	sink = acc;
	return (now_sec() - t0) / (double)iters;
}

/* ---- whole verifications ---- */

struct chain {
	gnutls_datum_t der[2];
};

static void load(const char *dir, const char *name, gnutls_datum_t *d)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gnutls_load_file(path, d) < 0) {
		fprintf(stderr, "bench_pin: cannot read %s (make tests/data/stamp)\n", path);
		exit(2);
	}
}

static double time_verify(const tlsguard_ctx *ctx, const struct chain *c, long n)
{
	const unsigned char *der[2] = {c->der[0].data, c->der[1].data};
	size_t len[2] = {c->der[0].size, c->der[1].size};
	double t0 = now_sec();
	long i;

	for (i = 0; i < n; i++) {
		tlsguard_result *res = NULL;
		if (tlsguard_verify_der_chain(ctx, "good.example.test", 443, der, len, 2, &res) != 0 ||
		    tlsguard_result_verdict(res) != TLSGUARD_ACCEPT) {
			fprintf(stderr, "bench_pin: the good chain was rejected\n");
			exit(1);
		}
		tlsguard_result_free(res);
	}
	return (now_sec() - t0) / (double)n;
}

static void verify_ready(tlsguard_ctx *ctx, const char *root)
{
	if (tlsguard_ctx_add_ca(ctx, root) != 0 || tlsguard_ctx_set_time(ctx, TEST_TIME) != 0)
		die("verification context", ctx);
}

static void pin_text(const gnutls_datum_t *der, char out[100])
{
	unsigned char pin[32];
	if (tlsguard_pin_from_cert(der->data, der->size, pin) != 0 ||
	    tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_SHA256, out, 100) != 0) {
		fprintf(stderr, "bench_pin: cannot compute a pin\n");
		exit(2);
	}
}

/* Median ns per call of tg_spki_sha256 on @der (the pin check's hash). */
static double time_spki(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	unsigned char out[TG_PIN_LEN];
	double t[ROUNDS], t0;
	long n = 2048, i;
	int r;

	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		exit(2);
	for (r = 0; r < ROUNDS; r++) {
		t0 = now_sec();
		for (i = 0; i < n; i++)
			if (tg_spki_sha256(crt, out) != 0)
				exit(1);
		t[r] = (now_sec() - t0) / (double)n;
	}
	gnutls_x509_crt_deinit(crt);
	return median(t, ROUNDS);
}

static void lookup_table(const char *title, double med[NSIZES][NKINDS])
{
	size_t si;
	int k;

	printf("%s\n%-14s", title, "pinned hosts");
	for (k = 0; k < NKINDS; k++)
		printf(" %11s", kind_name[k]);
	printf("\n");
	for (si = 0; si < NSIZES; si++) {
		printf("%-14zu", sizes[si]);
		for (k = 0; k < NKINDS; k++)
			printf(" %11.1f", med[si][k] * 1e9);
		printf("\n");
	}
	printf("%-14s", "100000 / 10");
	for (k = 0; k < NKINDS; k++)
		printf(" %10.2fx", med[NSIZES - 1][k] / med[0][k]);
	printf("\n");
}

int main(void)
{
	const char *dir = getenv("TG_DATA") ? getenv("TG_DATA") : "tests/data";
	tlsguard_ctx *ctxs[NSIZES];
	static struct queries q[NSIZES];
	static double lookup[2][NSIZES][NKINDS][ROUNDS];
	double med[2][NSIZES][NKINDS], load_text[NSIZES][LOAD_ROUNDS], load_api[LOAD_ROUNDS];
	unsigned char raw[32];
	char good_pins[210], leaf_pin[100], int_pin[100], root[4096];
	struct chain c;
	size_t si, len;
	long iters;
	int k, r, rot;

	gnutls_global_init();
	memset(raw, 0xa5, sizeof(raw));
	if (tlsguard_pin_format(raw, TLSGUARD_PIN_SYNTAX_SHA256, pin_a, sizeof(pin_a)) != 0)
		return 2;
	raw[0] = 0x5a;
	if (tlsguard_pin_format(raw, TLSGUARD_PIN_SYNTAX_SHA256, pin_b, sizeof(pin_b)) != 0)
		return 2;
	printf("tlsguard %s benchmark: host pinning\n", tlsguard_version());

	/* Config load times (the lookups below use the last context of each size). */
	for (si = 0; si < NSIZES; si++) {
		char *text = config_text(sizes[si], NULL, &len);
		ctxs[si] = NULL;
		for (r = 0; r < LOAD_ROUNDS; r++) {
			tlsguard_ctx_free(ctxs[si]);
			ctxs[si] = ctx_from_text(text, len, &load_text[si][r]);
		}
		free(text);
		if (ctxs[si]->cfg.n_hosts != sizes[si]) {
			fprintf(stderr, "bench_pin: %zu hosts loaded, not %zu\n", ctxs[si]->cfg.n_hosts, sizes[si]);
			return 1;
		}
		queries_make(&q[si], sizes[si]);
		queries_check(&ctxs[si]->cfg, &q[si]);
	}
	for (r = 0; r < LOAD_ROUNDS; r++) {
		tlsguard_ctx *api = ctx_from_api(sizes[NSIZES - 1], &load_api[r]);
		/* The API builds the same table as the text. */
		queries_check(&api->cfg, &q[NSIZES - 1]);
		tlsguard_ctx_free(api);
	}

	/* Lookups: calibrate on the smallest table, then rounds that
	 * interleave every size, kind and mode. */
	for (iters = 1024;; iters *= 2)
		if (time_lookups(&ctxs[0]->cfg, &q[0], K_MISS, 1, iters) * (double)iters > TARGET_SEC / 4)
			break;
	iters *= 4;
	for (r = 0; r < ROUNDS; r++)
		for (rot = 0; rot < 2; rot++)
			for (si = 0; si < NSIZES; si++)
				for (k = 0; k < NKINDS; k++)
					lookup[rot][si][k][r] = time_lookups(&ctxs[si]->cfg, &q[si], k, rot, iters);
	for (rot = 0; rot < 2; rot++)
		for (si = 0; si < NSIZES; si++)
			for (k = 0; k < NKINDS; k++)
				med[rot][si][k] = median(lookup[rot][si][k], ROUNDS);

	printf("\npolicy lookup (tg_policy_for_host): ns per lookup, median of %d rounds of %ld lookups\n", ROUNDS,
	       iters);
	printf("exact: e.pinned.test in [e.pinned.test]; subdomain: www.s.pinned.test under [s.pinned.test]\n"
	       "with include-subdomains; wildcard: www.w.pinned.test under [*.w.pinned.test]; miss: www.m.unpinned.test\n");
	lookup_table("\none name, looked up again and again (probe count only; the table stays in cache):", med[0]);
	lookup_table("\nrotating over 1024 names spread over the table (adds the cache misses of a large table):",
	             med[1]);
	printf("100000 / 10: about 1 = the lookup cost does not grow with the number of pinned hosts\n"
	       "(a linear search would be 10000x)\n");

	printf("\nconfig load (tlsguard_ctx_load_config_mem of a generated text, two pins per host), median of %d:\n",
	       LOAD_ROUNDS);
	printf("%-14s %12s %12s\n", "pinned hosts", "ms", "us per host");
	for (si = 0; si < NSIZES; si++) {
		double lt = median(load_text[si], LOAD_ROUNDS);
		printf("%-14zu %12.2f %12.2f\n", sizes[si], lt * 1e3, lt * 1e6 / (double)sizes[si]);
	}
	printf("100000 hosts added with tlsguard_ctx_add_pin_set: %.1f ms\n", median(load_api, LOAD_ROUNDS) * 1e3);
	for (si = 0; si < NSIZES; si++)
		tlsguard_ctx_free(ctxs[si]);

	/* Whole verifications. */
	{
		tlsguard_ctx *plain = NULL, *pinned = NULL, *big;
		double t_plain[ROUNDS], t_pinned[ROUNDS], t_big[ROUNDS], secs, mp, mq, mb, spki;
		char *text;
		long n;

		load(dir, "good.der", &c.der[0]);
		load(dir, "int-ca.der", &c.der[1]);
		snprintf(root, sizeof(root), "%s/root-ca.pem", dir);
		pin_text(&c.der[0], leaf_pin);
		pin_text(&c.der[1], int_pin);
		snprintf(good_pins, sizeof(good_pins), "%s, %s", leaf_pin, int_pin);
		if (tlsguard_ctx_new(&plain, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 ||
		    tlsguard_ctx_new(&pinned, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
			die("context", NULL);
		verify_ready(plain, root);
		verify_ready(pinned, root);
		if (tlsguard_ctx_add_pin_set(pinned, "good.example.test", good_pins, 0, 0) != 0)
			die("pin set", pinned);
		text = config_text(sizes[NSIZES - 1], good_pins, &len);
		big = ctx_from_text(text, len, &secs);
		free(text);
		verify_ready(big, root);

		for (n = 16;; n *= 2)
			if (time_verify(plain, &c, n) * (double)n > VERIFY_SEC / 4)
				break;
		n *= 4;
		for (r = 0; r < ROUNDS; r++) {
			t_plain[r] = time_verify(plain, &c, n);
			t_pinned[r] = time_verify(pinned, &c, n);
			t_big[r] = time_verify(big, &c, n);
		}
		mp = median(t_plain, ROUNDS);
		mq = median(t_pinned, ROUNDS);
		mb = median(t_big, ROUNDS);
		spki = time_spki(&c.der[0]);
		printf("\nwhole verification (tlsguard_verify_der_chain, RSA-2048 leaf + intermediate, root anchor),\n"
		       "median of %d rounds of %ld:\n",
		       ROUNDS, n);
		printf("%-36s %10s %8s\n", "", "us", "ratio");
		printf("%-36s %10.1f %8.3f\n", "unpinned", mp * 1e6, 1.0);
		printf("%-36s %10.1f %8.3f\n", "pinned (leaf + int-ca pins)", mq * 1e6, mq / mp);
		printf("%-36s %10.1f %8.3f\n", "pinned, among 100000 pinned hosts", mb * 1e6, mb / mp);
		printf("pin check: %+.1f us per verification (%+.1f%%); SHA-256 of the leaf SPKI alone "
		       "(tg_spki_sha256): %.1f us\n",
		       (mq - mp) * 1e6, (mq / mp - 1) * 100, spki * 1e6);
		tlsguard_ctx_free(plain);
		tlsguard_ctx_free(pinned);
		tlsguard_ctx_free(big);
		gnutls_free(c.der[0].data);
		gnutls_free(c.der[1].data);
	}
	gnutls_global_deinit();
	return 0;
}
