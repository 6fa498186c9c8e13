#!/usr/bin/env bash
# The shared PostgreSQL 15 for tests: a private cluster in DIR, run as the `postgres` user (the
# server refuses root), listening on a free loopback port with its socket in DIR.
#   postgres.sh start DIR   prints CVAGENT_TEST_PG_URL (a database `cvagent_test`), plus
#                           CVAGENT_TEST_PG_BIN (the server binaries, for tests that start and
#                           restart a private instance of their own)
#   postgres.sh stop DIR    stops it
# Durability settings are relaxed (fsync off): the data is thrown away after the run.
# CVAGENT_PG_SETTINGS adds server settings (tests/services/timescaledb.sh preloads TimescaleDB).
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
bin=${CVAGENT_PG_BIN:-/usr/lib/postgresql/15/bin}
data="$dir/data"

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    [[ -x "$bin/initdb" ]] || { echo "postgres.sh: $bin/initdb not found (postgresql-15)" >&2; exit 1; }
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir"
      chmod 755 "$dir"
    fi
    as_postgres "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    as_postgres "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${CVAGENT_PG_SETTINGS:-}" \
      start >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
      -c "CREATE DATABASE cvagent_test" >/dev/null
    echo "export CVAGENT_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/cvagent_test"
    echo "export CVAGENT_TEST_PG_BIN=$bin"
    ;;
  stop)
    if [[ -f "$data/postmaster.pid" ]]; then
      as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
