/*
 * GnuTLS hooks of libtlsguard-preload.so. Only exported, documented entry
 * points are hooked:
 *  - gnutls_init / gnutls_deinit: which sessions are clients; the map entry
 *    lives exactly as long as the session (a new session at a freed
 *    session's address must not inherit its host);
 *  - gnutls_server_name_set, gnutls_session_set_verify_cert{,2},
 *    gnutls_certificate_verify_peers{,3}: the host the program asked for
 *    (gnutls_server_name_get() fails on client sessions in 3.7.9, and a
 *    program without SNI may still name the host to the verify calls);
 *  - gnutls_handshake: when the real handshake completes (0) on a client
 *    session, tlsguard judges the peer chain; a refusal is reported as the
 *    library reports a certificate failure,
 *    GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR. GNUTLS_E_AGAIN and the other
 *    returns of non-blocking handshakes pass through untouched;
 *  - gnutls_record_send{,2} / gnutls_record_recv{,_seq}: a refused session
 *    moves no application data (the program might ignore the error);
 *  - gnutls_certificate_verify_peers{,2,3}: a refused session's status also
 *    says GNUTLS_CERT_INVALID.
 * The headers give the prototypes (so the compiler checks them); nothing
 * links libgnutls.
 */
#include "config.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "preload.h"

#define REAL(fn) TGP_RESOLVE(real, fn##_slot, #fn, TGP_GNUTLS_VER, TGP_GNUTLS_LIB)
#define REALV(fn, ver) TGP_RESOLVE(real, fn##_slot, #fn, ver, TGP_GNUTLS_LIB)
#define SLOT(fn) static __typeof__(fn) *fn##_slot

/* Outside tlsguard's own work (see preload.h)? */
static bool watching(void)
{
	return tgp_t.in_eval == 0;
}

/* ------------------------------------------------------------------ */
/* Session lifetime and host names                                     */

SLOT(gnutls_init);
TGP_HOOK int gnutls_init(gnutls_session_t *session, unsigned int flags)
{
	__typeof__(gnutls_init) *real;
	int ret;

	REAL(gnutls_init);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	ret = real(session, flags);
	if (ret != 0 || session == NULL || !watching())
		return ret;
	tgp_map_remove(&tgp_gnutls_map, *session); /* never inherit a stale entry */
	if (flags & GNUTLS_CLIENT) {
		struct tgp_entry *e = tgp_map_lock(&tgp_gnutls_map, *session, true);
		if (e != NULL) {
			e->client = true;
			tgp_map_unlock(&tgp_gnutls_map, *session);
		}
	}
	return ret;
}

SLOT(gnutls_deinit);
TGP_HOOK void gnutls_deinit(gnutls_session_t session)
{
	__typeof__(gnutls_deinit) *real;

	REAL(gnutls_deinit);
	if (session != NULL)
		tgp_map_remove(&tgp_gnutls_map, session);
	if (real != NULL)
		real(session);
}

/* Remember a host name for \p session: into sni (server_name_set) or
 * vhost (the verify calls). */
static void remember(gnutls_session_t session, bool sni, const char *name, size_t len)
{
	struct tgp_entry *e;

	if (session == NULL || name == NULL || !watching())
		return;
	if ((e = tgp_map_lock(&tgp_gnutls_map, session, false)) == NULL)
		return;
	tgp_copy_host(sni ? e->sni : e->vhost, name, len);
	tgp_map_unlock(&tgp_gnutls_map, session);
}

static void remember_typed(gnutls_session_t session, const gnutls_typed_vdata_st *data, unsigned elements)
{
	unsigned i;

	for (i = 0; data != NULL && i < elements; i++)
		if (data[i].type == GNUTLS_DT_DNS_HOSTNAME && data[i].data != NULL)
			remember(session, false, (const char *)data[i].data, (size_t)-1);
}

SLOT(gnutls_server_name_set);
TGP_HOOK int gnutls_server_name_set(gnutls_session_t session, gnutls_server_name_type_t type, const void *name,
                                    size_t name_length)
{
	__typeof__(gnutls_server_name_set) *real;
	int ret;

	REAL(gnutls_server_name_set);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	ret = real(session, type, name, name_length);
	if (ret == 0 && type == GNUTLS_NAME_DNS)
		remember(session, true, name, name_length);
	return ret;
}

SLOT(gnutls_session_set_verify_cert);
TGP_HOOK void gnutls_session_set_verify_cert(gnutls_session_t session, const char *hostname, unsigned flags)
{
	__typeof__(gnutls_session_set_verify_cert) *real;

	REAL(gnutls_session_set_verify_cert);
	remember(session, false, hostname, (size_t)-1);
	if (real != NULL)
		real(session, hostname, flags);
}

SLOT(gnutls_session_set_verify_cert2);
TGP_HOOK void gnutls_session_set_verify_cert2(gnutls_session_t session, gnutls_typed_vdata_st *data,
                                              unsigned elements, unsigned flags)
{
	__typeof__(gnutls_session_set_verify_cert2) *real;

	REAL(gnutls_session_set_verify_cert2);
	remember_typed(session, data, elements);
	if (real != NULL)
		real(session, data, elements, flags);
}

/* A refused session's verification status says so too. */
static int verify_result(gnutls_session_t session, int ret, unsigned int *status)
{
	if (ret == 0 && status != NULL && tgp_map_is_refused(&tgp_gnutls_map, session))
		*status |= GNUTLS_CERT_INVALID;
	return ret;
}

SLOT(gnutls_certificate_verify_peers);
TGP_HOOK int gnutls_certificate_verify_peers(gnutls_session_t session, gnutls_typed_vdata_st *data,
                                             unsigned int elements, unsigned int *status)
{
	__typeof__(gnutls_certificate_verify_peers) *real;

	REAL(gnutls_certificate_verify_peers);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	remember_typed(session, data, elements);
	return verify_result(session, real(session, data, elements, status), status);
}

SLOT(gnutls_certificate_verify_peers2);
TGP_HOOK int gnutls_certificate_verify_peers2(gnutls_session_t session, unsigned int *status)
{
	__typeof__(gnutls_certificate_verify_peers2) *real;

	REAL(gnutls_certificate_verify_peers2);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	return verify_result(session, real(session, status), status);
}

SLOT(gnutls_certificate_verify_peers3);
TGP_HOOK int gnutls_certificate_verify_peers3(gnutls_session_t session, const char *hostname, unsigned int *status)
{
	__typeof__(gnutls_certificate_verify_peers3) *real;

	REAL(gnutls_certificate_verify_peers3);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	remember(session, false, hostname, (size_t)-1);
	return verify_result(session, real(session, hostname, status), status);
}

/* ------------------------------------------------------------------ */
/* The handshake                                                       */

static __typeof__(gnutls_certificate_get_peers) *real_get_peers_slot;
static __typeof__(gnutls_certificate_type_get2) *real_type_get2_slot;
static __typeof__(gnutls_ocsp_status_request_get2) *real_ocsp_get2_slot;
static __typeof__(gnutls_transport_get_int2) *real_get_int2_slot;

/* Judge a completed client handshake: 0, or
 * GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR to refuse it. */
static int check(gnutls_session_t session)
{
	__typeof__(gnutls_certificate_get_peers) *real_get_peers;
	__typeof__(gnutls_certificate_type_get2) *real_type_get2;
	__typeof__(gnutls_ocsp_status_request_get2) *real_ocsp_get2;
	__typeof__(gnutls_transport_get_int2) *real_get_int2;
	char host[TGP_MAX_HOST + 1] = "", addr[TGP_ADDR_LEN] = "";
	const unsigned char *der[64];
	size_t len[64];
	const gnutls_datum_t *peers = NULL;
	gnutls_datum_t ocsp = {NULL, 0};
	struct tgp_conn c;
	struct tgp_entry *e;
	unsigned n = 0, i, port = 0;
	int rfd = -1, wfd = -1;
	bool client;

	if ((e = tgp_map_lock(&tgp_gnutls_map, session, false)) == NULL)
		return 0; /* a server session, or one made inside tlsguard */
	client = e->client;
	memcpy(host, e->sni[0] ? e->sni : e->vhost, sizeof(host));
	tgp_map_unlock(&tgp_gnutls_map, session);
	if (!client || !tgp_enabled())
		return 0;

	TGP_REAL(real_get_peers, "gnutls_certificate_get_peers", TGP_GNUTLS_VER, TGP_GNUTLS_LIB);
	TGP_REAL(real_type_get2, "gnutls_certificate_type_get2", "GNUTLS_3_6_4", TGP_GNUTLS_LIB);
	TGP_REAL(real_ocsp_get2, "gnutls_ocsp_status_request_get2", "GNUTLS_3_6_3", TGP_GNUTLS_LIB);
	TGP_REAL(real_get_int2, "gnutls_transport_get_int2", TGP_GNUTLS_VER, TGP_GNUTLS_LIB);
	if (real_get_peers == NULL || real_get_int2 == NULL) {
		memset(&c, 0, sizeof(c)); /* cannot read the chain: fail closed if there is a policy */
	} else if (real_type_get2 != NULL && real_type_get2(session, GNUTLS_CTYPE_SERVER) != GNUTLS_CRT_X509) {
		return 0; /* raw public keys, PSK, anonymous: no certificate to judge */
	} else if ((peers = real_get_peers(session, &n)) == NULL || n == 0) {
		return 0; /* no certificate (PSK, anonymous) */
	}
	if (n > 64)
		n = 64; /* tlsguard refuses longer chains anyway (chain-too-long) */
	for (i = 0; i < n; i++) {
		der[i] = peers[i].data;
		len[i] = peers[i].size;
	}
	if (real_get_int2 != NULL)
		real_get_int2(session, &rfd, &wfd);
	/* The transport may be a pointer (libcurl-gnutls): tgp_peer_of_fd()
	 * takes only a connected stream socket. */
	if (!tgp_peer_of_fd(rfd, addr, sizeof(addr), &port))
		(void)tgp_peer_fallback(addr, sizeof(addr), &port);
	if (real_ocsp_get2 != NULL && real_ocsp_get2(session, 0, &ocsp) != 0)
		ocsp.data = NULL, ocsp.size = 0;

	memset(&c, 0, sizeof(c));
	c.lib = "GnuTLS";
	c.host = host[0] ? host : NULL;
	c.addr = addr;
	c.port = port;
	c.der = der;
	c.len = len;
	c.n = n;
	c.ocsp = ocsp.data;
	c.ocsp_len = ocsp.size;
	if (!tgp_evaluate(&c))
		return 0;
	tgp_map_refuse(&tgp_gnutls_map, session);
	return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

/* Mark @session as inside its own handshake hook; returns whether it
 * already was. Per session, not per thread: a program may open another
 * TLS connection from inside a handshake (a verify callback fetching
 * something over HTTPS, say), and that connection's handshake must be
 * judged too; only libgnutls re-entering the same session's handshake
 * passes straight through. */
static bool enter(gnutls_session_t session)
{
	struct tgp_entry *e = tgp_map_lock(&tgp_gnutls_map, session, false);
	bool was;

	if (e == NULL)
		return false; /* not a session the shim knows: check() decides */
	was = e->busy;
	e->busy = true;
	tgp_map_unlock(&tgp_gnutls_map, session);
	return was;
}

static void leave(gnutls_session_t session)
{
	struct tgp_entry *e = tgp_map_lock(&tgp_gnutls_map, session, false);

	if (e != NULL) {
		e->busy = false;
		tgp_map_unlock(&tgp_gnutls_map, session);
	}
}

SLOT(gnutls_handshake);
TGP_HOOK int gnutls_handshake(gnutls_session_t session)
{
	__typeof__(gnutls_handshake) *real;
	int ret;

	REAL(gnutls_handshake);
	if (real == NULL)
		return GNUTLS_E_INTERNAL_ERROR;
	if (!watching())
		return real(session);
	if (tgp_map_is_refused(&tgp_gnutls_map, session))
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	if (enter(session))
		return real(session); /* libgnutls inside this session's own handshake */
	ret = real(session);
	leave(session);
	if (ret != 0)
		return ret;
	return check(session);
}

/* ------------------------------------------------------------------ */
/* Application data of refused sessions                                */

static bool blocked(gnutls_session_t session)
{
	return watching() && tgp_map_is_refused(&tgp_gnutls_map, session);
}

SLOT(gnutls_record_send);
TGP_HOOK ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size)
{
	__typeof__(gnutls_record_send) *real;

	REAL(gnutls_record_send);
	if (real == NULL || blocked(session))
		return real == NULL ? GNUTLS_E_INTERNAL_ERROR : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return real(session, data, data_size);
}

SLOT(gnutls_record_send2);
TGP_HOOK ssize_t gnutls_record_send2(gnutls_session_t session, const void *data, size_t data_size, size_t pad,
                                     unsigned flags)
{
	__typeof__(gnutls_record_send2) *real;

	REALV(gnutls_record_send2, "GNUTLS_3_6_3");
	if (real == NULL || blocked(session))
		return real == NULL ? GNUTLS_E_INTERNAL_ERROR : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return real(session, data, data_size, pad, flags);
}

SLOT(gnutls_record_recv);
TGP_HOOK ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size)
{
	__typeof__(gnutls_record_recv) *real;

	REAL(gnutls_record_recv);
	if (real == NULL || blocked(session))
		return real == NULL ? GNUTLS_E_INTERNAL_ERROR : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return real(session, data, data_size);
}

SLOT(gnutls_record_recv_seq);
TGP_HOOK ssize_t gnutls_record_recv_seq(gnutls_session_t session, void *data, size_t data_size, unsigned char *seq)
{
	__typeof__(gnutls_record_recv_seq) *real;

	REAL(gnutls_record_recv_seq);
	if (real == NULL || blocked(session))
		return real == NULL ? GNUTLS_E_INTERNAL_ERROR : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return real(session, data, data_size, seq);
}
