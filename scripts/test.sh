#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds (warnings are errors), starts
# every service the tests use on loopback in a temp dir, runs every test, then repeats the unit,
# conformance and integration tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   scripts/test.sh                   everything
#   CVAGENT_TEST_SANITIZE=0 scripts/test.sh   skip the sanitizer pass
#   CVAGENT_TEST_ARGS='-R kraken' scripts/test.sh   extra ctest arguments
#   CVAGENT_TEST_ALONE=0 scripts/test.sh   skip building each plugin alone
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/install-deps.sh --test

jobs=$(nproc)
build_dir=${CVAGENT_BUILD_DIR:-$root/build/test}
# Prefix /usr, as the packages have it: e2e_packaging builds the .deb from this tree and runs
# lintian on it (nothing is installed on this machine: installs go to temp dirs).
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DCVAGENT_INSTALL_SYSTEM_FILES=ON \
  -DCVAGENT_WERROR=ON -DCVAGENT_BUILD_TESTS=ON -DCVAGENT_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"

# Each plugin configured and built alone (-DCVAGENT_PLUGIN_FILTER=<that plugin>, tests and
# benchmarks off), as a CI job or a packager building one plugin would: a plugin that reaches into
# another plugin's folder, or lacks a REQUIRES, fails here. One build dir per plugin, kept between
# runs; ccache (when installed) shares the SDK's objects between them.
if [[ "${CVAGENT_TEST_ALONE:-1}" == "1" ]]; then
  scripts/build-plugins-alone.sh
fi

work=$(mktemp -d /tmp/cvagent-test.XXXXXX)
chmod 755 "$work"
started=()
cleanup() {
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    bash "${started[$i]}" stop "$work/$(basename "${started[$i]}" .sh)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

export CVAGENT_BUILD_DIR="$build_dir"
for svc in tests/services/*.sh; do
  [[ -e "$svc" ]] || continue
  name=$(basename "$svc" .sh)
  mkdir -p "$work/$name"
  echo "starting service $name" >&2
  env_lines=$(bash "$svc" start "$work/$name")
  started+=("$svc")
  eval "$env_lines"
done
export CVAGENT_TEST_REQUIRE_SERVICES=1

# shellcheck disable=SC2086
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ${CVAGENT_TEST_ARGS:-}

if [[ "${CVAGENT_TEST_SANITIZE:-1}" == "1" ]]; then
  asan_dir=${CVAGENT_ASAN_BUILD_DIR:-$root/build/asan}
  cmake -S "$root" -B "$asan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCVAGENT_SANITIZE=ON \
    -DCVAGENT_WERROR=ON -DCVAGENT_BUILD_TESTS=ON -DCVAGENT_BUILD_BENCH=OFF >/dev/null
  cmake --build "$asan_dir" -j "$jobs"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # shellcheck disable=SC2086
  ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" -L 'unit|conformance|integration' \
    ${CVAGENT_TEST_ARGS:-}
fi
