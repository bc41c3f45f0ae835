#!/usr/bin/env bash
# Runs every fuzz target for a bounded time; fails on the first crash (or build failure).
#
#   fuzz/run.sh                 # each target FUZZ_SECS (default 20) seconds
#   FUZZ_SECS=60 fuzz/run.sh head chunked
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and runs on the stable toolchain through
# RUSTC_BOOTSTRAP=1. All targets are built once, then each binary runs directly (no rebuild
# between targets). The checked-in seed corpora are in fuzz/seeds/<target>/ (read-only here);
# what libFuzzer finds goes to fuzz/corpus/<target>/, crashes to fuzz/artifacts/<target>/,
# logs to fuzz/logs/ (all git-ignored). Each target's executions are printed at the end.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SECS:-20}"
sanitizer="${FUZZ_SANITIZER:-address}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
all=(head head_vs_httparse chunked read_until urlencoded multipart cookie response_head websocket_frame rules tls_records)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

echo "== building fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build --sanitizer "$sanitizer"
bindir="${CARGO_TARGET_DIR:-target}/$triple/release"
mkdir -p logs
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    echo "== fuzz $t for ${secs}s"
    if ! ASAN_OPTIONS="detect_odr_violation=0" "$bindir/$t" "corpus/$t" "seeds/$t" \
        -artifact_prefix="artifacts/$t/" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "FUZZ FAILURE in $t (log: fuzz/$log, input: fuzz/artifacts/$t/;" \
            "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run $t fuzz/artifacts/$t/<file>)" >&2
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    summary+=("$t: $runs executions in ${secs}s")
done
echo "== all fuzz targets passed"
printf '   %s\n' "${summary[@]}"
