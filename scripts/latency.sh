#!/usr/bin/env bash
# Job latency in blocks per phase on a dev chain with honest workers: posts jobs one after
# another (one replica, then two) and prints the block of each phase and the blocks from post
# to the last reveal. Not part of CI; figures in docs/PERFORMANCE.md.
#
#   scripts/latency.sh [--release] [--jobs N]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"
profile=debug
jobs=10
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release ;;
        --jobs) jobs="$2"; shift ;;
        *) echo "usage: $0 [--release] [--jobs N]" >&2; exit 2 ;;
    esac
    shift
done
workers=2
capacity=4
node_args=()
# shellcheck source=bench-chain.sh
. "$here/bench-chain.sh"
start_chain
for replicas in 1 2; do
    echo "[latency] $jobs jobs, $replicas replica(s) each"
    "$bin/tessera-bench" --node "$node_url" latency --jobs "$jobs" --replicas "$replicas"
done
