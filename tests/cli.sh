#!/bin/bash
# tests/cli.sh: exit codes and output of the tlsguard(1) command line tool.
#
# An automake test (exit 0 pass, 1 fail, 77 skip), run from the build
# directory. Environment (set by AM_TESTS_ENVIRONMENT):
#   TG_DATA      fixture directory (tests/gen-fixtures.sh output)
#   TG_BUILDDIR  build directory holding tools/tlsguard
#   TG_SRCDIR    source directory (unused for now)
#   TG_SHARED    shared data ($TG_SHARED/testdata/ct: real-world certificates
#                and CT log lists); its tests are skipped when it is absent,
#                except under CI=true, where that is a failure
# The connect tests start gnutls-serv and a plain TCP server on free ports
# and talk to them on 127.0.0.1; the consistency tests start openssl
# s_server on 127.0.0.2 and 127.0.0.3 (one host, two addresses). Every
# server is stopped on exit.
# Stores (trust on first use) live in the temporary directory only: the
# default store path is pointed there too.
set -u

TG_DATA=${TG_DATA:-tests/data}
TG_BUILDDIR=${TG_BUILDDIR:-.}
TG_SRCDIR=${TG_SRCDIR:-.}
TG="$TG_BUILDDIR/tools/tlsguard"
D=$TG_DATA
AT=(--at 2026-06-01) # fixture certificates are meant to be checked then
TRUST=(--no-system-ca --ca "$D/root-ca.pem")

PASS=0
FAIL=0
SKIP=0
PIDS=()
TMP=

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

if [ ! -f "$D/good-chain.pem" ]; then
	echo "SKIP: fixtures not found in $D (run tests/gen-fixtures.sh $D)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed to check the JSON output"
	exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tlsguard-cli.XXXXXX") || exit 1
# Never touch the user's store: the default path is $XDG_DATA_HOME/tlsguard/store.db.
unset TLSGUARD_STORE
export XDG_DATA_HOME="$TMP/xdg"

# ---------------------------------------------------------------- helpers

ok() {
	PASS=$((PASS + 1))
	echo "ok - $1"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1"
	shift
	local line
	for line in "$@"; do
		echo "#   $line"
	done
	echo "#   --- stdout:"
	sed 's/^/#   | /' "$TMP/out" | head -40
	echo "#   --- stderr:"
	sed 's/^/#   | /' "$TMP/err" | head -20
}

skip() {
	SKIP=$((SKIP + 1))
	echo "ok - $1 # SKIP $2"
}

# run ARGS...: run tlsguard; stdout in $TMP/out, stderr in $TMP/err, exit in RC.
run() {
	"$TG" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

# expect NAME RC [out:TEXT | line:TEXT | err:TEXT | noout | noerr]...: check
# the last run (line: a whole line of stdout).
expect() {
	local name=$1 want=$2 a
	shift 2
	if [ "$RC" != "$want" ]; then
		not_ok "$name" "exit status $RC, expected $want"
		return
	fi
	for a in "$@"; do
		case $a in
		out:*)
			if ! grep -qF -- "${a#out:}" "$TMP/out"; then
				not_ok "$name" "stdout lacks '${a#out:}'"
				return
			fi
			;;
		line:*)
			if ! grep -qxF -- "${a#line:}" "$TMP/out"; then
				not_ok "$name" "stdout lacks the line '${a#line:}'"
				return
			fi
			;;
		err:*)
			if ! grep -qF -- "${a#err:}" "$TMP/err"; then
				not_ok "$name" "stderr lacks '${a#err:}'"
				return
			fi
			;;
		noout)
			if [ -s "$TMP/out" ]; then
				not_ok "$name" "stdout is not empty"
				return
			fi
			;;
		noerr)
			if [ -s "$TMP/err" ]; then
				not_ok "$name" "stderr is not empty"
				return
			fi
			;;
		esac
	done
	ok "$name"
}

# expect_json NAME RC PYTHON-EXPR: stdout is exactly one JSON object d for
# which the expression holds.
expect_json() {
	local name=$1 want=$2 expr=$3 why
	if [ "$RC" != "$want" ]; then
		not_ok "$name" "exit status $RC, expected $want"
		return
	fi
	if ! why=$(python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
assert isinstance(d, dict), "not a JSON object"
ev = {e["key"]: e for e in d.get("events", [])}
ck = {c["name"]: c["outcome"] for c in d.get("checks", [])}
assert eval("(" + sys.argv[2] + "\n)"), "assertion failed: " + " ".join(sys.argv[2].split())
' "$TMP/out" "$expr" 2>&1); then
		not_ok "$name" "$(echo "$why" | tail -1)"
		return
	fi
	ok "$name"
}

# expect_py NAME RC SCRIPT [ARG...]: the last run exited with RC and the
# python3 SCRIPT holds for its stdout (sys.argv[1]; the ARGs follow).
expect_py() {
	local name=$1 want=$2 script=$3 why
	shift 3
	if [ "$RC" != "$want" ]; then
		not_ok "$name" "exit status $RC, expected $want"
		return
	fi
	if ! why=$(python3 -c "$script" "$TMP/out" "$@" 2>&1); then
		not_ok "$name" "$(echo "$why" | tail -1)"
		return
	fi
	ok "$name"
}

# check NAME COMMAND...: ok if the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "failed: $*"
	fi
}

# ossl_pin CERT: base64 SHA-256 of the DER SubjectPublicKeyInfo, by openssl.
ossl_pin() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | openssl base64 -A
}

# pin_of CERT: the same, by openssl when there is one, else by tlsguard pin.
pin_of() {
	if command -v openssl >/dev/null 2>&1; then
		ossl_pin "$1"
	else
		"$TG" pin --json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["certificates"][0]["pins"]["sha256"][7:])'
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listen PORT PID [ADDRESS]: until something accepts on ADDRESS:PORT
# (default 127.0.0.1; 5 s).
wait_listen() {
	local _
	for _ in $(seq 50); do
		kill -0 "$2" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/${3:-127.0.0.1}/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# start_tls_server CHAIN KEY: gnutls-serv on a free port; sets SERVER_PORT.
start_tls_server() {
	local _
	for _ in 1 2 3; do
		SERVER_PORT=$(free_port)
		gnutls-serv --port "$SERVER_PORT" --x509certfile "$1" --x509keyfile "$2" --quiet \
			>"$TMP/serv-$SERVER_PORT.log" 2>&1 &
		PIDS+=($!)
		wait_listen "$SERVER_PORT" "$!" && return 0
	done
	return 1
}

# start_ossl_sct_server CERT KEY SERVERINFO: openssl s_server (TLS 1.2) that
# sends the SCT list of SERVERINFO in the TLS extension; sets SERVER_PORT.
start_ossl_sct_server() {
	local _
	for _ in 1 2 3; do
		SERVER_PORT=$(free_port)
		openssl s_server -accept "$SERVER_PORT" -cert "$1" -key "$2" -serverinfo "$3" -tls1_2 \
			-cipher 'DEFAULT:@SECLEVEL=0' -quiet >"$TMP/serv-$SERVER_PORT.log" 2>&1 </dev/null &
		PIDS+=($!)
		wait_listen "$SERVER_PORT" "$!" && return 0
	done
	return 1
}

# start_ossl_server_at ADDRESS PORT CERT KEY [CHAIN]: openssl s_server on
# ADDRESS:PORT serving CERT (and the intermediates in CHAIN).
start_ossl_server_at() {
	local chain=()
	[ -n "${5:-}" ] && chain=(-cert_chain "$5")
	openssl s_server -accept "$1:$2" -cert "$3" -key "$4" "${chain[@]}" -quiet \
		>"$TMP/serv-$1-$2.log" 2>&1 </dev/null &
	PIDS+=($!)
	wait_listen "$2" "$!" "$1"
}

# start_plain_server: a TCP server that answers in HTTP, not TLS.
start_plain_server() {
	python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
s.settimeout(120)
while True:
    c, _ = s.accept()
    c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    c.close()
' >"$TMP/plain.port" 2>/dev/null &
	PIDS+=($!)
	local _
	for _ in $(seq 50); do
		PLAIN_PORT=$(head -1 "$TMP/plain.port" 2>/dev/null)
		[ -n "$PLAIN_PORT" ] && wait_listen "$PLAIN_PORT" "$!" && return 0
		sleep 0.1
	done
	return 1
}

if [ ! -x "$TG" ]; then
	echo "not ok - $TG is not built"
	echo "cli: 0 passed, 1 failed"
	exit 1
fi

# ---------------------------------------------------------------- general

run --help
expect "--help prints the usage of every command" 0 "out:verify --host NAME CHAIN..." "out:connect HOST[:PORT]" \
	"out:--connect-to ADDR" "out:--json" "out:pin CHAIN..." "out:pin --connect HOST[:PORT]" "out:store list" \
	"out:store accept HOST[:PORT]" "out:--store PATH" "out:sct CERT --issuer ISSUER" "out:--log-list FILE" \
	"out:--ct-policy POLICY" "out:--tls-sct FILE" "out:store history [HOST[:PORT]]" "out:store verify" \
	"out:--probe" "out:--addresses A,B,..." "out:--limit N" "out:--head SIZE:ROOT"
run help
expect "help command prints the usage" 0 "out:Usage: tlsguard"
run --version
expect "--version" 0 "out:tlsguard 0." "out:GnuTLS"
run frobnicate
expect "unknown command exits 2 with a hint" 2 "err:unknown command 'frobnicate'" "err:--help" noout
run
expect "no command exits 2" 2 "err:Usage:"

# ---------------------------------------------------------------- verify

run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify good chain: accepted" 0 "out:verdict: accepted" "out:[0] subject:  CN=good.example.test" \
	"out:issuer:   CN=tlsguard Test Intermediate CA" "out:validity: 2020-01-01T00:00:00Z .. 2045-01-01T00:00:00Z" \
	"out:spki:     sha256/" "out:chain      pass" "out:ocsp       skip" "out:pin        skip" "out:tofu       skip" \
	"out:ct         skip" "out:events: none"

if command -v openssl >/dev/null 2>&1; then
	pin=$(openssl x509 -in "$D/good.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | openssl base64 -A)
	expect "verify: SPKI pin equals openssl's sha256 of the SubjectPublicKeyInfo" 0 "out:sha256/$pin"
else
	skip "verify: SPKI pin equals openssl's" "openssl not found"
fi

run verify "$D/good-chain.pem" "${TRUST[@]}" --host good.example.test --port 8443 "${AT[@]}" --json
expect_json "verify good chain --json (options after arguments)" 0 \
	'd["verdict"] == "accept" and d["error"] is None and d["host"] == "good.example.test" and d["port"] == 8443
	 and d["address"] is None and d["events"] == [] and len(d["chain"]) == 2
	 and d["chain"][0]["index"] == 0 and d["chain"][0]["subject"].startswith("CN=good.example.test")
	 and d["chain"][0]["not_before"] == "2020-01-01T00:00:00Z" and d["chain"][0]["not_after"] == "2045-01-01T00:00:00Z"
	 and len(d["chain"][0]["spki_sha256"]) == 44 and ck == {"chain": "pass", "validity": "pass",
	 "hostname": "pass", "eku": "pass", "crypto": "pass", "ocsp": "skip", "pin": "skip", "tofu": "skip",
	 "ct": "skip", "webpki": "pass", "consistency": "skip"}
	 and [c["name"] for c in d["checks"]] == ["chain", "validity", "hostname", "eku", "crypto", "ocsp", "pin", "tofu",
	 "ct", "webpki", "consistency"]
	 and d["peers"] == [] and d["warnings"] == [] and d["report"] is None'

run verify --host good.example.test "$D/bad-all.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify bad-all: rejected with untrusted-issuer, expired, hostname-mismatch" 1 \
	"out:fatal untrusted-issuer ERR_CERT_AUTHORITY_INVALID (check chain, certificate 0)" \
	"out:fatal expired ERR_CERT_DATE_INVALID (check validity, certificate 0)" \
	"out:fatal hostname-mismatch ERR_CERT_COMMON_NAME_INVALID (check hostname, certificate 0)" \
	"out:message: The certificate" "out:detail:" "out:hostname   FAIL" "out:verdict: REJECTED"

run verify --host good.example.test "$D/bad-all.pem" "${TRUST[@]}" "${AT[@]}" --json
expect_json "verify bad-all --json: one object with the three events" 1 \
	'd["verdict"] == "reject" and d["error"] is None
	 and {"untrusted-issuer", "expired", "hostname-mismatch"} <= set(ev)
	 and ev["expired"]["code"] == 4 and ev["expired"]["name"] == "ERR_CERT_DATE_INVALID"
	 and ev["expired"]["severity"] == "fatal" and ev["expired"]["check"] == "validity"
	 and ev["expired"]["cert_index"] == 0 and "expired" in ev["expired"]["detail"]
	 and ev["untrusted-issuer"]["check"] == "chain" and ev["hostname-mismatch"]["check"] == "hostname"
	 and all(isinstance(e["message"], str) and e["message"] for e in d["events"])
	 and ck["hostname"] == "fail" and ck["eku"] == "pass"'

for spec in expired:expired:expired wronghost:good:hostname-mismatch weak-rsa:weak:weak-crypto \
	sha1:sha1:weak-crypto clientauth:client:bad-key-usage notca:notca:invalid-chain \
	md5:md5:weak-crypto eku-int:ekuint:bad-key-usage; do
	IFS=: read -r name host key <<<"$spec"
	run verify --host "$host.example.test" "$D/$name-chain.pem" "${TRUST[@]}" "${AT[@]}"
	expect "verify $name: rejected with $key" 1 "out:fatal $key " "out:verdict: REJECTED"
done

run verify --host good.example.test "$D/good.der" "$D/int-ca.der" "${TRUST[@]}" "${AT[@]}"
expect "verify with DER files given separately" 0 "out:chain: 2 certificates" "out:verdict: accepted"
run verify --host good.example.test "$D/good.der" "$D/int-ca.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify with a mix of DER and PEM files" 0 "out:verdict: accepted"
run verify --host www.good.example.test "$D/good-chain.pem" --no-system-ca --ca "$D/root-ca.der" "${AT[@]}"
expect "verify with a DER --ca" 0 "out:verdict: accepted"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}"
expect "verify good chain by the clock" 0 "out:verdict: accepted"

run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --at 2019-01-01
expect "verify --at 2019-01-01: not yet valid" 1 "out:fatal not-yet-valid " "out:verdict: REJECTED"
run verify --host good.example.test "$D/expired-chain.pem" "${TRUST[@]}" --at 2020-06-01T12:00:00Z
expect "verify --at YYYY-MM-DDTHH:MM:SSZ: expired cert valid then" 1 "out:fatal hostname-mismatch " "out:validity   pass"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --at @1780272000
expect "verify --at @UNIXSECONDS" 0 "out:verdict: accepted"

run verify --host revoked.example.test "$D/revoked-chain.pem" "${TRUST[@]}" --at "@$(date +%s)" \
	--ocsp "$D/ocsp-revoked.der"
expect "verify --ocsp ocsp-revoked.der: revoked" 1 "out:fatal revoked ERR_CERT_REVOKED (check ocsp, certificate 0)" \
	"out:verdict: REJECTED"
run verify --host revoked.example.test "$D/revoked-chain.pem" "${TRUST[@]}" --at "@$(date +%s)" \
	--ocsp "$D/ocsp-revoked.der" --json
expect_json "verify --ocsp --json: revoked from the ocsp check" 1 \
	'd["verdict"] == "reject" and ev["revoked"]["check"] == "ocsp" and ck["ocsp"] == "fail"'
# OCSP responses carry the generation time; check one hour after it.
ocsp_at=$(($(stat -c %Y "$D/ocsp-good.der") + 3600))
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --at "@$ocsp_at" --ocsp "$D/ocsp-good.der"
expect "verify --ocsp ocsp-good.der: accepted, ocsp check ran" 0 "out:ocsp       pass" "out:verdict: accepted"

if command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/odd.key" -out "$TMP/odd.pem" -days 30 -utf8 \
		-subj "/CN=odd.example.test/O=q\"b\\\\s$(printf '\t')é€" -addext "subjectAltName=DNS:odd.example.test" \
		-addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
		-addext "keyUsage=critical,digitalSignature,keyEncipherment" >/dev/null 2>&1; then
	run verify --host odd.example.test "$TMP/odd.pem" --no-system-ca --ca "$TMP/odd.pem" --json
	expect_json "verify --json escapes quotes, backslashes, control characters; UTF-8 passes" 0 \
		'd["verdict"] == "accept" and all(c in d["chain"][0]["subject"] for c in ("\"", "\\", "\t", "é€"))'
	run verify --host odd.example.test "$TMP/odd.pem" --no-system-ca --ca "$TMP/odd.pem"
	expect "verify text shows control characters as \\xNN" 0 'out:\x09é€'
else
	skip "verify --json escaping" "openssl cannot make the test certificate"
	skip "verify text escaping" "openssl cannot make the test certificate"
fi

# ---------------------------------------------------------------- input and usage errors

printf -- '-----BEGIN CERTIFICATE-----\nthis is not base64 !!!\n-----END CERTIFICATE-----\n' >"$TMP/garbage.pem"
run verify --host good.example.test "$TMP/garbage.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify garbage PEM file: exit 2 naming the file" 2 "err:tlsguard: $TMP/garbage.pem: certificate 1" noout
printf 'no certificate here\n' >"$TMP/junk.der"
run verify --host good.example.test "$TMP/junk.der" "${TRUST[@]}" "${AT[@]}"
expect "verify file that is neither PEM nor DER: exit 2" 2 "err:$TMP/junk.der: certificate 1 is not a valid X.509" noout
: >"$TMP/empty.pem"
run verify --host good.example.test "$TMP/empty.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify empty file: exit 2" 2 "err:tlsguard: $TMP/empty.pem: chain file is empty" noout
run verify --host good.example.test "$TMP/missing.pem" "${TRUST[@]}" "${AT[@]}"
expect "verify missing file: exit 2" 2 "err:tlsguard: $TMP/missing.pem: cannot read chain file" noout
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --at 2026-02-30
expect "verify bad --at: exit 2" 2 "err:--at '2026-02-30'" noout
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --at yesterday --json
expect "verify bad --at with --json: error on stderr, stdout empty" 2 "err:--at 'yesterday'" noout
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --frobnicate
expect "verify unknown option: exit 2" 2 "err:unknown option '--frobnicate'" "err:--help" noout
run verify --host good.example.test "$D/good-chain.pem" --at
expect "verify option without its argument: exit 2" 2 "err:'--at' needs an argument" noout
run verify "$D/good-chain.pem" "${TRUST[@]}"
expect "verify without --host: exit 2" 2 "err:--host NAME is required" noout
run verify --host 'bad host!' "$D/good-chain.pem" "${TRUST[@]}"
expect "verify with an invalid --host: exit 2" 2 "err:--host 'bad host!'" noout
run verify --host good.example.test "$D/good-chain.pem" --no-system-ca --ca "$TMP/missing-ca.pem"
expect "verify unreadable --ca: exit 2" 2 "err:--ca: $TMP/missing-ca.pem" noout
run verify --host good.example.test "$D/good-chain.pem" --no-system-ca --ca "$D/good.key"
expect "verify --ca without certificates: exit 2" 2 "err:--ca: $D/good.key: no PEM or DER certificate" noout

printf '# test config\n[default]\nmdoe = enforce\n' >"$TMP/typo.conf"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --config "$TMP/typo.conf"
expect "verify bad config: exit 2 with file:line: and the key" 2 "err:typo.conf:3: " "err:'mdoe'" noout
printf '[default]\nmode = enforce\n[good.example.test]\nmode = report-only\n' >"$TMP/good.conf"
run verify --host good.example.test "$D/bad-all.pem" "${TRUST[@]}" "${AT[@]}" --config "$TMP/good.conf"
expect "verify with a config in report-only mode: accepted despite events" 0 "out:fatal expired " \
	"out:verdict: accepted"

# ---------------------------------------------------------------- Certificate Transparency

# The public key of OpenSSL's (and google/certificate-transparency's) CT
# test log, as in OpenSSL's test/ct/log_list.cnf [test]: a test key only.
CT_TEST_KEY=MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmXg8sUUzwBYaWrRb+V0IopzQ6o3UyEJ04r5ZrRXGdpYM8K+hB0pXrGRLI0eeWz+3skXrS0IO83AhA3GpRL6s6w==

# ct_list FILE TIMESTAMP KEY DESCRIPTION OPERATOR: a v3 log list (the JSON
# format of Chrome's and Apple's lists) dated TIMESTAMP, with one log of
# that key, usable since 2012.
ct_list() {
	python3 -c '
import base64, hashlib, json, sys
path, ts, key, desc, op = sys.argv[1:6]
log_id = base64.b64encode(hashlib.sha256(base64.b64decode(key)).digest()).decode()
log = {"description": desc, "log_id": log_id, "key": key, "url": "https://ct.example.test/", "mmd": 86400,
       "state": {"usable": {"timestamp": "2012-01-01T00:00:00Z"}}}
with open(path, "w", encoding="utf-8") as f:
    json.dump({"version": "1.0", "log_list_timestamp": ts,
               "operators": [{"name": op, "email": ["ct@example.test"], "logs": [log]}]}, f)
' "$@"
}

# A list fresh at the fixtures' time (a list older than 70 days is not enforced).
ct_list "$TMP/ct-fresh.json" 2026-05-15T00:00:00Z "$CT_TEST_KEY" "Test log" "Test operator"

run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --log-list "$TMP/ct-fresh.json" \
	--ct-policy chrome
expect "verify --log-list --ct-policy chrome, chain without SCTs: rejected with ct-missing" 1 "out:ct         FAIL" \
	"line:scts: none" "out:fatal ct-missing ERR_CERTIFICATE_TRANSPARENCY_REQUIRED (check ct, certificate 0)" \
	"out:detail:  no SCT: " "out:verdict: REJECTED"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --log-list "$TMP/ct-fresh.json" --json
expect_json "verify --log-list --json: ct-missing, scts [] (policy chrome by default with a list)" 1 \
	'd["verdict"] == "reject" and ck["ct"] == "fail" and d["scts"] == []
	 and ev["ct-missing"]["severity"] == "fatal" and ev["ct-missing"]["check"] == "ct"'
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --log-list "$TMP/ct-fresh.json" \
	--ct-policy off
expect "verify --ct-policy off: accepted, ct skipped" 0 "out:ct         skip" "line:scts: none" "out:events: none" \
	"out:verdict: accepted"
printf '[default]\nct-policy = off\n' >"$TMP/ct-off.conf"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --log-list "$TMP/ct-fresh.json" \
	--config "$TMP/ct-off.conf" --ct-policy apple
expect "verify --ct-policy overrides the config's [default] ct-policy" 1 "out:fatal ct-missing "
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --ct-policy chrome
expect "verify --ct-policy without a log list: accepted, an info event says CT was not checked" 0 \
	"out:info ct-unavailable " "out:no CT log list configured" "out:verdict: accepted"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --ct-policy firefox
expect "verify --ct-policy with a bad value: exit 2" 2 "err:--ct-policy 'firefox': expected chrome, apple or off" noout
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --log-list "$TMP/missing-list.json"
expect "verify --log-list of a missing file: exit 2 naming it" 2 \
	"err:--log-list: $TMP/missing-list.json: cannot read CT log list" noout
: >"$TMP/empty.sct"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" --tls-sct "$TMP/empty.sct"
expect "verify --tls-sct of an empty file: exit 2" 2 "err:$TMP/empty.sct: SCT list file is empty" noout
printf '\000\011\000\003abc' >"$TMP/bad.sct" # says 9 bytes follow, holds 5
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --log-list "$TMP/ct-fresh.json" \
	--tls-sct "$TMP/bad.sct"
expect "verify --tls-sct with a malformed list: a ct-invalid warning, then ct-missing" 1 \
	"out:warning ct-invalid ERR_CT_SCT_INVALID (check ct" "out:the SCT list from the TLS handshake is malformed" \
	"out:fatal ct-missing "

# sct on the generated fixtures (no SCTs), and its usage errors.
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --log-list "$TMP/ct-fresh.json" "${AT[@]}"
expect "sct of a certificate without SCTs: not met (exit 1), ct-missing" 1 \
	"line:certificate: CN=good.example.test,O=tlsguard tests" "line:host: good.example.test" \
	"line:time: 2026-06-01T00:00:00Z" "line:scts: none" "line:policy: chrome" \
	"line:  fatal ct-missing ERR_CERTIFICATE_TRANSPARENCY_REQUIRED" \
	"out:  - no SCT: the certificate has no embedded SCTs" "line:verdict: NOT MET"
run sct "$D/good.der" --issuer "$D/int-ca.der" --log-list "$TMP/ct-fresh.json" "${AT[@]}" --json
expect_json "sct --json of DER files without SCTs: verdict not met" 1 \
	'd["verdict"] == "not met" and d["scts"] == [] and d["policy"] == "chrome"
	 and d["certificate"]["subject"].startswith("CN=good.example.test") and d["host"] == "good.example.test"
	 and [e["key"] for e in d["events"]] == ["ct-missing"] and len(d["reasons"]) == 1
	 and d["reasons"][0].startswith("no SCT")'
run sct "$D/good.pem" --issuer "$D/int-ca.pem" "${AT[@]}"
expect "sct without a log list: unavailable (exit 1), says why" 1 "out:log list: none (give one with --log-list FILE" \
	"out:no CT log list configured" "line:verdict: unavailable"
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --log-list "$TMP/ct-fresh.json" --policy off "${AT[@]}" --json
expect_json "sct --policy off: unavailable (exit 1)" 1 \
	'd["verdict"] == "unavailable" and d["policy"] == "off" and d["reasons"] and d["events"] == []'
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --log-list "$TMP/ct-fresh.json" --at 2026-09-01
expect "sct with a list older than 70 days: unavailable (exit 1)" 1 "out:warning ct-unavailable " \
	"out:a list older than 70 days is not enforced" "line:verdict: unavailable"
run sct "$D/good.pem" --log-list "$TMP/ct-fresh.json"
expect "sct without --issuer: exit 2" 2 "err:sct: --issuer ISSUER is required" noout
run sct --issuer "$D/int-ca.pem"
expect "sct without CERT: exit 2" 2 "err:sct: no CERT file given" noout
run sct "$D/good.pem" "$D/int-ca.pem" --issuer "$D/int-ca.pem"
expect "sct with two CERTs: exit 2" 2 "err:sct: one CERT only" noout
run sct "$TMP/missing.pem" --issuer "$D/int-ca.pem"
expect "sct with a missing CERT: exit 2" 2 "err:$TMP/missing.pem: cannot read chain file" noout
run sct "$D/good.pem" --issuer "$TMP/junk.der"
expect "sct with an ISSUER that is not a certificate: exit 2" 2 "err:$TMP/junk.der: certificate 1" noout
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --policy firefox
expect "sct --policy with a bad value: exit 2" 2 "err:--policy 'firefox': expected chrome, apple or off" noout
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --ca "$D/root-ca.pem"
expect "sct --ca: exit 2 (ISSUER is the anchor)" 2 "err:'--ca' is not valid here" noout
run verify --host good.example.test "$D/good-chain.pem" --issuer "$D/int-ca.pem"
expect "verify --issuer: exit 2" 2 "err:'--issuer' is not valid here" noout
printf '%s\n' '{"version": "1", "operators": [{"name": "x", "email": ["ct@example.test"],' \
	'"logs": [{"description": "d", "log_id": "AAAA", "key": "!!", "url": "https://ct.example.test/", "mmd": 86400}]}]}' \
	>"$TMP/garbage-list.json"
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --log-list "$TMP/garbage-list.json" --json
expect "sct with a garbage log list: exit 2 naming the file and the JSON path" 2 \
	"err:tlsguard: --log-list: $TMP/garbage-list.json: operators[0].logs[0].key: " noout
printf '{"operators": [' >"$TMP/truncated-list.json"
run sct "$D/good.pem" --issuer "$D/int-ca.pem" --log-list "$TMP/truncated-list.json"
expect "sct with a log list that is not JSON: exit 2" 2 "err:--log-list: $TMP/truncated-list.json: byte " noout
# A bad ct-log-list in a config is a load warning, not a load error: CT is
# unavailable, failing closed where ct-policy is explicit and ct-mode enforce.
printf '[default]\nct-log-list = %s\nct-policy = chrome\n' "$TMP/garbage-list.json" >"$TMP/ct-badlist.conf"
run verify --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --config "$TMP/ct-badlist.conf"
expect "verify --config with a bad ct-log-list: warns naming it, then fails closed (explicit ct-policy)" 1 \
	"err:tlsguard: warning: $TMP/ct-badlist.conf:2: ct-log-list: $TMP/garbage-list.json: operators[0].logs[0].key: " \
	"out:fatal ct-unavailable " "out:verdict: REJECTED"

# sct on real-world certificates and lists (shared/testdata/ct/README.md).
CT=${TG_SHARED:-/nonexistent}/testdata/ct
CT_TESTS=("sct cloudflare-sni-2025 with Chrome's v81.14 list" "sct cloudflare-sni-2025 --json"
	"sct cloudflare-sni-2025 with Chrome's v89.25 list" "sct aws.amazon.com-2025 with Apple's list"
	"verify --json lists the SCTs" "sct embeddedSCTs1 at 2020-01-29" "sct embeddedSCTs1 at 2013-04-04"
	"sct --tls-sct" "sct of a certificate without the SCT extension" "connect: SCTs from the TLS extension")
if [ ! -f "$CT/real-world/cloudflare-sni-2025/leaf.pem" ]; then
	echo "# note: CT test data not found in ${TG_SHARED:-\$TG_SHARED (unset)}/testdata/ct"
	if [ "${CI:-}" = true ]; then
		: >"$TMP/out"
		: >"$TMP/err"
		not_ok "CT test data present (required under CI=true)" "set TG_SHARED to the shared directory"
	fi
	for t in "${CT_TESTS[@]}"; do
		skip "$t" "no CT test data (TG_SHARED)"
	done
else
	CF=$CT/real-world/cloudflare-sni-2025
	AWS=$CT/real-world/aws.amazon.com-2025
	XENON25=3dzKNJXX4RYF55Uy+sef+D0cUN/bADoUEnYKLKy7yCo=
	NIMBUS25=zPsPaoVxCWX+lZtTzumyfCLphVwNl422qX5UwP5MDbA=

	run sct "$CF/leaf.pem" --issuer "$CF/issuer-we1-gtsr4.pem" --log-list "$CT/loglists/chrome-log_list.v81.14.json" \
		--at 2025-10-01
	expect "${CT_TESTS[0]}: met (exit 0), 2 valid SCTs: Xenon2025h2 (Google), Nimbus2025 (Cloudflare)" 0 \
		"line:host: 26d54cff.sni.cloudflaressl.com" "line:scts: 2" \
		"line:  [0] log:       Google 'Xenon2025h2' log" "line:      operator:  Google" \
		"line:      log id:    $XENON25" "line:      timestamp: 2025-09-10T19:11:57.152Z" \
		"line:  [1] log:       Cloudflare 'Nimbus2025'" "line:      operator:  Cloudflare" \
		"line:      log id:    $NIMBUS25" "line:      timestamp: 2025-09-10T19:11:57.172Z" \
		"line:      source:    embedded" "line:policy: chrome" "out:  - the chrome CT policy is met" "line:verdict: met"
	check "${CT_TESTS[0]}: both SCTs are valid" test "$(grep -c '^      status:    valid$' "$TMP/out")" = 2

	run sct "$CF/leaf.pem" --issuer "$CF/issuer-we1-gtsr4.pem" --log-list "$CT/loglists/chrome-log_list.v81.14.json" \
		--at 2025-10-01 --json
	expect_json "${CT_TESTS[1]}: every field" 0 \
		'set(d) >= {"certificate", "scts", "policy", "verdict", "reasons", "events"}
		 and d["certificate"] == {"subject": "CN=26d54cff.sni.cloudflaressl.com",
		   "issuer": "CN=WE1,O=Google Trust Services,C=US", "not_before": "2025-09-10T18:11:56Z",
		   "not_after": "2025-12-09T19:11:41Z"}
		 and d["scts"] == [
		   {"log_id": "'"$XENON25"'", "log": "Google \u0027Xenon2025h2\u0027 log", "operator": "Google",
		    "timestamp_ms": 1757531517152, "timestamp": "2025-09-10T19:11:57.152Z", "source": "embedded",
		    "status": "valid"},
		   {"log_id": "'"$NIMBUS25"'", "log": "Cloudflare \u0027Nimbus2025\u0027", "operator": "Cloudflare",
		    "timestamp_ms": 1757531517172, "timestamp": "2025-09-10T19:11:57.172Z", "source": "embedded",
		    "status": "valid"}]
		 and d["policy"] == "chrome" and d["verdict"] == "met" and d["events"] == []
		 and len(d["reasons"]) == 1 and "met" in d["reasons"][0] and d["warnings"] == []'

	run sct "$CF/leaf.pem" --issuer "$CF/issuer-we1-gtsr4.pem" --log-list "$CT/loglists/chrome-all_logs_list.v89.25.json" \
		--at 2025-10-01 --json
	expect_json "${CT_TESTS[2]}: not met (exit 1), both SCTs unknown_log (2025 shards pruned)" 1 \
		'd["verdict"] == "not met" and [s["status"] for s in d["scts"]] == ["unknown_log", "unknown_log"]
		 and [s["log_id"] for s in d["scts"]] == ["'"$XENON25"'", "'"$NIMBUS25"'"]
		 and all(s["log"] is None and s["operator"] is None for s in d["scts"])
		 and [e["key"] for e in d["events"]] == ["ct-policy-not-met"]
		 and d["reasons"][0].startswith("Chrome CT policy: 2 valid embedded SCTs from distinct logs needed")
		 and "unknown_log" in d["reasons"][0]'

	run sct "$AWS/leaf.pem" --issuer "$AWS/issuer.pem" --log-list "$CT/loglists/apple-current_log_list.v511.json" \
		--policy apple --at 2026-03-01
	expect "${CT_TESTS[3]}, --policy apple, 2026-03-01: met (exit 0)" 0 "line:host: aws.amazon.com" "line:scts: 3" \
		"line:  [0] log:       Google 'Xenon 2026H2' log" "line:  [1] log:       DigiCert 'Wyvern 2026h2' Log" \
		"line:      timestamp: 2025-11-06T23:29:40.579Z" "line:policy: apple" "line:verdict: met" \
		"err:tlsguard: warning: $CT/loglists/apple-current_log_list.v511.json: the list has no log_list_timestamp"
	check "${CT_TESTS[3]}: the three SCTs are valid" test "$(grep -c '^      status:    valid$' "$TMP/out")" = 3

	run verify --host 26d54cff.sni.cloudflaressl.com "$CF/leaf.pem" --no-system-ca --ca "$CF/issuer-we1-gtsr4.pem" \
		--at 2025-10-01 --log-list "$CT/loglists/chrome-log_list.v81.14.json" --json
	expect_json "${CT_TESTS[4]}: accepted, ct pass, 2 valid SCTs" 0 \
		'd["verdict"] == "accept" and ck["ct"] == "pass" and len(d["scts"]) == 2
		 and [s["log"] for s in d["scts"]] == ["Google \u0027Xenon2025h2\u0027 log", "Cloudflare \u0027Nimbus2025\u0027"]
		 and all(s["status"] == "valid" and s["source"] == "embedded" for s in d["scts"])'
	run verify --host 26d54cff.sni.cloudflaressl.com "$CF/leaf.pem" --no-system-ca --ca "$CF/issuer-we1-gtsr4.pem" \
		--at 2025-10-01 --log-list "$CT/loglists/chrome-all_logs_list.v89.25.json"
	expect "verify with Chrome's v89.25 list: rejected, ct-policy-not-met, the SCTs listed" 1 "out:ct         FAIL" \
		"line:scts: 2" "line:      status:    unknown_log" "out:fatal ct-policy-not-met ERR_CT_POLICY_NOT_MET (check ct" \
		"out:verdict: REJECTED"

	# OpenSSL's test certificate, with a list holding OpenSSL's test log.
	key=$(sed -n '/^\[test\]/,/^\[/s/^key = //p' "$CT/openssl/log_list.cnf")
	check "the test log key of OpenSSL's log_list.cnf is the one used above" test "$key" = "$CT_TEST_KEY"
	ct_list "$TMP/ct-openssl.json" 2020-01-15T00:00:00Z "$key" "OpenSSL test log" "OpenSSL"
	run sct "$CT/openssl/embeddedSCTs1.pem" --issuer "$CT/openssl/embeddedSCTs1_issuer.pem" \
		--log-list "$TMP/ct-openssl.json" --at 2020-01-29T22:01:47Z
	expect "${CT_TESTS[5]}: the SCT is valid (one log is not enough for the policy: exit 1)" 1 \
		"line:host: server.example" "line:  [0] log:       OpenSSL test log" "line:      operator:  OpenSSL" \
		"line:      log id:    3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=" \
		"line:      timestamp: 2020-01-01T00:00:00.000Z" "line:      status:    valid" \
		"out:3 valid embedded SCTs from distinct logs needed" "line:verdict: NOT MET"
	run sct "$CT/openssl/embeddedSCTs1.pem" --issuer "$CT/openssl/embeddedSCTs1_issuer.pem" \
		--log-list "$TMP/ct-openssl.json" --at 2013-04-04T17:00:00Z --json
	expect_json "${CT_TESTS[6]}: future_timestamp" 1 \
		'[s["status"] for s in d["scts"]] == ["future_timestamp"] and d["verdict"] == "not met"
		 and [e["key"] for e in d["events"]] == ["ct-invalid", "ct-policy-not-met"]
		 and "dated after the evaluation time (2013-04-04T17:00:00.000Z)" in d["reasons"][0]'

	run sct "$CT/google-ct/test-cert.pem" --issuer "$CT/google-ct/ca-cert.pem" \
		--tls-sct "$CT/google-ct/test-cert.sctlist" --log-list "$TMP/ct-openssl.json" --at 2020-01-20 --json
	expect_json "${CT_TESTS[7]}: a TLS-delivered SCT, valid" 1 \
		'[(s["source"], s["status"], s["timestamp"]) for s in d["scts"]] == [("tls", "valid", "2013-04-05T17:04:16.089Z")]
		 and d["verdict"] == "not met" and "or via TLS" in d["reasons"][0]'

	run sct "$CT/openssl/leaf.pem" --issuer "$CT/openssl/subinterCA.pem" --log-list "$TMP/ct-openssl.json" \
		--at 2020-01-20
	expect "${CT_TESTS[8]}: not met (exit 1), ct-missing" 1 "line:scts: none" "out:fatal ct-missing " \
		"line:verdict: NOT MET"

	# The session glue asks for SCTs by TLS and hands them over (TLS 1.2).
	G=$CT/google-ct
	if ! command -v openssl >/dev/null 2>&1; then
		skip "${CT_TESTS[9]}" "openssl not found"
	elif ! start_ossl_sct_server "$G/test-cert.pem" "$G/test-key.pem" "$G/test-cert.serverinfo.pem"; then
		not_ok "${CT_TESTS[9]}: start openssl s_server" "$(tail -3 "$TMP"/serv-*.log 2>/dev/null)"
	else
		printf 'allow-sha1 = yes\nmin-rsa-bits = 1024\n' >"$TMP/google-ct.conf" # 2012 test certificates
		run connect "ct.example.test:$SERVER_PORT" --connect-to 127.0.0.1 --no-system-ca --ca "$G/ca-cert.pem" \
			--config "$TMP/google-ct.conf" --log-list "$TMP/ct-openssl.json" --at 2020-01-20 --json
		expect_json "${CT_TESTS[9]}: the server's SCT, source tls, valid" 1 \
			'[(s["source"], s["status"], s["log"]) for s in d["scts"]] == [("tls", "valid", "OpenSSL test log")]
			 and d["verdict"] == "reject" and "ct-policy-not-met" in ev'
	fi
fi

# ---------------------------------------------------------------- pin

leaf_pin=$(pin_of "$D/good.pem")
int_pin=$(pin_of "$D/int-ca.pem")
root_pin=$(pin_of "$D/root-ca.pem")
rot_pin=$(pin_of "$D/rotated.pem")
self_pin=$(pin_of "$D/selfsigned.pem")

run pin "$D/good-chain.pem"
expect "pin good-chain.pem: index, subject, issuer of both certificates" 0 "out:host: good.example.test" \
	"out:certificates: 2" "out:[0] subject: CN=good.example.test" "out:[1] subject: CN=tlsguard Test Intermediate CA" \
	"out:issuer:  CN=tlsguard Test Intermediate CA" "out:issuer:  CN=tlsguard Test Root CA"
n_syntax=0
for pat in '^      sha256:  sha256/[A-Za-z0-9+/]{43}=$' '^      curl:    sha256//[A-Za-z0-9+/]{43}=$' \
	'^      hpkp:    pin-sha256="[A-Za-z0-9+/]{43}="$' '^      hex:     [0-9a-f]{64}$'; do
	[ "$(grep -cE -- "$pat" "$TMP/out")" = 2 ] && n_syntax=$((n_syntax + 1))
done
check "pin good-chain.pem: both certificates' pins in all 4 syntaxes" [ "$n_syntax" = 4 ]

if command -v openssl >/dev/null 2>&1; then
	leaf_hex=$(openssl x509 -in "$D/good.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
	expect "pin: the pins equal openssl's SHA-256 of the SubjectPublicKeyInfo, in every syntax" 0 \
		"line:      sha256:  sha256/$leaf_pin" "line:      curl:    sha256//$leaf_pin" \
		"line:      hpkp:    pin-sha256=\"$leaf_pin\"" "line:      hex:     $leaf_hex" \
		"line:      sha256:  sha256/$int_pin"
else
	skip "pin: the pins equal openssl's" "openssl not found"
fi

# The section: the intermediate pinned, the leaf listed as a comment, a
# reminder of the backup pin that keeps the section loadable.
sed -n '/^\[/,$p' "$TMP/out" >"$TMP/pin.conf"
expect "pin: a config section pinning the intermediate, the leaf commented, a backup reminder" 0 \
	"line:[good.example.test]" "line:pin = sha256/$int_pin" "line:# pin = sha256/$leaf_pin" \
	"out:# intermediate (CN=tlsguard Test Intermediate CA" "out:survives leaf key rotation" \
	"out:# leaf (CN=good.example.test" "out:pins break when the server's key is rotated" \
	"line:# Always add a backup pin: a key you control but do not use yet, or another CA you may move to." \
	"out:BACKUP" noerr
check "pin: the backup reminder is a comment, not an invalid pin" \
	test "$(grep -c '^[[:space:]]*pin[[:space:]]*=' "$TMP/pin.conf")" = 1

run pin --json "$D/good-chain.pem"
expect_json "pin --json: host, certificates with four pins each, the same config section" 0 \
	'd["host"] == "good.example.test" and len(d["certificates"]) == 2
	 and [c["index"] for c in d["certificates"]] == [0, 1]
	 and d["certificates"][0]["subject"].startswith("CN=good.example.test")
	 and d["certificates"][1]["issuer"].startswith("CN=tlsguard Test Root CA")
	 and d["certificates"][0]["pins"] == {"sha256": "sha256/'"$leaf_pin"'", "curl": "sha256//'"$leaf_pin"'",
	   "hpkp": "pin-sha256=\"'"$leaf_pin"'\"", "hex": d["certificates"][0]["pins"]["hex"]}
	 and len(d["certificates"][0]["pins"]["hex"]) == 64
	 and d["certificates"][1]["pins"]["sha256"] == "sha256/'"$int_pin"'"
	 and d["config"] == open("'"$TMP/pin.conf"'", encoding="utf-8").read()'

run verify --config "$TMP/pin.conf" --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "the pasted section loads: good chain accepted, no-backup warning on stderr" 0 "out:pin        pass" \
	"out:verdict: accepted" "err:tlsguard: warning: $TMP/pin.conf:" "err:no backup"
run verify --config "$TMP/pin.conf" --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}" --json
expect_json "verify --json lists the config warnings" 0 \
	'd["verdict"] == "accept" and len(d["warnings"]) == 1 and "no backup" in d["warnings"][0]
	 and d["warnings"][0].startswith("'"$TMP/pin.conf"':")'

# A second, independent pin: the root's key stands in for a backup.
printf 'pin = sha256/%s\n' "$root_pin" >>"$TMP/pin.conf"
run verify --config "$TMP/pin.conf" --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "section with a backup pin: no warning, good chain accepted" 0 "out:pin        pass" "out:verdict: accepted" noerr
run verify --host good.example.test "$D/forged-chain.pem" --no-system-ca --ca "$D/root-ca.pem" --ca "$D/rogue-ca.pem" \
	"${AT[@]}"
expect "without pins a forged chain from a trusted rogue CA passes (what pins are for)" 0 "out:verdict: accepted"
run verify --config "$TMP/pin.conf" --host good.example.test "$D/forged-chain.pem" --no-system-ca \
	--ca "$D/root-ca.pem" --ca "$D/rogue-ca.pem" "${AT[@]}"
expect "pinned: forged chain from a trusted rogue CA rejected with pin-mismatch" 1 \
	"out:fatal pin-mismatch ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN (check pin)" "out:pin        FAIL" \
	"out:chain      pass" "out:verdict: REJECTED"
run verify --config "$TMP/pin.conf" --host good.example.test "$D/forged-chain.pem" --no-system-ca \
	--ca "$D/root-ca.pem" --ca "$D/rogue-ca.pem" "${AT[@]}" --json
expect_json "pinned forged chain --json: pin-mismatch, the report embedded as an object" 1 \
	'd["verdict"] == "reject" and ev["pin-mismatch"]["severity"] == "fatal" and ev["pin-mismatch"]["check"] == "pin"
	 and ck["pin"] == "fail" and ck["chain"] == "pass" and isinstance(d["report"], dict)
	 and d["report"]["host"] == "good.example.test" and "pin-sha256=\"'"$int_pin"'\"" in d["report"]["known-pins"]
	 and d["warnings"] == []'
run verify --config "$TMP/pin.conf" --host good.example.test "$D/rotated-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "the intermediate pin survives a leaf key rotation" 0 "out:pin        pass" "out:verdict: accepted"

{
	printf 'report-file = reports.jsonl\n'
	cat "$TMP/pin.conf"
} >"$TMP/report.conf"
run verify --config "$TMP/report.conf" --host good.example.test "$D/forged-chain.pem" --no-system-ca \
	--ca "$D/root-ca.pem" --ca "$D/rogue-ca.pem" "${AT[@]}"
expect "report-file: the text says where the report went" 1 "out:report: written to $TMP/reports.jsonl" \
	"out:verdict: REJECTED"
check "report-file: one JSON report line for the host" python3 -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 1 and json.loads(lines[0])["host"] == "good.example.test"' "$TMP/reports.jsonl"
run verify --config "$TMP/report.conf" --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "report-file: no report for an accepted pinned chain" 0 "out:verdict: accepted"
check "report-file: nothing appended for it" test "$(wc -l <"$TMP/reports.jsonl")" = 1
if grep -q '^report:' "$TMP/out"; then not_ok "report-file: no report line when no report was made"; else
	ok "report-file: no report line when no report was made"; fi

run pin "$D/good.der" "$D/int-ca.der" "$D/root-ca.pem"
expect "pin with DER files and the root: the leaf's issuer is pinned, the root listed" 0 "out:certificates: 3" \
	"out:role:    root" "line:pin = sha256/$int_pin" "line:# pin = sha256/$root_pin"
run pin "$D/root-ca.pem"
expect "pin of a certificate without a DNS name: a placeholder host" 0 "out:host: unknown" "line:[<HOST>]" \
	"out:Replace <HOST>" "line:pin = sha256/$root_pin"
run pin --json "$D/root-ca.pem"
expect_json "pin --json without a host: host is null" 0 'd["host"] is None and "[<HOST>]" in d["config"]'
run pin "$D/selfsigned.pem"
expect "pin of a self-signed leaf: the leaf is pinned" 0 "out:leaf (self-signed)" "line:pin = sha256/$self_pin"

if [ -f "$TMP/odd.pem" ]; then
	run pin "$TMP/odd.pem"
	sed -n '/^\[/,$p' "$TMP/out" >"$TMP/odd.conf"
	expect "pin: control characters of a DN are escaped in the section" 0 "line:[odd.example.test]" 'out:\x09'
	check "pin: every line of the section is a header, a comment or a pin" \
		test "$(grep -cvE '^(\[odd\.example\.test\]|#.*|pin = sha256/[A-Za-z0-9+/]{43}=)$' "$TMP/odd.conf")" = 0
	run verify --config "$TMP/odd.conf" --host odd.example.test "$TMP/odd.pem" --no-system-ca --ca "$TMP/odd.pem"
	expect "pin: that section loads and pins the certificate" 0 "out:pin        pass"
else
	skip "pin: control characters of a DN are escaped" "no test certificate"
fi

run pin
expect "pin without a chain: exit 2" 2 "err:pin: no CHAIN file given" noout
run pin "$TMP/missing.pem"
expect "pin of a missing file: exit 2" 2 "err:$TMP/missing.pem: cannot read chain file" noout
run pin "$TMP/junk.der"
expect "pin of a file that is not a certificate: exit 2" 2 "err:$TMP/junk.der: certificate 1" noout
run pin "$D/good-chain.pem" --ca "$D/root-ca.pem"
expect "pin CHAIN with --ca: exit 2" 2 "err:need --connect" noout
run pin --connect good.example.test "$D/good-chain.pem"
expect "pin with --connect and a CHAIN: exit 2" 2 "err:not both" noout
run pin "$D/good-chain.pem" --config "$TMP/pin.conf"
expect "pin --config: exit 2" 2 "err:'--config' is not valid here" noout

# ---------------------------------------------------------------- trust on first use, store

S=$TMP/tofu/store.db # in a directory that does not exist yet
printf '[good.example.test]\ntofu = yes\n' >"$TMP/tofu.conf"
tofu() { # tofu CHAIN [ARGS...]: verify good.example.test with the TOFU config and store $S
	local chain=$1
	shift
	run verify --config "$TMP/tofu.conf" --store "$S" --host good.example.test "$D/$chain" "${TRUST[@]}" "${AT[@]}" "$@"
}

tofu good-chain.pem
expect "tofu: first use accepted, the store is created" 0 "out:tofu       pass" "out:verdict: accepted"
check "tofu: --store PATH is the store file" test -f "$S"
tofu good-chain.pem
expect "tofu: the same key again: accepted" 0 "out:tofu       pass" "out:verdict: accepted"
run store --store "$S" list
expect "store list: host:port, key, first and last seen, count" 0 \
	"out:good.example.test:443  key sha256/$leaf_pin  first seen 2026-06-01T00:00:00Z  last seen 2026-06-01T00:00:00Z  seen 2 times"
run store --store "$S" list --json
expect_json "store list --json" 0 \
	'd["store"] == "'"$S"'" and len(d["records"]) == 1 and d["records"][0] == {"host": "good.example.test",
	 "port": 443, "key": "sha256/'"$leaf_pin"'", "first_seen": "2026-06-01T00:00:00Z",
	 "last_seen": "2026-06-01T00:00:00Z", "seen_count": 2, "pending": None}'

tofu rotated-chain.pem
expect "tofu: a changed key is rejected with key-changed" 1 \
	"out:fatal key-changed ERR_TLSGUARD_KEY_CHANGED (check tofu, certificate 0)" "out:tofu       FAIL" \
	"out:tlsguard store accept good.example.test:443" "out:verdict: REJECTED"
tofu rotated-chain.pem --json
expect_json "tofu: key-changed --json, with the report" 1 \
	'd["verdict"] == "reject" and ev["key-changed"]["severity"] == "fatal" and ck["tofu"] == "fail"
	 and isinstance(d["report"], dict) and d["report"]["host"] == "good.example.test"'
run store --store "$S" list
expect "store list: the pending key" 0 "out:good.example.test:443  key sha256/$leaf_pin" \
	"out:CHANGED: pending key sha256/$rot_pin seen 2026-06-01T00:00:00Z"
run store --store "$S" show good.example.test
expect "store show: old and new key side by side, and how to accept" 0 "out:store: $S" "line:good.example.test:443" \
	"out:CHANGED" "out:sha256/$leaf_pin   sha256/$rot_pin" "line:    tlsguard store --store $S accept good.example.test:443"
run store --store "$S" show good.example.test:443 --json
expect_json "store show --json: the pending key" 0 \
	'd["host"] == "good.example.test" and d["port"] == 443 and len(d["records"]) == 1
	 and d["records"][0]["key"] == "sha256/'"$leaf_pin"'"
	 and d["records"][0]["pending"]["key"] == "sha256/'"$rot_pin"'" and d["records"][0]["pending"]["seen"]'
run store --store "$S" accept good.example.test
expect "store accept: shows the change and accepts it" 0 "out:good.example.test:443: accepting the changed key" \
	"out:sha256/$leaf_pin   sha256/$rot_pin" "line:accepted: good.example.test:443 now has the key sha256/$rot_pin"
tofu rotated-chain.pem
expect "tofu: after accept the rotated chain is accepted" 0 "out:tofu       pass" "out:verdict: accepted"
run store --store "$S" accept good.example.test
expect "store accept with nothing pending: exit 1" 1 \
	"err:nothing to accept for good.example.test:443: no changed key recorded" noout
run store --store "$S" accept good.example.test:8443
expect "store accept of an unknown port: exit 1" 1 "err:nothing to accept for good.example.test:8443" noout
run store --store "$S" check
expect "store check: ok" 0 "out:$S: ok"
TLSGUARD_STORE=$S run store list
expect "TLSGUARD_STORE names the store" 0 "out:good.example.test:443  key sha256/$rot_pin"

run store --store /nonexistent/x.db list
expect "store list of a missing store: exit 2 naming the path" 2 "err:/nonexistent/x.db" noout
run store --store "$TMP/nodir/x.db" show good.example.test
expect "store show of a missing store: exit 2, nothing created" 2 "err:$TMP/nodir/x.db" noout
check "store show of a missing store: no directory created" test ! -e "$TMP/nodir"
cp "$D/good.der" "$TMP/garbage.db"
run store --store "$TMP/garbage.db" list
expect "store list of a garbage store: exit 2 naming the file" 2 "err:$TMP/garbage.db" noout
check "store list of a garbage store: the file is unchanged" cmp -s "$TMP/garbage.db" "$D/good.der"
run verify --config "$TMP/tofu.conf" --store "$TMP/garbage.db" --host good.example.test "$D/good-chain.pem" \
	"${TRUST[@]}" "${AT[@]}"
expect "verify with tofu and a garbage store: rejected (fail closed)" 1 "out:tofu       ERROR" "out:verdict: REJECTED"
check "verify with a garbage store: the file is unchanged" cmp -s "$TMP/garbage.db" "$D/good.der"

run store --store "$S" forget good.example.test
expect "store forget: says how many records went" 0 "line:forgot 1 record of good.example.test"
run store --store "$S" list
expect "store list after forget: empty" 0 noout
run store --store "$S" forget good.example.test
expect "store forget of an unknown host: exit 1" 1 "err:no record for good.example.test" noout
run store --store "$S" show good.example.test
expect "store show of an unknown host: exit 1" 1 "err:no record for good.example.test"

run verify --config "$TMP/tofu.conf" --host good.example.test "$D/good-chain.pem" "${TRUST[@]}" "${AT[@]}"
expect "tofu without --store: the default store is used" 0 "out:tofu       pass"
check "the default store is \$XDG_DATA_HOME/tlsguard/store.db" test -f "$XDG_DATA_HOME/tlsguard/store.db"
run store list
expect "store list without --store: the default store" 0 "out:good.example.test:443  key sha256/$leaf_pin"

run store
expect "store without a subcommand: exit 2" 2 "err:no subcommand" noout
run store --store "$S" frobnicate
expect "store with an unknown subcommand: exit 2" 2 "err:unknown subcommand 'frobnicate'" noout
run store --store "$S" show
expect "store show without HOST: exit 2" 2 "err:store show: no HOST given" noout
run store --store "$S" show 'bad host!'
expect "store show of an invalid host: exit 2" 2 "err:'bad host!'" noout
run store --store "$S" list extra
expect "store list with an argument: exit 2" 2 "err:unexpected argument 'extra'" noout
run store --store "$S" accept good.example.test --json
expect "store accept --json: exit 2" 2 "err:--json is only for list, show, history and verify" noout
run store --ca "$D/root-ca.pem" list
expect "store with a verify option: exit 2" 2 "err:'--ca' is not valid here" noout

# ---------------------------------------------------------------- connect

if ! command -v gnutls-serv >/dev/null 2>&1; then
	for t in "good server" "wrong host" "--json" "expired server" "pin --connect" "pin --connect untrusted" \
		"tofu" "--log-list"; do
		skip "connect $t" "gnutls-serv not found"
	done
elif ! start_tls_server "$D/good-chain.pem" "$D/good.key"; then
	not_ok "connect: start gnutls-serv with good-chain.pem" "$(tail -3 "$TMP"/serv-*.log 2>/dev/null)"
else
	good_port=$SERVER_PORT
	run connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect "connect good server: accepted" 0 "out:host: good.example.test" "out:address: 127.0.0.1 port $good_port" \
		"out:tls: TLS1." "out:[0] subject:  CN=good.example.test" "out:[1] subject:  CN=tlsguard Test Intermediate CA" \
		"out:chain      pass" "out:verdict: accepted"

	run connect "wrong.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect "connect as wrong.example.test: refused, hostname-mismatch" 1 "out:fatal hostname-mismatch " \
		"out:verdict: REJECTED" "err:tlsguard refused"

	run connect --json "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect_json "connect --json: one object with chain, tls and address" 0 \
		'd["verdict"] == "accept" and d["host"] == "good.example.test" and d["port"] == '"$good_port"'
		 and d["address"] == "127.0.0.1" and d["tls"]["version"].startswith("TLS1.")
		 and d["tls"]["cipher"] and d["tls"]["error"] is None and len(d["chain"]) == 2 and ck["chain"] == "pass"'

	run connect "127.0.0.1:$good_port" "${TRUST[@]}" --json
	expect_json "connect to an IP literal matches the IP SAN" 0 'd["verdict"] == "accept"'

	run connect good.example.test --connect-to "127.0.0.1:$good_port" "${TRUST[@]}"
	expect "connect --connect-to ADDRESS:PORT (default port 443 for the name)" 0 "out:port: 443" \
		"out:address: 127.0.0.1 port $good_port" "out:verdict: accepted"

	run connect "good.example.test:$good_port" --connect-to 127.0.0.1 --no-system-ca --ca "$D/other-root-ca.pem" --json
	expect_json "connect with the wrong trust anchor: refused, untrusted-issuer" 1 \
		'd["verdict"] == "reject" and "untrusted-issuer" in ev and d["tls"]["error"]'

	run pin --connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect "pin --connect: the server's pins, the verdict, the section" 0 "out:host: good.example.test" \
		"out:address: 127.0.0.1 port $good_port" "out:certificates: 2" "out:[0] subject: CN=good.example.test" \
		"line:      sha256:  sha256/$leaf_pin" "line:      curl:    sha256//$int_pin" \
		"out:verdict: accepted (for information only" "line:[good.example.test]" "line:pin = sha256/$int_pin" noerr
	run pin --json --connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect_json "pin --connect --json" 0 \
		'd["host"] == "good.example.test" and d["port"] == '"$good_port"' and d["verdict"] == "accept"
		 and [c["pins"]["sha256"] for c in d["certificates"]] == ["sha256/'"$leaf_pin"'", "sha256/'"$int_pin"'"]
		 and "pin = sha256/'"$int_pin"'\n" in d["config"]'

	printf '[good.example.test]\ntofu = yes\n' >"$TMP/tofu-connect.conf"
	run connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}" --config "$TMP/tofu-connect.conf" \
		--store "$TMP/connect.db"
	expect "connect with tofu and --store: accepted, tofu check ran" 0 "out:tofu       pass" "out:verdict: accepted"
	run store --store "$TMP/connect.db" list
	expect "connect with tofu: the key is recorded for host:port" 0 \
		"out:good.example.test:$good_port  key sha256/$leaf_pin"

	ct_list "$TMP/ct-now.json" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CT_TEST_KEY" "Test log" "Test operator"
	run connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}" --log-list "$TMP/ct-now.json"
	expect "connect --log-list, server without SCTs: refused with ct-missing" 1 "out:ct         FAIL" "line:scts: none" \
		"out:fatal ct-missing " "err:tlsguard refused"
	run connect "good.example.test:$good_port" --connect-to 127.0.0.1 "${TRUST[@]}" --log-list "$TMP/ct-now.json" \
		--ct-policy off --json
	expect_json "connect --ct-policy off --json: accepted, scts []" 0 \
		'd["verdict"] == "accept" and ck["ct"] == "skip" and d["scts"] == []'
fi

if command -v gnutls-serv >/dev/null 2>&1; then
	if start_tls_server "$D/selfsigned.pem" "$D/selfsigned.key"; then
		run pin --connect "good.example.test:$SERVER_PORT" --connect-to 127.0.0.1 "${TRUST[@]}"
		expect "pin --connect to an untrusted self-signed server: its pin anyway" 0 \
			"line:      sha256:  sha256/$self_pin" "out:verdict: REJECTED (for information only" \
			"out:because: untrusted-issuer" "line:pin = sha256/$self_pin" \
			"err:tlsguard: warning: good.example.test: tlsguard does not accept this chain (untrusted-issuer)"
		run pin --connect "good.example.test:$SERVER_PORT" --connect-to 127.0.0.1 "${TRUST[@]}" --json
		expect_json "pin --connect --json to an untrusted server" 0 \
			'd["verdict"] == "reject" and "untrusted-issuer" in ev
			 and d["certificates"][0]["pins"]["sha256"] == "sha256/'"$self_pin"'"'
		run connect "good.example.test:$SERVER_PORT" --connect-to 127.0.0.1 "${TRUST[@]}"
		expect "connect refuses the self-signed server pin --connect learnt from" 1 "out:fatal untrusted-issuer "
	else
		not_ok "connect: start gnutls-serv with selfsigned.pem"
	fi
fi

if command -v gnutls-serv >/dev/null 2>&1; then
	if start_tls_server "$D/expired-chain.pem" "$D/expired.key"; then
		run connect "expired.example.test:$SERVER_PORT" --connect-to 127.0.0.1 "${TRUST[@]}"
		expect "connect expired server: refused, expired" 1 "out:fatal expired " "out:verdict: REJECTED"
	else
		not_ok "connect: start gnutls-serv with expired-chain.pem"
	fi
fi

closed=$(free_port)
run connect "good.example.test:$closed" --connect-to 127.0.0.1 "${TRUST[@]}"
expect "connect to a closed port: exit 3" 3 "err:cannot connect" noout
run connect "good.example.test:$closed" --connect-to 127.0.0.1 "${TRUST[@]}" --json
expect "connect to a closed port --json: exit 3, stdout empty" 3 "err:cannot connect" noout
run connect "good.example.test:$closed" --connect 127.0.0.1 "${TRUST[@]}"
expect "connect: --connect still abbreviates --connect-to (pin's --connect is not an option of connect)" 3 \
	"err:127.0.0.1 port $closed: cannot connect" noout
run pin --connect "good.example.test:$closed" --connect-to 127.0.0.1
expect "pin --connect to a closed port: exit 3" 3 "err:cannot connect" noout
run pin --connect "good.example.test:0"
expect "pin --connect with port 0: exit 2" 2 "err:expected HOST, HOST:PORT or [IPV6]:PORT" noout

if start_plain_server; then
	run connect "good.example.test:$PLAIN_PORT" --connect-to 127.0.0.1 "${TRUST[@]}"
	expect "connect to a server not speaking TLS: exit 3" 3 "err:TLS handshake failed" noout
	run pin --connect "good.example.test:$PLAIN_PORT" --connect-to 127.0.0.1
	expect "pin --connect to a server not speaking TLS: exit 3" 3 "err:TLS handshake failed" noout
else
	not_ok "connect: start the plain TCP server"
fi

run connect "good.example.test:0" "${TRUST[@]}"
expect "connect with port 0: exit 2" 2 "err:expected HOST, HOST:PORT or [IPV6]:PORT" noout
run connect good.example.test --connect-to not-an-ip "${TRUST[@]}"
expect "connect --connect-to a name: exit 2" 2 "err:--connect-to 'not-an-ip'" noout
run connect good.example.test --ocsp "$D/ocsp-good.der"
expect "connect with a verify-only option: exit 2" 2 "err:'--ocsp' is not valid here" noout
run connect
expect "connect without HOST: exit 2" 2 "err:no HOST given" noout

# ---------------------------------------------------------------- consistency: split view, history, log

# One host, two addresses: 127.0.0.2 serves the genuine chain, 127.0.0.3 a
# forged one from rogue-ca, which this client also trusts (a compromised CA
# in the system store). Nothing about the forged chain alone is wrong; the
# consistency check finds it by comparing the addresses.
CONS_TESTS=("connect --addresses: first contact with 127.0.0.2" "connect --probe to the forged address: split view"
	"connect --probe --json: the peers" "connect --probe to the genuine address: a warning only"
	"connect --probe on first contact: a tie refuses both" "store history: text" "store history --json"
	"store history of every host" "store history --limit" "store history of an unknown host"
	"store verify: intact" "store verify --json" "store verify --head of an earlier head"
	"store verify --head of another log" "store verify: a tampered record" "store verify --json: a tampered record")
cons_ready=
if ! command -v openssl >/dev/null 2>&1; then
	cons_why="openssl not found"
elif ! python3 -c 'import sqlite3' 2>/dev/null; then
	cons_why="python3 has no sqlite3 module"
else
	cons_why="cannot start openssl s_server on 127.0.0.2 and 127.0.0.3"
	for _ in 1 2 3; do
		CP=$(free_port)
		if start_ossl_server_at 127.0.0.2 "$CP" "$D/good.pem" "$D/good.key" "$D/int-ca.pem" &&
			start_ossl_server_at 127.0.0.3 "$CP" "$D/forged.pem" "$D/forged.key"; then
			cons_ready=1
			break
		fi
	done
fi
if [ -z "$cons_ready" ]; then
	: >"$TMP/out"
	: >"$TMP/err"
	for t in "${CONS_TESTS[@]}"; do
		skip "$t" "$cons_why"
	done
else
	printf '[default]\nsystem-ca = no\nca-file = %s\nca-file = %s\nconsistency = enforce\n' "$D/root-ca.pem" \
		"$D/rogue-ca.pem" >"$TMP/cons.conf"
	CS=$TMP/cons/store.db
	cons() { # cons ADDRESS [ARGS...]: connect good.example.test:$CP via ADDRESS with the config and store $CS
		local addr=$1
		shift
		run connect "good.example.test:$CP" --connect-to "$addr" --config "$TMP/cons.conf" --store "$CS" \
			"${AT[@]}" "$@"
	}

	cons 127.0.0.2 --addresses 127.0.0.2
	expect "${CONS_TESTS[0]}: accepted, nothing to compare with" 0 "out:address: 127.0.0.2 port $CP" \
		"out:verdict: accepted"
	check "${CONS_TESTS[0]}: no peers table without peers" test "$(grep -c '^peers:' "$TMP/out")" = 0

	cons 127.0.0.3 --probe --addresses 127.0.0.2,127.0.0.3
	expect "${CONS_TESTS[1]}: refused, naming both addresses" 1 "out:address: 127.0.0.3 port $CP" \
		"out:fatal split-view " \
		"out:good.example.test:$CP via 127.0.0.3 serves issuer 'CN=Rogue But Trusted Root CA" \
		"out:its other addresses: 127.0.0.2 serves issuer 'CN=tlsguard Test Intermediate CA" \
		"out:peers: 1 (the host's other addresses" "out:verdict: REJECTED" "err:tlsguard refused"
	if grep -qE '^  127\.0\.0\.2 +probed +differs +issuer .CN=tlsguard Test Intermediate CA' "$TMP/out" &&
		grep -qE '^  ADDRESS +FROM +STATUS +DETAIL$' "$TMP/out"; then
		ok "${CONS_TESTS[1]}: the peers table: 127.0.0.2 probed, differs"
	else
		not_ok "${CONS_TESTS[1]}: the peers table: 127.0.0.2 probed, differs" "no aligned peers table row"
	fi

	cons 127.0.0.3 --probe --addresses 127.0.0.2,127.0.0.3 --json
	expect_json "${CONS_TESTS[2]}: split-view fatal, 127.0.0.2 probed and differs" 1 \
		'd["verdict"] == "reject" and d["address"] == "127.0.0.3" and ev["split-view"]["severity"] == "fatal"
		 and ev["split-view"]["check"] == "consistency" and "127.0.0.2" in ev["split-view"]["detail"]
		 and [(p["address"], p["from"], p["status"]) for p in d["peers"]]
		     == [("127.0.0.2", "probed", "differs")]
		 and "Intermediate CA" in d["peers"][0]["detail"]'

	cons 127.0.0.2 --probe --addresses 127.0.0.3,127.0.0.2
	expect "${CONS_TESTS[3]}: accepted, split-view warning, 127.0.0.3 differs" 0 "out:warning split-view " \
		"out:verdict: accepted"
	if grep -qE '^  127\.0\.0\.3 +probed +differs +issuer .CN=Rogue But Trusted Root CA' "$TMP/out"; then
		ok "${CONS_TESTS[3]}: the peers table: 127.0.0.3 probed, differs"
	else
		not_ok "${CONS_TESTS[3]}: the peers table: 127.0.0.3 probed, differs" "no peers table row for 127.0.0.3"
	fi

	run connect "good.example.test:$CP" --connect-to 127.0.0.2 --config "$TMP/cons.conf" --store "$TMP/tie.db" \
		"${AT[@]}" --probe --addresses 127.0.0.2,127.0.0.3
	expect "${CONS_TESTS[4]}: the genuine address is refused too (nothing tells the views apart)" 1 \
		"out:fatal split-view " "out:via 127.0.0.2 serves" \
		"out:127.0.0.3 serves issuer 'CN=Rogue But Trusted Root CA" \
		"out:verdict: REJECTED"

	run store --store "$CS" history good.example.test
	expect "${CONS_TESTS[5]}: exit 0, a header line" 0 "out:store: $CS" \
		"out:history of good.example.test: " "out:newest first"
	row="^[0-9]+ +2026-06-01T00:00:00Z +$CP +127\.0\.0"
	pin_re="sha256/${leaf_pin//+/[+]}"
	if grep -qE '^# +TIME +PORT +ADDRESS +FROM +VERDICT +REASONS +ISSUING CA +TRUST ANCHOR +CT +PIN +LEAF KEY$' \
		"$TMP/out" &&
		grep -qE "$row\.3 +connection +REJECTED +split-view +CN=Rogue" "$TMP/out" &&
		grep -qE "$row\.2 +connection +accepted +- +CN=tlsguard Test Intermediate.* +unknown +none +$pin_re$" \
			"$TMP/out" &&
		grep -qE "$row\.3 +probe +accepted " "$TMP/out"; then
		ok "${CONS_TESTS[5]}: both addresses, connections and probes, with their verdicts"
	else
		not_ok "${CONS_TESTS[5]}: both addresses, connections and probes, with their verdicts" "rows missing"
	fi

	run store --store "$CS" history good.example.test:"$CP" --json
	expect_py "${CONS_TESTS[6]}: an array of records, newest first, the right verdicts" 0 '
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
port, leaf = int(sys.argv[2]), "sha256/" + sys.argv[3]
assert isinstance(rows, list) and len(rows) == 7, "%d records" % len(rows)
assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
assert all(r["host"] == "good.example.test" and r["port"] == port and r["time"] == "2026-06-01T00:00:00Z"
           and r["source"] in ("connection", "probe") and r["ct"] == "unknown" and r["pin"] == "none"
           and r["key"].startswith("sha256/") and len(r["chain_sha256"]) >= 1 for r in rows)
conn = [(r["address"], r["verdict"], r["reasons"]) for r in rows if r["source"] == "connection"]
assert conn == [("127.0.0.2", "accept", []), ("127.0.0.3", "reject", ["split-view"]),
                ("127.0.0.3", "reject", ["split-view"]), ("127.0.0.2", "accept", [])], conn
genuine = [r for r in rows if r["address"] == "127.0.0.2"]
forged = [r for r in rows if r["address"] == "127.0.0.3"]
assert all(r["key"] == leaf and r["issuer"].startswith("CN=tlsguard Test Intermediate CA")
           and r["anchor"].startswith("CN=tlsguard Test Root CA") for r in genuine)
assert all(r["key"] != leaf and r["issuer"].startswith("CN=Rogue But Trusted Root CA") for r in forged)
assert {(r["address"], r["verdict"]) for r in rows if r["source"] == "probe"} == {("127.0.0.2", "accept"),
                                                                              ("127.0.0.3", "accept")}
' "$CP" "$leaf_pin"

	run store --store "$CS" history
	expect "${CONS_TESTS[7]}: a HOST:PORT column" 0 "out:history of every host: 7 observations" \
		"out:good.example.test:$CP"
	run store --store "$CS" history good.example.test --limit 2 --json
	expect_py "${CONS_TESTS[8]} 2 --json: the two newest" 0 '
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(rows) == 2 and rows[0]["seq"] > rows[1]["seq"] and rows[0]["address"] == "127.0.0.2"'
	run store --store "$CS" history other.example.test
	expect "${CONS_TESTS[9]}: exit 0, says so" 0 "line:no observations for other.example.test in $CS" noerr
	run store --store "$CS" history other.example.test --json
	expect "${CONS_TESTS[9]} --json: an empty array" 0 "line:[]" noerr

	run store --store "$CS" verify
	expect "${CONS_TESTS[10]}: exit 0, records checked, the head, the hint" 0 "line:records checked: 7" \
		"line:records compacted: 0" "line:result: intact" "out:Keep this head somewhere else" \
		"out:tlsguard store verify --head 7:" noerr
	head1=$(sed -n 's/^head: //p' "$TMP/out")
	check "${CONS_TESTS[10]}: the head is SIZE:BASE64ROOT" \
		test "$(echo "$head1" | grep -cE '^7:[A-Za-z0-9+/]{43}=$')" = 1
	run store --store "$CS" verify --json
	expect_json "${CONS_TESTS[11]}" 0 \
		'd["intact"] is True and d["problems"] == [] and d["records"] == 7 and d["compacted"] == 0
		 and d["head"] == "'"$head1"'" and d["trusted_head"] is None and d["store"] == "'"$CS"'"'

	cons 127.0.0.2
	expect "connect without --probe: the peers table from the history" 0 "out:peers: " \
		"out:verdict: accepted"
	if grep -qE '^  127\.0\.0\.3 +(seen|probed) +differs ' "$TMP/out"; then
		ok "connect without --probe: 127.0.0.3 listed from the history"
	else
		not_ok "connect without --probe: 127.0.0.3 listed from the history" "no peers row for 127.0.0.3"
	fi
	run store --store "$CS" verify --head "$head1"
	expect "${CONS_TESTS[12]}: the log extends it" 0 "line:trusted head: $head1 (the log extends it)" \
		"line:result: intact"
	other_root=$(python3 -c 'import base64; print(base64.b64encode(bytes(range(32))).decode())')
	run store --store "$CS" verify --head "7:$other_root"
	expect "${CONS_TESTS[13]}: exit 1" 1 "out:result: " "err:problem"
	run store --store "$CS" verify --head "9:tooshort="
	expect "store verify --head with a bad root: exit 2" 2 "err:--head '9:tooshort='" noout
	run store --store "$CS" verify --head garbage --json
	expect "store verify --head garbage --json: exit 2, stdout empty" 2 "err:--head 'garbage'" noout

	# Tamper with the file behind the library's back: one record's address.
	tampered=$(python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq = db.execute("SELECT min(seq) FROM observation WHERE address = ? AND source = 0", ("127.0.0.3",)).fetchone()[0]
db.execute("UPDATE observation SET address = ? WHERE seq = ?", ("127.0.0.9", seq))
db.commit()
print(seq)' "$CS")
	run store --store "$CS" verify
	expect "${CONS_TESTS[14]}: exit 1, naming record $tampered" 1 "out:record $tampered" "out:result: " \
		"out:head: " "err:problem"
	run store --store "$CS" verify --json
	expect_json "${CONS_TESTS[15]}" 1 \
		'd["intact"] is False and '"$tampered"' in [p["seq"] for p in d["problems"]]
		 and all(p["message"] for p in d["problems"])'
fi

run store --store "$TMP/nonexistent.db" history good.example.test
expect "store history of a missing store: exit 2 naming it" 2 "err:$TMP/nonexistent.db" noout
run store --store "$TMP/nonexistent.db" verify
expect "store verify of a missing store: exit 2 naming it" 2 "err:$TMP/nonexistent.db" noout
run store --store "$TMP/nonexistent.db" history 'bad host!'
expect "store history of an invalid host: exit 2" 2 "err:'bad host!'" noout
run store --store "$TMP/nonexistent.db" history a.example.test b.example.test
expect "store history with two hosts: exit 2" 2 "err:store history: unexpected argument 'b.example.test'" noout
run store --store "$TMP/nonexistent.db" history --limit 0
expect "store history --limit 0: exit 2" 2 "err:--limit '0'" noout
run store --store "$TMP/nonexistent.db" list --limit 3
expect "store list --limit: exit 2 naming the option" 2 "err:'--limit' is only for store history" noout
run store --store "$TMP/nonexistent.db" history --head "9:$(printf 'A%.0s' $(seq 43))="
expect "store history --head: exit 2 naming the option" 2 "err:'--head' is only for store verify" noout
run store --store "$TMP/nonexistent.db" verify extra
expect "store verify with an argument: exit 2" 2 "err:store verify: unexpected argument 'extra'" noout
run connect good.example.test --addresses 127.0.0.2,not-an-ip "${TRUST[@]}"
expect "connect --addresses with a name: exit 2 naming it" 2 \
	"err:'not-an-ip' is not a numeric IPv4 or IPv6 address" noout
run connect good.example.test --addresses 127.0.0.2,,127.0.0.3 "${TRUST[@]}"
expect "connect --addresses with an empty entry: exit 2" 2 \
	"err:--addresses '127.0.0.2,,127.0.0.3': an empty address" noout
run connect good.example.test --probe=yes "${TRUST[@]}"
expect "connect --probe=yes: exit 2" 2 "err:option '--probe' takes no argument" noout
run verify --host good.example.test "$D/good-chain.pem" --probe
expect "verify --probe: exit 2 naming the option" 2 "err:option '--probe' is not valid here" noout
run store --store "$TMP/nonexistent.db" verify --addresses 127.0.0.2
expect "store --addresses: exit 2 naming the option" 2 "err:option '--addresses' is not valid here" noout
run connect good.example.test --limit 3
expect "connect --limit: exit 2 naming the option" 2 "err:option '--limit' is not valid here" noout

# ---------------------------------------------------------------- summary

[ "$SKIP" -gt 0 ] && echo "# $SKIP skipped"
echo "cli: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
