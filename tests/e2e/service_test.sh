#!/usr/bin/env bash
# What the systemd unit relies on, with the real binary:
#  - Type=notify: READY=1 once the pipeline runs, RELOADING=1 + MONOTONIC_USEC then READY=1
#    around a reload, STOPPING=1 on SIGTERM, on the socket $NOTIFY_SOCKET names;
#  - ExecReload=cvagent reload --pid: the agent reloads (no /bin/kill needed), a fragment added to
#    the --config-dir directory is picked up, a missing pid is an error;
#  - a configuration error exits 2 before anything starts (RestartPreventExitStatus=2);
#  - a port in use names the address and what to do, exit 1.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/conf.d"
printf '{"name":"trade","tags":{},"fields":{"seq":1},"time":1}\n' >"$WORK/in.jsonl"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl, tail: false, interval: 1h}
outputs:
  - file: {id: main, path: $WORK/out-main.jsonl, flush_interval: 50ms}
YAML

# A notify socket that records each datagram as one line (newlines as '|').
/usr/bin/python3 - "$WORK/notify" "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(4096).decode()
        out.write(data.replace("\n", "|") + "\n")
PY
cleanup_pids+=($!)
wait_for 10 test -S "$WORK/notify" || fail "no notify socket"

NOTIFY_SOCKET="$WORK/notify" "$CVAGENT" -c "$WORK/p.yaml" --config-dir "$WORK/conf.d" \
  2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")
wait_for 20 grep -q '^READY=1|STATUS=running: 1 inputs, 0 processors, 1 outputs$' "$WORK/notify.log" ||
  fail "no READY=1 with the status line"
wait_for 20 has_lines "$WORK/out-main.jsonl" 1 || fail "the pipeline does not run"

# A fragment in conf.d adds an output; `cvagent reload` applies it.
cat >"$WORK/conf.d/20-copy.yaml" <<YAML
outputs:
  - file: {id: copy, path: $WORK/out-copy.jsonl, flush_interval: 50ms}
YAML
"$CVAGENT" reload --pid "$agent" || fail "cvagent reload failed"
wait_for 20 grep -q "configuration reloaded" "$WORK/agent.log" || fail "no reload"
wait_for 20 grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9]*$' "$WORK/notify.log" || fail "no RELOADING=1"
wait_for 20 grep -q '^READY=1|STATUS=running: 1 inputs, 0 processors, 2 outputs$' "$WORK/notify.log" ||
  fail "no READY=1 after the reload"
wait_for 20 has_lines "$WORK/out-copy.jsonl" 1 || fail "the conf.d output does not run"

"$CVAGENT" reload --pid 999999999 2>"$WORK/reload-missing.log" && fail "reload of no process succeeded"
grep -q "cannot signal process" "$WORK/reload-missing.log" || fail "no reason for a failed reload"

kill -TERM "$agent"
wait "$agent" || fail "the agent did not exit 0"
wait_for 10 grep -q '^STOPPING=1$' "$WORK/notify.log" || fail "no STOPPING=1"

# A configuration error: exit 2, nothing started, no READY=1.
: >"$WORK/notify.log"
echo "outputs: [" >"$WORK/conf.d/30-broken.yaml"
set +e
NOTIFY_SOCKET="$WORK/notify" "$CVAGENT" -c "$WORK/p.yaml" --config-dir "$WORK/conf.d" 2>"$WORK/broken.log"
code=$?
set -e
[[ $code -eq 2 ]] || fail "a broken fragment exited $code, not 2"
grep -q "30-broken.yaml" "$WORK/broken.log" || fail "the error does not name the file"
sleep 0.2
[[ ! -s "$WORK/notify.log" ]] || fail "a broken pipeline said READY"
rm "$WORK/conf.d/30-broken.yaml"

# The port of agent.http in use (Telegraf's default is the same 9273).
port=$(free_port)
/usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
cleanup_pids+=($!)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || fail "no listener"
sed -i "s|http: \"\"|http: \"127.0.0.1:$port\"|" "$WORK/p.yaml"
set +e
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/inuse.log"
code=$?
set -e
[[ $code -eq 1 ]] || fail "a port in use exited $code, not 1"
grep -q "127.0.0.1:$port (agent.http) is already in use" "$WORK/inuse.log" ||
  fail "the message does not name the address"
grep -q "set agent.http to a free address" "$WORK/inuse.log" || fail "the message does not say what to do"
echo "ok"
