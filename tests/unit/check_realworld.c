/* Real chains of major sites (../shared/testdata/ct/real-world) against the
 * system trust store, at times inside and outside their validity. Skips
 * when the shared data is absent, except under CI=true where that fails. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "testutil.h"

static char base[4096];

/* Load leaf + issuer PEM files of a real-world directory. */
static void load_pair(struct test_chain *c, const char *dir, const char *leaf, const char *issuer)
{
	const char *files[2] = {leaf, issuer};
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 2; i++) {
		char path[4200];
		gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
		gnutls_x509_crt_t crt;
		snprintf(path, sizeof(path), "%s/%s/%s", base, dir, files[i]);
		ck_assert_msg(gnutls_load_file(path, &pem) == 0, "cannot read %s", path);
		ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
		ck_assert_int_eq(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), 0);
		ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
		c->der[i] = malloc(der.size);
		memcpy(c->der[i], der.data, der.size);
		c->len[i] = der.size;
		c->n++;
		gnutls_free(der.data);
		gnutls_free(pem.data);
		gnutls_x509_crt_deinit(crt);
	}
}

struct rw_case {
	const char *dir, *leaf, *issuer, *host;
	int64_t at;
	unsigned flags;
	int verdict;
	int code; /* expected single event, 0 = none */
};

static const struct rw_case cases[] = {
	/* 2026-03-01, 2026-04-01, 2025-10-01, 2022-01-01 */
	{"aws.amazon.com-2025", "leaf.pem", "issuer.pem", "aws.amazon.com", 1772323200, 0, TLSGUARD_ACCEPT, 0},
	{"letsencrypt.org-2026", "leaf.pem", "issuer.pem", "letsencrypt.org", 1775001600, 0, TLSGUARD_ACCEPT, 0},
	{"cloudflare-sni-2025", "leaf.pem", "issuer-we1-gtsr4.pem", "26d54cff.sni.cloudflaressl.com", 1759276800, 0,
	 TLSGUARD_ACCEPT, 0},
	{"revoked.badssl.com-2021", "leaf.pem", "issuer.pem", "revoked.badssl.com", 1641038400, 0, TLSGUARD_ACCEPT, 0},
	/* Out of validity (2026-11-28): expired and nothing else. */
	{"aws.amazon.com-2025", "leaf.pem", "issuer.pem", "aws.amazon.com", 1795824000, 0, TLSGUARD_REJECT,
	 TLSGUARD_EV_EXPIRED},
	/* A genuine certificate used for another name. */
	{"letsencrypt.org-2026", "leaf.pem", "issuer.pem", "bank.example.com", 1775001600, 0, TLSGUARD_REJECT,
	 TLSGUARD_EV_HOSTNAME_MISMATCH},
	/* Without the system store nothing vouches for it. */
	{"aws.amazon.com-2025", "leaf.pem", "issuer.pem", "aws.amazon.com", 1772323200, TLSGUARD_CTX_NO_SYSTEM_CA,
	 TLSGUARD_REJECT, TLSGUARD_EV_UNTRUSTED_ISSUER},
};

START_TEST(real_chain)
{
	const struct rw_case *rc_ = &cases[_i];
	struct test_chain c;
	tlsguard_ctx *ctx = NULL;
	tlsguard_result *res = NULL;
	int rc;

	load_pair(&c, rc_->dir, rc_->leaf, rc_->issuer);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, rc_->flags), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, rc_->at), 0);
	rc = tlsguard_verify_der_chain(ctx, rc_->host, 443, (const unsigned char *const *)c.der, c.len, c.n, &res);
	ck_assert_int_eq(rc, 0);
	if (rc_->code == 0) {
		ck_assert_msg(tlsguard_result_event_count(res) == 0, "%s: unexpected event %s: %s", rc_->dir,
		              tlsguard_event_name(tlsguard_result_event(res, 0)),
		              tlsguard_event_detail(tlsguard_result_event(res, 0)));
	} else {
		ck_assert_uint_eq(tlsguard_result_event_count(res), 1);
		ck_assert_int_eq(tlsguard_event_code(tlsguard_result_event(res, 0)), rc_->code);
	}
	ck_assert_int_eq(tlsguard_result_verdict(res), rc_->verdict);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	chain_free(&c);
}
END_TEST

int main(void)
{
	const char *shared = getenv("TG_SHARED");
	struct stat st;
	Suite *s;
	TCase *tc;

	snprintf(base, sizeof(base), "%s/testdata/ct/real-world", shared ? shared : "../shared");
	if (stat(base, &st) != 0) {
		const char *ci = getenv("CI");
		if (ci != NULL && strcmp(ci, "true") == 0) {
			fprintf(stderr, "check_realworld: %s is missing, and CI=true requires it\n", base);
			return EXIT_FAILURE;
		}
		printf("check_realworld: SKIP: shared test data not found at %s\n", base);
		return 77;
	}
	s = suite_create("realworld");
	tc = tcase_create("system-trust");
	tcase_add_loop_test(tc, real_chain, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	return test_run(s);
}
