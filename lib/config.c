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
	p->consistency = TG_CONS_OFF;
	p->window = 30 * 24 * 3600;
	p->probe = TG_PROBE_ON_CHANGE;
	p->probe_timeout = 1500;
	p->probe_max = 4;
	p->probe_cache = 600;
}

void tg_config_free(struct tg_config *c)
{
	size_t i;
	for (i = 0; i < c->n_ca; i++)
		tg_free(c->ca_paths[i]);
	tg_free(c->ca_paths);
	for (i = 0; i < c->n_hosts; i++) {
		tg_free(c->hosts[i].pattern);
		tg_free(c->hosts[i].pol.pins);
		tg_free(c->hosts[i].pol.addrs);
	}
	tg_free(c->hosts);
	tg_hostindex_free(c);
	tg_free(c->defaults.pins);
	tg_free(c->store_path);
	tg_free(c->report_path);
	for (i = 0; i < c->n_warnings; i++)
		tg_free(c->warnings[i]);
	tg_free(c->warnings);
	tg_ct_list_unref(c->ct_list);
	tg_free(c->ct_list_err);
	memset(c, 0, sizeof(*c));
}

static int copy_pins(struct tg_policy *dst, const struct tg_policy *src)
{
	dst->pins = NULL;
	if (src->npins == 0)
		return 0;
	dst->pins = tg_malloc(src->npins * sizeof(*dst->pins));
	if (dst->pins == NULL)
		return TLSGUARD_E_NOMEM;
	memcpy(dst->pins, src->pins, src->npins * sizeof(*dst->pins));
	return 0;
}

static int copy_addrs(struct tg_policy *dst, const struct tg_policy *src)
{
	dst->addrs = NULL;
	if (src->naddrs == 0)
		return 0;
	dst->addrs = tg_malloc(src->naddrs * sizeof(*dst->addrs));
	if (dst->addrs == NULL)
		return TLSGUARD_E_NOMEM;
	memcpy(dst->addrs, src->addrs, src->naddrs * sizeof(*dst->addrs));
	return 0;
}

static int copy_strings(char ***dst, size_t *dn, char *const *src, size_t n)
{
	size_t i;
	if (n == 0)
		return 0;
	*dst = tg_calloc(n, sizeof(char *));
	if (*dst == NULL)
		return TLSGUARD_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (((*dst)[i] = tg_strdup(src[i])) == NULL)
			return TLSGUARD_E_NOMEM;
		(*dn)++;
	}
	return 0;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = tg_strdup(src)) == NULL)
		return TLSGUARD_E_NOMEM;
	return 0;
}

int tg_config_copy(struct tg_config *dst, const struct tg_config *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->use_system_ca = src->use_system_ca;
	dst->history_retention = src->history_retention;
	dst->history_max_rows = src->history_max_rows;
	dst->defaults = src->defaults;
	dst->loads = src->loads;
	dst->ct_list = tg_ct_list_ref(src->ct_list);
	dst->ct_list_failed = src->ct_list_failed;
	if (dup_opt(&dst->ct_list_err, src->ct_list_err) != 0 || copy_pins(&dst->defaults, &src->defaults) != 0 ||
	    copy_strings(&dst->ca_paths, &dst->n_ca, src->ca_paths, src->n_ca) != 0 ||
	    copy_strings(&dst->warnings, &dst->n_warnings, src->warnings, src->n_warnings) != 0 ||
	    dup_opt(&dst->store_path, src->store_path) != 0 || dup_opt(&dst->report_path, src->report_path) != 0)
		goto nomem;
	dst->warnings_cap = dst->n_warnings;
	if (src->n_hosts) {
		dst->hosts = tg_calloc(src->n_hosts, sizeof(*dst->hosts));
		if (dst->hosts == NULL)
			goto nomem;
		dst->hosts_cap = src->n_hosts;
		for (i = 0; i < src->n_hosts; i++) {
			dst->hosts[i] = src->hosts[i];
			dst->hosts[i].pol.pins = NULL;
			dst->hosts[i].pol.addrs = NULL;
			dst->n_hosts++;
			if ((dst->hosts[i].pattern = tg_strdup(src->hosts[i].pattern)) == NULL ||
			    copy_pins(&dst->hosts[i].pol, &src->hosts[i].pol) != 0 ||
			    copy_addrs(&dst->hosts[i].pol, &src->hosts[i].pol) != 0)
				goto nomem;
		}
	}
	if (tg_hostindex_rebuild(dst) != 0)
		goto nomem;
	return 0;
nomem:
	tg_config_free(dst);
	return TLSGUARD_E_NOMEM;
}

int tg_config_warn(struct tg_config *cfg, const char *fmt, ...)
{
	char buf[TG_ERRBUF];
	char **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cfg->n_warnings == cfg->warnings_cap) {
		size_t cap = cfg->warnings_cap ? cfg->warnings_cap * 2 : 8;
		v = tg_realloc(cfg->warnings, cap * sizeof(*v));
		if (v == NULL)
			return TLSGUARD_E_NOMEM;
		cfg->warnings = v;
		cfg->warnings_cap = cap;
	}
	v = cfg->warnings;
	if ((v[cfg->n_warnings] = tg_strdup(buf)) == NULL)
		return TLSGUARD_E_NOMEM;
	cfg->n_warnings++;
	return 0;
}

long tg_config_section(struct tg_config *cfg, const char *pattern, unsigned line)
{
	struct tg_host_policy *nh;
	long found = tg_hostindex_find(cfg, pattern, strlen(pattern));
	int rc;

	if (found >= 0)
		return found;
	/* Grow geometrically: configs with 100,000 pinned hosts must load in
	 * linear time whatever the allocator. */
	if (cfg->n_hosts == cfg->hosts_cap) {
		size_t cap = cfg->hosts_cap ? cfg->hosts_cap * 2 : 16;
		nh = tg_realloc(cfg->hosts, cap * sizeof(*nh));
		if (nh == NULL)
			return TLSGUARD_E_NOMEM;
		cfg->hosts = nh;
		cfg->hosts_cap = cap;
	}
	nh = &cfg->hosts[cfg->n_hosts];
	memset(nh, 0, sizeof(*nh));
	if ((nh->pattern = tg_strdup(pattern)) == NULL)
		return TLSGUARD_E_NOMEM;
	nh->wildcard = pattern[0] == '*';
	nh->line = line;
	nh->load = cfg->loads;
	cfg->n_hosts++;
	rc = tg_hostindex_add(cfg, cfg->n_hosts - 1);
	if (rc != 0) {
		cfg->n_hosts--;
		tg_free(nh->pattern);
		return rc;
	}
	return (long)(cfg->n_hosts - 1);
}

/* ---- policy lookup ---- */

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
	if (src->set & TG_POL_PINS) {
		dst->pins = src->pins;
		dst->npins = src->npins;
	}
	if (src->set & TG_POL_PIN_MODE)
		dst->pin_report_only = src->pin_report_only;
	if (src->set & TG_POL_TOFU_MODE)
		dst->tofu_report_only = src->tofu_report_only;
	if (src->set & TG_POL_PIN_EXPIRES)
		dst->pin_expires = src->pin_expires;
	if (src->set & TG_POL_TOFU)
		dst->tofu = src->tofu;
	if (src->set & TG_POL_CT_POLICY)
		dst->ct_policy = src->ct_policy;
	if (src->set & TG_POL_CT_MODE)
		dst->ct_report_only = src->ct_report_only;
	if (src->set & TG_POL_CONSISTENCY)
		dst->consistency = src->consistency;
	if (src->set & TG_POL_WINDOW)
		dst->window = src->window;
	if (src->set & TG_POL_PROBE)
		dst->probe = src->probe;
	if (src->set & TG_POL_PROBE_TIMEOUT)
		dst->probe_timeout = src->probe_timeout;
	if (src->set & TG_POL_PROBE_MAX)
		dst->probe_max = src->probe_max;
	if (src->set & TG_POL_PROBE_CACHE)
		dst->probe_cache = src->probe_cache;
	/* The resolver override is the exact host's only (never inherited
	 * from a covering section: a suffix has no addresses of its own). */
	dst->addrs = NULL;
	dst->naddrs = 0;
	if (src->set & TG_POL_ADDRS) {
		dst->addrs = src->addrs;
		dst->naddrs = src->naddrs;
	}
	dst->set |= src->set;
}

#define MAX_COVERING (TG_MAX_HOST + 1)

/* The sections that cover @host, most specific first: the exact one, then,
 * walking up the labels, "*.suffix" sections and "suffix" sections with
 * include-subdomains. A few hash probes per label, whatever the number of
 * sections. An address literal is covered only by its own section. */
static size_t covering(const struct tg_config *cfg, const char *host, const struct tg_host_policy **out)
{
	char pat[TG_MAX_HOST + 3];
	unsigned char ip[16];
	const char *s;
	size_t hl = strlen(host), n = 0;
	long i;

	if (cfg->n_hosts == 0 || hl == 0 || hl > TG_MAX_HOST)
		return 0;
	if ((i = tg_hostindex_find(cfg, host, hl)) >= 0)
		out[n++] = &cfg->hosts[i];
	/* No top-level domain is all digits, so only a name ending in a digit
	 * or containing ':' can be an address literal. */
	if ((host[hl - 1] >= '0' && host[hl - 1] <= '9') || strchr(host, ':') != NULL) {
		if (tg_ip_parse(host, ip) != 0)
			return n;
	}
	for (s = strchr(host, '.'); s != NULL && n + 2 <= MAX_COVERING; s = strchr(s + 1, '.')) {
		size_t sl = hl - (size_t)(s + 1 - host);
		pat[0] = '*';
		memcpy(pat + 1, s, sl + 2); /* ".suffix" and its NUL */
		if ((i = tg_hostindex_find(cfg, pat, sl + 2)) >= 0)
			out[n++] = &cfg->hosts[i];
		if ((i = tg_hostindex_find(cfg, s + 1, sl)) >= 0 && cfg->hosts[i].include_subdomains)
			out[n++] = &cfg->hosts[i];
	}
	return n;
}

/* Defaults, overlaid by the most specific section. Pins are the exception
 * to "most specific wins" when that section has none of its own: they come
 * from the nearest covering section that has pins, so that a section for
 * www.example.com that only tunes, say, min-rsa-bits does not silently
 * drop the pins of [example.com] with include-subdomains. */
void tg_policy_for_host(const struct tg_config *cfg, const char *host, struct tg_policy *out)
{
	const struct tg_host_policy *sec[MAX_COVERING];
	size_t n = covering(cfg, host, sec), k;

	*out = cfg->defaults;
	if (n == 0)
		return;
	overlay(out, &sec[0]->pol);
	if (sec[0]->pol.set & TG_POL_PINS)
		return;
	for (k = 1; k < n; k++) {
		const struct tg_policy *p = &sec[k]->pol;
		if (!(p->set & TG_POL_PINS))
			continue;
		out->pins = p->pins;
		out->npins = p->npins;
		out->pin_expires = p->set & TG_POL_PIN_EXPIRES ? p->pin_expires : 0;
		/* Pins keep the mode of the section that defines them. */
		out->pin_report_only = p->set & TG_POL_PIN_MODE ? p->pin_report_only : cfg->defaults.pin_report_only;
		out->set |= p->set & (TG_POL_PINS | TG_POL_PIN_EXPIRES);
		return;
	}
}

/* ---- parsing ---- */

struct parser {
	struct tg_config *cfg;
	const char *name;
	const char *basedir;
	unsigned line;
	struct tg_policy *pol;     /* section being filled */
	long host;                 /* its index in cfg->hosts, -1 for [default] */
	bool in_default;
	unsigned default_line;     /* where [default] was opened, 0 = not yet */
	uint64_t seen_keys;        /* bit per key index, per section */
	uint64_t default_seen;     /* seen_keys of the lines before the first header */
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

static int key_pin(struct parser *p, const char *key, const char *v)
{
	struct tg_host_policy *h = &p->cfg->hosts[p->host];
	char why[TG_ERRBUF];
	int rc;

	if (v[strspn(v, " \t,")] == '\0') {
		PERR(p, "%s: no pin given", key);
		return TLSGUARD_E_CONFIG;
	}
	/* Pins given again by a later load replace the earlier set. */
	if (h->pins_load != p->cfg->loads) {
		tg_free(h->pol.pins);
		h->pol.pins = NULL;
		h->pol.npins = 0;
		h->pins_load = p->cfg->loads;
		h->pin_line = p->line;
	}
	rc = tg_pins_parse_list(v, &h->pol.pins, &h->pol.npins, why, sizeof(why));
	if (rc == TLSGUARD_E_INVALID) {
		PERR(p, "%s: %s", key, why);
		return TLSGUARD_E_CONFIG;
	}
	if (rc == 0)
		h->pol.set |= TG_POL_PINS;
	return rc;
}

static int key_include_subdomains(struct parser *p, const char *key, const char *v)
{
	struct tg_host_policy *h = &p->cfg->hosts[p->host];
	bool b;
	int rc = parse_bool(p, key, v, &b);

	if (rc == 0 && b && h->wildcard) {
		PERR(p, "%s: a [*.suffix] section already covers every name under suffix", key);
		return TLSGUARD_E_CONFIG;
	}
	if (rc == 0)
		h->include_subdomains = b;
	return rc;
}

static int key_pin_expires(struct parser *p, const char *key, const char *v)
{
	int64_t t;
	if (tg_parse_time(v, &t) != 0) {
		PERR(p, "%s: expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->pin_expires = t;
	p->pol->set |= TG_POL_PIN_EXPIRES;
	return 0;
}

/* "enforce" or "report-only" */
static int parse_mode2(struct parser *p, const char *key, const char *v, bool *report_only)
{
	if (!strcmp(v, "enforce"))
		*report_only = false;
	else if (!strcmp(v, "report-only"))
		*report_only = true;
	else {
		PERR(p, "%s: expected enforce or report-only, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	return 0;
}

static int key_pin_mode(struct parser *p, const char *key, const char *v)
{
	bool ro = false;
	if (parse_mode2(p, key, v, &ro) != 0)
		return TLSGUARD_E_CONFIG;
	p->pol->pin_report_only = ro;
	p->pol->set |= TG_POL_PIN_MODE;
	return 0;
}

static int key_tofu_mode(struct parser *p, const char *key, const char *v)
{
	bool ro = false;
	if (parse_mode2(p, key, v, &ro) != 0)
		return TLSGUARD_E_CONFIG;
	p->pol->tofu_report_only = ro;
	p->pol->set |= TG_POL_TOFU_MODE;
	return 0;
}

static int key_tofu(struct parser *p, const char *key, const char *v)
{
	int rc = parse_bool(p, key, v, &p->pol->tofu);
	if (rc == 0)
		p->pol->set |= TG_POL_TOFU;
	return rc;
}

/* A path relative to the config file's directory. */
static int set_path(struct parser *p, const char *key, const char *v, char **dst)
{
	char path[4096];
	char *copy;
	int n;

	if (v[0] == '/' || p->basedir == NULL)
		n = tg_snprintf(path, sizeof(path), "%s", v);
	else
		n = tg_snprintf(path, sizeof(path), "%s/%s", p->basedir, v);
	if ((size_t)n >= sizeof(path)) {
		PERR(p, "%s: path too long", key);
		return TLSGUARD_E_CONFIG;
	}
	if ((copy = tg_strdup(path)) == NULL)
		return TLSGUARD_E_NOMEM;
	tg_free(*dst);
	*dst = copy;
	return 0;
}

void tg_config_set_ct_list(struct tg_config *cfg, struct tg_ct_list *l)
{
	tg_ct_list_unref(cfg->ct_list);
	cfg->ct_list = l;
	cfg->ct_list_failed = false;
	tg_free(cfg->ct_list_err);
	cfg->ct_list_err = NULL;
}

int tg_config_ct_list_failed(struct tg_config *cfg, const char *msg)
{
	tg_config_set_ct_list(cfg, NULL);
	cfg->ct_list_failed = true;
	cfg->ct_list_err = tg_strdup(msg);
	return cfg->ct_list_err == NULL ? TLSGUARD_E_NOMEM : 0;
}

/* The CT log list is read and checked now, so that a bad list is reported
 * at load time naming the file and the JSON path. A list that cannot be
 * read or parsed does not fail the load: the rest of the configuration
 * still applies; the failure is a load warning and is kept, so that CT is
 * reported as unavailable at evaluation (and fails closed where it is
 * enforced: see check_ct.c). */
static int key_ct_log_list(struct parser *p, const char *key, const char *v)
{
	char *path = NULL;
	char why[TG_ERRBUF], note[TG_ERRBUF], msg[2 * TG_ERRBUF];
	struct tg_ct_list *l = NULL;
	int rc = set_path(p, key, v, &path);

	if (rc != 0)
		return rc;
	rc = tg_ct_list_load(path, &l, why, sizeof(why));
	tg_free(path);
	if (rc == TLSGUARD_E_NOMEM) {
		PERR(p, "%s: %s", key, why);
		return rc;
	}
	if (rc != 0) {
		tg_snprintf(msg, sizeof(msg), "%s:%u: %s: %s", p->name, p->line, key, why);
		if (tg_config_ct_list_failed(p->cfg, msg) != 0)
			return TLSGUARD_E_NOMEM;
		return tg_config_warn(p->cfg, "%s:%u: warning: %s: %s", p->name, p->line, key, why);
	}
	tg_config_set_ct_list(p->cfg, l);
	tg_ct_list_date_note(l, note, sizeof(note));
	if (note[0] != '\0')
		return tg_config_warn(p->cfg, "%s:%u: warning: %s: %s: %s", p->name, p->line, key, l->path, note);
	return 0;
}

static int key_ct_policy(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "chrome"))
		p->pol->ct_policy = TG_CT_CHROME;
	else if (!strcmp(v, "apple"))
		p->pol->ct_policy = TG_CT_APPLE;
	else if (!strcmp(v, "off"))
		p->pol->ct_policy = TG_CT_OFF;
	else {
		PERR(p, "%s: expected chrome, apple or off, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_CT_POLICY;
	return 0;
}

static int key_ct_mode(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "enforce"))
		p->pol->ct_report_only = false;
	else if (!strcmp(v, "report-only"))
		p->pol->ct_report_only = true;
	else {
		PERR(p, "%s: expected enforce or report-only, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_CT_MODE;
	return 0;
}

static int key_consistency(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "enforce"))
		p->pol->consistency = TG_CONS_ENFORCE;
	else if (!strcmp(v, "report-only"))
		p->pol->consistency = TG_CONS_REPORT_ONLY;
	else if (!strcmp(v, "off"))
		p->pol->consistency = TG_CONS_OFF;
	else {
		PERR(p, "%s: expected enforce, report-only or off, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_CONSISTENCY;
	return 0;
}

static int key_window(struct parser *p, const char *key, const char *v)
{
	unsigned days;
	int rc = parse_uint(p, key, v, 1, 3650, &days);
	if (rc == 0) {
		p->pol->window = days * 24u * 3600u;
		p->pol->set |= TG_POL_WINDOW;
	}
	return rc;
}

static int key_probe(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "off"))
		p->pol->probe = TG_PROBE_OFF;
	else if (!strcmp(v, "on-change"))
		p->pol->probe = TG_PROBE_ON_CHANGE;
	else if (!strcmp(v, "always"))
		p->pol->probe = TG_PROBE_ALWAYS;
	else {
		PERR(p, "%s: expected off, on-change or always, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_PROBE;
	return 0;
}

static int key_probe_timeout(struct parser *p, const char *key, const char *v)
{
	int rc = parse_uint(p, key, v, 50, 30000, &p->pol->probe_timeout);
	if (rc == 0)
		p->pol->set |= TG_POL_PROBE_TIMEOUT;
	return rc;
}

static int key_probe_max(struct parser *p, const char *key, const char *v)
{
	int rc = parse_uint(p, key, v, 1, TG_PROBE_MAX_ADDRS, &p->pol->probe_max);
	if (rc == 0)
		p->pol->set |= TG_POL_PROBE_MAX;
	return rc;
}

static int key_probe_cache(struct parser *p, const char *key, const char *v)
{
	int rc = parse_uint(p, key, v, 0, 86400, &p->pol->probe_cache);
	if (rc == 0)
		p->pol->set |= TG_POL_PROBE_CACHE;
	return rc;
}

/* Parse "a, b c" numeric addresses into a fresh array. */
int tg_addrs_parse_list(const char *v, char (**out)[TG_ADDR_TEXT], size_t *n, char *err, size_t errlen)
{
	char (*a)[TG_ADDR_TEXT] = NULL;
	size_t cnt = 0;
	const char *s = v;

	*out = NULL;
	*n = 0;
	for (;;) {
		char one[TG_ADDR_TEXT], canon[TG_ADDR_TEXT];
		size_t len, k;
		void *grown;

		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		if (len >= sizeof(one)) {
			tg_snprintf(err, errlen, "'%.*s...' is not a numeric IPv4 or IPv6 address", 40, s);
			goto bad;
		}
		memcpy(one, s, len);
		one[len] = '\0';
		s += len;
		if (tg_ip_canonical(one, canon, sizeof(canon)) != 0) {
			tg_snprintf(err, errlen, "'%s' is not a numeric IPv4 or IPv6 address", one);
			goto bad;
		}
		memcpy(one, canon, strlen(canon) + 1);
		len = strlen(one);
		for (k = 0; k < cnt && strcmp(a[k], one) != 0; k++)
			;
		if (k < cnt)
			continue; /* given twice: once is enough */
		if (cnt == TG_PROBE_MAX_ADDRS) {
			tg_snprintf(err, errlen, "more than %d addresses", TG_PROBE_MAX_ADDRS);
			goto bad;
		}
		if ((grown = tg_realloc(a, (cnt + 1) * sizeof(*a))) == NULL) {
			tg_free(a);
			return TLSGUARD_E_NOMEM;
		}
		a = grown;
		memcpy(a[cnt++], one, len + 1);
	}
	if (cnt == 0) {
		tg_snprintf(err, errlen, "no address given");
		goto bad;
	}
	*out = a;
	*n = cnt;
	return 0;
bad:
	tg_free(a);
	return TLSGUARD_E_INVALID;
}

static int key_addresses(struct parser *p, const char *key, const char *v)
{
	struct tg_host_policy *h = &p->cfg->hosts[p->host];
	char (*a)[TG_ADDR_TEXT];
	char why[TG_ERRBUF];
	size_t n;
	int rc;

	if (h->wildcard) {
		PERR(p, "%s: only an exact host section can list its addresses, not [%s]", key, h->pattern);
		return TLSGUARD_E_CONFIG;
	}
	rc = tg_addrs_parse_list(v, &a, &n, why, sizeof(why));
	if (rc == TLSGUARD_E_INVALID) {
		PERR(p, "%s: %s", key, why);
		return TLSGUARD_E_CONFIG;
	}
	if (rc != 0)
		return rc;
	tg_free(h->pol.addrs);
	h->pol.addrs = a;
	h->pol.naddrs = n;
	h->pol.set |= TG_POL_ADDRS;
	return 0;
}

static int key_history_retention(struct parser *p, const char *key, const char *v)
{
	unsigned days;
	int rc = parse_uint(p, key, v, 1, 36500, &days);
	if (rc == 0)
		p->cfg->history_retention = (int64_t)days * 86400;
	return rc;
}

static int key_history_max_rows(struct parser *p, const char *key, const char *v)
{
	unsigned rows;
	int rc = parse_uint(p, key, v, 1000, 100000000, &rows);
	if (rc == 0)
		p->cfg->history_max_rows = rows;
	return rc;
}

/* Web-PKI profile: intermediates allowed between leaf and anchor. */
static int key_max_chain_depth(struct parser *p, const char *key, const char *v)
{
	int rc = parse_uint(p, key, v, 0, 65535, &p->pol->max_chain_depth);
	if (rc == 0)
		p->pol->set |= TG_POL_MAX_DEPTH;
	return rc;
}

/* Web-PKI profile: which public suffixes a wildcard may not sit directly
 * over: "icann" (the default, as browsers) or "all" (the private section
 * too, e.g. "*.github.io"). */
static int key_wildcard_public_suffix(struct parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "icann"))
		p->pol->psl_private = false;
	else if (!strcmp(v, "all"))
		p->pol->psl_private = true;
	else {
		PERR(p, "%s: expected icann or all, got '%s'", key, v);
		return TLSGUARD_E_CONFIG;
	}
	p->pol->set |= TG_POL_PSL_PRIVATE;
	return 0;
}

static int key_store(struct parser *p, const char *key, const char *v)
{
	return set_path(p, key, v, &p->cfg->store_path);
}

static int key_report_file(struct parser *p, const char *key, const char *v)
{
	return set_path(p, key, v, &p->cfg->report_path);
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
	{"pin", SCOPE_HOST, true, key_pin},
	{"include-subdomains", SCOPE_HOST, false, key_include_subdomains},
	{"pin-expires", SCOPE_HOST, false, key_pin_expires},
	{"pin-mode", SCOPE_ANY, false, key_pin_mode},
	{"tofu-mode", SCOPE_ANY, false, key_tofu_mode},
	{"tofu", SCOPE_ANY, false, key_tofu},
	{"store", SCOPE_DEFAULT, false, key_store},
	{"report-file", SCOPE_DEFAULT, false, key_report_file},
	{"ct-log-list", SCOPE_DEFAULT, false, key_ct_log_list},
	{"ct-policy", SCOPE_ANY, false, key_ct_policy},
	{"ct-mode", SCOPE_ANY, false, key_ct_mode},
	{"consistency", SCOPE_ANY, false, key_consistency},
	{"consistency-window-days", SCOPE_ANY, false, key_window},
	{"probe", SCOPE_ANY, false, key_probe},
	{"probe-timeout-ms", SCOPE_ANY, false, key_probe_timeout},
	{"probe-max", SCOPE_ANY, false, key_probe_max},
	{"probe-cache-seconds", SCOPE_ANY, false, key_probe_cache},
	{"addresses", SCOPE_HOST, false, key_addresses},
	{"history-retention-days", SCOPE_DEFAULT, false, key_history_retention},
	{"history-max-rows", SCOPE_DEFAULT, false, key_history_max_rows},
	{"max-chain-depth", SCOPE_DEFAULT, false, key_max_chain_depth},
	{"wildcard-public-suffix", SCOPE_DEFAULT, false, key_wildcard_public_suffix},
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 64, "seen_keys has one bit per key");

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
	char norm[TG_MAX_HOST + 1], pattern[TG_MAX_HOST + 3];
	const char *host = name;
	bool wildcard = false;
	size_t before = p->cfg->n_hosts;
	long idx;

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
		p->host = -1;
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
	tg_snprintf(pattern, sizeof(pattern), "%s%s", wildcard ? "*." : "", norm);
	idx = tg_config_section(p->cfg, pattern, p->line);
	if (idx < 0)
		return (int)idx;
	if (p->cfg->n_hosts == before) {
		struct tg_host_policy *h = &p->cfg->hosts[idx];
		if (h->load == p->cfg->loads) {
			PERR(p, "section [%s] already defined at line %u", name, h->line);
			return TLSGUARD_E_CONFIG;
		}
		/* Defined by an earlier load (or the API): this text's keys
		 * override. */
		h->load = p->cfg->loads;
		h->line = p->line;
	}
	p->pol = &p->cfg->hosts[idx].pol;
	p->host = idx;
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
			PERR(p, "%s is only allowed in %s", key, k->scope == SCOPE_DEFAULT ? "[default]" : "host sections");
			return TLSGUARD_E_CONFIG;
		}
		if (!k->repeatable && (p->seen_keys & (UINT64_C(1) << i))) {
			PERR(p, "%s given twice in this section", key);
			return TLSGUARD_E_CONFIG;
		}
		if (value[0] == '\0') {
			PERR(p, "%s: empty value", key);
			return TLSGUARD_E_CONFIG;
		}
		p->seen_keys |= UINT64_C(1) << i;
		return k->set(p, key, value);
	}
	PERR(p, "unknown key '%.60s'", key);
	return TLSGUARD_E_CONFIG;
}

/* Load-time advice about what was just parsed: pin sets without a backup
 * pin, pin sets that have expired already. */
static int warn_pins(struct tg_config *cfg, const char *name, int64_t now)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < cfg->n_hosts; i++) {
		const struct tg_host_policy *h = &cfg->hosts[i];
		char when[40];
		/* Only pin sets given by this load: pin_line and name belong
		 * to it (a section reopened without pins, or pinned through the
		 * API, was not written here). */
		if (h->pins_load != cfg->loads || h->pol.npins == 0)
			continue;
		if (h->pol.npins == 1)
			rc = tg_config_warn(cfg,
			                    "%s:%u: warning: [%s] has a single pin and no backup: if that key is lost or "
			                    "rotated, clients are locked out; add a pin for a backup key",
			                    name, h->pin_line, h->pattern);
		if (rc == 0 && (h->pol.set & TG_POL_PIN_EXPIRES) && h->pol.pin_expires < now) {
			tg_format_time(h->pol.pin_expires, when, sizeof(when));
			rc = tg_config_warn(cfg, "%s:%u: warning: the pins of [%s] expired at %s and are not enforced", name,
			                    h->pin_line, h->pattern, when);
		}
	}
	return rc;
}

int tg_config_parse(struct tg_config *cfg, const char *data, size_t len, const char *name, const char *basedir,
                    int64_t now, char *err, size_t errlen)
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
	p.host = -1;
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
	rc = warn_pins(cfg, name, now);
	if (rc != 0)
		tg_snprintf(err, errlen, "%s: out of memory", name);
	return rc;
}
