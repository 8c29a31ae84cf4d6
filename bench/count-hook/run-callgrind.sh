#!/bin/sh
# Machine-instruction counts per mode (load-independent), with valgrind's callgrind.
# Run from the repository root:
#   bench/count-hook/run-callgrind.sh [hookcost options]
# Default options: --pods 20 --e-pods 2 --reps 1 (100,000 pairs per mode, 10,000 for E).
# Each mode's first round is dumped separately by the program (CALLGRIND_DUMP_STATS_AT
# "mode-X"); this script prints the Ir (instructions executed) of each dump, per pair.
set -eu
here=$(dirname "$0")
bin="$here/hookcost"
if [ ! -x "$bin" ] || [ "$here/hookcost.c" -nt "$bin" ]; then
    cc -O2 $(pkg-config --cflags lua5.4) "$here/hookcost.c" $(pkg-config --libs lua5.4) -o "$bin"
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/hookcost-cg.XXXXXX")
[ $# -gt 0 ] || set -- --pods 20 --e-pods 2 --reps 1
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$bin" "$@" >"$out/stdout" 2>"$out/valgrind.log"
cat "$out/stdout"
nodes=$(sed -n 's/.* \([0-9][0-9]*\) nodes x \([0-9][0-9]*\) pods.*(mode E: \([0-9][0-9]*\) pods).*/\1 \2 \3/p' "$out/stdout")
echo
echo "callgrind: machine instructions (Ir) per mode, first round only"
printf '%-4s %14s %10s %14s %8s\n' mode Ir pairs "Ir/pair" "vs A"
for f in "$out"/cg.out.*; do
    desc=$(sed -n 's/^desc: Trigger: Client Request: mode-\(.\)$/\1/p' "$f")
    [ -n "$desc" ] || continue
    tot=$(sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p; s/^summary: *\([0-9][0-9]*\).*/\1/p' "$f" | head -1)
    echo "$desc $tot"
done | sort | awk -v cfg="$nodes" '
    BEGIN { split(cfg, c, " "); n = c[1]; p = c[2]; pe = c[3] }
    { pairs = ($1 == "E" ? n * pe : n * p); per = $2 / pairs
      if ($1 == "A") a = per
      printf "%-4s %14d %10d %14.1f %8s\n", $1, $2, pairs, per, (a ? sprintf("%.3f", per / a) : "-")
      v[$1] = per }
    END { if (v["F"] && v["G"]) printf "G/F = %.3f\n", v["G"] / v["F"] }'
echo "(callgrind files kept in $out)"
