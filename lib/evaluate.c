/*
 * The evaluation pipeline: request -> decoded chain and path -> every check
 * in order -> events -> callback answers -> verdict.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tg.h"

static tlsguard_result *result_new(const tlsguard_request *req)
{
	tlsguard_result *res = tg_calloc(1, sizeof(*res));
	size_t i;

	if (res == NULL)
		return NULL;
	res->verdict = TLSGUARD_REJECT;
	memcpy(res->host, req->host, sizeof(res->host));
	res->port = req->port;
	memcpy(res->address, req->address, sizeof(res->address));
	if (req->ncerts == 0)
		return res;
	res->certs = tg_calloc(req->ncerts, sizeof(*res->certs));
	if (res->certs == NULL)
		goto nomem;
	for (i = 0; i < req->ncerts; i++) {
		res->certs[i].data = tg_malloc(req->certs[i].len);
		if (res->certs[i].data == NULL)
			goto nomem;
		memcpy(res->certs[i].data, req->certs[i].data, req->certs[i].len);
		res->certs[i].len = req->certs[i].len;
		res->ncerts++;
	}
	return res;
nomem:
	tlsguard_result_free(res);
	return NULL;
}

struct tlsguard_event *tg_event_add(struct tg_eval *e, int code, int severity, int cert_index,
                                    const char *detail_fmt, ...)
{
	tlsguard_result *res = e->res;
	const struct tg_code_info *ci = tg_code_info(code);
	struct tlsguard_event *ev;
	char detail[1024];
	size_t mlen;
	va_list ap;

	if (res->nevents == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 8;
		struct tlsguard_event *n = tg_realloc(res->events, cap * sizeof(*n));
		if (n == NULL) {
			e->oom = 1;
			return NULL;
		}
		res->events = n;
		res->cap = cap;
	}
	ev = &res->events[res->nevents];
	memset(ev, 0, sizeof(*ev));
	ev->res = res;
	ev->code = code;
	ev->severity = severity;
	ev->cert_index = cert_index;
	ev->check = e->current_check ? e->current_check : "evaluation";
	ev->decision = TLSGUARD_DECISION_DEFAULT;

	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	ev->detail = tg_strdup(detail);
	if (ci == NULL) /* a code missing from the table is a bug: say so, reject */
		ci = tg_code_info(TLSGUARD_EV_INTERNAL_ERROR);
	mlen = strlen(ci->message) + strlen(res->host) + 1;
	ev->message = tg_malloc(mlen);
	if (ev->detail == NULL || ev->message == NULL) {
		tg_free(ev->detail);
		tg_free(ev->message);
		e->oom = 1;
		return NULL;
	}
	/* The message table's entries have exactly one %s: the host. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	tg_snprintf(ev->message, mlen, ci->message, res->host);
#pragma GCC diagnostic pop
	res->nevents++;
	return ev;
}

static int decode_chain(struct tg_eval *e)
{
	const tlsguard_request *req = e->req;
	size_t i;

	for (i = 0; i < req->ncerts; i++) {
		gnutls_datum_t d = {req->certs[i].data, (unsigned)req->certs[i].len};
		int ret;
		if (req->certs[i].len > UINT32_MAX) {
			tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, (int)i,
			             "certificate %zu is too large", i);
			return TLSGUARD_E_CERT_PARSE;
		}
		if ((ret = gnutls_x509_crt_init(&e->certs[i])) < 0) {
			tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, (int)i,
			             "cannot decode certificate %zu: %s", i, gnutls_strerror(ret));
			return TLSGUARD_E_NOMEM;
		}
		e->ncerts++;
		ret = gnutls_x509_crt_import(e->certs[i], &d, GNUTLS_X509_FMT_DER);
		if (ret < 0) {
			tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, (int)i,
			             "certificate %zu (%zu bytes) is not valid DER X.509: %s", i, req->certs[i].len,
			             gnutls_strerror(ret));
			return TLSGUARD_E_CERT_PARSE;
		}
	}
	return 0;
}

/* Raw DER subject and issuer names, compared byte for byte when linking
 * the path (as Go's and NSS's pools do): much cheaper than a full RFC 5280
 * name comparison per candidate, and the chain check's GnuTLS verification
 * re-validates every link anyway. */
struct raw_names {
	gnutls_datum_t subject, issuer;
};

static bool same(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	return a->size == b->size && a->size > 0 && memcmp(a->data, b->data, a->size) == 0;
}

/* Ask the trust store for an anchor that issued @c. The list's own copy is
 * used when it has one (file-based anchors); otherwise, e.g. for PKCS#11
 * trust modules, GnuTLS must hand out a copy. */
static bool find_anchor(struct tg_eval *e, gnutls_x509_crt_t c)
{
	gnutls_x509_crt_t iss = NULL;

	if (gnutls_x509_trust_list_get_issuer(e->ctx->tl, c, &iss, 0) == 0 && iss != NULL) {
		e->anchor = iss;
		e->anchor_owned = false;
		return true;
	}
	/* Only a system store can be a PKCS#11 module; CA files never are. */
	if (e->ctx->cfg.use_system_ca &&
	    gnutls_x509_trust_list_get_issuer(e->ctx->tl, c, &iss, GNUTLS_TL_GET_COPY) == 0 && iss != NULL) {
		e->anchor = iss;
		e->anchor_owned = true;
		return true;
	}
	return false;
}

/* Path building budget: candidate issuers tried in all, whatever the
 * chain. Bounds the search on hostile chains (64 intermediates sharing one
 * subject would otherwise be factorial); real chains need a handful. Every
 * complete path also costs a verification (signatures), so at most
 * PATH_VERIFY_BUDGET complete paths are verified. */
#define PATH_BUDGET 256
#define PATH_VERIFY_BUDGET 16

struct path_search {
	struct tg_eval *e;
	const struct raw_names *raw;
	bool used[TG_MAX_CHAIN];
	size_t path[TG_MAX_CHAIN], npath;
	unsigned budget, verify_budget;
	/* The first complete path found (to a trust anchor), kept for when no
	 * path passes: the checks then report on it, the path GnuTLS or a
	 * browser would most likely have built. */
	size_t best[TG_MAX_CHAIN], nbest;
	gnutls_x509_crt_t best_anchor;
	bool best_owned;
	int err;                     /* TLSGUARD_E_* from a verification */
};

static void drop_anchor(struct tg_eval *e)
{
	if (e->anchor != NULL && e->anchor_owned)
		gnutls_x509_crt_deinit(e->anchor);
	e->anchor = NULL;
	e->anchor_owned = false;
}

/* A complete path s->path to e->anchor: does it pass the path-level rules
 * (GnuTLS's verification of the path, the maximum depth, tlsguard's name
 * constraints)? Per-certificate rules are left to the checks: they would
 * fail every path through the same leaf alike, or are about time. The
 * first complete path is kept in s->best (with its anchor) whatever the
 * answer; a later failing one drops its anchor. */
static bool path_passes(struct path_search *s)
{
	struct tg_eval *e = s->e;
	unsigned status = 0;
	bool ok;
	int r;

	memcpy(e->path, s->path, s->npath * sizeof(e->path[0]));
	e->npath = s->npath;
	r = tg_chain_path_status(e, &status);
	if (r < 0 && s->err == 0)
		s->err = r;
	ok = r == 0 && tg_chain_path_ok(e, status) && tg_webpki_path_constraints_ok(e);
	if (s->verify_budget > 0)
		s->verify_budget--;
	if (ok) {
		/* The chain check reads this rather than verifying again: the
		 * signature checks are most of an evaluation's cost. */
		e->gnutls_status = status;
		e->path_verified = true;
		return true;
	}
	if (s->nbest == 0) {
		memcpy(s->best, s->path, s->npath * sizeof(s->best[0]));
		s->nbest = s->npath;
		s->best_anchor = e->anchor;
		s->best_owned = e->anchor_owned;
		e->anchor = NULL;
		e->anchor_owned = false;
	} else {
		drop_anchor(e);
	}
	return false;
}

/* Depth-first from path[npath - 1]: true when the path ends at a
 * certificate a trust anchor issued (e->anchor set) and passes the
 * path-level rules (path_passes), with the path in s->path. The trust
 * store is asked first at every step, so a passing path ends at the first
 * certificate an anchor issued and extra certificates beyond it (an
 * expired cross-signed copy of a root, say) are ignored, as GnuTLS and
 * browsers ignore them. A candidate that leads nowhere, or only to paths
 * that fail, is abandoned for the next one with the same subject, so a
 * dead-end cross-certificate, a self-issued key-rollover certificate or a
 * path through a CA whose name constraints forbid a name below it does
 * not hide another path. */
static bool search(struct path_search *s)
{
	struct tg_eval *e = s->e;
	size_t cur = s->path[s->npath - 1], j;

	if (s->verify_budget == 0 || s->err != 0)
		return false;
	if (find_anchor(e, e->certs[cur]) && path_passes(s))
		return true;
	for (j = 0; j < e->ncerts && s->budget > 0 && s->verify_budget > 0 && s->err == 0; j++) {
		if (s->used[j] || !same(&s->raw[cur].issuer, &s->raw[j].subject))
			continue;
		s->budget--;
		s->used[j] = true;
		s->path[s->npath++] = j;
		if (search(s))
			return true;
		s->npath--;
		s->used[j] = false;
	}
	return false;
}

/* Build the path from the leaf. When no complete path passes, the first
 * complete path found is used (the checks then say why it fails); without
 * any complete path, the greedy one (first certificate named as issuer at
 * each step, up to a self-issued one), so that the chain check reports
 * where it breaks. */
static int build_path(struct tg_eval *e)
{
	struct raw_names raw[TG_MAX_CHAIN];
	struct path_search *s;
	size_t i, j;
	int rc = 0;

	s = tg_calloc(1, sizeof(*s));
	if (s == NULL)
		return TLSGUARD_E_NOMEM;
	memset(raw, 0, sizeof(raw));
	for (i = 0; i < e->ncerts; i++) {
		if (gnutls_x509_crt_get_raw_dn(e->certs[i], &raw[i].subject) < 0 ||
		    gnutls_x509_crt_get_raw_issuer_dn(e->certs[i], &raw[i].issuer) < 0) {
			rc = TLSGUARD_E_INTERNAL;
			goto out;
		}
	}
	s->e = e;
	s->raw = raw;
	s->budget = PATH_BUDGET;
	s->verify_budget = PATH_VERIFY_BUDGET;
	s->path[0] = 0;
	s->npath = 1;
	s->used[0] = true;
	if (search(s)) {
		memcpy(e->path, s->path, s->npath * sizeof(e->path[0]));
		e->npath = s->npath;
		if (s->best_anchor != NULL && s->best_owned)
			gnutls_x509_crt_deinit(s->best_anchor);
		goto out;
	}
	drop_anchor(e);
	if (s->err != 0) {
		rc = s->err;
		if (s->best_anchor != NULL && s->best_owned)
			gnutls_x509_crt_deinit(s->best_anchor);
		goto out;
	}
	if (s->nbest > 0) {
		memcpy(e->path, s->best, s->nbest * sizeof(e->path[0]));
		e->npath = s->nbest;
		e->anchor = s->best_anchor;
		e->anchor_owned = s->best_owned;
		goto out;
	}
	e->path[0] = 0;
	e->npath = 1;
	memset(s->used, 0, sizeof(s->used));
	s->used[0] = true;
	for (;;) {
		size_t cur = e->path[e->npath - 1];
		bool next = false;

		if (find_anchor(e, e->certs[cur])) /* only when the search ran out of budget */
			break;
		if (same(&raw[cur].subject, &raw[cur].issuer))
			break; /* self-issued and not trusted: nothing above it */
		for (j = 0; j < e->ncerts; j++) {
			if (!s->used[j] && same(&raw[cur].issuer, &raw[j].subject)) {
				s->used[j] = true;
				e->path[e->npath++] = j;
				next = true;
				break;
			}
		}
		if (!next)
			break;
	}
out:
	for (i = 0; i < e->ncerts; i++) {
		gnutls_free(raw[i].subject.data);
		gnutls_free(raw[i].issuer.data);
	}
	tg_free(s);
	return rc;
}

static void run_checks(struct tg_eval *e, int *rc)
{
	size_t i;

	for (i = 0; tg_checks[i] != NULL && e->res->nchecks < TG_MAX_CHECKS; i++) {
		const struct tg_check *c = tg_checks[i];
		size_t before = e->res->nevents, k;
		int r, outcome;

		e->current_check = c->name;
		r = c->run(e);
		if (r < 0) {
			bool said = false;
			outcome = TLSGUARD_CHECK_ERROR;
			for (k = before; k < e->res->nevents; k++)
				said |= e->res->events[k].code == TLSGUARD_EV_INTERNAL_ERROR;
			if (!said)
				tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, -1, "check '%s' could not run: %s",
				             c->name, tlsguard_strerror(r));
			if (*rc == 0)
				*rc = r;
		} else if (r == TLSGUARD_CHECK_SKIP) {
			outcome = TLSGUARD_CHECK_SKIP;
		} else {
			outcome = TLSGUARD_CHECK_PASS;
			for (k = before; k < e->res->nevents; k++)
				if (e->res->events[k].severity >= TLSGUARD_SEV_WARNING)
					outcome = TLSGUARD_CHECK_FAIL;
		}
		e->res->checks[e->res->nchecks].name = c->name;
		e->res->checks[e->res->nchecks].outcome = outcome;
		e->res->nchecks++;
	}
	e->current_check = NULL;
}

/* A report is made for pin and key-continuity failures (the checks ask for
 * it), and in report-only mode for any warning or fatal event, before the
 * callbacks run so that they can read it. */
static int prepare_report(struct tg_eval *e)
{
	tlsguard_result *res = e->res;
	size_t i;

	if (e->pol.mode == TG_MODE_REPORT_ONLY) {
		for (i = 0; i < res->nevents; i++) {
			if (res->events[i].severity >= TLSGUARD_SEV_WARNING) {
				res->events[i].in_report = true;
				e->want_report = true;
			}
		}
	}
	return e->want_report ? tg_report_build(e) : 0;
}

/* Once the verdict is known: let checks record what they learnt, then
 * deliver the report. A check that cannot record rejects (fail closed);
 * a report file that cannot be written is said in an event. */
static void finish(struct tg_eval *e)
{
	tlsguard_result *res = e->res;
	char err[TG_ERRBUF];
	size_t i;
	int r;

	for (i = 0; tg_checks[i] != NULL; i++) {
		if (tg_checks[i]->after == NULL)
			continue;
		e->current_check = tg_checks[i]->name;
		r = tg_checks[i]->after(e, res->verdict);
		if (r < 0) {
			res->verdict = TLSGUARD_REJECT;
			if (res->error == 0)
				res->error = r;
		}
	}
	e->current_check = NULL;
	if (res->report != NULL && e->ctx->cfg.report_path != NULL &&
	    tg_report_append(e->ctx->cfg.report_path, res->report, err, sizeof(err)) != 0)
		tg_event_add(e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_WARNING, -1, "%s", err);
}

static bool never_overridable(int code)
{
	return code == TLSGUARD_EV_INTERNAL_ERROR || code == TLSGUARD_EV_MALFORMED_CHAIN;
}

/* The decision: a pure function of the events, the host's policy and the
 * callback's answers. Every event goes to the callback, in order. */
static int decide(const struct tg_eval *e)
{
	const tlsguard_ctx *ctx = e->ctx;
	tlsguard_result *res = e->res;
	int verdict = res->error == 0 ? TLSGUARD_ACCEPT : TLSGUARD_REJECT;
	size_t i;

	for (i = 0; i < res->nevents; i++) {
		struct tlsguard_event *ev = &res->events[i];
		int d = TLSGUARD_DECISION_DEFAULT;

		ev->overridable = e->pol.mode == TG_MODE_INTERACTIVE && !never_overridable(ev->code) &&
		                  ev->code < 64 && (e->pol.overridable & (UINT64_C(1) << ev->code)) != 0;
		if (ctx->cb != NULL && !e->req->nested) {
			d = ctx->cb(ev, ctx->cb_data);
			/* An answer we do not know is a rejection. */
			if (d != TLSGUARD_DECISION_DEFAULT && d != TLSGUARD_DECISION_OVERRIDE)
				d = TLSGUARD_DECISION_REJECT;
		}
		ev->decision = d;
		if (d == TLSGUARD_DECISION_REJECT) {
			verdict = TLSGUARD_REJECT;
			continue;
		}
		if (ev->severity != TLSGUARD_SEV_FATAL)
			continue;
		if (never_overridable(ev->code))
			verdict = TLSGUARD_REJECT;
		else if (e->pol.mode == TG_MODE_REPORT_ONLY)
			continue;
		else if (d == TLSGUARD_DECISION_OVERRIDE && ev->overridable)
			continue;
		else
			verdict = TLSGUARD_REJECT;
	}
	return verdict;
}

int tg_evaluate(const tlsguard_ctx *ctx, const tlsguard_request *req, tlsguard_result **out)
{
	struct tg_eval e;
	tlsguard_result *res;
	size_t i;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || req == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	res = result_new(req);
	if (res == NULL)
		return TLSGUARD_E_NOMEM;

	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	e.req = req;
	e.res = res;
	e.now = tg_ctx_now(ctx);
	/* Freeze first: from here on the configuration cannot change. */
	rc = tg_ctx_prepare(ctx);
	tg_policy_for_host(&ctx->cfg, req->host, &e.pol);
	if (rc != 0) {
		tg_event_add(&e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, -1, "trust anchors unavailable: %s",
		             ctx->prep_err);
		goto done;
	}
	if (req->ncerts == 0) {
		rc = TLSGUARD_E_EMPTY_CHAIN;
		tg_event_add(&e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, -1, "the peer presented no certificate");
		goto done;
	}
	rc = decode_chain(&e);
	if (rc != 0)
		goto done;
	rc = build_path(&e);
	if (rc != 0) {
		tg_event_add(&e, TLSGUARD_EV_INTERNAL_ERROR, TLSGUARD_SEV_FATAL, -1, "cannot build the certificate path: %s",
		             tlsguard_strerror(rc));
		goto done;
	}
	run_checks(&e, &rc);
	if (rc == 0 && !req->nested)
		rc = prepare_report(&e);
done:
	if (e.oom && rc == 0)
		rc = TLSGUARD_E_NOMEM;
	res->error = rc;
	res->verdict = decide(&e);
	if (rc != 0)
		res->verdict = TLSGUARD_REJECT;
	if (e.npath > 0 && !req->nested)
		finish(&e);
	if (rc == 0)
		rc = res->error; /* a check could not record what it learnt */
	tg_free(e.obs);
	for (i = 0; i < e.ncerts; i++)
		gnutls_x509_crt_deinit(e.certs[i]);
	if (e.anchor != NULL && e.anchor_owned)
		gnutls_x509_crt_deinit(e.anchor);
	*out = res;
	return rc;
}

const char *tlsguard_result_report(const tlsguard_result *res)
{
	return res ? res->report : NULL;
}

const char *tlsguard_event_report(const tlsguard_event *ev)
{
	return ev && ev->in_report ? ev->res->report : NULL;
}

int tlsguard_verify(const tlsguard_ctx *ctx, const tlsguard_request *req, tlsguard_result **out)
{
	return tg_evaluate(ctx, req, out);
}

int tlsguard_verify_der_chain(const tlsguard_ctx *ctx, const char *host, unsigned port,
                              const unsigned char *const *certs, const size_t *lens, size_t n,
                              tlsguard_result **out)
{
	tlsguard_request *req = NULL;
	size_t i;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || host == NULL || out == NULL || (n > 0 && (certs == NULL || lens == NULL)))
		return TLSGUARD_E_INVALID;
	rc = tlsguard_request_new(&req, host, strlen(host));
	if (rc == 0)
		rc = tlsguard_request_set_port(req, port);
	for (i = 0; rc == 0 && i < n; i++)
		rc = tlsguard_request_add_cert(req, certs[i], lens[i]);
	if (rc == 0)
		rc = tg_evaluate(ctx, req, out);
	tlsguard_request_free(req);
	return rc;
}
