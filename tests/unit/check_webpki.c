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
	bool has_pathlen;            /* with pathlen below */
	int pathlen;
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
	bool dup_ext;                /* one private extension twice */
	bool pc;                     /* policyConstraints { requireExplicitPolicy 0 } */
	bool pc_noncritical;
	int root_aki;                /* ROOT_AKI_*: a self-signed certificate's own AKI */
	bool nc_othername;           /* nameConstraints permitting an otherName only */
};

/* Self-signed certificates' authorityKeyIdentifier (CA/B Forum BR
 * 7.1.2.1.3: keyIdentifier only, equal to the subjectKeyIdentifier). */
enum { ROOT_AKI_NONE = 0, ROOT_AKI_SKI, ROOT_AKI_OTHER_ID, ROOT_AKI_ISSUER_SERIAL };

/* keys[0..2]: root, intermediate, leaf of evaluate(); the rest for the
 * path-building tests' extra certificates. */
#define NKEYS 5
static gnutls_x509_privkey_t keys[NKEYS];

static void keys_init(void)
{
	size_t i;
	for (i = 0; i < NKEYS; i++) {
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
				ck_assert_int_eq(
				    gnutls_x509_crt_set_basic_constraints(c, (unsigned)s->ca, s->has_pathlen ? s->pathlen : -1), 0);
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
		if (s->pc) {
			static const unsigned char pc[] = {0x30, 0x03, 0x80, 0x01, 0x00};
			ck_assert_int_eq(
			    gnutls_x509_crt_set_extension_by_oid(c, "2.5.29.36", pc, sizeof(pc), s->pc_noncritical ? 0 : 1), 0);
		}
		if (s->root_aki != ROOT_AKI_NONE) {
			/* AuthorityKeyIdentifier { [0] keyIdentifier (20 octets)
			 * [, [1] { directoryName CN=R }, [2] serial 1] } */
			unsigned char aki[64] = {0x30, 0x16, 0x80, 0x14};
			static const unsigned char issuer_serial[] = {0xa1, 0x11, 0xa4, 0x0f, 0x30, 0x0d, 0x31, 0x0b, 0x30,
			                                              0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, 'R',
			                                              ' ',  0x82, 0x01, 0x01};
			size_t alen = 24;
			idlen = sizeof(id);
			ck_assert_int_eq(gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA1, id, &idlen), 0);
			ck_assert_uint_eq(idlen, 20);
			memcpy(aki + 4, id, 20);
			if (s->root_aki == ROOT_AKI_OTHER_ID)
				aki[4] ^= 0xff;
			if (s->root_aki == ROOT_AKI_ISSUER_SERIAL) {
				memcpy(aki + alen, issuer_serial, sizeof(issuer_serial));
				alen += sizeof(issuer_serial);
				aki[1] = (unsigned char)(alen - 2);
			}
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "2.5.29.35", aki, alen, 0), 0);
		}
		if (s->nc_othername) {
			/* NameConstraints { permittedSubtrees { { otherName {
			 * 1.2.3.4, [0] UTF8String "abc" } } } } */
			static const unsigned char nc[] = {0x30, 0x12, 0xa0, 0x10, 0x30, 0x0e, 0xa0, 0x0c, 0x06, 0x03, 0x2a,
			                                   0x03, 0x04, 0xa0, 0x05, 0x0c, 0x03, 'a',  'b',  'c'};
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "2.5.29.30", nc, sizeof(nc), 1), 0);
		}
		if (s->dup_ext) {
			/* GnuTLS's writer replaces an extension set twice: write
			 * two private ones whose OIDs differ in the last octet;
			 * test_duplicate_extension makes them equal in the DER. */
			static const unsigned char null[] = {0x05, 0x00};
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "1.3.6.1.4.1.55651.1", null, 2, 0), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(c, "1.3.6.1.4.1.55651.2", null, 2, 0), 0);
		}
	}
	ck_assert_int_ge(gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer ? ikey : key, GNUTLS_DIG_SHA256, 0), 0);
	if (rsa != NULL)
		gnutls_x509_privkey_deinit(rsa);
	return c;
}

/* Verify the presented @chain (leaf first, any order after it) against
 * the trust anchor @root for @host, with optional @config. */
static tlsguard_result *verify_chain(gnutls_x509_crt_t root, gnutls_x509_crt_t *chain, size_t n, const char *host,
                                     const char *config)
{
	gnutls_datum_t pem, der;
	tlsguard_ctx *ctx;
	tlsguard_request *req;
	tlsguard_result *res = NULL;
	char *dir = tmpdir_new(), *text;
	const char *path;
	size_t i;

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
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(gnutls_x509_crt_export2(chain[i], GNUTLS_X509_FMT_DER, &der), 0);
		ck_assert_int_eq(tlsguard_request_add_cert(req, der.data, der.size), 0);
		gnutls_free(der.data);
	}
	ck_assert_int_eq(tlsguard_verify(ctx, req, &res), 0);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
	return res;
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

/* The result rejects with no fatal event but of @code (any certificate). */
static void expect_only(tlsguard_result *res, int code)
{
	size_t i, n = 0;

	for (i = 0; i < tlsguard_result_event_count(res); i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		if (tlsguard_event_severity(ev) != TLSGUARD_SEV_FATAL)
			continue;
		if (tlsguard_event_code(ev) != code)
			dump(res);
		ck_assert_str_eq(tlsguard_code_key(tlsguard_event_code(ev)), tlsguard_code_key(code));
		n++;
	}
	ck_assert_uint_gt(n, 0);
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
	/* Names match whatever their case: so must the list (libpsl compares
	 * bytes, and its list is lower case). */
	l.cn = "*.CO.UK";
	l.san[0] = "*.CO.UK";
	expect(evaluate(&r, NULL, &l, "shop.co.uk", NULL), TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD, 0);
	l.cn = "*.Co.Uk";
	l.san[0] = "*.Co.Uk";
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

/* RFC 5280 4.2: at most one instance of an extension. GnuTLS 3.7.9
 * refuses to decode such a certificate (GNUTLS_E_X509_DUPLICATE_EXTENSION),
 * so it is refused as malformed before the webpki rule (kept for a GnuTLS
 * that decodes it) is reached. */
START_TEST(test_duplicate_extension)
{
	static const unsigned char oid2[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x63, 0x02};
	struct spec rs = ca_spec("Test Root"), ls = leaf_spec();
	gnutls_x509_crt_t root, leaf;
	gnutls_datum_t der, pem;
	unsigned char *hit = NULL, *p;
	tlsguard_ctx *ctx;
	tlsguard_request *req;
	tlsguard_result *res = NULL;
	char *dir = tmpdir_new(), *text;
	const char *path;

	keys_init();
	ls.dup_ext = true;
	root = build(&rs, keys[0], NULL, NULL);
	leaf = build(&ls, keys[2], root, keys[0]);
	ck_assert_int_eq(gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_DER, &der), 0);
	for (p = der.data; p + sizeof(oid2) <= der.data + der.size; p++)
		if (memcmp(p, oid2, sizeof(oid2)) == 0)
			hit = p;
	ck_assert_ptr_nonnull(hit);
	hit[sizeof(oid2) - 1] = 0x01; /* now 1.3.6.1.4.1.55651.1 twice */

	ck_assert_int_eq(gnutls_x509_crt_export2(root, GNUTLS_X509_FMT_PEM, &pem), 0);
	text = strndup((const char *)pem.data, pem.size);
	path = tmpdir_write(dir, "root.pem", text);
	free(text);
	gnutls_free(pem.data);
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, path), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, NOW), 0);
	ck_assert_int_eq(tlsguard_request_new(&req, HOST, strlen(HOST)), 0);
	ck_assert_int_eq(tlsguard_request_add_cert(req, der.data, der.size), 0);
	/* A refused chain is an error return with a result that says why. */
	ck_assert_int_ne(tlsguard_verify(ctx, req, &res), 0);
	ck_assert_ptr_nonnull(res);
	expect(res, TLSGUARD_EV_MALFORMED_CHAIN, 0);
	gnutls_free(der.data);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(leaf);
}
END_TEST

START_TEST(test_policy_constraints_noncritical)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	i.pc = true;
	i.pc_noncritical = true;
	expect(evaluate(&r, &i, &l, HOST, NULL), TLSGUARD_EV_BAD_EXTENSION, 1);
}
END_TEST

START_TEST(test_leaf_name_constraints)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	l.nc_excluded = "other.example.test";
	expect(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_EXTENSION, 0);
}
END_TEST

/* A name type GnuTLS does not implement in name constraints (otherName):
 * refused as GnuTLS refuses it, without handing the extension to GnuTLS's
 * parser (which leaks on it; this test runs under ASan too). */
START_TEST(test_nc_othername)
{
	struct spec r = ca_spec("Test Root"), i = ca_spec("Test Int"), l = leaf_spec();
	i.nc_othername = true;
	expect(evaluate(&r, &i, &l, HOST, NULL), TLSGUARD_EV_NAME_CONSTRAINTS, 1);
}
END_TEST

START_TEST(test_root_aki_form)
{
	struct spec r = ca_spec("Test Root"), l = leaf_spec();
	/* keyIdentifier equal to the subjectKeyIdentifier: the allowed form. */
	r.root_aki = ROOT_AKI_SKI;
	expect_accept(evaluate(&r, NULL, &l, HOST, NULL));
	r.root_aki = ROOT_AKI_OTHER_ID;
	expect_only(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_IDENTIFIER);
	r.root_aki = ROOT_AKI_ISSUER_SERIAL;
	expect_only(evaluate(&r, NULL, &l, HOST, NULL), TLSGUARD_EV_BAD_KEY_IDENTIFIER);
}
END_TEST

/* Two paths from one leaf: leaf -> B1 -> A -> root, where A's name
 * constraints exclude bar.example.test and the leaf is *.example.test
 * (allowed by GnuTLS, refused by tlsguard's rule), and leaf -> B2 -> root
 * with B1 and B2 the same intermediate (name and key) issued by A and by
 * the root. B1 is presented first, so its path is found first; the second
 * must be found and accepted. Without B2, the first path's failure is what
 * the evaluation reports. */
START_TEST(test_path_nc_fallback)
{
	struct spec rs = ca_spec("Test Root"), as = ca_spec("Test A"), bs = ca_spec("Test B"), ls = leaf_spec();
	gnutls_x509_crt_t root, a, b1, b2, leaf, chain[4];

	keys_init();
	as.nc_excluded = "bar.example.test";
	ls.cn = "*.example.test";
	ls.san[0] = "*.example.test";
	root = build(&rs, keys[0], NULL, NULL);
	a = build(&as, keys[1], root, keys[0]);
	b1 = build(&bs, keys[3], a, keys[1]);
	b2 = build(&bs, keys[3], root, keys[0]);
	leaf = build(&ls, keys[2], b1, keys[3]);
	chain[0] = leaf;
	chain[1] = b1;
	chain[2] = a;
	chain[3] = b2;
	expect_accept(verify_chain(root, chain, 4, HOST, NULL));
	expect(verify_chain(root, chain, 3, HOST, NULL), TLSGUARD_EV_NAME_CONSTRAINTS, 2);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(a);
	gnutls_x509_crt_deinit(b1);
	gnutls_x509_crt_deinit(b2);
	gnutls_x509_crt_deinit(leaf);
}
END_TEST

/* A self-issued intermediate (key rollover): root -> I -> I' -> leaf, I'
 * with I's name and a new key, signed by I's key. GnuTLS's own chain
 * verification stops at I'; the path is verified link by link. */
START_TEST(test_self_issued_intermediate)
{
	struct spec rs = ca_spec("Test Root"), is = ca_spec("Test Int"), js = ca_spec("Test J"), ls = leaf_spec();
	gnutls_x509_crt_t root, i, i2, bad, j, leaf, leaf2, chain[4];

	keys_init();
	is.has_pathlen = true;
	is.pathlen = 0;
	root = build(&rs, keys[0], NULL, NULL);
	i = build(&is, keys[1], root, keys[0]);
	i2 = build(&is, keys[3], i, keys[1]);
	leaf = build(&ls, keys[2], i2, keys[3]);
	ck_assert(tg_crt_self_issued(i2));
	chain[0] = leaf;
	chain[1] = i2;
	chain[2] = i;
	/* pathLenConstraint 0 on I: I' is self-issued, so it does not count
	 * (RFC 5280 6.1.4 (l)), nor for max-chain-depth. */
	expect_accept(verify_chain(root, chain, 3, HOST, NULL));
	expect_accept(verify_chain(root, chain, 3, HOST, "max-chain-depth = 1\n"));
	expect(verify_chain(root, chain, 3, HOST, "max-chain-depth = 0\n"), TLSGUARD_EV_CHAIN_TOO_DEEP, 2);
	/* ...but a real CA below I' does: root -> I (pathlen 0) -> I' -> J. */
	j = build(&js, keys[4], i2, keys[3]);
	leaf2 = build(&ls, keys[2], j, keys[4]);
	chain[0] = leaf2;
	chain[1] = j;
	chain[2] = i2;
	chain[3] = i;
	expect_only(verify_chain(root, chain, 4, HOST, NULL), TLSGUARD_EV_INVALID_CHAIN);
	/* I' not signed by I's key: no path. */
	bad = build(&is, keys[3], i, keys[4]);
	chain[0] = leaf;
	chain[1] = bad;
	chain[2] = i;
	expect_only(verify_chain(root, chain, 3, HOST, NULL), TLSGUARD_EV_INVALID_CHAIN);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(i);
	gnutls_x509_crt_deinit(i2);
	gnutls_x509_crt_deinit(bad);
	gnutls_x509_crt_deinit(j);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(leaf2);
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
	tcase_add_test(tc, test_duplicate_extension);
	tcase_add_test(tc, test_policy_constraints_noncritical);
	tcase_add_test(tc, test_leaf_name_constraints);
	tcase_add_test(tc, test_nc_othername);
	tcase_add_test(tc, test_root_aki_form);
	tcase_add_test(tc, test_path_nc_fallback);
	tcase_add_test(tc, test_self_issued_intermediate);
	tcase_add_test(tc, test_codes_named);
	suite_add_tcase(s, tc);
	rc = test_run(s);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i] != NULL)
			gnutls_x509_privkey_deinit(keys[i]);
	return rc;
}
