#!/usr/bin/env bash
# Builds the libFuzzer targets of the Fuzz/ package (with the fuzzer and address sanitizers
# on every module, so the kubelab code under test is instrumented too) and runs each one for a
# bounded time.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   targets to run (default: FuzzManifest FuzzQuantity FuzzLuaCheck)
#   FUZZ_CONFIG    release (default: faster) or debug (better stack traces)
#   FUZZ_SCRATCH   scratch path (default .build-fuzz in the repository root)
#   FUZZ_JOBS      swift build -j (default: all cores)
#
# The seeds (the repository's manifests and Lua files, and Fuzz/corpus/<name>) are copied
# into a work corpus under the scratch path, which keeps what the fuzzer learns between
# runs; the committed files are never modified. Inputs saved in Fuzz/regressions/<name>/ are replayed first. Crash, timeout and
# OOM inputs go to <scratch>/artifacts/. Exits 1 when any target crashes (or a regression
# input still does), printing the artifact paths; exits 2 when the build fails.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFT=${SWIFT:-swift}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-FuzzManifest FuzzQuantity FuzzLuaCheck}
CONFIG=${FUZZ_CONFIG:-release}
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
case $SCRATCH in /*) ;; *) SCRATCH=$ROOT/$SCRATCH ;; esac
ARTIFACTS=$SCRATCH/artifacts
LOGS=$SCRATCH/logs
WORK=$SCRATCH/corpus-work
mkdir -p "$ARTIFACTS" "$LOGS" "$WORK"
# Swift's own crash backtracer would run before libFuzzer's handler: it slows every crash
# down and its stack reads trip ASan (a false "stack-buffer-underflow" in memserver_read).
export SWIFT_BACKTRACE=enable=no
# A smaller quarantine than ASan's 256 MiB: plugins that build big strings otherwise push the
# RSS of FuzzLuaCheck past 2 GiB. Set ASAN_OPTIONS to override.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}

corpus_name() {
    case $1 in
        FuzzManifest) echo manifest ;;
        FuzzQuantity) echo quantity ;;
        FuzzLuaCheck) echo lua ;;
        *) echo "unknown fuzz target '$1'" >&2; return 1 ;;
    esac
}

# Seeds: the repository's own inputs (real manifests, shipped plugins, the adversarial
# fixtures), so the seeds never drift from them, plus Fuzz/corpus/<name>/ for inputs that
# exist nowhere else.
seed_corpus() {
    local name=$1 work=$2 f
    case $name in
        manifest) for f in "$ROOT"/Tests/Corpus/k8s-website-examples/*.yaml "$ROOT"/plugins/scenarios/*.yaml; do
                      cp -f "$f" "$work/repo-$(basename "$f")"; done ;;
        lua) for f in "$ROOT"/plugins/*/*.lua "$ROOT"/Tests/KubeSchedulerTests/Adversarial/*.lua; do
                 cp -f "$f" "$work/repo-$(basename "$(dirname "$f")")-$(basename "$f")"; done ;;
    esac
    if [ -d "$ROOT/Fuzz/corpus/$name" ]; then cp -f "$ROOT/Fuzz/corpus/$name"/* "$work"/; fi
}

# Every module, not only the harnesses, gets libFuzzer's coverage and ASan. Not
# `--sanitize=fuzzer --sanitize=address`: SwiftPM hands swiftc one -sanitize= flag per
# sanitizer, in no fixed order, and swiftc keeps only the last one, so each build silently
# loses either the coverage or ASan in the library modules. One combined swiftc flag keeps
# both; --sanitize=address also covers the C targets, and -fsanitize=fuzzer-no-link gives
# them coverage (the harnesses link the libFuzzer runtime through their linker settings).
BUILD_ARGS=(--package-path "$ROOT/Fuzz" --scratch-path "$SCRATCH" -c "$CONFIG"
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link)
jobs=()
[ -n "${FUZZ_JOBS:-}" ] && jobs=(-j "$FUZZ_JOBS")
echo "== building the fuzz targets ($CONFIG, scratch $SCRATCH)"
build_start=$(date +%s)
if ! "$SWIFT" build "${BUILD_ARGS[@]}" "${jobs[@]}"; then
    echo "fuzz: the build failed" >&2
    exit 2
fi
echo "== built in $(( $(date +%s) - build_start )) s"
BIN=$("$SWIFT" build "${BUILD_ARGS[@]}" --show-bin-path)

failed=()
summary=()
for t in $TARGETS; do
    name=$(corpus_name "$t") || exit 2
    exe=$BIN/$t
    [ -x "$exe" ] || { echo "fuzz: $exe is missing" >&2; exit 2; }

    # Replay the saved regression inputs, one process each so that one crash does not hide
    # the others.
    if [ -d "$ROOT/Fuzz/regressions/$name" ]; then
        for r in "$ROOT/Fuzz/regressions/$name"/*; do
            [ -f "$r" ] || continue
            if "$exe" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$ARTIFACTS/$t-regression-" "$r" \
                    >"$LOGS/$t-regression-$(basename "$r").log" 2>&1; then
                echo "== $t: regression $(basename "$r"): ok"
            else
                echo "== $t: regression $(basename "$r") still FAILS (log: $LOGS/$t-regression-$(basename "$r").log)"
                failed+=("$t: regression input $r")
            fi
        done
    fi

    work=$WORK/$name
    mkdir -p "$work"
    seed_corpus "$name" "$work"
    log=$LOGS/$t.log
    echo "== $t: fuzzing for ${SECONDS_EACH}s (corpus $work, log $log)"
    "$exe" "$work" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$ARTIFACTS/$t-" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    units=$(find "$work" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        summary+=("$t: ok, ${execs:-?} executions, $cov, corpus $units files")
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|Fatal error|FuzzQuantity:' "$log" || true
        summary+=("$t: FAILED (exit $rc) after ${execs:-?} executions; artifact: ${artifact:-none}; log: $log")
        failed+=("$t: ${artifact:-see $log}")
    fi
done

echo
echo "== fuzz summary"
for s in "${summary[@]}"; do echo "  $s"; done
if [ ${#failed[@]} -gt 0 ]; then
    echo "== failures:"
    for f in "${failed[@]}"; do echo "  $f"; done
    exit 1
fi
