/*
 * libtlsguard-preload.so: internals shared by the hook files.
 *
 * The preloaded object links neither GnuTLS, OpenSSL nor libtlsguard: every
 * real function is looked up on first use (tgp_real()), and libtlsguard is
 * dlopen()ed on the first client handshake that needs a verdict
 * (tgp_evaluate()). See doc/tlsguard-preload.8 for the user's view and
 * preload.c for the design notes.
 */
#ifndef TG_PRELOAD_H
#define TG_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Hooks are the only exported symbols (and lib/preload/preload.map lists
 * them, unversioned). */
#define TGP_HOOK __attribute__((visibility("default")))

/* preload.conf (conf.c): settings for the program @me. */
struct tgp_conf {
	bool enabled;    /* the shim acts in this program */
	bool use_syslog; /* refusals also go to syslog */
	bool quiet;      /* no stderr warnings */
};
/* Where a bad line is reported ("path:line: why"); NULL: nowhere. */
struct tgp_conf_sink {
	void (*fn)(const char *msg, void *ud);
	void *ud;
};
/* Apply the preload.conf text @data[0..len) to @c (which holds the
 * defaults); every bad line is reported and ignored. */
void tgp_conf_parse(const char *data, size_t len, const char *path, const char *me, struct tgp_conf *c,
                    const struct tgp_conf_sink *w);

#define TGP_MAX_HOST 253
#define TGP_ADDR_LEN 64

/*
 * Per-thread state. in_eval: this thread is inside tlsguard (library load,
 * context build, evaluation): every hook passes straight through, so
 * tlsguard's own connections (the consistency probe) are never checked or
 * recorded. depth: this thread is inside a hooked handshake or I/O call:
 * the library's internal calls of its own exported functions (libgnutls
 * calls gnutls_handshake, libssl's SSL_connect calls SSL_do_handshake)
 * pass through; the outer hook decides.
 */
struct tgp_thread {
	int in_eval;
	int depth;
	int last_fd; /* last TCP connect() of this thread, -1 if none */
	struct sockaddr_storage last_peer;
	socklen_t last_len;
};
extern __thread struct tgp_thread tgp_t __attribute__((tls_model("initial-exec")));

/*
 * The real definition of \p name: dlvsym(RTLD_NEXT, name, version), then
 * dlsym(RTLD_NEXT, name), then the same in the already-loaded \p lib
 * (dlopen RTLD_NOLOAD: a library that was dlopen()ed RTLD_LOCAL, as
 * Python's _ssl loads libssl, is invisible to RTLD_NEXT). NULL when none
 * is found: the hook then fails the call, it never calls NULL.
 */
void *tgp_real(const char *name, const char *version, const char *lib);

/* Resolve once into a static slot (a benign race: every thread stores the
 * same value). */
#define TGP_RESOLVE(var, slot, name, version, lib)                                                          \
	do {                                                                                                 \
		var = __atomic_load_n(&slot, __ATOMIC_ACQUIRE);                                              \
		if (var == NULL) {                                                                           \
			var = (__typeof__(var))tgp_real(name, version, lib);                                 \
			__atomic_store_n(&slot, var, __ATOMIC_RELEASE);                                      \
		}                                                                                            \
	} while (0)
#define TGP_REAL(var, name, version, lib) TGP_RESOLVE(var, var##_slot, name, version, lib)

#define TGP_GNUTLS_LIB "libgnutls.so.30"
#define TGP_GNUTLS_VER "GNUTLS_3_4"
#define TGP_SSL_LIB "libssl.so.3"
#define TGP_CRYPTO_LIB "libcrypto.so.3"
#define TGP_OPENSSL_VER "OPENSSL_3.0.0"

/* ------------------------------------------------------------------ */
/* Session map: state per session pointer (gnutls_session_t or SSL *).  */

struct tgp_entry {
	struct tgp_entry *next;
	const void *key;
	bool client;        /* GnuTLS: GNUTLS_CLIENT at gnutls_init */
	bool refused;       /* refused by policy: no handshake, no I/O */
	bool checked;       /* OpenSSL: this handshake has a verdict */
	bool busy;          /* GnuTLS: inside this session's own gnutls_handshake hook */
	const void *leaf;   /* OpenSSL: peer leaf X509 of the checked handshake */
	char sni[TGP_MAX_HOST + 1];   /* gnutls_server_name_set */
	char vhost[TGP_MAX_HOST + 1]; /* the host given to the verify calls */
};

struct tgp_map;
extern struct tgp_map tgp_gnutls_map, tgp_ssl_map;

/* The entry of \p key with its bucket locked (created zeroed when \p create
 * and missing); NULL, nothing locked, when missing or out of memory.
 * Release with tgp_map_unlock(). */
struct tgp_entry *tgp_map_lock(struct tgp_map *m, const void *key, bool create);
void tgp_map_unlock(struct tgp_map *m, const void *key);
void tgp_map_remove(struct tgp_map *m, const void *key);
/* Mark the entry of \p key refused (entry created if missing). */
void tgp_map_refuse(struct tgp_map *m, const void *key);
/* Is \p key refused? Free of locks while nothing was ever refused. */
bool tgp_map_is_refused(struct tgp_map *m, const void *key);
/* Copy \p name (\p len bytes, or up to NUL when len is (size_t)-1) into
 * \p out if it is a plausible host name (no NUL, 1..253 bytes). */
void tgp_copy_host(char *out, const char *name, size_t len);

/* ------------------------------------------------------------------ */
/* Peers and verdicts.                                                  */

/* The peer of a connected stream socket \p fd as text and port; false when
 * \p fd is not one (checked with getsockopt(SO_TYPE) and getpeername()). */
bool tgp_peer_of_fd(int fd, char *addr, size_t len, unsigned *port);
/* Fallback: the last TCP socket this thread connect()ed, when it is still
 * a connected socket to the same peer. A heuristic (see preload.c). */
bool tgp_peer_fallback(char *addr, size_t len, unsigned *port);

/* One client handshake to judge. */
struct tgp_conn {
	const char *lib;       /* "GnuTLS" or "OpenSSL", for messages */
	const char *host;      /* name the program asked for, or NULL */
	const char *addr;      /* peer address, "" when unknown */
	unsigned port;         /* 0 when unknown */
	const unsigned char *const *der; /* peer chain, leaf first */
	const size_t *len;
	size_t n;
	const unsigned char *ocsp; /* stapled OCSP response or NULL */
	size_t ocsp_len;
};

/* Is the shim enabled for this program (TLSGUARD_PRELOAD, preload.conf)? */
bool tgp_enabled(void);

/* Judge a handshake with tlsguard: true to refuse. Prints the warning of
 * each fatal event to stderr (and syslog when configured) on refusal. Sets
 * the in_eval guard for its whole duration. */
bool tgp_evaluate(const struct tgp_conn *c);

#endif /* TG_PRELOAD_H */
