#!/usr/bin/env bash
# Checks the installed layout of a build configured with -DCMAKE_INSTALL_PREFIX=/usr: a staged
# install (DESTDIR) holds the agent, the plugins where the agent finds them, the systemd unit and
# the /etc config; the packaged default pipeline runs from the staged tree; an install to another
# prefix leaves /etc alone. With --deb it also builds the .deb and checks its control data and
# contents and runs lintian on it (no error allowed), with --rpm the .rpm (needs rpmbuild: `apt
# install rpm`). ctest runs it with --deb as e2e_packaging when the build's prefix is /usr (as
# scripts/test.sh configures it).
#
#   tests/e2e/packaging_test.sh /tmp/build-pkg [--deb] [--rpm]
set -euo pipefail

build_dir=${1:?usage: packaging_test.sh BUILD_DIR [--deb] [--rpm]}
build_dir=$(cd "$build_dir" && pwd)
shift
with_deb=0 with_rpm=0
for arg in "$@"; do
  case "$arg" in
    --deb) with_deb=1 ;;
    --rpm) with_rpm=1 ;;
    *)
      echo "unknown argument $arg" >&2
      exit 2
      ;;
  esac
done
work=$(mktemp -d /tmp/cvagent-packaging.XXXXXX)
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }
# check "what" command...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build_dir/CMakeCache.txt")
[[ "$prefix" == /usr ]] || {
  echo "configure $build_dir with -DCMAKE_INSTALL_PREFIX=/usr (it has '$prefix')" >&2
  [[ -n "${CVAGENT_PACKAGING_SKIP_OTHER_PREFIX:-}" ]] && exit 77  # under ctest: not applicable
  exit 2
}
built_plugins=$(find "$build_dir/lib" -name 'libcvagent_*.so' -printf '%f\n' | sort -u)
[[ -n "$built_plugins" ]] || {
  echo "no plugins built in $build_dir" >&2
  exit 2
}

# Lists "<section>.<name>" for every libcvagent_<kind>_<name>.so.
expected_ids() {
  sed -E 's/^libcvagent_(input|processor|output)_(.*)\.so$/\1s.\2/' <<<"$1" | sort
}

# Runs `cvagent plugins list` from an install root and compares it with the plugins built.
check_plugins_found() {
  local root=$1 what=$2 listed
  listed=$("$root/usr/bin/cvagent" plugins list 2>&1 | awk '{print $1}' | sort)
  if [[ "$listed" == "$(expected_ids "$built_plugins")" ]]; then
    pass "$what: the agent finds all $(wc -l <<<"$listed") plugins"
  else
    fail "$what: plugins listed differ from those built"$'\n'"listed:"$'\n'"$listed"
  fi
}

# --- staged install, as cpack and distribution builds do it
stage=$work/stage
DESTDIR=$stage cmake --install "$build_dir" >"$work/install.log"
for f in usr/bin/cvagent usr/lib/systemd/system/cvagent.service etc/cvagent/pipeline.yaml \
  etc/cvagent/cvagent.env usr/share/cvagent/configs/pipeline.yaml \
  usr/share/cvagent/configs/data/sample-trades.jsonl usr/include/cvagent/plugin.h; do
  if [[ -e "$stage/$f" ]]; then pass "installs /$f"; else fail "/$f is not installed"; fi
done
env_mode=$(stat -c %a "$stage/etc/cvagent/cvagent.env")
check "cvagent.env is 0600 (it has $env_mode)" test "$env_mode" = 600
check_plugins_found "$stage" "staged install"

# The unit, with its paths pointed into the stage (systemd checks that the commands exist).
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/bin/cvagent|$stage/usr/bin/cvagent|g" \
    "$stage/usr/lib/systemd/system/cvagent.service" >"$work/cvagent.service"
  if systemd-analyze verify "$work/cvagent.service" 2>"$work/verify.log"; then
    pass "systemd-analyze verify cvagent.service"
  else
    fail "systemd-analyze verify: $(cat "$work/verify.log")"
  fi
fi

# The packaged default pipeline: validate it, then run it once against the staged files.
validate_quietly() { "$stage/usr/bin/cvagent" validate -c "$1" >/dev/null; }
check "the packaged pipeline validates" validate_quietly "$stage/etc/cvagent/pipeline.yaml"
mkdir -p "$work/var-lib-cvagent"
sed -e "s|/usr/share/cvagent|$stage/usr/share/cvagent|" \
  -e "s|/var/lib/cvagent|$work/var-lib-cvagent|" \
  "$stage/etc/cvagent/pipeline.yaml" >"$work/pipeline.yaml"
STATE_DIRECTORY=$work/var-lib-cvagent "$stage/usr/bin/cvagent" --once -c "$work/pipeline.yaml" \
  2>"$work/run.log" || fail "the packaged pipeline failed: $(cat "$work/run.log")"
sample_lines=$(wc -l <"$stage/usr/share/cvagent/configs/data/sample-trades.jsonl")
out_lines=$(wc -l <"$work/var-lib-cvagent/sample-out.jsonl" 2>/dev/null || echo 0)
check "the packaged pipeline copied the $sample_lines sample metrics (it wrote $out_lines)" \
  test "$out_lines" = "$sample_lines"
# A second start resumes after what was delivered: nothing is copied twice.
STATE_DIRECTORY=$work/var-lib-cvagent "$stage/usr/bin/cvagent" --once -c "$work/pipeline.yaml" \
  2>>"$work/run.log" || fail "the second run failed: $(cat "$work/run.log")"
out_lines=$(wc -l <"$work/var-lib-cvagent/sample-out.jsonl")
check "a restart does not copy the sample again ($out_lines lines after it)" \
  test "$out_lines" = "$sample_lines"

# --- an install to another prefix: no /etc, no unit, plugins still found
other=$work/other-prefix
cmake --install "$build_dir" --prefix "$other" >"$work/install-other.log"
check "an install to another prefix skips the system files" \
  grep -q "Skipping the systemd unit" "$work/install-other.log"
if grep -E "Installing: /(etc|usr/lib/systemd)/" "$work/install-other.log"; then
  fail "--prefix install wrote outside its prefix"
fi
mkdir -p "$other/usr" && ln -s ../bin "$other/usr/bin" # check_plugins_found expects usr/bin
check_plugins_found "$other" "install to another prefix"

# --- the .deb
if ((with_deb)); then
  (cd "$build_dir" && cpack -G DEB >"$work/cpack.log" 2>&1) || {
    cat "$work/cpack.log" >&2
    fail "cpack -G DEB failed"
  }
  deb=$(find "$build_dir" -maxdepth 1 -name 'cvagent_*.deb' -printf '%T@ %p\n' | sort -rn |
    head -1 | cut -d' ' -f2-)
  echo "package: $deb ($(stat -c %s "$deb") bytes)"
  check "Package: cvagent" test "$(dpkg-deb -f "$deb" Package)" = cvagent
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "Depends: $depends"
  check "Depends lists the shared libraries (libyaml-cpp0.7...)" \
    grep -q 'libyaml-cpp0.7.*' <<<"$depends"
  check "Depends lists passwd (useradd in postinst)" grep -qw passwd <<<"$depends"
  dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles >"$work/conffiles"
  for conffile in /etc/cvagent/pipeline.yaml /etc/cvagent/cvagent.env; do
    check "$conffile is a conffile" grep -qx "$conffile" "$work/conffiles"
  done
  dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$work/control-files"
  for script in postinst prerm postrm; do
    check "has a $script script" grep -qx "./$script" "$work/control-files"
  done
  dpkg -x "$deb" "$work/deb-root"
  check_plugins_found "$work/deb-root" ".deb extracted"
  # lintian, as Debian's archive would run it: no error may remain. Warnings and the tags that
  # only concern packages built by Debian's own tools (not CPack) are printed, not failed on.
  if command -v lintian >/dev/null; then
    lintian_rc=0
    lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || lintian_rc=$?
    sed 's/^/  lintian: /' "$work/lintian.log"
    check "lintian finds no error in the .deb ($(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings)" \
      test "$lintian_rc" -eq 0
  else
    fail "lintian is not installed (apt-get install lintian)"
  fi
fi

# --- the .rpm
if ((with_rpm)); then
  (cd "$build_dir" && cpack -G RPM >"$work/cpack-rpm.log" 2>&1) || {
    cat "$work/cpack-rpm.log" >&2
    fail "cpack -G RPM failed"
  }
  check "cpack -G RPM gave no warning" bash -c "! grep -q Warning '$work/cpack-rpm.log'"
  rpm_file=$(find "$build_dir" -maxdepth 1 -name 'cvagent-*.rpm' -printf '%T@ %p\n' | sort -rn |
    head -1 | cut -d' ' -f2-)
  echo "package: $rpm_file ($(stat -c %s "$rpm_file") bytes)"
  rpm -qpc "$rpm_file" >"$work/rpm-config" 2>/dev/null
  for conffile in /etc/cvagent/pipeline.yaml /etc/cvagent/cvagent.env; do
    check "$conffile is %config in the .rpm" grep -qx "$conffile" "$work/rpm-config"
  done
  rpm -qp --scripts "$rpm_file" >"$work/rpm-scripts" 2>/dev/null
  check "the .rpm creates the user before installing" grep -q "useradd --system" "$work/rpm-scripts"
  rpm -qpR "$rpm_file" >"$work/rpm-requires" 2>/dev/null
  check "the .rpm requires the shared libraries" grep -q "libyaml-cpp.so" "$work/rpm-requires"
  # Unpack into a scratch root (its own rpm database, no scripts, no dependency check).
  mkdir -p "$work/rpm-root"
  rpm --root="$work/rpm-root" --dbpath=/rpmdb -i --nodeps --noscripts --notriggers "$rpm_file" \
    2>/dev/null
  check_plugins_found "$work/rpm-root" ".rpm unpacked"
fi

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all packaging checks passed"
