/*
 * CT log lists (lib/loglist.c): every list in ../shared/testdata/ct/loglists
 * (Chrome, Apple, crt.sh, Mozilla, certificate-transparency-go's fixture,
 * Google's mimics), crafted valid and invalid lists with the exact error
 * each gives, and the detached signature of Chrome's all_logs_list.
 *
 * The crafted cases always run. The real lists need $TG_SHARED (default
 * ../shared): when it is absent the program runs the crafted cases and then
 * exits 77 (skip), except under CI=true where that is a failure.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "testutil.h"
#include "tg.h"
#include "tg_ct.h"

static char listdir[4096];

/* ------------------------------------------------------------------ helpers */

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[4400];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void b64_id(const char *b64, unsigned char out[TG_CT_LOG_ID_LEN])
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)b64, (unsigned)strlen(b64)}, d = {NULL, 0};

	ck_assert_int_eq(gnutls_base64_decode2(&in, &d), 0);
	ck_assert_uint_eq(d.size, TG_CT_LOG_ID_LEN);
	memcpy(out, d.data, TG_CT_LOG_ID_LEN);
	gnutls_free(d.data);
}

static const struct tg_ct_log *find_b64(const struct tg_loglist *ll, const char *b64)
{
	unsigned char id[TG_CT_LOG_ID_LEN];
	b64_id(b64, id);
	return tg_loglist_find(ll, id);
}

/* What must hold for every list that parsed. */
static void check_invariants(const struct tg_loglist *ll)
{
	size_t i, j;

	for (i = 0; i < ll->n; i++) {
		const struct tg_ct_log *l = &ll->logs[i];
		unsigned char digest[32];
		ck_assert_ptr_nonnull(l->pubkey);
		ck_assert_ptr_nonnull(l->key);
		ck_assert_ptr_nonnull(l->url);
		ck_assert_ptr_nonnull(l->description);
		ck_assert_ptr_nonnull(l->operator_name);
		ck_assert_uint_gt(strlen(l->operator_name), 0);
		ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, l->key, l->key_len, digest), 0);
		ck_assert_mem_eq(digest, l->log_id, TG_CT_LOG_ID_LEN);
		if (i > 0)
			ck_assert_int_lt(memcmp(ll->logs[i - 1].log_id, l->log_id, TG_CT_LOG_ID_LEN), 0);
		ck_assert_ptr_eq(tg_loglist_find(ll, l->log_id), l);
		ck_assert_int_ge(l->state, TG_LOG_NONE);
		ck_assert_int_le(l->state, TG_LOG_REJECTED);
		if (l->state == TG_LOG_NONE)
			ck_assert_int_eq(l->state_time, 0);
		else
			ck_assert_int_gt(l->state_time, 0);
		if (l->interval_end != 0)
			ck_assert_int_lt(l->interval_start, l->interval_end);
		for (j = 1; j < l->n_prev_ops; j++)
			ck_assert_int_lt(l->prev_ops[j - 1].end_time, l->prev_ops[j].end_time);
		ck_assert_str_eq(tg_ct_log_operator_at(l, INT64_MAX), l->operator_name);
	}
}

/* ------------------------------------------------------------------ the real lists */

enum { ST_NONE, ST_PENDING, ST_QUALIFIED, ST_USABLE, ST_READONLY, ST_RETIRED, ST_REJECTED, N_ST };

struct real_list {
	const char *file;
	const char *error; /* expected error (prefix), NULL: loads */
	size_t logs, tiled;
	const char *version;
	int64_t timestamp; /* ms, 0: the list has none */
	size_t states[N_ST]; /* none, pending, qualified, usable, readonly, retired, rejected */
};

/*
 * Expected counts, determined once from the files with python3 (json.load,
 * then for every operator len(op.get("logs", [])) and
 * len(op.get("tiled_logs", [])), and per log the one key of "state", or
 * "none" when it has no state), cross-checked with jq, e.g.
 *   jq '[.operators[].tiled_logs // [] | length] | add' FILE
 * and with the counts in shared/testdata/ct/README.md section 4.
 * Timestamps: python3 datetime.fromisoformat(...).timestamp() * 1000.
 */
static const struct real_list real_lists[] = {
	/* 2026-08-20T13:34:57Z */
	{"chrome-all_logs_list.v89.25.json", NULL, 117, 75, "89.25", INT64_C(1787232897000), {39, 16, 6, 37, 2, 3, 14}},
	/* 2026-01-20T12:54:10Z */
	{"chrome-log_list.v81.14.json", NULL, 75, 26, "81.14", INT64_C(1768913650000), {0, 0, 1, 61, 9, 4, 0}},
	/* Apple: no log_list_timestamp; states carry "version", logs "tls_only" */
	{"apple-current_log_list.v511.json", NULL, 166, 31, "511", 0, {0, 1, 0, 51, 6, 0, 108}},
	/* crt.sh: no version, no timestamp, no state, no operator email */
	{"crtsh-all_logs_list.json", NULL, 309, 112, NULL, 0, {309, 0, 0, 0, 0, 0, 0}},
	{"mimics/log_mimics_list.json", NULL, 2, 0, NULL, 0, {0, 0, 0, 2, 0, 0, 0}},
	/* certificate-transparency-go's parser fixture: its "Racketeer" log's key
	 * is 64 random bytes, not a SubjectPublicKeyInfo (on purpose). */
	{"ctgo-test-loglist3.json",
	 "ctgo-test-loglist3.json: operators[0].logs[2].key: not a DER SubjectPublicKeyInfo (GnuTLS: ",
	 0, 0, NULL, 0, {0}},
	/* Mozilla's list (as crt.sh renders Firefox's known logs) gives 45 of its
	 * 48 logs a state history {"qualified": ..., "usable": ...}; the current
	 * state is the latest one (counted with python3: max by timestamp).
	 * 2026-08-11T20:05:47Z */
	{"mozilla-known_logs_list.json", NULL, 48, 22, NULL, INT64_C(1786478747000), {0, 0, 0, 45, 0, 3, 0}},
};
#define N_REAL (sizeof(real_lists) / sizeof(real_lists[0]))

START_TEST(real_list_loads)
{
	const struct real_list *r = &real_lists[_i];
	struct tg_loglist *ll = (struct tg_loglist *)1;
	char err[512];
	size_t len, i, tiled = 0, states[N_ST] = {0};
	char *json = read_file(listdir, r->file, &len);
	const char *base = strrchr(r->file, '/') ? strrchr(r->file, '/') + 1 : r->file;
	int rc = tg_loglist_parse(json, len, base, &ll, err, sizeof(err));

	free(json);
	if (r->error != NULL) {
		ck_assert_int_eq(rc, TLSGUARD_E_INVALID);
		ck_assert_ptr_null(ll);
		ck_assert_msg(strncmp(err, r->error, strlen(r->error)) == 0, "%s: got \"%s\"", r->file, err);
		return;
	}
	ck_assert_msg(rc == 0, "%s: rc %d: %s", r->file, rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(ll->n, r->logs);
	for (i = 0; i < ll->n; i++) {
		tiled += ll->logs[i].tiled;
		states[ll->logs[i].state]++;
	}
	ck_assert_uint_eq(tiled, r->tiled);
	for (i = 0; i < N_ST; i++)
		ck_assert_msg(states[i] == r->states[i], "%s: %zu logs in state %zu, expected %zu", r->file, states[i], i,
		              r->states[i]);
	if (r->version == NULL)
		ck_assert_ptr_null(ll->version);
	else
		ck_assert_str_eq(ll->version, r->version);
	ck_assert_int_eq(ll->timestamp, r->timestamp);
	check_invariants(ll);
	tg_loglist_free(ll);
}
END_TEST

/* Every *.json of the directory is in real_lists[]: a new list is not
 * silently left untested. */
START_TEST(real_lists_complete)
{
	DIR *d = opendir(listdir);
	struct dirent *de;
	size_t i, seen = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		for (i = 0; i < N_REAL && strcmp(real_lists[i].file, de->d_name) != 0; i++)
			;
		ck_assert_msg(i < N_REAL, "%s/%s is not in real_lists[]", listdir, de->d_name);
		seen++;
	}
	closedir(d);
	ck_assert_uint_eq(seen, N_REAL - 1); /* + mimics/ */
}
END_TEST

static struct tg_loglist *load_real(const char *file)
{
	struct tg_loglist *ll = NULL;
	char err[512];
	size_t len;
	char *json = read_file(listdir, file, &len);
	int rc = tg_loglist_parse(json, len, file, &ll, err, sizeof(err));

	free(json);
	ck_assert_msg(rc == 0, "%s: %s", file, err);
	return ll;
}

/* Known logs, as the files say (jq '.operators[] | .logs[]?, .tiled_logs[]? |
 * select(.log_id == ID)'); times converted with python3. */
#define ARGON2020 "sh4FzIuizYogTodm+Su5iiUgZ2va+nDnsklTLe+LkF4="
#define XENON2025H2 "3dzKNJXX4RYF55Uy+sef+D0cUN/bADoUEnYKLKy7yCo="
#define NIMBUS2025 "zPsPaoVxCWX+lZtTzumyfCLphVwNl422qX5UwP5MDbA="
#define TUSCOLO2026H1 "cX6V88I4im2x44RJPTHhWqliCHYtQgDgBQzQZ7WmYeI="
#define VENAFI "rDua7X+pZ0dXFZ5tfVdWcvnZgQCUHpve/+yhMTt1eC0="
#define T_2020_01_01 INT64_C(1577836800000)
#define T_2021_01_01 INT64_C(1609459200000)
#define T_2025_01_01 INT64_C(1735689600000)
#define T_2025_07_01 INT64_C(1751328000000)
#define T_2026_01_01 INT64_C(1767225600000)
#define T_2026_07_01 INT64_C(1782864000000)

START_TEST(known_logs_chrome)
{
	struct tg_loglist *v81 = load_real("chrome-log_list.v81.14.json");
	struct tg_loglist *v89 = load_real("chrome-all_logs_list.v89.25.json");
	const struct tg_ct_log *l;

	/* Xenon2025h2: usable since 2023-11-26T12:00:00Z, certs expiring in 2025h2 */
	l = find_b64(v81, XENON2025H2);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l->description, "Google 'Xenon2025h2' log");
	ck_assert_str_eq(l->operator_name, "Google");
	ck_assert_str_eq(l->url, "https://ct.googleapis.com/logs/eu1/xenon2025h2/");
	ck_assert(!l->tiled);
	ck_assert_int_eq(l->state, TG_LOG_USABLE);
	ck_assert_int_eq(l->state_time, INT64_C(1701000000000));
	ck_assert_int_eq(l->interval_start, T_2025_07_01);
	ck_assert_int_eq(l->interval_end, T_2026_01_01);
	ck_assert_uint_eq(l->mmd, 86400);
	ck_assert_uint_eq(l->n_prev_ops, 0);
	ck_assert_str_eq(tg_ct_log_operator_at(l, T_2025_07_01), "Google");
	ck_assert_int_eq(gnutls_pubkey_get_pk_algorithm(l->pubkey, NULL), GNUTLS_PK_ECDSA);

	/* Nimbus2025: usable since 2023-12-19T07:00:00Z */
	l = find_b64(v81, NIMBUS2025);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l->operator_name, "Cloudflare");
	ck_assert_int_eq(l->state, TG_LOG_USABLE);
	ck_assert_int_eq(l->state_time, INT64_C(1702969200000));
	ck_assert_int_eq(l->interval_start, T_2025_01_01);
	ck_assert_int_eq(l->interval_end, T_2026_01_01);

	/* Tuscolo2026h1, a tiled log: usable in v81 (2025-08-31T07:00:00Z),
	 * rejected in v89 (2026-07-09T13:40:00Z) */
	l = find_b64(v81, TUSCOLO2026H1);
	ck_assert_ptr_nonnull(l);
	ck_assert(l->tiled);
	ck_assert_str_eq(l->url, "https://tuscolo2026h1.sunlight.geomys.org/"); /* submission_url */
	ck_assert_str_eq(l->operator_name, "Geomys");
	ck_assert_int_eq(l->state, TG_LOG_USABLE);
	ck_assert_int_eq(l->state_time, INT64_C(1756623600000));
	ck_assert_uint_eq(l->mmd, 60);
	ck_assert_int_eq(l->interval_start, T_2026_01_01);
	ck_assert_int_eq(l->interval_end, T_2026_07_01);
	l = find_b64(v89, TUSCOLO2026H1);
	ck_assert_ptr_nonnull(l);
	ck_assert(l->tiled);
	ck_assert_int_eq(l->state, TG_LOG_REJECTED);
	ck_assert_int_eq(l->state_time, INT64_C(1783604400000));

	/* Argon2020 is gone from Chrome's lists */
	ck_assert_ptr_null(find_b64(v81, ARGON2020));
	ck_assert_ptr_null(find_b64(v89, ARGON2020));
	tg_loglist_free(v81);
	tg_loglist_free(v89);
}
END_TEST

START_TEST(known_logs_apple_crtsh)
{
	struct tg_loglist *apple = load_real("apple-current_log_list.v511.json");
	struct tg_loglist *crtsh = load_real("crtsh-all_logs_list.json");
	const struct tg_ct_log *l;
	unsigned bits = 0;

	/* Argon2020: rejected 2022-04-29T19:11:11Z at Apple; no state at crt.sh */
	l = find_b64(apple, ARGON2020);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l->description, "Google 'Argon 2020' log");
	ck_assert_int_eq(l->state, TG_LOG_REJECTED);
	ck_assert_int_eq(l->state_time, INT64_C(1651259471000));
	ck_assert_int_eq(l->interval_start, T_2020_01_01);
	ck_assert_int_eq(l->interval_end, T_2021_01_01);
	l = find_b64(crtsh, ARGON2020);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l->description, "Argon 2020");
	ck_assert_int_eq(l->state, TG_LOG_NONE);
	ck_assert_int_eq(l->state_time, 0);
	ck_assert_str_eq(l->url, "https://ct.googleapis.com/logs/argon2020");

	/* Tuscolo2026h1 at Apple: usable since 2025-11-17T21:04:09Z */
	l = find_b64(apple, TUSCOLO2026H1);
	ck_assert_ptr_nonnull(l);
	ck_assert(l->tiled);
	ck_assert_int_eq(l->state, TG_LOG_USABLE);
	ck_assert_int_eq(l->state_time, INT64_C(1763413449000));

	/* Xenon2025h2 and Nimbus2025: rejected 2026-01-29T03:22:36Z at Apple */
	ck_assert_int_eq(find_b64(apple, XENON2025H2)->state, TG_LOG_REJECTED);
	ck_assert_int_eq(find_b64(apple, NIMBUS2025)->state, TG_LOG_REJECTED);
	ck_assert_int_eq(find_b64(crtsh, NIMBUS2025)->state, TG_LOG_NONE);

	/* Venafi's log has an RSA-2048 key (rejected 2022-05-02T17:43:03Z) */
	l = find_b64(apple, VENAFI);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(gnutls_pubkey_get_pk_algorithm(l->pubkey, &bits), GNUTLS_PK_RSA);
	ck_assert_uint_eq(bits, 2048);
	ck_assert_int_eq(l->state, TG_LOG_REJECTED);
	ck_assert_int_eq(l->state_time, INT64_C(1651513383000));
	ck_assert_ptr_nonnull(find_b64(crtsh, VENAFI));
	tg_loglist_free(apple);
	tg_loglist_free(crtsh);
}
END_TEST

START_TEST(signature)
{
	size_t jlen, slen, plen;
	char *json = read_file(listdir, "chrome-all_logs_list.v89.25.json", &jlen);
	char *sig = read_file(listdir, "chrome-all_logs_list.v89.25.sig", &slen);
	char *pem = read_file(listdir, "chrome-log_list_pubkey.pem", &plen);
	char err[512];

	ck_assert_uint_eq(slen, 512); /* RSA-4096 */
	ck_assert_int_eq(tg_loglist_verify_signature(json, jlen, (const unsigned char *)sig, slen, pem, plen, err,
	                                             sizeof(err)),
	                 0);
	ck_assert_str_eq(err, "");
	/* one byte of the list changed */
	json[100] ^= 1;
	ck_assert_int_eq(tg_loglist_verify_signature(json, jlen, (const unsigned char *)sig, slen, pem, plen, err,
	                                             sizeof(err)),
	                 TLSGUARD_E_VERIFY);
	ck_assert_msg(strncmp(err, "log list signature: RSA PKCS#1 v1.5 SHA-256 signature does not verify", 69) == 0,
	              "%s", err);
	json[100] ^= 1;
	/* a byte more or less */
	ck_assert_int_eq(tg_loglist_verify_signature(json, jlen - 1, (const unsigned char *)sig, slen, pem, plen, err,
	                                             sizeof(err)),
	                 TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tg_loglist_verify_signature(json, jlen, (const unsigned char *)sig, slen - 1, pem, plen, err,
	                                             sizeof(err)),
	                 TLSGUARD_E_VERIFY);
	/* not a key; an EC key */
	ck_assert_int_eq(tg_loglist_verify_signature(json, jlen, (const unsigned char *)sig, slen, "not a key", 9, err,
	                                             sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_msg(strncmp(err, "log list signature: public key: not a PEM \"PUBLIC KEY\"", 54) == 0, "%s", err);
	{
		static const char ec_pem[] = "-----BEGIN PUBLIC KEY-----\n"
		                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdO/+dnH/NZSBSLmmN9u2h4HNTnCO\n"
		                             "LeU+oMBiRynIvQ8zt2ft0IMyO90e5nwSaCdYvA4JVGzCMarfs9DcNxFY1g==\n"
		                             "-----END PUBLIC KEY-----\n";
		ck_assert_int_eq(tg_loglist_verify_signature(json, jlen, (const unsigned char *)sig, slen, ec_pem,
		                                             sizeof(ec_pem) - 1, err, sizeof(err)),
		                 TLSGUARD_E_INVALID);
		ck_assert_str_eq(err, "log list signature: public key: not an RSA key of at least 2048 bits (log lists are "
		                      "signed with RSA)");
	}
	ck_assert_int_eq(tg_loglist_verify_signature(NULL, 0, (const unsigned char *)sig, slen, pem, plen, err,
	                                             sizeof(err)),
	                 TLSGUARD_E_INVALID);
	free(json);
	free(sig);
	free(pem);
}
END_TEST

/* ------------------------------------------------------------------ crafted lists */

/* Google's two "mimic" logs (P-256; shared/testdata/ct/loglists/mimics). */
#define K1 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdO/+dnH/NZSBSLmmN9u2h4HNTnCOLeU+oMBiRynIvQ8zt2ft0IMyO90e5nwSaCdYvA4JVGzCMarfs9DcNxFY1g=="
#define ID1 "9EGV1vAOLbVUNcrdV3iS5T4VrUFwWPh44U/2uRh0FYk="
#define K2 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEB/VtcL7BSbGP4QY7UjaaXOd4gQ80R1PxLZtfYifk+ZER+mCVJVVjl66uVWUzu5lMbWMb1MWKxjkvtd2MyQSKsA=="
#define ID2 "si9+3rWvav5QPeBAgbLXTBJThJL+3yyypSZQPO9TztI="
/* Keys a CT log may not use (openssl genpkey ... | openssl pkey -pubout
 * -outform DER | base64); the hashes are their SHA-256. */
#define K_ED25519 "MCowBQYDK2VwAyEAgVRoID4mCdqGtrwhsBqEevZjsyLZXeRMZbh14KMAnHI="
#define ID_ED25519 "484IGVUTYCT26ogEJw9NeL6WSAFRjMBGc686h7CP1+0="
#define K_P384                                                                                                         \
	"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEABFL3Fk2apna+h81+jesIwTv0QdzKAJSpliLBy4seDoj33oS2PdWAb6Q9I6shVMzedMZ4Z0UKTNDHd1E" \
	"C+dAtjK2VD0TaUvm0C70xcwMMP31QM7OhvRei5AFJ2Eiivqa"
#define ID_P384 "smHPIU6fPss6hDyc34k+ZjvWeH5THESxK4yGyLIE/rI="
#define K_RSA1024                                                                                                      \
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDUp1PPQJvKs/6hg17ii1zrHkq6anvtp5RI3VwA2MY6lO7hDZrx7H4jdLymIF9usW+fORFzge9Y" \
	"uP6k2xmM8DbKQn2Nz/IJVObVjdYcgAFp4nA38DClCuZmCYk2JhexJmBCeB9aeNKRNXsjHL3cmf/UZxlRLcMhO0AAJO6bkpA5pQIDAQAB"
#define ID_RSA1024 "cnwudYL2SAdTvTL49RElucdvCQ3f5VjqAKBNgeRZrNo="
/* K1 with a 0x00 appended, and K1 with its outer length in long form
 * (30 81 59: BER, not DER); the ids are SHA-256 of these bytes. */
#define K1_TRAILING "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdO/+dnH/NZSBSLmmN9u2h4HNTnCOLeU+oMBiRynIvQ8zt2ft0IMyO90e5nwSaCdYvA4JVGzCMarfs9DcNxFY1gA="
#define ID1_TRAILING "yEKp886aydahb+9NXyqNyakQF2PD3dNPsYyi8cEgYvc="
#define K1_LONGLEN "MIFZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHTv/nZx/zWUgUi5pjfbtoeBzU5wji3lPqDAYkcpyL0PM7dn7dCDMjvdHuZ8EmgnWLwOCVRswjGq37PQ3DcRWNY="
#define ID1_LONGLEN "Ok5Ia0RwB8LeRTnR0muKyoODYsZyDlzwupI6v3vHbXY="

/* A log with the given fields after description and url. */
#define LOG(fields) "{\"description\":\"d\",\"url\":\"https://l.example/\"," fields "}"
#define KEYID(k, id) "\"key\":\"" k "\",\"log_id\":\"" id "\""
#define GOOD1 KEYID(K1, ID1) ",\"mmd\":86400"
#define GOOD2 KEYID(K2, ID2) ",\"mmd\":86400"
#define LIST(logs) "{\"operators\":[{\"name\":\"Op\",\"email\":[\"a@example.com\"],\"logs\":[" logs "]}]}"
#define LIST1(fields) LIST(LOG(fields))
#define WITH_STATE(st) LIST1(GOOD1 ",\"state\":" st)
#define AT(ts) WITH_STATE("{\"usable\":{\"timestamp\":\"" ts "\"}}")
#define STATE_PATH "t.json: operators[0].logs[0].state"
#define TS_PATH "t.json: operators[0].logs[0].state.usable.timestamp"
#define RFC3339_MSG "not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction] with Z or +HH:MM)"

struct bad_case {
	const char *what;
	const char *json;
	const char *error; /* exact, or a prefix when it ends in '*' */
};

static const struct bad_case bad_cases[] = {
	/* JSON syntax */
	{"empty input", "", "t.json: byte 0: not JSON: unexpected end of input"},
	{"not JSON", "hello", "t.json: byte 0: not JSON: unexpected character"},
	{"truncated", "{\"operators\":[", "t.json: byte 14: not JSON: unexpected end of input"},
	{"trailing garbage", "{\"operators\":[]} x", "t.json: byte 17: trailing data after the top-level value"},
	{"two objects", "{\"operators\":[]}{}", "t.json: byte 16: trailing data after the top-level value"},
	{"trailing comma", "{\"operators\":[],}", "t.json: byte 16: not JSON: unexpected character"},
	{"single-quoted value", "{\"operators\":'x'}", "t.json: byte 13: not JSON: unexpected character"},
	{"comment", "{/* c */\"operators\":[]}", "t.json: byte 1: not JSON: quoted object property name expected"},
	{"invalid UTF-8", "{\"operators\":[],\"x\":\"\xff\"}", "t.json: byte 21: not JSON: invalid utf-8 string"},
	{"deeply nested",
	 "{\"operators\":[],\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	 "t.json: byte 35: not JSON: nested deeper than 16 levels"},
	/* what json-c lets pass but other parsers read differently */
	{"duplicate member at the top", "{\"operators\":[],\"operators\":[{\"name\":\"A\"}]}",
	 "t.json: top level: a member name appears twice"},
	{"duplicate member, once escaped", "{\"operators\":[],\"oper\\u0061tors\":[]}",
	 "t.json: top level: a member name appears twice"},
	{"duplicate key in a log", LIST1(GOOD1 ",\"key\":\"" K2 "\""),
	 "t.json: operators[0].logs[0]: a member name appears twice"},
	{"duplicate state", WITH_STATE("{\"usable\":{\"timestamp\":\"2024-01-01T00:00:00Z\"},"
	                               "\"usable\":{\"timestamp\":\"2025-01-01T00:00:00Z\"}}"),
	 STATE_PATH ": a member name appears twice"},
	{"NUL in a member name", "{\"operators\":[],\"x\\u0000\":1}", "t.json: byte 18: \\u0000 (NUL) in a member name"},
	{"NUL cutting a state name", WITH_STATE("{\"usable\\u0000x\":{\"timestamp\":\"2024-01-01T00:00:00Z\"}}"),
	 "t.json: byte 324: \\u0000 (NUL) in a member name"},
	/* top level */
	{"top-level array", "[]", "t.json: top level: expected an object, got an array"},
	{"top-level number", "42", "t.json: top level: expected an object, got an integer"},
	{"top-level string", "\"x\"", "t.json: top level: expected an object, got a string"},
	{"missing operators", "{}", "t.json: operators: missing"},
	{"operators not an array", "{\"operators\":{}}", "t.json: operators: expected an array, got an object"},
	{"operators null", "{\"operators\":null}", "t.json: operators: expected an array, got null"},
	{"version not a string", "{\"version\":89,\"operators\":[]}", "t.json: version: expected a string, got an integer"},
	{"list timestamp not a string", "{\"log_list_timestamp\":1,\"operators\":[]}",
	 "t.json: log_list_timestamp: expected a string, got an integer"},
	{"list timestamp bad", "{\"log_list_timestamp\":\"yesterday\",\"operators\":[]}",
	 "t.json: log_list_timestamp: \"yesterday\": " RFC3339_MSG},
	/* operators */
	{"operator not an object", "{\"operators\":[[]]}", "t.json: operators[0]: expected an object, got an array"},
	{"operator without name", "{\"operators\":[{\"logs\":[]}]}", "t.json: operators[0].name: missing"},
	{"operator name empty", "{\"operators\":[{\"name\":\"\"}]}", "t.json: operators[0].name: empty"},
	{"operator name with NUL", "{\"operators\":[{\"name\":\"a\\u0000b\"}]}",
	 "t.json: operators[0].name: contains a NUL character"},
	{"email not an array", "{\"operators\":[{\"name\":\"A\",\"email\":\"a@b\"}]}",
	 "t.json: operators[0].email: expected an array, got a string"},
	{"email element not a string", "{\"operators\":[{\"name\":\"A\",\"email\":[1]}]}",
	 "t.json: operators[0].email[0]: expected a string, got an integer"},
	{"logs not an array", "{\"operators\":[{\"name\":\"A\",\"logs\":{}}]}",
	 "t.json: operators[0].logs: expected an array, got an object"},
	{"tiled_logs not an array", "{\"operators\":[{\"name\":\"A\",\"tiled_logs\":1}]}",
	 "t.json: operators[0].tiled_logs: expected an array, got an integer"},
	{"log not an object", LIST("1"), "t.json: operators[0].logs[0]: expected an object, got an integer"},
	/* log fields */
	{"log without key", LIST1("\"log_id\":\"" ID1 "\",\"mmd\":86400"), "t.json: operators[0].logs[0].key: missing"},
	{"key not a string", LIST1("\"key\":[],\"log_id\":\"" ID1 "\",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: expected a string, got an array"},
	{"key empty", LIST1(KEYID("", ID1) ",\"mmd\":86400"), "t.json: operators[0].logs[0].key: empty"},
	{"key not base64", LIST1(KEYID("MFkw!!!!", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not base64 (character outside the base64 alphabet)"},
	{"key base64 unpadded", LIST1(KEYID("MFkwEw", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not base64 (length is not a multiple of 4)"},
	{"key base64 misplaced padding", LIST1(KEYID("MF==EwYH", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not base64 (misplaced '=')"},
	{"key base64 with white space", LIST1(KEYID("MFkw EwYH", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not base64 (length is not a multiple of 4)"},
	{"key base64 non-zero padding bits", LIST1(KEYID("MFl=", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not base64 (non-zero padding bits)"},
	{"key base64 of garbage", LIST1(KEYID("aGVsbG8gd29ybGQh", ID1) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not a DER SubjectPublicKeyInfo (GnuTLS: *"},
	{"key with trailing byte", LIST1(KEYID(K1_TRAILING, ID1_TRAILING) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not a DER SubjectPublicKeyInfo (GnuTLS: *"},
	/* GnuTLS imports this one: only the re-encoding check catches it */
	{"key in BER", LIST1(KEYID(K1_LONGLEN, ID1_LONGLEN) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: not a canonical DER SubjectPublicKeyInfo (trailing or non-DER bytes)"},
	{"Ed25519 key", LIST1(KEYID(K_ED25519, ID_ED25519) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: unsupported key algorithm EdDSA (Ed25519) (CT logs use ECDSA P-256 or RSA)"},
	{"P-384 key", LIST1(KEYID(K_P384, ID_P384) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: ECDSA key not on P-256 (SECP384R1)"},
	{"RSA-1024 key", LIST1(KEYID(K_RSA1024, ID_RSA1024) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].key: RSA key of 1024 bits (at least 2048 required)"},
	{"log without log_id", LIST1("\"key\":\"" K1 "\",\"mmd\":86400"), "t.json: operators[0].logs[0].log_id: missing"},
	{"log_id mismatch", LIST1(KEYID(K1, ID2) ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].log_id: does not match SHA-256 of the key"},
	{"log_id 31 bytes", LIST1(KEYID(K1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==") ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].log_id: not 32 bytes (31)"},
	{"log_id 33 bytes", LIST1(KEYID(K1, ID1 "AAAA") ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].log_id: not 32 bytes of base64 (48 characters, expected 44)"},
	{"log_id not base64", LIST1(KEYID(K1, "9EGV1vAOLbVUNcrdV3iS5T4VrUFwWPh44U/2uRh0FY.=") ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].log_id: not base64 (character outside the base64 alphabet)"},
	{"log_id in base64url", LIST1(KEYID(K1, "9EGV1vAOLbVUNcrdV3iS5T4VrUFwWPh44U_2uRh0FYk=") ",\"mmd\":86400"),
	 "t.json: operators[0].logs[0].log_id: not base64 (character outside the base64 alphabet)"},
	{"duplicate log_id", LIST(LOG(GOOD1) "," LOG(GOOD2) "," LOG(GOOD1)),
	 "t.json: operators[0].logs[2].log_id: duplicate of operators[0].logs[0].log_id"},
	{"duplicate log_id across operators",
	 "{\"operators\":[{\"name\":\"A\",\"logs\":[" LOG(GOOD1) "]},{\"name\":\"B\",\"tiled_logs\":[{\"submission_url\":"
	 "\"https://t/\"," GOOD1 "}]}]}",
	 "t.json: operators[1].tiled_logs[0].log_id: duplicate of operators[0].logs[0].log_id"},
	{"url missing", LIST("{" GOOD1 "}"), "t.json: operators[0].logs[0].url: missing"},
	{"url not a string", LIST("{\"url\":1," GOOD1 "}"), "t.json: operators[0].logs[0].url: expected a string, got an integer"},
	{"tiled without submission_url",
	 "{\"operators\":[{\"name\":\"A\",\"tiled_logs\":[{\"url\":\"https://t/\"," GOOD1 "}]}]}",
	 "t.json: operators[0].tiled_logs[0].submission_url: missing"},
	{"monitoring_url not a string",
	 "{\"operators\":[{\"name\":\"A\",\"tiled_logs\":[{\"submission_url\":\"s\",\"monitoring_url\":false," GOOD1 "}]}]}",
	 "t.json: operators[0].tiled_logs[0].monitoring_url: expected a string, got a boolean"},
	{"description not a string", LIST("{\"description\":{},\"url\":\"u\"," GOOD1 "}"),
	 "t.json: operators[0].logs[0].description: expected a string, got an object"},
	{"log_type not a string", LIST1(GOOD1 ",\"log_type\":1"),
	 "t.json: operators[0].logs[0].log_type: expected a string, got an integer"},
	/* mmd */
	{"mmd missing", LIST1(KEYID(K1, ID1)), "t.json: operators[0].logs[0].mmd: missing"},
	{"mmd negative", LIST1(KEYID(K1, ID1) ",\"mmd\":-1"),
	 "t.json: operators[0].logs[0].mmd: out of range (0 to 4294967295 seconds)"},
	{"mmd string", LIST1(KEYID(K1, ID1) ",\"mmd\":\"86400\""),
	 "t.json: operators[0].logs[0].mmd: expected an integer, got a string"},
	{"mmd fraction", LIST1(KEYID(K1, ID1) ",\"mmd\":86400.5"),
	 "t.json: operators[0].logs[0].mmd: expected an integer, got a non-integer number"},
	{"mmd exponent", LIST1(KEYID(K1, ID1) ",\"mmd\":1e3"),
	 "t.json: operators[0].logs[0].mmd: expected an integer, got a non-integer number"},
	{"mmd huge exponent", LIST1(KEYID(K1, ID1) ",\"mmd\":1e999"),
	 "t.json: operators[0].logs[0].mmd: expected an integer, got a non-integer number"},
	{"mmd NaN", LIST1(KEYID(K1, ID1) ",\"mmd\":NaN"),
	 "t.json: operators[0].logs[0].mmd: expected an integer, got a non-integer number"},
	{"mmd 2^32", LIST1(KEYID(K1, ID1) ",\"mmd\":4294967296"),
	 "t.json: operators[0].logs[0].mmd: out of range (0 to 4294967295 seconds)"},
	{"mmd beyond 64 bits", LIST1(KEYID(K1, ID1) ",\"mmd\":99999999999999999999999"),
	 "t.json: operators[0].logs[0].mmd: out of range (0 to 4294967295 seconds)"},
	{"mmd below -2^63", LIST1(KEYID(K1, ID1) ",\"mmd\":-99999999999999999999999"),
	 "t.json: operators[0].logs[0].mmd: out of range (0 to 4294967295 seconds)"},
	{"mmd null", LIST1(KEYID(K1, ID1) ",\"mmd\":null"), "t.json: operators[0].logs[0].mmd: expected an integer, got null"},
	/* states */
	{"two states at the same time", WITH_STATE("{\"usable\":{\"timestamp\":\"2024-01-01T00:00:00Z\"},"
	                                          "\"retired\":{\"timestamp\":\"2024-01-01T00:00:00Z\"}}"),
	 STATE_PATH ": states \"usable\" and \"retired\" have the same timestamp"},
	{"unknown state", WITH_STATE("{\"frozen\":{\"timestamp\":\"2024-01-01T00:00:00Z\"}}"),
	 STATE_PATH ": unknown state \"frozen\" (expected pending, qualified, usable, readonly, retired or rejected)"},
	{"state name in capitals", WITH_STATE("{\"Usable\":{\"timestamp\":\"2024-01-01T00:00:00Z\"}}"),
	 STATE_PATH ": unknown state \"Usable\" (expected pending, qualified, usable, readonly, retired or rejected)"},
	{"empty state", WITH_STATE("{}"),
	 STATE_PATH ": empty (expected one of pending, qualified, usable, readonly, retired or rejected)"},
	{"state not an object", WITH_STATE("\"usable\""), STATE_PATH ": expected an object, got a string"},
	{"state value not an object", WITH_STATE("{\"usable\":\"2024-01-01T00:00:00Z\"}"),
	 STATE_PATH ".usable: expected an object, got a string"},
	{"state without timestamp", WITH_STATE("{\"retired\":{}}"), STATE_PATH ".retired.timestamp: missing"},
	{"state timestamp a number", WITH_STATE("{\"retired\":{\"timestamp\":1700000000}}"),
	 STATE_PATH ".retired.timestamp: expected a string, got an integer"},
	/* times */
	{"time without zone", AT("2020-01-01T00:00:00"), TS_PATH ": \"2020-01-01T00:00:00\": " RFC3339_MSG},
	{"date only", AT("2020-01-01"), TS_PATH ": \"2020-01-01\": " RFC3339_MSG},
	{"space for T", AT("2020-01-01 00:00:00Z"), TS_PATH ": \"2020-01-01 00:00:00Z\": " RFC3339_MSG},
	{"lower-case t", AT("2020-01-01t00:00:00Z"), TS_PATH ": \"2020-01-01t00:00:00Z\": " RFC3339_MSG},
	{"February 30", AT("2021-02-30T00:00:00Z"), TS_PATH ": \"2021-02-30T00:00:00Z\": no such day in that month"},
	{"February 29 of 2100", AT("2100-02-29T00:00:00Z"), TS_PATH ": \"2100-02-29T00:00:00Z\": no such day in that month"},
	{"April 31", AT("2021-04-31T00:00:00Z"), TS_PATH ": \"2021-04-31T00:00:00Z\": no such day in that month"},
	{"month 13", AT("2021-13-01T00:00:00Z"), TS_PATH ": \"2021-13-01T00:00:00Z\": month out of range"},
	{"day 0", AT("2021-01-00T00:00:00Z"), TS_PATH ": \"2021-01-00T00:00:00Z\": no such day in that month"},
	{"25 o'clock", AT("2021-01-01T25:00:00Z"), TS_PATH ": \"2021-01-01T25:00:00Z\": hour out of range"},
	{"minute 60", AT("2021-01-01T23:60:00Z"), TS_PATH ": \"2021-01-01T23:60:00Z\": minute out of range"},
	{"leap second", AT("2016-12-31T23:59:60Z"), TS_PATH ": \"2016-12-31T23:59:60Z\": second out of range"},
	{"offset hour 24", AT("2021-01-01T00:00:00+24:00"),
	 TS_PATH ": \"2021-01-01T00:00:00+24:00\": time zone offset out of range"},
	{"offset without colon", AT("2021-01-01T00:00:00+0100"), TS_PATH ": \"2021-01-01T00:00:00+0100\": " RFC3339_MSG},
	{"empty fraction", AT("2021-01-01T00:00:00.Z"), TS_PATH ": \"2021-01-01T00:00:00.Z\": " RFC3339_MSG},
	{"ten fraction digits", AT("2021-01-01T00:00:00.1234567890Z"),
	 TS_PATH ": \"2021-01-01T00:00:00.1234567890Z\": " RFC3339_MSG},
	{"sign in year", AT("+2021-01-01T00:00:00Z"), TS_PATH ": \"+2021-01-01T00:00:00Z\": " RFC3339_MSG},
	{"trailing text", AT("2021-01-01T00:00:00Z trailing"), TS_PATH ": \"2021-01-01T00:00:00Z trailing\": " RFC3339_MSG},
	{"time with NUL", AT("2021-01-01T00:00:00Z\\u0000"), TS_PATH ": contains a NUL character"},
	{"long bad time shortened", AT("2021-01-01T00:00:00Z0123456789012345678901234567890123456789"),
	 TS_PATH ": \"2021-01-01T00:00:00Z01234567890123456789012...\": " RFC3339_MSG},
	/* temporal_interval */
	{"interval not an object", LIST1(GOOD1 ",\"temporal_interval\":[]"),
	 "t.json: operators[0].logs[0].temporal_interval: expected an object, got an array"},
	{"interval without end",
	 LIST1(GOOD1 ",\"temporal_interval\":{\"start_inclusive\":\"2025-01-01T00:00:00Z\"}"),
	 "t.json: operators[0].logs[0].temporal_interval.end_exclusive: missing"},
	{"interval reversed",
	 LIST1(GOOD1 ",\"temporal_interval\":{\"start_inclusive\":\"2026-01-01T00:00:00Z\","
	             "\"end_exclusive\":\"2025-01-01T00:00:00Z\"}"),
	 "t.json: operators[0].logs[0].temporal_interval: start_inclusive is not before end_exclusive"},
	{"interval empty",
	 LIST1(GOOD1 ",\"temporal_interval\":{\"start_inclusive\":\"2026-01-01T00:00:00Z\","
	             "\"end_exclusive\":\"2026-01-01T00:00:00Z\"}"),
	 "t.json: operators[0].logs[0].temporal_interval: start_inclusive is not before end_exclusive"},
	/* previous_operators */
	{"previous_operators not an array", LIST1(GOOD1 ",\"previous_operators\":{}"),
	 "t.json: operators[0].logs[0].previous_operators: expected an array, got an object"},
	{"previous operator not an object", LIST1(GOOD1 ",\"previous_operators\":[\"Old\"]"),
	 "t.json: operators[0].logs[0].previous_operators[0]: expected an object, got a string"},
	{"previous operator without name",
	 LIST1(GOOD1 ",\"previous_operators\":[{\"end_time\":\"2024-01-01T00:00:00Z\"}]"),
	 "t.json: operators[0].logs[0].previous_operators[0].name: missing"},
	{"previous operator name empty",
	 LIST1(GOOD1 ",\"previous_operators\":[{\"name\":\"\",\"end_time\":\"2024-01-01T00:00:00Z\"}]"),
	 "t.json: operators[0].logs[0].previous_operators[0].name: empty"},
	{"previous operator without end_time", LIST1(GOOD1 ",\"previous_operators\":[{\"name\":\"Old\"}]"),
	 "t.json: operators[0].logs[0].previous_operators[0].end_time: missing"},
	{"previous operator bad end_time",
	 LIST1(GOOD1 ",\"previous_operators\":[{\"name\":\"Old\",\"end_time\":\"2024-02-30T00:00:00Z\"}]"),
	 "t.json: operators[0].logs[0].previous_operators[0].end_time: \"2024-02-30T00:00:00Z\": no such day in that "
	 "month"},
	{"previous operators with one end_time",
	 LIST1(GOOD1 ",\"previous_operators\":[{\"name\":\"A\",\"end_time\":\"2024-01-01T00:00:00Z\"},"
	             "{\"name\":\"B\",\"end_time\":\"2024-01-01T00:00:00Z\"}]"),
	 "t.json: operators[0].logs[0].previous_operators: two previous operators with the same end_time"},
	/* the error names the failing log, not the first */
	{"second log bad",
	 "{\"operators\":[{\"name\":\"A\",\"logs\":[" LOG(GOOD1) "]},{\"name\":\"B\",\"logs\":[" LOG(GOOD2) "," LOG(
	     KEYID(K1, ID2) ",\"mmd\":1") "]}]}",
	 "t.json: operators[1].logs[1].log_id: does not match SHA-256 of the key"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(bad_list)
{
	const struct bad_case *b = &bad_cases[_i];
	struct tg_loglist *ll = (struct tg_loglist *)1;
	char err[512];
	size_t n = strlen(b->error);
	int rc = tg_loglist_parse(b->json, strlen(b->json), "t.json", &ll, err, sizeof(err));

	ck_assert_msg(rc == TLSGUARD_E_INVALID, "%s: rc %d (%s)", b->what, rc, err);
	ck_assert_ptr_null(ll);
	if (b->error[n - 1] == '*')
		ck_assert_msg(strncmp(err, b->error, n - 1) == 0, "%s:\n got      \"%s\"\n expected \"%s\"", b->what, err,
		              b->error);
	else
		ck_assert_msg(strcmp(err, b->error) == 0, "%s:\n got      \"%s\"\n expected \"%s\"", b->what, err, b->error);
}
END_TEST

static struct tg_loglist *parse_ok(const char *json, size_t len)
{
	struct tg_loglist *ll = NULL;
	char err[512] = "x";
	int rc = tg_loglist_parse(json, len, "ok.json", &ll, err, sizeof(err));

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_nonnull(ll);
	check_invariants(ll);
	return ll;
}

START_TEST(empty_lists)
{
	static const char *const lists[] = {
		"{\"operators\":[]}",
		"{\"version\":\"1\",\"log_list_timestamp\":\"2026-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\"}]}",
		"{\"operators\":[{\"name\":\"A\",\"email\":[],\"logs\":[],\"tiled_logs\":[]}]}",
		"\xef\xbb\xbf {\"operators\":[]} \r\n\t", /* BOM and white space */
		/* a NUL in a value we do not use; quotes and braces in strings */
		"{\"operators\":[],\"x\":\"a\\u0000b\",\"y\":\"\\\"{\\\\\",\"z\":{\"a\":[{\"}\":1},{\"}\":2}]}}",
	};
	unsigned char id[TG_CT_LOG_ID_LEN] = {0};
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct tg_loglist *ll = parse_ok(lists[i], strlen(lists[i]));
		ck_assert_uint_eq(ll->n, 0);
		ck_assert_ptr_null(tg_loglist_find(ll, id));
		if (i == 1) {
			ck_assert_str_eq(ll->version, "1");
			ck_assert_int_eq(ll->timestamp, T_2026_01_01);
		} else {
			ck_assert_ptr_null(ll->version);
			ck_assert_int_eq(ll->timestamp, 0);
		}
		tg_loglist_free(ll);
	}
	tg_loglist_free(NULL);
	ck_assert_ptr_null(tg_loglist_find(NULL, id));
	ck_assert_ptr_null(tg_ct_log_operator_at(NULL, 0));
}
END_TEST

/* Two logs, one tiled, with every optional field, unknown fields and odd
 * but valid times. */
static const char full_list[] =
	"{\"is_all_logs\":true,\"version\":\"7.1\",\"log_list_timestamp\":\"2026-01-01T01:00:00.5+01:00\","
	"\"$schema\":\"x\",\"operators\":["
	"{\"name\":\"Current Op\",\"email\":[\"a@example.com\",\"b@example.com\"],\"future\":{\"a\":[1,2]},"
	" \"logs\":[{\"description\":\"Log One\",\"log_id\":\"" ID1 "\",\"key\":\"" K1 "\","
	"  \"url\":\"https://one.example/\",\"mmd\":86400,\"log_type\":\"prod\",\"dns\":\"one.example\","
	"  \"state\":{\"readonly\":{\"timestamp\":\"2025-06-30T23:59:59.999Z\",\"version\":\"3\","
	"    \"final_tree_head\":{\"sha256_root_hash\":\"LcGcZRsm+LGYmrlyC5LXhV1T6OD8iH5dNlb0sEJl9bA=\","
	"    \"tree_size\":46466472}}},"
	"  \"temporal_interval\":{\"start_inclusive\":\"2025-01-01T00:00:00Z\",\"end_exclusive\":\"2025-07-01T00:00:00Z\"},"
	"  \"previous_operators\":["
	"   {\"name\":\"Second Op\",\"end_time\":\"2024-06-01T00:00:00Z\"},"
	"   {\"name\":\"First Op\",\"end_time\":\"2023-01-01T00:00:00-05:30\"}]}],"
	" \"tiled_logs\":[{\"log_id\":\"" ID2 "\",\"key\":\"" K2 "\",\"mmd\":0,\"tls_only\":true,"
	"  \"submission_url\":\"https://two.example/\",\"monitoring_url\":\"https://two-mon.example/\","
	"  \"state\":{\"usable\":{\"timestamp\":\"2025-01-01T00:00:00.123456789Z\"}}}]}]}";

START_TEST(full_valid_list)
{
	struct tg_loglist *ll = parse_ok(full_list, sizeof(full_list) - 1);
	const struct tg_ct_log *one, *two;
	/* 2023-01-01T05:30:00Z and 2024-06-01T00:00:00Z */
	const int64_t end1 = INT64_C(1672551000000), end2 = INT64_C(1717200000000);

	ck_assert_uint_eq(ll->n, 2);
	ck_assert_str_eq(ll->version, "7.1");
	ck_assert_int_eq(ll->timestamp, T_2026_01_01 + 500); /* 01:00:00.5+01:00 */
	one = find_b64(ll, ID1);
	two = find_b64(ll, ID2);
	ck_assert_ptr_nonnull(one);
	ck_assert_ptr_nonnull(two);
	ck_assert_str_eq(one->description, "Log One");
	ck_assert_str_eq(one->url, "https://one.example/");
	ck_assert(!one->tiled);
	ck_assert_uint_eq(one->mmd, 86400);
	ck_assert_int_eq(one->state, TG_LOG_READONLY);
	ck_assert_int_eq(one->state_time, T_2025_07_01 - 1);
	ck_assert_int_eq(one->interval_start, T_2025_01_01);
	ck_assert_int_eq(one->interval_end, T_2025_07_01);
	ck_assert_str_eq(two->description, ""); /* optional */
	ck_assert_str_eq(two->url, "https://two.example/");
	ck_assert(two->tiled);
	ck_assert_uint_eq(two->mmd, 0);
	ck_assert_int_eq(two->state, TG_LOG_USABLE);
	ck_assert_int_eq(two->state_time, T_2025_01_01 + 123);
	ck_assert_int_eq(two->interval_start, 0);
	ck_assert_int_eq(two->interval_end, 0);
	ck_assert_str_eq(two->operator_name, "Current Op");

	/* previous_operators, given newest first, are kept sorted by end_time */
	ck_assert_uint_eq(one->n_prev_ops, 2);
	ck_assert_str_eq(one->prev_ops[0].name, "First Op");
	ck_assert_int_eq(one->prev_ops[0].end_time, end1);
	ck_assert_str_eq(one->prev_ops[1].name, "Second Op");
	ck_assert_int_eq(one->prev_ops[1].end_time, end2);
	ck_assert_str_eq(tg_ct_log_operator_at(one, 0), "First Op");
	ck_assert_str_eq(tg_ct_log_operator_at(one, end1 - 1), "First Op");
	ck_assert_str_eq(tg_ct_log_operator_at(one, end1), "Second Op"); /* end_time is exclusive */
	ck_assert_str_eq(tg_ct_log_operator_at(one, end2 - 1), "Second Op");
	ck_assert_str_eq(tg_ct_log_operator_at(one, end2), "Current Op");
	ck_assert_str_eq(tg_ct_log_operator_at(one, INT64_MAX), "Current Op");
	ck_assert_str_eq(tg_ct_log_operator_at(two, 0), "Current Op");

	/* keys are usable */
	ck_assert_int_eq(gnutls_pubkey_get_pk_algorithm(one->pubkey, NULL), GNUTLS_PK_ECDSA);
	ck_assert_uint_eq(one->key_len, 91);
	{
		unsigned char id[TG_CT_LOG_ID_LEN];
		b64_id(ID1, id);
		id[31] ^= 1;
		ck_assert_ptr_null(tg_loglist_find(ll, id));
	}
	tg_loglist_free(ll);
}
END_TEST

struct time_case {
	const char *text;
	int64_t ms;
};

/* Expected values: python3 datetime.fromisoformat() (UTC), * 1000. */
static const struct time_case good_times[] = {
	{"1970-01-01T00:00:00Z", 0 + 0},
	{"2026-01-01T00:00:00Z", INT64_C(1767225600000)},
	{"2026-01-01T00:00:00.1Z", INT64_C(1767225600100)},
	{"2026-01-01T00:00:00.12Z", INT64_C(1767225600120)},
	{"2026-01-01T00:00:00.999999999Z", INT64_C(1767225600999)},
	{"2026-01-01T01:00:00+01:00", INT64_C(1767225600000)},
	{"2025-12-31T18:30:00-05:30", INT64_C(1767225600000)},
	{"2026-01-01T00:00:00-00:00", INT64_C(1767225600000)},
	{"2024-02-29T12:00:00Z", INT64_C(1709208000000)},
	{"2000-02-29T00:00:00Z", INT64_C(951782400000)},
	{"1969-12-31T23:59:59Z", INT64_C(-1000)},
	{"9999-12-31T23:59:59Z", INT64_C(253402300799000)},
	{"2016-11-30T13:24:18.33Z", INT64_C(1480512258330)}, /* ctgo's Aviator */
};

START_TEST(valid_times)
{
	const struct time_case *t = &good_times[_i];
	char json[1024];
	struct tg_loglist *ll;

	snprintf(json, sizeof(json), "{\"log_list_timestamp\":\"%s\",\"operators\":[]}", t->text);
	ll = parse_ok(json, strlen(json));
	ck_assert_msg(ll->timestamp == t->ms, "%s: %lld, expected %lld", t->text, (long long)ll->timestamp,
	              (long long)t->ms);
	tg_loglist_free(ll);
}
END_TEST

START_TEST(odd_inputs)
{
	struct tg_loglist *ll = (struct tg_loglist *)1;
	char err[512], small[24];
	static const char ok[] = "{\"operators\":[]}";
	char *big;

	/* NUL byte inside / after the object */
	ck_assert_int_eq(tg_loglist_parse("{\"operators\":[]}\0", 17, "t.json", &ll, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_str_eq(err, "t.json: byte 16: trailing data after the top-level value");
	ck_assert_int_eq(tg_loglist_parse("{\"operators\":\0[]}", 17, "t.json", &ll, err, sizeof(err)),
	                 TLSGUARD_E_INVALID);
	ck_assert_ptr_null(ll);
	/* the length is what counts, not a NUL */
	ck_assert_int_eq(tg_loglist_parse(ok, sizeof(ok) - 2, "t.json", &ll, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_str_eq(err, "t.json: byte 15: not JSON: unexpected end of input");
	/* no name, small and absent error buffers */
	ck_assert_int_eq(tg_loglist_parse("[]", 2, NULL, &ll, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_str_eq(err, "log list: top level: expected an object, got an array");
	ck_assert_int_eq(tg_loglist_parse("[]", 2, "t.json", &ll, small, sizeof(small)), TLSGUARD_E_INVALID);
	ck_assert_str_eq(small, "t.json: top level: expe");
	ck_assert_int_eq(tg_loglist_parse("[]", 2, "t.json", &ll, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_loglist_parse(NULL, 0, "t.json", &ll, err, sizeof(err)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_loglist_parse(ok, sizeof(ok) - 1, "t.json", NULL, err, sizeof(err)), TLSGUARD_E_INVALID);
	/* too large: refused before parsing */
	big = malloc((16u << 20) + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', (16u << 20) + 1);
	memcpy(big, ok, sizeof(ok) - 1);
	ck_assert_int_eq(tg_loglist_parse(big, (16u << 20) + 1, "t.json", &ll, err, sizeof(err)), TLSGUARD_E_RANGE);
	ck_assert_str_eq(err, "t.json: 16777217 bytes: larger than the 16777216 bytes allowed");
	ck_assert_ptr_null(ll);
	ll = parse_ok(big, 16u << 20);
	tg_loglist_free(ll);
	free(big);
}
END_TEST

/* Every allocation failing in turn: an error (never a crash or a leak:
 * run under valgrind or ASan to see leaks) until the list loads. */
START_TEST(alloc_failures)
{
	unsigned long n;

	for (n = 1; n < 10000; n++) {
		struct tg_loglist *ll = (struct tg_loglist *)1;
		char err[512];
		int rc;
		tg_alloc_fail_at(n);
		rc = tg_loglist_parse(full_list, sizeof(full_list) - 1, "t.json", &ll, err, sizeof(err));
		tg_alloc_fail_at(0);
		if (rc == 0) {
			check_invariants(ll);
			tg_loglist_free(ll);
			break;
		}
		ck_assert_msg(rc == TLSGUARD_E_NOMEM, "allocation %lu: rc %d: %s", n, rc, err);
		ck_assert_str_eq(err, "t.json: out of memory");
		ck_assert_ptr_null(ll);
	}
	ck_assert_uint_gt(n, 5);
	ck_assert_uint_lt(n, 10000);
}
END_TEST

int main(void)
{
	const char *shared = getenv("TG_SHARED");
	const char *ci = getenv("CI");
	bool have_shared, in_ci = ci != NULL && strcmp(ci, "true") == 0;
	struct stat st;
	Suite *s;
	TCase *tc;
	int rc;

	snprintf(listdir, sizeof(listdir), "%s/testdata/ct/loglists", shared ? shared : "../shared");
	have_shared = stat(listdir, &st) == 0;

	s = suite_create("loglist");
	tc = tcase_create("crafted");
	tcase_add_loop_test(tc, bad_list, 0, (int)N_BAD);
	tcase_add_test(tc, empty_lists);
	tcase_add_test(tc, full_valid_list);
	tcase_add_loop_test(tc, valid_times, 0, (int)(sizeof(good_times) / sizeof(good_times[0])));
	tcase_add_test(tc, odd_inputs);
	tcase_add_test(tc, alloc_failures);
	suite_add_tcase(s, tc);
	if (have_shared) {
		tc = tcase_create("real");
		tcase_set_timeout(tc, 60);
		tcase_add_loop_test(tc, real_list_loads, 0, (int)N_REAL);
		tcase_add_test(tc, real_lists_complete);
		tcase_add_test(tc, known_logs_chrome);
		tcase_add_test(tc, known_logs_apple_crtsh);
		tcase_add_test(tc, signature);
		suite_add_tcase(s, tc);
	}
	rc = test_run(s);
	if (have_shared || rc != EXIT_SUCCESS)
		return rc;
	if (in_ci) {
		fprintf(stderr, "check_loglist: %s is missing, and CI=true requires it\n", listdir);
		return EXIT_FAILURE;
	}
	printf("check_loglist: SKIP: real log lists not found at %s (crafted cases passed)\n", listdir);
	return 77;
}
