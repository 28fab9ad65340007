/*
 * The cross-path probe (issue 5): resolve a host, then ask each of its
 * addresses which certificate chain it serves. See tg_probe.h for the
 * contract.
 *
 * Deadlines. Both functions return by an absolute CLOCK_MONOTONIC deadline
 * whatever the network does:
 *  - getaddrinfo() cannot be interrupted or given a deadline, so it runs in
 *    a detached worker thread that owns its job (refcounted: caller and
 *    worker each hold one reference). The caller waits on a condition
 *    variable until the deadline and, if the worker has not answered,
 *    drops its reference and returns TLSGUARD_E_TIMEOUT; the worker frees
 *    the job when getaddrinfo() finally returns.
 *  - tg_probe() never blocks anywhere but in one poll() bounded by the time
 *    left: sockets are non-blocking from socket() on, the TCP connect is
 *    completed through POLLOUT, and GnuTLS runs on the non-blocking socket
 *    with its own handshake timeout disabled (with a timeout set, GnuTLS
 *    waits for data inside gnutls_handshake(), which would block).
 *
 * Aborting the handshake. A per-session verify function (called by GnuTLS
 * as soon as the server's Certificate has been received: in TLS 1.2 before
 * the client sends anything after its ClientHello, in TLS 1.3 after the
 * server's CertificateVerify and before the client's Finished) copies the
 * chain and returns an error, so gnutls_handshake() fails right there.
 * The session is then dropped without gnutls_bye(): the client has sent
 * its ClientHello (and, in TLS 1.3, possibly the middlebox-compatibility
 * ChangeCipherSpec) and nothing else: no key exchange, no Finished, no
 * alert, no application data. No trust decision is made here, so the
 * credentials have no trust store.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tg.h"
#include "tg_probe.h"

int64_t tg_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Thread-safe strerror (GNU strerror_r may return a static string instead
 * of filling @buf). */
static const char *errstr(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

/* err may be NULL or empty when the caller wants no message. */
#define SETERR(...) ((err != NULL && errlen > 0) ? (void)tg_snprintf(err, errlen, __VA_ARGS__) : (void)0)

/* ------------------------------------------------------------------ resolver */

/* Addresses kept per lookup at most, whatever @max the caller passes. */
#define RESOLVE_CAP 256

struct resolve_job {
	int refs;                    /* __atomic; the last one frees the job */
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* CLOCK_MONOTONIC, like the deadline */
	bool done;                   /* under lock: rc, n, addrs, err are final */
	int rc;
	size_t n, max;
	char host[TG_MAX_HOST + 1];
	char err[160];
	char addrs[][TG_ADDR_LEN];
};

static void job_unref(struct resolve_job *j)
{
	if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	tg_free(j);
}

static void resolve_run(struct resolve_job *j)
{
	struct addrinfo hints, *res = NULL, *ai;
	char num[NI_MAXHOST], ebuf[128];
	int ret;
	size_t i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: it hides ::1 and even 127.0.0.1 on hosts whose
	 * only configured addresses are loopback ones. */
	ret = getaddrinfo(j->host, NULL, &hints, &res);
	if (ret == EAI_MEMORY) {
		j->rc = TLSGUARD_E_NOMEM;
		tg_snprintf(j->err, sizeof(j->err), "cannot resolve %s: out of memory", j->host);
		return;
	}
	if (ret != 0) {
		j->rc = TLSGUARD_E_IO;
		tg_snprintf(j->err, sizeof(j->err), "cannot resolve %s: %s", j->host,
		            ret == EAI_SYSTEM ? errstr(errno, ebuf, sizeof(ebuf)) : gai_strerror(ret));
		return;
	}
	for (ai = res; ai != NULL && j->n < j->max; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST) != 0 ||
		    strlen(num) >= TG_ADDR_LEN)
			continue;
		for (i = 0; i < j->n && strcmp(j->addrs[i], num) != 0; i++)
			;
		if (i == j->n)
			memcpy(j->addrs[j->n++], num, strlen(num) + 1);
	}
	freeaddrinfo(res);
	if (j->n == 0) {
		j->rc = TLSGUARD_E_IO;
		tg_snprintf(j->err, sizeof(j->err), "cannot resolve %s: no IPv4 or IPv6 address", j->host);
	}
}

static void *resolve_worker(void *arg)
{
	struct resolve_job *j = arg;

	resolve_run(j);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	job_unref(j);
	return NULL;
}

static struct resolve_job *job_new(const char *host, size_t max)
{
	struct resolve_job *j = tg_calloc(1, sizeof(*j) + max * TG_ADDR_LEN);
	pthread_condattr_t ca;
	bool cond_ok;

	if (j == NULL)
		return NULL;
	if (pthread_condattr_init(&ca) != 0) {
		tg_free(j);
		return NULL;
	}
	cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&j->cond, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!cond_ok) {
		tg_free(j);
		return NULL;
	}
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		pthread_cond_destroy(&j->cond);
		tg_free(j);
		return NULL;
	}
	j->max = max;
	memcpy(j->host, host, strlen(host) + 1);
	return j;
}

int tg_resolve(const char *host, char (*out)[TG_ADDR_LEN], size_t max, size_t *n, int64_t deadline_ms, char *err,
               size_t errlen)
{
	char norm[TG_MAX_HOST + 1], ebuf[128];
	unsigned char ip[16];
	struct resolve_job *j;
	struct timespec ts;
	pthread_attr_t attr;
	pthread_t tid;
	int ret, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (n != NULL)
		*n = 0;
	if (host == NULL) {
		SETERR("tg_resolve: host is NULL");
		return TLSGUARD_E_INVALID;
	}
	if (out == NULL || n == NULL || max == 0) {
		SETERR("tg_resolve: %s", out == NULL ? "out is NULL" : n == NULL ? "n is NULL" : "max is 0");
		return TLSGUARD_E_INVALID;
	}
	if (tg_host_normalize(host, strnlen(host, TG_MAX_HOST + 2), norm) != 0) {
		SETERR("tg_resolve: host \"%.80s\" is not a valid host name", host);
		return TLSGUARD_E_INVALID;
	}
	/* An IP literal is its own (only) address; tg_host_normalize() has
	 * already written it in its one canonical spelling. */
	if (tg_ip_parse(norm, ip) != 0) {
		memcpy(out[0], norm, strlen(norm) + 1);
		*n = 1;
		return 0;
	}
	if (tg_monotonic_ms() >= deadline_ms) {
		SETERR("cannot resolve %s: the deadline passed before the lookup started", norm);
		return TLSGUARD_E_TIMEOUT;
	}
	j = job_new(norm, max < RESOLVE_CAP ? max : RESOLVE_CAP);
	if (j == NULL) {
		SETERR("cannot resolve %s: out of memory", norm);
		return TLSGUARD_E_NOMEM;
	}
	j->refs = 2; /* this call and the worker */
	if ((ret = pthread_attr_init(&attr)) == 0) {
		if ((ret = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) == 0)
			ret = pthread_create(&tid, &attr, resolve_worker, j);
		pthread_attr_destroy(&attr);
	}
	if (ret != 0) {
		j->refs = 1;
		job_unref(j);
		/* EAGAIN in practice: out of threads or memory. */
		SETERR("cannot resolve %s: no resolver thread: %s", norm, errstr(ret, ebuf, sizeof(ebuf)));
		return TLSGUARD_E_NOMEM;
	}

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	pthread_mutex_lock(&j->lock);
	while (!j->done) {
		if (pthread_cond_timedwait(&j->cond, &j->lock, &ts) == ETIMEDOUT)
			break;
	}
	if (j->done) {
		rc = j->rc;
		if (rc == 0) {
			memcpy(out, j->addrs, j->n * TG_ADDR_LEN);
			*n = j->n;
		} else {
			SETERR("%s", j->err);
		}
	} else {
		rc = TLSGUARD_E_TIMEOUT;
		SETERR("cannot resolve %s: no answer from the resolver by the deadline", norm);
	}
	pthread_mutex_unlock(&j->lock);
	job_unref(j);
	return rc;
}

/* ------------------------------------------------------------------ probe */

enum phase { PH_CONNECT, PH_HANDSHAKE, PH_DONE };

struct slot {
	struct tg_probe_result *res;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;
	gnutls_session_t s;
	enum phase phase;
	bool captured;               /* the verify function ran and kept the chain */
	bool oom;
};

struct probe {
	const char *sni;             /* NULL for an IP literal */
	gnutls_certificate_credentials_t cred;
	int64_t start;
	struct slot slots[TG_PROBE_MAX];
};

static void slot_finish(const struct probe *p, struct slot *sl, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void slot_finish(const struct probe *p, struct slot *sl, int status, const char *fmt, ...)
{
	va_list ap;

	sl->res->status = status;
	sl->res->elapsed_ms = tg_monotonic_ms() - p->start;
	va_start(ap, fmt);
	if (vsnprintf(sl->res->error, sizeof(sl->res->error), fmt, ap) < 0)
		sl->res->error[0] = '\0';
	va_end(ap);
	sl->phase = PH_DONE;
	/* Close at once: a finished address holds no socket while the others
	 * are still waited for. */
	if (sl->s != NULL) {
		gnutls_deinit(sl->s);
		sl->s = NULL;
	}
	if (sl->fd >= 0) {
		close(sl->fd);
		sl->fd = -1;
	}
}

/* GnuTLS verify function: runs inside gnutls_handshake() once the server's
 * Certificate has arrived. Keeps a copy of the chain and returns an error so
 * that the handshake stops here (see the top of the file). */
static int capture_chain(gnutls_session_t s)
{
	struct slot *sl = gnutls_session_get_ptr(s);
	const gnutls_datum_t *peers;
	unsigned np = 0, i;
	struct tg_probe_result *r;

	if (sl == NULL)
		return GNUTLS_E_CERTIFICATE_ERROR;
	r = sl->res;
	sl->captured = true;
	if (gnutls_certificate_type_get2(s, GNUTLS_CTYPE_SERVER) != GNUTLS_CRT_X509)
		return GNUTLS_E_CERTIFICATE_ERROR;
	peers = gnutls_certificate_get_peers(s, &np);
	for (i = 0; peers != NULL && i < np && i < TG_OBS_MAX_CHAIN; i++) {
		if ((r->certs[i].data = tg_malloc(peers[i].size ? peers[i].size : 1)) == NULL) {
			sl->oom = true;
			break;
		}
		memcpy(r->certs[i].data, peers[i].data, peers[i].size);
		r->certs[i].len = peers[i].size;
		r->ncerts = i + 1;
	}
	return GNUTLS_E_CERTIFICATE_ERROR;
}

/* Every send of the probe: MSG_NOSIGNAL, so that a peer that has gone away
 * gives EPIPE rather than a SIGPIPE to the whole process (no signal
 * disposition is changed, which would be global). */
static ssize_t push_nosignal(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	return send((int)(intptr_t)ptr, buf, len, MSG_NOSIGNAL);
}

static void describe_handshake_error(const struct probe *p, struct slot *sl, int ret)
{
	char ebuf[128];
	int e = errno;

	switch (ret) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED: {
		const char *name = gnutls_alert_get_name(gnutls_alert_get(sl->s));
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "TLS alert from the server: %s", name ? name : "unknown alert");
		break;
	}
	case GNUTLS_E_PREMATURE_TERMINATION:
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "the server closed the connection during the TLS handshake");
		break;
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "TLS handshake: %s", errstr(e, ebuf, sizeof(ebuf)));
		break;
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
		slot_finish(p, sl, TG_PROBE_NO_CERT, "the server sent no certificate");
		break;
	default:
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "TLS handshake failed: %s", gnutls_strerror(ret));
		break;
	}
}

/*
 * The probe's only call of gnutls_handshake(): one step on the non-blocking
 * socket. Issue 6 (an LD_PRELOAD shim hooking gnutls_handshake) must let
 * this call through untouched, or the probe would be judged by the very
 * check it feeds: keep every handshake call of the probe here so that there
 * is one place to guard.
 */
static int probe_handshake_step(gnutls_session_t s)
{
	return gnutls_handshake(s);
}

/* Drive the handshake of @sl as far as the socket allows. */
static void handshake_advance(const struct probe *p, struct slot *sl)
{
	int ret, spins;

	for (spins = 0; spins < 16; spins++) {
		errno = 0;
		ret = probe_handshake_step(sl->s);
		if (sl->captured) {
			/* The chain is kept (or allocation failed): stop, whatever
			 * the handshake returned. */
			if (sl->res->ncerts > 0)
				slot_finish(p, sl, TG_PROBE_OK, "%s", "");
			else
				slot_finish(p, sl, TG_PROBE_NO_CERT, "the server sent an empty certificate chain");
			return;
		}
		if (ret == GNUTLS_E_AGAIN)
			return; /* poll for gnutls_record_get_direction() */
		if (ret == 0) {
			/* Cannot happen with certificate credentials (the verify
			 * function always runs first), but never send anything on a
			 * completed session: just drop it. */
			slot_finish(p, sl, TG_PROBE_NO_CERT, "the handshake completed without a server certificate");
			return;
		}
		if (gnutls_error_is_fatal(ret)) {
			describe_handshake_error(p, sl, ret);
			return;
		}
		/* GNUTLS_E_INTERRUPTED, a warning alert, ...: call again. */
	}
	slot_finish(p, sl, TG_PROBE_TLS_FAILED, "TLS handshake made no progress");
}

/* TCP is up: start the TLS handshake. Returns TLSGUARD_E_NOMEM or 0. */
static int handshake_start(const struct probe *p, struct slot *sl)
{
	int ret;

	/* GNUTLS_NONBLOCK: never wait inside GnuTLS. */
	ret = gnutls_init(&sl->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (ret < 0) {
		sl->s = NULL;
		if (ret == GNUTLS_E_MEMORY_ERROR)
			return TLSGUARD_E_NOMEM;
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "cannot start a TLS session: %s", gnutls_strerror(ret));
		return 0;
	}
	if ((ret = gnutls_set_default_priority(sl->s)) < 0 ||
	    (ret = gnutls_credentials_set(sl->s, GNUTLS_CRD_CERTIFICATE, p->cred)) < 0 ||
	    (p->sni != NULL && (ret = gnutls_server_name_set(sl->s, GNUTLS_NAME_DNS, p->sni, strlen(p->sni))) < 0)) {
		if (ret == GNUTLS_E_MEMORY_ERROR)
			return TLSGUARD_E_NOMEM;
		slot_finish(p, sl, TG_PROBE_TLS_FAILED, "cannot set up the TLS session: %s", gnutls_strerror(ret));
		return 0;
	}
	gnutls_session_set_ptr(sl->s, sl);
	gnutls_session_set_verify_function(sl->s, capture_chain);
	/* 0: no GnuTLS handshake timeout. With one, gnutls_handshake() waits
	 * for data itself (up to that timeout); the deadline is ours. */
	gnutls_handshake_set_timeout(sl->s, 0);
	gnutls_transport_set_int(sl->s, sl->fd);
	gnutls_transport_set_push_function(sl->s, push_nosignal);
	sl->phase = PH_HANDSHAKE;
	handshake_advance(p, sl);
	return 0;
}

static void connect_failed(const struct probe *p, struct slot *sl, int e)
{
	char ebuf[128];

	if (e == ECONNREFUSED)
		slot_finish(p, sl, TG_PROBE_CONNECT_FAILED, "connection refused");
	else
		slot_finish(p, sl, TG_PROBE_CONNECT_FAILED, "cannot connect: %s", errstr(e, ebuf, sizeof(ebuf)));
}

/* Open the socket and start the TCP connection. */
static int connect_start(const struct probe *p, struct slot *sl)
{
	sl->fd = socket(sl->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sl->fd < 0) {
		connect_failed(p, sl, errno);
		return 0;
	}
	if (connect(sl->fd, (struct sockaddr *)&sl->sa, sl->salen) == 0)
		return handshake_start(p, sl);
	if (errno != EINPROGRESS && errno != EINTR) {
		connect_failed(p, sl, errno);
		return 0;
	}
	sl->phase = PH_CONNECT;
	return 0;
}

/* POLLOUT (or an error) on a connecting socket. */
static int connect_finish(const struct probe *p, struct slot *sl)
{
	int e = 0;
	socklen_t el = sizeof(e);

	if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
		e = errno;
	if (e == EINPROGRESS || e == EALREADY || e == EINTR)
		return 0; /* spurious wake-up */
	if (e != 0) {
		connect_failed(p, sl, e);
		return 0;
	}
	return handshake_start(p, sl);
}

void tg_probe_result_clear(struct tg_probe_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < TG_OBS_MAX_CHAIN; i++)
		tg_free(r->certs[i].data);
	memset(r, 0, sizeof(*r));
}

/* Parse @addr (numeric, NUL within TG_ADDR_LEN) and @port into @sl. */
static bool parse_address(const char *addr, unsigned port, struct slot *sl)
{
	struct addrinfo hints, *res = NULL;
	char serv[8];
	bool ok;

	if (memchr(addr, '\0', TG_ADDR_LEN) == NULL)
		return false;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Numeric only: never a lookup (a name here would block). Scoped IPv6
	 * addresses ("fe80::1%eth0", as getnameinfo() writes them) parse. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	tg_snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(addr, serv, &hints, &res) != 0)
		return false;
	ok = res != NULL && (res->ai_family == AF_INET || res->ai_family == AF_INET6) &&
	     res->ai_addrlen <= sizeof(sl->sa);
	if (ok) {
		memcpy(&sl->sa, res->ai_addr, res->ai_addrlen);
		sl->salen = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return ok;
}

int tg_probe(const char *host, unsigned port, const char (*addrs)[TG_ADDR_LEN], size_t n, int64_t deadline_ms,
             struct tg_probe_result *out, char *err, size_t errlen)
{
	struct probe p;
	char norm[TG_MAX_HOST + 1];
	unsigned char ip[16];
	struct pollfd pfd[TG_PROBE_MAX];
	size_t idx[TG_PROBE_MAX];
	size_t i, k, active;
	int rc = 0, ret;
	int64_t now;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (host == NULL || tg_host_normalize(host, strnlen(host, TG_MAX_HOST + 2), norm) != 0) {
		SETERR("tg_probe: host %s%.80s%s is not a valid host name", host ? "\"" : "", host ? host : "(NULL)",
		       host ? "\"" : "");
		return TLSGUARD_E_INVALID;
	}
	if (port == 0 || port > 65535) {
		SETERR("tg_probe: port %u is not a TCP port (1-65535)", port);
		return TLSGUARD_E_INVALID;
	}
	if (n > TG_PROBE_MAX) {
		SETERR("tg_probe: n = %zu addresses, more than TG_PROBE_MAX (%d)", n, TG_PROBE_MAX);
		return TLSGUARD_E_INVALID;
	}
	if (n > 0 && (addrs == NULL || out == NULL)) {
		SETERR("tg_probe: %s is NULL", addrs == NULL ? "addrs" : "out");
		return TLSGUARD_E_INVALID;
	}
	memset(&p, 0, sizeof(p));
	for (i = 0; i < n; i++) {
		p.slots[i].fd = -1;
		if (!parse_address(addrs[i], port, &p.slots[i])) {
			SETERR("tg_probe: addrs[%zu] \"%.*s\" is not a numeric IP address", i, TG_ADDR_LEN - 1, addrs[i]);
			return TLSGUARD_E_INVALID;
		}
	}
	/* Arguments are good: from here on out[] is ours. */
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].address, addrs[i], strlen(addrs[i]) + 1);
		out[i].status = TG_PROBE_TIMEOUT;
		p.slots[i].res = &out[i];
		p.slots[i].phase = PH_CONNECT;
	}
	if (n == 0)
		return 0;
	p.start = tg_monotonic_ms();
	p.sni = tg_ip_parse(norm, ip) != 0 ? NULL : norm;
	if (gnutls_certificate_allocate_credentials(&p.cred) < 0) {
		p.cred = NULL;
		rc = TLSGUARD_E_NOMEM;
		goto done;
	}

	for (i = 0; i < n && rc == 0; i++) {
		if (p.start >= deadline_ms)
			break;
		rc = connect_start(&p, &p.slots[i]);
	}

	/* One poll loop for every address, bounded by the time left. */
	while (rc == 0) {
		active = 0;
		for (i = 0; i < n; i++) {
			struct slot *sl = &p.slots[i];
			if (sl->oom)
				rc = TLSGUARD_E_NOMEM;
			if (sl->phase == PH_DONE || sl->fd < 0)
				continue;
			pfd[active].fd = sl->fd;
			if (sl->phase == PH_CONNECT)
				pfd[active].events = POLLOUT;
			else
				pfd[active].events = gnutls_record_get_direction(sl->s) ? POLLOUT : POLLIN;
			pfd[active].revents = 0;
			idx[active++] = i;
		}
		now = tg_monotonic_ms();
		if (rc != 0 || active == 0 || now >= deadline_ms)
			break;
		ret = poll(pfd, active, deadline_ms - now > INT_MAX ? INT_MAX : (int)(deadline_ms - now));
		if (ret < 0 && errno != EINTR) {
			/* With these arguments only ENOMEM can happen. */
			rc = TLSGUARD_E_NOMEM;
			break;
		}
		for (k = 0; ret > 0 && k < active && rc == 0; k++) {
			struct slot *sl = &p.slots[idx[k]];
			if (pfd[k].revents == 0)
				continue;
			if (sl->phase == PH_CONNECT)
				rc = connect_finish(&p, sl);
			else
				handshake_advance(&p, sl);
		}
	}

done:
	now = tg_monotonic_ms();
	for (i = 0; i < n; i++) {
		struct slot *sl = &p.slots[i];
		if (sl->oom && rc == 0)
			rc = TLSGUARD_E_NOMEM;
		if (sl->phase != PH_DONE)
			slot_finish(&p, sl, TG_PROBE_TIMEOUT, "timed out after %lld ms (%s)", (long long)(now - p.start),
			            sl->phase == PH_CONNECT ? "no TCP connection" : "no server certificate");
	}
	if (p.cred != NULL)
		gnutls_certificate_free_credentials(p.cred);
	if (rc != 0) {
		for (i = 0; i < n; i++)
			tg_probe_result_clear(&out[i]);
		if (rc == TLSGUARD_E_NOMEM)
			SETERR("tg_probe: out of memory");
	}
	return rc;
}
