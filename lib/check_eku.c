/* Check "eku": the leaf may be used for TLS servers. A leaf with an
 * extendedKeyUsage extension must list serverAuth; an intermediate that
 * restricts EKU must allow serverAuth (or anyExtendedKeyUsage), as browsers
 * require. A leaf without the extension is accepted (RFC 5280). */
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

static int run(struct tg_eval *e)
{
	char list[256];
	size_t i;

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
