//! The on-chain referee: a dispute over a small job is decided by the runtime re-executing the
//! job's program itself, with the protocol's metering ([`tessera_executor::referee`] behind
//! [`tessera_traits::Referee`]). Its receipt is final; no committee is drawn.
//!
//! A job is *refereeable* when its fuel limit is at most `RefereeFuelLimit` and its input at
//! most `MaxRefereeInputLen` bytes, so the heaviest referee call fits in a block. The runtime
//! does not run the referee in a hook: anyone submits [`Pallet::referee`] while the dispute
//! waits for it (`RefereeTimeout` blocks), the call is charged the weight of the job's fuel
//! limit up front and refunded to the fuel actually used, and is free when it decides the
//! dispute. An inline input is on chain already; a remote input's bytes come with the call and
//! must hash to the job's input hash (any party holding the input can supply them: the
//! replicas fetched it, the requester owns it). When nobody referees in time, the dispute
//! goes to a committee as a large job's would.

use alloc::vec::Vec;
use frame_support::{dispatch::PostDispatchInfo, pallet_prelude::*};
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use tessera_primitives::{Fuel, JobId};
use tessera_traits::Referee;

use crate::{pallet::*, types::*, WeightInfo};

impl<T: Config> Pallet<T> {
    /// Whether disputes over `job` are decided by the referee.
    pub fn is_refereeable(job: &Job<T>) -> bool {
        job.terms.fuel_limit <= T::RefereeFuelLimit::get() &&
            job.input_len <= u64::from(T::MaxRefereeInputLen::get())
    }

    /// Weight of a referee call that runs `fuel`, compiles `code_len` bytes and reads
    /// `input_len` bytes of input.
    pub fn referee_weight(fuel: Fuel, code_len: u32, input_len: u32) -> Weight {
        let kilo_fuel = u32::try_from(fuel.div_ceil(1_000)).unwrap_or(u32::MAX);
        T::WeightInfo::referee(kilo_fuel, code_len, input_len)
    }

    /// The heaviest referee call the runtime's parameters allow (it must fit in a block).
    pub fn max_referee_weight() -> Weight {
        Self::referee_weight(T::RefereeFuelLimit::get(), T::Referee::max_code_len(), T::MaxRefereeInputLen::get())
    }

    /// `referee`: re-executes the disputed job and settles it by the referee's receipt.
    /// Checks everything before running anything, and changes nothing when the engine fails.
    pub(crate) fn do_referee(
        who: T::AccountId,
        id: JobId,
        input: Option<BoundedVec<u8, T::MaxRefereeInputLen>>,
    ) -> DispatchResultWithPostInfo {
        let (job, deadline, dispute) = Self::disputed(id)?;
        ensure!(Self::is_refereeable(&job), Error::<T>::NotRefereeable);
        ensure!(dispute.round == 0 && dispute.stage == DisputeStage::Drawing, Error::<T>::RefereeClosed);
        ensure!(Self::now() <= deadline, Error::<T>::DeadlinePassed);
        let bytes: Vec<u8> = match (InputOf::<T>::get(id), input) {
            (Some(Input::Inline(inline)), None) => inline.into_inner(),
            (Some(Input::Inline(_)), Some(_)) => return Err(Error::<T>::InputNotNeeded.into()),
            (Some(Input::Remote { .. }), None) => return Err(Error::<T>::InputRequired.into()),
            (Some(Input::Remote { hash, len, .. }), Some(given)) => {
                ensure!(given.len() as u64 == len && H256(blake2_256(&given)) == hash, Error::<T>::InputMismatch);
                given.into_inner()
            },
            (None, _) => return Err(Error::<T>::NotDisputed.into()),
        };
        let input_len = bytes.len() as u32;
        let refereed = T::Referee::execute(&job.terms.program, &bytes, job.terms.fuel_limit, job.terms.max_output_len)
            .map_err(|_| Error::<T>::RefereeFailed)?;
        let receipt = refereed.receipt;
        Self::deposit_event(Event::Refereed { job: id, receipt, by: who });
        Self::settle(id, job, receipt, dispute.challenge, &[]);
        let weight = Self::referee_weight(receipt.fuel_used, refereed.code_len, input_len)
            .saturating_add(T::WeightInfo::settle(T::MaxReplicas::get()));
        Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee: Pays::No })
    }
}
