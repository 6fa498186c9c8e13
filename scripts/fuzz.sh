#!/usr/bin/env bash
# libFuzzer targets (docs/testing.md): build them, run the CI smoke pass, or one long run.
#   scripts/fuzz.sh build                 configure build/fuzz (clang) and build only the targets
#   scripts/fuzz.sh smoke                 ctest -L fuzz: every target CVAGENT_FUZZ_SMOKE_SECONDS
#   scripts/fuzz.sh long TARGET [RUNS]    one target for RUNS executions (default 10 million) on
#                                         its seeds + what earlier runs found; prints the figures
#   scripts/fuzz.sh list                  the targets
# A long run also stops after CVAGENT_FUZZ_MAX_SECONDS when set.
# -entropic_scale_per_exec_time=1: libFuzzer's entropic schedule otherwise gives most of the
# mutations to the inputs with rare features, which in the document parsers are the slowest ones
# (flow collections of thousands of items, deeply nested pages: 20-70 ms against ~0.3).
# CVAGENT_FUZZ_FORK=1 runs libFuzzer with -fork=1: one fuzzing process at a time, restarted after
# 1, 2, ... up to 300 s, the parent merging what each found into found/. The schedule's state still
# drifts to the slow inputs within minutes in one process (config_loader: 5,800 executions per
# CPU-second in a fresh process, 850 in the 12-minute-old one on the same corpus at the same
# time), so the slow document parsers are run this way (docs/testing.md, "Long runs").
# CVAGENT_FUZZ_BUILD_DIR (default build/fuzz), CVAGENT_FUZZ_SMOKE_SECONDS (default 20).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${CVAGENT_FUZZ_BUILD_DIR:-$root/build/fuzz}
jobs=$(nproc)

configure() {
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  # Only the plugins that have fuzz targets: the others are not configured at all.
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCVAGENT_BUILD_FUZZ=ON \
    -DCVAGENT_BUILD_TESTS=OFF -DCVAGENT_BUILD_BENCH=OFF -DCVAGENT_WERROR=ON \
    -DCVAGENT_PLUGIN_FILTER='inputs/(kraken|rss|kafka)' \
    -DCVAGENT_FUZZ_SMOKE_SECONDS="${CVAGENT_FUZZ_SMOKE_SECONDS:-20}" "${launcher[@]}" >/dev/null
}

case "${1:-}" in
  build)
    configure
    cmake --build "$build_dir" -j "$jobs" --target cvagent_fuzz_targets
    ;;
  smoke)
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" -L fuzz
    ;;
  list)
    ls "$build_dir/fuzz" | grep '^fuzz_' | sed 's/^fuzz_//'
    ;;
  long)
    target=${2:?target name (scripts/fuzz.sh list)}
    runs=${3:-10000000}
    corpus=$build_dir/fuzz/corpus/$target
    bin=$build_dir/fuzz/fuzz_$target
    [[ -x $bin ]] || { echo "no $bin: scripts/fuzz.sh build first" >&2; exit 2; }
    max_len=$(ctest --test-dir "$build_dir" -N -V -R "^fuzz_${target}_smoke\$" |
      grep -o -- '-max_len=[0-9]*' | head -1)
    log=$corpus/long-run.log
    fork=
    [[ ${CVAGENT_FUZZ_FORK:-0} == 1 ]] && fork=1
    echo "fuzz_$target: $runs runs, log $log" >&2
    start=$(date +%s)
    set +e
    # malloc_context_size=0: no stack trace taken at every malloc/free (a fifth of the CPU of the
    # allocation-heavy parsers); ASan detects the same errors, its report only lacks the
    # allocation and free stacks, which replaying the saved input (ctest) prints.
    # -timeout=60: a long run shares its machine, and a process paused there (a benchmark stopped
    # the fuzzers for up to ~50 s to measure) is not a hung input, but libFuzzer's alarm counts
    # wall time; a unit over 10 s is still saved as a slow-unit-* artifact (-report_slow_units),
    # counted below, without ending the run.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:malloc_context_size=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -runs="$runs" -max_total_time="${CVAGENT_FUZZ_MAX_SECONDS:-0}" "$max_len" -timeout=60 \
      -report_slow_units=10 -rss_limit_mb=2048 -print_final_stats=1 -entropic_scale_per_exec_time=1 \
      ${fork:+-fork=1} -artifact_prefix="$corpus/artifacts/" "$corpus/found" "$corpus/seeds" \
      >"$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s)
    if [[ -n $fork ]]; then
      # The parent's lines: "#<executions>: cov: .. ft: .. corp: .. exec/s .. oom/timeout/crash: ..".
      # (-a: the log holds the recommended dictionary's raw bytes.)
      done_line=$(grep -aE '^#[0-9]+: ' "$log" | tail -1)
      execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$done_line")
    else
      done_line=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
      execs=$(grep -aE '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    fi
    crashes=$(find "$corpus/artifacts" -type f | wc -l)
    echo "fuzz_$target rc=$rc execs=${execs:-?} seconds=$((end - start)) artifacts=$crashes | ${done_line:-no DONE line (see $log)}"
    exit "$rc"
    ;;
  *)
    sed -n '2,8p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
