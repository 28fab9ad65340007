/* Check "validity": every certificate of the path, and its trust anchor, is
 * within its validity period at the evaluation time (the context's fixed
 * time or the clock). */
#include "config.h"

#include "tg.h"

static int run(struct tg_eval *e)
{
	size_t i;

	for (i = 0; i < e->npath; i++) {
		size_t idx = e->path[i];
		gnutls_x509_crt_t c = e->certs[idx];
		int64_t nb = (int64_t)gnutls_x509_crt_get_activation_time(c);
		int64_t na = (int64_t)gnutls_x509_crt_get_expiration_time(c);
		char t1[40], t2[40];

		if (nb == -1 || na == -1) {
			tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu has an unreadable validity period", idx);
			continue;
		}
		tg_format_time(e->now, t1, sizeof(t1));
		if (e->now > na) {
			tg_format_time(na, t2, sizeof(t2));
			tg_event_add(e, TLSGUARD_EV_EXPIRED, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu expired at %s (now %s)", idx, t2, t1);
		} else if (e->now < nb) {
			tg_format_time(nb, t2, sizeof(t2));
			tg_event_add(e, TLSGUARD_EV_NOT_YET_VALID, TLSGUARD_SEV_FATAL, (int)idx,
			             "certificate %zu is valid only from %s (now %s)", idx, t2, t1);
		}
	}
	/* The trust anchor too: an expired root no longer vouches for anything
	 * (its key may be retired and no longer protected). */
	if (e->anchor != NULL) {
		int64_t nb = (int64_t)gnutls_x509_crt_get_activation_time(e->anchor);
		int64_t na = (int64_t)gnutls_x509_crt_get_expiration_time(e->anchor);
		char t1[40], t2[40];

		tg_format_time(e->now, t1, sizeof(t1));
		if (nb == -1 || na == -1) {
			tg_event_add(e, TLSGUARD_EV_MALFORMED_CHAIN, TLSGUARD_SEV_FATAL, -1,
			             "the trust anchor has an unreadable validity period");
		} else if (e->now > na) {
			tg_format_time(na, t2, sizeof(t2));
			tg_event_add(e, TLSGUARD_EV_EXPIRED, TLSGUARD_SEV_FATAL, -1, "the trust anchor expired at %s (now %s)", t2,
			             t1);
		} else if (e->now < nb) {
			tg_format_time(nb, t2, sizeof(t2));
			tg_event_add(e, TLSGUARD_EV_NOT_YET_VALID, TLSGUARD_SEV_FATAL, -1,
			             "the trust anchor is valid only from %s (now %s)", t2, t1);
		}
	}
	return TLSGUARD_CHECK_PASS;
}

const struct tg_check tg_check_validity = {"validity", run, NULL};
