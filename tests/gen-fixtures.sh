#!/usr/bin/env bash
#
# gen-fixtures.sh - generate the throw-away test PKI used by the tlsguard unit
# tests, end-to-end tests, benchmark and demo.
#
# Usage: tests/gen-fixtures.sh OUTDIR
#
# Everything is (re)generated on every run; nothing here is meant to be
# committed.  See tests/data/README.md for what each file is for.
#
# Certificates use fixed validity dates (see the templates below) so tests can
# verify at a fixed time (2026-06-01, unix 1780272000).  OCSP responses cannot:
# `openssl ocsp` stamps them with its own clock (thisUpdate = now).
#
# Output is quiet on success.  All tool output goes to OUTDIR/gen-fixtures.log,
# whose tail is printed on failure.

set -Eeuo pipefail # -E: ERR trap also fires inside functions

PROG=${0##*/}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

if [[ $# -ne 1 || -z $1 ]]; then
    printf 'usage: %s OUTDIR\n' "$PROG" >&2
    exit 2
fi

for tool in certtool openssl; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found in PATH (install gnutls-bin for certtool, openssl for openssl)"
done
# macOS ships an unrelated "certtool"; make sure this is the GnuTLS one.
certtool --version 2>/dev/null | grep -qi gnutls ||
    die "'certtool' in PATH is not the GnuTLS certtool (install gnutls-bin)"

OUTDIR=$1
mkdir -p -- "$OUTDIR" || die "cannot create output directory '$OUTDIR'"
OUTDIR=$(cd -- "$OUTDIR" && pwd)
LOG=$OUTDIR/gen-fixtures.log

# Invalidate the stamp first so an interrupted run never looks complete.
rm -f -- "$OUTDIR/stamp"
: >"$LOG"

# Build everything in a private directory inside OUTDIR (same file system, so
# the final mv is a cheap rename), then publish the results.
WORK=$(mktemp -d "$OUTDIR/.gen-fixtures.XXXXXX")
OUT=$WORK/out # finished artefacts
TMP=$WORK/tmp # templates and the OCSP index (not published)
mkdir "$OUT" "$TMP"

cleanup() { rm -rf -- "$WORK"; }
# fail_log RC MESSAGE  - report MESSAGE plus the tail of the log, exit RC
fail_log() {
    {
        printf '%s: error: %s; last lines of %s:\n' "$PROG" "$2" "$LOG"
        tail -n 25 -- "$LOG" | sed 's/^/    /'
    } >&2
    exit "$1"
}
on_error() {
    local rc=$?
    fail_log "$rc" "command failed (exit $rc) at line $1"
}
trap cleanup EXIT
trap 'on_error $LINENO' ERR

# Run a command with its output appended to the log.
run() {
    printf '+ %s\n' "$*" >>"$LOG"
    "$@" >>"$LOG" 2>&1
}

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

# genkey NAME TYPE  - TYPE is rsa2048, rsa1024 or p256; writes $OUT/NAME.key
genkey() {
    local name=$1 type=$2 key=$OUT/$1.key
    case $type in
    rsa2048) run certtool --generate-privkey --no-text --key-type rsa --bits 2048 --outfile "$key" ;;
    rsa1024)
        # certtool only warns about 1024-bit RSA; fall back to openssl anyway.
        run certtool --generate-privkey --no-text --key-type rsa --bits 1024 --outfile "$key" ||
            run openssl genrsa -out "$key" 1024
        ;;
    p256) run certtool --generate-privkey --no-text --key-type ecdsa --curve secp256r1 --outfile "$key" ;;
    *) die "genkey: unknown key type '$type' for $name" ;;
    esac
}

# Serial numbers are assigned sequentially so the OCSP index is readable.
NEXT_SERIAL=4096 # 0x1000

# mkcert [--hash ALGO] NAME ISSUER TEMPLATE-LINE...
#   Signs $OUT/NAME.key (which must already exist, see genkey) into
#   $OUT/NAME.pem and $OUT/NAME.der.  ISSUER is "self" for a self-signed
#   certificate, otherwise the NAME of an already generated cert+key in $OUT.
#   A unique serial number is appended to the template.
mkcert() {
    local hash=SHA256
    if [[ $1 == --hash ]]; then
        hash=$2
        shift 2
    fi
    local name=$1 issuer=$2
    shift 2
    local tmpl=$TMP/$name.tmpl
    printf '%s\n' "$@" "serial = $NEXT_SERIAL" >"$tmpl"
    NEXT_SERIAL=$((NEXT_SERIAL + 1))

    if [[ $issuer == self ]]; then
        run certtool --generate-self-signed --hash "$hash" \
            --load-privkey "$OUT/$name.key" \
            --template "$tmpl" --outfile "$OUT/$name.pem"
    else
        run certtool --generate-certificate --hash "$hash" \
            --load-privkey "$OUT/$name.key" \
            --load-ca-certificate "$OUT/$issuer.pem" \
            --load-ca-privkey "$OUT/$issuer.key" \
            --template "$tmpl" --outfile "$OUT/$name.pem"
    fi
    run certtool --certificate-info --infile "$OUT/$name.pem" \
        --outder --outfile "$OUT/$name.der"
}

# chain OUTFILE NAME...  - concatenate PEM certs, leaf first
chain() {
    local dst=$OUT/$1 n
    shift
    : >"$dst"
    for n in "$@"; do cat -- "$OUT/$n.pem" >>"$dst"; done
}

# serial_of NAME  - hex serial as openssl prints it (for index.txt)
serial_of() {
    local s
    s=$(openssl x509 -in "$OUT/$1.pem" -noout -serial)
    printf '%s\n' "${s#serial=}"
}

# subject_of NAME  - subject DN in index.txt (OpenSSL "compat") format
subject_of() {
    local s
    s=$(openssl x509 -in "$OUT/$1.pem" -noout -subject -nameopt compat)
    printf '%s\n' "${s#subject=}"
}

# mkocsp OUTFILE CERT SIGNER NDAYS  - OCSP response for CERT (issued by
# int-ca) signed by SIGNER; status comes from $TMP/index.txt.  The signer's
# certificate is included in the response (openssl's default); no nonce.
mkocsp() {
    local dst=$1 cert=$2 signer=$3 ndays=$4
    run openssl ocsp -index "$TMP/index.txt" \
        -CA "$OUT/int-ca.pem" \
        -rsigner "$OUT/$signer.pem" -rkey "$OUT/$signer.key" \
        -issuer "$OUT/int-ca.pem" -cert "$OUT/$cert.pem" \
        -no_nonce -ndays "$ndays" -respout "$OUT/$dst"
    [[ -s $OUT/$dst ]]
}

# --------------------------------------------------------------------------
# Template fragments
# --------------------------------------------------------------------------

ORG='organization = "tlsguard tests"'
valid() { # valid FROM-DATE TO-DATE
    printf 'activation_date = "%s 00:00:00"\n' "$1"
    printf 'expiration_date = "%s 00:00:00"\n' "$2"
}
mapfile -t V_ROOT < <(valid 2020-01-01 2050-01-01)
mapfile -t V_INT < <(valid 2020-01-01 2049-01-01)
mapfile -t V_LEAF < <(valid 2020-01-01 2045-01-01)
mapfile -t V_EXPIRED < <(valid 2020-01-01 2021-01-01)
mapfile -t V_NOTYET < <(valid 2040-01-01 2045-01-01)

CA=(ca cert_signing_key crl_signing_key)
SERVER=(tls_www_server signing_key encryption_key)
CLIENT=(tls_www_client signing_key encryption_key)
GOOD_SAN=('dns_name = "good.example.test"' 'dns_name = "www.good.example.test"'
    'ip_address = "127.0.0.1"' 'ip_address = "::1"')

# --------------------------------------------------------------------------
# Keys (generated in parallel: this is where nearly all the time goes)
# --------------------------------------------------------------------------

RSA_KEYS=(root-ca int-ca other-root-ca int-clientonly rogue-ca
    good wildcard expired notyet wronghost sha1 md5 clientauth cn-only
    revoked untrusted selfsigned bad-all notca-leaf eku-int-leaf forged rotated forged-ct)
EC_KEYS=(ec-root-ca ec-int-ca ec-good)

# bgkey NAME TYPE  - genkey in the background; failures are reported below.
bgkey() {
    (
        trap - ERR
        genkey "$@"
    ) &
    pids+=($!)
}
pids=()
for k in "${RSA_KEYS[@]}"; do bgkey "$k" rsa2048; done
for k in "${EC_KEYS[@]}"; do bgkey "$k" p256; done
bgkey weak-rsa rsa1024
failed=0
for p in "${pids[@]}"; do
    wait "$p" || failed=1 # wait for all jobs before $WORK may be removed
done
((failed == 0)) || fail_log 1 "key generation failed"

# --------------------------------------------------------------------------
# CAs
# --------------------------------------------------------------------------

mkcert root-ca self 'cn = "tlsguard Test Root CA"' "$ORG" "${V_ROOT[@]}" "${CA[@]}"

# No EKU on int-ca: GnuTLS applies EKU to the whole chain, so an OCSPSigning
# EKU here would break server-auth verification.  It signs OCSP responses for
# its own leaves, which needs no EKU (RFC 6960 4.2.2.2).
mkcert int-ca root-ca 'cn = "tlsguard Test Intermediate CA"' "$ORG" "${V_INT[@]}" \
    "${CA[@]}" 'path_len = 0'

mkcert other-root-ca self 'cn = "Untrusted Other Root CA"' 'organization = "Somebody Else"' \
    "${V_ROOT[@]}" "${CA[@]}"

# A second CA that tests put in the client's trust store next to root-ca: a
# "government-controlled or compromised" CA that issues a forged leaf for
# good.example.test. Chain validation accepts the forgery; pinning must not.
mkcert rogue-ca self 'cn = "Rogue But Trusted Root CA"' 'organization = "Interceptors Inc"' \
    "${V_ROOT[@]}" "${CA[@]}"

# Intermediate restricted to client auth: server leaves below it must fail.
mkcert int-clientonly root-ca 'cn = "tlsguard Test Client-Only Intermediate CA"' "$ORG" \
    "${V_INT[@]}" "${CA[@]}" 'path_len = 0' tls_www_client

# --------------------------------------------------------------------------
# Leaves under int-ca
# --------------------------------------------------------------------------

mkcert good int-ca 'cn = "good.example.test"' "$ORG" "${GOOD_SAN[@]}" "${V_LEAF[@]}" "${SERVER[@]}"

mkcert wildcard int-ca 'cn = "*.wild.example.test"' "$ORG" 'dns_name = "*.wild.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert expired int-ca 'cn = "expired.example.test"' "$ORG" 'dns_name = "expired.example.test"' \
    "${V_EXPIRED[@]}" "${SERVER[@]}"

mkcert notyet int-ca 'cn = "notyet.example.test"' "$ORG" 'dns_name = "notyet.example.test"' \
    "${V_NOTYET[@]}" "${SERVER[@]}"

mkcert wronghost int-ca 'cn = "other.example.test"' "$ORG" 'dns_name = "other.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert weak-rsa int-ca 'cn = "weak.example.test"' "$ORG" 'dns_name = "weak.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert --hash SHA1 sha1 int-ca 'cn = "sha1.example.test"' "$ORG" 'dns_name = "sha1.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert --hash MD5 md5 int-ca 'cn = "md5.example.test"' "$ORG" 'dns_name = "md5.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert clientauth int-ca 'cn = "client.example.test"' "$ORG" 'dns_name = "client.example.test"' \
    "${V_LEAF[@]}" "${CLIENT[@]}"

# CN only, deliberately no subjectAltName at all.
mkcert cn-only int-ca 'cn = "good.example.test"' "$ORG" "${V_LEAF[@]}" "${SERVER[@]}"

mkcert revoked int-ca 'cn = "revoked.example.test"' "$ORG" 'dns_name = "revoked.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

# --------------------------------------------------------------------------
# Other leaves
# --------------------------------------------------------------------------

mkcert untrusted other-root-ca 'cn = "good.example.test"' 'organization = "Somebody Else"' \
    'dns_name = "good.example.test"' "${V_LEAF[@]}" "${SERVER[@]}"

# The man-in-the-middle's certificate for the genuine name, from rogue-ca.
mkcert forged rogue-ca 'cn = "good.example.test"' 'organization = "Interceptors Inc"' \
    "${GOOD_SAN[@]}" "${V_LEAF[@]}" "${SERVER[@]}"

# The same forgery for ct.example.test, whose genuine leaves (tests/ct-testlog)
# carry SCTs: the split-view tests' interceptor, who cannot get SCTs.
mkcert forged-ct rogue-ca 'cn = "ct.example.test"' 'organization = "Interceptors Inc"' \
    'dns_name = "ct.example.test"' "${V_LEAF[@]}" "${SERVER[@]}"

# A legitimate key rotation: good.example.test with a new key, same issuer.
mkcert rotated int-ca 'cn = "good.example.test"' "$ORG" "${GOOD_SAN[@]}" "${V_LEAF[@]}" "${SERVER[@]}"

# Self-signed end-entity (CA:FALSE) certificates.
mkcert selfsigned self 'cn = "good.example.test"' "$ORG" 'dns_name = "good.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

mkcert bad-all self 'cn = "wrong.example.test"' "$ORG" 'dns_name = "wrong.example.test"' \
    "${V_EXPIRED[@]}" "${SERVER[@]}"

# Issued by the `good` leaf (CA:FALSE): the chain must be rejected.
mkcert notca-leaf good 'cn = "notca.example.test"' "$ORG" 'dns_name = "notca.example.test"' \
    "${V_LEAF[@]}" "${SERVER[@]}"

# Server leaf under the client-only intermediate: EKU mismatch in the chain.
mkcert eku-int-leaf int-clientonly 'cn = "ekuint.example.test"' "$ORG" \
    'dns_name = "ekuint.example.test"' "${V_LEAF[@]}" "${SERVER[@]}"

# --------------------------------------------------------------------------
# ECDSA P-256 hierarchy (benchmark)
# --------------------------------------------------------------------------

mkcert ec-root-ca self 'cn = "tlsguard Test ECDSA Root CA"' "$ORG" "${V_ROOT[@]}" "${CA[@]}"
mkcert ec-int-ca ec-root-ca 'cn = "tlsguard Test ECDSA Intermediate CA"' "$ORG" \
    "${V_INT[@]}" "${CA[@]}" 'path_len = 0'
mkcert ec-good ec-int-ca 'cn = "good.example.test"' "$ORG" "${GOOD_SAN[@]}" \
    "${V_LEAF[@]}" "${SERVER[@]}"

# --------------------------------------------------------------------------
# Chain files (leaf first)
# --------------------------------------------------------------------------

chain good-chain.pem good int-ca
chain good-fullchain.pem good int-ca root-ca
chain forged-chain.pem forged
chain forged-ct-chain.pem forged-ct
chain rotated-chain.pem rotated int-ca
for leaf in wildcard expired notyet wronghost weak-rsa sha1 md5 clientauth cn-only revoked; do
    chain "$leaf-chain.pem" "$leaf" int-ca
done
chain notca-chain.pem notca-leaf good int-ca
chain eku-int-chain.pem eku-int-leaf int-clientonly
chain ec-chain.pem ec-good ec-int-ca
chain ec-fullchain.pem ec-good ec-int-ca ec-root-ca

# --------------------------------------------------------------------------
# OCSP responses (responder = int-ca, the leaves' issuer)
# --------------------------------------------------------------------------

# CA database format: status, expiry, revocation[,reason], serial, file, DN
{
    printf 'V\t%s\t\t%s\tunknown\t%s\n' 450101000000Z "$(serial_of good)" "$(subject_of good)"
    printf 'R\t%s\t%s\t%s\tunknown\t%s\n' 450101000000Z 250101000000Z,keyCompromise \
        "$(serial_of revoked)" "$(subject_of revoked)"
} >"$TMP/index.txt"

mkocsp ocsp-good.der good int-ca 7
mkocsp ocsp-revoked.der revoked int-ca 7
mkocsp ocsp-badsig.der good other-root-ca 7
mkocsp ocsp-short.der good int-ca 1

# --------------------------------------------------------------------------
# Publish
# --------------------------------------------------------------------------

for f in "$OUT"/*; do
    mv -f -- "$f" "$OUTDIR/"
done
: >"$OUTDIR/stamp"
