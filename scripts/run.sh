#!/usr/bin/env bash
# Command 1 of the README: set up what is missing, build, start a development chain with a
# provider worker, and settle a demo job through the requester CLI.
#
#   scripts/run.sh            # demo, then keep the chain and worker running until Ctrl-C
#   scripts/run.sh --once     # demo, then stop
#
# What happens:
#   1. `tessera-node --dev --tmp` (Alice authors, GRANDPA finalizes) with JSON-RPC on :9944.
#   2. `tessera-worker` as Bob: registers with 2,000 TSR stake, follows finalized blocks,
#      serves Prometheus metrics on :9616.
#   3. `tessera post` as Alice: uploads the Mandelbrot program, shows the quote, posts a job,
#      follows it through claim, commit, reveal and the challenge window to settlement, and
#      writes the verified image to mandelbrot.pgm.
#   4. The worker's /metrics lines about the job.
#   5. The web app (web/, docs/WEB.md) on http://127.0.0.1:8090/: the market, each job's page,
#      and a form to post jobs, live against the chain.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

once=0
[ "${1:-}" = "--once" ] && once=1

echo "[run] cargo build --workspace (first build on 2 cores: ~30 min; later: seconds)"
cargo build --locked --workspace
bin="$CARGO_TARGET_DIR/debug"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "[run] starting tessera-node --dev --tmp (log: $work/node.log); JSON-RPC at ws://127.0.0.1:9944"
"$bin/tessera-node" --dev --tmp --rpc-port 9944 --prometheus-port 9615 >"$work/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
    curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health"}' \
        http://127.0.0.1:9944 >/dev/null 2>&1 && break
    sleep 1
done

echo "[run] building the web app (web/: npm ci the first time, then vite build)"
"$here/web.sh" build
pids+=("$("$here/web.sh" serve-bg 8090 "$work/web.log")")
echo "[run] the market in a browser: http://127.0.0.1:8090/ (log: $work/web.log), talking to ws://127.0.0.1:9944"

echo "[run] starting tessera-worker as Bob (log: $work/worker.log); metrics at http://127.0.0.1:9616/metrics"
"$bin/tessera-worker" --node ws://127.0.0.1:9944 --suri //Bob --data-dir "$work/worker" \
    --register-stake 2000 --register-capacity 2 --register-price 0.000000000001 \
    --metrics 127.0.0.1:9616 >"$work/worker.log" 2>&1 &
pids+=($!)

echo "[run] waiting for Bob's registration"
for _ in $(seq 1 60); do
    "$bin/tessera" --node ws://127.0.0.1:9944 providers 2>/dev/null | grep -q '5FHneW46' && break
    sleep 2
done
"$bin/tessera" --node ws://127.0.0.1:9944 providers

echo "[run] posting the Mandelbrot job as Alice and following it to settlement"
"$bin/tessera" --node ws://127.0.0.1:9944 --suri //Alice post --program example:mandelbrot \
    --input-text "" --fuel 2000000000 --replicas 1 --max-price 0.000000000001 \
    --challenge-window 10 --follow --out mandelbrot.pgm

echo "[run] waiting for the worker to see the payment (it follows finalized blocks)"
for _ in $(seq 1 30); do
    curl -s http://127.0.0.1:9616/metrics | grep -q '^tessera_worker_jobs_total{stage="paid"} [1-9]' && break
    sleep 1
done
echo "[run] the worker's metrics about the job:"
curl -s http://127.0.0.1:9616/metrics | grep -E '^tessera_worker_(jobs|paid|executions|fuel|rpc)' || true
echo "[run] the image: $(pwd)/mandelbrot.pgm ($(head -c 20 mandelbrot.pgm | head -2 | tr '\n' ' '))"

if [ "$once" -eq 1 ]; then
    exit 0
fi
echo "[run] chain and worker keep running: JSON-RPC ws://127.0.0.1:9944, web http://127.0.0.1:8090/"
echo "[run] try: $bin/tessera jobs   (Ctrl-C stops all)"
wait
