/* verify-chain: check a DER chain from any TLS stack with tlsguard.
 * Usage: verify-chain HOST CA.pem LEAF.der [INTERMEDIATE.der...]
 * This is the README's API example; `make` builds it. */
#include <stdio.h>
#include <stdlib.h>
#include <tlsguard/tlsguard.h>

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "verify-chain: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	tlsguard_ctx *ctx;
	tlsguard_result *res = NULL;
	unsigned char *der[16];
	size_t len[16], i, n = (size_t)argc - 3;
	int rc, ok;

	if (argc < 4 || argc > 19) {
		fprintf(stderr, "usage: verify-chain HOST CA.pem LEAF.der [INTERMEDIATE.der...]\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		der[i] = slurp(argv[3 + i], &len[i]);

	/* --- the API in 15 lines --- */
	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 || tlsguard_ctx_add_ca(ctx, argv[2]) != 0) {
		fprintf(stderr, "verify-chain: %s\n", ctx ? tlsguard_ctx_last_error(ctx) : "out of memory");
		return 2;
	}
	rc = tlsguard_verify_der_chain(ctx, argv[1], 443, (const unsigned char *const *)der, len, n, &res);
	ok = rc == 0 && tlsguard_result_verdict(res) == TLSGUARD_ACCEPT;
	for (i = 0; i < tlsguard_result_event_count(res); i++) {
		const tlsguard_event *ev = tlsguard_result_event(res, i);
		printf("%s [%s]: %s\n", tlsguard_event_name(ev), tlsguard_severity_name(tlsguard_event_severity(ev)),
		       tlsguard_event_message(ev));
	}
	printf("%s\n", ok ? "accepted" : "REJECTED");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	/* --- end --- */

	for (i = 0; i < n; i++)
		free(der[i]);
	return ok ? 0 : 1;
}
