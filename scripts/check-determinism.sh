#!/usr/bin/env bash
# Runs the showcase scenario twice in two processes and compares the event-log hashes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/kubelab}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in 1 2; do
  "$bin" run plugins/scenarios/node-crash.lua --scheduler plugins/schedulers/binpack.lua --seed 7 \
    --json "$tmp/run$i.json" --events "$tmp/events$i.log" >/dev/null
done
if ! cmp -s "$tmp/events1.log" "$tmp/events2.log"; then
  echo "determinism check failed: two runs with seed 7 differ" >&2
  diff "$tmp/events1.log" "$tmp/events2.log" | head -20 >&2
  exit 1
fi
echo "determinism check: two processes, same event log ($(wc -l <"$tmp/events1.log") lines)"
