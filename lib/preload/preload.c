/*
 * libtlsguard-preload.so: symbol resolution, the session map, peer
 * discovery, configuration and the verdict. The hooks themselves are in
 * gnutls_hooks.c and openssl_hooks.c.
 *
 * Design notes (the pitfalls are those of /work/shared/notes/preload-findings.md):
 *  - Start-up cost: this object has no TLS library and no libtlsguard in
 *    NEEDED; nothing runs at load time (no constructor). libtlsguard is
 *    dlopen()ed RTLD_LOCAL on the first client handshake that completes,
 *    under pthread_once, and only its public API is used (dlsym).
 *  - Binding: the hooks are exported unversioned (anonymous version script),
 *    which satisfies the programs' versioned references
 *    (gnutls_handshake@GNUTLS_3_4, SSL_connect@OPENSSL_3.0.0).
 *  - Recursion: libtlsguard links libgnutls, and libgnutls' own PLT calls
 *    resolve to these hooks too; the per-thread in_eval guard, set around
 *    the library load, the context build and every evaluation, makes every
 *    hook a plain pass-through for tlsguard's own work (the consistency
 *    check's cross-path probe runs its handshakes in the evaluating thread).
 *  - Peer address: the transport's fd when it is a connected stream socket
 *    (getsockopt(SO_TYPE) + getpeername()); else the last TCP connect() of
 *    the same thread if that socket is still connected to the address it
 *    was connected to. That fallback serves libcurl-gnutls (pointer
 *    transport) and curl/OpenSSL (custom BIO); it can pick the wrong socket
 *    when a thread has several connections in flight (Happy Eyeballs, event
 *    loops). The address only feeds the consistency check and reports; a
 *    wrong or missing one never relaxes pins or CT.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "preload.h"
#include "tlsguard/tlsguard.h"

#ifndef TGP_LIBTLSGUARD
#define TGP_LIBTLSGUARD "libtlsguard.so.0"
#endif
#ifndef TGP_SYSCONFDIR
#define TGP_SYSCONFDIR "/etc"
#endif

__thread struct tgp_thread tgp_t __attribute__((tls_model("initial-exec"))) = {0, 0, -1, {0}, 0};

/* ------------------------------------------------------------------ */
/* Real functions                                                      */

void *tgp_real(const char *name, const char *version, const char *lib)
{
	void *p = NULL, *h;

	if (version != NULL)
		p = dlvsym(RTLD_NEXT, name, version);
	if (p == NULL)
		p = dlsym(RTLD_NEXT, name);
	if (p == NULL && lib != NULL && (h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) != NULL) {
		if (version != NULL)
			p = dlvsym(h, name, version);
		if (p == NULL)
			p = dlsym(h, name);
		dlclose(h); /* drops only the reference RTLD_NOLOAD took */
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* Session map: 64 buckets, one mutex each.                            */

#define TGP_BUCKETS 64

struct tgp_map {
	pthread_mutex_t lock[TGP_BUCKETS];
	struct tgp_entry *head[TGP_BUCKETS];
	unsigned long refused; /* entries ever refused: fast path when 0 */
};

#define TGP_MAP_INIT                                                                                        \
	{                                                                                                   \
		{[0 ... TGP_BUCKETS - 1] = PTHREAD_MUTEX_INITIALIZER}, {NULL}, 0                             \
	}
struct tgp_map tgp_gnutls_map = TGP_MAP_INIT, tgp_ssl_map = TGP_MAP_INIT;

static unsigned bucket(const void *key)
{
	uintptr_t k = (uintptr_t)key;
	k ^= k >> 17;
	k *= 0x9E3779B97F4A7C15ull;
	return (unsigned)(k >> 58) % TGP_BUCKETS;
}

struct tgp_entry *tgp_map_lock(struct tgp_map *m, const void *key, bool create)
{
	unsigned b = bucket(key);
	struct tgp_entry *e;

	pthread_mutex_lock(&m->lock[b]);
	for (e = m->head[b]; e != NULL; e = e->next)
		if (e->key == key)
			return e;
	if (create && (e = calloc(1, sizeof(*e))) != NULL) {
		e->key = key;
		e->next = m->head[b];
		m->head[b] = e;
		return e;
	}
	pthread_mutex_unlock(&m->lock[b]);
	return NULL;
}

void tgp_map_unlock(struct tgp_map *m, const void *key)
{
	pthread_mutex_unlock(&m->lock[bucket(key)]);
}

void tgp_map_remove(struct tgp_map *m, const void *key)
{
	unsigned b = bucket(key);
	struct tgp_entry **pe, *e;

	pthread_mutex_lock(&m->lock[b]);
	for (pe = &m->head[b]; (e = *pe) != NULL; pe = &e->next) {
		if (e->key == key) {
			*pe = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock[b]);
}

void tgp_map_refuse(struct tgp_map *m, const void *key)
{
	struct tgp_entry *e = tgp_map_lock(m, key, true);

	__atomic_add_fetch(&m->refused, 1, __ATOMIC_RELEASE);
	if (e != NULL) {
		e->refused = true;
		tgp_map_unlock(m, key);
	}
}

bool tgp_map_is_refused(struct tgp_map *m, const void *key)
{
	struct tgp_entry *e;
	bool r;

	if (__atomic_load_n(&m->refused, __ATOMIC_ACQUIRE) == 0)
		return false;
	if ((e = tgp_map_lock(m, key, false)) == NULL)
		return false;
	r = e->refused;
	tgp_map_unlock(m, key);
	return r;
}

void tgp_copy_host(char *out, const char *name, size_t len)
{
	if (name == NULL)
		return;
	if (len == (size_t)-1)
		len = strnlen(name, TGP_MAX_HOST + 1);
	if (len == 0 || len > TGP_MAX_HOST || memchr(name, '\0', len) != NULL)
		return;
	memcpy(out, name, len);
	out[len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Peers                                                               */

static bool addr_text(const struct sockaddr_storage *ss, char *addr, size_t len, unsigned *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		*port = ntohs(in->sin_port);
		return inet_ntop(AF_INET, &in->sin_addr, addr, (socklen_t)len) != NULL;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		*port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], addr, (socklen_t)len) != NULL;
		return inet_ntop(AF_INET6, &in6->sin6_addr, addr, (socklen_t)len) != NULL;
	}
	return false;
}

bool tgp_peer_of_fd(int fd, char *addr, size_t len, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0;
	socklen_t tl = sizeof(type);
	int saved = errno;
	bool ok;

	addr[0] = '\0';
	/* A transport "int" may be a truncated pointer (libcurl-gnutls): only a
	 * connected stream socket counts. */
	ok = fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM &&
	     getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && addr_text(&ss, addr, len, port);
	errno = saved;
	if (!ok)
		addr[0] = '\0';
	return ok;
}

bool tgp_peer_fallback(char *addr, size_t len, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int saved = errno;
	bool ok = false;

	addr[0] = '\0';
	if (tgp_t.last_fd >= 0 && getpeername(tgp_t.last_fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    sl == tgp_t.last_len && memcmp(&ss, &tgp_t.last_peer, sl) == 0)
		ok = addr_text(&ss, addr, len, port);
	errno = saved;
	if (!ok)
		addr[0] = '\0';
	return ok;
}

static bool is_stream(int fd)
{
	int type = 0;
	socklen_t tl = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
}

/* connect(): remember this thread's last TCP connection attempt (also
 * non-blocking ones, EINPROGRESS), as the peer fallback above. UDP
 * sockets (the resolver's) are not recorded. */
static int (*real_connect_slot)(int, const struct sockaddr *, socklen_t);
TGP_HOOK int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real_connect)(int, const struct sockaddr *, socklen_t);
	int ret, saved;

	TGP_REAL(real_connect, "connect", NULL, NULL);
	if (real_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	ret = real_connect(fd, sa, len);
	if (tgp_t.in_eval || sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len > sizeof(tgp_t.last_peer))
		return ret;
	saved = errno;
	if ((ret == 0 || errno == EINPROGRESS || errno == EINTR) && is_stream(fd)) {
		memset(&tgp_t.last_peer, 0, sizeof(tgp_t.last_peer));
		memcpy(&tgp_t.last_peer, sa, len);
		tgp_t.last_len = len;
		tgp_t.last_fd = fd;
	}
	errno = saved;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Per-program settings: TLSGUARD_PRELOAD and preload.conf             */

static struct {
	pthread_once_t once;
	struct tgp_conf c;
} opts = {PTHREAD_ONCE_INIT, {true, false, false}};

static bool is_off(const char *v)
{
	return strcmp(v, "off") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0;
}

static void conf_warning(const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "tlsguard: %s\n", msg);
}

/* preload.conf (TLSGUARD_PRELOAD_CONF, else SYSCONFDIR/tlsguard/preload.conf;
 * see conf.c and tlsguard-preload(8)). A missing file is the defaults. */
static void read_preload_conf(void)
{
	static const struct tgp_conf_sink sink = {conf_warning, NULL};
	const size_t cap = 65536;
	const char *path = secure_getenv("TLSGUARD_PRELOAD_CONF");
	char *buf;
	size_t n;
	FILE *f;

	if (path == NULL || path[0] == '\0')
		path = TGP_SYSCONFDIR "/tlsguard/preload.conf";
	if ((f = fopen(path, "re")) == NULL)
		return;
	/* On the heap: hooks may run on a program's small thread stacks. */
	if ((buf = malloc(cap)) == NULL) {
		fclose(f);
		fprintf(stderr, "tlsguard: %s: out of memory; file ignored\n", path);
		return;
	}
	n = fread(buf, 1, cap, f);
	if (n == cap && fgetc(f) != EOF)
		fprintf(stderr, "tlsguard: %s: longer than %zu bytes; the rest is ignored\n", path, cap);
	fclose(f);
	tgp_conf_parse(buf, n, path, program_invocation_short_name, &opts.c, &sink);
	free(buf);
}

static void opts_init(void)
{
	const char *v = secure_getenv("TLSGUARD_PRELOAD");

	read_preload_conf();
	if (v != NULL && is_off(v))
		opts.c.enabled = false;
}

bool tgp_enabled(void)
{
	pthread_once(&opts.once, opts_init);
	return opts.c.enabled;
}

static void say(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int prio, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!opts.c.quiet)
		fprintf(stderr, "tlsguard: %s\n", buf);
	if (opts.c.use_syslog)
		syslog(LOG_AUTHPRIV | prio, "tlsguard: %s", buf);
}

/* ------------------------------------------------------------------ */
/* libtlsguard, loaded on first use                                    */

#define API(f) __typeof__(tlsguard_##f) *f
static struct {
	API(ctx_new);
	API(ctx_free);
	API(ctx_load_config);
	API(ctx_last_error);
	API(ctx_warning_count);
	API(ctx_warning);
	API(request_new);
	API(request_free);
	API(request_set_port);
	API(request_set_address);
	API(request_add_cert);
	API(request_set_ocsp_response);
	API(verify);
	API(result_verdict);
	API(result_event_count);
	API(result_event);
	API(result_free);
	API(event_code);
	API(event_severity);
	API(event_name);
	API(event_message);
	API(strerror);
} tg;
#undef API

static struct {
	pthread_once_t once;
	tlsguard_ctx *ctx;       /* NULL: tlsguard unavailable */
	bool have_config;        /* a config file was found: fail closed */
	char config[PATH_MAX];
	char error[1024];        /* why tlsguard is unavailable */
} g = {PTHREAD_ONCE_INIT, NULL, false, "", ""};

static bool load_library(void)
{
	const char *path = secure_getenv("TLSGUARD_PRELOAD_LIBRARY");
	void *h = NULL;

	if (path != NULL && path[0] != '\0')
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	else if ((h = dlopen(TGP_LIBTLSGUARD, RTLD_NOW | RTLD_LOCAL)) == NULL)
		h = dlopen("libtlsguard.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(g.error, sizeof(g.error), "cannot load libtlsguard: %s", e ? e : "unknown error");
		return false;
	}
#define SYM(f)                                                                                              \
	if ((*(void **)&tg.f = dlsym(h, "tlsguard_" #f)) == NULL) {                                         \
		snprintf(g.error, sizeof(g.error), "libtlsguard has no tlsguard_%s (too old?)", #f);       \
		return false;                                                                               \
	}
	SYM(ctx_new) SYM(ctx_free) SYM(ctx_load_config) SYM(ctx_last_error) SYM(ctx_warning_count)
	SYM(ctx_warning) SYM(request_new) SYM(request_free) SYM(request_set_port) SYM(request_set_address)
	SYM(request_add_cert) SYM(request_set_ocsp_response) SYM(verify) SYM(result_verdict)
	SYM(result_event_count) SYM(result_event) SYM(result_free) SYM(event_code) SYM(event_severity)
	SYM(event_name) SYM(event_message) SYM(strerror)
#undef SYM
	return true; /* the handle stays open for the life of the process */
}

/* TLSGUARD_CONFIG, ~/.config/tlsguard/tlsguard.conf, /etc/tlsguard/tlsguard.conf. */
static bool find_config(void)
{
	const char *v = secure_getenv("TLSGUARD_CONFIG");

	if (v != NULL && v[0] != '\0') {
		snprintf(g.config, sizeof(g.config), "%s", v);
		return true; /* named explicitly: a missing file is an error */
	}
	if ((v = secure_getenv("HOME")) != NULL && v[0] == '/') {
		snprintf(g.config, sizeof(g.config), "%s/.config/tlsguard/tlsguard.conf", v);
		if (access(g.config, F_OK) == 0)
			return true;
	}
	snprintf(g.config, sizeof(g.config), "%s", TGP_SYSCONFDIR "/tlsguard/tlsguard.conf");
	if (access(g.config, F_OK) == 0)
		return true;
	g.config[0] = '\0';
	return false;
}

static void init_once(void)
{
	tlsguard_ctx *ctx = NULL;
	size_t i, n;
	int rc;

	g.have_config = find_config();
	if (!load_library())
		return;
	if ((rc = tg.ctx_new(&ctx, 0)) != 0) {
		snprintf(g.error, sizeof(g.error), "cannot create a tlsguard context: %s", tg.strerror(rc));
		return;
	}
	if (g.have_config && (rc = tg.ctx_load_config(ctx, g.config)) != 0) {
		snprintf(g.error, sizeof(g.error), "bad config %s: %s (%s)", g.config, tg.ctx_last_error(ctx),
		         tg.strerror(rc));
		tg.ctx_free(ctx);
		return;
	}
	n = tg.ctx_warning_count(ctx);
	for (i = 0; i < n; i++)
		say(LOG_WARNING, "%s", tg.ctx_warning(ctx, i));
	g.ctx = ctx;
}

/* ------------------------------------------------------------------ */
/* The verdict                                                         */

/* Events the shim leaves to the program's own certificate verification:
 * an issuer tlsguard's trust store lacks (the program may trust more CAs:
 * a private CA file), and a host name mismatch against the peer address
 * when the program named no host (it may verify some other way). */
static bool deferred(int code, bool host_from_address)
{
	return code == TLSGUARD_EV_UNTRUSTED_ISSUER || (code == TLSGUARD_EV_HOSTNAME_MISMATCH && host_from_address);
}

static bool judge(const struct tgp_conn *c, const char *host, bool host_from_address, const char *where)
{
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t i, n, fatal = 0, kept = 0;
	int rc;

	rc = tg.request_new(&req, host, strlen(host));
	if (rc == 0 && c->port != 0)
		rc = tg.request_set_port(req, c->port);
	if (rc == 0 && c->addr != NULL && c->addr[0] != '\0')
		rc = tg.request_set_address(req, c->addr);
	for (i = 0; rc == 0 && i < c->n; i++)
		rc = tg.request_add_cert(req, c->der[i], c->len[i]);
	if (rc == 0 && c->ocsp != NULL && c->ocsp_len > 0)
		rc = tg.request_set_ocsp_response(req, c->ocsp, c->ocsp_len);
	if (rc == 0)
		rc = tg.verify(g.ctx, req, &res);
	tg.request_free(req);
	if (rc != 0 || res == NULL) {
		tg.result_free(res);
		if (g.have_config) {
			say(LOG_ERR, "refused the connection of %s to %s: tlsguard could not evaluate it: %s",
			    program_invocation_short_name, where, tg.strerror(rc));
			return true;
		}
		say(LOG_WARNING, "could not evaluate the connection of %s to %s (%s); no config, so it is left to %s",
		    program_invocation_short_name, where, tg.strerror(rc), program_invocation_short_name);
		return false;
	}
	if (tg.result_verdict(res) == TLSGUARD_ACCEPT) {
		tg.result_free(res);
		return false;
	}
	n = tg.result_event_count(res);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tg.result_event(res, i);
		if (tg.event_severity(ev) != TLSGUARD_SEV_FATAL)
			continue;
		fatal++;
		if (!deferred(tg.event_code(ev), host_from_address))
			kept++;
	}
	if (fatal > 0 && kept == 0) {
		tg.result_free(res); /* only what the program checks itself: its call */
		return false;
	}
	say(LOG_WARNING, "refused the connection of %s to %s [%s]", program_invocation_short_name, where, c->lib);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tg.result_event(res, i);
		if (tg.event_severity(ev) == TLSGUARD_SEV_FATAL)
			say(LOG_WARNING, "%s (%s)", tg.event_message(ev), tg.event_name(ev));
	}
	if (fatal == 0)
		say(LOG_WARNING, "tlsguard rejected the chain without a fatal event (a callback or an internal error)");
	tg.result_free(res);
	return true;
}

bool tgp_evaluate(const struct tgp_conn *c)
{
	char where[TGP_MAX_HOST + TGP_ADDR_LEN + 32];
	const char *host = c->host;
	bool from_address = false, refuse;

	tgp_t.in_eval++;
	pthread_once(&g.once, init_once);
	if (host == NULL || host[0] == '\0') {
		host = c->addr;
		from_address = true;
	}
	if (host == NULL || host[0] == '\0') {
		/* Neither a name nor an address: only a policy for every host
		 * could apply, and it cannot be evaluated. */
		host = NULL;
	}
	if (c->addr != NULL && c->addr[0] != '\0' && !from_address)
		snprintf(where, sizeof(where), "%s:%u (%s)", host, c->port, c->addr);
	else
		snprintf(where, sizeof(where), "%s:%u", host ? host : "an unknown host", c->port);
	if (g.ctx == NULL) {
		if (g.have_config) {
			say(LOG_ERR, "refused the connection of %s to %s: %s", program_invocation_short_name, where,
			    g.error);
			refuse = true;
		} else {
			static int warned;
			if (!__atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL))
				say(LOG_WARNING, "inactive in %s: %s", program_invocation_short_name, g.error);
			refuse = false;
		}
	} else if (host == NULL) {
		if (g.have_config)
			say(LOG_ERR, "refused the connection of %s: neither the host name nor the peer address is known",
			    program_invocation_short_name);
		refuse = g.have_config;
	} else {
		refuse = judge(c, host, from_address, where);
	}
	tgp_t.in_eval--;
	return refuse;
}
