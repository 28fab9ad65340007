/*
 * Pins: the SHA-256 of a certificate's DER SubjectPublicKeyInfo, written as
 *   sha256/BASE64  or  sha256//BASE64   (curl --pinnedpubkey)
 *   pin-sha256="BASE64"                 (HPKP, RFC 7469)
 *   64 hex digits, colons allowed       (openssl dgst style)
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "tg.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void tg_pin_b64(const unsigned char pin[TG_PIN_LEN], char out[48])
{
	size_t i, o = 0;
	for (i = 0; i + 3 <= TG_PIN_LEN; i += 3) {
		unsigned v = (unsigned)pin[i] << 16 | (unsigned)pin[i + 1] << 8 | pin[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	/* 32 = 30 + 2: one final group with one '=' */
	{
		unsigned v = (unsigned)pin[30] << 16 | (unsigned)pin[31] << 8;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64_val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Exactly 44 characters of standard base64 encoding 32 bytes. */
static int decode_b64(const char *s, size_t len, unsigned char out[TG_PIN_LEN])
{
	size_t i, o = 0;

	if (len != 44 || s[43] != '=' || s[42] == '=')
		return TLSGUARD_E_INVALID;
	for (i = 0; i < 44; i += 4) {
		int v[4], k;
		for (k = 0; k < 4; k++) {
			v[k] = (i + (size_t)k == 43) ? 0 : b64_val((unsigned char)s[i + (size_t)k]);
			if (v[k] < 0)
				return TLSGUARD_E_INVALID;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (o < TG_PIN_LEN)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
		else if ((v[2] & 3) != 0)
			return TLSGUARD_E_INVALID; /* non-canonical padding bits */
	}
	return o == TG_PIN_LEN ? 0 : TLSGUARD_E_INVALID;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int decode_hex(const char *s, size_t len, unsigned char out[TG_PIN_LEN])
{
	size_t i = 0, o = 0;
	bool colons = len == 95;

	if (len != 64 && !colons)
		return TLSGUARD_E_INVALID;
	while (i < len) {
		int hi = hexval((unsigned char)s[i]), lo = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || o >= TG_PIN_LEN)
			return TLSGUARD_E_INVALID;
		out[o++] = (unsigned char)(hi << 4 | lo);
		i += 2;
		if (colons && i < len) {
			if (s[i] != ':')
				return TLSGUARD_E_INVALID;
			i++;
		}
	}
	return o == TG_PIN_LEN ? 0 : TLSGUARD_E_INVALID;
}

int tg_pin_parse(const char *s, size_t len, unsigned char out[TG_PIN_LEN])
{
	if (s == NULL || len == 0 || memchr(s, '\0', len) != NULL)
		return TLSGUARD_E_INVALID;
	/* Only "sha256//" + 44 is curl's syntax: "sha256//" + 43 is "sha256/"
	 * + a base64 text that starts with '/' (a first byte >= 0xfc). */
	if (len == 8 + 44 && memcmp(s, "sha256//", 8) == 0)
		return decode_b64(s + 8, len - 8, out);
	if (len > 7 && memcmp(s, "sha256/", 7) == 0)
		return decode_b64(s + 7, len - 7, out);
	if (len > 12 && memcmp(s, "pin-sha256=", 11) == 0) {
		s += 11;
		len -= 11;
		if (len < 2 || s[0] != '"' || s[len - 1] != '"')
			return TLSGUARD_E_INVALID;
		return decode_b64(s + 1, len - 2, out);
	}
	return decode_hex(s, len, out);
}

int tg_pins_parse_list(const char *text, unsigned char (**pins)[TG_PIN_LEN], size_t *npins, char *err,
                       size_t errlen)
{
	const char *s = text;

	while (*s) {
		const char *e;
		unsigned char pin[TG_PIN_LEN];
		unsigned char (*n)[TG_PIN_LEN];
		size_t i;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		e = s;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if (tg_pin_parse(s, (size_t)(e - s), pin) != 0) {
			tg_snprintf(err, errlen,
			            "malformed pin '%.*s' (expected sha256/BASE64, pin-sha256=\"BASE64\" or 64 hex digits "
			            "of a SHA-256)",
			            (int)(e - s > 80 ? 80 : e - s), s);
			return TLSGUARD_E_INVALID;
		}
		for (i = 0; i < *npins && memcmp((*pins)[i], pin, TG_PIN_LEN) != 0; i++)
			;
		if (i == *npins) { /* duplicates are harmless; keep one */
			n = tg_realloc(*pins, (*npins + 1) * sizeof(*n));
			if (n == NULL)
				return TLSGUARD_E_NOMEM;
			memcpy(n[*npins], pin, TG_PIN_LEN);
			*pins = n;
			(*npins)++;
		}
		s = e;
	}
	return 0;
}

int tg_spki_sha256(gnutls_x509_crt_t crt, unsigned char out[TG_PIN_LEN])
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = {NULL, 0};
	int rc = TLSGUARD_E_INTERNAL;

	if (gnutls_pubkey_init(&pub) < 0)
		return TLSGUARD_E_NOMEM;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 || gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out) < 0)
		goto out;
	rc = 0;
out:
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return rc;
}

/* ---- public ---- */

int tlsguard_pin_parse(const char *text, size_t len, unsigned char out[32])
{
	if (text == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	return tg_pin_parse(text, len, out);
}

int tlsguard_pin_from_cert(const unsigned char *der, size_t len, unsigned char out[32])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	int rc;

	if (der == NULL || len == 0 || len > UINT32_MAX || out == NULL)
		return TLSGUARD_E_INVALID;
	if (gnutls_x509_crt_init(&crt) < 0)
		return TLSGUARD_E_NOMEM;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ? TLSGUARD_E_CERT_PARSE : tg_spki_sha256(crt, out);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int tlsguard_pin_format(const unsigned char pin[32], int syntax, char *out, size_t outlen)
{
	char b[48];
	size_t i;
	int n;

	if (pin == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	tg_pin_b64(pin, b);
	switch (syntax) {
	case TLSGUARD_PIN_SYNTAX_SHA256:
		n = tg_snprintf(out, outlen, "sha256/%s", b);
		break;
	case TLSGUARD_PIN_SYNTAX_CURL:
		n = tg_snprintf(out, outlen, "sha256//%s", b);
		break;
	case TLSGUARD_PIN_SYNTAX_HPKP:
		n = tg_snprintf(out, outlen, "pin-sha256=\"%s\"", b);
		break;
	case TLSGUARD_PIN_SYNTAX_HEX:
		if (outlen < 65)
			return TLSGUARD_E_RANGE;
		for (i = 0; i < 32; i++)
			tg_snprintf(out + 2 * i, 3, "%02x", pin[i]);
		return 0;
	default:
		return TLSGUARD_E_INVALID;
	}
	return (size_t)n < outlen ? 0 : TLSGUARD_E_RANGE;
}
