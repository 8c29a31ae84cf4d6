#!/usr/bin/env bash
# The Lua C API stays inside LuaHost (and the C shims), and the simulation never reads the
# wall clock (the one monotonic clock is the Lua budget's, in budget.c, which also times
# whole commands for their statistics): both are checked on every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -rlE '^\s*(@_implementationOnly |internal |public |private )?import CLua' Sources --include='*.swift' \
    | grep -v '^Sources/LuaHost/' || true)
if [ -n "$bad" ]; then echo "CLua imported outside LuaHost: $bad" >&2; exit 1; fi
clock=$(grep -rnE '\bDate\(\)|ContinuousClock|DispatchTime\.now|Task\.sleep|DispatchQueue' Sources --include='*.swift' \
    | grep -v '^Sources/LuaHost/LuaBudget' || true)
if [ -n "$clock" ]; then echo "wall clock used in the simulation:" >&2; echo "$clock" >&2; exit 1; fi
echo "boundary checks: ok"
