//! Chain specifications. The runtime's genesis presets hold the state; the node only names
//! a preset and adds the chain's identity and token properties.

use sc_service::ChainType;
use tessera_runtime::{
    genesis_config_presets::{
        DEV_RUNTIME_PRESET, FOUR_VALIDATORS_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET,
    },
    SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY,
};

/// A chain spec of the Tessera runtime. No extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token symbol, decimals and SS58 format, shown by wallets and polkadot.js.
fn properties() -> sc_chain_spec::Properties {
    let mut p = sc_chain_spec::Properties::new();
    p.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
    p.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
    p.insert("ss58Format".into(), SS58_PREFIX.into());
    p
}

fn wasm() -> Result<&'static [u8], String> {
    WASM_BINARY.ok_or_else(|| {
        "The runtime's WASM blob is missing: this node was built with SKIP_WASM_BUILD; \
         rebuild without it"
            .to_string()
    })
}

fn from_preset(name: &str, id: &str, chain_type: ChainType, preset: &str) -> Result<ChainSpec, String> {
    Ok(ChainSpec::builder(wasm()?, None)
        .with_name(name)
        .with_id(id)
        .with_chain_type(chain_type)
        .with_genesis_config_preset_name(preset)
        .with_properties(properties())
        .build())
}

/// `--dev`: one validator (Alice), the well-known accounts endowed.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
    from_preset("Tessera Development", "tessera_dev", ChainType::Development, DEV_RUNTIME_PRESET)
}

/// `--chain local`: two validators (Alice, Bob).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
    from_preset("Tessera Local Testnet", "tessera_local", ChainType::Local, LOCAL_TESTNET_RUNTIME_PRESET)
}

/// `--chain four`: four validators (Alice, Bob, Charlie, Dave).
pub fn four_validators_chain_spec() -> Result<ChainSpec, String> {
    from_preset(
        "Tessera Four Validators",
        "tessera_four",
        ChainType::Local,
        FOUR_VALIDATORS_RUNTIME_PRESET,
    )
}

/// Names accepted by `--chain` besides a path to a chain-spec JSON file.
pub const BUILTIN_CHAINS: &[&str] = &["dev", "local", "four"];

/// The chain spec for `--chain <id>`: a built-in name, or a path to a JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
    Ok(match id {
        "dev" => Box::new(development_chain_spec()?),
        "" | "local" => Box::new(local_chain_spec()?),
        "four" => Box::new(four_validators_chain_spec()?),
        path => {
            let p = std::path::PathBuf::from(path);
            if !p.exists() {
                return Err(format!(
                    "unknown chain `{path}`: not one of {} and no chain-spec file at that path",
                    BUILTIN_CHAINS.join(", ")
                ));
            }
            Box::new(ChainSpec::from_json_file(p)?)
        },
    })
}
