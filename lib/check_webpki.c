/*
 * Check "webpki": the certificate profile of RFC 5280 and the CA/Browser
 * Forum Baseline Requirements, where GnuTLS's verification is more lenient
 * than browsers and modern validators (measured with the x509-limbo suite,
 * tests/limbo.sh). Each rule is a separate function below, with its own
 * event code:
 *
 *   rule_version      v1/v2 certificates                  old-certificate-version
 *   rule_serial       serial zero, negative, > 20 octets  bad-serial-number
 *   rule_extensions   duplicate extensions; critical AIA,
 *                     malformed AIA, non-critical policy
 *                     constraints, name constraints in a
 *                     leaf                                 bad-extension
 *   rule_basic        CA without critical cA=TRUE, leaf
 *                     with cA=TRUE                         bad-basic-constraints
 *   rule_key_usage    keyCertSign in a leaf, CA without it bad-key-usage
 *   rule_key_ids      AKI/SKI presence, criticality, form  bad-key-identifier
 *   rule_names        empty CA subject; leaf SAN present,
 *                     critical exactly when the subject is
 *                     empty, DNS/IP syntax, CN among SANs  bad-subject-names
 *   rule_constraints  name constraints: well-formed, and
 *                     applied to the SANs of every
 *                     certificate below (intermediates
 *                     too), wildcards against excluded
 *                     names                                name-constraints
 *
 * The rules apply to the leaf and the intermediates of the path, and to
 * the trust anchor when it comes from the context's own CA files
 * (tg_anchor_profiled): the system store's roots are vetted by the
 * distribution's root program, and a few long-trusted ones predate these
 * rules (e.g. non-critical basicConstraints). Name constraints of every
 * anchor are applied.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "tg.h"

#define OID_SKI "2.5.29.14"
#define OID_KU "2.5.29.15"
#define OID_SAN "2.5.29.17"
#define OID_BC "2.5.29.19"
#define OID_NC "2.5.29.30"
#define OID_AKI "2.5.29.35"
#define OID_PC "2.5.29.36"
#define OID_EKU "2.5.29.37"
#define OID_AIA "1.3.6.1.5.5.7.1.1"

/* Products of names and constraints checked, at most, per constraining CA:
 * a chain built to make the check quadratic is refused instead. */
#define NC_WORK_MAX (1u << 20)

enum role { LEAF, INTERMEDIATE, ANCHOR };

struct cert {
	gnutls_x509_crt_t crt;
	int index;       /* presented index, -1 for the anchor */
	enum role role;
	const char *what; /* "certificate 2", "trust anchor" */
	char label[32];
	/* Extensions seen: index + 1 of the first occurrence (0 = absent), and
	 * criticality. */
	unsigned ext_ski, ext_ku, ext_san, ext_bc, ext_nc, ext_aki, ext_pc, ext_eku, ext_aia;
	bool crit_ski, crit_san, crit_nc, crit_aki, crit_pc, crit_aia;
	/* Set when the rules only count failures instead of adding events
	 * (path selection, tg_webpki_path_constraints_ok). */
	unsigned *quiet;
};

bool tg_anchor_profiled(const struct tg_eval *e)
{
	/* A server certificate trusted as itself (a self-signed leaf given
	 * as a CA file, the oldest form of pinning) issues nothing: the leaf
	 * rules have judged it already, CA rules do not apply. */
	if (e->anchor != NULL && e->npath == 1 && gnutls_x509_crt_equals(e->anchor, e->certs[e->path[0]]))
		return false;
	return e->anchor != NULL && !e->ctx->cfg.use_system_ca;
}

static void fail(struct tg_eval *e, const struct cert *c, int code, const char *why)
{
	if (c->quiet != NULL) {
		++*c->quiet;
		return;
	}
	tg_event_add(e, code, TLSGUARD_SEV_FATAL, c->index, "%s: %s", c->what, why);
}

/* Minimal DER reading: the tag and content of the TLV at *p (< end). */
static bool der_next(const unsigned char **p, const unsigned char *end, unsigned *tag, const unsigned char **val,
                     size_t *len)
{
	const unsigned char *q = *p;
	size_t l, n;

	if (end - q < 2)
		return false;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f) /* multi-byte tags never occur here */
		return false;
	l = *q++;
	if (l & 0x80) {
		n = l & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return false;
		for (l = 0; n > 0; n--)
			l = (l << 8) | *q++;
	}
	if ((size_t)(end - q) < l)
		return false;
	*val = q;
	*len = l;
	*p = q + l;
	return true;
}

/* Does @crt carry a nameConstraints extension that GnuTLS must not be
 * handed? GnuTLS 3.7.9 implements subtrees of rfc822Name, dNSName,
 * directoryName, URI and iPAddress only; for any other type (otherName,
 * x400Address, ediPartyName, registeredID) its parser fails, and leaks
 * the names read so far (in gnutls_x509_crt_get_name_constraints() and
 * inside its own chain verification: seen with LeakSanitizer on x509-limbo
 * rfc5280::nc::nc-forbids-othername). Its verification then refuses the
 * chain anyway ("violates the signer's constraints"), so the callers
 * refuse such a path without asking GnuTLS. An extension this scan cannot
 * read counts too (fail closed). */
bool tg_nc_unsupported(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = {NULL, 0};
	const unsigned char *p, *end, *val, *q, *qend, *st, *stend, *v;
	unsigned crit = 0, tag;
	size_t len, l;
	bool bad = false;

	if (gnutls_x509_crt_get_extension_by_oid2(crt, OID_NC, 0, &d, &crit) < 0)
		return false; /* absent (unreadable extensions are the decoder's) */
	p = d.data;
	end = d.data + d.size;
	/* NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees
	 * OPTIONAL, excludedSubtrees [1] GeneralSubtrees OPTIONAL };
	 * GeneralSubtree ::= SEQUENCE { base GeneralName, ... } */
	if (!der_next(&p, end, &tag, &val, &len) || tag != 0x30 || p != end) {
		bad = true;
		goto out;
	}
	q = val;
	qend = val + len;
	while (!bad && q < qend) {
		if (!der_next(&q, qend, &tag, &st, &l) || (tag != 0xa0 && tag != 0xa1)) {
			bad = true;
			break;
		}
		stend = st + l;
		while (!bad && st < stend) {
			const unsigned char *sub;
			if (!der_next(&st, stend, &tag, &sub, &l) || tag != 0x30 || !der_next(&sub, sub + l, &tag, &v, &l))
				bad = true;
			else if ((tag & 0xc0) != 0x80) /* a GeneralName is context-specific */
				bad = true;
			else
				switch (tag & 0x1f) {
				case 1: /* rfc822Name */
				case 2: /* dNSName */
				case 4: /* directoryName */
				case 6: /* uniformResourceIdentifier */
				case 7: /* iPAddress */
					break;
				default:
					bad = true;
				}
		}
	}
out:
	gnutls_free(d.data);
	return bad;
}

static int get_ext(gnutls_x509_crt_t crt, unsigned pos, gnutls_datum_t *out)
{
	return gnutls_x509_crt_get_extension_data2(crt, pos, out);
}

static void rule_version(struct tg_eval *e, const struct cert *c)
{
	int v = gnutls_x509_crt_get_version(c->crt);
	char why[96];

	if (v < 3) {
		tg_snprintf(why, sizeof(why), "X.509 version %d; only version 3 certificates are accepted", v);
		fail(e, c, TLSGUARD_EV_OLD_CERT_VERSION, why);
	}
}

static void rule_serial(struct tg_eval *e, const struct cert *c)
{
	unsigned char serial[64];
	size_t size = sizeof(serial), i, start = 0;
	bool zero = true;

	if (gnutls_x509_crt_get_serial(c->crt, serial, &size) < 0) {
		fail(e, c, TLSGUARD_EV_BAD_SERIAL, "the serial number is unreadable or longer than 64 octets");
		return;
	}
	if (size == 0) {
		fail(e, c, TLSGUARD_EV_BAD_SERIAL, "the serial number is empty");
		return;
	}
	if (serial[0] & 0x80) {
		fail(e, c, TLSGUARD_EV_BAD_SERIAL, "the serial number is negative (RFC 5280 4.1.2.2)");
		return;
	}
	for (i = 0; i < size; i++)
		zero &= serial[i] == 0;
	if (zero) {
		fail(e, c, TLSGUARD_EV_BAD_SERIAL, "the serial number is zero (RFC 5280 4.1.2.2)");
		return;
	}
	/* A positive number with its top bit set needs a leading zero octet in
	 * DER; the 20-octet limit is on the number. */
	if (size > 1 && serial[0] == 0)
		start = 1;
	if (size - start > 20)
		fail(e, c, TLSGUARD_EV_BAD_SERIAL, "the serial number is longer than 20 octets (RFC 5280 4.1.2.2)");
}

/* Walk the extensions: record where each one we care about is, and refuse
 * duplicates (RFC 5280 4.2: "MUST NOT include more than one instance"). */
static void rule_extensions(struct tg_eval *e, struct cert *c)
{
	char oids[64][128];
	unsigned k, j;

	for (k = 0; k < 64; k++) {
		char oid[128];
		size_t size = sizeof(oid);
		unsigned crit = 0;
		int ret = gnutls_x509_crt_get_extension_info(c->crt, k, oid, &size, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			fail(e, c, TLSGUARD_EV_BAD_EXTENSION, "an extension is unreadable");
			return;
		}
		for (j = 0; j < k; j++)
			if (strcmp(oids[j], oid) == 0) {
				char why[192];
				tg_snprintf(why, sizeof(why), "extension %s appears more than once (RFC 5280 4.2)", oid);
				fail(e, c, TLSGUARD_EV_BAD_EXTENSION, why);
			}
		memcpy(oids[k], oid, sizeof(oid));
		{
			/* Where each extension of interest is (first occurrence). */
			static const struct {
				const char *oid;
				size_t pos, crit; /* offsets into struct cert; crit 0: not kept */
			} tab[] = {
			    {OID_SKI, offsetof(struct cert, ext_ski), offsetof(struct cert, crit_ski)},
			    {OID_KU, offsetof(struct cert, ext_ku), 0},
			    {OID_SAN, offsetof(struct cert, ext_san), offsetof(struct cert, crit_san)},
			    {OID_BC, offsetof(struct cert, ext_bc), 0},
			    {OID_NC, offsetof(struct cert, ext_nc), offsetof(struct cert, crit_nc)},
			    {OID_AKI, offsetof(struct cert, ext_aki), offsetof(struct cert, crit_aki)},
			    {OID_PC, offsetof(struct cert, ext_pc), offsetof(struct cert, crit_pc)},
			    {OID_EKU, offsetof(struct cert, ext_eku), 0},
			    {OID_AIA, offsetof(struct cert, ext_aia), offsetof(struct cert, crit_aia)},
			};
			size_t t;
			for (t = 0; t < sizeof(tab) / sizeof(tab[0]); t++) {
				unsigned *posp = (unsigned *)(void *)((char *)c + tab[t].pos);
				if (strcmp(oid, tab[t].oid) != 0 || *posp != 0)
					continue;
				*posp = k + 1;
				if (tab[t].crit != 0)
					*(bool *)(void *)((char *)c + tab[t].crit) = crit != 0;
			}
		}
	}
	if (k == 64) {
		fail(e, c, TLSGUARD_EV_BAD_EXTENSION, "more than 64 extensions");
		return;
	}
	if (c->ext_aia) {
		gnutls_datum_t d = {NULL, 0};
		const unsigned char *p, *end, *val;
		unsigned tag;
		size_t len;

		if (c->crit_aia)
			fail(e, c, TLSGUARD_EV_BAD_EXTENSION, "authorityInfoAccess is marked critical (RFC 5280 4.2.2.1)");
		/* AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF
		 * AccessDescription (a SEQUENCE each). */
		if (get_ext(c->crt, c->ext_aia - 1, &d) == 0) {
			p = d.data;
			end = d.data + d.size;
			if (!der_next(&p, end, &tag, &val, &len) || tag != 0x30 || p != end || len == 0 ||
			    !der_next(&val, val + len, &tag, &p, &len) || tag != 0x30)
				fail(e, c, TLSGUARD_EV_BAD_EXTENSION,
				     "authorityInfoAccess holds no access description (CA/B Forum BR 7.1.2.7.7)");
			gnutls_free(d.data);
		} else {
			fail(e, c, TLSGUARD_EV_BAD_EXTENSION, "authorityInfoAccess is unreadable");
		}
	}
	if (c->ext_pc && !c->crit_pc)
		fail(e, c, TLSGUARD_EV_BAD_EXTENSION, "policyConstraints is not marked critical (RFC 5280 4.2.1.11)");
	if (c->ext_nc && c->role == LEAF)
		fail(e, c, TLSGUARD_EV_BAD_EXTENSION,
		     "a leaf certificate carries nameConstraints, which only CA certificates may (RFC 5280 4.2.1.10)");
}

static void rule_basic(struct tg_eval *e, const struct cert *c)
{
	unsigned crit = 0, ca = 0;
	int pathlen = -1;
	int ret = gnutls_x509_crt_get_basic_constraints(c->crt, &crit, &ca, &pathlen);

	if (c->role == LEAF) {
		if (ret >= 0 && ca)
			fail(e, c, TLSGUARD_EV_BAD_BASIC_CONSTRAINTS,
			     "the server's own certificate is a CA certificate (basicConstraints cA=TRUE; CA/B Forum BR "
			     "7.1.2.7.8)");
		return;
	}
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		fail(e, c, TLSGUARD_EV_BAD_BASIC_CONSTRAINTS,
		     "an issuing certificate has no basicConstraints extension (RFC 5280 4.2.1.9)");
	else if (ret < 0)
		fail(e, c, TLSGUARD_EV_BAD_BASIC_CONSTRAINTS, "basicConstraints is unreadable");
	else if (!ca)
		fail(e, c, TLSGUARD_EV_BAD_BASIC_CONSTRAINTS, "an issuing certificate has basicConstraints cA=FALSE");
	else if (!crit)
		fail(e, c, TLSGUARD_EV_BAD_BASIC_CONSTRAINTS,
		     "basicConstraints of a CA certificate is not marked critical (RFC 5280 4.2.1.9)");
}

static void rule_key_usage(struct tg_eval *e, const struct cert *c)
{
	unsigned ku = 0, crit = 0;
	int ret = gnutls_x509_crt_get_key_usage(c->crt, &ku, &crit);

	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return;
	if (ret < 0) {
		fail(e, c, TLSGUARD_EV_BAD_KEY_USAGE, "keyUsage is unreadable");
		return;
	}
	if (c->role == LEAF && (ku & GNUTLS_KEY_KEY_CERT_SIGN))
		fail(e, c, TLSGUARD_EV_BAD_KEY_USAGE,
		     "the server's own certificate may sign certificates (keyUsage keyCertSign; RFC 5280 4.2.1.9, "
		     "CA/B Forum BR 7.1.2.7.11)");
	else if (c->role != LEAF && !(ku & GNUTLS_KEY_KEY_CERT_SIGN))
		fail(e, c, TLSGUARD_EV_BAD_KEY_USAGE,
		     "an issuing certificate's keyUsage does not allow keyCertSign (RFC 5280 4.2.1.3)");
}

/* SKI of @crt into @buf (*len in/out); false when absent or unreadable. */
static bool get_ski(gnutls_x509_crt_t crt, unsigned char *buf, size_t *len)
{
	unsigned crit;
	return gnutls_x509_crt_get_subject_key_id(crt, buf, len, &crit) >= 0;
}

static void rule_key_ids(struct tg_eval *e, const struct cert *c)
{
	gnutls_datum_t d = {NULL, 0};
	const unsigned char *p, *end, *val, *kid = NULL;
	unsigned tag;
	size_t len, kidlen = 0;
	bool issuer = false, serial = false, bad = false;
	bool self = tg_crt_self_issued(c->crt);

	if (c->ext_ski && c->crit_ski)
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER, "subjectKeyIdentifier is marked critical (RFC 5280 4.2.1.2)");
	if (c->role != LEAF && !c->ext_ski)
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER,
		     "a CA certificate has no subjectKeyIdentifier (RFC 5280 4.2.1.2)");
	if (!c->ext_aki) {
		/* Only a self-signed root may go without (RFC 5280 4.2.1.1); a
		 * trust anchor is taken as a name and a key, whatever issued it. */
		if (!self && c->role != ANCHOR)
			fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER,
			     "no authorityKeyIdentifier, which every certificate not self-signed must have (RFC 5280 "
			     "4.2.1.1)");
		return;
	}
	if (c->crit_aki)
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER, "authorityKeyIdentifier is marked critical (RFC 5280 4.2.1.1)");
	if (get_ext(c->crt, c->ext_aki - 1, &d) != 0) {
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER, "authorityKeyIdentifier is unreadable");
		return;
	}
	/* AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier, [1]
	 * authorityCertIssuer, [2] authorityCertSerialNumber } */
	p = d.data;
	end = d.data + d.size;
	if (!der_next(&p, end, &tag, &val, &len) || tag != 0x30 || p != end) {
		bad = true;
	} else {
		const unsigned char *q = val, *qend = val + len, *v;
		size_t l;
		while (q < qend) {
			if (!der_next(&q, qend, &tag, &v, &l)) {
				bad = true;
				break;
			}
			if (tag == 0x80) {
				kid = v;
				kidlen = l;
			} else if (tag == 0xa1) {
				issuer = true;
			} else if (tag == 0x82) {
				serial = true;
			} else {
				bad = true;
			}
		}
	}
	if (bad)
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER, "authorityKeyIdentifier is malformed");
	else if (kid == NULL || kidlen == 0)
		fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER,
		     "authorityKeyIdentifier has no keyIdentifier (RFC 5280 4.2.1.1, CA/B Forum BR 7.1.2.1.3)");
	else if (c->role == ANCHOR && self) {
		/* CA/B Forum BR 7.1.2.1.3, root CA: keyIdentifier only, equal to
		 * the subjectKeyIdentifier. */
		unsigned char ski[64];
		size_t skilen = sizeof(ski);
		if (issuer || serial)
			fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER,
			     "a root's authorityKeyIdentifier names an issuer or serial number (CA/B Forum BR 7.1.2.1.3)");
		if (get_ski(c->crt, ski, &skilen) && (skilen != kidlen || memcmp(ski, kid, kidlen) != 0))
			fail(e, c, TLSGUARD_EV_BAD_KEY_IDENTIFIER,
			     "a root's authorityKeyIdentifier differs from its subjectKeyIdentifier (CA/B Forum BR "
			     "7.1.2.1.3)");
	}
	gnutls_free(d.data);
}

/* A dNSName in preferred name syntax (RFC 5280 4.2.1.6, RFC 1034 3.5):
 * letter-digit-hyphen labels of 1..63 octets, no empty label, at most 253
 * octets; a wildcard only as the whole left-most label "*" of a name with
 * at least two more labels. */
static bool dns_syntax_ok(const char *n, size_t len)
{
	size_t i, lab = 0, labels = 0;

	if (len == 0 || len > 253)
		return false;
	if (len >= 2 && n[0] == '*' && n[1] == '.') {
		n += 2;
		len -= 2;
		if (memchr(n, '.', len) == NULL)
			return false;
	}
	for (i = 0; i < len; i++) {
		char ch = n[i];
		if (ch == '.') {
			if (lab == 0 || n[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (lab == 0) {
			labels++;
			if (ch == '-')
				return false;
		}
		if (++lab > 63)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
	}
	return lab > 0 && n[len - 1] != '-' && labels > 0;
}

static void rule_names(struct tg_eval *e, const struct cert *c)
{
	gnutls_datum_t dn = {NULL, 0};
	bool empty_subject;
	unsigned seq, idx;
	char why[512];

	if (gnutls_x509_crt_get_raw_dn(c->crt, &dn) < 0) {
		fail(e, c, TLSGUARD_EV_BAD_NAMES, "the subject is unreadable");
		return;
	}
	empty_subject = dn.size <= 2; /* "30 00": an empty RDNSequence */
	gnutls_free(dn.data);
	if (c->role != LEAF) {
		if (empty_subject)
			fail(e, c, TLSGUARD_EV_BAD_NAMES, "a CA certificate has an empty subject (RFC 5280 4.1.2.6)");
		return;
	}
	if (!c->ext_san) {
		fail(e, c, TLSGUARD_EV_BAD_NAMES, "no subjectAltName extension (CA/B Forum BR 7.1.2.7.12)");
		return;
	}
	if (empty_subject && !c->crit_san)
		fail(e, c, TLSGUARD_EV_BAD_NAMES,
		     "the subject is empty and subjectAltName is not marked critical (RFC 5280 4.2.1.6)");
	else if (!empty_subject && c->crit_san)
		fail(e, c, TLSGUARD_EV_BAD_NAMES,
		     "subjectAltName is marked critical although the subject is not empty (CA/B Forum BR 7.1.2.7.12)");
	for (seq = 0;; seq++) {
		char buf[1024];
		size_t size = sizeof(buf);
		int type = gnutls_x509_crt_get_subject_alt_name(c->crt, seq, buf, &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME && !dns_syntax_ok(buf, size)) {
			tg_snprintf(why, sizeof(why), "subjectAltName DNS name '%.*s' is not a valid host name (RFC 5280 4.2.1.6)",
			            (int)(size > 255 ? 255 : size), buf);
			fail(e, c, TLSGUARD_EV_BAD_NAMES, why);
		} else if (type == GNUTLS_SAN_IPADDRESS && size != 4 && size != 16) {
			tg_snprintf(why, sizeof(why), "subjectAltName IP address of %zu octets (4 or 16 required)", size);
			fail(e, c, TLSGUARD_EV_BAD_NAMES, why);
		} else if (type < 0 && type != GNUTLS_E_SHORT_MEMORY_BUFFER) {
			tg_snprintf(why, sizeof(why), "subjectAltName entry %u is unreadable: %s", seq, gnutls_strerror(type));
			fail(e, c, TLSGUARD_EV_BAD_NAMES, why);
		}
	}
	/* CA/B Forum BR 7.1.4.3: a commonName, if present, is a character-for-
	 * character copy of a SAN entry (an IP address in its RFC 5952 /
	 * dotted-decimal text). */
	for (idx = 0;; idx++) {
		char cn[1024];
		size_t cnlen = sizeof(cn);
		bool found = false;
		int ret = gnutls_x509_crt_get_dn_by_oid(c->crt, GNUTLS_OID_X520_COMMON_NAME, idx, 0, cn, &cnlen);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			fail(e, c, TLSGUARD_EV_BAD_NAMES, "the subject commonName is unreadable or too long");
			break;
		}
		for (seq = 0; !found; seq++) {
			char buf[1024], txt[64];
			size_t size = sizeof(buf);
			int type = gnutls_x509_crt_get_subject_alt_name(c->crt, seq, buf, &size, NULL);
			if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (type == GNUTLS_SAN_DNSNAME)
				found = size == cnlen && memcmp(buf, cn, size) == 0;
			else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16) &&
			         inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, txt, sizeof(txt)) != NULL)
				found = strlen(txt) == cnlen && memcmp(txt, cn, cnlen) == 0;
		}
		if (!found) {
			tg_snprintf(why, sizeof(why),
			            "the subject commonName '%.200s' is not exactly one of the subjectAltName entries (CA/B "
			            "Forum BR 7.1.4.3)",
			            cn);
			fail(e, c, TLSGUARD_EV_BAD_NAMES, why);
		}
	}
}

static bool ieq(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i;
	if (al != bl)
		return false;
	for (i = 0; i < al; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* Apply the name constraints of @ca (at path position @pos, or the anchor
 * when @pos == e->npath) to the SANs of every certificate below it. */
static int rule_constraints(struct tg_eval *e, const struct cert *ca, size_t pos)
{
	/* Constraints of a name type GnuTLS does not implement (otherName,
	 * say) are refused (tg_nc_unsupported), even when no certificate
	 * below has a name of that type: x509-limbo
	 * rfc5280::nc::nc-forbids-othername-noop, which RFC 5280 6.1.3 lets
	 * pass, fails. GnuTLS's own chain verification refuses such a path
	 * too ("violates the signer's constraints"), so accepting it would
	 * mean replacing that verification for every path under such a CA,
	 * and implementing those name types; such constraints are rare in the
	 * web PKI, and refusing is fail closed. */
	gnutls_x509_name_constraints_t nc;
	unsigned crit = 0, k, type, nperm = 0, nexcl = 0;
	gnutls_datum_t name;
	char why[512];
	size_t j;
	int ret;

	if (tg_nc_unsupported(ca->crt)) {
		fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS,
		     "nameConstraints is malformed or constrains a name type that cannot be checked (otherName, "
		     "x400Address, ediPartyName or registeredID)");
		return 0;
	}
	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return TLSGUARD_E_NOMEM;
	ret = gnutls_x509_crt_get_name_constraints(ca->crt, nc, 0, &crit);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && !ca->ext_nc)
		goto out;
	if (ret < 0) {
		fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS, "nameConstraints is malformed");
		goto out;
	}
	/* Every DNS subtree must be a host name, not ".example.com" (that
	 * form is for URIs and e-mail; RFC 5280 4.2.1.10). */
	for (k = 0; gnutls_x509_name_constraints_get_permitted(nc, k, &type, &name) >= 0; k++) {
		nperm++;
		if (type == GNUTLS_SAN_DNSNAME && name.size > 0 && name.data[0] == '.') {
			tg_snprintf(why, sizeof(why), "nameConstraints permits the malformed DNS name '%.*s'",
			            (int)(name.size > 255 ? 255 : name.size), name.data);
			fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS, why);
		}
	}
	for (k = 0; gnutls_x509_name_constraints_get_excluded(nc, k, &type, &name) >= 0; k++) {
		nexcl++;
		if (type == GNUTLS_SAN_DNSNAME && name.size > 0 && name.data[0] == '.') {
			tg_snprintf(why, sizeof(why), "nameConstraints excludes the malformed DNS name '%.*s'",
			            (int)(name.size > 255 ? 255 : name.size), name.data);
			fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS, why);
		}
	}
	if (nperm + nexcl == 0) {
		fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS,
		     "nameConstraints has neither permitted nor excluded subtrees (RFC 5280 4.2.1.10, CA/B Forum BR "
		     "7.1.2.5.2)");
		goto out;
	}
	for (j = 0; j < pos; j++) {
		gnutls_x509_crt_t sub = e->certs[e->path[j]];
		unsigned seq, nsans = 0;
		/* RFC 5280 6.1.3 (b): self-issued intermediates are exempt. */
		if (j > 0 && tg_crt_self_issued(sub))
			continue;
		for (seq = 0;; seq++) {
			char buf[1024];
			size_t size = sizeof(buf);
			int st = gnutls_x509_crt_get_subject_alt_name(sub, seq, buf, &size, NULL);
			gnutls_datum_t d = {(unsigned char *)buf, (unsigned)size};
			if (st == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (st != GNUTLS_SAN_DNSNAME && st != GNUTLS_SAN_IPADDRESS)
				continue;
			if ((size_t)++nsans * (nperm + nexcl) > NC_WORK_MAX) {
				fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS,
				     "too many names under too many name constraints to check (refused, as browsers do)");
				goto out;
			}
			if (!gnutls_x509_name_constraints_check(nc, (gnutls_x509_subject_alt_name_t)st, &d)) {
				tg_snprintf(why, sizeof(why), "certificate %zu's name %s%.*s is outside its name constraints",
				            e->path[j], st == GNUTLS_SAN_DNSNAME ? "" : "(IP) ",
				            st == GNUTLS_SAN_DNSNAME ? (int)(size > 255 ? 255 : size) : 0, buf);
				fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS, why);
				continue;
			}
			/* A wildcard "*.S" also stands for every "x.S": an
			 * excluded "bar.S" must refuse it (CVE-2025-61727). */
			if (st == GNUTLS_SAN_DNSNAME && size > 2 && buf[0] == '*' && buf[1] == '.') {
				for (k = 0; gnutls_x509_name_constraints_get_excluded(nc, k, &type, &name) >= 0; k++) {
					const char *dot;
					if (type != GNUTLS_SAN_DNSNAME || name.size == 0)
						continue;
					dot = memchr(name.data, '.', name.size);
					if (dot != NULL && dot != (const char *)name.data &&
					    ieq(dot + 1, name.size - (size_t)(dot + 1 - (const char *)name.data), buf + 2,
					        size - 2)) {
						tg_snprintf(why, sizeof(why),
						            "certificate %zu's wildcard %.*s covers the excluded name %.*s", e->path[j],
						            (int)(size > 255 ? 255 : size), buf, (int)(name.size > 255 ? 255 : name.size),
						            name.data);
						fail(e, ca, TLSGUARD_EV_NAME_CONSTRAINTS, why);
					}
				}
			}
		}
	}
out:
	gnutls_x509_name_constraints_deinit(nc);
	return 0;
}

/* Where nameConstraints is (first occurrence), for certificates whose
 * extensions rule_extensions() does not walk. */
static void find_nc(struct cert *c)
{
	unsigned k;

	for (k = 0;; k++) {
		char oid[128];
		size_t size = sizeof(oid);
		unsigned crit;
		if (gnutls_x509_crt_get_extension_info(c->crt, k, oid, &size, &crit) < 0)
			break;
		if (!strcmp(oid, OID_NC) && c->ext_nc == 0) {
			c->ext_nc = k + 1;
			c->crit_nc = crit != 0;
		}
	}
}

/* Position @i of the path (e->npath: the anchor) as a struct cert; false
 * past the end. */
static bool cert_at(const struct tg_eval *e, size_t i, struct cert *c)
{
	bool anchor = i == e->npath;

	if (i > e->npath || (anchor && e->anchor == NULL))
		return false;
	memset(c, 0, sizeof(*c));
	c->crt = anchor ? e->anchor : e->certs[e->path[i]];
	c->index = anchor ? -1 : (int)e->path[i];
	c->role = anchor ? ANCHOR : i == 0 ? LEAF : INTERMEDIATE;
	if (anchor)
		tg_snprintf(c->label, sizeof(c->label), "trust anchor");
	else
		tg_snprintf(c->label, sizeof(c->label), "certificate %zu", e->path[i]);
	c->what = c->label;
	return true;
}

static int run(struct tg_eval *e)
{
	struct cert c;
	size_t i;
	int rc;

	for (i = 0; cert_at(e, i, &c); i++) {
		bool anchor = c.role == ANCHOR;
		if (!anchor || tg_anchor_profiled(e)) {
			rule_extensions(e, &c);
			rule_version(e, &c);
			if (!anchor) /* an anchor is only a name and a key (RFC 5280 6.1.1 (d)) */
				rule_serial(e, &c);
			rule_basic(e, &c);
			rule_key_usage(e, &c);
			rule_key_ids(e, &c);
			rule_names(e, &c);
		} else {
			/* The system store's anchor: only its name constraints
			 * (which only ever narrow what it vouches for). */
			find_nc(&c);
		}
		/* The path builder already ran this rule (quietly) on exactly
		 * this path and it passed: it would add nothing here. */
		if (i > 0 && !e->path_verified && (rc = rule_constraints(e, &c, i)) < 0)
			return rc;
	}
	return TLSGUARD_CHECK_PASS;
}

/* The name-constraint rule alone, over the path being considered, without
 * events: the path builder (evaluate.c) asks it of every candidate path
 * so that a path through a CA whose constraints forbid a name below it
 * gives way to another path through the same chain (x509-limbo
 * rfc5280::nc::nc-forbids-same-chain-ica). The same rule_constraints()
 * as run() above, so selection and verdict cannot disagree. */
bool tg_webpki_path_constraints_ok(struct tg_eval *e)
{
	unsigned failures = 0;
	struct cert c;
	size_t i;

	for (i = 1; cert_at(e, i, &c); i++) {
		c.quiet = &failures;
		find_nc(&c);
		if (rule_constraints(e, &c, i) < 0 || failures > 0)
			return false;
	}
	return true;
}

const struct tg_check tg_check_webpki = {"webpki", run, NULL};
