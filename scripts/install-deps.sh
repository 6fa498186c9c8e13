#!/usr/bin/env bash
# Installs the Debian 12 packages cvagent needs, only those missing.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the tests start and use (PostgreSQL, Redis, ...)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git file
  libboost-dev libboost-filesystem-dev libboost-system-dev libssl-dev zlib1g-dev
  libyaml-cpp-dev librdkafka-dev liblz4-dev libzstd-dev libpqxx-dev libpq-dev
  libcurl4-openssl-dev libsimdjson-dev prometheus-cpp-dev libhiredis-dev libpugixml-dev
  libxml2-dev protobuf-compiler libprotobuf-dev libsnappy-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# postgresql-server-dev-15 and the rest of the TimescaleDB build's needs (its build.sh) are
# installed here, before any test cluster starts: server-dev of a newer minor release upgrades the
# installed server with it, and a cluster started before that loads the new plpgsql.so into the
# old server ("undefined symbol: heap_datum_update_type" when 15.20 replaced 15.18).
test_pkgs=(
  postgresql-15 postgresql-client-15 postgresql-server-dev-15 libkrb5-dev patch
  redis-server prometheus kcat
  python3 python3-websockets openssl curl procps
  rpm docker-compose lintian
  python3-websocket python3-confluent-kafka
  clang clang-tidy clang-format libclang-rt-14-dev
)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
