#!/usr/bin/env python3
"""Makes a libFuzzer seed corpus from test fixtures (called by cvagent_add_fuzz_target).

Each input file (directories are walked) becomes one seed, cut to --max-len bytes; with
--split-lines N, every window of N consecutive lines of a file becomes one seed instead (for
targets fed line-oriented data: Kraken frames, JSON lines, line protocol). Seeds are named by
their SHA-1, so re-running is idempotent and duplicates collapse.
"""
import argparse
import hashlib
import os
import sys


def files_of(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                for name in sorted(names):
                    if name.endswith(".md") or name.startswith("LICENSE"):
                        continue
                    yield os.path.join(root, name)
        else:
            yield path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--split-lines", type=int, default=0)
    parser.add_argument("--max-len", type=int, default=4096)
    parser.add_argument("--max-seeds", type=int, default=2000)
    parser.add_argument("inputs", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seeds = []
    for path in files_of(args.inputs):
        with open(path, "rb") as f:
            data = f.read()
        if args.split_lines > 0:
            lines = data.splitlines(keepends=True)
            step = args.split_lines
            for i in range(0, len(lines), step):
                seeds.append(b"".join(lines[i:i + step])[: args.max_len])
        else:
            seeds.append(data[: args.max_len])
    # Spread the kept seeds over every file rather than keeping only the first ones.
    if len(seeds) > args.max_seeds:
        stride = len(seeds) / args.max_seeds
        seeds = [seeds[int(i * stride)] for i in range(args.max_seeds)]
    wanted = set()
    for seed in seeds:
        if not seed:
            continue
        name = hashlib.sha1(seed).hexdigest()
        wanted.add(name)
        target = os.path.join(args.out, name)
        if not os.path.exists(target):
            with open(target, "wb") as f:
                f.write(seed)
    for name in os.listdir(args.out):
        if name not in wanted:
            os.remove(os.path.join(args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
