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

static bool host_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == ':' /* IPv6 literal */;
}

int tg_host_normalize(const char *in, size_t len, char *out)
{
	size_t i;
	unsigned char ip[16];

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
	return 0;
}

void tg_format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		tg_snprintf(buf, len, "@%lld", (long long)t);
}
