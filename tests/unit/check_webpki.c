/*
 * The web-PKI profile rules (check_webpki.c and the rules added to the
 * chain, validity, hostname, eku and crypto checks), each on certificates
 * built here with GnuTLS's X.509 writing API: a good root -> [intermediate
 * ->] leaf, then one field changed per test. Independent of the x509-limbo
 * data (tests/limbo.sh).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "testutil.h"
#include "tg.h"

#define NOW INT64_C(1780272000) /* 2026-06-01 */
#define HOST "www.example.test"

struct spec {
	int version;                 /* 0: 3 */
	const unsigned char *serial; /* NULL: 0x01 0x23 */
	size_t serial_len;
	int ca;                      /* -1: no basicConstraints; else cA */
	bool bc_noncritical;
	unsigned ku;                 /* 0: no keyUsage */
	const char *eku[3];          /* NULL-terminated; eku_none: no extension */
	bool eku_none, eku_critical;
	bool no_ski, no_aki;
	const char *cn;              /* NULL: none */
	const char *san[3];          /* DNS names */
	bool san_critical;
	const char *nc_excluded;     /* DNS subtree excluded */
	bool aia_critical;
	unsigned rsa_bits;           /* 0: ECDSA P-256 */
	int64_t not_after;           /* 0: 2030 */
};

static gnutls_x509_privkey_t keys[3];

static void keys_init(void)
{
	size_t i;
	for (i = 0; i < 3; i++) {
		if (keys[i] != NULL)
			continue;
		ck_assert_int_eq(gnutls_x509_privkey_init(&keys[i]), 0);
		ck_assert_int_eq(gnutls_x509_privkey_generate(keys[i], GNUTLS_PK_ECDSA,
		                                               GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		                 0);
	}
}

static struct spec ca_spec(const char *cn)
{
	struct spec s;
	memset(&s, 0, sizeof(s));
	s.ca = 1;
	s.ku = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	s.eku_none = true;
	s.cn = cn;
	return s;
}

static struct spec leaf_spec(void)
{
	struct spec s;
	memset(&s, 0, sizeof(s));
	s.ca = 0;
	s.ku = GNUTLS_KEY_DIGITAL_SIGNATURE;
	s.eku[0] = GNUTLS_KP_TLS_WWW_SERVER;
	s.cn = HOST;
	s.san[0] = HOST;
	return s;
}

/* Build a certificate for @s with key @key, issued by @issuer/@ikey (NULL:
 * self-signed). */
static gnutls_x509_crt_t build(const struct spec *s, gnutls_x509_privkey_t key, gnutls_x509_crt_t issuer,
                               gnutls_x509_privkey_t ikey)
{
	static const unsigned char def_serial[] = {0x01, 0x23};
	gnutls_x509_crt_t c;
	gnutls_x509_privkey_t rsa = NULL;
	unsigned char id[64];
	size_t idlen = sizeof(id), i;

	ck_assert_int_eq(gnutls_x509_crt_init(&c), 0);
	if (s->rsa_bits) {
		ck_assert_int_eq(gnutls_x509_privkey_init(&rsa), 0);
		ck_assert_int_eq(gnutls_x509_privkey_generate(rsa, GNUTLS_PK_RSA, s->rsa_bits, 0), 0);
		key = rsa;
	}
	ck_assert_int_eq(gnutls_x509_crt_set_version(c, s->version ? (unsigned)s->version : 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(c, s->serial ? s->serial : def_serial,
	                                            s->serial ? s->serial_len : sizeof(def_serial)),
	                 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(c, (time_t)(NOW - 86400 * 30)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(c, (time_t)(s->not_after ? s->not_after : NOW + 86400 * 1400)),
	                 0);
	if (s->cn)
		ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, s->cn, strlen(s->cn)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(c, key), 0);
	if (s->version == 0 || s->version == 3) {
		if (s->ca >= 0) {
			if (s->bc_noncritical) {
				/* BasicConstraints { cA TRUE }, not critical */
				static const unsigned char bc[] = {0x30, 0x03, 0x01, 0x01, 0xff};
				ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "2.5.29.19", bc, sizeof(bc), 0), 0);
			} else {
				ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(c, (unsigned)s->ca, -1), 0);
			}
		}
		if (s->ku)
			ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c, s->ku), 0);
		for (i = 0; !s->eku_none && s->eku[i] != NULL; i++)
			ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(c, s->eku[i], s->eku_critical), 0);
		for (i = 0; s->san[i] != NULL; i++)
			ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, s->san[i],
			                                                      (unsigned)strlen(s->san[i]), GNUTLS_FSAN_APPEND),
			                 0);
		if (s->san_critical) {
			/* Rewrite the SAN extension as critical. */
			gnutls_datum_t d;
			ck_assert_int_eq(gnutls_x509_crt_get_extension_by_oid2(c, "2.5.29.17", 0, &d, NULL), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "2.5.29.17", d.data, d.size, 1), 0);
			gnutls_free(d.data);
		}
		if (!s->no_ski) {
			ck_assert_int_eq(gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA1, id, &idlen), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_subject_key_id(c, id, idlen), 0);
		}
		if (!s->no_aki && issuer != NULL) {
			idlen = sizeof(id);
			ck_assert_int_eq(gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, NULL), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_authority_key_id(c, id, idlen), 0);
		}
		if (s->nc_excluded) {
			gnutls_x509_name_constraints_t nc;
			gnutls_datum_t n = {(unsigned char *)(uintptr_t)s->nc_excluded, (unsigned)strlen(s->nc_excluded)};
			ck_assert_int_eq(gnutls_x509_name_constraints_init(&nc), 0);
			ck_assert_int_eq(gnutls_x509_name_constraints_add_excluded(nc, GNUTLS_SAN_DNSNAME, &n), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_name_constraints(c, nc, 1), 0);
			gnutls_x509_name_constraints_deinit(nc);
		}
		if (s->aia_critical) {
			/* AIA { caIssuers URI "http://ca.example.test/i" } */
			static const unsigned char aia[] = {0x30, 0x24, 0x30, 0x22, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
			                                    0x05, 0x07, 0x30, 0x02, 0x86, 0x16, 'h',  't',  't',  'p',
			                                    ':',  '/',  '/',  'c',  'a',  '.',  'e',  'x',  'a',  'm',
			                                    'p',  'l',  'e',  '.',  't',  '/',  'i',  'x'};
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "1.3.6.1.5.5.7.1.1", aia, sizeof(aia), 1), 0);
		}
	}
	ck_assert_int_ge(gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer ? ikey : key, GNUTLS_DIG_SHA256, 0), 0);
	if (rsa != NULL)
		gnutls_x509_privkey_deinit(rsa);
	return c;
}

/* Evaluate root -> [int ->] leaf for @host with optional @config; the
 * result is returned (caller frees). */
static tlsguard_result *evaluate(const struct spec *root_s, const struct spec *int_s, const struct spec *leaf_s,
                                 const char *host, const char *config)
{
	gnutls_x509_crt_t root, mid = NULL, leaf;
	gnutls_datum_t pem, der;
	tlsguard_ctx *ctx;
	tlsguard_request *req;
	tlsguard_result *res = NULL;
	char *dir = tmpdir_new();
	const char *path;
	char *text;

	keys_init();
	root = build(root_s, keys[0], NULL, NULL);
	if (int_s != NULL)
		mid = build(int_s, keys[1], root, keys[0]);
	leaf = build(leaf_s, keys[2], mid ? mid : root, mid ? keys[1] : keys[0]);

	ck_assert_int_eq(gnutls_x509_crt_export2(root, GNUTLS_X509_FMT_PEM, &pem), 0);
	text = strndup((const char *)pem.data, pem.size);
	path = tmpdir_write(dir, "root.pem", text);
	free(text);
	gnutls_free(pem.data);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, path), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, NOW), 0);
	if (config != NULL)
		ck_assert_msg(tlsguard_ctx_load_config_mem(ctx, config, strlen(config), "t.conf") == 0, "%s",
		              tlsguard_ctx_last_error(ctx));
	ck_assert_int_eq(tlsguard_request_new(&req, host, strlen(host)), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_DER, &der), 0);
	ck_assert_int_eq(tlsguard_request_add_cert(req, der.data, der.size), 0);
	gnutls_free(der.data);
	if (mid != NULL) {
		ck_assert_int_eq(gnutls_x509_crt_export2(mid, GNUTLS_X509_FMT_DER, &der), 0);
		ck_assert_int_eq(tlsguard_request_add_cert(req, der.data, der.size), 0);
		gnutls_free(der.data);
	}
	ck_assert_int_eq(tlsguard_verify(ctx, req, &res), 0);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
	gnutls_x509_crt_deinit(root);
	if (mid)
		gnutls_x509_crt_deinit(mid);
	gnutls_x509_crt_deinit(leaf);
	return res;
}

static void dump(const tlsguard_result *res)
{
	size_t i;
	for (i = 0; i < tlsguard_result_event_count(res); i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		fprintf(stderr, "  event %s (%s) cert %d: %s\n", tlsguard_event_name(ev), tlsguard_code_key(tlsguard_event_code(ev)),
		        tlsguard_event_cert_index(ev), tlsguard_event_detail(ev));
	}
}

/* The result rejects and has a fatal @code event about @cert_index, with
 * the plain-language message naming the host; then it is freed. */
static void expect(tlsguard_result *res, int code, int cert_index)
{
	size_t i;
	bool found = false;

	for (i = 0; i < tlsguard_result_event_count(res); i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		if (tlsguard_event_code(ev) == code && tlsguard_event_cert_index(ev) == cert_index &&
		    tlsguard_event_severity(ev) == TLSGUARD_SEV_FATAL) {
			found = true;
			ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), tlsguard_result_host(res)));
			ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), "Do not sign in"));
			ck_assert_str_ne(tlsguard_event_detail(ev), "");
		}
	}
	if (!found)
		dump(res);
	ck_assert_msg(found, "no fatal %s event about certificate %d", tlsguard_code_key(code), cert_index);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
}

static void expect_accept(tlsguard_result *res)
{
	if (tlsguard_result_verdict(res) != TLSGUARD_ACCEPT)
		dump(res);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
}

START_TEST(test_good_chain)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	expect_accept(evaluate(&r, NULL, &l, HOST, NULL));
	expect_accept(evaluate(&r, &i, &l, HOST, NULL));
	expect_accept(evaluate(&r, &i, &l, HOST, "max-chain-depth = 1\n"));
}
END_TEST

START_TEST(test_chain_too_deep)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	expect(evaluate(&r, &i, &l, HOST, "max-chain-depth = 0\n"), TLSGUARD_EV_CHAIN_TOO_DEEP, 1);
}
END_TEST

START_TEST(test_v1_leaf)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.version = 1;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_OLD_CERT_VERSION, 0);
}
END_TEST

START_TEST(test_serial_negative)
{
	/* GnuTLS's writer refuses a zero serial; a negative one it writes. */
	static const unsigned char zero[] = {0x80, 0x01};
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.serial = zero;
	l.serial_len = 2;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_SERIAL, 0);
}
END_TEST

START_TEST(test_leaf_is_ca)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.ca = 1;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_BASIC_CONSTRAINTS, 0);
}
END_TEST

START_TEST(test_root_bc_noncritical)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	r.bc_noncritical = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_BASIC_CONSTRAINTS, -1);
}
END_TEST

START_TEST(test_leaf_keycertsign)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.ku |= GNUTLS_KEY_KEY_CERT_SIGN;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_USAGE, 0);
}
END_TEST

START_TEST(test_leaf_missing_aki)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.no_aki = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_IDENTIFIER, 0);
}
END_TEST

START_TEST(test_intermediate_missing_ski)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	i.no_ski = true;
	l.no_aki = false;
	/* The leaf's AKI is copied from the issuer's SKI: give it one anyway
	 * by building with a SKI-less intermediate and no AKI check on it. */
	l.no_aki = true;
	expect(evaluate(&r, &i, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_IDENTIFIER, 1);
}
END_TEST

START_TEST(test_critical_san_with_subject)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.san_critical = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_NAMES, 0);
}
END_TEST

START_TEST(test_cn_not_in_san)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.cn = "WWW.example.test";
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_NAMES, 0);
}
END_TEST

START_TEST(test_bad_dns_san)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.san[1] = "under_score.example.test";
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_NAMES, 0);
}
END_TEST

START_TEST(test_critical_aia)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.aia_critical = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_EXTENSION, 0);
}
END_TEST

START_TEST(test_nc_wildcard_over_excluded)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	i.nc_excluded = "bar.example.test";
	l.cn = "*.example.test";
	l.san[0] = "*.example.test";
	expect(evaluate(&r, &i, &l, HOST, NULL), TLSGUARD_EV_NAME_CONSTRAINTS, 1);
}
END_TEST

START_TEST(test_public_suffix_wildcard)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.cn = "*.co.uk";
	l.san[0] = "*.co.uk";
	expect(evaluate(&r, NULL, &l, "shop.co.uk", NULL), TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD, 0);
	/* A private-section suffix: allowed by default, as in browsers... */
	l.cn = "*.github.io";
	l.san[0] = "*.github.io";
	expect_accept(evaluate(&r, NULL, &l, "someone.github.io", NULL));
	/* ...refused with wildcard-public-suffix = all. */
	expect(evaluate(&r, NULL, &l, "someone.github.io", "wildcard-public-suffix = all\n"),
	       TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD, 0);
	ck_assert_int_eq(tg_public_suffix("co.uk", false), 1);
	ck_assert_int_eq(tg_public_suffix("example.co.uk", false), 0);
}
END_TEST

START_TEST(test_eku_rules)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.eku_none = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_USAGE, 0);
	l = leaf_spec();
	l.eku[1] = "2.5.29.37.0";
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_USAGE, 0);
	l = leaf_spec();
	l.eku_critical = true;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_USAGE, 0);
	l = leaf_spec();
	r.eku_none = false;
	r.eku[0] = GNUTLS_KP_TLS_WWW_SERVER;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_USAGE, -1);
}
END_TEST

START_TEST(test_rsa_odd_size)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.rsa_bits = 2052;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_WEAK_CRYPTO, 0);
}
END_TEST

START_TEST(test_anchor_expired)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	r.not_after = NOW - 86400;
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_EXPIRED, -1);
}
END_TEST

START_TEST(test_codes_named)
{
	int code;
	for (code = TLSGUARD_EV_BAD_BASIC_CONSTRAINTS; code <= TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD; code++) {
		const char *key = tlsguard_code_key(code);
		ck_assert_ptr_nonnull(key);
		ck_assert_int_eq(tg_code_from_key(key, strlen(key)), code);
		ck_assert_str_ne(tlsguard_code_name(code), "UNKNOWN");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("webpki");
	TCase *tc = tcase_create("rules");
	int rc;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good_chain);
	tcase_add_test(tc, test_chain_too_deep);
	tcase_add_test(tc, test_v1_leaf);
	tcase_add_test(tc, test_serial_negative);
	tcase_add_test(tc, test_leaf_is_ca);
	tcase_add_test(tc, test_root_bc_noncritical);
	tcase_add_test(tc, test_leaf_keycertsign);
	tcase_add_test(tc, test_leaf_missing_aki);
	tcase_add_test(tc, test_intermediate_missing_ski);
	tcase_add_test(tc, test_critical_san_with_subject);
	tcase_add_test(tc, test_cn_not_in_san);
	tcase_add_test(tc, test_bad_dns_san);
	tcase_add_test(tc, test_critical_aia);
	tcase_add_test(tc, test_nc_wildcard_over_excluded);
	tcase_add_test(tc, test_public_suffix_wildcard);
	tcase_add_test(tc, test_eku_rules);
	tcase_add_test(tc, test_rsa_odd_size);
	tcase_add_test(tc, test_anchor_expired);
	tcase_add_test(tc, test_codes_named);
	suite_add_tcase(s, tc);
	rc = test_run(s);
	for (size_t i = 0; i < 3; i++)
		if (keys[i] != NULL)
			gnutls_x509_privkey_deinit(keys[i]);
	return rc;
}
