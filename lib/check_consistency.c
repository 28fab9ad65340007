/*
 * Check "consistency": does this address of the host show what its other
 * addresses show, and what this computer saw before?
 *
 * In the 2014 iCloud interception only one of the service's addresses was
 * intercepted, with a certificate from a CA the victims' systems trusted.
 * Nothing about that chain alone was wrong; what gave it away is that the
 * host's other addresses served a chain from another authority. This check
 * compares, locally and with no third party:
 *
 *   - the VIEW of this connection: trust anchor, issuing CA (both by key),
 *     CT compliance and pin status;
 *   - with the newest accepted view of each of the host's other addresses
 *     in the history window (the observation history, tg_history.h), and
 *   - with what the cross-path probe (tg_probe.h) fetches from the other
 *     addresses right now, when the policy asks for it: "on-change" probes
 *     when this connection shows a key, issuing CA or anchor never accepted
 *     for the host before (first contact included), "always" on every
 *     connection; results stand for probe-cache-seconds (they are recorded
 *     in the history, which is the cache, shared by every process).
 *
 * Split view. When views differ, which side is intercepted? The check
 * ranks views by what an interceptor cannot fake: a view that matches the
 * host's pins beats one that does not; a CT-compliant view beats one that
 * is not; a view (issuing CA and anchor) accepted for the host in earlier
 * connections beats a new one; more addresses agreeing beats fewer. This
 * connection raises "split view" (fatal in enforce mode) when some other
 * address's view differs and ranks at least as high as its own: on first
 * contact with nothing to tell the views apart, both sides are refused,
 * because tlsguard cannot know which is genuine. When this connection's
 * view ranks strictly higher than every differing one, the others may be
 * intercepted: a warning says so and the connection proceeds. Leaves that
 * differ (a CDN's many certificates) never count: only trust properties.
 *
 * Change detection (warnings, from the per-host summary): an issuing CA or
 * anchor never accepted for a host that was always seen with others
 * ("ca-changed", with since when and how often); a key or CA that was only
 * ever refused for the host ("seen-rejected", with when and why).
 *
 * The observation of this connection (accepted or not) is appended to the
 * history once the verdict is known (the "after" hook). A store that
 * cannot be used fails closed unless the host's consistency mode is
 * report-only.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "tg.h"
#include "tg_history.h"
#include "tg_probe.h"

#define MAX_PEERS 64     /* addresses compared with, at most */
/* Fatal CT events, which a probed chain cannot be judged by (no TLS SCTs). */
#define CT_CODES ((UINT64_C(1) << TLSGUARD_EV_CT_MISSING) | (UINT64_C(1) << TLSGUARD_EV_CT_POLICY_NOT_MET))
#define MAX_SUMMARY 256  /* summary rows of one kind read per host */

struct peer {
	struct tg_observation obs; /* its view (probe result or history) */
	bool from_probe;
	int status;                /* enum tlsguard_peer_status */
	char error[160];           /* probe failure */
	bool differs;
};

struct summary_set {
	struct tg_hist_summary *rows; /* grown as rows come, up to MAX_SUMMARY */
	size_t n, cap;
	bool truncated, oom;
};

struct state {
	struct tg_eval *e;
	struct tg_store *st;
	unsigned port;
	struct summary_set keys, issuers, anchors;
	struct peer *peers;        /* grown as peers come, up to MAX_PEERS */
	size_t npeers, peers_cap;
	bool oom;
	char err[TG_ERRBUF];
};

static int severity(const struct tg_eval *e)
{
	return e->pol.consistency == TG_CONS_REPORT_ONLY ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL;
}

static unsigned port_of(const struct tg_eval *e)
{
	return e->req->port ? e->req->port : 443;
}

/* The store cannot be used: fail closed, unless only reporting. */
static int store_failed(struct tg_eval *e, int rc, const char *why)
{
	tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, severity(e), -1, "consistency history unusable: %s", why);
	return e->pol.consistency == TG_CONS_REPORT_ONLY ? TLSGUARD_CHECK_PASS : rc;
}

static bool has_event(const struct tg_eval *e, int code)
{
	size_t i;
	for (i = 0; i < e->res->nevents; i++)
		if (e->res->events[i].code == code)
			return true;
	return false;
}

static int check_outcome(const struct tg_eval *e, const char *name)
{
	size_t i;
	for (i = 0; i < e->res->nchecks; i++)
		if (!strcmp(e->res->checks[i].name, name))
			return e->res->checks[i].outcome;
	return TLSGUARD_CHECK_SKIP;
}

static void dn_of(gnutls_x509_crt_t crt, char *out, size_t len)
{
	gnutls_datum_t d = {NULL, 0};

	out[0] = '\0';
	if (gnutls_x509_crt_get_dn3(crt, &d, 0) == 0 && d.data != NULL)
		tg_snprintf(out, len, "%.*s", (int)d.size, (const char *)d.data);
	gnutls_free(d.data);
}

/* The view of an evaluation: everything but verdict and fatal codes, which
 * only the end of the evaluation knows. */
static int fill_obs(struct tg_eval *e, struct tg_observation *o, int source)
{
	const unsigned char *spki;
	size_t i;
	int rc, ct;

	memset(o, 0, sizeof(*o));
	o->time = e->now;
	tg_snprintf(o->host, sizeof(o->host), "%s", e->req->host);
	o->port = port_of(e);
	tg_snprintf(o->address, sizeof(o->address), "%s", e->req->address);
	o->source = source;
	if ((rc = tg_eval_spki(e, 0, &spki)) != 0)
		return rc;
	memcpy(o->leaf_spki, spki, TG_SPKI_LEN);
	if (e->anchor != NULL) {
		if ((rc = tg_eval_spki(e, TG_MAX_CHAIN, &spki)) != 0)
			return rc;
		memcpy(o->anchor_spki, spki, TG_SPKI_LEN);
		dn_of(e->anchor, o->anchor_name, sizeof(o->anchor_name));
	}
	if (e->npath >= 2) {
		if ((rc = tg_eval_spki(e, e->path[1], &spki)) != 0)
			return rc;
		memcpy(o->issuer_spki, spki, TG_SPKI_LEN);
		dn_of(e->certs[e->path[1]], o->issuer_name, sizeof(o->issuer_name));
	} else if (e->anchor != NULL) {
		/* Issued directly by the anchor. */
		memcpy(o->issuer_spki, o->anchor_spki, TG_SPKI_LEN);
		memcpy(o->issuer_name, o->anchor_name, sizeof(o->issuer_name));
	}
	for (i = 0; i < e->req->ncerts && i < TG_OBS_MAX_CHAIN; i++)
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, e->req->certs[i].data, e->req->certs[i].len, o->chain[i]) != 0)
			return TLSGUARD_E_INTERNAL;
	o->nchain = (unsigned)i;
	ct = check_outcome(e, "ct");
	if (ct == TLSGUARD_CHECK_SKIP || ct == TLSGUARD_CHECK_ERROR)
		o->ct = TG_OBS_CT_UNKNOWN;
	else if (has_event(e, TLSGUARD_EV_CT_MISSING) || has_event(e, TLSGUARD_EV_CT_POLICY_NOT_MET))
		o->ct = TG_OBS_CT_NOT_COMPLIANT;
	else
		o->ct = TG_OBS_CT_COMPLIANT;
	if (e->pol.npins == 0 || has_event(e, TLSGUARD_EV_PIN_EXPIRED))
		o->pin = TG_OBS_PIN_NONE;
	else
		o->pin = has_event(e, TLSGUARD_EV_PIN_MISMATCH) ? TG_OBS_PIN_MISMATCH : TG_OBS_PIN_OK;
	o->verdict = TLSGUARD_REJECT; /* until the verdict is known */
	return 0;
}

static uint64_t fatal_codes(const struct tg_eval *e)
{
	uint64_t bits = 0;
	size_t i;
	for (i = 0; i < e->res->nevents; i++)
		if (e->res->events[i].severity == TLSGUARD_SEV_FATAL && e->res->events[i].code < 64)
			bits |= UINT64_C(1) << e->res->events[i].code;
	return bits;
}

/* ---- the per-host summary ---- */

static int add_summary(const struct tg_hist_summary *s, void *ud)
{
	struct summary_set *set = ud;
	if (set->n == MAX_SUMMARY) {
		set->truncated = true;
		return 1;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		void *g = tg_realloc(set->rows, cap * sizeof(*set->rows));
		if (g == NULL) {
			set->oom = true;
			return 1;
		}
		set->rows = g;
		set->cap = cap;
	}
	set->rows[set->n++] = *s;
	return 0;
}

static int load_summary(struct state *S, int kind, struct summary_set *set)
{
	int rc = tg_history_summary_foreach(S->st, S->e->req->host, S->port, kind, add_summary, set, S->err,
	                                    sizeof(S->err));
	if (set->oom)
		return TLSGUARD_E_NOMEM;
	return rc < 0 ? rc : 0;
}

static const struct tg_hist_summary *find_summary(const struct summary_set *set, const unsigned char *hash)
{
	size_t i;
	for (i = 0; i < set->n; i++)
		if (memcmp(set->rows[i].hash, hash, TG_SPKI_LEN) == 0)
			return &set->rows[i];
	return NULL;
}

static bool accepted_before(const struct summary_set *set, const unsigned char *hash)
{
	const struct tg_hist_summary *s = find_summary(set, hash);
	return s != NULL && s->accepted > 0;
}

/* Issuing CA and anchor both accepted for the host before. */
static bool established(const struct state *S, const struct tg_observation *o)
{
	return accepted_before(&S->issuers, o->issuer_spki) && accepted_before(&S->anchors, o->anchor_spki);
}

/* ---- text ---- */

static void reasons_text(uint64_t codes, char *out, size_t len)
{
	size_t n = 0;
	int c;

	out[0] = '\0';
	for (c = 0; c < 64; c++) {
		const char *k;
		if (!(codes & (UINT64_C(1) << c)) || (k = tlsguard_code_key(c)) == NULL)
			continue;
		n += (size_t)tg_snprintf(out + n, len - n, "%s%s", n ? ", " : "", k);
		if (n >= len)
			break;
	}
	if (out[0] == '\0')
		tg_snprintf(out, len, "unknown");
}

static const char *ct_text(int ct)
{
	return ct == TG_OBS_CT_COMPLIANT ? "CT compliant" : ct == TG_OBS_CT_NOT_COMPLIANT ? "not CT compliant" : "CT unknown";
}

static const char *pin_text(int pin)
{
	return pin == TG_OBS_PIN_OK ? ", matches the pins" : pin == TG_OBS_PIN_MISMATCH ? ", does not match the pins" : "";
}

/* "issuer 'CN=X' (anchor 'CN=Y', CT compliant)" */
static void view_text(const struct tg_observation *o, char *out, size_t len)
{
	tg_snprintf(out, len, "issuer '%s' (anchor '%s', %s%s)", o->issuer_name[0] ? o->issuer_name : "?",
	            o->anchor_name[0] ? o->anchor_name : "none", ct_text(o->ct), pin_text(o->pin));
}

/* ---- views ---- */

static bool view_differs(const struct tg_observation *a, const struct tg_observation *b)
{
	if (memcmp(a->anchor_spki, b->anchor_spki, TG_SPKI_LEN) != 0 ||
	    memcmp(a->issuer_spki, b->issuer_spki, TG_SPKI_LEN) != 0)
		return true;
	/* CT and pin status count only where both sides were evaluated. */
	if (a->ct != TG_OBS_CT_UNKNOWN && b->ct != TG_OBS_CT_UNKNOWN && a->ct != b->ct)
		return true;
	return a->pin != TG_OBS_PIN_NONE && b->pin != TG_OBS_PIN_NONE && a->pin != b->pin;
}

/* Rank of a view: higher is harder for an interceptor to fake. */
struct rank {
	int pin, ct, established, agree;
};

static struct rank rank_of(const struct state *S, const struct tg_observation *o)
{
	struct rank r;
	size_t i;

	r.pin = o->pin == TG_OBS_PIN_OK ? 2 : o->pin == TG_OBS_PIN_NONE ? 1 : 0;
	r.ct = o->ct == TG_OBS_CT_COMPLIANT ? 2 : o->ct == TG_OBS_CT_UNKNOWN ? 1 : 0;
	r.established = established(S, o);
	/* Addresses showing this view: this connection's and the peers'. */
	r.agree = !view_differs(o, S->e->obs);
	for (i = 0; i < S->npeers; i++) {
		const struct peer *p = &S->peers[i];
		if ((p->status == TLSGUARD_PEER_AGREES || p->status == TLSGUARD_PEER_DIFFERS) && !view_differs(o, &p->obs))
			r.agree++;
	}
	return r;
}

static int rank_cmp(struct rank a, struct rank b)
{
	if (a.pin != b.pin)
		return a.pin - b.pin;
	if (a.ct != b.ct)
		return a.ct - b.ct;
	if (a.established != b.established)
		return a.established - b.established;
	return a.agree - b.agree;
}

/* ---- peers ---- */

/* One address, whatever its spelling (request addresses and config
 * addresses are canonical already; resolver output may not be). */
static bool same_address(const char *a, const char *b)
{
	char x[TG_ADDR_TEXT], y[TG_ADDR_TEXT];
	if (tg_ip_canonical(a, x, sizeof(x)) == 0 && tg_ip_canonical(b, y, sizeof(y)) == 0)
		return strcmp(x, y) == 0;
	return strcmp(a, b) == 0;
}

static struct peer *find_peer(struct state *S, const char *address)
{
	size_t i;
	for (i = 0; i < S->npeers; i++)
		if (same_address(S->peers[i].obs.address, address))
			return &S->peers[i];
	return NULL;
}

/* A zeroed peer at the end of the list; NULL when MAX_PEERS are listed or
 * memory ran out (S->oom). */
static struct peer *peer_slot(struct state *S)
{
	struct peer *p;
	if (S->npeers == MAX_PEERS)
		return NULL;
	if (S->npeers == S->peers_cap) {
		size_t cap = S->peers_cap ? S->peers_cap * 2 : 4;
		void *g = tg_realloc(S->peers, cap * sizeof(*S->peers));
		if (g == NULL) {
			S->oom = true;
			return NULL;
		}
		S->peers = g;
		S->peers_cap = cap;
	}
	p = &S->peers[S->npeers++];
	memset(p, 0, sizeof(*p));
	return p;
}

static void state_free(struct state *S)
{
	if (S == NULL)
		return;
	tg_free(S->keys.rows);
	tg_free(S->issuers.rows);
	tg_free(S->anchors.rows);
	tg_free(S->peers);
	tg_free(S);
}

static int add_history_peer(const struct tg_observation *o, void *ud)
{
	struct state *S = ud;
	struct peer *p;

	if (find_peer(S, o->address) != NULL)
		return 0; /* probed just now: the fresh answer counts */
	if ((p = peer_slot(S)) == NULL)
		return 1;
	p->obs = *o;
	p->from_probe = o->source == TG_OBS_PROBE;
	p->status = TLSGUARD_PEER_AGREES; /* decided in compare() */
	return 0;
}

/* The view of a chain the probe fetched: the same checks, run as a nested
 * evaluation (no callback, no recording, no probe of its own). */
static int evaluate_probed(struct tg_eval *e, const struct tg_probe_result *r, struct tg_observation *o)
{
	tlsguard_request *req = NULL;
	tlsguard_result *res = NULL;
	size_t i;
	int rc = tlsguard_request_new(&req, e->req->host, strlen(e->req->host));

	if (rc == 0)
		rc = tlsguard_request_set_port(req, port_of(e));
	if (rc == 0)
		rc = tlsguard_request_set_address(req, r->address);
	for (i = 0; rc == 0 && i < r->ncerts; i++)
		rc = tlsguard_request_add_cert(req, r->certs[i].data, r->certs[i].len);
	if (rc != 0)
		goto out;
	req->nested = true;
	req->nested_out = o;
	memset(o, 0, sizeof(*o));
	rc = tg_evaluate(e->ctx, req, &res);
	if (rc == TLSGUARD_E_NOMEM)
		goto out;
	/* A chain that cannot be decoded or fails a check is still a view: a
	 * rejected one. */
	rc = 0;
	if (o->host[0] == '\0') {
		/* The nested evaluation stopped before the checks (bad DER). */
		tg_snprintf(o->host, sizeof(o->host), "%s", e->req->host);
		o->port = port_of(e);
		tg_snprintf(o->address, sizeof(o->address), "%s", r->address);
		o->time = e->now;
	}
	o->source = TG_OBS_PROBE;
	o->fatal_codes = 0;
	for (i = 0; res != NULL && i < res->nevents; i++)
		if (res->events[i].severity == TLSGUARD_SEV_FATAL && res->events[i].code < 64)
			o->fatal_codes |= UINT64_C(1) << res->events[i].code;
	/* The probe keeps only the certificates: SCTs a server sends in the
	 * TLS extension or a stapled OCSP response never reach this
	 * evaluation. Missing SCTs therefore prove nothing about a probed
	 * address: its CT status is unknown, and a chain refused only for CT
	 * still counts as a view (one that differs, where it does). */
	if (o->ct == TG_OBS_CT_NOT_COMPLIANT)
		o->ct = TG_OBS_CT_UNKNOWN;
	o->verdict = res != NULL && res->error == 0 && (o->fatal_codes & ~CT_CODES) == 0 ? TLSGUARD_ACCEPT
	                                                                                 : TLSGUARD_REJECT;
out:
	tlsguard_result_free(res);
	tlsguard_request_free(req);
	return rc;
}

static void history_limits(const struct tg_eval *e, struct tg_history_limits *lim)
{
	lim->retention = e->ctx->cfg.history_retention ? e->ctx->cfg.history_retention : TG_HISTORY_DEFAULT_RETENTION;
	lim->max_rows = e->ctx->cfg.history_max_rows ? e->ctx->cfg.history_max_rows : TG_HISTORY_DEFAULT_MAX_ROWS;
}

static struct peer *new_peer(struct state *S, const char *address)
{
	struct peer *p;
	if ((p = peer_slot(S)) == NULL)
		return NULL;
	tg_snprintf(p->obs.address, sizeof(p->obs.address), "%s", address);
	p->from_probe = true;
	return p;
}

/* Ask the host's other addresses now. Probe failures never reject: they
 * are listed in the result (an attacker who can block the probe can also
 * block the connection). */
static int probe(struct state *S)
{
	struct tg_eval *e = S->e;
	char addrs[TG_PROBE_MAX][TG_ADDR_LEN];
	char found[TG_PROBE_MAX][TG_ADDR_LEN];
	struct tg_probe_result *results;
	struct tg_history_limits lim;
	size_t n = 0, nfound = 0, i;
	int64_t deadline = tg_monotonic_ms() + e->pol.probe_timeout;
	int rc;

	if (e->pol.naddrs > 0) {
		for (i = 0; i < e->pol.naddrs && i < TG_PROBE_MAX; i++)
			tg_snprintf(found[i], TG_ADDR_LEN, "%s", e->pol.addrs[i]);
		nfound = i;
	} else if ((rc = tg_resolve(e->req->host, found, TG_PROBE_MAX, &nfound, deadline, S->err, sizeof(S->err))) != 0) {
		struct peer *p;
		if (rc == TLSGUARD_E_NOMEM)
			return rc;
		if ((p = new_peer(S, "")) != NULL) {
			p->status = TLSGUARD_PEER_UNREACHABLE;
			tg_snprintf(p->error, sizeof(p->error), "%s", S->err);
		}
		return 0;
	}
	/* Canonical spellings only: an address the library cannot use (a
	 * scoped link-local one from the resolver, say) is listed as
	 * unreachable, never an error that would refuse the connection. */
	for (i = 0; i < nfound && n < e->pol.probe_max; i++) {
		struct peer *p;
		if (tg_ip_canonical(found[i], addrs[n], TG_ADDR_LEN) == 0) {
			if (!same_address(addrs[n], e->req->address))
				n++;
		} else if ((p = new_peer(S, found[i])) != NULL) {
			p->status = TLSGUARD_PEER_UNREACHABLE;
			tg_snprintf(p->error, sizeof(p->error), "not probed: '%s' is not an address tlsguard can use", found[i]);
		}
	}
	if (n == 0)
		return S->oom ? TLSGUARD_E_NOMEM : 0;
	if ((results = tg_calloc(n, sizeof(*results))) == NULL)
		return TLSGUARD_E_NOMEM;
	rc = tg_probe(e->req->host, port_of(e), (const char(*)[TG_ADDR_LEN])addrs, n, deadline, results, S->err,
	              sizeof(S->err));
	if (rc != 0) {
		struct peer *p;
		tg_free(results);
		if (rc == TLSGUARD_E_NOMEM)
			return rc;
		if ((p = new_peer(S, "")) != NULL) {
			p->status = TLSGUARD_PEER_UNREACHABLE;
			tg_snprintf(p->error, sizeof(p->error), "probe failed: %s", S->err);
		}
		return S->oom ? TLSGUARD_E_NOMEM : 0;
	}
	history_limits(e, &lim);
	for (i = 0; i < n && rc == 0; i++) {
		struct tg_probe_result *r = &results[i];
		struct peer *p = new_peer(S, r->address);
		if (p == NULL)
			break;
		if (r->status != TG_PROBE_OK) {
			p->status = TLSGUARD_PEER_UNREACHABLE;
			tg_snprintf(p->error, sizeof(p->error), "%s", r->error);
			continue;
		}
		if ((rc = evaluate_probed(e, r, &p->obs)) != 0) {
			if (rc == TLSGUARD_E_NOMEM)
				break;
			p->status = TLSGUARD_PEER_UNREACHABLE;
			tg_snprintf(p->error, sizeof(p->error), "the chain it served could not be evaluated: %s",
			            tlsguard_strerror(rc));
			rc = 0;
			continue;
		}
		p->status = p->obs.verdict == TLSGUARD_ACCEPT ? TLSGUARD_PEER_AGREES : TLSGUARD_PEER_REJECTED;
		/* The history is the probe's cache (and its evidence). */
		if ((rc = tg_history_append(S->st, &p->obs, &lim, S->err, sizeof(S->err))) != 0)
			break;
	}
	for (i = 0; i < n; i++)
		tg_probe_result_clear(&results[i]);
	tg_free(results);
	return rc == 0 && S->oom ? TLSGUARD_E_NOMEM : rc;
}

static bool should_probe(struct state *S, bool novel)
{
	const struct tg_eval *e = S->e;
	int64_t last = 0;

	if (e->pol.probe == TG_PROBE_OFF || (e->pol.probe == TG_PROBE_ON_CHANGE && !novel))
		return false;
	if (tg_history_last_time(S->st, e->req->host, S->port, TG_OBS_PROBE, &last, S->err, sizeof(S->err)) != 0)
		return true; /* asking again is always safe */
	return last == 0 || e->now - last >= (int64_t)e->pol.probe_cache || last > e->now;
}

/* ---- events ---- */

static void when_text(int64_t t, char *buf, size_t len)
{
	tg_format_time(t, buf, len);
}

static void change_events(struct state *S)
{
	struct tg_eval *e = S->e;
	const struct tg_observation *o = e->obs;
	char buf[1024], first[40], last[40], why[256], pin[48];
	const struct tg_hist_summary *s;
	size_t i;

	/* A new issuing CA (or anchor) for a host always seen with others. */
	if (S->issuers.n > 0 && !accepted_before(&S->issuers, o->issuer_spki)) {
		const struct tg_hist_summary *best = NULL;
		for (i = 0; i < S->issuers.n; i++)
			if (S->issuers.rows[i].accepted > 0 && (best == NULL || S->issuers.rows[i].accepted > best->accepted))
				best = &S->issuers.rows[i];
		if (best != NULL) {
			when_text(best->first_seen, first, sizeof(first));
			when_text(best->last_seen, last, sizeof(last));
			tg_event_add(e, TLSGUARD_EV_CA_CHANGED, TLSGUARD_SEV_WARNING, e->npath >= 2 ? (int)e->path[1] : 0,
			             "%s:%u was seen with issuing CA '%s' since %s (%llu connection%s, last on %s); now '%s' "
			             "issues its certificate%s",
			             o->host, o->port, best->name, first, (unsigned long long)best->accepted,
			             best->accepted == 1 ? "" : "s", last,
			             o->issuer_name, accepted_before(&S->anchors, o->anchor_spki) ? "" : ", under a new trust anchor");
		}
	} else if (S->anchors.n > 0 && !accepted_before(&S->anchors, o->anchor_spki)) {
		const struct tg_hist_summary *best = NULL;
		for (i = 0; i < S->anchors.n; i++)
			if (S->anchors.rows[i].accepted > 0 && (best == NULL || S->anchors.rows[i].accepted > best->accepted))
				best = &S->anchors.rows[i];
		if (best != NULL) {
			when_text(best->first_seen, first, sizeof(first));
			tg_event_add(e, TLSGUARD_EV_CA_CHANGED, TLSGUARD_SEV_WARNING, -1,
			             "%s:%u was seen under trust anchor '%s' since %s (%llu connection%s); now under '%s'",
			             o->host, o->port, best->name, first, (unsigned long long)best->accepted,
			             best->accepted == 1 ? "" : "s", o->anchor_name);
		}
	}
	/* A key or CA that was only ever refused for this host. */
	buf[0] = '\0';
	if ((s = find_summary(&S->keys, o->leaf_spki)) != NULL && s->rejected > 0 && s->accepted == 0) {
		when_text(s->last_rejected, last, sizeof(last));
		reasons_text(s->last_rejected_codes, why, sizeof(why));
		tg_pin_b64(o->leaf_spki, pin);
		tg_snprintf(buf, sizeof(buf), "key sha256/%s was refused for %s:%u %llu times, last on %s (%s)", pin,
		            o->host, o->port, (unsigned long long)s->rejected, last, why);
	} else if ((s = find_summary(&S->issuers, o->issuer_spki)) != NULL && s->rejected > 0 && s->accepted == 0) {
		when_text(s->last_rejected, last, sizeof(last));
		reasons_text(s->last_rejected_codes, why, sizeof(why));
		tg_snprintf(buf, sizeof(buf), "issuing CA '%s' was refused for %s:%u %llu times, last on %s (%s)", s->name,
		            o->host, o->port, (unsigned long long)s->rejected, last, why);
	}
	if (buf[0] != '\0')
		tg_event_add(e, TLSGUARD_EV_SEEN_REJECTED, TLSGUARD_SEV_WARNING, 0, "%s", buf);
}

static int peer_detail(const struct state *S, const struct peer *p, char **out)
{
	char buf[1024], view[700], when[40], why[256];

	(void)S;
	if (p->status == TLSGUARD_PEER_UNREACHABLE) {
		tg_snprintf(buf, sizeof(buf), "probe: %s", p->error);
	} else {
		view_text(&p->obs, view, sizeof(view));
		when_text(p->obs.time, when, sizeof(when));
		if (p->status == TLSGUARD_PEER_REJECTED) {
			reasons_text(p->obs.fatal_codes, why, sizeof(why));
			tg_snprintf(buf, sizeof(buf), "%s; refused (%s); %s on %s", view, why,
			            p->from_probe ? "probed" : "seen", when);
		} else {
			tg_snprintf(buf, sizeof(buf), "%s; %s on %s", view, p->from_probe ? "probed" : "seen", when);
		}
	}
	*out = tg_strdup(buf);
	return *out == NULL ? TLSGUARD_E_NOMEM : 0;
}

/* "127.0.0.2 (issuer ..., probed on ...); ..." for the differing peers. */
static void evidence(const struct state *S, int status, char *out, size_t len)
{
	char view[700], when[40];
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < S->npeers && n < len; i++) {
		const struct peer *p = &S->peers[i];
		if (p->status != status)
			continue;
		view_text(&p->obs, view, sizeof(view));
		when_text(p->obs.time, when, sizeof(when));
		n += (size_t)tg_snprintf(out + n, len - n, "%s%s serves %s (%s on %s)", n ? "; " : "", p->obs.address, view,
		                         p->from_probe ? "probed" : "seen", when);
	}
}

static int compare(struct state *S)
{
	struct tg_eval *e = S->e;
	const struct tg_observation *o = e->obs;
	struct rank mine;
	bool stronger_other = false, any_diff = false, any_rejected = false;
	char here[700], others[2048];
	size_t i;

	for (i = 0; i < S->npeers; i++) {
		struct peer *p = &S->peers[i];
		if (p->status == TLSGUARD_PEER_AGREES && view_differs(o, &p->obs))
			p->status = TLSGUARD_PEER_DIFFERS;
	}
	mine = rank_of(S, o);
	for (i = 0; i < S->npeers; i++) {
		const struct peer *p = &S->peers[i];
		if (p->status == TLSGUARD_PEER_DIFFERS) {
			any_diff = true;
			if (rank_cmp(rank_of(S, &p->obs), mine) >= 0)
				stronger_other = true;
		}
		any_rejected |= p->status == TLSGUARD_PEER_REJECTED;
	}
	view_text(o, here, sizeof(here));
	if (any_diff) {
		evidence(S, TLSGUARD_PEER_DIFFERS, others, sizeof(others));
		if (stronger_other)
			tg_event_add(e, TLSGUARD_EV_SPLIT_VIEW, severity(e), 0,
			             "%s:%u via %s serves %s; its other addresses: %s. Nothing this address shows (pins, "
			             "CT, history, other addresses) outweighs the difference",
			             o->host, o->port, o->address[0] ? o->address : "(unknown address)", here, others);
		else
			tg_event_add(e, TLSGUARD_EV_SPLIT_VIEW, TLSGUARD_SEV_WARNING, 0,
			             "%s:%u via %s serves %s, the better-established view; other addresses differ and may be "
			             "intercepted on their network path: %s",
			             o->host, o->port, o->address[0] ? o->address : "(unknown address)", here, others);
	} else if (any_rejected) {
		evidence(S, TLSGUARD_PEER_REJECTED, others, sizeof(others));
		tg_event_add(e, TLSGUARD_EV_SPLIT_VIEW, TLSGUARD_SEV_WARNING, 0,
		             "%s:%u via %s serves %s; other addresses serve chains tlsguard refuses: %s", o->host, o->port,
		             o->address[0] ? o->address : "(unknown address)", here, others);
	}
	return 0;
}

static int publish_peers(struct state *S)
{
	tlsguard_result *res = S->e->res;
	size_t i;
	int rc;

	if (S->npeers == 0)
		return 0;
	if ((res->peers = tg_calloc(S->npeers, sizeof(*res->peers))) == NULL)
		return TLSGUARD_E_NOMEM;
	for (i = 0; i < S->npeers; i++) {
		struct tg_peer_record *r = &res->peers[i];
		const struct peer *p = &S->peers[i];
		tg_snprintf(r->address, sizeof(r->address), "%s", p->obs.address[0] ? p->obs.address : "(resolver)");
		r->status = p->status;
		r->from_probe = p->from_probe;
		res->npeers++;
		if ((rc = peer_detail(S, p, &r->detail)) != 0)
			return rc;
	}
	return 0;
}

static int run(struct tg_eval *e)
{
	struct state *S;
	const struct tg_observation *o;
	bool novel;
	int rc;

	if (e->req->nested) {
		/* A chain the probe fetched: report its view to the prober. */
		if (e->req->nested_out != NULL && (rc = fill_obs(e, e->req->nested_out, TG_OBS_PROBE)) != 0)
			return rc;
		return TLSGUARD_CHECK_SKIP;
	}
	if (e->pol.consistency == TG_CONS_OFF)
		return TLSGUARD_CHECK_SKIP;
	if (e->ctx->store == NULL)
		return store_failed(e, e->ctx->store_rc ? e->ctx->store_rc : TLSGUARD_E_STORE, e->ctx->store_err);
	if ((e->obs = tg_malloc(sizeof(*e->obs))) == NULL)
		return TLSGUARD_E_NOMEM;
	if ((rc = fill_obs(e, e->obs, TG_OBS_CONNECTION)) != 0)
		return rc;
	o = e->obs;
	/* Without a trust anchor the chain check already refuses; only the
	 * observation is recorded. */
	if (e->anchor == NULL)
		return TLSGUARD_CHECK_PASS;
	if ((S = tg_calloc(1, sizeof(*S))) == NULL)
		return TLSGUARD_E_NOMEM;
	S->e = e;
	S->st = e->ctx->store;
	S->port = port_of(e);
	if ((rc = load_summary(S, TG_HIST_KEY, &S->keys)) != 0 || (rc = load_summary(S, TG_HIST_ISSUER, &S->issuers)) != 0 ||
	    (rc = load_summary(S, TG_HIST_ANCHOR, &S->anchors)) != 0)
		goto failed;
	novel = !accepted_before(&S->keys, o->leaf_spki) || !accepted_before(&S->issuers, o->issuer_spki) ||
	        !accepted_before(&S->anchors, o->anchor_spki);
	change_events(S);
	if (should_probe(S, novel) && (rc = probe(S)) != 0)
		goto failed;
	rc = tg_history_latest_by_address(S->st, o->host, S->port, e->now - (int64_t)e->pol.window, o->address,
	                                  add_history_peer, S, S->err, sizeof(S->err));
	if (S->oom)
		rc = TLSGUARD_E_NOMEM;
	if (rc < 0)
		goto failed;
	compare(S);
	rc = publish_peers(S);
	state_free(S);
	return rc != 0 ? rc : TLSGUARD_CHECK_PASS;
failed:
	if (rc != TLSGUARD_E_NOMEM) {
		char why[TG_ERRBUF];
		tg_snprintf(why, sizeof(why), "%s", S->err);
		state_free(S);
		return store_failed(e, rc, why);
	}
	state_free(S);
	return rc;
}

/* Record the observation, whatever the verdict. */
static int after(struct tg_eval *e, int verdict)
{
	struct tg_history_limits lim;
	char err[TG_ERRBUF];
	int rc;

	if (e->obs == NULL || e->ctx->store == NULL)
		return 0;
	e->obs->verdict = verdict;
	e->obs->fatal_codes = fatal_codes(e);
	history_limits(e, &lim);
	rc = tg_history_append(e->ctx->store, e->obs, &lim, err, sizeof(err));
	if (rc == 0)
		return 0;
	tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, severity(e), -1, "cannot record the observation in the history: %s",
	             err);
	return e->pol.consistency == TG_CONS_REPORT_ONLY ? 0 : rc;
}

const struct tg_check tg_check_consistency = {"consistency", run, after};
