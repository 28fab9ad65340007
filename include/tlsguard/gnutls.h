/*
 * tlsguard GnuTLS session glue: run tlsguard's evaluation inside a GnuTLS
 * client handshake.
 *
 * Including this header pulls in <gnutls/gnutls.h>; that is why the
 * pkg-config file lists gnutls in Requires.
 */
#ifndef TLSGUARD_GNUTLS_H
#define TLSGUARD_GNUTLS_H

#include <gnutls/gnutls.h>
#include <tlsguard/tlsguard.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Make a GnuTLS client session verify its peer with tlsguard.
 *
 * Sets SNI to \p host (unless it is an IP literal), asks the server to staple
 * an OCSP response, asks for SCTs by TLS when Certificate Transparency is
 * evaluated for \p host (below), and installs a verify function
 * (gnutls_session_set_verify_function) so that the handshake fails with
 * GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR when the policy rejects the chain
 * or the evaluation cannot complete (fail closed). The peer address is taken
 * from the session's transport socket when it is one (gnutls_transport_set_int).
 *
 * Call after gnutls_init() and before gnutls_handshake(); the session must
 * have certificate credentials. The session stays owned by the caller:
 * tlsguard does not use gnutls_session_set_ptr(). Its per-session state is
 * freed by gnutls_deinit(). \p ctx is borrowed and must outlive the session;
 * it is frozen by this call. Attaching twice replaces the host.
 *
 * SCTs by TLS: when \p ctx has a CT log list and ct-policy is not off for
 * \p host, the ClientHello carries an empty signed_certificate_timestamp
 * extension (RFC 6962 sec. 3.3.1, type 18) and the SCT list the server
 * returns in a TLS 1.2 (or earlier) ServerHello is evaluated as
 * TLSGUARD_SCT_TLS, besides embedded SCTs and those in a stapled OCSP
 * response. Otherwise the extension is not sent. Limits, from GnuTLS (3.7.9
 * and, as far as we know, later releases):
 *  - TLS 1.3 servers put SCTs into the Certificate message, and GnuTLS
 *    accepts no extension there but status_request: it cannot hand them
 *    over, and a TLS 1.3 server that sends them (SCTs for TLS 1.3
 *    configured) makes gnutls_handshake() fail with
 *    GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION before the verify function runs.
 *    Servers that deliver SCTs only in TLS 1.2 (e.g. OpenSSL's
 *    SSL_CTX_use_serverinfo_file with a version 1 file) are unaffected.
 *    Where that matters, restrict the session to TLS 1.2, or set ct-policy
 *    = off for the host (no extension, no CT check).
 *  - Resumed sessions carry no SCTs (servers do not resend them).
 *  - If the application registered extension 18 on the session itself
 *    before attaching, its registration stays and tlsguard gets no TLS SCTs.
 *
 * \param host NUL-terminated host name or IP literal, copied.
 * \param port the server's port (0 = unknown).
 * \return 0; TLSGUARD_E_INVALID (NULL, bad host, server session),
 *   TLSGUARD_E_NOMEM, TLSGUARD_E_INTERNAL (a GnuTLS call failed).
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_session_attach(const tlsguard_ctx *ctx, gnutls_session_t session,
                                                              const char *host, unsigned port);

/**
 * The result of the last evaluation on an attached session: borrowed, valid
 * until the next handshake on the session or gnutls_deinit(). NULL if the
 * session is not attached or no evaluation ran (e.g. the handshake failed
 * before the server's certificate arrived).
 * \since 0.1
 */
TLSGUARD_API const tlsguard_result *tlsguard_session_result(gnutls_session_t session);

/**
 * Evaluate the peer chain of an established (or in-handshake) GnuTLS client
 * session, for apps that verify after gnutls_handshake() themselves.
 * Same returns and ownership as tlsguard_verify().
 *
 * Hands over the peer chain, the stapled OCSP response and, on a session
 * attached with tlsguard_session_attach(), the SCT list the server sent in
 * the TLS extension (see there). On a session that is not attached no SCTs
 * were asked for, so only embedded SCTs and those of a stapled OCSP response
 * are seen; an application that receives the extension itself uses
 * tlsguard_verify() with tlsguard_request_add_sct_list() instead.
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_verify_session(const tlsguard_ctx *ctx, gnutls_session_t session,
                                                              const char *host, unsigned port,
                                                              tlsguard_result **out);

#ifdef __cplusplus
}
#endif
#endif /* TLSGUARD_GNUTLS_H */
