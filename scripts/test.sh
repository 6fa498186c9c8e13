#!/usr/bin/env bash
# The README's test command (and CI's, .ci/run): installs what the tests need, checks the
# formatting, builds (warnings are errors, hardened), starts every service the tests use on
# loopback in a temp dir, runs every test, runs clang-tidy, then repeats the unit, conformance and
# integration tests under AddressSanitizer + UndefinedBehaviorSanitizer, the unit and integration
# tests of the threaded code under ThreadSanitizer, and every libFuzzer target for a short while.
# Prints how long each stage took at the end. docs/testing.md describes each stage.
#
#   scripts/test.sh                   everything
#   CVAGENT_TEST_ARGS='-R kraken' scripts/test.sh   extra ctest arguments (main, ASan, TSan runs)
#   CVAGENT_TEST_FORMAT=0             skip the clang-format check
#   CVAGENT_TEST_ALONE=0              skip building each plugin alone
#   CVAGENT_TEST_TIDY=0               skip clang-tidy
#   CVAGENT_TEST_SANITIZE=0           skip the ASan + UBSan pass
#   CVAGENT_TEST_TSAN=0               skip the ThreadSanitizer pass
#   CVAGENT_TEST_FUZZ=0               skip the fuzz smoke runs
#   CVAGENT_FUZZ_SMOKE_SECONDS=20     how long each fuzz target runs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

stage_names=()
stage_seconds=()
# stage NAME COMMAND...: runs COMMAND, recording its wall time for the summary.
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "=== stage: $name" >&2
  "$@"
  stage_names+=("$name")
  stage_seconds+=($((SECONDS - start)))
}
print_stages() {
  ((${#stage_names[@]} > 0)) || return 0
  echo "=== stage timings (wall seconds, $(nproc) cores)" >&2
  local i total=0
  for i in "${!stage_names[@]}"; do
    printf '  %-28s %5d s\n' "${stage_names[$i]}" "${stage_seconds[$i]}" >&2
    total=$((total + stage_seconds[i]))
  done
  printf '  %-28s %5d s\n' "total" "$total" >&2
}

stage install-deps scripts/install-deps.sh --test

if [[ "${CVAGENT_TEST_FORMAT:-1}" == "1" ]]; then
  stage format scripts/check-format.sh
fi

jobs=$(nproc)
build_dir=${CVAGENT_BUILD_DIR:-$root/build/test}
# Prefix /usr, as the packages have it: e2e_packaging builds the .deb from this tree and runs
# lintian on it (nothing is installed on this machine: installs go to temp dirs).
build_main() {
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX=/usr -DCVAGENT_INSTALL_SYSTEM_FILES=ON \
    -DCVAGENT_WERROR=ON -DCVAGENT_BUILD_TESTS=ON -DCVAGENT_BUILD_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j "$jobs"
}
stage build build_main

# Each plugin configured and built alone (-DCVAGENT_PLUGIN_FILTER=<that plugin>, tests and
# benchmarks off), as a CI job or a packager building one plugin would: a plugin that reaches into
# another plugin's folder, or lacks a REQUIRES, fails here. One build dir per plugin, kept between
# runs; ccache (when installed) shares the SDK's objects between them.
if [[ "${CVAGENT_TEST_ALONE:-1}" == "1" ]]; then
  stage plugins-alone scripts/build-plugins-alone.sh
fi

work=$(mktemp -d /tmp/cvagent-test.XXXXXX)
chmod 755 "$work"
started=()
cleanup() {
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    bash "${started[$i]}" stop "$work/$(basename "${started[$i]}" .sh)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
  print_stages
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
stage tests ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ${CVAGENT_TEST_ARGS:-}

# clang-tidy over the agent, the SDK and the plugins (not tests), on the main build's
# compile_commands.json.
if [[ "${CVAGENT_TEST_TIDY:-1}" == "1" ]]; then
  stage clang-tidy scripts/tidy.sh "$build_dir"
fi

if [[ "${CVAGENT_TEST_SANITIZE:-1}" == "1" ]]; then
  asan_dir=${CVAGENT_ASAN_BUILD_DIR:-$root/build/asan}
  build_asan() {
    cmake -S "$root" -B "$asan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCVAGENT_SANITIZE=ON \
      -DCVAGENT_WERROR=ON -DCVAGENT_BUILD_TESTS=ON -DCVAGENT_BUILD_BENCH=OFF >/dev/null
    cmake --build "$asan_dir" -j "$jobs"
  }
  stage asan-build build_asan
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    stage asan-tests ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" \
    -L 'unit|conformance|integration' ${CVAGENT_TEST_ARGS:-}
fi

# ThreadSanitizer: the core (runtime, reload, output workers, disk buffer, HTTP server, the agent
# binary in the integration scripts) and the plugins that run threads of their own (kraken's Asio
# thread, the file input's watcher, file and discard outputs, the Kafka plugins' librdkafka
# threads, against the mock cluster started above and mock clusters of their own). librdkafka's
# C11 threads and locks reach TSan through tests/tsan/c11_threads.cc (docs/testing.md).
# Suppressions, each with its reason: tests/tsan.supp.
if [[ "${CVAGENT_TEST_TSAN:-1}" == "1" ]]; then
  tsan_dir=${CVAGENT_TSAN_BUILD_DIR:-$root/build/tsan}
  # Only the agent, those plugins and their tests are built; the tests of executables not built
  # are left out of the ctest run (NOT_BUILT), as is the cvagent_add_plugin configure test (no
  # code of ours runs in it).
  tsan_targets=(cvagent cvagent_input_kraken cvagent_input_file cvagent_output_file
    cvagent_output_discard runtime_test disk_buffer_test http_test config_test
    test_input_kraken_unit test_input_kraken_integration test_input_file_unit test_output_file_unit
    cvagent_input_kafka cvagent_output_kafka test_input_kafka_integration
    test_output_kafka_integration cvagent-kafka-mock tsan_kafka_handoff)
  build_tsan() {
    cmake -S "$root" -B "$tsan_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCVAGENT_TSAN=ON \
      -DCVAGENT_WERROR=ON -DCVAGENT_BUILD_TESTS=ON -DCVAGENT_BUILD_BENCH=OFF \
      -DCVAGENT_PLUGIN_FILTER='inputs/(kraken|file|kafka)|outputs/(file|discard|kafka)' >/dev/null
    cmake --build "$tsan_dir" -j "$jobs" --target "${tsan_targets[@]}"
  }
  stage tsan-build build_tsan
  tsan_tests() {
    # shellcheck disable=SC2086
    ctest --test-dir "$tsan_dir" --output-on-failure -j "$jobs" \
      -L 'unit|integration' -E '_NOT_BUILT$|^unit_cvagent_add_plugin$' ${CVAGENT_TEST_ARGS:-}
    # And one e2e test: two agents that dlopen the Kafka plugins (the agent's threads with
    # librdkafka's; librdkafka must stay loaded past the plugins' dlclose, see CMakeLists.txt).
    ctest --test-dir "$tsan_dir" --output-on-failure -R '^e2e_kafka_two_agents$'
  }
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp" \
    stage tsan-tests tsan_tests
fi

# libFuzzer smoke runs: every fuzz target (clang, ASan + UBSan) for CVAGENT_FUZZ_SMOKE_SECONDS
# over its seed corpus, plus its saved reproducers. Long runs: scripts/fuzz.sh long.
if [[ "${CVAGENT_TEST_FUZZ:-1}" == "1" ]]; then
  export CVAGENT_FUZZ_SMOKE_SECONDS=${CVAGENT_FUZZ_SMOKE_SECONDS:-20}
  stage fuzz-build scripts/fuzz.sh build
  stage fuzz-smoke scripts/fuzz.sh smoke
fi
