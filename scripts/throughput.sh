#!/usr/bin/env bash
# Throughput the standard-TPS way: pre-funded accounts, pre-signed transfer_keep_alive, then
# pre-signed post_job, then complete job lifecycles served by workers, each submitted as fast
# as the node accepts them; prints what every block includes and the ratio to transfers. Use
# --release for the figures (the debug node's host functions are several times slower). Not
# part of CI; figures in docs/PERFORMANCE.md.
#
#   scripts/throughput.sh [--release] [--count N] [--kinds transfer,post,lifecycle]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"
profile=debug
count=3000
kinds=transfer,post,lifecycle
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release ;;
        --count) count="$2"; shift ;;
        --kinds) kinds="$2"; shift ;;
        *) echo "usage: $0 [--release] [--count N] [--kinds LIST]" >&2; exit 2 ;;
    esac
    shift
done
# Five workers at the chain's MaxCapacity (64 slots each) serve the lifecycle run.
workers=5
capacity=64
# A pool that holds the whole run (the default holds 8192 transactions / 20 MB).
node_args=(--pool-limit 50000 --pool-kbytes 200000)
# The release node can re-execute the blocks afterwards (`benchmark block`), so it keeps its
# database.
[ "$profile" = release ] && keep_db=1
# shellcheck source=bench-chain.sh
. "$here/bench-chain.sh"
start_node
# Transfers and bare posts with no worker on the chain (nothing else competes for the blocks);
# then workers, and posts they serve to settlement.
plain="$(echo "$kinds" | tr ',' '\n' | { grep -v lifecycle || true; } | paste -sd, -)"
if [ -n "$plain" ]; then
    "$bin/tessera-bench" --node "$node_url" throughput --kinds "$plain" --count "$count" --accounts 300 \
        | tee "$work/plain.txt"
fi
if echo "$kinds" | grep -q lifecycle; then
    start_workers
    "$bin/tessera-bench" --node "$node_url" throughput --kinds lifecycle --count "$((count / 3))" --accounts 300
fi

# Does a block filled with post_job import within the block time? The release node re-executes
# the blocks that included post_job (as block import does) and compares each one's time with its
# weight; import must stay well inside the 6 s slot (block production has 2/3 of it).
if [ "$profile" = release ] && [ -f "$work/plain.txt" ]; then
    blocks="$(sed -n 's/^\[throughput\] post_job: block \([0-9]*\): \([0-9]*\) included.*/\1 \2/p' "$work/plain.txt" \
        | awk '$2 > 0 { print $1 }')"
    if [ -n "$blocks" ]; then
        first="$(echo "$blocks" | head -1)" last="$(echo "$blocks" | tail -1)"
        stop_all
        pids=()
        echo "[throughput] re-executing blocks $first..$last (post_job) with benchmark block"
        "$node_bin" benchmark block --chain dev --base-path "$work/chain" --from "$first" --to "$last" \
            --repeat 5 >"$work/import.txt" 2>&1 || { tail -20 "$work/import.txt"; exit 1; }
        grep -E "Block [0-9]+ with" "$work/import.txt" | sed 's/^.*Block /[throughput] import: block /'
    fi
fi
