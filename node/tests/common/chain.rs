//! A minimal blocking client for the tests: signs extrinsics with the same code as the worker and
//! CLI (`tessera_worker::client::sign`), submits them over JSON-RPC, and reads and decodes
//! storage and events.

use std::collections::BTreeMap;

use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, H256};
use sp_keyring::Sr25519Keyring;
use tessera_runtime::{RuntimeCall, RuntimeEvent};
use tessera_worker::client::{keys, sign, to_hex, ChainId};

use super::{hex_bytes, Node};

/// Signs and submits extrinsics, keeping each signer's nonce.
pub struct Client {
    chain: ChainId,
    nonces: BTreeMap<Sr25519Keyring, u32>,
}

impl Client {
    pub fn new(node: &Node) -> Client {
        let genesis = node.rpc("chain_getBlockHash", json!([0])).expect("genesis hash");
        let genesis = H256::from_slice(&hex_bytes(&genesis));
        let version = node.rpc("state_getRuntimeVersion", json!([])).expect("runtime version");
        let chain = ChainId {
            genesis,
            spec_version: version["specVersion"].as_u64().expect("specVersion") as u32,
            tx_version: version["transactionVersion"].as_u64().expect("transactionVersion") as u32,
        };
        Client { chain, nonces: BTreeMap::new() }
    }

    /// Signs `call` as `signer` (immortal, next nonce, no tip) and submits it; returns the
    /// extrinsic hash or the pool's error.
    pub fn submit(&mut self, node: &Node, signer: Sr25519Keyring, call: RuntimeCall) -> Result<Value, String> {
        let who = signer.to_account_id();
        let nonce = match self.nonces.get(&signer) {
            Some(n) => *n,
            None => node
                .rpc("system_accountNextIndex", json!([who.to_ss58check()]))?
                .as_u64()
                .ok_or("nonce")? as u32,
        };
        let xt = sign(&signer.pair(), &self.chain, call, nonce);
        let hash = node.rpc("author_submitExtrinsic", json!([to_hex(&xt.encode())]))?;
        self.nonces.insert(signer, nonce + 1);
        Ok(hash)
    }
}

/// Reads and decodes a storage entry at the best block (or `None` if it is absent).
pub fn storage<T: Decode>(node: &Node, key: &[u8]) -> Option<T> {
    let v = node.rpc("state_getStorage", json!([to_hex(key)])).ok()?;
    if v.is_null() {
        return None;
    }
    Some(T::decode(&mut &hex_bytes(&v)[..]).expect("storage decodes with the runtime's types"))
}

/// Every runtime event of every block seen so far, in order, as (block number, event).
#[derive(Default)]
pub struct Events {
    pub seen: Vec<(u64, RuntimeEvent)>,
    next_block: u64,
}

impl Events {
    /// Reads the events of blocks up to the current best one.
    pub fn poll(&mut self, node: &Node) {
        let Ok(head) = node.rpc("chain_getHeader", json!([])) else { return };
        let Some(best) = head["number"].as_str().and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
        else {
            return;
        };
        let key = to_hex(&keys::prefix("System", "Events"));
        while self.next_block <= best {
            let Ok(hash) = node.rpc("chain_getBlockHash", json!([self.next_block])) else { return };
            let Ok(raw) = node.rpc("state_getStorage", json!([key, hash])) else { return };
            if !raw.is_null() {
                let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
                    Decode::decode(&mut &hex_bytes(&raw)[..]).expect("events decode with the runtime's types");
                self.seen.extend(records.into_iter().map(|r| (self.next_block, r.event)));
            }
            self.next_block += 1;
        }
    }

    /// The first event `f` picks out, if any.
    pub fn find<T>(&self, f: impl Fn(&RuntimeEvent) -> Option<T>) -> Option<T> {
        self.seen.iter().find_map(|(_, e)| f(e))
    }

    /// Failed extrinsics so far (any is a test failure).
    pub fn failures(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|(n, e)| match e {
                RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
                    Some(format!("block {n}: {dispatch_error:?}"))
                },
                _ => None,
            })
            .collect()
    }
}
