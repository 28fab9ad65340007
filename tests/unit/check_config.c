/*
 * The config file (tlsguard.conf(5)) through the public API only:
 * tlsguard_ctx_load_config_mem() / tlsguard_ctx_load_config(), their exact
 * return codes and the exact "name:line: reason" of tlsguard_ctx_last_error(),
 * and what a loaded policy does to verdicts (observed with the fixtures).
 *
 * Run: TG_DATA=$PWD/tests/data TG_SRCDIR=$PWD ./tests/unit/check_config
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tlsguard/tlsguard.h>

#include "testutil.h"

/* ------------------------------------------------------------------ helpers */

/* A context without trust anchors: enough for parser tests, which must not
 * depend on the fixtures. */
static tlsguard_ctx *bare_ctx(void)
{
	tlsguard_ctx *ctx = NULL;
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA), 0);
	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

/* Load @len bytes of @text as "t.conf" into a fresh context and check the
 * return code and the exact message ("" for success). */
static void expect_load_n(const char *text, size_t len, int want_rc, const char *want_msg)
{
	tlsguard_ctx *ctx = bare_ctx();
	int rc = tlsguard_ctx_load_config_mem(ctx, text, len, "t.conf");
	const char *msg = tlsguard_ctx_last_error(ctx);

	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(rc == want_rc, "config <<%.*s>>: rc %d (%s), want %d; message '%s'", (int)len, text, rc,
	              tlsguard_strerror(rc), want_rc, msg);
	ck_assert_msg(strcmp(msg, want_msg) == 0, "config <<%.*s>>:\n  got  '%s'\n  want '%s'", (int)len, text, msg,
	              want_msg);
	tlsguard_ctx_free(ctx);
}

static void expect_load(const char *text, int want_rc, const char *want_msg)
{
	expect_load_n(text, strlen(text), want_rc, want_msg);
}

/* Load a config into @ctx and insist that it is accepted. */
static void load_ok(tlsguard_ctx *ctx, const char *text)
{
	int rc = tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "t.conf");
	ck_assert_msg(rc == 0, "config <<%s>> rejected: rc %d, '%s'", text, rc, tlsguard_ctx_last_error(ctx));
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
}

/* Verdict for chain fixture @chain as @host under config @text, on the
 * standard test context (root-ca trusted, TEST_TIME). The evaluation must
 * complete (rc 0). */
static int verdict_with(const char *text, const char *chain, const char *host)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res;
	int rc, v;

	if (text != NULL)
		load_ok(ctx, text);
	res = verify_file(ctx, chain, host, &rc);
	ck_assert_msg(rc == 0, "%s as %s: rc %d (%s)", chain, host, rc, tlsguard_strerror(rc));
	v = tlsguard_result_verdict(res);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	return v;
}

static const char *vname(int v)
{
	return v == TLSGUARD_ACCEPT ? "ACCEPT" : "REJECT";
}

/* ------------------------------------------------------------- error table */

struct err_case {
	const char *text;
	int rc;
	const char *msg;
};

#define CFG TLSGUARD_E_CONFIG
#define RANGE_RSA(v) "t.conf:1: min-rsa-bits: expected a whole number from 1024 to 16384, got '" v "'"
#define RANGE_OCSP(v) "t.conf:1: ocsp-max-age-days: expected a whole number from 1 to 365, got '" v "'"
#define NOT_HOST(s) "section [" s "]: not a host name or *.suffix"

static const struct err_case err_cases[] = {
	/* unknown keys: the reason names the key, keys are case-sensitive */
	{"mdoe = enforce\n", CFG, "t.conf:1: unknown key 'mdoe'"},
	{"[default]\n\nMode = enforce\n", CFG, "t.conf:3: unknown key 'Mode'"},
	{"[h.example.test]\ncolour = red\n", CFG, "t.conf:2: unknown key 'colour'"},
	{"= enforce\n", CFG, "t.conf:1: unknown key ''"},
	{"colour =\n", CFG, "t.conf:1: unknown key 'colour'"},
	{"mode-x = enforce\n", CFG, "t.conf:1: unknown key 'mode-x'"},
	/* mode */
	{"mode = strict\n", CFG, "t.conf:1: mode: expected enforce, interactive or report-only, got 'strict'"},
	{"mode = Enforce\n", CFG, "t.conf:1: mode: expected enforce, interactive or report-only, got 'Enforce'"},
	{"mode = report_only\n", CFG,
	 "t.conf:1: mode: expected enforce, interactive or report-only, got 'report_only'"},
	{"[*.example.test]\nmode = off\n", CFG,
	 "t.conf:2: mode: expected enforce, interactive or report-only, got 'off'"},
	/* overridable */
	{"overridable = expired, bogus\n", CFG, "t.conf:1: overridable: unknown event name 'bogus'"},
	{"overridable = Expired\n", CFG, "t.conf:1: overridable: unknown event name 'Expired'"},
	{"overridable = ERR_CERT_DATE_INVALID\n", CFG,
	 "t.conf:1: overridable: unknown event name 'ERR_CERT_DATE_INVALID'"},
	{"overridable = expired;hostname-mismatch\n", CFG,
	 "t.conf:1: overridable: unknown event name 'expired;hostname-mismatch'"},
	{"overridable = none, expired\n", CFG, "t.conf:1: overridable: unknown event name 'none'"},
	{"overridable = internal-error\n", CFG, "t.conf:1: overridable: 'internal-error' can never be overridden"},
	{"overridable = malformed-chain\n", CFG, "t.conf:1: overridable: 'malformed-chain' can never be overridden"},
	{"overridable = expired malformed-chain\n", CFG,
	 "t.conf:1: overridable: 'malformed-chain' can never be overridden"},
	{"[h.example.test]\noverridable = expired,internal-error\n", CFG,
	 "t.conf:2: overridable: 'internal-error' can never be overridden"},
	{"overridable = ,\n", CFG, "t.conf:1: overridable: empty list (write 'none' for no overrides)"},
	{"overridable = \" , \"\n", CFG, "t.conf:1: overridable: empty list (write 'none' for no overrides)"},
	/* min-rsa-bits: 1024..16384, decimal digits only */
	{"min-rsa-bits = 1023\n", CFG, RANGE_RSA("1023")},
	{"min-rsa-bits = 16385\n", CFG, RANGE_RSA("16385")},
	{"min-rsa-bits = 0\n", CFG, RANGE_RSA("0")},
	{"min-rsa-bits = abc\n", CFG, RANGE_RSA("abc")},
	{"min-rsa-bits = 2048x\n", CFG, RANGE_RSA("2048x")},
	{"min-rsa-bits = 2048 bits\n", CFG, RANGE_RSA("2048 bits")},
	{"min-rsa-bits = -2048\n", CFG, RANGE_RSA("-2048")},
	{"min-rsa-bits = +2048\n", CFG, RANGE_RSA("+2048")},
	{"min-rsa-bits = 0x800\n", CFG, RANGE_RSA("0x800")},
	{"min-rsa-bits = 2048.0\n", CFG, RANGE_RSA("2048.0")},
	{"min-rsa-bits = 99999999999999999999999\n", CFG, RANGE_RSA("99999999999999999999999")},
	{"min-rsa-bits = 4294969344\n", CFG, RANGE_RSA("4294969344")}, /* 2^32 + 2048 must not wrap */
	/* allow-sha1 / system-ca: booleans */
	{"allow-sha1 = maybe\n", CFG, "t.conf:1: allow-sha1: expected yes or no, got 'maybe'"},
	{"allow-sha1 = YES\n", CFG, "t.conf:1: allow-sha1: expected yes or no, got 'YES'"},
	{"allow-sha1 = 2\n", CFG, "t.conf:1: allow-sha1: expected yes or no, got '2'"},
	{"system-ca = perhaps\n", CFG, "t.conf:1: system-ca: expected yes or no, got 'perhaps'"},
	/* ocsp-max-age-days: 1..365 */
	{"ocsp-max-age-days = 0\n", CFG, RANGE_OCSP("0")},
	{"ocsp-max-age-days = 366\n", CFG, RANGE_OCSP("366")},
	{"ocsp-max-age-days = 7d\n", CFG, RANGE_OCSP("7d")},
	{"ocsp-max-age-days = -1\n", CFG, RANGE_OCSP("-1")},
	/* duplicate keys within one section */
	{"mode = enforce\nmode = report-only\n", CFG, "t.conf:2: mode given twice in this section"},
	{"[default]\nallow-sha1 = no\n# again:\nallow-sha1 = no\n", CFG, "t.conf:4: allow-sha1 given twice in this section"},
	{"[a.example.test]\nmin-rsa-bits = 2048\nmin-rsa-bits = 3072\n", CFG,
	 "t.conf:3: min-rsa-bits given twice in this section"},
	{"[*.example.test]\noverridable = expired\noverridable = none\n", CFG,
	 "t.conf:3: overridable given twice in this section"},
	{"system-ca = yes\nsystem-ca = no\n", CFG, "t.conf:2: system-ca given twice in this section"},
	{"ocsp-max-age-days = 1\nocsp-max-age-days = 2\n", CFG, "t.conf:2: ocsp-max-age-days given twice in this section"},
	/* lines before the first header are [default]: [default] cannot repeat their keys */
	{"mode = enforce\n[default]\nmode = report-only\n", CFG, "t.conf:3: mode given twice in this section"},
	{"allow-sha1 = no\n[h.example.test]\nallow-sha1 = yes\n[default]\nallow-sha1 = yes\n", CFG,
	 "t.conf:5: allow-sha1 given twice in this section"},
	/* duplicate sections (names compare normalised: case, trailing dot) */
	{"[a.example.test]\nmode = enforce\n[a.example.test]\n", CFG,
	 "t.conf:3: section [a.example.test] already defined at line 1"},
	{"[a.example.test]\n[A.Example.TEST.]\n", CFG, "t.conf:2: section [A.Example.TEST.] already defined at line 1"},
	{"\n[*.example.test]\n[*.EXAMPLE.test]\n", CFG, "t.conf:3: section [*.EXAMPLE.test] already defined at line 2"},
	{"[default]\nmode = enforce\n[default]\n", CFG, "t.conf:3: section [default] already defined at line 1"},
	{"[default]\n[h.example.test]\n[ default ]\n", CFG, "t.conf:3: section [default] already defined at line 1"},
	/* wildcard sections: only "*." followed by a name of two or more labels */
	{"[*foo.com]\n", CFG, "t.conf:1: section [*foo.com]: a wildcard section must look like [*.example.com]"},
	{"[*]\n", CFG, "t.conf:1: section [*]: a wildcard section must look like [*.example.com]"},
	{"[**.example.com]\n", CFG,
	 "t.conf:1: section [**.example.com]: a wildcard section must look like [*.example.com]"},
	{"[*.com]\n", CFG, "t.conf:1: " NOT_HOST("*.com")},
	{"[*.test]\n", CFG, "t.conf:1: " NOT_HOST("*.test")},
	{"[*.com.]\n", CFG, "t.conf:1: " NOT_HOST("*.com.")},
	{"[*.]\n", CFG, "t.conf:1: " NOT_HOST("*.")},
	{"[*.*.example.com]\n", CFG, "t.conf:1: " NOT_HOST("*.*.example.com")},
	{"[a.*.example.com]\n", CFG, "t.conf:1: " NOT_HOST("a.*.example.com")},
	{"[*..example.com]\n", CFG, "t.conf:1: " NOT_HOST("*..example.com")},
	/* host sections that are not host names */
	{"[a..b]\n", CFG, "t.conf:1: " NOT_HOST("a..b")},
	{"[bad host]\n", CFG, "t.conf:1: " NOT_HOST("bad host")},
	{"[]\n", CFG, "t.conf:1: " NOT_HOST("")},
	{"[   ]\n", CFG, "t.conf:1: " NOT_HOST("")},
	{"[.example.test]\n", CFG, "t.conf:1: " NOT_HOST(".example.test")},
	{"[ex/ample.test]\n", CFG, "t.conf:1: " NOT_HOST("ex/ample.test")},
	{"[h.example.test:443]\n", CFG, "t.conf:1: " NOT_HOST("h.example.test:443")},
	{"[\xc3\xa9.example.test]\n", CFG, "t.conf:1: " NOT_HOST("\xc3\xa9.example.test")},
	/* keys outside their scope */
	{"[h.example.test]\nca-file = root-ca.pem\n", CFG, "t.conf:2: ca-file is only allowed in [default]"},
	{"[*.example.test]\nsystem-ca = no\n", CFG, "t.conf:2: system-ca is only allowed in [default]"},
	/* line syntax */
	{"mode enforce\n", CFG, "t.conf:1: expected 'key = value' or '[section]', got 'mode enforce'"},
	{"[default]\nmode: enforce\n", CFG, "t.conf:2: expected 'key = value' or '[section]', got 'mode: enforce'"},
	{"[default\nmode = enforce\n", CFG, "t.conf:1: section header must end with ']'"},
	{"[\n", CFG, "t.conf:1: section header must end with ']'"},
	{"[default] # trailing comments are not comments\n", CFG, "t.conf:1: section header must end with ']'"},
	{"mode = \"enforce\n", CFG, "t.conf:1: mode: unterminated quoted value"},
	{"mode = \"\n", CFG, "t.conf:1: mode: unterminated quoted value"},
	{"mode = enforce\"\n", CFG, "t.conf:1: mode: expected enforce, interactive or report-only, got 'enforce\"'"},
	{"mode = \" enforce\"\n", CFG, "t.conf:1: mode: expected enforce, interactive or report-only, got ' enforce'"},
	{"mode = report-only # not a comment\n", CFG,
	 "t.conf:1: mode: expected enforce, interactive or report-only, got 'report-only # not a comment'"},
	{"mode =\n", CFG, "t.conf:1: mode: empty value"},
	{"mode =   \t\n", CFG, "t.conf:1: mode: empty value"},
	{"mode = \"\"\n", CFG, "t.conf:1: mode: empty value"},
	{"[default]\nca-file =\n", CFG, "t.conf:2: ca-file: empty value"},
	/* the error is reported for the first bad line; later lines are not read */
	{"mode = enforce\nallow-sha1 = maybe\ncolour = red\n", CFG, "t.conf:2: allow-sha1: expected yes or no, got 'maybe'"},
	/* a last line without newline is still a line */
	{"mode = enforce\nmode = enforce", CFG, "t.conf:2: mode given twice in this section"},
};

START_TEST(test_error_table)
{
	const struct err_case *c = &err_cases[_i];
	expect_load(c->text, c->rc, c->msg);
}
END_TEST

/* --------------------------------------------------------- accepted syntax */

static const char *const ok_cases[] = {
	"",
	"\n\n\n",
	"# only a comment",
	"# comment\n; another comment\n\n   \n\t# indented comment\n  ; indented\n",
	"[default]\nmode = enforce\n",
	"mode = report-only\n",                       /* keys before any header belong to [default] */
	"mode = report-only\n[default]\nallow-sha1 = no\n[h.example.test]\nmode = enforce\n",
	"mode=interactive\noverridable=expired\n",    /* no spaces */
	"  \tmode\t =  \t enforce \t \n",             /* spaces and tabs around everything */
	"mode = \"report-only\"\n",                   /* quoted value */
	"overridable = \"expired, hostname-mismatch\"\n",
	"overridable = none\n",
	"overridable = expired,not-yet-valid , hostname-mismatch\texpired\n",
	"overridable = ,expired,\n",
	"min-rsa-bits = 1024\n",
	"min-rsa-bits = 16384\n",
	"min-rsa-bits = 02048\n",
	"ocsp-max-age-days = 1\n",
	"ocsp-max-age-days = 365\n",
	"allow-sha1 = yes\n", "allow-sha1 = no\n", "allow-sha1 = true\n", "allow-sha1 = false\n",
	"allow-sha1 = on\n", "allow-sha1 = off\n", "allow-sha1 = 1\n", "allow-sha1 = 0\n",
	"system-ca = no\n",
	"system-ca = yes\n",
	/* the same key in different sections */
	"[default]\nmode = enforce\n[a.example.test]\nmode = report-only\n[*.example.test]\nmode = interactive\n",
	/* an exact section and a wildcard on the same name are different sections */
	"[*.example.test]\n[example.test]\n",
	"[*.x.y]\nmode = report-only\n",
	"[ h.example.test ]\n",
	"[H.Example.TEST.]\nmode = enforce\n",
	"[a_b.example.test]\n",
	"[localhost]\n",
	"[192.0.2.1]\nmode = enforce\n",
	"[2001:db8::1]\nmode = enforce\n",
	/* back to [default] after a host section */
	"[h.example.test]\nmode = report-only\n[default]\nsystem-ca = no\n",
	/* an empty section */
	"[default]\n[h.example.test]\n",
	/* CRLF line endings, also on headers, comments and the last line */
	"# c\r\n[default]\r\nmode = report-only\r\n\r\n[h.example.test]\r\nmode = enforce\r\nallow-sha1 = \"no\"\r\n",
	/* no trailing newline */
	"[default]\nmode = enforce",
};

START_TEST(test_ok_table)
{
	expect_load(ok_cases[_i], 0, "");
}
END_TEST

START_TEST(test_name_in_messages)
{
	tlsguard_ctx *ctx = bare_ctx();
	static const char text[] = "\ncolour = red\n";

	/* No name: "<config>". */
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, text, strlen(text), NULL), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "<config>:2: unknown key 'colour'");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "/etc/tlsguard/site.conf"),
	                 TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "/etc/tlsguard/site.conf:2: unknown key 'colour'");
	/* A later successful configuration call clears the message. */
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "", 0, "x"), 0);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_long_names_truncated)
{
	char text[256], want[256];
	char key[71];

	/* The key and the offending text are quoted with at most 60 bytes. */
	memset(key, 'k', 70);
	key[70] = '\0';
	snprintf(text, sizeof(text), "%s = 1\n", key);
	snprintf(want, sizeof(want), "t.conf:1: unknown key '%.60s'", key);
	expect_load(text, TLSGUARD_E_CONFIG, want);
	snprintf(text, sizeof(text), "%s\n", key);
	snprintf(want, sizeof(want), "t.conf:1: expected 'key = value' or '[section]', got '%.60s'", key);
	expect_load(text, TLSGUARD_E_CONFIG, want);
}
END_TEST

START_TEST(test_host_section_too_long)
{
	/* A host name is at most 253 bytes. */
	char name[300], text[320], want[400];
	size_t i;

	for (i = 0; i < 253; i++)
		name[i] = (i % 10 == 9) ? '.' : 'a';
	name[253] = '\0';
	snprintf(text, sizeof(text), "[%s]\n", name);
	expect_load(text, 0, "");
	name[253] = 'b';
	name[254] = '\0';
	snprintf(text, sizeof(text), "[%s]\n", name);
	snprintf(want, sizeof(want), "t.conf:1: section [%s]: not a host name or *.suffix", name);
	expect_load(text, TLSGUARD_E_CONFIG, want);
}
END_TEST

/* ------------------------------------------------------ line limits, bytes */

START_TEST(test_line_length_limit)
{
	/* 4096 bytes (without the newline) is the longest line accepted. */
	size_t n = 4096;
	char *buf = malloc(2 * n + 64);
	size_t len;

	ck_assert_ptr_nonnull(buf);
	len = (size_t)sprintf(buf, "[default]\n");
	memset(buf + len, '#', n);
	len += n;
	buf[len++] = '\n';
	len += (size_t)sprintf(buf + len, "mode = enforce\n");
	expect_load_n(buf, len, 0, "");

	/* 4097 bytes: rejected, on the right line. */
	len = (size_t)sprintf(buf, "[default]\n");
	memset(buf + len, '#', n + 1);
	len += n + 1;
	buf[len++] = '\n';
	expect_load_n(buf, len, TLSGUARD_E_CONFIG, "t.conf:2: line longer than 4096 bytes");

	/* Also when it is the last line, without a newline. */
	len = (size_t)sprintf(buf, "mode = enforce\n\n");
	memset(buf + len, ' ', n + 1);
	len += n + 1;
	expect_load_n(buf, len, TLSGUARD_E_CONFIG, "t.conf:3: line longer than 4096 bytes");

	/* A value that makes a key line too long. */
	len = (size_t)sprintf(buf, "mode = ");
	memset(buf + len, 'x', n);
	len += n;
	expect_load_n(buf, len, TLSGUARD_E_CONFIG, "t.conf:1: line longer than 4096 bytes");
	free(buf);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char a[] = "mode = enforce\nallow-sha1 = n\0o\n";
	static const char b[] = "# a comment with a \0 byte\n";
	static const char c[] = "[default]\nmode = enforce\n\0";

	expect_load_n(a, sizeof(a) - 1, TLSGUARD_E_CONFIG, "t.conf:2: NUL byte in line");
	expect_load_n(b, sizeof(b) - 1, TLSGUARD_E_CONFIG, "t.conf:1: NUL byte in line");
	expect_load_n(c, sizeof(c) - 1, TLSGUARD_E_CONFIG, "t.conf:3: NUL byte in line");
	/* The length is what counts, not a terminating NUL: the text after it
	 * is not read when len stops before it. */
	expect_load_n(c, sizeof(c) - 2, 0, "");
}
END_TEST

START_TEST(test_bad_arguments)
{
	tlsguard_ctx *ctx = bare_ctx();

	ck_assert_int_eq(tlsguard_ctx_load_config_mem(NULL, "", 0, "x"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, NULL, 3, "x"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, NULL, 0, "x"), 0);
	ck_assert_int_eq(tlsguard_ctx_load_config(NULL, "/dev/null"), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, NULL), TLSGUARD_E_INVALID);
	ck_assert_str_eq(tlsguard_ctx_last_error(NULL), "");
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_frozen)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res;
	int rc;

	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	tlsguard_result_free(res);
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "mode = enforce\n", 15, "t.conf"), TLSGUARD_E_FROZEN);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "context is already used for evaluation; build a new context to change it");
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, "/nonexistent/tlsguard.conf"), TLSGUARD_E_FROZEN);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- overridable */

START_TEST(test_every_code_key_overridable)
{
	char text[2304], want[256], all[2048] = "";
	size_t n = 0;
	int code;

	for (code = -1; code < 256; code++) {
		const char *key = tlsguard_code_key(code);
		if (key == NULL)
			continue;
		n++;
		snprintf(text, sizeof(text), "[default]\nmode = interactive\noverridable = %s\n", key);
		if (code == TLSGUARD_EV_INTERNAL_ERROR || code == TLSGUARD_EV_MALFORMED_CHAIN) {
			snprintf(want, sizeof(want), "t.conf:3: overridable: '%s' can never be overridden", key);
			expect_load(text, TLSGUARD_E_CONFIG, want);
		} else {
			expect_load(text, 0, "");
			/* also in a host section, and quoted */
			snprintf(text, sizeof(text), "[*.example.test]\noverridable = \"%s\"\n", key);
			expect_load(text, 0, "");
			if (all[0] != '\0')
				strcat(all, ", ");
			strcat(all, key);
		}
	}
	/* Codes 1..11 and the reserved 32..37 all have config names. */
	for (code = TLSGUARD_EV_INTERNAL_ERROR; code <= TLSGUARD_EV_OCSP_INVALID; code++)
		ck_assert_msg(tlsguard_code_key(code) != NULL, "code %d has no config name", code);
	for (code = TLSGUARD_EV_PIN_MISMATCH; code <= TLSGUARD_EV_SPLIT_VIEW; code++)
		ck_assert_msg(tlsguard_code_key(code) != NULL, "code %d has no config name", code);
	ck_assert_uint_ge(n, 17);
	ck_assert_ptr_null(tlsguard_code_key(0));
	/* All of them in one list. */
	snprintf(text, sizeof(text), "overridable = %s\n", all);
	expect_load(text, 0, "");
}
END_TEST

/* ------------------------------------------------------- policy resolution */

struct prec_case {
	const char *text;
	const char *chain;
	const char *host;
	int verdict;
};

static const struct prec_case prec_cases[] = {
	/* baseline: the default policy enforces */
	{NULL, "expired-chain.pem", "expired.example.test", TLSGUARD_REJECT},
	{NULL, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT},
	{"mode = report-only\n", "expired-chain.pem", "expired.example.test", TLSGUARD_ACCEPT},
	{"[default]\nmode = report-only\n", "expired-chain.pem", "expired.example.test", TLSGUARD_ACCEPT},
	/* exact beats wildcard, in either order */
	{"[*.example.test]\nmode = report-only\n[expired.example.test]\nmode = enforce\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_REJECT},
	{"[expired.example.test]\nmode = enforce\n[*.example.test]\nmode = report-only\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_REJECT},
	{"[*.example.test]\nmode = enforce\n[expired.example.test]\nmode = report-only\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_ACCEPT},
	{"[expired.example.test]\nmode = report-only\n[*.example.test]\nmode = enforce\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_ACCEPT},
	/* a longer suffix beats a shorter one, in either order. The host is
	 * not in the certificate, so hostname-mismatch is raised too: only
	 * report-only accepts, which shows which section won. */
	{"[*.example.test]\nmode = report-only\n[*.expired.example.test]\nmode = enforce\n", "expired-chain.pem",
	 "a.expired.example.test", TLSGUARD_REJECT},
	{"[*.expired.example.test]\nmode = enforce\n[*.example.test]\nmode = report-only\n", "expired-chain.pem",
	 "a.expired.example.test", TLSGUARD_REJECT},
	{"[*.example.test]\nmode = enforce\n[*.expired.example.test]\nmode = report-only\n", "expired-chain.pem",
	 "a.expired.example.test", TLSGUARD_ACCEPT},
	{"[*.expired.example.test]\nmode = report-only\n[*.example.test]\nmode = enforce\n", "expired-chain.pem",
	 "a.expired.example.test", TLSGUARD_ACCEPT},
	/* exact beats even a longer wildcard pattern */
	{"[*.a.expired.example.test]\nmode = report-only\n[a.expired.example.test]\nmode = enforce\n",
	 "expired-chain.pem", "a.expired.example.test", TLSGUARD_REJECT},
	/* any matching section beats [default] */
	{"[default]\nmode = report-only\n[*.example.test]\nmode = enforce\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_REJECT},
	{"[default]\nmode = enforce\n[*.example.test]\nmode = report-only\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_ACCEPT},
	{"[*.example.test]\nmode = report-only\n[default]\nmode = enforce\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_ACCEPT},
	/* "*.x" matches names under x (any depth), not x itself */
	{"[*.expired.example.test]\nmode = report-only\n", "expired-chain.pem", "expired.example.test",
	 TLSGUARD_REJECT},
	{"[*.example.test]\nmode = report-only\n", "expired-chain.pem", "a.b.expired.example.test",
	 TLSGUARD_ACCEPT},
	{"[*.example.test]\nmode = report-only\n", "expired-chain.pem", "example.test", TLSGUARD_REJECT},
	{"[xpired.example.test]\nmode = report-only\n[*.xample.test]\nmode = report-only\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_REJECT},
	/* "[Default]" is [default] (section names are case-insensitive) */
	{"[Default]\nmode = report-only\n", "expired-chain.pem", "expired.example.test", TLSGUARD_ACCEPT},
	/* sections of other hosts do not apply */
	{"[other.example.test]\nmode = report-only\n", "expired-chain.pem", "expired.example.test",
	 TLSGUARD_REJECT},
	/* host names compare normalised: case and one trailing dot */
	{"[EXPIRED.Example.Test.]\nmode = report-only\n", "expired-chain.pem", "expired.example.test",
	 TLSGUARD_ACCEPT},
	{"[expired.example.test]\nmode = report-only\n", "expired-chain.pem", "Expired.Example.Test.",
	 TLSGUARD_ACCEPT},
	{"[*.EXAMPLE.test]\nmode = report-only\n", "expired-chain.pem", "expired.example.TEST", TLSGUARD_ACCEPT},
	/* only the most specific section applies; keys it does not set come
	 * from [default], not from less specific sections */
	{"[*.example.test]\nmode = report-only\n[expired.example.test]\nallow-sha1 = yes\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_REJECT},
	{"[default]\nmode = report-only\n[expired.example.test]\nallow-sha1 = yes\n", "expired-chain.pem",
	 "expired.example.test", TLSGUARD_ACCEPT},
	{"[default]\nmode = report-only\n[*.example.test]\nallow-sha1 = yes\n[expired.example.test]\nmode = enforce\n",
	 "expired-chain.pem", "expired.example.test", TLSGUARD_REJECT},
	/* min-rsa-bits and allow-sha1, globally and per host */
	{NULL, "weak-rsa-chain.pem", "weak.example.test", TLSGUARD_REJECT},
	{"min-rsa-bits = 1024\n", "weak-rsa-chain.pem", "weak.example.test", TLSGUARD_ACCEPT},
	{"[weak.example.test]\nmin-rsa-bits = 1024\n", "weak-rsa-chain.pem", "weak.example.test", TLSGUARD_ACCEPT},
	{"[default]\nmin-rsa-bits = 1024\n[weak.example.test]\nmin-rsa-bits = 2048\n", "weak-rsa-chain.pem",
	 "weak.example.test", TLSGUARD_REJECT},
	{"min-rsa-bits = 4096\n", "good-chain.pem", "good.example.test", TLSGUARD_REJECT},
	{"[*.example.test]\nmin-rsa-bits = 4096\n", "good-chain.pem", "good.example.test", TLSGUARD_REJECT},
	{"[*.example.test]\nmin-rsa-bits = 4096\n[good.example.test]\nmode = enforce\n", "good-chain.pem",
	 "good.example.test", TLSGUARD_ACCEPT},
	{NULL, "sha1-chain.pem", "sha1.example.test", TLSGUARD_REJECT},
	{"allow-sha1 = yes\n", "sha1-chain.pem", "sha1.example.test", TLSGUARD_ACCEPT},
	{"[sha1.example.test]\nallow-sha1 = yes\n", "sha1-chain.pem", "sha1.example.test", TLSGUARD_ACCEPT},
	{"[*.example.test]\nallow-sha1 = true\n", "sha1-chain.pem", "sha1.example.test", TLSGUARD_ACCEPT},
	{"allow-sha1 = yes\n[sha1.example.test]\nallow-sha1 = no\n", "sha1-chain.pem", "sha1.example.test",
	 TLSGUARD_REJECT},
	/* allow-sha1 never allows MD5 */
	{"allow-sha1 = yes\n", "md5-chain.pem", "md5.example.test", TLSGUARD_REJECT},
};

START_TEST(test_precedence)
{
	const struct prec_case *c = &prec_cases[_i];
	int v = verdict_with(c->text, c->chain, c->host);
	ck_assert_msg(v == c->verdict, "config <<%s>>, %s as %s: %s, want %s", c->text ? c->text : "(none)", c->chain,
	              c->host, vname(v), vname(c->verdict));
}
END_TEST

/* ---------------------------------------------------- modes and overrides */

struct cb_state {
	int answer;
	unsigned calls;
	unsigned overridable_seen;
};

static int answer_cb(const tlsguard_event *ev, void *ud)
{
	struct cb_state *s = ud;
	s->calls++;
	if (tlsguard_event_overridable(ev))
		s->overridable_seen++;
	return s->answer;
}

struct mode_case {
	const char *text;
	int answer;
	int verdict;
	unsigned overridable; /* events the callback saw as overridable */
};

static const struct mode_case mode_cases[] = {
	/* interactive: OVERRIDE honoured only for listed codes */
	{"mode = interactive\noverridable = expired\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_ACCEPT, 1},
	{"mode = interactive\noverridable = not-yet-valid, expired\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_ACCEPT, 1},
	{"mode = interactive\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	{"mode = interactive\noverridable = none\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	{"mode = interactive\noverridable = hostname-mismatch\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	{"mode = interactive\noverridable = expired\n", TLSGUARD_DECISION_DEFAULT, TLSGUARD_REJECT, 1},
	{"mode = interactive\noverridable = expired\n", TLSGUARD_DECISION_REJECT, TLSGUARD_REJECT, 1},
	/* enforce: overridable lists are ignored */
	{"mode = enforce\noverridable = expired\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	/* report-only: fatal events do not reject, but REJECT is always honoured */
	{"mode = report-only\n", TLSGUARD_DECISION_DEFAULT, TLSGUARD_ACCEPT, 0},
	{"mode = report-only\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_ACCEPT, 0},
	{"mode = report-only\n", TLSGUARD_DECISION_REJECT, TLSGUARD_REJECT, 0},
	/* per host */
	{"[*.example.test]\nmode = interactive\noverridable = expired\n", TLSGUARD_DECISION_OVERRIDE, TLSGUARD_ACCEPT,
	 1},
	{"[default]\nmode = interactive\noverridable = expired\n[expired.example.test]\noverridable = none\n",
	 TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	{"[default]\nmode = interactive\noverridable = expired\n[expired.example.test]\nmode = enforce\n",
	 TLSGUARD_DECISION_OVERRIDE, TLSGUARD_REJECT, 0},
	/* the exact section does not set overridable: [default]'s list applies */
	{"[default]\noverridable = expired\n[expired.example.test]\nmode = interactive\n", TLSGUARD_DECISION_OVERRIDE,
	 TLSGUARD_ACCEPT, 1},
};

START_TEST(test_modes)
{
	const struct mode_case *c = &mode_cases[_i];
	tlsguard_ctx *ctx = test_ctx();
	struct cb_state st = {c->answer, 0, 0};
	tlsguard_result *res;
	int rc;

	load_ok(ctx, c->text);
	ck_assert_int_eq(tlsguard_ctx_set_event_callback(ctx, answer_cb, &st), 0);
	res = verify_file(ctx, "expired-chain.pem", "expired.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_EXPIRED));
	ck_assert_uint_eq(st.calls, tlsguard_result_event_count(res));
	ck_assert_msg(tlsguard_result_verdict(res) == c->verdict, "config <<%s>>, answer %d: %s, want %s", c->text,
	              c->answer, vname(tlsguard_result_verdict(res)), vname(c->verdict));
	ck_assert_uint_eq(st.overridable_seen, c->overridable);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------- "on error nothing changes" */

START_TEST(test_failed_load_leaves_context_unchanged)
{
	tlsguard_ctx *ctx = test_ctx();
	tlsguard_result *res;
	int rc;
	static const char bad1[] = "mode = enforce\n[expired.example.test]\nmode = enforce\ncolour = red\n";
	static const char bad2[] = "[*.example.test]\nmode = enforce\n[x.example.test]\nmode = enforcing\n";

	load_ok(ctx, "mode = report-only\n");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, bad1, strlen(bad1), "bad.conf"), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "bad.conf:4: unknown key 'colour'");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, bad2, strlen(bad2), "bad.conf"), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "bad.conf:4: mode: expected enforce, interactive or report-only, got 'enforcing'");
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, "/nonexistent/dir/tlsguard.conf"), TLSGUARD_E_IO);
	/* Behaviour follows the first config: report-only everywhere. */
	res = verify_file(ctx, "expired-chain.pem", "expired.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_EXPIRED));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_ACCEPT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_failed_load_adds_no_ca)
{
	tlsguard_ctx *ctx = bare_ctx();
	tlsguard_result *res;
	char text[4200];
	int rc;

	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	snprintf(text, sizeof(text), "ca-file = %s\nsystem-ca = no\nmode = enforce\nallow-sha1 = maybe\n",
	         fixture("root-ca.pem"));
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, text, strlen(text), "t.conf"), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "t.conf:4: allow-sha1: expected yes or no, got 'maybe'");
	res = verify_file(ctx, "good-chain.pem", "good.example.test", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(tlsguard_result_has_event(res, TLSGUARD_EV_UNTRUSTED_ISSUER));
	ck_assert_int_eq(tlsguard_result_verdict(res), TLSGUARD_REJECT);
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_successive_loads_override)
{
	/* Keys of a later load override earlier ones (no "given twice"). */
	tlsguard_ctx *ctx = test_ctx();

	load_ok(ctx, "[default]\nmode = enforce\n[expired.example.test]\nmode = enforce\n");
	load_ok(ctx, "[default]\nmode = report-only\n[expired.example.test]\nmode = report-only\n");
	assert_verdict(ctx, "expired-chain.pem", "expired.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
	/* Within one file a section still cannot repeat. */
	ctx = test_ctx();
	load_ok(ctx, "[a.example.test]\nmode = enforce\n");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, "[a.example.test]\n[a.example.test]\n", 34, "t.conf"),
	                 TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "t.conf:2: section [a.example.test] already defined at line 1");
	tlsguard_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------- files */

START_TEST(test_ca_file_relative_to_config)
{
	char *dir = tmpdir_new();
	const char *path;
	tlsguard_ctx *ctx = NULL;
	int rc;

	tmpdir_copy_fixture(dir, "root-ca.pem", "root-ca.pem");
	path = tmpdir_write(dir, "tlsguard.conf",
	                    "# trust only the test root, next to this file\n"
	                    "[default]\n"
	                    "system-ca = no\n"
	                    "ca-file = root-ca.pem\n");

	/* The context would use the system store; the config turns it off. The
	 * working directory is not dir, so only the config's directory can
	 * resolve "root-ca.pem". */
	ck_assert_int_eq(tlsguard_ctx_new(&ctx, 0), 0);
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	rc = tlsguard_ctx_load_config(ctx, path);
	ck_assert_msg(rc == 0, "load %s: %d '%s'", path, rc, tlsguard_ctx_last_error(ctx));
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "");
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	assert_verdict(ctx, "untrusted.pem", "good.example.test", TLSGUARD_REJECT);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_ca_file_forms)
{
	/* a quoted relative path, a relative directory, and repeated ca-file */
	char *dir = tmpdir_new();
	const char *cas, *ec, *path;
	tlsguard_ctx *ctx;
	int rc;

	cas = tmpdir_mkdir(dir, "cas");
	tmpdir_copy_fixture(cas, "root-ca.pem", "root-ca.pem");
	tmpdir_write(cas, "README", "not a certificate; skipped\n");
	ec = tmpdir_mkdir(dir, "ec");
	tmpdir_copy_fixture(ec, "ec-root-ca.der", "ec root.der");
	path = tmpdir_write(dir, "t.conf",
	                    "system-ca = no\r\n"
	                    "ca-file = cas\r\n"
	                    "ca-file = \"ec/ec root.der\"\r\n");

	ctx = bare_ctx();
	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	rc = tlsguard_ctx_load_config(ctx, path);
	ck_assert_msg(rc == 0, "load %s: %d '%s'", path, rc, tlsguard_ctx_last_error(ctx));
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	assert_verdict(ctx, "ec-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_ca_file_absolute_in_memory)
{
	tlsguard_ctx *ctx = bare_ctx();
	char text[4200], abs[4096];

	ck_assert_int_eq(tlsguard_ctx_set_time(ctx, TEST_TIME), 0);
	ck_assert_msg(realpath(fixture("root-ca.pem"), abs) != NULL, "%s: %s", fixture("root-ca.pem"), strerror(errno));
	snprintf(text, sizeof(text), "ca-file = %s\n", abs);
	load_ok(ctx, text);
	assert_verdict(ctx, "good-chain.pem", "good.example.test", TLSGUARD_ACCEPT);
	tlsguard_ctx_free(ctx);
}
END_TEST

START_TEST(test_ca_file_errors)
{
	char *dir = tmpdir_new();
	const char *path;
	char want[8192];
	tlsguard_ctx *ctx = bare_ctx();
	static const char mem[] = "\nca-file = nothere.pem\n";

	/* missing file: the message names the config line and the full path */
	path = tmpdir_write(dir, "t.conf", "[default]\nsystem-ca = no\nca-file = nothere.pem\n");
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, path), TLSGUARD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:3: ca-file: %s/nothere.pem: cannot read CA file: No such file or directory",
	         path, dir);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), want);

	/* a file without a certificate */
	tmpdir_write(dir, "junk.pem", "hello\n");
	path = tmpdir_write(dir, "t2.conf", "ca-file = junk.pem\n");
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, path), TLSGUARD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:1: ca-file: %s/junk.pem: no PEM or DER certificate found in CA file", path,
	         dir);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), want);

	/* a directory without a certificate */
	tmpdir_mkdir(dir, "empty");
	path = tmpdir_write(dir, "t3.conf", "# x\nca-file = empty\n");
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, path), TLSGUARD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:2: ca-file: %s/empty: no CA certificate found in directory", path, dir);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), want);

	/* in memory: relative to the directory of the name, else to "." */
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, mem, strlen(mem), "/nonexistent/site.conf"),
	                 TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), "/nonexistent/site.conf:2: ca-file: /nonexistent/nothere.pem: "
	                                               "cannot read CA file: No such file or directory");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, mem, strlen(mem), NULL), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "<config>:2: ca-file: ./nothere.pem: cannot read CA file: No such file or directory");
	ck_assert_int_eq(tlsguard_ctx_load_config_mem(ctx, mem, strlen(mem), "t.conf"), TLSGUARD_E_CONFIG);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx),
	                 "t.conf:2: ca-file: ./nothere.pem: cannot read CA file: No such file or directory");
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_config_file_missing)
{
	char *dir = tmpdir_new();
	char path[4096], want[8192];
	tlsguard_ctx *ctx = bare_ctx();

	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, path), TLSGUARD_E_IO);
	snprintf(want, sizeof(want), "%s: cannot read config file: No such file or directory", path);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), want);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_config_file_errors_name_path)
{
	/* Errors in a file name the path as given, with CRLF counted as one line. */
	char *dir = tmpdir_new();
	const char *path = tmpdir_write(dir, "site.conf", "# site\r\n[default]\r\nmode = enforce\r\n\r\n[*.com]\r\n");
	char want[8192];
	tlsguard_ctx *ctx = bare_ctx();

	ck_assert_int_eq(tlsguard_ctx_load_config(ctx, path), TLSGUARD_E_CONFIG);
	snprintf(want, sizeof(want), "%s:5: section [*.com]: not a host name or *.suffix", path);
	ck_assert_str_eq(tlsguard_ctx_last_error(ctx), want);
	tlsguard_ctx_free(ctx);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_crlf_takes_effect)
{
	static const char text[] = "[default]\r\nmode = enforce\r\n[expired.example.test]\r\nmode = \"report-only\"\r\n";
	ck_assert_int_eq(verdict_with(text, "expired-chain.pem", "expired.example.test"), TLSGUARD_ACCEPT);
	ck_assert_int_eq(verdict_with(text, "notyet-chain.pem", "notyet.example.test"), TLSGUARD_REJECT);
}
END_TEST

START_TEST(test_comments_and_blank_lines_take_effect)
{
	static const char text[] = "# a comment: mode = enforce\n"
	                           "; mode = enforce\n"
	                           "\n"
	                           "\t \n"
	                           "   # [expired.example.test]\n"
	                           "mode = report-only\n"
	                           "  ;[default]\n";
	ck_assert_int_eq(verdict_with(text, "expired-chain.pem", "expired.example.test"), TLSGUARD_ACCEPT);
}
END_TEST

/* ------------------------------------------------------------------- main */

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t;

	t = tcase_create("syntax");
	tcase_add_loop_test(t, test_error_table, 0, N(err_cases));
	tcase_add_loop_test(t, test_ok_table, 0, N(ok_cases));
	tcase_add_test(t, test_name_in_messages);
	tcase_add_test(t, test_long_names_truncated);
	tcase_add_test(t, test_host_section_too_long);
	tcase_add_test(t, test_line_length_limit);
	tcase_add_test(t, test_nul_byte);
	tcase_add_test(t, test_bad_arguments);
	tcase_add_test(t, test_every_code_key_overridable);
	suite_add_tcase(s, t);

	t = tcase_create("policy");
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, test_precedence, 0, N(prec_cases));
	tcase_add_loop_test(t, test_modes, 0, N(mode_cases));
	tcase_add_test(t, test_frozen);
	tcase_add_test(t, test_failed_load_leaves_context_unchanged);
	tcase_add_test(t, test_failed_load_adds_no_ca);
	tcase_add_test(t, test_successive_loads_override);
	tcase_add_test(t, test_crlf_takes_effect);
	tcase_add_test(t, test_comments_and_blank_lines_take_effect);
	suite_add_tcase(s, t);

	t = tcase_create("files");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_ca_file_relative_to_config);
	tcase_add_test(t, test_ca_file_forms);
	tcase_add_test(t, test_ca_file_absolute_in_memory);
	tcase_add_test(t, test_ca_file_errors);
	tcase_add_test(t, test_config_file_missing);
	tcase_add_test(t, test_config_file_errors_name_path);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return test_run(config_suite());
}
