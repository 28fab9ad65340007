/*
 * OpenSSL 3 hooks of libtlsguard-preload.so. No OpenSSL header is used
 * (the library is optional at build time): the few prototypes and
 * constants below are those of OpenSSL 3.0's <openssl/ssl.h>, <err.h>,
 * <x509_vfy.h> and <sslerr.h>, whose ABI is stable across 3.x.
 *
 *  - SSL_connect, SSL_do_handshake: when the real call completes (1) on a
 *    client object, tlsguard judges the peer chain.
 *  - SSL_read{,_ex}, SSL_peek{,_ex}, SSL_write{,_ex}, SSL_sendfile: a client
 *    object whose handshake is not finished has it driven first
 *    (SSL_do_handshake: openssl s_client and Python's
 *    do_handshake_on_connect=False handshake implicitly inside the first
 *    I/O call) and judged before any application byte moves; a refused
 *    object moves none.
 *  - SSL_clear, SSL_free: forget the object (a new handshake on a cleared
 *    object, or a new object at a freed one's address, starts afresh).
 *  - Host: SSL_get_servername() (SSL_set_tlsext_host_name), else the
 *    verification host (SSL_set1_host, read back with
 *    X509_VERIFY_PARAM_get0_host), else the peer address.
 *  - Refusal, as libssl reports a failed certificate verification:
 *    SSL_set_verify_result(X509_V_ERR_APPLICATION_VERIFICATION) and an
 *    SSL_R_CERTIFICATE_VERIFY_FAILED error on the thread's error queue
 *    (what ERR_raise() expands to), then -1 (or 0 from the _ex calls), so
 *    SSL_get_error() says SSL_ERROR_SSL.
 *  - Resumption on a fresh object exposes only the leaf
 *    (SSL_get_peer_cert_chain() is NULL): the leaf is accepted when the
 *    same host showed it with a full chain that passed before in this
 *    process; otherwise the leaf alone is judged (which fails closed for a
 *    pinned host whose pin is on an intermediate).
 *  - The verdict is kept per object and peer leaf: a renegotiation that
 *    brings another certificate is judged again.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "preload.h"

typedef struct ssl_st SSL;
typedef struct x509_st X509;
typedef struct stack_st OPENSSL_STACK;
typedef struct X509_VERIFY_PARAM_st X509_VERIFY_PARAM;

#define TLSEXT_NAMETYPE_host_name 0
#define X509_V_ERR_APPLICATION_VERIFICATION 50
#define ERR_LIB_SSL 20
#define SSL_R_CERTIFICATE_VERIFY_FAILED 134
#define SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP 70

/* The hooks' prototypes (as in <openssl/ssl.h>). */
int SSL_connect(SSL *s);
int SSL_do_handshake(SSL *s);
int SSL_read(SSL *s, void *buf, int num);
int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes);
int SSL_peek(SSL *s, void *buf, int num);
int SSL_peek_ex(SSL *s, void *buf, size_t num, size_t *readbytes);
int SSL_write(SSL *s, const void *buf, int num);
int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written);
ssize_t SSL_sendfile(SSL *s, int fd, off_t offset, size_t size, int flags);
int SSL_clear(SSL *s);
void SSL_free(SSL *s);

#define SSLFN(var, name) TGP_RESOLVE(var, var##_slot, name, TGP_OPENSSL_VER, TGP_SSL_LIB)
#define CRYPTOFN(var, name) TGP_RESOLVE(var, var##_slot, name, TGP_OPENSSL_VER, TGP_CRYPTO_LIB)

/* Functions the shim calls (never hooked). */
static int (*is_server_slot)(const SSL *);
static int (*is_init_finished_slot)(const SSL *);
static const char *(*get_servername_slot)(const SSL *, int);
static X509_VERIFY_PARAM *(*get0_param_slot)(SSL *);
static const char *(*param_get0_host_slot)(X509_VERIFY_PARAM *, int);
static OPENSSL_STACK *(*get_peer_cert_chain_slot)(const SSL *);
static X509 *(*get0_peer_certificate_slot)(const SSL *);
static int (*get_fd_slot)(const SSL *);
static long (*ssl_ctrl_slot)(SSL *, int, long, void *);
static void (*set_verify_result_slot)(SSL *, long);
static int (*sk_num_slot)(const OPENSSL_STACK *);
static void *(*sk_value_slot)(const OPENSSL_STACK *, int);
static int (*i2d_x509_slot)(const X509 *, unsigned char **);
static void (*err_new_slot)(void);
static void (*err_set_debug_slot)(const char *, int, const char *);
static void (*err_set_error_slot)(int, int, const char *, ...);

/* Is \p s a client object? When libssl cannot be asked, it is treated as
 * a server (left alone) rather than guessed. */
static bool is_client(const SSL *s)
{
	int (*is_server)(const SSL *);

	SSLFN(is_server, "SSL_is_server");
	return is_server != NULL && is_server(s) == 0;
}

/* Put the refusal where the program looks for a certificate failure. */
static void raise_refusal(SSL *s)
{
	void (*set_verify_result)(SSL *, long);
	void (*err_new)(void);
	void (*err_set_debug)(const char *, int, const char *);
	void (*err_set_error)(int, int, const char *, ...);

	SSLFN(set_verify_result, "SSL_set_verify_result");
	CRYPTOFN(err_new, "ERR_new");
	CRYPTOFN(err_set_debug, "ERR_set_debug");
	CRYPTOFN(err_set_error, "ERR_set_error");
	if (set_verify_result != NULL)
		set_verify_result(s, X509_V_ERR_APPLICATION_VERIFICATION);
	if (err_new != NULL && err_set_debug != NULL && err_set_error != NULL) {
		err_new();
		err_set_debug("libtlsguard-preload.so", 0, "tlsguard_preload");
		err_set_error(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "%s",
		              "tlsguard: refused by policy (see the warning above)");
	}
}

/* ------------------------------------------------------------------ */
/* Leaves that passed with their full chain, per host (resumption).    */

#define LEAF_CACHE 32
static struct {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		char host[TGP_MAX_HOST + 1];
		unsigned char *der;
		size_t len;
	} e[LEAF_CACHE];
} leaves = {PTHREAD_MUTEX_INITIALIZER, 0, {{"", NULL, 0}}};

static bool leaf_known(const char *host, const unsigned char *der, size_t len)
{
	bool hit = false;
	unsigned i;

	pthread_mutex_lock(&leaves.lock);
	for (i = 0; i < LEAF_CACHE && !hit; i++)
		hit = leaves.e[i].der != NULL && leaves.e[i].len == len && strcmp(leaves.e[i].host, host) == 0 &&
		      memcmp(leaves.e[i].der, der, len) == 0;
	pthread_mutex_unlock(&leaves.lock);
	return hit;
}

static void leaf_remember(const char *host, const unsigned char *der, size_t len)
{
	unsigned char *copy;
	unsigned i;

	if (leaf_known(host, der, len) || (copy = malloc(len)) == NULL)
		return;
	memcpy(copy, der, len);
	pthread_mutex_lock(&leaves.lock);
	i = leaves.next++ % LEAF_CACHE;
	free(leaves.e[i].der);
	snprintf(leaves.e[i].host, sizeof(leaves.e[i].host), "%s", host);
	leaves.e[i].der = copy;
	leaves.e[i].len = len;
	pthread_mutex_unlock(&leaves.lock);
}

/* ------------------------------------------------------------------ */
/* The check                                                           */

/* i2d into a fresh buffer; NULL on failure. */
static unsigned char *to_der(const X509 *x, size_t *len)
{
	int (*i2d_x509)(const X509 *, unsigned char **);
	unsigned char *buf, *p;
	int n;

	CRYPTOFN(i2d_x509, "i2d_X509");
	if (i2d_x509 == NULL || x == NULL || (n = i2d_x509(x, NULL)) <= 0 || (buf = malloc((size_t)n)) == NULL)
		return NULL;
	p = buf;
	if (i2d_x509(x, &p) != n) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* Record the verdict for \p leaf on \p s. */
/* The checked leaf is held with a reference (X509_up_ref), so that "the
 * same pointer" means "the same certificate": a new leaf (renegotiation)
 * can never be allocated at the address of one still held. */
static int (*x509_up_ref_slot)(X509 *);
static void (*x509_free_slot)(X509 *);

static void leaf_release(const void *leaf)
{
	void (*x509_free)(X509 *);

	if (leaf == NULL)
		return;
	CRYPTOFN(x509_free, "X509_free");
	if (x509_free != NULL)
		x509_free((X509 *)(uintptr_t)leaf);
}

static void record(SSL *s, const void *leaf, bool refused)
{
	int (*x509_up_ref)(X509 *);
	const void *old = NULL;
	struct tgp_entry *e;

	CRYPTOFN(x509_up_ref, "X509_up_ref");
	/* Without a reference the pointer proves nothing: keep none, and the
	 * next I/O call judges the session again. */
	if (leaf != NULL && (x509_up_ref == NULL || x509_up_ref((X509 *)(uintptr_t)leaf) != 1))
		leaf = NULL;
	if (refused)
		tgp_map_refuse(&tgp_ssl_map, s);
	if ((e = tgp_map_lock(&tgp_ssl_map, s, true)) != NULL) {
		old = e->leaf;
		e->checked = leaf != NULL || refused;
		e->leaf = leaf;
		tgp_map_unlock(&tgp_ssl_map, s);
	} else {
		old = leaf; /* nowhere to keep it */
	}
	leaf_release(old);
}

/* Forget @s, releasing the leaf held for it. */
static void forget(SSL *s)
{
	const void *leaf = NULL;
	struct tgp_entry *e;

	if ((e = tgp_map_lock(&tgp_ssl_map, s, false)) != NULL) {
		leaf = e->leaf;
		e->leaf = NULL;
		tgp_map_unlock(&tgp_ssl_map, s);
	}
	tgp_map_remove(&tgp_ssl_map, s);
	leaf_release(leaf);
}

/* Judge the finished handshake of client \p s (once per peer leaf):
 * 0 to go on, -1 refused (the error is raised). */
static int check(SSL *s)
{
	const char *(*get_servername)(const SSL *, int);
	X509_VERIFY_PARAM *(*get0_param)(SSL *);
	const char *(*param_get0_host)(X509_VERIFY_PARAM *, int);
	OPENSSL_STACK *(*get_peer_cert_chain)(const SSL *);
	X509 *(*get0_peer_certificate)(const SSL *);
	int (*get_fd)(const SSL *);
	long (*ssl_ctrl)(SSL *, int, long, void *);
	int (*sk_num)(const OPENSSL_STACK *);
	void *(*sk_value)(const OPENSSL_STACK *, int);
	char host[TGP_MAX_HOST + 1] = "", addr[TGP_ADDR_LEN] = "";
	unsigned char *der[64] = {NULL};
	size_t len[64], n = 0, i;
	const unsigned char *cder[64];
	unsigned char *ocsp = NULL;
	long ocsp_len = 0;
	unsigned port = 0;
	struct tgp_conn c;
	struct tgp_entry *e;
	OPENSSL_STACK *chain;
	X509 *leaf;
	bool refused = false, full;
	const char *name;

	SSLFN(get0_peer_certificate, "SSL_get0_peer_certificate");
	leaf = get0_peer_certificate != NULL ? get0_peer_certificate(s) : NULL;
	if ((e = tgp_map_lock(&tgp_ssl_map, s, false)) != NULL) {
		bool done = e->checked && e->leaf == leaf, was_refused = e->refused;
		tgp_map_unlock(&tgp_ssl_map, s);
		if (was_refused) {
			raise_refusal(s);
			return -1;
		}
		if (done)
			return 0;
	}
	if (!tgp_enabled() || (leaf == NULL && get0_peer_certificate != NULL)) {
		record(s, leaf, false); /* disabled, or no certificate (PSK) */
		return 0;
	}

	SSLFN(get_servername, "SSL_get_servername");
	SSLFN(get0_param, "SSL_get0_param");
	CRYPTOFN(param_get0_host, "X509_VERIFY_PARAM_get0_host");
	SSLFN(get_peer_cert_chain, "SSL_get_peer_cert_chain");
	SSLFN(get_fd, "SSL_get_fd");
	SSLFN(ssl_ctrl, "SSL_ctrl");
	CRYPTOFN(sk_num, "OPENSSL_sk_num");
	CRYPTOFN(sk_value, "OPENSSL_sk_value");

	if (get_servername != NULL && (name = get_servername(s, TLSEXT_NAMETYPE_host_name)) != NULL)
		tgp_copy_host(host, name, (size_t)-1);
	if (host[0] == '\0' && get0_param != NULL && param_get0_host != NULL &&
	    (name = param_get0_host(get0_param(s), 0)) != NULL)
		tgp_copy_host(host, name, (size_t)-1);
	/* SSL_get_fd() is -1 for custom and memory BIOs (curl, asyncio). */
	if (get_fd == NULL || !tgp_peer_of_fd(get_fd(s), addr, sizeof(addr), &port))
		(void)tgp_peer_fallback(addr, sizeof(addr), &port);

	chain = get_peer_cert_chain != NULL ? get_peer_cert_chain(s) : NULL;
	if (chain != NULL && sk_num != NULL && sk_value != NULL) {
		int k = sk_num(chain);
		for (i = 0; k > 0 && i < (size_t)k && i < 64; i++) {
			if ((der[n] = to_der(sk_value(chain, (int)i), &len[n])) == NULL)
				break;
			n++;
		}
	}
	full = n > 1 || (n == 1 && chain != NULL);
	if (n == 0 && leaf != NULL && (der[0] = to_der(leaf, &len[0])) != NULL)
		n = 1; /* resumed on a fresh object: the leaf only */
	if (!full && n == 1 && host[0] != '\0' && leaf_known(host, der[0], len[0])) {
		free(der[0]);
		record(s, leaf, false);
		return 0;
	}
	if (ssl_ctrl != NULL)
		ocsp_len = ssl_ctrl(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &ocsp);

	for (i = 0; i < n; i++)
		cder[i] = der[i];
	memset(&c, 0, sizeof(c));
	c.lib = "OpenSSL";
	c.host = host[0] ? host : NULL;
	c.addr = addr;
	c.port = port;
	c.der = cder;
	c.len = len;
	c.n = n;
	c.ocsp = ocsp_len > 0 ? ocsp : NULL;
	c.ocsp_len = ocsp_len > 0 ? (size_t)ocsp_len : 0;
	/* n == 0 here: the chain could not be read; tgp_evaluate() fails
	 * closed (empty chain) when there is a policy. */
	refused = tgp_evaluate(&c);
	if (!refused && full && host[0] != '\0')
		leaf_remember(host, der[0], len[0]);
	for (i = 0; i < n; i++)
		free(der[i]);
	record(s, leaf, refused);
	if (refused) {
		raise_refusal(s);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Handshakes                                                          */

static int handshake(int (*real)(SSL *), SSL *s)
{
	int ret;

	if (tgp_t.in_eval || tgp_t.depth > 0 || s == NULL)
		return real(s);
	if (tgp_map_is_refused(&tgp_ssl_map, s)) {
		raise_refusal(s);
		return -1;
	}
	tgp_t.depth++;
	ret = real(s);
	tgp_t.depth--;
	if (ret != 1 || !is_client(s))
		return ret;
	return check(s) == 0 ? 1 : -1;
}

static int (*real_connect_slot)(SSL *);
TGP_HOOK int SSL_connect(SSL *s)
{
	int (*real_connect)(SSL *);

	SSLFN(real_connect, "SSL_connect");
	return real_connect == NULL ? -1 : handshake(real_connect, s);
}

static int (*real_do_handshake_slot)(SSL *);
TGP_HOOK int SSL_do_handshake(SSL *s)
{
	int (*real_do_handshake)(SSL *);

	SSLFN(real_do_handshake, "SSL_do_handshake");
	return real_do_handshake == NULL ? -1 : handshake(real_do_handshake, s);
}

/*
 * Before an I/O call on \p s: 1 to go on with the real call (the thread's
 * depth is raised; lower it with io_done()), or the value to return
 * (<= 0): the handshake is still under way (WANT_READ/WRITE for
 * SSL_get_error()), failed, or was refused.
 */
static int io_gate(SSL *s)
{
	int (*real_do_handshake)(SSL *);
	int (*is_init_finished)(const SSL *);
	int ret;

	if (tgp_t.in_eval || tgp_t.depth > 0 || s == NULL) {
		tgp_t.depth++;
		return 1;
	}
	if (tgp_map_is_refused(&tgp_ssl_map, s)) {
		raise_refusal(s);
		return -1;
	}
	if (!is_client(s)) {
		tgp_t.depth++;
		return 1;
	}
	SSLFN(is_init_finished, "SSL_is_init_finished");
	SSLFN(real_do_handshake, "SSL_do_handshake");
	if (is_init_finished == NULL || real_do_handshake == NULL)
		return -1; /* cannot tell whether a check is due: fail closed */
	if (!is_init_finished(s)) {
		tgp_t.depth++;
		ret = real_do_handshake(s);
		tgp_t.depth--;
		if (ret != 1)
			return ret < 0 ? ret : 0;
	}
	if (check(s) != 0)
		return -1;
	tgp_t.depth++;
	return 1;
}

static void io_done(void)
{
	tgp_t.depth--;
}

#define IO_HOOK(ret_t, fname, params, args, fail)                                                           \
	static ret_t(*real_##fname##_slot) params;                                                          \
	TGP_HOOK ret_t fname params                                                                         \
	{                                                                                                   \
		ret_t(*real_##fname) params;                                                                \
		ret_t ret;                                                                                  \
		int g;                                                                                      \
		SSLFN(real_##fname, #fname);                                                                \
		if (real_##fname == NULL)                                                                   \
			return fail;                                                                        \
		if ((g = io_gate(s)) != 1)                                                                  \
			return fail == 0 ? 0 : (ret_t)g;                                                    \
		ret = real_##fname args;                                                                    \
		io_done();                                                                                  \
		return ret;                                                                                 \
	}

IO_HOOK(int, SSL_read, (SSL * s, void *buf, int num), (s, buf, num), -1)
IO_HOOK(int, SSL_peek, (SSL * s, void *buf, int num), (s, buf, num), -1)
IO_HOOK(int, SSL_write, (SSL * s, const void *buf, int num), (s, buf, num), -1)
IO_HOOK(int, SSL_read_ex, (SSL * s, void *buf, size_t num, size_t *readbytes), (s, buf, num, readbytes), 0)
IO_HOOK(int, SSL_peek_ex, (SSL * s, void *buf, size_t num, size_t *readbytes), (s, buf, num, readbytes), 0)
IO_HOOK(int, SSL_write_ex, (SSL * s, const void *buf, size_t num, size_t *written), (s, buf, num, written), 0)
IO_HOOK(ssize_t, SSL_sendfile, (SSL * s, int fd, off_t offset, size_t size, int flags), (s, fd, offset, size, flags),
        -1)

/* ------------------------------------------------------------------ */
/* Object lifetime                                                     */

static int (*real_clear_slot)(SSL *);
TGP_HOOK int SSL_clear(SSL *s)
{
	int (*real_clear)(SSL *);

	SSLFN(real_clear, "SSL_clear");
	if (s != NULL)
		forget(s);
	return real_clear == NULL ? 0 : real_clear(s);
}

static void (*real_free_slot)(SSL *);
TGP_HOOK void SSL_free(SSL *s)
{
	void (*real_free)(SSL *);

	SSLFN(real_free, "SSL_free");
	if (s != NULL)
		forget(s);
	if (real_free != NULL)
		real_free(s);
}
