/*
 * Host pinning through the public API: static SPKI pins (config keys "pin",
 * "include-subdomains", "pin-expires", "pin-mode" and
 * tlsguard_ctx_add_pin_set()), the pin syntaxes of tlsguard_pin_parse() /
 * tlsguard_pin_format(), load warnings, JSON reports and the report file,
 * and trust on first use with a temporary store.
 *
 * The man-in-the-middle: a client that trusts root-ca AND rogue-ca (a CA
 * that issued forged.pem, a certificate for good.example.test). Chain
 * validation accepts the forgery; a pin must not.
 *
 * Every store and report file lives in a mkdtemp() directory; the default
 * store is pointed into one too ($TLSGUARD_STORE), and TOFU tests assert it
 * was never created.
 *
 * Run: TG_DATA=$PWD/tests/data ./tests/unit/check_pin
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <tlsguard/tlsguard.h>

#include "testutil.h"

#define HOST "good.example.test"
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MALFORMED_HINT "(expected sha256/BASE64, pin-sha256=\"BASE64\" or 64 hex digits of a SHA-256)"

/* ------------------------------------------------------------------ strings */

/* Rotating static buffers: a result stays valid for the next 511 calls
 * (more than any test makes while it still needs one). */
static char *slot(void)
{
	static char bufs[512][8192];
	static unsigned n;
	return bufs[n++ % 512];
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	char *out = slot();
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, 8192, f, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && n < 8192, "fmt: string too long");
	return out;
}

/* ------------------------------------------------------------------ pins of fixtures */

static void pin_of(const char *name, unsigned char out[32])
{
	struct test_chain c;
	int rc;

	chain_load(&c, name);
	rc = tlsguard_pin_from_cert(c.der[0], c.len[0], out);
	chain_free(&c);
	ck_assert_msg(rc == 0, "pin of %s: rc %d", name, rc);
}

/* BASE64 (44 characters) of the pin of fixture @name's first certificate. */
static const char *b64(const char *name)
{
	unsigned char pin[32];
	char tmp[100];

	pin_of(name, pin);
	ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_SHA256, tmp, sizeof(tmp)), 0);
	ck_assert_uint_eq(strlen(tmp), 51);
	ck_assert(strncmp(tmp, "sha256/", 7) == 0);
	return fmt("%s", tmp + 7);
}

/* "sha256/BASE64" of fixture @name. */
static const char *spin(const char *name)
{
	return fmt("sha256/%s", b64(name));
}

/* 64 hex digits (@upper: upper case; @colons: "AB:CD:..."). */
static const char *hex_pin(const unsigned char pin[32], int upper, int colons)
{
	char *out = slot();
	size_t i, o = 0;

	for (i = 0; i < 32; i++) {
		if (colons && i)
			out[o++] = ':';
		o += (size_t)snprintf(out + o, 4, upper ? "%02X" : "%02x", pin[i]);
	}
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------------ contexts */

/* test_ctx() plus rogue-ca: the client of a man-in-the-middle scenario. */
static tlsguard_ctx *mitm_ctx(void)
{
	tlsguard_ctx *ctx = test_ctx();
	ck_assert_msg(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")) == 0, "add rogue-ca: %s",
	              tlsguard_ctx_last_error(ctx));
	return ctx;
}

/* A context without anchors at TEST_TIME: enough for load tests. */
static tlsguard_ctx *bare_ctx(void)
{
	tlsguard_ctx *ctx = NULL;
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	return ctx;
}

static void load(tlsguard_ctx *ctx, const char *text)
{
	int rc = tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "t.conf");
	ck_assert_msg(rc == 0, "config <<%s>> rejected: rc %d, '%s'", text, rc, tlsguard_ctx_last_error(ctx));
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
}

/* Loading @text as "t.conf" fails with exactly @want_rc and @want_msg. */
static void load_fails(const char *text, int want_rc, const char *want_msg)
{
	tlsguard_ctx *ctx = bare_ctx();
	int rc = tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "t.conf");

	ck_assert_msg(rc == want_rc, "config <<%s>>: rc %d, want %d ('%s')", text, rc, want_rc,
	              tlsguard_ctx_last_error(ctx));
	ck_assert_msg(strcmp(tlsguard_ctx_last_error(ctx), want_msg) == 0, "config <<%s>>:\n  got  '%s'\n  want '%s'",
	              text, tlsguard_ctx_last_error(ctx), want_msg);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	tlsguard_ctx_free(ctx);
}

static void add_pins(tlsguard_ctx *ctx, const char *host, const char *pins, unsigned flags, int64_t expires)
{
	int rc = tlsguard_ctx_add_pin_set(ctx, host, pins, flags, expires);
	ck_assert_msg(rc == 0, "add_pin_set(%s, %s): rc %d '%s'", host, pins, rc, tlsguard_ctx_last_error(ctx));
}

/* ------------------------------------------------------------------ evaluation */

/* Evaluate the concatenation of the NULL-terminated chain fixtures. */
static tlsguard_result *evalv(const tlsguard_ctx *ctx, const char *host, unsigned port, int *rc, const char *first,
                              ...) __attribute__((sentinel));
static tlsguard_result *evalv(const tlsguard_ctx *ctx, const char *host, unsigned port, int *rc, const char *first,
                              ...)
{
	const unsigned char *der[64];
	size_t len[64], n = 0, i;
	struct test_chain parts[8];
	size_t nparts = 0;
	tlsguard_result *res = NULL;
	const char *f;
	va_list ap;

	va_start(ap, first);
	for (f = first; f != NULL; f = va_arg(ap, const char *)) {
		ck_assert_uint_lt(nparts, N(parts));
		chain_load(&parts[nparts], f);
		for (i = 0; i < parts[nparts].n; i++) {
			ck_assert_uint_lt(n, 64);
			der[n] = parts[nparts].der[i];
			len[n++] = parts[nparts].len[i];
		}
		nparts++;
	}
	va_end(ap);
	*rc = tlsguard_verify_der_chain(ctx, host, port, der, len, n, &res);
	for (i = 0; i < nparts; i++)
		chain_free(&parts[i]);
	ck_assert_msg(res != NULL, "no result for %s (rc %d)", first, *rc);
	return res;
}

/* Evaluate chain fixture @chain for @host:@port; the evaluation must
 * complete (rc 0). */
static tlsguard_result *eval(const tlsguard_ctx *ctx, const char *chain, const char *host, unsigned port)
{
	int rc;
	tlsguard_result *res = evalv(ctx, host, port, &rc, chain, (const char *)NULL);
	ck_assert_msg(rc == 0, "%s for %s:%u: rc %d (%s)", chain, host, port, rc, tlsguard_strerror(rc));
	ck_assert_int_eq(tlsguard_result_error(res), 0);
	return res;
}

/* One line per event, for failure messages. */
static const char *describe(const tlsguard_result *res)
{
	char *out = slot();
	size_t i, o = 0;

	o += (size_t)snprintf(out, 8192, "verdict %d, error %d, %zu events:", tlsguard_result_verdict(res),
	                      tlsguard_result_error(res), tlsguard_result_event_count(res));
	for (i = 0; i < tlsguard_result_event_count(res) && o < 7000; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		o += (size_t)snprintf(out + o, 8192 - o, "\n  [%d %s %s] %.400s", tlsguard_event_code(ev),
		                      tlsguard_severity_name(tlsguard_event_severity(ev)), tlsguard_event_check(ev),
		                      tlsguard_event_detail(ev));
	}
	return out;
}

/* Verdict and number of events, exactly. */
static void expect(const tlsguard_result *res, int verdict, size_t nevents)
{
	ck_assert_msg(tlsguard_result_verdict(res) == verdict && tlsguard_result_event_count(res) == nevents,
	              "want verdict %d with %zu events, got %s", verdict, nevents, describe(res));
}

/* Event @i has @code, @severity, comes from @check and has @detail (NULL:
 * not compared). */
static const tlsguard_event *event_is(const tlsguard_result *res, size_t i, int code, int severity, const char *check,
                                      const char *detail)
{
	const tlsguard_event *ev = tlsguard_result_event(res, i);

	ck_assert_msg(ev != NULL, "no event %zu: %s", i, describe(res));
	ck_assert_msg(tlsguard_event_code(ev) == code && tlsguard_event_severity(ev) == severity,
	              "event %zu: want code %d severity %d, got %s", i, code, severity, describe(res));
	ck_assert_str_eq(tlsguard_event_check(ev), check);
	ck_assert_str_eq(tlsguard_event_host(ev), tlsguard_result_host(res));
	ck_assert_uint_eq(tlsguard_event_port(ev), tlsguard_result_port(res));
	ck_assert_str_eq(tlsguard_event_name(ev), tlsguard_code_name(code));
	ck_assert_ptr_nonnull(strstr(tlsguard_event_message(ev), tlsguard_result_host(res)));
	if (detail != NULL)
		ck_assert_msg(strcmp(tlsguard_event_detail(ev), detail) == 0, "event %zu detail:\n  got  '%s'\n  want '%s'", i,
		              tlsguard_event_detail(ev), detail);
	return ev;
}

/* Outcome of the check named @check. */
static int outcome(const tlsguard_result *res, const char *check)
{
	size_t i;

	for (i = 0; i < tlsguard_result_check_count(res); i++)
		if (strcmp(tlsguard_result_check_name(res, i), check) == 0)
			return tlsguard_result_check_outcome(res, i);
	ck_abort_msg("no check named %s", check);
	return -1;
}

/* Every check's outcome, "chain=0 validity=0 ...". */
static const char *outcomes(const tlsguard_result *res)
{
	char *out = slot();
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < tlsguard_result_check_count(res); i++)
		o += (size_t)snprintf(out + o, 8192 - o, "%s%s=%d", i ? " " : "", tlsguard_result_check_name(res, i),
		                      tlsguard_result_check_outcome(res, i));
	return out;
}

/* ------------------------------------------------------------------ scratch directories */

static char *scratch_new(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = strdup(fmt("%s/tlsguard-pin-XXXXXX", base != NULL && base[0] == '/' ? base : "/tmp"));

	ck_assert_ptr_nonnull(dir);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove @dir and everything below it (stores make -wal/-shm files). */
static void scratch_rm(char *dir)
{
	ck_assert_msg(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove %s: %s", dir, strerror(errno));
	free(dir);
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Whole file into a NUL-terminated buffer (caller frees); NULL if missing. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static size_t count_lines(const char *path)
{
	size_t len, i, n = 0;
	char *s = read_file(path, &len);

	if (s == NULL)
		return 0;
	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	if (len)
		ck_assert_msg(s[len - 1] == '\n', "%s does not end with a newline", path);
	free(s);
	return n;
}

/* ------------------------------------------------------------------ python (JSON validation) */

/* Run python3 @script with arguments @a1 and @a2; returns its stdout
 * (without the last newline) and asserts exit status 0. */
static const char *python(const char *script, const char *a1, const char *a2)
{
	char *dir = scratch_new(), *out = slot();
	const char *sp = fmt("%s/s.py", dir);
	FILE *p;
	size_t n;
	int status;

	write_file(sp, script, strlen(script));
	p = popen(fmt("python3 '%s' '%s' '%s' 2>&1", sp, a1, a2 ? a2 : ""), "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, 8191, p);
	out[n] = '\0';
	status = pclose(p);
	scratch_rm(dir);
	ck_assert_msg(status == 0, "python failed (status %d):\n%s", status, out);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return out;
}

/* Validate one JSON report and print what tests compare. Certificates are
 * named by the fixture whose DER they are (argv[2] = fixture directory). */
static const char report_py[] =
	"import json, os, ssl, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"assert isinstance(d, dict), 'not an object'\n"
	"keys = ['tlsguard-report', 'time', 'host', 'port', 'address', 'mode', 'pin-mode', 'tofu-mode',\n"
	"        'served-certificate-chain', 'validated-certificate-chain', 'known-pins', 'failed-checks', 'events']\n"
	"assert sorted(d) == sorted(keys), sorted(d)\n"
	"names = {}\n"
	"for f in os.listdir(sys.argv[2]):\n"
	"    if f.endswith('.der') and not f.startswith('ocsp-'):\n"
	"        names[open(os.path.join(sys.argv[2], f), 'rb').read()] = f[:-4]\n"
	"def name(pem):\n"
	"    assert pem.startswith('-----BEGIN CERTIFICATE-----\\n'), pem[:40]\n"
	"    return names.get(ssl.PEM_cert_to_DER_cert(pem), '?')\n"
	"print('version=%s host=%s port=%d address=%s mode=%s pin-mode=%s time=%s' % (d['tlsguard-report'], d['host'],\n"
	"      d['port'], d['address'], d['mode'], d['pin-mode'], d['time']))\n"
	"print('served=' + ','.join(name(p) for p in d['served-certificate-chain']))\n"
	"print('validated=' + ','.join(name(p) for p in d['validated-certificate-chain']))\n"
	"print('known-pins=' + ','.join(d['known-pins']))\n"
	"print('failed-checks=' + ','.join(d['failed-checks']))\n"
	"for e in d['events']:\n"
	"    print('event=%d %s %s %s %s: %s' % (e['code'], e['key'], e['name'], e['severity'], e['check'], e['detail']))\n";

static const char *report_summary(const char *report)
{
	char *dir;
	const char *out;

	ck_assert_ptr_nonnull(report);
	ck_assert_ptr_null(strchr(report, '\n'));
	dir = scratch_new();
	write_file(fmt("%s/r.json", dir), report, strlen(report));
	out = python(report_py, fmt("%s/r.json", dir), fixture(""));
	scratch_rm(dir);
	return out;
}

/* Validate a report file: every line a JSON report; prints the number of
 * lines and, per line, host and first event code. */
static const char lines_py[] =
	"import json, sys\n"
	"data = open(sys.argv[1], 'rb').read()\n"
	"assert data.endswith(b'\\n'), 'no final newline'\n"
	"seen = {}\n"
	"lines = data.split(b'\\n')[:-1]\n"
	"for line in lines:\n"
	"    d = json.loads(line)\n"
	"    assert d['tlsguard-report'] == '1'\n"
	"    k = '%s:%d:%d' % (d['host'], d['port'], d['events'][0]['code'])\n"
	"    seen[k] = seen.get(k, 0) + 1\n"
	"print(len(lines), ' '.join('%s=%d' % (k, seen[k]) for k in sorted(seen)))\n";

/* ------------------------------------------------------------------ the pin definition */

/* The pin is the industry's: SHA-256 of the DER SubjectPublicKeyInfo,
 * exactly what this OpenSSL pipeline (HPKP, curl --pinnedpubkey) gives. */
START_TEST(test_pin_matches_openssl)
{
	static const char *const certs[] = {"good.pem",     "int-ca.pem",  "root-ca.pem", "rogue-ca.pem",
	                                    "forged.pem",   "rotated.pem", "ec-good.pem", "ec-root-ca.pem"};
	size_t i, j;

	for (i = 0; i < N(certs); i++) {
		char line[200] = "";
		const char *want = b64(certs[i]);
		FILE *p = popen(fmt("openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform der | "
		                    "openssl dgst -sha256 -binary | base64",
		                    fixture(certs[i])),
		                "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
		ck_assert_int_eq(pclose(p), 0);
		line[strcspn(line, "\n")] = '\0';
		ck_assert_msg(strcmp(line, want) == 0, "%s: openssl says %s, tlsguard %s", certs[i], line, want);
	}
	/* The fixtures' keys are all different: the scenarios below mean
	 * what they say. */
	for (i = 0; i < N(certs); i++)
		for (j = i + 1; j < N(certs); j++)
			ck_assert_str_ne(b64(certs[i]), b64(certs[j]));
}
END_TEST

START_TEST(test_pin_from_cert_errors)
{
	unsigned char pin[32], der_pin[32];
	size_t len;
	unsigned char *pem = file_load("good.pem", &len), *der;

	/* PEM is not DER. */
	ck_assert_int_eq(tlsguard_pin_from_cert(pem, len, pin), TLSGUARD_E_CERT_PARSE);
	ck_assert_int_eq(tlsguard_pin_from_cert((const unsigned char *)"\x30\x03\x02\x01\x01", 5, pin),
	                 TLSGUARD_E_CERT_PARSE);
	ck_assert_int_eq(tlsguard_pin_from_cert(NULL, 10, pin), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_from_cert(pem, 0, pin), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_from_cert(pem, len, NULL), TLSGUARD_E_INVALID);
	free(pem);
	/* The .der file gives the same pin as the PEM loaded by the helpers. */
	der = file_load("good.der", &len);
	ck_assert_int_eq(tlsguard_pin_from_cert(der, len, der_pin), 0);
	pin_of("good.pem", pin);
	ck_assert_mem_eq(pin, der_pin, 32);
	free(der);
}
END_TEST

/* ------------------------------------------------------------------ syntaxes */

/* Every syntax of one pin: parse gives the bytes, format round-trips. */
START_TEST(test_pin_syntaxes_parse_and_format)
{
	static const char *const certs[] = {"good.pem", "ec-good.pem", "root-ca.pem"};
	size_t c, i;

	for (c = 0; c < N(certs); c++) {
		unsigned char pin[32], got[32];
		const char *b = b64(certs[c]);
		const char *texts[7];
		char out[100];

		pin_of(certs[c], pin);
		texts[0] = fmt("sha256/%s", b);
		texts[1] = fmt("sha256//%s", b);
		texts[2] = fmt("pin-sha256=\"%s\"", b);
		texts[3] = hex_pin(pin, 0, 0);
		texts[4] = hex_pin(pin, 1, 0);
		texts[5] = hex_pin(pin, 0, 1);
		texts[6] = hex_pin(pin, 1, 1);
		for (i = 0; i < N(texts); i++) {
			memset(got, 0, sizeof(got));
			ck_assert_msg(tlsguard_pin_parse(texts[i], strlen(texts[i]), got) == 0, "parse '%s'", texts[i]);
			ck_assert_mem_eq(got, pin, 32);
		}
		/* Only @len bytes are read. */
		{
			const char *longer = fmt("%s, and more", texts[0]);
			ck_assert_int_eq(tlsguard_pin_parse(longer, strlen(texts[0]), got), 0);
			ck_assert_mem_eq(got, pin, 32);
			ck_assert_int_eq(tlsguard_pin_parse(texts[0], strlen(texts[0]) + 1, got), TLSGUARD_E_INVALID);
		}

		/* format: the exact text of each syntax, and it parses back. */
		ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_SHA256, out, sizeof(out)), 0);
		ck_assert_str_eq(out, texts[0]);
		ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_CURL, out, sizeof(out)), 0);
		ck_assert_str_eq(out, texts[1]);
		ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_HPKP, out, sizeof(out)), 0);
		ck_assert_str_eq(out, texts[2]);
		ck_assert_int_eq(tlsguard_pin_format(pin, TLSGUARD_PIN_SYNTAX_HEX, out, sizeof(out)), 0);
		ck_assert_str_eq(out, texts[3]);
		for (i = TLSGUARD_PIN_SYNTAX_SHA256; i <= TLSGUARD_PIN_SYNTAX_HEX; i++) {
			ck_assert_int_eq(tlsguard_pin_format(pin, (int)i, out, sizeof(out)), 0);
			memset(got, 0, sizeof(got));
			ck_assert_int_eq(tlsguard_pin_parse(out, strlen(out), got), 0);
			ck_assert_mem_eq(got, pin, 32);
		}
	}
}
END_TEST

START_TEST(test_pin_format_limits)
{
	unsigned char pin[32];
	char out[100];
	static const struct {
		int syntax;
		size_t need; /* length + NUL */
	} cases[] = {
		{TLSGUARD_PIN_SYNTAX_SHA256, 52},
		{TLSGUARD_PIN_SYNTAX_CURL, 53},
		{TLSGUARD_PIN_SYNTAX_HPKP, 58},
		{TLSGUARD_PIN_SYNTAX_HEX, 65},
	};
	size_t i;

	pin_of("good.pem", pin);
	for (i = 0; i < N(cases); i++) {
		ck_assert_int_eq(tlsguard_pin_format(pin, cases[i].syntax, out, cases[i].need), 0);
		ck_assert_uint_eq(strlen(out), cases[i].need - 1);
		ck_assert_int_eq(tlsguard_pin_format(pin, cases[i].syntax, out, cases[i].need - 1), TLSGUARD_E_RANGE);
		ck_assert_int_eq(tlsguard_pin_format(pin, cases[i].syntax, out, 0), TLSGUARD_E_RANGE);
	}
	ck_assert_int_eq(tlsguard_pin_format(pin, 4, out, sizeof(out)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_format(pin, -1, out, sizeof(out)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_format(NULL, 0, out, sizeof(out)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_format(pin, 0, NULL, sizeof(out)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_parse(NULL, 0, pin), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_parse("x", 0, pin), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_pin_parse(spin("good.pem"), 51, NULL), TLSGUARD_E_INVALID);
}
END_TEST

/* Malformed pins, built from a real one. None contains a separator, so the
 * same text is one malformed pin for the parser, the config and the API. */
static const char *malformed(int i)
{
	unsigned char pin[32];
	const char *b = b64("good.pem");
	char *t = slot();
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *v;

	pin_of("good.pem", pin);
	switch (i) {
	case 0: /* a character outside base64 */
		snprintf(t, 8192, "sha256/%s", b);
		t[7 + 5] = '!';
		return t;
	case 1: /* base64url is not base64 */
		snprintf(t, 8192, "sha256/%s", b);
		t[7 + 3] = '-';
		return t;
	case 2: /* 43 characters: no padding */
		snprintf(t, 8192, "sha256/%.43s", b);
		return t;
	case 3: /* 45 characters */
		snprintf(t, 8192, "sha256/%s=", b);
		return t;
	case 4: /* base64 of 33 bytes (44 characters, no padding) */
		return "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	case 5: /* 63 hex digits */
		snprintf(t, 8192, "%.63s", hex_pin(pin, 0, 0));
		return t;
	case 6: /* 65 hex digits */
		snprintf(t, 8192, "%s0", hex_pin(pin, 0, 0));
		return t;
	case 7: /* not a hex digit */
		snprintf(t, 8192, "%s", hex_pin(pin, 0, 0));
		t[10] = 'g';
		return t;
	case 8: /* colons in the wrong places (95 characters) */
		snprintf(t, 8192, "%s", hex_pin(pin, 0, 1));
		t[2] = t[3];
		t[3] = ':';
		return t;
	case 9: /* no "sha256/" prefix */
		return b;
	case 10: /* another hash */
		snprintf(t, 8192, "sha1/%s", b);
		return t;
	case 11: /* HPKP without quotes */
		snprintf(t, 8192, "pin-sha256=%s", b);
		return t;
	case 12: /* HPKP without the closing quote */
		snprintf(t, 8192, "pin-sha256=\"%s", b);
		return t;
	case 13: /* non-canonical: the unused low bits of the last character set */
		snprintf(t, 8192, "sha256/%s", b);
		v = strchr(alphabet, t[7 + 42]);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq((v - alphabet) & 3, 0);
		t[7 + 42] = alphabet[(v - alphabet) | 1];
		return t;
	case 14: /* prefix only */
		return "sha256/";
	case 15: /* upper-case prefix */
		snprintf(t, 8192, "SHA256/%s", b);
		return t;
	default:
		ck_abort_msg("no malformed case %d", i);
		return "";
	}
}
#define N_MALFORMED 16

START_TEST(test_malformed_pin_parse)
{
	unsigned char out[32];
	const char *t = malformed(_i);

	ck_assert_msg(tlsguard_pin_parse(t, strlen(t), out) == TLSGUARD_E_INVALID, "'%s' parsed", t);
}
END_TEST

START_TEST(test_malformed_pin_config)
{
	const char *t = malformed(_i);

	/* The bad pin after a good one on the same line, and on line 3 after
	 * a good line: the message names the line and the bad pin. */
	load_fails(fmt("[good.example.test]\npin = %s\n", t), TLSGUARD_E_CONFIG,
	           fmt("t.conf:2: pin: malformed pin '%.80s' " MALFORMED_HINT, t));
	load_fails(fmt("[good.example.test]\npin = %s\npin = %s, %s\n", spin("rotated.pem"), spin("good.pem"), t),
	           TLSGUARD_E_CONFIG, fmt("t.conf:3: pin: malformed pin '%.80s' " MALFORMED_HINT, t));
}
END_TEST

START_TEST(test_malformed_pin_api)
{
	tlsguard_ctx *ctx = mitm_ctx();
	const char *t = malformed(_i);
	tlsguard_result *res;

	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, fmt("%s, %s", spin("forged.pem"), t), 0, 0),
	                 TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), fmt("malformed pin '%.80s' " MALFORMED_HINT, t));
	/* The earlier pin set is still in force, unchanged. */
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", NULL);
	ck_assert_ptr_nonnull(strstr(tlsguard_event_detail(tlsguard_result_event(res, 0)),
	                             fmt("expected one of: %s, %s;", spin("good.pem"), spin("rotated.pem"))));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The pin lines of a config with the good leaf's pin in every syntax; the
 * last one carries several pins, separated by commas and white space. */
static const char *syntax_config(int i)
{
	unsigned char pin[32];
	const char *b = b64("good.pem"), *r = spin("rotated.pem");

	pin_of("good.pem", pin);
	switch (i) {
	case 0: return fmt("pin = sha256/%s\npin = %s\n", b, r);
	case 1: return fmt("pin = sha256//%s\npin = %s\n", b, r);
	case 2: return fmt("pin = pin-sha256=\"%s\"\npin = %s\n", b, r);
	case 3: return fmt("pin = %s\npin = %s\n", hex_pin(pin, 0, 0), r);
	case 4: return fmt("pin = %s\npin = %s\n", hex_pin(pin, 1, 0), r);
	case 5: return fmt("pin = %s\npin = %s\n", hex_pin(pin, 0, 1), r);
	case 6: return fmt("pin = %s\npin = %s\n", hex_pin(pin, 1, 1), r);
	case 7: return fmt("pin = \"sha256/%s\"\npin = %s\n", b, r); /* a quoted value */
	case 8: return fmt("pin = %s,pin-sha256=\"%s\"\n", r, b);
	case 9: return fmt("pin = %s , \t sha256//%s,\n", r, b);
	case 10: return fmt("pin = %s %s\n", r, hex_pin(pin, 1, 1));
	default: ck_abort_msg("no syntax case %d", i); return "";
	}
}
#define N_SYNTAX_CONFIG 11

/* Each syntax in a config: the forged chain is rejected naming exactly the
 * two pins (in the order given), the genuine one accepted, no warnings. */
START_TEST(test_pin_syntax_config)
{
	tlsguard_ctx *ctx = mitm_ctx();
	tlsguard_result *res;
	const char *want_pins;

	load(ctx, fmt("[good.example.test]\n%s", syntax_config(_i)));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	want_pins = _i >= 8 ? fmt("%s, %s", spin("rotated.pem"), spin("good.pem"))
	                    : fmt("%s, %s", spin("good.pem"), spin("rotated.pem"));
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "pin"), TLSGUARD_CHECK_PASS);
	tlsguard_result_free(res);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin",
	         fmt("no key of the chain is pinned for good.example.test; expected one of: %s; chain keys: [0] %s, "
	             "anchor %s",
	             want_pins, spin("forged.pem"), spin("rogue-ca.pem")));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Every syntax in one tlsguard_ctx_add_pin_set() call; duplicates (the same
 * key in several syntaxes) count once. */
START_TEST(test_pin_syntax_api)
{
	tlsguard_ctx *ctx = mitm_ctx();
	unsigned char pin[32];
	tlsguard_result *res;
	const char *b = b64("int-ca.pem");

	pin_of("int-ca.pem", pin);
	add_pins(ctx, HOST,
	         fmt("sha256/%s,sha256//%s pin-sha256=\"%s\"\t%s, %s %s,%s , %s", b, b, b, hex_pin(pin, 0, 0),
	             hex_pin(pin, 1, 0), hex_pin(pin, 0, 1), hex_pin(pin, 1, 1), spin("rotated.pem")),
	         0, 0);
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin",
	         fmt("no key of the chain is pinned for good.example.test; expected one of: sha256/%s, %s; chain keys: "
	             "[0] %s, anchor %s",
	             b, spin("rotated.pem"), spin("forged.pem"), spin("rogue-ca.pem")));
	tlsguard_result_free(res);
	/* The config warns about a set whose pins are all one key. */
	tlsguard_ctx_free(ctx);
	ctx = bare_ctx();
	load(ctx, fmt("[good.example.test]\npin = sha256/%s %s\n", b, hex_pin(pin, 1, 1)));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ the man in the middle */

/* Without pins, a client trusting rogue-ca accepts the forgery: that is
 * the attack pins defend against. */
START_TEST(test_mitm_without_pins)
{
	tlsguard_ctx *ctx = mitm_ctx();
	static const char *const chains[] = {"good-chain.pem", "forged-chain.pem"};
	size_t i;

	for (i = 0; i < N(chains); i++) {
		tlsguard_result *res = eval(ctx, chains[i], HOST, 443);
		expect(res, TLSGUARD_ACCEPT, 0);
		ck_assert_str_eq(outcomes(res), "chain=0 validity=0 hostname=0 eku=0 crypto=0 ocsp=2 pin=2 tofu=2 ct=2 webpki=0 consistency=2");
		ck_assert_ptr_null(tlsguard_result_report(res));
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Pin targets: 0 the leaf, 1 the intermediate, 2 the root (trust anchor,
 * not sent by the server); each with a backup pin (the key the site will
 * rotate to). Loop index 0..2 by config, 3..5 by the API. */
static const char *const pin_targets[] = {"good.pem", "int-ca.pem", "root-ca.pem"};

static tlsguard_ctx *pinned_mitm_ctx(int i, int report_only)
{
	tlsguard_ctx *ctx = mitm_ctx();
	const char *target = pin_targets[i % 3];

	if (i < 3)
		load(ctx, fmt("[good.example.test]\npin = %s\npin = %s\n%s", spin(target), spin("rotated.pem"),
		              report_only ? "pin-mode = report-only\n" : ""));
	else
		add_pins(ctx, HOST, fmt("%s, %s", spin(target), spin("rotated.pem")),
		         report_only ? TLSGUARD_PIN_REPORT_ONLY : 0, 0);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	return ctx;
}

static const char *mismatch_detail(const char *target, int report_only)
{
	return fmt("no key of the chain is pinned for good.example.test%s; expected one of: %s, %s; chain keys: [0] %s, "
	           "anchor %s",
	           report_only ? " (report-only)" : "", spin(target), spin("rotated.pem"), spin("forged.pem"),
	           spin("rogue-ca.pem"));
}

START_TEST(test_mitm_pinned)
{
	tlsguard_ctx *ctx = pinned_mitm_ctx(_i, 0);
	const char *target = pin_targets[_i % 3];
	const tlsguard_event *ev;
	tlsguard_result *res;
	int rc;

	/* The genuine server passes, with or without the root in its chain. */
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_str_eq(outcomes(res), "chain=0 validity=0 hostname=0 eku=0 crypto=0 ocsp=2 pin=0 tofu=2 ct=2 webpki=0 consistency=2");
	ck_assert_ptr_null(tlsguard_result_report(res));
	tlsguard_result_free(res);
	res = eval(ctx, "good-fullchain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);

	/* The forgery: every other check passes; the pin check alone rejects. */
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", mismatch_detail(target, 0));
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN");
	ck_assert_int_eq(tlsguard_event_cert_index(ev), -1);
	ck_assert_int_eq(tlsguard_event_overridable(ev), 0);
	ck_assert_str_eq(outcomes(res), "chain=0 validity=0 hostname=0 eku=0 crypto=0 ocsp=2 pin=1 tofu=2 ct=2 webpki=0 consistency=2");
	ck_assert_ptr_nonnull(tlsguard_result_report(res));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	tlsguard_result_free(res);

	/* The attacker appends the genuine intermediate and root: they are not
	 * on the validated path (forged -> rogue-ca), so they do not count. */
	res = evalv(ctx, HOST, 443, &rc, "forged-chain.pem", "int-ca.pem", "root-ca.pem", (const char *)NULL);
	ck_assert_int_eq(rc, 0);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", mismatch_detail(target, 0));
	tlsguard_result_free(res);

	/* A legitimate rotation to the backup key passes (leaf pins), or
	 * passes through the same intermediate/root. */
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* An attacker's leaf that names the pinned certificate as its issuer but is
 * signed with the attacker's own key, served together with a public copy of
 * the pinned certificate. */
static void forge_leaf(const char *issuer_dn, gnutls_datum_t *out)
{
	gnutls_x509_privkey_t key;
	gnutls_privkey_t pkey;
	gnutls_x509_crt_t crt, fake_issuer;
	unsigned char serial = 7;

	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_eq(gnutls_privkey_init(&pkey), 0);
	ck_assert_int_eq(gnutls_privkey_import_x509(pkey, key, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&fake_issuer), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(fake_issuer, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn(fake_issuer, issuer_dn, NULL), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(fake_issuer, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, &serial, 1), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn(crt, "CN=good.example.test", NULL), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, 1577836800), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, 2366841600), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, HOST, strlen(HOST),
	                                                      GNUTLS_FSAN_SET), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_privkey_sign(crt, fake_issuer, pkey, GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, out), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(fake_issuer);
	gnutls_privkey_deinit(pkey);
	gnutls_x509_privkey_deinit(key);
}

static int override_all(const tlsguard_event *ev, void *ud)
{
	(void)ud;
	return tlsguard_event_overridable(ev) ? TLSGUARD_DECISION_OVERRIDE : TLSGUARD_DECISION_DEFAULT;
}

/* Regression (review finding): on an untrusted chain GnuTLS stops at "signer
 * not found" without checking the links below, so a pinned certificate the
 * attacker merely appended must never satisfy the pin. */
START_TEST(test_pin_needs_signature_link)
{
	tlsguard_ctx *ctx = test_ctx();
	gnutls_datum_t forged = {NULL, 0};
	struct test_chain ss;
	const unsigned char *der[2];
	size_t len[2];
	tlsguard_result *res = NULL;
	int rc;

	load(ctx, "mode = interactive\noverridable = untrusted-issuer\n");
	add_pins(ctx, HOST, spin("selfsigned.pem"), 0, 0);
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, override_all, NULL), 0);
	chain_load(&ss, "selfsigned.pem");
	/* The genuine pinned self-signed server: accepted by the app's override. */
	rc = tlsguard_verify_der_chain(ctx, HOST, 443, (const unsigned char *const *)ss.der, ss.len, 1, &res);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	/* The impostor: its leaf plus a copy of the pinned certificate. */
	forge_leaf("CN=good.example.test,O=tlsguard tests", &forged);
	der[0] = forged.data;
	len[0] = forged.size;
	der[1] = ss.der[0];
	len[1] = ss.len[0];
	rc = tlsguard_verify_der_chain(ctx, HOST, 443, der, len, 2, &res);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(tlsguard_result_has_event(res, TLSGUARD_EV_PIN_MISMATCH), "%s", describe(res));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	gnutls_free(forged.data);
	chain_free(&ss);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* Regression: one spelling per IPv6 address for sections and pins. */
START_TEST(test_ipv6_spellings_share_a_section)
{
	tlsguard_ctx *ctx = test_ctx();
	static const char *const spellings[] = {"::1", "0:0:0:0:0:0:0:1", "[0::1]", "0000::0001"};
	size_t i;

	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	load(ctx, fmt("[0:0::1]\npin = %s\npin = %s\n", spin("good.pem"), spin("int-ca.pem")));
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		tlsguard_result *res = eval(ctx, "forged-chain.pem", spellings[i], 443);
		ck_assert_msg(tlsguard_result_has_event(res, TLSGUARD_EV_PIN_MISMATCH), "%s: %s", spellings[i],
		              describe(res));
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		tlsguard_result_free(res);
	}
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_mitm_report_only)
{
	tlsguard_ctx *ctx = pinned_mitm_ctx(_i, 1);
	const char *target = pin_targets[_i % 3];
	const tlsguard_event *ev;
	tlsguard_result *res;

	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_ptr_null(tlsguard_result_report(res));
	tlsguard_result_free(res);

	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_WARNING, "pin", mismatch_detail(target, 1));
	ck_assert_int_eq(outcome(res, "pin"), TLSGUARD_CHECK_FAIL);
	ck_assert_ptr_nonnull(tlsguard_result_report(res));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	ck_assert_str_eq(report_summary(tlsguard_result_report(res)),
	                 fmt("version=1 host=good.example.test port=443 address=None mode=enforce pin-mode=report-only "
	                     "time=2026-06-01T00:00:00Z\n"
	                     "served=forged\n"
	                     "validated=forged,rogue-ca\n"
	                     "known-pins=pin-sha256=\"%s\",pin-sha256=\"%s\"\n"
	                     "failed-checks=pin\n"
	                     "event=32 pin-mismatch ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN warning pin: %s",
	                     b64(target), b64("rotated.pem"), mismatch_detail(target, 1)));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ which section applies */

/* What the pin check made of @host with chain @chain: "skip" (no pins
 * apply), "pass", or the expected pins of the mismatch. */
static const char *pin_view(const tlsguard_ctx *ctx, const char *chain, const char *host)
{
	tlsguard_result *res = eval(ctx, chain, host, 443);
	const char *out = NULL, *d, *s, *e;
	size_t i;

	switch (outcome(res, "pin")) {
	case TLSGUARD_CHECK_SKIP:
		out = "skip";
		break;
	case TLSGUARD_CHECK_PASS:
		out = "pass";
		break;
	case TLSGUARD_CHECK_FAIL:
		for (i = 0; i < tlsguard_result_event_count(res); i++)
			if (tlsguard_event_code(tlsguard_result_event(res, i)) == TLSGUARD_EV_PIN_MISMATCH)
				break;
		ck_assert_msg(i < tlsguard_result_event_count(res), "%s", describe(res));
		d = tlsguard_event_detail(tlsguard_result_event(res, i));
		s = strstr(d, "expected one of: ");
		e = strstr(d, "; chain keys:");
		ck_assert_msg(s != NULL && e != NULL && e > s, "%s", d);
		s += strlen("expected one of: ");
		out = fmt("%.*s", (int)(e - s), s);
		ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
		break;
	default:
		ck_abort_msg("pin check outcome %d: %s", outcome(res, "pin"), describe(res));
	}
	tlsguard_result_free(res);
	return out;
}

/* Three pin sets that match none of the chains used here. */
static const char *P1(void) { return fmt("%s, %s", spin("forged.pem"), spin("rogue-ca.pem")); }
static const char *P2(void) { return fmt("%s, %s", spin("rotated.pem"), spin("other-root-ca.pem")); }
static const char *P3(void) { return fmt("%s, %s", spin("expired.pem"), spin("wronghost.pem")); }

START_TEST(test_include_subdomains)
{
	tlsguard_ctx *ctx = test_ctx();

	load(ctx, fmt("[good.example.test]\ninclude-subdomains = yes\npin = %s\n", P2()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "good.example.test"), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "a.b.good.example.test"), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "WWW.Good.Example.Test."), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.test"), "skip");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "xgood.example.test"), "skip");
	tlsguard_ctx_free(ctx);

	/* Without it (absent or "no"), only the name itself. */
	ctx = test_ctx();
	load(ctx, fmt("[Good.Example.Test]\npin = %s\n", P2()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "GOOD.example.test."), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), "skip");
	assert_verdict(ctx, "good-chain.pem", "www.good.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	load(ctx, fmt("[good.example.test]\ninclude-subdomains = no\npin = %s\n", P2()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), "skip");
	tlsguard_ctx_free(ctx);

	/* The same through the API. */
	ctx = test_ctx();
	add_pins(ctx, HOST, P2(), TLSGUARD_PIN_INCLUDE_SUBDOMAINS, 0);
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P2());
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	add_pins(ctx, HOST, P2(), 0, 0);
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), "skip");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", HOST), P2());
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_wildcard_section)
{
	tlsguard_ctx *ctx = test_ctx();

	load(ctx, fmt("[*.example.test]\npin = %s\n", P3()));
	ck_assert_str_eq(pin_view(ctx, "wildcard-chain.pem", "a.wild.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "a.b.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "good.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.test"), "skip");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.org"), "skip");
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	add_pins(ctx, "*.example.test", P3(), 0, 0);
	ck_assert_str_eq(pin_view(ctx, "wildcard-chain.pem", "a.wild.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.test"), "skip");
	tlsguard_ctx_free(ctx);

	/* Pinned to the right key, the wildcard section accepts. */
	ctx = test_ctx();
	add_pins(ctx, "*.example.test", fmt("%s %s", spin("int-ca.pem"), spin("rotated.pem")), 0, 0);
	ck_assert_str_eq(pin_view(ctx, "wildcard-chain.pem", "a.wild.example.test"), "pass");
	assert_verdict(ctx, "wildcard-chain.pem", "a.wild.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The most specific section wins: exact, then walking up the labels the
 * first "*.suffix" or "suffix" with include-subdomains. */
START_TEST(test_section_precedence)
{
	const char *exact = fmt("[www.good.example.test]\npin = %s\n", P1());
	const char *parent = fmt("[good.example.test]\ninclude-subdomains = yes\npin = %s\n", P2());
	const char *parent_no = fmt("[good.example.test]\npin = %s\n", P2());
	const char *wild = fmt("[*.example.test]\npin = %s\n", P3());
	tlsguard_ctx *ctx;

	/* Section order in the file does not matter. */
	ctx = test_ctx();
	load(ctx, fmt("%s%s%s", wild, parent, exact));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P1());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "good.example.test"), P2());
	/* An exact section without include-subdomains does not cover names
	 * below it; the parent's does. */
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "x.www.good.example.test"), P2());
	ck_assert_str_eq(pin_view(ctx, "wildcard-chain.pem", "a.wild.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.test"), "skip");
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	load(ctx, fmt("%s%s", exact, parent));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P1());
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	load(ctx, fmt("%s%s", parent, wild));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P2());
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	load(ctx, fmt("%s%s", parent_no, wild));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P3());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "good.example.test"), P2());
	tlsguard_ctx_free(ctx);

	/* A wildcard of a longer suffix beats include-subdomains of a
	 * shorter one. */
	ctx = test_ctx();
	load(ctx, fmt("[example.test]\ninclude-subdomains = yes\npin = %s\n[*.good.example.test]\npin = %s\n", P2(), P1()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P1());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "good.example.test"), P2());
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "example.test"), P2());
	tlsguard_ctx_free(ctx);

	/* A more specific section without pins of its own keeps the pins of
	 * the nearest covering section that has some: pins are never dropped
	 * by a section that only tunes another key. Its own pins replace them. */
	ctx = test_ctx();
	load(ctx, fmt("%s[www.good.example.test]\nmin-rsa-bits = 2048\n", wild));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P3());
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	load(ctx, fmt("%s[www.good.example.test]\npin = %s\n", wild, P1()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "www.good.example.test"), P1());
	tlsguard_ctx_free(ctx);
}
END_TEST

/* An address literal matches only its own section: its octets are not
 * labels of a domain. */
START_TEST(test_ip_literal_sections)
{
	tlsguard_ctx *ctx = test_ctx();

	load(ctx, fmt("[*.0.1]\npin = %s\n[0.0.1]\ninclude-subdomains = yes\npin = %s\n[*.0.0.1]\npin = %s\n", P1(),
	              P2(), P3()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "127.0.0.1"), "skip");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "::ffff:127.0.0.1"), "skip");
	assert_verdict(ctx, "good-chain.pem", "127.0.0.1", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);

	ctx = mitm_ctx();
	load(ctx, fmt("[127.0.0.1]\npin = %s, %s\n[::1]\npin = %s, %s\n", spin("good.pem"), spin("rotated.pem"),
	              spin("int-ca.pem"), spin("rotated.pem")));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "127.0.0.1"), "pass");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", "::1"), "pass");
	ck_assert_str_eq(pin_view(ctx, "forged-chain.pem", "127.0.0.1"), fmt("%s, %s", spin("good.pem"), spin("rotated.pem")));
	ck_assert_str_eq(pin_view(ctx, "forged-chain.pem", "[::1]"), fmt("%s, %s", spin("int-ca.pem"), spin("rotated.pem")));
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A later load that gives pins for a section replaces its set; one that
 * reopens the section without pins keeps it. */
START_TEST(test_pins_across_loads)
{
	tlsguard_ctx *ctx = test_ctx();

	load(ctx, fmt("[good.example.test]\npin = %s\n", P1()));
	load(ctx, "[good.example.test]\nmin-rsa-bits = 2048\n");
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", HOST), P1());
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	load(ctx, fmt("[good.example.test]\npin = %s\n", P1()));
	load(ctx, fmt("[good.example.test]\npin = %s\n", P2()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", HOST), P2());
	tlsguard_ctx_free(ctx);

	/* The API replaces a config's set, and a config the API's. */
	ctx = test_ctx();
	load(ctx, fmt("[good.example.test]\npin = %s\n", P1()));
	add_pins(ctx, HOST, P3(), 0, 0);
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", HOST), P3());
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	add_pins(ctx, HOST, P3(), 0, 0);
	load(ctx, fmt("[good.example.test]\npin = %s\n", P2()));
	ck_assert_str_eq(pin_view(ctx, "good-chain.pem", HOST), P2());
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_section_errors)
{
	load_fails(fmt("[*.example.test]\ninclude-subdomains = yes\npin = %s\n", P1()), TLSGUARD_E_CONFIG,
	           "t.conf:2: include-subdomains: a [*.suffix] section already covers every name under suffix");
	load_fails("[good.example.test]\ninclude-subdomains = maybe\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: include-subdomains: expected yes or no, got 'maybe'");
	load_fails("[good.example.test]\ninclude-subdomains = yes\ninclude-subdomains = yes\n", TLSGUARD_E_CONFIG,
	           "t.conf:3: include-subdomains given twice in this section");
	/* Host-only keys in [default] (explicit, or before any header). */
	load_fails(fmt("[default]\npin = %s\n", P1()), TLSGUARD_E_CONFIG, "t.conf:2: pin is only allowed in host sections");
	load_fails(fmt("pin = %s\n[good.example.test]\n", P1()), TLSGUARD_E_CONFIG,
	           "t.conf:1: pin is only allowed in host sections");
	load_fails("[default]\ninclude-subdomains = yes\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: include-subdomains is only allowed in host sections");
	load_fails("pin-expires = 2030-01-01\n", TLSGUARD_E_CONFIG, "t.conf:1: pin-expires is only allowed in host sections");
	/* [default]-only keys in a host section. */
	load_fails("[good.example.test]\nstore = /tmp/x.db\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: store is only allowed in [default]");
	load_fails("[good.example.test]\nreport-file = /tmp/x.jsonl\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: report-file is only allowed in [default]");
	load_fails("[good.example.test]\npin =\n", TLSGUARD_E_CONFIG, "t.conf:2: pin: empty value");
	load_fails("[good.example.test]\npin = ,\n", TLSGUARD_E_CONFIG, "t.conf:2: pin: no pin given");
	load_fails(fmt("[good.example.test]\npin = %s\npin = \" , \"\n", P1()), TLSGUARD_E_CONFIG,
	           "t.conf:3: pin: no pin given");
	load_fails("[good.example.test]\npin-mode = strict\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: pin-mode: expected enforce or report-only, got 'strict'");
	load_fails("[good.example.test]\ntofu = sometimes\n", TLSGUARD_E_CONFIG,
	           "t.conf:2: tofu: expected yes or no, got 'sometimes'");

	/* include-subdomains = no is harmless in a wildcard section; the API
	 * refuses the flag for one. */
	{
		tlsguard_ctx *ctx = bare_ctx();
		load(ctx, fmt("[*.example.test]\ninclude-subdomains = no\npin = %s\n", P1()));
		ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, "*.example.org", P1(), TLSGUARD_PIN_INCLUDE_SUBDOMAINS, 0),
		                 TLSGUARD_E_INVALID);
		ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "include-subdomains makes no sense for *.example.org");
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

/* ------------------------------------------------------------------ expiry */

START_TEST(test_pin_expired)
{
	static const struct {
		const char *value;
		const char *when;
	} past[] = {
		{"2026-05-31", "2026-05-31 00:00:00 UTC"},
		{"2026-05-31T23:59:59Z", "2026-05-31 23:59:59 UTC"},
		{"2020-02-29T12:00:00Z", "2020-02-29 12:00:00 UTC"},
	};
	size_t i;

	for (i = 0; i < N(past); i++) {
		tlsguard_ctx *ctx = mitm_ctx();
		tlsguard_result *res;
		static const char *const chains[] = {"forged-chain.pem", "good-chain.pem"};
		size_t c;

		load(ctx, fmt("# pins\n[good.example.test]\npin = %s\npin = %s\npin-expires = %s\n", spin("good.pem"),
		              spin("rotated.pem"), past[i].value));
		ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
		ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0),
		                 fmt("t.conf:3: warning: the pins of [good.example.test] expired at %s and are not enforced",
		                     past[i].when));
		for (c = 0; c < N(chains); c++) {
			res = eval(ctx, chains[c], HOST, 443);
			expect(res, TLSGUARD_ACCEPT, 1);
			event_is(res, 0, TLSGUARD_EV_PIN_EXPIRED, TLSGUARD_SEV_INFO, "pin",
			         fmt("the pins for good.example.test expired at %s and were not enforced", past[i].when));
			ck_assert_str_eq(tlsguard_event_name(tlsguard_result_event(res, 0)), "TLSGUARD_PIN_SET_EXPIRED");
			ck_assert_int_eq(outcome(res, "pin"), TLSGUARD_CHECK_SKIP);
			ck_assert_ptr_null(tlsguard_result_report(res));
			tlsguard_result_free(res);
		}
		tlsguard_ctx_free(ctx);
	}
	ck_assert_str_eq(tlsguard_code_key(TLSGUARD_EV_PIN_EXPIRED), "pin-expired");
}
END_TEST

START_TEST(test_pin_not_yet_expired)
{
	/* In the future, or exactly now: enforced, and no warning. */
	static const char *const future[] = {"2026-06-02", "2026-06-01T00:00:01Z", "2026-06-01T00:00:00Z",
	                                     "2026-06-01 00:00:00"};
	size_t i;

	for (i = 0; i < N(future); i++) {
		tlsguard_ctx *ctx = mitm_ctx();
		tlsguard_result *res;

		load(ctx, fmt("[good.example.test]\npin-expires = %s\npin = %s, %s\n", future[i], spin("good.pem"),
		              spin("rotated.pem")));
		ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
		res = eval(ctx, "forged-chain.pem", HOST, 443);
		expect(res, TLSGUARD_REJECT, 1);
		event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", mismatch_detail("good.pem", 0));
		tlsguard_result_free(res);
		assert_verdict(ctx, "good-chain.pem", HOST, TLSGUARD_ACCEPT);
		tlsguard_ctx_free(ctx);
	}
}
END_TEST

START_TEST(test_pin_expiry_api)
{
	tlsguard_ctx *ctx = mitm_ctx();
	tlsguard_result *res;

	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, TEST_TIME - 1);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_EXPIRED, TLSGUARD_SEV_INFO, "pin",
	         "the pins for good.example.test expired at 2026-05-31 23:59:59 UTC and were not enforced");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = mitm_ctx();
	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, TEST_TIME);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", mismatch_detail("good.pem", 0));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_pin_expires_bad_dates)
{
	static const char *const bad[] = {
		"yesterday",          "2026-13-01",           "2026-00-10",           "2026-02-30",
		"2025-02-29",         "2026-04-31",           "2026-06-01T24:00:00Z", "2026-06-01T12:00",
		"2026-06-01Z",        "2026-06-01T00:00:00+02:00", "1969-12-31",      "2026-06-01x",
		"20260601",
	};
	size_t i;

	for (i = 0; i < N(bad); i++)
		load_fails(fmt("[good.example.test]\npin = %s, %s\npin-expires = %s\n", spin("good.pem"), spin("rotated.pem"),
		               bad[i]),
		           TLSGUARD_E_CONFIG,
		           fmt("t.conf:3: pin-expires: expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '%s'", bad[i]));
	load_fails(fmt("[good.example.test]\npin = %s, %s\npin-expires = 2030-01-01\npin-expires = 2031-01-01\n",
	               spin("good.pem"), spin("rotated.pem")),
	           TLSGUARD_E_CONFIG, "t.conf:4: pin-expires given twice in this section");
}
END_TEST

/* ------------------------------------------------------------------ load warnings */

static const char single_pin_warning[] =
	"%s:%u: warning: [%s] has a single pin and no backup: if that key is lost or rotated, clients are locked out; "
	"add a pin for a backup key";

START_TEST(test_backup_pin_warning)
{
	tlsguard_ctx *ctx;
	char *dir;
	const char *path;

	/* One pin: exactly one warning naming file:line and the section. */
	ctx = bare_ctx();
	load(ctx, fmt("# site pins\n\n[good.example.test]\npin = %s\n", spin("good.pem")));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), fmt(single_pin_warning, "t.conf", 4u, HOST));
	ck_assert_ptr_null(tlsguard_ctx_warning(ctx, 1));
	tlsguard_ctx_free(ctx);

	/* Two pins, on one line or two: none. */
	ctx = bare_ctx();
	load(ctx, fmt("[good.example.test]\npin = %s %s\n[*.example.test]\npin = %s\npin = %s\n", spin("good.pem"),
	              spin("rotated.pem"), spin("int-ca.pem"), spin("root-ca.pem")));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	ck_assert_ptr_null(tlsguard_ctx_warning(ctx, 0));
	tlsguard_ctx_free(ctx);

	/* The same key twice is one pin. */
	ctx = bare_ctx();
	load(ctx, fmt("[good.example.test]\npin = %s, sha256//%s\n", spin("good.pem"), b64("good.pem")));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), fmt(single_pin_warning, "t.conf", 2u, HOST));
	tlsguard_ctx_free(ctx);

	/* Two sections with one pin each: two warnings, in file order; a
	 * single expired pin gets both warnings. */
	ctx = bare_ctx();
	load(ctx, fmt("[*.example.test]\npin = %s\n[good.example.test]\npin-expires = 2026-01-01\npin = %s\n",
	              spin("int-ca.pem"), spin("good.pem")));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 3);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), fmt(single_pin_warning, "t.conf", 2u, "*.example.test"));
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 1), fmt(single_pin_warning, "t.conf", 5u, HOST));
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 2),
	                 "t.conf:5: warning: the pins of [good.example.test] expired at 2026-01-01 00:00:00 UTC and are "
	                 "not enforced");
	tlsguard_ctx_free(ctx);

	/* A failed load adds no warning. */
	ctx = bare_ctx();
	{
		const char *bad1 = "[a.example.test]\npin = x\n";
		const char *bad2 = fmt("[good.example.test]\npin = %s\nbogus = 1\n", spin("good.pem"));
		ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, bad1, strlen(bad1), "t.conf"), TLSGUARD_E_CONFIG);
		ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, bad2, strlen(bad2), "t.conf"), TLSGUARD_E_CONFIG);
	}
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	tlsguard_ctx_free(ctx);

	/* A file names itself; a later load that reopens the section without
	 * giving pins does not repeat (or misattribute) the warning. */
	dir = scratch_new();
	path = fmt("%s/pins.conf", dir);
	{
		const char *text = fmt("[good.example.test]\n\npin = %s\n", spin("good.pem"));
		write_file(path, text, strlen(text));
	}
	ctx = bare_ctx();
	ck_assert_msg(tlsguard_ctx_load_config(ctx, path) == 0, "%s", tlsguard_ctx_last_error(ctx));
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), fmt(single_pin_warning, path, 3u, HOST));
	load(ctx, "[good.example.test]\npin-mode = report-only\n");
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 1);
	ck_assert_str_eq(tlsguard_ctx_warning(ctx, 0), fmt(single_pin_warning, path, 3u, HOST));
	tlsguard_ctx_free(ctx);
	scratch_rm(dir);

	/* Pins given through the API are not config lines: no warning, also
	 * not when a config reopens their section later. */
	ctx = bare_ctx();
	add_pins(ctx, HOST, spin("good.pem"), 0, 0);
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	load(ctx, "[good.example.test]\npin-mode = enforce\n");
	ck_assert_uint_eq(tlsguard_ctx_warning_count(ctx), 0);
	tlsguard_ctx_free(ctx);

	ck_assert_uint_eq(tlsguard_ctx_warning_count(NULL), 0);
	ck_assert_ptr_null(tlsguard_ctx_warning(NULL, 0));
}
END_TEST

/* ------------------------------------------------------------------ reports */

START_TEST(test_report_on_pin_failure)
{
	tlsguard_ctx *ctx = test_ctx();
	const tlsguard_event *ev;
	tlsguard_result *res;

	/* good.example.test pinned to a key it does not have: the genuine
	 * chain fails, with the whole validated path in the report. */
	add_pins(ctx, HOST, P2(), 0, 0);
	add_pins(ctx, "other.example.test", P2(), 0, 0);
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin",
	              fmt("no key of the chain is pinned for good.example.test; expected one of: %s; chain keys: [0] %s, "
	                  "[1] %s, anchor %s",
	                  P2(), spin("good.pem"), spin("int-ca.pem"), spin("root-ca.pem")));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	ck_assert_str_eq(report_summary(tlsguard_result_report(res)),
	                 fmt("version=1 host=good.example.test port=443 address=None mode=enforce pin-mode=enforce "
	                     "time=2026-06-01T00:00:00Z\n"
	                     "served=good,int-ca\n"
	                     "validated=good,int-ca,root-ca\n"
	                     "known-pins=pin-sha256=\"%s\",pin-sha256=\"%s\"\n"
	                     "failed-checks=pin\n"
	                     "event=32 pin-mismatch ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN fatal pin: %s",
	                     b64("rotated.pem"), b64("other-root-ca.pem"), tlsguard_event_detail(ev)));
	tlsguard_result_free(res);

	/* With a port and a peer address, and a second failing check: every
	 * event is listed; only the pin event is "part of" the report. */
	{
		tlsguard_request *req = NULL;
		struct test_chain c;
		size_t i;

		ck_assert_int_eq(tlsguard_request_new(&req, "other.example.test", 18), 0);
		ck_assert_int_eq(tlsguard_request_set_port(req, 8443), 0);
		ck_assert_int_eq(tlsguard_request_set_address(req, "192.0.2.7"), 0);
		chain_load(&c, "good-chain.pem");
		for (i = 0; i < c.n; i++)
			ck_assert_int_eq(tlsguard_request_add_cert(req, c.der[i], c.len[i]), 0);
		chain_free(&c);
		ck_assert_int_eq(tlsguard_verify(ctx, req, &res), 0);
		tlsguard_request_free(req);
	}
	expect(res, TLSGUARD_REJECT, 2);
	event_is(res, 0, TLSGUARD_EV_HOSTNAME_MISMATCH, TLSGUARD_SEV_FATAL, "hostname", NULL);
	ev = event_is(res, 1, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", NULL);
	ck_assert_ptr_null(tlsguard_event_report(tlsguard_result_event(res, 0)));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	{
		const char *s = report_summary(tlsguard_result_report(res));
		ck_assert_msg(strncmp(s, "version=1 host=other.example.test port=8443 address=192.0.2.7 mode=enforce ", 75) ==
		                  0,
		              "%s", s);
		ck_assert_ptr_nonnull(strstr(s, "\nfailed-checks=hostname,pin\nevent=6 hostname-mismatch "));
		ck_assert_ptr_nonnull(strstr(s, "\nevent=32 pin-mismatch ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN fatal pin: "));
	}
	tlsguard_result_free(res);

	/* A clean accept and a plain (non-pin) rejection make no report. */
	res = eval(ctx, "wildcard-chain.pem", "a.wild.example.test", 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_ptr_null(tlsguard_result_report(res));
	tlsguard_result_free(res);
	res = eval(ctx, "expired-chain.pem", "expired.example.test", 443);
	expect(res, TLSGUARD_REJECT, 1);
	ck_assert_ptr_null(tlsguard_result_report(res));
	ck_assert_ptr_null(tlsguard_event_report(tlsguard_result_event(res, 0)));
	tlsguard_result_free(res);
	ck_assert_ptr_null(tlsguard_result_report(NULL));
	ck_assert_ptr_null(tlsguard_event_report(NULL));
	tlsguard_ctx_free(ctx);
}
END_TEST

/* The callback already sees the report. */
struct seen {
	size_t n;
	char *report[4];
};

static int remember_report(const tlsguard_event *ev, void *ud)
{
	struct seen *s = ud;
	const char *r = tlsguard_event_report(ev);

	if (s->n < 4)
		s->report[s->n] = r ? strdup(r) : NULL;
	s->n++;
	return TLSGUARD_DECISION_DEFAULT;
}

START_TEST(test_report_in_callback)
{
	tlsguard_ctx *ctx = mitm_ctx();
	struct seen s;
	tlsguard_result *res;

	memset(&s, 0, sizeof(s));
	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, remember_report, &s), 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_ptr_nonnull(s.report[0]);
	ck_assert_str_eq(s.report[0], tlsguard_result_report(res));
	free(s.report[0]);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* mode = report-only: an expired chain is accepted, and reported. */
START_TEST(test_report_only_mode_reports)
{
	tlsguard_ctx *ctx = test_ctx();
	const tlsguard_event *ev;
	tlsguard_result *res;

	load(ctx, "mode = report-only\n");
	res = eval(ctx, "expired-chain.pem", "expired.example.test", 443);
	expect(res, TLSGUARD_ACCEPT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_EXPIRED, TLSGUARD_SEV_FATAL, "validity",
	              "certificate 0 expired at 2021-01-01 00:00:00 UTC (now 2026-06-01 00:00:00 UTC)");
	ck_assert_ptr_nonnull(tlsguard_result_report(res));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	ck_assert_str_eq(report_summary(tlsguard_result_report(res)),
	                 "version=1 host=expired.example.test port=443 address=None mode=report-only pin-mode=enforce "
	                 "time=2026-06-01T00:00:00Z\n"
	                 "served=expired,int-ca\n"
	                 "validated=expired,int-ca,root-ca\n"
	                 "known-pins=\n"
	                 "failed-checks=validity\n"
	                 "event=4 expired ERR_CERT_DATE_INVALID fatal validity: certificate 0 expired at 2021-01-01 "
	                 "00:00:00 UTC (now 2026-06-01 00:00:00 UTC)");
	tlsguard_result_free(res);
	/* Nothing to report: no report. */
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_ptr_null(tlsguard_result_report(res));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_report_file_lines)
{
	char *dir = scratch_new();
	const char *path = fmt("%s/sub/reports.jsonl", dir), *conf = fmt("%s/sub/t.conf", dir);
	tlsguard_ctx *ctx = mitm_ctx();
	tlsguard_result *res;
	struct stat st;
	int rc;

	/* Relative to the config file's directory. */
	ck_assert_int_eq(mkdir(fmt("%s/sub", dir), 0700), 0);
	write_file(conf, "report-file = reports.jsonl\n", 28);
	ck_assert_msg(tlsguard_ctx_load_config(ctx, conf) == 0, "%s", tlsguard_ctx_last_error(ctx));
	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);

	/* Clean evaluations write nothing; not even an empty file. */
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_int_eq(access(path, F_OK), -1);

	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	tlsguard_result_free(res);
	ck_assert_uint_eq(count_lines(path), 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	res = eval(ctx, "good-chain.pem", HOST, 443);
	tlsguard_result_free(res);
	res = eval(ctx, "forged-chain.pem", HOST, 8443);
	expect(res, TLSGUARD_REJECT, 1);
	tlsguard_result_free(res);
	res = evalv(ctx, HOST, 443, &rc, "forged-chain.pem", "int-ca.pem", (const char *)NULL);
	ck_assert_int_eq(rc, 0);
	expect(res, TLSGUARD_REJECT, 1);
	/* The file holds exactly the report of the result. */
	{
		size_t len;
		char *all = read_file(path, &len);
		const char *report = tlsguard_result_report(res);
		size_t rl = strlen(report);
		ck_assert_uint_gt(len, rl + 1);
		ck_assert(memcmp(all + len - rl - 1, report, rl) == 0);
		free(all);
	}
	tlsguard_result_free(res);
	ck_assert_uint_eq(count_lines(path), 3);
	ck_assert_str_eq(python(lines_py, path, NULL), "3 good.example.test:443:32=2 good.example.test:8443:32=1");
	tlsguard_ctx_free(ctx);

	/* Set through the API, appended to the same file. */
	ctx = mitm_ctx();
	ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, path), 0);
	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), TLSGUARD_PIN_REPORT_ONLY, 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 1);
	tlsguard_result_free(res);
	ck_assert_str_eq(python(lines_py, path, NULL), "4 good.example.test:443:32=3 good.example.test:8443:32=1");
	tlsguard_ctx_free(ctx);
	scratch_rm(dir);
}
END_TEST

/* A report file that cannot be written is said in a warning event; the
 * verdict does not change. */
START_TEST(test_report_file_unwritable)
{
	char *dir = scratch_new();
	const char *target = fmt("%s/target", dir), *link = fmt("%s/link", dir);
	int report_only;

	write_file(target, "", 0);
	ck_assert_int_eq(symlink(target, link), 0);
	for (report_only = 0; report_only <= 1; report_only++) {
		tlsguard_ctx *ctx = mitm_ctx();
		tlsguard_result *res;

		ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, dir), 0);
		add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")),
		         report_only ? TLSGUARD_PIN_REPORT_ONLY : 0, 0);
		res = eval(ctx, "forged-chain.pem", HOST, 443);
		expect(res, report_only ? TLSGUARD_ACCEPT : TLSGUARD_REJECT, 2);
		event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, report_only ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL, "pin",
		         mismatch_detail("good.pem", report_only));
		event_is(res, 1, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_WARNING, "evaluation",
		         fmt("%s: cannot open report file: Is a directory", dir));
		ck_assert_ptr_nonnull(tlsguard_result_report(res));
		tlsguard_result_free(res);
		/* A clean evaluation does not touch the file. */
		res = eval(ctx, "good-chain.pem", HOST, 443);
		expect(res, TLSGUARD_ACCEPT, 0);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}

	/* A symbolic link is not followed. */
	{
		tlsguard_ctx *ctx = mitm_ctx();
		tlsguard_result *res;
		struct stat st;

		ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, link), 0);
		add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
		res = eval(ctx, "forged-chain.pem", HOST, 443);
		expect(res, TLSGUARD_REJECT, 2);
		event_is(res, 1, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_WARNING, "evaluation",
		         fmt("%s: cannot open report file: %s", link, strerror(ELOOP)));
		tlsguard_result_free(res);
		ck_assert_int_eq(stat(target, &st), 0);
		ck_assert_int_eq(st.st_size, 0);
		tlsguard_ctx_free(ctx);
	}
	scratch_rm(dir);
}
END_TEST

/* Four processes append 50 reports each to one file: 200 whole lines. */
START_TEST(test_report_file_concurrent)
{
	char *dir = scratch_new();
	const char *path = fmt("%s/reports.jsonl", dir);
	tlsguard_ctx *ctx = mitm_ctx();
	struct test_chain c;
	pid_t pids[4];
	int k;

	add_pins(ctx, HOST, fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
	ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, path), 0);
	chain_load(&c, "forged-chain.pem");
	for (k = 0; k < 4; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k] == 0) {
			int j, bad = 0;
			for (j = 0; j < 50; j++) {
				tlsguard_result *res = NULL;
				int rc = tlsguard_verify_der_chain(ctx, HOST, 443, (const unsigned char *const *)c.der, c.len, c.n,
				                                   &res);
				if (rc != 0 || tlsguard_result_verdict(res) != TLSGUARD_REJECT ||
				    tlsguard_result_event_count(res) != 1 || tlsguard_result_report(res) == NULL)
					bad++;
				tlsguard_result_free(res);
			}
			chain_free(&c);
			tlsguard_ctx_free(ctx);
			_exit(bad ? 1 : 0);
		}
	}
	for (k = 0; k < 4; k++) {
		int status;
		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", k, status);
	}
	chain_free(&c);
	tlsguard_ctx_free(ctx);
	ck_assert_uint_eq(count_lines(path), 200);
	ck_assert_str_eq(python(lines_py, path, NULL), "200 good.example.test:443:32=200");
	scratch_rm(dir);
}
END_TEST

/* ------------------------------------------------------------------ trust on first use */

/* Each TOFU test gets a scratch directory, and the default store points
 * into it, so that a test can never touch the user's store. */
static char *tofu_dir;

static const char *default_store(void)
{
	return fmt("%s/default-store.db", tofu_dir);
}

static void tofu_setup(void)
{
	tofu_dir = scratch_new();
	ck_assert_int_eq(setenv("TLSGUARD_STORE", default_store(), 1), 0);
	ck_assert_int_eq(setenv("XDG_DATA_HOME", fmt("%s/xdg", tofu_dir), 1), 0);
}

static void tofu_teardown(void)
{
	if (tofu_dir == NULL)
		return;
	ck_assert_msg(access(default_store(), F_OK) != 0, "the default store was created");
	scratch_rm(tofu_dir);
	tofu_dir = NULL;
}

static const char *store_path(void)
{
	return fmt("%s/store.db", tofu_dir);
}

/* A context at @when with TOFU for good.example.test (@flags) and the
 * scratch store. */
static tlsguard_ctx *tofu_ctx(int64_t when, unsigned flags)
{
	tlsguard_ctx *ctx = test_ctx();
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, when), 0);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, HOST, flags), 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, store_path()), 0);
	return ctx;
}

struct rec {
	char host[256];
	unsigned port;
	unsigned char spki[32];
	int64_t first, last;
	uint64_t count;
	int has_pending;
	unsigned char pending[32];
	int64_t pending_seen;
};

struct recs {
	struct rec r[8];
	size_t n;
};

static int collect(const char *host, unsigned port, const unsigned char spki[32], int64_t first_seen,
                   int64_t last_seen, uint64_t seen_count, const unsigned char *pending, int64_t pending_seen,
                   void *ud)
{
	struct recs *rs = ud;
	struct rec *r;

	if (rs->n == N(rs->r))
		return 1;
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->port = port;
	memcpy(r->spki, spki, 32);
	r->first = first_seen;
	r->last = last_seen;
	r->count = seen_count;
	r->has_pending = pending != NULL;
	if (pending)
		memcpy(r->pending, pending, 32);
	r->pending_seen = pending_seen;
	return 0;
}

/* Every record of @host (NULL: all) in the scratch store. */
static size_t records(const char *host, struct recs *rs)
{
	tlsguard_store *st = NULL;
	int rc = tlsguard_store_open(&st, store_path(), 0);

	ck_assert_msg(rc == 0, "store_open: %d %s", rc, tlsguard_store_last_error(st));
	memset(rs, 0, sizeof(*rs));
	rc = tlsguard_store_tofu_list(st, host, collect, rs);
	ck_assert_msg(rc >= 0, "tofu_list: %d %s", rc, tlsguard_store_last_error(st));
	ck_assert_uint_eq((size_t)rc, rs->n);
	ck_assert_int_eq(tlsguard_store_check(st), 0);
	tlsguard_store_close(st);
	return rs->n;
}

/* Record @r is @host:@port with key of fixture @key. */
static void rec_is(const struct rec *r, const char *host, unsigned port, const char *key, int64_t first, int64_t last,
                   uint64_t count)
{
	unsigned char pin[32];

	pin_of(key, pin);
	ck_assert_str_eq(r->host, host);
	ck_assert_uint_eq(r->port, port);
	ck_assert_msg(memcmp(r->spki, pin, 32) == 0, "%s:%u: stored key is not that of %s", host, port, key);
	ck_assert_int_eq(r->first, first);
	ck_assert_int_eq(r->last, last);
	ck_assert_uint_eq(r->count, count);
}

static void pending_is(const struct rec *r, const char *key, int64_t when)
{
	unsigned char pin[32];

	if (key == NULL) {
		ck_assert_int_eq(r->has_pending, 0);
		return;
	}
	pin_of(key, pin);
	ck_assert_int_eq(r->has_pending, 1);
	ck_assert_msg(memcmp(r->pending, pin, 32) == 0, "pending key is not that of %s", key);
	ck_assert_int_eq(r->pending_seen, when);
}

static const char *when_text(int64_t t)
{
	static const char *const txt[] = {"2026-06-01 00:00:00 UTC", "2026-06-01 01:00:00 UTC", "2026-06-01 02:00:00 UTC",
	                                  "2026-06-01 03:00:00 UTC", "2026-06-01 04:00:00 UTC", "2026-06-01 05:00:00 UTC"};
	ck_assert(t >= TEST_TIME && (t - TEST_TIME) % 3600 == 0 && (t - TEST_TIME) / 3600 < 6);
	return txt[(t - TEST_TIME) / 3600];
}

static const char *key_changed_detail(unsigned port, const char *old, int64_t first, uint64_t count, int64_t last,
                                      const char *now)
{
	return fmt("good.example.test:%u first presented key %s on %s (seen %llu times, last on %s); now it presents %s. "
	           "If the change is legitimate, accept it with: tlsguard store accept good.example.test:%u",
	           port, spin(old), when_text(first), (unsigned long long)count, when_text(last), spin(now), port);
}

/* Evaluate @chain at @when in a new context; expect @verdict and @nevents. */
static tlsguard_result *tofu_eval(int64_t when, unsigned flags, const char *chain, unsigned port, int verdict,
                                  size_t nevents)
{
	tlsguard_ctx *ctx = tofu_ctx(when, flags);
	tlsguard_result *res = eval(ctx, chain, HOST, port);

	expect(res, verdict, nevents);
	tlsguard_ctx_free(ctx);
	return res;
}

#define T(h) (TEST_TIME + (h) * INT64_C(3600))

START_TEST(test_tofu_lifecycle)
{
	struct recs rs;
	tlsguard_result *res;
	tlsguard_store *st = NULL;
	const tlsguard_event *ev;

	/* First use: accepted and remembered. */
	res = tofu_eval(T(0), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_PASS);
	ck_assert_ptr_null(tlsguard_result_report(res));
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 1);
	pending_is(&rs.r[0], NULL, 0);

	/* Same key again. */
	res = tofu_eval(T(1), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(1), 2);

	/* A new key: rejected, both keys and the history named; kept pending. */
	res = tofu_eval(T(2), 0, "rotated-chain.pem", 443, TLSGUARD_REJECT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu",
	              key_changed_detail(443, "good.pem", T(0), 2, T(1), "rotated.pem"));
	ck_assert_str_eq(tlsguard_event_name(ev), "ERR_TLSGUARD_KEY_CHANGED");
	ck_assert_int_eq(tlsguard_event_cert_index(ev), 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_FAIL);
	ck_assert_int_eq(outcome(res, "pin"), TLSGUARD_CHECK_SKIP);
	ck_assert_ptr_nonnull(tlsguard_result_report(res));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	{
		const char *s = report_summary(tlsguard_result_report(res));
		ck_assert_str_eq(s, fmt("version=1 host=good.example.test port=443 address=None mode=enforce pin-mode=enforce "
		                        "time=2026-06-01T02:00:00Z\n"
		                        "served=rotated,int-ca\n"
		                        "validated=rotated,int-ca,root-ca\n"
		                        "known-pins=\n"
		                        "failed-checks=tofu\n"
		                        "event=36 key-changed ERR_TLSGUARD_KEY_CHANGED fatal tofu: %s",
		                        tlsguard_event_detail(ev)));
	}
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(1), 2);
	pending_is(&rs.r[0], "rotated.pem", T(2));

	/* The old key still passes and counts; the pending key stays. */
	res = tofu_eval(T(3), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(3), 3);
	pending_is(&rs.r[0], "rotated.pem", T(2));

	/* The operator accepts the rotation. */
	ck_assert_int_eq(tlsguard_store_open(&st, store_path(), 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_accept(st, "Good.Example.Test.", 443), 0);
	ck_assert_int_eq(tlsguard_store_tofu_accept(st, HOST, 443), TLSGUARD_E_RANGE);
	ck_assert_str_eq(tlsguard_store_last_error(st),
	                 fmt("%s: good.example.test port 443 has no pending key to accept", store_path()));
	tlsguard_store_close(st);
	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "rotated.pem", T(2), T(2), 1);
	pending_is(&rs.r[0], NULL, 0);

	res = tofu_eval(T(4), 0, "rotated-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	res = tofu_eval(T(4), 0, "good-chain.pem", 443, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu",
	         key_changed_detail(443, "rotated.pem", T(2), 2, T(4), "good.pem"));
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "rotated.pem", T(2), T(4), 2);
	pending_is(&rs.r[0], "good.pem", T(4));

	/* Forgotten: the next key is a first use again. */
	ck_assert_int_eq(tlsguard_store_open(&st, store_path(), 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_forget(st, HOST, 443), 1);
	ck_assert_int_eq(tlsguard_store_tofu_forget(st, HOST, 443), 0);
	tlsguard_store_close(st);
	ck_assert_uint_eq(records(NULL, &rs), 0);
	res = tofu_eval(T(5), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(5), T(5), 1);
	pending_is(&rs.r[0], NULL, 0);
}
END_TEST

/* One frozen context for every evaluation works the same. */
START_TEST(test_tofu_one_context)
{
	tlsguard_ctx *ctx = tofu_ctx(T(0), 0);
	tlsguard_result *res;
	struct recs rs;
	int i;

	for (i = 0; i < 3; i++) {
		res = eval(ctx, "good-chain.pem", HOST, 443);
		expect(res, TLSGUARD_ACCEPT, 0);
		tlsguard_result_free(res);
	}
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 3);
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu",
	         key_changed_detail(443, "good.pem", T(0), 3, T(0), "rotated.pem"));
	tlsguard_result_free(res);
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 4);
	pending_is(&rs.r[0], "rotated.pem", T(0));
	/* Other hosts are not TOFU hosts. */
	res = eval(ctx, "wildcard-chain.pem", "a.wild.example.test", 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_tofu_report_only)
{
	tlsguard_result *res;
	const tlsguard_event *ev;
	struct recs rs;

	res = tofu_eval(T(0), TLSGUARD_PIN_REPORT_ONLY, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	res = tofu_eval(T(1), TLSGUARD_PIN_REPORT_ONLY, "rotated-chain.pem", 443, TLSGUARD_ACCEPT, 1);
	ev = event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_WARNING, "tofu",
	              key_changed_detail(443, "good.pem", T(0), 1, T(0), "rotated.pem"));
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_FAIL);
	ck_assert_ptr_nonnull(tlsguard_result_report(res));
	ck_assert_ptr_eq(tlsguard_event_report(ev), tlsguard_result_report(res));
	tlsguard_result_free(res);
	/* Reported, not learnt: the first key stays, the new one is pending. */
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 1);
	pending_is(&rs.r[0], "rotated.pem", T(1));
}
END_TEST

/* Only a chain that passes every other check is learnt. */
START_TEST(test_tofu_rejected_not_learnt)
{
	tlsguard_ctx *ctx = tofu_ctx(T(0), 0);
	tlsguard_result *res;
	struct recs rs;

	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "expired.example.test", 0), 0);
	res = eval(ctx, "expired-chain.pem", "expired.example.test", 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_EXPIRED, TLSGUARD_SEV_FATAL, "validity", NULL);
	tlsguard_result_free(res);
	res = eval(ctx, "wronghost-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_HOSTNAME_MISMATCH, TLSGUARD_SEV_FATAL, "hostname", NULL);
	tlsguard_result_free(res);
	/* forged: rogue-ca is not trusted by this context. */
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER));
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 0);
	/* The genuine key is then a first use. */
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 1);
	tlsguard_ctx_free(ctx);

	/* A chain rejected by a pin is not learnt either. */
	ctx = tofu_ctx(T(1), 0);
	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "www.good.example.test", 0), 0);
	add_pins(ctx, "www.good.example.test", fmt("%s %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
	res = eval(ctx, "forged-chain.pem", "www.good.example.test", 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", NULL);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records("www.good.example.test", &rs), 0);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A chain that fails other checks never displaces a pending rotation. */
START_TEST(test_tofu_attacker_cannot_replace_pending)
{
	tlsguard_ctx *ctx;
	tlsguard_result *res;
	struct recs rs;

	ctx = tofu_ctx(TEST_TIME, 0);
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ctx = tofu_ctx(TEST_TIME + 10, 0);
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_KEY_CHANGED));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	/* The interceptor's chain is untrusted here: its key must not become
	 * the pending one an operator would accept. */
	ctx = tofu_ctx(TEST_TIME + 20, 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER));
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_KEY_CHANGED));
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	ck_assert_uint_eq(records(HOST, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", TEST_TIME, TEST_TIME, 1);
	pending_is(&rs.r[0], "rotated.pem", TEST_TIME + 10);
}
END_TEST

/* Report-only TOFU does not make the host's static pins report-only. */
START_TEST(test_tofu_mode_separate_from_pins)
{
	tlsguard_ctx *ctx = tofu_ctx(TEST_TIME, TLSGUARD_PIN_REPORT_ONLY);
	tlsguard_result *res;

	ck_assert_int_eq(tlsguard_ctx_add_ca(ctx, fixture("rogue-ca.pem")), 0);
	add_pins(ctx, HOST, fmt("%s, %s", spin("good.pem"), spin("int-ca.pem")), 0, 0);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, HOST, TLSGUARD_PIN_REPORT_ONLY), 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", NULL);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_tofu_ports)
{
	tlsguard_result *res;
	tlsguard_store *st = NULL;
	struct recs rs;

	res = tofu_eval(T(0), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	res = tofu_eval(T(1), 0, "rotated-chain.pem", 8443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 2);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 1);
	rec_is(&rs.r[1], HOST, 8443, "rotated.pem", T(1), T(1), 1);
	res = tofu_eval(T(2), 0, "good-chain.pem", 8443, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu",
	         key_changed_detail(8443, "rotated.pem", T(1), 1, T(1), "good.pem"));
	tlsguard_result_free(res);
	res = tofu_eval(T(2), 0, "good-chain.pem", 443, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);

	ck_assert_int_eq(tlsguard_store_open(&st, store_path(), 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_forget(st, HOST, 8443), 1);
	tlsguard_store_close(st);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(2), 2);
	ck_assert_int_eq(tlsguard_store_open(&st, store_path(), 0), 0);
	ck_assert_int_eq(tlsguard_store_tofu_forget(st, HOST, 0), 1);
	tlsguard_store_close(st);
	ck_assert_uint_eq(records(NULL, &rs), 0);
}
END_TEST

/* "tofu = yes" and "store = PATH" in a config: in a host section, and in
 * [default] with a host that opts out. */
START_TEST(test_tofu_config)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res;
	struct recs rs;

	load(ctx, fmt("store = %s\n[good.example.test]\ntofu = yes\n", store_path()));
	res = eval(ctx, "good-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_PASS);
	tlsguard_result_free(res);
	res = eval(ctx, "wildcard-chain.pem", "a.wild.example.test", 443);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 1);
	rec_is(&rs.r[0], HOST, 443, "good.pem", T(0), T(0), 1);
	tlsguard_ctx_free(ctx);

	ctx = test_ctx();
	load(ctx, fmt("[default]\ntofu = yes\nstore = %s\n[www.good.example.test]\ntofu = no\n", store_path()));
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu",
	         key_changed_detail(443, "good.pem", T(0), 1, T(0), "rotated.pem"));
	tlsguard_result_free(res);
	res = eval(ctx, "wildcard-chain.pem", "a.wild.example.test", 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_PASS);
	tlsguard_result_free(res);
	res = eval(ctx, "rotated-chain.pem", "www.good.example.test", 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_SKIP);
	tlsguard_result_free(res);
	ck_assert_uint_eq(records(NULL, &rs), 2);
	rec_is(&rs.r[0], "a.wild.example.test", 443, "wildcard.pem", T(0), T(0), 1);
	rec_is(&rs.r[1], HOST, 443, "good.pem", T(0), T(0), 1);
	pending_is(&rs.r[1], "rotated.pem", T(0));
	tlsguard_ctx_free(ctx);

	/* tofu-mode = report-only softens key changes; pin-mode does not. */
	ctx = test_ctx();
	load(ctx, fmt("store = %s\n[good.example.test]\ntofu = yes\ntofu-mode = report-only\n", store_path()));
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 1);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_WARNING, "tofu", NULL);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	ctx = test_ctx();
	load(ctx, fmt("store = %s\n[good.example.test]\ntofu = yes\npin-mode = report-only\n", store_path()));
	res = eval(ctx, "rotated-chain.pem", HOST, 443);
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	event_is(res, 0, TLSGUARD_EV_KEY_CHANGED, TLSGUARD_SEV_FATAL, "tofu", NULL);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* A store that is not a database: TOFU hosts fail closed, the file is left
 * alone, other hosts do not care. */
START_TEST(test_tofu_garbage_store)
{
	const char *path = store_path();
	unsigned char junk[4096];
	unsigned x = 12345;
	size_t i, len;
	char *after;
	int report_only;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	ck_assert(memcmp(junk, "SQLite format 3", 15) != 0);
	write_file(path, junk, sizeof(junk));

	for (report_only = 0; report_only <= 1; report_only++) {
		tlsguard_ctx *ctx = tofu_ctx(T(0), report_only ? TLSGUARD_PIN_REPORT_ONLY : 0);
		tlsguard_result *res = NULL;
		const char *detail = fmt("trust-on-first-use store unusable: %s: cannot read the schema version: file is "
		                         "not a database",
		                         path);
		int rc;

		res = evalv(ctx, HOST, 443, &rc, "good-chain.pem", (const char *)NULL);
		if (report_only) {
			ck_assert_int_eq(rc, 0);
			expect(res, TLSGUARD_ACCEPT, 1);
			event_is(res, 0, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_WARNING, "tofu", detail);
			ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_FAIL);
		} else {
			ck_assert_int_eq(rc, TLSGUARD_E_STORE);
			ck_assert_int_eq(tlsguard_result_error(res), TLSGUARD_E_STORE);
			expect(res, TLSGUARD_REJECT, 1);
			event_is(res, 0, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, "tofu", detail);
			ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_ERROR);
		}
		tlsguard_result_free(res);
		/* A host without TOFU is evaluated as usual. */
		res = eval(ctx, "wildcard-chain.pem", "a.wild.example.test", 443);
		expect(res, TLSGUARD_ACCEPT, 0);
		ck_assert_int_eq(outcome(res, "tofu"), TLSGUARD_CHECK_SKIP);
		tlsguard_result_free(res);
		tlsguard_ctx_free(ctx);
	}
	/* Byte for byte the same file, and nothing next to it. */
	after = read_file(path, &len);
	ck_assert_ptr_nonnull(after);
	ck_assert_uint_eq(len, sizeof(junk));
	ck_assert(memcmp(after, junk, sizeof(junk)) == 0);
	free(after);
	ck_assert_uint_eq(dir_entries(tofu_dir), 1);
}
END_TEST

/* ------------------------------------------------------------------ API errors */

START_TEST(test_add_pin_set_errors)
{
	tlsguard_ctx *ctx = mitm_ctx();
	const char *good = fmt("%s %s", spin("good.pem"), spin("rotated.pem"));
	tlsguard_result *res;
	static const struct {
		const char *host;
		const char *msg;
	} bad_hosts[] = {
		{"", "'' is not a host name or *.suffix"},
		{"bad host", "'bad host' is not a host name or *.suffix"},
		{"*.test", "'*.test' is not a host name or *.suffix"},
		{"*example.test", "'*example.test' is not a host name or *.suffix"},
		{"a..example.test", "'a..example.test' is not a host name or *.suffix"},
		{"www.*.example.test", "'www.*.example.test' is not a host name or *.suffix"},
	};
	size_t i;

	ck_assert_int_eq(tlsguard_ctx_add_pin_set(NULL, HOST, good, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, NULL, good, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "host is NULL");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, NULL, 0, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "pins is NULL");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, good, 4, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "unknown pin flags 0x4");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, good, 0x80000003u, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "unknown pin flags 0x80000000");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, good, 0, -1), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "pin expiry time -1 is before 1970");
	for (i = 0; i < N(bad_hosts); i++) {
		ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, bad_hosts[i].host, good, 0, 0), TLSGUARD_E_INVALID);
		ck_assert_str_eq(tlsguard_ctx_last_error(ctx), bad_hosts[i].msg);
	}
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, "", 0, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "no pin given for good.example.test");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, " ,\t, ", 0, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "no pin given for good.example.test");
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, "sha256/abc", 0, 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "malformed pin 'sha256/abc' " MALFORMED_HINT);

	/* None of it changed anything: no pins yet, the forgery passes. */
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_ACCEPT, 0);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);

	/* A later set for the same host replaces the earlier one. */
	ctx = mitm_ctx();
	add_pins(ctx, HOST, P1(), 0, 0);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
	add_pins(ctx, HOST, fmt("%s, %s", spin("good.pem"), spin("rotated.pem")), 0, 0);
	res = eval(ctx, "forged-chain.pem", HOST, 443);
	expect(res, TLSGUARD_REJECT, 1);
	event_is(res, 0, TLSGUARD_EV_PIN_MISMATCH, TLSGUARD_SEV_FATAL, "pin", mismatch_detail("good.pem", 0));
	tlsguard_result_free(res);

	/* Frozen by the first evaluation. */
	ck_assert_int_eq(tlsguard_ctx_add_pin_set(ctx, HOST, good, 0, 0), TLSGUARD_E_FROZEN);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "context is already used for evaluation; build a new context to change it");
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, HOST, 0), TLSGUARD_E_FROZEN);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, "/tmp/never.db"), TLSGUARD_E_FROZEN);
	ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, "/tmp/never.jsonl"), TLSGUARD_E_FROZEN);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_other_setter_errors)
{
	tlsguard_ctx *ctx = bare_ctx();

	ck_assert_int_eq(tlsguard_ctx_set_tofu(NULL, HOST, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, HOST, 4), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "bad host", 0), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "'bad host' is not a host name or *.suffix");
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "*.example.test", TLSGUARD_PIN_INCLUDE_SUBDOMAINS),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_tofu(ctx, "*.example.test", 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_store(NULL, "/tmp/x.db"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_store(ctx, ""), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_report_file(NULL, "/tmp/x"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_set_report_file(ctx, ""), TLSGUARD_E_INVALID);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *pin_suite(void)
{
	Suite *s = suite_create("pin");
	TCase *t;

	t = tcase_create("syntax");
	tcase_add_test(t, test_pin_matches_openssl);
	tcase_add_test(t, test_pin_from_cert_errors);
	tcase_add_test(t, test_pin_syntaxes_parse_and_format);
	tcase_add_test(t, test_pin_format_limits);
	tcase_add_loop_test(t, test_malformed_pin_parse, 0, N_MALFORMED);
	tcase_add_loop_test(t, test_malformed_pin_config, 0, N_MALFORMED);
	tcase_add_loop_test(t, test_malformed_pin_api, 0, N_MALFORMED);
	tcase_add_loop_test(t, test_pin_syntax_config, 0, N_SYNTAX_CONFIG);
	tcase_add_test(t, test_pin_syntax_api);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);

	t = tcase_create("mitm");
	tcase_add_test(t, test_mitm_without_pins);
	tcase_add_loop_test(t, test_mitm_pinned, 0, 6);
	tcase_add_loop_test(t, test_mitm_report_only, 0, 6);
	tcase_add_test(t, test_pin_needs_signature_link);
	tcase_add_test(t, test_ipv6_spellings_share_a_section);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);

	t = tcase_create("sections");
	tcase_add_test(t, test_include_subdomains);
	tcase_add_test(t, test_wildcard_section);
	tcase_add_test(t, test_section_precedence);
	tcase_add_test(t, test_ip_literal_sections);
	tcase_add_test(t, test_pins_across_loads);
	tcase_add_test(t, test_section_errors);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);

	t = tcase_create("expiry-and-warnings");
	tcase_add_test(t, test_pin_expired);
	tcase_add_test(t, test_pin_not_yet_expired);
	tcase_add_test(t, test_pin_expiry_api);
	tcase_add_test(t, test_pin_expires_bad_dates);
	tcase_add_test(t, test_backup_pin_warning);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);

	t = tcase_create("reports");
	tcase_add_test(t, test_report_on_pin_failure);
	tcase_add_test(t, test_report_in_callback);
	tcase_add_test(t, test_report_only_mode_reports);
	tcase_add_test(t, test_report_file_lines);
	tcase_add_test(t, test_report_file_unwritable);
	tcase_add_test(t, test_report_file_concurrent);
	tcase_set_timeout(t, 120);
	suite_add_tcase(s, t);

	t = tcase_create("tofu");
	tcase_add_checked_fixture(t, tofu_setup, tofu_teardown);
	tcase_add_test(t, test_tofu_lifecycle);
	tcase_add_test(t, test_tofu_one_context);
	tcase_add_test(t, test_tofu_report_only);
	tcase_add_test(t, test_tofu_rejected_not_learnt);
	tcase_add_test(t, test_tofu_ports);
	tcase_add_test(t, test_tofu_attacker_cannot_replace_pending);
	tcase_add_test(t, test_tofu_mode_separate_from_pins);
	tcase_add_test(t, test_tofu_config);
	tcase_add_test(t, test_tofu_garbage_store);
	tcase_set_timeout(t, 120);
	suite_add_tcase(s, t);

	t = tcase_create("api");
	tcase_add_test(t, test_add_pin_set_errors);
	tcase_add_test(t, test_other_setter_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return test_run(pin_suite());
}
