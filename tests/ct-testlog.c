/*
 * ct-testlog: the test suite's own Certificate Transparency logs.
 *
 *   ct-testlog OUTDIR
 *
 * Run after tests/gen-fixtures.sh on the same OUTDIR: reads int-ca.pem/.key
 * and root-ca.pem/.key from it and writes (see tests/data/README.md):
 *
 *   ct-log1.key .. ct-log4.key      P-256 log keys, new on every run
 *   ct-unlisted1.key, ct-unlisted2.key  log keys that are in no list
 *   ct-loglist.json                 v3 log list: operator A runs logs 1-3,
 *                                   operator B log 4; all "usable" since
 *                                   2020-01-01, list timestamp = now
 *   ct-NAME.pem/.der/.key, ct-NAME-chain.pem (leaf + int-ca)
 *                                   leaves for ct.example.test, issued by
 *                                   int-ca, with embedded SCTs:
 *     good          logs 1, 2, 4 (two operators): meets Chrome and Apple
 *     one-operator  logs 1, 2, 3 (operator A only)
 *     too-few       log 1 only
 *     tampered      logs 1, 2, 4; log 2's signature has a byte flipped
 *     unknown-log   unlisted 1, unlisted 2, log 4
 *     future        logs 1, 2, 4; log 4's SCT dated 2026-07-01 (after the
 *                   tests' fixed time 2026-06-01)
 *     wrong-issuer  logs 1, 2, 4 signed with root-ca's key hash as the
 *                   issuer key hash
 *
 * How: the precertificate (the leaf's TBS with the critical poison
 * extension 1.3.6.1.4.1.11129.2.4.3 last) is built and signed; the library
 * (tg_sct_signed_precert) turns it into the signed entry; each log signs
 * v1 SCTs over it (RFC 6962 sec. 3.2); the final certificate is the same
 * TBS with the SCT list extension 1.3.6.1.4.1.11129.2.4.2 in the poison's
 * place. Self-check: the final certificate's entry must equal the
 * precertificate's, and every SCT must verify (or, for the broken
 * variants, fail) exactly as intended; otherwise this program fails.
 *
 * Leaves are valid 2026-05-01..2045-01-01 (more than 180 days: Chrome wants
 * 3 SCTs), so they verify at the tests' fixed time and by the real clock
 * (the demo). SCT timestamps: 2026-05-02T00:00:0N.000Z.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tg.h"
#include "tg_ct.h"

#define OID_SCT_LIST "1.3.6.1.4.1.11129.2.4.2"
#define OID_POISON "1.3.6.1.4.1.11129.2.4.3"

#define T_NOT_BEFORE 1777593600   /* 2026-05-01T00:00:00Z */
#define T_NOT_AFTER 2366841600    /* 2045-01-01T00:00:00Z */
#define SCT_TS INT64_C(1777680000000) /* 2026-05-02T00:00:00.000Z */
#define SCT_FUTURE INT64_C(1782864000000) /* 2026-07-01T00:00:00.000Z */

#define NLOGS 4
#define NUNLISTED 2

static const char *outdir;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ct-testlog: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define G(call)                                                                                                        \
	do {                                                                                                           \
		int g_ret_ = (call);                                                                                   \
		if (g_ret_ < 0)                                                                                        \
			die("%s:%d: %s: %s", __FILE__, __LINE__, #call, gnutls_strerror(g_ret_));                     \
	} while (0)

static const char *path_of(const char *name)
{
	static char bufs[4][4096];
	static unsigned slot;
	char *b = bufs[slot++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", outdir, name);
	return b;
}

static void write_file(const char *name, const void *data, size_t len, const char *mode)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, mode);
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("cannot write %s", p);
}

static gnutls_datum_t load(const char *name)
{
	gnutls_datum_t d = {NULL, 0};
	int ret = gnutls_load_file(path_of(name), &d);
	if (ret < 0)
		die("cannot read %s (run tests/gen-fixtures.sh first): %s", path_of(name), gnutls_strerror(ret));
	return d;
}

static gnutls_x509_crt_t load_crt(const char *name)
{
	gnutls_x509_crt_t c;
	gnutls_datum_t d = load(name);
	G(gnutls_x509_crt_init(&c));
	G(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM));
	gnutls_free(d.data);
	return c;
}

static gnutls_privkey_t load_key(const char *name)
{
	gnutls_privkey_t k;
	gnutls_datum_t d = load(name);
	G(gnutls_privkey_init(&k));
	G(gnutls_privkey_import_x509_raw(k, &d, GNUTLS_X509_FMT_PEM, NULL, 0));
	gnutls_free(d.data);
	return k;
}

/* A new P-256 key, saved as NAME (PEM, SEC1). */
static gnutls_privkey_t new_key(const char *name)
{
	gnutls_x509_privkey_t xk;
	gnutls_privkey_t k;
	gnutls_datum_t pem = {NULL, 0};

	G(gnutls_x509_privkey_init(&xk));
	G(gnutls_x509_privkey_generate(xk, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	G(gnutls_x509_privkey_export2(xk, GNUTLS_X509_FMT_PEM, &pem));
	write_file(name, pem.data, pem.size, "w");
	gnutls_free(pem.data);
	G(gnutls_privkey_init(&k));
	G(gnutls_privkey_import_x509(k, xk, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE));
	return k;
}

struct log {
	const char *file, *desc, *op;
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub;
	unsigned char id[32];
	char *key_b64, *id_b64;
};

static char *b64(const unsigned char *p, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)p, (unsigned)len}, out = {NULL, 0};
	char *s;
	G(gnutls_base64_encode2(&in, &out));
	s = malloc(out.size + 1);
	if (s == NULL)
		die("out of memory");
	memcpy(s, out.data, out.size);
	s[out.size] = '\0';
	gnutls_free(out.data);
	return s;
}

static void log_init(struct log *l)
{
	gnutls_datum_t der = {NULL, 0};

	l->priv = new_key(l->file);
	G(gnutls_pubkey_init(&l->pub));
	G(gnutls_pubkey_import_privkey(l->pub, l->priv, 0, 0));
	G(gnutls_pubkey_export2(l->pub, GNUTLS_X509_FMT_DER, &der));
	G(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, l->id));
	l->key_b64 = b64(der.data, der.size);
	l->id_b64 = b64(l->id, 32);
	gnutls_free(der.data);
}

/* ------------------------------------------------------------ certificates */

struct variant {
	const char *name;
	int logs[3];      /* indexes into the log table; -1 none */
	int tamper;       /* SCT index whose signature is flipped, or -1 */
	int future;       /* SCT index dated SCT_FUTURE, or -1 */
	int wrong_issuer; /* sign over root-ca's key hash */
};

static gnutls_x509_crt_t issuer_crt, root_crt;
static gnutls_privkey_t issuer_key;

/* The leaf with every field fixed by (@serial, @key); @ext_oid/@ext last. */
static gnutls_x509_crt_t build(unsigned serial, gnutls_privkey_t key, const char *ext_oid, const gnutls_datum_t *ext,
                               int critical)
{
	gnutls_x509_crt_t c;
	gnutls_pubkey_t pub;
	unsigned char ser[3] = {(unsigned char)(serial >> 16), (unsigned char)(serial >> 8), (unsigned char)serial};
	unsigned char kid[64];
	size_t kid_len = sizeof(kid);
	static const char cn[] = "ct.example.test", org[] = "tlsguard tests";

	G(gnutls_x509_crt_init(&c));
	G(gnutls_pubkey_init(&pub));
	G(gnutls_pubkey_import_privkey(pub, key, 0, 0));
	G(gnutls_x509_crt_set_version(c, 3));
	G(gnutls_x509_crt_set_serial(c, ser, sizeof(ser)));
	G(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof(cn) - 1));
	G(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org, sizeof(org) - 1));
	G(gnutls_x509_crt_set_activation_time(c, T_NOT_BEFORE));
	G(gnutls_x509_crt_set_expiration_time(c, T_NOT_AFTER));
	G(gnutls_x509_crt_set_pubkey(c, pub));
	G(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, cn, sizeof(cn) - 1, GNUTLS_FSAN_SET));
	G(gnutls_x509_crt_set_basic_constraints(c, 0, -1));
	G(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT));
	G(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0));
	G(gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1, kid, &kid_len));
	G(gnutls_x509_crt_set_subject_key_id(c, kid, kid_len));
	kid_len = sizeof(kid);
	G(gnutls_x509_crt_get_subject_key_id(issuer_crt, kid, &kid_len, NULL));
	G(gnutls_x509_crt_set_authority_key_id(c, kid, kid_len));
	G(gnutls_x509_crt_set_extension_by_oid(c, ext_oid, ext->data, ext->size, (unsigned)critical));
	G(gnutls_x509_crt_privkey_sign(c, issuer_crt, issuer_key, GNUTLS_DIG_SHA256, 0));
	gnutls_pubkey_deinit(pub);
	return c;
}

static void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* One serialized v1 SCT (without its length prefix) into @out; returns its
 * length. Signs exactly what tg_sct_verify() rebuilds. */
static size_t make_sct(const struct log *l, uint64_t ts, const struct tg_sct_signed *sd, unsigned char *out,
                       size_t cap)
{
	gnutls_datum_t data, sig = {NULL, 0};
	unsigned char *buf, *w;
	size_t size = 12 + 32 + 3 + sd->entry_len + 2, n = 0, i;

	buf = malloc(size);
	if (buf == NULL)
		die("out of memory");
	w = buf;
	*w++ = 0; /* v1 */
	*w++ = 0; /* certificate_timestamp */
	for (i = 0; i < 8; i++)
		*w++ = (unsigned char)(ts >> (56 - 8 * i));
	*w++ = 0;
	*w++ = 1; /* precert_entry */
	memcpy(w, sd->issuer_key_hash, 32);
	w += 32;
	*w++ = (unsigned char)(sd->entry_len >> 16);
	*w++ = (unsigned char)(sd->entry_len >> 8);
	*w++ = (unsigned char)sd->entry_len;
	memcpy(w, sd->entry, sd->entry_len);
	w += sd->entry_len;
	*w++ = 0; /* no extensions */
	*w++ = 0;
	data.data = buf;
	data.size = (unsigned)size;
	G(gnutls_privkey_sign_data2(l->priv, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig));
	free(buf);
	if (1 + 32 + 8 + 2 + 2 + 2 + sig.size > cap)
		die("SCT too long");
	out[n++] = 0;
	memcpy(out + n, l->id, 32);
	n += 32;
	for (i = 0; i < 8; i++)
		out[n++] = (unsigned char)(ts >> (56 - 8 * i));
	out[n++] = 0; /* extensions length */
	out[n++] = 0;
	out[n++] = 4; /* sha256 */
	out[n++] = 3; /* ecdsa */
	put16(out + n, sig.size);
	n += 2;
	memcpy(out + n, sig.data, sig.size);
	n += sig.size;
	gnutls_free(sig.data);
	return n;
}

static void export_to(gnutls_x509_crt_t c, const char *name, gnutls_x509_crt_fmt_t fmt, const char *mode)
{
	gnutls_datum_t d = {NULL, 0};
	G(gnutls_x509_crt_export2(c, fmt, &d));
	write_file(name, d.data, d.size, mode);
	gnutls_free(d.data);
}

static void issue(const struct variant *v, unsigned serial, struct log *logs)
{
	static const unsigned char asn1_null[] = {0x05, 0x00};
	gnutls_datum_t poison = {(unsigned char *)(uintptr_t)asn1_null, 2}, ext;
	gnutls_x509_crt_t pre, fin;
	gnutls_privkey_t key;
	struct tg_sct_signed sd, sd_fin, sd_root;
	unsigned char list[4096], ext_der[4200], *p;
	size_t off = 2, n, k, ns = 0;
	struct tg_sct scts[3];
	char name[256], err[512];

	snprintf(name, sizeof(name), "ct-%s.key", v->name);
	key = new_key(name);
	pre = build(serial, key, OID_POISON, &poison, 1);
	if (tg_sct_signed_precert(pre, issuer_crt, &sd, err, sizeof(err)) != 0)
		die("%s: precertificate entry: %s", v->name, err);
	if (v->wrong_issuer) {
		/* the issuer key hash of another CA (root-ca) */
		if (tg_sct_signed_precert(pre, root_crt, &sd_root, err, sizeof(err)) != 0)
			die("%s: precertificate entry: %s", v->name, err);
		memcpy(sd.issuer_key_hash, sd_root.issuer_key_hash, 32);
		tg_sct_signed_free(&sd_root);
	}
	for (k = 0; k < 3 && v->logs[k] >= 0; k++) {
		uint64_t ts = (int)k == v->future ? (uint64_t)SCT_FUTURE : (uint64_t)(SCT_TS + (int64_t)k * 1000);
		n = make_sct(&logs[v->logs[k]], ts, &sd, list + off + 2, sizeof(list) - off - 2);
		if ((int)k == v->tamper)
			list[off + 2 + n - 1] ^= 0x01; /* last byte of s: still DER, wrong value */
		put16(list + off, n);
		off += 2 + n;
	}
	put16(list, off - 2);
	/* DER OCTET STRING around the TLS list */
	p = ext_der;
	*p++ = 0x04;
	if (off < 128) {
		*p++ = (unsigned char)off;
	} else if (off < 256) {
		*p++ = 0x81;
		*p++ = (unsigned char)off;
	} else {
		*p++ = 0x82;
		*p++ = (unsigned char)(off >> 8);
		*p++ = (unsigned char)off;
	}
	memcpy(p, list, off);
	ext.data = ext_der;
	ext.size = (unsigned)(p - ext_der + (ptrdiff_t)off);
	fin = build(serial, key, OID_SCT_LIST, &ext, 0);

	/* Self-check through the library: same entry, and each SCT verifies
	 * exactly when it was meant to. */
	if (tg_sct_signed_precert(fin, issuer_crt, &sd_fin, err, sizeof(err)) != 0)
		die("%s: final certificate entry: %s", v->name, err);
	if (sd_fin.entry_len != sd.entry_len || memcmp(sd_fin.entry, sd.entry, sd.entry_len) != 0)
		die("%s: the final certificate's TBS without the SCT list differs from the precertificate's", v->name);
	{
		unsigned char *got = NULL;
		size_t got_len = 0;
		if (tg_sct_list_from_cert(fin, &got, &got_len, err, sizeof(err)) != 1)
			die("%s: no SCT list in the final certificate: %s", v->name, err);
		if (tg_sct_list_parse(got, got_len, scts, 3, &ns, NULL, err, sizeof(err)) != 0)
			die("%s: SCT list does not parse: %s", v->name, err);
		for (k = 0; k < ns; k++) {
			int rc = tg_sct_verify(&scts[k], &sd_fin, logs[v->logs[k]].pub);
			int want_bad = (int)k == v->tamper || v->wrong_issuer;
			if ((rc != 0) != want_bad)
				die("%s: SCT %zu %s", v->name, k,
				    want_bad ? "verifies but should not" : "does not verify with its log's key");
		}
		gnutls_free(got);
	}

	snprintf(name, sizeof(name), "ct-%s.pem", v->name);
	export_to(fin, name, GNUTLS_X509_FMT_PEM, "w");
	snprintf(name, sizeof(name), "ct-%s.der", v->name);
	export_to(fin, name, GNUTLS_X509_FMT_DER, "wb");
	snprintf(name, sizeof(name), "ct-%s-chain.pem", v->name);
	export_to(fin, name, GNUTLS_X509_FMT_PEM, "w");
	export_to(issuer_crt, name, GNUTLS_X509_FMT_PEM, "a");

	tg_sct_signed_free(&sd);
	tg_sct_signed_free(&sd_fin);
	gnutls_x509_crt_deinit(pre);
	gnutls_x509_crt_deinit(fin);
	gnutls_privkey_deinit(key);
}

/* ------------------------------------------------------------ log list */

static void write_list(struct log *logs)
{
	static const char *ops[2] = {"tlsguard test operator A", "tlsguard test operator B"};
	char now_s[64], buf[16384];
	size_t o = 0, i, k;
	int first;
	time_t now = time(NULL);
	struct tm tm;
	struct tg_loglist *ll = NULL;
	char err[512];

	gmtime_r(&now, &tm);
	strftime(now_s, sizeof(now_s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o,
	                      "{\n  \"version\": \"1.0\",\n  \"log_list_timestamp\": \"%s\",\n  \"operators\": [", now_s);
	for (k = 0; k < 2; k++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		                      "%s\n    {\"name\": \"%s\", \"email\": [\"ct-%c@example.test\"], \"logs\": [",
		                      k ? "," : "", ops[k], (int)('a' + k));
		first = 1;
		for (i = 0; i < NLOGS; i++) {
			if (strcmp(logs[i].op, ops[k]) != 0)
				continue;
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			                      "%s\n      {\"description\": \"%s\", \"log_id\": \"%s\", \"key\": \"%s\", "
			                      "\"url\": \"https://ct.example.test/log%zu/\", \"mmd\": 86400, "
			                      "\"state\": {\"usable\": {\"timestamp\": \"2020-01-01T00:00:00Z\"}}}",
			                      first ? "" : ",", logs[i].desc, logs[i].id_b64, logs[i].key_b64, i + 1);
			first = 0;
		}
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]}");
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\n  ]\n}\n");
	if (o >= sizeof(buf))
		die("log list too long");
	if (tg_loglist_parse(buf, o, "ct-loglist.json", &ll, err, sizeof(err)) != 0)
		die("the generated log list does not parse: %s", err);
	if (ll->n != NLOGS)
		die("the generated log list has %zu logs, not %d", ll->n, NLOGS);
	tg_loglist_free(ll);
	write_file("ct-loglist.json", buf, o, "w");
}

int main(int argc, char **argv)
{
	static struct log logs[NLOGS + NUNLISTED] = {
	    {"ct-log1.key", "tlsguard test log 1", "tlsguard test operator A", NULL, NULL, {0}, NULL, NULL},
	    {"ct-log2.key", "tlsguard test log 2", "tlsguard test operator A", NULL, NULL, {0}, NULL, NULL},
	    {"ct-log3.key", "tlsguard test log 3", "tlsguard test operator A", NULL, NULL, {0}, NULL, NULL},
	    {"ct-log4.key", "tlsguard test log 4", "tlsguard test operator B", NULL, NULL, {0}, NULL, NULL},
	    {"ct-unlisted1.key", "unlisted log 1", "nobody", NULL, NULL, {0}, NULL, NULL},
	    {"ct-unlisted2.key", "unlisted log 2", "nobody", NULL, NULL, {0}, NULL, NULL},
	};
	static const struct variant variants[] = {
	    {"good", {0, 1, 3}, -1, -1, 0},        {"one-operator", {0, 1, 2}, -1, -1, 0},
	    {"too-few", {0, -1, -1}, -1, -1, 0},   {"tampered", {0, 1, 3}, 1, -1, 0},
	    {"unknown-log", {4, 5, 3}, -1, -1, 0}, {"future", {0, 1, 3}, -1, 2, 0},
	    {"wrong-issuer", {0, 1, 3}, -1, -1, 1},
	};
	size_t i;

	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: ct-testlog OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	G(gnutls_global_init());
	issuer_crt = load_crt("int-ca.pem");
	issuer_key = load_key("int-ca.key");
	root_crt = load_crt("root-ca.pem");
	for (i = 0; i < NLOGS + NUNLISTED; i++)
		log_init(&logs[i]);
	write_list(logs);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		issue(&variants[i], 0x2000 + (unsigned)i, logs);
	for (i = 0; i < NLOGS + NUNLISTED; i++) {
		gnutls_privkey_deinit(logs[i].priv);
		gnutls_pubkey_deinit(logs[i].pub);
		free(logs[i].key_b64);
		free(logs[i].id_b64);
	}
	gnutls_x509_crt_deinit(issuer_crt);
	gnutls_x509_crt_deinit(root_crt);
	gnutls_privkey_deinit(issuer_key);
	gnutls_global_deinit();
	return 0;
}
