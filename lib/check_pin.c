/*
 * Check "pin": for a pinned host, at least one certificate of the validated
 * path (leaf, intermediates, trust anchor) has one of the pinned SPKI
 * SHA-256 values. A forged certificate from a CA the system trusts passes
 * the chain check; it fails here. Past the pin set's expiry date the pins
 * are not enforced and an info event says so.
 */
#include "config.h"

#include <string.h>

#include "tg.h"

int tg_eval_spki(struct tg_eval *e, size_t idx, const unsigned char **out)
{
	gnutls_x509_crt_t crt;
	int rc;

	if (idx > TG_MAX_CHAIN || (idx < TG_MAX_CHAIN && idx >= e->ncerts))
		return TLSGUARD_E_INVALID;
	crt = idx == TG_MAX_CHAIN ? e->anchor : e->certs[idx];
	if (crt == NULL)
		return TLSGUARD_E_INVALID;
	if (!e->spki_done[idx]) {
		if ((rc = tg_spki_sha256(crt, e->spki[idx])) != 0)
			return rc;
		e->spki_done[idx] = true;
	}
	*out = e->spki[idx];
	return 0;
}

static bool pinned(const struct tg_policy *pol, const unsigned char *spki)
{
	size_t i;
	for (i = 0; i < pol->npins; i++)
		if (memcmp(pol->pins[i], spki, TG_PIN_LEN) == 0)
			return true;
	return false;
}

/* "sha256/A..., sha256/B..." into buf (truncated with "..." if long). */
static void list_pins(const struct tg_policy *pol, char *buf, size_t len)
{
	size_t i, used = 0;
	char b[48];

	buf[0] = '\0';
	for (i = 0; i < pol->npins && used + 60 < len; i++) {
		tg_pin_b64(pol->pins[i], b);
		used += (size_t)tg_snprintf(buf + used, len - used, "%ssha256/%s", i ? ", " : "", b);
	}
	if (i < pol->npins)
		tg_snprintf(buf + used, len - used, ", ...");
}

/* How many certificates of the path, from the leaf, are bound to it by
 * signatures: the leaf (its key signed the handshake), then each issuer
 * whose signature on the previous one verifies; the anchor counts as one
 * more when it signed the last. When GnuTLS verified the whole chain this
 * is everything; otherwise (an untrusted or broken chain that a policy may
 * still accept, e.g. in interactive mode) each link is checked here, so a
 * pinned certificate the attacker merely appended never matches. */
static size_t linked(const struct tg_eval *e)
{
	size_t i;

	if (e->gnutls_status == 0)
		return e->npath + (e->anchor != NULL);
	for (i = 0; i < e->npath; i++) {
		gnutls_x509_crt_t issuer = i + 1 < e->npath ? e->certs[e->path[i + 1]] : e->anchor;
		unsigned st = 0;
		if (issuer == NULL ||
		    gnutls_x509_crt_verify(e->certs[e->path[i]], &issuer, 1,
		                           GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_ALLOW_BROKEN, &st) < 0 ||
		    (st & (GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) != 0)
			return i + 1;
	}
	return e->npath + (e->anchor != NULL);
}

static int run(struct tg_eval *e)
{
	const unsigned char *spki;
	struct tlsguard_event *ev;
	char want[800], seen[900], b[48], when[40];
	size_t i, used = 0, nlinked;
	int rc;

	if (e->pol.npins == 0)
		return TLSGUARD_CHECK_SKIP;
	if (e->pol.pin_expires != 0 && e->now > e->pol.pin_expires) {
		tg_format_time(e->pol.pin_expires, when, sizeof(when));
		tg_event_add(e, TLSGUARD_EV_PIN_EXPIRED, TLSGUARD_SEV_INFO, -1,
		             "the pins for %s expired at %s and were not enforced", e->req->host, when);
		return TLSGUARD_CHECK_SKIP;
	}
	seen[0] = '\0';
	nlinked = linked(e);
	for (i = 0; i < nlinked; i++) {
		size_t idx = i < e->npath ? e->path[i] : TG_MAX_CHAIN;
		if ((rc = tg_eval_spki(e, idx, &spki)) != 0)
			return rc;
		if (pinned(&e->pol, spki))
			return TLSGUARD_CHECK_PASS;
		tg_pin_b64(spki, b);
		if (used + 70 < sizeof(seen)) {
			if (idx == TG_MAX_CHAIN)
				used += (size_t)tg_snprintf(seen + used, sizeof(seen) - used, "%sanchor sha256/%s", used ? ", " : "", b);
			else
				used += (size_t)tg_snprintf(seen + used, sizeof(seen) - used, "%s[%zu] sha256/%s", used ? ", " : "",
				                            idx, b);
		}
	}
	list_pins(&e->pol, want, sizeof(want));
	ev = tg_event_add(e, TLSGUARD_EV_PIN_MISMATCH,
	                  e->pol.pin_report_only ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL, -1,
	                  "no key of the chain is pinned for %s%s; expected one of: %s; chain keys: %s", e->req->host,
	                  e->pol.pin_report_only ? " (report-only)" : "", want, seen);
	if (ev != NULL)
		ev->in_report = true;
	e->want_report = true;
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_pin = {"pin", run, NULL};
