/*
 * mt_client: many GnuTLS client handshakes from many threads in one
 * process, for tests/preload.sh (the shim's session map, lazy start-up and
 * re-entrancy guard under concurrency).
 *
 * usage: mt_client CAFILE HOST PORT GOOD_ADDR BAD_ADDR THREADS ROUNDS
 * Each thread makes ROUNDS connections, alternating GOOD_ADDR and BAD_ADDR,
 * each with SNI and verification for HOST, and sends a GET after a
 * successful handshake. Prints one line per address:
 *   good: N ok, M refused, K other errors
 * and exits 0 (the test judges the counts), 2 on a usage or setup error.
 *
 * usage: mt_client CAFILE HOST PORT GOOD_ADDR BAD_ADDR nested
 * One connection to GOOD_ADDR whose certificate-verify callback, in the
 * middle of that handshake, makes a whole connection to BAD_ADDR on the same
 * thread (as a program fetching something over HTTPS from a verify callback
 * would). Prints "nested: outer R1, inner R2" with each handshake's result
 * (ok, refused, or the error) and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *cafile, *host, *addr[2];
static unsigned port, rounds;
static gnutls_certificate_credentials_t cred;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned ok[2], refused[2], other[2];
static char first_error[2][256];
static int nested, inner_ret = 1;

static int one(int which);

/* The outer handshake's verify callback: a whole second connection. */
static int nested_cb(gnutls_session_t s)
{
	(void)s;
	inner_ret = one(1);
	return 0;
}

static int one(int which)
{
	struct sockaddr_in sa;
	gnutls_session_t s;
	char req[512], buf[4096];
	int fd, ret;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr[which], &sa.sin_addr) != 1)
		return GNUTLS_E_INTERNAL_ERROR;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return GNUTLS_E_PUSH_ERROR;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return GNUTLS_E_PUSH_ERROR;
	}
	if ((ret = gnutls_init(&s, GNUTLS_CLIENT)) < 0) {
		close(fd);
		return ret;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_session_set_verify_cert(s, host, 0);
	if (nested && which == 0)
		gnutls_session_set_verify_function(s, nested_cb);
	gnutls_transport_set_int(s, fd);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == 0) {
		snprintf(req, sizeof(req), "GET /index.html HTTP/1.0\r\nHost: %s\r\n\r\n", host);
		ret = (int)gnutls_record_send(s, req, strlen(req));
		/* AGAIN: a TLS 1.3 session ticket came instead of data. */
		while (ret >= 0 || ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			if ((ret = (int)gnutls_record_recv(s, buf, sizeof(buf))) == 0)
				break;
		if (ret == GNUTLS_E_PREMATURE_TERMINATION || ret > 0)
			ret = 0;
		gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(s);
	close(fd);
	return ret;
}

static void *worker(void *arg)
{
	unsigned i, t = (unsigned)(size_t)arg;

	for (i = 0; i < rounds; i++) {
		int which = (int)((i + t) % 2), ret = one(which);
		pthread_mutex_lock(&lock);
		if (ret == 0)
			ok[which]++;
		else if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
			refused[which]++;
		else {
			other[which]++;
			if (!first_error[which][0])
				snprintf(first_error[which], sizeof(first_error[which]), "%s", gnutls_strerror(ret));
		}
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	unsigned n = 0, i;
	int w;

	nested = argc == 7 && strcmp(argv[6], "nested") == 0;
	if (!nested && (argc != 8 || (n = (unsigned)atoi(argv[6])) == 0 || n > 64)) {
		fprintf(stderr, "usage: mt_client CAFILE HOST PORT GOOD_ADDR BAD_ADDR THREADS(1-64) ROUNDS\n"
		                "       mt_client CAFILE HOST PORT GOOD_ADDR BAD_ADDR nested\n");
		return 2;
	}
	cafile = argv[1];
	host = argv[2];
	port = (unsigned)atoi(argv[3]);
	addr[0] = argv[4];
	addr[1] = argv[5];
	rounds = nested ? 0 : (unsigned)atoi(argv[7]);
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(cred, cafile, GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "mt_client: cannot load the CA file %s\n", cafile);
		return 2;
	}
	if (nested) {
		int outer = one(0);
		printf("nested: outer %s, inner %s\n", outer == 0 ? "ok" : outer == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? "refused" : gnutls_strerror(outer),
		       inner_ret == 0 ? "ok" : inner_ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? "refused" : gnutls_strerror(inner_ret));
		gnutls_certificate_free_credentials(cred);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, worker, (void *)(size_t)i) != 0) {
			fprintf(stderr, "mt_client: cannot start thread %u: %s\n", i, strerror(errno));
			return 2;
		}
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	for (w = 0; w < 2; w++)
		printf("%s: %u ok, %u refused, %u other errors%s%s\n", w ? "bad" : "good", ok[w], refused[w], other[w],
		       first_error[w][0] ? " first: " : "", first_error[w]);
	gnutls_certificate_free_credentials(cred);
	return 0;
}
