/*
 * Certificate Transparency Merkle trees (RFC 9162 sec. 2.1, RFC 6962 sec.
 * 2.1) and signed tree heads (RFC 6962 sec. 3.5).
 *
 * Proof verification follows RFC 9162 sec. 2.1.3.2 (inclusion) and 2.1.4.2
 * (consistency) step by step: the iterative algorithms with fn/sn and bit
 * shifting, which also enforce the exact proof length (every hash must be
 * used, none may be missing). Sizes and indices are uint64_t throughout and
 * nothing is ever added to them, so no size overflows.
 *
 * Error mapping (tlsguard.h is the contract):
 *   TLSGUARD_E_INVALID  the arguments cannot describe a proof: NULL (also an
 *                       empty proof: the header allows no NULL, so pass any
 *                       pointer with length 0), proof_len not a multiple of
 *                       32, index >= tree_size, size1 > size2;
 *   TLSGUARD_E_VERIFY   well-formed arguments that do not verify, including
 *                       a proof of the wrong length and size1 == 0;
 *   TLSGUARD_E_INTERNAL only if GnuTLS cannot hash (never seen in practice).
 *
 * Everything here is public data, so comparisons need not be constant time.
 */
#include "config.h"

#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "tg.h"

#define HLEN TLSGUARD_MERKLE_HASH_LEN

/* SHA-256(prefix || a || b) over arbitrary lengths. */
static int sha256_prefixed(unsigned char prefix, const unsigned char *a, size_t alen, const unsigned char *b,
                           size_t blen, unsigned char out[HLEN])
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return TLSGUARD_E_INTERNAL;
	if (gnutls_hash(h, &prefix, 1) < 0 || (alen > 0 && gnutls_hash(h, a, alen) < 0) ||
	    (blen > 0 && gnutls_hash(h, b, blen) < 0)) {
		gnutls_hash_deinit(h, NULL);
		return TLSGUARD_E_INTERNAL;
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

/* Interior node of two 32-byte children: one stack buffer, one hash call. */
static int node_hash(const unsigned char left[HLEN], const unsigned char right[HLEN], unsigned char out[HLEN])
{
	unsigned char buf[1 + 2 * HLEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, HLEN);
	memcpy(buf + 1 + HLEN, right, HLEN);
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, sizeof(buf), out) < 0 ? TLSGUARD_E_INTERNAL : 0;
}

int tg_merkle_node_hash_raw(const unsigned char *left, size_t left_len, const unsigned char *right,
                            size_t right_len, unsigned char out[32])
{
	if ((left == NULL && left_len > 0) || (right == NULL && right_len > 0) || out == NULL)
		return TLSGUARD_E_INVALID;
	return sha256_prefixed(0x01, left, left_len, right, right_len, out);
}

int tlsguard_merkle_leaf_hash(const unsigned char *leaf, size_t len, unsigned char out[32])
{
	if (leaf == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	return sha256_prefixed(0x00, leaf, len, NULL, 0, out);
}

int tlsguard_merkle_node_hash(const unsigned char left[32], const unsigned char right[32], unsigned char out[32])
{
	if (left == NULL || right == NULL || out == NULL)
		return TLSGUARD_E_INVALID;
	return node_hash(left, right, out);
}

/* A proof buffer is usable when it is a whole number of hashes. */
static bool proof_ok(const unsigned char *proof, size_t proof_len)
{
	return proof != NULL && proof_len % HLEN == 0;
}

int tlsguard_merkle_verify_inclusion(const unsigned char leaf_hash[32], uint64_t index, uint64_t tree_size,
                                     const unsigned char *proof, size_t proof_len, const unsigned char root[32])
{
	unsigned char r[HLEN];
	uint64_t fn, sn;
	size_t i, n;
	int rc;

	if (leaf_hash == NULL || root == NULL || !proof_ok(proof, proof_len))
		return TLSGUARD_E_INVALID;
	/* RFC 9162 2.1.3.2 step 1 (also covers tree_size == 0). */
	if (index >= tree_size)
		return TLSGUARD_E_INVALID;
	n = proof_len / HLEN;
	/* A tree of at most 2^64 - 1 leaves is at most 64 levels high. */
	if (n > 64)
		return TLSGUARD_E_VERIFY;

	fn = index;
	sn = tree_size - 1;
	memcpy(r, leaf_hash, HLEN);
	for (i = 0; i < n; i++) {
		const unsigned char *p = proof + i * HLEN;
		if (sn == 0)
			return TLSGUARD_E_VERIFY; /* proof too long */
		if ((fn & 1) != 0 || fn == sn) {
			rc = node_hash(p, r, r);
			if (rc < 0)
				return rc;
			if ((fn & 1) == 0) {
				/* Last node of its level: skip the levels where it
				 * has no right sibling. fn != 0 here since fn == sn. */
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			rc = node_hash(r, p, r);
			if (rc < 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* sn != 0: proof too short. */
	if (sn != 0 || memcmp(r, root, HLEN) != 0)
		return TLSGUARD_E_VERIFY;
	return 0;
}

int tlsguard_merkle_verify_consistency(uint64_t size1, uint64_t size2, const unsigned char root1[32],
                                       const unsigned char root2[32], const unsigned char *proof, size_t proof_len)
{
	unsigned char fr[HLEN], sr[HLEN];
	uint64_t fn, sn;
	size_t i, n;
	int rc;

	if (root1 == NULL || root2 == NULL || !proof_ok(proof, proof_len))
		return TLSGUARD_E_INVALID;
	/* A shrinking tree cannot be proven to extend a bigger one: like
	 * index >= tree_size, a request no proof can answer. */
	if (size1 > size2)
		return TLSGUARD_E_INVALID;
	/* The empty tree is consistent with everything, which proves nothing
	 * about the log: tlsguard.h makes it a verification failure (also
	 * for size1 == size2 == 0). */
	if (size1 == 0)
		return TLSGUARD_E_VERIFY;
	if (size1 == size2)
		return proof_len == 0 && memcmp(root1, root2, HLEN) == 0 ? 0 : TLSGUARD_E_VERIFY;

	/* RFC 9162 2.1.4.2, 0 < size1 < size2. */
	n = proof_len / HLEN;
	if (n == 0) /* step 1 */
		return TLSGUARD_E_VERIFY;
	if (n > 128) /* at most 64 levels below each of the two roots */
		return TLSGUARD_E_VERIFY;

	/* Step 2: if size1 is a power of 2, root1 is (virtually) prepended to
	 * the path; i indexes the real proof from here on. Step 5 seeds fr and
	 * sr with the first (virtual or real) element. */
	if ((size1 & (size1 - 1)) == 0) {
		memcpy(fr, root1, HLEN);
		i = 0;
	} else {
		memcpy(fr, proof, HLEN);
		i = 1;
	}
	memcpy(sr, fr, HLEN);

	/* Steps 3 and 4. */
	fn = size1 - 1;
	sn = size2 - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}

	/* Step 6. */
	for (; i < n; i++) {
		const unsigned char *c = proof + i * HLEN;
		if (sn == 0)
			return TLSGUARD_E_VERIFY; /* proof too long */
		if ((fn & 1) != 0 || fn == sn) {
			rc = node_hash(c, fr, fr);
			if (rc == 0)
				rc = node_hash(c, sr, sr);
			if (rc < 0)
				return rc;
			if ((fn & 1) == 0) {
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			rc = node_hash(sr, c, sr);
			if (rc < 0)
				return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}

	/* Step 7. */
	if (sn != 0 || memcmp(fr, root1, HLEN) != 0 || memcmp(sr, root2, HLEN) != 0)
		return TLSGUARD_E_VERIFY;
	return 0;
}

/* ------------------------------------------------------------------ STH */

/* TLS SignatureAndHashAlgorithm values (RFC 5246 sec. 7.4.1.4.1). */
#define TLS_HASH_SHA256 4
#define TLS_SIG_RSA 1
#define TLS_SIG_ECDSA 3

#define ECDSA_P256_MAX_INT 32 /* r, s < n < 2^256 */

static void put_u64(unsigned char *p, uint64_t v)
{
	int i;
	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/*
 * Read one BER TLV with tag @tag at *p (before @end), leniently: any
 * definite length form. Sets *val and *vlen to the contents and advances *p.
 * Returns false on a different tag, indefinite length or truncation.
 */
static bool ber_read(const unsigned char **p, const unsigned char *end, unsigned char tag,
                     const unsigned char **val, size_t *vlen)
{
	const unsigned char *q = *p;
	size_t len, nbytes;

	if (end - q < 2 || q[0] != tag)
		return false;
	q++;
	if (*q < 0x80) {
		len = *q++;
	} else {
		nbytes = *q++ & 0x7fu;
		if (nbytes == 0 || nbytes > 2 || (size_t)(end - q) < nbytes) /* indefinite, or absurd */
			return false;
		len = 0;
		while (nbytes-- > 0)
			len = len << 8 | *q++;
	}
	if ((size_t)(end - q) < len)
		return false;
	*val = q;
	*vlen = len;
	*p = q + len;
	return true;
}

/* Minimal DER INTEGER for the unsigned magnitude @mag (no leading zeros). */
static size_t der_put_uint(unsigned char *out, const unsigned char *mag, size_t len)
{
	size_t o = 0;
	bool pad = len == 0 || (mag[0] & 0x80) != 0;

	out[o++] = 0x02;
	out[o++] = (unsigned char)(len + pad);
	if (pad)
		out[o++] = 0x00;
	memcpy(out + o, mag, len);
	return o + len;
}

/*
 * Is @sig a DER Ecdsa-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) for
 * P-256? GnuTLS 3.7 (via libtasn1) also accepts BER: superfluous leading
 * zeros, negative-looking integers, long-form and indefinite lengths (see
 * tests/unit/check_merkle.c). CT requires DER, as do Chrome and OpenSSL, so
 * parse r and s leniently and compare the input with their minimal
 * re-encoding.
 */
static bool ecdsa_sig_is_der(const unsigned char *sig, size_t len)
{
	const unsigned char *p = sig, *end = sig + len, *seq, *r, *s, *q, *qend;
	size_t seqlen, rlen, slen, o = 0;
	unsigned char der[2 + 2 * (3 + ECDSA_P256_MAX_INT)];
	unsigned char body[2 * (3 + ECDSA_P256_MAX_INT)];
	size_t blen;

	if (!ber_read(&p, end, 0x30, &seq, &seqlen))
		return false;
	q = seq;
	qend = seq + seqlen;
	if (!ber_read(&q, qend, 0x02, &r, &rlen) || !ber_read(&q, qend, 0x02, &s, &slen))
		return false;
	/* Magnitudes without leading zero bytes. */
	while (rlen > 0 && r[0] == 0) {
		r++;
		rlen--;
	}
	while (slen > 0 && s[0] == 0) {
		s++;
		slen--;
	}
	if (rlen > ECDSA_P256_MAX_INT || slen > ECDSA_P256_MAX_INT)
		return false;
	blen = der_put_uint(body, r, rlen);
	blen += der_put_uint(body + blen, s, slen);
	/* blen <= 70 < 128: the short length form is the DER one. */
	der[o++] = 0x30;
	der[o++] = (unsigned char)blen;
	memcpy(der + o, body, blen);
	o += blen;
	/* Compares everything: lengths, padding, trailing bytes inside and
	 * after the SEQUENCE. */
	return o == len && memcmp(der, sig, len) == 0;
}

int tlsguard_sth_verify(const unsigned char *log_key, size_t key_len, uint64_t timestamp_ms, uint64_t tree_size,
                        const unsigned char root[32], const unsigned char *sig, size_t sig_len)
{
	unsigned char tbs[1 + 1 + 8 + 8 + HLEN];
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t d;
	gnutls_sign_algorithm_t salg;
	unsigned hash_alg, sig_alg, bits = 0;
	size_t slen;
	int pk, rc, grc;

	if (log_key == NULL || key_len == 0 || key_len > UINT32_MAX || root == NULL || sig == NULL)
		return TLSGUARD_E_INVALID;

	/* DigitallySigned: hash(1) signature(1) opaque signature<0..2^16-1>,
	 * nothing after it. */
	if (sig_len < 4)
		return TLSGUARD_E_INVALID;
	hash_alg = sig[0];
	sig_alg = sig[1];
	slen = (size_t)sig[2] << 8 | sig[3];
	if (sig_len != 4 + slen)
		return TLSGUARD_E_INVALID;
	if (hash_alg != TLS_HASH_SHA256)
		return TLSGUARD_E_INVALID;
	if (sig_alg == TLS_SIG_RSA)
		salg = GNUTLS_SIGN_RSA_SHA256;
	else if (sig_alg == TLS_SIG_ECDSA)
		salg = GNUTLS_SIGN_ECDSA_SHA256;
	else
		return TLSGUARD_E_INVALID;

	/* The log key: DER SubjectPublicKeyInfo, RSA (>= 2048 bits, RFC 6962
	 * sec. 2.1.4) or ECDSA on P-256. Anything else is a bad key. */
	if (gnutls_pubkey_init(&key) < 0)
		return TLSGUARD_E_NOMEM;
	d.data = (unsigned char *)(uintptr_t)log_key;
	d.size = (unsigned)key_len;
	if (gnutls_pubkey_import(key, &d, GNUTLS_X509_FMT_DER) < 0) {
		rc = TLSGUARD_E_INVALID;
		goto out;
	}
	pk = gnutls_pubkey_get_pk_algorithm(key, &bits);
	if (pk == GNUTLS_PK_RSA) {
		if (bits < 2048) {
			rc = TLSGUARD_E_INVALID;
			goto out;
		}
	} else if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		if (gnutls_pubkey_export_ecc_raw2(key, &curve, NULL, NULL, 0) < 0 ||
		    curve != GNUTLS_ECC_CURVE_SECP256R1) {
			rc = TLSGUARD_E_INVALID;
			goto out;
		}
	} else {
		rc = TLSGUARD_E_INVALID;
		goto out;
	}

	/* Well-formed, but made with an algorithm this key cannot make, or
	 * not in the one encoding allowed: does not verify. */
	rc = TLSGUARD_E_VERIFY;
	if ((pk == GNUTLS_PK_RSA) != (sig_alg == TLS_SIG_RSA) || slen == 0)
		goto out;
	/* PKCS #1 v1.5: exactly the modulus length (RFC 8017 sec. 8.2.2). */
	if (pk == GNUTLS_PK_RSA && slen != ((size_t)bits + 7) / 8)
		goto out;
	if (pk == GNUTLS_PK_ECDSA && !ecdsa_sig_is_der(sig + 4, slen))
		goto out;

	/* TreeHeadSignature: version v1 (0), signature_type tree_hash (1),
	 * timestamp, tree_size, sha256_root_hash. */
	tbs[0] = 0;
	tbs[1] = 1;
	put_u64(tbs + 2, timestamp_ms);
	put_u64(tbs + 10, tree_size);
	memcpy(tbs + 18, root, HLEN);
	{
		gnutls_datum_t data = {tbs, sizeof(tbs)};
		gnutls_datum_t sd = {(unsigned char *)(uintptr_t)(sig + 4), (unsigned)slen};
		grc = gnutls_pubkey_verify_data2(key, salg, 0, &data, &sd);
	}
	if (grc >= 0)
		rc = 0;
	else if (grc == GNUTLS_E_MEMORY_ERROR)
		rc = TLSGUARD_E_NOMEM;
out:
	gnutls_pubkey_deinit(key);
	return rc;
}
