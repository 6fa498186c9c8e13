#!/usr/bin/env bash
# What a reload applies to the agent's own settings: shutdown_timeout follows it; agent.http does
# not move the endpoint (a warning says so and the old address keeps answering).
source "$(dirname "$0")/lib.sh"

port=$(free_port)
other=$(free_port)
: >"$WORK/in.jsonl"
write_config() {  # write_config HTTP_PORT SHUTDOWN_TIMEOUT
  cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$1", shutdown_timeout: $2, state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl}
outputs:
  - file: {path: $WORK/out.jsonl}
YAML
}
write_config "$port" 10s
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")
up() { curl -fsS -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null; }
wait_for 20 up "$port" || fail "the agent did not start"
write_config "$other" 3s
"$CVAGENT" reload --pid "$agent" || fail "cvagent reload"
wait_for 20 grep -q "configuration reloaded" "$WORK/agent.log" || fail "no reload"
grep -q "agent.http changed to '127.0.0.1:$other': /health and /metrics stay on '127.0.0.1:$port' until a restart" "$WORK/agent.log" ||
  fail "no warning about agent.http"
up "$port" || fail "the endpoint moved or stopped"
! up "$other" || fail "the new address answers, yet the warning says it does not"
kill -TERM "$agent"
wait "$agent" || fail "agent exit code"
grep -q "SIGTERM: stopping (deadline 3s)" "$WORK/agent.log" || fail "shutdown_timeout did not follow the reload: $(grep stopping "$WORK/agent.log")"
echo "reload settings: ok"
