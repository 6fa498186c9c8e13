#!/usr/bin/env bash
# The README's first command: installs what the agent needs (Debian 12), builds it (release) and
# runs the main job, configs/pipeline.yaml. Extra arguments go to cvagent, e.g.
#   scripts/run.sh --once            one pass over the sample, then exit
#   scripts/run.sh -c my.yaml        another pipeline instead
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/install-deps.sh
build=${CVAGENT_BUILD_DIR:-$root/build/release}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCVAGENT_BUILD_TESTS=OFF \
  -DCVAGENT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
if [[ " $* " == *" -c "* || " $* " == *" --config "* ]]; then
  exec "$build/bin/cvagent" "$@"
fi
exec "$build/bin/cvagent" -c configs/pipeline.yaml "$@"
