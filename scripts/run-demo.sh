#!/usr/bin/env bash
# The sign-in demo: a small PKI, four servers on loopback (127.0.0.2-5), and
# the sign-in client against each. Usage: run-demo.sh BUILDDIR
# Prints a summary and exits 0 when the good server was signed in to and the
# three bad ones were refused.
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
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5; do wait_listen "$a"; done

echo "tlsguard sign-in demo: the client trusts only the demo CA ($data/root-ca.pem)"
accepted=0 refused=0 unexpected=0
# try LABEL ADDRESS HOST EXPECT
try() {
  local rc=0
  printf '\n=== %s: signing in to %s at %s:%s ===\n' "$1" "$3" "$2" "$port"
  "$client" --ca "$data/root-ca.pem" --connect-to "$2" "$3" "$port" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then accepted=$((accepted + 1)); outcome=accepted; else refused=$((refused + 1)); outcome="refused (exit $rc)"; fi
  printf -- '--> %s\n' "$outcome"
  if { [ "$4" = accept ] && [ "$rc" != 0 ]; } || { [ "$4" = refuse ] && [ "$rc" != 1 ]; }; then
    unexpected=$((unexpected + 1)); printf -- '--> UNEXPECTED: wanted %s\n' "$4"
  fi
}
try "genuine server"          127.0.0.2 good.example.test    accept
try "self-signed certificate" 127.0.0.3 good.example.test    refuse
try "expired certificate"     127.0.0.4 expired.example.test refuse
try "certificate for another host" 127.0.0.5 good.example.test refuse

printf '\nsummary: %d signed in, %d refused, %d unexpected\n' "$accepted" "$refused" "$unexpected"
[ "$unexpected" = 0 ]
