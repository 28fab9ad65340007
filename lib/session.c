/*
 * GnuTLS session glue. The per-session state rides on a session-scoped
 * TLS extension registration (gnutls_session_ext_register) that never puts
 * anything on the wire: its private data slot holds the attachment, and
 * GnuTLS frees it in gnutls_deinit(). This keeps gnutls_session_set_ptr()
 * free for the application.
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

struct attachment {
	const tlsguard_ctx *ctx;
	char host[TG_MAX_HOST + 1];
	unsigned port;
	tlsguard_result *last;
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

static void ext_deinit(gnutls_ext_priv_data_t data)
{
	struct attachment *a = data;
	if (a == NULL)
		return;
	tlsguard_result_free(a->last);
	tg_free(a);
}

static struct attachment *get_attachment(gnutls_session_t s)
{
	gnutls_ext_priv_data_t p = NULL;
	if (gnutls_ext_get_data(s, TG_EXT_ID, &p) < 0)
		return NULL;
	return p;
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
	return 0;
}

const tlsguard_result *tlsguard_session_result(gnutls_session_t session)
{
	struct attachment *a = session ? get_attachment(session) : NULL;
	return a ? a->last : NULL;
}
