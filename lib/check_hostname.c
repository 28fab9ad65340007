/*
 * Check "hostname": the leaf names the host in its subjectAltName, as
 * browsers require. The subject CN is never used. Wildcards follow the
 * CA/Browser Forum rules browsers apply: only a whole left-most label "*",
 * matching exactly one non-empty label, never for IP addresses, and never
 * directly under a single-label name ("*.com").
 *
 * Web-PKI profile: no wildcard directly over a public suffix either
 * ("*.co.uk"), by the Public Suffix List of the distribution (libpsl and
 * its publicsuffix data, never a copied list). By default only the list's
 * ICANN section counts, as in browsers: the private section holds
 * platform suffixes whose owners do hold wildcard certificates of their own
 * ("*.github.io", "*.s3.amazonaws.com"). wildcard-public-suffix = all
 * counts it too.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include <libpsl.h>

#include "tg.h"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl;

static void psl_load(void)
{
	/* The newer of the list libpsl was built with and the distribution's
	 * current file (publicsuffix package). Loaded once, for the life of
	 * the process. */
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
}

int tg_public_suffix(const char *name, bool private_too)
{
	pthread_once(&psl_once, psl_load);
	if (psl == NULL)
		return -1;
	return psl_is_public_suffix2(psl, name, private_too ? PSL_TYPE_ANY : PSL_TYPE_ICANN) ? 1 : 0;
}

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool eq_nocase(const char *a, const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return false;
	return true;
}

bool tg_dns_match(const char *pattern, size_t plen, const char *host)
{
	size_t hlen = strlen(host);
	const char *rest, *dot;
	size_t rlen;
	unsigned char ip[16];

	if (plen > 0 && pattern[plen - 1] == '.')
		plen--;
	if (plen == 0 || memchr(pattern, '\0', plen) != NULL)
		return false;
	if (memchr(pattern, '*', plen) == NULL)
		return plen == hlen && eq_nocase(pattern, host, plen);
	/* Wildcard: "*." then a name of at least two labels, no other '*'. */
	if (plen < 4 || pattern[0] != '*' || pattern[1] != '.')
		return false;
	rest = pattern + 1; /* ".example.com" */
	rlen = plen - 1;
	if (memchr(rest, '*', rlen) != NULL || memchr(rest + 1, '.', rlen - 1) == NULL)
		return false;
	if (tg_ip_parse(host, ip) != 0)
		return false;
	dot = strchr(host, '.');
	if (dot == NULL || dot == host)
		return false;
	return strlen(dot) == rlen && eq_nocase(dot, rest, rlen);
}

static int run(struct tg_eval *e)
{
	gnutls_x509_crt_t leaf = e->certs[0];
	unsigned char ip[16];
	int iplen = tg_ip_parse(e->req->host, ip);
	char names[512] = "";
	size_t nlen = 0;
	unsigned seq;
	bool matched = false, any = false;
	char suffix_wc[TG_MAX_HOST + 3] = ""; /* a wildcard refused for its public suffix */

	for (seq = 0;; seq++) {
		char buf[1024];
		size_t size = sizeof(buf);
		int type = gnutls_x509_crt_get_subject_alt_name(leaf, seq, buf, &size, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) /* a name this long never matches */
			continue;
		if (type < 0) {
			/* e.g. an embedded NUL: never a match, but say so. */
			nlen += (size_t)tg_snprintf(names + nlen, nlen < sizeof(names) ? sizeof(names) - nlen : 0,
			                            "%s(unreadable name: %s)", any ? ", " : "", gnutls_strerror(type));
			any = true;
			if (nlen >= sizeof(names))
				nlen = sizeof(names) - 1;
			continue;
		}
		if (type == GNUTLS_SAN_DNSNAME) {
			if (iplen == 0 && tg_dns_match(buf, size, e->req->host)) {
				/* tg_dns_match() took it, so a wildcard is "*." + a name
				 * of two labels or more, without NUL. */
				char base[TG_MAX_HOST + 1];
				size_t bl = size - 2;
				int ps = 0;
				if (buf[0] == '*') {
					if (bl > 0 && buf[size - 1] == '.')
						bl--;
					if (bl > TG_MAX_HOST)
						continue;
					memcpy(base, buf + 2, bl);
					base[bl] = '\0';
					/* The list is lower case and libpsl compares
					 * bytes: "*.CO.UK" matches like "*.co.uk" and
					 * must be judged like it. */
					for (size_t k = 0; k < bl; k++)
						if (base[k] >= 'A' && base[k] <= 'Z')
							base[k] = (char)(base[k] - 'A' + 'a');
					ps = tg_public_suffix(base, e->pol.psl_private);
				}
				if (ps == 0)
					matched = true;
				else
					/* ps < 0: no list could be loaded; refuse (fail closed). */
					tg_snprintf(suffix_wc, sizeof(suffix_wc), "%.*s", (int)size, buf);
			}
			nlen += (size_t)tg_snprintf(names + nlen, sizeof(names) - nlen, "%sDNS:%.*s", any ? ", " : "",
			                            (int)size, buf);
			any = true;
		} else if (type == GNUTLS_SAN_IPADDRESS) {
			char txt[64] = "?";
			if (iplen != 0 && (size_t)iplen == size && memcmp(buf, ip, size) == 0)
				matched = true;
			if (size == 4 || size == 16)
				inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, txt, sizeof(txt));
			nlen += (size_t)tg_snprintf(names + nlen, sizeof(names) - nlen, "%sIP:%s", any ? ", " : "", txt);
			any = true;
		}
		if (nlen >= sizeof(names))
			nlen = sizeof(names) - 1;
		if (matched)
			break;
	}
	if (!matched && suffix_wc[0] != '\0')
		tg_event_add(e, TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD, TLSGUARD_SEV_FATAL, 0,
		             "host %s matches only the wildcard %s, which covers a public suffix%s", e->req->host,
		             suffix_wc, tg_public_suffix("com", false) < 0 ? " (no Public Suffix List could be loaded)" : "");
	else if (!matched)
		tg_event_add(e, TLSGUARD_EV_HOSTNAME_MISMATCH, TLSGUARD_SEV_FATAL, 0, "host %s; certificate names: %s",
		             e->req->host, any ? names : "none (no subjectAltName; the common name is not used)");
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_hostname = {"hostname", run, NULL};
