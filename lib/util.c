/* Small helpers: host names, IP literals, time formatting. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tg.h"

int tg_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return n;
}

int tg_ip_parse(const char *s, unsigned char out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	return 0;
}

int tg_ip_canonical(const char *s, char *out, size_t outlen)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char ip[16];
	int n = s != NULL ? tg_ip_parse(s, ip) : 0;

	if (n == 0)
		return TLSGUARD_E_INVALID;
	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
	if (n == 16 && memcmp(ip, mapped, sizeof(mapped)) == 0) {
		memmove(ip, ip + 12, 4);
		n = 4;
	}
	if (inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, out, (socklen_t)outlen) == NULL)
		return TLSGUARD_E_INVALID;
	return 0;
}

static bool host_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == ':' /* IPv6 literal */;
}

int tg_host_normalize(const char *in, size_t len, char *out)
{
	size_t i;
	unsigned char ip[16];
	char canon[INET6_ADDRSTRLEN];
	int n;

	if (in == NULL)
		return TLSGUARD_E_INVALID;
	if (memchr(in, '\0', len) != NULL)
		return TLSGUARD_E_INVALID;
	/* IPv6 literals may come in brackets, as in URLs. */
	bool bracketed = len >= 2 && in[0] == '[' && in[len - 1] == ']';

	if (bracketed) {
		in++;
		len -= 2;
	}
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > TG_MAX_HOST)
		return TLSGUARD_E_INVALID;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!host_char_ok(c))
			return TLSGUARD_E_INVALID;
		out[i] = (char)c;
	}
	out[len] = '\0';
	/* Empty labels ("a..b", ".a", "a.." after the one dot stripped above)
	 * are not host names. */
	if (out[0] == '.' || out[len - 1] == '.' || strstr(out, "..") != NULL)
		return TLSGUARD_E_INVALID;
	if ((bracketed || strchr(out, ':') != NULL) && tg_ip_parse(out, ip) != 16)
		return TLSGUARD_E_INVALID;
	/* One spelling per address ("0:0::1" is "::1"), so that config
	 * sections, pins and store records cannot be dodged by rewriting it. */
	n = tg_ip_parse(out, ip);
	if (n != 0 && inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, canon, sizeof(canon)) != NULL)
		memcpy(out, canon, strlen(canon) + 1);
	return 0;
}

void tg_format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		tg_snprintf(buf, len, "@%lld", (long long)t);
}

void tg_format_time_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		tg_snprintf(buf, len, "@%lld", (long long)t);
}

int tg_parse_time(const char *s, int64_t *out)
{
	struct tm tm, given;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return TLSGUARD_E_INVALID;
	if (*end == 'T' || *end == ' ') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL)
			return TLSGUARD_E_INVALID;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0' || tm.tm_year < 70)
		return TLSGUARD_E_INVALID;
	given = tm;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return TLSGUARD_E_INVALID;
	/* strptime takes any day 1..31 (and second 60): timegm would
	 * silently roll "2025-02-30" over to March. */
	if (tm.tm_year != given.tm_year || tm.tm_mon != given.tm_mon || tm.tm_mday != given.tm_mday ||
	    tm.tm_hour != given.tm_hour || tm.tm_min != given.tm_min || tm.tm_sec != given.tm_sec)
		return TLSGUARD_E_INVALID;
	*out = (int64_t)t;
	return 0;
}

bool tg_crt_self_issued(gnutls_x509_crt_t crt)
{
	gnutls_datum_t s = {NULL, 0}, i = {NULL, 0};
	bool same = false;

	if (gnutls_x509_crt_get_raw_dn(crt, &s) == 0 && gnutls_x509_crt_get_raw_issuer_dn(crt, &i) == 0)
		same = s.size == i.size && memcmp(s.data, i.data, s.size) == 0;
	gnutls_free(s.data);
	gnutls_free(i.data);
	return same;
}
