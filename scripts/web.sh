#!/usr/bin/env bash
# The web app (web/, docs/WEB.md): install, build, serve and test it.
#
#   scripts/web.sh build                 npm ci (when web/node_modules is missing or stale), vite build
#   scripts/web.sh serve [PORT]          build, then serve web/dist on http://127.0.0.1:PORT (8090)
#   scripts/web.sh test [--screenshots]  build, start a dev node and a worker (Bob) on their own
#                                        ports, serve the app, run the Playwright tests in
#                                        headless Debian chromium; --screenshots writes
#                                        docs/screenshots/{market,job,post}.png
#
# The tests need the debug binaries (tessera-node, tessera-worker, tessera) in
# $CARGO_TARGET_DIR/debug and the Mandelbrot program the examples crate's build script wrote;
# scripts/test.sh builds both before it runs this. Ports (apart from the Rust tests' and the
# demo's): node RPC 9970, p2p 30370, Prometheus 9671, worker metrics 9672, web 8090.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
web="$TESSERA_ROOT/web"
cmd="${1:-build}"
shift || true

log() { printf '[web] %s\n' "$*"; }
die() { printf '[web] error: %s\n' "$*" >&2; exit 1; }

install() {
    command -v npm >/dev/null 2>&1 || die "npm not found (Node.js 20 and npm come with the machine; see docs/WEB.md)"
    # npm ci when node_modules is missing or older than the lock file; its postinstall (papi)
    # generates the descriptors from client/metadata/tessera.scale, offline.
    if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ] \
        || [ ! -f "$web/.papi/descriptors/dist/index.js" ]; then
        local t0=$SECONDS
        log "npm ci (web/)"
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
        log "npm ci took $((SECONDS - t0)) s"
    fi
    # The metadata changed since the descriptors were generated: generate them again.
    if [ "$TESSERA_ROOT/client/metadata/tessera.scale" -nt "$web/.papi/descriptors/dist/index.js" ]; then
        log "metadata changed: papi generate"
        (cd "$web" && npx papi generate >/dev/null)
    fi
}

build() {
    install
    local t0=$SECONDS
    (cd "$web" && npx tsc --noEmit && npx vite build --logLevel warn)
    log "built web/dist in $((SECONDS - t0)) s"
}

preview_bg() { # port logfile: starts the server in the background; $! is its pid
    # exec of vite's own bin, so the pid is the server's (npx would leave it behind on kill).
    (cd "$web" && exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port "$1" --strictPort) >"$2" 2>&1 &
}

serve_bg() { # port logfile
    preview_bg "$1" "$2"
    pids+=($!)
    for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$1/" >/dev/null && return 0; sleep 0.5; done
    die "the web server did not start on :$1 (log: $2)"
}

rpc_up() {
    curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health"}' "$1" >/dev/null 2>&1
}

case "$cmd" in
build)
    build
    ;;
serve-bg) # PORT LOGFILE: for scripts/run.sh; prints the server's pid
    port="${1:-8090}"
    preview_bg "$port" "${2:-/dev/null}"
    echo $!
    ;;
serve)
    port="${1:-8090}"
    build
    log "serving web/dist at http://127.0.0.1:$port/ (node: ?rpc=ws://… in the address, default ws://127.0.0.1:9944)"
    cd "$web" && exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port "$port" --strictPort
    ;;
test)
    shots=""
    [ "${1:-}" = "--screenshots" ] && shots="$TESSERA_ROOT/docs/screenshots"
    bin="$CARGO_TARGET_DIR/debug"
    for b in tessera-node tessera-worker tessera; do
        [ -x "$bin/$b" ] || die "$bin/$b is missing: build the workspace first (scripts/test.sh does)"
    done
    [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing: scripts/setup.sh installs it"
    # The Mandelbrot program file the page uploads: what the examples crate's build script
    # compiled (the CLI embeds the same bytes as example:mandelbrot).
    wasm="$(ls -t "$bin"/build/tessera-examples-*/out/mandelbrot.wasm 2>/dev/null | head -1 || true)"
    [ -n "$wasm" ] || die "no mandelbrot.wasm under $bin/build/tessera-examples-*/out: build the workspace first"
    build
    t0=$SECONDS
    work="$(mktemp -d)"
    pids=()
    cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$work"
    }
    trap cleanup EXIT INT TERM
    node_rpc=http://127.0.0.1:9970
    rpc_up "$node_rpc" && die "something already listens on :9970"
    log "starting tessera-node --dev --tmp on :9970 (log: $work/node.log)"
    "$bin/tessera-node" --dev --tmp --rpc-port 9970 --port 30370 --prometheus-port 9671 >"$work/node.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do rpc_up "$node_rpc" && break; sleep 1; done
    rpc_up "$node_rpc" || { tail -20 "$work/node.log"; die "the node did not start"; }
    log "starting tessera-worker as Bob (log: $work/worker.log)"
    "$bin/tessera-worker" --node ws://127.0.0.1:9970 --suri //Bob --data-dir "$work/worker" \
        --register-stake 2000 --register-capacity 2 --register-price 0.000000000001 \
        --metrics 127.0.0.1:9672 >"$work/worker.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 60); do
        "$bin/tessera" --node ws://127.0.0.1:9970 providers 2>/dev/null | grep -q '5FHneW46' && break
        sleep 2
    done
    "$bin/tessera" --node ws://127.0.0.1:9970 providers 2>/dev/null | grep -q '5FHneW46' \
        || { tail -20 "$work/worker.log"; die "Bob did not register"; }
    serve_bg 8090 "$work/web.log"
    log "running the browser tests (chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'))"
    status=0
    (cd "$web" && WEB_URL=http://127.0.0.1:8090/ NODE_WS=ws://127.0.0.1:9970 TESSERA_CLI="$bin/tessera" \
        MANDELBROT_WASM="$wasm" SCREENSHOTS="$shots" node tests/run.mjs) || status=$?
    if [ "$status" -ne 0 ]; then
        log "the node's and worker's last lines:"
        tail -5 "$work/node.log" "$work/worker.log" || true
    fi
    log "web test run took $((SECONDS - t0)) s"
    exit "$status"
    ;;
*)
    die "unknown command $cmd (build, serve, test)"
    ;;
esac
