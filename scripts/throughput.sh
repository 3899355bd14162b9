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

# Does a block filled with post_job import within the block time, and what does a post cost
# next to a transfer when executed? The release node re-executes the blocks of both runs (as
# block import does; 20 times each, the mean) and compares each one's time with its weight;
# import must stay well inside the 6 s slot (block production has 2/3 of it). The block before
# the first is executed too but not counted: the first block of a `benchmark block` run carries
# a one-off start cost whatever it holds.
if [ "$profile" = release ] && [ -f "$work/plain.txt" ]; then
    blocks_of() {
        sed -n "s/^\[throughput\] $1: block \([0-9]*\): \([0-9]*\) included.*/\1 \2/p" "$work/plain.txt" | awk '$2 > 0 { print $1 }'
    }
    all="$( (blocks_of transfer_keep_alive; blocks_of post_job) | sort -n)"
    if [ -n "$all" ]; then
        first="$(echo "$all" | head -1)" last="$(echo "$all" | tail -1)"
        stop_all
        pids=()
        echo "[throughput] re-executing blocks $first..$last with benchmark block"
        "$node_bin" benchmark block --chain dev --base-path "$work/chain" --from "$((first > 1 ? first - 1 : first))" --to "$last" \
            --repeat 20 >"$work/import.txt" 2>&1 || { tail -20 "$work/import.txt"; exit 1; }
        # "Block N with T tx used P% of its weight ( X of Y ns)": T counts the timestamp inherent.
        grep -E "Block [0-9]+ with" "$work/import.txt" | tr -d ',' | awk \
            -v transfers="$(blocks_of transfer_keep_alive | paste -sd,)" -v posts="$(blocks_of post_job | paste -sd,)" '
            BEGIN { split(transfers, t, ","); for (i in t) kind[t[i]] = "transfer_keep_alive"; split(posts, p, ","); for (i in p) kind[p[i]] = "post_job" }
            {
                for (i = 1; i <= NF; i++) { if ($i == "Block") n = $(i + 1); if ($i == "with") tx = $(i + 1) - 1; if ($i == "(") ns = $(i + 1) }
                if (!(n in kind)) next
                printf "[throughput] import: block %d (%s): %d in %.0f ms = %.1f us each\n", n, kind[n], tx, ns / 1e6, ns / 1000 / tx
                k = kind[n]; count[n] = tx; time[n] = ns
                if (tx > most[k]) most[k] = tx
            }
            END {
                # Per transaction over the fullest blocks of each kind (a part-filled block carries
                # the fixed cost of a block over fewer transactions).
                for (n in count) if (count[n] == most[kind[n]]) { sum[kind[n]] += time[n]; txs[kind[n]] += count[n] }
                a = "post_job"; b = "transfer_keep_alive"
                if (txs[a] > 0 && txs[b] > 0)
                    printf "[throughput] import cost per transaction, fullest blocks: post_job %.1f us vs transfer_keep_alive %.1f us = %.2f x\n", sum[a] / txs[a] / 1000, sum[b] / txs[b] / 1000, (sum[a] / txs[a]) / (sum[b] / txs[b])
            }'
    fi
fi
