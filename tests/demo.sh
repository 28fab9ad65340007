#!/usr/bin/env bash
# The README's demo, as a test: the sign-in client signs in to the genuine
# server only, and shows tlsguard's warning for the three bad ones.
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"
out=$(bash "$TG_SRCDIR/scripts/run-demo.sh" "$TG_BUILDDIR" 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
check "demo exits 0" test "$rc" = 0
check "summary: 1 signed in, 3 refused" grep -q 'summary: 1 signed in, 3 refused, 0 unexpected' <<<"$out"
check "self-signed refused as untrusted issuer" grep -q 'ERR_CERT_AUTHORITY_INVALID' <<<"$out"
check "expired refused as date invalid" grep -q 'has expired' <<<"$out"
check "wrong host refused as name mismatch" grep -q 'ERR_CERT_COMMON_NAME_INVALID' <<<"$out"
check "warnings tell the user not to sign in" test "$(grep -c 'Do not sign in' <<<"$out")" -ge 3
check "password sent only once" test "$(grep -c 'signing in\.$' <<<"$out")" = 1
check "no demo server left running" bash -c "! pgrep -f 'openssl s_server -accept 127.0.0.[2-5]' >/dev/null"
finish
