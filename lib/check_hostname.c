/*
 * Check "hostname": the leaf names the host in its subjectAltName, as
 * browsers require. The subject CN is never used. Wildcards follow the
 * CA/Browser Forum rules browsers apply: only a whole left-most label "*",
 * matching exactly one non-empty label, never for IP addresses, and never
 * directly under a single-label name ("*.com").
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "tg.h"

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
			if (iplen == 0 && tg_dns_match(buf, size, e->req->host))
				matched = true;
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
	if (!matched)
		tg_event_add(e, TLSGUARD_EV_HOSTNAME_MISMATCH, TLSGUARD_SEV_FATAL, 0, "host %s; certificate names: %s",
		             e->req->host, any ? names : "none (no subjectAltName; the common name is not used)");
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_hostname = {"hostname", run, NULL};
