#!/usr/bin/env bash
# The shared library exports exactly the symbols of lib/libtlsguard.map, all
# prefixed tlsguard_, all versioned; public headers compile alone, as C and C++.
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"
so=$TG_BUILDDIR/lib/.libs/libtlsguard.so
map=$TG_SRCDIR/lib/libtlsguard.map
[ -f "$so" ] || { echo "abi: $so not built"; exit 99; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^TLSGUARD_' | sort >"$tmp/exported"
sed -n 's/^ *\(tlsguard_[a-z0-9_]*\);$/\1/p' "$map" | sort >"$tmp/map"
sed 's/@.*//' "$tmp/exported" | sort >"$tmp/names"
check "exported symbols equal the version script" diff -u "$tmp/map" "$tmp/names"
check "every export is versioned TLSGUARD_0.1" bash -c "! grep -v '@@TLSGUARD_0.1\$' '$tmp/exported' | grep -q ."
check "no export without the tlsguard_ prefix" bash -c "! grep -v '^tlsguard_' '$tmp/names' | grep -q ."
check "at least 40 public functions" test "$(wc -l <"$tmp/names")" -ge 40
check "SONAME is libtlsguard.so.0" bash -c "objdump -p '$so' | grep -q 'SONAME *libtlsguard.so.0\$'"

# Every symbol the headers declare is exported (no declared-but-missing API).
decl=$(grep -ho 'tlsguard_[a-z0-9_]*(' "$TG_SRCDIR"/include/tlsguard/*.h | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$decl") "$tmp/names" | grep -v '^tlsguard_event_cb$' || true)
check "every declared function is exported${missing:+ (missing: $missing)}" test -z "$missing"

for h in tlsguard gnutls; do
  printf '#include <tlsguard/%s.h>\nint main(void){return 0;}\n' "$h" >"$tmp/h.c"
  cp "$tmp/h.c" "$tmp/h.cc"
  inc="-I$TG_SRCDIR/include -I$TG_BUILDDIR/include $(pkg-config --cflags gnutls)"
  # shellcheck disable=SC2086
  check "<tlsguard/$h.h> compiles alone as C (-Wall -Wextra -pedantic -Werror)" \
    cc -std=c99 -Wall -Wextra -pedantic -Werror $inc -c "$tmp/h.c" -o "$tmp/h.o"
  if command -v c++ >/dev/null; then
    # shellcheck disable=SC2086
    check "<tlsguard/$h.h> compiles alone as C++" c++ -Wall -Wextra -Werror $inc -c "$tmp/h.cc" -o "$tmp/h2.o"
  fi
done
check "core header includes no GnuTLS header" bash -c "! grep -q '#include <gnutls' '$TG_SRCDIR/include/tlsguard/tlsguard.h'"
finish
