#!/usr/bin/env bash
# Runs the runtime benchmarks of Tessera's pallets and regenerates their weights.rs, then prints
# each call's weight next to pallet_balances::transfer_keep_alive from the same run.
#
#   scripts/benchmark.sh --release            # all of providers, programs, market: the weights
#   scripts/benchmark.sh --release market     # one pallet
#   scripts/benchmark.sh                      # a debug benchmark node (quicker to build, slower
#                                             # host functions: inflated weights)
#
# Needs a node built with `--features runtime-benchmarks` (built here: the release one in
# $CARGO_TARGET_DIR/release, ~40 min the first time on 2 cores; the debug one is kept in
# $TESSERA_BENCH_DIR so the everyday debug node is not rebuilt). Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
root="$(cd "$here/.." && pwd)"
bench_dir="${TESSERA_BENCH_DIR:-$HOME/.cache/tessera-bench}"
steps="${STEPS:-20}"
repeat="${REPEAT:-10}"
mkdir -p "$bench_dir"

profile=debug
if [ "${1:-}" = --release ]; then profile=release; shift; fi
if [ "$profile" = release ]; then
    # shellcheck source=bench-chain.sh
    . "$here/bench-chain.sh"
    release_node
    node="$CARGO_TARGET_DIR/release/tessera-node"
else
    # frame-benchmarking-cli builds a test runtime of its own; the wasm builder finds that crate
    # only without our workspace hint (our runtime builds either way).
    (
        unset WASM_BUILD_WORKSPACE_HINT
        cd "$root"
        cargo build --locked -p tessera-node --features runtime-benchmarks
    )
    cp "$CARGO_TARGET_DIR/debug/tessera-node" "$bench_dir/tessera-node"
    node="$bench_dir/tessera-node"
fi

pallets=("${@:-providers programs market}")
read -r -a pallets <<< "${pallets[*]}"

run() {
    local pallet="$1" output="$2"
    "$node" benchmark pallet --chain dev --pallet "$pallet" --extrinsic '*' \
        --steps "$steps" --repeat "$repeat" --wasm-execution compiled \
        --template "$root/scripts/weight-template.hbs" --output "$output" \
        --json-file "$bench_dir/$pallet.json" > "$bench_dir/$pallet.log" 2>&1 \
        || { tail -40 "$bench_dir/$pallet.log"; exit 1; }
}

for p in "${pallets[@]}"; do
    echo "[bench] pallet_$p (steps $steps, repeat $repeat)"
    run "pallet_$p" "$root/pallets/$p/src/weights.rs"
done
echo "[bench] pallet_balances (reference)"
"$node" benchmark pallet --chain dev --pallet pallet_balances --extrinsic transfer_keep_alive \
    --steps "$steps" --repeat "$repeat" --wasm-execution compiled \
    --json-file "$bench_dir/pallet_balances.json" > "$bench_dir/pallet_balances.log" 2>&1

python3 "$here/weights_table.py" "$bench_dir" "${pallets[@]}"
