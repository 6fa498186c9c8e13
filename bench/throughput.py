#!/usr/bin/python3
"""Whole-agent throughput, every consumer of the same fake exchange in one run (issue 14).

    bench/throughput.py BUILD_DIR [--trades N] [--old-trades N] [--rounds R] [--before DIR]

Starts the fast fake exchange (bench_input_kraken --serve N: a C++ Beast server streaming N
one-trade frames over plain WebSocket on loopback to each connection) and the librdkafka mock
cluster the tests use (cvagent-kafka-mock, 3 brokers, rawtrade with 6 partitions), then measures,
R rounds in turn:
  limit           bench_input_kraken --count: a bare Beast client that only counts frames
  kraken->discard cvagent, inputs.kraken -> outputs.discard
  kraken->kafka   cvagent, inputs.kraken -> outputs.kafka (its defaults: acks all, idempotent, lz4)
  file->kafka     cvagent, inputs.file (N trades, line protocol, tailed from the beginning, so
                  delivery-tracked) -> outputs.kafka
  old producer    bench/old_kraken_producer.py (websocket-client -> confluent-kafka, acks=1, lz4,
                  linger 10 ms), on --old-trades frames
A consumer's rate is its trades over the time from its connect (stamped by the fake exchange) to
its last trade stored: outputs' written counters on /metrics (polled every 50 ms, every 5 ms over
the last 10 %; Kafka counts a trade once its delivery report confirmed it), the old producer's
last confirmed delivery.
file->kafka runs from the agent's start. Prints each round, then the medians, each rate's ratio to
the limit and to the old producer, the agent's peak RSS (VmHWM) and peak anonymous memory (RssAnon,
sampled with the counters: the rest of the RSS is shared libraries' pages) and its CPU per trade
(user + system of all its threads from its start to its last trade stored, /proc/PID/stat: less
moved by other load than the rate) per scenario, the idle
RSS (bench/idle_rss.sh) and the load average before and after. Ratios are taken within each round,
then their median is printed. With --before DIR (a directory with
bin/cvagent and lib/cvagent/plugins of another build), the three agent scenarios also run with that
agent, in the same rounds, for a before/after comparison.
"""
import argparse
import collections
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PAIRS = ["BTC/USD", "ETH/USD", "SOL/USD"]
# One consumer's run: trades/s, and for an agent its peak RSS, peak anonymous memory (MB) and CPU
# per trade (us); None for the others.
Run = collections.namedtuple("Run", "rate rss anon cpu_us")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Exchange:
    """bench_input_kraken --serve: its port, and the monotonic time of each connect."""

    def __init__(self, build, trades):
        self.proc = subprocess.Popen([f"{build}/bin/bench_input_kraken", "--serve", str(trades)],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.connects = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("connected "):
                with self.cv:
                    self.connects.append(int(line.split()[1]))
                    self.cv.notify_all()

    def connect_time(self, index, timeout=30):
        with self.cv:
            if not self.cv.wait_for(lambda: len(self.connects) > index, timeout):
                raise RuntimeError("the consumer never connected to the fake exchange")
            return self.connects[index]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class KafkaMock:
    def __init__(self, build):
        self.proc = subprocess.Popen([f"{build}/bin/cvagent-kafka-mock", "--brokers", "3"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("bootstrap "):
            raise RuntimeError(f"the mock cluster did not start: {line!r}")
        self.brokers = line.split()[1]
        self.command("topic rawtrade 6")

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"mock cluster: {line}: {answer}")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait()


def written(http_port, output):
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2).read().decode()
    m = re.search(r'^cvagent_output_metrics_written_total\{[^}]*plugin="%s"[^}]*\} (\S+)'
                  % re.escape(output), text, re.M)
    return int(float(m.group(1))) if m else 0


def memory_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def cpu_seconds(pid):
    """User + system CPU of every thread of `pid` so far (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_agent(build, work, name, inputs_yaml, output_yaml, output_id, trades, exchange=None):
    """Runs cvagent until `output_id` has stored `trades`; returns (seconds, peak RSS MB, peak
    anonymous MB, the agent's CPU seconds from its start, start-up included)."""
    http = free_port()
    config = os.path.join(work, f"{name}.yaml")
    with open(config, "w") as f:
        # A fresh state directory: inputs.file must not resume where an earlier run stopped.
        state = tempfile.mkdtemp(prefix=f"state-{name}.", dir=work)
        f.write(f'agent: {{http: "127.0.0.1:{http}", state_dir: {state}}}\n'
                f"inputs:\n  - {inputs_yaml}\noutputs:\n  - {output_yaml}\n")
    connects_before = len(exchange.connects) if exchange else 0
    with open(os.path.join(work, f"{name}.log"), "w") as log:
        started = time.monotonic_ns()
        agent = subprocess.Popen([f"{build}/bin/cvagent", "-c", config], stderr=log)
    try:
        deadline = time.monotonic() + 120
        count = 0
        anon_kb = 0
        while count < trades:
            anon_kb = max(anon_kb, memory_kb(agent.pid, "RssAnon"))
            if agent.poll() is not None:
                raise RuntimeError(f"{name}: the agent exited, see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: only {count} of {trades} stored in 120 s")
            try:
                count = written(http, output_id)
            except OSError:
                pass  # not listening yet
            if count < trades:
                # Every scrape costs the agent a /metrics rendering: sparse until the end is
                # near, then every 5 ms (the end time's resolution).
                time.sleep(0.05 if count < 0.9 * trades else 0.005)
        done = time.monotonic_ns()
        cpu = cpu_seconds(agent.pid)
        hwm_kb = memory_kb(agent.pid, "VmHWM")
        anon_kb = max(anon_kb, memory_kb(agent.pid, "RssAnon"))
        begin = exchange.connect_time(connects_before) if exchange else started
        return (done - begin) / 1e9, hwm_kb / 1024, anon_kb / 1024, cpu
    finally:
        agent.terminate()
        agent.wait()


def trade_file(path, trades):
    with open(path, "w") as f:
        for i in range(trades):
            side = "buy" if i % 2 else "sell"
            f.write(f"trade,exchange=kraken,pair={PAIRS[i % 3]},side={side} "
                    f"price={60000 + i % 1000}.5,volume=0.0{1 + i % 9},trade_id={i + 1}i,"
                    f'ord_type="limit" {1795962600000000000 + i * 1000}\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", help="build directory (bin/cvagent, bin/bench_input_kraken...)")
    parser.add_argument("--trades", type=int, default=300000)
    parser.add_argument("--old-trades", type=int, default=60000,
                        help="trades for the old Python producer (it is slow)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", help="another build's agent to compare with (bin/cvagent and "
                        "lib/cvagent/plugins)")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    n = args.trades
    work = tempfile.mkdtemp(prefix="cvagent-throughput.")
    load_before = loadavg()
    exchange = Exchange(build, n)
    kafka = KafkaMock(build)
    lines = open(f"/proc/cpuinfo").read()
    cpu = re.search(r"model name\s*:\s*(.*)", lines).group(1)
    print(f"machine: {os.cpu_count()} CPUs, {cpu}; load average {load_before}")
    print(f"{n} one-trade frames per consumer; Kafka: mock cluster {kafka.brokers}\n")

    kraken = (f'kraken: {{url: "ws://127.0.0.1:{exchange.port}/v2", '
              f'pairs: [{", ".join(PAIRS)}], channels: [trade]}}')
    to_kafka = f'kafka: {{brokers: "{kafka.brokers}"}}'
    trades_lp = os.path.join(work, "trades.lp")
    trade_file(trades_lp, n)
    scenarios = [  # name, input, output, output id, fed by the fake exchange
        ("kraken->discard", kraken, "discard: {}", "outputs.discard", True),
        ("kraken->kafka", kraken, to_kafka, "outputs.kafka", True),
        ("file->kafka", f"file: {{path: {trades_lp}, format: influx, tail: true, "
         "from_beginning: true}", to_kafka, "outputs.kafka", False),
    ]
    results = {}  # scenario -> [Run]
    agents = [("", build)] + ([("before ", os.path.abspath(args.before))] if args.before else [])

    def record(name, seconds, trades, rss=None, anon=None, cpu=None):
        rate = trades / seconds
        cpu_us = cpu * 1e6 / trades if cpu is not None else None
        results.setdefault(name, []).append(Run(rate, rss, anon, cpu_us))
        rss_text = (f", peak RSS {rss:.1f} MB, anon {anon:.1f} MB, CPU {cpu_us:.2f} us/trade"
                    if rss else "")
        print(f"  {name:23} {rate:>10,.0f} trades/s ({trades} in {seconds:.2f} s{rss_text})",
              flush=True)

    try:
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds} (load {loadavg()})")
            out = subprocess.run([f"{build}/bin/bench_input_kraken", "--count", str(exchange.port),
                                  str(n)], check=True, capture_output=True, text=True).stdout
            record("limit", float(re.search(r"in ([\d.]+) s", out).group(1)), n)
            for label, agent_build in agents:
                for name, inputs_yaml, output_yaml, output_id, fed_by_exchange in scenarios:
                    seconds, rss, anon, cpu = run_agent(
                        agent_build, work, name, inputs_yaml, output_yaml, output_id, n,
                        exchange=exchange if fed_by_exchange else None)
                    record(label + name, seconds, n, rss, anon, cpu)
            before = len(exchange.connects)
            old = subprocess.run(["/usr/bin/python3",
                                  os.path.join(HERE, "old_kraken_producer.py"),
                                  f"ws://127.0.0.1:{exchange.port}/v2", kafka.brokers,
                                  str(args.old_trades)], capture_output=True, text=True)
            if old.returncode != 0:
                raise RuntimeError(f"old producer failed: {old.stderr.strip()[-500:]}")
            done_ns = int(re.search(r"done (\d+)", old.stdout).group(1))
            record("old producer", (done_ns - exchange.connect_time(before)) / 1e9,
                   args.old_trades)
        idle = subprocess.run(["bash", os.path.join(HERE, "idle_rss.sh"), build],
                              capture_output=True, text=True).stdout.strip()
    finally:
        exchange.stop()
        kafka.stop()
        shutil.rmtree(work, ignore_errors=True)

    # Ratios within each round (the shared machine moves every rate between rounds), then their
    # median.
    limits = [run.rate for run in results["limit"]]
    olds = [run.rate for run in results["old producer"]]
    print(f"\nmedian of {args.rounds} round(s), ratios taken within each round; load average "
          f"{load_before} before, {loadavg()} after")
    print(f"{'scenario':23} {'trades/s':>10} {'range':>21} {'x limit':>8} {'x old':>6} "
          f"{'peak RSS':>9} {'anon':>8} {'CPU/trade':>10}")
    for name, runs in results.items():
        rates = [run.rate for run in runs]
        rss = [run.rss for run in runs if run.rss]
        anon = [run.anon for run in runs if run.anon]
        cpus = [run.cpu_us for run in runs if run.cpu_us is not None]
        x_limit = statistics.median(r / limit for r, limit in zip(rates, limits))
        x_old = statistics.median(r / old for r, old in zip(rates, olds))
        print(f"{name:23} {statistics.median(rates):>10,.0f} "
              f"{min(rates):>10,.0f}-{max(rates):<10,.0f} {x_limit:>8.2f} {x_old:>6.1f} "
              f"{(f'{max(rss):.1f} MB' if rss else '-'):>9} "
              f"{(f'{max(anon):.1f} MB' if anon else '-'):>8} "
              f"{(f'{statistics.median(cpus):.2f} us' if cpus else '-'):>10}")
    print(idle)


if __name__ == "__main__":
    main()
