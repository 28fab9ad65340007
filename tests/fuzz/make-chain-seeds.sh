#!/bin/sh
# Build seed inputs for the fuzz_chain target from the test PKI fixtures.
#
# Usage: tests/fuzz/make-chain-seeds.sh FIXTUREDIR OUTDIR
#
# FIXTUREDIR is made by tests/gen-fixtures.sh (`make tests/data/stamp`).
# Fixtures are generated and never committed, and neither are these seeds:
# write them to a scratch corpus directory (tests/fuzz/README.md), not into
# tests/fuzz/fuzz_chain.in/. The replay test builds the same kind of inputs
# from $TG_DATA on its own.
#
# Input format (tests/fuzz/fuzz.h): per certificate, a 2-byte big-endian
# length and that many bytes of DER, leaf first, at most 8 certificates.
# For every *-chain.pem this writes the chain as is (NAME.bin), reversed
# (NAME-rev.bin) and the leaf alone (NAME-leaf.bin); every single DER
# certificate becomes one-cert input (NAME-der.bin).
# Needs openssl. Quiet on success; exits non-zero on any failure.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 FIXTUREDIR OUTDIR" >&2
	exit 2
fi
src=$1
out=$2
[ -d "$src" ] || { echo "$0: $src: no such directory (run tests/gen-fixtures.sh)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-chain-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Append one record (length prefix + DER file) to a file.
record() { # DERFILE OUTFILE
	len=$(wc -c <"$1" | tr -d ' ')
	if [ "$len" -gt 65535 ]; then
		echo "$0: $1: $len bytes, too large for one record" >&2
		exit 1
	fi
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "\\$(printf %03o $((len >> 8)))\\$(printf %03o $((len & 255)))" >>"$2"
	cat "$1" >>"$2"
}

n=0
for pem in "$src"/*-chain.pem; do
	[ -f "$pem" ] || continue
	name=$(basename "$pem" .pem)
	rm -f "$tmp"/cert-*
	# split the PEM bundle into one PEM file per certificate, in order
	awk -v dir="$tmp" '
		/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/cert-%02d.pem", dir, n) }
		f != "" { print > f }
		/-----END CERTIFICATE-----/ { close(f); f = "" }
	' "$pem"
	certs=""
	for c in "$tmp"/cert-*.pem; do
		[ -f "$c" ] || continue
		openssl x509 -in "$c" -outform DER -out "${c%.pem}.der"
		certs="$certs ${c%.pem}.der"
	done
	[ -n "$certs" ] || { echo "$0: $pem: no certificate" >&2; exit 1; }
	: >"$out/$name.bin"
	: >"$out/$name-rev.bin"
	: >"$out/$name-leaf.bin"
	i=0
	rev=""
	for d in $certs; do
		i=$((i + 1))
		[ $i -le 8 ] || break
		record "$d" "$out/$name.bin"
		[ $i -eq 1 ] && record "$d" "$out/$name-leaf.bin"
		rev="$d $rev"
	done
	for d in $rev; do
		record "$d" "$out/$name-rev.bin"
	done
	n=$((n + 3))
done

for der in "$src"/*.der; do
	[ -f "$der" ] || continue
	name=$(basename "$der" .der)
	case $name in ocsp-*) continue ;; esac
	: >"$out/$name-der.bin"
	record "$der" "$out/$name-der.bin"
	n=$((n + 1))
done

if [ $n -eq 0 ]; then
	echo "$0: no *-chain.pem or *.der in $src (run tests/gen-fixtures.sh $src)" >&2
	exit 1
fi
