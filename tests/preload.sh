#!/usr/bin/env bash
# tests/preload.sh: libtlsguard-preload.so in real, unmodified programs.
#
# Two HTTPS servers on loopback (tests/preload/tls_server.py, which logs every
# request line it receives): 127.0.0.2 serves good.example.test's genuine
# chain, 127.0.0.6 a forged certificate for the same name from the "rogue but
# trusted" CA. Every client trusts both CAs (passed explicitly; the CA
# environment variables are cleared), so without the shim each one accepts
# the forgery. With the shim and a config pinning good.example.test, wget,
# gnutls-cli, git (libcurl-gnutls), curl (OpenSSL), python3 (urllib, and an
# ssl socket with do_handshake_on_connect=False) and openssl s_client must
# refuse it (non-zero exit, tlsguard's warning, no request at the forged
# server) and still work against the genuine one. Also: symbol binding
# (LD_DEBUG=bindings), the shim's own dependencies and exports, TLS 1.2 and
# 1.3, session resumption, 8 threads x 25 handshakes, per-program disabling,
# no config, failing closed, and the consistency probe's own handshakes.
# Name resolution: the programs' own options, and for wget a private
# /etc/hosts in a mount namespace (unshare -m, root only; skipped otherwise,
# a failure under CI=true).
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"

SO=$TG_BUILDDIR/lib/preload/.libs/libtlsguard-preload.so
# TG_PRELOAD_RUNTIME: a library to preload first (the ASan runtime, for a
# sanitizer build of the shim).
PRE=${TG_PRELOAD_RUNTIME:+$TG_PRELOAD_RUNTIME }$SO
# Under a sanitizer runtime the programs here are other people's (python3,
# wget, ...) and LeakSanitizer would report their own leaks at exit: leak
# checking is for tlsguard's own code, which its unit tests cover.
if [ -n "${TG_PRELOAD_RUNTIME:-}" ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
LIBTG=$TG_BUILDDIR/lib/.libs/libtlsguard.so.0
MT=$TG_BUILDDIR/tests/preload/mt_client
HERE=$TG_SRCDIR/tests/preload
D=$TG_DATA
H=good.example.test
GOOD=127.0.0.2
BAD=127.0.0.6

[ -f "$D/good.pem" ] && [ -f "$D/forged.pem" ] || { echo "SKIP: fixtures not found in $D"; exit 77; }
[ -f "$SO" ] || { echo "preload: $SO not built"; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed for the test servers"; exit 77; }

t_skip=0
skip() { t_skip=$((t_skip + 1)); echo "ok - $1 # SKIP $2"; if [ "${CI:-}" = true ]; then not_ok "$1 (skipped under CI: $2)"; fi; }
# Not applicable in this build (a sanitizer runtime preloaded): the plain
# build runs it, so CI does not count it as missing.
na() { t_skip=$((t_skip + 1)); echo "ok - $1 # SKIP $2"; }
have() { command -v "$1" >/dev/null 2>&1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tlsguard-preload.XXXXXX") || exit 99
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# A clean environment: no user or CA settings leak in, no store outside $TMP.
unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO GIT_SSL_CAPATH TLSGUARD_STORE LD_PRELOAD \
  TLSGUARD_PRELOAD TLSGUARD_PRELOAD_CONF http_proxy https_proxy HTTPS_PROXY ALL_PROXY all_proxy
export HOME=$TMP/home XDG_DATA_HOME=$TMP/xdg GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 NO_PROXY='*'
mkdir -p "$HOME"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat "$D/root-ca.pem" "$D/rogue-ca.pem" >"$TMP/cas.pem"
CAS=$TMP/cas.pem
mkdir -p "$TMP/www"
echo "hello from the server" >"$TMP/www/index.html"
# A dumb-HTTP git repository with one commit.
if have git; then
  git init -q --bare "$TMP/www/repo.git" && git clone -q "$TMP/www/repo.git" "$TMP/w" 2>/dev/null &&
    git -C "$TMP/w" -c user.email=t@example.test -c user.name=t commit -q --allow-empty -m init &&
    git -C "$TMP/w" push -q origin HEAD:master 2>/dev/null && git -C "$TMP/www/repo.git" update-server-info ||
    { echo "preload: cannot make the test repository"; exit 99; }
fi

serve() { # ADDRESS CERT CHAIN|- KEY
  python3 "$HERE/tls_server.py" "$1" "$port" "$D/$2" "$3" "$D/$4" "$TMP/www" "$TMP/$1.log" >"$TMP/$1.ready" 2>&1 &
  pids+=($!)
}
serve $GOOD good.pem "$D/int-ca.pem" good.key
serve $BAD forged.pem - forged.key
for a in $GOOD $BAD; do
  for _ in $(seq 1 100); do grep -q ready "$TMP/$a.ready" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$TMP/$a.ready" || { echo "preload: server $a did not start:"; cat "$TMP/$a.ready"; exit 99; }
done

pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
CONF=$TMP/pins.conf
cat >"$CONF" <<EOF
[default]
ca-file = $D/root-ca.pem
ca-file = $D/rogue-ca.pem
[$H]
pin = sha256/$(pin "$D/good.pem")
pin = sha256/$(pin "$D/int-ca.pem")
EOF
export TLSGUARD_PRELOAD_LIBRARY=$LIBTG TLSGUARD_CONFIG=$CONF

requests() { grep -c '^request:' "$TMP/$1.log" 2>/dev/null; }

# run NAME EXPECT ADDRESS COMMAND...: run COMMAND under the shim (stdin from
# $TMP/stdin when it exists) and judge it. EXPECT: accept (exit 0, the page
# arrived) or refuse (non-zero exit, tlsguard's warning, no request line at
# the server). PRELOAD= in the environment runs it without the shim.
run() {
  local name=$1 expect=$2 addr=$3 rc before after in=/dev/null
  shift 3
  [ -f "$TMP/stdin" ] && in=$TMP/stdin
  before=$(requests "$addr")
  env LD_PRELOAD="${PRELOAD-$PRE}" timeout 60 "$@" <"$in" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  after=$(requests "$addr")
  if [ "$expect" = accept ]; then
    if [ "$rc" = 0 ] && grep -q 'hello from the server' "$TMP/out" "$TMP/err"; then ok "$name: accepted"; else
      not_ok "$name: accepted (exit $rc)"; sed 's/^/#   | /' "$TMP/out" "$TMP/err" | tail -15; fi
  else
    if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q '^tlsguard: refused the connection' "$TMP/err" &&
      [ "$before" = "$after" ]; then
      ok "$name: refused (exit $rc), no request reached the server"
    else
      not_ok "$name: refused (exit $rc, requests at $addr: $before -> $after)"
      sed 's/^/#   | /' "$TMP/out" "$TMP/err" | tail -15
    fi
  fi
}
# The program's own message for a certificate failure is in its output.
said() { if grep -q -- "$2" "$TMP/err" "$TMP/out"; then ok "$1"; else not_ok "$1"; sed 's/^/#   | /' "$TMP/err" | tail -5; fi; }
get() { printf 'GET /index.html HTTP/1.0\r\nHost: %s\r\n\r\n' "$H" >"$TMP/stdin"; }
noget() { rm -f "$TMP/stdin"; }

# ---------------------------------------------------------------- the object itself
check "the shim needs no TLS library and no libtlsguard" \
  bash -c "! readelf -d '$SO' | grep NEEDED | grep -Eq 'gnutls|libssl|libcrypto|tlsguard'"
check "the shim exports only its hooks" \
  bash -c "! nm -D --defined-only '$SO' | awk '{print \$3}' | grep -Ev '^(connect|gnutls_[a-z0-9_]+|SSL_[a-z0-9_]+)\$' | grep -q ."
check "the hooks are unversioned" bash -c "! objdump -T '$SO' | grep -w gnutls_handshake | grep -q GNUTLS"

if have groff; then
  check "tlsguard-preload(8) is clean for groff -ww" \
    bash -c "[ -z \"\$(groff -ww -man -z '$TG_SRCDIR/doc/tlsguard-preload.8' 2>&1)\" ]"
fi

# ---------------------------------------------------------------- symbol binding
# (Not with a sanitizer runtime preloaded: LD_DEBUG plus the ASan runtime can
# deadlock curl in setlocale; the binding is the same object's either way.)
if [ -n "${TG_PRELOAD_RUNTIME:-}" ]; then
  echo "# LD_DEBUG=bindings checks left to the plain build (TG_PRELOAD_RUNTIME is set)"
elif have wget; then
  LD_BIND_NOW=1 LD_DEBUG=bindings LD_PRELOAD="$PRE" wget --version >/dev/null 2>"$TMP/bind"
  check "LD_DEBUG=bindings: wget's gnutls_handshake binds to the shim" \
    grep -Eq "to $SO \[0\]: normal symbol .gnutls_handshake' \[GNUTLS_3_4\]" "$TMP/bind"
  check "LD_DEBUG=bindings: wget's gnutls_record_send binds to the shim" \
    grep -q "to $SO \[0\]: normal symbol .gnutls_record_send'" "$TMP/bind"
else skip "LD_DEBUG=bindings for wget" "wget not installed"; fi
if [ -n "${TG_PRELOAD_RUNTIME:-}" ]; then
  :
elif have curl; then
  LD_BIND_NOW=1 LD_DEBUG=bindings LD_PRELOAD="$PRE" curl --version >/dev/null 2>"$TMP/bind"
  check "LD_DEBUG=bindings: libcurl's SSL_connect binds to the shim" \
    grep -Eq "to $SO \[0\]: normal symbol .SSL_connect' \[OPENSSL_3.0.0\]" "$TMP/bind"
  check "LD_DEBUG=bindings: libcurl's SSL_read binds to the shim" grep -q "to $SO \[0\]: normal symbol .SSL_read'" "$TMP/bind"
else skip "LD_DEBUG=bindings for curl" "curl not installed"; fi

# ---------------------------------------------------------------- the attack baseline
if have gnutls-cli; then
  get
  PRELOAD= run "without the shim, gnutls-cli and the forged chain (the attack)" accept $BAD \
    gnutls-cli --x509cafile "$CAS" --sni-hostname $H --verify-hostname $H -p "$port" $BAD
fi

# ---------------------------------------------------------------- GnuTLS programs
if have wget && [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  noget
  # wget has no option to resolve a name to an address: a private /etc/hosts.
  wget_at() { # ADDRESS NAME EXPECT
    printf '127.0.0.1 localhost\n%s %s\n' "$1" "$H" >"$TMP/hosts.$1"
    run "$2" "$3" "$1" unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$TMP/hosts.$1" \
      wget -nv --tries=1 -O - --ca-certificate="$CAS" "https://$H:$port/index.html"
  }
  wget_at $BAD "wget, forged chain" refuse
  said "wget says the certificate verification failed" "Error in the certificate verification"
  said "the warning names the pin mismatch" "ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN"
  wget_at $GOOD "wget, genuine chain" accept
else skip "wget under the shim" "needs wget, root and unshare -m for a private /etc/hosts"; fi

if have gnutls-cli; then
  get
  G=(gnutls-cli --x509cafile "$CAS" --sni-hostname $H --verify-hostname $H -p "$port")
  run "gnutls-cli, forged chain (TLS 1.3)" refuse $BAD "${G[@]}" $BAD
  said "gnutls-cli reports a fatal certificate verification error" "Fatal error: Error in the certificate verification"
  run "gnutls-cli, genuine chain (TLS 1.3)" accept $GOOD "${G[@]}" $GOOD
  run "gnutls-cli, forged chain (TLS 1.2)" refuse $BAD "${G[@]}" --priority NORMAL:-VERS-TLS1.3 $BAD
  run "gnutls-cli, genuine chain (TLS 1.2)" accept $GOOD "${G[@]}" --priority NORMAL:-VERS-TLS1.3 $GOOD
  # No SNI: the host comes from the verification call.
  run "gnutls-cli --disable-sni, forged chain" refuse $BAD gnutls-cli --x509cafile "$CAS" --disable-sni \
    --verify-hostname $H -p "$port" $BAD
  run "gnutls-cli -r (session resumption), genuine chain" accept $GOOD "${G[@]}" -r $GOOD
  check "gnutls-cli -r resumed the session" grep -q 'This is a resumed session' "$TMP/out"
  run "gnutls-cli -r, TLS 1.2, genuine chain" accept $GOOD "${G[@]}" -r --priority NORMAL:-VERS-TLS1.3 $GOOD
  check "gnutls-cli -r resumed the TLS 1.2 session" grep -q 'This is a resumed session' "$TMP/out"
else skip "gnutls-cli under the shim" "gnutls-cli not installed"; fi

# The ASan runtime alone hangs curl (and libcurl's git-remote-https) in
# setlocale at start-up: those two run in the plain build only.
if [ -n "${TG_PRELOAD_RUNTIME:-}" ]; then
  na "git under the shim" "TG_PRELOAD_RUNTIME set (curl hangs under the ASan runtime without the shim too)"
elif have git; then
  noget
  GIT=(git -c http.sslCAInfo="$CAS" -c http.sslVerify=true)
  rm -rf "$TMP/clone"
  run "git clone (libcurl-gnutls), forged chain" refuse $BAD "${GIT[@]}" \
    -c http.curloptResolve=$H:$port:$BAD clone -q "https://$H:$port/repo.git" "$TMP/clone"
  said "git says the handshake failed certificate verification" "gnutls_handshake() failed: Error in the certificate verification"
  rm -rf "$TMP/clone"
  env LD_PRELOAD="$PRE" timeout 60 "${GIT[@]}" -c http.curloptResolve=$H:$port:$GOOD \
    clone -q "https://$H:$port/repo.git" "$TMP/clone" >"$TMP/out" 2>&1
  check "git clone (libcurl-gnutls), genuine chain: cloned" test -d "$TMP/clone/.git" -a "$(git -C "$TMP/clone" rev-list --count HEAD 2>/dev/null)" = 1
else skip "git under the shim" "git not installed"; fi

# ---------------------------------------------------------------- OpenSSL programs
if [ -n "${TG_PRELOAD_RUNTIME:-}" ]; then
  na "curl under the shim" "TG_PRELOAD_RUNTIME set (curl hangs under the ASan runtime without the shim too)"
elif have curl; then
  noget
  C=(curl -sS --max-time 20 --cacert "$CAS")
  run "curl (OpenSSL), forged chain" refuse $BAD "${C[@]}" --resolve $H:$port:$BAD "https://$H:$port/index.html"
  said "curl says certificate problem (exit 60)" "SSL certificate problem: application verification failure"
  run "curl (OpenSSL), genuine chain" accept $GOOD "${C[@]}" --resolve $H:$port:$GOOD "https://$H:$port/index.html"
  run "curl, TLS 1.2, forged chain" refuse $BAD "${C[@]}" --tls-max 1.2 --resolve $H:$port:$BAD "https://$H:$port/index.html"
  run "curl, TLS 1.2, genuine chain" accept $GOOD "${C[@]}" --tls-max 1.2 --resolve $H:$port:$GOOD \
    "https://$H:$port/index.html"
else skip "curl under the shim" "curl not installed"; fi

noget
P=(python3 "$HERE/py_client.py")
run "python3 urllib, forged chain" refuse $BAD "${P[@]}" urllib "$CAS" $H "$port" $BAD
said "python reports CERTIFICATE_VERIFY_FAILED" "CERTIFICATE_VERIFY_FAILED"
run "python3 urllib, genuine chain" accept $GOOD "${P[@]}" urllib "$CAS" $H "$port" $GOOD
run "python3 ssl, do_handshake_on_connect=False, forged chain" refuse $BAD "${P[@]}" lazy "$CAS" $H "$port" $BAD
run "python3 ssl, do_handshake_on_connect=False, genuine chain" accept $GOOD "${P[@]}" lazy "$CAS" $H "$port" $GOOD
check "python3 got the page with the implicit handshake" grep -q 'HTTP/1.0 200' "$TMP/out"
for v in 1.2 1.3; do
  run "python3 session resumption on a fresh SSL object, TLS $v, genuine chain" accept $GOOD \
    "${P[@]}" resume "$CAS" $H "$port" $GOOD $v
  check "python3 TLS $v: the second connection resumed and got the page" \
    grep -q "resume $v: first True, second True, resumed=True" "$TMP/out"
  run "python3 TLS $v, forged chain" refuse $BAD "${P[@]}" resume "$CAS" $H "$port" $BAD $v
done

if have openssl; then
  get
  S=(openssl s_client -servername $H -CAfile "$CAS" -verify_return_error -quiet)
  run "openssl s_client (implicit handshake in SSL_write), forged chain" refuse $BAD "${S[@]}" -connect $BAD:"$port"
  said "s_client reports certificate verify failed" "certificate verify failed"
  run "openssl s_client, genuine chain" accept $GOOD "${S[@]}" -connect $GOOD:"$port"
  run "openssl s_client -no_tls1_3, forged chain" refuse $BAD "${S[@]}" -no_tls1_3 -connect $BAD:"$port"
  run "openssl s_client -no_tls1_3, genuine chain" accept $GOOD "${S[@]}" -no_tls1_3 -connect $GOOD:"$port"
  noget
  # -reconnect: six handshakes on one SSL object (SSL_clear between them).
  env LD_PRELOAD="$PRE" timeout 60 openssl s_client -servername $H -CAfile "$CAS" -verify_return_error -no_tls1_3 \
    -reconnect -connect $BAD:"$port" </dev/null >"$TMP/out" 2>"$TMP/err"
  check "s_client -reconnect to the forged server: refused" test "$(grep -c '^tlsguard: refused' "$TMP/err")" -ge 1
  env LD_PRELOAD="$PRE" timeout 60 openssl s_client -servername $H -CAfile "$CAS" -verify_return_error -no_tls1_3 \
    -reconnect -connect $GOOD:"$port" </dev/null >"$TMP/out" 2>"$TMP/err"
  check "s_client -reconnect to the genuine server: 5 reused sessions, no refusal" \
    bash -c "[ \"\$(grep -c '^Reused' '$TMP/out')\" -ge 5 ] && ! grep -q '^tlsguard' '$TMP/err'"
else skip "openssl s_client under the shim" "openssl not installed"; fi

# ---------------------------------------------------------------- threads
if [ -x "$MT" ]; then
  LD_PRELOAD="$PRE" timeout 120 "$MT" "$CAS" $H "$port" $GOOD $BAD 8 25 >"$TMP/out" 2>"$TMP/err"
  check "8 GnuTLS threads x 25 handshakes: every genuine one accepted" grep -qx 'good: 100 ok, 0 refused, 0 other errors' "$TMP/out"
  check "8 GnuTLS threads x 25 handshakes: every forged one refused" grep -qx 'bad: 0 ok, 100 refused, 0 other errors' "$TMP/out"
  check "the threaded GnuTLS client printed one warning per refusal" test "$(grep -c '^tlsguard: refused' "$TMP/err")" = 100
else skip "threaded GnuTLS client" "$MT not built"; fi
# A connection made from inside another handshake on the same thread (a
# verify callback fetching something over HTTPS): judged like any other.
if [ -x "$MT" ]; then
  LD_PRELOAD="$PRE" timeout 60 "$MT" "$CAS" $H "$port" $GOOD $BAD nested >"$TMP/out" 2>"$TMP/err"
  check "a handshake nested in another one's verify callback: the forged one refused, the outer accepted" \
    grep -qx 'nested: outer ok, inner refused' "$TMP/out"
fi
run "8 python3 threads x 10 handshakes (OpenSSL), genuine chain" accept $GOOD "${P[@]}" threads "$CAS" $H "$port" $GOOD 8
check "python3 threads: 80 ok" grep -q 'threads: 80 ok, 0 failed' "$TMP/out"
before=$(requests $BAD)
env LD_PRELOAD="$PRE" timeout 60 "${P[@]}" threads "$CAS" $H "$port" $BAD 8 >"$TMP/out" 2>"$TMP/err"
check "8 python3 threads x 10 handshakes, forged chain: all 80 refused, no request" \
  bash -c "grep -q 'threads: 0 ok, 80 failed' '$TMP/out' && [ '$before' = \"\$(grep -c '^request:' '$TMP/$BAD.log')\" ]"

# ---------------------------------------------------------------- switches and failure modes
if have gnutls-cli; then
  get
  TLSGUARD_PRELOAD=off PRELOAD=$PRE run "TLSGUARD_PRELOAD=off: the shim stands aside (forged accepted)" accept $BAD \
    env TLSGUARD_PRELOAD=off "${G[@]}" $BAD
  check "TLSGUARD_PRELOAD=off: no tlsguard message" bash -c "! grep -q '^tlsguard' '$TMP/err'"
  printf '# test\nexclude = curl, gnutls-cli\n' >"$TMP/preload.conf"
  run "preload.conf exclude = gnutls-cli: the shim stands aside" accept $BAD \
    env TLSGUARD_PRELOAD_CONF="$TMP/preload.conf" "${G[@]}" $BAD
  printf 'only = wget\n' >"$TMP/preload.conf"
  run "preload.conf only = wget: gnutls-cli left alone" accept $BAD \
    env TLSGUARD_PRELOAD_CONF="$TMP/preload.conf" "${G[@]}" $BAD
  printf 'exclude = wget\nstderr = yes\n' >"$TMP/preload.conf"
  run "preload.conf excluding another program: gnutls-cli still protected" refuse $BAD \
    env TLSGUARD_PRELOAD_CONF="$TMP/preload.conf" "${G[@]}" $BAD

  if [ ! -e /etc/tlsguard/tlsguard.conf ]; then
    # No config at all: library defaults (system CA store). The fixture CA is
    # not in it: the program's own verification (which trusts it) decides.
    run "no config: the genuine chain from a CA only the program trusts still works" accept $GOOD \
      env -u TLSGUARD_CONFIG "${G[@]}" $GOOD
    check "no config: nothing printed" bash -c "! grep -q '^tlsguard' '$TMP/err'"
    run "no config, libtlsguard missing: the program still works" accept $GOOD \
      env -u TLSGUARD_CONFIG TLSGUARD_PRELOAD_LIBRARY=/nonexistent/libtlsguard.so.0 "${G[@]}" $GOOD
    said "no config, libtlsguard missing: says the shim is inactive" "inactive in gnutls-cli: cannot load libtlsguard"
  else skip "no-config behaviour" "/etc/tlsguard/tlsguard.conf exists on this machine"; fi
  run "a config but libtlsguard missing: fails closed" refuse $GOOD \
    env TLSGUARD_PRELOAD_LIBRARY=/nonexistent/libtlsguard.so.0 "${G[@]}" $GOOD
  printf '[%s]\npin = not-a-pin\n' $H >"$TMP/bad.conf"
  run "a config that does not load: fails closed" refuse $GOOD env TLSGUARD_CONFIG="$TMP/bad.conf" "${G[@]}" $GOOD
  said "the refusal names the bad config" "bad config $TMP/bad.conf"
  # ~/.config/tlsguard/tlsguard.conf is found without TLSGUARD_CONFIG.
  mkdir -p "$HOME/.config/tlsguard" && cp "$CONF" "$HOME/.config/tlsguard/tlsguard.conf"
  run "the user's ~/.config/tlsguard/tlsguard.conf is used" refuse $BAD env -u TLSGUARD_CONFIG "${G[@]}" $BAD
  rm -rf "$HOME/.config/tlsguard"

  # The consistency check's cross-path probe makes its own GnuTLS
  # handshakes inside the evaluation: they must pass through the hooks
  # (no recursion, no hang) and the split view is found.
  cat >"$TMP/probe.conf" <<EOF
[default]
ca-file = $D/root-ca.pem
ca-file = $D/rogue-ca.pem
store = $TMP/store.db
consistency = enforce
probe = always
probe-timeout-ms = 3000
[$H]
addresses = $GOOD, $BAD
EOF
  run "consistency probe inside the shim: the forged address is a split view" refuse $BAD \
    env TLSGUARD_CONFIG="$TMP/probe.conf" "${G[@]}" $BAD
  said "the refusal is the split view" "ERR_TLSGUARD_SPLIT_VIEW"
  check "the probe's own handshakes were not judged by the shim (one refusal)" \
    test "$(grep -c '^tlsguard: refused' "$TMP/err")" = 1
fi

echo "preload: $t_skip skipped"
finish
