//! How subxt talks to a Tessera chain: its account, address, signature and header types, and
//! the transaction extensions, which subxt matches by name against the metadata (extensions
//! that carry no data, such as `CheckNonZeroSender` or `CheckWeight`, need nothing from us).

use subxt::{
    config::{
        substrate::{SubstrateConfig, SubstrateConfigBuilder},
        Config, DefaultExtrinsicParamsBuilder, DefaultTransactionExtensions, HashFor, TransactionExtensions,
    },
    utils::{AccountId32, MultiAddress, MultiSignature},
    ArcMetadata,
};

/// The chain's types as subxt sees them. Addresses carry no account index
/// (`MultiAddress<AccountId, ()>`); metadata is cached per `spec_version`, so a runtime upgrade
/// brings new metadata for the blocks after it.
#[derive(Debug, Clone)]
pub struct TesseraConfig(SubstrateConfig);

impl Default for TesseraConfig {
    fn default() -> Self {
        TesseraConfig(SubstrateConfigBuilder::new().build())
    }
}

impl Config for TesseraConfig {
    type AccountId = AccountId32;
    type Address = MultiAddress<AccountId32, ()>;
    type Signature = MultiSignature;
    type Hasher = <SubstrateConfig as Config>::Hasher;
    type Header = <SubstrateConfig as Config>::Header;
    type TransactionExtensions = DefaultTransactionExtensions<Self>;
    type AssetId = u32;

    fn genesis_hash(&self) -> Option<HashFor<Self>> {
        self.0.genesis_hash()
    }

    fn spec_and_transaction_version_for_block_number(&self, block_number: u64) -> Option<(u32, u32)> {
        self.0.spec_and_transaction_version_for_block_number(block_number)
    }

    fn metadata_for_spec_version(&self, spec_version: u32) -> Option<ArcMetadata> {
        self.0.metadata_for_spec_version(spec_version)
    }

    fn set_metadata_for_spec_version(&self, spec_version: u32, metadata: ArcMetadata) {
        self.0.set_metadata_for_spec_version(spec_version, metadata)
    }
}

/// The parameters of Tessera's transaction extensions.
pub type Params = <DefaultTransactionExtensions<TesseraConfig> as TransactionExtensions<TesseraConfig>>::Params;

/// Transaction parameters: the nonce is ours (the client hands nonces out so concurrent
/// submissions never collide), the rest default (mortal, no tip, no metadata hash).
pub fn params(nonce: u64) -> Params {
    DefaultExtrinsicParamsBuilder::<TesseraConfig>::new().nonce(nonce).build()
}
