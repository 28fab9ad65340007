/* Check "eku": the leaf may be used for TLS servers. A leaf with an
 * extendedKeyUsage extension must list serverAuth; an intermediate that
 * restricts EKU must allow serverAuth (or anyExtendedKeyUsage), as browsers
 * require.
 *
 * Web-PKI profile (CA/B Forum BR 7.1.2.7.10, 7.1.2.1.2): the leaf must have
 * the extension, not critical, not empty and without anyExtendedKeyUsage;
 * a root from the context's own CA files must not have it. */
#include "config.h"

#include <string.h>

#include <gnutls/x509-ext.h>

#include "tg.h"

#define OID_ANY_EKU "2.5.29.37.0"
#define OID_EKU "2.5.29.37"

/* A certificate's extendedKeyUsage, decoded once (each
 * gnutls_x509_crt_get_key_purpose_oid() call decodes the extension again). */
struct eku {
	bool present, critical;
	bool server;   /* serverAuth listed */
	bool any;      /* anyExtendedKeyUsage listed */
	unsigned n;    /* purposes listed */
	char list[256]; /* "oid, oid" for messages */
};

/* 0, or TLSGUARD_E_CERT_PARSE (unreadable extension), TLSGUARD_E_NOMEM. */
static int eku_read(gnutls_x509_crt_t c, struct eku *k)
{
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_datum_t der = {NULL, 0}, oid;
	unsigned crit = 0, i;
	size_t used = 0;
	int ret;

	memset(k, 0, sizeof(*k));
	ret = gnutls_x509_crt_get_extension_by_oid2(c, OID_EKU, 0, &der, &crit);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (ret < 0)
		return TLSGUARD_E_CERT_PARSE;
	k->present = true;
	k->critical = crit != 0;
	if (gnutls_x509_key_purpose_init(&kp) < 0) {
		gnutls_free(der.data);
		return TLSGUARD_E_NOMEM;
	}
	ret = gnutls_x509_ext_import_key_purposes(&der, kp, 0);
	gnutls_free(der.data);
	for (i = 0; ret >= 0; i++) {
		ret = gnutls_x509_key_purpose_get(kp, i, &oid);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		k->n++;
		k->server |= !strcmp((const char *)oid.data, GNUTLS_KP_TLS_WWW_SERVER);
		k->any |= !strcmp((const char *)oid.data, OID_ANY_EKU);
		if (used < sizeof(k->list))
			used += (size_t)tg_snprintf(k->list + used, sizeof(k->list) - used, "%s%s", used ? ", " : "",
			                            (const char *)oid.data);
	}
	gnutls_x509_key_purpose_deinit(kp);
	return ret < 0 ? TLSGUARD_E_CERT_PARSE : 0;
}

static void unreadable(struct tg_eval *e, size_t idx)
{
	tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, (int)idx,
	             "certificate %zu has an unreadable extendedKeyUsage extension", idx);
}

/* Web-PKI profile of the leaf's extension. */
static void leaf_profile(struct tg_eval *e, const struct eku *k)
{
	if (!k->present) {
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0 has no extendedKeyUsage extension (CA/B Forum BR 7.1.2.7.10)");
		return;
	}
	if (k->critical)
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0's extendedKeyUsage is marked critical (CA/B Forum BR 7.1.2.7.10)");
	if (k->any)
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0 allows any extended key usage (anyExtendedKeyUsage; CA/B Forum BR "
		             "7.1.2.7.10)");
	if (k->n == 0)
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0 has an empty extendedKeyUsage extension (RFC 5280 4.2.1.12)");
}

static int run(struct tg_eval *e)
{
	struct eku k;
	size_t i;
	int r;

	/* Roots only: an intermediate given as the trust anchor (a CA file
	 * with an issuing CA) may restrict EKU like any intermediate. */
	if (tg_anchor_profiled(e) && tg_crt_self_issued(e->anchor)) {
		if ((r = eku_read(e->anchor, &k)) == TLSGUARD_E_NOMEM)
			return r;
		if (r != 0 || k.present)
			tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, -1,
			             "the trust anchor (a root CA) has an extendedKeyUsage extension (CA/B Forum BR "
			             "7.1.2.1.2)");
	}
	for (i = 0; i < e->npath; i++) {
		size_t idx = e->path[i];
		if ((r = eku_read(e->certs[idx], &k)) == TLSGUARD_E_NOMEM)
			return r;
		if (r != 0) {
			unreadable(e, idx);
			continue;
		}
		if (i == 0)
			leaf_profile(e, &k);
		/* An extension that lists purposes must allow serverAuth (an
		 * intermediate may instead allow any). */
		if (k.present && k.n > 0 && !k.server && !(i > 0 && k.any))
			tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu does not allow TLS server authentication (extendedKeyUsage: %s)",
			             idx, k.list);
	}
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_eku = {"eku", run, NULL};
