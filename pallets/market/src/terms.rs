//! Job terms: what they must satisfy, what they cost (escrow and storage deposit), and what a
//! provider must meet to serve them. Pure reads of the configuration; nothing here writes
//! storage, so quotes (`TesseraApi::quote_job`) and `post_job` check terms the same way.

use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use sp_runtime::{
    traits::{Saturating, Zero},
    SaturatedConversion,
};
use tessera_primitives::{pricing, Fuel};
use tessera_primitives::JobId;
use tessera_traits::{Ineligible, PlacementSpec, PlacementTooLarge};

use crate::{pallet::*, types::*, BalanceOf};

impl<T: Config> Pallet<T> {
    /// The storage deposit for `bytes` bytes.
    pub fn deposit_for(bytes: u64) -> BalanceOf<T> {
        let bytes: BalanceOf<T> = bytes.saturated_into();
        T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
    }

    /// Length of an inline input (for weights); zero for remote inputs.
    pub fn inline_len(spec: &JobSpec<T>) -> u32 {
        match &spec.input {
            Input::Inline(bytes) => (bytes.len() as u32).min(T::MaxInputLen::get()),
            Input::Remote { .. } => 0,
        }
    }

    /// Bytes stored for a remote input with a URI of `uri_len` bytes: the hash, the length
    /// and the URI.
    pub fn remote_input_bytes(uri_len: u32) -> u64 {
        40u64.saturating_add(u64::from(uri_len))
    }

    /// Input bytes kept on chain for `input` (what its share of the deposit is charged for).
    fn stored_input_bytes(input: &InputSpec) -> u64 {
        match input {
            Input::Inline(bytes) => bytes.len() as u64,
            Input::Remote { uri, .. } => Self::remote_input_bytes(uri.len() as u32),
        }
    }

    /// What posting `spec` holds: the escrow breakdown and the storage deposit. `placement`
    /// is `spec`'s placement as [`Self::bound_placement`] keeps it.
    pub fn quote_spec(
        spec: &JobSpec<T>,
        placement: &StoredPlacement<T>,
    ) -> Result<(pricing::Quote<BalanceOf<T>>, BalanceOf<T>), Error<T>> {
        let t = &spec.terms;
        Self::quote_terms(
            t.fuel_limit,
            t.max_price_per_fuel,
            t.replicas,
            Self::stored_input_bytes(&spec.input).saturating_add(Self::stored_placement_bytes(placement)),
            t.max_output_len,
        )
    }

    /// Bytes stored for `placement` (what its share of the deposit is charged for): nothing
    /// when it is empty, since it is then not stored.
    pub fn stored_placement_bytes(placement: &StoredPlacement<T>) -> u64 {
        if placement.is_empty() {
            0
        } else {
            placement.encoded_size() as u64
        }
    }

    /// `placement` in the provider registry's bounds, or which part is too large
    /// (`RegionTooLong`, `TooManyLabels`, `LabelTooLong`): no provider could meet it.
    pub fn bound_placement(placement: PlacementSpec) -> Result<StoredPlacement<T>, Error<T>> {
        placement.bounded().map_err(|e| match e {
            PlacementTooLarge::RegionTooLong => Error::<T>::RegionTooLong,
            PlacementTooLarge::TooManyLabels => Error::<T>::TooManyLabels,
            PlacementTooLarge::LabelTooLong => Error::<T>::LabelTooLong,
        })
    }

    /// The escrow breakdown and storage deposit of a job with these terms, `stored_input`
    /// being the input bytes kept on chain.
    pub fn quote_terms(
        fuel_limit: Fuel,
        max_price_per_fuel: BalanceOf<T>,
        replicas: u32,
        stored_input: u64,
        max_output_len: u32,
    ) -> Result<(pricing::Quote<BalanceOf<T>>, BalanceOf<T>), Error<T>> {
        let q = pricing::quote(fuel_limit, max_price_per_fuel, replicas, T::ProtocolFee::get())
            .ok_or(Error::<T>::PriceOverflow)?;
        Ok((q, Self::deposit_for(stored_input.saturating_add(u64::from(max_output_len)))))
    }

    /// Checks the terms every job must meet, whatever its input and timing (what a quote
    /// checks).
    pub fn check_terms(
        fuel_limit: Fuel,
        max_price_per_fuel: BalanceOf<T>,
        replicas: u32,
        max_output_len: u32,
    ) -> Result<(), Error<T>> {
        ensure!(replicas >= 1 && replicas <= T::MaxReplicas::get(), Error::<T>::BadReplicas);
        ensure!(fuel_limit >= 1 && fuel_limit <= T::MaxFuel::get(), Error::<T>::BadFuelLimit);
        ensure!(!max_price_per_fuel.is_zero(), Error::<T>::ZeroPrice);
        ensure!(max_output_len <= T::MaxOutputLen::get(), Error::<T>::OutputLimitTooLarge);
        Ok(())
    }

    /// Checks all of a job's terms: [`Self::check_terms`], then the timeouts and the
    /// challenge window against their configured bounds.
    pub fn check_job_terms(terms: &JobTerms<T>) -> Result<(), Error<T>> {
        Self::check_terms(terms.fuel_limit, terms.max_price_per_fuel, terms.replicas, terms.max_output_len)?;
        let max_timeout = T::MaxTimeout::get();
        let timeout_ok = |t: BlockNumberFor<T>| !t.is_zero() && t <= max_timeout;
        ensure!(timeout_ok(terms.claim_timeout) && timeout_ok(terms.execution_timeout), Error::<T>::BadTimeout);
        ensure!(
            terms.execution_timeout >= Self::min_execution_timeout(terms.fuel_limit),
            Error::<T>::ExecutionTimeoutTooShort
        );
        ensure!(
            terms.challenge_window >= T::MinChallengeWindow::get() &&
                terms.challenge_window <= T::MaxChallengeWindow::get(),
            Error::<T>::BadChallengeWindow
        );
        Ok(())
    }

    /// The shortest execution timeout a job of `fuel_limit` may ask for: the blocks the slowest
    /// execution the protocol allows for (`FuelPerBlock`) needs, plus one for the commitment
    /// to be included.
    pub fn min_execution_timeout(fuel_limit: Fuel) -> BlockNumberFor<T> {
        let per_block = T::FuelPerBlock::get().max(1);
        let blocks = fuel_limit.div_ceil(per_block).saturating_add(1);
        blocks.saturated_into()
    }

    /// The fee `post_job` charges now ([`pricing::posting_fee`] at the current occupancy).
    pub fn posting_fee() -> BalanceOf<T> {
        pricing::posting_fee(T::PostingFee::get(), JobOf::<T>::count(), T::MaxLiveJobs::get())
    }

    /// `input` as the job keeps it, or why it cannot be kept: an inline input longer than
    /// `MaxInputLen`, a URI longer than `MaxUriLen` or empty.
    pub(crate) fn bound_input(input: InputSpec) -> Result<StoredInput<T>, Error<T>> {
        match input {
            Input::Inline(bytes) => Ok(Input::Inline(bytes.try_into().map_err(|_| Error::<T>::InputTooLong)?)),
            Input::Remote { hash, len, uri } => {
                ensure!(!uri.is_empty(), Error::<T>::EmptyUri);
                Ok(Input::Remote { hash, len, uri: uri.try_into().map_err(|_| Error::<T>::UriTooLong)? })
            },
        }
    }

    /// The hash and length of `input` that the job records and workers check.
    pub(crate) fn input_digest(input: &StoredInput<T>) -> (H256, u64) {
        match input {
            Input::Inline(bytes) => (H256(blake2_256(bytes)), bytes.len() as u64),
            Input::Remote { hash, len, .. } => (*hash, *len),
        }
    }

    /// The requirements a provider must meet to claim a slot of `job` (`id`): its terms and
    /// its placement, if it has one.
    pub fn requirements(id: JobId, job: &Job<T>) -> RequirementsOf<T> {
        job.terms.requirements(PlacementOf::<T>::get(id).unwrap_or_default())
    }

    /// The error a claim fails with when the provider registry finds the claimer ineligible.
    pub(crate) fn ineligible_error(e: Ineligible) -> Error<T> {
        match e {
            Ineligible::NotProvider => Error::<T>::NotProvider,
            Ineligible::Inactive => Error::<T>::ProviderInactive,
            Ineligible::InMaintenance => Error::<T>::ProviderInMaintenance,
            Ineligible::StakeTooLow => Error::<T>::StakeTooLow,
            Ineligible::ReputationTooLow => Error::<T>::ReputationTooLow,
            Ineligible::PriceTooHigh => Error::<T>::PriceTooHigh,
            Ineligible::NoCapacity => Error::<T>::NoCapacity,
            Ineligible::WrongRegion => Error::<T>::WrongRegion,
            Ineligible::MissingLabel => Error::<T>::MissingLabel,
        }
    }
}
