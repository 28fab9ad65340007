/*
 * The config file (tlsguard.conf(5)): sections and "key = value" lines.
 *
 *   # comment
 *   [default]
 *   mode = enforce
 *   [example.com]          exact host
 *   [*.example.org]        any name under example.org
 *
 * Keys are listed once, in the table below: a later capability adds its keys
 * there. Unknown keys, bad values and duplicates are errors naming file:line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tg.h"

#define MAX_LINE 4096

void tg_policy_init_defaults(struct tg_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = TG_MODE_ENFORCE;
	p->min_rsa_bits = 2048;
	p->allow_sha1 = false;
	p->overridable = 0;
	p->ocsp_max_age = 7 * 24 * 3600;
}

void tg_config_free(struct tg_config *c)
{
	size_t i;
	for (i = 0; i < c->n_ca; i++)
		tg_free(c->ca_paths[i]);
	tg_free(c->ca_paths);
	for (i = 0; i < c->n_hosts; i++)
		tg_free(c->hosts[i].pattern);
	tg_free(c->hosts);
	memset(c, 0, sizeof(*c));
}

int tg_config_copy(struct tg_config *dst, const struct tg_config *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->use_system_ca = src->use_system_ca;
	dst->defaults = src->defaults;
	dst->loads = src->loads;
	if (src->n_ca) {
		dst->ca_paths = tg_calloc(src->n_ca, sizeof(char *));
		if (dst->ca_paths == NULL)
			goto nomem;
		for (i = 0; i < src->n_ca; i++) {
			if ((dst->ca_paths[i] = tg_strdup(src->ca_paths[i])) == NULL)
				goto nomem;
			dst->n_ca++;
		}
	}
	if (src->n_hosts) {
		dst->hosts = tg_calloc(src->n_hosts, sizeof(*dst->hosts));
		if (dst->hosts == NULL)
			goto nomem;
		for (i = 0; i < src->n_hosts; i++) {
			dst->hosts[i] = src->hosts[i];
			if ((dst->hosts[i].pattern = tg_strdup(src->hosts[i].pattern)) == NULL)
				goto nomem;
			dst->n_hosts++;
		}
	}
	return 0;
nomem:
	tg_config_free(dst);
	return TLSGUARD_E_NOMEM;
}

/* ---- policy lookup ---- */

static bool pattern_matches(const struct tg_host_policy *h, const char *host)
{
	size_t hl, pl;

	if (!h->wildcard)
		return strcmp(h->pattern, host) == 0;
	/* "*.example.org" matches any name ending in ".example.org". */
	hl = strlen(host);
	pl = strlen(h->pattern + 1);
	return hl > pl && strcmp(host + hl - pl, h->pattern + 1) == 0;
}

static void overlay(struct tg_policy *dst, const struct tg_policy *src)
{
	if (src->set & TG_POL_MODE)
		dst->mode = src->mode;
	if (src->set & TG_POL_MIN_RSA)
		dst->min_rsa_bits = src->min_rsa_bits;
	if (src->set & TG_POL_ALLOW_SHA1)
		dst->allow_sha1 = src->allow_sha1;
	if (src->set & TG_POL_OVERRIDABLE)
		dst->overridable = src->overridable;
	if (src->set & TG_POL_OCSP_MAX_AGE)
		dst->ocsp_max_age = src->ocsp_max_age;
	dst->set |= src->set;
}

void tg_policy_for_host(const struct tg_config *cfg, const char *host, struct tg_policy *out)
{
	const struct tg_host_policy *best = NULL;
	size_t i, best_len = 0;

	*out = cfg->defaults;
	for (i = 0; i < cfg->n_hosts; i++) {
		const struct tg_host_policy *h = &cfg->hosts[i];
		size_t len;
		if (!pattern_matches(h, host))
			continue;
		/* Exact beats any wildcard; a longer suffix beats a shorter one. */
		len = h->wildcard ? strlen(h->pattern) : SIZE_MAX;
		if (best == NULL || len > best_len) {
			best = h;
			best_len = len;
		}
	}
	if (best != NULL)
		overlay(out, &best->pol);
}

/* ---- parsing ---- */

struct parser {
	struct tg_config *cfg;
	const char *name;
	const char *basedir;
	unsigned line;
	struct tg_policy *pol;     /* section being filled */
	bool in_default;
	unsigned default_line;     /* where [default] was opened, 0 = not yet */
	unsigned seen_keys;        /* bit per key index, per section */
	unsigned default_seen;     /* seen_keys of the lines before the first header */
	char *err;
	size_t errlen;
};

#define PERR(p, ...)                                                                                         \
	do {                                                                                                     \
		int n_ = tg_snprintf((p)->err, (p)->errlen, "%s:%u: ", (p)->name, (p)->line);                        \
		if (n_ >= 0 && (size_t)n_ < (p)->errlen)                                                             \
			tg_snprintf((p)->err + n_, (p)->errlen - (size_t)n_, __VA_ARGS__);                              \
	} while (0)

static int parse_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else {
		PERR(p, "%s: expected yes or no, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	return 0;
}

static int parse_uint(struct parser *p, const char *key, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		goto bad;
	*out = (unsigned)n;
	return 0;
bad:
	PERR(p, "%s: expected a whole number from %u to %u, got '%s'", key, lo, hi, v);
	return TLSGUARD_E_CONFIG;
}

static int key_mode(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "enforce"))
		p->pol->mode = TG_MODE_ENFORCE;
	else if (!strcmp(v, "interactive"))
		p->pol->mode = TG_MODE_INTERACTIVE;
	else if (!strcmp(v, "report-only"))
		p->pol->mode = TG_MODE_REPORT_ONLY;
	else {
		PERR(p, "%s: expected enforce, interactive or report-only, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_MODE;
	return 0;
}

static int key_min_rsa(struct parser *p, const char *key, const char *v)
{
	int rc = parse_uint(p, key, v, 1024, 16384, &p->pol->min_rsa_bits);
	if (rc == 0)
		p->pol->set |= TG_POL_MIN_RSA;
	return rc;
}

static int key_allow_sha1(struct parser *p, const char *key, const char *v)
{
	int rc = parse_bool(p, key, v, &p->pol->allow_sha1);
	if (rc == 0)
		p->pol->set |= TG_POL_ALLOW_SHA1;
	return rc;
}

static int key_ocsp_max_age(struct parser *p, const char *key, const char *v)
{
	unsigned days;
	int rc = parse_uint(p, key, v, 1, 365, &days);
	if (rc == 0) {
		p->pol->ocsp_max_age = days * 24u * 3600u;
		p->pol->set |= TG_POL_OCSP_MAX_AGE;
	}
	return rc;
}

/* "expired, not-yet-valid" -> bits; "none" -> 0. */
static int key_overridable(struct parser *p, const char *key, const char *v)
{
	uint64_t bits = 0;
	const char *s = v;

	if (strcmp(v, "none") != 0) {
		while (*s) {
			const char *e;
			size_t n;
			int code;
			while (*s == ' ' || *s == '\t' || *s == ',')
				s++;
			if (*s == '\0')
				break;
			e = s;
			while (*e && *e != ',' && *e != ' ' && *e != '\t')
				e++;
			n = (size_t)(e - s);
			code = tg_code_from_key(s, n);
			if (code < 0) {
				PERR(p, "%s: unknown event name '%.*s'", key, (int)n, s);
				return TLSGUARD_E_CONFIG;
			}
			if (code == TLSGUARD_EV_INTERNAL_ERROR || code == TLSGUARD_EV_MALFORMED_CHAIN) {
				PERR(p, "%s: '%.*s' can never be overridden", key, (int)n, s);
				return TLSGUARD_E_CONFIG;
			}
			bits |= UINT64_C(1) << code;
			s = e;
		}
		if (bits == 0) {
			PERR(p, "%s: empty list (write 'none' for no overrides)", key);
			return TLSGUARD_E_CONFIG;
		}
	}
	p->pol->overridable = bits;
	p->pol->set |= TG_POL_OVERRIDABLE;
	return 0;
}

static int key_system_ca(struct parser *p, const char *key, const char *v)
{
	return parse_bool(p, key, v, &p->cfg->use_system_ca);
}

static int key_ca_file(struct parser *p, const char *key, const char *v)
{
	char path[4096];
	char **nv;
	char *copy;
	gnutls_x509_trust_list_t tl;
	char why[TG_ERRBUF];
	int rc;

	if (v[0] == '/' || p->basedir == NULL)
		rc = tg_snprintf(path, sizeof(path), "%s", v);
	else
		rc = tg_snprintf(path, sizeof(path), "%s/%s", p->basedir, v);
	if ((size_t)rc >= sizeof(path)) {
		PERR(p, "%s: path too long", key);
		return TLSGUARD_E_CONFIG;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return TLSGUARD_E_NOMEM;
	rc = tg_trust_add_path(tl, path, why, sizeof(why));
	gnutls_x509_trust_list_deinit(tl, 1);
	if (rc < 0) {
		PERR(p, "%s: %s", key, why);
		return rc == TLSGUARD_E_NOMEM ? rc : TLSGUARD_E_CONFIG;
	}
	copy = tg_strdup(path);
	nv = copy ? tg_realloc(p->cfg->ca_paths, (p->cfg->n_ca + 1) * sizeof(*nv)) : NULL;
	if (nv == NULL) {
		tg_free(copy);
		return TLSGUARD_E_NOMEM;
	}
	nv[p->cfg->n_ca++] = copy;
	p->cfg->ca_paths = nv;
	return 0;
}

enum { SCOPE_DEFAULT = 1, SCOPE_HOST = 2, SCOPE_ANY = 3 };

struct key_def {
	const char *name;
	unsigned scope;
	bool repeatable;
	int (*set)(struct parser *p, const char *key, const char *value);
};

/* Every config key, once. Later capabilities add rows here. */
static const struct key_def keys[] = {
	{"mode", SCOPE_ANY, false, key_mode},
	{"overridable", SCOPE_ANY, false, key_overridable},
	{"min-rsa-bits", SCOPE_ANY, false, key_min_rsa},
	{"allow-sha1", SCOPE_ANY, false, key_allow_sha1},
	{"ocsp-max-age-days", SCOPE_ANY, false, key_ocsp_max_age},
	{"system-ca", SCOPE_DEFAULT, false, key_system_ca},
	{"ca-file", SCOPE_DEFAULT, true, key_ca_file},
};

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int open_section(struct parser *p, char *name)
{
	char norm[TG_MAX_HOST + 1];
	struct tg_host_policy *nh;
	const char *host = name;
	bool wildcard = false;
	size_t i;

	/* Lines before the first header belong to [default]: remember their
	 * keys so that [default] cannot set them a second time. */
	if (p->in_default && p->default_line == 0)
		p->default_seen = p->seen_keys;
	p->seen_keys = 0;
	if (!strcasecmp(name, "default")) {
		if (p->default_line != 0) {
			PERR(p, "section [default] already defined at line %u", p->default_line);
			return TLSGUARD_E_CONFIG;
		}
		p->default_line = p->line;
		p->pol = &p->cfg->defaults;
		p->in_default = true;
		p->seen_keys = p->default_seen;
		return 0;
	}
	if (name[0] == '*') {
		if (name[1] != '.') {
			PERR(p, "section [%s]: a wildcard section must look like [*.example.com]", name);
			return TLSGUARD_E_CONFIG;
		}
		wildcard = true;
		host = name + 2;
	}
	if (tg_host_normalize(host, strlen(host), norm) != 0 || (wildcard && strchr(norm, '.') == NULL)) {
		PERR(p, "section [%s]: not a host name or *.suffix", name);
		return TLSGUARD_E_CONFIG;
	}
	for (i = 0; i < p->cfg->n_hosts; i++) {
		struct tg_host_policy *h = &p->cfg->hosts[i];
		if (h->wildcard != wildcard || strcmp(h->pattern + (wildcard ? 2 : 0), norm) != 0)
			continue;
		if (h->load == p->cfg->loads) {
			PERR(p, "section [%s] already defined at line %u", name, h->line);
			return TLSGUARD_E_CONFIG;
		}
		/* Defined by an earlier load: this text's keys override. */
		h->load = p->cfg->loads;
		h->line = p->line;
		p->pol = &h->pol;
		p->in_default = false;
		return 0;
	}
	nh = tg_realloc(p->cfg->hosts, (p->cfg->n_hosts + 1) * sizeof(*nh));
	if (nh == NULL)
		return TLSGUARD_E_NOMEM;
	p->cfg->hosts = nh;
	nh = &p->cfg->hosts[p->cfg->n_hosts];
	memset(nh, 0, sizeof(*nh));
	if (wildcard) {
		nh->pattern = tg_malloc(strlen(norm) + 3);
		if (nh->pattern == NULL)
			return TLSGUARD_E_NOMEM;
		tg_snprintf(nh->pattern, strlen(norm) + 3, "*.%s", norm);
	} else if ((nh->pattern = tg_strdup(norm)) == NULL) {
		return TLSGUARD_E_NOMEM;
	}
	nh->wildcard = wildcard;
	nh->line = p->line;
	nh->load = p->cfg->loads;
	p->cfg->n_hosts++;
	p->pol = &nh->pol;
	p->in_default = false;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *s = trim(line), *eq, *key, *value;
	size_t i;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		size_t n = strlen(s);
		if (s[n - 1] != ']') {
			PERR(p, "section header must end with ']'");
			return TLSGUARD_E_CONFIG;
		}
		s[n - 1] = '\0';
		return open_section(p, trim(s + 1));
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		PERR(p, "expected 'key = value' or '[section]', got '%.60s'", s);
		return TLSGUARD_E_CONFIG;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	/* Allow "value" in double quotes. */
	if (value[0] == '"') {
		size_t n = strlen(value);
		if (n < 2 || value[n - 1] != '"') {
			PERR(p, "%s: unterminated quoted value", key);
			return TLSGUARD_E_CONFIG;
		}
		value[n - 1] = '\0';
		value++;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *k = &keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		if (!(k->scope & (p->in_default ? SCOPE_DEFAULT : SCOPE_HOST))) {
			PERR(p, "%s is only allowed in [default]", key);
			return TLSGUARD_E_CONFIG;
		}
		if (!k->repeatable && (p->seen_keys & (1u << i))) {
			PERR(p, "%s given twice in this section", key);
			return TLSGUARD_E_CONFIG;
		}
		if (value[0] == '\0') {
			PERR(p, "%s: empty value", key);
			return TLSGUARD_E_CONFIG;
		}
		p->seen_keys |= 1u << i;
		return k->set(p, key, value);
	}
	PERR(p, "unknown key '%.60s'", key);
	return TLSGUARD_E_CONFIG;
}

int tg_config_parse(struct tg_config *cfg, const char *data, size_t len, const char *name, const char *basedir,
                    char *err, size_t errlen)
{
	struct parser p;
	char buf[MAX_LINE + 1];
	size_t pos = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	cfg->loads++;
	p.name = name;
	p.basedir = basedir;
	p.pol = &cfg->defaults;
	p.in_default = true;
	p.err = err;
	p.errlen = errlen;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		p.line++;
		if (n > MAX_LINE) {
			PERR(&p, "line longer than %d bytes", MAX_LINE);
			return TLSGUARD_E_CONFIG;
		}
		if (memchr(data + pos, '\0', n) != NULL) {
			PERR(&p, "NUL byte in line");
			return TLSGUARD_E_CONFIG;
		}
		memcpy(buf, data + pos, n);
		buf[n] = '\0';
		rc = parse_line(&p, buf);
		if (rc != 0) {
			if (rc == TLSGUARD_E_NOMEM)
				PERR(&p, "out of memory");
			return rc;
		}
		pos += n + (nl ? 1 : 0);
	}
	return 0;
}
