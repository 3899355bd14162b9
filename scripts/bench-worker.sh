#!/usr/bin/env bash
# Worker cost at 10,000 live jobs (issue #10): what one tessera-worker spends per finalized block
# on a dev chain that holds MaxLiveJobs open jobs and hundreds of providers. Prints figures; it
# asserts nothing about them and is not part of CI (it needs several minutes of CPU).
#
#   flock /tmp/tessera-cargo.lock scripts/bench-worker.sh     # on a machine shared with builds
#   OLD_WORKER=/path/to/old/tessera-worker scripts/bench-worker.sh   # also measure another binary
#
# Environment: JOBS (10000), PROVIDERS (200), BLOCKS (20 per run), POST_PER_BLOCK (10),
# SKIP_BUILD=1 (use the binaries already built), KEEP=1 (keep the logs in the temp dir).
#
# What happens:
#   1. cargo build --locked --workspace --tests --examples --features tessera-worker/test-hooks
#      (the selection every test command uses, so nothing is rebuilt for feature differences).
#   2. tessera-node --dev --tmp on free loopback ports, with Prometheus (the node's count of RPC
#      calls by method is a second view of the worker's requests).
#   3. `live_jobs populate`: HASH_CHAIN uploaded, PROVIDERS accounts //Alice//provider/<i> funded
#      and registered (2 plancks per fuel), JOBS jobs posted offering 1 planck per fuel with a
#      claim timeout of 14,000 blocks: they all stay open and none can be claimed.
#   4. tessera-worker as //Bob (2 plancks per fuel too), and `live_jobs measure` three times:
#      its start (resync: every live job read once, then each fresh open job checked with
#      tessera_canClaim, in the block it is registered), BLOCKS blocks with no new jobs, and
#      BLOCKS blocks with POST_PER_BLOCK new jobs per block (as many old ones cancelled first,
#      so the chain keeps holding JOBS live jobs).
#   5. The same for OLD_WORKER if given (same chain, same account, its own data dir).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

JOBS="${JOBS:-10000}"
PROVIDERS="${PROVIDERS:-200}"
BLOCKS="${BLOCKS:-20}"
POST_PER_BLOCK="${POST_PER_BLOCK:-10}"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "[bench] cargo build --locked --workspace --tests --examples --features tessera-worker/test-hooks"
    cargo build --locked --workspace --tests --examples --features tessera-worker/test-hooks
fi
bin="$CARGO_TARGET_DIR/debug"
probe="$bin/examples/live_jobs"
for b in "$bin/tessera-node" "$bin/tessera-worker" "$probe"; do
    [ -x "$b" ] || { echo "[bench] $b is missing: build first" >&2; exit 1; }
done
if [ -n "${OLD_WORKER:-}" ] && [ ! -x "$OLD_WORKER" ]; then
    echo "[bench] OLD_WORKER=$OLD_WORKER is not an executable" >&2
    exit 1
fi

work="$(mktemp -d -t tessera-bench-XXXXXX)"
results="$work/results"
: >"$results"
pids=()
ok=0
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ] || [ "$ok" != 1 ]; then
        echo "[bench] logs kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used_ports=" "
free_port() {
    local p
    while :; do
        p=$((30000 + RANDOM % 30000))
        case "$used_ports" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            used_ports="$used_ports$p "
            echo "$p"
            return
        fi
    done
}

rpc_port="$(free_port)"
prom_port="$(free_port)"
p2p_port="$(free_port)"
url="ws://127.0.0.1:$rpc_port"
echo "[bench] tessera-node --dev --tmp on $url (log: $work/node.log)"
"$bin/tessera-node" --dev --tmp --no-telemetry --no-mdns --rpc-port "$rpc_port" \
    --prometheus-port "$prom_port" --port "$p2p_port" >"$work/node.log" 2>&1 &
pids+=($!)

echo "[bench] populating: $JOBS jobs, $PROVIDERS providers"
started=$SECONDS
"$probe" populate --node "$url" --jobs "$JOBS" --providers "$PROVIDERS" | tee "$work/populate.log"
populate_secs=$((SECONDS - started))

# Runs one worker binary through the three measurements.
measure_worker() {
    local name="$1" binary="$2" metrics_port wpid
    metrics_port="$(free_port)"
    echo "[bench] $name: $binary as //Bob, metrics on 127.0.0.1:$metrics_port (log: $work/worker-$name.log)"
    RUST_LOG="${RUST_LOG:-info}" "$binary" --node "$url" --suri //Bob \
        --register-stake 2000 --register-capacity 4 --register-price 0.000000000002 \
        --metrics "127.0.0.1:$metrics_port" --data-dir "$work/data-$name" >"$work/worker-$name.log" 2>&1 &
    wpid=$!
    pids+=("$wpid")
    local common=(--node "$url" --worker-metrics "127.0.0.1:$metrics_port" --pid "$wpid" --node-metrics "$prom_port")
    "$probe" measure "${common[@]}" --from-start --label "$name: start (resync)" | tee -a "$results" &&
        "$probe" measure "${common[@]}" --blocks "$BLOCKS" --per-block --label "$name: steady, no new jobs" | tee -a "$results" &&
        "$probe" measure "${common[@]}" --blocks "$BLOCKS" --per-block --post-per-block "$POST_PER_BLOCK" \
            --label "$name: +$POST_PER_BLOCK jobs/block" | tee -a "$results"
    local rc=$?
    kill -TERM "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
    if [ "$rc" != 0 ]; then
        echo "[bench] $name: a measurement failed; the worker's last lines:" >&2
        tail -20 "$work/worker-$name.log" >&2
    fi
    return "$rc"
}

status=0
measure_worker new "$bin/tessera-worker" || status=1
if [ -n "${OLD_WORKER:-}" ]; then
    measure_worker old "$OLD_WORKER" || status=1
fi

echo
echo "[bench] $(grep -m1 '^LIVE_JOBS=' "$work/populate.log" | cut -d= -f2) live jobs, $PROVIDERS providers; populated in ${populate_secs}s"
echo "[bench] debug build (the selection above); CPU in clock ticks of $((1000 / $(getconf CLK_TCK))) ms"
{
    printf '| run | blocks | CPU ms | CPU ms/block | RPC | RPC/block | node RPC/block | market events/block | wall s |\n'
    printf '|---|---|---|---|---|---|---|---|---|\n'
    grep '^RESULT|' "$results" | awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
} | tee "$work/table.md"
echo "(RPC: the worker's tessera_worker_rpc_requests_total; node RPC: calls the node served to anyone but the probe)"
[ "$status" = 0 ] && ok=1
exit "$status"
