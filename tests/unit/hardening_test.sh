#!/usr/bin/env bash
# The hardening flags (cmake/CvagentHardening.cmake) reached the binaries: readelf on the agent
# and every plugin module of the build. Fails naming the binary and the missing property.
#   CVAGENT=<bin/cvagent> CVAGENT_PLUGIN_DIR=<lib/cvagent/plugins> hardening_test.sh
set -euo pipefail
: "${CVAGENT:?path of bin/cvagent}" "${CVAGENT_PLUGIN_DIR:?plugin directory of the build}"

failures=0
fail() {
  echo "FAIL: $1: $2" >&2
  failures=$((failures + 1))
}

# $1 binary, $2 "exe" or "lib"
check() {
  local bin=$1 kind=$2 header dynamic segments symbols
  header=$(readelf -h "$bin")
  dynamic=$(readelf -d "$bin")
  segments=$(readelf -lW "$bin")
  symbols=$(readelf -sW --dyn-syms "$bin")
  # PIE: an executable linked -pie is of type DYN (a shared object the loader may place anywhere)
  # and says PIE in its FLAGS_1; a plain executable is EXEC.
  grep -Eq 'Type:[[:space:]]+DYN' <<<"$header" || fail "$bin" "not position independent (ELF type is not DYN)"
  if [[ $kind == exe ]]; then
    grep -Eq 'FLAGS_1.*PIE' <<<"$dynamic" || fail "$bin" "no PIE in FLAGS_1 (linked without -pie)"
  fi
  # Full RELRO: a GNU_RELRO segment and immediate binding (BIND_NOW or FLAGS_1 NOW).
  grep -q 'GNU_RELRO' <<<"$segments" || fail "$bin" "no GNU_RELRO segment (-z relro)"
  grep -Eq '\(BIND_NOW\)|FLAGS_1.*NOW' <<<"$dynamic" || fail "$bin" "no BIND_NOW (-z now)"
  # Stack protector: canary checks call __stack_chk_fail.
  grep -q '__stack_chk_fail' <<<"$symbols" || fail "$bin" "no __stack_chk_fail (-fstack-protector-strong)"
  # _FORTIFY_SOURCE: checked libc functions (__memcpy_chk, __snprintf_chk...). The agent calls
  # plenty, so it must have some; a small plugin may call none that can be checked (as Debian's
  # hardening-check says: nothing to fortify), so a plugin fails only when it has no checked
  # function yet imports one that the flag would have replaced.
  if ! grep -Eq '__[a-z0-9_]+_chk\b' <<<"$symbols"; then
    if [[ $kind == exe ]]; then
      fail "$bin" "no fortified *_chk function (-D_FORTIFY_SOURCE=2)"
    elif grep -Eq ' UND +(sprintf|snprintf|printf|fprintf|strcpy|strcat|fgets|read|pread64)(@|$)' <<<"$symbols"; then
      fail "$bin" "unfortified libc calls and no *_chk function (-D_FORTIFY_SOURCE=2)"
    fi
  fi
}

check "$CVAGENT" exe
plugins=("$CVAGENT_PLUGIN_DIR"/libcvagent_*.so)
if [[ ! -e ${plugins[0]} ]]; then
  fail "$CVAGENT_PLUGIN_DIR" "no plugin module built"
else
  for so in "${plugins[@]}"; do
    check "$so" lib
  done
fi
if ((failures > 0)); then
  exit 1
fi
echo "hardened: $CVAGENT and ${#plugins[@]} plugin modules (PIE, full RELRO, stack protector, fortify)"
