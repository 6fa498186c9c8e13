#!/usr/bin/env bash
# Configures and builds every plugin alone (-DCVAGENT_PLUGIN_FILTER='^<kind>s/<name>$', tests and
# benchmarks off, warnings are errors) and prints how long each took. A plugin that uses another
# plugin's folder, or a dependency it does not declare, fails here.
#
#   scripts/build-plugins-alone.sh                 every plugin
#   scripts/build-plugins-alone.sh inputs/kraken   some
#   CVAGENT_ALONE_BUILD_DIR=/tmp/alone scripts/build-plugins-alone.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

alone_dir=${CVAGENT_ALONE_BUILD_DIR:-$root/build/alone}
jobs=${CVAGENT_JOBS:-$(nproc)}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # Paths below the repository are hashed relative to it, so the SDK's objects compiled for one
  # plugin's build dir are hits for the next one.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
fi

plugins=("$@")
if [[ ${#plugins[@]} -eq 0 ]]; then
  for dir in plugins/*s/*/; do
    [[ -f "$dir/CMakeLists.txt" ]] && plugins+=("$(basename "$(dirname "$dir")")/$(basename "$dir")")
  done
fi

mkdir -p "$alone_dir"
total_start=$SECONDS
for plugin in "${plugins[@]}"; do
  kind=${plugin%%s/*}
  name=${plugin#*/}
  dir="$alone_dir/${kind}-${name}"
  start=$SECONDS
  # No optimisation and no debug info: the question is whether it builds, and without -g ccache
  # does not hash the build directory, so the SDK's objects are shared between the plugins' dirs.
  if ! cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DCVAGENT_WERROR=ON \
      -DCVAGENT_BUILD_TESTS=OFF -DCVAGENT_BUILD_BENCH=OFF "-DCVAGENT_PLUGIN_FILTER=^${plugin}\$" \
      "${launcher[@]}" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log" >&2
    echo "FAIL: $plugin does not configure alone" >&2
    exit 1
  fi
  if ! cmake --build "$dir" -j "$jobs" --target "cvagent_${kind}_${name}" >"$dir.build.log" 2>&1; then
    tail -n 60 "$dir.build.log" >&2
    echo "FAIL: $plugin does not build alone" >&2
    exit 1
  fi
  echo "built alone: $plugin ($((SECONDS - start)) s)"
done
echo "every plugin built alone in $((SECONDS - total_start)) s"
