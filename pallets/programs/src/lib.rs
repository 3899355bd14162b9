//! # Programs pallet
//!
//! Job programs: deterministic WebAssembly modules that requesters upload once and then refer
//! to by hash in any number of jobs.
//!
//! ## Calls
//!
//! | call | origin | effect |
//! |---|---|---|
//! | [`upload_program`](Pallet::upload_program) | signed | validate the module in the runtime, hold a deposit per byte, store it under its blake2-256 hash |
//! | [`remove_program`](Pallet::remove_program) | the uploader | delete an unused program and release its deposit |
//!
//! Validation is [`tessera_primitives::program::validate`], the same function the worker runs:
//! the module parses, imports only the host ABI, exports `run` and `memory`, and stays within
//! `MaxProgramSize`, `MaxMemoryPages` and `MaxTableElements`. A module that fails is rejected
//! with a named error and nothing is stored or held.
//!
//! The market reaches this pallet only through [`tessera_traits::ProgramRegistry`]: a program
//! used by a live job cannot be removed.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::programs";

/// The balance type of the configured currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
    <T as frame_system::Config>::AccountId,
>>::Balance;

#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use frame_support::{
        pallet_prelude::*,
        traits::{
            fungible::{Inspect, InspectHold, Mutate, MutateHold},
            tokens::Precision,
        },
    };
    use frame_system::pallet_prelude::*;
    use sp_runtime::traits::Saturating;
    use tessera_primitives::{
        program::{self, ProgramError, ProgramInfo, ProgramLimits},
        Fuel, ProgramId,
    };
    use tessera_traits::{ProgramRegistry, Referee, RefereeError, Refereed};

    const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Why this pallet holds funds.
    #[pallet::composite_enum]
    pub enum HoldReason {
        /// The storage deposit of an uploaded program.
        ProgramDeposit,
    }

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// The native currency; deposits are held through it.
        type Currency: Inspect<Self::AccountId>
            + Mutate<Self::AccountId>
            + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
            + InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

        /// The runtime's hold reasons.
        type RuntimeHoldReason: From<HoldReason>;

        /// Largest program in bytes.
        #[pallet::constant]
        type MaxProgramSize: Get<u32>;

        /// Most 64 KiB memory pages a program may declare.
        #[pallet::constant]
        type MaxMemoryPages: Get<u32>;

        /// Most table elements a program may declare.
        #[pallet::constant]
        type MaxTableElements: Get<u32>;

        /// Deposit per program, whatever its size.
        #[pallet::constant]
        type DepositBase: Get<BalanceOf<Self>>;

        /// Deposit per byte of code.
        #[pallet::constant]
        type DepositPerByte: Get<BalanceOf<Self>>;

        /// Weights of this pallet's calls.
        type WeightInfo: WeightInfo;
    }

    /// An uploaded program's metadata.
    #[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
    pub struct ProgramRecord<AccountId, Balance, BlockNumber> {
        /// Who uploaded it; the only account that may remove it.
        pub owner: AccountId,
        /// Deposit held from the owner.
        pub deposit: Balance,
        /// Code size in bytes.
        pub code_len: u32,
        /// Live jobs using the program.
        pub live_jobs: u32,
        /// What validation learned (memory pages).
        pub info: ProgramInfo,
        /// Block of the upload.
        pub uploaded_at: BlockNumber,
    }

    /// The record type as stored.
    pub type ProgramRecordOf<T> =
        ProgramRecord<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

    /// Program metadata by id (the code's blake2-256 hash).
    ///
    /// Identity hasher: the key is already a cryptographic hash of user data.
    #[pallet::storage]
    pub type ProgramOf<T: Config> = StorageMap<_, Identity, ProgramId, ProgramRecordOf<T>>;

    /// Program code by id. Kept apart from the metadata so reading a record is cheap.
    #[pallet::storage]
    pub type CodeOf<T: Config> = StorageMap<_, Identity, ProgramId, BoundedVec<u8, T::MaxProgramSize>>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A program was uploaded.
        ProgramUploaded {
            /// Its id (blake2-256 of the code).
            id: ProgramId,
            /// The uploader.
            owner: T::AccountId,
            /// Code size in bytes.
            code_len: u32,
            /// Deposit held.
            deposit: BalanceOf<T>,
        },
        /// A program was removed and its deposit released.
        ProgramRemoved {
            /// Its id.
            id: ProgramId,
        },
    }

    #[pallet::error]
    pub enum Error<T> {
        /// A program with this code is already uploaded (its id is the code's hash).
        ProgramExists,
        /// No program has this id.
        ProgramNotFound,
        /// Only the uploader may remove a program.
        NotOwner,
        /// Live jobs use the program.
        ProgramInUse,
        /// The code exceeds `MaxProgramSize`.
        ProgramTooLarge,
        /// Not a valid WebAssembly module, or it uses a feature outside the deterministic core
        /// (SIMD, threads, reference types, …).
        InvalidModule,
        /// The module imports something other than the `tessera` host functions.
        ForbiddenImport,
        /// The module imports a host function with the wrong signature.
        BadImportSignature,
        /// The module does not export the entry point `run`.
        MissingEntryPoint,
        /// The entry point `run` is not of type `[] -> []`.
        BadEntryPointSignature,
        /// The module does not define exactly one memory exported as `memory`, or it is
        /// shared or 64-bit.
        BadMemory,
        /// The memory exceeds `MaxMemoryPages`.
        MemoryTooLarge,
        /// The tables exceed `MaxTableElements`.
        TableTooLarge,
        /// The module has a start function.
        HasStartFunction,
    }

    impl<T> From<ProgramError> for Error<T> {
        fn from(e: ProgramError) -> Self {
            match e {
                ProgramError::TooLarge => Error::ProgramTooLarge,
                ProgramError::InvalidModule => Error::InvalidModule,
                ProgramError::ForbiddenImport => Error::ForbiddenImport,
                ProgramError::BadImportSignature => Error::BadImportSignature,
                ProgramError::MissingEntryPoint => Error::MissingEntryPoint,
                ProgramError::BadEntryPointSignature => Error::BadEntryPointSignature,
                ProgramError::BadMemory => Error::BadMemory,
                ProgramError::MemoryTooLarge => Error::MemoryTooLarge,
                ProgramError::TableTooLarge => Error::TableTooLarge,
                ProgramError::HasStartFunction => Error::HasStartFunction,
            }
        }
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn integrity_test() {
            assert!(T::MaxProgramSize::get() >= 64, "MaxProgramSize is too small for any program");
            assert!(T::MaxMemoryPages::get() > 0, "MaxMemoryPages must be above zero");
        }

        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Uploads a program. The id is the blake2-256 hash of `code`, at most `MaxProgramSize`
        /// bytes (a constant in metadata; a longer one fails with `ProgramTooLarge`).
        ///
        /// Origin: signed; pays `DepositBase + DepositPerByte × len`, held until removal.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::upload_program(code.len() as u32))]
        pub fn upload_program(origin: OriginFor<T>, code: alloc::vec::Vec<u8>) -> DispatchResult {
            let owner = ensure_signed(origin)?;
            // The argument is a plain byte vector, so an over-long one still decodes and gets
            // this named error instead of failing to decode (a trap in the transaction pool).
            let code: BoundedVec<u8, T::MaxProgramSize> = code.try_into().map_err(|_| Error::<T>::ProgramTooLarge)?;
            let id = ProgramId::from(sp_io::hashing::blake2_256(&code));
            ensure!(!ProgramOf::<T>::contains_key(id), Error::<T>::ProgramExists);
            let info = program::validate(&code, &Self::limits()).map_err(Error::<T>::from)?;
            let code_len = code.len() as u32;
            let deposit = Self::deposit_for(code_len);
            T::Currency::hold(&HoldReason::ProgramDeposit.into(), &owner, deposit)?;
            let now = frame_system::Pallet::<T>::block_number();
            ProgramOf::<T>::insert(
                id,
                ProgramRecord { owner: owner.clone(), deposit, code_len, live_jobs: 0, info, uploaded_at: now },
            );
            CodeOf::<T>::insert(id, code);
            Self::deposit_event(Event::ProgramUploaded { id, owner, code_len, deposit });
            Ok(())
        }

        /// Removes an unused program and releases its deposit.
        ///
        /// Origin: the uploader.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::remove_program())]
        pub fn remove_program(origin: OriginFor<T>, id: ProgramId) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let record = ProgramOf::<T>::get(id).ok_or(Error::<T>::ProgramNotFound)?;
            ensure!(record.owner == who, Error::<T>::NotOwner);
            ensure!(record.live_jobs == 0, Error::<T>::ProgramInUse);
            T::Currency::release(&HoldReason::ProgramDeposit.into(), &who, record.deposit, Precision::Exact)?;
            ProgramOf::<T>::remove(id);
            CodeOf::<T>::remove(id);
            Self::deposit_event(Event::ProgramRemoved { id });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// The limits uploads are validated against.
        pub fn limits() -> ProgramLimits {
            ProgramLimits {
                max_code_len: T::MaxProgramSize::get(),
                max_memory_pages: T::MaxMemoryPages::get(),
                max_table_elements: T::MaxTableElements::get(),
            }
        }

        /// The deposit for `code_len` bytes.
        pub fn deposit_for(code_len: u32) -> BalanceOf<T> {
            T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(code_len.into()))
        }

        /// The code of a program, for the worker (through RPC) and the dispute referee.
        pub fn code(id: &ProgramId) -> Option<alloc::vec::Vec<u8>> {
            CodeOf::<T>::get(id).map(|c| c.into_inner())
        }

        /// Checks the pallet's invariants:
        /// - every record has its code, of the recorded length, hashing to its id, and vice versa;
        /// - each owner's `ProgramDeposit` hold equals the sum of its programs' deposits.
        #[cfg(any(feature = "try-runtime", feature = "std", test))]
        pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
            use alloc::collections::btree_map::BTreeMap;
            let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
            for (id, r) in ProgramOf::<T>::iter() {
                let code = CodeOf::<T>::get(id).ok_or("program without code")?;
                ensure!(code.len() as u32 == r.code_len, "code length differs from the record");
                ensure!(ProgramId::from(sp_io::hashing::blake2_256(&code)) == id, "id is not the code's hash");
                let d = deposits.entry(r.owner.clone()).or_default();
                *d = d.saturating_add(r.deposit);
            }
            ensure!(CodeOf::<T>::iter_keys().count() == ProgramOf::<T>::iter_keys().count(), "code without program");
            for (who, total) in deposits {
                ensure!(
                    T::Currency::balance_on_hold(&HoldReason::ProgramDeposit.into(), &who) == total,
                    "deposit hold differs from the records"
                );
            }
            Ok(())
        }
    }

    impl<T: Config> ProgramRegistry<T::AccountId> for Pallet<T> {
        fn acquire(id: &ProgramId) -> Result<(), DispatchError> {
            ProgramOf::<T>::try_mutate(id, |r| {
                let r = r.as_mut().ok_or(Error::<T>::ProgramNotFound)?;
                r.live_jobs = r.live_jobs.saturating_add(1);
                Ok(())
            })
        }

        fn release(id: &ProgramId) {
            ProgramOf::<T>::mutate(id, |r| {
                if let Some(r) = r {
                    r.live_jobs = r.live_jobs.saturating_sub(1);
                }
            });
        }

        fn exists(id: &ProgramId) -> bool {
            ProgramOf::<T>::contains_key(id)
        }
    }

    /// The referee runs a registered program with the registry's own limits: the same
    /// validation, instrumentation and memory cap as every worker.
    impl<T: Config> Referee for Pallet<T> {
        fn max_code_len() -> u32 {
            T::MaxProgramSize::get()
        }

        fn execute(id: &ProgramId, input: &[u8], fuel: Fuel, max_output_len: u32) -> Result<Refereed, RefereeError> {
            let code = CodeOf::<T>::get(id).ok_or(RefereeError::ProgramNotFound)?;
            let limits = Self::limits();
            let run = tessera_executor::RunLimits { fuel, max_memory_pages: limits.max_memory_pages, max_output_len };
            let execution = tessera_executor::referee(&code, &limits, input, &run).map_err(|e| {
                log::warn!(target: LOG_TARGET, "referee cannot run program {id:?}: {e}");
                RefereeError::Unrunnable
            })?;
            Ok(Refereed { receipt: execution.receipt, code_len: code.len() as u32 })
        }
    }
}
