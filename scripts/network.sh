#!/usr/bin/env bash
# A four-validator Tessera network on this machine, with provider workers spread over its nodes.
#
#   scripts/network.sh                 # build, start, print the endpoints, run until Ctrl-C
#   scripts/network.sh --workers 0     # validators only
#   scripts/network.sh --dir DIR       # keep the network's files in DIR (default: a temp dir)
#
# What happens:
#   1. The workspace is built (as scripts/run.sh does) and the zombienet CLI is installed from
#      zombienet/package-lock.json with `npm ci` (once, ~30 s).
#   2. The chain-spec file: `tessera-node build-spec --chain four` (plain JSON, Aura and GRANDPA
#      authorities Alice, Bob, Charlie and Dave; sudo Alice).
#   3. zombienet (native provider) starts the four validators from zombienet/four-validators.toml:
#      one process each, with its own base path, keystore (Aura + GRANDPA keys), node key and
#      loopback ports; it converts the spec to raw and wires the bootnodes. Each validator's
#      keystore also gets an `audt` key, so its off-chain auditor runs.
#   4. Workers (Eve, Ferdie, and their //stash accounts) register as providers, in two regions,
#      each with two node URLs so it fails over when its node goes away.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

workers=4
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --workers) workers="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "[network] unknown argument: $1" >&2; exit 2 ;;
    esac
done

echo "[network] cargo build --workspace"
cargo build --locked --workspace
bin="$CARGO_TARGET_DIR/debug"

"$here/zombienet.sh" install
[ -n "$dir" ] || dir="$(mktemp -d)"
mkdir -p "$dir"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

start=$(date +%s)
"$bin/tessera-node" build-spec --chain four --disable-default-bootnode >"$dir/tessera-four.json" 2>"$dir/build-spec.log"
echo "[network] chain spec: $dir/tessera-four.json"
echo "[network] starting four validators with zombienet (log: $dir/zombienet.log)"
TESSERA_NODE="$bin/tessera-node" TESSERA_CHAIN_SPEC="$dir/tessera-four.json" \
    "$here/zombienet.sh" spawn "$dir/zn" >"$dir/zombienet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
    [ -f "$dir/zn/zombie.json" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { tail -40 "$dir/zombienet.log"; exit 1; }
    sleep 1
done
[ -f "$dir/zn/zombie.json" ] || { echo "[network] zombienet did not start the network" >&2; tail -40 "$dir/zombienet.log"; exit 1; }
echo "[network] up in $(( $(date +%s) - start )) s"

# name ws-uri prometheus-uri, one line per validator.
mapfile -t nodes < <(node -e '
const net = require(process.argv[1]);
for (const [name, n] of Object.entries(net.nodesByName)) console.log(`${name} ${n.wsUri} ${n.prometheusUri}`);
' "$dir/zn/zombie.json")
urls=()
for line in "${nodes[@]}"; do
    read -r name ws prom <<<"$line"
    urls+=("$ws")
    printf '[network] %-8s %s  metrics %s\n' "$name" "$ws" "$prom"
done

# Workers: two regions, each worker with its own node first and the next node as fail-over.
suris=(//Eve //Ferdie //Eve//stash //Ferdie//stash)
regions=(eu-west us-east eu-west us-east)
for i in $(seq 0 $(( workers - 1 ))); do
    [ "$i" -lt "${#suris[@]}" ] || break
    primary="${urls[$(( i % ${#urls[@]} ))]}"
    backup="${urls[$(( (i + 1) % ${#urls[@]} ))]}"
    log="$dir/worker-$i.log"
    "$bin/tessera-worker" --node "$primary,$backup" --suri "${suris[$i]}" --data-dir "$dir/worker-$i" \
        --register-stake 2000 --register-capacity 2 --register-price 0.000000000001 \
        --register-region "${regions[$i]}" --metrics "127.0.0.1:$(( 9700 + i ))" >"$log" 2>&1 &
    pids+=($!)
    echo "[network] worker ${suris[$i]} (${regions[$i]}) on $primary, fail-over $backup; log $log"
done

echo "[network] running; files in $dir (Ctrl-C stops everything)"
echo "[network] try: $bin/tessera --node ${urls[0]} providers"
wait "${pids[0]}"
