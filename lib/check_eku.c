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

#include "tg.h"

#define OID_ANY_EKU "2.5.29.37.0"

/* 1: has the extension and it allows @want (or any, when @any_ok);
 * 0: has it and does not; 2: no extension; <0: error. */
static int eku_allows(gnutls_x509_crt_t c, bool any_ok, char *list, size_t listlen)
{
	unsigned i;
	size_t used = 0;
	int found = 0;

	list[0] = '\0';
	for (i = 0;; i++) {
		char oid[128];
		size_t size = sizeof(oid);
		int ret = gnutls_x509_crt_get_key_purpose_oid(c, i, oid, &size, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return TLSGUARD_E_CERT_PARSE;
		if (!strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) || (any_ok && !strcmp(oid, OID_ANY_EKU)))
			found = 1;
		if (used < listlen)
			used += (size_t)tg_snprintf(list + used, listlen - used, "%s%s", used ? ", " : "", oid);
	}
	if (i == 0)
		return 2;
	return found;
}

/* Is the extendedKeyUsage extension of @c present, and critical? */
static bool eku_ext(gnutls_x509_crt_t c, bool *critical)
{
	unsigned k;
	for (k = 0;; k++) {
		char oid[128];
		size_t size = sizeof(oid);
		unsigned crit = 0;
		if (gnutls_x509_crt_get_extension_info(c, k, oid, &size, &crit) < 0)
			return false;
		if (!strcmp(oid, "2.5.29.37")) {
			*critical = crit != 0;
			return true;
		}
	}
}

static void leaf_profile(struct tg_eval *e, char *list, size_t listlen)
{
	gnutls_x509_crt_t leaf = e->certs[0];
	bool critical = false;
	unsigned i;

	if (!eku_ext(leaf, &critical)) {
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0 has no extendedKeyUsage extension (CA/B Forum BR 7.1.2.7.10)");
		return;
	}
	if (critical)
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0's extendedKeyUsage is marked critical (CA/B Forum BR 7.1.2.7.10)");
	for (i = 0;; i++) {
		char oid[128];
		size_t size = sizeof(oid);
		int ret = gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid, &size, NULL);
		if (ret < 0)
			break;
		if (!strcmp(oid, OID_ANY_EKU))
			tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
			             "certificate 0 allows any extended key usage (anyExtendedKeyUsage; CA/B Forum BR "
			             "7.1.2.7.10)");
	}
	if (i == 0)
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, 0,
		             "certificate 0 has an empty extendedKeyUsage extension (RFC 5280 4.2.1.12)");
	(void)list;
	(void)listlen;
}

static int run(struct tg_eval *e)
{
	char list[256];
	size_t i;
	bool critical;

	leaf_profile(e, list, sizeof(list));
	/* Roots only: an intermediate given as the trust anchor (a CA file
	 * with an issuing CA) may restrict EKU like any intermediate. */
	if (tg_anchor_profiled(e) && tg_crt_self_issued(e->anchor) && eku_ext(e->anchor, &critical))
		tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, -1,
		             "the trust anchor (a root CA) has an extendedKeyUsage extension (CA/B Forum BR 7.1.2.1.2)");

	for (i = 0; i < e->npath; i++) {
		size_t idx = e->path[i];
		int r = eku_allows(e->certs[idx], i > 0, list, sizeof(list));
		if (r == TLSGUARD_E_CERT_PARSE) {
			tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu has an unreadable extendedKeyUsage extension", idx);
		} else if (r == 0) {
			tg_event_add(e, TLSGUARD_EV_BAD_KEY_USAGE, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu does not allow TLS server authentication (extendedKeyUsage: %s)",
			             idx, list);
		}
	}
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_eku = {"eku", run, NULL};
