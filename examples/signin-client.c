/*
 * signin-client: a client that sends a password only to a server whose
 * certificate tlsguard accepts. When validation fails it shows tlsguard's
 * warning and refuses to sign in.
 *
 *   signin-client [--ca FILE]... [--config FILE] [--connect-to ADDRESS] HOST PORT
 *
 * --ca FILE          trust this CA file instead of the system store; repeat
 *                    it to trust several CAs
 * --config FILE      load a tlsguard.conf(5) policy, e.g. key pins for HOST
 * --connect-to ADDR  connect to this IP address, but verify HOST
 * Exit: 0 signed in, 1 refused (validation failed), 2 usage or bad config,
 * 3 network error.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tlsguard/gnutls.h>

/* Called for every event, in the handshake's thread: show the message a
 * person can act on. Returning DEFAULT leaves the decision to the policy. */
static int on_event(const tlsguard_event *ev, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "\n  !! tlsguard %s: %s\n  %s\n  [detail: %s]\n",
	        tlsguard_severity_name(tlsguard_event_severity(ev)), tlsguard_event_name(ev),
	        tlsguard_event_message(ev), tlsguard_event_detail(ev));
	return TLSGUARD_DECISION_DEFAULT;
}

static int tcp_connect(const char *addr, const char *port)
{
	struct addrinfo hints = {0}, *res, *ai;
	int fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(addr, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

int main(int argc, char **argv)
{
	const char *ca[16], *config = NULL, *connect_to = NULL, *host, *port;
	tlsguard_ctx *ctx = NULL;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t session;
	char reply[256];
	int i, k, nca = 0, fd, ret, status = 3;
	size_t w;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--ca") && nca < 16)
			ca[nca++] = argv[i + 1];
		else if (!strcmp(argv[i], "--config"))
			config = argv[i + 1];
		else if (!strcmp(argv[i], "--connect-to"))
			connect_to = argv[i + 1];
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: signin-client [--ca FILE]... [--config FILE] [--connect-to ADDRESS] HOST PORT\n");
		return 2;
	}
	host = argv[i];
	port = argv[i + 1];

	/* 1. A tlsguard context: the policy, built once. The trust anchors,
	 * then the config file (pins, ...), then the callback. */
	if (tlsguard_ctx_new(&ctx, nca ? TLSGUARD_CTX_NO_SYSTEM_CA : 0) != 0)
		goto bad_ctx;
	for (k = 0; k < nca; k++)
		if (tlsguard_ctx_add_ca(ctx, ca[k]) != 0)
			goto bad_ctx;
	if ((config && tlsguard_ctx_load_config(ctx, config) != 0) ||
	    tlsguard_ctx_set_event_callback(ctx, on_event, NULL) != 0)
		goto bad_ctx;
	/* Advice about the config (a pin set without a backup, ...). */
	for (w = 0; w < tlsguard_ctx_warning_count(ctx); w++)
		fprintf(stderr, "signin-client: %s\n", tlsguard_ctx_warning(ctx, w));

	/* 2. An ordinary GnuTLS client session, with tlsguard attached. */
	fd = tcp_connect(connect_to ? connect_to : host, port);
	if (fd < 0) {
		fprintf(stderr, "signin-client: cannot connect to %s port %s\n", connect_to ? connect_to : host, port);
		tlsguard_ctx_free(ctx);
		return 3;
	}
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&session, GNUTLS_CLIENT);
	gnutls_set_default_priority(session);
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(session, fd);
	if (tlsguard_session_attach(ctx, session, host, (unsigned)atoi(port)) != 0) {
		fprintf(stderr, "signin-client: cannot attach tlsguard\n");
		goto out;
	}
	do
		ret = gnutls_handshake(session);
	while (ret < 0 && !gnutls_error_is_fatal(ret));

	/* 3. Only an accepted server gets the password. */
	if (ret < 0) {
		if (tlsguard_session_result(session) != NULL) {
			printf("REFUSED: will not sign in to %s: its identity could not be verified.\n", host);
			status = 1;
		} else {
			fprintf(stderr, "signin-client: TLS handshake failed: %s\n", gnutls_strerror(ret));
		}
		goto out;
	}
	printf("Connection to %s verified; signing in.\n", host);
	gnutls_record_send(session, "LOGIN alice hunter2\n", 20);
	do
		ret = (int)gnutls_record_recv(session, reply, sizeof(reply) - 1);
	while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
	if (ret < 0)
		fprintf(stderr, "signin-client: no answer: %s\n", gnutls_strerror(ret));
	if (ret > 0) {
		printf("Signed in: the server acknowledged the login (%d bytes).\n", ret);
		status = 0;
	}
	gnutls_bye(session, GNUTLS_SHUT_WR);
out:
	gnutls_deinit(session);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	tlsguard_ctx_free(ctx);
	return status;

bad_ctx:
	fprintf(stderr, "signin-client: %s\n", ctx ? tlsguard_ctx_last_error(ctx) : "out of memory");
	tlsguard_ctx_free(ctx);
	return 2;
}
