#!/usr/bin/env python3
"""Prints each benchmarked call's worst-case weight next to pallet_balances::transfer_keep_alive
from the same benchmark run (scripts/benchmark.sh writes the JSON files this reads).

Weight = median execution time at the highest component values + the runtime's database
weights (RocksDbWeight: 25 µs per read, 100 µs per write), as the generated weights.rs compute it.
"""
import json
import statistics
import sys
from pathlib import Path

READ_US, WRITE_US = 25.0, 100.0


def worst(results):
    """Median time (µs) and the db reads/writes at the highest component values."""
    def key(r):
        return tuple(v for _, v in r["components"])
    top = max(key(r) for r in results)
    at_top = [r for r in results if key(r) == top]
    time = statistics.median(r["extrinsic_time"] for r in at_top) / 1000.0
    return time, at_top, dict(zip([c for c, _ in at_top[0]["components"]], top))


def rows(path):
    for b in json.loads(Path(path).read_text()):
        time, _, comps = worst(b["time_results"])
        _, db, _ = worst(b["db_results"])
        reads = max(r["reads"] for r in db)
        writes = max(r["writes"] for r in db)
        yield b["pallet"], b["benchmark"], comps, time, reads, writes, time + reads * READ_US + writes * WRITE_US


def main():
    bench_dir = Path(sys.argv[1])
    pallets = sys.argv[2:] or ["providers", "programs", "market"]
    ref = [r for r in rows(bench_dir / "pallet_balances.json") if r[1] == "transfer_keep_alive"][0]
    print(f"reference: transfer_keep_alive {ref[3]:.1f} µs + {ref[4]} reads + {ref[5]} writes = {ref[6]:.1f} µs")
    print(f"{'call or hook':44} {'worst case':18} {'time µs':>9} {'r':>3} {'w':>3} {'weight µs':>10} {'× transfer':>10}")
    for p in pallets:
        f = bench_dir / f"pallet_{p}.json"
        if not f.exists():
            continue
        for pallet, name, comps, time, reads, writes, total in rows(f):
            c = ", ".join(f"{k}={v}" for k, v in comps.items())
            print(f"{pallet + '::' + name:44} {c:18} {time:9.1f} {reads:3} {writes:3} {total:10.1f} {total / ref[6]:10.2f}")


if __name__ == "__main__":
    main()
