/*
 * Certificate Transparency Merkle trees and signed tree heads (lib/merkle.c)
 * against ../shared/testdata/ct: merkle-vectors.json (hasher KATs, the
 * reference tree, 139 inclusion and 138 consistency vectors, the real
 * Argon2020 log) and sth/sth-vectors.json, plus argument checks, an
 * independent recursive model of RFC 9162 proofs for 64-bit tree sizes, and
 * a seeded robustness loop.
 *
 * Without the shared data the data-free tests still run, then the program
 * reports SKIP (77); under CI=true missing data is a failure.
 *
 * How a vector maps onto the C API, which takes fixed 32-byte hashes and a
 * flat proof buffer (the transparency-dev vectors use byte strings of any
 * length):
 *   - an empty hash ("") is an absent argument: NULL -> TLSGUARD_E_INVALID;
 *   - a hash of 1..31 bytes ("WrongLeaf", "don't care 1") is copied into a
 *     zero-filled 32-byte slot, as a caller would have to;
 *   - a proof element of another length ("" garbage) likewise takes a whole
 *     zero-filled 32-byte slot (concatenating an empty element would make
 *     it vanish: the flat buffer cannot carry it);
 * and the expected code follows tlsguard.h: TLSGUARD_E_INVALID for NULL,
 * index >= tree_size and size1 > size2, else 0 when want_valid, else
 * TLSGUARD_E_VERIFY.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <json-c/json.h>

#include "tg.h"
#include "testutil.h"

#define H TLSGUARD_MERKLE_HASH_LEN
#define MAXPROOF 160 /* hashes: more than any proof for 64-bit sizes */

static char ctdir[4096];
static json_object *mv; /* merkle-vectors.json */
static json_object *sv; /* sth/sth-vectors.json */

/* ------------------------------------------------------------ helpers */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;
	ck_assert_msg(o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL, "JSON field %s missing", key);
	return v;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "JSON field %s: not a string", key);
	return json_object_get_string(v);
}

static uint64_t ju64(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "JSON field %s: not an integer", key);
	return json_object_get_uint64(v);
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_boolean), "JSON field %s: not a boolean", key);
	return json_object_get_boolean(v) != 0;
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_array), "JSON field %s: not an array", key);
	return v;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into a malloc'd buffer (never NULL, also for ""). */
static unsigned char *hex_dec(const char *s, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned char *out;

	ck_assert_msg(n % 2 == 0, "odd hex length: %s", s);
	out = malloc(n / 2 + 1);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		ck_assert_msg(hi >= 0 && lo >= 0, "bad hex: %s", s);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* Exactly 32 bytes of hex. */
static void hex32(const char *s, unsigned char out[H])
{
	size_t len;
	unsigned char *b = hex_dec(s, &len);
	ck_assert_msg(len == H, "not a 32-byte hash: %s", s);
	memcpy(out, b, H);
	free(b);
}

/* A vector's hash as the argument a caller would pass (see the top). Sets
 * *odd when the value was not 32 bytes. */
static const unsigned char *hash_arg(const char *hex, unsigned char buf[H], bool *odd)
{
	size_t len;
	unsigned char *b = hex_dec(hex, &len);

	ck_assert_msg(len <= H, "hash longer than 32 bytes: %s", hex);
	if (len != H)
		*odd = true;
	if (len == 0) {
		free(b);
		return NULL;
	}
	memset(buf, 0, H);
	memcpy(buf, b, len);
	free(b);
	return buf;
}

/* A vector's proof as a flat buffer, one 32-byte slot per element. */
static unsigned char *proof_arg(json_object *arr, size_t *plen, bool *odd)
{
	size_t n = json_object_array_length(arr), i;
	unsigned char *p = calloc(n + 1, H);

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		unsigned char slot[H];
		ck_assert(json_object_is_type(e, json_type_string));
		if (hash_arg(json_object_get_string(e), slot, odd) != NULL)
			memcpy(p + i * H, slot, H);
		else
			*odd = true; /* slot stays zero */
	}
	*plen = n * H;
	return p;
}

static unsigned char *b64_dec(const char *s, size_t *len)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)s, (unsigned)strlen(s)}, out = {NULL, 0};
	unsigned char *b;

	ck_assert_msg(gnutls_base64_decode2(&in, &out) == 0, "bad base64: %s", s);
	b = malloc(out.size + 1);
	ck_assert_ptr_nonnull(b);
	memcpy(b, out.data, out.size);
	*len = out.size;
	gnutls_free(out.data);
	return b;
}

/* DER SubjectPublicKeyInfo of a "PUBLIC KEY" PEM file in sth/. */
static unsigned char *load_key(const char *name, size_t *len)
{
	char path[4300];
	gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
	unsigned char *b;

	snprintf(path, sizeof(path), "%s/sth/%s", ctdir, name);
	ck_assert_msg(gnutls_load_file(path, &pem) == 0, "cannot read %s", path);
	ck_assert_msg(gnutls_pem_base64_decode2("PUBLIC KEY", &pem, &der) == 0, "%s: not a PUBLIC KEY PEM", path);
	b = malloc(der.size);
	ck_assert_ptr_nonnull(b);
	memcpy(b, der.data, der.size);
	*len = der.size;
	gnutls_free(der.data);
	gnutls_free(pem.data);
	return b;
}

static const char *rcname(int rc)
{
	switch (rc) {
	case 0: return "0 (valid)";
	case TLSGUARD_E_VERIFY: return "TLSGUARD_E_VERIFY";
	case TLSGUARD_E_INVALID: return "TLSGUARD_E_INVALID";
	default: return tlsguard_strerror(rc);
	}
}

/* Deterministic generator (xorshift64*), fixed seeds. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void rnd_bytes(unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd() >> 56);
}

/* ------------------------------------- independent Merkle tree model */

/* Hashes computed here with GnuTLS directly, not with the code under test. */
static void t_sha256(const unsigned char *p, size_t n, unsigned char out[H])
{
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out), 0);
}

static void t_leaf(const unsigned char *data, size_t n, unsigned char out[H])
{
	unsigned char *b = malloc(n + 1);
	ck_assert_ptr_nonnull(b);
	b[0] = 0;
	if (n > 0)
		memcpy(b + 1, data, n);
	t_sha256(b, n + 1, out);
	free(b);
}

static void t_node(const unsigned char l[H], const unsigned char r[H], unsigned char out[H])
{
	unsigned char b[1 + 2 * H];
	b[0] = 1;
	memcpy(b + 1, l, H);
	memcpy(b + 1 + H, r, H);
	t_sha256(b, sizeof(b), out);
}

/* Largest power of two smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;
	while (k < n - k) /* k * 2 < n without overflow */
		k <<= 1;
	return k;
}

/* RFC 9162 2.1.1 MTH over leaf hashes lh[0..n). */
static void t_mth(unsigned char (*lh)[H], size_t n, unsigned char out[H])
{
	unsigned char l[H], r[H];
	size_t k;

	if (n == 0) {
		t_sha256(NULL, 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, lh[0], H);
		return;
	}
	k = (size_t)split(n);
	t_mth(lh, k, l);
	t_mth(lh + k, n - k, r);
	t_node(l, r, out);
}

/* RFC 9162 2.1.3.1 PATH(m, D[n]), appended to out. */
static void t_path(size_t m, unsigned char (*lh)[H], size_t n, unsigned char *out, size_t *cnt)
{
	size_t k;

	if (n <= 1)
		return;
	k = (size_t)split(n);
	if (m < k) {
		t_path(m, lh, k, out, cnt);
		t_mth(lh + k, n - k, out + (*cnt)++ * H);
	} else {
		t_path(m - k, lh + k, n - k, out, cnt);
		t_mth(lh, k, out + (*cnt)++ * H);
	}
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b), appended to out. */
static void t_subproof(size_t m, unsigned char (*lh)[H], size_t n, bool b, unsigned char *out, size_t *cnt)
{
	size_t k;

	if (m == n) {
		if (!b)
			t_mth(lh, n, out + (*cnt)++ * H);
		return;
	}
	k = (size_t)split(n);
	if (m <= k) {
		t_subproof(m, lh, k, b, out, cnt);
		t_mth(lh + k, n - k, out + (*cnt)++ * H);
	} else {
		t_subproof(m - k, lh + k, n - k, false, out, cnt);
		t_mth(lh, k, out + (*cnt)++ * H);
	}
}

/*
 * The same recursions over an abstract tree of any uint64_t size whose
 * subtree hashes are random: generates a proof and the root(s) it proves,
 * without building the tree. Independent of the iterative fn/sn algorithm
 * in lib/merkle.c, so agreement is a real cross-check for huge sizes.
 */
static void model_inclusion(uint64_t m, uint64_t n, const unsigned char leaf[H], unsigned char *proof, size_t *cnt,
                            unsigned char root[H])
{
	unsigned char sub[H], *x;
	uint64_t k;

	if (n == 1) {
		memcpy(root, leaf, H);
		return;
	}
	k = split(n);
	if (m < k)
		model_inclusion(m, k, leaf, proof, cnt, sub);
	else
		model_inclusion(m - k, n - k, leaf, proof, cnt, sub);
	ck_assert_uint_lt(*cnt, MAXPROOF);
	x = proof + (*cnt)++ * H;
	rnd_bytes(x, H);
	if (m < k)
		t_node(sub, x, root);
	else
		t_node(x, sub, root);
}

static void model_consistency(uint64_t m, uint64_t n, bool b, unsigned char *proof, size_t *cnt,
                              unsigned char old_root[H], unsigned char new_root[H])
{
	unsigned char o[H], nw[H], *x;
	uint64_t k;

	if (m == n) {
		if (b) {
			/* The whole old tree: its root is root1, no element. */
			rnd_bytes(old_root, H);
			memcpy(new_root, old_root, H);
		} else {
			ck_assert_uint_lt(*cnt, MAXPROOF);
			x = proof + (*cnt)++ * H;
			rnd_bytes(x, H);
			memcpy(old_root, x, H);
			memcpy(new_root, x, H);
		}
		return;
	}
	k = split(n);
	if (m <= k)
		model_consistency(m, k, b, proof, cnt, o, nw);
	else
		model_consistency(m - k, n - k, false, proof, cnt, o, nw);
	ck_assert_uint_lt(*cnt, MAXPROOF);
	x = proof + (*cnt)++ * H;
	rnd_bytes(x, H);
	if (m <= k) {
		memcpy(old_root, o, H);
		t_node(nw, x, new_root);
	} else {
		t_node(x, o, old_root);
		t_node(x, nw, new_root);
	}
}

/* A random tree size >= 1 from several ranges, including near 2^64. */
static uint64_t rnd_size(void)
{
	switch (rnd() % 6) {
	case 0: return 1 + rnd() % 16;
	case 1: return 1 + rnd() % 1024;
	case 2: return 1 + rnd() % (UINT64_C(1) << 32);
	case 3: return UINT64_MAX - rnd() % 64;
	case 4: return UINT64_C(1) << (rnd() % 64);
	default: return rnd() | 1;
	}
}

/* ------------------------------------------------------------ hashing */

START_TEST(hasher_kats)
{
	json_object *kats = jarr(mv, "hasher_kats");
	size_t i, n = json_object_array_length(kats);
	unsigned nleaf = 0, nnode = 0, nempty = 0;

	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(kats, i);
		const char *op = jstr(k, "op"), *desc = jstr(k, "desc");
		unsigned char want[H], got[H];
		hex32(jstr(k, "want"), want);
		if (strcmp(op, "empty_root") == 0) {
			unsigned char none[1][H] = {{0}};
			t_mth(none, 0, got); /* SHA-256("") */
			nempty++;
		} else if (strcmp(op, "leaf") == 0) {
			size_t len;
			unsigned char *in = hex_dec(jstr(k, "input"), &len);
			ck_assert_msg(tlsguard_merkle_leaf_hash(in, len, got) == 0, "hasher_kats[%zu] %s", i, desc);
			free(in);
			nleaf++;
		} else if (strcmp(op, "node") == 0) {
			size_t ll, rl;
			unsigned char *l = hex_dec(jstr(k, "left"), &ll), *r = hex_dec(jstr(k, "right"), &rl);
			ck_assert_msg(tg_merkle_node_hash_raw(l, ll, r, rl, got) == 0, "hasher_kats[%zu] %s", i, desc);
			free(l);
			free(r);
			nnode++;
		} else {
			ck_abort_msg("hasher_kats[%zu] %s: unknown op %s", i, desc, op);
		}
		ck_assert_msg(memcmp(got, want, H) == 0, "hasher_kats[%zu] %s: wrong hash", i, desc);
	}
	ck_assert_uint_eq(nempty, 1);
	ck_assert_uint_eq(nleaf, 2);
	ck_assert_uint_eq(nnode, 1);
	printf("check_merkle: hasher_kats: %zu/%zu passed\n", n, n);
	fflush(stdout);
}
END_TEST

/* The 32-byte node hash, the raw helper and the model agree. */
START_TEST(node_hash_forms)
{
	unsigned char l[H], r[H], a[H], b[H], c[H];
	int i;

	rng_state = UINT64_C(0x6d65726b6c65);
	for (i = 0; i < 100; i++) {
		rnd_bytes(l, H);
		rnd_bytes(r, H);
		ck_assert_int_eq(tlsguard_merkle_node_hash(l, r, a), 0);
		ck_assert_int_eq(tg_merkle_node_hash_raw(l, H, r, H, b), 0);
		t_node(l, r, c);
		ck_assert(memcmp(a, b, H) == 0 && memcmp(a, c, H) == 0);
		/* Order matters; output may alias an input. */
		ck_assert_int_eq(tlsguard_merkle_node_hash(r, l, b), 0);
		ck_assert(memcmp(a, b, H) != 0);
		memcpy(b, l, H);
		ck_assert_int_eq(tlsguard_merkle_node_hash(b, r, b), 0);
		ck_assert(memcmp(a, b, H) == 0);
	}
	/* Leaf and node prefixes keep the two kinds apart (second preimage
	 * resistance, RFC 6962 sec. 2.1). */
	{
		unsigned char data[2 * H];
		memcpy(data, l, H);
		memcpy(data + H, r, H);
		ck_assert_int_eq(tlsguard_merkle_leaf_hash(data, sizeof(data), b), 0);
		ck_assert_int_eq(tlsguard_merkle_node_hash(l, r, a), 0);
		ck_assert(memcmp(a, b, H) != 0);
		t_leaf(data, sizeof(data), c);
		ck_assert(memcmp(b, c, H) == 0);
	}
}
END_TEST

/* ------------------------------------------------------------ reference tree */

START_TEST(reference_tree)
{
	json_object *rt = jget(mv, "reference_tree");
	json_object *leaves = jarr(rt, "leaves"), *levels = jarr(rt, "node_hashes_by_level"),
	            *roots = jarr(rt, "roots_by_size");
	unsigned char lh[8][H], level[8][H], want[H], got[H], proof[MAXPROOF * H];
	size_t n = json_object_array_length(leaves), i, m, sz, lv, w;
	unsigned nincl = 0, ncons = 0, nroots = 0;

	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(json_object_array_length(roots), 9);
	for (i = 0; i < n; i++) {
		size_t len;
		unsigned char *d = hex_dec(json_object_get_string(json_object_array_get_idx(leaves, i)), &len);
		ck_assert_int_eq(tlsguard_merkle_leaf_hash(d, len, lh[i]), 0);
		t_leaf(d, len, got);
		ck_assert_msg(memcmp(got, lh[i], H) == 0, "reference leaf %zu", i);
		free(d);
	}
	/* Levels: level 0 = leaf hashes, each next level pairs with the
	 * library's node hash. */
	memcpy(level, lh, sizeof(lh));
	w = n;
	ck_assert_uint_eq(json_object_array_length(levels), 4);
	for (lv = 0; lv < 4; lv++) {
		json_object *row = json_object_array_get_idx(levels, lv);
		ck_assert_uint_eq(json_object_array_length(row), w);
		for (i = 0; i < w; i++) {
			hex32(json_object_get_string(json_object_array_get_idx(row, i)), want);
			ck_assert_msg(memcmp(level[i], want, H) == 0, "reference node level %zu index %zu", lv, i);
		}
		for (i = 0; i + 1 < w; i += 2)
			ck_assert_int_eq(tlsguard_merkle_node_hash(level[i], level[i + 1], level[i / 2]), 0);
		w /= 2;
	}
	/* Roots of sizes 0..8 from the test's own tree builder. */
	for (sz = 0; sz <= 8; sz++) {
		hex32(json_object_get_string(json_object_array_get_idx(roots, sz)), want);
		t_mth(lh, sz, got);
		ck_assert_msg(memcmp(got, want, H) == 0, "reference root of size %zu", sz);
		nroots++;
	}
	/* Every (index, size): PATH built here verifies; the same path for the
	 * neighbouring index does not. */
	for (sz = 1; sz <= 8; sz++) {
		t_mth(lh, sz, want);
		for (m = 0; m < sz; m++) {
			size_t cnt = 0;
			int rc;
			t_path(m, lh, sz, proof, &cnt);
			rc = tlsguard_merkle_verify_inclusion(lh[m], m, sz, proof, cnt * H, want);
			ck_assert_msg(rc == 0, "reference inclusion (%zu, %zu): %s", m, sz, rcname(rc));
			rc = tlsguard_merkle_verify_inclusion(lh[m], (m + 1) % sz, sz, proof, cnt * H, want);
			ck_assert_msg(sz == 1 ? rc == 0 : rc == TLSGUARD_E_VERIFY, "reference inclusion (%zu, %zu) at %zu: %s",
			              m, sz, (m + 1) % sz, rcname(rc));
			nincl++;
		}
	}
	/* Every (m, n) with 1 <= m <= n <= 8: PROOF built here verifies. */
	for (sz = 1; sz <= 8; sz++) {
		for (m = 1; m <= sz; m++) {
			unsigned char r1[H];
			size_t cnt = 0;
			int rc;
			t_mth(lh, m, r1);
			t_mth(lh, sz, want);
			if (m < sz)
				t_subproof(m, lh, sz, true, proof, &cnt);
			rc = tlsguard_merkle_verify_consistency(m, sz, r1, want, proof, cnt * H);
			ck_assert_msg(rc == 0, "reference consistency %zu -> %zu: %s", m, sz, rcname(rc));
			if (m < sz) {
				rc = tlsguard_merkle_verify_consistency(m, sz, want, r1, proof, cnt * H);
				ck_assert_msg(rc == TLSGUARD_E_VERIFY, "reference consistency %zu -> %zu, roots swapped: %s", m,
				              sz, rcname(rc));
			}
			ncons++;
		}
	}
	ck_assert_uint_eq(nincl, 36);
	ck_assert_uint_eq(ncons, 36);
	printf("check_merkle: reference_tree: %u roots, %u inclusion paths, %u consistency proofs passed\n", nroots,
	       nincl, ncons);
	fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------ vectors */

START_TEST(inclusion_vectors)
{
	json_object *arr = jarr(mv, "inclusion");
	size_t n = json_object_array_length(arr), i;
	unsigned nvalid = 0, nverify = 0, ninvalid = 0, nodd = 0;

	ck_assert_uint_eq(n, 139);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *desc = jstr(v, "desc");
		unsigned char lbuf[H], rbuf[H], *proof;
		const unsigned char *leaf, *root;
		uint64_t index = ju64(v, "leaf_index"), size = ju64(v, "tree_size");
		bool valid = jbool(v, "want_valid"), odd = false;
		size_t plen;
		int want, rc;

		leaf = hash_arg(jstr(v, "leaf_hash"), lbuf, &odd);
		root = hash_arg(jstr(v, "root"), rbuf, &odd);
		proof = proof_arg(jarr(v, "proof"), &plen, &odd);
		if (leaf == NULL || root == NULL || index >= size)
			want = TLSGUARD_E_INVALID;
		else
			want = valid ? 0 : TLSGUARD_E_VERIFY;
		ck_assert_msg(!valid || want == 0, "inclusion[%zu] %s: valid vector with impossible arguments", i, desc);
		rc = tlsguard_merkle_verify_inclusion(leaf, index, size, proof, plen, root);
		ck_assert_msg(rc == want,
		              "inclusion[%zu] \"%s\" (index %" PRIu64 ", size %" PRIu64 ", %zu hashes): got %s, want %s", i, desc,
		              index, size, plen / H, rcname(rc), rcname(want));
		free(proof);
		nvalid += want == 0;
		nverify += want == TLSGUARD_E_VERIFY;
		ninvalid += want == TLSGUARD_E_INVALID;
		nodd += odd;
	}
	ck_assert_uint_eq(nvalid, 47);
	ck_assert_uint_eq(nverify + ninvalid, 92);
	printf("check_merkle: inclusion: %zu/%zu vectors passed (%u valid, %u TLSGUARD_E_VERIFY, %u TLSGUARD_E_INVALID; "
	       "%u with non-32-byte hashes)\n",
	       n, n, nvalid, nverify, ninvalid, nodd);
	fflush(stdout);
}
END_TEST

START_TEST(consistency_vectors)
{
	json_object *arr = jarr(mv, "consistency");
	size_t n = json_object_array_length(arr), i;
	unsigned nvalid = 0, nverify = 0, ninvalid = 0, nodd = 0;

	ck_assert_uint_eq(n, 138);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *desc = jstr(v, "desc");
		unsigned char b1[H], b2[H], *proof;
		const unsigned char *r1, *r2;
		uint64_t s1 = ju64(v, "size1"), s2 = ju64(v, "size2");
		bool valid = jbool(v, "want_valid"), odd = false;
		size_t plen;
		int want, rc;

		r1 = hash_arg(jstr(v, "root1"), b1, &odd);
		r2 = hash_arg(jstr(v, "root2"), b2, &odd);
		proof = proof_arg(jarr(v, "proof"), &plen, &odd);
		if (r1 == NULL || r2 == NULL || s1 > s2)
			want = TLSGUARD_E_INVALID;
		else
			want = valid ? 0 : TLSGUARD_E_VERIFY;
		ck_assert_msg(!valid || want == 0, "consistency[%zu] %s: valid vector with impossible arguments", i, desc);
		rc = tlsguard_merkle_verify_consistency(s1, s2, r1, r2, proof, plen);
		ck_assert_msg(rc == want,
		              "consistency[%zu] \"%s\" (%" PRIu64 " -> %" PRIu64 ", %zu hashes): got %s, want %s", i, desc,
		              s1, s2, plen / H, rcname(rc), rcname(want));
		free(proof);
		nvalid += want == 0;
		nverify += want == TLSGUARD_E_VERIFY;
		ninvalid += want == TLSGUARD_E_INVALID;
		nodd += odd;
	}
	ck_assert_uint_eq(nvalid, 46);
	ck_assert_uint_eq(nverify + ninvalid, 92);
	printf("check_merkle: consistency: %zu/%zu vectors passed (%u valid, %u TLSGUARD_E_VERIFY, %u TLSGUARD_E_INVALID; "
	       "%u with non-32-byte hashes)\n",
	       n, n, nvalid, nverify, ninvalid, nodd);
	fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------ Argon2020 */

START_TEST(real_world_argon2020)
{
	json_object *rw = jget(mv, "real_world_argon2020");
	json_object *entry = jget(rw, "entry"), *incl = jget(rw, "inclusion"), *cons = jget(rw, "consistency"),
	            *sth = jget(rw, "sth");
	unsigned char lh[H], want[H], root[H], r1[H], *input, *proof, *sig, *key;
	size_t len, plen, klen, slen;
	uint64_t index, size;
	bool odd = false;
	int rc;

	/* Leaf hash of entry #10000 from its MerkleTreeLeaf bytes. */
	input = hex_dec(jstr(entry, "leaf_input"), &len);
	ck_assert_int_eq(tlsguard_merkle_leaf_hash(input, len, lh), 0);
	hex32(jstr(entry, "leaf_hash"), want);
	ck_assert_msg(memcmp(lh, want, H) == 0, "argon2020 entry leaf hash");
	free(input);

	/* Inclusion of that leaf in the 961,984,011-entry tree. */
	index = ju64(incl, "leaf_index");
	size = ju64(incl, "tree_size");
	ck_assert_uint_eq(index, ju64(entry, "leaf_index"));
	ck_assert_uint_eq(size, UINT64_C(961984011));
	hex32(jstr(incl, "leaf_hash"), want);
	ck_assert(memcmp(lh, want, H) == 0);
	hex32(jstr(incl, "root"), root);
	ck_assert(jbool(incl, "want_valid"));
	proof = proof_arg(jarr(incl, "proof"), &plen, &odd);
	ck_assert(!odd);
	ck_assert_uint_eq(plen, 30 * H);
	rc = tlsguard_merkle_verify_inclusion(lh, index, size, proof, plen, root);
	ck_assert_msg(rc == 0, "argon2020 inclusion: %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, index + 1, size, proof, plen, root);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 inclusion at index+1: %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, index - 1, size, proof, plen, root);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 inclusion at index-1: %s", rcname(rc));
	/* An audit path binds the leaf's position, not the tree size: the
	 * trees of size and size + 1 have the same shape along this path, so
	 * the proof also "verifies" for size + 1. Only the signed tree head
	 * binds root and size together: callers must take tree_size from a
	 * verified STH. A size that changes the shape does not verify. */
	rc = tlsguard_merkle_verify_inclusion(lh, index, size + 1, proof, plen, root);
	ck_assert_msg(rc == 0, "argon2020 inclusion, size+1 (same shape): %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, index, size * 2, proof, plen, root);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 inclusion, size*2: %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, index, index + 1, proof, plen, root);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 inclusion, size = index+1: %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, index, size, proof, plen - H, root);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 inclusion, proof truncated: %s", rcname(rc));
	rc = tlsguard_merkle_verify_inclusion(lh, size, size, proof, plen, root);
	ck_assert_msg(rc == TLSGUARD_E_INVALID, "argon2020 inclusion at index == size: %s", rcname(rc));
	free(proof);

	/* Consistency 3,654,490 -> 961,984,011. */
	hex32(jstr(cons, "root1"), r1);
	hex32(jstr(cons, "root2"), want);
	ck_assert(memcmp(want, root, H) == 0);
	ck_assert(jbool(cons, "want_valid"));
	proof = proof_arg(jarr(cons, "proof"), &plen, &odd);
	ck_assert(!odd);
	ck_assert_uint_eq(ju64(cons, "size1"), UINT64_C(3654490));
	rc = tlsguard_merkle_verify_consistency(ju64(cons, "size1"), ju64(cons, "size2"), r1, want, proof, plen);
	ck_assert_msg(rc == 0, "argon2020 consistency: %s", rcname(rc));
	rc = tlsguard_merkle_verify_consistency(ju64(cons, "size1") + 1, ju64(cons, "size2"), r1, want, proof, plen);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 consistency, size1+1: %s", rcname(rc));
	rc = tlsguard_merkle_verify_consistency(ju64(cons, "size1"), ju64(cons, "size2"), want, r1, proof, plen);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 consistency, roots swapped: %s", rcname(rc));
	free(proof);

	/* The STH that signs root and size, with the key from the log list. */
	key = b64_dec(jstr(jget(rw, "log"), "key"), &klen);
	sig = hex_dec(jstr(sth, "tree_head_signature"), &slen);
	hex32(jstr(sth, "sha256_root_hash"), want);
	ck_assert(memcmp(want, root, H) == 0);
	ck_assert_uint_eq(ju64(sth, "tree_size"), size);
	ck_assert(jbool(sth, "want_signature_valid"));
	rc = tlsguard_sth_verify(key, klen, ju64(sth, "timestamp"), size, root, sig, slen);
	ck_assert_msg(rc == 0, "argon2020 STH: %s", rcname(rc));
	rc = tlsguard_sth_verify(key, klen, ju64(sth, "timestamp"), size - 1, root, sig, slen);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "argon2020 STH, size-1: %s", rcname(rc));
	free(key);
	free(sig);
	printf("check_merkle: real_world_argon2020: leaf hash, inclusion, consistency, STH passed\n");
	fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------ STH */

struct sth {
	char name[64];
	unsigned char *key, *sig, root[H];
	size_t klen, slen;
	uint64_t ts, size;
	bool valid;
};

static void sth_load(size_t i, struct sth *s)
{
	json_object *v = json_object_array_get_idx(jarr(sv, "vectors"), i);
	size_t rl;
	unsigned char *r;

	ck_assert_ptr_nonnull(v);
	snprintf(s->name, sizeof(s->name), "%s", jstr(v, "name"));
	s->key = load_key(jstr(v, "key_pem"), &s->klen);
	s->sig = b64_dec(jstr(v, "tree_head_signature"), &s->slen);
	r = b64_dec(jstr(v, "sha256_root_hash"), &rl);
	ck_assert_uint_eq(rl, H);
	memcpy(s->root, r, H);
	free(r);
	s->ts = ju64(v, "timestamp");
	s->size = ju64(v, "tree_size");
	s->valid = jbool(v, "want_valid");
}

static void sth_free(struct sth *s)
{
	free(s->key);
	free(s->sig);
}

static int sth_check(const struct sth *s, const unsigned char *sig, size_t slen)
{
	return tlsguard_sth_verify(s->key, s->klen, s->ts, s->size, s->root, sig, slen);
}

START_TEST(sth_vectors)
{
	size_t n = json_object_array_length(jarr(sv, "vectors")), i;
	unsigned nvalid = 0, ninvalid = 0;

	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		struct sth s;
		int rc, want;
		sth_load(i, &s);
		want = s.valid ? 0 : TLSGUARD_E_VERIFY;
		rc = sth_check(&s, s.sig, s.slen);
		ck_assert_msg(rc == want, "sth[%zu] %s: got %s, want %s", i, s.name, rcname(rc), rcname(want));
		nvalid += s.valid;
		ninvalid += !s.valid;
		sth_free(&s);
	}
	ck_assert_uint_eq(nvalid, 3);
	printf("check_merkle: sth: %zu/%zu vectors passed (%u VALID, %u INVALID)\n", n, n, nvalid, ninvalid);
	fflush(stdout);
}
END_TEST

/* Tampering with each valid STH: every field, every encoding rule. */
START_TEST(sth_tampered)
{
	size_t n = json_object_array_length(jarr(sv, "vectors")), i;
	unsigned ncases = 0;

	for (i = 0; i < n; i++) {
		struct sth s;
		unsigned char *b, root[H];
		size_t slen;
		int rc;
		bool ecdsa;

		sth_load(i, &s);
		if (!s.valid) {
			sth_free(&s);
			continue;
		}
		slen = s.slen;
		ck_assert_uint_eq(s.sig[0], 4);
		ecdsa = s.sig[1] == 3;
		b = malloc(slen + 8);
		ck_assert_ptr_nonnull(b);

#define EXPECT(call, want, what)                                                                                     \
	do {                                                                                                             \
		rc = (call);                                                                                                 \
		ck_assert_msg(rc == (want), "sth %s, %s: got %s, want %s", s.name, what, rcname(rc), rcname(want));         \
		ncases++;                                                                                                    \
	} while (0)

		EXPECT(sth_check(&s, s.sig, slen), 0, "untouched");
		/* Signed fields. */
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts + 1, s.size, s.root, s.sig, slen), TLSGUARD_E_VERIFY,
		       "timestamp+1");
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts - 1, s.size, s.root, s.sig, slen), TLSGUARD_E_VERIFY,
		       "timestamp-1");
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts, s.size + 1, s.root, s.sig, slen), TLSGUARD_E_VERIFY,
		       "tree_size+1");
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts, s.size ^ (UINT64_C(1) << 63), s.root, s.sig, slen),
		       TLSGUARD_E_VERIFY, "tree_size top bit");
		memcpy(root, s.root, H);
		root[0] ^= 1;
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts, s.size, root, s.sig, slen), TLSGUARD_E_VERIFY, "root[0]");
		memcpy(root, s.root, H);
		root[H - 1] ^= 0x80;
		EXPECT(tlsguard_sth_verify(s.key, s.klen, s.ts, s.size, root, s.sig, slen), TLSGUARD_E_VERIFY, "root[31]");
		/* Signature bytes. */
		memcpy(b, s.sig, slen);
		b[slen - 1] ^= 1;
		EXPECT(sth_check(&s, b, slen), TLSGUARD_E_VERIFY, "last signature byte");
		memcpy(b, s.sig, slen);
		b[4 + (slen - 4) / 2] ^= 0x10;
		EXPECT(sth_check(&s, b, slen), TLSGUARD_E_VERIFY, "middle signature byte");
		/* Truncated: the length field no longer matches, or it does and
		 * the signature is short. */
		EXPECT(sth_check(&s, s.sig, slen - 1), TLSGUARD_E_INVALID, "truncated by one byte");
		EXPECT(sth_check(&s, s.sig, 3), TLSGUARD_E_INVALID, "truncated to 3 bytes");
		EXPECT(sth_check(&s, s.sig, 0), TLSGUARD_E_INVALID, "empty");
		memcpy(b, s.sig, slen);
		b[2] = (unsigned char)((slen - 5) >> 8);
		b[3] = (unsigned char)(slen - 5);
		EXPECT(sth_check(&s, b, slen - 1), TLSGUARD_E_VERIFY, "truncated signature, length adjusted");
		b[2] = b[3] = 0;
		EXPECT(sth_check(&s, b, 4), TLSGUARD_E_VERIFY, "zero-length signature");
		/* Trailing byte after the struct, or inside the signature. */
		memcpy(b, s.sig, slen);
		b[slen] = 0;
		EXPECT(sth_check(&s, b, slen + 1), TLSGUARD_E_INVALID, "trailing byte after the struct");
		b[2] = (unsigned char)((slen - 3) >> 8);
		b[3] = (unsigned char)(slen - 3);
		EXPECT(sth_check(&s, b, slen + 1), TLSGUARD_E_VERIFY, "trailing byte inside the signature");
		/* Length field larger than the data. */
		memcpy(b, s.sig, slen);
		b[2] = 0xff;
		EXPECT(sth_check(&s, b, slen), TLSGUARD_E_INVALID, "length field too large");
		/* Unknown or unsupported algorithms. */
		{
			static const unsigned char hashes[] = {0, 1, 2, 3, 5, 6, 8, 255};
			static const unsigned char sigs[] = {0, 2, 4, 7, 8, 64, 255};
			size_t j;
			for (j = 0; j < sizeof(hashes); j++) {
				memcpy(b, s.sig, slen);
				b[0] = hashes[j];
				EXPECT(sth_check(&s, b, slen), TLSGUARD_E_INVALID, "unknown hash algorithm");
			}
			for (j = 0; j < sizeof(sigs); j++) {
				memcpy(b, s.sig, slen);
				b[1] = sigs[j];
				EXPECT(sth_check(&s, b, slen), TLSGUARD_E_INVALID, "unknown signature algorithm");
			}
		}
		/* Known algorithm that this key does not make. */
		memcpy(b, s.sig, slen);
		b[1] = ecdsa ? 1 : 3;
		EXPECT(sth_check(&s, b, slen), TLSGUARD_E_VERIFY, "signature algorithm of the other key type");
		/* Bad keys. */
		EXPECT(tlsguard_sth_verify(s.key, s.klen - 1, s.ts, s.size, s.root, s.sig, slen), TLSGUARD_E_INVALID,
		       "truncated key");
		EXPECT(tlsguard_sth_verify(s.key + 1, s.klen - 1, s.ts, s.size, s.root, s.sig, slen), TLSGUARD_E_INVALID,
		       "key without its first byte");
		EXPECT(tlsguard_sth_verify((const unsigned char *)"-----BEGIN PUBLIC KEY-----", 26, s.ts, s.size, s.root,
		                           s.sig, slen),
		       TLSGUARD_E_INVALID, "PEM text as key");
		free(b);
		sth_free(&s);
	}
	/* Another log's valid key does not verify. */
	{
		struct sth a, e;
		sth_load(1, &e); /* ecdsa-42 */
		sth_load(2, &a); /* argon2020 */
		ck_assert_str_eq(e.name, "ecdsa-42");
		ck_assert_str_eq(a.name, "argon2020-961984011");
		ck_assert_int_eq(tlsguard_sth_verify(a.key, a.klen, e.ts, e.size, e.root, e.sig, e.slen), TLSGUARD_E_VERIFY);
		ncases++;
		sth_free(&a);
		sth_free(&e);
	}
	printf("check_merkle: sth_tampered: %u cases passed\n", ncases);
	fflush(stdout);
#undef EXPECT
}
END_TEST

/* Re-encode the ECDSA signature of @s (digitally-signed bytes) as BER
 * variants. Each must be rejected although r and s are unchanged. */
static size_t ber_variant(int kind, const unsigned char *ds, size_t dslen, unsigned char *out)
{
	const unsigned char *der = ds + 4, *r, *sv_;
	size_t rlen, slen, o = 4, bodylen;
	unsigned char body[200];
	size_t bl = 0;

	/* ds: 04 03 len(2) 30 L 02 rl r 02 sl s, all short form */
	ck_assert(der[0] == 0x30 && der[1] < 0x80 && der[2] == 0x02);
	rlen = der[3];
	r = der + 4;
	ck_assert(r[rlen] == 0x02);
	slen = r[rlen + 1];
	sv_ = r + rlen + 2;
	ck_assert_uint_eq(4 + 2 + 2 + rlen + 2 + slen, dslen);

	switch (kind) {
	case 0: /* r with a superfluous leading zero (the Symantec SCT case) */
		body[bl++] = 2, body[bl++] = (unsigned char)(rlen + 1), body[bl++] = 0;
		memcpy(body + bl, r, rlen), bl += rlen;
		body[bl++] = 2, body[bl++] = (unsigned char)slen;
		memcpy(body + bl, sv_, slen), bl += slen;
		break;
	case 1: /* s with a superfluous leading zero */
		body[bl++] = 2, body[bl++] = (unsigned char)rlen;
		memcpy(body + bl, r, rlen), bl += rlen;
		body[bl++] = 2, body[bl++] = (unsigned char)(slen + 1), body[bl++] = 0;
		memcpy(body + bl, sv_, slen), bl += slen;
		break;
	case 2: /* long-form INTEGER length */
		body[bl++] = 2, body[bl++] = 0x81, body[bl++] = (unsigned char)rlen;
		memcpy(body + bl, r, rlen), bl += rlen;
		body[bl++] = 2, body[bl++] = (unsigned char)slen;
		memcpy(body + bl, sv_, slen), bl += slen;
		break;
	default: /* 3, 4, 5: SEQUENCE variants below; body as is */
		memcpy(body, der + 2, der[1]);
		bl = der[1];
		break;
	}
	bodylen = bl;
	memcpy(out, ds, 2);
	if (kind == 3) { /* long-form SEQUENCE length */
		out[o++] = 0x30, out[o++] = 0x81, out[o++] = (unsigned char)bodylen;
	} else if (kind == 4) { /* indefinite length */
		out[o++] = 0x30, out[o++] = 0x80;
	} else {
		out[o++] = 0x30, out[o++] = (unsigned char)(bodylen + (kind == 5));
	}
	memcpy(out + o, body, bodylen);
	o += bodylen;
	if (kind == 4)
		out[o++] = 0, out[o++] = 0;
	if (kind == 5) /* a stray byte inside the SEQUENCE */
		out[o++] = 0;
	out[2] = (unsigned char)((o - 4) >> 8);
	out[3] = (unsigned char)(o - 4);
	return o;
}

/* Re-encode a minimal-DER ECDSA signature with r shown negative: strip the
 * 0x00 that keeps its high bit from being a sign bit. 0 if r has none. */
static size_t negative_r(const unsigned char *ds, size_t dslen, unsigned char *out)
{
	const unsigned char *der = ds + 4;
	size_t rlen = der[3];

	if (rlen < 2 || der[4] != 0)
		return 0;
	memcpy(out, ds, 4);
	out[4] = 0x30;
	out[5] = (unsigned char)(der[1] - 1);
	out[6] = 2;
	out[7] = (unsigned char)(rlen - 1);
	memcpy(out + 8, der + 5, dslen - 9);
	out[2] = (unsigned char)((dslen - 5) >> 8);
	out[3] = (unsigned char)(dslen - 5);
	return dslen - 1;
}

START_TEST(sth_ecdsa_der_strict)
{
	size_t n = json_object_array_length(jarr(sv, "vectors")), i;
	unsigned ncases = 0;

	for (i = 0; i < n; i++) {
		struct sth s;
		unsigned char b[300];
		size_t len;
		int kind, rc;

		sth_load(i, &s);
		if (!s.valid || s.sig[1] != 3) {
			sth_free(&s);
			continue;
		}
		ck_assert_int_eq(sth_check(&s, s.sig, s.slen), 0);
		for (kind = 0; kind <= 5; kind++) {
			len = ber_variant(kind, s.sig, s.slen, b);
			rc = sth_check(&s, b, len);
			ck_assert_msg(rc == TLSGUARD_E_VERIFY, "sth %s: BER variant %d accepted (%s)", s.name, kind, rcname(rc));
			ncases++;
		}
		len = negative_r(s.sig, s.slen, b);
		if (len > 0) {
			rc = sth_check(&s, b, len);
			ck_assert_msg(rc == TLSGUARD_E_VERIFY, "sth %s: negative r accepted (%s)", s.name, rcname(rc));
			ncases++;
		}
		sth_free(&s);
	}
	ck_assert_uint_ge(ncases, 12);
	printf("check_merkle: sth_ecdsa_der_strict: %u BER re-encodings rejected\n", ncases);
	fflush(stdout);
}
END_TEST

/* The GnuTLS finding behind the check above: does GnuTLS itself accept a
 * BER re-encoding of a valid ECDSA signature? Records the answer (the test
 * passes either way; lib/merkle.c does not rely on it). */
START_TEST(gnutls_ecdsa_ber_probe)
{
	struct sth s;
	gnutls_pubkey_t k;
	gnutls_datum_t kd, data, sd;
	unsigned char tbs[50], b[300];
	size_t len;
	int kind, accepted = 0, i;

	sth_load(1, &s); /* ecdsa-42 */
	ck_assert_int_eq(gnutls_pubkey_init(&k), 0);
	kd.data = s.key;
	kd.size = (unsigned)s.klen;
	ck_assert_int_eq(gnutls_pubkey_import(k, &kd, GNUTLS_X509_FMT_DER), 0);
	tbs[0] = 0;
	tbs[1] = 1;
	for (i = 0; i < 8; i++) {
		tbs[2 + i] = (unsigned char)(s.ts >> (56 - 8 * i));
		tbs[10 + i] = (unsigned char)(s.size >> (56 - 8 * i));
	}
	memcpy(tbs + 18, s.root, H);
	data.data = tbs;
	data.size = sizeof(tbs);
	sd.data = s.sig + 4;
	sd.size = (unsigned)s.slen - 4;
	ck_assert_int_eq(gnutls_pubkey_verify_data2(k, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sd), 0);
	for (kind = 0; kind <= 4; kind++) {
		len = ber_variant(kind, s.sig, s.slen, b);
		sd.data = b + 4;
		sd.size = (unsigned)len - 4;
		if (gnutls_pubkey_verify_data2(k, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sd) >= 0)
			accepted |= 1 << kind;
	}
	printf("check_merkle: GnuTLS %s ECDSA verification accepts BER variants:%s%s%s%s%s%s\n", gnutls_check_version(NULL),
	       accepted & 1 ? " r-leading-zero" : "", accepted & 2 ? " s-leading-zero" : "",
	       accepted & 4 ? " long-form-int-length" : "", accepted & 8 ? " long-form-seq-length" : "",
	       accepted & 16 ? " indefinite-length" : "", accepted == 0 ? " none" : "");
	fflush(stdout);
	gnutls_pubkey_deinit(k);
	sth_free(&s);
}
END_TEST

/* Keys the STH code must refuse although the signature is good. */
static void gen_sth(gnutls_pk_algorithm_t pk, unsigned bits, gnutls_sign_algorithm_t salg, unsigned char tls_sig,
                    unsigned char **key, size_t *klen, unsigned char *ds, size_t *dslen, const unsigned char tbs[50])
{
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub;
	gnutls_datum_t spki = {NULL, 0}, sig = {NULL, 0}, data = {(unsigned char *)(uintptr_t)tbs, 50};

	ck_assert_int_eq(gnutls_privkey_init(&priv), 0);
	ck_assert_int_eq(gnutls_privkey_generate(priv, pk, bits, 0), 0);
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(pub, priv, 0, 0), 0);
	ck_assert_int_eq(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), 0);
	*key = malloc(spki.size);
	ck_assert_ptr_nonnull(*key);
	memcpy(*key, spki.data, spki.size);
	*klen = spki.size;
	ck_assert_int_eq(gnutls_privkey_sign_data2(priv, salg, 0, &data, &sig), 0);
	ck_assert_uint_lt(sig.size, 600);
	ds[0] = 4;
	ds[1] = tls_sig;
	ds[2] = (unsigned char)(sig.size >> 8);
	ds[3] = (unsigned char)sig.size;
	memcpy(ds + 4, sig.data, sig.size);
	*dslen = 4 + sig.size;
	gnutls_free(sig.data);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
}

START_TEST(sth_generated_keys)
{
	unsigned char tbs[50], root[H], ds[700], *key;
	size_t klen, dslen;
	uint64_t ts = UINT64_C(1780272000000), size = UINT64_C(123456789012);
	int i, rc;

	rng_state = UINT64_C(0x737468);
	rnd_bytes(root, H);
	tbs[0] = 0;
	tbs[1] = 1;
	for (i = 0; i < 8; i++) {
		tbs[2 + i] = (unsigned char)(ts >> (56 - 8 * i));
		tbs[10 + i] = (unsigned char)(size >> (56 - 8 * i));
	}
	memcpy(tbs + 18, root, H);

	/* P-256: a fresh log key; valid, and our encoding of the input. */
	gen_sth(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), GNUTLS_SIGN_ECDSA_SHA256, 3, &key,
	        &klen, ds, &dslen, tbs);
	rc = tlsguard_sth_verify(key, klen, ts, size, root, ds, dslen);
	ck_assert_msg(rc == 0, "generated P-256 STH: %s", rcname(rc));
	rc = tlsguard_sth_verify(key, klen, ts, size + 1, root, ds, dslen);
	ck_assert_msg(rc == TLSGUARD_E_VERIFY, "generated P-256 STH, size+1: %s", rcname(rc));
	free(key);

	/* P-384 and RSA-1024: good signatures, keys CT does not allow. */
	gen_sth(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), GNUTLS_SIGN_ECDSA_SHA256, 3, &key,
	        &klen, ds, &dslen, tbs);
	rc = tlsguard_sth_verify(key, klen, ts, size, root, ds, dslen);
	ck_assert_msg(rc == TLSGUARD_E_INVALID, "P-384 log key: %s", rcname(rc));
	free(key);
	gen_sth(GNUTLS_PK_RSA, 1024, GNUTLS_SIGN_RSA_SHA256, 1, &key, &klen, ds, &dslen, tbs);
	rc = tlsguard_sth_verify(key, klen, ts, size, root, ds, dslen);
	ck_assert_msg(rc == TLSGUARD_E_INVALID, "RSA-1024 log key: %s", rcname(rc));
	free(key);
	gen_sth(GNUTLS_PK_EDDSA_ED25519, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), GNUTLS_SIGN_EDDSA_ED25519, 7,
	        &key, &klen, ds, &dslen, tbs);
	ds[1] = 3; /* even when claiming ECDSA */
	rc = tlsguard_sth_verify(key, klen, ts, size, root, ds, dslen);
	ck_assert_msg(rc == TLSGUARD_E_INVALID, "Ed25519 log key: %s", rcname(rc));
	free(key);
}
END_TEST

/* ------------------------------------------------------------ arguments */

START_TEST(null_and_bad_arguments)
{
	unsigned char a[H] = {0}, b[H] = {0}, out[H], proof[2 * H] = {0};
	static const unsigned char ds[] = {4, 3, 0, 0};
	static const unsigned char junk_key[] = {0x30, 0x03, 0x02, 0x01, 0x00};

	/* leaf hash */
	ck_assert_int_eq(tlsguard_merkle_leaf_hash(NULL, 0, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_leaf_hash(NULL, 5, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_leaf_hash(a, 1, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_leaf_hash(a, 0, out), 0);
	/* node hash */
	ck_assert_int_eq(tlsguard_merkle_node_hash(NULL, b, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_node_hash(a, NULL, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_node_hash(a, b, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_merkle_node_hash_raw(NULL, 1, b, 1, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_merkle_node_hash_raw(a, 1, NULL, 1, out), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_merkle_node_hash_raw(a, 1, b, 1, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tg_merkle_node_hash_raw(NULL, 0, NULL, 0, out), 0);

	/* inclusion: (a, 0, 1, "", a) is the valid single-leaf tree */
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 1, proof, 0, a), 0);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(NULL, 0, 1, proof, 0, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 1, proof, 0, NULL), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 1, NULL, 0, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, NULL, H, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, 1, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, H - 1, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, H + 1, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, SIZE_MAX, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 0, proof, 0, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 1, 1, proof, 0, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 5, 3, proof, H, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, UINT64_MAX, UINT64_MAX, proof, H, a), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, UINT64_MAX, 1, proof, 0, a), TLSGUARD_E_INVALID);
	/* right type, wrong length: VERIFY */
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 1, proof, H, a), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, 0, a), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, 2 * H, a), TLSGUARD_E_VERIFY);
	/* A huge proof_len that is a multiple of 32 is rejected on length
	 * alone, without reading it. */
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(a, 0, 2, proof, SIZE_MAX - SIZE_MAX % H, a),
	                 TLSGUARD_E_VERIFY);

	/* consistency */
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 1, a, a, proof, 0), 0);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 1, NULL, a, proof, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 1, a, NULL, proof, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 1, a, a, NULL, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 2, a, a, NULL, H), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 2, a, a, proof, 31), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 2, a, a, proof, 33), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(2, 1, a, a, proof, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(UINT64_MAX, 0, a, a, proof, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(UINT64_MAX, UINT64_MAX - 1, a, a, proof, H),
	                 TLSGUARD_E_INVALID);
	/* size1 == 0 is never provable; equal sizes need equal roots and an
	 * empty proof; otherwise a proof is needed */
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(0, 0, a, a, proof, 0), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(0, 1, a, a, proof, 0), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(0, UINT64_MAX, a, a, proof, H), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 1, a, a, proof, H), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(UINT64_MAX, UINT64_MAX, a, a, proof, 0), 0);
	b[7] = 1;
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(5, 5, a, b, proof, 0), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 2, a, b, proof, 0), TLSGUARD_E_VERIFY);
	ck_assert_int_eq(tlsguard_merkle_verify_consistency(1, 2, a, b, proof, SIZE_MAX - SIZE_MAX % H),
	                 TLSGUARD_E_VERIFY);

	/* STH */
	ck_assert_int_eq(tlsguard_sth_verify(NULL, 10, 0, 0, a, ds, sizeof(ds)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, 0, 0, 0, a, ds, sizeof(ds)), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, sizeof(junk_key), 0, 0, NULL, ds, sizeof(ds)),
	                 TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, sizeof(junk_key), 0, 0, a, NULL, 4), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, sizeof(junk_key), 0, 0, a, ds, 0), TLSGUARD_E_INVALID);
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, sizeof(junk_key), 0, 0, a, ds, 3), TLSGUARD_E_INVALID);
	/* a well-formed struct, but the key is not a SubjectPublicKeyInfo */
	ck_assert_int_eq(tlsguard_sth_verify(junk_key, sizeof(junk_key), 0, 0, a, ds, sizeof(ds)), TLSGUARD_E_INVALID);
}
END_TEST

/* ------------------------------------------------------------ 64-bit sizes */

/* Genuine proofs from the recursive model for sizes up to 2^64 - 1. */
START_TEST(large_trees)
{
	static const uint64_t sizes[] = {2, 3, 5, 7, 8, 9, 1000, UINT64_C(961984011), UINT64_C(1) << 32,
	                                 (UINT64_C(1) << 32) + 1, UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1,
	                                 UINT64_MAX - 1, UINT64_MAX};
	unsigned char proof[MAXPROOF * H], leaf[H], root[H], r1[H], r2[H];
	size_t i, j, cnt;
	int rc;

	rng_state = UINT64_C(0x6c61726765);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];
		const uint64_t idx[] = {0, 1, n / 2, n - 2, n - 1};
		for (j = 0; j < 5; j++) {
			cnt = 0;
			rnd_bytes(leaf, H);
			model_inclusion(idx[j], n, leaf, proof, &cnt, root);
			ck_assert_uint_le(cnt, 64);
			rc = tlsguard_merkle_verify_inclusion(leaf, idx[j], n, proof, cnt * H, root);
			ck_assert_msg(rc == 0, "inclusion (%" PRIu64 ", %" PRIu64 "): %s", idx[j], n, rcname(rc));
			if (idx[j] + 1 < n) {
				rc = tlsguard_merkle_verify_inclusion(leaf, idx[j] + 1, n, proof, cnt * H, root);
				ck_assert_msg(rc == TLSGUARD_E_VERIFY, "inclusion (%" PRIu64 "+1, %" PRIu64 "): %s", idx[j], n,
				              rcname(rc));
			}
		}
		for (j = 0; j < 5; j++) {
			uint64_t m = idx[j] == 0 ? 1 : idx[j];
			if (m >= n)
				continue;
			cnt = 0;
			model_consistency(m, n, true, proof, &cnt, r1, r2);
			rc = tlsguard_merkle_verify_consistency(m, n, r1, r2, proof, cnt * H);
			ck_assert_msg(rc == 0, "consistency %" PRIu64 " -> %" PRIu64 " (%zu hashes): %s", m, n, cnt,
			              rcname(rc));
			rc = tlsguard_merkle_verify_consistency(m, n, r1, r2, proof, (cnt - 1) * H);
			ck_assert_msg(rc == TLSGUARD_E_VERIFY, "consistency %" PRIu64 " -> %" PRIu64 " truncated: %s", m, n,
			              rcname(rc));
		}
	}
	/* The deepest trees: 64 hashes for the last leaf of 2^64 - 1 is the
	 * maximum; the inclusion path of leaf 0 there is 64 long too. */
	cnt = 0;
	model_inclusion(0, UINT64_MAX, leaf, proof, &cnt, root);
	ck_assert_uint_eq(cnt, 64);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(leaf, 0, UINT64_MAX, proof, 64 * H, root), 0);
	memset(proof + 64 * H, 0, H);
	ck_assert_int_eq(tlsguard_merkle_verify_inclusion(leaf, 0, UINT64_MAX, proof, 65 * H, root), TLSGUARD_E_VERIFY);
}
END_TEST

/* ------------------------------------------------------------ robustness */

START_TEST(fuzz_proofs)
{
	unsigned char proof[(MAXPROOF + 8) * H], leaf[H], root[H], r1[H], r2[H];
	unsigned long genuine = 0, mutated = 0, random_ = 0;
	int it, rc;

	rng_state = UINT64_C(0x74677561726421); /* fixed seed: reproducible */
	for (it = 0; it < 10000; it++) {
		uint64_t n = rnd_size(), m = rnd() % n, k;
		size_t cnt = 0, pos;

		/* A genuine inclusion proof verifies ... */
		rnd_bytes(leaf, H);
		model_inclusion(m, n, leaf, proof, &cnt, root);
		rc = tlsguard_merkle_verify_inclusion(leaf, m, n, proof, cnt * H, root);
		ck_assert_msg(rc == 0, "iteration %d: inclusion (%" PRIu64 ", %" PRIu64 "): %s", it, m, n, rcname(rc));
		genuine++;
		/* ... and no single-bit change of it does. */
		switch (rnd() % 5) {
		case 0:
			leaf[rnd() % H] ^= (unsigned char)(1u << rnd() % 8);
			break;
		case 1:
			root[rnd() % H] ^= (unsigned char)(1u << rnd() % 8);
			break;
		case 2:
			if (cnt > 0) {
				pos = (size_t)(rnd() % (cnt * H));
				proof[pos] ^= (unsigned char)(1u << rnd() % 8);
			} else {
				root[0] ^= 1;
			}
			break;
		case 3: /* one hash more */
			rnd_bytes(proof + cnt * H, H);
			cnt++;
			break;
		default: /* one hash less */
			if (cnt > 0)
				cnt--;
			else
				leaf[0] ^= 1;
			break;
		}
		rc = tlsguard_merkle_verify_inclusion(leaf, m, n, proof, cnt * H, root);
		ck_assert_msg(rc == TLSGUARD_E_VERIFY, "iteration %d: mutated inclusion (%" PRIu64 ", %" PRIu64 "): %s", it,
		              m, n, rcname(rc));
		mutated++;

		/* A genuine consistency proof verifies, a mutated one does not. */
		if (n >= 2) {
			k = 1 + rnd() % (n - 1);
			cnt = 0;
			model_consistency(k, n, true, proof, &cnt, r1, r2);
			rc = tlsguard_merkle_verify_consistency(k, n, r1, r2, proof, cnt * H);
			ck_assert_msg(rc == 0, "iteration %d: consistency %" PRIu64 " -> %" PRIu64 ": %s", it, k, n,
			              rcname(rc));
			genuine++;
			switch (rnd() % 5) {
			case 0:
				r1[rnd() % H] ^= (unsigned char)(1u << rnd() % 8);
				break;
			case 1:
				r2[rnd() % H] ^= (unsigned char)(1u << rnd() % 8);
				break;
			case 2:
				pos = (size_t)(rnd() % (cnt * H));
				proof[pos] ^= (unsigned char)(1u << rnd() % 8);
				break;
			case 3:
				rnd_bytes(proof + cnt * H, H);
				cnt++;
				break;
			default:
				cnt--;
				break;
			}
			rc = tlsguard_merkle_verify_consistency(k, n, r1, r2, proof, cnt * H);
			ck_assert_msg(rc == TLSGUARD_E_VERIFY, "iteration %d: mutated consistency %" PRIu64 " -> %" PRIu64 ": %s",
			              it, k, n, rcname(rc));
			mutated++;
		}

		/* Random everything: never valid, and the code the header
		 * promises for the arguments. Lengths sometimes not whole hashes. */
		{
			uint64_t a = rnd() % 4 == 0 ? rnd() : rnd_size(), b = rnd() % 4 == 0 ? rnd() : rnd_size();
			uint64_t idx = rnd() % 3 == 0 ? rnd() : rnd() % (a + (a < UINT64_MAX));
			size_t plen = (size_t)(rnd() % (MAXPROOF + 4)) * H;
			int want;
			if (rnd() % 8 == 0)
				plen += 1 + (size_t)(rnd() % (H - 1));
			rnd_bytes(proof, plen);
			rnd_bytes(leaf, H);
			rnd_bytes(root, H);
			rc = tlsguard_merkle_verify_inclusion(leaf, idx, a, proof, plen, root);
			want = idx >= a || plen % H != 0 ? TLSGUARD_E_INVALID : TLSGUARD_E_VERIFY;
			ck_assert_msg(rc == want, "iteration %d: random inclusion (%" PRIu64 ", %" PRIu64 ", %zu bytes): %s", it,
			              idx, a, plen, rcname(rc));
			rc = tlsguard_merkle_verify_consistency(idx, a, leaf, root, proof, plen);
			want = idx > a || plen % H != 0 ? TLSGUARD_E_INVALID : TLSGUARD_E_VERIFY;
			ck_assert_msg(rc == want, "iteration %d: random consistency %" PRIu64 " -> %" PRIu64 " (%zu bytes): %s",
			              it, idx, a, plen, rcname(rc));
			rc = tlsguard_merkle_verify_consistency(a, b, leaf, root, proof, plen);
			want = a > b || plen % H != 0 ? TLSGUARD_E_INVALID : TLSGUARD_E_VERIFY;
			ck_assert_msg(rc == want, "iteration %d: random consistency %" PRIu64 " -> %" PRIu64 " (%zu bytes): %s",
			              it, a, b, plen, rcname(rc));
			random_ += 3;
		}
	}
	printf("check_merkle: fuzz_proofs: 10000 iterations: %lu genuine proofs verified, %lu mutated and %lu random "
	       "rejected\n",
	       genuine, mutated, random_);
	fflush(stdout);
}
END_TEST

/* Random changes to valid STH signatures never verify. */
START_TEST(fuzz_sth)
{
	size_t n = json_object_array_length(jarr(sv, "vectors")), i;
	unsigned long tried = 0;

	rng_state = UINT64_C(0x7374682d66757a7a);
	for (i = 0; i < n; i++) {
		struct sth s;
		unsigned char b[600];
		int it;

		sth_load(i, &s);
		if (!s.valid) {
			sth_free(&s);
			continue;
		}
		ck_assert_uint_le(s.slen + 4, sizeof(b));
		for (it = 0; it < 1000; it++) {
			size_t len = s.slen, k, nchanges = 1 + rnd() % 3;
			int rc;
			memcpy(b, s.sig, s.slen);
			for (k = 0; k < nchanges; k++) {
				switch (rnd() % 4) {
				case 0:
				case 1: { /* change one byte */
					size_t p = (size_t)(rnd() % len);
					b[p] ^= (unsigned char)(1 + rnd() % 255);
					break;
				}
				case 2: /* cut */
					len -= (size_t)(rnd() % (len < 8 ? len : 8));
					break;
				default: /* append */
					b[len++] = (unsigned char)rnd();
					if (len > s.slen + 3)
						len = s.slen + 3;
					break;
				}
			}
			if (len == s.slen && memcmp(b, s.sig, len) == 0)
				continue;
			rc = sth_check(&s, b, len);
			ck_assert_msg(rc == TLSGUARD_E_VERIFY || rc == TLSGUARD_E_INVALID, "sth %s iteration %d: %s", s.name,
			              it, rcname(rc));
			tried++;
		}
		sth_free(&s);
	}
	printf("check_merkle: fuzz_sth: %lu mutated signatures rejected\n", tried);
	fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------ main */

static Suite *suite_nodata(void)
{
	Suite *s = suite_create("merkle-nodata");
	TCase *tc = tcase_create("api");
	tcase_add_test(tc, node_hash_forms);
	tcase_add_test(tc, null_and_bad_arguments);
	tcase_add_test(tc, large_trees);
	tcase_add_test(tc, sth_generated_keys);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("robustness");
	tcase_add_test(tc, fuzz_proofs);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *suite_vectors(void)
{
	Suite *s = suite_create("merkle-vectors");
	TCase *tc = tcase_create("merkle");
	tcase_add_test(tc, hasher_kats);
	tcase_add_test(tc, reference_tree);
	tcase_add_test(tc, inclusion_vectors);
	tcase_add_test(tc, consistency_vectors);
	tcase_add_test(tc, real_world_argon2020);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("sth");
	tcase_add_test(tc, sth_vectors);
	tcase_add_test(tc, sth_tampered);
	tcase_add_test(tc, sth_ecdsa_der_strict);
	tcase_add_test(tc, gnutls_ecdsa_ber_probe);
	tcase_add_test(tc, fuzz_sth);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *shared = getenv("TG_SHARED");
	char path[4200];
	struct stat st;
	int rc;

	snprintf(ctdir, sizeof(ctdir), "%s/testdata/ct", shared ? shared : "../shared");
	if (stat(ctdir, &st) != 0) {
		const char *ci = getenv("CI");
		if (ci != NULL && strcmp(ci, "true") == 0) {
			fprintf(stderr, "check_merkle: %s is missing, and CI=true requires it\n", ctdir);
			return EXIT_FAILURE;
		}
		/* What needs no data still runs. */
		if (test_run(suite_nodata()) != EXIT_SUCCESS)
			return EXIT_FAILURE;
		printf("check_merkle: SKIP: shared test data not found at %s\n", ctdir);
		return 77;
	}
	/* Loaded once here; the forked tests read it. A missing or unparsable
	 * file is a failure, not a skip: the directory is there. */
	snprintf(path, sizeof(path), "%s/merkle-vectors.json", ctdir);
	mv = json_object_from_file(path);
	if (mv == NULL) {
		fprintf(stderr, "check_merkle: cannot parse %s: %s\n", path, json_util_get_last_err());
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/sth/sth-vectors.json", ctdir);
	sv = json_object_from_file(path);
	if (sv == NULL) {
		fprintf(stderr, "check_merkle: cannot parse %s: %s\n", path, json_util_get_last_err());
		json_object_put(mv);
		return EXIT_FAILURE;
	}
	rc = test_run(suite_nodata());
	if (test_run(suite_vectors()) != EXIT_SUCCESS)
		rc = EXIT_FAILURE;
	json_object_put(mv);
	json_object_put(sv);
	return rc;
}
