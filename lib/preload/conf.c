/*
 * preload.conf: the shim's per-program settings, parsed from a buffer so
 * that the fuzz target (tests/fuzz/fuzz_preload_conf.c) reaches exactly the
 * code the shim runs.
 *
 *   # comment
 *   exclude = PROGRAM...   programs (by name, as in ps) the shim leaves alone
 *   only = PROGRAM...      if given, the shim acts in these programs only
 *   syslog = yes|no        also log refusals to syslog (LOG_AUTHPRIV)
 *   stderr = yes|no        print refusals to stderr (default yes)
 *
 * The file is an administrator's, but the shim runs inside every program:
 * a bad line must never crash or stop one. Each is reported (path:line and
 * why) and ignored. Ignoring errs on the safe side: a garbled "exclude" or
 * "only" line leaves the shim on.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "preload.h"

#define MAX_LINE 1024

static void warn(const struct tgp_conf_sink *w, const char *path, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn(const struct tgp_conf_sink *w, const char *path, unsigned line, const char *fmt, ...)
{
	char msg[2 * MAX_LINE];
	va_list ap;
	int n;

	if (w == NULL || w->fn == NULL)
		return;
	n = snprintf(msg, sizeof(msg), "%s:%u: ", path, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	w->fn(msg, w->ud);
}

/* Does the white-space or comma separated list @list name @me? */
static bool list_has(const char *list, const char *me)
{
	size_t n = strlen(me);
	const char *p = list;

	while (*p) {
		size_t k;
		p += strspn(p, " \t,");
		k = strcspn(p, " \t,");
		if (k == n && k > 0 && strncmp(p, me, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* 1 yes, 0 no, -1 neither. */
static int yes_no(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

static void one_line(char *k, const char *path, unsigned lineno, const char *me, struct tgp_conf *c,
                     bool *only_seen, bool *only_me, const struct tgp_conf_sink *w)
{
	char *v, *end;
	int b;

	k += strspn(k, " \t");
	if (*k == '#' || *k == '\0')
		return;
	if ((v = strchr(k, '=')) == NULL) {
		warn(w, path, lineno, "expected \"key = value\"; line ignored");
		return;
	}
	for (end = v; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	v++;
	v += strspn(v, " \t");
	v[strcspn(v, "#")] = '\0';
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'); end--)
		;
	*end = '\0';
	if (strcmp(k, "exclude") == 0) {
		if (list_has(v, me))
			c->enabled = false;
	} else if (strcmp(k, "only") == 0) {
		*only_seen = true;
		*only_me = *only_me || list_has(v, me);
	} else if (strcmp(k, "syslog") == 0 || strcmp(k, "stderr") == 0) {
		if ((b = yes_no(v)) < 0) {
			warn(w, path, lineno, "expected yes or no, got '%s'; line ignored", v);
			return;
		}
		if (k[1] == 'y')
			c->use_syslog = b == 1;
		else
			c->quiet = b == 0;
	} else {
		warn(w, path, lineno, "unknown key '%s'; line ignored", k);
	}
}

void tgp_conf_parse(const char *data, size_t len, const char *path, const char *me, struct tgp_conf *c,
                    const struct tgp_conf_sink *w)
{
	char line[MAX_LINE];
	bool only_seen = false, only_me = false;
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;

		lineno++;
		if (n >= sizeof(line)) {
			warn(w, path, lineno, "line longer than %d bytes; ignored", MAX_LINE - 1);
		} else if (memchr(data + pos, '\0', n) != NULL) {
			warn(w, path, lineno, "NUL byte in the line; ignored");
		} else {
			memcpy(line, data + pos, n);
			line[n] = '\0';
			one_line(line, path, lineno, me, c, &only_seen, &only_me, w);
		}
		pos += n + (nl != NULL);
	}
	if (only_seen && !only_me)
		c->enabled = false;
}
