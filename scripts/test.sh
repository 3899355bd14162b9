#!/usr/bin/env bash
# Command 2 of the README: set up what is missing, build, and run every test.
#
#   scripts/test.sh
#
# Builds the whole workspace in the dev profile (the runtime's wasm is built by its build
# script, in release) and runs `cargo test --workspace`: pallet unit and property tests, the
# runtime's tests, and the node's integration tests, which start a real `tessera-node`; then
# the pallets' benchmark test suites. The network test (worker/tests/network.rs) starts four
# validators with zombienet (installed here from zombienet/package-lock.json) and enacts the next
# runtime after checking it with try-runtime, whose blob is built here too (its own profile).
# The cargo target dir is persistent and outside the clone ($CARGO_TARGET_DIR, default
# ~/.cache/tessera-target) so later runs are incremental.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

# The worker's `test-hooks` feature adds what only tests may use: the liar switch
# (`--dishonest-for-tests`) and `file://` inputs. Release and demo builds leave it off.
features=(--features tessera-worker/test-hooks)

start=$(date +%s)
echo "[test] cargo build --workspace --bins --tests (target dir: $CARGO_TARGET_DIR)"
cargo build --locked --workspace --bins --tests "${features[@]}"
"$here/zombienet.sh" install
"$here/try-runtime.sh" build
echo "[test] built in $(( $(date +%s) - start )) s"

echo "[test] cargo test --workspace"
cargo test --locked --workspace --no-fail-fast "${features[@]}" -- --test-threads 2
if [ -f "$CARGO_TARGET_DIR/network-figures.txt" ]; then
    echo "[test] the network test's figures:"
    cat "$CARGO_TARGET_DIR/network-figures.txt"
fi

# The pallets' benchmark test suites (impl_benchmark_test_suite!) run each benchmark once
# against the pallet's mock runtime. They need the runtime-benchmarks feature, which the
# everyday build leaves off, so they are a second, pallet-only step (only the benchmark
# tests: everything else already ran above).
bench_pallets=(pallet-providers pallet-programs pallet-market)
echo "[test] benchmark test suites: ${bench_pallets[*]}"
cargo test --locked --features runtime-benchmarks $(printf -- '-p %s ' "${bench_pallets[@]}") -- --test-threads 2 benchmarking::

# The web app's browser tests (docs/WEB.md): its own dev node and worker on ports apart from the
# Rust tests', Playwright driving Debian's chromium; prints "web tests: N passed, M failed".
echo "[test] web app: scripts/web.sh test"
"$here/web.sh" test
echo "[test] all tests passed in $(( $(date +%s) - start )) s"
