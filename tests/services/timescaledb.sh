#!/usr/bin/env bash
# The TimescaleDB flavour for tests: builds TimescaleDB from ../shared/vendor/timescaledb (its
# build.sh skips a build already installed) and runs a second private PostgreSQL 15 cluster that
# preloads it, beside the plain one of postgres.sh.
#   timescaledb.sh start DIR   prints CVAGENT_TEST_TSDB_URL (a database `cvagent_test`), or, where
#                              the source is absent (a clone on its own), CVAGENT_TEST_TSDB_SKIP
#                              with the reason: the TimescaleDB flavour of the tests then skips.
#   timescaledb.sh stop DIR    stops it
set -euo pipefail
cmd=${1:?usage: timescaledb.sh start|stop DIR}
dir=${2:?usage: timescaledb.sh start|stop DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vendor=${CVAGENT_TIMESCALEDB_SOURCE:-$here/../../../shared/vendor/timescaledb}

case "$cmd" in
  start)
    if [[ ! -f "$vendor/build.sh" ]]; then
      reason="no TimescaleDB source at $vendor (../shared is absent)"
      echo "timescaledb.sh: $reason: the TimescaleDB flavour of the tests is skipped" >&2
      printf 'export CVAGENT_TEST_TSDB_SKIP=%q\n' "$reason"
      exit 0
    fi
    # About 10 minutes on 2 cores the first time; seconds once installed.
    bash "$vendor/build.sh" >&2
    # max_worker_processes: the schema's policy jobs need more than PostgreSQL's default 8.
    CVAGENT_PG_SETTINGS="-c shared_preload_libraries=timescaledb -c max_worker_processes=32 -c timescaledb.telemetry_level=off" \
      bash "$here/postgres.sh" start "$dir" |
      sed -n 's/^export CVAGENT_TEST_PG_URL=/export CVAGENT_TEST_TSDB_URL=/p'
    ;;
  stop)
    bash "$here/postgres.sh" stop "$dir"
    ;;
  *)
    echo "usage: timescaledb.sh start|stop DIR" >&2
    exit 2
    ;;
esac
