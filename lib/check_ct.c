/*
 * Check "ct": Certificate Transparency. The leaf must come with signed
 * certificate timestamps (SCTs) from enough public CT logs, under Chrome's
 * or Apple's policy, so that a certificate nobody could see being issued
 * (a mis-issued or forged one) is refused.
 *
 * SCTs come from three places: the leaf's own extension (embedded; signed
 * over the precertificate, which needs the issuer's key), the TLS
 * extension and the stapled OCSP response (both signed over the leaf as
 * sent). Each SCT is checked on its own (known log, signature, not from
 * the future, log acceptable), then the policy counts the valid ones.
 *
 * Sources for the policy rules: shared/notes/ct-anchors.md sec. 2
 * (GoogleChrome/CertificateTransparency ct_policy.md and log_states.md at
 * 6ff6cecc, 2026-07-22; Apple's https://support.apple.com/en-us/103214).
 *
 * Not enforced: with policy off (the default without a log list); without
 * a log list (an info event says so); with a list older than 70 days or of
 * unknown age (a warning says so; Chrome stops enforcing then too, notes
 * sec. 2 "Enforcement timeout", so that a stale list does not break every
 * site whose logs it does not know).
 *
 * The one piece of shared mutable state is the SCT signature cache of the
 * context (struct tg_ct_cache, below), internally locked.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>

#include "tg.h"
#include "tg_ct.h"

#define MS_PER_DAY INT64_C(86400000)
#define LIST_MAX_AGE_DAYS 70 /* Chrome's enforcement timeout (notes sec. 2) */
#define SHORT_LIFETIME_DAYS 180
#define DETAIL 1000 /* tg_event_add keeps 1023 bytes of detail */

/* ------------------------------------------------------------------ log lists */

static void list_free(struct tg_ct_list *l)
{
	if (l == NULL)
		return;
	tg_loglist_free(l->ll);
	tg_free(l->path);
	tg_free(l);
}

/* A list without log_list_timestamp (Apple's) is at least as new as the
 * newest state change it records: dating it by that can only make it look
 * older than it is, never fresher. */
static void list_date(struct tg_ct_list *l)
{
	size_t i;

	l->date_ms = l->ll->timestamp;
	if (l->date_ms != 0)
		return;
	for (i = 0; i < l->ll->n; i++)
		if (l->ll->logs[i].state != TG_LOG_NONE && l->ll->logs[i].state_time > l->date_ms)
			l->date_ms = l->ll->logs[i].state_time;
	l->date_from_states = l->date_ms != 0;
}

int tg_ct_list_load(const char *path, struct tg_ct_list **out, char *err, size_t errlen)
{
	gnutls_datum_t d = {NULL, 0};
	struct tg_ct_list *l;
	int rc;

	*out = NULL;
	if (access(path, R_OK) != 0) {
		tg_snprintf(err, errlen, "%s: cannot read CT log list: %s", path, strerror(errno));
		return TLSGUARD_E_IO;
	}
	if ((rc = gnutls_load_file(path, &d)) < 0) {
		tg_snprintf(err, errlen, "%s: cannot read CT log list: %s", path, gnutls_strerror(rc));
		return rc == GNUTLS_E_MEMORY_ERROR ? TLSGUARD_E_NOMEM : TLSGUARD_E_IO;
	}
	l = tg_calloc(1, sizeof(*l));
	if (l == NULL || (l->path = tg_strdup(path)) == NULL) {
		gnutls_free(d.data);
		list_free(l);
		tg_snprintf(err, errlen, "%s: out of memory", path);
		return TLSGUARD_E_NOMEM;
	}
	rc = tg_loglist_parse((const char *)d.data, d.size, path, &l->ll, err, errlen);
	gnutls_free(d.data);
	if (rc != 0) {
		list_free(l);
		return rc == TLSGUARD_E_NOMEM ? rc : TLSGUARD_E_CONFIG;
	}
	l->refs = 1;
	list_date(l);
	*out = l;
	return 0;
}

struct tg_ct_list *tg_ct_list_ref(struct tg_ct_list *l)
{
	if (l != NULL)
		l->refs++;
	return l;
}

void tg_ct_list_unref(struct tg_ct_list *l)
{
	if (l != NULL && --l->refs == 0)
		list_free(l);
}

void tg_ct_list_date_note(const struct tg_ct_list *l, char *buf, size_t len)
{
	char when[40];

	buf[0] = '\0';
	if (l->date_from_states) {
		tg_format_time_iso(l->date_ms / 1000, when, sizeof(when));
		tg_snprintf(buf, len,
		            "the list has no log_list_timestamp; its age is counted from its newest log state (%s), so it "
		            "stops being enforced 70 days after that",
		            when);
	} else if (l->date_ms == 0) {
		tg_snprintf(buf, len,
		            "the list has neither log_list_timestamp nor log states, so its age is unknown and Certificate "
		            "Transparency is not enforced with it");
	}
}

/* ------------------------------------------------------------------ the cache */

struct cache_slot {
	bool used;
	unsigned char key[64]; /* SHA-256 of the signed entry, then of the SCT */
	int result;            /* tg_sct_verify()'s: 0, TLSGUARD_E_VERIFY, _INVALID */
	uint64_t stamp;        /* last use, for eviction */
};

struct tg_ct_cache {
	pthread_mutex_t lock;
	uint64_t clock, verified, hits;
	struct cache_slot slots[TG_CT_CACHE_SLOTS];
};

int tg_ct_cache_new(struct tg_ct_cache **out)
{
	struct tg_ct_cache *c = tg_calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return TLSGUARD_E_NOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		tg_free(c);
		return TLSGUARD_E_INTERNAL;
	}
	*out = c;
	return 0;
}

void tg_ct_cache_free(struct tg_ct_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	tg_free(c);
}

void tg_ct_cache_stats(const tlsguard_ctx *ctx, uint64_t *verified, uint64_t *hits)
{
	struct tg_ct_cache *c = ctx->ct_cache;

	*verified = *hits = 0;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	*verified = c->verified;
	*hits = c->hits;
	pthread_mutex_unlock(&c->lock);
}

/* The two slots a key may live in. */
static struct cache_slot *cache_set(struct tg_ct_cache *c, const unsigned char key[64])
{
	size_t h = (size_t)key[32] | (size_t)key[33] << 8 | (size_t)key[34] << 16;
	return &c->slots[(h % (TG_CT_CACHE_SLOTS / 2)) * 2];
}

static bool cache_get(struct tg_ct_cache *c, const unsigned char key[64], int *result)
{
	struct cache_slot *s;
	bool found = false;
	int w;

	pthread_mutex_lock(&c->lock);
	s = cache_set(c, key);
	for (w = 0; w < 2 && !found; w++) {
		if (s[w].used && memcmp(s[w].key, key, 64) == 0) {
			*result = s[w].result;
			s[w].stamp = ++c->clock;
			c->hits++;
			found = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* Record a verification (counted even when its key could not be made). */
static void cache_put(struct tg_ct_cache *c, const unsigned char *key, int result)
{
	struct cache_slot *s, *victim;

	pthread_mutex_lock(&c->lock);
	c->verified++;
	if (key != NULL) {
		s = cache_set(c, key);
		victim = !s[0].used ? &s[0] : !s[1].used ? &s[1] : s[0].stamp <= s[1].stamp ? &s[0] : &s[1];
		victim->used = true;
		memcpy(victim->key, key, 64);
		victim->result = result;
		victim->stamp = ++c->clock;
	}
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------ one evaluation */

/* The data every SCT of one entry type signs, built once per evaluation. */
struct entry {
	bool tried;
	int rc;                      /* 0, or why it could not be built */
	struct tg_sct_signed sd;
	unsigned char hash[32];      /* cache key part; valid when hashed */
	bool hashed;
	char err[TG_ERRBUF];
};

struct item {
	struct tg_sct sct;           /* points into a list buffer */
	int source;                  /* TLSGUARD_SCT_* */
	const struct tg_ct_log *log; /* NULL: not in the list */
	const char *op;              /* operator at the SCT's time */
	int status;                  /* TLSGUARD_SCT_* status */
	bool current;                /* valid, log qualified/usable/readonly now */
	int verify_rc;               /* tg_sct_verify()'s, for messages */
};

struct run {
	struct tg_eval *e;
	const struct tg_ct_list *list;
	int policy;                  /* TG_CT_CHROME or TG_CT_APPLE */
	bool report_only;
	int64_t now_ms;
	struct item *items;
	size_t n, cap;
	unsigned char *embedded;     /* gnutls_free() */
	unsigned char *stapled;      /* tg_free() */
	struct entry precert, x509;
	size_t *uniq;                /* scratch for tally(), one per SCT */
};

static const char *source_name(int source)
{
	return source == TLSGUARD_SCT_EMBEDDED ? "embedded" : source == TLSGUARD_SCT_TLS ? "TLS" : "OCSP";
}

static const char *source_long(int source)
{
	switch (source) {
	case TLSGUARD_SCT_EMBEDDED: return "the certificate's embedded SCT list";
	case TLSGUARD_SCT_TLS: return "the SCT list from the TLS handshake";
	default: return "the SCT list in the stapled OCSP response";
	}
}

static int severity(const struct run *r)
{
	return r->report_only ? TLSGUARD_SEV_WARNING : TLSGUARD_SEV_FATAL;
}

/* "2025-09-10T19:11:57.152Z"; a timestamp past year 9999 (an SCT can
 * carry any 64-bit value) as a number. */
static void format_ms(uint64_t ms, char *buf, size_t len)
{
	char s[40];
	size_t n;

	if (ms > UINT64_C(253402300799999)) {
		tg_snprintf(buf, len, "%llu ms after 1970", (unsigned long long)ms);
		return;
	}
	tg_format_time_iso((int64_t)(ms / 1000), s, sizeof(s));
	n = strlen(s);
	if (n > 0 && s[n - 1] == 'Z')
		s[n - 1] = '\0';
	tg_snprintf(buf, len, "%s.%03uZ", s, (unsigned)(ms % 1000));
}

/* "Google 'Xenon2025h2' log", or the log id when the log is unknown. */
static void log_name(const struct item *it, char *buf, size_t len)
{
	char b[48];

	if (it->log != NULL && it->log->description != NULL && it->log->description[0] != '\0') {
		tg_snprintf(buf, len, "%s", it->log->description);
		return;
	}
	tg_pin_b64(it->sct.log_id, b);
	tg_snprintf(buf, len, "%s log %s", it->log != NULL ? "unnamed" : "unknown", b);
}

/* "Google 'Xenon2025h2' log (embedded, 2025-09-10T19:11:57.152Z)" */
static void sct_name(const struct item *it, char *buf, size_t len)
{
	char name[160], when[48];

	log_name(it, name, sizeof(name));
	format_ms(it->sct.timestamp, when, sizeof(when));
	tg_snprintf(buf, len, "%s (%s, %s)", name, source_name(it->source), when);
}

/* A CT event that belongs in the report, as pin failures do. */
static struct tlsguard_event *ct_event(struct run *r, int code, int sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static struct tlsguard_event *ct_event(struct run *r, int code, int sev, const char *fmt, ...)
{
	char detail[DETAIL + 24];
	struct tlsguard_event *ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ev = tg_event_add(r->e, code, sev, 0, "%s", detail);
	if (ev != NULL && sev >= TLSGUARD_SEV_WARNING) {
		ev->in_report = true;
		r->e->want_report = true;
	}
	return ev;
}

/* Could not run: fail closed, unless CT only reports. */
static int internal(struct run *r, int rc, const char *what)
{
	tg_event_add(r->e, TLSGUARD_EV_INTERNAL_ERROR, severity(r), -1, "Certificate Transparency check: %s: %s", what,
	             tlsguard_strerror(rc));
	return r->report_only ? TLSGUARD_CHECK_PASS : (rc < 0 ? rc : TLSGUARD_E_INTERNAL);
}

/* ---- gathering ---- */

/* Parse one SCT list and append its SCTs. A malformed list is an event,
 * not a failure: the other sources may still satisfy the policy. */
static int add_list(struct run *r, const unsigned char *data, size_t len, int source)
{
	struct tg_sct tmp[TG_CT_MAX_SCTS];
	char err[TG_ERRBUF];
	size_t n = 0, i;
	int rc;

	rc = tg_sct_list_parse(data, len, tmp, TG_CT_MAX_SCTS, &n, NULL, err, sizeof(err));
	if (rc != 0) {
		ct_event(r, TLSGUARD_EV_CT_INVALID, TLSGUARD_SEV_WARNING, "%s is malformed: %s", source_long(source), err);
		return 0;
	}
	if (r->n + n > r->cap) {
		size_t cap = r->n + n + 8;
		struct item *v = tg_realloc(r->items, cap * sizeof(*v));
		if (v == NULL)
			return TLSGUARD_E_NOMEM;
		r->items = v;
		r->cap = cap;
	}
	for (i = 0; i < n; i++) {
		struct item *it = &r->items[r->n++];
		memset(it, 0, sizeof(*it));
		it->sct = tmp[i];
		it->source = source;
	}
	return 0;
}

static int gather_embedded(struct run *r)
{
	char err[TG_ERRBUF];
	size_t len = 0;
	int rc = tg_sct_list_from_cert(r->e->certs[0], &r->embedded, &len, err, sizeof(err));

	if (rc == TLSGUARD_E_NOMEM)
		return rc;
	if (rc < 0) {
		ct_event(r, TLSGUARD_EV_CT_INVALID, TLSGUARD_SEV_WARNING, "%s cannot be read: %s",
		         source_long(TLSGUARD_SCT_EMBEDDED), err);
		return 0;
	}
	return rc == 1 ? add_list(r, r->embedded, len, TLSGUARD_SCT_EMBEDDED) : 0;
}

/* ---- the SCT extension of a stapled OCSP response ----
 * RFC 6962 sec. 3.3 puts it in the singleExtensions of the leaf's
 * SingleResponse (OID 1.3.6.1.4.1.11129.2.4.5, wrapped in an OCTET STRING
 * like the certificate extension). GnuTLS only exposes the
 * responseExtensions, so the BasicOCSPResponse that GnuTLS decoded is
 * walked here with a strict DER reader. The staple's own signature does not
 * matter for CT: each SCT is signed over the leaf itself. */

static const unsigned char oid_ocsp_scts[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05};

struct der {
	const unsigned char *p;
	size_t len;
};

/* Take the next TLV (low tag numbers, definite minimal length) off @in. */
static bool der_next(struct der *in, unsigned char *tag, struct der *content)
{
	size_t hdr = 2, len, i, nlen;

	if (in->len < 2 || (in->p[0] & 0x1f) == 0x1f)
		return false;
	len = in->p[1];
	if (len & 0x80) {
		nlen = len & 0x7f;
		if (nlen == 0 || nlen > 3 || in->len < 2 + nlen || in->p[2] == 0)
			return false;
		for (len = 0, i = 0; i < nlen; i++)
			len = len << 8 | in->p[2 + i];
		if (len < 0x80)
			return false;
		hdr += nlen;
	}
	if (len > in->len - hdr)
		return false;
	*tag = in->p[0];
	content->p = in->p + hdr;
	content->len = len;
	in->p += hdr + len;
	in->len -= hdr + len;
	return true;
}

/* Step into the next element, which must have tag @want. */
static bool der_enter(struct der *in, unsigned char want, struct der *content)
{
	unsigned char tag;
	return der_next(in, &tag, content) && tag == want;
}

/* The SingleResponse number @idx of a BasicOCSPResponse. */
static bool ocsp_single(const gnutls_datum_t *basic, unsigned idx, struct der *single)
{
	struct der in = {basic->data, basic->size}, seq, tbs, responses, skip;
	unsigned char tag;
	unsigned i;

	if (!der_enter(&in, 0x30, &seq) || !der_enter(&seq, 0x30, &tbs))
		return false;
	if (tbs.len > 0 && tbs.p[0] == 0xa0 && !der_next(&tbs, &tag, &skip)) /* version */
		return false;
	if (!der_next(&tbs, &tag, &skip) || (tag != 0xa1 && tag != 0xa2)) /* responderID */
		return false;
	if (!der_enter(&tbs, 0x18, &skip) || !der_enter(&tbs, 0x30, &responses)) /* producedAt, responses */
		return false;
	for (i = 0; i <= idx; i++)
		if (!der_enter(&responses, 0x30, single))
			return false;
	return true;
}

/* 1 and the SCT list found in @single, 0 when it has none, -1 when the
 * structure cannot be read. */
static int single_scts(struct der single, struct der *list)
{
	struct der skip, exts, ext, oid, value, inner;
	unsigned char tag;
	int found = 0, k;

	for (k = 0; k < 3; k++) /* certID, certStatus, thisUpdate */
		if (!der_next(&single, &tag, &skip))
			return -1;
	if (single.len > 0 && single.p[0] == 0xa0 && !der_next(&single, &tag, &skip)) /* nextUpdate */
		return -1;
	if (single.len == 0)
		return 0;
	if (!der_enter(&single, 0xa1, &skip) || single.len != 0 || !der_enter(&skip, 0x30, &exts) || skip.len != 0)
		return -1;
	while (exts.len > 0) {
		if (!der_enter(&exts, 0x30, &ext) || !der_enter(&ext, 0x06, &oid))
			return -1;
		if (ext.len > 0 && ext.p[0] == 0x01 && !der_next(&ext, &tag, &skip)) /* critical */
			return -1;
		if (!der_enter(&ext, 0x04, &value) || ext.len != 0)
			return -1;
		if (oid.len != sizeof(oid_ocsp_scts) || memcmp(oid.p, oid_ocsp_scts, oid.len) != 0)
			continue;
		if (found++ || !der_enter(&value, 0x04, &inner) || value.len != 0 || inner.len == 0)
			return -1; /* twice, or not exactly one OCTET STRING */
		*list = inner;
	}
	return found;
}

/* The SCT list of the stapled OCSP response, copied to r->stapled. */
static int gather_stapled(struct run *r)
{
	const struct tg_buf *b = &r->e->req->ocsp;
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t d, oid = {NULL, 0}, basic = {NULL, 0};
	struct der single, list;
	unsigned i;
	int rc = 0, found = 0;

	if (b->data == NULL || b->len > UINT32_MAX)
		return 0;
	d.data = b->data;
	d.size = (unsigned)b->len;
	if (gnutls_ocsp_resp_init(&resp) < 0)
		return TLSGUARD_E_NOMEM;
	/* An unreadable or unsuccessful staple is the ocsp check's to report. */
	if (gnutls_ocsp_resp_import(resp, &d) < 0 || gnutls_ocsp_resp_get_status(resp) != GNUTLS_OCSP_RESP_SUCCESSFUL ||
	    gnutls_ocsp_resp_get_response(resp, &oid, &basic) < 0)
		goto out;
	for (i = 0; i < TG_CT_MAX_SCTS; i++) {
		int ret = gnutls_ocsp_resp_check_crt(resp, i, r->e->certs[0]);
		if (ret == 0)
			break;
		if (ret != GNUTLS_E_OCSP_RESPONSE_ERROR)
			goto out; /* no single response for the leaf */
	}
	if (i == TG_CT_MAX_SCTS)
		goto out;
	found = ocsp_single(&basic, i, &single) ? single_scts(single, &list) : -1;
	if (found < 0) {
		ct_event(r, TLSGUARD_EV_CT_INVALID, TLSGUARD_SEV_WARNING,
		         "the stapled OCSP response's extensions for the certificate cannot be read (not strict DER, "
		         "or the SCT extension is given twice or is not one OCTET STRING)");
		goto out;
	}
	if (found == 0)
		goto out;
	if ((r->stapled = tg_malloc(list.len)) == NULL) {
		rc = TLSGUARD_E_NOMEM;
		goto out;
	}
	memcpy(r->stapled, list.p, list.len);
	rc = add_list(r, r->stapled, list.len, TLSGUARD_SCT_OCSP);
out:
	gnutls_free(oid.data);
	gnutls_free(basic.data);
	gnutls_ocsp_resp_deinit(resp);
	return rc;
}

static int gather(struct run *r)
{
	const tlsguard_request *req = r->e->req;
	size_t i;
	int rc;

	if ((rc = gather_embedded(r)) != 0)
		return rc;
	for (i = 0; i < req->n_sct_lists; i++)
		if ((rc = add_list(r, req->sct_lists[i].list.data, req->sct_lists[i].list.len, req->sct_lists[i].source)) !=
		    0)
			return rc;
	return gather_stapled(r);
}

/* ---- verification ---- */

/* SHA-256 over @n (pointer, length) pairs. */
static int sha256_parts(unsigned char out[32], size_t n, ...)
{
	gnutls_hash_hd_t h;
	va_list ap;
	size_t i;
	int ret = 0;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const void *p = va_arg(ap, const void *);
		size_t len = va_arg(ap, size_t);
		if (len > 0 && gnutls_hash(h, p, len) < 0)
			ret = -1;
	}
	va_end(ap);
	gnutls_hash_deinit(h, out);
	return ret;
}

/* Build the signed data of an entry type once. */
static struct entry *entry_for(struct run *r, int source)
{
	struct tg_eval *e = r->e;
	struct entry *en = source == TLSGUARD_SCT_EMBEDDED ? &r->precert : &r->x509;
	unsigned char type, len3[3];

	if (en->tried)
		return en;
	en->tried = true;
	if (source != TLSGUARD_SCT_EMBEDDED) {
		en->rc = tg_sct_signed_x509(e->certs[0], &en->sd, en->err, sizeof(en->err));
	} else {
		gnutls_x509_crt_t issuer = e->npath > 1 ? e->certs[e->path[1]] : e->anchor;
		if (issuer == NULL) {
			en->rc = TLSGUARD_E_INVALID;
			tg_snprintf(en->err, sizeof(en->err),
			            "the certificate's issuer is unknown, and embedded SCTs are signed over its key");
		} else {
			en->rc = tg_sct_signed_precert(e->certs[0], issuer, &en->sd, en->err, sizeof(en->err));
		}
	}
	if (en->rc == 0) {
		type = (unsigned char)en->sd.entry_type;
		len3[0] = (unsigned char)(en->sd.entry_len >> 16);
		len3[1] = (unsigned char)(en->sd.entry_len >> 8);
		len3[2] = (unsigned char)en->sd.entry_len;
		en->hashed = sha256_parts(en->hash, 4, &type, (size_t)1, en->sd.issuer_key_hash,
		                          (size_t)(type == 1 ? 32 : 0), len3, sizeof(len3), en->sd.entry,
		                          en->sd.entry_len) == 0;
	}
	return en;
}

/* tg_sct_verify() through the context's cache. */
static int verify(struct run *r, const struct item *it, const struct entry *en)
{
	struct tg_ct_cache *cache = r->e->ctx->ct_cache;
	const struct tg_sct *s = &it->sct;
	unsigned char key[64], ts[8], algs[2], l1[2], l2[2];
	bool keyed = false;
	int i, res;

	if (cache != NULL && en->hashed) {
		for (i = 0; i < 8; i++)
			ts[i] = (unsigned char)(s->timestamp >> (56 - 8 * i));
		algs[0] = s->hash_alg;
		algs[1] = s->sig_alg;
		l1[0] = (unsigned char)(s->ext_len >> 8);
		l1[1] = (unsigned char)s->ext_len;
		l2[0] = (unsigned char)(s->sig_len >> 8);
		l2[1] = (unsigned char)s->sig_len;
		memcpy(key, en->hash, 32);
		keyed = sha256_parts(key + 32, 7, s->log_id, (size_t)TG_CT_LOG_ID_LEN, ts, sizeof(ts), l1, sizeof(l1),
		                     s->ext, s->ext_len, algs, sizeof(algs), l2, sizeof(l2), s->sig, s->sig_len) == 0;
		if (keyed && cache_get(cache, key, &res))
			return res;
	}
	res = tg_sct_verify(s, &en->sd, it->log->pubkey);
	if (cache != NULL && res != TLSGUARD_E_NOMEM)
		cache_put(cache, keyed ? key : NULL, res);
	return res;
}

/* The log's state at @when. A list records only each log's current state
 * and since when, so for a time before that the previous state is
 * inferred along Chrome's life cycle (log_states.md): qualified came from
 * pending, usable from qualified, readonly and retired from usable. A log
 * now rejected is taken as usable before its rejection: it was in the
 * list and accepted SCTs until then (README sec. 3, letsencrypt.org-2026:
 * Tuscolo2026h1 was rejected on 2026-07-09, after the SCTs it issued in
 * March; Apple marks expired shards rejected in the same way). This only
 * matters for an evaluation time before the list's last changes, i.e.
 * when re-evaluating the past with a newer list. */
static int state_at(const struct tg_ct_log *log, int64_t when)
{
	if (log->state == TG_LOG_NONE || log->state_time <= when)
		return log->state;
	switch (log->state) {
	case TG_LOG_QUALIFIED: return TG_LOG_PENDING;
	case TG_LOG_USABLE: return TG_LOG_QUALIFIED;
	case TG_LOG_READONLY:
	case TG_LOG_RETIRED:
	case TG_LOG_REJECTED: return TG_LOG_USABLE;
	default: return TG_LOG_NONE; /* pending: not yet in any list */
	}
}

static bool state_current(int state)
{
	return state == TG_LOG_QUALIFIED || state == TG_LOG_USABLE || state == TG_LOG_READONLY;
}

/* Pass 1: what each SCT is on its own: known log, verifiable, signature,
 * not from the future. */
static int check_one(struct run *r, struct item *it)
{
	struct entry *en;

	it->log = tg_loglist_find(r->list->ll, it->sct.log_id);
	if (it->log == NULL) {
		it->status = TLSGUARD_SCT_UNKNOWN_LOG;
		return 0;
	}
	it->op = tg_ct_log_operator_at(it->log, (int64_t)it->sct.timestamp);
	en = entry_for(r, it->source);
	if (en->rc == TLSGUARD_E_NOMEM)
		return en->rc;
	if (en->rc != 0) {
		it->status = TLSGUARD_SCT_UNVERIFIABLE;
		return 0;
	}
	it->verify_rc = verify(r, it, en);
	if (it->verify_rc == TLSGUARD_E_NOMEM)
		return it->verify_rc;
	if (it->verify_rc != 0)
		it->status = TLSGUARD_SCT_INVALID_SIGNATURE;
	else if (it->sct.timestamp > (uint64_t)r->now_ms)
		it->status = TLSGUARD_SCT_FUTURE_TIMESTAMP;
	else
		it->status = TLSGUARD_SCT_VALID;
	return 0;
}

/* Pass 2: the log's state at the time of check (notes sec. 2). Pending,
 * rejected and stateless logs never count. A retired log counts only for
 * SCTs issued before its retirement; for embedded SCTs Chrome compares the
 * earliest embedded SCT (the issuance time) with the retirement time. */
static void judge_logs(struct run *r)
{
	uint64_t earliest = UINT64_MAX;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->items[i].status == TLSGUARD_SCT_VALID && r->items[i].source == TLSGUARD_SCT_EMBEDDED &&
		    r->items[i].sct.timestamp < earliest)
			earliest = r->items[i].sct.timestamp;
	for (i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		int st;
		uint64_t issued;
		if (it->status != TLSGUARD_SCT_VALID)
			continue;
		st = state_at(it->log, r->now_ms);
		issued = it->source == TLSGUARD_SCT_EMBEDDED ? earliest : it->sct.timestamp;
		if (state_current(st))
			it->current = true;
		else if (!(st == TG_LOG_RETIRED && issued < (uint64_t)it->log->state_time))
			it->status = TLSGUARD_SCT_LOG_NOT_ACCEPTED;
	}
}

static void invalid_events(struct run *r)
{
	char name[256], when[48];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		const char *why;
		if (it->status == TLSGUARD_SCT_INVALID_SIGNATURE)
			why = it->verify_rc == TLSGUARD_E_INVALID
			          ? "its signature algorithm is not supported or does not match the log's key"
			          : "its signature does not verify with the log's key: it was not issued by that log for this "
			            "certificate";
		else if (it->status == TLSGUARD_SCT_FUTURE_TIMESTAMP)
			why = "it is dated after the evaluation time";
		else if (it->status == TLSGUARD_SCT_UNVERIFIABLE)
			why = (it->source == TLSGUARD_SCT_EMBEDDED ? &r->precert : &r->x509)->err;
		else
			continue;
		sct_name(it, name, sizeof(name));
		if (it->status == TLSGUARD_SCT_FUTURE_TIMESTAMP) {
			format_ms((uint64_t)r->now_ms, when, sizeof(when));
			ct_event(r, TLSGUARD_EV_CT_INVALID, TLSGUARD_SEV_WARNING, "SCT from %s: %s (%s)", name, why, when);
		} else {
			ct_event(r, TLSGUARD_EV_CT_INVALID, TLSGUARD_SEV_WARNING, "SCT from %s: %s%s", name,
			         it->status == TLSGUARD_SCT_UNVERIFIABLE ? "cannot be verified: " : "", why);
		}
	}
}

/* What the result reports about every SCT seen. */
static int record(struct run *r)
{
	tlsguard_result *res = r->e->res;
	size_t i;

	if (r->n == 0)
		return 0;
	if ((res->scts = tg_calloc(r->n, sizeof(*res->scts))) == NULL)
		return TLSGUARD_E_NOMEM;
	for (i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		struct tg_sct_record *rec = &res->scts[res->nscts++];
		memcpy(rec->log_id, it->sct.log_id, sizeof(rec->log_id));
		rec->timestamp_ms = (int64_t)it->sct.timestamp;
		rec->source = it->source;
		rec->status = it->status;
		if (it->log != NULL && ((rec->log_name = tg_strdup(it->log->description ? it->log->description : "")) == NULL ||
		                        (rec->operator_name = tg_strdup(it->op ? it->op : "")) == NULL))
			return TLSGUARD_E_NOMEM;
	}
	return 0;
}

/* ---- policies ---- */

/* Which valid SCTs a rule counts. */
enum { F_EMBEDDED = 1, F_TLS = 2, F_OCSP = 4, F_ANY_SOURCE = 7, F_CURRENT = 8 };

static bool counts(const struct item *it, unsigned f)
{
	unsigned src = it->source == TLSGUARD_SCT_EMBEDDED ? F_EMBEDDED : it->source == TLSGUARD_SCT_TLS ? F_TLS : F_OCSP;
	return it->status == TLSGUARD_SCT_VALID && (f & src) && (!(f & F_CURRENT) || it->current);
}

struct tally {
	size_t logs;      /* distinct logs */
	size_t current;   /* of which qualified/usable/readonly now */
	size_t rfc6962;   /* of which not tiled (static-ct-api) */
	size_t ops;       /* distinct operators */
	size_t capped;    /* distinct logs, at most @cap per operator */
	const char *op;   /* the first operator seen */
	char names[400];  /* "Google 'Argon2026h1' log, ..." */
};

/* Count the logs and operators of the SCTs that @f counts. r->uniq holds
 * room for one index per SCT: the first SCT of each distinct log, so the
 * cost is O(SCTs x distinct logs), whatever duplicates a peer sends. */
static void tally(const struct run *r, unsigned f, size_t cap, struct tally *t)
{
	size_t i, j, k, nu = 0, used = 0, same;
	char name[160];

	memset(t, 0, sizeof(*t));
	for (i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		if (!counts(it, f))
			continue;
		for (j = 0; j < nu && r->items[r->uniq[j]].log != it->log; j++)
			;
		if (j < nu)
			continue;
		r->uniq[nu++] = i;
		t->current += it->current;
		t->rfc6962 += !it->log->tiled;
		log_name(it, name, sizeof(name));
		if (used + strlen(name) + 8 < sizeof(t->names))
			used += (size_t)tg_snprintf(t->names + used, sizeof(t->names) - used, "%s%s", used ? ", " : "", name);
	}
	t->logs = nu;
	for (j = 0; j < nu; j++) {
		const char *op = r->items[r->uniq[j]].op;
		for (k = 0; k < j && strcmp(r->items[r->uniq[k]].op, op) != 0; k++)
			;
		if (k < j)
			continue; /* operator counted already */
		t->ops++;
		if (t->op == NULL)
			t->op = op;
		for (same = 0, k = j; k < nu; k++)
			same += strcmp(r->items[r->uniq[k]].op, op) == 0;
		t->capped += cap && same > cap ? cap : same;
	}
}

static bool any_counts(const struct run *r, unsigned f)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		if (counts(&r->items[i], f))
			return true;
	return false;
}

/* Lifetime of the leaf in seconds (notBefore to notAfter). */
static int lifetime(struct run *r, int64_t *secs)
{
	time_t nb = gnutls_x509_crt_get_activation_time(r->e->certs[0]);
	time_t na = gnutls_x509_crt_get_expiration_time(r->e->certs[0]);

	if (nb == (time_t)-1 || na == (time_t)-1 || na < nb)
		return TLSGUARD_E_CERT_PARSE;
	*secs = (int64_t)na - (int64_t)nb;
	return 0;
}

/* A growing detail text. */
struct text {
	char buf[DETAIL];
	size_t used;
};

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, sizeof(t->buf) - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n < sizeof(t->buf) - t->used ? (size_t)n : sizeof(t->buf) - t->used - 1;
}

static void say_found(struct text *t, const struct tally *c)
{
	say(t, "found %zu", c->logs);
	if (c->logs > 0)
		say(t, " (%s)", c->names);
}

/* The SCTs that did not count, and why, after the policy's reason. */
static void say_not_counted(struct text *t, const struct run *r)
{
	char name[256];
	const char *why;
	size_t i, n = 0;

	for (i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		if (it->status != TLSGUARD_SCT_VALID)
			why = tlsguard_sct_status_name(it->status);
		else if (r->policy == TG_CT_CHROME && it->source == TLSGUARD_SCT_TLS && !it->current)
			why = "log retired (retired logs do not count for SCTs delivered by TLS)";
		else
			continue;
		sct_name(it, name, sizeof(name));
		say(t, "%s%s: %s", n++ ? "; " : ". Not counted: ", name, why);
	}
}

/*
 * Chrome (notes sec. 2, ct_policy.md 2026): compliant when either
 *  - embedded: >= 1 SCT from a log qualified/usable/readonly at the time of
 *    check, and SCTs from >= N distinct logs that were qualified, usable,
 *    readonly or (for SCTs issued before retirement) retired, N = 2 for a
 *    lifetime <= 180 days, else 3, from >= 2 distinct operators; or
 *  - TLS: >= 2 SCTs from logs qualified/usable/readonly at the time of
 *    check, from >= 2 distinct operators (retired logs never count).
 * SCTs in OCSP staples count only in Chrome before 148 (2026-03): not here.
 * Static-ct-api (tiled) logs count like RFC 6962 logs since 2026-04-15.
 */
static bool chrome_policy(struct run *r, int64_t life, struct text *why)
{
	struct tally emb, tls;
	size_t need = life <= SHORT_LIFETIME_DAYS * 86400 ? 2 : 3, i;
	bool any_tls = false, any_ocsp = false;

	tally(r, F_EMBEDDED, 0, &emb);
	tally(r, F_TLS | F_CURRENT, 0, &tls);
	if (emb.current >= 1 && emb.logs >= need && emb.ops >= 2)
		return true;
	if (tls.ops >= 2)
		return true;
	for (i = 0; i < r->n; i++) {
		any_tls |= r->items[i].source == TLSGUARD_SCT_TLS;
		any_ocsp |= r->items[i].source == TLSGUARD_SCT_OCSP;
	}
	say(why, "Chrome CT policy: ");
	if (emb.logs < need) {
		say(why, "%zu valid embedded SCTs from distinct logs needed for a certificate valid %lld days; ", need,
		    (long long)((life + 43200) / 86400));
		say_found(why, &emb);
	} else if (emb.current == 0) {
		say(why, "at least one embedded SCT from a log that is qualified, usable or read-only now needed; all "
		         "are from retired logs (%s)",
		    emb.names);
	} else {
		say(why, "embedded SCTs from at least 2 operators needed; all are from %s", emb.op ? emb.op : "one operator");
	}
	if (any_tls) {
		say(why, "; or via TLS: SCTs from 2 logs of distinct operators, qualified, usable or read-only now, needed; ");
		say_found(why, &tls);
		say(why, " from %zu operator%s", tls.ops, tls.ops == 1 ? "" : "s");
	}
	if (any_ocsp)
		say(why, "; SCTs from stapled OCSP responses do not count (Chrome 148 and later)");
	say_not_counted(why, r);
	return false;
}

/* Apple's lifetime in days: notBefore..notAfter inclusive, any part of a
 * day counting as a day (notes sec. 2, RFC 5280 sec. 4.1.2.5). */
static int64_t apple_days(int64_t life)
{
	return (life + 1 + 86399) / 86400;
}

/*
 * Apple (notes sec. 2, support.apple.com/en-us/103214): compliant when all of
 *  - >= 2 SCTs (distinct logs) from logs currently approved or approved
 *    when the SCT was issued (retired: issued before retirement);
 *  - either >= 2 SCTs from currently approved logs, one of them delivered
 *    by TLS or OCSP; or >= 1 embedded SCT from a currently approved log and
 *    embedded SCTs from distinct logs: 2 for <= 180 days counting at most 1
 *    per operator, else 3 counting at most 2 per operator;
 *  - >= 1 SCT from an RFC 6962 (not static-ct-api) log.
 */
static bool apple_policy(struct run *r, int64_t life, struct text *why)
{
	struct tally all, cur, emb;
	int64_t days = apple_days(life);
	size_t cap = days <= SHORT_LIFETIME_DAYS ? 1 : 2, need = days <= SHORT_LIFETIME_DAYS ? 2 : 3;
	bool delivered, emb_ok;

	tally(r, F_ANY_SOURCE, 0, &all);
	tally(r, F_ANY_SOURCE | F_CURRENT, 0, &cur);
	tally(r, F_EMBEDDED, cap, &emb);
	delivered = any_counts(r, F_TLS | F_OCSP | F_CURRENT);
	emb_ok = emb.current >= 1 && emb.capped >= need;
	if (all.logs >= 2 && ((cur.logs >= 2 && delivered) || emb_ok) && all.rfc6962 >= 1)
		return true;
	say(why, "Apple CT policy: ");
	if (all.logs < 2) {
		say(why, "SCTs from 2 distinct approved logs needed; ");
		say_found(why, &all);
	} else if (all.rfc6962 == 0) {
		say(why, "an SCT from an RFC 6962 log needed; all valid SCTs are from static-ct-api logs (%s)", all.names);
	} else if (emb.current == 0) {
		say(why, "an embedded SCT from a currently approved log needed, or 2 SCTs from currently approved logs "
		         "with one delivered by TLS or OCSP; ");
		say_found(why, &cur);
	} else {
		say(why, "%zu embedded SCTs from distinct logs needed for a certificate valid %lld days, counting at most %zu "
		         "per operator; ",
		    need, (long long)days, cap);
		say(why, "found %zu (%s) from %zu operator%s", emb.logs, emb.names, emb.ops, emb.ops == 1 ? "" : "s");
	}
	say_not_counted(why, r);
	return false;
}

/* ---- the check ---- */

static int effective_policy(const struct tg_eval *e)
{
	/* A list that failed to load still counts as configured: CT was
	 * wanted, and is reported as unavailable rather than silently off. */
	if (e->pol.ct_policy == TG_CT_AUTO)
		return e->ctx->cfg.ct_list != NULL || e->ctx->cfg.ct_list_failed ? TG_CT_CHROME : TG_CT_OFF;
	return e->pol.ct_policy;
}

/* Can the list be used now? Else say why (an unavailable event). */
static bool list_usable(struct run *r)
{
	const struct tg_ct_list *l = r->list;
	char when[40];
	int64_t age;

	if (l->date_ms == 0) {
		tg_event_add(r->e, TLSGUARD_EV_CT_UNAVAILABLE, TLSGUARD_SEV_WARNING, -1,
		         "the CT log list %s has no date (no log_list_timestamp and no log states), so its age is unknown "
		         "and Certificate Transparency was not enforced",
		         l->path);
		return false;
	}
	age = r->now_ms - l->date_ms;
	if (age < LIST_MAX_AGE_DAYS * MS_PER_DAY)
		return true;
	tg_format_time_iso(l->date_ms / 1000, when, sizeof(when));
	tg_event_add(r->e, TLSGUARD_EV_CT_UNAVAILABLE, TLSGUARD_SEV_WARNING, -1,
	         "the CT log list %s is dated %s%s, %lld days before the evaluation time; a list older than %d days is "
	         "not enforced (as in Chrome), so Certificate Transparency was not checked. Update the list.",
	         l->path, when, l->date_from_states ? " (its newest log state)" : "", (long long)(age / MS_PER_DAY),
	         LIST_MAX_AGE_DAYS);
	return false;
}

static void run_free(struct run *r)
{
	tg_free(r->items);
	tg_free(r->uniq);
	gnutls_free(r->embedded);
	tg_free(r->stapled);
	tg_sct_signed_free(&r->precert.sd);
	tg_sct_signed_free(&r->x509.sd);
}

/* Gather, check, record and judge the SCTs. */
static int evaluate(struct run *r)
{
	struct text why;
	int64_t life;
	size_t i;
	bool ok;
	int rc;

	if ((rc = gather(r)) != 0)
		return internal(r, rc, "reading the SCTs");
	for (i = 0; i < r->n; i++)
		if ((rc = check_one(r, &r->items[i])) != 0)
			return internal(r, rc, "verifying an SCT");
	judge_logs(r);
	if ((rc = record(r)) != 0)
		return internal(r, rc, "recording the SCTs");
	invalid_events(r);
	if (r->n == 0) {
		ct_event(r, TLSGUARD_EV_CT_MISSING, severity(r),
		         "no SCT: the certificate has no embedded SCTs and none came with the connection (TLS extension "
		         "or stapled OCSP response)%s",
		         r->report_only ? " (ct-mode report-only)" : "");
		return TLSGUARD_CHECK_PASS;
	}
	if ((r->uniq = tg_calloc(r->n, sizeof(*r->uniq))) == NULL)
		return internal(r, TLSGUARD_E_NOMEM, "counting the SCTs");
	if ((rc = lifetime(r, &life)) != 0)
		return internal(r, rc, "reading the certificate's validity period");
	memset(&why, 0, sizeof(why));
	ok = r->policy == TG_CT_APPLE ? apple_policy(r, life, &why) : chrome_policy(r, life, &why);
	if (!ok)
		ct_event(r, TLSGUARD_EV_CT_POLICY_NOT_MET, severity(r), "%s%s", why.buf,
		         r->report_only ? " (ct-mode report-only)" : "");
	return TLSGUARD_CHECK_PASS;
}

static int run(struct tg_eval *e)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.e = e;
	r.policy = effective_policy(e);
	r.report_only = e->pol.ct_report_only;
	r.list = e->ctx->cfg.ct_list;
	r.now_ms = e->now * 1000;
	if (r.policy == TG_CT_OFF)
		return TLSGUARD_CHECK_SKIP;
	if (r.list == NULL && e->ctx->cfg.ct_list_failed) {
		/* The configured list could not be loaded. CT is enforced for
		 * this host (fail closed) when its ct-policy was configured
		 * explicitly (chrome or apple, in its section or [default]) and
		 * ct-mode is enforce; the implicit policy follows from a list
		 * being configured, so it only warns. */
		const char *why = e->ctx->cfg.ct_list_err ? e->ctx->cfg.ct_list_err : "out of memory";
		if (e->pol.ct_policy != TG_CT_AUTO && !r.report_only) {
			tg_event_add(e, TLSGUARD_EV_CT_UNAVAILABLE, TLSGUARD_SEV_FATAL, -1,
			             "the CT log list failed to load (%s), so Certificate Transparency cannot be checked and "
			             "the connection is rejected (ct-policy %s, ct-mode enforce)",
			             why, r.policy == TG_CT_APPLE ? "apple" : "chrome");
			return TLSGUARD_CHECK_PASS; /* outcome "fail": it raised a fatal event */
		}
		tg_event_add(e, TLSGUARD_EV_CT_UNAVAILABLE, TLSGUARD_SEV_WARNING, -1,
		             "the CT log list failed to load (%s), so Certificate Transparency was not enforced%s", why,
		             r.report_only ? " (ct-mode report-only)" : " (ct-policy not set explicitly)");
		return TLSGUARD_CHECK_SKIP;
	}
	if (r.list == NULL) {
		tg_event_add(e, TLSGUARD_EV_CT_UNAVAILABLE, TLSGUARD_SEV_INFO, -1,
		             "no CT log list configured (config key ct-log-list), so Certificate Transparency was not "
		             "checked");
		return TLSGUARD_CHECK_SKIP;
	}
	if (!list_usable(&r))
		return TLSGUARD_CHECK_SKIP;
	rc = evaluate(&r);
	run_free(&r);
	return rc;
}

const struct tg_check tg_check_ct = {"ct", run, NULL};
