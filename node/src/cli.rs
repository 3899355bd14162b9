//! Command-line interface: `tessera-node [SUBCOMMAND] [FLAGS]`.

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
    /// Key management (generate, inspect, insert keys into the keystore).
    #[command(subcommand)]
    Key(sc_cli::KeySubcommand),

    /// Build a chain specification (zombienet and multi-node setups use this).
    /// `export-chain-spec` is the newer spelling of the same thing.
    BuildSpec(sc_cli::BuildSpecCmd),

    /// Export the chain specification of a chain.
    ExportChainSpec(sc_cli::ExportChainSpecCmd),

    /// Validate blocks.
    CheckBlock(sc_cli::CheckBlockCmd),

    /// Export blocks.
    ExportBlocks(sc_cli::ExportBlocksCmd),

    /// Export the state of a given block into a chain spec.
    ExportState(sc_cli::ExportStateCmd),

    /// Import blocks.
    ImportBlocks(sc_cli::ImportBlocksCmd),

    /// Remove the whole chain.
    PurgeChain(sc_cli::PurgeChainCmd),

    /// Revert the chain to a previous state.
    Revert(sc_cli::RevertCmd),

    /// Database metadata.
    ChainInfo(sc_cli::ChainInfoCmd),

    /// Runtime benchmarks (only in a node built with `--features runtime-benchmarks`).
    #[cfg(feature = "runtime-benchmarks")]
    #[command(subcommand)]
    Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
#[command(
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub subcommand: Option<Subcommand>,

    #[clap(flatten)]
    pub run: sc_cli::RunCmd,
}
