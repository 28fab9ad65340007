#!/usr/bin/env bash
# The sign-in demo: a small PKI, seven servers on loopback (127.0.0.2-8), and
# the sign-in client against each. Usage: run-demo.sh BUILDDIR
# The client trusts the demo CA and a "rogue but trusted" CA (rogue-ca.pem),
# as a real client trusts every CA of its system store. The fifth server is an
# interceptor with a certificate for good.example.test from that rogue CA.
# The sixth (127.0.0.7) serves ct.example.test with a certificate logged in
# the test suite's own Certificate Transparency logs (tests/ct-testlog).
# Prints a summary and exits 0 when: the genuine server was signed in to
# (with and without pins), the three bad servers were refused, the impostor
# was signed in to without pins (the danger) and refused with them, and with
# Certificate Transparency required the logged server was signed in to and
# the impostor (whose certificate has no SCTs) refused; and with consistency
# checks (no pins, CT not enforced) the split view of the 2014 iCloud attack is
# refused: good.example.test resolves to 127.0.0.2 and 127.0.0.6, and
# ct.example.test to 127.0.0.7 and 127.0.0.8 (a second interceptor, from the
# rogue CA, without SCTs), both from the history and from the cross-path probe.
# Last, an unmodified wget under the LD_PRELOAD shim (libtlsguard-preload.so)
# with the pin config refuses the interceptor and fetches from the genuine
# server (root only: wget resolves the name through a private /etc/hosts).
set -euo pipefail
build=${1:?usage: run-demo.sh BUILDDIR}
data=$build/tests/data
client=$build/examples/signin-client
[ -f "$data/stamp" ] || { echo "run-demo: no fixtures in $data (make tests/data/stamp)" >&2; exit 2; }
[ -x "$client" ] || { echo "run-demo: $client not built" >&2; exit 2; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pids=()
logdir=$(mktemp -d)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$logdir"
}
trap cleanup EXIT

# serve ADDRESS CERT CHAIN KEY: a TLS server bound to one loopback address.
serve() {
  local extra=()
  [ -n "$3" ] && extra=(-cert_chain "$data/$3")
  openssl s_server -accept "$1:$port" -cert "$data/$2" "${extra[@]}" -key "$data/$4" \
    -rev -quiet -no_dhe >"$logdir/$1.log" 2>&1 &
  pids+=($!)
}
wait_listen() {
  local i
  for i in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('$1',$port),1)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run-demo: server on $1:$port did not start:" >&2; cat "$logdir/$1.log" >&2; exit 2
}

serve 127.0.0.2 good.pem int-ca.pem good.key
serve 127.0.0.3 selfsigned.pem "" selfsigned.key
serve 127.0.0.4 expired.pem int-ca.pem expired.key
serve 127.0.0.5 wronghost.pem int-ca.pem wronghost.key
serve 127.0.0.6 forged.pem "" forged.key
serve 127.0.0.7 ct-good.pem int-ca.pem ct-good.key
serve 127.0.0.8 forged-ct.pem "" forged-ct.key
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8; do wait_listen "$a"; done

# The pin of a certificate: SHA-256 of its SubjectPublicKeyInfo, base64.
pin() {
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64
}
conf=$logdir/pins.conf
cat >"$conf" <<EOF
# good.example.test's own key, and its issuing CA's key as a backup
[good.example.test]
pin = sha256/$(pin "$data/good.pem")
pin = sha256/$(pin "$data/int-ca.pem")
EOF

cat <<EOF
tlsguard sign-in demo: the client trusts two CAs, as if both were in its system store:
  the demo CA        $data/root-ca.pem
  a rogue CA         $data/rogue-ca.pem
The rogue CA stands for a compromised or government-controlled CA in the system store:
it is trusted, so the interceptor on 127.0.0.6 shows a certificate for good.example.test
that passes ordinary validation.
EOF

accepted=0 impostor=0 refused=0 unexpected=0
# try LABEL ADDRESS HOST EXPECT [CLIENT OPTION...]
# EXPECT: accept, refuse, or impostor (signing in would be wrong, but without
# pins nothing can tell).
try() {
  local label=$1 addr=$2 host=$3 expect=$4 rc=0
  shift 4
  printf '\n=== %s: signing in to %s at %s:%s ===\n' "$label" "$host" "$addr" "$port"
  "$client" --ca "$data/root-ca.pem" --ca "$data/rogue-ca.pem" "$@" --connect-to "$addr" "$host" "$port" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && [ "$expect" = impostor ]; then
    impostor=$((impostor + 1)); outcome="DANGER: signed in to an impostor; the password went to the interceptor"
  elif [ "$rc" = 0 ]; then
    accepted=$((accepted + 1)); outcome=accepted
  else
    refused=$((refused + 1)); outcome="refused (exit $rc)"
  fi
  printf -- '--> %s\n' "$outcome"
  if { [ "$expect" != refuse ] && [ "$rc" != 0 ]; } || { [ "$expect" = refuse ] && [ "$rc" != 1 ]; }; then
    unexpected=$((unexpected + 1)); printf -- '--> UNEXPECTED: wanted %s\n' "$expect"
  fi
}
try "genuine server"          127.0.0.2 good.example.test    accept
try "self-signed certificate" 127.0.0.3 good.example.test    refuse
try "expired certificate"     127.0.0.4 expired.example.test refuse
try "certificate for another host" 127.0.0.5 good.example.test refuse
try "interceptor, forged certificate from the rogue CA, no pins" 127.0.0.6 good.example.test impostor

printf '\nNow the client also loads a config that pins good.example.test (--config):\n'
sed 's/^/  /' "$conf"
try "interceptor, forged certificate from the rogue CA, pinned" 127.0.0.6 good.example.test refuse --config "$conf"
try "genuine server, pinned"  127.0.0.2 good.example.test    accept --config "$conf"

ctconf=$logdir/ct.conf
cat >"$ctconf" <<EOF
# require Certificate Transparency: SCTs from the logs of this list, Chrome's policy
ct-log-list = $data/ct-loglist.json
ct-policy = chrome
EOF
printf '\nNow the client requires Certificate Transparency instead (--config), with a log list of\n'
printf 'the test logs (genuine certificates are published in public CT logs; a forged one is not):\n'
sed 's/^/  /' "$ctconf"
try "server with a logged certificate (3 SCTs from 2 operators), CT required" 127.0.0.7 ct.example.test accept \
  --config "$ctconf"
try "interceptor, forged certificate from the rogue CA, CT required" 127.0.0.6 good.example.test refuse \
  --config "$ctconf"

histconf=$logdir/history.conf
cat >"$histconf" <<EOF
# consistency checks: remember what each address of a host served, compare addresses
[default]
store = $logdir/store.db
consistency = enforce
probe = off
EOF
printf '\nNow no pins and no CT, but consistency checks (--config). The client remembers what each\n'
printf 'address of a host served; an address that serves a chain from another authority than the\n'
printf "host's other addresses is a split view: the shape of the 2014 iCloud interception.\n"
sed 's/^/  /' "$histconf"
try "genuine server (127.0.0.2), consistency checks on: remembered" 127.0.0.2 good.example.test accept \
  --config "$histconf"
try "interceptor on the host's other address (127.0.0.6): split view from the history" 127.0.0.6 \
  good.example.test refuse --config "$histconf"
try "genuine server again" 127.0.0.2 good.example.test accept --config "$histconf"

probeconf=$logdir/probe.conf
cat >"$probeconf" <<EOF
# first contact: ask the host's other addresses now (cross-path probe); CT only reported
[default]
store = $logdir/store2.db
consistency = enforce
probe = on-change
probe-timeout-ms = 2000
ct-log-list = $data/ct-loglist.json
ct-mode = report-only
[ct.example.test]
addresses = 127.0.0.7, 127.0.0.8
EOF
printf '\nFirst contact, nothing remembered: the cross-path probe asks the other address of the host\n'
printf '(config "addresses" stands in for DNS here) and compares what it serves:\n'
sed 's/^/  /' "$probeconf"
try "interceptor (127.0.0.8) on first contact: split view from the probe" 127.0.0.8 ct.example.test refuse \
  --config "$probeconf"
try "genuine server (127.0.0.7): its chain is in CT, the other address's is not" 127.0.0.7 ct.example.test \
  accept --config "$probeconf"

# An unmodified program under the LD_PRELOAD shim (tlsguard-preload(8)): wget,
# which knows nothing of tlsguard, gets the pins through libtlsguard-preload.so.
# Two plain HTTPS servers (openssl s_server -WWW) on another port; wget
# resolves good.example.test through a private /etc/hosts (unshare -m: root).
shim=$build/lib/preload/.libs/libtlsguard-preload.so
if [ -f "$shim" ] && command -v wget >/dev/null && [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$logdir/www"
  echo "good.example.test sign-in page" >"$logdir/www/index.html"
  (cd "$logdir/www" && exec openssl s_server -accept "127.0.0.2:$wport" -cert "$data/good.pem" \
    -cert_chain "$data/int-ca.pem" -key "$data/good.key" -WWW -quiet >"$logdir/www2.log" 2>&1) &
  pids+=($!)
  (cd "$logdir/www" && exec openssl s_server -accept "127.0.0.6:$wport" -cert "$data/forged.pem" \
    -key "$data/forged.key" -WWW -quiet >"$logdir/www6.log" 2>&1) &
  pids+=($!)
  port=$wport wait_listen 127.0.0.2
  port=$wport wait_listen 127.0.0.6
  cat "$data/root-ca.pem" "$data/rogue-ca.pem" >"$logdir/cas.pem"
  shimconf=$logdir/shim.conf
  { printf '# the CAs wget trusts here (on a real system: its store), then the pins above\n'
    printf '[default]\nca-file = %s\nca-file = %s\n' "$data/root-ca.pem" "$data/rogue-ca.pem"; cat "$conf"; } >"$shimconf"
  printf '\nNow an unmodified program: wget (GnuTLS), run with LD_PRELOAD=libtlsguard-preload.so and\n'
  printf 'TLSGUARD_CONFIG pointing at the pin config (plus the CAs wget trusts here):\n'
  sed 's/^/  /' "$shimconf"
  # wget_shim ADDRESS EXPECT
  wget_shim() {
    local rc=0
    printf '\n=== wget under the tlsguard shim: https://good.example.test:%s/ at %s ===\n' "$wport" "$1"
    printf '127.0.0.1 localhost\n%s good.example.test\n' "$1" >"$logdir/hosts.$1"
    # TG_PRELOAD_RUNTIME: the sanitizer runtime a sanitizer build needs first.
    TLSGUARD_CONFIG=$shimconf TLSGUARD_PRELOAD_LIBRARY=$build/lib/.libs/libtlsguard.so.0 \
      LD_PRELOAD="${TG_PRELOAD_RUNTIME:+$TG_PRELOAD_RUNTIME }$shim" \
      SSL_CERT_FILE= unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$logdir/hosts.$1" \
      wget -nv --tries=1 -O - --ca-certificate="$logdir/cas.pem" "https://good.example.test:$wport/index.html" \
      2>&1 || rc=$?
    if [ "$rc" = 0 ]; then accepted=$((accepted + 1)); outcome=accepted
    else refused=$((refused + 1)); outcome="refused (exit $rc)"; fi
    printf -- '--> %s\n' "$outcome"
    if { [ "$2" = accept ] && [ "$rc" != 0 ]; } || { [ "$2" = refuse ] && [ "$rc" = 0 ]; }; then
      unexpected=$((unexpected + 1)); printf -- '--> UNEXPECTED: wanted %s\n' "$2"
    fi
  }
  wget_shim 127.0.0.6 refuse
  wget_shim 127.0.0.2 accept
else
  printf '\nwget under the tlsguard shim: skipped (needs %s, wget, root and unshare -m)\n' "$shim"
fi

printf '\nsummary: %d signed in, %d signed in to an impostor (no pins, no CT), %d refused, %d unexpected\n' \
  "$accepted" "$impostor" "$refused" "$unexpected"
[ "$unexpected" = 0 ]
