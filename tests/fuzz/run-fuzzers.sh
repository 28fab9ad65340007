#!/bin/sh
# Build the libFuzzer targets with clang + ASan/UBSan and run them.
#
# Usage: tests/fuzz/run-fuzzers.sh [-s SRCDIR] [-b BUILDDIR] [-o OUTDIR] [-t SECONDS]
#                                  [-d FIXTUREDIR] [-n] [TARGET...]
#   -s  source tree (default: the directory above tests/fuzz)
#   -b  build tree holding config.h (default: SRCDIR)
#   -o  scratch directory for binaries, working corpora and crashes
#       (default: ${TMPDIR:-/tmp}/tg-fuzz)
#   -t  seconds per target (default 180)
#   -d  fixture directory: also seed fuzz_chain from it (make-chain-seeds.sh)
#   -n  build only, do not run
#   TARGET: config, chain, pin, sct, loglist, ocsp, store (default: all)
# Environment: CC (default clang), FUZZ_CFLAGS (extra flags), FUZZ_JOBS
# (parallel fuzzing processes per target, default 1).
#
# In OUTDIR: binaries fuzz_<target>, working corpora fuzz_<target>.corpus/
# (seeded from tests/fuzz/fuzz_<target>.in/, which is never written to),
# logs fuzz_<target>.log, and findings: crashes, leaks, timeouts and aborts
# end a run and leave the input as fuzz_<target>.crashes/crash-* (or leak-*,
# timeout-*, oom-*). Copy it to tests/fuzz/fuzz_<target>.repro/ (see the
# README there). Every name starts with "fuzz_", so OUTDIR may be the build
# tree's tests/fuzz (git ignores tests/fuzz/fuzz_* except the sources and
# the .in/.repro directories); a corpus is kept and grown across runs. Exit status: 0 when
# no target found anything, 1 otherwise, 2 on usage or build errors.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=
out=${TMPDIR:-/tmp}/tg-fuzz
time=180
fixtures=
run=1
while getopts s:b:o:t:d:n opt; do
	case $opt in
	s) src=$(cd "$OPTARG" && pwd) ;;
	b) build=$(cd "$OPTARG" && pwd) ;;
	o) out=$OPTARG ;;
	t) time=$OPTARG ;;
	d) fixtures=$OPTARG ;;
	n) run=0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$build" ] || build=$src
targets=${*:-config chain pin sct loglist ocsp store preload_conf}
cc=${CC:-clang}
jobs=${FUZZ_JOBS:-1}

[ -f "$build/config.h" ] || { echo "$0: no config.h in $build: run ./configure first" >&2; exit 2; }
mkdir -p "$out/fuzz_work"
out=$(cd "$out" && pwd)

flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2086,SC2046 # word splitting of flag lists is intended
for t in $targets; do
	[ -f "$src/tests/fuzz/fuzz_$t.c" ] || { echo "$0: unknown target $t" >&2; exit 2; }
	echo "building $out/fuzz_$t"
	$cc $flags ${FUZZ_CFLAGS:-} -I"$src/include" -I"$build/include" -I"$src/lib" -I"$build" \
		"$src/tests/fuzz/fuzz_$t.c" "$src"/lib/*.c "$src"/lib/preload/conf.c \
		$(pkg-config --cflags --libs gnutls sqlite3 libtasn1 json-c libpsl) -lpthread -o "$out/fuzz_$t" || exit 2
done
[ $run -eq 1 ] || exit 0

found=0
for t in $targets; do
	corpus=$out/fuzz_$t.corpus
	mkdir -p "$corpus" "$out/fuzz_$t.crashes"
	cp "$src/tests/fuzz/fuzz_$t.in/"* "$corpus/"
	if [ "$t" = chain ] && [ -n "$fixtures" ]; then
		sh "$src/tests/fuzz/make-chain-seeds.sh" "$fixtures" "$corpus"
	fi
	par=
	[ "$jobs" -le 1 ] || par="-jobs=$jobs -workers=$jobs"
	dict=
	[ -f "$src/tests/fuzz/$t.dict" ] && dict=-dict=$src/tests/fuzz/$t.dict
	echo "fuzzing $t for ${time}s: corpus $corpus ($(find "$corpus" -type f | wc -l) inputs)"
	# Run in an empty directory: fuzz_config may name relative CA paths.
	# shellcheck disable=SC2086
	(cd "$out/fuzz_work" && "$out/fuzz_$t" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/fuzz_$t.crashes/" $par $dict "$corpus") >"$out/fuzz_$t.log" 2>&1 || true
	tail -n 30 "$out/fuzz_$t.log" | grep -E '^(#|stat::|Done)|ERROR|SUMMARY' || true
	if ls "$out/fuzz_$t.crashes/"* >/dev/null 2>&1; then
		echo "fuzz_$t FOUND:"
		ls -l "$out/fuzz_$t.crashes/"
		found=1
	fi
done
exit $found
