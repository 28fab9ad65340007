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
 * an OCSP response, and installs a verify function
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
 * \since 0.1
 */
TLSGUARD_API TLSGUARD_WARN_UNUSED int tlsguard_verify_session(const tlsguard_ctx *ctx, gnutls_session_t session,
                                                              const char *host, unsigned port,
                                                              tlsguard_result **out);

#ifdef __cplusplus
}
#endif
#endif /* TLSGUARD_GNUTLS_H */
