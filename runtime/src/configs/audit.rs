//! Validators' off-chain auditors and what lets the runtime's off-chain workers sign
//! transactions: the auditor key signs with its own account, through the same transaction
//! extensions as any user.

use codec::Encode;
use frame_support::{parameter_types, traits::ConstU32};
use frame_system::offchain::{AppCrypto, CreateSignedTransaction, CreateTransactionBase, SigningTypes};
use sp_runtime::{generic, traits::Verify, MultiAddress, Perbill, SaturatedConversion};

use super::system::BlockHashCount;
use crate::{
    AccountId, Nonce, Runtime, RuntimeCall, Signature, SignedPayload, System, TxExtension,
    UncheckedExtrinsic,
};

parameter_types! {
    /// Each validator re-executes one in ten agreed results (a node may set its own rate).
    pub const AuditRate: Perbill = Perbill::from_percent(10);
    /// Fuel a validator re-executes per block: five referee-sized jobs (see PROTOCOL.md).
    pub const AuditFuelPerBlock: u64 = 50_000_000;
}

impl pallet_audit::Config for Runtime {
    type AuthorityId = pallet_audit::crypto::AuditorId;
    type AuditRate = AuditRate;
    type AuditFuelPerBlock = AuditFuelPerBlock;
    type MaxAuditQueue = ConstU32<256>;
}

impl SigningTypes for Runtime {
    type Public = <Signature as Verify>::Signer;
    type Signature = Signature;
}

impl<C> CreateTransactionBase<C> for Runtime
where
    RuntimeCall: From<C>,
{
    type Extrinsic = UncheckedExtrinsic;
    type RuntimeCall = RuntimeCall;
}

impl<C> CreateSignedTransaction<C> for Runtime
where
    RuntimeCall: From<C>,
{
    fn create_signed_transaction<A: AppCrypto<Self::Public, Self::Signature>>(
        call: RuntimeCall,
        public: Self::Public,
        account: AccountId,
        nonce: Nonce,
    ) -> Option<UncheckedExtrinsic> {
        // Mortal for half the kept block hashes, from the block the worker runs at.
        let period = u64::from(BlockHashCount::get()).checked_next_power_of_two().map_or(2, |p| p / 2);
        let current = System::block_number().saturated_into::<u64>().saturating_sub(1);
        let tx_ext: TxExtension = (
            frame_system::CheckNonZeroSender::<Runtime>::new(),
            frame_system::CheckSpecVersion::<Runtime>::new(),
            frame_system::CheckTxVersion::<Runtime>::new(),
            frame_system::CheckGenesis::<Runtime>::new(),
            frame_system::CheckEra::<Runtime>::from(generic::Era::mortal(period, current)),
            frame_system::CheckNonce::<Runtime>::from(nonce),
            frame_system::CheckWeight::<Runtime>::new(),
            pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
            frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
            frame_system::WeightReclaim::<Runtime>::new(),
        );
        let payload = SignedPayload::new(call, tx_ext)
            .map_err(|e| log::warn!(target: pallet_audit::LOG_TARGET, "cannot sign a transaction: {e:?}"))
            .ok()?;
        let signature = payload.using_encoded(|bytes| A::sign(bytes, public))?;
        let (call, tx_ext, _) = payload.deconstruct();
        Some(UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature, tx_ext))
    }
}
