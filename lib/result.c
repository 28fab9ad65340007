/* Result objects and event accessors. */
#include "config.h"

#include "tg.h"

int tlsguard_result_verdict(const tlsguard_result *res)
{
	if (res == NULL || res->error != 0)
		return TLSGUARD_REJECT;
	return res->verdict == TLSGUARD_ACCEPT ? TLSGUARD_ACCEPT : TLSGUARD_REJECT;
}

int tlsguard_result_error(const tlsguard_result *res)
{
	return res ? res->error : TLSGUARD_E_INVALID;
}

const char *tlsguard_result_host(const tlsguard_result *res)
{
	return res ? res->host : "";
}

unsigned tlsguard_result_port(const tlsguard_result *res)
{
	return res ? res->port : 0;
}

const char *tlsguard_result_address(const tlsguard_result *res)
{
	return res ? res->address : "";
}

size_t tlsguard_result_event_count(const tlsguard_result *res)
{
	return res ? res->nevents : 0;
}

const tlsguard_event *tlsguard_result_event(const tlsguard_result *res, size_t i)
{
	return res && i < res->nevents ? &res->events[i] : NULL;
}

int tlsguard_result_has_event(const tlsguard_result *res, int code)
{
	size_t i;
	for (i = 0; res && i < res->nevents; i++)
		if (res->events[i].code == code)
			return 1;
	return 0;
}

size_t tlsguard_result_check_count(const tlsguard_result *res)
{
	return res ? res->nchecks : 0;
}

const char *tlsguard_result_check_name(const tlsguard_result *res, size_t i)
{
	return res && i < res->nchecks ? res->checks[i].name : NULL;
}

int tlsguard_result_check_outcome(const tlsguard_result *res, size_t i)
{
	return res && i < res->nchecks ? res->checks[i].outcome : TLSGUARD_CHECK_ERROR;
}

size_t tlsguard_result_cert_count(const tlsguard_result *res)
{
	return res ? res->ncerts : 0;
}

const unsigned char *tlsguard_result_cert(const tlsguard_result *res, size_t i, size_t *len)
{
	if (res == NULL || i >= res->ncerts) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = res->certs[i].len;
	return res->certs[i].data;
}

void tlsguard_result_free(tlsguard_result *res)
{
	size_t i;
	if (res == NULL)
		return;
	for (i = 0; i < res->nevents; i++) {
		tg_free(res->events[i].message);
		tg_free(res->events[i].detail);
	}
	tg_free(res->events);
	tg_free(res->report);
	for (i = 0; i < res->ncerts; i++)
		tg_free(res->certs[i].data);
	tg_free(res->certs);
	for (i = 0; i < res->nscts; i++) {
		tg_free(res->scts[i].log_name);
		tg_free(res->scts[i].operator_name);
	}
	tg_free(res->scts);
	for (i = 0; i < res->npeers; i++)
		tg_free(res->peers[i].detail);
	tg_free(res->peers);
	tg_free(res);
}

const char *tlsguard_peer_status_name(int status)
{
	switch (status) {
	case TLSGUARD_PEER_AGREES: return "agrees";
	case TLSGUARD_PEER_DIFFERS: return "differs";
	case TLSGUARD_PEER_REJECTED: return "rejected";
	case TLSGUARD_PEER_UNREACHABLE: return "unreachable";
	default: return "unknown";
	}
}

size_t tlsguard_result_peer_count(const tlsguard_result *res)
{
	return res ? res->npeers : 0;
}

int tlsguard_result_peer(const tlsguard_result *res, size_t i, const char **address, int *status, int *from_probe,
                         const char **detail)
{
	const struct tg_peer_record *p;

	if (res == NULL || i >= res->npeers)
		return TLSGUARD_E_RANGE;
	p = &res->peers[i];
	if (address)
		*address = p->address;
	if (status)
		*status = p->status;
	if (from_probe)
		*from_probe = p->from_probe;
	if (detail)
		*detail = p->detail ? p->detail : "";
	return 0;
}

const char *tlsguard_sct_status_name(int status)
{
	switch (status) {
	case TLSGUARD_SCT_VALID: return "valid";
	case TLSGUARD_SCT_INVALID_SIGNATURE: return "invalid_signature";
	case TLSGUARD_SCT_UNKNOWN_LOG: return "unknown_log";
	case TLSGUARD_SCT_FUTURE_TIMESTAMP: return "future_timestamp";
	case TLSGUARD_SCT_LOG_NOT_ACCEPTED: return "log_not_accepted";
	case TLSGUARD_SCT_UNVERIFIABLE: return "unverifiable";
	default: return "unknown";
	}
}

size_t tlsguard_result_sct_count(const tlsguard_result *res)
{
	return res ? res->nscts : 0;
}

int tlsguard_result_sct(const tlsguard_result *res, size_t i, const unsigned char **log_id, const char **log_name,
                        const char **operator_name, int64_t *timestamp_ms, int *source, int *status)
{
	const struct tg_sct_record *r;

	if (res == NULL || i >= res->nscts)
		return TLSGUARD_E_RANGE;
	r = &res->scts[i];
	if (log_id)
		*log_id = r->log_id;
	if (log_name)
		*log_name = r->log_name ? r->log_name : "";
	if (operator_name)
		*operator_name = r->operator_name ? r->operator_name : "";
	if (timestamp_ms)
		*timestamp_ms = r->timestamp_ms;
	if (source)
		*source = r->source;
	if (status)
		*status = r->status;
	return 0;
}

int tlsguard_event_code(const tlsguard_event *ev)
{
	return ev ? ev->code : 0;
}

int tlsguard_event_severity(const tlsguard_event *ev)
{
	return ev ? ev->severity : TLSGUARD_SEV_FATAL;
}

const char *tlsguard_event_name(const tlsguard_event *ev)
{
	return tlsguard_code_name(ev ? ev->code : 0);
}

const char *tlsguard_event_message(const tlsguard_event *ev)
{
	return ev && ev->message ? ev->message : "";
}

const char *tlsguard_event_detail(const tlsguard_event *ev)
{
	return ev && ev->detail ? ev->detail : "";
}

const char *tlsguard_event_check(const tlsguard_event *ev)
{
	return ev && ev->check ? ev->check : "";
}

const char *tlsguard_event_host(const tlsguard_event *ev)
{
	return tlsguard_result_host(ev ? ev->res : NULL);
}

unsigned tlsguard_event_port(const tlsguard_event *ev)
{
	return tlsguard_result_port(ev ? ev->res : NULL);
}

const char *tlsguard_event_address(const tlsguard_event *ev)
{
	return tlsguard_result_address(ev ? ev->res : NULL);
}

int tlsguard_event_cert_index(const tlsguard_event *ev)
{
	return ev ? ev->cert_index : -1;
}

size_t tlsguard_event_cert_count(const tlsguard_event *ev)
{
	return ev ? ev->res->ncerts : 0;
}

const unsigned char *tlsguard_event_cert(const tlsguard_event *ev, size_t i, size_t *len)
{
	return tlsguard_result_cert(ev ? ev->res : NULL, i, len);
}

int tlsguard_event_overridable(const tlsguard_event *ev)
{
	return ev ? ev->overridable : 0;
}

int tlsguard_event_decision(const tlsguard_event *ev)
{
	return ev ? ev->decision : TLSGUARD_DECISION_DEFAULT;
}
