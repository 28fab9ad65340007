/*
 * Fuzz target "pin": the pin parser (tlsguard_pin_parse(), every syntax of
 * tlsguard.conf(5) "pin") and the pin-list parser behind
 * tlsguard_ctx_add_pin_set() and the config key "pin".
 *
 * The whole input goes to
 *  1. tlsguard_pin_parse(data, size), as one pin;
 *  2. tlsguard_ctx_add_pin_set() on a fresh context for TG_FUZZ_HOST, as a
 *     pin list (a C string: it ends at the first NUL byte, if any), with
 *     flags and expiry date taken from the input's length so that every
 *     combination is reached.
 *
 * Invariants checked (abort() when violated):
 * - tlsguard_pin_parse() returns 0 or TLSGUARD_E_INVALID; an input with a
 *   NUL byte, or an empty one, never parses;
 * - a parsed pin round-trips: tlsguard_pin_format() succeeds for every
 *   syntax (sha256/, sha256//, pin-sha256="", hex) into 100 bytes, says
 *   TLSGUARD_E_RANGE for a buffer one byte too short and fits exactly into
 *   one of the right size, and parsing each formatted text gives back the
 *   same 32 bytes;
 * - parsing is not malleable: an accepted input is the canonical text of its
 *   32 bytes in its own syntax (base64 with zero padding bits; hex in either
 *   case, with colons between all 32 bytes or none), so two different texts
 *   of one syntax never name the same key;
 * - tlsguard_ctx_add_pin_set() returns 0 or TLSGUARD_E_INVALID, and sets a
 *   message when it fails; an input that parses as one pin is accepted as
 *   a list too, and so is the list of its four formatted texts.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <tlsguard/tlsguard.h>

#include "fuzz.h"

#define PIN_BUF 100 /* "always suffices", says tlsguard.h */

static const int syntaxes[] = {TLSGUARD_PIN_SYNTAX_SHA256, TLSGUARD_PIN_SYNTAX_CURL, TLSGUARD_PIN_SYNTAX_HPKP,
                               TLSGUARD_PIN_SYNTAX_HEX};
#define NSYNTAX (sizeof(syntaxes) / sizeof(syntaxes[0]))

/* The syntax of an accepted input. "sha256//" + 43 characters is the
 * sha256/ syntax of a pin whose base64 starts with '/'. */
static int syntax_of(const uint8_t *data, size_t size)
{
	if (size == 8 + 44 && memcmp(data, "sha256//", 8) == 0)
		return TLSGUARD_PIN_SYNTAX_CURL;
	if (size >= 7 && memcmp(data, "sha256/", 7) == 0)
		return TLSGUARD_PIN_SYNTAX_SHA256;
	if (size >= 11 && memcmp(data, "pin-sha256=", 11) == 0)
		return TLSGUARD_PIN_SYNTAX_HPKP;
	return TLSGUARD_PIN_SYNTAX_HEX;
}

/* @size bytes of accepted input against @canon (the formatted text). */
static void check_canonical(const uint8_t *data, size_t size, int syntax, const char *canon)
{
	size_t i, o = 0, clen = strlen(canon);

	if (syntax != TLSGUARD_PIN_SYNTAX_HEX) {
		if (size != clen || memcmp(data, canon, size) != 0)
			abort();
		return;
	}
	/* 64 hex digits, or 32 pairs joined by 31 colons. */
	if (size != 64 && size != 95)
		abort();
	for (i = 0; i < size; i++) {
		if (size == 95 && i % 3 == 2) {
			if (data[i] != ':')
				abort();
			continue;
		}
		if (o >= clen || tolower(data[i]) != canon[o++])
			abort();
	}
	if (o != clen)
		abort();
}

static void check_round_trip(const uint8_t *data, size_t size, const unsigned char pin[32],
                             char formatted[NSYNTAX][PIN_BUF])
{
	unsigned char again[32];
	char small[PIN_BUF];
	size_t i, n;

	for (i = 0; i < NSYNTAX; i++) {
		char *out = formatted[i];
		memset(out, 'x', PIN_BUF);
		if (tlsguard_pin_format(pin, syntaxes[i], out, PIN_BUF) != 0)
			abort();
		n = strnlen(out, PIN_BUF);
		if (n == 0 || n >= PIN_BUF)
			abort();
		/* exactly n + 1 bytes are needed */
		if (tlsguard_pin_format(pin, syntaxes[i], small, n) != TLSGUARD_E_RANGE)
			abort();
		if (tlsguard_pin_format(pin, syntaxes[i], small, n + 1) != 0 || strcmp(small, out) != 0)
			abort();
		memset(again, 0, sizeof(again));
		if (tlsguard_pin_parse(out, n, again) != 0 || memcmp(again, pin, 32) != 0)
			abort();
		if (syntaxes[i] == syntax_of(data, size))
			check_canonical(data, size, syntaxes[i], out);
	}
}

static void check_pin_set(const char *list, int single, char formatted[NSYNTAX][PIN_BUF], size_t size)
{
	static const unsigned flag_sets[] = {0, TLSGUARD_PIN_INCLUDE_SUBDOMAINS, TLSGUARD_PIN_REPORT_ONLY,
	                                     TLSGUARD_PIN_INCLUDE_SUBDOMAINS | TLSGUARD_PIN_REPORT_ONLY};
	unsigned flags = flag_sets[size % 4];
	int64_t expires = (size / 4) % 2 ? TG_FUZZ_TIME : 0;
	char joined[4 * PIN_BUF + 8];
	tlsguard_ctx *ctx = NULL;
	int rc;

	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0)
		return; /* out of memory: not what we are testing */
	rc = tlsguard_ctx_add_pin_set(ctx, TG_FUZZ_HOST, list, flags, expires);
	if (rc != 0 && rc != TLSGUARD_E_INVALID)
		abort();
	if (rc != 0 && (tlsguard_ctx_last_error(ctx) == NULL || tlsguard_ctx_last_error(ctx)[0] == '\0'))
		abort();
	if (single && rc != 0)
		abort();
	if (formatted != NULL) {
		/* every separator the list syntax allows */
		strcpy(joined, formatted[0]);
		strcat(joined, ",");
		strcat(joined, formatted[1]);
		strcat(joined, " , ");
		strcat(joined, formatted[2]);
		strcat(joined, "\t");
		strcat(joined, formatted[3]);
		/* a second set for the same host replaces the first */
		if (tlsguard_ctx_add_pin_set(ctx, TG_FUZZ_HOST, joined, flags, expires) != 0)
			abort();
	}
	tlsguard_ctx_free(ctx);
}

TG_FUZZ_TARGET(pin)
{
	unsigned char pin[32];
	char formatted[NSYNTAX][PIN_BUF];
	char *list;
	int rc, single = 0;

	rc = tlsguard_pin_parse((const char *)data, size, pin);
	if (rc != 0 && rc != TLSGUARD_E_INVALID)
		abort();
	if (rc == 0) {
		if (size == 0 || memchr(data, '\0', size) != NULL)
			abort();
		check_round_trip(data, size, pin, formatted);
		/* one pin without separators is also a list of one pin */
		single = memchr(data, ',', size) == NULL && memchr(data, ' ', size) == NULL &&
		         memchr(data, '\t', size) == NULL;
	}

	list = malloc(size + 1);
	if (list == NULL)
		return 0;
	if (size > 0)
		memcpy(list, data, size);
	list[size] = '\0';
	check_pin_set(list, single, rc == 0 ? formatted : NULL, size);
	free(list);
	return 0;
}
