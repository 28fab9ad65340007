/* Evaluation requests: plain data every front end fills in. */
#include "config.h"

#include <string.h>

#include "tg.h"

int tlsguard_request_new(tlsguard_request **out, const char *host, size_t host_len)
{
	tlsguard_request *req;
	int rc;

	if (out == NULL)
		return TLSGUARD_E_INVALID;
	*out = NULL;
	if (host == NULL)
		return TLSGUARD_E_INVALID;
	req = tg_calloc(1, sizeof(*req));
	if (req == NULL)
		return TLSGUARD_E_NOMEM;
	rc = tg_host_normalize(host, host_len, req->host);
	if (rc != 0) {
		tg_free(req);
		return rc;
	}
	*out = req;
	return 0;
}

void tlsguard_request_free(tlsguard_request *req)
{
	size_t i;
	if (req == NULL)
		return;
	for (i = 0; i < req->ncerts; i++)
		tg_free(req->certs[i].data);
	tg_free(req->ocsp.data);
	for (i = 0; i < req->n_sct_lists; i++)
		tg_free(req->sct_lists[i].list.data);
	tg_free(req);
}

int tlsguard_request_set_port(tlsguard_request *req, unsigned port)
{
	if (req == NULL || port > 65535)
		return TLSGUARD_E_INVALID;
	req->port = port;
	return 0;
}

int tlsguard_request_set_address(tlsguard_request *req, const char *addr)
{
	/* Canonical text: the consistency check compares addresses as text
	 * in the history ("::ffff:192.0.2.1" and "192.0.2.1" are one peer). */
	if (req == NULL || addr == NULL || strlen(addr) >= sizeof(req->address))
		return TLSGUARD_E_INVALID;
	return tg_ip_canonical(addr, req->address, sizeof(req->address));
}

static int copy_buf(struct tg_buf *b, const unsigned char *der, size_t len)
{
	unsigned char *d;
	if (der == NULL || len == 0)
		return TLSGUARD_E_INVALID;
	d = tg_malloc(len);
	if (d == NULL)
		return TLSGUARD_E_NOMEM;
	memcpy(d, der, len);
	tg_free(b->data);
	b->data = d;
	b->len = len;
	return 0;
}

int tlsguard_request_add_cert(tlsguard_request *req, const unsigned char *der, size_t len)
{
	int rc;
	if (req == NULL)
		return TLSGUARD_E_INVALID;
	if (req->ncerts >= TG_MAX_CHAIN)
		return TLSGUARD_E_CHAIN_TOO_LONG;
	rc = copy_buf(&req->certs[req->ncerts], der, len);
	if (rc == 0)
		req->ncerts++;
	return rc;
}

int tlsguard_request_set_ocsp_response(tlsguard_request *req, const unsigned char *der, size_t len)
{
	if (req == NULL)
		return TLSGUARD_E_INVALID;
	return copy_buf(&req->ocsp, der, len);
}

/* A TLS-encoded SignedCertificateTimestampList: a 2-byte length and at most
 * 65535 bytes. It is parsed at evaluation, where a bad list is an event. */
#define MAX_SCT_LIST (2 + 65535)

int tlsguard_request_add_sct_list(tlsguard_request *req, int source, const unsigned char *list, size_t len)
{
	struct tg_sct_input *in;
	int rc;

	if (req == NULL || list == NULL || len == 0 || len > MAX_SCT_LIST)
		return TLSGUARD_E_INVALID;
	/* Embedded SCTs are read from the leaf itself, never handed over. */
	if (source != TLSGUARD_SCT_TLS && source != TLSGUARD_SCT_OCSP)
		return TLSGUARD_E_INVALID;
	if (req->n_sct_lists >= TG_MAX_SCT_LISTS)
		return TLSGUARD_E_RANGE;
	in = &req->sct_lists[req->n_sct_lists];
	if ((rc = copy_buf(&in->list, list, len)) != 0)
		return rc;
	in->source = source;
	req->n_sct_lists++;
	return 0;
}
