/*
 * GnuTLS session glue. The per-session state rides on a session-scoped
 * TLS extension registration (gnutls_session_ext_register) that never puts
 * anything on the wire: its private data slot holds the attachment, and
 * GnuTLS frees it in gnutls_deinit(). This keeps gnutls_session_set_ptr()
 * free for the application.
 *
 * Certificate Transparency: when CT is evaluated for the attached host, the
 * ClientHello also carries an empty signed_certificate_timestamp extension
 * (type 18, RFC 6962 sec. 3.3.1), registered per session like the private
 * one, and the SignedCertificateTimestampList the server returns is kept in
 * the attachment and handed to the evaluation as TLSGUARD_SCT_TLS.
 *
 * What GnuTLS 3.7.9 allows (lib/hello_ext.c, lib/extv.c,
 * lib/tls13/certificate.c; checked against the installed library):
 *  - A registered extension's send function that returns GNUTLS_E_INT_RET_0
 *    puts the extension with empty extension_data into the ClientHello and
 *    marks it as sent, so that the server's reply is accepted.
 *  - TLS 1.2: with GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO the recv function gets
 *    the ServerHello's extension_data (the list, with its 2-byte length).
 *  - TLS 1.3: the server sends SCTs in the leaf's CertificateEntry
 *    extensions (RFC 8446 sec. 4.4.2). GnuTLS parses those itself and
 *    accepts status_request only: any other entry extension aborts the
 *    handshake with GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION, and no
 *    gnutls_ext_flags_t value routes them to a registered extension. So
 *    GnuTLS cannot receive TLS 1.3 SCTs, and a TLS 1.3 server that does
 *    send them (one that has SCTs for TLS 1.3 configured) makes the
 *    handshake fail. That is why the extension is offered only when CT is
 *    evaluated for the host, never for everyone.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/ocsp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "tg.h"
#include "tlsguard/gnutls.h"

/* From the private-use range (RFC 8446 sec. 4.2: 65280-65535); never sent. */
#define TG_EXT_ID 0xFF7A
/* signed_certificate_timestamp (RFC 6962 sec. 3.3.1). */
#define SCT_EXT_ID 18

struct attachment {
	const tlsguard_ctx *ctx;
	char host[TG_MAX_HOST + 1];
	unsigned port;
	tlsguard_result *last;
	bool sct_registered; /* extension 18 is registered on the session by us */
	/* The SignedCertificateTimestampList of the server's hello in the
	 * current handshake (2-byte length included, as received); NULL when
	 * none came. Extension data is at most 65535 bytes, so it is within
	 * tlsguard_request_add_sct_list()'s bound (65537). */
	unsigned char *sct;
	size_t sct_len;
};

static int ext_send(gnutls_session_t s, gnutls_buffer_t extdata)
{
	(void)s;
	(void)extdata;
	return 0; /* nothing: the extension is not sent */
}

static int ext_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	(void)s;
	(void)data;
	(void)len;
	return 0;
}

static void sct_clear(struct attachment *a)
{
	tg_free(a->sct);
	a->sct = NULL;
	a->sct_len = 0;
}

static void ext_deinit(gnutls_ext_priv_data_t data)
{
	struct attachment *a = data;
	if (a == NULL)
		return;
	tlsguard_result_free(a->last);
	sct_clear(a);
	tg_free(a);
}

static struct attachment *get_attachment(gnutls_session_t s)
{
	gnutls_ext_priv_data_t p = NULL;
	if (gnutls_ext_get_data(s, TG_EXT_ID, &p) < 0)
		return NULL;
	return p;
}

/* Is CT evaluated for the attached host (a log list, and ct-policy not off
 * for it)? Only then are SCTs asked for: see the top of the file for why
 * not always. The context is frozen by attach, so reading it is safe. */
static bool ct_wanted(const struct attachment *a)
{
	struct tg_policy pol;

	if (a->ctx->cfg.ct_list == NULL)
		return false;
	tg_policy_for_host(&a->ctx->cfg, a->host, &pol);
	return pol.ct_policy != TG_CT_OFF;
}

/* ClientHello: forget the SCTs of an earlier handshake, and offer the
 * extension, empty (RFC 6962 sec. 3.3.1), when CT is evaluated. */
static int sct_send(gnutls_session_t s, gnutls_buffer_t extdata)
{
	struct attachment *a = get_attachment(s);

	(void)extdata;
	if (a == NULL)
		return 0;
	sct_clear(a);
	return ct_wanted(a) ? GNUTLS_E_INT_RET_0 : 0;
}

/* TLS 1.2 ServerHello: keep a copy of the list. Its contents are judged by
 * the ct check (a malformed list is an event there, not a handshake
 * error). Empty extension_data (not a valid list) is taken as no SCTs. */
static int sct_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct attachment *a = get_attachment(s);

	if (a == NULL)
		return 0;
	sct_clear(a);
	if (len == 0)
		return 0;
	if ((a->sct = tg_malloc(len)) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(a->sct, data, len);
	a->sct_len = len;
	return 0;
}

static void peer_address(gnutls_session_t s, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = gnutls_transport_get_int(s);

	out[0] = '\0';
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)len);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)len);
}

int tlsguard_verify_session(const tlsguard_ctx *ctx, gnutls_session_t session, const char *host, unsigned port,
                            tlsguard_result **out)
{
	tlsguard_request *req = NULL;
	const struct attachment *a;
	const gnutls_datum_t *peers;
	gnutls_datum_t ocsp = {NULL, 0};
	unsigned n = 0, i;
	char addr[64];
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || session == NULL || host == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	rc = tlsguard_request_new(&req, host, strlen(host));
	if (rc != 0)
		return rc;
	rc = tlsguard_request_set_port(req, port);
	peer_address(session, addr, sizeof(addr));
	if (rc == 0 && addr[0])
		rc = tlsguard_request_set_address(req, addr);
	if (rc == 0 && gnutls_certificate_type_get2(session, GNUTLS_CTYPE_SERVER) == GNUTLS_CRT_X509) {
		peers = gnutls_certificate_get_peers(session, &n);
		for (i = 0; rc == 0 && peers != NULL && i < n; i++)
			rc = tlsguard_request_add_cert(req, peers[i].data, peers[i].size);
	}
	if (rc == 0 && gnutls_ocsp_status_request_get2(session, 0, &ocsp) == 0 && ocsp.size > 0)
		rc = tlsguard_request_set_ocsp_response(req, ocsp.data, ocsp.size);
	/* SCTs from the TLS extension: only an attached session asked for them. */
	a = get_attachment(session);
	if (rc == 0 && a != NULL && a->sct != NULL)
		rc = tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, a->sct, a->sct_len);
	if (rc == 0)
		rc = tlsguard_verify(ctx, req, out);
	tlsguard_request_free(req);
	return rc;
}

static int verify_hook(gnutls_session_t s)
{
	struct attachment *a = get_attachment(s);
	int rc;

	if (a == NULL)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR; /* fail closed */
	tlsguard_result_free(a->last);
	a->last = NULL;
	rc = tlsguard_verify_session(a->ctx, s, a->host, a->port, &a->last);
	if (rc != 0 || tlsguard_result_verdict(a->last) != TLSGUARD_ACCEPT)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

int tlsguard_session_attach(const tlsguard_ctx *ctx, gnutls_session_t session, const char *host, unsigned port)
{
	struct attachment *a;
	char norm[TG_MAX_HOST + 1];
	unsigned char ip[16];
	int ret;
	bool fresh = false;

	if (ctx == NULL || session == NULL || host == NULL || port > 65535)
		return TLSGUARD_E_INVALID;
	if (tg_host_normalize(host, strlen(host), norm) != 0)
		return TLSGUARD_E_INVALID;
	a = get_attachment(session);
	if (a == NULL) {
		a = tg_calloc(1, sizeof(*a));
		if (a == NULL)
			return TLSGUARD_E_NOMEM;
		fresh = true;
	}
	memcpy(a->host, norm, sizeof(norm));
	a->ctx = ctx;
	a->port = port;
	if (fresh) {
		ret = gnutls_session_ext_register(session, "tlsguard", TG_EXT_ID, GNUTLS_EXT_TLS, ext_recv, ext_send,
		                                  ext_deinit, NULL, NULL, GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_TLS);
		if (ret < 0) {
			tg_free(a);
			return TLSGUARD_E_INTERNAL;
		}
		gnutls_ext_set_data(session, TG_EXT_ID, a);
	}
	/* The hook goes in first: whatever fails below, the session cannot
	 * complete a handshake without tlsguard's verdict. */
	gnutls_session_set_verify_function(session, verify_hook);
	/* Build the trust list now rather than inside the handshake. */
	(void)tg_ctx_prepare(ctx);
	if (tg_ip_parse(a->host, ip) == 0) {
		ret = gnutls_server_name_set(session, GNUTLS_NAME_DNS, a->host, strlen(a->host));
		if (ret < 0)
			return TLSGUARD_E_INTERNAL;
	}
	ret = gnutls_ocsp_status_request_enable_client(session, NULL, 0, NULL);
	if (ret < 0)
		return TLSGUARD_E_INTERNAL;
	/* SCTs by TLS, when CT is evaluated for this host (a re-attach to
	 * another host registers it then; sct_send decides per handshake). An
	 * application that registered extension 18 itself keeps it: tlsguard
	 * then gets no TLS SCTs from this session. */
	if (!a->sct_registered && ct_wanted(a)) {
		ret = gnutls_session_ext_register(session, "signed_certificate_timestamp", SCT_EXT_ID, GNUTLS_EXT_TLS,
		                                  sct_recv, sct_send, NULL, NULL, NULL,
		                                  GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO |
		                                      GNUTLS_EXT_FLAG_TLS);
		if (ret == GNUTLS_E_MEMORY_ERROR)
			return TLSGUARD_E_NOMEM;
		if (ret < 0 && ret != GNUTLS_E_ALREADY_REGISTERED)
			return TLSGUARD_E_INTERNAL;
		a->sct_registered = ret == 0;
	}
	return 0;
}

const tlsguard_result *tlsguard_session_result(gnutls_session_t session)
{
	struct attachment *a = session ? get_attachment(session) : NULL;
	return a ? a->last : NULL;
}
