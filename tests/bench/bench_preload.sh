#!/usr/bin/env bash
# Start-up cost of libtlsguard-preload.so: `wget --version` N times without
# and with LD_PRELOAD, interleaved in the same run (so drift hits both
# alike), each exec timed on its own with bash's $EPOCHREALTIME.
# usage: bench_preload.sh PRELOAD_SO [N]   (N: runs of each, default 400)
# Prints the mean and median of each, the ratio and the added time in ms.
# Never used by a test: timings depend on the machine.
set -euo pipefail
so=${1:?usage: bench_preload.sh PRELOAD_SO [N]}
n=${2:-400}
[ -f "$so" ] || { echo "bench_preload: $so not found (make lib/preload/libtlsguard-preload.la)" >&2; exit 2; }
prog=$(command -v wget) || { echo "bench_preload: wget not found (scripts/deps installs it)" >&2; exit 2; }
# One warm-up of each: page cache, and the shim's own first load.
"$prog" --version >/dev/null
LD_PRELOAD=$so "$prog" --version >/dev/null
base=() shim=()
for ((i = 0; i < n; i++)); do
  t0=$EPOCHREALTIME; "$prog" --version >/dev/null; t1=$EPOCHREALTIME
  LD_PRELOAD=$so "$prog" --version >/dev/null; t2=$EPOCHREALTIME
  base+=("$(((${t1/./} - ${t0/./})))") shim+=("$(((${t2/./} - ${t1/./})))")
done
stats() { # microseconds... -> "mean median" in ms
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1; s += $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.3f\n", s / NR / 1000, m / 1000 }'
}
read -r bmean bmed < <(stats "${base[@]}")
read -r smean smed < <(stats "${shim[@]}")
echo "bench_preload: $n runs each of '$prog --version', interleaved (ms: mean, median)"
printf '  without the shim   %8.3f %8.3f\n' "$bmean" "$bmed"
printf '  LD_PRELOAD shim    %8.3f %8.3f\n' "$smean" "$smed"
awk -v b="$bmean" -v s="$smean" -v bm="$bmed" -v sm="$smed" 'BEGIN {
  printf "  ratio %.3f (mean), %.3f (median); added %.3f ms (mean), %.3f ms (median); target < 0.2 ms\n",
    s / b, sm / bm, s - b, sm - bm }'
