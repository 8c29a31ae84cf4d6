#!/usr/bin/env python3
"""Summarises the `raw` lines of one or more hookcost logs (run with --raw).

usage: aggregate.py LOG [LOG...]

Per mode: number of samples, ns per pair (median, min, max, spread = max - min, as % of the
median) for wall time and for thread CPU time, the ratio of medians to mode A, and the
median of the per-round ratios and differences (each sample divided by / minus mode A's
sample of the same round of the same log: neighbours in time, so they share the machine's
load at that moment).
"""
import re
import statistics
import sys
from collections import defaultdict

RAW = re.compile(r"^raw (\w) rep (\d+) wall ([\d.]+) s cpu ([\d.]+) s pairs (\d+)")


def main(paths):
    wall = defaultdict(list)
    cpu = defaultdict(list)
    rounds = defaultdict(dict)  # (log, rep) -> mode -> (wall ns/pair, cpu ns/pair)
    for path in paths:
        with open(path) as f:
            for line in f:
                m = RAW.match(line)
                if not m:
                    continue
                mode, rep, w, c, pairs = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4)), int(m.group(5))
                wn, cn = w / pairs * 1e9, c / pairs * 1e9
                wall[mode].append(wn)
                cpu[mode].append(cn)
                rounds[(path, rep)][mode] = (wn, cn)
    modes = sorted(wall)
    if not modes:
        sys.exit("no raw lines found (run hookcost with --raw)")

    def ratios(mode, idx, base="A"):
        return [r[mode][idx] / r[base][idx] for r in rounds.values() if mode in r and base in r]

    def diffs(mode, idx, base="A"):
        return [r[mode][idx] - r[base][idx] for r in rounds.values() if mode in r and base in r]

    for idx, name, data in ((0, "wall (monotonic)", wall), (1, "thread CPU", cpu)):
        print(f"\n{name}: ns per pair")
        print(f"{'mode':4} {'n':>3} {'median':>8} {'min':>8} {'max':>8} {'spread%':>8} {'med/A':>6} {'rnd/A':>6} {'rnd-A ns':>9}")
        amed = statistics.median(data["A"]) if "A" in data else None
        for mode in modes:
            v = data[mode]
            med = statistics.median(v)
            spread = (max(v) - min(v)) / med * 100
            rel = f"{med / amed:6.3f}" if amed else "     -"
            rr = ratios(mode, idx)
            rnd = f"{statistics.median(rr):6.3f}" if rr else "     -"
            dd = diffs(mode, idx)
            dif = f"{statistics.median(dd):9.1f}" if dd else "        -"
            print(f"{mode:4} {len(v):3d} {med:8.1f} {min(v):8.1f} {max(v):8.1f} {spread:7.1f}% {rel} {rnd} {dif}")
        if "F" in data and "G" in data:
            gf = ratios("G", idx, "F")
            gd = diffs("G", idx, "F")
            print(f"G/F: ratio of medians {statistics.median(data['G']) / statistics.median(data['F']):.3f}, "
                  f"median per-round ratio {statistics.median(gf):.3f}, median per-round G-F {statistics.median(gd):.1f} ns")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
