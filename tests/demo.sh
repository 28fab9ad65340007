#!/usr/bin/env bash
# The README's demo, as a test: the sign-in client signs in to the genuine
# server only, shows tlsguard's warning for the three bad ones, signs in to
# the interceptor (whose forged certificate comes from a trusted rogue CA)
# when it has no pins, and refuses it with a pin config; with Certificate
# Transparency required it signs in to the logged server (127.0.0.7) and
# refuses the interceptor, whose certificate has no SCTs; with consistency
# checks (no pins, CT only reported) it refuses the interceptor on the host's
# other address, from the history (127.0.0.6) and from the cross-path probe on
# first contact (127.0.0.8), and still signs in to the genuine addresses.
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"
out=$(bash "$TG_SRCDIR/scripts/run-demo.sh" "$TG_BUILDDIR" 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
check "demo exits 0" test "$rc" = 0
# The last part, wget under the LD_PRELOAD shim, needs root (a private
# /etc/hosts); without it the demo says "skipped" and counts nothing for it.
if grep -q 'wget under the tlsguard shim: skipped' <<<"$out"; then
  shim=0; echo "# wget under the shim skipped by the demo"
else
  shim=1
fi
check "summary: $((6 + shim)) signed in, 1 to the impostor, $((7 + shim)) refused" \
  grep -q "summary: $((6 + shim)) signed in, 1 signed in to an impostor (no pins, no CT), $((7 + shim)) refused, 0 unexpected" <<<"$out"
check "the rogue CA is explained" grep -q 'compromised or government-controlled CA' <<<"$out"
check "self-signed refused as untrusted issuer" grep -q 'ERR_CERT_AUTHORITY_INVALID' <<<"$out"
check "expired refused as date invalid" grep -q 'has expired' <<<"$out"
check "wrong host refused as name mismatch" grep -q 'ERR_CERT_COMMON_NAME_INVALID' <<<"$out"
check "without pins the impostor gets the password" \
  test "$(grep -c 'DANGER: signed in to an impostor' <<<"$out")" = 1
check "with pins the impostor is refused as pin mismatch (the client, and wget under the shim)" \
  test "$(grep -c 'ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN' <<<"$out")" = $((1 + shim))
check "the pin warning says the key is not one of the expected ones" \
  test "$(grep -c 'is not one of the keys' <<<"$out")" = $((1 + shim))
# The pin refusal comes right after the pinned interceptor's header.
check "the pinned interceptor run is the one refused for the pin" \
  bash -c 'awk "/=== interceptor.*pinned:/ {p=1} p && /ERR_SSL_PINNED/ {print; exit}" | grep -q PINNED' <<<"$out"
check "the pin config has the leaf pin and a backup" test "$(grep -c '^  pin = sha256/' <<<"$out")" = $((2 + 2 * shim))
check "no config warning (a backup pin is given)" bash -c '! grep -q "warning: \[" ' <<<"$out"
check "ct-missing: refused with CT required, reported for the probe run's interceptor" \
  test "$(grep -c 'ERR_CERTIFICATE_TRANSPARENCY_REQUIRED' <<<"$out")" = 2
check "the CT warning says the certificate was not published" \
  test "$(grep -c 'was not published in public Certificate Transparency logs' <<<"$out")" = 2
check "the CT refusal is the CT-required interceptor run" \
  bash -c 'awk "/=== interceptor.*CT required:/ {p=1} p && /ERR_CERTIFICATE_TRANSPARENCY/ {print; exit}" | grep -q TRANSPARENCY' <<<"$out"
check "the logged server is accepted with CT required" \
  bash -c 'awk "/=== server with a logged certificate/ {p=1} p && /^-->/ {print; exit}" | grep -qx -- "--> accepted"' <<<"$out"
check "no other CT warning" test "$(grep -c 'ERR_CT_' <<<"$out")" = 0
check "split view refused twice (history, probe)" \
  test "$(grep -c 'tlsguard fatal: ERR_TLSGUARD_SPLIT_VIEW' <<<"$out")" = 2
check "the split-view warning explains a targeted interception" \
  test "$(grep -c 'This is how a targeted interception looks' <<<"$out")" = 2
check "the history run's refusal names the genuine address" \
  bash -c 'awk "/=== interceptor on the host.s other address/ {p=1} p && /detail: good.example.test.*via 127.0.0.6/ {print; exit}" | grep -q "127.0.0.2 serves issuer"' <<<"$out"
check "the probe run's refusal comes from the probe" \
  bash -c 'awk "/=== interceptor \(127.0.0.8\)/ {p=1} p && /via 127.0.0.8/ {print; exit}" | grep -q "127.0.0.7 serves .*probed on"' <<<"$out"
check "the CA change is said once" test "$(grep -c 'tlsguard warning: ERR_TLSGUARD_CA_CHANGED' <<<"$out")" = 1
check "the genuine addresses are signed in to under consistency checks" \
  test "$(awk '/=== genuine server .127.0.0.[27]|=== genuine server again/ {p=1} p && /^-->/ {print; p=0}' <<<"$out" | grep -cx -- '--> accepted')" = 3
check "warnings tell the user not to sign in" test "$(grep -c 'Do not sign in' <<<"$out")" = $((8 + shim))
check "password sent seven times (good.example.test 4, ct.example.test 2, the impostor without pins 1)" \
  test "$(grep -c 'verified; signing in\.$' <<<"$out")" = 7
# Other tests run servers on 127.0.0.x at the same time: look for the demo's port only.
port=$(sed -n 's/^=== .* at 127\.0\.0\.[0-9]*:\([0-9]*\) ===$/\1/p' <<<"$out" | head -n 1)
check "the demo's port is known" test -n "$port"
check "no demo server left running" bash -c "! pgrep -f 'openssl s_server -accept 127.0.0.[2-8]:$port ' >/dev/null"
if [ "$shim" = 1 ]; then
  check "wget under the shim refuses the interceptor (GnuTLS's certificate error, exit 4)" \
    bash -c 'awk "/=== wget under the tlsguard shim: .* at 127.0.0.6 ===/ {p=1} p && /^-->/ {print; exit}" | grep -qx -- "--> refused (exit 4)"' <<<"$out"
  check "the shim prints tlsguard's warning for wget" \
    grep -q '^tlsguard: refused the connection of wget to good.example.test:[0-9]* (127.0.0.6) \[GnuTLS\]' <<<"$out"
  check "wget says GnuTLS's certificate verification failed" grep -q '^GnuTLS: Error in the certificate verification' <<<"$out"
  check "wget under the shim fetches the genuine page" \
    bash -c 'awk "/=== wget under the tlsguard shim: .* at 127.0.0.2 ===/ {p=1} p && /sign-in page|^-->/ {print}" | head -n 2 | tr "\n" " " | grep -q "sign-in page --> accepted"' <<<"$out"
  wport=$(sed -n 's/^=== wget under the tlsguard shim: https:\/\/good.example.test:\([0-9]*\)\/ at .*/\1/p' <<<"$out" | head -n 1)
  check "no wget demo server left running" bash -c "! pgrep -f 'openssl s_server -accept 127.0.0.[26]:$wport ' >/dev/null"
fi
finish
