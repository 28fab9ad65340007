/* The context: policy and trust anchors, configured once, then read-only. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tg.h"

int tlsguard_ctx_new(tlsguard_ctx **out, unsigned flags)
{
	tlsguard_ctx *ctx;

	if (out == NULL)
		return TLSGUARD_E_INVALID;
	*out = NULL;
	if (flags & ~TLSGUARD_CTX_NO_SYSTEM_CA)
		return TLSGUARD_E_INVALID;
	ctx = tg_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return TLSGUARD_E_NOMEM;
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		tg_free(ctx);
		return TLSGUARD_E_INTERNAL;
	}
	ctx->cfg.use_system_ca = !(flags & TLSGUARD_CTX_NO_SYSTEM_CA);
	tg_policy_init_defaults(&ctx->cfg.defaults);
	*out = ctx;
	return 0;
}

void tlsguard_ctx_free(tlsguard_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->tl != NULL)
		gnutls_x509_trust_list_deinit(ctx->tl, 1);
	tg_store_close(ctx->store);
	tg_ct_cache_free(ctx->ct_cache);
	tg_config_free(&ctx->cfg);
	pthread_mutex_destroy(&ctx->lock);
	tg_free(ctx);
}

bool tg_ctx_frozen(const tlsguard_ctx *ctx)
{
	return __atomic_load_n(&ctx->frozen, __ATOMIC_ACQUIRE) != 0;
}

/* Common entry of every configuration call. */
static int config_begin(tlsguard_ctx *ctx)
{
	if (ctx == NULL)
		return TLSGUARD_E_INVALID;
	ctx->errbuf[0] = '\0';
	if (tg_ctx_frozen(ctx)) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf),
		            "context is already used for evaluation; build a new context to change it");
		return TLSGUARD_E_FROZEN;
	}
	return 0;
}

const char *tlsguard_ctx_last_error(const tlsguard_ctx *ctx)
{
	return ctx ? ctx->errbuf : "";
}

int tlsguard_ctx_set_system_ca(tlsguard_ctx *ctx, int use)
{
	int rc = config_begin(ctx);
	if (rc == 0)
		ctx->cfg.use_system_ca = use != 0;
	return rc;
}

int tlsguard_ctx_set_time(tlsguard_ctx *ctx, int64_t unix_time)
{
	int rc = config_begin(ctx);
	if (rc != 0)
		return rc;
	if (unix_time < 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "verification time %lld is before 1970",
		            (long long)unix_time);
		return TLSGUARD_E_RANGE;
	}
	ctx->fixed_time = unix_time;
	return 0;
}

int tlsguard_ctx_set_event_callback(tlsguard_ctx *ctx, tlsguard_event_cb cb, void *userdata)
{
	int rc = config_begin(ctx);
	if (rc == 0) {
		ctx->cb = cb;
		ctx->cb_data = userdata;
	}
	return rc;
}

int64_t tg_ctx_now(const tlsguard_ctx *ctx)
{
	return ctx->fixed_time ? ctx->fixed_time : (int64_t)time(NULL);
}

/* Add CA certificates from one file. Returns the count or an error. */
static int add_file(gnutls_x509_trust_list_t tl, const char *path, char *err, size_t errlen)
{
	gnutls_datum_t data = {NULL, 0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;
	int ret;

	if (access(path, R_OK) != 0) {
		tg_snprintf(err, errlen, "%s: cannot read CA file: %s", path, strerror(errno));
		return TLSGUARD_E_IO;
	}
	ret = gnutls_load_file(path, &data);
	if (ret < 0) {
		tg_snprintf(err, errlen, "%s: cannot read CA file: %s", path, gnutls_strerror(ret));
		return TLSGUARD_E_IO;
	}
	ret = gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || n == 0) {
		/* Not PEM: one DER certificate? */
		crts = gnutls_malloc(sizeof(*crts));
		if (crts == NULL) {
			gnutls_free(data.data);
			return TLSGUARD_E_NOMEM;
		}
		n = 0;
		if (gnutls_x509_crt_init(&crts[0]) == 0) {
			if (gnutls_x509_crt_import(crts[0], &data, GNUTLS_X509_FMT_DER) == 0)
				n = 1;
			else
				gnutls_x509_crt_deinit(crts[0]);
		}
	}
	gnutls_free(data.data);
	if (n == 0) {
		gnutls_free(crts);
		tg_snprintf(err, errlen, "%s: no PEM or DER certificate found in CA file", path);
		return TLSGUARD_E_CERT_PARSE;
	}
	ret = gnutls_x509_trust_list_add_cas(tl, crts, n, 0);
	if (ret < 0) {
		for (i = 0; i < n; i++)
			gnutls_x509_crt_deinit(crts[i]);
		gnutls_free(crts);
		tg_snprintf(err, errlen, "%s: cannot add CA certificates: %s", path, gnutls_strerror(ret));
		return TLSGUARD_E_TRUST_STORE;
	}
	/* The trust list now owns the certificates. */
	gnutls_free(crts);
	return (int)n;
}

int tg_trust_add_path(gnutls_x509_trust_list_t tl, const char *path, char *err, size_t errlen)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int total = 0, rc;
	char sub[4096];

	if (stat(path, &st) != 0) {
		tg_snprintf(err, errlen, "%s: cannot read CA file: %s", path, strerror(errno));
		return TLSGUARD_E_IO;
	}
	if (S_ISREG(st.st_mode))
		return add_file(tl, path, err, errlen);
	if (!S_ISDIR(st.st_mode)) {
		tg_snprintf(err, errlen, "%s: not a regular file or directory", path);
		return TLSGUARD_E_IO;
	}
	dir = opendir(path);
	if (dir == NULL) {
		tg_snprintf(err, errlen, "%s: cannot open CA directory: %s", path, strerror(errno));
		return TLSGUARD_E_IO;
	}
	/* Files that are not certificates (README, CRLs) are skipped; the
	 * directory as a whole must hold at least one. */
	while ((de = readdir(dir)) != NULL) {
		char ignored[TG_ERRBUF];
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)tg_snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		if (stat(sub, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = add_file(tl, sub, ignored, sizeof(ignored));
		if (rc == TLSGUARD_E_NOMEM || rc == TLSGUARD_E_TRUST_STORE) {
			closedir(dir);
			tg_snprintf(err, errlen, "%s", ignored);
			return rc;
		}
		if (rc > 0)
			total += rc;
	}
	closedir(dir);
	if (total == 0) {
		tg_snprintf(err, errlen, "%s: no CA certificate found in directory", path);
		return TLSGUARD_E_CERT_PARSE;
	}
	return total;
}

/* Check now that a CA path is usable, so errors surface at configuration
 * time, not at the first connection. */
static int probe_ca_path(const char *path, char *err, size_t errlen)
{
	gnutls_x509_trust_list_t tl;
	int rc;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return TLSGUARD_E_NOMEM;
	rc = tg_trust_add_path(tl, path, err, errlen);
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc < 0 ? rc : 0;
}

int tlsguard_ctx_add_ca(tlsguard_ctx *ctx, const char *path)
{
	char **v;
	char *copy;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (path == NULL || path[0] == '\0') {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "CA path is empty");
		return TLSGUARD_E_INVALID;
	}
	rc = probe_ca_path(path, ctx->errbuf, sizeof(ctx->errbuf));
	if (rc != 0)
		return rc;
	copy = tg_strdup(path);
	v = copy ? tg_realloc(ctx->cfg.ca_paths, (ctx->cfg.n_ca + 1) * sizeof(*v)) : NULL;
	if (v == NULL) {
		tg_free(copy);
		return TLSGUARD_E_NOMEM;
	}
	v[ctx->cfg.n_ca++] = copy;
	ctx->cfg.ca_paths = v;
	return 0;
}

static int load_common(tlsguard_ctx *ctx, const char *data, size_t len, const char *name)
{
	struct tg_config next;
	char basedir[4096] = ".";
	const char *slash;
	int rc;

	if (name != NULL && (slash = strrchr(name, '/')) != NULL) {
		size_t n = (size_t)(slash - name);
		if (n == 0)
			n = 1; /* "/x.conf" */
		if (n < sizeof(basedir)) {
			memcpy(basedir, name, n);
			basedir[n] = '\0';
		}
	}
	rc = tg_config_copy(&next, &ctx->cfg);
	if (rc != 0)
		return rc;
	rc = tg_config_parse(&next, data, len, name ? name : "<config>", basedir, tg_ctx_now(ctx), ctx->errbuf,
	                     sizeof(ctx->errbuf));
	if (rc != 0) {
		tg_config_free(&next);
		return rc;
	}
	tg_config_free(&ctx->cfg);
	ctx->cfg = next;
	return 0;
}

int tlsguard_ctx_load_config_mem(tlsguard_ctx *ctx, const char *data, size_t len, const char *name)
{
	int rc = config_begin(ctx);
	if (rc != 0)
		return rc;
	if (data == NULL && len > 0)
		return TLSGUARD_E_INVALID;
	return load_common(ctx, data ? data : "", len, name);
}

int tlsguard_ctx_load_config(tlsguard_ctx *ctx, const char *path)
{
	gnutls_datum_t d = {NULL, 0};
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (path == NULL)
		return TLSGUARD_E_INVALID;
	if (access(path, R_OK) != 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "%s: cannot read config file: %s", path, strerror(errno));
		return TLSGUARD_E_IO;
	}
	if ((rc = gnutls_load_file(path, &d)) < 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "%s: cannot read config file: %s", path,
		            gnutls_strerror(rc));
		return TLSGUARD_E_IO;
	}
	rc = load_common(ctx, (const char *)d.data, d.size, path);
	gnutls_free(d.data);
	return rc;
}

/* Build the trust list. Called with ctx->lock held, exactly once. */
static int build_trust(tlsguard_ctx *ctx)
{
	size_t i;
	int ret;

	if (gnutls_x509_trust_list_init(&ctx->tl, 0) < 0) {
		tg_snprintf(ctx->prep_err, sizeof(ctx->prep_err), "cannot create trust list");
		return TLSGUARD_E_NOMEM;
	}
	if (ctx->cfg.use_system_ca) {
		ret = gnutls_x509_trust_list_add_system_trust(ctx->tl, 0, 0);
		if (ret < 0) {
			tg_snprintf(ctx->prep_err, sizeof(ctx->prep_err), "cannot load the system trust store: %s",
			            gnutls_strerror(ret));
			return TLSGUARD_E_TRUST_STORE;
		}
	}
	for (i = 0; i < ctx->cfg.n_ca; i++) {
		ret = tg_trust_add_path(ctx->tl, ctx->cfg.ca_paths[i], ctx->prep_err, sizeof(ctx->prep_err));
		if (ret < 0)
			return ret == TLSGUARD_E_NOMEM ? ret : TLSGUARD_E_TRUST_STORE;
	}
	return 0;
}

/* Some policy keeps state in the store: trust on first use, or the
 * consistency checks' observation history. */
static bool uses_store(const struct tg_config *cfg)
{
	size_t i;
	if (cfg->defaults.tofu || cfg->defaults.consistency != TG_CONS_OFF)
		return true;
	for (i = 0; i < cfg->n_hosts; i++) {
		const struct tg_policy *p = &cfg->hosts[i].pol;
		if ((p->set & TG_POL_TOFU) && p->tofu)
			return true;
		if ((p->set & TG_POL_CONSISTENCY) && p->consistency != TG_CONS_OFF)
			return true;
	}
	return false;
}

/* Open the store when some policy needs it. A failure is kept and reported
 * by every evaluation that needs the store (which then fails closed). */
static void open_store(tlsguard_ctx *ctx)
{
	char path[4096];

	ctx->needs_store = uses_store(&ctx->cfg);
	if (!ctx->needs_store)
		return;
	if (ctx->cfg.store_path != NULL)
		tg_snprintf(path, sizeof(path), "%s", ctx->cfg.store_path);
	else if ((ctx->store_rc = tg_store_default_path(path, sizeof(path), ctx->store_err, sizeof(ctx->store_err))) != 0)
		return;
	ctx->store_rc = tg_store_open(&ctx->store, path, 1, ctx->store_err, sizeof(ctx->store_err));
}

int tg_ctx_prepare(const tlsguard_ctx *cctx)
{
	/* The context is logically const for evaluators: preparing it only
	 * fills in derived state, once, under the lock. */
	tlsguard_ctx *ctx = (tlsguard_ctx *)(uintptr_t)cctx;
	int rc;

	if (tg_ctx_frozen(ctx))
		return ctx->prep_rc;
	pthread_mutex_lock(&ctx->lock);
	if (!tg_ctx_frozen(ctx)) {
		ctx->prep_rc = build_trust(ctx);
		open_store(ctx);
		/* Without a cache every SCT is verified every time: slower,
		 * never less safe, so an allocation failure here is not fatal. */
		if (ctx->cfg.ct_list != NULL && tg_ct_cache_new(&ctx->ct_cache) != 0)
			ctx->ct_cache = NULL;
		__atomic_store_n(&ctx->frozen, 1, __ATOMIC_RELEASE);
	}
	rc = ctx->prep_rc;
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

size_t tlsguard_ctx_warning_count(const tlsguard_ctx *ctx)
{
	return ctx ? ctx->cfg.n_warnings : 0;
}

const char *tlsguard_ctx_warning(const tlsguard_ctx *ctx, size_t i)
{
	return ctx && i < ctx->cfg.n_warnings ? ctx->cfg.warnings[i] : NULL;
}

/* The section for an API call's host pattern, created if needed. */
static long api_section(tlsguard_ctx *ctx, const char *host)
{
	char norm[TG_MAX_HOST + 1], pattern[TG_MAX_HOST + 3];
	bool wildcard = host[0] == '*' && host[1] == '.';
	const char *name = wildcard ? host + 2 : host;

	if (tg_host_normalize(name, strlen(name), norm) != 0 || (wildcard && strchr(norm, '.') == NULL)) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "'%.80s' is not a host name or *.suffix", host);
		return TLSGUARD_E_INVALID;
	}
	tg_snprintf(pattern, sizeof(pattern), "%s%s", wildcard ? "*." : "", norm);
	return tg_config_section(&ctx->cfg, pattern, 0);
}

int tlsguard_ctx_add_pin_set(tlsguard_ctx *ctx, const char *host, const char *pins, unsigned flags, int64_t expires)
{
	unsigned char (*set)[TG_PIN_LEN] = NULL;
	size_t n = 0;
	struct tg_host_policy *h;
	long idx = -1;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (host == NULL || pins == NULL) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "%s is NULL", host == NULL ? "host" : "pins");
		return TLSGUARD_E_INVALID;
	}
	if ((flags & ~(TLSGUARD_PIN_INCLUDE_SUBDOMAINS | TLSGUARD_PIN_REPORT_ONLY)) != 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "unknown pin flags 0x%x",
		            flags & ~(TLSGUARD_PIN_INCLUDE_SUBDOMAINS | TLSGUARD_PIN_REPORT_ONLY));
		return TLSGUARD_E_INVALID;
	}
	if (expires < 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "pin expiry time %lld is before 1970", (long long)expires);
		return TLSGUARD_E_INVALID;
	}
	rc = tg_pins_parse_list(pins, &set, &n, ctx->errbuf, sizeof(ctx->errbuf));
	if (rc == 0 && n == 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "no pin given for %.80s", host);
		rc = TLSGUARD_E_INVALID;
	}
	if (rc == 0 && (idx = api_section(ctx, host)) < 0)
		rc = (int)idx;
	if (rc == 0 && (flags & TLSGUARD_PIN_INCLUDE_SUBDOMAINS) && ctx->cfg.hosts[idx].wildcard) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "include-subdomains makes no sense for %.80s", host);
		rc = TLSGUARD_E_INVALID;
	}
	if (rc != 0) {
		tg_free(set);
		return rc;
	}
	h = &ctx->cfg.hosts[idx];
	tg_free(h->pol.pins);
	h->pol.pins = set;
	h->pol.npins = n;
	h->pol.pin_report_only = (flags & TLSGUARD_PIN_REPORT_ONLY) != 0;
	h->pol.pin_expires = expires;
	h->pol.set |= TG_POL_PINS | TG_POL_PIN_MODE | (expires ? TG_POL_PIN_EXPIRES : 0);
	if (flags & TLSGUARD_PIN_INCLUDE_SUBDOMAINS)
		h->include_subdomains = true;
	return 0;
}

int tlsguard_ctx_set_tofu(tlsguard_ctx *ctx, const char *host, unsigned flags)
{
	struct tg_host_policy *h;
	long idx;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (host == NULL) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "host is NULL");
		return TLSGUARD_E_INVALID;
	}
	if ((flags & ~(TLSGUARD_PIN_INCLUDE_SUBDOMAINS | TLSGUARD_PIN_REPORT_ONLY)) != 0) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "unknown TOFU flags 0x%x", flags);
		return TLSGUARD_E_INVALID;
	}
	if ((idx = api_section(ctx, host)) < 0)
		return (int)idx;
	h = &ctx->cfg.hosts[idx];
	if ((flags & TLSGUARD_PIN_INCLUDE_SUBDOMAINS) && h->wildcard) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "include-subdomains makes no sense for %.80s", host);
		return TLSGUARD_E_INVALID;
	}
	h->pol.tofu = true;
	h->pol.tofu_report_only = (flags & TLSGUARD_PIN_REPORT_ONLY) != 0;
	h->pol.set |= TG_POL_TOFU | TG_POL_TOFU_MODE;
	if (flags & TLSGUARD_PIN_INCLUDE_SUBDOMAINS)
		h->include_subdomains = true;
	return 0;
}

static int set_string(tlsguard_ctx *ctx, const char *value, char **dst)
{
	char *copy;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (value == NULL || value[0] == '\0') {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "path is NULL or empty");
		return TLSGUARD_E_INVALID;
	}
	if ((copy = tg_strdup(value)) == NULL)
		return TLSGUARD_E_NOMEM;
	tg_free(*dst);
	*dst = copy;
	return 0;
}

int tlsguard_ctx_set_store(tlsguard_ctx *ctx, const char *path)
{
	return set_string(ctx, path, ctx ? &ctx->cfg.store_path : NULL);
}

int tlsguard_ctx_set_report_file(tlsguard_ctx *ctx, const char *path)
{
	return set_string(ctx, path, ctx ? &ctx->cfg.report_path : NULL);
}

int tlsguard_ctx_set_ct_log_list(tlsguard_ctx *ctx, const char *path)
{
	struct tg_ct_list *l = NULL;
	char note[TG_ERRBUF];
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (path == NULL || path[0] == '\0') {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "CT log list path is NULL or empty");
		return TLSGUARD_E_INVALID;
	}
	rc = tg_ct_list_load(path, &l, ctx->errbuf, sizeof(ctx->errbuf));
	if (rc != 0) {
		/* The caller sees the error; a caller that ignores it still
		 * gets CT reported as unavailable, failing closed where it is
		 * enforced, rather than CT silently off. */
		(void)tg_config_ct_list_failed(&ctx->cfg, ctx->errbuf);
		return rc;
	}
	tg_ct_list_date_note(l, note, sizeof(note));
	if (note[0] != '\0' && tg_config_warn(&ctx->cfg, "%s: warning: %s", path, note) != 0) {
		tg_ct_list_unref(l);
		return TLSGUARD_E_NOMEM;
	}
	tg_config_set_ct_list(&ctx->cfg, l);
	return 0;
}

int tlsguard_ctx_set_consistency(tlsguard_ctx *ctx, const char *host, int mode, int probe, unsigned probe_max,
                                 unsigned timeout_ms)
{
	struct tg_policy *pol;
	long idx;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (mode < TLSGUARD_CONSISTENCY_OFF || mode > TLSGUARD_CONSISTENCY_REPORT_ONLY) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "unknown consistency mode %d", mode);
		return TLSGUARD_E_INVALID;
	}
	if (probe < TLSGUARD_PROBE_OFF || probe > TLSGUARD_PROBE_ALWAYS) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "unknown probe mode %d", probe);
		return TLSGUARD_E_INVALID;
	}
	if (probe_max > TG_PROBE_MAX_ADDRS) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "probe_max %u is more than %d", probe_max,
		            TG_PROBE_MAX_ADDRS);
		return TLSGUARD_E_INVALID;
	}
	if (timeout_ms != 0 && (timeout_ms < 50 || timeout_ms > 30000)) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "probe timeout %u ms is not within 50..30000", timeout_ms);
		return TLSGUARD_E_INVALID;
	}
	if (host == NULL) {
		pol = &ctx->cfg.defaults;
	} else {
		if ((idx = api_section(ctx, host)) < 0)
			return (int)idx;
		pol = &ctx->cfg.hosts[idx].pol;
	}
	/* The enum values are the internal ones (checked at compile time). */
	pol->consistency = mode;
	pol->probe = probe;
	pol->set |= TG_POL_CONSISTENCY | TG_POL_PROBE;
	if (probe_max != 0) {
		pol->probe_max = probe_max;
		pol->set |= TG_POL_PROBE_MAX;
	}
	if (timeout_ms != 0) {
		pol->probe_timeout = timeout_ms;
		pol->set |= TG_POL_PROBE_TIMEOUT;
	}
	return 0;
}

_Static_assert((int)TLSGUARD_CONSISTENCY_ENFORCE == (int)TG_CONS_ENFORCE &&
                   (int)TLSGUARD_CONSISTENCY_REPORT_ONLY == (int)TG_CONS_REPORT_ONLY &&
                   (int)TLSGUARD_PROBE_ON_CHANGE == (int)TG_PROBE_ON_CHANGE &&
                   (int)TLSGUARD_PROBE_ALWAYS == (int)TG_PROBE_ALWAYS,
               "public and internal consistency modes agree");

int tlsguard_ctx_set_host_addresses(tlsguard_ctx *ctx, const char *host, const char *const *addrs, size_t n)
{
	char (*a)[TG_ADDR_TEXT] = NULL;
	char *joined;
	size_t i, len = 1;
	long idx;
	int rc = config_begin(ctx);

	if (rc != 0)
		return rc;
	if (host == NULL || addrs == NULL || n == 0 || n > TG_PROBE_MAX_ADDRS) {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "%s",
		            host == NULL ? "host is NULL"
		            : addrs == NULL ? "addrs is NULL"
		                            : "between 1 and 16 addresses are needed");
		return TLSGUARD_E_INVALID;
	}
	if (host[0] == '*') {
		tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "only an exact host can have addresses, not %.80s", host);
		return TLSGUARD_E_INVALID;
	}
	for (i = 0; i < n; i++) {
		if (addrs[i] == NULL || strpbrk(addrs[i], " \t,") != NULL) {
			tg_snprintf(ctx->errbuf, sizeof(ctx->errbuf), "address %zu is %s", i,
			            addrs[i] == NULL ? "NULL" : "not one numeric address");
			return TLSGUARD_E_INVALID;
		}
		len += strlen(addrs[i]) + 1;
	}
	if ((joined = tg_malloc(len)) == NULL)
		return TLSGUARD_E_NOMEM;
	joined[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(joined, addrs[i]);
		strcat(joined, " ");
	}
	rc = tg_addrs_parse_list(joined, &a, &n, ctx->errbuf, sizeof(ctx->errbuf));
	tg_free(joined);
	if (rc != 0)
		return rc;
	if ((idx = api_section(ctx, host)) < 0) {
		tg_free(a);
		return (int)idx;
	}
	tg_free(ctx->cfg.hosts[idx].pol.addrs);
	ctx->cfg.hosts[idx].pol.addrs = a;
	ctx->cfg.hosts[idx].pol.naddrs = n;
	ctx->cfg.hosts[idx].pol.set |= TG_POL_ADDRS;
	return 0;
}
