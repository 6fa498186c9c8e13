#!/usr/bin/env bash
# The compose stack with the tools a Debian 12 user has: docker-compose 1.29 (Debian's package)
# accepts docker-compose.yml, and packaging/Dockerfile needs no BuildKit-only syntax (Debian 12's
# docker.io builds with the classic builder under docker-compose 1.29). No container engine runs
# here, so the stack itself is not started.
set -euo pipefail
src=${CVAGENT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v docker-compose >/dev/null; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && { echo "FAIL: docker-compose is not installed" >&2; exit 1; }
  echo "SKIP: docker-compose is not installed (scripts/install-deps.sh --test installs it)"
  exit 77
fi
cd "$src"
docker-compose -f docker-compose.yml config -q || { echo "FAIL: docker-compose 1.29 refuses docker-compose.yml" >&2; exit 1; }
# Every service the docs list is there.
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
for s in kafka timescaledb cvagent-producer cvagent-storer prometheus grafana; do
  [[ " $services " == *" $s "* ]] || { echo "FAIL: service $s missing (have: $services)" >&2; exit 1; }
done
if grep -nE '^# syntax=|RUN --mount|COPY --link|^\s*RUN <<' packaging/Dockerfile; then
  echo "FAIL: packaging/Dockerfile uses BuildKit-only syntax" >&2
  exit 1
fi
grep -q '^USER [0-9][0-9]*:[0-9][0-9]*$' packaging/Dockerfile || { echo "FAIL: the image's user is not a fixed numeric uid:gid" >&2; exit 1; }
echo "ok: docker-compose $(docker-compose version --short) accepts the stack ($services)"
