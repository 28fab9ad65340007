/*
 * Check "tofu": trust on first use. The first leaf key that passes every
 * check for host:port is remembered in the store; a later different key
 * raises "key changed" with both keys and the history, and is kept as
 * pending so that an operator can review and accept it
 * (tlsguard store accept HOST[:PORT]). Keys are recorded only after the
 * verdict is known (the "after" hook), so a rejected chain is never learnt.
 */
#include "config.h"

#include <string.h>

#include "tg.h"

static unsigned tofu_port(const struct tg_eval *e)
{
	return e->req->port ? e->req->port : 443;
}

static int severity(const struct tg_eval *e)
{
	return e->pol.tofu_report_only ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL;
}

/* The store cannot be used: fail closed, unless pins only report. */
static int store_failed(struct tg_eval *e, int rc, const char *why)
{
	tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, severity(e), -1, "trust-on-first-use store unusable: %s", why);
	return e->pol.tofu_report_only ? TLSGUARD_CHECK_PASS : rc;
}

static int run(struct tg_eval *e)
{
	struct tg_store *st = e->ctx->store;
	struct tg_tofu rec;
	const unsigned char *spki;
	struct tlsguard_event *ev;
	char err[TG_ERRBUF], old[48], cur[48], first[40], last[40];
	int rc;

	if (!e->pol.tofu)
		return TLSGUARD_CHECK_SKIP;
	if (st == NULL)
		return store_failed(e, e->ctx->store_rc ? e->ctx->store_rc : TLSGUARD_E_STORE, e->ctx->store_err);
	if ((rc = tg_eval_spki(e, 0, &spki)) != 0)
		return rc;
	rc = tg_store_tofu_get(st, e->req->host, tofu_port(e), &rec, err, sizeof(err));
	if (rc < 0)
		return store_failed(e, rc, err);
	if (rc == 0 || memcmp(rec.spki, spki, TG_SPKI_LEN) == 0) {
		e->tofu_action = TG_TOFU_SEEN;
		return TLSGUARD_CHECK_PASS;
	}
	tg_pin_b64(rec.spki, old);
	tg_pin_b64(spki, cur);
	tg_format_time(rec.first_seen, first, sizeof(first));
	tg_format_time(rec.last_seen, last, sizeof(last));
	ev = tg_event_add(e, TLSGUARD_EV_KEY_CHANGED, severity(e), 0,
	                  "%s:%u first presented key sha256/%s on %s (seen %llu times, last on %s); now it presents "
	                  "sha256/%s. If the change is legitimate, accept it with: tlsguard store accept %s:%u",
	                  e->req->host, tofu_port(e), old, first, (unsigned long long)rec.seen_count, last, cur,
	                  e->req->host, tofu_port(e));
	if (ev != NULL)
		ev->in_report = true;
	e->want_report = true;
	e->tofu_action = TG_TOFU_PENDING;
	return TLSGUARD_CHECK_PASS;
}

static bool any_fatal(const struct tg_eval *e)
{
	size_t i;
	for (i = 0; i < e->res->nevents; i++)
		if (e->res->events[i].severity == TLSGUARD_SEV_FATAL)
			return true;
	return false;
}

/* A changed key is kept for review only when it failed nothing else: a
 * chain an attacker made (untrusted, expired, wrong name, pin mismatch)
 * must not displace a legitimate rotation waiting for acceptance. */
static bool only_key_changed(const struct tg_eval *e)
{
	size_t i;
	for (i = 0; i < e->res->nevents; i++) {
		const struct tlsguard_event *ev = &e->res->events[i];
		if (ev->code != TLSGUARD_EV_KEY_CHANGED && ev->severity == TLSGUARD_SEV_FATAL)
			return false;
	}
	return true;
}

static int after(struct tg_eval *e, int verdict)
{
	struct tg_store *st = e->ctx->store;
	const unsigned char *spki;
	char err[TG_ERRBUF];
	int rc = 0;

	if (e->tofu_action == TG_TOFU_NONE || st == NULL)
		return 0;
	if ((rc = tg_eval_spki(e, 0, &spki)) != 0)
		return rc;
	/* Learn only a chain that passed everything: report-only mode accepts
	 * chains with fatal events, and those must not become the first key. */
	if (e->tofu_action == TG_TOFU_SEEN && verdict == TLSGUARD_ACCEPT && !any_fatal(e))
		rc = tg_store_tofu_seen(st, e->req->host, tofu_port(e), spki, e->now, err, sizeof(err));
	else if (e->tofu_action == TG_TOFU_PENDING && only_key_changed(e))
		rc = tg_store_tofu_set_pending(st, e->req->host, tofu_port(e), spki, e->now, err, sizeof(err));
	/* rc 1: another process stored a different first key meanwhile; the
	 * next connection compares against it. TLSGUARD_E_RANGE: the record was
	 * forgotten meanwhile; the next connection is a first use again. */
	if (rc == 1 || rc == TLSGUARD_E_RANGE)
		rc = 0;
	if (rc < 0 && !e->pol.tofu_report_only) {
		tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, -1,
		             "cannot record the key in the trust-on-first-use store: %s", err);
		return rc;
	}
	return 0;
}

const struct tg_check tg_check_tofu = {"tofu", run, after};
