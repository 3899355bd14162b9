# shellcheck shell=bash
# Sourced by scripts/latency.sh and scripts/throughput.sh: builds the binaries of the chosen
# profile and starts a dev chain (Alice authors, GRANDPA finalizes) with provider workers.
#
#   profile=debug|release  workers=N  capacity=N  node_args=(...)
#   keep_db=1: the node keeps its database in $work/chain (for `benchmark block` afterwards)
#   then: start_chain (node and workers), or start_node and later start_workers
#
# Sets $node_url, $bin and $work; everything started is stopped on exit.

profile="${profile:-debug}"
workers="${workers:-2}"
capacity="${capacity:-4}"
node_args=("${node_args[@]}")

# The clients (worker, bench) are the debug builds the tests use: what they measure is the
# chain. --release swaps in the release node that scripts/benchmark.sh --release builds (with
# the runtime-benchmarks feature, which adds the benchmark runtime API and changes nothing a
# block executes), so one release build serves both scripts.
build_binaries() {
    echo "[bench] cargo build --locked --workspace --bins"
    cargo build --locked --workspace --bins
    bin="$CARGO_TARGET_DIR/debug"
    node_bin="$bin/tessera-node"
    if [ "$profile" = release ]; then
        release_node
        node_bin="$CARGO_TARGET_DIR/release/tessera-node"
    fi
}

# The release node with the runtime-benchmarks feature (~40 min the first time on 2 cores).
# frame-benchmarking-cli builds a test runtime of its own, which the wasm builder finds only
# without our workspace hint (our runtime builds either way).
release_node() {
    echo "[bench] cargo build --locked --release -p tessera-node --features runtime-benchmarks"
    (unset WASM_BUILD_WORKSPACE_HINT; cargo build --locked --release -p tessera-node --features runtime-benchmarks)
}

pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT INT TERM

start_chain() {
    start_node
    start_workers
}

start_node() {
    build_binaries
    work="$(mktemp -d)"
    local port=${BENCH_RPC_PORT:-9955}
    node_url="ws://127.0.0.1:$port"
    echo "[bench] tessera-node --dev ($profile) on $node_url (log: $work/node.log)"
    local started=$(date +%s%N)
    local db=(--tmp)
    [ "${keep_db:-0}" = 1 ] && db=(--base-path "$work/chain")
    "$node_bin" --dev "${db[@]}" --rpc-port "$port" --no-prometheus "${node_args[@]}" >"$work/node.log" 2>&1 &
    pids+=($!)
    local up=0
    for _ in $(seq 1 240); do
        if curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health"}' \
            "http://127.0.0.1:$port" >/dev/null 2>&1; then
            up=1
            break
        fi
        sleep 0.25
    done
    if [ "$up" != 1 ]; then
        echo "[bench] the node did not answer JSON-RPC within 60 s; its log:" >&2
        tail -20 "$work/node.log" >&2
        exit 1
    fi
    echo "[bench] node start to JSON-RPC: $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

start_workers() {
    local names=(Bob Charlie Dave Eve Ferdie)
    for i in $(seq 0 $((workers - 1))); do
        local who="${names[$i]}"
        "$bin/tessera-worker" --node "$node_url" --suri "//$who" --data-dir "$work/worker-$who" \
            --register-stake 2000 --register-capacity "$capacity" --register-price 0.000000000001 \
            --audit false >"$work/worker-$who.log" 2>&1 &
        pids+=($!)
    done
    if [ "$workers" -gt 0 ]; then
        echo "[bench] $workers workers (capacity $capacity each); waiting for their registration"
        for _ in $(seq 1 60); do
            [ "$(grep -l 'included' "$work"/worker-*.log 2>/dev/null | wc -l)" -ge "$workers" ] && break
            sleep 1
        done
    fi
}
