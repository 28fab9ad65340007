/*
 * SCTs (lib/sct.c): the TLS list parser, the X.509 extension, the signed
 * data (x509 and precert entries, TBS reconstruction) and the signature
 * check.
 *
 * Two parts:
 * - "parse" and "verify" need nothing but this file: the list, certificate
 *   and key of google/certificate-transparency test/testdata (test-cert.pem,
 *   test-cert.sctlist, ct-server-key-public.pem) are embedded below;
 * - "readme" runs every SCT case of ../shared/testdata/ct/README.md sections
 *   1-3 with the status given there. Without that directory those are not
 *   run and the program exits 77 (skip) after the rest passed, except under
 *   CI=true, where missing shared data is a failure.
 *
 * Statuses: README "VALID" is tg_sct_verify() == 0, "INVALID" is
 * TLSGUARD_E_VERIFY (README's INVALID for an SCT from the future is a
 * policy decision, not tg_sct_verify()'s: it takes no time).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tg.h"
#include "tg_ct.h"
#include "testutil.h"

/* ------------------------------------------------------------ embedded data */

/* google/certificate-transparency test/testdata/test-cert.sctlist (derived
 * in ../shared: the TLS list around test-cert.proof), 122 bytes: one v1 SCT
 * of the ECDSA test log, timestamp 1365181456089, x509 entry of test-cert. */
static const unsigned char test_sctlist[] = {
	0x00, 0x78, 0x00, 0x76, 0x00, 0xdf, 0x1c, 0x2e, 0xc1, 0x15, 0x00, 0x94,
	0x52, 0x47, 0xa9, 0x61, 0x68, 0x32, 0x5d, 0xdc, 0x5c, 0x79, 0x59, 0xe8,
	0xf7, 0xc6, 0xd3, 0x88, 0xfc, 0x00, 0x2e, 0x0b, 0xbd, 0x3f, 0x74, 0xd7,
	0x64, 0x00, 0x00, 0x01, 0x3d, 0xdb, 0x27, 0xde, 0xd9, 0x00, 0x00, 0x04,
	0x03, 0x00, 0x47, 0x30, 0x45, 0x02, 0x20, 0x60, 0x6e, 0x10, 0xae, 0x5c,
	0x2d, 0x5a, 0x1b, 0x0a, 0xed, 0x49, 0xdc, 0x49, 0x37, 0xf4, 0x8d, 0xe7,
	0x1a, 0x4e, 0x97, 0x84, 0xe9, 0xc2, 0x08, 0xdf, 0xbf, 0xe9, 0xef, 0x53,
	0x6c, 0xf7, 0xf2, 0x02, 0x21, 0x00, 0xbe, 0xb2, 0x9c, 0x72, 0xd7, 0xd0,
	0x6d, 0x61, 0xd0, 0x6b, 0xdb, 0x38, 0xa0, 0x69, 0x46, 0x9a, 0xa8, 0x6f,
	0xe1, 0x2e, 0x18, 0xbb, 0x7c, 0xc4, 0x56, 0x89, 0xa2, 0xc0, 0x18, 0x7e,
	0xf5, 0xa5,
};
/* Offsets in test_sctlist: SCT length, version, log id, timestamp,
 * extensions length, hash, sig, signature length, signature. */
#define L_SCTLEN 2
#define L_VER 4
#define L_LOGID 5
#define L_TS 37
#define L_EXTLEN 45
#define L_HASH 47
#define L_SIGALG 48
#define L_SIGLEN 49
#define L_SIG 51

/* google/certificate-transparency test/testdata/test-cert.pem @ 8103ff60 */
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

/* The two google-ct test log keys, base64 DER SPKI, from
 * ../shared/testdata/ct/google-ct/test-logs.cnf ([ct_test_ecdsa] =
 * ct-server-key-public.pem, [ct_test_rsa] = rsa/ct-server-key-public-rsa.pem). */
static const char key_test_ecdsa[] = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmXg8sUUzwBYaWrRb+V0IopzQ6o3U"
                                     "yEJ04r5ZrRXGdpYM8K+hB0pXrGRLI0eeWz+3skXrS0IO83AhA3GpRL6s6w==";
static const char key_test_rsa[] =
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3tyLdYQYM+K+1jGlLUTJlNFTeNJM4LN5ctwAwXDhoKCFJrGAayZaXJsYtKHf+"
	"RH2Y6pqbtE4Ln/4HgXXzFQiBuyTed/ooAafYkDPQsrg51/DxV4WZG66WzFjbFtBPKVfSnLqmbhRlr99PEY92bDt8YUOCfEikqHIDZaieJHQ"
	"QlIx5yjOYbRnsBT0HDitTuvM1or589k+wnYVyNEtU9NpNA+37kBD0SM7LipYCCSrb0zh5yTriNQS/LmdUWE1G5v8VR+acttDl5zPKetocNMg"
	"7NIa/zvrXizld9DQqt2UiC49KcD9x2shxEgp64K0S0546kU0lKYnY7NimDkVRCOe3wIDAQAB";

/* ------------------------------------------------------------ helpers */

static char base[4096]; /* $TG_SHARED/testdata/ct */

static const char *sp(const char *rel)
{
	static char bufs[8][4300];
	static unsigned slot;
	char *b = bufs[slot++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", base, rel);
	return b;
}

static unsigned char *read_rel(const char *rel, size_t *len)
{
	gnutls_datum_t d = {NULL, 0};
	unsigned char *out;
	const char *path = sp(rel);

	ck_assert_msg(gnutls_load_file(path, &d) == 0, "cannot read %s", path);
	out = malloc(d.size + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, d.data, d.size);
	*len = d.size;
	gnutls_free(d.data);
	return out;
}

static gnutls_x509_crt_t crt_pem(const char *pem, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)pem, (unsigned)len};
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	return crt;
}

static gnutls_x509_crt_t crt_der(const unsigned char *der, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)der, (unsigned)len};
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
	return crt;
}

static gnutls_x509_crt_t crt_rel(const char *rel)
{
	size_t len;
	unsigned char *pem = read_rel(rel, &len);
	gnutls_x509_crt_t crt = crt_pem((const char *)pem, len);
	free(pem);
	return crt;
}

static gnutls_pubkey_t key_b64(const char *b64)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)b64, (unsigned)strlen(b64)}, der = {NULL, 0};
	gnutls_pubkey_t k;
	ck_assert_int_eq(gnutls_base64_decode2(&in, &der), 0);
	ck_assert_int_eq(gnutls_pubkey_init(&k), 0);
	ck_assert_int_eq(gnutls_pubkey_import(k, &der, GNUTLS_X509_FMT_DER), 0);
	gnutls_free(der.data);
	return k;
}

static gnutls_pubkey_t key_pem_rel(const char *rel)
{
	size_t len;
	unsigned char *pem = read_rel(rel, &len);
	gnutls_datum_t d = {pem, (unsigned)len};
	gnutls_pubkey_t k;
	ck_assert_int_eq(gnutls_pubkey_init(&k), 0);
	ck_assert_int_eq(gnutls_pubkey_import(k, &d, GNUTLS_X509_FMT_PEM), 0);
	free(pem);
	return k;
}

/* The base64 "key = ..." of [section] in an OpenSSL CT log list file. */
static gnutls_pubkey_t key_cnf(const char *rel, const char *section)
{
	size_t len;
	char *text = (char *)read_rel(rel, &len), *line, *save = NULL;
	gnutls_pubkey_t k = NULL;
	int in = 0;

	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			char *e = strchr(p, ']');
			in = e != NULL && (size_t)(e - p - 1) == strlen(section) &&
			     strncmp(p + 1, section, (size_t)(e - p - 1)) == 0;
		} else if (in && strncmp(p, "key", 3) == 0) {
			p += 3;
			while (*p == ' ' || *p == '\t' || *p == '=')
				p++;
			p[strcspn(p, " \t\r")] = '\0';
			k = key_b64(p);
			break;
		}
	}
	free(text);
	ck_assert_msg(k != NULL, "no key for [%s] in %s", section, rel);
	return k;
}

static void log_id_of(gnutls_pubkey_t k, unsigned char id[32])
{
	gnutls_datum_t der = {NULL, 0};
	ck_assert_int_eq(gnutls_pubkey_export2(k, GNUTLS_X509_FMT_DER, &der), 0);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, id), 0);
	gnutls_free(der.data);
}

static void b64_32(const char *b64, unsigned char out[32])
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)b64, (unsigned)strlen(b64)}, d = {NULL, 0};
	ck_assert_int_eq(gnutls_base64_decode2(&in, &d), 0);
	ck_assert_uint_eq(d.size, 32);
	memcpy(out, d.data, 32);
	gnutls_free(d.data);
}

/* A TLS list around one raw SCT (the *.proof / *.sct files). */
static unsigned char *wrap_sct(const unsigned char *sct, size_t len, size_t *outlen)
{
	unsigned char *l = malloc(len + 4);
	ck_assert_ptr_nonnull(l);
	l[0] = (unsigned char)((len + 2) >> 8);
	l[1] = (unsigned char)(len + 2);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	memcpy(l + 4, sct, len);
	*outlen = len + 4;
	return l;
}

static int parse(const unsigned char *d, size_t len, struct tg_sct *out, size_t max, size_t *n, size_t *skipped)
{
	char err[256];
	int rc;
	err[0] = 'x';
	err[1] = '\0';
	rc = tg_sct_list_parse(d, len, out, max, n, skipped, err, sizeof(err));
	if (rc == 0)
		ck_assert_str_eq(err, "");
	else
		ck_assert_msg(err[0] != '\0' && (strstr(err, "offset") != NULL || rc == TLSGUARD_E_RANGE),
		              "error without an offset: '%s'", err);
	return rc;
}

/* Merkle leaf hash, RFC 6962 sec. 3.4: SHA-256(0 || MerkleTreeLeaf). */
static void leaf_hash(const struct tg_sct *s, const struct tg_sct_signed *sd, unsigned char out[32])
{
	size_t len = 1 + 1 + 1 + 8 + 2 + (sd->entry_type ? 32 : 0) + 3 + sd->entry_len + 2 + s->ext_len, i;
	unsigned char *b = malloc(len), *w = b;
	ck_assert_ptr_nonnull(b);
	*w++ = 0; /* leaf hash prefix */
	*w++ = 0; /* version */
	*w++ = 0; /* timestamped_entry */
	for (i = 0; i < 8; i++)
		*w++ = (unsigned char)(s->timestamp >> (56 - 8 * i));
	*w++ = 0;
	*w++ = (unsigned char)sd->entry_type;
	if (sd->entry_type) {
		memcpy(w, sd->issuer_key_hash, 32);
		w += 32;
	}
	*w++ = (unsigned char)(sd->entry_len >> 16);
	*w++ = (unsigned char)(sd->entry_len >> 8);
	*w++ = (unsigned char)sd->entry_len;
	memcpy(w, sd->entry, sd->entry_len);
	w += sd->entry_len;
	*w++ = (unsigned char)(s->ext_len >> 8);
	*w++ = (unsigned char)s->ext_len;
	if (s->ext_len)
		memcpy(w, s->ext, s->ext_len);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, b, len, out), 0);
	free(b);
}

/* The signed struct of RFC 6962 sec. 3.2 built independently of lib/sct.c,
 * to call GnuTLS directly. */
static gnutls_datum_t signed_data(const struct tg_sct *s, const struct tg_sct_signed *sd)
{
	size_t len = 2 + 8 + 2 + (sd->entry_type ? 32 : 0) + 3 + sd->entry_len + 2 + s->ext_len, i;
	unsigned char *b = malloc(len), *w = b;
	gnutls_datum_t d;
	ck_assert_ptr_nonnull(b);
	*w++ = 0;
	*w++ = 0;
	for (i = 0; i < 8; i++)
		*w++ = (unsigned char)(s->timestamp >> (56 - 8 * i));
	*w++ = 0;
	*w++ = (unsigned char)sd->entry_type;
	if (sd->entry_type) {
		memcpy(w, sd->issuer_key_hash, 32);
		w += 32;
	}
	*w++ = (unsigned char)(sd->entry_len >> 16);
	*w++ = (unsigned char)(sd->entry_len >> 8);
	*w++ = (unsigned char)sd->entry_len;
	memcpy(w, sd->entry, sd->entry_len);
	w += sd->entry_len;
	*w++ = (unsigned char)(s->ext_len >> 8);
	*w++ = (unsigned char)s->ext_len;
	if (s->ext_len)
		memcpy(w, s->ext, s->ext_len);
	d.data = b;
	d.size = (unsigned)len;
	return d;
}

/* ------------------------------------------------------------ "parse" */

START_TEST(parse_good)
{
	struct tg_sct s[4];
	size_t n = 99, skipped = 99;
	unsigned char id[32];

	ck_assert_int_eq(parse(test_sctlist, sizeof(test_sctlist), s, 4, &n, &skipped), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(skipped, 0);
	b64_32("3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=", id);
	ck_assert_mem_eq(s[0].log_id, id, 32);
	ck_assert_uint_eq(s[0].timestamp, UINT64_C(1365181456089)); /* ms, not rounded */
	ck_assert_uint_eq(s[0].ext_len, 0);
	ck_assert_uint_eq(s[0].hash_alg, 4);
	ck_assert_uint_eq(s[0].sig_alg, 3);
	ck_assert_uint_eq(s[0].sig_len, 71);
	ck_assert_ptr_eq(s[0].sig, test_sctlist + L_SIG);
	ck_assert_ptr_eq(s[0].ext, test_sctlist + L_EXTLEN + 2);
	/* skipped is optional */
	ck_assert_int_eq(tg_sct_list_parse(test_sctlist, sizeof(test_sctlist), s, 4, &n, NULL, NULL, 0), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(parse_args)
{
	struct tg_sct s[1];
	size_t n = 7;
	char err[64];
	ck_assert_int_eq(tg_sct_list_parse(test_sctlist, sizeof(test_sctlist), s, 1, NULL, NULL, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_list_parse(NULL, 5, s, 1, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(tg_sct_list_parse(test_sctlist, sizeof(test_sctlist), NULL, 1, &n, NULL, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_list_parse(NULL, 0, NULL, 0, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(parse(test_sctlist, 0, s, 1, &n, NULL), TLSGUARD_E_INVALID);
	/* max 0: no room, one SCT is too many */
	ck_assert_int_eq(tg_sct_list_parse(test_sctlist, sizeof(test_sctlist), NULL, 0, &n, NULL, err, sizeof(err)),
	                 TLSGUARD_E_RANGE);
}
END_TEST

/* Every prefix of a valid list is an error (never a crash; ASan/valgrind
 * see the reads because each prefix is copied to its own buffer). With the
 * outer length patched to the prefix, too, except at an SCT boundary. */
static void truncate_all(const unsigned char *list, size_t len, size_t nsct)
{
	struct tg_sct s[TG_CT_MAX_SCTS];
	size_t k, n, bounds[TG_CT_MAX_SCTS + 1], nb = 0, off = 2;

	while (off < len) {
		off += 2 + ((size_t)list[off] << 8 | list[off + 1]);
		bounds[nb++] = off;
	}
	ck_assert_uint_eq(nb, nsct);
	for (k = 0; k < len; k++) {
		unsigned char *p = malloc(k ? k : 1);
		size_t b, at = 0;
		ck_assert_ptr_nonnull(p);
		memcpy(p, list, k);
		ck_assert_msg(parse(p, k, s, TG_CT_MAX_SCTS, &n, NULL) == TLSGUARD_E_INVALID, "prefix %zu parsed", k);
		ck_assert_uint_eq(n, 0);
		if (k >= 2) {
			p[0] = (unsigned char)((k - 2) >> 8);
			p[1] = (unsigned char)(k - 2);
			for (b = 0; b < nb; b++)
				if (bounds[b] == k)
					at = b + 1;
			if (at > 0) {
				ck_assert_int_eq(parse(p, k, s, TG_CT_MAX_SCTS, &n, NULL), 0);
				ck_assert_uint_eq(n, at);
			} else {
				ck_assert_msg(parse(p, k, s, TG_CT_MAX_SCTS, &n, NULL) == TLSGUARD_E_INVALID,
				              "relengthed prefix %zu parsed", k);
			}
		}
		free(p);
	}
}

START_TEST(parse_truncated)
{
	truncate_all(test_sctlist, sizeof(test_sctlist), 1);
}
END_TEST

START_TEST(parse_trailing)
{
	unsigned char b[sizeof(test_sctlist) + 1];
	struct tg_sct s[2];
	size_t n;

	memcpy(b, test_sctlist, sizeof(test_sctlist));
	b[sizeof(test_sctlist)] = 0;
	/* one byte after the list */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	/* one byte inside the list, after the last SCT */
	b[1]++;
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	/* one byte inside the SCT, after the signature */
	b[3]++;
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	/* and its signature length covering it: parses, with a 72-byte signature */
	b[L_SIGLEN + 1]++;
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), 0);
	ck_assert_uint_eq(s[0].sig_len, 72);
}
END_TEST

START_TEST(parse_lengths)
{
	unsigned char b[sizeof(test_sctlist)];
	struct tg_sct s[2];
	size_t n;
	char err[256];
#define RESET() memcpy(b, test_sctlist, sizeof(b))

	RESET();
	b[1]--; /* outer too short */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[1]++; /* outer too long */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[L_SCTLEN + 1]++; /* inner too long */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[L_SCTLEN + 1]--; /* inner too short: the signature runs past it */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[L_SCTLEN] = 0xff; /* inner far too long */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[L_EXTLEN + 1] = 1; /* extensions eat the signature algorithm */
	ck_assert_int_eq(parse(b, sizeof(b), s, 2, &n, NULL), TLSGUARD_E_INVALID);
	RESET();
	b[L_EXTLEN] = 0xff; /* extensions past the end */
	ck_assert_int_eq(tg_sct_list_parse(b, sizeof(b), s, 2, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "extensions") != NULL && strstr(err, "offset 47") != NULL, "%s", err);
	RESET();
	b[L_SIGLEN + 1]++; /* signature longer than the SCT */
	ck_assert_int_eq(tg_sct_list_parse(b, sizeof(b), s, 2, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "signature") != NULL && strstr(err, "offset 51") != NULL, "%s", err);
	RESET();
	b[L_SIGLEN + 1]--; /* signature shorter: a byte left over */
	ck_assert_int_eq(tg_sct_list_parse(b, sizeof(b), s, 2, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "after the signature") != NULL, "%s", err);
#undef RESET
}
END_TEST

START_TEST(parse_empty)
{
	static const unsigned char empty_list[] = {0, 0};
	static const unsigned char empty_sct[] = {0, 2, 0, 0};
	static const unsigned char empty_sct2[] = {0, 4, 0, 0, 0, 0};
	struct tg_sct s[2];
	size_t n;
	char err[256];

	ck_assert_int_eq(tg_sct_list_parse(empty_list, 2, s, 2, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "empty list") != NULL, "%s", err);
	ck_assert_int_eq(tg_sct_list_parse(empty_sct, 4, s, 2, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "empty SCT") != NULL && strstr(err, "offset 2") != NULL, "%s", err);
	ck_assert_int_eq(parse(empty_sct2, 6, s, 2, &n, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(parse(empty_list, 1, s, 2, &n, NULL), TLSGUARD_E_INVALID);
}
END_TEST

START_TEST(parse_empty_signature)
{
	/* the test SCT with its signature cut to nothing */
	unsigned char b[L_SIG];
	struct tg_sct s[1];
	size_t n;
	char err[256];

	memcpy(b, test_sctlist, sizeof(b));
	b[0] = 0;
	b[1] = (unsigned char)(sizeof(b) - 2);
	b[2] = 0;
	b[3] = (unsigned char)(sizeof(b) - 4);
	b[L_SIGLEN] = b[L_SIGLEN + 1] = 0;
	ck_assert_int_eq(tg_sct_list_parse(b, sizeof(b), s, 1, &n, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "empty signature at offset 49") != NULL, "%s", err);
}
END_TEST

/* [unknown version SCT] [test SCT] [v2-ish SCT with garbage]: two skipped,
 * the v1 one parsed (and still verifies: see verify_good). */
static unsigned char *list_with_unknown(size_t *len)
{
	static const unsigned char unk1[] = {0x00, 0x03, 0x01, 0xaa, 0xbb};
	static const unsigned char unk2[] = {0x00, 0x01, 0xff};
	size_t inner = sizeof(test_sctlist) - 2, total = 2 + sizeof(unk1) + inner + sizeof(unk2);
	unsigned char *b = malloc(total), *w = b;
	ck_assert_ptr_nonnull(b);
	*w++ = (unsigned char)((total - 2) >> 8);
	*w++ = (unsigned char)(total - 2);
	memcpy(w, unk1, sizeof(unk1));
	w += sizeof(unk1);
	memcpy(w, test_sctlist + 2, inner);
	w += inner;
	memcpy(w, unk2, sizeof(unk2));
	*len = total;
	return b;
}

START_TEST(parse_unknown_version)
{
	struct tg_sct s[4];
	size_t n, skipped, len;
	unsigned char *b = list_with_unknown(&len);

	ck_assert_int_eq(parse(b, len, s, 4, &n, &skipped), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(skipped, 2);
	ck_assert_uint_eq(s[0].timestamp, UINT64_C(1365181456089));
	/* the unknown SCT's length is still checked */
	b[3] = 4;
	ck_assert_int_eq(parse(b, len, s, 4, &n, &skipped), TLSGUARD_E_INVALID);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(skipped, 0);
	free(b);
}
END_TEST

/* @count copies of the test SCT in one list. */
static unsigned char *many(size_t count, size_t *len)
{
	size_t inner = sizeof(test_sctlist) - 2, total = 2 + count * inner, i;
	unsigned char *b = malloc(total);
	ck_assert_ptr_nonnull(b);
	b[0] = (unsigned char)((total - 2) >> 8);
	b[1] = (unsigned char)(total - 2);
	for (i = 0; i < count; i++)
		memcpy(b + 2 + i * inner, test_sctlist + 2, inner);
	*len = total;
	return b;
}

START_TEST(parse_too_many)
{
	struct tg_sct s[TG_CT_MAX_SCTS];
	size_t n, len;
	char err[256];
	unsigned char *b = many(TG_CT_MAX_SCTS, &len);

	ck_assert_int_eq(parse(b, len, s, TG_CT_MAX_SCTS, &n, NULL), 0);
	ck_assert_uint_eq(n, TG_CT_MAX_SCTS);
	/* fewer slots than SCTs */
	ck_assert_int_eq(tg_sct_list_parse(b, len, s, 3, &n, NULL, err, sizeof(err)), TLSGUARD_E_RANGE);
	ck_assert_uint_eq(n, 0);
	free(b);
	b = many(TG_CT_MAX_SCTS + 1, &len);
	ck_assert_int_eq(tg_sct_list_parse(b, len, s, TG_CT_MAX_SCTS, &n, NULL, err, sizeof(err)), TLSGUARD_E_RANGE);
	ck_assert_msg(strstr(err, "65 SCTs") != NULL, "%s", err);
	ck_assert_uint_eq(n, 0);
	/* a malformed list is INVALID even when it is also too long */
	b[len - 1] = 0;
	b[1]--;
	ck_assert_int_eq(tg_sct_list_parse(b, len - 1, s, TG_CT_MAX_SCTS, &n, NULL, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	free(b);
}
END_TEST

START_TEST(parse_unknown_versions_count)
{
	/* 65 one-byte unknown-version SCTs: skipped, but still too many */
	unsigned char b[2 + 65 * 3];
	struct tg_sct s[TG_CT_MAX_SCTS];
	size_t n, skipped, i;

	b[0] = 0;
	b[1] = 65 * 3;
	for (i = 0; i < 65; i++) {
		b[2 + 3 * i] = 0;
		b[3 + 3 * i] = 1;
		b[4 + 3 * i] = 7;
	}
	ck_assert_int_eq(parse(b, sizeof(b), s, TG_CT_MAX_SCTS, &n, &skipped), TLSGUARD_E_RANGE);
	b[1] = 64 * 3;
	ck_assert_int_eq(parse(b, sizeof(b) - 3, s, TG_CT_MAX_SCTS, &n, &skipped), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(skipped, 64);
}
END_TEST

/* ------------------------------------------------------------ "verify" */

struct fixture {
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t key;
	struct tg_sct_signed sd;
	struct tg_sct sct;
	unsigned char list[sizeof(test_sctlist)];
};

static void fx_init(struct fixture *f)
{
	size_t n;
	char err[256];
	memset(f, 0, sizeof(*f));
	f->crt = crt_pem(test_cert_pem, strlen(test_cert_pem));
	f->key = key_b64(key_test_ecdsa);
	memcpy(f->list, test_sctlist, sizeof(f->list));
	ck_assert_int_eq(tg_sct_signed_x509(f->crt, &f->sd, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_sct_list_parse(f->list, sizeof(f->list), &f->sct, 1, &n, NULL, err, sizeof(err)), 0);
}

static void fx_free(struct fixture *f)
{
	tg_sct_signed_free(&f->sd);
	gnutls_pubkey_deinit(f->key);
	gnutls_x509_crt_deinit(f->crt);
}

START_TEST(verify_good)
{
	struct fixture f;
	struct tg_sct s[4];
	size_t n, len;
	unsigned char *b;
	unsigned char h[32], want[32];

	fx_init(&f);
	ck_assert_int_eq(f.sd.entry_type, 0);
	ck_assert_uint_eq(f.sd.entry_len, 718);
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), 0);
	/* README sec. 2: leaf_hash of test-cert + its SCT (= ct-go TestCertB64LeafHash) */
	leaf_hash(&f.sct, &f.sd, h);
	b64_32("BKZLZGMbAnDW0gQWjNJNCyS2IgweWn76YW3tFlu3AuY=", want);
	ck_assert_mem_eq(h, want, 32);
	/* after unknown-version SCTs */
	b = list_with_unknown(&len);
	ck_assert_int_eq(tg_sct_list_parse(b, len, s, 4, &n, NULL, NULL, 0), 0);
	ck_assert_int_eq(tg_sct_verify(&s[0], &f.sd, f.key), 0);
	free(b);
	fx_free(&f);
}
END_TEST

/* Flip every bit of the SCT: whatever still parses must not verify, except
 * in the log id, which is not signed (the caller picks the key by it). */
START_TEST(verify_tamper_every_bit)
{
	struct fixture f;
	size_t i, bit, n, parsed = 0;

	fx_init(&f);
	for (i = 0; i < sizeof(f.list); i++) {
		for (bit = 0; bit < 8; bit++) {
			unsigned char b[sizeof(test_sctlist)];
			struct tg_sct s;
			int rc;
			memcpy(b, test_sctlist, sizeof(b));
			b[i] ^= (unsigned char)(1u << bit);
			if (tg_sct_list_parse(b, sizeof(b), &s, 1, &n, NULL, NULL, 0) != 0 || n != 1)
				continue;
			parsed++;
			rc = tg_sct_verify(&s, &f.sd, f.key);
			if (i >= L_LOGID && i < L_LOGID + 32)
				ck_assert_msg(rc == 0, "log id byte %zu: %d", i, rc);
			else if (i == L_HASH || i == L_SIGALG)
				ck_assert_msg(rc == TLSGUARD_E_INVALID || rc == TLSGUARD_E_VERIFY,
				              "byte %zu bit %zu: %d", i, bit, rc);
			else
				ck_assert_msg(rc == TLSGUARD_E_VERIFY, "byte %zu bit %zu verified (%d)", i, bit, rc);
		}
	}
	ck_assert_uint_gt(parsed, 800);
	fx_free(&f);
}
END_TEST

START_TEST(verify_tamper_fields)
{
	struct fixture f;
	struct tg_sct s;
	static const unsigned char ext[] = {0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01};
	unsigned char sig[80];

	fx_init(&f);
	s = f.sct;
	s.timestamp++;
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_VERIFY);
	s = f.sct;
	s.timestamp += 1000; /* a whole second later: what a seconds-only parser would hide */
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_VERIFY);
	s = f.sct;
	s.ext = ext; /* extensions are signed */
	s.ext_len = sizeof(ext);
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_VERIFY);
	s = f.sct;
	memcpy(sig, f.sct.sig, f.sct.sig_len);
	sig[f.sct.sig_len - 1] ^= 1;
	s.sig = sig;
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_VERIFY);
	/* entry: one byte of the certificate */
	f.sd.entry[100] ^= 1;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), TLSGUARD_E_VERIFY);
	f.sd.entry[100] ^= 1;
	/* entry type: the same bytes as a precert entry */
	f.sd.entry_type = 1;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), TLSGUARD_E_VERIFY);
	f.sd.entry_type = 0;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), 0);
	fx_free(&f);
}
END_TEST

START_TEST(verify_algorithms)
{
	struct fixture f;
	struct tg_sct s;
	gnutls_pubkey_t rsa;
	static const unsigned char hashes[] = {0, 1, 2, 3, 5, 6, 8, 255};
	static const unsigned char sigs[] = {0, 2, 4, 7, 8, 255};
	size_t i;

	fx_init(&f);
	for (i = 0; i < sizeof(hashes); i++) {
		s = f.sct;
		s.hash_alg = hashes[i];
		ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_INVALID);
	}
	for (i = 0; i < sizeof(sigs); i++) {
		s = f.sct;
		s.sig_alg = sigs[i];
		ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_INVALID);
	}
	/* claims RSA, is ECDSA; the right signature under the wrong key type */
	s = f.sct;
	s.sig_alg = 1;
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_VERIFY);
	rsa = key_b64(key_test_rsa);
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, rsa), TLSGUARD_E_VERIFY);
	gnutls_pubkey_deinit(rsa);
	fx_free(&f);
}
END_TEST

START_TEST(verify_args)
{
	struct fixture f;
	struct tg_sct s;
	struct tg_sct_signed sd;
	char err[64];

	fx_init(&f);
	ck_assert_int_eq(tg_sct_verify(NULL, &f.sd, f.key), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_verify(&f.sct, NULL, f.key), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, NULL), TLSGUARD_E_INVALID);
	s = f.sct;
	s.sig_len = 0;
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_INVALID);
	s = f.sct;
	s.ext = NULL;
	s.ext_len = 3;
	ck_assert_int_eq(tg_sct_verify(&s, &f.sd, f.key), TLSGUARD_E_INVALID);
	sd = f.sd;
	sd.entry_type = 2;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &sd, f.key), TLSGUARD_E_INVALID);
	sd = f.sd;
	sd.entry_len = 0;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &sd, f.key), TLSGUARD_E_INVALID);
	sd.entry_len = 1u << 24;
	ck_assert_int_eq(tg_sct_verify(&f.sct, &sd, f.key), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_signed_x509(NULL, &sd, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_signed_x509(f.crt, NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_signed_precert(NULL, f.crt, &sd, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_sct_signed_precert(f.crt, NULL, &sd, err, sizeof(err)), TLSGUARD_E_INVALID);
	tg_sct_signed_free(NULL);
	fx_free(&f);
}
END_TEST

START_TEST(verify_nomem)
{
	struct fixture f;
	struct tg_sct_signed sd;
	char err[64];

	fx_init(&f);
	tg_alloc_fail_at(1);
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), TLSGUARD_E_NOMEM);
	tg_alloc_fail_at(1);
	ck_assert_int_eq(tg_sct_signed_x509(f.crt, &sd, err, sizeof(err)), TLSGUARD_E_NOMEM);
	ck_assert_ptr_null(sd.entry);
	tg_alloc_fail_at(0);
	ck_assert_int_eq(tg_sct_verify(&f.sct, &f.sd, f.key), 0);
	fx_free(&f);
}
END_TEST

/* The test signature is 30 45 02 20 <r: 32> 02 21 00 <s: 32>. */
static size_t sig_variant(const struct tg_sct *src, int which, unsigned char *out)
{
	const unsigned char *sg = src->sig;
	size_t len = src->sig_len;
	ck_assert_uint_eq(len, 71);
	switch (which) {
	case 0: /* superfluous 0x00 before r (BER, like the Symantec SCT) */
		out[0] = 0x30;
		out[1] = 0x46;
		out[2] = 0x02;
		out[3] = 0x21;
		out[4] = 0x00;
		memcpy(out + 5, sg + 4, 67);
		return 72;
	case 1: /* trailing byte after the SEQUENCE */
		memcpy(out, sg, len);
		out[len] = 0;
		return len + 1;
	case 2: /* non-minimal long-form SEQUENCE length */
		out[0] = 0x30;
		out[1] = 0x81;
		out[2] = 0x45;
		memcpy(out + 3, sg + 2, len - 2);
		return len + 1;
	case 3: /* s without its needed 0x00: negative */
		memcpy(out, sg, len);
		out[1] = 0x44;
		out[37] = 0x20;
		memcpy(out + 38, sg + 39, 32);
		return len - 1;
	case 4: /* trailing byte inside the SEQUENCE */
		memcpy(out, sg, len);
		out[1] = 0x46;
		out[len] = 0;
		return len + 1;
	case 5: /* indefinite length */
		out[0] = 0x30;
		out[1] = 0x80;
		memcpy(out + 2, sg + 2, len - 2);
		out[len] = 0;
		out[len + 1] = 0;
		return len + 2;
	default: /* superfluous 0x00 before s's 0x00 */
		memcpy(out, sg, 38);
		out[1] = 0x46;
		out[37] = 0x22;
		out[38] = 0x00;
		memcpy(out + 39, sg + 38, 33);
		return 72;
	}
}

START_TEST(verify_ecdsa_strict_der)
{
	struct fixture f;
	struct tg_sct s;
	unsigned char sig[80];
	int which;

	fx_init(&f);
	for (which = 0; which <= 6; which++) {
		s = f.sct;
		s.sig_len = sig_variant(&f.sct, which, sig);
		s.sig = sig;
		ck_assert_msg(tg_sct_verify(&s, &f.sd, f.key) == TLSGUARD_E_VERIFY, "variant %d verified", which);
	}
	fx_free(&f);
}
END_TEST

/* What GnuTLS itself does with those encodings (the finding behind the
 * DER check in lib/sct.c; 3.7.9 accepts all but the trailing bytes).
 * Printed, not asserted: tlsguard does not depend on it either way. */
START_TEST(gnutls_ber_ecdsa)
{
	struct fixture f;
	gnutls_datum_t data, sig;
	unsigned char buf[80];
	int which, ret;
	static const char *what[] = {"leading 0x00 on r", "trailing byte after SEQUENCE", "long-form length",
	                             "negative s", "trailing byte inside SEQUENCE", "indefinite length",
	                             "leading 0x00 0x00 on s"};

	fx_init(&f);
	data = signed_data(&f.sct, &f.sd);
	sig.data = (unsigned char *)(uintptr_t)f.sct.sig;
	sig.size = (unsigned)f.sct.sig_len;
	ck_assert_int_ge(gnutls_pubkey_verify_data2(f.key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig), 0);
	for (which = 0; which <= 6; which++) {
		sig.size = (unsigned)sig_variant(&f.sct, which, buf);
		sig.data = buf;
		ret = gnutls_pubkey_verify_data2(f.key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig);
		printf("gnutls %s: ECDSA signature with %s: %s\n", gnutls_check_version(NULL), what[which],
		       ret >= 0 ? "ACCEPTED" : gnutls_strerror(ret));
	}
	free(data.data);
	fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------ "splice" */

/* A small DER writer and reader, independent of lib/sct.c's, to build
 * certificates whose extensions hold the SCT list at every position. */
struct dbuf {
	unsigned char d[8192];
	size_t n;
};

static void dput(struct dbuf *b, const unsigned char *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void dtlv(struct dbuf *b, unsigned char tag, const unsigned char *content, size_t n)
{
	unsigned char h[6];
	size_t hl = 0;
	h[hl++] = tag;
	if (n < 128) {
		h[hl++] = (unsigned char)n;
	} else if (n < 256) {
		h[hl++] = 0x81;
		h[hl++] = (unsigned char)n;
	} else {
		ck_assert_uint_lt(n, 65536);
		h[hl++] = 0x82;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	dput(b, h, hl);
	dput(b, content, n);
}

/* Header length and content length of the TLV at p (trusted input). */
static size_t drd(const unsigned char *p, size_t *len)
{
	if (p[1] < 0x80) {
		*len = p[1];
		return 2;
	}
	ck_assert_uint_le(p[1] & 0x7f, 2);
	*len = (p[1] & 0x7f) == 1 ? p[2] : (size_t)p[2] << 8 | p[3];
	return 2 + (p[1] & 0x7fu);
}

/* test-cert.pem taken apart: the TBS fields before [3], its three
 * extensions (SKI, AKI, basicConstraints), signatureAlgorithm and signature. */
struct parts {
	gnutls_datum_t der;
	const unsigned char *tbs, *prefix, *ext[3], *tail;
	size_t tbs_len, prefix_len, ext_len[3], tail_len;
};

static void parts_get(struct parts *pt)
{
	gnutls_x509_crt_t crt = crt_pem(test_cert_pem, strlen(test_cert_pem));
	const unsigned char *p, *end, *e;
	size_t hl, len, k = 0;

	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &pt->der), 0);
	gnutls_x509_crt_deinit(crt);
	hl = drd(pt->der.data, &len);
	pt->tbs = pt->der.data + hl;
	hl = drd(pt->tbs, &len);
	pt->tbs_len = hl + len;
	pt->tail = pt->tbs + pt->tbs_len;
	pt->tail_len = (size_t)(pt->der.data + pt->der.size - pt->tail);
	p = pt->prefix = pt->tbs + hl;
	end = pt->tbs + pt->tbs_len;
	while (p < end && p[0] != 0xa3) {
		hl = drd(p, &len);
		p += hl + len;
	}
	pt->prefix_len = (size_t)(p - pt->prefix);
	ck_assert_int_eq(p[0], 0xa3);
	p += drd(p, &len);
	ck_assert_int_eq(p[0], 0x30);
	p += drd(p, &len);
	for (e = p; e < p + len; k++) {
		ck_assert_uint_lt(k, 3);
		pt->ext[k] = e;
		hl = drd(e, &pt->ext_len[k]);
		pt->ext_len[k] += hl;
		e += pt->ext_len[k];
	}
	ck_assert_uint_eq(k, 3);
}

/* A certificate (old signature, so invalid, but GnuTLS decodes it) whose
 * extensions are @order: 0-2 test-cert's own, 3 the SCT list extension,
 * 4 the precertificate poison. Into @cert; the expected entry TBS
 * (the same without 3 and 4, no [3] when nothing is left) into @tbs. */
static void splice_build(const struct parts *pt, const char *order, struct dbuf *cert, struct dbuf *tbs)
{
	static const unsigned char sct_oid[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};
	static const unsigned char poison[] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79,
	                                       0x02, 0x04, 0x03, 0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00};
	struct dbuf ext_all, ext_kept, a, b, c, sct_ext;
	const char *o;

	/* Extension { extnID, extnValue OCTET STRING { OCTET STRING { list } } } */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&sct_ext, 0, sizeof(sct_ext));
	dtlv(&a, 0x04, test_sctlist, sizeof(test_sctlist));
	dput(&b, sct_oid, sizeof(sct_oid));
	dtlv(&b, 0x04, a.d, a.n);
	dtlv(&sct_ext, 0x30, b.d, b.n);

	memset(&ext_all, 0, sizeof(ext_all));
	memset(&ext_kept, 0, sizeof(ext_kept));
	for (o = order; *o; o++) {
		int i = *o - '0';
		if (i < 3) {
			dput(&ext_all, pt->ext[i], pt->ext_len[i]);
			dput(&ext_kept, pt->ext[i], pt->ext_len[i]);
		} else if (i == 3) {
			dput(&ext_all, sct_ext.d, sct_ext.n);
		} else {
			dput(&ext_all, poison, sizeof(poison));
		}
	}
	/* the certificate */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	dtlv(&a, 0x30, ext_all.d, ext_all.n);
	dput(&b, pt->prefix, pt->prefix_len);
	dtlv(&b, 0xa3, a.d, a.n);
	dtlv(&c, 0x30, b.d, b.n);
	dput(&c, pt->tail, pt->tail_len);
	memset(cert, 0, sizeof(*cert));
	dtlv(cert, 0x30, c.d, c.n);
	/* the expected TBS */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	dput(&b, pt->prefix, pt->prefix_len);
	if (ext_kept.n > 0) {
		dtlv(&a, 0x30, ext_kept.d, ext_kept.n);
		memset(&c, 0, sizeof(c));
		dtlv(&c, 0xa3, a.d, a.n);
		dput(&b, c.d, c.n);
	}
	memset(tbs, 0, sizeof(*tbs));
	dtlv(tbs, 0x30, b.d, b.n);
}

START_TEST(splice)
{
	/* every position, and the length forms crossing 0x82 -> 0x81 -> short */
	static const char *const orders[] = {"3", "3012", "0312", "0132", "0123", "23", "32", "03", "4", "4012",
	                                     "0142", "24", "1234"};
	struct parts pt;
	size_t i;

	parts_get(&pt);
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		static struct dbuf cert, tbs;
		struct tg_sct_signed sd;
		gnutls_x509_crt_t crt, ca = crt_pem(test_cert_pem, strlen(test_cert_pem));
		unsigned char *list = NULL;
		size_t len = 0;
		char err[256];
		int rc;

		splice_build(&pt, orders[i], &cert, &tbs);
		crt = crt_der(cert.d, cert.n);
		rc = tg_sct_signed_precert(crt, ca, &sd, err, sizeof(err));
		if (strchr(orders[i], '3') != NULL && strchr(orders[i], '4') != NULL) {
			/* both: which one is the entry? */
			ck_assert_msg(rc == TLSGUARD_E_INVALID, "%s: %d", orders[i], rc);
			ck_assert_msg(strstr(err, "more than one") != NULL, "%s", err);
		} else {
			ck_assert_msg(rc == 0, "%s: %s", orders[i], err);
			ck_assert_uint_eq(sd.entry_len, tbs.n);
			ck_assert_msg(memcmp(sd.entry, tbs.d, tbs.n) == 0, "order %s: wrong TBS", orders[i]);
			tg_sct_signed_free(&sd);
		}
		rc = tg_sct_list_from_cert(crt, &list, &len, err, sizeof(err));
		if (strchr(orders[i], '3') != NULL) {
			ck_assert_int_eq(rc, 1);
			ck_assert_uint_eq(len, sizeof(test_sctlist));
			ck_assert_mem_eq(list, test_sctlist, len);
			gnutls_free(list);
		} else {
			ck_assert_int_eq(rc, 0);
		}
		gnutls_x509_crt_deinit(crt);
		gnutls_x509_crt_deinit(ca);
	}
	/* "0123" without the SCT is test-cert's own TBS */
	{
		static struct dbuf cert, tbs;
		splice_build(&pt, "0312", &cert, &tbs);
		ck_assert_uint_eq(tbs.n, pt.tbs_len);
		ck_assert_mem_eq(tbs.d, pt.tbs, tbs.n);
	}
	gnutls_free(pt.der.data);
}
END_TEST

/* ------------------------------------------------------------ "readme" */

/* Log keys (base64 DER SPKI). */
struct known_log {
	const char *name;
	const char *b64;         /* hard-coded key, or NULL: */
	const char *file, *sect; /* key = [sect] of an OpenSSL .cnf file, or a PEM file (sect NULL) */
};

static const struct known_log known_logs[] = {
	/* OpenSSL's test/ct/log_list.cnf (openssl/log_list.cnf) */
	{"test", NULL, "openssl/log_list.cnf", "test"},
	{"pilot", NULL, "openssl/log_list.cnf", "pilot"},
	{"aviator", NULL, "openssl/log_list.cnf", "aviator"},
	{"digicert", NULL, "openssl/log_list.cnf", "digicert"},
	/* google/certificate-transparency test/testdata */
	{"ct-rsa", NULL, "google-ct/rsa/ct-server-key-public-rsa.pem", NULL},
	{"symantec", NULL, "google-ct/symantec-bad-sct/symantec-log.cnf", "symantec"},
	/* Real logs. Keys copied from loglists/crtsh-all_logs_list.json (crt.sh's
	 * list of every log, incl. retired ones); loglists/apple-current_log_list.v511.json
	 * has the same keys. log_id = SHA-256(key) is checked below. */
	{"Google Xenon2025h2",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEa+Cv7QZ8Pe/ZDuRYSwTYKkeZkI"
	 "l6uTaldcgEuMviqiu1aJ2IKaKlz84rmhWboD6dlByyt0ryUexA7WJHpANJhg==",
	 NULL, NULL},
	{"Cloudflare Nimbus2025",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGoAaFRkZI3m0+qB5jo3VwdzCtZ"
	 "aSfpTgw34UfAoNLUaonRuxQWUMX5jEWhd5gVtKFEHsr6ldDqsSGXHNQ++7lw==",
	 NULL, NULL},
	{"Google Xenon2026h2",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5Xd4lXEos5XJpcx6TOgyA5Z7/C"
	 "4duaTbQ6C9aXL5Rbqaw+mW1XDnDX7JlRUninIwZYZDU9wRRBhJmCVopzwFvw==",
	 NULL, NULL},
	{"DigiCert Wyvern2026h2",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEenPbSvLeT+zhFBu+pqk8IbhFEs"
	 "16iCaRIFb1STLDdWzL6XwTdTWcbOzxMTzB3puME5K3rT0PoZyPSM50JxgjmQ==",
	 NULL, NULL},
	{"DigiCert Sphinx2026h2",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEquD0JkRQT/2inuaA4HC1sc6Upf"
	 "iXgURVQmQcInmnZFnTiZMhZvsJgWAfYlU0OIykOC6slQzr7U9kvEVC9wZ6zQ==",
	 NULL, NULL},
	{"Cloudflare Nimbus2026",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2FxhT6xq0iCATopC9gStS9SxHH"
	 "mOKTLeaVNZ661488Aq8tARXQV+6+jB0983v5FkRm4OJxPqu29GJ1iG70Ahow==",
	 NULL, NULL},
	{"Geomys Tuscolo2026h1",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEflxzMg2Ajjg7h1+ZIvQ9LV6yFv"
	 "dj6uRi9YbvtRnSCgS2SamkH56WcPRaBTRYARPDIr5JwLqgJAVA/NvDxdJXOw==",
	 NULL, NULL},
	{"Google Argon2022",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeIPc6fGmuBg6AJkv/z7NFckmHv"
	 "f/OqmjchZJ6wm2qN200keRDg352dWpi7CHnSV51BpQYAj1CQY5JuRAwrrDwg==",
	 NULL, NULL},
	{"DigiCert Nessie2022",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJyTdaAMoy/5jvg4RR019F2ihEV"
	 "1McclBKMe2okuX7MCv/C87v+nxsfz1Af+p+0lADGMkmNd5LqZVqxbGvlHYcQ==",
	 NULL, NULL},
	{"Cloudflare Nimbus2022",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESLJHTlAycmJKDQxIv60pZG8g33"
	 "lSYxYpCi5gteI6HLevWbFVCdtZx+m9b+0LrwWWl/87mkNN6xE0M4rnrIPA/w==",
	 NULL, NULL},
	{"Google Icarus",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETtK8v7MICve56qTHHDhhBOuV4I"
	 "lUaESxZryCfk9QbG9co/CqPvTsgPDbCpp6oFtyAHwlDhnvr7JijXRD9Cb2FA==",
	 NULL, NULL},
	{"Sectigo Mammoth",
	 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7+R9dC4VFbbpuyOL+yy14ceAmE"
	 "f7QGlo/EmtYU6DRzwat43f/3swtLr/L8ugFOOt1YU/RFmMjGCL17ixv66MZw==",
	 NULL, NULL},
};
#define NLOGS (sizeof(known_logs) / sizeof(known_logs[0]))

static gnutls_pubkey_t log_keys[NLOGS];
static unsigned char log_ids[NLOGS][32];

static void logs_load(void)
{
	size_t i;
	for (i = 0; i < NLOGS; i++) {
		const struct known_log *l = &known_logs[i];
		if (log_keys[i] != NULL)
			continue;
		if (l->b64 != NULL)
			log_keys[i] = key_b64(l->b64);
		else if (l->sect != NULL)
			log_keys[i] = key_cnf(l->file, l->sect);
		else
			log_keys[i] = key_pem_rel(l->file);
		log_id_of(log_keys[i], log_ids[i]);
	}
}

static void logs_free(void)
{
	size_t i;
	for (i = 0; i < NLOGS; i++) {
		if (log_keys[i] != NULL)
			gnutls_pubkey_deinit(log_keys[i]);
		log_keys[i] = NULL;
	}
}

static gnutls_pubkey_t log_by_name(const char *name)
{
	size_t i;
	for (i = 0; i < NLOGS; i++)
		if (strcmp(known_logs[i].name, name) == 0)
			return log_keys[i];
	ck_abort_msg("no log %s", name);
	return NULL;
}

static const char *log_name_by_id(const unsigned char id[32], gnutls_pubkey_t *key)
{
	size_t i;
	for (i = 0; i < NLOGS; i++)
		if (memcmp(log_ids[i], id, 32) == 0) {
			*key = log_keys[i];
			return known_logs[i].name;
		}
	*key = NULL;
	return NULL;
}

START_TEST(log_ids_match)
{
	/* log ids as README.md gives them */
	static const struct {
		const char *name, *id;
	} ids[] = {
		{"test", "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q="},
		{"ct-rsa", "oCQsumIkVhezsKvGJ+spTJIM9H+jy/OdvSGDIX0VsgY="},
		{"symantec", "3esdK3oNT6Ygi4GtgWhwfi6OnQHVXIiNPRHEzbbsvsw="},
		{"aviator", "aPaY+B9kgr46jO65KB1M/HFRXWeT1ETRCmesu09P+8Q="},
		{"digicert", "VhQGmi/XwuzT9eG9RLI+x0Z2ubyZEVzA75SYVdaJ0N0="},
		{"pilot", "pLkJkLQYWBSHuxOizGdwCjw1mAT5G9+443fNDsgN3BA="},
		{"Google Xenon2025h2", "3dzKNJXX4RYF55Uy+sef+D0cUN/bADoUEnYKLKy7yCo="},
		{"Cloudflare Nimbus2025", "zPsPaoVxCWX+lZtTzumyfCLphVwNl422qX5UwP5MDbA="},
		{"Google Xenon2026h2", "2AlVO5RPev/IFhlvlE+Fq7D4/F6HVSYPFdEucrtFSxQ="},
		{"DigiCert Wyvern2026h2", "wjF+V0UZo0XufzjespBB68fCIVoiv3/Vta12mtkOUs0="},
		{"DigiCert Sphinx2026h2", "lE5Dh/rswe+B8xkkJqgYZQHH0184AgE/cmd9VTcuGdg="},
		{"Cloudflare Nimbus2026", "yzj3FYl8hKFEX1vB3fvJbvKaWc1HCmkFhbDLFMMUWOc="},
		{"Geomys Tuscolo2026h1", "cX6V88I4im2x44RJPTHhWqliCHYtQgDgBQzQZ7WmYeI="},
		{"Google Argon2022", "KXm+8J45OSHwVnOfY6V35b5XfZxgCvj5TV0mXCVdx4Q="},
		{"DigiCert Nessie2022", "UaOw9f0BeZxWbbg3eI8MpHrMGyfL956IQpoN/tSLBeU="},
		{"Cloudflare Nimbus2022", "QcjKsd8iRkoQxqE6CUKHXk4xixsD6+tLx2jwkGKWBvY="},
		{"Google Icarus", "KTxRllTIOWW6qlD8WAfUt2+/WHopctykwwz05UVH9Hg="},
		{"Sectigo Mammoth", "b1N2rDHwMRnYmQCkURX/dxUcEdkCwQApBo2yCJo32RM="},
	};
	size_t i, j;
	unsigned char id[32];

	logs_load();
	ck_assert_uint_eq(sizeof(ids) / sizeof(ids[0]), NLOGS);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		b64_32(ids[i].id, id);
		for (j = 0; j < NLOGS; j++)
			if (strcmp(known_logs[j].name, ids[i].name) == 0)
				break;
		ck_assert_uint_lt(j, NLOGS);
		ck_assert_msg(memcmp(log_ids[j], id, 32) == 0, "log id of %s", ids[i].name);
	}
	/* the embedded key is the test log's */
	{
		gnutls_pubkey_t k = key_b64(key_test_ecdsa);
		log_id_of(k, id);
		ck_assert_mem_eq(id, log_ids[0], 32);
		gnutls_pubkey_deinit(k);
	}
	logs_free();
}
END_TEST

#define VALID 0
#define INVALID TLSGUARD_E_VERIFY

/* Embedded SCTs (precert entries), README sections 1-3. */
struct emb_case {
	const char *leaf, *issuer;
	int status;             /* of every SCT */
	size_t n;
	const char *logs[3];    /* by known_logs name, in list order */
	uint64_t ts[3];         /* ms */
};

static const struct emb_case emb_cases[] = {
	/* 1: OpenSSL */
	{"openssl/embeddedSCTs1.pem", "openssl/embeddedSCTs1_issuer.pem", VALID, 1, {"test"},
	 {UINT64_C(1577836800000)}},
	{"openssl/embeddedSCTs3.pem", "openssl/embeddedSCTs3_issuer.pem", VALID, 3, {"aviator", "digicert", "pilot"},
	 {UINT64_C(1448976685961), UINT64_C(1448976685352), UINT64_C(1448976685980)}},
	/* 2: google-ct */
	{"google-ct/test-embedded-cert.pem", "google-ct/ca-cert.pem", VALID, 1, {"test"}, {UINT64_C(1365181456275)}},
	{"google-ct/test-embedded-cert.pem", "google-ct/intermediate-cert.pem", INVALID, 1, {"test"},
	 {UINT64_C(1365181456275)}}, /* wrong issuer */
	{"google-ct/test-embedded-with-preca-cert.pem", "google-ct/ca-cert.pem", VALID, 1, {"test"},
	 {UINT64_C(1365181456475)}},
	{"google-ct/test-embedded-with-intermediate-cert.pem", "google-ct/intermediate-cert.pem", VALID, 1, {"test"},
	 {UINT64_C(1365181457060)}},
	{"google-ct/test-embedded-with-intermediate-preca-cert.pem", "google-ct/intermediate-cert.pem", VALID, 1,
	 {"test"}, {UINT64_C(1365181457342)}},
	{"google-ct/test-invalid-embedded-cert.pem", "google-ct/ca-cert.pem", INVALID, 1, {"test"},
	 {UINT64_C(1365181457060)}},
	/* 3: real world */
	{"real-world/cloudflare-sni-2025/leaf.pem", "real-world/cloudflare-sni-2025/issuer-we1-gtsr4.pem", VALID, 2,
	 {"Google Xenon2025h2", "Cloudflare Nimbus2025"}, {UINT64_C(1757531517152), UINT64_C(1757531517172)}},
	{"real-world/cloudflare-sni-2025/leaf.pem", "real-world/cloudflare-sni-2025/issuer-we1.pem", VALID, 2,
	 {"Google Xenon2025h2", "Cloudflare Nimbus2025"}, {UINT64_C(1757531517152), UINT64_C(1757531517172)}},
	{"real-world/aws.amazon.com-2025/leaf.pem", "real-world/aws.amazon.com-2025/issuer.pem", VALID, 3,
	 {"Google Xenon2026h2", "DigiCert Wyvern2026h2", "DigiCert Sphinx2026h2"},
	 {UINT64_C(1762471780544), UINT64_C(1762471780542), UINT64_C(1762471780579)}},
	{"real-world/letsencrypt.org-2026/leaf.pem", "real-world/letsencrypt.org-2026/issuer.pem", VALID, 2,
	 {"Cloudflare Nimbus2026", "Geomys Tuscolo2026h1"}, {UINT64_C(1772992980455), UINT64_C(1772992980608)}},
	{"real-world/revoked.badssl.com-2021/leaf.pem", "real-world/revoked.badssl.com-2021/issuer.pem", VALID, 3,
	 {"Google Argon2022", "DigiCert Nessie2022", "Cloudflare Nimbus2022"},
	 {UINT64_C(1635369940791), UINT64_C(1635369940836), UINT64_C(1635369940703)}},
	{"real-world/cryptography.io-2018/leaf.pem", "real-world/cryptography.io-2018/issuer-le-x3.pem", VALID, 2,
	 {"Google Icarus", "Sectigo Mammoth"}, {UINT64_C(1537995393769), UINT64_C(1537995393904)}},
	/* letsencrypt.org SCTs with the Amazon issuer: issuer_key_hash mismatch */
	{"real-world/letsencrypt.org-2026/leaf.pem", "real-world/aws.amazon.com-2025/issuer.pem", INVALID, 2,
	 {"Cloudflare Nimbus2026", "Geomys Tuscolo2026h1"}, {UINT64_C(1772992980455), UINT64_C(1772992980608)}},
};
#define N_EMB (sizeof(emb_cases) / sizeof(emb_cases[0]))

START_TEST(embedded)
{
	const struct emb_case *c = &emb_cases[_i];
	gnutls_x509_crt_t leaf, issuer;
	struct tg_sct_signed sd;
	struct tg_sct s[TG_CT_MAX_SCTS];
	unsigned char *list = NULL, spki[32];
	size_t len = 0, n, skipped, i;
	char err[512];

	logs_load();
	leaf = crt_rel(c->leaf);
	issuer = crt_rel(c->issuer);
	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, err, sizeof(err)), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, TG_CT_MAX_SCTS, &n, &skipped, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, c->n);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_msg(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)) == 0, "%s: %s", c->leaf, err);
	ck_assert_int_eq(sd.entry_type, 1);
	/* the raw-SPKI hash agrees with GnuTLS's re-encoding for all issuers here */
	ck_assert_int_eq(tg_spki_sha256(issuer, spki), 0);
	ck_assert_mem_eq(sd.issuer_key_hash, spki, 32);
	for (i = 0; i < n; i++) {
		gnutls_pubkey_t key;
		const char *name = log_name_by_id(s[i].log_id, &key);
		int rc;
		ck_assert_msg(name != NULL, "%s: SCT %zu from an unknown log", c->leaf, i);
		ck_assert_str_eq(name, c->logs[i]);
		ck_assert_uint_eq(s[i].timestamp, c->ts[i]);
		rc = tg_sct_verify(&s[i], &sd, key);
		ck_assert_msg(rc == c->status, "%s + %s: SCT %zu (%s): %d, expected %d", c->leaf, c->issuer, i, name,
		              rc, c->status);
	}
	tg_sct_signed_free(&sd);
	gnutls_free(list);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
	logs_free();
}
END_TEST

/* SCTs given as files (*.proof, *.sct: one raw SCT; *.sctlist, *.tlssct). */
struct file_case {
	const char *sct;
	int raw;                /* 1: a single SCT, wrap it into a list */
	const char *leaf, *issuer; /* issuer NULL: x509 entry */
	const char *log;
	int status;
	uint64_t ts;
};

static const struct file_case file_cases[] = {
	/* 1: the stale 2020 SCT against the 2022 re-issue: issuer key hash mismatch */
	{"openssl/embeddedSCTs1.tlssct", 1, "openssl/embeddedSCTs1.pem", "openssl/embeddedSCTs1_issuer.pem", "test",
	 INVALID, UINT64_C(1577836800000)},
	/* 2: x509 entries */
	{"google-ct/test-cert.proof", 1, "google-ct/test-cert.pem", NULL, "test", VALID, UINT64_C(1365181456089)},
	{"google-ct/test-cert.sctlist", 0, "google-ct/test-cert.pem", NULL, "test", VALID, UINT64_C(1365181456089)},
	{"google-ct/test-intermediate-cert.proof", 1, "google-ct/test-intermediate-cert.pem", NULL, "test", VALID,
	 UINT64_C(1365181456860)},
	{"google-ct/rsa/test-cert-rsa.proof", 1, "google-ct/test-cert.pem", NULL, "ct-rsa", VALID,
	 UINT64_C(1365181456089)},
	/* the RSA log's SCT under the ECDSA log's key and the other way round */
	{"google-ct/rsa/test-cert-rsa.proof", 1, "google-ct/test-cert.pem", NULL, "test", INVALID,
	 UINT64_C(1365181456089)},
	{"google-ct/test-cert.proof", 1, "google-ct/test-cert.pem", NULL, "ct-rsa", INVALID, UINT64_C(1365181456089)},
	/* an SCT for another certificate */
	{"google-ct/test-cert.proof", 1, "google-ct/test-intermediate-cert.pem", NULL, "test", INVALID,
	 UINT64_C(1365181456089)},
	/* 2: precert entries from precertificates (poison extension removed) */
	{"google-ct/test-embedded-pre-cert.proof", 1, "google-ct/test-embedded-pre-cert.pem", "google-ct/ca-cert.pem",
	 "test", VALID, UINT64_C(1365181456275)},
	{"google-ct/test-embedded-with-intermediate-pre-cert.proof", 1,
	 "google-ct/test-embedded-with-intermediate-pre-cert.pem", "google-ct/intermediate-cert.pem", "test", VALID,
	 UINT64_C(1365181457060)},
	{"google-ct/rsa/test-embedded-pre-cert-rsa.proof", 1, "google-ct/test-embedded-pre-cert.pem",
	 "google-ct/ca-cert.pem", "ct-rsa", VALID, UINT64_C(1365181456275)},
	/* the precert SCT checked against the final certificate: same TBS */
	{"google-ct/test-embedded-pre-cert.proof", 1, "google-ct/test-embedded-cert.pem", "google-ct/ca-cert.pem",
	 "test", VALID, UINT64_C(1365181456275)},
	{"google-ct/rsa/test-embedded-pre-cert-rsa.proof", 1, "google-ct/test-embedded-cert.pem",
	 "google-ct/ca-cert.pem", "ct-rsa", VALID, UINT64_C(1365181456275)},
	/* a precert SCT as an x509 entry */
	{"google-ct/test-embedded-pre-cert.proof", 1, "google-ct/test-embedded-cert.pem", NULL, "test", INVALID,
	 UINT64_C(1365181456275)},
	/* 2: Symantec's BER signature (leading 0x00 on r) vs its DER re-encoding */
	{"google-ct/symantec-bad-sct/symantec-bad-asn1.sct", 1, "google-ct/symantec-bad-sct/www.google.com-2015.pem",
	 NULL, "symantec", INVALID, UINT64_C(1444218272694)},
	{"google-ct/symantec-bad-sct/symantec-minimal-der-reencoded.sct", 1,
	 "google-ct/symantec-bad-sct/www.google.com-2015.pem", NULL, "symantec", VALID, UINT64_C(1444218272694)},
};
#define N_FILE (sizeof(file_cases) / sizeof(file_cases[0]))

START_TEST(from_file)
{
	const struct file_case *c = &file_cases[_i];
	gnutls_x509_crt_t leaf, issuer = NULL;
	struct tg_sct_signed sd;
	struct tg_sct s[2];
	unsigned char *raw, *list;
	size_t len, llen, n;
	char err[512];
	int rc;

	logs_load();
	raw = read_rel(c->sct, &len);
	list = c->raw ? wrap_sct(raw, len, &llen) : raw;
	if (!c->raw)
		llen = len;
	ck_assert_msg(tg_sct_list_parse(list, llen, s, 2, &n, NULL, err, sizeof(err)) == 0, "%s: %s", c->sct, err);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(s[0].timestamp, c->ts);
	leaf = crt_rel(c->leaf);
	if (c->issuer != NULL) {
		issuer = crt_rel(c->issuer);
		ck_assert_msg(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)) == 0, "%s", err);
	} else {
		ck_assert_int_eq(tg_sct_signed_x509(leaf, &sd, err, sizeof(err)), 0);
	}
	rc = tg_sct_verify(&s[0], &sd, log_by_name(c->log));
	ck_assert_msg(rc == c->status, "%s (%s, log %s): %d, expected %d", c->sct, c->leaf, c->log, rc, c->status);
	tg_sct_signed_free(&sd);
	gnutls_x509_crt_deinit(leaf);
	if (issuer != NULL)
		gnutls_x509_crt_deinit(issuer);
	if (c->raw)
		free(list);
	free(raw);
	logs_free();
}
END_TEST

/* README sec. 1: leaf.pem has no SCT extension. */
START_TEST(no_sct_extension)
{
	gnutls_x509_crt_t leaf = crt_rel("openssl/leaf.pem"), issuer = crt_rel("openssl/subinterCA.pem");
	static unsigned char dummy[1];
	unsigned char *list = dummy;
	size_t len = 5;
	struct tg_sct_signed sd;
	char err[512];

	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, err, sizeof(err)), 0);
	ck_assert_ptr_null(list);
	ck_assert_uint_eq(len, 0);
	/* nor is there a precert entry to build */
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "SCT list extension") != NULL, "%s", err);
	ck_assert_ptr_null(sd.entry);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
}
END_TEST

/* README sec. 2: precertificates issued by a Precertificate Signing
 * Certificate are not supported: a clear error, not a verdict. */
START_TEST(precert_signing_ca)
{
	static const char *const pairs[][2] = {
		{"google-ct/test-embedded-with-preca-pre-cert.pem", "google-ct/ca-pre-cert.pem"},
		{"google-ct/test-embedded-with-intermediate-preca-pre-cert.pem", "google-ct/intermediate-pre-cert.pem"},
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		gnutls_x509_crt_t leaf = crt_rel(pairs[i][0]), issuer = crt_rel(pairs[i][1]);
		struct tg_sct_signed sd;
		char err[512];
		ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)), TLSGUARD_E_INVALID);
		ck_assert_msg(strstr(err, "Precertificate Signing Certificate") != NULL &&
		                  strstr(err, "not supported") != NULL,
		              "%s", err);
		ck_assert_ptr_null(sd.entry);
		gnutls_x509_crt_deinit(leaf);
		gnutls_x509_crt_deinit(issuer);
	}
}
END_TEST

/* README sec. 3: the Cloudflare leaf's TBS without the SCT extension. */
START_TEST(golden_tbs)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/cloudflare-sni-2025/leaf.pem"),
	                  issuer = crt_rel("real-world/cloudflare-sni-2025/issuer-we1-gtsr4.pem");
	struct tg_sct_signed sd;
	unsigned char *golden;
	size_t glen;
	char err[512];

	golden = read_rel("real-world/cloudflare-sni-2025/golden-tbs-without-sct.der", &glen);
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)), 0);
	ck_assert_uint_eq(sd.entry_len, glen);
	ck_assert_mem_eq(sd.entry, golden, glen);
	tg_sct_signed_free(&sd);
	ck_assert_ptr_null(sd.entry);
	free(golden);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
}
END_TEST

/* The precertificate minus poison and the final certificate minus SCTs
 * are the same TBS (README sec. 2: same leaf hash); and the leaf hashes. */
START_TEST(precert_tbs_and_leaf_hashes)
{
	gnutls_x509_crt_t pre = crt_rel("google-ct/test-embedded-pre-cert.pem"),
	                  fin = crt_rel("google-ct/test-embedded-cert.pem"), ca = crt_rel("google-ct/ca-cert.pem"),
	                  e1 = crt_rel("openssl/embeddedSCTs1.pem"), e1i = crt_rel("openssl/embeddedSCTs1_issuer.pem");
	struct tg_sct_signed a, b, c;
	struct tg_sct s[2];
	unsigned char *list, h[32], want[32];
	size_t len, n;
	char err[512];

	ck_assert_int_eq(tg_sct_signed_precert(pre, ca, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_sct_signed_precert(fin, ca, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.entry_len, b.entry_len);
	ck_assert_mem_eq(a.entry, b.entry, a.entry_len);
	ck_assert_mem_eq(a.issuer_key_hash, b.issuer_key_hash, 32);

	ck_assert_int_eq(tg_sct_list_from_cert(fin, &list, &len, err, sizeof(err)), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, 2, &n, NULL, err, sizeof(err)), 0);
	leaf_hash(&s[0], &b, h);
	b64_32("mbk+d5FDW3oNZJCbOi828rqC3hf+qhigTWVGcXEZq1U=", want); /* ct-go TestPreCertB64LeafHash */
	ck_assert_mem_eq(h, want, 32);
	gnutls_free(list);

	ck_assert_int_eq(tg_sct_signed_precert(e1, e1i, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(tg_sct_list_from_cert(e1, &list, &len, err, sizeof(err)), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, 2, &n, NULL, err, sizeof(err)), 0);
	leaf_hash(&s[0], &c, h);
	b64_32("QW9yeCpYRc5MgLflccuEugXVj+GaGeo5+fx7cWLamgo=", want);
	ck_assert_mem_eq(h, want, 32);
	gnutls_free(list);

	tg_sct_signed_free(&a);
	tg_sct_signed_free(&b);
	tg_sct_signed_free(&c);
	gnutls_x509_crt_deinit(pre);
	gnutls_x509_crt_deinit(fin);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(e1);
	gnutls_x509_crt_deinit(e1i);
}
END_TEST

/* GnuTLS's own verdict on the Symantec SCT: the finding behind lib/sct.c's
 * DER check, on the real-world sample. */
START_TEST(symantec_gnutls)
{
	gnutls_x509_crt_t leaf = crt_rel("google-ct/symantec-bad-sct/www.google.com-2015.pem");
	gnutls_pubkey_t key;
	struct tg_sct_signed sd;
	struct tg_sct s;
	unsigned char *raw, *list;
	size_t len, llen, n;
	gnutls_datum_t data, sig;
	int ret;

	logs_load();
	key = log_by_name("symantec");
	raw = read_rel("google-ct/symantec-bad-sct/symantec-bad-asn1.sct", &len);
	list = wrap_sct(raw, len, &llen);
	ck_assert_int_eq(tg_sct_list_parse(list, llen, &s, 1, &n, NULL, NULL, 0), 0);
	ck_assert_int_eq(tg_sct_signed_x509(leaf, &sd, NULL, 0), 0);
	data = signed_data(&s, &sd);
	sig.data = (unsigned char *)(uintptr_t)s.sig;
	sig.size = (unsigned)s.sig_len;
	ret = gnutls_pubkey_verify_data2(key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig);
	printf("gnutls %s: Symantec BER SCT signature: %s\n", gnutls_check_version(NULL),
	       ret >= 0 ? "ACCEPTED by GnuTLS" : gnutls_strerror(ret));
	ck_assert_int_eq(tg_sct_verify(&s, &sd, key), TLSGUARD_E_VERIFY);
	free(data.data);
	free(list);
	free(raw);
	tg_sct_signed_free(&sd);
	gnutls_x509_crt_deinit(leaf);
	logs_free();
}
END_TEST

/* A real 3-SCT list (aws.amazon.com) cut at every byte. */
START_TEST(real_list_truncated)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/aws.amazon.com-2025/leaf.pem");
	unsigned char *list;
	size_t len;

	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, NULL, 0), 1);
	truncate_all(list, len, 3);
	gnutls_free(list);
	gnutls_x509_crt_deinit(leaf);
}
END_TEST

/* SCT extensions are signed: the Tuscolo SCT of letsencrypt.org carries a
 * leaf_index extension (static-ct-api). */
START_TEST(real_extension_tamper)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/letsencrypt.org-2026/leaf.pem"),
	                  issuer = crt_rel("real-world/letsencrypt.org-2026/issuer.pem");
	struct tg_sct_signed sd;
	struct tg_sct s[2];
	unsigned char *list, ext[16];
	size_t len, n;
	gnutls_pubkey_t key;

	logs_load();
	key = log_by_name("Geomys Tuscolo2026h1");
	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, NULL, 0), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, 2, &n, NULL, NULL, 0), 0);
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, NULL, 0), 0);
	ck_assert_uint_eq(s[1].ext_len, 8);
	ck_assert_int_eq(tg_sct_verify(&s[1], &sd, key), 0);
	memcpy(ext, s[1].ext, 8);
	ext[7] ^= 1;
	s[1].ext = ext;
	ck_assert_int_eq(tg_sct_verify(&s[1], &sd, key), TLSGUARD_E_VERIFY);
	s[1].ext_len = 0;
	ck_assert_int_eq(tg_sct_verify(&s[1], &sd, key), TLSGUARD_E_VERIFY);
	tg_sct_signed_free(&sd);
	gnutls_free(list);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
	logs_free();
}
END_TEST

/* The extension's DER wrapping is checked strictly. GnuTLS does not check
 * the certificate signature on import, so the bytes can be edited. */
START_TEST(extension_wrapper)
{
	static const unsigned char oid[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};
	gnutls_x509_crt_t leaf = crt_rel("real-world/cloudflare-sni-2025/leaf.pem"), bad;
	gnutls_datum_t der = {NULL, 0};
	unsigned char *p, *inner;
	unsigned char *list;
	size_t len, i;
	char err[512];

	ck_assert_int_eq(gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_DER, &der), 0);
	p = NULL;
	for (i = 0; i + sizeof(oid) < der.size; i++)
		if (memcmp(der.data + i, oid, sizeof(oid)) == 0)
			p = der.data + i + sizeof(oid);
	ck_assert_ptr_nonnull(p);
	if (p[0] == 0x01) /* critical BOOLEAN */
		p += 3;
	ck_assert_int_eq(p[0], 0x04); /* extnValue */
	inner = p + 2 + ((p[1] & 0x80) ? (p[1] & 0x7f) : 0);
	ck_assert_int_eq(inner[0], 0x04); /* the SCT list OCTET STRING */
	ck_assert_int_eq(inner[1], 0x81);

	inner[0] = 0x05;
	bad = crt_der(der.data, der.size);
	ck_assert_int_eq(tg_sct_list_from_cert(bad, &list, &len, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_msg(strstr(err, "OCTET STRING") != NULL, "%s", err);
	gnutls_x509_crt_deinit(bad);
	inner[0] = 0x04;

	inner[2]--; /* one byte left over after the OCTET STRING */
	bad = crt_der(der.data, der.size);
	ck_assert_int_eq(tg_sct_list_from_cert(bad, &list, &len, err, sizeof(err)), TLSGUARD_E_INVALID);
	gnutls_x509_crt_deinit(bad);
	inner[2] += 2; /* runs past the extension */
	bad = crt_der(der.data, der.size);
	ck_assert_int_eq(tg_sct_list_from_cert(bad, &list, &len, err, sizeof(err)), TLSGUARD_E_INVALID);
	gnutls_x509_crt_deinit(bad);
	inner[2]--;

	/* restored: accepted again */
	bad = crt_der(der.data, der.size);
	ck_assert_int_eq(tg_sct_list_from_cert(bad, &list, &len, err, sizeof(err)), 1);
	gnutls_free(list);
	gnutls_x509_crt_deinit(bad);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(leaf);
}
END_TEST

/* A version 1 issuer (no [0] version field): the SubjectPublicKeyInfo is
 * found all the same. Made for this test with OpenSSL 3.0
 * (`openssl x509 -req -signkey`); the key was thrown away. */
static const char v1_issuer_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBQTCB5wIUe3XggxQ8Vw6y6f74BeXfeZxhzQYwCgYIKoZIzj0EAwIwIjEgMB4G\n"
	"A1UEAwwXdGxzZ3VhcmQgdjEgdGVzdCBpc3N1ZXIwIBcNMjYxMTI4MDMxOTI4WhgP\n"
	"MjEyNjExMDQwMzE5MjhaMCIxIDAeBgNVBAMMF3Rsc2d1YXJkIHYxIHRlc3QgaXNz\n"
	"dWVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpe262ueyCL0nknxEzSCzDgCW\n"
	"+SqgJArySjDHH3DZE1uldci2oNR9uFHhmRDz87oziyHusTN75DNjBww6KKjVYDAK\n"
	"BggqhkjOPQQDAgNJADBGAiEA8lRdm40Bkqk5pXaycPodY5lXKryV8073yUmhJWeG\n"
	"mmECIQChT8QMwUuJer+CCv/Mbqjf+JfRMuQELZEjSeblpwClrQ==\n"
	"-----END CERTIFICATE-----\n";

START_TEST(v1_issuer)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/cloudflare-sni-2025/leaf.pem"),
	                  issuer = crt_pem(v1_issuer_pem, strlen(v1_issuer_pem));
	struct tg_sct_signed sd;
	struct tg_sct s[2];
	unsigned char *list, spki[32];
	size_t len, n, i;

	logs_load();
	ck_assert_int_eq(gnutls_x509_crt_get_version(issuer), 1);
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, NULL, 0), 0);
	ck_assert_int_eq(tg_spki_sha256(issuer, spki), 0);
	ck_assert_mem_eq(sd.issuer_key_hash, spki, 32);
	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, NULL, 0), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, 2, &n, NULL, NULL, 0), 0);
	for (i = 0; i < n; i++) {
		gnutls_pubkey_t key;
		ck_assert_ptr_nonnull(log_name_by_id(s[i].log_id, &key));
		ck_assert_int_eq(tg_sct_verify(&s[i], &sd, key), TLSGUARD_E_VERIFY);
	}
	tg_sct_signed_free(&sd);
	gnutls_free(list);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
	logs_free();
}
END_TEST

/* RSA signatures are exactly as long as the modulus (PKCS #1 v1.5). */
START_TEST(rsa_sig_length)
{
	gnutls_x509_crt_t leaf = crt_rel("google-ct/test-cert.pem");
	struct tg_sct_signed sd;
	struct tg_sct s;
	unsigned char *raw, *list, sig[600];
	size_t len, llen, n;
	gnutls_pubkey_t key;
	gnutls_datum_t data, sg;
	int ret;

	logs_load();
	key = log_by_name("ct-rsa");
	raw = read_rel("google-ct/rsa/test-cert-rsa.proof", &len);
	list = wrap_sct(raw, len, &llen);
	ck_assert_int_eq(tg_sct_list_parse(list, llen, &s, 1, &n, NULL, NULL, 0), 0);
	ck_assert_int_eq(tg_sct_signed_x509(leaf, &sd, NULL, 0), 0);
	ck_assert_uint_eq(s.sig_len, 256);
	ck_assert_int_eq(tg_sct_verify(&s, &sd, key), 0);
	/* a leading zero byte: the same integer, a different encoding */
	sig[0] = 0;
	memcpy(sig + 1, s.sig, s.sig_len);
	data = signed_data(&s, &sd);
	sg.data = sig;
	sg.size = (unsigned)s.sig_len + 1;
	ret = gnutls_pubkey_verify_data2(key, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sg);
	printf("gnutls %s: RSA signature with a leading 0x00 (257 bytes): %s\n", gnutls_check_version(NULL),
	       ret >= 0 ? "ACCEPTED" : gnutls_strerror(ret));
	s.sig = sig;
	s.sig_len++;
	ck_assert_int_eq(tg_sct_verify(&s, &sd, key), TLSGUARD_E_VERIFY);
	free(data.data);
	tg_sct_signed_free(&sd);
	free(list);
	free(raw);
	gnutls_x509_crt_deinit(leaf);
	logs_free();
}
END_TEST

/* One signed-data build per certificate, one allocation per SCT. */
START_TEST(cost)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/aws.amazon.com-2025/leaf.pem"),
	                  issuer = crt_rel("real-world/aws.amazon.com-2025/issuer.pem");
	struct tg_sct_signed sd;
	struct tg_sct s[3];
	unsigned char *list;
	size_t len, n, i;
	unsigned long allocs;

	logs_load();
	ck_assert_int_eq(tg_sct_list_from_cert(leaf, &list, &len, NULL, 0), 1);
	ck_assert_int_eq(tg_sct_list_parse(list, len, s, 3, &n, NULL, NULL, 0), 0);
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, NULL, 0), 0);
	/* tg_alloc_fail_at() counts allocations while a failure is armed */
	tg_alloc_fail_at(1000);
	for (i = 0; i < n; i++) {
		gnutls_pubkey_t key;
		ck_assert_ptr_nonnull(log_name_by_id(s[i].log_id, &key));
		ck_assert_int_eq(tg_sct_verify(&s[i], &sd, key), 0);
	}
	allocs = tg_alloc_fail_at(0);
	ck_assert_uint_eq(allocs, n);
	tg_sct_signed_free(&sd);
	gnutls_free(list);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
	logs_free();
}
END_TEST

START_TEST(precert_nomem)
{
	gnutls_x509_crt_t leaf = crt_rel("real-world/cloudflare-sni-2025/leaf.pem"),
	                  issuer = crt_rel("real-world/cloudflare-sni-2025/issuer-we1.pem");
	struct tg_sct_signed sd;
	char err[256];

	tg_alloc_fail_at(1);
	ck_assert_int_eq(tg_sct_signed_precert(leaf, issuer, &sd, err, sizeof(err)), TLSGUARD_E_NOMEM);
	tg_alloc_fail_at(0);
	ck_assert_ptr_null(sd.entry);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(issuer);
}
END_TEST

/* ------------------------------------------------------------ main */

int main(void)
{
	const char *shared = getenv("TG_SHARED"), *ci = getenv("CI");
	bool have_shared;
	struct stat st;
	Suite *s;
	TCase *tc;
	int rc;

	snprintf(base, sizeof(base), "%s/testdata/ct", shared ? shared : "../shared");
	have_shared = stat(base, &st) == 0 && S_ISDIR(st.st_mode);
	if (!have_shared && ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "check_sct: %s is missing, and CI=true requires it\n", base);
		return EXIT_FAILURE;
	}

	s = suite_create("sct");
	tc = tcase_create("parse");
	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_args);
	tcase_add_test(tc, parse_truncated);
	tcase_add_test(tc, parse_trailing);
	tcase_add_test(tc, parse_lengths);
	tcase_add_test(tc, parse_empty);
	tcase_add_test(tc, parse_empty_signature);
	tcase_add_test(tc, parse_unknown_version);
	tcase_add_test(tc, parse_too_many);
	tcase_add_test(tc, parse_unknown_versions_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, verify_good);
	tcase_add_test(tc, verify_tamper_every_bit);
	tcase_add_test(tc, verify_tamper_fields);
	tcase_add_test(tc, verify_algorithms);
	tcase_add_test(tc, verify_args);
	tcase_add_test(tc, verify_nomem);
	tcase_add_test(tc, verify_ecdsa_strict_der);
	tcase_add_test(tc, gnutls_ber_ecdsa);
	tcase_add_test(tc, splice);
	suite_add_tcase(s, tc);

	if (have_shared) {
		tc = tcase_create("readme");
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, log_ids_match);
		tcase_add_loop_test(tc, embedded, 0, (int)N_EMB);
		tcase_add_loop_test(tc, from_file, 0, (int)N_FILE);
		tcase_add_test(tc, no_sct_extension);
		tcase_add_test(tc, precert_signing_ca);
		tcase_add_test(tc, golden_tbs);
		tcase_add_test(tc, precert_tbs_and_leaf_hashes);
		tcase_add_test(tc, symantec_gnutls);
		tcase_add_test(tc, real_list_truncated);
		tcase_add_test(tc, real_extension_tamper);
		tcase_add_test(tc, extension_wrapper);
		tcase_add_test(tc, cost);
		tcase_add_test(tc, precert_nomem);
		tcase_add_test(tc, v1_issuer);
		tcase_add_test(tc, rsa_sig_length);
		suite_add_tcase(s, tc);
	}
	rc = test_run(s);
	if (!have_shared && rc == EXIT_SUCCESS) {
		printf("check_sct: SKIP: shared test data not found at %s (ran only the self-contained tests)\n", base);
		return 77;
	}
	return rc;
}
