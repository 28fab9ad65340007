# Shared helpers for the shell tests (sourced). Automake exit codes:
# 0 pass, 1 fail, 77 skip, 99 hard error.
TG_BUILDDIR=${TG_BUILDDIR:-.}
TG_SRCDIR=${TG_SRCDIR:-.}
TG_DATA=${TG_DATA:-$TG_BUILDDIR/tests/data}
t_pass=0
t_fail=0
t_name=$(basename "$0" .sh)
ok() { t_pass=$((t_pass + 1)); echo "ok - $*"; }
not_ok() { t_fail=$((t_fail + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
finish() {
  echo "$t_name: $t_pass passed, $t_fail failed"
  [ "$t_fail" = 0 ]
}
