/*
 * Reports in the spirit of HPKP's (RFC 7469 sec. 3): one JSON object per
 * evaluation that failed a pin or key-continuity check, or that ran in
 * report-only mode with warnings or fatal events. Handed to the callback
 * (tlsguard_event_report) and appended, one object per line, to the
 * configured report file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tg.h"

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = tg_realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at @s (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes and control characters escaped; valid
 * UTF-8 passed through; invalid bytes (certificate names are untrusted)
 * replaced by U+FFFD, so the report is always valid JSON. */
static void put_str(struct sbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];

	put(b, "\"", 1);
	while (*s) {
		size_t n;
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			put(b, esc, 2);
			s++;
		} else if (*s == '\n') {
			put(b, "\\n", 2);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			tg_snprintf(esc, sizeof(esc), "\\u%04x", *s);
			put(b, esc, 6);
			s++;
		} else if ((n = utf8_len(s)) == 0) {
			put(b, "\xef\xbf\xbd", 3);
			s++;
		} else {
			put(b, (const char *)s, n);
			s += n;
		}
	}
	put(b, "\"", 1);
}

static void put_kv(struct sbuf *b, const char *key, const char *val, bool comma)
{
	if (comma)
		put(b, ",", 1);
	put_str(b, key);
	put(b, ":", 1);
	put_str(b, val);
}

static void put_pem(struct sbuf *b, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = {NULL, 0};
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0) {
		b->oom = true;
		return;
	}
	put_str(b, (const char *)pem.data);
	gnutls_free(pem.data);
}

static const char *mode_name(int mode)
{
	return mode == TG_MODE_REPORT_ONLY ? "report-only" : mode == TG_MODE_INTERACTIVE ? "interactive" : "enforce";
}

int tg_report_build(struct tg_eval *e)
{
	tlsguard_result *res = e->res;
	struct sbuf b = {NULL, 0, 0, false};
	char when[40], num[32], pin[48];
	size_t i;
	bool first;

	tg_format_time_iso(e->now, when, sizeof(when));
	puts_(&b, "{");
	put_kv(&b, "tlsguard-report", "1", false);
	put_kv(&b, "time", when, true);
	put_kv(&b, "host", res->host, true);
	/* Unknown port and address are null, as JSON readers expect. */
	if (res->port)
		tg_snprintf(num, sizeof(num), ",\"port\":%u", res->port);
	else
		tg_snprintf(num, sizeof(num), ",\"port\":null");
	puts_(&b, num);
	if (res->address[0])
		put_kv(&b, "address", res->address, true);
	else
		puts_(&b, ",\"address\":null");
	put_kv(&b, "mode", mode_name(e->pol.mode), true);
	put_kv(&b, "pin-mode", e->pol.pin_report_only ? "report-only" : "enforce", true);
	put_kv(&b, "tofu-mode", e->pol.tofu_report_only ? "report-only" : "enforce", true);

	puts_(&b, ",\"served-certificate-chain\":[");
	for (i = 0; i < e->ncerts; i++) {
		if (i)
			puts_(&b, ",");
		put_pem(&b, e->certs[i]);
	}
	puts_(&b, "],\"validated-certificate-chain\":[");
	for (i = 0; i < e->npath; i++) {
		if (i)
			puts_(&b, ",");
		put_pem(&b, e->certs[e->path[i]]);
	}
	if (e->anchor != NULL) {
		if (e->npath)
			puts_(&b, ",");
		put_pem(&b, e->anchor);
	}
	puts_(&b, "],\"known-pins\":[");
	for (i = 0; i < e->pol.npins; i++) {
		char hpkp[64];
		tg_pin_b64(e->pol.pins[i], pin);
		tg_snprintf(hpkp, sizeof(hpkp), "pin-sha256=\"%s\"", pin);
		if (i)
			puts_(&b, ",");
		put_str(&b, hpkp);
	}
	puts_(&b, "],\"failed-checks\":[");
	for (i = 0, first = true; i < res->nchecks; i++) {
		if (res->checks[i].outcome != TLSGUARD_CHECK_FAIL && res->checks[i].outcome != TLSGUARD_CHECK_ERROR)
			continue;
		if (!first)
			puts_(&b, ",");
		put_str(&b, res->checks[i].name);
		first = false;
	}
	puts_(&b, "],\"events\":[");
	for (i = 0, first = true; i < res->nevents; i++) {
		const struct tlsguard_event *ev = &res->events[i];
		if (!first)
			puts_(&b, ",");
		tg_snprintf(num, sizeof(num), "{\"code\":%d", ev->code);
		puts_(&b, num);
		put_kv(&b, "key", tlsguard_code_key(ev->code) ? tlsguard_code_key(ev->code) : "", true);
		put_kv(&b, "name", tlsguard_code_name(ev->code), true);
		put_kv(&b, "severity", tlsguard_severity_name(ev->severity), true);
		put_kv(&b, "check", ev->check, true);
		put_kv(&b, "detail", ev->detail ? ev->detail : "", true);
		puts_(&b, "}");
		first = false;
	}
	puts_(&b, "]}");
	if (b.oom) {
		tg_free(b.p);
		return TLSGUARD_E_NOMEM;
	}
	tg_free(res->report);
	res->report = b.p;
	return 0;
}

int tg_report_append(const char *path, const char *report, char *err, size_t errlen)
{
	size_t len = strlen(report);
	char *line = tg_malloc(len + 2);
	char ebuf[128];
	ssize_t w;
	int fd, rc = 0;

	if (line == NULL)
		return TLSGUARD_E_NOMEM;
	memcpy(line, report, len);
	line[len] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		tg_snprintf(err, errlen, "%s: cannot open report file: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
		tg_free(line);
		return TLSGUARD_E_IO;
	}
	/* O_APPEND puts each write at the end; the lock keeps a line whole
	 * even where a large write could be split. */
	if (flock(fd, LOCK_EX) != 0 || (w = write(fd, line, len + 1)) != (ssize_t)(len + 1)) {
		tg_snprintf(err, errlen, "%s: cannot append report: %s", path,
		            strerror_r(errno ? errno : EIO, ebuf, sizeof(ebuf)));
		rc = TLSGUARD_E_IO;
	}
	close(fd); /* releases the lock */
	tg_free(line);
	return rc;
}
