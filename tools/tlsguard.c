/*
 * tlsguard(1): check a certificate chain from files ("verify") or from a live
 * TLS server ("connect") with libtlsguard, and print what it found; report
 * the Certificate Transparency of one certificate ("sct"); print the key
 * pins of a chain and a config section that pins the host ("pin"); show and
 * maintain the trust-on-first-use store and the observation history of the
 * consistency checks ("store").
 *
 * Exit status of verify and connect: 0 accepted, 1 rejected (also when the
 * evaluation could not complete: fail closed), 2 usage or input error,
 * 3 network or TLS error. sct: 0 CT policy met, 1 not met or not evaluated,
 * 2 usage or input error. pin: 0 pins printed, 2, 3 as above. store: 0 done,
 * 1 nothing to do or not found (store verify: problems found), 2 usage or
 * store error.
 * The man page (doc/tlsguard.1) documents the text and JSON output.
 *
 * Only the public API of libtlsguard is used. GnuTLS serves the "connect"
 * handshake and decodes certificates for display.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <tlsguard/gnutls.h>
#include <tlsguard/tlsguard.h>

#define PROG "tlsguard"

enum exit_status {
	EXIT_ACCEPTED = 0,
	EXIT_REJECTED = 1,
	EXIT_USAGE = 2,
	EXIT_NETWORK = 3
};

#define MAX_INPUT_FILE (16u * 1024u * 1024u) /* chain and OCSP files */
#define NET_TIMEOUT_MS 10000                 /* TCP connect and TLS handshake */
#define DEFAULT_PORT 443u
#define HOST_MAX 253

/* ------------------------------------------------------------------ */
/* Messages                                                           */

static void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "tlsguard: <what>: <why>" on stderr. */
static void error_msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fputs("Usage: tlsguard COMMAND [OPTION]... [ARGUMENT]...\n"
	      "\n"
	      "Commands:\n"
	      "  verify --host NAME CHAIN...   check a certificate chain read from files\n"
	      "  connect HOST[:PORT]           connect to a TLS server and check its chain\n"
	      "  pin CHAIN...                  print the key pins of a chain and a config section\n"
	      "  pin --connect HOST[:PORT]     the same for the chain a server presents\n"
	      "  sct CERT --issuer ISSUER      report the Certificate Transparency of a certificate\n"
	      "  store list                    list the trust-on-first-use records\n"
	      "  store show HOST[:PORT]        show the records of a host, and a changed key\n"
	      "  store accept HOST[:PORT]      accept the changed key of a host (port 443 if none)\n"
	      "  store forget HOST[:PORT]      forget a host (every port if none)\n"
	      "  store check                   check the store's integrity\n"
	      "  store history [HOST[:PORT]]   the observation history of a host (of every host\n"
	      "                                if none), newest first\n"
	      "  store verify                  verify the tamper-evident observation log\n"
	      "  help                          show this help\n"
	      "\n"
	      "  CHAIN is one PEM file holding the whole chain, or several PEM or DER\n"
	      "  files, leaf first. HOST may be a name, an IPv4 address or [IPv6]:PORT.\n"
	      "\n"
	      "Options of verify:\n"
	      "  --host NAME         the host name or IP address to check the chain for (required)\n"
	      "  --port N            the server's port (default: unknown)\n"
	      "  --ocsp FILE         a stapled OCSP response (DER) to check as well\n"
	      "  --tls-sct FILE      an SCT list (TLS-encoded) as received in the TLS extension\n"
	      "\n"
	      "Options of connect (and of pin --connect):\n"
	      "  --connect-to ADDR   connect to the IP address ADDR, ADDR:PORT or [ADDR]:PORT\n"
	      "                      instead of resolving HOST (the name checked stays HOST)\n"
	      "\n"
	      "Options of connect:\n"
	      "  --probe             check consistency: ask HOST's other addresses now which\n"
	      "                      chain they serve and compare (split view is refused)\n"
	      "  --addresses A,B,... HOST's addresses for the probe, instead of DNS\n"
	      "\n"
	      "Options of verify and connect:\n"
	      "  --config FILE       load the policy from FILE (see tlsguard.conf(5))\n"
	      "  --store PATH        the trust-on-first-use store for hosts with 'tofu = yes'\n"
	      "  --log-list FILE     the CT log list (v3 JSON) for Certificate Transparency checks\n"
	      "  --ct-policy POLICY  chrome, apple or off (default: chrome with a log list)\n"
	      "\n"
	      "Options of verify, connect and pin --connect:\n"
	      "  --ca FILE           trust the CA certificates in FILE or directory (repeatable)\n"
	      "  --no-system-ca      do not trust the system's CA store\n"
	      "  --at TIME           evaluate at TIME (UTC): YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ\n"
	      "                      or @UNIXSECONDS (default: now)\n"
	      "\n"
	      "Options of sct:\n"
	      "  --issuer ISSUER     the certificate (PEM or DER) of CERT's issuer (required);\n"
	      "                      trusted as the anchor unless --system-ca is given\n"
	      "  --log-list FILE     the CT log list (v3 JSON); tlsguard ships none\n"
	      "  --policy POLICY     chrome (default), apple or off\n"
	      "  --at TIME           evaluate at TIME, as for verify\n"
	      "  --tls-sct FILE      an SCT list (TLS-encoded) as received in the TLS extension\n"
	      "  --ocsp FILE         a stapled OCSP response (DER) that may carry SCTs\n"
	      "  --host NAME         the name to evaluate for (default: the certificate's own)\n"
	      "  --system-ca         trust the system's CA store instead of ISSUER\n"
	      "\n"
	      "Options of pin:\n"
	      "  --connect HOST[:PORT]  take the chain from a TLS handshake with HOST; the\n"
	      "                      chain is checked for information only, never refused\n"
	      "\n"
	      "Options of store:\n"
	      "  --store PATH        the store file (default: $TLSGUARD_STORE, else\n"
	      "                      $XDG_DATA_HOME/tlsguard/store.db, else\n"
	      "                      ~/.local/share/tlsguard/store.db)\n"
	      "  --limit N           store history: the N newest observations only\n"
	      "  --head SIZE:ROOT    store verify: a head printed by an earlier store verify;\n"
	      "                      the log must extend it\n"
	      "\n"
	      "Options of every command:\n"
	      "  --json              print JSON instead of text (store: list, show, history,\n"
	      "                      verify)\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Other:\n"
	      "  tlsguard --version  show the versions of tlsguard and GnuTLS\n"
	      "\n"
	      "Exit status of verify and connect: 0 accepted, 1 rejected, 2 usage or input\n"
	      "error, 3 network or TLS error. sct: 0 CT policy met, 1 not met or not\n"
	      "evaluated, 2 usage or input error. pin: 0, 2 or 3 likewise. store: 0 done,\n"
	      "1 nothing to do or not found (verify: problems found), 2 usage or store\n"
	      "error. See tlsguard(1).\n",
	      f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: message, hint, and the exit status to return. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tlsguard --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

/* Length of the valid UTF-8 sequence at @s (NUL-terminated), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Print @s as a JSON string: quotes, backslash and control characters are
 * escaped, valid UTF-8 passes through, invalid bytes become U+FFFD.
 * NULL prints null. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", (unsigned)*p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

/* Print @s for a terminal: control characters (C0, DEL, C1) and invalid
 * UTF-8 bytes are shown as \xNN, so certificate contents cannot drive the
 * terminal. */
static void text_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0 || *p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			size_t k, m = n ? n : 1;
			for (k = 0; k < m; k++)
				fprintf(f, "\\x%02x", (unsigned)p[k]);
			p += m;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

/* Standard base64 with padding; @out must hold 4 * ((len + 2) / 3) + 1. */
static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* "2024-01-02T03:04:05Z"; "" when @t is not representable. */
static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

/* Strict decimal number from @s into @out, within lo..hi. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_port(const char *s, unsigned *port)
{
	unsigned long v;

	if (parse_uint(s, 1, 65535, &v) != 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* Exactly @n decimal digits at @s. */
static int fixed_digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* --at: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or "@UNIXSECONDS", in UTC. */
static int parse_time(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t t;

	if (s[0] == '@') {
		char *end;
		long long v;
		if (s[1] < '0' || s[1] > '9')
			return -1;
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v <= 0)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	if (len != 10 && len != 20)
		return -1;
	if (fixed_digits(s, 4, &y) || s[4] != '-' || fixed_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    fixed_digits(s + 8, 2, &d))
		return -1;
	if (len == 20 && (s[10] != 'T' || fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
	                  fixed_digits(s + 14, 2, &mi) || s[16] != ':' || fixed_digits(s + 17, 2, &sec) ||
	                  s[19] != 'Z'))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (t <= 0) /* 0 would mean "the clock" to tlsguard_ctx_set_time() */
		return -1;
	*out = t;
	return 0;
}

/* Find @needle in the @len bytes at @hay (which may hold NUL bytes). */
static const char *mem_find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/* Read a whole file (at most MAX_INPUT_FILE bytes). Prints the error. */
static int read_file(const char *path, const char *what, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t used = 0, cap = 0;

	*data = NULL;
	*len = 0;
	if (f == NULL) {
		error_msg("%s: cannot read %s: %s", path, what, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;
		if (used == cap) {
			unsigned char *nb;
			if (cap >= MAX_INPUT_FILE) {
				error_msg("%s: %s is larger than %u bytes", path, what, MAX_INPUT_FILE);
				goto fail;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				error_msg("%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (n == 0) {
			if (ferror(f)) {
				error_msg("%s: cannot read %s: %s", path, what, strerror(errno ? errno : EIO));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	if (used == 0) {
		free(buf);
		error_msg("%s: %s is empty", path, what);
		return -1;
	}
	*data = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */

enum command { CMD_VERIFY, CMD_CONNECT, CMD_PIN, CMD_STORE, CMD_SCT };

struct options {
	enum command cmd;
	const char *cmd_name;
	const char *host;       /* verify, sct --host */
	unsigned port;          /* verify --port; 0 = unknown */
	const char **cas;       /* --ca, in order */
	size_t ncas;
	int no_system_ca;
	const char *config;
	int64_t at;             /* --at; 0 = the clock */
	const char *ocsp;       /* verify, sct --ocsp */
	const char *tls_sct;    /* verify, sct --tls-sct */
	const char *log_list;   /* verify, connect, sct --log-list */
	const char *ct_policy;  /* --ct-policy, sct --policy: chrome, apple, off */
	const char *issuer;     /* sct --issuer */
	int system_ca;          /* sct --system-ca */
	const char *connect_to; /* connect, pin --connect-to */
	const char *connect;    /* pin --connect */
	const char *store;      /* --store; NULL = the library's default */
	int probe;              /* connect --probe */
	const char *addresses;  /* connect --addresses A,B,... */
	size_t limit;           /* store history --limit; 0 = all */
	int limit_set;
	const char *head;       /* store verify --head SIZE:ROOT */
	int json;
	int help;
	const char **args;      /* positional arguments */
	size_t nargs;
};

enum {
	OPT_HOST = 256,
	OPT_PORT,
	OPT_CA,
	OPT_NO_SYSTEM_CA,
	OPT_CONFIG,
	OPT_AT,
	OPT_OCSP,
	OPT_JSON,
	OPT_CONNECT_TO,
	OPT_CONNECT,
	OPT_STORE,
	OPT_TLS_SCT,
	OPT_LOG_LIST,
	OPT_CT_POLICY,
	OPT_POLICY,
	OPT_ISSUER,
	OPT_SYSTEM_CA,
	OPT_PROBE,
	OPT_ADDRESSES,
	OPT_LIMIT,
	OPT_HEAD,
	OPT_HELP = 'h'
};

static const struct option long_options[] = {
	{"host", required_argument, NULL, OPT_HOST},
	{"port", required_argument, NULL, OPT_PORT},
	{"ca", required_argument, NULL, OPT_CA},
	{"no-system-ca", no_argument, NULL, OPT_NO_SYSTEM_CA},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"at", required_argument, NULL, OPT_AT},
	{"ocsp", required_argument, NULL, OPT_OCSP},
	{"json", no_argument, NULL, OPT_JSON},
	{"connect-to", required_argument, NULL, OPT_CONNECT_TO},
	{"connect", required_argument, NULL, OPT_CONNECT},
	{"store", required_argument, NULL, OPT_STORE},
	{"tls-sct", required_argument, NULL, OPT_TLS_SCT},
	{"log-list", required_argument, NULL, OPT_LOG_LIST},
	{"ct-policy", required_argument, NULL, OPT_CT_POLICY},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"issuer", required_argument, NULL, OPT_ISSUER},
	{"system-ca", no_argument, NULL, OPT_SYSTEM_CA},
	{"probe", no_argument, NULL, OPT_PROBE},
	{"addresses", required_argument, NULL, OPT_ADDRESSES},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"head", required_argument, NULL, OPT_HEAD},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const char *option_name(int c)
{
	size_t i;
	for (i = 0; long_options[i].name != NULL; i++)
		if (long_options[i].val == c)
			return long_options[i].name;
	return "?";
}

static int option_allowed(enum command cmd, int c)
{
	switch (c) {
	case OPT_PORT:
		return cmd == CMD_VERIFY;
	case OPT_HOST:
	case OPT_OCSP:
	case OPT_TLS_SCT:
		return cmd == CMD_VERIFY || cmd == CMD_SCT;
	case OPT_CONNECT_TO:
		return cmd == CMD_CONNECT || cmd == CMD_PIN;
	case OPT_CONNECT:
		return cmd == CMD_PIN;
	case OPT_CA:
	case OPT_NO_SYSTEM_CA:
		return cmd != CMD_STORE && cmd != CMD_SCT;
	case OPT_AT:
		return cmd != CMD_STORE;
	case OPT_CONFIG:
		return cmd == CMD_VERIFY || cmd == CMD_CONNECT;
	case OPT_STORE:
		return cmd != CMD_PIN && cmd != CMD_SCT;
	case OPT_LOG_LIST:
	case OPT_CT_POLICY:
		return cmd == CMD_VERIFY || cmd == CMD_CONNECT || cmd == CMD_SCT;
	case OPT_POLICY:
	case OPT_ISSUER:
	case OPT_SYSTEM_CA:
		return cmd == CMD_SCT;
	case OPT_PROBE:
	case OPT_ADDRESSES:
		return cmd == CMD_CONNECT;
	case OPT_LIMIT:
	case OPT_HEAD:
		return cmd == CMD_STORE;
	default:
		return 1;
	}
}

static void options_free(struct options *o)
{
	free(o->cas);
	free(o->args);
}

/* Store one option. Returns 0 or EXIT_USAGE (message printed). */
static int set_option(struct options *o, int c, const char *arg)
{
	if (!option_allowed(o->cmd, c))
		return usage_error("%s: option '--%s' is not valid here", o->cmd_name, option_name(c));
	switch (c) {
	case OPT_HOST:
		o->host = arg;
		break;
	case OPT_PORT:
		if (parse_port(arg, &o->port) != 0)
			return usage_error("--port '%s': expected a number from 1 to 65535", arg);
		break;
	case OPT_CA:
		o->cas[o->ncas++] = arg;
		break;
	case OPT_NO_SYSTEM_CA:
		o->no_system_ca = 1;
		break;
	case OPT_CONFIG:
		o->config = arg;
		break;
	case OPT_AT:
		if (parse_time(arg, &o->at) != 0)
			return usage_error("--at '%s': expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXSECONDS "
			                   "(a valid time after 1970-01-01, UTC)",
			                   arg);
		break;
	case OPT_OCSP:
		o->ocsp = arg;
		break;
	case OPT_TLS_SCT:
		o->tls_sct = arg;
		break;
	case OPT_LOG_LIST:
		if (arg[0] == '\0')
			return usage_error("--log-list: empty path");
		o->log_list = arg;
		break;
	case OPT_CT_POLICY:
	case OPT_POLICY:
		if (strcmp(arg, "chrome") != 0 && strcmp(arg, "apple") != 0 && strcmp(arg, "off") != 0)
			return usage_error("--%s '%s': expected chrome, apple or off", option_name(c), arg);
		o->ct_policy = arg;
		break;
	case OPT_ISSUER:
		o->issuer = arg;
		break;
	case OPT_SYSTEM_CA:
		o->system_ca = 1;
		break;
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_CONNECT_TO:
		o->connect_to = arg;
		break;
	case OPT_CONNECT:
		o->connect = arg;
		break;
	case OPT_STORE:
		if (arg[0] == '\0')
			return usage_error("--store: empty path");
		o->store = arg;
		break;
	case OPT_PROBE:
		o->probe = 1;
		break;
	case OPT_ADDRESSES:
		o->addresses = arg;
		break;
	case OPT_LIMIT: {
		unsigned long v;
		if (parse_uint(arg, 1, 100000000, &v) != 0)
			return usage_error("--limit '%s': expected a number from 1 to 100000000", arg);
		o->limit = (size_t)v;
		o->limit_set = 1;
		break;
	}
	case OPT_HEAD:
		o->head = arg;
		break;
	case OPT_HELP:
		o->help = 1;
		break;
	default:
		return usage_error("%s: unexpected option", o->cmd_name);
	}
	return 0;
}

/* Explain why getopt_long() refused @arg; returns EXIT_USAGE. */
static int bad_option(const char *cmd, const struct option *opts, const char *arg, int opt)
{
	size_t i, len, matches = 0;
	int exact = 0;
	const struct option *other = NULL;

	if (strncmp(arg, "--", 2) != 0)
		return usage_error("%s: unknown option '-%c'", cmd, opt > 0 && opt < 128 ? opt : '?');
	len = strcspn(arg + 2, "=");
	for (i = 0; opts[i].name != NULL; i++) {
		if (strncmp(opts[i].name, arg + 2, len) == 0) {
			matches++;
			exact |= strlen(opts[i].name) == len;
		}
	}
	if (matches == 0) {
		/* An option of another command (exactly, or a unique prefix)? */
		size_t nother = 0;
		for (i = 0; long_options[i].name != NULL; i++) {
			if (strncmp(long_options[i].name, arg + 2, len) != 0)
				continue;
			other = &long_options[i];
			if (strlen(long_options[i].name) == len) {
				nother = 1;
				break;
			}
			nother++;
		}
		if (nother == 1)
			return usage_error("%s: option '--%s' is not valid here", cmd, other->name);
		return usage_error("%s: unknown option '%s'", cmd, arg);
	}
	if (matches > 1 && !exact)
		return usage_error("%s: ambiguous option '%s'", cmd, arg);
	return usage_error("%s: option '%.*s' takes no argument", cmd, (int)len + 2, arg);
}

/* Parse the options of a command: @argv[0] is the command name. Options
 * and arguments may come in any order; "--" ends the options. */
static int parse_options(struct options *o, int argc, char **argv)
{
	/* The command's own options only, so that abbreviations are judged
	 * among them ("connect --connect" is still --connect-to). */
	struct option opts[sizeof(long_options) / sizeof(long_options[0])];
	size_t i, n = 0;
	int c, rc;

	for (i = 0; long_options[i].name != NULL; i++)
		if (option_allowed(o->cmd, long_options[i].val))
			opts[n++] = long_options[i];
	memset(&opts[n], 0, sizeof(opts[n]));

	o->cas = calloc((size_t)argc, sizeof(*o->cas));
	o->args = calloc((size_t)argc, sizeof(*o->args));
	if (o->cas == NULL || o->args == NULL) {
		error_msg("out of memory");
		return EXIT_USAGE;
	}
	opterr = 0;
	optind = 1;
	/* '-': arguments come back in order as option 1; ':': report a
	 * missing option argument as ':'. */
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		if (c == 1) {
			o->args[o->nargs++] = optarg;
			continue;
		}
		if (c == '?')
			return bad_option(o->cmd_name, opts, argv[optind - 1], optopt);
		if (c == ':')
			return usage_error("%s: option '%s' needs an argument", o->cmd_name, argv[optind - 1]);
		rc = set_option(o, c, optarg);
		if (rc != 0)
			return rc;
	}
	while (optind < argc)
		o->args[o->nargs++] = argv[optind++];
	return 0;
}

static int store_needs_host(const char *sub)
{
	return !strcmp(sub, "show") || !strcmp(sub, "accept") || !strcmp(sub, "forget");
}

static int store_known(const char *sub)
{
	return store_needs_host(sub) || !strcmp(sub, "list") || !strcmp(sub, "check") || !strcmp(sub, "history") ||
	       !strcmp(sub, "verify");
}

/* Arguments a store subcommand takes after its name, at most. */
static size_t store_max_args(const char *sub)
{
	return store_needs_host(sub) || !strcmp(sub, "history") ? 1 : 0;
}

/* "SIZE:BASE64ROOT" as store verify prints it: decimal digits, a colon and
 * the base64 of 32 bytes (43 characters and '='). */
static int head_syntax_ok(const char *s)
{
	size_t digits = strspn(s, "0123456789"), b64;

	if (digits == 0 || digits > 19 || s[digits] != ':')
		return 0;
	s += digits + 1;
	b64 = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	return b64 == 43 && strcmp(s + b64, "=") == 0;
}

/* The checks that need the whole command line. */
static int check_arguments(const struct options *o)
{
	switch (o->cmd) {
	case CMD_VERIFY:
		if (o->host == NULL)
			return usage_error("verify: --host NAME is required");
		if (o->nargs == 0)
			return usage_error("verify: no CHAIN file given");
		break;
	case CMD_CONNECT:
		if (o->nargs == 0)
			return usage_error("connect: no HOST given");
		if (o->nargs > 1)
			return usage_error("connect: one HOST only, got '%s' too", o->args[1]);
		break;
	case CMD_PIN:
		if (o->connect != NULL) {
			if (o->nargs > 0)
				return usage_error("pin: give --connect HOST or CHAIN files, not both (got '%s')",
				                   o->args[0]);
			break;
		}
		if (o->nargs == 0)
			return usage_error("pin: no CHAIN file given (or --connect HOST[:PORT])");
		if (o->connect_to != NULL || o->ncas > 0 || o->no_system_ca || o->at != 0)
			return usage_error("pin: --connect-to, --ca, --no-system-ca and --at need --connect");
		break;
	case CMD_SCT:
		if (o->nargs == 0)
			return usage_error("sct: no CERT file given");
		if (o->nargs > 1)
			return usage_error("sct: one CERT only, got '%s' too (give the issuer with --issuer)", o->args[1]);
		if (o->issuer == NULL)
			return usage_error("sct: --issuer ISSUER is required (the certificate of the CA that issued CERT: "
			                   "embedded SCTs are signed over its key)");
		break;
	case CMD_STORE: {
		const char *sub;
		if (o->nargs == 0)
			return usage_error("store: no subcommand given (list, show, accept, forget, check, history or verify)");
		sub = o->args[0];
		if (!store_known(sub))
			return usage_error("store: unknown subcommand '%s' (list, show, accept, forget, check, history or verify)",
			                   sub);
		if (store_needs_host(sub) && o->nargs < 2)
			return usage_error("store %s: no HOST given", sub);
		if (o->nargs > 1 + store_max_args(sub))
			return usage_error("store %s: unexpected argument '%s'", sub, o->args[1 + store_max_args(sub)]);
		if (o->json && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "history") != 0 &&
		    strcmp(sub, "verify") != 0)
			return usage_error("store %s: --json is only for list, show, history and verify", sub);
		if (o->limit_set && strcmp(sub, "history") != 0)
			return usage_error("store %s: option '--limit' is only for store history", sub);
		if (o->head != NULL && strcmp(sub, "verify") != 0)
			return usage_error("store %s: option '--head' is only for store verify", sub);
		if (o->head != NULL && !head_syntax_ok(o->head))
			return usage_error("--head '%s': expected SIZE:ROOT as 'tlsguard store verify' prints it "
			                   "(a number, ':' and the base64 of a 32-byte root)",
			                   o->head);
		break;
	}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Context                                                            */

/* Config load warnings ("file:line: warning: text") on stderr, as
 * "tlsguard: warning: file:line: text". */
static void print_warnings(const tlsguard_ctx *ctx)
{
	size_t i, n = tlsguard_ctx_warning_count(ctx);

	for (i = 0; i < n; i++) {
		const char *w = tlsguard_ctx_warning(ctx, i), *tag;
		if (w == NULL)
			continue;
		fputs(PROG ": warning: ", stderr);
		tag = strstr(w, ": warning: ");
		if (tag != NULL) {
			fwrite(w, 1, (size_t)(tag - w) + 2, stderr);
			text_str(stderr, tag + strlen(": warning: "));
		} else {
			text_str(stderr, w);
		}
		fputc('\n', stderr);
	}
}

/* The "report-file" of a config file that loaded, resolved as the library
 * does (relative to the config file's directory); "" when it has none. The
 * library has no getter for it, and the parser has accepted the file, so a
 * plain scan for the key is enough: it can only appear once, in [default]. */
static void config_report_file(const char *config, char *out, size_t outlen)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	out[0] = '\0';
	if (config == NULL || (f = fopen(config, "r")) == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *k = line, *v, *e;
		while (*k == ' ' || *k == '\t')
			k++;
		if (strncmp(k, "report-file", 11) != 0)
			continue;
		v = k + 11;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (e - v >= 2 && v[0] == '"' && e[-1] == '"') {
			*--e = '\0';
			v++;
		}
		if (v[0] == '/' || strrchr(config, '/') == NULL)
			snprintf(out, outlen, "%s", v);
		else
			snprintf(out, outlen, "%.*s/%s", (int)(strrchr(config, '/') - config), config, v);
		break;
	}
	free(line);
	fclose(f);
}

/* --log-list and --ct-policy (sct: --policy), on top of a config. The
 * policy goes into [default]: a host section of the config that sets
 * ct-policy itself still wins for its hosts (sections do not cascade, and
 * adding a section for the host would drop the keys of the section that
 * covers it now). Returns 0 or EXIT_USAGE (message printed). */
static int apply_ct_options(const struct options *o, tlsguard_ctx *ctx)
{
	char conf[64];
	int rc;

	if (o->log_list != NULL && (rc = tlsguard_ctx_set_ct_log_list(ctx, o->log_list)) != 0) {
		const char *why = tlsguard_ctx_last_error(ctx);
		error_msg("--log-list: %s", why[0] ? why : tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	if (o->ct_policy != NULL) {
		snprintf(conf, sizeof(conf), "[default]\nct-policy = %s\n", o->ct_policy);
		rc = tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), o->cmd == CMD_SCT ? "--policy" : "--ct-policy");
		if (rc != 0) {
			const char *why = tlsguard_ctx_last_error(ctx);
			error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Build the context: config file first, then the command line on top. */
/* The options every command shares, last: --at, the CT options, then the
 * config warnings (once everything is loaded). Frees @ctx on error. */
static int finish_ctx(const struct options *o, tlsguard_ctx *ctx, tlsguard_ctx **out)
{
	int rc;

	if (o->at != 0 && (rc = tlsguard_ctx_set_time(ctx, o->at)) != 0) {
		error_msg("--at: %s", tlsguard_ctx_last_error(ctx));
		tlsguard_ctx_free(ctx);
		return EXIT_USAGE;
	}
	if (apply_ct_options(o, ctx) != 0) {
		tlsguard_ctx_free(ctx);
		return EXIT_USAGE;
	}
	print_warnings(ctx);
	*out = ctx;
	return 0;
}

static int make_ctx(const struct options *o, tlsguard_ctx **out)
{
	tlsguard_ctx *ctx = NULL;
	size_t i;
	int rc;

	*out = NULL;
	rc = tlsguard_ctx_new(&ctx, o->no_system_ca ? TLSGUARD_CTX_NO_SYSTEM_CA : 0u);
	if (rc != 0) {
		error_msg("cannot create context: %s", tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	if (o->config != NULL && (rc = tlsguard_ctx_load_config(ctx, o->config)) != 0) {
		error_msg("bad config file: %s", tlsguard_ctx_last_error(ctx));
		goto fail;
	}
	if (o->store != NULL && (rc = tlsguard_ctx_set_store(ctx, o->store)) != 0) {
		const char *why = tlsguard_ctx_last_error(ctx);
		error_msg("--store: %s", why[0] ? why : tlsguard_strerror(rc));
		goto fail;
	}
	if (o->no_system_ca && (rc = tlsguard_ctx_set_system_ca(ctx, 0)) != 0) {
		error_msg("--no-system-ca: %s", tlsguard_strerror(rc));
		goto fail;
	}
	for (i = 0; i < o->ncas; i++) {
		rc = tlsguard_ctx_add_ca(ctx, o->cas[i]);
		if (rc != 0) {
			const char *why = tlsguard_ctx_last_error(ctx);
			error_msg("--ca: %s", why[0] ? why : tlsguard_strerror(rc));
			goto fail;
		}
	}
	return finish_ctx(o, ctx, out);
fail:
	tlsguard_ctx_free(ctx);
	return EXIT_USAGE;
}

/* A host as tlsguard accepts it (name or IP literal). */
static int check_host(const char *host, const char *what)
{
	tlsguard_request *req = NULL;
	int rc = tlsguard_request_new(&req, host, strlen(host));

	tlsguard_request_free(req);
	if (rc != 0)
		return usage_error("%s '%s': not a valid host name or IP address", what, host);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Report: the chain, the checks, the events, the verdict             */

struct report {
	const char *host;
	unsigned port;              /* 0 = unknown */
	const char *address;        /* NULL = unknown */
	unsigned address_port;      /* connect: the TCP port connected to */
	const tlsguard_result *res; /* may be NULL */
	int error;                  /* TLSGUARD_E_* when the evaluation failed */
	int accepted;
	int is_connect;
	const char *tls_version;    /* connect: NULL = unknown */
	const char *cipher;
	const char *tls_error;      /* connect: NULL = handshake completed */
	const tlsguard_ctx *ctx;    /* for the config load warnings */
	char report_file[4096];     /* the config's report-file; "" if none */
	int probe;                  /* connect --probe: always show the peers */
};

struct cert_info {
	int decoded;
	gnutls_datum_t subject, issuer; /* gnutls_free() */
	char not_before[32], not_after[32];
	char spki[48];                  /* base64 of a SHA-256; "" if unknown */
};

/* SHA-256 of the DER SubjectPublicKeyInfo, base64 (curl's sha256// pin). */
static void spki_sha256(gnutls_x509_crt_t crt, char *out)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = {NULL, 0};
	unsigned char digest[32];

	out[0] = '\0';
	if (gnutls_pubkey_init(&pub) < 0)
		return;
	if (gnutls_pubkey_import_x509(pub, crt, 0) == 0 && gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) == 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest) == 0)
		base64(digest, sizeof(digest), out);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
}

static void cert_info_load(struct cert_info *ci, const unsigned char *der, size_t len)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;

	memset(ci, 0, sizeof(*ci));
	if (der == NULL || len == 0 || len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
		ci->decoded = 1;
		if (gnutls_x509_crt_get_dn3(crt, &ci->subject, 0) < 0)
			ci->subject.data = NULL;
		if (gnutls_x509_crt_get_issuer_dn3(crt, &ci->issuer, 0) < 0)
			ci->issuer.data = NULL;
		iso_time(gnutls_x509_crt_get_activation_time(crt), ci->not_before, sizeof(ci->not_before));
		iso_time(gnutls_x509_crt_get_expiration_time(crt), ci->not_after, sizeof(ci->not_after));
		spki_sha256(crt, ci->spki);
	}
	gnutls_x509_crt_deinit(crt);
}

static void cert_info_free(struct cert_info *ci)
{
	gnutls_free(ci->subject.data);
	gnutls_free(ci->issuer.data);
	memset(ci, 0, sizeof(*ci));
}

static const char *dn_or_null(const gnutls_datum_t *d)
{
	return d->data ? (const char *)d->data : NULL;
}

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

static const char *outcome_text(int outcome)
{
	switch (outcome) {
	case TLSGUARD_CHECK_PASS: return "pass";
	case TLSGUARD_CHECK_FAIL: return "FAIL";
	case TLSGUARD_CHECK_SKIP: return "skip";
	default: return "ERROR";
	}
}

static const char *outcome_json(int outcome)
{
	switch (outcome) {
	case TLSGUARD_CHECK_PASS: return "pass";
	case TLSGUARD_CHECK_FAIL: return "fail";
	case TLSGUARD_CHECK_SKIP: return "skip";
	default: return "error";
	}
}

/* -- text -- */

static void text_chain(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_cert_count(res);

	fprintf(f, "chain: %zu certificate%s\n", n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		struct cert_info ci;
		size_t len = 0;
		const unsigned char *der = tlsguard_result_cert(res, i, &len);

		cert_info_load(&ci, der, len);
		if (!ci.decoded) {
			fprintf(f, "  [%zu] (not a decodable certificate, %zu bytes)\n", i, len);
			continue;
		}
		fprintf(f, "  [%zu] subject:  ", i);
		text_str(f, dn_or_null(&ci.subject) ? dn_or_null(&ci.subject) : "(unreadable)");
		fputs("\n      issuer:   ", f);
		text_str(f, dn_or_null(&ci.issuer) ? dn_or_null(&ci.issuer) : "(unreadable)");
		fprintf(f, "\n      validity: %s .. %s\n", ci.not_before[0] ? ci.not_before : "?",
		        ci.not_after[0] ? ci.not_after : "?");
		fprintf(f, "      spki:     sha256/%s\n", ci.spki[0] ? ci.spki : "?");
		cert_info_free(&ci);
	}
}

static void text_checks(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_check_count(res);

	fputs(n ? "checks:\n" : "checks: none ran\n", f);
	for (i = 0; i < n; i++) {
		const char *name = tlsguard_result_check_name(res, i);
		fprintf(f, "  %-10s %s\n", name ? name : "?", outcome_text(tlsguard_result_check_outcome(res, i)));
	}
}

/* -- SCTs (the ct check's findings), for verify, connect and sct -- */

static const char *sct_source_name(int source)
{
	switch (source) {
	case TLSGUARD_SCT_EMBEDDED: return "embedded";
	case TLSGUARD_SCT_TLS: return "tls";
	case TLSGUARD_SCT_OCSP: return "ocsp";
	default: return "unknown";
	}
}

/* "2025-09-10T19:11:57.152Z"; "" when before 1970 or after 9999. */
static void iso_time_ms(int64_t ms, char *buf, size_t len)
{
	char s[32];
	size_t n;

	buf[0] = '\0';
	if (ms < 0 || ms > INT64_C(253402300799999))
		return;
	iso_time((time_t)(ms / 1000), s, sizeof(s));
	n = strlen(s);
	if (n == 0 || s[n - 1] != 'Z')
		return;
	s[n - 1] = '\0';
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

struct sct_info {
	char log_id[48];            /* base64 */
	const char *log, *op;       /* "" when the log is not in the list */
	int64_t ms;
	char when[40];              /* "" when not representable */
	int source, status;
};

static int sct_info_get(const tlsguard_result *res, size_t i, struct sct_info *si)
{
	const unsigned char *id = NULL;

	memset(si, 0, sizeof(*si));
	if (tlsguard_result_sct(res, i, &id, &si->log, &si->op, &si->ms, &si->source, &si->status) != 0 || id == NULL)
		return -1;
	base64(id, 32, si->log_id);
	iso_time_ms(si->ms, si->when, sizeof(si->when));
	return 0;
}

static void text_scts(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_sct_count(res);

	if (n == 0) {
		fputs("scts: none\n", f);
		return;
	}
	fprintf(f, "scts: %zu\n", n);
	for (i = 0; i < n; i++) {
		struct sct_info si;
		if (sct_info_get(res, i, &si) != 0)
			continue;
		fprintf(f, "  [%zu] log:       ", i);
		text_str(f, si.log[0] ? si.log : "(not in the log list)");
		fputs("\n      operator:  ", f);
		text_str(f, si.op[0] ? si.op : "(unknown)");
		fprintf(f, "\n      log id:    %s\n", si.log_id);
		if (si.when[0])
			fprintf(f, "      timestamp: %s\n", si.when);
		else
			fprintf(f, "      timestamp: %" PRId64 " ms after 1970\n", si.ms);
		fprintf(f, "      source:    %s\n      status:    %s\n", sct_source_name(si.source),
		        tlsguard_sct_status_name(si.status));
	}
}

/* -- aligned tables (peers, store history) -- */

/* @s as text_str() shows it, in a new string; NULL when out of memory. */
static char *text_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return NULL;
	text_str(m, s ? s : "");
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Columns a string takes on a terminal: its UTF-8 characters. */
static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

struct table {
	size_t ncols;
	const char *const *head; /* column titles, static */
	char **cells;            /* nrows * ncols, shown as text_str() shows them */
	size_t nrows, cap;
	int oom;
};

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* Append a row of t->ncols strings (NULL or "" show as "-"). */
static void table_add(struct table *t, const char *const *row)
{
	size_t i;

	if (t->oom)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, cap * t->ncols * sizeof(*nc));
		if (nc == NULL) {
			t->oom = 1;
			return;
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = text_dup(row[i] && row[i][0] ? row[i] : "-");
		if (c == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			t->oom = 1;
			return;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

static void table_line(FILE *f, const char *const *cells, const size_t *width, size_t ncols, const char *indent)
{
	size_t i;

	fputs(indent, f);
	for (i = 0; i < ncols; i++) {
		fputs(cells[i], f);
		if (i + 1 < ncols)
			fprintf(f, "%*s", (int)(width[i] - display_width(cells[i]) + 2), "");
	}
	fputc('\n', f);
}

/* The titles, then the rows, each column as wide as its widest cell. */
static void table_print(FILE *f, const struct table *t, const char *indent)
{
	size_t width[16] = {0}, i, j;

	for (j = 0; j < t->ncols && j < 16; j++) {
		width[j] = display_width(t->head[j]);
		for (i = 0; i < t->nrows; i++) {
			size_t w = display_width(t->cells[i * t->ncols + j]);
			if (w > width[j])
				width[j] = w;
		}
	}
	table_line(f, t->head, width, t->ncols, indent);
	for (i = 0; i < t->nrows; i++)
		table_line(f, (const char *const *)&t->cells[i * t->ncols], width, t->ncols, indent);
}

/* -- peers: the host's other addresses, as the consistency check saw them -- */

/* "peers: N" and a table, when there are peers or @always. */
static void text_peers(FILE *f, const tlsguard_result *res, int always)
{
	static const char *const head[] = {"ADDRESS", "FROM", "STATUS", "DETAIL"};
	struct table t = {4, head, NULL, 0, 0, 0};
	size_t i, n = tlsguard_result_peer_count(res);

	if (n == 0) {
		if (always)
			fputs("peers: none (no other address of the host was probed or seen)\n", f);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *addr = NULL, *detail = NULL, *row[4];
		int status = -1, probed = 0;

		if (tlsguard_result_peer(res, i, &addr, &status, &probed, &detail) != 0)
			continue;
		row[0] = addr;
		row[1] = probed ? "probed" : "seen";
		row[2] = tlsguard_peer_status_name(status);
		row[3] = detail;
		table_add(&t, row);
	}
	fprintf(f, "peers: %zu (the host's other addresses, compared with this one)\n", n);
	if (t.oom)
		fputs("  (out of memory)\n", f);
	else
		table_print(f, &t, "  ");
	table_free(&t);
}

static void text_events(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_event_count(res);

	if (n == 0) {
		fputs("events: none\n", f);
		return;
	}
	fprintf(f, "events: %zu\n", n);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		const char *key = tlsguard_code_key(tlsguard_event_code(ev));
		int idx = tlsguard_event_cert_index(ev);

		fprintf(f, "  [%zu] %s %s %s (check %s", i, tlsguard_severity_name(tlsguard_event_severity(ev)),
		        key ? key : "unknown", tlsguard_event_name(ev), tlsguard_event_check(ev));
		if (idx >= 0)
			fprintf(f, ", certificate %d", idx);
		fputs(")\n      message: ", f);
		text_str(f, tlsguard_event_message(ev));
		fputs("\n      detail:  ", f);
		text_str(f, tlsguard_event_detail(ev));
		fputc('\n', f);
	}
}

/* Whether the library said it could not append to the report file: a
 * warning internal-error event whose detail starts with the path. */
static int report_append_failed(const struct report *r)
{
	size_t i, n = tlsguard_result_event_count(r->res), plen = strlen(r->report_file);

	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(r->res, i);
		if (tlsguard_event_code(ev) == TLSGUARD_EV_INTERNAL_ERROR &&
		    tlsguard_event_severity(ev) == TLSGUARD_SEV_WARNING &&
		    strncmp(tlsguard_event_detail(ev), r->report_file, plen) == 0)
			return 1;
	}
	return 0;
}

/* "report: written to PATH" when the evaluation made a report and the
 * config names a report file. */
static void text_report_file(FILE *f, const struct report *r)
{
	if (tlsguard_result_report(r->res) == NULL || r->report_file[0] == '\0')
		return;
	fputs(report_append_failed(r) ? "report: NOT written to " : "report: written to ", f);
	text_str(f, r->report_file);
	fputs(report_append_failed(r) ? " (see the events)\n" : "\n", f);
}

static void report_text(FILE *f, const struct report *r)
{
	fputs("host: ", f);
	text_str(f, r->host);
	fputc('\n', f);
	if (r->port)
		fprintf(f, "port: %u\n", r->port);
	if (r->address && r->address_port)
		fprintf(f, "address: %s port %u\n", r->address, r->address_port);
	else if (r->address)
		fprintf(f, "address: %s\n", r->address);
	if (r->is_connect) {
		if (r->tls_error)
			fprintf(f, "tls: handshake failed: %s\n", r->tls_error);
		else
			fprintf(f, "tls: %s, %s\n", r->tls_version ? r->tls_version : "?", r->cipher ? r->cipher : "?");
	}
	text_chain(f, r->res);
	text_checks(f, r->res);
	text_scts(f, r->res);
	text_peers(f, r->res, r->probe);
	text_events(f, r->res);
	if (r->error)
		fprintf(f, "error: %s\n", tlsguard_strerror(r->error));
	text_report_file(f, r);
	fprintf(f, "verdict: %s\n", r->accepted ? "accepted" : "REJECTED");
}

/* -- JSON -- */

static void json_chain(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_cert_count(res);

	fputs("\"chain\":[", f);
	for (i = 0; i < n; i++) {
		struct cert_info ci;
		size_t len = 0;
		const unsigned char *der = tlsguard_result_cert(res, i, &len);

		cert_info_load(&ci, der, len);
		fprintf(f, "%s{\"index\":%zu,\"subject\":", i ? "," : "", i);
		json_str(f, dn_or_null(&ci.subject));
		fputs(",\"issuer\":", f);
		json_str(f, dn_or_null(&ci.issuer));
		fputs(",\"not_before\":", f);
		json_str(f, nonempty(ci.not_before));
		fputs(",\"not_after\":", f);
		json_str(f, nonempty(ci.not_after));
		fputs(",\"spki_sha256\":", f);
		json_str(f, nonempty(ci.spki));
		fputc('}', f);
		cert_info_free(&ci);
	}
	fputc(']', f);
}

static void json_checks(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_check_count(res);

	fputs("\"checks\":[", f);
	for (i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, tlsguard_result_check_name(res, i));
		fprintf(f, ",\"outcome\":\"%s\"}", outcome_json(tlsguard_result_check_outcome(res, i)));
	}
	fputc(']', f);
}

static void json_scts(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_sct_count(res);
	int first = 1;

	fputs("\"scts\":[", f);
	for (i = 0; i < n; i++) {
		struct sct_info si;
		if (sct_info_get(res, i, &si) != 0)
			continue;
		fputs(first ? "{\"log_id\":" : ",{\"log_id\":", f);
		first = 0;
		json_str(f, si.log_id);
		fputs(",\"log\":", f);
		json_str(f, nonempty(si.log));
		fputs(",\"operator\":", f);
		json_str(f, nonempty(si.op));
		fprintf(f, ",\"timestamp_ms\":%" PRId64 ",\"timestamp\":", si.ms);
		json_str(f, nonempty(si.when));
		fputs(",\"source\":", f);
		json_str(f, sct_source_name(si.source));
		fputs(",\"status\":", f);
		json_str(f, tlsguard_sct_status_name(si.status));
		fputc('}', f);
	}
	fputc(']', f);
}

/* The events of the check @check, or all of them when it is NULL. */
static void json_events_of(FILE *f, const tlsguard_result *res, const char *check)
{
	size_t i, n = tlsguard_result_event_count(res);
	int first = 1;

	fputs("\"events\":[", f);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		int code = tlsguard_event_code(ev);

		if (check != NULL && strcmp(tlsguard_event_check(ev), check) != 0)
			continue;
		fprintf(f, "%s{\"code\":%d,\"key\":", first ? "" : ",", code);
		first = 0;
		json_str(f, tlsguard_code_key(code));
		fputs(",\"name\":", f);
		json_str(f, tlsguard_event_name(ev));
		fputs(",\"severity\":", f);
		json_str(f, tlsguard_severity_name(tlsguard_event_severity(ev)));
		fputs(",\"check\":", f);
		json_str(f, tlsguard_event_check(ev));
		fprintf(f, ",\"cert_index\":%d,\"message\":", tlsguard_event_cert_index(ev));
		json_str(f, tlsguard_event_message(ev));
		fputs(",\"detail\":", f);
		json_str(f, tlsguard_event_detail(ev));
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_peers(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_peer_count(res);
	int first = 1;

	fputs("\"peers\":[", f);
	for (i = 0; i < n; i++) {
		const char *addr = NULL, *detail = NULL;
		int status = -1, probed = 0;

		if (tlsguard_result_peer(res, i, &addr, &status, &probed, &detail) != 0)
			continue;
		fputs(first ? "{\"address\":" : ",{\"address\":", f);
		first = 0;
		json_str(f, addr);
		fprintf(f, ",\"from\":\"%s\",\"status\":", probed ? "probed" : "seen");
		json_str(f, tlsguard_peer_status_name(status));
		fputs(",\"detail\":", f);
		json_str(f, detail);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_events(FILE *f, const tlsguard_result *res)
{
	json_events_of(f, res, NULL);
}

static void json_warnings(FILE *f, const tlsguard_ctx *ctx)
{
	size_t i, n = tlsguard_ctx_warning_count(ctx);

	fputs("\"warnings\":[", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, tlsguard_ctx_warning(ctx, i));
	}
	fputc(']', f);
}

/* Embed a JSON text made by the library (null for NULL). Its structure is
 * ASCII, so bytes that are not valid UTF-8 can only be inside strings:
 * they become U+FFFD, as in json_str(). */
static void json_raw(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

static void report_json(FILE *f, const struct report *r)
{
	fputs("{\"host\":", f);
	json_str(f, r->host);
	if (r->port)
		fprintf(f, ",\"port\":%u", r->port);
	else
		fputs(",\"port\":null", f);
	fputs(",\"address\":", f);
	json_str(f, r->address);
	fprintf(f, ",\"verdict\":\"%s\",\"error\":", r->accepted ? "accept" : "reject");
	json_str(f, r->error ? tlsguard_strerror(r->error) : NULL);
	if (r->is_connect) {
		fputs(",\"tls\":{\"version\":", f);
		json_str(f, r->tls_version);
		fputs(",\"cipher\":", f);
		json_str(f, r->cipher);
		fputs(",\"error\":", f);
		json_str(f, r->tls_error);
		fputc('}', f);
	}
	fputc(',', f);
	json_chain(f, r->res);
	fputc(',', f);
	json_checks(f, r->res);
	fputc(',', f);
	json_scts(f, r->res);
	fputc(',', f);
	json_peers(f, r->res);
	fputc(',', f);
	json_events(f, r->res);
	fputc(',', f);
	json_warnings(f, r->ctx);
	fputs(",\"report\":", f);
	json_raw(f, tlsguard_result_report(r->res));
	fputs("}\n", f);
}

static void report_print(const struct report *r, int json)
{
	if (json)
		report_json(stdout, r);
	else
		report_text(stdout, r);
	if (fflush(stdout) != 0 || ferror(stdout))
		error_msg("standard output: %s", strerror(errno ? errno : EIO));
}

/* ------------------------------------------------------------------ */
/* verify                                                             */

/* Where the certificates of CHAIN files go: into a request (verify) or
 * into a list of DER copies (pin). */
struct der_list {
	unsigned char **der;
	size_t *len;
	size_t n, cap;
};

struct chain_sink {
	tlsguard_request *req;
	struct der_list *list;
};

static void der_list_free(struct der_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->der[i]);
	free(l->der);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

/* Append a copy of @len bytes at @der. 0 or -1 (out of memory). */
static int der_list_add(struct der_list *l, const unsigned char *der, size_t len)
{
	unsigned char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		unsigned char **nd = realloc(l->der, cap * sizeof(*nd));
		size_t *nl;
		if (nd == NULL)
			return -1;
		l->der = nd;
		nl = realloc(l->len, cap * sizeof(*nl));
		if (nl == NULL)
			return -1;
		l->len = nl;
		l->cap = cap;
	}
	if ((copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, der, len);
	l->der[l->n] = copy;
	l->len[l->n++] = len;
	return 0;
}

/* Check that @der is an X.509 certificate and add it to the sink. */
static int add_der(const struct chain_sink *sink, const char *path, size_t nth, const unsigned char *der,
                   size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	int ret;

	if (len > UINT32_MAX) {
		error_msg("%s: certificate %zu is too large", path, nth);
		return -1;
	}
	if (gnutls_x509_crt_init(&crt) < 0) {
		error_msg("%s: out of memory", path);
		return -1;
	}
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	gnutls_x509_crt_deinit(crt);
	if (ret < 0) {
		error_msg("%s: certificate %zu is not a valid X.509 certificate: %s", path, nth, gnutls_strerror(ret));
		return -1;
	}
	if (sink->list != NULL) {
		if (der_list_add(sink->list, der, len) != 0) {
			error_msg("%s: out of memory", path);
			return -1;
		}
		return 0;
	}
	ret = tlsguard_request_add_cert(sink->req, der, len);
	if (ret != 0) {
		error_msg("%s: certificate %zu: %s", path, nth, tlsguard_strerror(ret));
		return -1;
	}
	return 0;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* Every CERTIFICATE block of a PEM file, in order. */
static int add_pem(const struct chain_sink *sink, const char *path, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t nth = 0;

	while ((p = mem_find(p, (size_t)(end - p), PEM_BEGIN)) != NULL) {
		const char *stop = mem_find(p, (size_t)(end - p), PEM_END);
		gnutls_datum_t in, der = {NULL, 0};
		int ret;

		nth++;
		if (stop == NULL) {
			error_msg("%s: certificate %zu: PEM block has no '" PEM_END "' line", path, nth);
			return -1;
		}
		stop += strlen(PEM_END);
		in.data = (unsigned char *)(uintptr_t)p;
		in.size = (unsigned)(stop - p);
		ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, &der);
		if (ret < 0) {
			error_msg("%s: certificate %zu: bad PEM: %s", path, nth, gnutls_strerror(ret));
			return -1;
		}
		ret = add_der(sink, path, nth, der.data, der.size);
		gnutls_free(der.data);
		if (ret != 0)
			return -1;
		p = stop;
	}
	if (nth == 0) {
		error_msg("%s: no '" PEM_BEGIN "' block in PEM file", path);
		return -1;
	}
	return 0;
}

/* One CHAIN file: PEM (one or more certificates) or one DER certificate. */
static int load_chain_file(const struct chain_sink *sink, const char *path)
{
	unsigned char *data;
	size_t len;
	int rc;

	if (read_file(path, "chain file", &data, &len) != 0)
		return -1;
	if (mem_find((const char *)data, len, "-----BEGIN") != NULL)
		rc = add_pem(sink, path, (const char *)data, len);
	else
		rc = add_der(sink, path, 1, data, len);
	free(data);
	return rc;
}

static int load_ocsp_file(tlsguard_request *req, const char *path)
{
	unsigned char *data;
	size_t len;
	int rc;

	if (read_file(path, "OCSP response file", &data, &len) != 0)
		return -1;
	rc = tlsguard_request_set_ocsp_response(req, data, len);
	free(data);
	if (rc != 0) {
		error_msg("%s: %s", path, tlsguard_strerror(rc));
		return -1;
	}
	return 0;
}

/* --tls-sct: a SignedCertificateTimestampList as the TLS extension
 * carries it (RFC 6962 sec. 3.3), handed over as the TLS stack would. Its
 * contents are parsed at evaluation: a malformed list is a ct-invalid
 * event, not an input error. */
static int load_tls_sct_file(tlsguard_request *req, const char *path)
{
	unsigned char *data;
	size_t len;
	int rc;

	if (read_file(path, "SCT list file", &data, &len) != 0)
		return -1;
	rc = tlsguard_request_add_sct_list(req, TLSGUARD_SCT_TLS, data, len);
	free(data);
	if (rc != 0) {
		error_msg("%s: not usable as an SCT list (%zu bytes): %s", path, len, tlsguard_strerror(rc));
		return -1;
	}
	return 0;
}

static int build_request(const struct options *o, tlsguard_request **out)
{
	struct chain_sink sink;
	tlsguard_request *req = NULL;
	size_t i;
	int rc;

	*out = NULL;
	rc = tlsguard_request_new(&req, o->host, strlen(o->host));
	if (rc == TLSGUARD_E_INVALID)
		return usage_error("--host '%s': not a valid host name or IP address", o->host);
	if (rc == 0 && o->port)
		rc = tlsguard_request_set_port(req, o->port);
	if (rc != 0) {
		error_msg("cannot create request: %s", tlsguard_strerror(rc));
		tlsguard_request_free(req);
		return EXIT_USAGE;
	}
	sink.req = req;
	sink.list = NULL;
	for (i = 0; i < o->nargs; i++) {
		if (load_chain_file(&sink, o->args[i]) != 0) {
			tlsguard_request_free(req);
			return EXIT_USAGE;
		}
	}
	if ((o->ocsp != NULL && load_ocsp_file(req, o->ocsp) != 0) ||
	    (o->tls_sct != NULL && load_tls_sct_file(req, o->tls_sct) != 0)) {
		tlsguard_request_free(req);
		return EXIT_USAGE;
	}
	*out = req;
	return 0;
}

static int cmd_verify(const struct options *o)
{
	tlsguard_ctx *ctx = NULL;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	struct report r;
	int rc;

	rc = build_request(o, &req);
	if (rc != 0)
		return rc;
	rc = make_ctx(o, &ctx);
	if (rc != 0) {
		tlsguard_request_free(req);
		return rc;
	}
	rc = tlsguard_verify(ctx, req, &res);
	if (rc != 0)
		error_msg("%s: the evaluation could not complete (rejected): %s", o->host, tlsguard_strerror(rc));
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	config_report_file(o->config, r.report_file, sizeof(r.report_file));
	r.host = o->host;
	r.port = o->port;
	r.res = res;
	r.error = rc;
	r.accepted = rc == 0 && tlsguard_result_verdict(res) == TLSGUARD_ACCEPT;
	report_print(&r, o->json);
	tlsguard_result_free(res);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	return r.accepted ? EXIT_ACCEPTED : EXIT_REJECTED;
}

/* ------------------------------------------------------------------ */
/* connect                                                            */

struct endpoint {
	char host[HOST_MAX + 3]; /* without brackets */
	unsigned port;           /* 0 = not given */
};

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal. */
static int parse_endpoint(const char *s, struct endpoint *ep)
{
	const char *host = s, *port = NULL, *colon;
	size_t hlen;

	memset(ep, 0, sizeof(*ep));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - s);
		port = colon + 1;
	} else {
		hlen = strlen(s); /* a name, or an IPv6 literal without a port */
	}
	if (hlen == 0 || hlen >= sizeof(ep->host))
		return -1;
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	if (port != NULL && parse_port(port, &ep->port) != 0)
		return -1;
	return 0;
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* connect() with a timeout. Returns 0 or an errno value. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
	int flags = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd pfd;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return errno;
	if (connect(fd, sa, salen) != 0) {
		if (errno != EINPROGRESS)
			return errno;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		for (;;) {
			int n = poll(&pfd, 1, timeout_ms);
			if (n > 0)
				break;
			if (n == 0)
				return ETIMEDOUT;
			if (errno != EINTR)
				return errno;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			return errno;
		if (err != 0)
			return err;
	}
	if (fcntl(fd, F_SETFL, flags) < 0)
		return errno;
	return 0;
}

/* Resolve @node (numeric only if @numeric) and connect to the first
 * address that answers. Returns the socket or -1 (message printed). */
static int tcp_connect(const char *node, unsigned port, int numeric, char *peer, size_t peerlen)
{
	struct addrinfo hints, *ai = NULL, *a;
	char service[8];
	int fd = -1, ret, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(node, service, &hints, &ai);
	if (ret != 0) {
		error_msg("%s: cannot resolve: %s", node, ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (getnameinfo(a->ai_addr, a->ai_addrlen, peer, (socklen_t)peerlen, NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(peer, peerlen, "?");
		err = connect_timeout(fd, a->ai_addr, a->ai_addrlen, NET_TIMEOUT_MS);
		if (err == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		int other = peer[0] != '\0' && strcmp(peer, node) != 0;
		error_msg("%s port %u: cannot connect%s%s: %s", node, port, other ? " to " : "", other ? peer : "",
		          strerror(err ? err : ECONNREFUSED));
	}
	return fd;
}

struct tls_conn {
	gnutls_certificate_credentials_t cred;
	gnutls_session_t session;
};

static void tls_conn_free(struct tls_conn *c)
{
	if (c->session != NULL)
		gnutls_deinit(c->session);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	memset(c, 0, sizeof(*c));
}

/* A client session on @fd whose peer tlsguard verifies: default priority,
 * certificate credentials with no trust of their own. */
static int tls_conn_init(struct tls_conn *c, const tlsguard_ctx *ctx, int fd, const char *host, unsigned port)
{
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = gnutls_certificate_allocate_credentials(&c->cred)) < 0 ||
	    (ret = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) < 0 ||
	    (ret = gnutls_set_default_priority(c->session)) < 0 ||
	    (ret = gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred)) < 0) {
		error_msg("cannot set up the TLS session: %s", gnutls_strerror(ret));
		return -1;
	}
	gnutls_transport_set_int(c->session, fd);
	gnutls_handshake_set_timeout(c->session, NET_TIMEOUT_MS);
	ret = tlsguard_session_attach(ctx, c->session, host, port);
	if (ret != 0) {
		error_msg("%s: cannot attach tlsguard to the TLS session: %s", host, tlsguard_strerror(ret));
		return -1;
	}
	return 0;
}

static int handshake(gnutls_session_t s)
{
	int ret;

	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	return ret;
}

/* Handshake, then report. Returns the exit status. */
static int run_tls(const struct options *o, const tlsguard_ctx *ctx, int fd, const struct endpoint *ep,
                   const char *peer, unsigned peer_port)
{
	struct tls_conn c;
	struct report r;
	int ret, refused, status;

	if (tls_conn_init(&c, ctx, fd, ep->host, ep->port) != 0) {
		tls_conn_free(&c);
		return EXIT_NETWORK;
	}
	ret = handshake(c.session);
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	config_report_file(o->config, r.report_file, sizeof(r.report_file));
	r.host = ep->host;
	r.port = ep->port;
	r.address = peer;
	r.address_port = peer_port;
	r.is_connect = 1;
	r.probe = o->probe;
	r.res = tlsguard_session_result(c.session);
	r.error = r.res ? tlsguard_result_error(r.res) : 0;
	if (ret == 0) {
		r.tls_version = gnutls_protocol_get_name(gnutls_protocol_get_version(c.session));
		r.cipher = gnutls_ciphersuite_get(c.session);
		/* Fail closed: a completed handshake needs tlsguard's accept. */
		r.accepted = tlsguard_result_verdict(r.res) == TLSGUARD_ACCEPT;
		if (r.res == NULL) {
			r.error = TLSGUARD_E_INTERNAL;
			error_msg("%s: handshake completed without a tlsguard evaluation (rejected)", ep->host);
		}
		status = r.accepted ? EXIT_ACCEPTED : EXIT_REJECTED;
	} else {
		r.tls_error = gnutls_strerror(ret);
		/* tlsguard refused when its verdict is reject, or when GnuTLS
		 * reports the verify function's failure without a result. */
		refused = (r.res != NULL && tlsguard_result_verdict(r.res) != TLSGUARD_ACCEPT) ||
		          (r.res == NULL &&
		           (ret == GNUTLS_E_CERTIFICATE_ERROR || ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR));
		if (refused) {
			if (r.res == NULL)
				r.error = TLSGUARD_E_INTERNAL;
			error_msg("%s port %u: tlsguard refused the server's certificate", ep->host, ep->port);
			status = EXIT_REJECTED;
		} else {
			error_msg("%s port %u: TLS handshake failed: %s", ep->host, ep->port, gnutls_strerror(ret));
			status = EXIT_NETWORK;
		}
	}
	if (r.res != NULL || status != EXIT_NETWORK)
		report_print(&r, o->json);
	if (ret == 0)
		gnutls_bye(c.session, GNUTLS_SHUT_WR);
	tls_conn_free(&c);
	return status;
}

#define MAX_ADDRESSES 16 /* tlsguard_ctx_set_host_addresses() takes 1..16 */

struct address_list {
	char *buf;                 /* a copy of the --addresses text, cut up */
	const char *v[MAX_ADDRESSES];
	size_t n;
};

/* --addresses A,B,...: numeric IPv4 or IPv6 addresses, separated by commas
 * (white space around them is allowed). Returns 0 or EXIT_USAGE. */
static int parse_addresses(const char *arg, struct address_list *l)
{
	char *p, *next;

	memset(l, 0, sizeof(*l));
	if ((l->buf = strdup(arg)) == NULL) {
		error_msg("out of memory");
		return EXIT_USAGE;
	}
	for (p = l->buf; p != NULL; p = next) {
		char *e;
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		p += strspn(p, " \t");
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (p[0] == '\0')
			return usage_error("--addresses '%s': an empty address (expected A,B,... numeric IP addresses)", arg);
		if (!is_ip_literal(p))
			return usage_error("--addresses '%s': '%s' is not a numeric IPv4 or IPv6 address", arg, p);
		if (l->n == MAX_ADDRESSES)
			return usage_error("--addresses '%s': more than %d addresses", arg, MAX_ADDRESSES);
		l->v[l->n++] = p;
	}
	return 0;
}

/* connect --probe and --addresses, on top of the config: the consistency
 * check for @host, enforced, probing on every connection without reusing
 * a cached probe; the probe's addresses. Returns 0 or EXIT_USAGE (message
 * printed). */
static int apply_probe_options(const struct options *o, tlsguard_ctx *ctx, const char *host,
                               const struct address_list *addrs)
{
	char conf[HOST_MAX + 64];
	const char *why;
	int rc;

	if (o->probe) {
		rc = tlsguard_ctx_set_consistency(ctx, host, TLSGUARD_CONSISTENCY_ENFORCE, TLSGUARD_PROBE_ALWAYS, 0, 0);
		if (rc != 0) {
			why = tlsguard_ctx_last_error(ctx);
			error_msg("--probe: %s", why[0] ? why : tlsguard_strerror(rc));
			return EXIT_USAGE;
		}
		/* A probe cached in the history would stand in for asking now. */
		snprintf(conf, sizeof(conf), "[%s]\nprobe-cache-seconds = 0\n", host);
		rc = tlsguard_ctx_load_config_mem(ctx, conf, strlen(conf), "--probe");
		if (rc != 0) {
			why = tlsguard_ctx_last_error(ctx);
			error_msg("--probe: %s", why[0] ? why : tlsguard_strerror(rc));
			return EXIT_USAGE;
		}
	}
	if (addrs->n > 0 && (rc = tlsguard_ctx_set_host_addresses(ctx, host, addrs->v, addrs->n)) != 0) {
		why = tlsguard_ctx_last_error(ctx);
		error_msg("--addresses: %s", why[0] ? why : tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_connect(const struct options *o)
{
	struct endpoint ep, to;
	struct address_list addrs;
	tlsguard_ctx *ctx = NULL;
	char peer[NI_MAXHOST] = "";
	int rc, fd;

	memset(&addrs, 0, sizeof(addrs));
	if (parse_endpoint(o->args[0], &ep) != 0)
		return usage_error("connect: '%s': expected HOST, HOST:PORT or [IPV6]:PORT", o->args[0]);
	if (ep.port == 0)
		ep.port = DEFAULT_PORT;
	rc = check_host(ep.host, "connect: HOST");
	if (rc != 0)
		return rc;
	memset(&to, 0, sizeof(to));
	if (o->connect_to != NULL) {
		if (parse_endpoint(o->connect_to, &to) != 0 || !is_ip_literal(to.host))
			return usage_error("--connect-to '%s': expected an IP address, ADDRESS:PORT or [IPV6]:PORT",
			                   o->connect_to);
		if (to.port == 0)
			to.port = ep.port;
	}
	if (o->addresses != NULL && (rc = parse_addresses(o->addresses, &addrs)) != 0)
		goto out;
	rc = make_ctx(o, &ctx);
	if (rc != 0)
		goto out;
	rc = apply_probe_options(o, ctx, ep.host, &addrs);
	if (rc != 0)
		goto out;
	if (o->connect_to != NULL)
		fd = tcp_connect(to.host, to.port, 1, peer, sizeof(peer));
	else
		fd = tcp_connect(ep.host, ep.port, 0, peer, sizeof(peer));
	if (fd < 0) {
		rc = EXIT_NETWORK;
		goto out;
	}
	rc = run_tls(o, ctx, fd, &ep, peer, o->connect_to != NULL ? to.port : ep.port);
	close(fd);
out:
	tlsguard_ctx_free(ctx);
	free(addrs.buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pin                                                                */

#define PIN_TEXT 100    /* tlsguard_pin_format() never needs more */
#define DN_IN_CONFIG 200 /* bytes of a DN quoted in a config comment */
#define NO_PIN ((size_t)-1)

struct pin_cert {
	int decoded;
	gnutls_x509_crt_t crt;          /* NULL if not decodable */
	gnutls_datum_t subject, issuer; /* gnutls_free() */
	int has_pin;
	char sha256[PIN_TEXT], curl[PIN_TEXT], hpkp[PIN_TEXT], hex[PIN_TEXT];
	const char *role;               /* "leaf", "intermediate", "root" */
	int self_signed;
};

struct pin_set {
	struct pin_cert *c;
	size_t n;
	size_t pinned;               /* the certificate the section pins, or NO_PIN */
	char host[HOST_MAX + 3];     /* the section's host; "" = unknown */
	char *config;                /* the section text */
};

/* pin --connect: the connection the chain came from. */
struct pin_conn {
	struct endpoint ep;
	char peer[NI_MAXHOST];
	unsigned peer_port;
	char tls_version[32], cipher[128];
	tlsguard_result *res; /* tlsguard's verdict, for information */
	int error;            /* TLSGUARD_E_* when that could not complete */
};

/* @pin as text in @syntax; "?" if the library refuses (it does not). */
static void fmt_pin(const unsigned char pin[32], int syntax, char out[PIN_TEXT])
{
	if (tlsguard_pin_format(pin, syntax, out, PIN_TEXT) != 0)
		snprintf(out, PIN_TEXT, "?");
}

static void pin_set_free(struct pin_set *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		if (ps->c[i].crt != NULL)
			gnutls_x509_crt_deinit(ps->c[i].crt);
		gnutls_free(ps->c[i].subject.data);
		gnutls_free(ps->c[i].issuer.data);
	}
	free(ps->c);
	free(ps->config);
	memset(ps, 0, sizeof(*ps));
}

/* A name that can head a config section ("name", "*.suffix", IP literal):
 * lower-cased into @out. */
static int section_host(const char *name, size_t len, char *out, size_t outlen)
{
	const char *base = name;
	size_t blen = len, i;
	tlsguard_request *req = NULL;
	int rc;

	if (len == 0 || len + 1 > outlen || memchr(name, '\0', len) != NULL)
		return -1;
	if (len > 2 && name[0] == '*' && name[1] == '.') {
		base = name + 2;
		blen = len - 2;
		if (memchr(base, '.', blen) == NULL) /* [*.com] is not allowed */
			return -1;
	}
	for (i = 0; i < blen; i++) {
		unsigned char c = (unsigned char)base[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.' || c == ':'))
			return -1;
	}
	rc = tlsguard_request_new(&req, base, blen);
	tlsguard_request_free(req);
	if (rc != 0)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	out[len] = '\0';
	if (len > 1 && out[len - 1] == '.') /* one trailing dot is ignored */
		out[len - 1] = '\0';
	return 0;
}

/* The host a chain from files is for: the leaf's first usable DNS name,
 * else its common name; "" when neither makes a section name. */
static void guess_host(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	char buf[512];
	size_t size;
	unsigned i;
	int ret;

	out[0] = '\0';
	for (i = 0; i < 1024; i++) {
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size, NULL);
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (ret < 0)
			break;
		if (ret == GNUTLS_SAN_DNSNAME && size < sizeof(buf) && section_host(buf, size, out, outlen) == 0)
			return;
	}
	size = sizeof(buf) - 1;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) == 0 &&
	    size < sizeof(buf) && section_host(buf, size, out, outlen) == 0)
		return;
	out[0] = '\0';
}

/* Decode the certificates, compute their pins, name their roles and choose
 * the one to pin: the leaf's issuer when the chain has it, else the leaf. */
static int pin_set_load(struct pin_set *ps, const struct der_list *certs)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->pinned = NO_PIN;
	ps->c = calloc(certs->n ? certs->n : 1, sizeof(*ps->c));
	if (ps->c == NULL) {
		error_msg("out of memory");
		return -1;
	}
	ps->n = certs->n;
	for (i = 0; i < certs->n; i++) {
		struct pin_cert *pc = &ps->c[i];
		unsigned char pin[32];
		gnutls_datum_t d;

		pc->role = i == 0 ? "leaf" : "intermediate";
		if (certs->len[i] > UINT32_MAX || gnutls_x509_crt_init(&pc->crt) < 0) {
			pc->crt = NULL;
			continue;
		}
		d.data = certs->der[i];
		d.size = (unsigned)certs->len[i];
		if (gnutls_x509_crt_import(pc->crt, &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(pc->crt);
			pc->crt = NULL;
			continue;
		}
		pc->decoded = 1;
		if (gnutls_x509_crt_get_dn3(pc->crt, &pc->subject, 0) < 0)
			pc->subject.data = NULL;
		if (gnutls_x509_crt_get_issuer_dn3(pc->crt, &pc->issuer, 0) < 0)
			pc->issuer.data = NULL;
		pc->self_signed = gnutls_x509_crt_check_issuer(pc->crt, pc->crt) == 1;
		if (i > 0 && pc->self_signed)
			pc->role = "root";
		if (tlsguard_pin_from_cert(certs->der[i], certs->len[i], pin) == 0) {
			pc->has_pin = 1;
			fmt_pin(pin, TLSGUARD_PIN_SYNTAX_SHA256, pc->sha256);
			fmt_pin(pin, TLSGUARD_PIN_SYNTAX_CURL, pc->curl);
			fmt_pin(pin, TLSGUARD_PIN_SYNTAX_HPKP, pc->hpkp);
			fmt_pin(pin, TLSGUARD_PIN_SYNTAX_HEX, pc->hex);
		}
	}
	if (ps->n > 0 && ps->c[0].decoded && !ps->c[0].self_signed) {
		for (i = 1; i < ps->n; i++) {
			if (ps->c[i].has_pin && gnutls_x509_crt_check_issuer(ps->c[0].crt, ps->c[i].crt) == 1) {
				ps->pinned = i;
				break;
			}
		}
	}
	if (ps->pinned == NO_PIN && ps->n > 0 && ps->c[0].has_pin)
		ps->pinned = 0;
	return 0;
}

/* A DN for a config comment: control characters escaped (a certificate
 * must not be able to start a new line in the pasted config), and cut to
 * DN_IN_CONFIG bytes so that the line stays well within the parser's limit. */
static void config_dn(FILE *f, const gnutls_datum_t *dn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (dn->data == NULL) {
		fputs("unreadable name", f);
		return;
	}
	m = open_memstream(&buf, &len);
	if (m == NULL) {
		fputs("?", f);
		return;
	}
	text_str(m, (const char *)dn->data);
	if (fclose(m) != 0 || buf == NULL) {
		free(buf);
		fputs("?", f);
		return;
	}
	if (len > DN_IN_CONFIG) {
		len = DN_IN_CONFIG;
		while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80) /* not inside a UTF-8 character */
			len--;
		fwrite(buf, 1, len, f);
		fputs("...", f);
	} else {
		fwrite(buf, 1, len, f);
	}
	free(buf);
}

static const char *role_advice(const struct pin_cert *pc)
{
	if (!strcmp(pc->role, "leaf"))
		return "pins break when the server's key is rotated";
	if (!strcmp(pc->role, "root"))
		return "survives changes of the leaf and intermediates, but admits every certificate under this root";
	return "survives leaf key rotation while the CA is kept";
}

/* The ready-to-paste tlsguard.conf section. */
static int pin_set_config(struct pin_set *ps)
{
	size_t len = 0, i;
	FILE *m = open_memstream(&ps->config, &len);

	if (m == NULL) {
		error_msg("out of memory");
		return -1;
	}
	if (ps->host[0])
		fprintf(m, "[%s]\n", ps->host);
	else
		fputs("# Replace <HOST> with the server's name.\n[<HOST>]\n", m);
	for (i = 0; i < ps->n; i++) {
		const struct pin_cert *pc = &ps->c[i];
		if (!pc->decoded || !pc->has_pin) {
			fprintf(m, "# certificate %zu: not decodable, no pin\n", i);
			continue;
		}
		fprintf(m, "# %s (", pc->role);
		config_dn(m, &pc->subject);
		fprintf(m, ")%s: %s\n", i == 0 && pc->self_signed ? ", self-signed" : "", role_advice(pc));
		fprintf(m, "%spin = %s\n", i == ps->pinned ? "" : "# ", pc->sha256);
	}
	if (ps->pinned == 0 && ps->n > 0 && !ps->c[0].self_signed)
		fputs("# The chain does not hold the leaf's issuer, so the leaf's key is pinned.\n", m);
	if (ps->pinned == NO_PIN)
		fputs("# No certificate of the chain could be pinned.\n", m);
	fputs("# Always add a backup pin: a key you control but do not use yet, or another CA you may move to.\n"
	      "# pin = sha256/<BACKUP: pin of a key you hold in reserve>\n",
	      m);
	if (fclose(m) != 0 || ps->config == NULL) {
		error_msg("out of memory");
		return -1;
	}
	return 0;
}

/* Keys of the fatal and warning events, comma-separated, for one line. */
static void text_event_keys(FILE *f, const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_event_count(res);
	int first = 1;

	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		const char *key = tlsguard_code_key(tlsguard_event_code(ev));
		if (tlsguard_event_severity(ev) == TLSGUARD_SEV_INFO)
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", key ? key : tlsguard_event_name(ev));
		first = 0;
	}
}

static int pin_verdict_accepted(const struct pin_conn *pc)
{
	return pc->error == 0 && tlsguard_result_verdict(pc->res) == TLSGUARD_ACCEPT;
}

static void pin_text(FILE *f, const struct pin_set *ps, const struct pin_conn *pc)
{
	size_t i;

	if (pc != NULL) {
		fputs("host: ", f);
		text_str(f, pc->ep.host);
		fprintf(f, "\nport: %u\naddress: %s port %u\ntls: %s, %s\n", pc->ep.port, pc->peer, pc->peer_port,
		        pc->tls_version, pc->cipher);
	} else if (ps->host[0]) {
		fprintf(f, "host: %s (from the leaf's names)\n", ps->host);
	} else {
		fputs("host: unknown (the leaf names no DNS name; replace <HOST> in the section)\n", f);
	}
	fprintf(f, "certificates: %zu\n", ps->n);
	for (i = 0; i < ps->n; i++) {
		const struct pin_cert *c = &ps->c[i];
		if (!c->decoded) {
			fprintf(f, "  [%zu] (not a decodable certificate)\n", i);
			continue;
		}
		fprintf(f, "  [%zu] subject: ", i);
		text_str(f, dn_or_null(&c->subject) ? dn_or_null(&c->subject) : "(unreadable)");
		fputs("\n      issuer:  ", f);
		text_str(f, dn_or_null(&c->issuer) ? dn_or_null(&c->issuer) : "(unreadable)");
		fprintf(f, "\n      role:    %s%s%s\n", c->role, i == 0 && c->self_signed ? " (self-signed)" : "",
		        i == ps->pinned ? ", pinned in the section below" : "");
		if (!c->has_pin) {
			fputs("      pin:     (none: the public key could not be read)\n", f);
			continue;
		}
		fprintf(f, "      sha256:  %s\n      curl:    %s\n      hpkp:    %s\n      hex:     %s\n", c->sha256,
		        c->curl, c->hpkp, c->hex);
	}
	if (pc != NULL) {
		fprintf(f, "verdict: %s (for information only: pins are printed either way)",
		        pin_verdict_accepted(pc) ? "accepted" : "REJECTED");
		if (pc->error)
			fprintf(f, "\n  error: %s", tlsguard_strerror(pc->error));
		else if (!pin_verdict_accepted(pc)) {
			fputs("\n  because: ", f);
			text_event_keys(f, pc->res);
		}
		fputc('\n', f);
	}
	fputs("\nconfig section (paste into tlsguard.conf, see tlsguard.conf(5)):\n\n", f);
	fputs(ps->config, f);
}

static void pin_json(FILE *f, const struct pin_set *ps, const struct pin_conn *pc)
{
	size_t i;

	fputs("{\"host\":", f);
	json_str(f, pc != NULL ? pc->ep.host : nonempty(ps->host));
	if (pc != NULL) {
		fprintf(f, ",\"port\":%u,\"address\":", pc->ep.port);
		json_str(f, pc->peer);
		fputs(",\"tls\":{\"version\":", f);
		json_str(f, nonempty(pc->tls_version));
		fputs(",\"cipher\":", f);
		json_str(f, nonempty(pc->cipher));
		fprintf(f, "},\"verdict\":\"%s\",\"error\":", pin_verdict_accepted(pc) ? "accept" : "reject");
		json_str(f, pc->error ? tlsguard_strerror(pc->error) : NULL);
		fputc(',', f);
		json_events(f, pc->res);
	}
	fputs(",\"certificates\":[", f);
	for (i = 0; i < ps->n; i++) {
		const struct pin_cert *c = &ps->c[i];
		fprintf(f, "%s{\"index\":%zu,\"subject\":", i ? "," : "", i);
		json_str(f, dn_or_null(&c->subject));
		fputs(",\"issuer\":", f);
		json_str(f, dn_or_null(&c->issuer));
		fputs(",\"role\":", f);
		json_str(f, c->decoded ? c->role : NULL);
		fprintf(f, ",\"pinned\":%s,\"pins\":", i == ps->pinned ? "true" : "false");
		if (c->has_pin) {
			fputs("{\"sha256\":", f);
			json_str(f, c->sha256);
			fputs(",\"curl\":", f);
			json_str(f, c->curl);
			fputs(",\"hpkp\":", f);
			json_str(f, c->hpkp);
			fputs(",\"hex\":", f);
			json_str(f, c->hex);
			fputc('}', f);
		} else {
			fputs("null", f);
		}
		fputc('}', f);
	}
	fputs("],\"config\":", f);
	json_str(f, ps->config);
	fputs("}\n", f);
}

/* pin --connect: a handshake that does not verify (the point is to learn
 * what the server presents), then tlsguard's verdict for information.
 * Fills @certs and @pc; returns 0 or an exit status. */
static int pin_connect(const struct options *o, struct der_list *certs, struct pin_conn *pc)
{
	struct endpoint to;
	tlsguard_ctx *ctx = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t session = NULL;
	const gnutls_datum_t *peers;
	unsigned n = 0, i;
	int rc, ret, fd = -1, status = EXIT_NETWORK;

	memset(pc, 0, sizeof(*pc));
	if (parse_endpoint(o->connect, &pc->ep) != 0)
		return usage_error("pin --connect '%s': expected HOST, HOST:PORT or [IPV6]:PORT", o->connect);
	if (pc->ep.port == 0)
		pc->ep.port = DEFAULT_PORT;
	rc = check_host(pc->ep.host, "pin --connect: HOST");
	if (rc != 0)
		return rc;
	memset(&to, 0, sizeof(to));
	if (o->connect_to != NULL) {
		if (parse_endpoint(o->connect_to, &to) != 0 || !is_ip_literal(to.host))
			return usage_error("--connect-to '%s': expected an IP address, ADDRESS:PORT or [IPV6]:PORT",
			                   o->connect_to);
		if (to.port == 0)
			to.port = pc->ep.port;
	}
	rc = make_ctx(o, &ctx);
	if (rc != 0)
		return rc;
	if (o->connect_to != NULL)
		fd = tcp_connect(to.host, to.port, 1, pc->peer, sizeof(pc->peer));
	else
		fd = tcp_connect(pc->ep.host, pc->ep.port, 0, pc->peer, sizeof(pc->peer));
	pc->peer_port = o->connect_to != NULL ? to.port : pc->ep.port;
	if (fd < 0)
		goto out;
	if ((ret = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (ret = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) < 0 ||
	    (ret = gnutls_set_default_priority(session)) < 0 ||
	    (ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred)) < 0 ||
	    (!is_ip_literal(pc->ep.host) &&
	     (ret = gnutls_server_name_set(session, GNUTLS_NAME_DNS, pc->ep.host, strlen(pc->ep.host))) < 0) ||
	    (ret = gnutls_ocsp_status_request_enable_client(session, NULL, 0, NULL)) < 0) {
		error_msg("cannot set up the TLS session: %s", gnutls_strerror(ret));
		goto out;
	}
	gnutls_transport_set_int(session, fd);
	gnutls_handshake_set_timeout(session, NET_TIMEOUT_MS);
	/* No verify function and no trust of GnuTLS's own: the handshake
	 * completes whatever the certificate, as it must to learn it. */
	ret = handshake(session);
	if (ret < 0) {
		error_msg("%s port %u: TLS handshake failed: %s", pc->ep.host, pc->ep.port, gnutls_strerror(ret));
		goto out;
	}
	snprintf(pc->tls_version, sizeof(pc->tls_version), "%s",
	         gnutls_protocol_get_name(gnutls_protocol_get_version(session)) ?
	             gnutls_protocol_get_name(gnutls_protocol_get_version(session)) : "?");
	snprintf(pc->cipher, sizeof(pc->cipher), "%s",
	         gnutls_ciphersuite_get(session) ? gnutls_ciphersuite_get(session) : "?");
	peers = gnutls_certificate_type_get2(session, GNUTLS_CTYPE_SERVER) == GNUTLS_CRT_X509 ?
	            gnutls_certificate_get_peers(session, &n) : NULL;
	if (peers == NULL || n == 0) {
		error_msg("%s port %u: the server presented no X.509 certificate", pc->ep.host, pc->ep.port);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (der_list_add(certs, peers[i].data, peers[i].size) != 0) {
			error_msg("out of memory");
			status = EXIT_USAGE;
			goto out;
		}
	}
	pc->error = tlsguard_verify_session(ctx, session, pc->ep.host, pc->ep.port, &pc->res);
	gnutls_bye(session, GNUTLS_SHUT_WR);
	status = 0;
out:
	if (session != NULL)
		gnutls_deinit(session);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	if (fd >= 0)
		close(fd);
	tlsguard_ctx_free(ctx);
	return status;
}

static int cmd_pin(const struct options *o)
{
	struct der_list certs;
	struct chain_sink sink;
	struct pin_set ps;
	struct pin_conn pc;
	size_t i;
	int rc = 0;

	memset(&certs, 0, sizeof(certs));
	memset(&ps, 0, sizeof(ps));
	memset(&pc, 0, sizeof(pc));
	if (o->connect != NULL) {
		rc = pin_connect(o, &certs, &pc);
	} else {
		sink.req = NULL;
		sink.list = &certs;
		for (i = 0; rc == 0 && i < o->nargs; i++)
			if (load_chain_file(&sink, o->args[i]) != 0)
				rc = EXIT_USAGE;
	}
	if (rc == 0 && pin_set_load(&ps, &certs) != 0)
		rc = EXIT_USAGE;
	if (rc == 0) {
		if (o->connect != NULL)
			snprintf(ps.host, sizeof(ps.host), "%s", pc.ep.host);
		else if (ps.n > 0 && ps.c[0].decoded)
			guess_host(ps.c[0].crt, ps.host, sizeof(ps.host));
		if (pin_set_config(&ps) != 0)
			rc = EXIT_USAGE;
	}
	if (rc == 0) {
		if (o->connect != NULL && !pin_verdict_accepted(&pc)) {
			fprintf(stderr, PROG ": warning: %s: tlsguard does not accept this chain (", pc.ep.host);
			if (pc.error)
				fputs(tlsguard_strerror(pc.error), stderr);
			else
				text_event_keys(stderr, pc.res);
			fputs("); make sure it is the real server's before you pin it\n", stderr);
		}
		if (o->json)
			pin_json(stdout, &ps, o->connect != NULL ? &pc : NULL);
		else
			pin_text(stdout, &ps, o->connect != NULL ? &pc : NULL);
		if (fflush(stdout) != 0 || ferror(stdout))
			error_msg("standard output: %s", strerror(errno ? errno : EIO));
	}
	pin_set_free(&ps);
	der_list_free(&certs);
	tlsguard_result_free(pc.res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* sct                                                                */

/* What sct reports: the ct check's verdict and why. */
struct sct_report {
	struct cert_info leaf;
	const char *host;
	int64_t at;                 /* evaluation time, Unix seconds */
	const char *policy;         /* "chrome", "apple", "off" */
	const char *log_list;       /* NULL: none given */
	const tlsguard_result *res; /* may be NULL */
	const tlsguard_ctx *ctx;    /* for the load warnings */
	int error;                  /* TLSGUARD_E_* when the evaluation failed */
	const char *verdict;        /* "met", "not met", "unavailable" */
	char summary[512];          /* the first reason when met; "" else */
};

/* The outcome of the ct check, or -1 when it did not run. */
static int ct_outcome(const tlsguard_result *res)
{
	size_t i, n = tlsguard_result_check_count(res);

	for (i = 0; i < n; i++) {
		const char *name = tlsguard_result_check_name(res, i);
		if (name != NULL && strcmp(name, "ct") == 0)
			return tlsguard_result_check_outcome(res, i);
	}
	return -1;
}

static int is_ct_event(const tlsguard_event *ev)
{
	return strcmp(tlsguard_event_check(ev), "ct") == 0;
}

/* met: the ct check ran and raised neither ct-missing nor
 * ct-policy-not-met (ct-invalid warnings about single SCTs do not stop
 * the others from meeting the policy); not met: it raised one of them;
 * unavailable: it was skipped (policy off, no or stale log list), could
 * not run, or the evaluation did not complete. */
static const char *sct_verdict(const tlsguard_result *res, int error)
{
	size_t i, n = tlsguard_result_event_count(res);
	int outcome = ct_outcome(res);

	if (error != 0 || res == NULL || (outcome != TLSGUARD_CHECK_PASS && outcome != TLSGUARD_CHECK_FAIL))
		return "unavailable";
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		if (is_ct_event(ev) && tlsguard_event_code(ev) == TLSGUARD_EV_INTERNAL_ERROR)
			return "unavailable";
	}
	if (tlsguard_result_has_event(res, TLSGUARD_EV_CT_MISSING) ||
	    tlsguard_result_has_event(res, TLSGUARD_EV_CT_POLICY_NOT_MET))
		return "not met";
	return "met";
}

/* "the chrome CT policy is met by 2 valid SCTs of 2 (operators: Google,
 * Cloudflare)" */
static void sct_summary(struct sct_report *r)
{
	size_t i, j, n = tlsguard_result_sct_count(r->res), valid = 0, used, nops = 0;
	const char *ops[16];
	char list[300] = "";

	for (i = 0; i < n; i++) {
		struct sct_info si;
		if (sct_info_get(r->res, i, &si) != 0 || si.status != TLSGUARD_SCT_VALID)
			continue;
		valid++;
		for (j = 0; j < nops && strcmp(ops[j], si.op) != 0; j++)
			;
		if (j == nops && nops < sizeof(ops) / sizeof(ops[0]) && si.op[0])
			ops[nops++] = si.op;
	}
	for (i = 0, used = 0; i < nops && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", ops[i]);
	snprintf(r->summary, sizeof(r->summary), "the %s CT policy is met: %zu of %zu SCT%s valid%s%s%s", r->policy,
	         valid, n, n == 1 ? "" : "s", nops ? " (operators: " : "", list, nops ? ")" : "");
}

/* The reasons: a summary when met, then the ct check's event details;
 * what made CT unavailable otherwise. Calls @put for each. */
static void sct_reasons(const struct sct_report *r, void (*put)(FILE *, const char *, int), FILE *f)
{
	size_t i, n = r->res ? tlsguard_result_event_count(r->res) : 0;
	int k = 0;

	if (r->error != 0) {
		char buf[300];
		snprintf(buf, sizeof(buf), "the evaluation could not complete: %s", tlsguard_strerror(r->error));
		put(f, buf, k++);
	}
	if (r->summary[0])
		put(f, r->summary, k++);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(r->res, i);
		if (is_ct_event(ev))
			put(f, tlsguard_event_detail(ev), k++);
	}
	if (k == 0 && r->res != NULL && ct_outcome(r->res) == TLSGUARD_CHECK_SKIP && strcmp(r->policy, "off") == 0)
		put(f, "policy off: Certificate Transparency was not evaluated", k++);
	else if (k == 0 && strcmp(r->verdict, "met") != 0)
		put(f, "the ct check did not run", k++);
}

static void put_text_reason(FILE *f, const char *s, int k)
{
	(void)k;
	fputs("  - ", f);
	text_str(f, s);
	fputc('\n', f);
}

static void put_json_reason(FILE *f, const char *s, int k)
{
	if (k)
		fputc(',', f);
	json_str(f, s);
}

static void sct_text(FILE *f, const struct sct_report *r)
{
	char when[32];
	size_t i, n = r->res ? tlsguard_result_event_count(r->res) : 0, k = 0;

	fputs("certificate: ", f);
	text_str(f, dn_or_null(&r->leaf.subject) ? dn_or_null(&r->leaf.subject) : "(unreadable)");
	fputs("\n  issuer:    ", f);
	text_str(f, dn_or_null(&r->leaf.issuer) ? dn_or_null(&r->leaf.issuer) : "(unreadable)");
	fprintf(f, "\n  validity:  %s .. %s\n", r->leaf.not_before[0] ? r->leaf.not_before : "?",
	        r->leaf.not_after[0] ? r->leaf.not_after : "?");
	fputs("host: ", f);
	text_str(f, r->host);
	iso_time((time_t)r->at, when, sizeof(when));
	fprintf(f, "\ntime: %s\nlog list: ", when[0] ? when : "?");
	text_str(f, r->log_list ? r->log_list : "none (give one with --log-list FILE: tlsguard ships no list)");
	fputc('\n', f);
	if (r->res != NULL)
		text_scts(f, r->res);
	fprintf(f, "policy: %s\n", r->policy);
	for (i = 0; i < n; i++) {
		const tlsguard_event *ev = tlsguard_result_event(r->res, i);
		const char *key = tlsguard_code_key(tlsguard_event_code(ev));
		if (!is_ct_event(ev))
			continue;
		if (k++ == 0)
			fputs("events:\n", f);
		fprintf(f, "  %s %s %s\n", tlsguard_severity_name(tlsguard_event_severity(ev)), key ? key : "unknown",
		        tlsguard_event_name(ev));
	}
	fputs("reasons:\n", f);
	sct_reasons(r, put_text_reason, f);
	fprintf(f, "verdict: %s\n", !strcmp(r->verdict, "not met") ? "NOT MET" : r->verdict);
}

static void sct_json(FILE *f, const struct sct_report *r)
{
	char when[32];

	fputs("{\"certificate\":{\"subject\":", f);
	json_str(f, dn_or_null(&r->leaf.subject));
	fputs(",\"issuer\":", f);
	json_str(f, dn_or_null(&r->leaf.issuer));
	fputs(",\"not_before\":", f);
	json_str(f, nonempty(r->leaf.not_before));
	fputs(",\"not_after\":", f);
	json_str(f, nonempty(r->leaf.not_after));
	fputs("},\"host\":", f);
	json_str(f, r->host);
	iso_time((time_t)r->at, when, sizeof(when));
	fputs(",\"time\":", f);
	json_str(f, nonempty(when));
	fputs(",\"log_list\":", f);
	json_str(f, r->log_list);
	fputc(',', f);
	if (r->res != NULL)
		json_scts(f, r->res);
	else
		fputs("\"scts\":[]", f);
	fputs(",\"policy\":", f);
	json_str(f, r->policy);
	fputs(",\"verdict\":", f);
	json_str(f, r->verdict);
	fputs(",\"reasons\":[", f);
	sct_reasons(r, put_json_reason, f);
	fputs("],", f);
	if (r->res != NULL)
		json_events_of(f, r->res, "ct");
	else
		fputs("\"events\":[]", f);
	fputc(',', f);
	json_warnings(f, r->ctx);
	fputs("}\n", f);
}

/* The certificates of a CERT or ISSUER file (PEM or DER). */
static int load_cert_list(const char *path, struct der_list *l)
{
	struct chain_sink sink;

	sink.req = NULL;
	sink.list = l;
	return load_chain_file(&sink, path);
}

static gnutls_x509_crt_t decode_cert(const unsigned char *der, size_t len)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;

	if (len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/* The name to evaluate for: --host, else the leaf's first DNS name (a
 * wildcard without its "*."), else its common name; "unnamed.invalid"
 * when it has no usable name (the host matters to the hostname check only,
 * which sct does not report). */
static void sct_host(const struct options *o, gnutls_x509_crt_t leaf, char *out, size_t outlen)
{
	if (o->host != NULL) {
		snprintf(out, outlen, "%s", o->host);
		return;
	}
	guess_host(leaf, out, outlen);
	if (out[0] == '*' && out[1] == '.')
		memmove(out, out + 2, strlen(out + 2) + 1);
	if (out[0] == '\0')
		snprintf(out, outlen, "unnamed.invalid");
}

/* A context for CT: ISSUER is the trust anchor (the point is CT, not the
 * path), or the system store with --system-ca. */
static int make_sct_ctx(const struct options *o, tlsguard_ctx **out)
{
	tlsguard_ctx *ctx = NULL;
	int rc;

	*out = NULL;
	rc = tlsguard_ctx_new(&ctx, o->system_ca ? 0u : TLSGUARD_CTX_NO_SYSTEM_CA);
	if (rc != 0) {
		error_msg("cannot create context: %s", tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	if (!o->system_ca && (rc = tlsguard_ctx_add_ca(ctx, o->issuer)) != 0) {
		const char *why = tlsguard_ctx_last_error(ctx);
		error_msg("--issuer: %s", why[0] ? why : tlsguard_strerror(rc));
		goto fail;
	}
	return finish_ctx(o, ctx, out);
fail:
	tlsguard_ctx_free(ctx);
	return EXIT_USAGE;
}

static int cmd_sct(const struct options *opts)
{
	struct options o = *opts;
	struct der_list leaf, issuer;
	gnutls_x509_crt_t leaf_crt = NULL, issuer_crt = NULL;
	char host[HOST_MAX + 3];
	tlsguard_ctx *ctx = NULL;
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	struct sct_report r;
	size_t i;
	int rc, status = EXIT_USAGE;

	memset(&leaf, 0, sizeof(leaf));
	memset(&issuer, 0, sizeof(issuer));
	memset(&r, 0, sizeof(r));
	if (o.ct_policy == NULL)
		o.ct_policy = "chrome";
	if (load_cert_list(o.args[0], &leaf) != 0 || load_cert_list(o.issuer, &issuer) != 0)
		goto out;
	if (leaf.n > 1)
		fprintf(stderr, PROG ": warning: %s: %zu certificates; only the first is evaluated\n", o.args[0], leaf.n);
	leaf_crt = decode_cert(leaf.der[0], leaf.len[0]);
	issuer_crt = decode_cert(issuer.der[0], issuer.len[0]);
	if (leaf_crt == NULL || issuer_crt == NULL) {
		error_msg("cannot decode the certificates");
		goto out;
	}
	if (gnutls_x509_crt_check_issuer(leaf_crt, issuer_crt) != 1)
		fprintf(stderr,
		        PROG ": warning: %s is not the issuer of %s (names differ), so embedded SCTs cannot be "
		             "verified\n",
		        o.issuer, o.args[0]);
	sct_host(&o, leaf_crt, host, sizeof(host));
	rc = tlsguard_request_new(&req, host, strlen(host));
	if (rc == TLSGUARD_E_INVALID) {
		status = usage_error("--host '%s': not a valid host name or IP address", host);
		goto out;
	}
	if (rc == 0)
		rc = tlsguard_request_add_cert(req, leaf.der[0], leaf.len[0]);
	for (i = 0; rc == 0 && i < issuer.n; i++)
		rc = tlsguard_request_add_cert(req, issuer.der[i], issuer.len[i]);
	if (rc != 0) {
		error_msg("cannot create request: %s", tlsguard_strerror(rc));
		goto out;
	}
	if ((o.ocsp != NULL && load_ocsp_file(req, o.ocsp) != 0) ||
	    (o.tls_sct != NULL && load_tls_sct_file(req, o.tls_sct) != 0))
		goto out;
	if ((status = make_sct_ctx(&o, &ctx)) != 0)
		goto out;
	rc = tlsguard_verify(ctx, req, &res);
	if (rc != 0)
		error_msg("%s: the evaluation could not complete: %s", o.args[0], tlsguard_strerror(rc));
	cert_info_load(&r.leaf, leaf.der[0], leaf.len[0]);
	r.host = host;
	r.at = o.at != 0 ? o.at : (int64_t)time(NULL);
	r.policy = o.ct_policy;
	r.log_list = o.log_list;
	r.res = res;
	r.ctx = ctx;
	r.error = rc;
	r.verdict = sct_verdict(res, rc);
	if (!strcmp(r.verdict, "met"))
		sct_summary(&r);
	if (o.json)
		sct_json(stdout, &r);
	else
		sct_text(stdout, &r);
	if (fflush(stdout) != 0 || ferror(stdout))
		error_msg("standard output: %s", strerror(errno ? errno : EIO));
	status = !strcmp(r.verdict, "met") ? EXIT_ACCEPTED : EXIT_REJECTED;
	cert_info_free(&r.leaf);
out:
	if (leaf_crt != NULL)
		gnutls_x509_crt_deinit(leaf_crt);
	if (issuer_crt != NULL)
		gnutls_x509_crt_deinit(issuer_crt);
	tlsguard_result_free(res);
	tlsguard_request_free(req);
	tlsguard_ctx_free(ctx);
	der_list_free(&leaf);
	der_list_free(&issuer);
	return status;
}

/* ------------------------------------------------------------------ */
/* store                                                              */

struct tofu_rec {
	char *host;
	unsigned port;
	unsigned char key[32];
	int64_t first_seen, last_seen;
	uint64_t seen_count;
	int has_pending;
	unsigned char pending[32];
	int64_t pending_seen;
};

struct tofu_recs {
	struct tofu_rec *v;
	size_t n, cap;
	unsigned port; /* keep only this port; 0 = every port */
	int oom;
};

static void tofu_recs_free(struct tofu_recs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].host);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int tofu_collect(const char *host, unsigned port, const unsigned char spki[32], int64_t first_seen,
                        int64_t last_seen, uint64_t seen_count, const unsigned char *pending, int64_t pending_seen,
                        void *userdata)
{
	struct tofu_recs *l = userdata;
	struct tofu_rec *r;

	if (l->port != 0 && port != l->port)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct tofu_rec *nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	r = &l->v[l->n];
	memset(r, 0, sizeof(*r));
	if ((r->host = strdup(host)) == NULL) {
		l->oom = 1;
		return 1;
	}
	r->port = port;
	memcpy(r->key, spki, 32);
	r->first_seen = first_seen;
	r->last_seen = last_seen;
	r->seen_count = seen_count;
	if (pending != NULL) {
		r->has_pending = 1;
		memcpy(r->pending, pending, 32);
		r->pending_seen = pending_seen;
	}
	l->n++;
	return 0;
}

/* "host:port", "[v6]:port". */
static void host_port(char *buf, size_t len, const char *host, unsigned port)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

static void time_text(int64_t t, char buf[32])
{
	iso_time((time_t)t, buf, 32);
	if (buf[0] == '\0')
		snprintf(buf, 32, "?");
}

/* A word for a shell command line, quoted if needed. */
static void shell_word(FILE *f, const char *s)
{
	const char *p;

	if (s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+,:=@%") ==
	                        strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (p = s; *p; p++) {
		if (*p == '\'') {
			fputs("'\\''", f);
		} else {
			char one[2] = {*p, '\0'};
			text_str(f, one);
		}
	}
	fputc('\'', f);
}

/* Open an existing store (never create one). Prints why not. */
static int store_open_cli(const struct options *o, tlsguard_store **out)
{
	tlsguard_store *st = NULL;
	struct stat sb;
	int rc = tlsguard_store_open(&st, o->store, 0);

	*out = NULL;
	if (rc != 0) {
		const char *why = st != NULL ? tlsguard_store_last_error(st) : "";
		const char *path = st != NULL ? tlsguard_store_path(st) : "";
		error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
		if (path[0] && stat(path, &sb) != 0 && errno == ENOENT)
			fputs(PROG ": a store is created by 'tlsguard verify' or 'tlsguard connect' when the config "
			           "says 'tofu = yes' or 'consistency = enforce' (or report-only) for the host\n",
			      stderr);
		tlsguard_store_close(st);
		return EXIT_USAGE;
	}
	*out = st;
	return 0;
}

/* Read the records (of @host when not NULL, of @port when not 0). */
static int store_read(tlsguard_store *st, const char *host, unsigned port, struct tofu_recs *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->port = port;
	rc = tlsguard_store_tofu_list(st, host, tofu_collect, l);
	if (l->oom) {
		error_msg("out of memory");
		tofu_recs_free(l);
		return EXIT_USAGE;
	}
	if (rc < 0) {
		const char *why = tlsguard_store_last_error(st);
		error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
		tofu_recs_free(l);
		return EXIT_USAGE;
	}
	return 0;
}

static void json_tofu_rec(FILE *f, const struct tofu_rec *r)
{
	char pin[PIN_TEXT], t[32];

	fputs("{\"host\":", f);
	json_str(f, r->host);
	fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, pin);
	fprintf(f, ",\"port\":%u,\"key\":\"%s\"", r->port, pin);
	time_text(r->first_seen, t);
	fprintf(f, ",\"first_seen\":\"%s\"", t);
	time_text(r->last_seen, t);
	fprintf(f, ",\"last_seen\":\"%s\",\"seen_count\":%" PRIu64 ",\"pending\":", t, r->seen_count);
	if (r->has_pending) {
		fmt_pin(r->pending, TLSGUARD_PIN_SYNTAX_SHA256, pin);
		time_text(r->pending_seen, t);
		fprintf(f, "{\"key\":\"%s\",\"seen\":\"%s\"}", pin, t);
	} else {
		fputs("null", f);
	}
	fputc('}', f);
}

static void json_tofu_recs(FILE *f, const tlsguard_store *st, const struct tofu_recs *l, const char *host,
                           unsigned port)
{
	size_t i;

	fputs("{\"store\":", f);
	json_str(f, tlsguard_store_path(st));
	if (host != NULL) {
		fputs(",\"host\":", f);
		json_str(f, host);
		if (port)
			fprintf(f, ",\"port\":%u", port);
		else
			fputs(",\"port\":null", f);
	}
	fputs(",\"records\":[", f);
	for (i = 0; i < l->n; i++) {
		if (i)
			fputc(',', f);
		json_tofu_rec(f, &l->v[i]);
	}
	fputs("]}\n", f);
}

static int store_list(const struct options *o, tlsguard_store *st)
{
	struct tofu_recs l;
	size_t i;
	int rc = store_read(st, NULL, 0, &l);

	if (rc != 0)
		return rc;
	if (o->json) {
		json_tofu_recs(stdout, st, &l, NULL, 0);
	} else {
		for (i = 0; i < l.n; i++) {
			const struct tofu_rec *r = &l.v[i];
			char hp[HOST_MAX + 16], pin[PIN_TEXT], first[32], last[32];

			host_port(hp, sizeof(hp), r->host, r->port);
			fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, pin);
			time_text(r->first_seen, first);
			time_text(r->last_seen, last);
			text_str(stdout, hp);
			printf("  key %s  first seen %s  last seen %s  seen %" PRIu64 " time%s", pin, first, last,
			       r->seen_count, r->seen_count == 1 ? "" : "s");
			if (r->has_pending) {
				fmt_pin(r->pending, TLSGUARD_PIN_SYNTAX_SHA256, pin);
				time_text(r->pending_seen, first);
				printf("  CHANGED: pending key %s seen %s", pin, first);
			}
			putchar('\n');
		}
	}
	tofu_recs_free(&l);
	return EXIT_ACCEPTED;
}

/* The old (accepted) and the new (pending) key of @r side by side. */
static void text_change(FILE *f, const struct tofu_rec *r)
{
	char old[PIN_TEXT], cur[PIN_TEXT], t1[32], t2[32], count[32];

	fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, old);
	fmt_pin(r->pending, TLSGUARD_PIN_SYNTAX_SHA256, cur);
	fprintf(f, "    %-12s %-53s %s\n", "", "old: accepted key", "new: pending key");
	fprintf(f, "    %-12s %-53s %s\n", "key", old, cur);
	time_text(r->first_seen, t1);
	fprintf(f, "    %-12s %-53s %s\n", "first seen", t1, "-");
	time_text(r->last_seen, t1);
	time_text(r->pending_seen, t2);
	fprintf(f, "    %-12s %-53s %s\n", "last seen", t1, t2);
	snprintf(count, sizeof(count), "%" PRIu64 " time%s", r->seen_count, r->seen_count == 1 ? "" : "s");
	fprintf(f, "    %-12s %-53s %s\n", "seen", count, "-");
}

/* "tlsguard store [--store PATH] accept HOST:PORT" */
static void text_accept_command(FILE *f, const struct options *o, const char *hp)
{
	fputs("    tlsguard store ", f);
	if (o->store != NULL) {
		fputs("--store ", f);
		shell_word(f, o->store);
		fputc(' ', f);
	}
	fputs("accept ", f);
	text_str(f, hp);
	fputc('\n', f);
}

static int store_show(const struct options *o, tlsguard_store *st, const struct endpoint *ep)
{
	struct tofu_recs l;
	size_t i;
	int rc = store_read(st, ep->host, ep->port, &l);

	if (rc != 0)
		return rc;
	if (o->json) {
		json_tofu_recs(stdout, st, &l, ep->host, ep->port);
	} else {
		fputs("store: ", stdout);
		text_str(stdout, tlsguard_store_path(st));
		putchar('\n');
		for (i = 0; i < l.n; i++) {
			const struct tofu_rec *r = &l.v[i];
			char hp[HOST_MAX + 16], pin[PIN_TEXT], t[32];

			host_port(hp, sizeof(hp), r->host, r->port);
			fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, pin);
			text_str(stdout, hp);
			printf("\n  key:         %s\n", pin);
			time_text(r->first_seen, t);
			printf("  first seen:  %s\n", t);
			time_text(r->last_seen, t);
			printf("  last seen:   %s\n", t);
			printf("  seen:        %" PRIu64 " time%s\n", r->seen_count, r->seen_count == 1 ? "" : "s");
			if (!r->has_pending) {
				fputs("  changed:     no\n", stdout);
				continue;
			}
			fputs("  CHANGED: the server presented a different key, not accepted yet:\n", stdout);
			text_change(stdout, r);
			fputs("  If this is an expected key rotation, accept the new key with:\n", stdout);
			text_accept_command(stdout, o, hp);
			fputs("  If it is not, do not accept it: the connection may be intercepted.\n", stdout);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		error_msg("standard output: %s", strerror(errno ? errno : EIO));
	rc = l.n > 0 ? EXIT_ACCEPTED : EXIT_REJECTED;
	if (l.n == 0) {
		char hp[HOST_MAX + 16];
		if (ep->port)
			host_port(hp, sizeof(hp), ep->host, ep->port);
		error_msg("no record for %s", ep->port ? hp : ep->host);
	}
	tofu_recs_free(&l);
	return rc;
}

static int store_accept(tlsguard_store *st, const struct endpoint *ep)
{
	struct tofu_recs l;
	char hp[HOST_MAX + 16], pin[PIN_TEXT];
	int rc;

	host_port(hp, sizeof(hp), ep->host, ep->port);
	rc = store_read(st, ep->host, ep->port, &l);
	if (rc != 0)
		return rc;
	if (l.n == 0 || !l.v[0].has_pending) {
		error_msg("nothing to accept for %s: no changed key recorded", hp);
		tofu_recs_free(&l);
		return EXIT_REJECTED;
	}
	text_str(stdout, hp);
	fputs(": accepting the changed key\n", stdout);
	text_change(stdout, &l.v[0]);
	fmt_pin(l.v[0].pending, TLSGUARD_PIN_SYNTAX_SHA256, pin);
	tofu_recs_free(&l);
	rc = tlsguard_store_tofu_accept(st, ep->host, ep->port);
	if (rc == TLSGUARD_E_RANGE) { /* accepted or forgotten meanwhile */
		error_msg("nothing to accept for %s: no changed key recorded", hp);
		return EXIT_REJECTED;
	}
	if (rc != 0) {
		const char *why = tlsguard_store_last_error(st);
		error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	fputs("accepted: ", stdout);
	text_str(stdout, hp);
	printf(" now has the key %s\n", pin);
	return EXIT_ACCEPTED;
}

static int store_forget(tlsguard_store *st, const struct endpoint *ep)
{
	char hp[HOST_MAX + 16];
	const char *what = ep->host;
	int rc;

	if (ep->port) {
		host_port(hp, sizeof(hp), ep->host, ep->port);
		what = hp;
	}
	rc = tlsguard_store_tofu_forget(st, ep->host, ep->port);
	if (rc < 0) {
		const char *why = tlsguard_store_last_error(st);
		error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	if (rc == 0) {
		error_msg("no record for %s", what);
		return EXIT_REJECTED;
	}
	printf("forgot %d record%s of %s\n", rc, rc == 1 ? "" : "s", what);
	return EXIT_ACCEPTED;
}

static int store_check(tlsguard_store *st)
{
	struct tofu_recs l;
	int rc = tlsguard_store_check(st);

	if (rc != 0) {
		const char *why = tlsguard_store_last_error(st);
		error_msg("%s", why[0] ? why : tlsguard_strerror(rc));
		return EXIT_USAGE;
	}
	rc = store_read(st, NULL, 0, &l);
	if (rc != 0)
		return rc;
	text_str(stdout, tlsguard_store_path(st));
	printf(": ok (integrity and schema checked, %zu record%s)\n", l.n, l.n == 1 ? "" : "s");
	tofu_recs_free(&l);
	return EXIT_ACCEPTED;
}

/* -- store history -- */

struct hist_row {
	int64_t seq, time;
	char *host, *address, *issuer, *anchor, *ct, *pin;
	unsigned port;
	int probe, verdict;
	uint64_t reasons;
	unsigned char key[32];
	unsigned char *chain; /* 32 bytes per certificate */
	size_t nchain;
};

struct hist_rows {
	struct hist_row *v;
	size_t n, cap;
	int oom;
};

static void hist_rows_free(struct hist_rows *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct hist_row *r = &l->v[i];
		free(r->host);
		free(r->address);
		free(r->issuer);
		free(r->anchor);
		free(r->ct);
		free(r->pin);
		free(r->chain);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int hist_collect(const tlsguard_observation *obs, void *userdata)
{
	struct hist_rows *l = userdata;
	struct hist_row *r;
	const unsigned char *chain, *key;
	size_t nchain = 0;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct hist_row *nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->seq = tlsguard_observation_seq(obs);
	r->time = tlsguard_observation_time(obs);
	r->port = tlsguard_observation_port(obs);
	r->probe = tlsguard_observation_from_probe(obs);
	r->verdict = tlsguard_observation_verdict(obs);
	r->reasons = tlsguard_observation_reasons(obs);
	if ((key = tlsguard_observation_key(obs)) != NULL)
		memcpy(r->key, key, 32);
	chain = tlsguard_observation_chain(obs, &nchain);
	if (chain != NULL && nchain > 0 && (r->chain = malloc(nchain * 32)) != NULL) {
		memcpy(r->chain, chain, nchain * 32);
		r->nchain = nchain;
	}
	r->host = dup_or_empty(tlsguard_observation_host(obs));
	r->address = dup_or_empty(tlsguard_observation_address(obs));
	r->issuer = dup_or_empty(tlsguard_observation_issuer(obs));
	r->anchor = dup_or_empty(tlsguard_observation_anchor(obs));
	r->ct = dup_or_empty(tlsguard_observation_ct(obs));
	r->pin = dup_or_empty(tlsguard_observation_pin(obs));
	if (r->host == NULL || r->address == NULL || r->issuer == NULL || r->anchor == NULL || r->ct == NULL ||
	    r->pin == NULL || (nchain > 0 && r->chain == NULL)) {
		l->oom = 1;
		return 1;
	}
	return 0;
}

/* The event keys of a reasons bitmask, ", "-separated ("" when none). */
static void reasons_text(uint64_t bits, char *out, size_t len)
{
	size_t n = 0;
	int c;

	out[0] = '\0';
	for (c = 0; c < 64 && n < len; c++) {
		const char *key;
		char unknown[16];
		if (!(bits & (UINT64_C(1) << c)))
			continue;
		if ((key = tlsguard_code_key(c)) == NULL) {
			snprintf(unknown, sizeof(unknown), "code-%d", c);
			key = unknown;
		}
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", key);
	}
}

static void json_hist_row(FILE *f, const struct hist_row *r)
{
	char pin[PIN_TEXT], t[32];
	size_t i;
	int c, first = 1;

	time_text(r->time, t);
	fprintf(f, "{\"seq\":%" PRId64 ",\"time\":\"%s\",\"unix_time\":%" PRId64 ",\"host\":", r->seq, t, r->time);
	json_str(f, r->host);
	fprintf(f, ",\"port\":%u,\"address\":", r->port);
	json_str(f, nonempty(r->address));
	fprintf(f, ",\"source\":\"%s\",\"verdict\":\"%s\",\"reasons\":[", r->probe ? "probe" : "connection",
	        r->verdict == TLSGUARD_ACCEPT ? "accept" : "reject");
	for (c = 0; c < 64; c++) {
		char unknown[16];
		const char *key;
		if (!(r->reasons & (UINT64_C(1) << c)))
			continue;
		if ((key = tlsguard_code_key(c)) == NULL) {
			snprintf(unknown, sizeof(unknown), "code-%d", c);
			key = unknown;
		}
		fputs(first ? "" : ",", f);
		first = 0;
		json_str(f, key);
	}
	fputs("],\"issuer\":", f);
	json_str(f, nonempty(r->issuer));
	fputs(",\"anchor\":", f);
	json_str(f, nonempty(r->anchor));
	fputs(",\"ct\":", f);
	json_str(f, r->ct);
	fputs(",\"pin\":", f);
	json_str(f, r->pin);
	fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, pin);
	fprintf(f, ",\"key\":\"%s\",\"chain_sha256\":[", pin);
	for (i = 0; i < r->nchain; i++) {
		char hex[65];
		size_t k;
		for (k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", r->chain[32 * i + k]);
		fprintf(f, "%s\"%s\"", i ? "," : "", hex);
	}
	fputs("]}", f);
}

static int store_history(const struct options *o, tlsguard_store *st, const struct endpoint *ep)
{
	static const char *const head_all[] = {"#", "TIME", "HOST:PORT", "ADDRESS", "FROM", "VERDICT", "REASONS",
	                                       "ISSUING CA", "TRUST ANCHOR", "CT", "PIN", "LEAF KEY"};
	static const char *const head_host[] = {"#", "TIME", "PORT", "ADDRESS", "FROM", "VERDICT", "REASONS",
	                                        "ISSUING CA", "TRUST ANCHOR", "CT", "PIN", "LEAF KEY"};
	const char *host = ep->host[0] ? ep->host : NULL;
	char what[HOST_MAX + 16];
	struct hist_rows l;
	size_t i;
	int rc;

	memset(&l, 0, sizeof(l));
	if (host != NULL && ep->port)
		host_port(what, sizeof(what), host, ep->port);
	else
		snprintf(what, sizeof(what), "%s", host ? host : "");
	rc = tlsguard_store_history(st, host, ep->port, o->limit, hist_collect, &l);
	if (l.oom) {
		error_msg("out of memory");
		hist_rows_free(&l);
		return EXIT_USAGE;
	}
	if (rc < 0) {
		const char *why = tlsguard_store_last_error(st);
		error_msg("%s: cannot read the observation history: %s", tlsguard_store_path(st),
		          why[0] ? why : tlsguard_strerror(rc));
		hist_rows_free(&l);
		return EXIT_USAGE;
	}
	if (o->json) {
		fputc('[', stdout);
		for (i = 0; i < l.n; i++) {
			fputs(i ? ",\n" : "\n", stdout);
			json_hist_row(stdout, &l.v[i]);
		}
		fputs(l.n ? "\n]\n" : "]\n", stdout);
	} else if (l.n == 0) {
		fputs("no observations for ", stdout);
		text_str(stdout, host ? what : "any host");
		fputs(" in ", stdout);
		text_str(stdout, tlsguard_store_path(st));
		putchar('\n');
	} else {
		struct table t = {12, host ? head_host : head_all, NULL, 0, 0, 0};
		fputs("store: ", stdout);
		text_str(stdout, tlsguard_store_path(st));
		fputs("\nhistory of ", stdout);
		text_str(stdout, host ? what : "every host");
		printf(": %zu observation%s, newest first%s\n", l.n, l.n == 1 ? "" : "s",
		       o->limit_set && l.n == o->limit ? " (--limit reached)" : "");
		for (i = 0; i < l.n; i++) {
			const struct hist_row *r = &l.v[i];
			char seq[24], t1[32], hp[HOST_MAX + 16], port[8], why[512], pin[PIN_TEXT];
			const char *row[12];

			snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
			time_text(r->time, t1);
			host_port(hp, sizeof(hp), r->host, r->port);
			snprintf(port, sizeof(port), "%u", r->port);
			reasons_text(r->reasons, why, sizeof(why));
			fmt_pin(r->key, TLSGUARD_PIN_SYNTAX_SHA256, pin);
			row[0] = seq;
			row[1] = t1;
			row[2] = host ? port : hp;
			row[3] = r->address;
			row[4] = r->probe ? "probe" : "connection";
			row[5] = r->verdict == TLSGUARD_ACCEPT ? "accepted" : "REJECTED";
			row[6] = why;
			row[7] = r->issuer;
			row[8] = r->anchor;
			row[9] = r->ct;
			row[10] = r->pin;
			row[11] = pin;
			table_add(&t, row);
		}
		if (t.oom) {
			table_free(&t);
			hist_rows_free(&l);
			error_msg("out of memory");
			return EXIT_USAGE;
		}
		table_print(stdout, &t, "");
		table_free(&t);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		error_msg("standard output: %s", strerror(errno ? errno : EIO));
	hist_rows_free(&l);
	return EXIT_ACCEPTED;
}

/* -- store verify -- */

struct problem {
	int64_t seq;
	char *message;
};

struct problems {
	struct problem *v;
	size_t n, cap;
	int oom;
};

static void problem_collect(int64_t seq, const char *message, void *userdata)
{
	struct problems *p = userdata;

	if (p->oom)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct problem *nv = realloc(p->v, cap * sizeof(*nv));
		if (nv == NULL) {
			p->oom = 1;
			return;
		}
		p->v = nv;
		p->cap = cap;
	}
	if ((p->v[p->n].message = strdup(message ? message : "")) == NULL) {
		p->oom = 1;
		return;
	}
	p->v[p->n++].seq = seq;
}

static void problems_free(struct problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].message);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* "record 41: MESSAGE" (the message as is when it names the record
 * already), "log: MESSAGE" when it is about no single record. */
static void text_problem(FILE *f, const struct problem *p)
{
	char prefix[32];

	if (p->seq < 0) {
		fputs("log: ", f);
	} else {
		snprintf(prefix, sizeof(prefix), "record %" PRId64, p->seq);
		if (strncmp(p->message, prefix, strlen(prefix)) != 0 ||
		    (p->message[strlen(prefix)] >= '0' && p->message[strlen(prefix)] <= '9'))
			fprintf(f, "%s: ", prefix);
	}
	text_str(f, p->message);
	fputc('\n', f);
}

static int store_verify(const struct options *o, tlsguard_store *st)
{
	struct problems p;
	char head[128] = "";
	int64_t records = 0, compacted = 0;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = tlsguard_store_verify(st, o->head, problem_collect, &p, head, sizeof(head), &records, &compacted);
	if (p.oom) {
		error_msg("out of memory");
		problems_free(&p);
		return EXIT_USAGE;
	}
	if (rc != 0 && rc != TLSGUARD_E_VERIFY) {
		const char *why = tlsguard_store_last_error(st);
		if (rc == TLSGUARD_E_INVALID && o->head != NULL)
			error_msg("--head: %s", why[0] ? why : tlsguard_strerror(rc));
		else
			error_msg("%s: cannot verify the observation history: %s", tlsguard_store_path(st),
			          why[0] ? why : tlsguard_strerror(rc));
		problems_free(&p);
		return EXIT_USAGE;
	}
	if (o->json) {
		fputs("{\"store\":", stdout);
		json_str(stdout, tlsguard_store_path(st));
		printf(",\"intact\":%s,\"problems\":[", rc == 0 ? "true" : "false");
		for (i = 0; i < p.n; i++) {
			if (p.v[i].seq >= 0)
				printf("%s{\"seq\":%" PRId64 ",\"message\":", i ? "," : "", p.v[i].seq);
			else
				printf("%s{\"seq\":null,\"message\":", i ? "," : "");
			json_str(stdout, p.v[i].message);
			putchar('}');
		}
		printf("],\"records\":%" PRId64 ",\"compacted\":%" PRId64 ",\"head\":", records, compacted);
		json_str(stdout, nonempty(head));
		fputs(",\"trusted_head\":", stdout);
		json_str(stdout, o->head);
		fputs("}\n", stdout);
	} else {
		for (i = 0; i < p.n; i++)
			text_problem(stdout, &p.v[i]);
		fputs("store: ", stdout);
		text_str(stdout, tlsguard_store_path(st));
		printf("\nrecords checked: %" PRId64 "\n", records);
		printf("records compacted: %" PRId64 "%s\n", compacted,
		       compacted ? " (removed by the retention rule; the tree still covers them)" : "");
		printf("head: %s\n", head[0] ? head : "(unknown)");
		if (o->head != NULL && rc == 0)
			printf("trusted head: %s (the log extends it)\n", o->head);
		else if (o->head != NULL)
			printf("trusted head: %s\n", o->head);
		if (rc != 0)
			printf("result: %zu problem%s found: the history was changed after it was written; do not rely on it\n",
			       p.n, p.n == 1 ? "" : "s");
		else if (head[0] == '\0')
			fputs("result: intact\n", stdout);
		else
			printf("result: intact\n"
			       "Keep this head somewhere else (another machine, a backup) and pass it next time:\n"
			       "    tlsguard store verify --head %s\n"
			       "Only then is a rewrite of the whole store file detectable, not just an edit of some records.\n",
			       head);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		error_msg("standard output: %s", strerror(errno ? errno : EIO));
	if (rc != 0 && !o->json)
		error_msg("%s: the observation history has %zu problem%s", tlsguard_store_path(st), p.n,
		          p.n == 1 ? "" : "s");
	problems_free(&p);
	return rc == 0 ? EXIT_ACCEPTED : EXIT_REJECTED;
}

static int cmd_store(const struct options *o)
{
	const char *sub = o->args[0];
	struct endpoint ep;
	tlsguard_store *st = NULL;
	int rc;

	memset(&ep, 0, sizeof(ep));
	if (store_needs_host(sub) || (!strcmp(sub, "history") && o->nargs > 1)) {
		if (parse_endpoint(o->args[1], &ep) != 0)
			return usage_error("store %s: '%s': expected HOST, HOST:PORT or [IPV6]:PORT", sub, o->args[1]);
		if ((rc = check_host(ep.host, sub)) != 0)
			return rc;
		if (!strcmp(sub, "accept") && ep.port == 0)
			ep.port = DEFAULT_PORT;
	}
	rc = store_open_cli(o, &st);
	if (rc != 0)
		return rc;
	if (!strcmp(sub, "list"))
		rc = store_list(o, st);
	else if (!strcmp(sub, "show"))
		rc = store_show(o, st, &ep);
	else if (!strcmp(sub, "accept"))
		rc = store_accept(st, &ep);
	else if (!strcmp(sub, "forget"))
		rc = store_forget(st, &ep);
	else if (!strcmp(sub, "history"))
		rc = store_history(o, st, &ep);
	else if (!strcmp(sub, "verify"))
		rc = store_verify(o, st);
	else
		rc = store_check(st);
	tlsguard_store_close(st);
	return rc;
}

/* ------------------------------------------------------------------ */

static int print_version(void)
{
	printf("tlsguard %s (libtlsguard %s, GnuTLS %s)\n", TLSGUARD_VERSION, tlsguard_version(),
	       gnutls_check_version(NULL));
	return EXIT_ACCEPTED;
}

static int run_command(enum command cmd, int argc, char **argv)
{
	struct options o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.cmd = cmd;
	o.cmd_name = argv[0];
	rc = parse_options(&o, argc, argv);
	if (rc == 0 && o.help) {
		usage(stdout);
		options_free(&o);
		return EXIT_ACCEPTED;
	}
	if (rc == 0)
		rc = check_arguments(&o);
	if (rc == 0)
		rc = cmd == CMD_VERIFY ? cmd_verify(&o) : cmd == CMD_CONNECT ? cmd_connect(&o) :
		     cmd == CMD_PIN ? cmd_pin(&o) : cmd == CMD_SCT ? cmd_sct(&o) : cmd_store(&o);
	options_free(&o);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return EXIT_ACCEPTED;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V"))
		return print_version();
	if (!strcmp(cmd, "verify"))
		return run_command(CMD_VERIFY, argc - 1, argv + 1);
	if (!strcmp(cmd, "connect"))
		return run_command(CMD_CONNECT, argc - 1, argv + 1);
	if (!strcmp(cmd, "pin"))
		return run_command(CMD_PIN, argc - 1, argv + 1);
	if (!strcmp(cmd, "store"))
		return run_command(CMD_STORE, argc - 1, argv + 1);
	if (!strcmp(cmd, "sct"))
		return run_command(CMD_SCT, argc - 1, argv + 1);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s' (a COMMAND comes first)", cmd);
	return usage_error("unknown command '%s'", cmd);
}
