#!/usr/bin/env bash
# The README's demo, as a test: the sign-in client signs in to the genuine
# server only, shows tlsguard's warning for the three bad ones, signs in to
# the interceptor (whose forged certificate comes from a trusted rogue CA)
# when it has no pins, and refuses it with a pin config; with Certificate
# Transparency required it signs in to the logged server (127.0.0.7) and
# refuses the interceptor, whose certificate has no SCTs.
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"
out=$(bash "$TG_SRCDIR/scripts/run-demo.sh" "$TG_BUILDDIR" 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
check "demo exits 0" test "$rc" = 0
check "summary: 3 signed in, 1 to the impostor, 5 refused" \
  grep -q 'summary: 3 signed in, 1 signed in to an impostor (no pins, no CT), 5 refused, 0 unexpected' <<<"$out"
check "the rogue CA is explained" grep -q 'compromised or government-controlled CA' <<<"$out"
check "self-signed refused as untrusted issuer" grep -q 'ERR_CERT_AUTHORITY_INVALID' <<<"$out"
check "expired refused as date invalid" grep -q 'has expired' <<<"$out"
check "wrong host refused as name mismatch" grep -q 'ERR_CERT_COMMON_NAME_INVALID' <<<"$out"
check "without pins the impostor gets the password" \
  test "$(grep -c 'DANGER: signed in to an impostor' <<<"$out")" = 1
check "with pins the impostor is refused as pin mismatch, once" \
  test "$(grep -c 'ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN' <<<"$out")" = 1
check "the pin warning says the key is not one of the expected ones" \
  test "$(grep -c 'is not one of the keys' <<<"$out")" = 1
# The pin refusal comes right after the pinned interceptor's header.
check "the pinned interceptor run is the one refused for the pin" \
  bash -c 'awk "/=== interceptor.*pinned:/ {p=1} p && /ERR_SSL_PINNED/ {print; exit}" | grep -q PINNED' <<<"$out"
check "the pin config has the leaf pin and a backup" test "$(grep -c '^  pin = sha256/' <<<"$out")" = 2
check "no config warning (a backup pin is given)" bash -c '! grep -q "warning: \[" ' <<<"$out"
check "with CT required the impostor is refused as ct-missing, once" \
  test "$(grep -c 'ERR_CERTIFICATE_TRANSPARENCY_REQUIRED' <<<"$out")" = 1
check "the CT warning says the certificate was not published" \
  test "$(grep -c 'was not published in public Certificate Transparency logs' <<<"$out")" = 1
check "the CT refusal is the CT-required interceptor run" \
  bash -c 'awk "/=== interceptor.*CT required:/ {p=1} p && /ERR_CERTIFICATE_TRANSPARENCY/ {print; exit}" | grep -q TRANSPARENCY' <<<"$out"
check "the logged server is accepted with CT required" \
  bash -c 'awk "/=== server with a logged certificate/ {p=1} p && /^-->/ {print; exit}" | grep -qx -- "--> accepted"' <<<"$out"
check "no other CT warning" test "$(grep -c 'ERR_CT_' <<<"$out")" = 0
check "warnings tell the user not to sign in" test "$(grep -c 'Do not sign in' <<<"$out")" = 5
check "password sent four times (genuine twice, impostor without pins, logged server)" \
  test "$(grep -c 'signing in\.$' <<<"$out")" = 4
check "no demo server left running" bash -c "! pgrep -f 'openssl s_server -accept 127.0.0.[2-7]' >/dev/null"
finish
