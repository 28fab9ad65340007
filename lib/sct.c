/*
 * Certificate Transparency SCTs (RFC 6962 sec. 3.2-3.3): the TLS-encoded
 * SignedCertificateTimestampList, the DER wrapping of the X.509 extension
 * that carries it, the data an SCT signs, and the signature check.
 *
 * Everything read here is untrusted. The list parser is our own (GnuTLS's
 * gnutls_x509_ct_sct_get() rounds timestamps to seconds and drops the SCT
 * extensions, both of which are signed). DER is walked with libtasn1's
 * asn1_get_tag_der()/asn1_get_length_der() plus the checks those leave out
 * (minimal lengths, complete headers), and signatures go through GnuTLS.
 *
 * Precert entries: the leaf is normally the final certificate, whose TBS
 * loses its SCT list extension; a precertificate (with the critical poison
 * extension 1.3.6.1.4.1.11129.2.4.3 instead) is accepted too and loses the
 * poison: both give the TBS the log signed. Exactly one of the two must be
 * present. The issuer key hash is SHA-256 of the issuer's
 * SubjectPublicKeyInfo exactly as encoded in its certificate.
 *
 * The list parser counts every SCT, of any version, against @max.
 *
 * Cost: the precertificate TBS and the issuer key hash are built once per
 * certificate (tg_sct_signed_precert); tg_sct_verify() sizes one buffer,
 * copies the fixed entry into it around the per-SCT fields and verifies.
 *
 * Not supported: precertificates issued by a Precertificate Signing
 * Certificate (RFC 6962 sec. 3.1, EKU 1.3.6.1.4.1.11129.2.4.4). For those the
 * log signs a TBS whose issuer (and authority key identifier) are rewritten
 * to the final CA, and the issuer key hash is that CA's, which the
 * (leaf, issuer) interface does not provide. tg_sct_signed_precert() refuses
 * such an issuer with TLSGUARD_E_INVALID and says why, instead of producing
 * data that could only fail to verify. The final certificate, whose issuer
 * is the real CA, verifies normally; that is what a TLS client checks.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "tg.h"
#include "tg_ct.h"

#define OID_SCT_LIST "1.3.6.1.4.1.11129.2.4.2"
#define OID_PRECERT_SIGNER "1.3.6.1.4.1.11129.2.4.4"

/* DER content octets of the two OIDs an entry TBS must not contain. */
static const unsigned char oid_sct_list_der[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};
static const unsigned char oid_poison_der[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};

/* Fixed part of the signed struct: version, signature_type, timestamp,
 * entry_type (RFC 6962 sec. 3.2 "digitally-signed struct"). */
#define SIGNED_FIXED (1 + 1 + 8 + 2)
#define MAX_24 0xffffffu

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------ SCT list */

struct cursor {
	const unsigned char *d;
	size_t pos, end; /* absolute offsets into the list */
	size_t idx;      /* SCT number, from 0 */
	size_t start;    /* offset of the SCT's length field */
	char *err;
	size_t errlen;
};

/* Make sure @need bytes of @what are left inside the current SCT. */
static int need(struct cursor *c, size_t n, const char *what)
{
	if (c->end - c->pos >= n)
		return 0;
	tg_snprintf(c->err, c->errlen,
	            "SCT %zu (at offset %zu): %s at offset %zu needs %zu bytes, the SCT has %zu left", c->idx,
	            c->start, what, c->pos, n, c->end - c->pos);
	return TLSGUARD_E_INVALID;
}

/* The body of a v1 SCT: c->pos .. c->end is exactly the SerializedSCT. */
static int parse_v1(struct cursor *c, struct tg_sct *s)
{
	size_t l;
	int rc;

	c->pos++; /* version, already checked */
	if ((rc = need(c, TG_CT_LOG_ID_LEN, "log id")) != 0)
		return rc;
	memcpy(s->log_id, c->d + c->pos, TG_CT_LOG_ID_LEN);
	c->pos += TG_CT_LOG_ID_LEN;
	if ((rc = need(c, 8, "timestamp")) != 0)
		return rc;
	s->timestamp = get64(c->d + c->pos);
	c->pos += 8;
	if ((rc = need(c, 2, "extensions length")) != 0)
		return rc;
	l = get16(c->d + c->pos);
	c->pos += 2;
	if ((rc = need(c, l, "extensions")) != 0)
		return rc;
	s->ext = c->d + c->pos;
	s->ext_len = l;
	c->pos += l;
	if ((rc = need(c, 2, "signature algorithm")) != 0)
		return rc;
	s->hash_alg = c->d[c->pos];
	s->sig_alg = c->d[c->pos + 1];
	c->pos += 2;
	if ((rc = need(c, 2, "signature length")) != 0)
		return rc;
	l = get16(c->d + c->pos);
	if (l == 0) {
		tg_snprintf(c->err, c->errlen, "SCT %zu (at offset %zu): empty signature at offset %zu", c->idx,
		            c->start, c->pos);
		return TLSGUARD_E_INVALID;
	}
	c->pos += 2;
	if ((rc = need(c, l, "signature")) != 0)
		return rc;
	s->sig = c->d + c->pos;
	s->sig_len = l;
	c->pos += l;
	if (c->pos != c->end) {
		tg_snprintf(c->err, c->errlen,
		            "SCT %zu (at offset %zu): %zu bytes after the signature at offset %zu "
		            "(SCT length says %zu)",
		            c->idx, c->start, c->end - c->pos, c->pos, c->end - c->start - 2);
		return TLSGUARD_E_INVALID;
	}
	return 0;
}

int tg_sct_list_parse(const unsigned char *data, size_t len, struct tg_sct *out, size_t max, size_t *n,
                      size_t *skipped, char *err, size_t errlen)
{
	struct cursor c;
	size_t total = 0, v1 = 0, nskip = 0, list_len;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	else
		errlen = 0;
	if (n != NULL)
		*n = 0;
	if (skipped != NULL)
		*skipped = 0;
	if (n == NULL || (data == NULL && len > 0) || (out == NULL && max > 0))
		return TLSGUARD_E_INVALID;
	if (len < 2) {
		tg_snprintf(err, errlen, "SCT list: %zu bytes, too short for the list length at offset 0", len);
		return TLSGUARD_E_INVALID;
	}
	list_len = get16(data);
	if (list_len == 0) {
		tg_snprintf(err, errlen, "SCT list: empty list (length 0 at offset 0)");
		return TLSGUARD_E_INVALID;
	}
	if (list_len != len - 2) {
		tg_snprintf(err, errlen, "SCT list: list length %zu at offset 0 but %zu bytes follow", list_len,
		            len - 2);
		return TLSGUARD_E_INVALID;
	}

	memset(&c, 0, sizeof(c));
	c.d = data;
	c.err = err;
	c.errlen = errlen;
	c.pos = 2;
	while (c.pos < len) {
		size_t sct_len;

		c.idx = total;
		c.start = c.pos;
		if (len - c.pos < 2) {
			tg_snprintf(err, errlen, "SCT %zu: length at offset %zu truncated (1 byte left in the list)",
			            total, c.pos);
			return TLSGUARD_E_INVALID;
		}
		sct_len = get16(data + c.pos);
		if (sct_len == 0) {
			tg_snprintf(err, errlen, "SCT %zu: empty SCT (length 0 at offset %zu)", total, c.pos);
			return TLSGUARD_E_INVALID;
		}
		if (sct_len > len - c.pos - 2) {
			tg_snprintf(err, errlen,
			            "SCT %zu: length %zu at offset %zu runs past the end of the list (%zu bytes left)",
			            total, sct_len, c.pos, len - c.pos - 2);
			return TLSGUARD_E_INVALID;
		}
		c.pos += 2;
		c.end = c.pos + sct_len;
		if (data[c.pos] != 0) {
			/* Unknown version: its length was checked, its body is not ours
			 * to judge (RFC 6962 sec. 3.3: clients ignore it). */
			nskip++;
		} else {
			struct tg_sct tmp, *s = v1 < max ? &out[v1] : &tmp;
			memset(s, 0, sizeof(*s));
			if ((rc = parse_v1(&c, s)) != 0)
				return rc;
			v1++;
		}
		c.pos = c.end;
		total++;
	}
	/* Every SCT, of any version, counts against @max: a list of thousands of
	 * tiny unknown-version entries is no more acceptable than a long one. */
	if (total > max) {
		tg_snprintf(err, errlen, "SCT list: %zu SCTs, more than the %zu allowed", total, max);
		return TLSGUARD_E_RANGE;
	}
	*n = v1;
	if (skipped != NULL)
		*skipped = nskip;
	return 0;
}

/* ------------------------------------------------------------ DER helpers */

struct tlv {
	unsigned char tag; /* identifier octet (low tag numbers only) */
	size_t hdr;        /* identifier + length octets */
	size_t len;        /* content length */
};

/* One DER TLV at p[0..avail): strict definite, minimal length, complete. */
static int der_tlv(const unsigned char *p, size_t avail, struct tlv *t)
{
	unsigned char cls;
	unsigned long tagnum;
	int tlen = 0, llen = 0;
	long clen;
	int iavail = avail > (size_t)INT32_MAX ? INT32_MAX : (int)avail;

	if (avail < 2 || asn1_get_tag_der(p, iavail, &cls, &tlen, &tagnum) != ASN1_SUCCESS || tlen != 1)
		return -1;
	clen = asn1_get_length_der(p + 1, iavail - 1, &llen);
	if (clen < 0 || llen < 1)
		return -1;
	if (p[1] & 0x80) {
		size_t k = p[1] & 0x7fu;
		/* long form: 1..4 octets, all present, no leading zero, and only
		 * for lengths that the short form cannot express */
		if (k == 0 || k > 4 || (size_t)llen != k + 1 || avail < 2 + k || p[2] == 0 || clen < 128)
			return -1;
	}
	t->tag = p[0];
	t->hdr = 1 + (size_t)llen;
	t->len = (size_t)clen;
	if (t->len > avail - t->hdr)
		return -1;
	return 0;
}

static size_t der_len_size(size_t n)
{
	size_t k = 1;
	if (n < 128)
		return 1;
	while (n > 0) {
		k++;
		n >>= 8;
	}
	return k;
}

static unsigned char *der_put_hdr(unsigned char *p, unsigned char tag, size_t n)
{
	size_t k = der_len_size(n), i;
	*p++ = tag;
	if (k == 1) {
		*p++ = (unsigned char)n;
		return p;
	}
	*p++ = (unsigned char)(0x80 | (k - 1));
	for (i = k - 1; i > 0; i--)
		*p++ = (unsigned char)(n >> (8 * (i - 1)));
	return p;
}

/* The TBSCertificate TLV of a DER Certificate. */
static int cert_tbs(const unsigned char *der, size_t len, const unsigned char **tbs, struct tlv *t)
{
	struct tlv c;
	if (der_tlv(der, len, &c) != 0 || c.tag != 0x30 || c.hdr + c.len != len)
		return -1;
	if (der_tlv(der + c.hdr, c.len, t) != 0 || t->tag != 0x30)
		return -1;
	*tbs = der + c.hdr;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int export_der(gnutls_x509_crt_t crt, gnutls_datum_t *der, const char *who, char *err, size_t errlen)
{
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der);
	if (ret < 0) {
		set_err(err, errlen, "%s: cannot export the certificate: %s", who, gnutls_strerror(ret));
		return ret == GNUTLS_E_MEMORY_ERROR ? TLSGUARD_E_NOMEM : TLSGUARD_E_CERT_PARSE;
	}
	return 0;
}

/* SHA-256 of the issuer's SubjectPublicKeyInfo exactly as encoded in its
 * certificate (not re-encoded: a re-encoding may differ, e.g. in absent
 * versus NULL algorithm parameters). */
static int issuer_key_hash(gnutls_x509_crt_t issuer, unsigned char out[32], char *err, size_t errlen)
{
	gnutls_datum_t der = {NULL, 0};
	const unsigned char *tbs, *p;
	struct tlv t, e;
	size_t off, i;
	int rc;

	if ((rc = export_der(issuer, &der, "issuer", err, errlen)) != 0)
		return rc;
	rc = TLSGUARD_E_CERT_PARSE;
	if (cert_tbs(der.data, der.size, &tbs, &t) != 0)
		goto bad;
	p = tbs + t.hdr;
	off = 0;
	/* [0] version (optional), serial, signature, issuer, validity, subject,
	 * subjectPublicKeyInfo */
	for (i = 0; i < 7; i++) {
		if (off >= t.len || der_tlv(p + off, t.len - off, &e) != 0)
			goto bad;
		if (i == 0 && e.tag != 0xa0)
			i++; /* v1 certificate: no version field */
		if (i == 6)
			break;
		off += e.hdr + e.len;
	}
	if (e.tag != 0x30)
		goto bad;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p + off, e.hdr + e.len, out) < 0) {
		rc = TLSGUARD_E_INTERNAL;
		set_err(err, errlen, "issuer: SHA-256 failed");
		goto out;
	}
	rc = 0;
	goto out;
bad:
	set_err(err, errlen, "issuer: cannot find the SubjectPublicKeyInfo in the DER certificate");
out:
	gnutls_free(der.data);
	return rc;
}

/* Does the issuer carry the Precertificate Signing Certificate EKU? */
static int is_precert_signer(gnutls_x509_crt_t crt)
{
	unsigned i;
	for (i = 0; i < 64; i++) {
		char oid[128];
		size_t sz = sizeof(oid);
		int ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &sz, NULL);
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* longer than ours */
		if (ret < 0)
			return 0;
		if (strcmp(oid, OID_PRECERT_SIGNER) == 0)
			return 1;
	}
	return 0;
}

/*
 * The TBSCertificate of @der without the SCT list extension (or, for a
 * precertificate, the poison extension), in DER: the extension is cut out
 * and the lengths of Extensions, [3] and TBSCertificate re-encoded; with no
 * extension left, [3] goes too. Exactly one of the two extensions must be
 * there.
 */
static int build_precert_tbs(const unsigned char *der, size_t len, unsigned char **out, size_t *outlen, char *err,
                             size_t errlen)
{
	const unsigned char *tbs, *p, *exts = NULL, *cut = NULL;
	struct tlv t, e;
	size_t off, pre_len = 0, exts_len = 0, cut_len = 0, found = 0;
	size_t new_exts, a3_content, tbs_content, total;
	unsigned char *buf, *w;

	if (cert_tbs(der, len, &tbs, &t) != 0) {
		set_err(err, errlen, "leaf: not a DER Certificate SEQUENCE { TBSCertificate, ... }");
		return TLSGUARD_E_CERT_PARSE;
	}
	p = tbs + t.hdr;
	for (off = 0; off < t.len; off += e.hdr + e.len) {
		if (der_tlv(p + off, t.len - off, &e) != 0) {
			set_err(err, errlen, "leaf: bad DER in TBSCertificate at offset %zu",
			        (size_t)(p + off - der));
			return TLSGUARD_E_CERT_PARSE;
		}
		if (e.tag == 0xa3) {
			struct tlv s;
			if (off + e.hdr + e.len != t.len) {
				set_err(err, errlen, "leaf: data after the extensions in TBSCertificate");
				return TLSGUARD_E_CERT_PARSE;
			}
			if (der_tlv(p + off + e.hdr, e.len, &s) != 0 || s.tag != 0x30 || s.hdr + s.len != e.len) {
				set_err(err, errlen, "leaf: [3] is not one Extensions SEQUENCE");
				return TLSGUARD_E_CERT_PARSE;
			}
			pre_len = off;
			exts = p + off + e.hdr + s.hdr;
			exts_len = s.len;
		}
	}
	if (exts == NULL) {
		set_err(err, errlen, "leaf: no extensions, so no SCT list (or precertificate poison) extension");
		return TLSGUARD_E_INVALID;
	}
	for (off = 0; off < exts_len; off += e.hdr + e.len) {
		struct tlv o;
		if (der_tlv(exts + off, exts_len - off, &e) != 0 || e.tag != 0x30 ||
		    der_tlv(exts + off + e.hdr, e.len, &o) != 0 || o.tag != 0x06) {
			set_err(err, errlen, "leaf: bad Extension at offset %zu", (size_t)(exts + off - der));
			return TLSGUARD_E_CERT_PARSE;
		}
		if ((o.len == sizeof(oid_sct_list_der) &&
		     memcmp(exts + off + e.hdr + o.hdr, oid_sct_list_der, o.len) == 0) ||
		    (o.len == sizeof(oid_poison_der) &&
		     memcmp(exts + off + e.hdr + o.hdr, oid_poison_der, o.len) == 0)) {
			found++;
			cut = exts + off;
			cut_len = e.hdr + e.len;
		}
	}
	if (found != 1) {
		set_err(err, errlen,
		        found == 0 ? "leaf: neither an SCT list extension (" OID_SCT_LIST
		                     ") nor a precertificate poison extension"
		                   : "leaf: more than one SCT list or poison extension");
		return TLSGUARD_E_INVALID;
	}

	new_exts = exts_len - cut_len;
	a3_content = new_exts == 0 ? 0 : 1 + der_len_size(new_exts) + new_exts;
	tbs_content = pre_len + (new_exts == 0 ? 0 : 1 + der_len_size(a3_content) + a3_content);
	total = 1 + der_len_size(tbs_content) + tbs_content;
	if (tbs_content > MAX_24) {
		set_err(err, errlen, "leaf: TBSCertificate too long");
		return TLSGUARD_E_INVALID;
	}
	buf = tg_malloc(total);
	if (buf == NULL) {
		set_err(err, errlen, "out of memory");
		return TLSGUARD_E_NOMEM;
	}
	w = der_put_hdr(buf, 0x30, tbs_content);
	memcpy(w, p, pre_len);
	w += pre_len;
	if (new_exts > 0) {
		w = der_put_hdr(w, 0xa3, a3_content);
		w = der_put_hdr(w, 0x30, new_exts);
		memcpy(w, exts, (size_t)(cut - exts));
		w += cut - exts;
		memcpy(w, cut + cut_len, (size_t)(exts + exts_len - (cut + cut_len)));
		w += exts + exts_len - (cut + cut_len);
	}
	if ((size_t)(w - buf) != total) { /* cannot happen */
		tg_free(buf);
		set_err(err, errlen, "internal error building the TBSCertificate");
		return TLSGUARD_E_INTERNAL;
	}
	*out = buf;
	*outlen = total;
	return 0;
}

/* ------------------------------------------------------------ public */

int tg_sct_list_from_cert(gnutls_x509_crt_t crt, unsigned char **list, size_t *len, char *err, size_t errlen)
{
	gnutls_datum_t v = {NULL, 0}, v2 = {NULL, 0};
	struct tlv t;
	int ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (crt == NULL || list == NULL || len == NULL)
		return TLSGUARD_E_INVALID;
	*list = NULL;
	*len = 0;
	ret = gnutls_x509_crt_get_extension_by_oid2(crt, OID_SCT_LIST, 0, &v, NULL);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (ret < 0) {
		set_err(err, errlen, "SCT list extension: %s", gnutls_strerror(ret));
		return ret == GNUTLS_E_MEMORY_ERROR ? TLSGUARD_E_NOMEM : TLSGUARD_E_CERT_PARSE;
	}
	ret = gnutls_x509_crt_get_extension_by_oid2(crt, OID_SCT_LIST, 1, &v2, NULL);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		gnutls_free(v2.data);
		gnutls_free(v.data);
		set_err(err, errlen, "SCT list extension: present more than once");
		return TLSGUARD_E_INVALID;
	}
	if (der_tlv(v.data, v.size, &t) != 0 || t.tag != 0x04 || t.hdr + t.len != v.size) {
		set_err(err, errlen, "SCT list extension: the value (%u bytes) is not exactly one DER OCTET STRING",
		        v.size);
		gnutls_free(v.data);
		return TLSGUARD_E_INVALID;
	}
	if (t.len == 0) {
		set_err(err, errlen, "SCT list extension: empty OCTET STRING");
		gnutls_free(v.data);
		return TLSGUARD_E_INVALID;
	}
	memmove(v.data, v.data + t.hdr, t.len);
	*list = v.data;
	*len = t.len;
	return 1;
}

int tg_sct_signed_precert(gnutls_x509_crt_t leaf, gnutls_x509_crt_t issuer, struct tg_sct_signed *out, char *err,
                          size_t errlen)
{
	gnutls_datum_t der = {NULL, 0};
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return TLSGUARD_E_INVALID;
	memset(out, 0, sizeof(*out));
	if (leaf == NULL || issuer == NULL)
		return TLSGUARD_E_INVALID;
	if (is_precert_signer(issuer)) {
		set_err(err, errlen,
		        "issuer is a Precertificate Signing Certificate (EKU " OID_PRECERT_SIGNER
		        "): rebuilding a precertificate it signed needs the final CA (RFC 6962 sec. 3.1), "
		        "which is not supported; verify the final certificate against its issuer");
		return TLSGUARD_E_INVALID;
	}
	out->entry_type = 1;
	if ((rc = issuer_key_hash(issuer, out->issuer_key_hash, err, errlen)) != 0)
		return rc;
	if ((rc = export_der(leaf, &der, "leaf", err, errlen)) != 0)
		return rc;
	rc = build_precert_tbs(der.data, der.size, &out->entry, &out->entry_len, err, errlen);
	gnutls_free(der.data);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int tg_sct_signed_x509(gnutls_x509_crt_t leaf, struct tg_sct_signed *out, char *err, size_t errlen)
{
	gnutls_datum_t der = {NULL, 0};
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return TLSGUARD_E_INVALID;
	memset(out, 0, sizeof(*out));
	if (leaf == NULL)
		return TLSGUARD_E_INVALID;
	if ((rc = export_der(leaf, &der, "leaf", err, errlen)) != 0)
		return rc;
	if (der.size == 0 || der.size > MAX_24) {
		gnutls_free(der.data);
		set_err(err, errlen, "leaf: certificate size %u outside 1..2^24-1", der.size);
		return TLSGUARD_E_INVALID;
	}
	out->entry = tg_malloc(der.size);
	if (out->entry == NULL) {
		gnutls_free(der.data);
		set_err(err, errlen, "out of memory");
		return TLSGUARD_E_NOMEM;
	}
	memcpy(out->entry, der.data, der.size);
	out->entry_len = der.size;
	out->entry_type = 0;
	gnutls_free(der.data);
	return 0;
}

void tg_sct_signed_free(struct tg_sct_signed *s)
{
	if (s == NULL)
		return;
	tg_free(s->entry);
	memset(s, 0, sizeof(*s));
}

/* One DER INTEGER at p[0..avail) that is positive and minimally encoded. */
static int der_positive_int(const unsigned char *p, size_t avail, size_t *used)
{
	struct tlv t;
	const unsigned char *c;

	if (der_tlv(p, avail, &t) != 0 || t.tag != 0x02 || t.len == 0)
		return -1;
	c = p + t.hdr;
	if (c[0] & 0x80)
		return -1; /* negative */
	if (c[0] == 0 && (t.len == 1 || !(c[1] & 0x80)))
		return -1; /* zero, or a superfluous leading 0x00 */
	*used = t.hdr + t.len;
	return 0;
}

/* Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } in strict DER, and
 * nothing else. GnuTLS 3.7.9 does not check this itself: it verifies
 * signatures with a superfluous leading 0x00 on r or s (the 2015 Symantec
 * SCT), a non-minimal long-form or an indefinite length, and a "negative" s
 * (tests/unit/check_sct.c: gnutls_ber_ecdsa, symantec_gnutls). Each of
 * those is a second encoding of a valid signature. */
static int ecdsa_sig_is_der(const unsigned char *sig, size_t len)
{
	struct tlv t;
	size_t a, b;

	if (der_tlv(sig, len, &t) != 0 || t.tag != 0x30 || t.hdr + t.len != len)
		return 0;
	if (der_positive_int(sig + t.hdr, t.len, &a) != 0)
		return 0;
	if (der_positive_int(sig + t.hdr + a, t.len - a, &b) != 0)
		return 0;
	return a + b == t.len;
}

int tg_sct_verify(const struct tg_sct *sct, const struct tg_sct_signed *sd, gnutls_pubkey_t log_key)
{
	gnutls_sign_algorithm_t algo;
	gnutls_datum_t data, sig;
	unsigned char *buf, *w;
	size_t size, i;
	int ret;

	if (sct == NULL || sd == NULL || log_key == NULL || sd->entry == NULL || sd->entry_len == 0 ||
	    sd->entry_len > MAX_24 || (sd->entry_type != 0 && sd->entry_type != 1) || sct->ext_len > 0xffff ||
	    (sct->ext == NULL && sct->ext_len > 0) || sct->sig == NULL || sct->sig_len == 0)
		return TLSGUARD_E_INVALID;
	if (sct->hash_alg != 4 /* sha256 */)
		return TLSGUARD_E_INVALID;
	if (sct->sig_alg == 3 /* ecdsa */) {
		algo = GNUTLS_SIGN_ECDSA_SHA256;
		if (!ecdsa_sig_is_der(sct->sig, sct->sig_len))
			return TLSGUARD_E_VERIFY;
	} else if (sct->sig_alg == 1 /* rsa */) {
		unsigned bits = 0;
		algo = GNUTLS_SIGN_RSA_SHA256;
		/* PKCS #1 v1.5: exactly as long as the modulus (GnuTLS 3.7.9
		 * checks this too; not left to it) */
		if (gnutls_pubkey_get_pk_algorithm(log_key, &bits) == GNUTLS_PK_RSA && sct->sig_len != (bits + 7) / 8)
			return TLSGUARD_E_VERIFY;
	} else {
		return TLSGUARD_E_INVALID;
	}

	/* One buffer, sized once: fixed header, entry, extensions. */
	size = SIGNED_FIXED + (sd->entry_type == 1 ? 32 : 0) + 3 + sd->entry_len + 2 + sct->ext_len;
	buf = tg_malloc(size);
	if (buf == NULL)
		return TLSGUARD_E_NOMEM;
	w = buf;
	*w++ = 0; /* version v1 */
	*w++ = 0; /* signature_type certificate_timestamp */
	for (i = 0; i < 8; i++)
		*w++ = (unsigned char)(sct->timestamp >> (56 - 8 * i));
	*w++ = 0;
	*w++ = (unsigned char)sd->entry_type;
	if (sd->entry_type == 1) {
		memcpy(w, sd->issuer_key_hash, 32);
		w += 32;
	}
	*w++ = (unsigned char)(sd->entry_len >> 16);
	*w++ = (unsigned char)(sd->entry_len >> 8);
	*w++ = (unsigned char)sd->entry_len;
	memcpy(w, sd->entry, sd->entry_len);
	w += sd->entry_len;
	*w++ = (unsigned char)(sct->ext_len >> 8);
	*w++ = (unsigned char)sct->ext_len;
	if (sct->ext_len > 0)
		memcpy(w, sct->ext, sct->ext_len);

	data.data = buf;
	data.size = (unsigned)size;
	sig.data = (unsigned char *)(uintptr_t)sct->sig;
	sig.size = (unsigned)sct->sig_len;
	ret = gnutls_pubkey_verify_data2(log_key, algo, 0, &data, &sig);
	tg_free(buf);
	if (ret == GNUTLS_E_MEMORY_ERROR)
		return TLSGUARD_E_NOMEM;
	return ret < 0 ? TLSGUARD_E_VERIFY : 0;
}
