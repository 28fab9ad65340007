#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "testutil.h"

const char *fixture(const char *name)
{
	static char bufs[8][4096];
	static unsigned slot;
	const char *dir = getenv("TG_DATA");
	char *b = bufs[slot++ % 8];

	if (dir == NULL)
		dir = "tests/data";
	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

unsigned char *file_load(const char *name, size_t *len)
{
	gnutls_datum_t d = {NULL, 0};
	unsigned char *out;

	if (gnutls_load_file(fixture(name), &d) < 0)
		ck_abort_msg("cannot read fixture %s (run tests/gen-fixtures.sh)", fixture(name));
	out = malloc(d.size ? d.size : 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, d.data, d.size);
	*len = d.size;
	gnutls_free(d.data);
	return out;
}

void chain_load(struct test_chain *c, const char *name)
{
	gnutls_datum_t d = {NULL, 0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;

	memset(c, 0, sizeof(*c));
	if (gnutls_load_file(fixture(name), &d) < 0)
		ck_abort_msg("cannot read fixture %s (run tests/gen-fixtures.sh)", fixture(name));
	if (gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0) < 0 || n == 0) {
		/* one DER certificate */
		c->der[0] = malloc(d.size);
		memcpy(c->der[0], d.data, d.size);
		c->len[0] = d.size;
		c->n = 1;
		gnutls_free(d.data);
		return;
	}
	gnutls_free(d.data);
	ck_assert_uint_le(n, 64);
	for (i = 0; i < n; i++) {
		gnutls_datum_t der = {NULL, 0};
		ck_assert_int_eq(gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &der), 0);
		c->der[i] = malloc(der.size);
		memcpy(c->der[i], der.data, der.size);
		c->len[i] = der.size;
		gnutls_free(der.data);
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	c->n = n;
}

void chain_free(struct test_chain *c)
{
	size_t i;
	for (i = 0; i < c->n; i++)
		free(c->der[i]);
	c->n = 0;
}

tlsguard_ctx *test_ctx(void)
{
	tlsguard_ctx *ctx = NULL;
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_msg(tlsguard_ctx_add_ca(ctx, fixture("root-ca.pem")) == 0, "add_ca: %s",
	              tlsguard_ctx_last_error(ctx));
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	return ctx;
}

tlsguard_result *verify_file(const tlsguard_ctx *ctx, const char *name, const char *host, int *rc)
{
	struct test_chain c;
	tlsguard_result *res = NULL;

	chain_load(&c, name);
	*rc = tlsguard_verify_der_chain(ctx, host, 443, (const unsigned char *const *)c.der, c.len, c.n, &res);
	chain_free(&c);
	ck_assert_msg(res != NULL, "no result for %s (rc %d)", name, *rc);
	return res;
}

void assert_verdict(const tlsguard_ctx *ctx, const char *chain, const char *host, int verdict)
{
	int rc;
	tlsguard_result *res = verify_file(ctx, chain, host, &rc);

	ck_assert_msg(rc == 0, "%s for %s: rc %d (%s)", chain, host, rc, tlsguard_strerror(rc));
	ck_assert_msg(tlsguard_result_verdict(res) == verdict, "%s for %s: verdict %d, expected %d (%zu events)", chain,
	              host, tlsguard_result_verdict(res), verdict, tlsguard_result_event_count(res));
	tlsguard_result_free(res);
}

/* ------------------------------------------------------------------ temporary directories */

/* What the tmpdir_* helpers made, oldest first, so that tmpdir_remove()
 * removes exactly that (newest first: files before their directories). */
struct made {
	char *path;
	int is_dir;
};
static struct made *made;
static size_t nmade, made_cap;

static char *path_join(const char *dir, const char *name)
{
	int n = snprintf(NULL, 0, "%s/%s", dir, name);
	char *p;

	ck_assert_int_gt(n, 0);
	p = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(p);
	snprintf(p, (size_t)n + 1, "%s/%s", dir, name);
	return p;
}

/* Record @path (taking it) unless it is known already; returns the stored
 * copy. */
static const char *made_add(char *path, int is_dir)
{
	size_t i;

	for (i = 0; i < nmade; i++) {
		if (strcmp(made[i].path, path) == 0) {
			free(path);
			return made[i].path;
		}
	}
	if (nmade == made_cap) {
		size_t cap = made_cap ? 2 * made_cap : 16;
		struct made *m = realloc(made, cap * sizeof(*m));
		ck_assert_ptr_nonnull(m);
		made = m;
		made_cap = cap;
	}
	made[nmade].path = path;
	made[nmade].is_dir = is_dir;
	return made[nmade++].path;
}

static void made_drop(size_t i)
{
	free(made[i].path);
	memmove(&made[i], &made[i + 1], (nmade - i - 1) * sizeof(made[0]));
	if (--nmade == 0) {
		free(made);
		made = NULL;
		made_cap = 0;
	}
}

char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = path_join(base != NULL && base[0] != '\0' ? base : "/tmp", "tlsguard-test-XXXXXX");

	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp(%s): %s", dir, strerror(errno));
	return dir;
}

static const char *tmpdir_write_n(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = path_join(dir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return made_add(path, 0);
}

const char *tmpdir_write(const char *dir, const char *name, const char *text)
{
	return tmpdir_write_n(dir, name, text, strlen(text));
}

const char *tmpdir_copy_fixture(const char *dir, const char *fixture_name, const char *as)
{
	size_t len;
	unsigned char *data = file_load(fixture_name, &len);
	const char *path = tmpdir_write_n(dir, as, data, len);

	free(data);
	return path;
}

const char *tmpdir_mkdir(const char *dir, const char *name)
{
	char *path = path_join(dir, name);

	ck_assert_msg(mkdir(path, 0700) == 0, "mkdir(%s): %s", path, strerror(errno));
	return made_add(path, 1);
}

void tmpdir_unlink(const char *path)
{
	size_t i;

	ck_assert_msg(unlink(path) == 0, "unlink(%s): %s", path, strerror(errno));
	for (i = 0; i < nmade; i++) {
		if (strcmp(made[i].path, path) == 0) {
			made_drop(i);
			break;
		}
	}
}

void tmpdir_remove(char *dir)
{
	size_t dlen = strlen(dir), i = nmade;

	while (i-- > 0) {
		const char *p = made[i].path;
		if (strncmp(p, dir, dlen) != 0 || p[dlen] != '/')
			continue;
		if (made[i].is_dir)
			ck_assert_msg(rmdir(p) == 0, "rmdir(%s): %s", p, strerror(errno));
		else
			ck_assert_msg(unlink(p) == 0, "unlink(%s): %s", p, strerror(errno));
		made_drop(i);
	}
	ck_assert_msg(rmdir(dir) == 0, "rmdir(%s): %s", dir, strerror(errno));
	free(dir);
}

/* ------------------------------------------------------------------ main */

int test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ------------------------------------------------------------------ gnutls-serv */

unsigned test_free_port(void)
{
	struct sockaddr_in a;
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

pid_t server_start(const char *chain, const char *key, unsigned *port, ...)
{
	const char *argv[32];
	char portbuf[16];
	int argc = 0;
	va_list ap;
	const char *extra;

	*port = test_free_port();
	snprintf(portbuf, sizeof(portbuf), "%u", *port);
	argv[argc++] = "gnutls-serv";
	argv[argc++] = "--port";
	argv[argc++] = portbuf;
	argv[argc++] = "--x509certfile";
	argv[argc++] = fixture(chain);
	argv[argc++] = "--x509keyfile";
	argv[argc++] = fixture(key);
	argv[argc++] = "--quiet";
	va_start(ap, port);
	while ((extra = va_arg(ap, const char *)) != NULL && argc < 30)
		argv[argc++] = extra;
	va_end(ap);
	argv[argc] = NULL;

	return test_spawn_server(argv, NULL, *port);
}

pid_t test_spawn_server(const char *const *argv, const char *log, unsigned port)
{
	return test_spawn_server_at(argv, log, "127.0.0.1", port);
}

void server_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* ------------------------------------------------------------------ servers on other addresses */

static int port_open_at(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, ok;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)port);
		sl = sizeof(struct sockaddr_in);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1,
		              "not a numeric address: %s", addr);
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)port);
		sl = sizeof(struct sockaddr_in6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

pid_t test_spawn_server_at(const char *const *argv, const char *log, const char *addr, unsigned port)
{
	char *args[32];
	int tries, argc;
	pid_t pid;

	for (argc = 0; argv[argc] != NULL; argc++)
		ck_assert_int_lt(argc, 31);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int k;
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		for (k = 0; k < argc; k++)
			args[k] = strdup(argv[k]);
		args[argc] = NULL;
		execvp(args[0], args);
		_exit(127);
	}
	for (tries = 0; tries < 200; tries++) {
		int status;
		struct timespec ts = {0, 50 * 1000 * 1000};
		if (port_open_at(addr, port))
			return pid;
		if (waitpid(pid, &status, WNOHANG) == pid)
			ck_abort_msg("%s exited (status %d); is it installed?", argv[0], status);
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ck_abort_msg("%s did not listen on %s port %u", argv[0], addr, port);
	return -1;
}

int test_need_tool(const char *prog, const char *tool)
{
	const char *path = getenv("PATH"), *p, *end, *ci = getenv("CI");
	char buf[4096];

	for (p = path != NULL ? path : "/usr/bin:/bin";; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p) /* an empty entry is the current directory */
			snprintf(buf, sizeof(buf), "./%s", tool);
		else
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, tool);
		if (access(buf, X_OK) == 0)
			return 0;
		if (*end == '\0')
			break;
	}
	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "%s: %s is not installed, and CI=true requires it\n", prog, tool);
		return EXIT_FAILURE;
	}
	printf("%s: SKIP: %s is not installed\n", prog, tool);
	return 77;
}
