/* The checks, in running order. Adding a check: write check_<name>.c with
 * one struct tg_check, declare it in tg.h, and list it here. */
#include "config.h"

#include "tg.h"

const struct tg_check *const tg_checks[] = {
	&tg_check_chain,    /* path to a trust anchor, signatures, CA flags */
	&tg_check_validity, /* notBefore / notAfter at the evaluation time */
	&tg_check_hostname, /* SAN DNS / IP match, browser wildcard rules */
	&tg_check_eku,      /* extended key usage: serverAuth */
	&tg_check_crypto,   /* signature hashes and key sizes */
	&tg_check_ocsp,     /* stapled OCSP response, when present */
	&tg_check_pin,      /* static SPKI pins of the host */
	&tg_check_tofu,     /* trust on first use: key changed since first seen */
	&tg_check_ct,       /* Certificate Transparency: SCTs and Chrome's or Apple's policy */
	&tg_check_webpki,   /* web-PKI certificate profile (RFC 5280, CA/B Forum) beyond GnuTLS */
	&tg_check_consistency, /* split view across addresses, CA changes; records the observation */
	NULL,
};
