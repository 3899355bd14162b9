//! The pallets the benchmark CLI measures (only with `--features runtime-benchmarks`).
//! `scripts/benchmark.sh` runs them and regenerates each pallet's `weights.rs`.

frame_benchmarking::define_benchmarks!(
    [frame_benchmarking, BaselineBench::<Runtime>]
    [frame_system, SystemBench::<Runtime>]
    [pallet_balances, Balances]
    [pallet_timestamp, Timestamp]
    [pallet_providers, Providers]
    [pallet_programs, Programs]
    [pallet_market, Market]
);
