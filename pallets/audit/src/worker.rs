//! The auditor's off-chain work, each block: pick newly agreed results at the node's rate,
//! re-execute picked ones within the block's fuel budget, challenge (and referee) a result
//! whose receipt the re-execution does not reproduce.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::{
    offchain::{SendSignedTransaction, Signer},
    pallet_prelude::BlockNumberFor,
};
use sp_core::H256;
use sp_runtime::{
    offchain::{http, storage::StorageValueRef, Duration},
    traits::SaturatedConversion,
    Perbill,
};
use tessera_primitives::{audit, Fuel, JobId, Receipt};
use tessera_traits::Referee;

use crate::{pallet::*, LOG_TARGET, QUEUE_KEY, RATE_KEY};
use pallet_market::{Input, JobOf, Phase};

/// A picked result waiting for its re-execution.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct Candidate {
    /// The job.
    pub job: JobId,
    /// The receipt its replicas agreed.
    pub receipt: Receipt,
    /// The last block of its challenge window.
    pub until: u64,
}

/// What an audit found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Finding {
    /// The re-execution reproduced the agreed receipt.
    Confirmed,
    /// It did not: the auditor challenged.
    Challenged,
    /// The result could not be audited (input unavailable, engine failure).
    Skipped,
    /// The challenge could not be submitted (e.g. the pool refused it): try again next block.
    Retry,
}

/// How long an auditor waits for a remote input.
const FETCH_TIMEOUT_MS: u64 = 5_000;

impl<T: Config> Pallet<T> {
    /// The rate this node audits at: its own (offchain local storage) or the runtime's.
    pub fn rate() -> Perbill {
        match StorageValueRef::persistent(RATE_KEY).get::<u32>() {
            Ok(Some(parts)) => Perbill::from_parts(parts.min(1_000_000_000)),
            _ => T::AuditRate::get(),
        }
    }

    /// One block of auditing (the `offchain_worker` hook).
    pub(crate) fn audit(now: BlockNumberFor<T>) {
        let signer = Signer::<T, T::AuthorityId>::any_account();
        if !signer.can_sign() {
            return; // no auditor key on this node
        }
        let now: u64 = now.saturated_into();
        let queue = StorageValueRef::persistent(QUEUE_KEY);
        let mut candidates: Vec<Candidate> = queue.get().ok().flatten().unwrap_or_default();
        Self::pick(&mut candidates, Self::rate());
        let mut budget: Fuel = T::AuditFuelPerBlock::get();
        let mut waiting = Vec::new();
        for c in candidates {
            let Some(job) = JobOf::<T>::get(c.job) else { continue };
            // Only a result still open to challenge, by a transaction in a later block.
            if !matches!(job.phase, Phase::Challengeable(_, agreed) if agreed == c.receipt) || now >= c.until {
                continue;
            }
            if job.terms.fuel_limit > T::AuditFuelPerBlock::get() {
                continue;
            }
            if job.terms.fuel_limit > budget {
                waiting.push(c);
                continue;
            }
            budget = budget.saturating_sub(job.terms.fuel_limit);
            let finding = Self::check(&signer, &c, &job);
            log::info!(target: LOG_TARGET, "audited job {} at block {now}: {finding:?}", c.job);
            if finding == Finding::Retry {
                waiting.push(c);
            }
        }
        queue.set(&waiting);
    }

    /// Adds this block's agreed results to `candidates`, each with probability `rate` from
    /// the node's local randomness, up to `MaxAuditQueue`.
    fn pick(candidates: &mut Vec<Candidate>, rate: Perbill) {
        let seed = sp_io::offchain::random_seed();
        let max = T::MaxAuditQueue::get() as usize;
        for record in frame_system::Pallet::<T>::read_events_no_consensus() {
            let Ok(event) = record.event.clone().try_into() else { continue };
            if let pallet_market::Event::<T>::ResultAgreed { job, receipt, challenge_until } = event {
                if candidates.len() < max &&
                    !candidates.iter().any(|c| c.job == job) &&
                    audit::selected(&seed, job, rate)
                {
                    candidates.push(Candidate { job, receipt, until: challenge_until.saturated_into() });
                }
            }
        }
    }

    /// Re-executes `c` and challenges it when the receipts differ.
    fn check(
        signer: &Signer<T, T::AuthorityId, frame_system::offchain::ForAny>,
        c: &Candidate,
        job: &pallet_market::Job<T>,
    ) -> Finding {
        let Some((input, remote)) = Self::input_of(c.job, job) else { return Finding::Skipped };
        let Ok(refereed) =
            <T as pallet_market::Config>::Referee::execute(&job.terms.program, &input, job.terms.fuel_limit, job.terms.max_output_len)
        else {
            return Finding::Skipped;
        };
        if refereed.receipt == c.receipt {
            return Finding::Confirmed;
        }
        log::warn!(
            target: LOG_TARGET,
            "job {}: the agreed receipt {:?} is not reproduced ({:?}); challenging",
            c.job,
            c.receipt,
            refereed.receipt
        );
        let sent = signer.send_signed_transaction(|_| pallet_market::Call::<T>::challenge { job: c.job });
        if !matches!(sent, Some((_, Ok(())))) {
            log::error!(target: LOG_TARGET, "job {}: the challenge could not be submitted", c.job);
            return Finding::Retry;
        }
        if pallet_market::Pallet::<T>::is_refereeable(job) {
            let input = if remote { Some(input) } else { None };
            let sent = signer.send_signed_transaction(|_| pallet_market::Call::<T>::referee {
                job: c.job,
                input: input.clone(),
            });
            if !matches!(sent, Some((_, Ok(())))) {
                log::warn!(target: LOG_TARGET, "job {}: the referee call could not be submitted", c.job);
            }
        }
        Finding::Challenged
    }

    /// The job's input and whether it is remote (fetched and checked against its hash).
    fn input_of(id: JobId, job: &pallet_market::Job<T>) -> Option<(Vec<u8>, bool)> {
        match pallet_market::InputOf::<T>::get(id)? {
            Input::Inline(bytes) => Some((bytes.into_inner(), false)),
            Input::Remote { hash, len, uri } => {
                let max = u64::from(<T as pallet_market::Config>::MaxRefereeInputLen::get());
                if len > max {
                    return None;
                }
                let bytes = Self::fetch(&uri, len)?;
                (H256(sp_crypto_hashing::blake2_256(&bytes)) == hash && bytes.len() as u64 == len).then_some(())?;
                debug_assert_eq!(job.input_hash, hash);
                Some((bytes, true))
            },
        }
    }

    /// Fetches at most `len + 1` bytes from an `http(s)` URI.
    fn fetch(uri: &[u8], len: u64) -> Option<Vec<u8>> {
        let uri = core::str::from_utf8(uri).ok()?;
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return None;
        }
        let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(FETCH_TIMEOUT_MS));
        let pending = http::Request::get(uri).deadline(deadline).send().ok()?;
        let response = pending.try_wait(deadline).ok()?.ok()?;
        if response.code != 200 {
            log::warn!(target: LOG_TARGET, "input {uri}: HTTP {}", response.code);
            return None;
        }
        Some(response.body().take(len.saturating_add(1) as usize).collect())
    }
}
