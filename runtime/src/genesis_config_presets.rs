//! Genesis presets: the initial state of development and test networks.
//!
//! The node names a preset; the runtime builds it. Presets are typed patches over the default
//! genesis config, so a renamed field fails to compile instead of being silently ignored.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
    configs::market::TreasuryAccount, AccountId, BalancesConfig, RuntimeGenesisConfig, SudoConfig,
    UNIT,
};

/// A single-validator development chain: Alice authors and finalizes.
pub const DEV_RUNTIME_PRESET: &str = sp_genesis_builder::DEV_RUNTIME_PRESET;
/// A two-validator local testnet: Alice and Bob.
pub const LOCAL_TESTNET_RUNTIME_PRESET: &str = sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET;
/// A four-validator local network (Alice, Bob, Charlie, Dave), for zombienet.
pub const FOUR_VALIDATORS_RUNTIME_PRESET: &str = "four_validators";

/// Initial free balance of each endowed development account.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// The genesis patch shared by every preset.
fn testnet_genesis(
    initial_authorities: Vec<(AuraId, GrandpaId)>,
    endowed_accounts: Vec<AccountId>,
    root: AccountId,
) -> Value {
    build_struct_json_patch!(RuntimeGenesisConfig {
        balances: BalancesConfig {
            balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
        },
        aura: pallet_aura::GenesisConfig {
            authorities: initial_authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
        },
        grandpa: pallet_grandpa::GenesisConfig {
            authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
        },
        sudo: SudoConfig { key: Some(root) },
    })
}

/// Aura (sr25519) and GRANDPA (ed25519) keys of a well-known development validator.
fn authority_keys(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
    (aura.public().into(), grandpa.public().into())
}

/// Every well-known development account (Alice … Ferdie and their `//stash` accounts), and
/// the treasury, which must exist to receive fees and slashes of any size.
fn dev_accounts() -> Vec<AccountId> {
    Sr25519Keyring::iter()
        .map(|k| k.to_account_id())
        .chain(core::iter::once(TreasuryAccount::get()))
        .collect()
}

fn development_config_genesis() -> Value {
    testnet_genesis(
        vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
        dev_accounts(),
        Sr25519Keyring::Alice.to_account_id(),
    )
}

fn local_testnet_genesis() -> Value {
    testnet_genesis(
        vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice), authority_keys(Sr25519Keyring::Bob, Ed25519Keyring::Bob)],
        dev_accounts(),
        Sr25519Keyring::Alice.to_account_id(),
    )
}

fn four_validators_genesis() -> Value {
    testnet_genesis(
        vec![
            authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
            authority_keys(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
            authority_keys(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
            authority_keys(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
        ],
        dev_accounts(),
        Sr25519Keyring::Alice.to_account_id(),
    )
}

/// The JSON patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
    let patch = match id.as_ref() {
        DEV_RUNTIME_PRESET => development_config_genesis(),
        LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
        FOUR_VALIDATORS_RUNTIME_PRESET => four_validators_genesis(),
        _ => return None,
    };
    Some(
        serde_json::to_string(&patch)
            .expect("serialization to a json string does not fail; qed")
            .into_bytes(),
    )
}

/// The names of every preset this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
    vec![
        PresetId::from(DEV_RUNTIME_PRESET),
        PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
        PresetId::from(FOUR_VALIDATORS_RUNTIME_PRESET),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_a_genesis_state() {
        for name in preset_names() {
            let patch = get_preset(&name).expect("listed preset exists");
            let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serializes");
            let patch: Value = serde_json::from_slice(&patch).expect("valid json");
            json_merge(&mut config, patch);
            let config: RuntimeGenesisConfig =
                serde_json::from_value(config).expect("patched config deserializes");
            let storage = sp_runtime::BuildStorage::build_storage(&config);
            assert!(storage.is_ok(), "preset {name} fails to build: {:?}", storage.err());
        }
    }

    #[test]
    fn presets_have_distinct_validator_sets() {
        let authorities = |name: &str| -> usize {
            let v: Value = serde_json::from_slice(&get_preset(&name.into()).unwrap()).unwrap();
            v["aura"]["authorities"].as_array().map(|a| a.len()).unwrap_or(0)
        };
        assert_eq!(authorities(DEV_RUNTIME_PRESET), 1);
        assert_eq!(authorities(LOCAL_TESTNET_RUNTIME_PRESET), 2);
        assert_eq!(authorities(FOUR_VALIDATORS_RUNTIME_PRESET), 4);
        assert!(get_preset(&"no-such-preset".into()).is_none());
    }

    fn json_merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) =>
                for (k, v) in b {
                    json_merge(a.entry(k).or_insert(Value::Null), v);
                },
            (a, b) => *a = b,
        }
    }
}
