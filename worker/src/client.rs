//! A Tessera chain client over JSON-RPC (jsonrpsee, WebSocket) using the runtime's own types:
//! reads and decodes storage, signs and submits extrinsics, waits for their inclusion and
//! explains failures by the pallet error's name.

use std::time::Duration;

use codec::{Decode, Encode};
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    ws_client::{WsClient, WsClientBuilder},
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
pub use tessera_runtime_api as api;
use sp_core::{crypto::Ss58Codec, sr25519, Pair, H256};
use sp_runtime::{generic::Era, DispatchError, MultiAddress, MultiSignature};
use tessera_primitives::{JobId, ProgramId};
use tessera_runtime::{
    AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent, SignedPayload, TxExtension, UncheckedExtrinsic,
};
use tokio::sync::Mutex;

/// A job as the chain stores it.
pub type Job = pallet_market::Job<Runtime>;
/// A dispute as the chain stores it.
pub type Dispute = pallet_market::Dispute<Runtime>;
/// An ended job's kept result.
pub type JobResult = pallet_market::JobResult<Runtime>;
/// A job's input as posted.
pub type InputSpec = pallet_market::InputSpec<Runtime>;
/// A registered provider.
pub type Provider = pallet_providers::ProviderInfo<Runtime>;
/// The events of one block with the extrinsic each belongs to.
pub type EventRecords = Vec<frame_system::EventRecord<RuntimeEvent, H256>>;

/// Everything that can go wrong talking to the chain.
#[derive(Debug)]
pub enum ClientError {
    /// The node could not be reached or the connection broke.
    Unreachable(String),
    /// The node answered with an error.
    Rpc(String),
    /// The node's data did not decode with this client's runtime types.
    Decode(String),
    /// The extrinsic was included and failed.
    Dispatch(String),
    /// The transaction pool refused the extrinsic, or it was dropped.
    Rejected(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unreachable(e) => write!(f, "node unreachable: {e}"),
            ClientError::Rpc(e) => write!(f, "node error: {e}"),
            ClientError::Decode(e) => write!(f, "unexpected chain data: {e}"),
            ClientError::Dispatch(e) => write!(f, "extrinsic failed: {e}"),
            ClientError::Rejected(e) => write!(f, "transaction rejected: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

fn rpc_err(e: jsonrpsee::core::ClientError) -> ClientError {
    match e {
        jsonrpsee::core::ClientError::Call(e) => ClientError::Rpc(e.message().to_string()),
        other => ClientError::Unreachable(other.to_string()),
    }
}

/// `0x`-prefixed lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Decodes `0x…` hex.
pub fn from_hex(s: &str) -> Result<Vec<u8>, ClientError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() % 2 != 0 {
        return Err(ClientError::Decode(format!("odd-length hex: {s}")));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| ClientError::Decode(e.to_string())))
        .collect()
}

/// Storage keys of the items the clients read.
pub mod keys {
    use super::*;

    /// `twox128(pallet) ++ twox128(item)`: a plain value, or a map's prefix.
    pub fn prefix(pallet: &str, item: &str) -> Vec<u8> {
        let mut k = sp_crypto_hashing::twox_128(pallet.as_bytes()).to_vec();
        k.extend_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
        k
    }

    /// An entry of a `Twox64Concat` map.
    pub fn twox64(pallet: &str, item: &str, key: &impl Encode) -> Vec<u8> {
        let mut k = prefix(pallet, item);
        let encoded = key.encode();
        k.extend_from_slice(&sp_crypto_hashing::twox_64(&encoded));
        k.extend_from_slice(&encoded);
        k
    }

    /// An entry of a `Blake2_128Concat` map.
    pub fn blake2(pallet: &str, item: &str, key: &impl Encode) -> Vec<u8> {
        let mut k = prefix(pallet, item);
        let encoded = key.encode();
        k.extend_from_slice(&sp_crypto_hashing::blake2_128(&encoded));
        k.extend_from_slice(&encoded);
        k
    }

    /// An entry of an `Identity` map.
    pub fn identity(pallet: &str, item: &str, key: &impl Encode) -> Vec<u8> {
        let mut k = prefix(pallet, item);
        key.encode_to(&mut k);
        k
    }

    /// A job's storage key.
    pub fn job(id: JobId) -> Vec<u8> {
        twox64("Market", "JobOf", &id)
    }
}

/// A key to sign with.
#[derive(Clone)]
pub struct Signer {
    pair: sr25519::Pair,
}

impl Signer {
    /// From a secret URI: a dev name (`//Alice`), a mnemonic, or a `0x` seed, with derivations.
    pub fn from_suri(suri: &str) -> Result<Self, String> {
        sr25519::Pair::from_string(suri, None)
            .map(|pair| Signer { pair })
            .map_err(|e| format!("invalid secret URI: {e:?}"))
    }

    /// The account.
    pub fn account(&self) -> AccountId {
        AccountId::from(self.pair.public())
    }

    /// The account in SS58.
    pub fn address(&self) -> String {
        self.account().to_ss58check()
    }
}

/// What an included extrinsic did.
#[derive(Debug)]
pub struct Included {
    /// The block it is in.
    pub block: H256,
    /// Its events (the system's success event last).
    pub events: Vec<RuntimeEvent>,
}

/// A connected client.
pub struct Client {
    rpc: WsClient,
    genesis: H256,
    spec_version: u32,
    tx_version: u32,
    /// Next nonce per signer, so extrinsics submitted back to back do not collide.
    nonces: Mutex<std::collections::BTreeMap<AccountId, u32>>,
}

/// Storage keys asked for (and values read) per request when listing a map.
const PAGE: u32 = 512;

fn params(values: Vec<Value>) -> ArrayParams {
    let mut p = ArrayParams::new();
    for v in values {
        p.insert(v).expect("JSON values serialize; qed");
    }
    p
}

impl Client {
    /// Connects to a node's WebSocket JSON-RPC endpoint (e.g. `ws://127.0.0.1:9944`).
    pub async fn connect(url: &str) -> Result<Client, ClientError> {
        let rpc = WsClientBuilder::default()
            .request_timeout(Duration::from_secs(60))
            .connection_timeout(Duration::from_secs(10))
            .max_response_size(64 << 20)
            .build(url)
            .await
            .map_err(|e| ClientError::Unreachable(format!("{url}: {e}")))?;
        let mut client = Client {
            rpc,
            genesis: H256::zero(),
            spec_version: 0,
            tx_version: 0,
            nonces: Default::default(),
        };
        let genesis: String = client.call("chain_getBlockHash", vec![0.into()]).await?;
        client.genesis = H256::from_slice(&from_hex(&genesis)?);
        let version: Value = client.call("state_getRuntimeVersion", vec![]).await?;
        client.spec_version = version["specVersion"].as_u64().unwrap_or_default() as u32;
        client.tx_version = version["transactionVersion"].as_u64().unwrap_or_default() as u32;
        Ok(client)
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.rpc.is_connected()
    }

    /// A raw JSON-RPC call.
    pub async fn call<R: DeserializeOwned>(&self, method: &str, args: Vec<Value>) -> Result<R, ClientError> {
        self.rpc.request(method, params(args)).await.map_err(rpc_err)
    }

    /// The latest finalized block: (number, hash).
    pub async fn finalized(&self) -> Result<(u32, H256), ClientError> {
        let hash: String = self.call("chain_getFinalizedHead", vec![]).await?;
        let number = self.header_number(vec![hash.clone().into()]).await?;
        Ok((number, H256::from_slice(&from_hex(&hash)?)))
    }

    /// The best block: (number, hash).
    pub async fn best(&self) -> Result<(u32, H256), ClientError> {
        let number = self.header_number(vec![]).await?;
        let hash: String = self.call("chain_getBlockHash", vec![number.into()]).await?;
        Ok((number, H256::from_slice(&from_hex(&hash)?)))
    }

    /// The number of the block `chain_getHeader` returns for `args` (a hash, or none: best).
    async fn header_number(&self, args: Vec<Value>) -> Result<u32, ClientError> {
        let header: Value = self.call("chain_getHeader", args).await?;
        let number = header["number"].as_str().ok_or_else(|| ClientError::Decode("header number".into()))?;
        u32::from_str_radix(number.trim_start_matches("0x"), 16).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The hash of block `number`.
    pub async fn block_hash(&self, number: u32) -> Result<Option<H256>, ClientError> {
        let hash: Option<String> = self.call("chain_getBlockHash", vec![number.into()]).await?;
        hash.map(|h| from_hex(&h).map(|b| H256::from_slice(&b))).transpose()
    }

    /// Reads and decodes the storage entry at `key` (at the best block when `at` is `None`).
    pub async fn storage<T: Decode>(&self, key: &[u8], at: Option<H256>) -> Result<Option<T>, ClientError> {
        let mut args = vec![to_hex(key).into()];
        if let Some(at) = at {
            args.push(to_hex(at.as_bytes()).into());
        }
        let raw: Option<String> = self.call("state_getStorage", args).await?;
        match raw {
            None => Ok(None),
            Some(hex) => {
                let bytes = from_hex(&hex)?;
                T::decode(&mut &bytes[..]).map(Some).map_err(|e| ClientError::Decode(format!("{e}")))
            },
        }
    }

    /// Every storage key under `prefix` at `at` (full keys, in the node's order).
    pub async fn keys(&self, prefix: &[u8], at: H256) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut args: Vec<Value> = vec![to_hex(prefix).into(), PAGE.into()];
            args.push(start.clone().map_or(Value::Null, Value::from));
            args.push(to_hex(at.as_bytes()).into());
            let keys: Vec<String> = self.call("state_getKeysPaged", args).await?;
            start = keys.last().cloned();
            let full = keys.len() == PAGE as usize;
            for key in keys {
                out.push(from_hex(&key)?);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// Every (key, value) under `prefix`, decoded; keys are full storage keys.
    pub async fn entries<T: Decode>(&self, prefix: &[u8], at: H256) -> Result<Vec<(Vec<u8>, T)>, ClientError> {
        let mut out = Vec::new();
        for keys in self.keys(prefix, at).await?.chunks(PAGE as usize) {
            let keys: Vec<Value> = keys.iter().map(|k| to_hex(k).into()).collect();
            let changes: Vec<Value> =
                self.call("state_queryStorageAt", vec![keys.into(), to_hex(at.as_bytes()).into()]).await?;
            for change in changes.iter().flat_map(|c| c["changes"].as_array().cloned().unwrap_or_default()) {
                let (Some(key), Some(value)) = (change[0].as_str(), change[1].as_str()) else { continue };
                let bytes = from_hex(value)?;
                let value = T::decode(&mut &bytes[..]).map_err(|e| ClientError::Decode(format!("{e}")))?;
                out.push((from_hex(key)?, value));
            }
        }
        Ok(out)
    }

    /// Every live job at `at`.
    pub async fn jobs(&self, at: H256) -> Result<Vec<(JobId, Job)>, ClientError> {
        let entries = self.entries::<Job>(&keys::prefix("Market", "JobOf"), at).await?;
        Ok(entries.into_iter().filter_map(|(k, job)| Some((id_suffix(&k)?, job))).collect())
    }

    /// Every open dispute at `at`.
    pub async fn disputes(&self, at: H256) -> Result<Vec<(JobId, Dispute)>, ClientError> {
        let entries = self.entries::<Dispute>(&keys::prefix("Market", "DisputeOf"), at).await?;
        Ok(entries.into_iter().filter_map(|(k, d)| Some((id_suffix(&k)?, d))).collect())
    }

    /// The accounts of every registered provider at `at` (read from the storage keys alone;
    /// `provider_view` describes each).
    pub async fn provider_accounts(&self, at: H256) -> Result<Vec<AccountId>, ClientError> {
        let keys = self.keys(&keys::prefix("Providers", "ProviderOf"), at).await?;
        Ok(keys
            .into_iter()
            .filter_map(|k| AccountId::decode(&mut k.get(k.len().checked_sub(32)?..)?).ok())
            .collect())
    }

    /// A job, if it is live.
    pub async fn job(&self, id: JobId, at: Option<H256>) -> Result<Option<Job>, ClientError> {
        self.storage(&keys::job(id), at).await
    }

    /// An ended job's kept result.
    pub async fn result(&self, id: JobId, at: Option<H256>) -> Result<Option<JobResult>, ClientError> {
        self.storage(&keys::twox64("Market", "ResultOf", &id), at).await
    }

    /// A job's input spec.
    pub async fn input(&self, id: JobId, at: Option<H256>) -> Result<Option<InputSpec>, ClientError> {
        self.storage(&keys::twox64("Market", "InputOf", &id), at).await
    }

    /// A program's code.
    pub async fn code(&self, id: ProgramId, at: Option<H256>) -> Result<Option<Vec<u8>>, ClientError> {
        self.storage(&keys::identity("Programs", "CodeOf", &id), at).await
    }

    /// Whether a program is stored.
    pub async fn program_exists(&self, id: ProgramId) -> Result<bool, ClientError> {
        let raw: Option<String> =
            self.call("state_getStorage", vec![to_hex(&keys::identity("Programs", "CodeOf", &id)).into()]).await?;
        Ok(raw.is_some())
    }

    /// A provider's registration.
    pub async fn provider(&self, who: &AccountId, at: Option<H256>) -> Result<Option<Provider>, ClientError> {
        self.storage(&keys::blake2("Providers", "ProviderOf", who), at).await
    }

    // -- The node's `tessera_*` namespace (the runtime's `TesseraApi`) ------------------------

    /// A job, live or ended, as the runtime describes it (at the best block).
    pub async fn job_view(&self, id: JobId) -> Result<Option<api::JobView>, ClientError> {
        self.call("tessera_job", vec![json!(id)]).await
    }

    /// A page of jobs with ids from `from`, optionally only those with `status`.
    pub async fn job_page(
        &self,
        status: Option<api::JobStatus>,
        from: JobId,
        limit: u32,
    ) -> Result<api::JobPage, ClientError> {
        self.call("tessera_jobs", vec![json!(status), json!(from), json!(limit)]).await
    }

    /// A provider as requesters see it (current reputation, availability).
    pub async fn provider_view(&self, who: &AccountId) -> Result<Option<api::ProviderView>, ClientError> {
        self.call("tessera_provider", vec![json!(who)]).await
    }

    /// What posting a job with `params` would hold; an `Rpc` error names the market error
    /// (`Market::…`) when the chain would refuse it.
    pub async fn quote_job(&self, params: &api::QuoteParams) -> Result<api::QuoteView, ClientError> {
        self.call("tessera_quoteJob", vec![json!(params)]).await
    }

    /// Why a job's slots are not (all) taken.
    pub async fn why_unmatched(&self, id: JobId) -> Result<Option<api::Unmatched>, ClientError> {
        self.call("tessera_whyUnmatched", vec![json!(id)]).await
    }

    /// An account's free balance (at the best block when `at` is `None`).
    pub async fn free_balance(&self, who: &AccountId, at: Option<H256>) -> Result<Balance, ClientError> {
        let info: Option<frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>>> =
            self.storage(&keys::blake2("System", "Account", who), at).await?;
        Ok(info.map_or(0, |i| i.data.free))
    }

    /// The events of block `at`.
    pub async fn events(&self, at: H256) -> Result<EventRecords, ClientError> {
        Ok(self.storage(&keys::prefix("System", "Events"), Some(at)).await?.unwrap_or_default())
    }

    /// What this client's signatures commit to.
    pub fn chain_id(&self) -> ChainId {
        ChainId { genesis: self.genesis, spec_version: self.spec_version, tx_version: self.tx_version }
    }

    async fn next_nonce(&self, signer: &Signer) -> Result<u32, ClientError> {
        let from_pool: u32 = self.call("system_accountNextIndex", vec![signer.address().into()]).await?;
        let mut nonces = self.nonces.lock().await;
        let local = nonces.get(&signer.account()).copied().unwrap_or(0);
        let nonce = from_pool.max(local);
        nonces.insert(signer.account(), nonce + 1);
        Ok(nonce)
    }

    async fn forget_nonce(&self, signer: &Signer) {
        self.nonces.lock().await.remove(&signer.account());
    }

    /// Signs and submits `call`; returns the extrinsic hash once the pool accepted it.
    pub async fn submit(&self, signer: &Signer, call: RuntimeCall) -> Result<H256, ClientError> {
        let nonce = self.next_nonce(signer).await?;
        let xt = sign(&signer.pair, &self.chain_id(), call, nonce);
        let result: Result<String, _> = self.call("author_submitExtrinsic", vec![to_hex(&xt.encode()).into()]).await;
        match result {
            Ok(hash) => Ok(H256::from_slice(&from_hex(&hash)?)),
            Err(ClientError::Rpc(e)) => {
                self.forget_nonce(signer).await;
                Err(ClientError::Rejected(e))
            },
            Err(e) => {
                self.forget_nonce(signer).await;
                Err(e)
            },
        }
    }

    /// Submits `call` and waits until a block includes it (up to `blocks` new blocks); returns
    /// its events, or its dispatch error by name.
    pub async fn submit_and_wait(&self, signer: &Signer, call: RuntimeCall, blocks: u32) -> Result<Included, ClientError> {
        let (start, _) = self.best().await?;
        let hash = self.submit(signer, call).await?;
        let mut next = start + 1;
        let deadline = start + blocks.max(1);
        loop {
            let (best, _) = self.best().await?;
            while next <= best {
                let Some(block) = self.block_hash(next).await? else { break };
                if let Some(included) = self.find_extrinsic(block, hash).await? {
                    return included;
                }
                next += 1;
            }
            if best >= deadline {
                return Err(ClientError::Rejected(format!("not included within {blocks} blocks")));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn find_extrinsic(&self, block: H256, hash: H256) -> Result<Option<Result<Included, ClientError>>, ClientError> {
        let body: Value = self.call("chain_getBlock", vec![to_hex(block.as_bytes()).into()]).await?;
        let extrinsics = body["block"]["extrinsics"].as_array().cloned().unwrap_or_default();
        let Some(index) = extrinsics.iter().position(|x| {
            x.as_str().and_then(|s| from_hex(s).ok()).is_some_and(|b| H256(sp_crypto_hashing::blake2_256(&b)) == hash)
        }) else {
            return Ok(None);
        };
        let records = self.events(block).await?;
        let events: Vec<RuntimeEvent> = records
            .into_iter()
            .filter(|r| r.phase == frame_system::Phase::ApplyExtrinsic(index as u32))
            .map(|r| r.event)
            .collect();
        for event in &events {
            if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) = event {
                return Ok(Some(Err(ClientError::Dispatch(describe(dispatch_error)))));
            }
        }
        Ok(Some(Ok(Included { block, events })))
    }
}

/// The chain facts a signed extrinsic commits to.
#[derive(Clone, Copy, Debug)]
pub struct ChainId {
    /// Genesis hash (also the era's block, as extrinsics are immortal).
    pub genesis: H256,
    /// Runtime spec version.
    pub spec_version: u32,
    /// Transaction version.
    pub tx_version: u32,
}

/// Signs `call` with `pair` as the runtime expects: immortal, `nonce`, no tip, no metadata hash.
pub fn sign(pair: &sr25519::Pair, chain: &ChainId, call: RuntimeCall, nonce: u32) -> UncheckedExtrinsic {
    let extension: TxExtension = (
        frame_system::CheckNonZeroSender::new(),
        frame_system::CheckSpecVersion::new(),
        frame_system::CheckTxVersion::new(),
        frame_system::CheckGenesis::new(),
        frame_system::CheckEra::from(Era::Immortal),
        frame_system::CheckNonce::from(nonce),
        frame_system::CheckWeight::new(),
        pallet_transaction_payment::ChargeTransactionPayment::from(0),
        frame_metadata_hash_extension::CheckMetadataHash::new(false),
        frame_system::WeightReclaim::new(),
    );
    let implicit = ((), chain.spec_version, chain.tx_version, chain.genesis, chain.genesis, (), (), (), None, ());
    let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
    let signature = payload.using_encoded(|bytes| pair.sign(bytes));
    let who = AccountId::from(pair.public());
    UncheckedExtrinsic::new_signed(call, MultiAddress::Id(who), MultiSignature::Sr25519(signature), extension)
}

fn id_suffix(key: &[u8]) -> Option<JobId> {
    let tail = key.get(key.len().checked_sub(8)?..)?;
    JobId::decode(&mut &tail[..]).ok()
}

/// A dispatch error by name, decoding module errors with the runtime's pallet error types.
pub fn describe(error: &DispatchError) -> String {
    match error {
        DispatchError::Module(m) => {
            let bytes = &m.error[..];
            let named = match m.index {
                4 => pallet_balances::Error::<Runtime>::decode(&mut &bytes[..]).map(|e| format!("Balances::{e:?}")),
                20 => pallet_providers::Error::<Runtime>::decode(&mut &bytes[..]).map(|e| format!("Providers::{e:?}")),
                21 => pallet_programs::Error::<Runtime>::decode(&mut &bytes[..]).map(|e| format!("Programs::{e:?}")),
                22 => pallet_market::Error::<Runtime>::decode(&mut &bytes[..]).map(|e| format!("Market::{e:?}")),
                _ => Err("unknown pallet".into()),
            };
            named.unwrap_or_else(|_| format!("{error:?}"))
        },
        DispatchError::Token(t) => format!("Token::{t:?}"),
        DispatchError::Arithmetic(a) => format!("Arithmetic::{a:?}"),
        other => format!("{other:?}"),
    }
}

/// Formats an amount in TSR (12 decimals).
pub fn tsr(amount: Balance) -> String {
    let unit = tessera_runtime::UNIT;
    let whole = amount / unit;
    let frac = amount % unit;
    if frac == 0 {
        format!("{whole} TSR")
    } else {
        let s = format!("{frac:012}");
        format!("{whole}.{} TSR", s.trim_end_matches('0'))
    }
}
