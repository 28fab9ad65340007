/*
 * Fuzz target "sct": the Certificate Transparency SCT code of lib/sct.c.
 *
 * 1. The whole input is a TLS SignedCertificateTimestampList for
 *    tg_sct_list_parse(); every v1 SCT it yields is verified with
 *    tg_sct_verify() against two fixed signed-data sets built once from
 *    embedded google/certificate-transparency test data: the x509 entry of
 *    test-cert.pem and the precert entry of test-embedded-cert.pem (issuer
 *    ca-cert.pem), with the ECDSA test log key.
 * 2. An input starting with 0x30 is also tried as a DER certificate: its SCT
 *    extension (tg_sct_list_from_cert, then the parser as in 1), its precert
 *    entry with ca-cert.pem as issuer (tg_sct_signed_precert: the TBS
 *    surgery) and its x509 entry, each verified with the two known SCTs and
 *    with the certificate's own SCTs.
 *
 * Invariants (abort() when violated):
 * - the parser returns 0, TLSGUARD_E_INVALID or TLSGUARD_E_RANGE; a message
 *   on failure (with n = 0), none on success; n + skipped <= max; every
 *   pointer it returns lies inside the input; signatures are never empty;
 *   an accepted list without unknown-version SCTs re-serialises to exactly
 *   the input (one encoding per list); the same list with one slot too few
 *   is TLSGUARD_E_RANGE;
 * - tg_sct_verify() returns 0, TLSGUARD_E_VERIFY or TLSGUARD_E_INVALID, and
 *   0 only for one of the two known-good (SCT, entry) pairs: same entry
 *   type, entry bytes, issuer key hash, timestamp, extensions, algorithms
 *   and signature bytes (the log id is not signed and may differ);
 * - tg_sct_list_from_cert() returns 1 with a non-empty list, 0 with none, or
 *   an error with a message; tg_sct_signed_precert() succeeds only with a
 *   DER SEQUENCE of exactly entry_len bytes that is shorter than the input,
 *   fails with a message and no entry otherwise.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tg.h"
#include "tg_ct.h"
#include "fuzz.h"

/* google/certificate-transparency test/testdata @ 8103ff60 */
static const char test_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICyjCCAjOgAwIBAgIBBjANBgkqhkiG9w0BAQUFADBVMQswCQYDVQQGEwJHQjEk\n"
	"MCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4wDAYDVQQIEwVX\n"
	"YWxlczEQMA4GA1UEBxMHRXJ3IFdlbjAeFw0xMjA2MDEwMDAwMDBaFw0yMjA2MDEw\n"
	"MDAwMDBaMFIxCzAJBgNVBAYTAkdCMSEwHwYDVQQKExhDZXJ0aWZpY2F0ZSBUcmFu\n"
	"c3BhcmVuY3kxDjAMBgNVBAgTBVdhbGVzMRAwDgYDVQQHEwdFcncgV2VuMIGfMA0G\n"
	"CSqGSIb3DQEBAQUAA4GNADCBiQKBgQCx+jeTYRH4eS2iCBw/5BklAIUx3H8sZXvZ\n"
	"4d5HBBYLTJ8Z1UraRHBATBxRNBuPH3U43d0o2aykg2n8VkbdzHYX+BaKrltB1DMx\n"
	"/KLa38gE1XIIlJBh+e75AspHzojGROAA8G7uzKvcndL2iiLMsJ3Hbg28c1J3ZbGj\n"
	"eoxnYlPcwQIDAQABo4GsMIGpMB0GA1UdDgQWBBRqDZgqO2LES20u9Om7egGqnLeY\n"
	"4jB9BgNVHSMEdjB0gBRfnYgNyHPmVNT4DdjmsMEktEfDVaFZpFcwVTELMAkGA1UE\n"
	"BhMCR0IxJDAiBgNVBAoTG0NlcnRpZmljYXRlIFRyYW5zcGFyZW5jeSBDQTEOMAwG\n"
	"A1UECBMFV2FsZXMxEDAOBgNVBAcTB0VydyBXZW6CAQAwCQYDVR0TBAIwADANBgkq\n"
	"hkiG9w0BAQUFAAOBgQAXHNhKrEFKmgMPIqrI9oiwgbJwm4SLTlURQGzXB/7QKFl6\n"
	"n678Lu4peNYzqqwU7TI1GX2ofg9xuIdfGsnniygXSd3t0Afj7PUGRfjL9mclbNah\n"
	"ZHteEyA7uFgt59Zpb2VtHGC5X0Vrf88zhXGQjxxpcn0kxPzNJJKVeVgU0drA5g==\n"
	"-----END CERTIFICATE-----\n";

static const char test_embedded_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDWTCCAsKgAwIBAgIBBzANBgkqhkiG9w0BAQUFADBVMQswCQYDVQQGEwJHQjEk\n"
	"MCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4wDAYDVQQIEwVX\n"
	"YWxlczEQMA4GA1UEBxMHRXJ3IFdlbjAeFw0xMjA2MDEwMDAwMDBaFw0yMjA2MDEw\n"
	"MDAwMDBaMFIxCzAJBgNVBAYTAkdCMSEwHwYDVQQKExhDZXJ0aWZpY2F0ZSBUcmFu\n"
	"c3BhcmVuY3kxDjAMBgNVBAgTBVdhbGVzMRAwDgYDVQQHEwdFcncgV2VuMIGfMA0G\n"
	"CSqGSIb3DQEBAQUAA4GNADCBiQKBgQC+75jnwmh3rjhfdTJaDB0ym+3xj6r015a/\n"
	"BH634c4VyVui+A7kWL19uG+KSyUhkaeb1wDDjpwDibRc1NyaEgqyHgy0HNDnKAWk\n"
	"EM2cW9tdSSdyba8XEPYBhzd+olsaHjnu0LiBGdwVTcaPfajjDK8VijPmyVCfSgWw\n"
	"FAn/Xdh+tQIDAQABo4IBOjCCATYwHQYDVR0OBBYEFCAxVBryXAX/2GWLaEN5T16Q\n"
	"Nve0MH0GA1UdIwR2MHSAFF+diA3Ic+ZU1PgN2OawwSS0R8NVoVmkVzBVMQswCQYD\n"
	"VQQGEwJHQjEkMCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4w\n"
	"DAYDVQQIEwVXYWxlczEQMA4GA1UEBxMHRXJ3IFdlboIBADAJBgNVHRMEAjAAMIGK\n"
	"BgorBgEEAdZ5AgQCBHwEegB4AHYA3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4L\n"
	"vT9012QAAAE92yffkwAABAMARzBFAiBIL2dRrzXbplQ2vh/WZA89v5pBQpSVkkUw\n"
	"KI+j5eI+BgIhAOTtwNs6xXKx4vXoq2poBlOYfc9BAn3+/6EFUZ2J7b8IMA0GCSqG\n"
	"SIb3DQEBBQUAA4GBAIoMS+8JnUeSea+goo5on5HhxEIb4tJpoupspOghXd7dyhUE\n"
	"oR58h8S3foDw6XkDUmjyfKIOFmgErlVvMWmB+Wo5Srer/T4lWsAERRP+dlcMZ5Wr\n"
	"5HAxM9MD+J86+mu8/FFzGd/ZW5NCQSEfY0A1w9B4MHpoxgdaLiDInza4kQyg\n"
	"-----END CERTIFICATE-----\n";

static const char ca_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIC0DCCAjmgAwIBAgIBADANBgkqhkiG9w0BAQUFADBVMQswCQYDVQQGEwJHQjEk\n"
	"MCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4wDAYDVQQIEwVX\n"
	"YWxlczEQMA4GA1UEBxMHRXJ3IFdlbjAeFw0xMjA2MDEwMDAwMDBaFw0yMjA2MDEw\n"
	"MDAwMDBaMFUxCzAJBgNVBAYTAkdCMSQwIgYDVQQKExtDZXJ0aWZpY2F0ZSBUcmFu\n"
	"c3BhcmVuY3kgQ0ExDjAMBgNVBAgTBVdhbGVzMRAwDgYDVQQHEwdFcncgV2VuMIGf\n"
	"MA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDVimhTYhCicRmTbneDIRgcKkATxtB7\n"
	"jHbrkVfT0PtLO1FuzsvRyY2RxS90P6tjXVUJnNE6uvMa5UFEJFGnTHgW8iQ8+EjP\n"
	"KDHM5nugSlojgZ88ujfmJNnDvbKZuDnd/iYx0ss6hPx7srXFL8/BT/9Ab1zURmnL\n"
	"svfP34b7arnRsQIDAQABo4GvMIGsMB0GA1UdDgQWBBRfnYgNyHPmVNT4DdjmsMEk\n"
	"tEfDVTB9BgNVHSMEdjB0gBRfnYgNyHPmVNT4DdjmsMEktEfDVaFZpFcwVTELMAkG\n"
	"A1UEBhMCR0IxJDAiBgNVBAoTG0NlcnRpZmljYXRlIFRyYW5zcGFyZW5jeSBDQTEO\n"
	"MAwGA1UECBMFV2FsZXMxEDAOBgNVBAcTB0VydyBXZW6CAQAwDAYDVR0TBAUwAwEB\n"
	"/zANBgkqhkiG9w0BAQUFAAOBgQAGCMxKbWTyIF4UbASydvkrDvqUpdryOvw4BmBt\n"
	"OZDQoeojPUApV2lGOwRmYef6HReZFSCa6i4Kd1F2QRIn18ADB8dHDmFYT9czQiRy\n"
	"f1HWkLxHqd81TbD26yWVXeGJPE3VICskovPkQNJ0tU4b03YmnKliibduyqQQkOFP\n"
	"OwqULg==\n"
	"-----END CERTIFICATE-----\n";

/* test-cert.sctlist: the x509-entry SCT of test-cert.pem */
static const unsigned char test_sctlist[] = {
	0x00, 0x78, 0x00, 0x76, 0x00, 0xdf, 0x1c, 0x2e, 0xc1, 0x15, 0x00, 0x94, 0x52, 0x47, 0xa9, 0x61, 0x68,
	0x32, 0x5d, 0xdc, 0x5c, 0x79, 0x59, 0xe8, 0xf7, 0xc6, 0xd3, 0x88, 0xfc, 0x00, 0x2e, 0x0b, 0xbd, 0x3f,
	0x74, 0xd7, 0x64, 0x00, 0x00, 0x01, 0x3d, 0xdb, 0x27, 0xde, 0xd9, 0x00, 0x00, 0x04, 0x03, 0x00, 0x47,
	0x30, 0x45, 0x02, 0x20, 0x60, 0x6e, 0x10, 0xae, 0x5c, 0x2d, 0x5a, 0x1b, 0x0a, 0xed, 0x49, 0xdc, 0x49,
	0x37, 0xf4, 0x8d, 0xe7, 0x1a, 0x4e, 0x97, 0x84, 0xe9, 0xc2, 0x08, 0xdf, 0xbf, 0xe9, 0xef, 0x53, 0x6c,
	0xf7, 0xf2, 0x02, 0x21, 0x00, 0xbe, 0xb2, 0x9c, 0x72, 0xd7, 0xd0, 0x6d, 0x61, 0xd0, 0x6b, 0xdb, 0x38,
	0xa0, 0x69, 0x46, 0x9a, 0xa8, 0x6f, 0xe1, 0x2e, 0x18, 0xbb, 0x7c, 0xc4, 0x56, 0x89, 0xa2, 0xc0, 0x18,
	0x7e, 0xf5, 0xa5,
};

/* ct-server-key-public.pem, the ECDSA test log */
static const char test_log_key_b64[] = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmXg8sUUzwBYaWrRb+V0IopzQ6o3U"
                                       "yEJ04r5ZrRXGdpYM8K+hB0pXrGRLI0eeWz+3skXrS0IO83AhA3GpRL6s6w==";

/* Fixed state, built on the first call and never changed afterwards. */
static struct {
	int ready;
	gnutls_pubkey_t key;
	gnutls_x509_crt_t ca;
	struct tg_sct_signed sd_x509, sd_pre;
	unsigned char *pre_list; /* owns the bytes sct_pre points into */
	struct tg_sct sct_x509, sct_pre;
} K;

static gnutls_x509_crt_t pem_crt(const char *pem)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem)};
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
		abort();
	return crt;
}

static void setup(void)
{
	gnutls_datum_t b64 = {(unsigned char *)(uintptr_t)test_log_key_b64, (unsigned)strlen(test_log_key_b64)};
	gnutls_datum_t der = {NULL, 0};
	gnutls_x509_crt_t leaf, emb;
	size_t n, len;

	if (K.ready)
		return;
	if (gnutls_base64_decode2(&b64, &der) < 0 || gnutls_pubkey_init(&K.key) < 0 ||
	    gnutls_pubkey_import(K.key, &der, GNUTLS_X509_FMT_DER) < 0)
		abort();
	gnutls_free(der.data);
	K.ca = pem_crt(ca_cert_pem);
	leaf = pem_crt(test_cert_pem);
	emb = pem_crt(test_embedded_cert_pem);
	if (tg_sct_signed_x509(leaf, &K.sd_x509, NULL, 0) != 0 ||
	    tg_sct_list_parse(test_sctlist, sizeof(test_sctlist), &K.sct_x509, 1, &n, NULL, NULL, 0) != 0 || n != 1 ||
	    tg_sct_verify(&K.sct_x509, &K.sd_x509, K.key) != 0)
		abort();
	if (tg_sct_signed_precert(emb, K.ca, &K.sd_pre, NULL, 0) != 0 ||
	    tg_sct_list_from_cert(emb, &K.pre_list, &len, NULL, 0) != 1 ||
	    tg_sct_list_parse(K.pre_list, len, &K.sct_pre, 1, &n, NULL, NULL, 0) != 0 || n != 1 ||
	    tg_sct_verify(&K.sct_pre, &K.sd_pre, K.key) != 0)
		abort();
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(emb);
	K.ready = 1;
}

static int same_sd(const struct tg_sct_signed *a, const struct tg_sct_signed *b)
{
	return a->entry_type == b->entry_type && a->entry_len == b->entry_len &&
	       memcmp(a->entry, b->entry, a->entry_len) == 0 &&
	       (a->entry_type == 0 || memcmp(a->issuer_key_hash, b->issuer_key_hash, 32) == 0);
}

static int same_sct(const struct tg_sct *a, const struct tg_sct *b)
{
	return a->timestamp == b->timestamp && a->ext_len == b->ext_len &&
	       (a->ext_len == 0 || memcmp(a->ext, b->ext, a->ext_len) == 0) && a->hash_alg == b->hash_alg &&
	       a->sig_alg == b->sig_alg && a->sig_len == b->sig_len && memcmp(a->sig, b->sig, a->sig_len) == 0;
}

/* Verify @s against @sd: 0 only for a known-good pair. */
static void verify_one(const struct tg_sct *s, const struct tg_sct_signed *sd)
{
	int rc = tg_sct_verify(s, sd, K.key);
	if (rc != 0 && rc != TLSGUARD_E_VERIFY && rc != TLSGUARD_E_INVALID)
		abort();
	if (rc == 0 && !((same_sd(sd, &K.sd_x509) && same_sct(s, &K.sct_x509)) ||
	                 (same_sd(sd, &K.sd_pre) && same_sct(s, &K.sct_pre))))
		abort();
}

static int inside(const unsigned char *p, size_t len, const uint8_t *data, size_t size)
{
	return p >= data && len <= size && (size_t)(p - data) <= size - len;
}

/* Parse @data as an SCT list, check the parser's invariants, and verify
 * what it yields against the fixed entries and @extra (may be NULL). */
static void list_case(const uint8_t *data, size_t size, const struct tg_sct_signed *extra)
{
	struct tg_sct s[TG_CT_MAX_SCTS];
	size_t n = 99, skipped = 99, i, n2;
	char err[256];
	int rc;

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	rc = tg_sct_list_parse(data, size, s, TG_CT_MAX_SCTS, &n, &skipped, err, sizeof(err));
	if (rc != 0 && rc != TLSGUARD_E_INVALID && rc != TLSGUARD_E_RANGE)
		abort();
	if (rc != 0) {
		if (err[0] == '\0' || strlen(err) >= sizeof(err) || n != 0)
			abort();
		return;
	}
	if (err[0] != '\0' || n + skipped == 0 || n + skipped > TG_CT_MAX_SCTS)
		abort();
	for (i = 0; i < n; i++) {
		if (s[i].sig_len == 0 || !inside(s[i].sig, s[i].sig_len, data, size) ||
		    (s[i].ext_len > 0 && !inside(s[i].ext, s[i].ext_len, data, size)))
			abort();
	}
	/* one slot too few */
	if (tg_sct_list_parse(data, size, s, n + skipped - 1, &n2, NULL, err, sizeof(err)) != TLSGUARD_E_RANGE)
		abort();
	if (skipped == 0) {
		/* re-serialise: the input is the only encoding of what was parsed */
		unsigned char *b = malloc(size), *w = b;
		size_t k;
		if (b == NULL)
			return;
		*w++ = (unsigned char)((size - 2) >> 8);
		*w++ = (unsigned char)(size - 2);
		for (i = 0; i < n; i++) {
			size_t l = 1 + 32 + 8 + 2 + s[i].ext_len + 2 + 2 + s[i].sig_len;
			if ((size_t)(w - b) + 2 + l > size)
				abort();
			*w++ = (unsigned char)(l >> 8);
			*w++ = (unsigned char)l;
			*w++ = 0;
			memcpy(w, s[i].log_id, 32);
			w += 32;
			for (k = 0; k < 8; k++)
				*w++ = (unsigned char)(s[i].timestamp >> (56 - 8 * k));
			*w++ = (unsigned char)(s[i].ext_len >> 8);
			*w++ = (unsigned char)s[i].ext_len;
			if (s[i].ext_len > 0)
				memcpy(w, s[i].ext, s[i].ext_len);
			w += s[i].ext_len;
			*w++ = s[i].hash_alg;
			*w++ = s[i].sig_alg;
			*w++ = (unsigned char)(s[i].sig_len >> 8);
			*w++ = (unsigned char)s[i].sig_len;
			memcpy(w, s[i].sig, s[i].sig_len);
			w += s[i].sig_len;
		}
		if ((size_t)(w - b) != size || memcmp(b, data, size) != 0)
			abort();
		free(b);
	}
	for (i = 0; i < n; i++) {
		verify_one(&s[i], &K.sd_x509);
		verify_one(&s[i], &K.sd_pre);
		if (extra != NULL)
			verify_one(&s[i], extra);
	}
}

static void cert_case(const uint8_t *data, size_t size)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)data, (unsigned)size};
	struct tg_sct_signed pre, x509;
	unsigned char *list = NULL;
	size_t len = 0;
	char err[256];
	int rc, have_pre = 0, have_x509 = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return;
	}

	err[0] = '\0';
	rc = tg_sct_signed_precert(crt, K.ca, &pre, err, sizeof(err));
	if (rc == 0) {
		/* a DER SEQUENCE of exactly entry_len bytes, shorter than the input */
		size_t hl, cl = 0, k;
		if (pre.entry == NULL || pre.entry_len < 2 || pre.entry_len >= size || pre.entry[0] != 0x30 ||
		    pre.entry_type != 1)
			abort();
		if (pre.entry[1] < 0x80) {
			hl = 2;
			cl = pre.entry[1];
		} else {
			size_t nb = pre.entry[1] & 0x7fu;
			if (nb == 0 || nb > 3 || pre.entry_len < 2 + nb)
				abort();
			for (k = 0; k < nb; k++)
				cl = cl << 8 | pre.entry[2 + k];
			hl = 2 + nb;
		}
		if (hl + cl != pre.entry_len)
			abort();
		have_pre = 1;
	} else if (rc != TLSGUARD_E_INVALID && rc != TLSGUARD_E_CERT_PARSE && rc != TLSGUARD_E_NOMEM) {
		abort();
	} else if (err[0] == '\0' || pre.entry != NULL) {
		abort();
	}
	if (tg_sct_signed_x509(crt, &x509, NULL, 0) == 0)
		have_x509 = 1;

	if (have_pre) {
		verify_one(&K.sct_pre, &pre);
		verify_one(&K.sct_x509, &pre);
	}
	if (have_x509) {
		verify_one(&K.sct_x509, &x509);
		verify_one(&K.sct_pre, &x509);
	}

	err[0] = '\0';
	rc = tg_sct_list_from_cert(crt, &list, &len, err, sizeof(err));
	if (rc == 1) {
		if (list == NULL || len == 0)
			abort();
		list_case(list, len, have_pre ? &pre : NULL);
		gnutls_free(list);
	} else if (rc == 0) {
		if (list != NULL || len != 0)
			abort();
	} else if ((rc != TLSGUARD_E_INVALID && rc != TLSGUARD_E_CERT_PARSE && rc != TLSGUARD_E_NOMEM) ||
	           err[0] == '\0' || list != NULL) {
		abort();
	}

	if (have_pre)
		tg_sct_signed_free(&pre);
	if (have_x509)
		tg_sct_signed_free(&x509);
	gnutls_x509_crt_deinit(crt);
}

TG_FUZZ_TARGET(sct)
{
	setup();
	list_case(data, size, NULL);
	if (size > 0 && data[0] == 0x30)
		cert_case(data, size);
	return 0;
}
