#!/usr/bin/env bash
# `make install` into a staging directory, then build an external program
# with exactly `cc prog.c $(pkg-config --cflags --libs tlsguard)` and run it.
set -u
. "${TG_SRCDIR:-.}/tests/lib.sh"
stage=$(mktemp -d "${TMPDIR:-/tmp}/tlsguard-install.XXXXXX"); trap 'rm -rf "$stage"' EXIT
if ! make -C "$TG_BUILDDIR" install DESTDIR="$stage" >"$stage.log" 2>&1; then
  cat "$stage.log"; rm -f "$stage.log"; echo "install: make install failed"; exit 1
fi
rm -f "$stage.log"
pc=$TG_BUILDDIR/pkgconfig/tlsguard.pc
prefix=$(sed -n 's/^prefix=//p' "$pc")
libdir=$(sed -n 's/^libdir=//p' "$pc" | sed "s|\${exec_prefix}|$prefix|")
root=$stage$prefix

for f in bin/tlsguard include/tlsguard/tlsguard.h include/tlsguard/gnutls.h include/tlsguard/version.h \
         share/man/man1/tlsguard.1 share/man/man5/tlsguard.conf.5 share/man/man3/libtlsguard.3; do
  check "installed $f" test -e "$root/$f"
done
check "installed libtlsguard.so.0" test -e "$stage$libdir/libtlsguard.so.0"
check "installed tlsguard.pc" test -e "$stage$libdir/pkgconfig/tlsguard.pc"
check "no static archive or internal header installed" \
  bash -c "! find '$stage' -name '*.a' -o -name 'tg.h' | grep -q ."

export PKG_CONFIG_PATH=$stage$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
check "pkg-config --modversion" test "$(pkg-config --modversion tlsguard)" = "$(sed -n 's/^Version: //p' "$pc")"
check "pkg-config Requires gnutls (public header includes it)" bash -c "pkg-config --print-requires tlsguard | grep -q '^gnutls'"

cat >"$stage/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tlsguard/gnutls.h>

int main(int argc, char **argv)
{
	tlsguard_ctx *ctx = NULL;
	tlsguard_result *res = NULL;
	gnutls_datum_t leaf, inter;
	const unsigned char *der[2];
	size_t len[2];
	int rc, ok;

	if (argc != 4 || strcmp(tlsguard_version(), TLSGUARD_VERSION) != 0)
		return 3;
	if (gnutls_load_file(argv[2], &leaf) < 0 || gnutls_load_file(argv[3], &inter) < 0)
		return 4;
	der[0] = leaf.data; len[0] = leaf.size;
	der[1] = inter.data; len[1] = inter.size;
	if (tlsguard_ctx_new(&ctx, TLSGUARD_CTX_NO_SYSTEM_CA) != 0 || tlsguard_ctx_add_ca(ctx, argv[1]) != 0)
		return 5;
	rc = tlsguard_verify_der_chain(ctx, "good.example.test", 443, der, len, 2, &res);
	ok = rc == 0 && tlsguard_result_verdict(res) == TLSGUARD_ACCEPT;
	printf("%s %s\n", tlsguard_version(), ok ? "accepted" : "rejected");
	tlsguard_result_free(res);
	tlsguard_ctx_free(ctx);
	gnutls_free(leaf.data);
	gnutls_free(inter.data);
	return ok ? 0 : 1;
}
C
# shellcheck disable=SC2046
check "external program builds with pkg-config" \
  cc "$stage/prog.c" $(pkg-config --cflags --libs tlsguard) -o "$stage/prog"
# In the sanitizer build the library pulls in libasan; the plain program
# does not load it first, which ASan would otherwise refuse.
out=$(ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_LIBRARY_PATH=$stage$libdir "$stage/prog" "$TG_DATA/root-ca.pem" "$TG_DATA/good.der" "$TG_DATA/int-ca.der" 2>&1)
check "external program verifies a chain with the installed library ($out)" grep -q ' accepted$' <<<"$out"
check "installed CLI runs" bash -c "LD_LIBRARY_PATH='$stage$libdir' '$root/bin/tlsguard' --version | grep -q ."
check "installed man pages render" bash -c "man -l '$root/share/man/man1/tlsguard.1' >/dev/null 2>&1"
finish
