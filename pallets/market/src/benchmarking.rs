//! Benchmarks of the market pallet (frame-benchmarking v2). Every call and every kind of work
//! `on_initialize` does at a deadline, each in its worst case.

use alloc::{boxed::Box, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
    traits::{fungible::Mutate, Get, Hooks},
    BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{Permill, Saturating};
use tessera_primitives::{commitment, ExitStatus, JobId, ProgramId, Receipt};
use tessera_traits::Referee as _;

use crate::*;

const SALT: [u8; 32] = [7; 32];
const FUEL_USED: u64 = 500;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
    let who: T::AccountId = account(name, index, 0);
    let plenty = T::ChallengeBond::get()
        .saturating_mul(10u32.into())
        .saturating_add(Pallet::<T>::deposit_for(1 << 22).saturating_mul(10u32.into()))
        .saturating_add(1_000_000_000u32.into());
    T::Currency::set_balance(&who, plenty);
    who
}

fn providers<T: Config>(name: &'static str, n: u32) -> Vec<T::AccountId> {
    (0..n)
        .map(|i| {
            let who: T::AccountId = account(name, i, 0);
            T::BenchmarkHelper::register_provider(&who);
            who
        })
        .collect()
}

fn spec<T: Config>(program: ProgramId, replicas: u32, input_len: u32) -> JobSpec<T> {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: 1_000,
            replicas,
            max_price_per_fuel: 10u32.into(),
            min_reputation: Permill::zero(),
            max_output_len: T::MaxOutputLen::get(),
            claim_timeout: T::MaxTimeout::get(),
            execution_timeout: T::MaxTimeout::get(),
            challenge_window: T::MinChallengeWindow::get(),
        },
        input: InputSpec::Inline(vec![1u8; input_len as usize]),
        // The worst case of posting (the most placement bytes to check, bound and store) and
        // of claiming (every label compared): the providers advertise all of it.
        placement: widest_placement::<T>(),
    }
}

/// A job with `replicas` slots posted by a funded requester.
fn posted<T: Config>(replicas: u32) -> (JobId, T::AccountId) {
    let requester = funded::<T>("requester", 0);
    let program = T::BenchmarkHelper::program(&requester);
    let id = Pallet::<T>::do_post_job(requester.clone(), spec::<T>(program, replicas, T::MaxInputLen::get()))
        .expect("a funded requester can post");
    (id, requester)
}

fn receipt(output: &[u8]) -> Receipt {
    Receipt::new(ExitStatus::Ok, FUEL_USED, output)
}

fn claim_all<T: Config>(job: JobId, who: &[T::AccountId]) {
    for p in who {
        Pallet::<T>::do_claim(p.clone(), job).expect("an eligible provider can claim");
    }
}

fn commit_all<T: Config>(job: JobId, who: &[T::AccountId], r: &Receipt) {
    for p in who {
        Pallet::<T>::do_commit(p.clone(), job, commitment(job, p, r, &SALT)).expect("a replica can commit");
    }
}

fn reveal_all<T: Config>(job: JobId, who: &[T::AccountId], r: &Receipt, output: &[u8]) {
    for p in who {
        Pallet::<T>::do_reveal(p.clone(), job, *r, SALT, BoundedVec::truncate_from(output.to_vec()))
            .expect("a replica can reveal");
    }
}

/// A job whose `r` replicas revealed `receipt` and agree (challengeable).
fn agreed<T: Config>(r: u32, output: &[u8]) -> (JobId, Vec<T::AccountId>) {
    let (job, _) = posted::<T>(r);
    let replicas = providers::<T>("replica", r);
    claim_all::<T>(job, &replicas);
    let rc = receipt(output);
    commit_all::<T>(job, &replicas, &rc);
    reveal_all::<T>(job, &replicas, &rc, output);
    (job, replicas)
}

fn deadline<T: Config>(job: JobId) -> BlockNumberFor<T> {
    JobOf::<T>::get(job).expect("live job").phase.deadline()
}

/// Moves to `at` with the deadline cursor there, as if every earlier block was handled.
fn go_to<T: Config>(at: BlockNumberFor<T>) {
    frame_system::Pallet::<T>::set_block_number(at);
    DeadlineCursor::<T>::put(at);
}

/// The salt of the benchmarks' sealed votes.
const VOTE_SALT: [u8; 32] = [7; 32];

/// `juror`'s sealed vote for `rc` in `job`'s current round.
fn sealed_vote<T: Config>(job: JobId, juror: &T::AccountId, rc: &Receipt) -> sp_core::H256 {
    let round = DisputeOf::<T>::get(job).unwrap().round;
    tessera_primitives::vote_commitment(job, round, juror, rc, &VOTE_SALT)
}

/// A challenged job of `r` agreeing replicas whose committee of `c` (all the other providers)
/// has been drawn; returns the job and its jurors.
fn drawn<T: Config>(r: u32, c: u32) -> (JobId, Vec<T::AccountId>) {
    let (job, _) = agreed::<T>(r, &output_bytes::<T>());
    providers::<T>("juror", c);
    Pallet::<T>::do_challenge(funded::<T>("challenger", 0), job).unwrap();
    let at = deadline::<T>(job);
    go_to::<T>(at);
    Pallet::<T>::on_initialize(at);
    let committee: Vec<T::AccountId> =
        DisputeOf::<T>::get(job).unwrap().committee.iter().map(|j| j.who.clone()).collect();
    assert_eq!(committee.len() as u32, c);
    (job, committee)
}

fn output_bytes<T: Config>() -> Vec<u8> {
    vec![42u8; T::MaxOutputLen::get() as usize]
}

#[benchmarks]
mod benches {
    use super::*;

    #[benchmark]
    fn post_job(i: Linear<0, { T::MaxInputLen::get() }>) {
        let requester = funded::<T>("requester", 0);
        let program = T::BenchmarkHelper::program(&requester);
        let s = spec::<T>(program, T::MaxReplicas::get(), i);
        #[extrinsic_call]
        _(RawOrigin::Signed(requester), Box::new(s));
        assert_eq!(JobOf::<T>::count(), 1);
        assert_eq!(PlacementOf::<T>::iter_keys().count(), 1);
    }

    #[benchmark]
    fn cancel_job(r: Linear<0, { T::MaxReplicas::get() }>) {
        let (job, requester) = posted::<T>(T::MaxReplicas::get());
        claim_all::<T>(job, &providers::<T>("replica", r));
        #[extrinsic_call]
        _(RawOrigin::Signed(requester), job);
        assert!(!JobOf::<T>::contains_key(job));
    }

    #[benchmark]
    fn claim_slot() {
        // The last claim: it also starts the execution phase.
        let r = T::MaxReplicas::get();
        let (job, _) = posted::<T>(r);
        let all = providers::<T>("replica", r);
        claim_all::<T>(job, &all[..all.len() - 1]);
        let last = all[all.len() - 1].clone();
        let labels = PlacementOf::<T>::get(job).expect("the benchmarks' jobs have a placement").labels.len();
        assert_eq!(labels, widest_placement::<T>().labels.len());
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job);
        assert!(matches!(JobOf::<T>::get(job).unwrap().phase, Phase::Committing(_)));
    }

    #[benchmark]
    fn release_slot() {
        // The worst case: a full job whose slots were released up to one short of the limit
        // (the longest forfeits list to read and write) goes back to claims.
        let r = T::MaxReplicas::get();
        let (job, _) = posted::<T>(r);
        let all = providers::<T>("replica", r);
        claim_all::<T>(job, &all[..1]);
        for p in all.iter().skip(1).take((r as usize).saturating_sub(1)) {
            Pallet::<T>::do_claim(p.clone(), job).unwrap();
            Pallet::<T>::do_release(p.clone(), job).unwrap();
        }
        let extra = providers::<T>("late", r);
        claim_all::<T>(job, &extra[..(r as usize).saturating_sub(1)]);
        let last = all[0].clone();
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job);
        assert!(matches!(JobOf::<T>::get(job).unwrap().phase, Phase::Open(_)));
    }

    #[benchmark]
    fn commit() {
        let r = T::MaxReplicas::get();
        let (job, _) = posted::<T>(r);
        let all = providers::<T>("replica", r);
        claim_all::<T>(job, &all);
        let rc = receipt(&output_bytes::<T>());
        commit_all::<T>(job, &all[..all.len() - 1], &rc);
        let last = all[all.len() - 1].clone();
        let c = commitment(job, &last, &rc, &SALT);
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job, c);
        assert!(matches!(JobOf::<T>::get(job).unwrap().phase, Phase::Revealing(_)));
    }

    #[benchmark]
    fn reveal(o: Linear<0, { T::MaxOutputLen::get() }>) {
        // The last reveal, with an output of `o` bytes: it also compares every receipt.
        let r = T::MaxReplicas::get();
        let (job, _) = posted::<T>(r);
        let all = providers::<T>("replica", r);
        claim_all::<T>(job, &all);
        let output = vec![42u8; o as usize];
        let rc = receipt(&output);
        commit_all::<T>(job, &all, &rc);
        reveal_all::<T>(job, &all[..all.len() - 1], &rc, &[]);
        let last = all[all.len() - 1].clone();
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job, rc, SALT, output);
        assert!(matches!(JobOf::<T>::get(job).unwrap().phase, Phase::Challengeable(..)));
    }

    #[benchmark]
    fn challenge() {
        let (job, _) = agreed::<T>(T::MaxReplicas::get(), &output_bytes::<T>());
        let challenger = funded::<T>("challenger", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(challenger), job);
        assert!(DisputeOf::<T>::contains_key(job));
    }

    #[benchmark]
    fn vote() {
        // The last sealed vote of a full committee: it also opens the reveals of votes.
        let (job, committee) = drawn::<T>(T::MaxReplicas::get(), T::CommitteeSize::get());
        let rc = receipt(&output_bytes::<T>());
        for j in &committee[..committee.len() - 1] {
            Pallet::<T>::do_vote(j.clone(), job, sealed_vote::<T>(job, j, &rc)).unwrap();
        }
        let last = committee[committee.len() - 1].clone();
        let sealed = sealed_vote::<T>(job, &last, &rc);
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job, sealed);
        assert_eq!(DisputeOf::<T>::get(job).unwrap().stage, DisputeStage::Revealing);
    }

    #[benchmark]
    fn reveal_vote() {
        // The last reveal of a full committee: it also moves the tally to the next block.
        let (job, committee) = drawn::<T>(T::MaxReplicas::get(), T::CommitteeSize::get());
        let rc = receipt(&output_bytes::<T>());
        for j in &committee {
            Pallet::<T>::do_vote(j.clone(), job, sealed_vote::<T>(job, j, &rc)).unwrap();
        }
        for j in &committee[..committee.len() - 1] {
            Pallet::<T>::do_reveal_vote(j.clone(), job, rc, VOTE_SALT).unwrap();
        }
        let last = committee[committee.len() - 1].clone();
        #[extrinsic_call]
        _(RawOrigin::Signed(last), job, rc, VOTE_SALT);
        assert!(DisputeOf::<T>::get(job).unwrap().committee.iter().all(|j| j.vote.is_some()));
    }

    #[benchmark]
    fn on_initialize_idle() {
        let now: BlockNumberFor<T> = 10u32.into();
        go_to::<T>(now);
        #[block]
        {
            Pallet::<T>::on_initialize(now);
        }
    }

    #[benchmark]
    fn expire_job(r: Linear<0, { T::MaxReplicas::get() - 1 }>) {
        // Claims close with `r` of `r + 1` slots taken, each of which committed before a
        // reopen (the expensive case: every one is compensated).
        let (job, _) = posted::<T>(r + 1);
        claim_all::<T>(job, &providers::<T>("replica", r));
        JobOf::<T>::mutate(job, |j| {
            for s in j.as_mut().unwrap().slots.iter_mut() {
                s.commitment = Some(Default::default());
            }
        });
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert!(ResultOf::<T>::contains_key(job));
    }

    #[benchmark]
    fn commit_deadline(r: Linear<1, { T::MaxReplicas::get() }>) {
        // Nobody committed: every replica is faulted (a slash each) and the slots reopen.
        let (job, _) = posted::<T>(r);
        claim_all::<T>(job, &providers::<T>("replica", r));
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert!(JobOf::<T>::get(job).map_or(true, |j| j.slots.is_empty()));
    }

    #[benchmark]
    fn reveal_deadline(r: Linear<1, { T::MaxReplicas::get() }>) {
        // Nobody revealed: every replica is faulted and the job ends.
        let (job, _) = posted::<T>(r);
        let replicas = providers::<T>("replica", r);
        claim_all::<T>(job, &replicas);
        commit_all::<T>(job, &replicas, &receipt(&[]));
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert!(ResultOf::<T>::contains_key(job));
    }

    #[benchmark]
    fn settle(r: Linear<1, { T::MaxReplicas::get() }>) {
        let (job, _) = agreed::<T>(r, &output_bytes::<T>());
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert_eq!(ResultOf::<T>::get(job).unwrap().outcome, Outcome::Settled);
    }

    #[benchmark]
    fn draw_committee(p: Linear<1, 1_024>) {
        // The worst case: all but a committee's worth of the registry is ineligible, so the
        // rejection probes mostly miss and the exact pass reads every provider.
        let p = p.min(T::BenchmarkHelper::max_providers().saturating_sub(T::MaxReplicas::get()));
        let (job, _) = agreed::<T>(T::MaxReplicas::get(), &output_bytes::<T>());
        let jurors = providers::<T>("juror", p);
        for who in jurors.iter().skip(T::CommitteeSize::get() as usize) {
            T::BenchmarkHelper::make_ineligible(who);
        }
        Pallet::<T>::do_challenge(funded::<T>("challenger", 0), job).unwrap();
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert!(!DisputeOf::<T>::get(job).unwrap().committee.is_empty());
    }

    #[benchmark]
    fn resolve_dispute(r: Linear<1, { T::MaxReplicas::get() }>, c: Linear<1, { T::CommitteeSize::get() }>) {
        // A rejected challenge: every replica is paid and rewarded and gets a share of the
        // bond, every juror is rewarded.
        let output = output_bytes::<T>();
        let (job, committee) = drawn::<T>(r, c);
        let rc = receipt(&output);
        for j in &committee {
            Pallet::<T>::do_vote(j.clone(), job, sealed_vote::<T>(job, j, &rc)).unwrap();
        }
        for j in &committee {
            Pallet::<T>::do_reveal_vote(j.clone(), job, rc, VOTE_SALT).unwrap();
        }
        let at = deadline::<T>(job);
        go_to::<T>(at);
        #[block]
        {
            Pallet::<T>::on_initialize(at);
        }
        assert_eq!(ResultOf::<T>::get(job).unwrap().outcome, Outcome::Settled);
    }

    #[benchmark]
    fn prune_result() {
        let (job, _) = agreed::<T>(1, &output_bytes::<T>());
        let at = deadline::<T>(job);
        go_to::<T>(at);
        Pallet::<T>::on_initialize(at);
        let prune_at = at.saturating_add(T::ResultRetention::get().max(1u32.into()));
        go_to::<T>(prune_at);
        #[block]
        {
            Pallet::<T>::on_initialize(prune_at);
        }
        assert!(!ResultOf::<T>::contains_key(job));
        assert!(Deadlines::<T>::iter().next().is_none());
    }

    /// The referee at its worst: the worst-case program ([`tessera_executor::worst_case`]:
    /// random loads and stores over the largest memory and a host call per iteration, until
    /// the fuel runs out) of `c` bytes, a fuel limit of `k` thousand, a remote input of `i`
    /// bytes supplied with the call and hashed. The replica's receipt is wrong, so settlement
    /// slashes it (settlement is charged on top, by `settle`).
    #[benchmark]
    fn referee(
        k: Linear<0, { (T::RefereeFuelLimit::get() / 1_000) as u32 }>,
        c: Linear<0, { T::Referee::max_code_len().saturating_sub(1_024) }>,
        i: Linear<8, { T::MaxRefereeInputLen::get() }>,
    ) {
        let fuel_limit = (u64::from(k) * 1_000).clamp(1, T::RefereeFuelLimit::get().max(1));
        let requester = funded::<T>("requester", 0);
        let program = T::BenchmarkHelper::referee_program(&requester, c);
        let input = vec![3u8; i as usize];
        let mut job_spec = spec::<T>(program, 1, 0);
        job_spec.terms.fuel_limit = fuel_limit;
        job_spec.input = InputSpec::Remote {
            hash: sp_core::H256(sp_crypto_hashing::blake2_256(&input)),
            len: u64::from(i),
            uri: b"https://example.invalid/input".to_vec(),
        };
        let job = Pallet::<T>::do_post_job(requester, job_spec).expect("a funded requester can post");
        let replicas = providers::<T>("replica", 1);
        claim_all::<T>(job, &replicas);
        let wrong = Receipt::new(ExitStatus::Ok, 1, b"wrong");
        commit_all::<T>(job, &replicas, &wrong);
        reveal_all::<T>(job, &replicas, &wrong, b"");
        let challenger = funded::<T>("challenger", 0);
        Pallet::<T>::do_challenge(challenger.clone(), job).expect("a funded challenger can challenge");
        #[extrinsic_call]
        _(RawOrigin::Signed(challenger), job, Some(input));
        let result = ResultOf::<T>::get(job).expect("the referee settled the job");
        assert_eq!(result.receipt.map(|r| r.status), Some(ExitStatus::OutOfFuel));
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
