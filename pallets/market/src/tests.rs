//! Tests of the market pallet: every call's happy path and named errors, whole job lifecycles
//! with exact balances, the deadline queue, emission, and (in `proptests`) random call
//! sequences checked for conservation of funds and the pallet's invariants.

use frame_support::{
    assert_noop, assert_ok,
    traits::{
        fungible::{Inspect, InspectHold},
        Currency as _,
    },
};
use sp_core::H256;
use sp_runtime::{DispatchError, Permill};
use tessera_primitives::{commitment, vote_commitment, ExitStatus, JobId, ProgramId, Receipt};

use crate::{
    mock::*, Deadlines, DisputeOf, DisputeStage, Duty, Error, Event, HoldReason, InputOf, InputSpec, JobOf, JobSpec, JobTerms, Outcome,
    OutputOf, Phase, PlacementOf, ResultOf, TotalEmitted,
};
use tessera_traits::PlacementSpec;

// -------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------

pub(crate) const FUEL_LIMIT: u64 = 1_000;
pub(crate) const MAX_PRICE: Balance = 5;
pub(crate) const PRICE: Balance = 2;
pub(crate) const FUEL_USED: u64 = 600;
pub(crate) const INPUT: &[u8] = b"input";
pub(crate) const OUTPUT: &[u8] = b"result";
/// Escrow of the default spec: 2 replicas × 1,000 fuel × 5 + 10 % fee.
pub(crate) const ESCROW: Balance = 11_000;
/// Deposit of the default spec: base 10 + 5 input bytes + 64 output bytes.
pub(crate) const DEPOSIT: Balance = 79;

pub(crate) fn spec(program: ProgramId) -> JobSpec<Test> {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: FUEL_LIMIT,
            replicas: 2,
            max_price_per_fuel: MAX_PRICE,
            min_reputation: Permill::zero(),
            max_output_len: 64,
            claim_timeout: 10,
            execution_timeout: 10,
            challenge_window: 10,
        },
        input: InputSpec::Inline(INPUT.to_vec().try_into().unwrap()),
        placement: Default::default(),
    }
}

/// A placement in `region` (if any) requiring `labels`.
pub(crate) fn placement(region: Option<&[u8]>, labels: &[&[u8]]) -> PlacementSpec {
    PlacementSpec { region: region.map(|r| r.to_vec()), labels: labels.iter().map(|l| l.to_vec()).collect() }
}

/// Moves provider `who` to `region` with `labels` (the mock registers everyone in `eu`).
pub(crate) fn relocate(who: AccountId, region: &[u8], labels: &[&[u8]]) {
    let profile = pallet_providers::ProfileSpec::<Test> {
        region: region.to_vec(),
        labels: labels.iter().map(|l| l.to_vec()).collect(),
        ..provider_profile(2, PRICE)
    };
    assert_ok!(Providers::update_profile(RuntimeOrigin::signed(who), profile));
}

pub(crate) fn post(who: AccountId, s: JobSpec<Test>) -> JobId {
    let id = crate::NextJobId::<Test>::get();
    assert_ok!(Market::post_job(RuntimeOrigin::signed(who), Box::new(s)));
    id
}

/// A program, `n` registered providers and a default job posted by Alice.
pub(crate) fn setup(n: usize) -> (ProgramId, JobId) {
    register_providers(n);
    let program = upload_program(ALICE);
    let job = post(ALICE, spec(program));
    (program, job)
}

pub(crate) fn honest() -> Receipt {
    Receipt::new(ExitStatus::Ok, FUEL_USED, OUTPUT)
}

pub(crate) fn lie() -> Receipt {
    Receipt::new(ExitStatus::Ok, FUEL_USED, b"forged")
}

pub(crate) fn salt(who: AccountId) -> [u8; 32] {
    [who as u8; 32]
}

pub(crate) fn claim(who: AccountId, job: JobId) {
    assert_ok!(Market::claim_slot(RuntimeOrigin::signed(who), job));
}

pub(crate) fn commit_to(who: AccountId, job: JobId, r: &Receipt) {
    assert_ok!(Market::commit(RuntimeOrigin::signed(who), job, commitment(job, &who, r, &salt(who))));
}

pub(crate) fn out(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec().try_into().unwrap()
}

pub(crate) fn reveal_as(who: AccountId, job: JobId, r: Receipt, output: &[u8]) {
    assert_ok!(Market::reveal(RuntimeOrigin::signed(who), job, r, salt(who), out(output)));
}

/// Claims, commits and reveals `replicas[i] = (receipt, output)` as provider `P[i]`.
pub(crate) fn run_replicas_with(job: JobId, replicas: &[(Receipt, &[u8])]) {
    for (i, _) in replicas.iter().enumerate() {
        claim(P[i], job);
    }
    for (i, (r, _)) in replicas.iter().enumerate() {
        commit_to(P[i], job, r);
    }
    for (i, (r, output)) in replicas.iter().enumerate() {
        reveal_as(P[i], job, *r, output);
    }
}

/// [`run_replicas_with`], revealing the output that goes with each receipt: `OUTPUT` for
/// [`honest`], `forged` for [`lie`].
pub(crate) fn run_replicas(job: JobId, receipts: &[Receipt]) {
    let replicas: Vec<(Receipt, &[u8])> =
        receipts.iter().map(|r| (*r, if *r == honest() { OUTPUT } else { b"forged".as_slice() })).collect();
    run_replicas_with(job, &replicas);
}

pub(crate) fn phase(job: JobId) -> Phase<u64> {
    JobOf::<Test>::get(job).expect("live job").phase
}

pub(crate) fn held(reason: HoldReason, who: AccountId) -> Balance {
    Balances::balance_on_hold(&RuntimeHoldReason::Market(reason), &who)
}

pub(crate) fn stake_held(who: AccountId) -> Balance {
    Balances::balance_on_hold(&RuntimeHoldReason::Providers(pallet_providers::HoldReason::Stake), &who)
}

pub(crate) fn free(who: AccountId) -> Balance {
    Balances::balance(&who)
}

pub(crate) fn events() -> Vec<Event<Test>> {
    System::events()
        .into_iter()
        .filter_map(|r| if let RuntimeEvent::Market(e) = r.event { Some(e) } else { None })
        .collect()
}

pub(crate) fn last_event() -> Event<Test> {
    events().pop().expect("a market event")
}

pub(crate) fn has_event(e: Event<Test>) -> bool {
    events().contains(&e)
}

pub(crate) fn jurors(job: JobId) -> Vec<AccountId> {
    DisputeOf::<Test>::get(job).expect("dispute").committee.iter().map(|j| j.who).collect()
}

/// A juror's salt for its sealed votes.
pub(crate) fn vote_salt(who: AccountId) -> [u8; 32] {
    [who as u8 ^ 0x5a; 32]
}

/// `who`'s sealed vote for `r` in `job`'s current round.
pub(crate) fn sealed(who: AccountId, job: JobId, r: &Receipt) -> H256 {
    vote_commitment(job, DisputeOf::<Test>::get(job).expect("dispute").round, &who, r, &vote_salt(who))
}

pub(crate) fn vote_as(who: AccountId, job: JobId, r: Receipt) {
    assert_ok!(Market::vote(RuntimeOrigin::signed(who), job, sealed(who, job, &r)));
}

pub(crate) fn reveal_vote_as(who: AccountId, job: JobId, r: Receipt) {
    assert_ok!(Market::reveal_vote(RuntimeOrigin::signed(who), job, r, vote_salt(who)));
}

/// A job whose two replicas disagreed, among 5 providers, with its committee drawn (block 2).
pub(crate) fn split_and_drawn() -> (JobId, Vec<AccountId>) {
    let (_, job) = setup(5);
    run_replicas(job, &[honest(), lie()]);
    run_to_block(2);
    (job, jurors(job))
}

/// The disputed `job` and its dispute as of its first draw, for calling the draw directly.
pub(crate) fn first_round(job: JobId) -> (crate::Job<Test>, crate::Dispute<Test>) {
    let mut dispute = DisputeOf::<Test>::get(job).expect("dispute");
    dispute.round = 1;
    (JobOf::<Test>::get(job).expect("job"), dispute)
}

/// Every juror in `committee` seals a vote for `r`, then opens it (the tally follows in the
/// next block).
pub(crate) fn decide(job: JobId, committee: &[AccountId], r: Receipt) {
    for j in committee {
        vote_as(*j, job, r);
    }
    for j in committee {
        reveal_vote_as(*j, job, r);
    }
}

pub(crate) fn reputation(who: AccountId) -> tessera_primitives::reputation::Reputation {
    pallet_providers::ProviderOf::<Test>::get(who).unwrap().reputation
}

pub(crate) fn live_assignments(who: AccountId) -> u32 {
    pallet_providers::ProviderOf::<Test>::get(who).unwrap().live_assignments
}

// -------------------------------------------------------------------------------------------
// post_job
// -------------------------------------------------------------------------------------------

mod post_job {
    use super::*;

    #[test]
    fn holds_escrow_and_deposit_and_opens_slots() {
        new_test_ext().execute_with(|| {
            let (program, job) = setup(0);
            assert_eq!(job, 0);
            assert_eq!(held(HoldReason::Escrow, ALICE), ESCROW);
            assert_eq!(held(HoldReason::StorageDeposit, ALICE), DEPOSIT);
            let j = JobOf::<Test>::get(job).unwrap();
            assert_eq!(j.phase, Phase::Open(11));
            assert_eq!(j.input_hash, H256(sp_crypto_hashing::blake2_256(INPUT)));
            assert_eq!((j.escrow, j.deposit, j.terms.replicas), (ESCROW, DEPOSIT, 2));
            assert!(InputOf::<Test>::contains_key(job));
            assert!(Deadlines::<Test>::contains_key(11, job));
            assert_eq!(pallet_programs::ProgramOf::<Test>::get(program).unwrap().live_jobs, 1);
            assert_eq!(
                last_event(),
                Event::JobPosted {
                    job,
                    requester: ALICE,
                    program,
                    escrow: ESCROW,
                    deposit: DEPOSIT,
                    posting_fee: 0,
                    claim_until: 11
                }
            );
            assert_eq!(post(BOB, spec(program)), 1, "ids count up");
            check_invariants();
        });
    }

    #[test]
    fn remote_input_stores_hash_and_uri() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            let mut s = spec(program);
            let hash = H256::repeat_byte(7);
            s.input = InputSpec::Remote { hash, len: 1 << 30, uri: b"https://x/i".to_vec().try_into().unwrap() };
            let job = post(ALICE, s);
            let j = JobOf::<Test>::get(job).unwrap();
            assert_eq!((j.input_hash, j.input_len), (hash, 1 << 30));
            // Deposit: base 10 + (40 + 11 URI bytes) + 64 output bytes.
            assert_eq!(j.deposit, 10 + 51 + 64);
        });
    }

    #[test]
    fn every_bad_parameter_has_its_error_and_changes_nothing() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            let cases: Vec<(Box<dyn Fn(&mut JobSpec<Test>)>, Error<Test>)> = vec![
                (Box::new(|s| s.terms.replicas = 0), Error::BadReplicas),
                (Box::new(|s| s.terms.replicas = MAX_REPLICAS + 1), Error::BadReplicas),
                (Box::new(|s| s.terms.fuel_limit = 0), Error::BadFuelLimit),
                (Box::new(|s| s.terms.fuel_limit = 1_000_001), Error::BadFuelLimit),
                (Box::new(|s| s.terms.max_price_per_fuel = 0), Error::ZeroPrice),
                (Box::new(|s| s.terms.max_output_len = MAX_OUTPUT + 1), Error::OutputLimitTooLarge),
                (Box::new(|s| s.terms.claim_timeout = 0), Error::BadTimeout),
                (Box::new(|s| s.terms.execution_timeout = 101), Error::BadTimeout),
                (Box::new(|s| s.terms.challenge_window = 0), Error::BadChallengeWindow),
                (Box::new(|s| s.terms.challenge_window = 51), Error::BadChallengeWindow),
                (
                    Box::new(|s| s.input = InputSpec::Remote { hash: H256::zero(), len: 1, uri: Default::default() }),
                    Error::EmptyUri,
                ),
                (Box::new(|s| s.terms.program = H256::repeat_byte(1)), Error::ProgramNotFound),
                // Over-long arguments decode (plain vectors) and get named errors.
                (Box::new(|s| s.input = InputSpec::Inline(vec![0; 1_025])), Error::InputTooLong),
                (
                    Box::new(|s| s.input = InputSpec::Remote { hash: H256::zero(), len: 1, uri: vec![b'u'; 65] }),
                    Error::UriTooLong,
                ),
                (
                    Box::new(|s| {
                        s.terms.fuel_limit = 1_000_000;
                        s.terms.execution_timeout = 20;
                        s.terms.max_price_per_fuel = u64::MAX / 2;
                    }),
                    Error::PriceOverflow,
                ),
                // A placement beyond the providers' own bounds (regions of 16 bytes, 4 labels of
                // 8 bytes in the mock) could never be met.
                (Box::new(|s| s.placement.region = Some(vec![b'r'; 17])), Error::RegionTooLong),
                (Box::new(|s| s.placement.labels = vec![b"l".to_vec(); 5]), Error::TooManyLabels),
                (Box::new(|s| s.placement.labels = vec![b"gpu".to_vec(), vec![b'l'; 9]]), Error::LabelTooLong),
                // 1,000,000 fuel at 100,000 per block needs 10 blocks plus one.
                (
                    Box::new(|s| {
                        s.terms.fuel_limit = 1_000_000;
                        s.terms.execution_timeout = 10;
                    }),
                    Error::ExecutionTimeoutTooShort,
                ),
            ];
            for (change, error) in cases {
                let mut s = spec(program);
                change(&mut s);
                assert_noop!(Market::post_job(RuntimeOrigin::signed(ALICE), Box::new(s)), error);
            }
            assert_noop!(
                Market::post_job(RuntimeOrigin::signed(POOR), Box::new(spec(program))),
                Error::<Test>::CannotAffordEscrow
            );
            PostingFee::set(60);
            assert_noop!(
                Market::post_job(RuntimeOrigin::signed(POOR), Box::new(spec(program))),
                Error::<Test>::CannotAffordPostingFee
            );
            PostingFee::set(0);
            assert_noop!(Market::post_job(RuntimeOrigin::none(), Box::new(spec(program))), DispatchError::BadOrigin);
        });
    }

    #[test]
    fn live_jobs_are_capped() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            for _ in 0..16 {
                post(ALICE, spec(program));
            }
            assert_noop!(
                Market::post_job(RuntimeOrigin::signed(BOB), Box::new(spec(program))),
                Error::<Test>::TooManyJobs
            );
        });
    }

    #[test]
    fn escrow_hold_failing_after_the_deposit_check_rolls_everything_back() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            // Enough for the escrow, not for escrow + deposit.
            Balances::make_free_balance_be(&BOB, ESCROW + 5);
            assert_noop!(
                Market::post_job(RuntimeOrigin::signed(BOB), Box::new(spec(program))),
                Error::<Test>::CannotAffordEscrow
            );
            assert_eq!(held(HoldReason::Escrow, BOB), 0);
        });
    }
}

// -------------------------------------------------------------------------------------------
// claim_slot
// -------------------------------------------------------------------------------------------

mod claim_slot {
    use super::*;

    #[test]
    fn takes_a_slot_and_the_last_claim_starts_execution() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            assert_eq!(last_event(), Event::SlotClaimed { job, provider: P[0], price_per_fuel: PRICE });
            assert_eq!(phase(job), Phase::Open(11));
            assert_eq!(live_assignments(P[0]), 1);
            System::set_block_number(3);
            claim(P[1], job);
            assert_eq!(phase(job), Phase::Committing(13));
            assert_eq!(last_event(), Event::JobAssigned { job, commit_until: 13 });
            assert!(!Deadlines::<Test>::contains_key(11, job));
            assert!(Deadlines::<Test>::contains_key(13, job));
            check_invariants();
        });
    }

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (program, job) = setup(4);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), 99), Error::<Test>::JobNotFound);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(CHARLIE), job), Error::<Test>::NotProvider);
            claim(P[0], job);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::AlreadyClaimed);

            // A provider posting a job cannot serve it.
            let own = post(P[3], spec(program));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[3]), own), Error::<Test>::OwnJob);

            assert_ok!(Providers::set_maintenance(RuntimeOrigin::signed(P[1]), true));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[1]), job), Error::<Test>::ProviderInMaintenance);

            assert_ok!(Providers::update_profile(RuntimeOrigin::signed(P[2]), provider_profile(2, MAX_PRICE + 1)));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[2]), job), Error::<Test>::PriceTooHigh);

            let mut picky = spec(program);
            picky.terms.min_reputation = Permill::from_percent(99);
            let picky = post(ALICE, picky);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), picky), Error::<Test>::ReputationTooLow);

            // P[0] has capacity 2: one slot taken, one more job fills it.
            let other = post(BOB, spec(program));
            claim(P[0], other);
            let third = post(BOB, spec(program));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), third), Error::<Test>::NoCapacity);

            // Claims close at the deadline.
            System::set_block_number(12);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[3]), job), Error::<Test>::DeadlinePassed);
        });
    }

    #[test]
    fn stake_below_minimum_and_inactive_providers_cannot_claim() {
        new_test_ext().execute_with(|| {
            register_providers(2);
            let program = upload_program(ALICE);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(P[0]), STAKE));
            let job = post(ALICE, spec(program));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::StakeTooLow);
            // The liveness timeout is 10,000 blocks.
            System::set_block_number(10_002);
            let late = post(ALICE, spec(program));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[1]), late), Error::<Test>::ProviderInactive);
            assert_ok!(Providers::heartbeat(RuntimeOrigin::signed(P[1])));
            claim(P[1], late);
        });
    }

    #[test]
    fn not_open_once_full() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            claim(P[0], job);
            claim(P[1], job);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[2]), job), Error::<Test>::NotOpen);
        });
    }
}

// -------------------------------------------------------------------------------------------
// placement
// -------------------------------------------------------------------------------------------

mod placement {
    use super::*;

    fn placed(program: ProgramId, replicas: u32, p: PlacementSpec) -> JobId {
        let mut s = spec(program);
        s.terms.replicas = replicas;
        s.placement = p;
        post(ALICE, s)
    }

    #[test]
    fn a_regional_job_is_claimable_only_in_its_region() {
        new_test_ext().execute_with(|| {
            register_providers(3);
            relocate(P[1], b"us-east", &[]);
            relocate(P[2], b"us-east-2", &[]);
            let program = upload_program(ALICE);
            let job = placed(program, 1, placement(Some(b"us-east"), &[]));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::WrongRegion);
            // Exact bytes: a region that merely starts with the required one is another region.
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[2]), job), Error::<Test>::WrongRegion);
            claim(P[1], job);
            assert!(matches!(phase(job), Phase::Committing(_)));
            // A job without placement takes anyone.
            let open = post(ALICE, spec(program));
            claim(P[0], open);
            claim(P[2], open);
            check_invariants();
        });
    }

    #[test]
    fn a_provider_lacking_one_label_cannot_claim_and_nothing_changes() {
        new_test_ext().execute_with(|| {
            register_providers(2);
            relocate(P[0], b"eu", &[b"gpu"]);
            relocate(P[1], b"eu", &[b"sgx", b"cpu", b"gpu"]);
            let program = upload_program(ALICE);
            let job = placed(program, 2, placement(Some(b"eu"), &[b"gpu", b"sgx"]));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::MissingLabel);
            claim(P[1], job);
            assert_eq!(JobOf::<Test>::get(job).unwrap().slots.len(), 1);
            // Once it advertises the label, the same provider may claim.
            relocate(P[0], b"eu", &[b"gpu", b"sgx"]);
            claim(P[0], job);
            check_invariants();
        });
    }

    #[test]
    fn placement_is_stored_only_when_it_asks_for_something_and_charged_for() {
        new_test_ext().execute_with(|| {
            register_providers(1);
            let program = upload_program(ALICE);
            let plain = post(ALICE, spec(program));
            assert!(!PlacementOf::<Test>::contains_key(plain));
            assert_eq!(JobOf::<Test>::get(plain).unwrap().deposit, DEPOSIT);
            // An empty label list and no region is no placement at all.
            let empty = placed(program, 2, placement(None, &[]));
            assert!(!PlacementOf::<Test>::contains_key(empty));
            let p = placement(Some(b"eu"), &[b"gpu"]);
            let job = placed(program, 2, p.clone());
            let stored = PlacementOf::<Test>::get(job).expect("stored");
            assert_eq!(stored.region.as_ref().map(|r| r.to_vec()), p.region);
            // Deposit: the default's plus the stored placement's bytes (1 + 1 + 2, 1 + 1 + 3).
            let bytes = codec::Encode::encoded_size(&stored) as Balance;
            assert_eq!(bytes, 9);
            assert_eq!(JobOf::<Test>::get(job).unwrap().deposit, DEPOSIT + bytes);
            assert_eq!(held(HoldReason::StorageDeposit, ALICE), 2 * DEPOSIT + DEPOSIT + bytes);
        });
    }

    #[test]
    fn placement_is_removed_with_the_job_however_it_ends() {
        new_test_ext().execute_with(|| {
            register_providers(2);
            let program = upload_program(ALICE);
            let p = || placement(Some(b"eu"), &[]);
            // Cancelled.
            let cancelled = placed(program, 2, p());
            assert_ok!(Market::cancel_job(RuntimeOrigin::signed(ALICE), cancelled));
            assert!(!PlacementOf::<Test>::contains_key(cancelled));
            // Expired unclaimed: nobody is in `us`.
            let expired = placed(program, 1, placement(Some(b"us"), &[]));
            // Settled.
            let settled = placed(program, 2, p());
            run_replicas(settled, &[honest(), honest()]);
            assert!(PlacementOf::<Test>::contains_key(settled));
            // Both end at block 11; their results are kept until block 31.
            run_to_block(25);
            for job in [expired, settled] {
                assert!(!JobOf::<Test>::contains_key(job));
                assert!(!PlacementOf::<Test>::contains_key(job));
            }
            assert_eq!(ResultOf::<Test>::get(expired).unwrap().outcome, Outcome::Expired);
            assert_eq!(ResultOf::<Test>::get(settled).unwrap().outcome, Outcome::Settled);
            assert_eq!(PlacementOf::<Test>::iter().count(), 0);
        });
    }

    #[test]
    fn committees_are_drawn_whatever_the_placement() {
        new_test_ext().execute_with(|| {
            // Two replicas in `us` disagree; the five others, all in `eu`, can judge.
            register_providers(7);
            relocate(P[0], b"us", &[b"gpu"]);
            relocate(P[1], b"us", &[b"gpu"]);
            let program = upload_program(ALICE);
            let job = placed(program, 2, placement(Some(b"us"), &[b"gpu"]));
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            let committee = jurors(job);
            assert_eq!(committee.len(), 3);
            assert!(committee.iter().all(|j| P[2..].contains(j)), "{committee:?}");
            decide(job, &committee, honest());
            run_to_block(3);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            assert!(!PlacementOf::<Test>::contains_key(job));
        });
    }
}

// -------------------------------------------------------------------------------------------
// commit and reveal
// -------------------------------------------------------------------------------------------

mod commit {
    use super::*;

    #[test]
    fn records_and_the_last_commit_opens_reveals() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            claim(P[1], job);
            System::set_block_number(2);
            commit_to(P[0], job, &honest());
            assert_eq!(last_event(), Event::Committed { job, provider: P[0] });
            assert_eq!(phase(job), Phase::Committing(11));
            commit_to(P[1], job, &honest());
            assert_eq!(phase(job), Phase::Revealing(2 + REVEAL_TIMEOUT));
            assert_eq!(last_event(), Event::RevealOpened { job, reveal_until: 2 + REVEAL_TIMEOUT });
            check_invariants();
        });
    }

    #[test]
    fn a_replica_may_commit_while_the_job_is_still_open() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            commit_to(P[0], job, &honest());
            assert_eq!(last_event(), Event::Committed { job, provider: P[0] });
            // Still open: the other slot is unclaimed, and one commitment opens nothing.
            assert!(matches!(phase(job), Phase::Open(_)));
            assert_noop!(
                Market::commit(RuntimeOrigin::signed(P[0]), job, H256::repeat_byte(2)),
                Error::<Test>::AlreadyCommitted
            );
            // The last claim starts the commit phase; its claimer's commitment (in the same
            // block, as `batch_all(claim_slot, commit)` does) opens the reveals at once.
            claim(P[1], job);
            assert_eq!(phase(job), Phase::Committing(11));
            commit_to(P[1], job, &honest());
            assert_eq!(phase(job), Phase::Revealing(1 + REVEAL_TIMEOUT));
            check_invariants();
            // Past the reveals, commitments are refused by name.
            reveal_as(P[0], job, honest(), OUTPUT);
            assert_noop!(
                Market::commit(RuntimeOrigin::signed(P[1]), job, H256::repeat_byte(3)),
                Error::<Test>::NotCommitting
            );
        });
    }

    #[test]
    fn an_early_commitment_is_kept_when_the_job_reopens() {
        new_test_ext().execute_with(|| {
            // P0 commits early; P1 claims and gives the slot back; P2 takes it and commits.
            let (_, job) = setup(3);
            claim(P[0], job);
            commit_to(P[0], job, &honest());
            claim(P[1], job);
            assert!(matches!(phase(job), Phase::Committing(_)));
            assert_ok!(Market::release_slot(RuntimeOrigin::signed(P[1]), job));
            assert!(matches!(phase(job), Phase::Open(_)));
            claim(P[2], job);
            commit_to(P[2], job, &honest());
            assert!(matches!(phase(job), Phase::Revealing(_)));
            check_invariants();
        });
    }

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            let c = H256::repeat_byte(1);
            assert_noop!(Market::commit(RuntimeOrigin::signed(P[0]), job, c), Error::<Test>::NotReplica);
            claim(P[0], job);
            claim(P[1], job);
            assert_noop!(Market::commit(RuntimeOrigin::signed(P[2]), job, c), Error::<Test>::NotReplica);
            assert_noop!(Market::commit(RuntimeOrigin::signed(P[0]), 7, c), Error::<Test>::JobNotFound);
            assert_ok!(Market::commit(RuntimeOrigin::signed(P[0]), job, c));
            assert_noop!(Market::commit(RuntimeOrigin::signed(P[0]), job, c), Error::<Test>::AlreadyCommitted);
            System::set_block_number(12);
            assert_noop!(Market::commit(RuntimeOrigin::signed(P[1]), job, c), Error::<Test>::DeadlinePassed);
        });
    }
}

mod reveal {
    use super::*;

    fn to_reveal() -> JobId {
        let (_, job) = setup(3);
        claim(P[0], job);
        claim(P[1], job);
        commit_to(P[0], job, &honest());
        commit_to(P[1], job, &honest());
        job
    }

    #[test]
    fn records_receipt_and_output_and_agreement_opens_the_window() {
        new_test_ext().execute_with(|| {
            let job = to_reveal();
            reveal_as(P[0], job, honest(), OUTPUT);
            assert_eq!(last_event(), Event::Revealed { job, provider: P[0], receipt: honest() });
            assert_eq!(OutputOf::<Test>::get(job, honest().digest()).unwrap().to_vec(), OUTPUT.to_vec());
            // The second replica does not publish the output again; the first copy is kept.
            reveal_as(P[1], job, honest(), b"");
            assert_eq!(phase(job), Phase::Challengeable(11, honest()));
            assert_eq!(last_event(), Event::ResultAgreed { job, receipt: honest(), challenge_until: 11 });
            check_invariants();
        });
    }

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            let r = honest();
            let s = salt(P[0]);
            assert_noop!(
                Market::reveal(RuntimeOrigin::signed(P[0]), job, r, s, out(OUTPUT)),
                Error::<Test>::NotRevealing
            );
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &r);
            let out_of_fuel = Receipt::new(ExitStatus::OutOfFuel, 10, b"");
            commit_to(P[1], job, &out_of_fuel);
            let reveal = |who: AccountId, r: Receipt, s: [u8; 32], o: &[u8]| {
                Market::reveal(RuntimeOrigin::signed(who), job, r, s, out(o))
            };
            assert_noop!(reveal(P[2], r, s, OUTPUT), Error::<Test>::NotReplica);
            assert_noop!(reveal(P[0], r, [0; 32], OUTPUT), Error::<Test>::CommitmentMismatch);
            assert_noop!(reveal(P[0], lie(), s, b""), Error::<Test>::CommitmentMismatch);
            let greedy = Receipt::new(ExitStatus::Ok, FUEL_LIMIT + 1, OUTPUT);
            assert_noop!(reveal(P[0], greedy, s, b""), Error::<Test>::FuelAboveLimit);
            assert_noop!(reveal(P[1], out_of_fuel, salt(P[1]), b""), Error::<Test>::InconsistentReceipt);
            assert_noop!(reveal(P[0], r, s, b"other"), Error::<Test>::OutputHashMismatch);
            assert_noop!(reveal(P[0], r, s, &[0u8; 65]), Error::<Test>::OutputTooLong);
            assert_ok!(reveal(P[0], r, s, OUTPUT));
            assert_noop!(reveal(P[0], r, s, OUTPUT), Error::<Test>::AlreadyRevealed);
            System::set_block_number(1 + REVEAL_TIMEOUT + 1);
            assert_noop!(reveal(P[1], out_of_fuel, salt(P[1]), b""), Error::<Test>::DeadlinePassed);
        });
    }
}

// -------------------------------------------------------------------------------------------
// Whole lifecycles
// -------------------------------------------------------------------------------------------

mod lifecycle {
    use super::*;

    #[test]
    fn honest_replicas_settle_when_the_window_closes() {
        new_test_ext().execute_with(|| {
            let (program, job) = setup(2);
            let issuance = Balances::total_issuance();
            run_replicas(job, &[honest(), honest()]);
            assert_eq!(phase(job), Phase::Challengeable(11, honest()));
            run_to_block(10);
            assert!(JobOf::<Test>::contains_key(job), "not before the window closes");
            run_to_block(11);

            // Each replica: 600 fuel × price 2 = 1,200 from escrow, its fee 120 to the treasury,
            // and half of that fee minted as its reward.
            let payment = FUEL_USED * PRICE;
            let fee = 2 * payment / 10;
            let reward = payment / 10 / 2;
            for p in &P[..2] {
                assert_eq!(free(*p), ENDOWMENT - STAKE + payment + reward);
                assert_eq!(live_assignments(*p), 0);
                assert_eq!(reputation(*p).completed, 1);
                assert!(has_event(Event::ReplicaPaid { job, provider: *p, payment, reward }));
            }
            assert_eq!(free(TREASURY), 1 + fee);
            // Alice paid the replicas and the fee; the output's deposit (base + 6 bytes) stays
            // held with the retained result.
            let kept = DEPOSIT_BASE + OUTPUT.len() as Balance;
            assert_eq!(free(ALICE), ENDOWMENT - 10 - 128 - 2 * payment - fee - kept);
            assert_eq!(held(HoldReason::Escrow, ALICE), 0);
            assert_eq!(held(HoldReason::StorageDeposit, ALICE), kept);
            assert_eq!(Balances::total_issuance(), issuance + 2 * reward);
            assert_eq!(TotalEmitted::<Test>::get(), 2 * reward);

            // Nothing of the job is left but the bounded result.
            assert!(!JobOf::<Test>::contains_key(job));
            assert!(!InputOf::<Test>::contains_key(job));
            assert_eq!(OutputOf::<Test>::iter_prefix(job).count(), 0);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.outcome, Outcome::Settled);
            assert_eq!(result.receipt, Some(honest()));
            assert_eq!(result.output.unwrap().to_vec(), OUTPUT.to_vec());
            assert_eq!((result.paid, result.fee, result.refunded), (2 * payment, fee, ESCROW - 2 * payment - fee));
            assert_eq!(pallet_programs::ProgramOf::<Test>::get(program).unwrap().live_jobs, 0);
            assert!(has_event(Event::JobEnded {
                job,
                outcome: Outcome::Settled,
                paid: 2 * payment,
                fee,
                refunded: ESCROW - 2 * payment - fee
            }));

            // The result is pruned after the retention period and its deposit released.
            run_to_block(11 + RETENTION);
            assert!(!ResultOf::<Test>::contains_key(job));
            assert_eq!(held(HoldReason::StorageDeposit, ALICE), 0);
            assert_eq!(free(ALICE), ENDOWMENT - 10 - 128 - 2 * payment - fee);
            assert_eq!(last_event(), Event::ResultPruned { job });
            assert_eq!(Deadlines::<Test>::iter().count(), 0);
        });
    }

    #[test]
    fn a_trapped_or_out_of_fuel_result_is_paid_for_its_fuel() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            let r = Receipt::new(ExitStatus::OutOfFuel, FUEL_LIMIT, b"");
            run_replicas_with(job, &[(r, b""), (r, b"")]);
            run_to_block(11);
            assert!(has_event(Event::ReplicaPaid { job, provider: P[0], payment: FUEL_LIMIT * PRICE, reward: FUEL_LIMIT * PRICE / 20 }));
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.receipt, Some(r));
            assert_eq!(result.output, None);
        });
    }

    #[test]
    fn replicas_disagree_a_committee_decides_and_the_liar_is_slashed() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            run_replicas(job, &[honest(), lie()]);
            assert_eq!(phase(job), Phase::Disputed(2));
            assert!(has_event(Event::DisputeOpened { job, challenger: None }));
            run_to_block(2);
            let committee = jurors(job);
            assert_eq!(committee.len(), 3);
            assert!(committee.iter().all(|j| P[2..5].contains(j)), "never a replica");
            assert_eq!(phase(job), Phase::Disputed(2 + VOTE_TIMEOUT));
            decide(job, &committee, honest());
            // Everyone voted: tallied in the next block, not at the deadline.
            assert_eq!(phase(job), Phase::Disputed(3));
            run_to_block(3);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            assert!(!JobOf::<Test>::contains_key(job));
            let payment = FUEL_USED * PRICE;
            // Paid, and minted half of the 10 % fee on the payment.
            assert_eq!(free(P[0]), ENDOWMENT - STAKE + payment + payment / 20);
            assert_eq!(free(P[1]), ENDOWMENT - STAKE, "the liar is not paid");
            // The jurors share half of what the liar's slash pays the treasury (5,000 / 3 each,
            // halved).
            for j in &committee {
                assert!(has_event(Event::JurorRewarded { job, juror: *j, bond_share: 0, reward: STAKE / 2 / 3 / 2 }));
            }
            assert!(has_event(Event::WrongResult { job, provider: P[1], slashed: STAKE / 2 }));
            // The slash is applied after the deferral; with no challenger it all goes to the
            // treasury.
            let treasury = free(TREASURY);
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[1]), STAKE / 2);
            assert_eq!(free(TREASURY), treasury + STAKE / 2);
            assert_eq!(reputation(P[1]).slashed, 1);
            // Only one replica was paid: Alice gets the other slot's money back.
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.paid, payment);
        });
    }

    #[test]
    fn challenge_upheld_slashes_colluding_replicas_and_rewards_the_challenger() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            run_replicas(job, &[lie(), lie()]);
            assert_eq!(phase(job), Phase::Challengeable(11, lie()));
            assert_ok!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job));
            assert_eq!(held(HoldReason::ChallengeBond, CHARLIE), CHALLENGE_BOND);
            assert_eq!(phase(job), Phase::Disputed(2));
            run_to_block(2);
            decide(job, &jurors(job), honest());
            run_to_block(3);
            assert!(has_event(Event::ChallengeUpheld { job, challenger: CHARLIE }));
            assert_eq!(held(HoldReason::ChallengeBond, CHARLIE), 0);
            // Nobody was right: Alice pays nothing but the retained deposit.
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!((result.paid, result.fee, result.refunded), (0, 0, ESCROW));
            assert_eq!(result.receipt, Some(honest()));
            assert_eq!(result.output, None, "nobody revealed the right output");
            // After the deferral each liar loses half its stake; half of that to Charlie.
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(free(CHARLIE), ENDOWMENT + 2 * (STAKE / 4));
            assert_eq!(stake_held(P[0]), STAKE / 2);
            assert_eq!(stake_held(P[1]), STAKE / 2);
        });
    }

    #[test]
    fn challenge_rejected_forfeits_the_bond_to_the_jurors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            run_replicas(job, &[honest(), honest()]);
            assert_ok!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job));
            run_to_block(2);
            let committee = jurors(job);
            decide(job, &committee, honest());
            run_to_block(3);
            assert!(has_event(Event::ChallengeRejected { job, challenger: CHARLIE, bond: CHALLENGE_BOND }));
            assert_eq!(free(CHARLIE), ENDOWMENT - CHALLENGE_BOND);
            // The replicas are paid for their work; the bond pays the jurors who re-executed.
            let payment = FUEL_USED * PRICE;
            for p in &P[..2] {
                assert_eq!(free(*p), ENDOWMENT - STAKE + payment + payment / 20);
            }
            for j in &committee {
                assert_eq!(free(*j), ENDOWMENT - STAKE + CHALLENGE_BOND / 3);
                assert!(has_event(Event::JurorRewarded { job, juror: *j, bond_share: CHALLENGE_BOND / 3, reward: 0 }));
            }
        });
    }

    #[test]
    fn missed_commit_is_faulted_and_the_slot_reopened() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            run_to_block(11);
            // The slot's value (1,000 fuel × 2), above 5 % of the stake.
            assert!(has_event(Event::Faulted { job, who: P[1], duty: Duty::Commit, slashed: FUEL_LIMIT * PRICE }));
            assert_eq!(live_assignments(P[1]), 0);
            assert_eq!(reputation(P[1]).faults, 1);
            assert_eq!(phase(job), Phase::Open(11 + REOPEN_TIMEOUT));
            assert!(has_event(Event::SlotsReopened { job, slots: 1, claim_until: 11 + REOPEN_TIMEOUT }));
            // Another provider takes the slot; the first commitment still counts.
            claim(P[2], job);
            commit_to(P[2], job, &honest());
            assert!(matches!(phase(job), Phase::Revealing(_)));
            reveal_as(P[0], job, honest(), OUTPUT);
            reveal_as(P[2], job, honest(), b"");
            run_to_block(12 + 10);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().outcome, Outcome::Settled);
            run_to_block(11 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[1]), STAKE - FUEL_LIMIT * PRICE);
        });
    }

    #[test]
    fn missed_commits_after_the_last_reopen_expire_the_job() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            run_to_block(11);
            claim(P[2], job);
            // P[2] never commits: the single reopen is used up, the job expires. P[0]'s
            // commitment is not paid: nobody can check a commitment that was never revealed.
            run_to_block(11 + 10);
            assert!(has_event(Event::Faulted { job, who: P[2], duty: Duty::Commit, slashed: FUEL_LIMIT * PRICE }));
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.outcome, Outcome::Expired);
            assert_eq!(result.paid, 0);
            assert_eq!(free(P[0]), ENDOWMENT - STAKE);
            assert_eq!(held(HoldReason::Escrow, ALICE), 0);
        });
    }

    #[test]
    fn missed_reveal_is_faulted_and_the_rest_proceed() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &honest());
            reveal_as(P[0], job, honest(), OUTPUT);
            run_to_block(1 + REVEAL_TIMEOUT);
            // As much as a wrong result (50 %), not the 5 % of a missed commitment.
            assert!(has_event(Event::Faulted { job, who: P[1], duty: Duty::Reveal, slashed: STAKE / 2 }));
            assert_eq!(phase(job), Phase::Challengeable(1 + REVEAL_TIMEOUT + 10, honest()));
            run_to_block(1 + REVEAL_TIMEOUT + 10);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.paid, FUEL_USED * PRICE, "one replica paid");
        });
    }

    #[test]
    fn nobody_reveals_expires_the_job_and_refunds() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &honest());
            run_to_block(1 + REVEAL_TIMEOUT);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!((result.outcome, result.paid, result.refunded), (Outcome::Expired, 0, ESCROW));
            assert_eq!(free(ALICE), ENDOWMENT - 10 - 128 - DEPOSIT_BASE);
        });
    }

    #[test]
    fn unclaimed_job_expires_with_a_full_refund() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(1);
            claim(P[0], job);
            run_to_block(11);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!((result.outcome, result.paid, result.refunded), (Outcome::Expired, 0, ESCROW));
            assert_eq!(live_assignments(P[0]), 0);
            assert_eq!(free(P[0]), ENDOWMENT - STAKE, "a plain claim earns nothing");
            assert_eq!(held(HoldReason::Escrow, ALICE), 0);
        });
    }

    #[test]
    fn provider_unbonding_mid_job_is_paid_and_stays_slashable() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            claim(P[0], job);
            claim(P[1], job);
            // Both unbond everything right after claiming.
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(P[0]), STAKE));
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(P[1]), STAKE));
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &lie());
            reveal_as(P[0], job, honest(), OUTPUT);
            reveal_as(P[1], job, lie(), b"forged");
            run_to_block(2);
            decide(job, &jurors(job), honest());
            run_to_block(3);
            assert_eq!(free(P[0]), ENDOWMENT - STAKE + FUEL_USED * PRICE + FUEL_USED * PRICE / 20);
            // The liar's unbonding stake is still taken.
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[1]), STAKE / 2);
        });
    }

    #[test]
    fn slash_cancelled_by_origin_leaves_stake_intact() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            decide(job, &jurors(job), honest());
            run_to_block(3);
            let id = pallet_providers::PendingSlashOf::<Test>::iter()
                .find(|(_, s)| s.provider == P[1])
                .map(|(id, _)| id)
                .expect("a pending slash");
            assert_noop!(Providers::cancel_slash(RuntimeOrigin::signed(ALICE), id), DispatchError::BadOrigin);
            assert_ok!(Providers::cancel_slash(RuntimeOrigin::root(), id));
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[1]), STAKE);
        });
    }

    #[test]
    fn with_slashing_off_a_liar_is_unpaid_but_keeps_its_stake() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            assert_ok!(Providers::set_slashing_enabled(RuntimeOrigin::root(), false));
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            decide(job, &jurors(job), honest());
            run_to_block(3);
            assert!(has_event(Event::WrongResult { job, provider: P[1], slashed: 0 }));
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[1]), STAKE);
            assert_eq!(free(P[1]), ENDOWMENT - STAKE);
        });
    }

    #[test]
    fn silent_jurors_are_faulted_and_no_majority_redraws_then_gives_up() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            run_replicas(job, &[honest(), honest()]);
            assert_ok!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job));
            run_to_block(2);
            let first = jurors(job);
            // One vote out of three is no majority; the two silent jurors are faulted.
            vote_as(first[0], job, honest());
            run_to_block(2 + VOTE_TIMEOUT);
            let reveal_until = 2 + VOTE_TIMEOUT + VOTE_REVEAL_TIMEOUT;
            assert!(has_event(Event::VoteRevealOpened { job, round: 1, reveal_until }));
            reveal_vote_as(first[0], job, honest());
            // The only juror who voted has revealed: tallied in the next block.
            run_to_block(2 + VOTE_TIMEOUT + 1);
            assert!(has_event(Event::NoMajority { job, round: 1 }));
            for j in &first[1..] {
                assert!(has_event(Event::Faulted { job, who: *j, duty: Duty::Vote, slashed: STAKE / 20 }));
            }
            // Round 2 is drawn `DrawDelay` blocks later; nobody votes; the dispute is
            // inconclusive.
            let drawn_at = 2 + VOTE_TIMEOUT + 1 + DrawDelay::get();
            assert_eq!(phase(job), Phase::Disputed(drawn_at));
            run_to_block(drawn_at);
            assert_eq!(DisputeOf::<Test>::get(job).unwrap().round, 2);
            run_to_block(drawn_at + VOTE_TIMEOUT);
            // The replicas revealed their results: they are paid for them (with the fee), though
            // nobody is rewarded or slashed.
            let result = ResultOf::<Test>::get(job).unwrap();
            let (paid, fee) = (2 * FUEL_USED * PRICE, 2 * FUEL_USED * PRICE / 10);
            assert_eq!((result.outcome, result.paid, result.fee), (Outcome::Inconclusive, paid, fee));
            assert_eq!(result.refunded, ESCROW - paid - fee);
            assert_eq!(held(HoldReason::ChallengeBond, CHARLIE), 0);
            assert_eq!(free(CHARLIE), ENDOWMENT, "bond returned");
        });
    }

    #[test]
    fn no_eligible_juror_makes_the_dispute_inconclusive() {
        new_test_ext().execute_with(|| {
            // Only the two replicas are providers: nobody can judge them.
            let (_, job) = setup(2);
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            // Nobody can tell who was right: both are paid for the fuel they report (the
            // requester has both results), nobody is slashed or rewarded.
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.outcome, Outcome::Inconclusive);
            assert_eq!(free(P[1]), ENDOWMENT - STAKE + FUEL_USED * PRICE);
            assert_eq!(stake_held(P[1]), STAKE);
            assert_eq!(TotalEmitted::<Test>::get(), 0);
        });
    }
}

// -------------------------------------------------------------------------------------------
// cancel, challenge, vote errors
// -------------------------------------------------------------------------------------------

mod cancel_job {
    use super::*;

    #[test]
    fn before_any_claim_refunds_everything() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(0);
            assert_ok!(Market::cancel_job(RuntimeOrigin::signed(ALICE), job));
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!((result.outcome, result.paid, result.refunded), (Outcome::Cancelled, 0, ESCROW));
            assert_eq!(free(ALICE), ENDOWMENT - 10 - 128 - DEPOSIT_BASE);
            assert!(!Deadlines::<Test>::contains_key(11, job));
            check_invariants();
        });
    }

    #[test]
    fn after_claims_compensates_claimers() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            claim(P[1], job);
            assert_ok!(Market::cancel_job(RuntimeOrigin::signed(ALICE), job));
            // 20 % of 1,000 fuel × price 2 each.
            let each = FUEL_LIMIT * PRICE / 5;
            assert_eq!(free(P[0]), ENDOWMENT - STAKE + each);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().refunded, ESCROW - 2 * each);
            assert_eq!(live_assignments(P[0]), 0);
            check_invariants();
        });
    }

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            assert_noop!(Market::cancel_job(RuntimeOrigin::signed(ALICE), 9), Error::<Test>::JobNotFound);
            assert_noop!(Market::cancel_job(RuntimeOrigin::signed(BOB), job), Error::<Test>::NotRequester);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &honest());
            assert_noop!(Market::cancel_job(RuntimeOrigin::signed(ALICE), job), Error::<Test>::TooLateToCancel);
        });
    }
}

mod ended_job {
    use super::*;

    /// Every call on `job` fails with `error` and changes nothing.
    fn every_call_fails_with(job: JobId, error: fn() -> Error<Test>) {
        assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[2]), job), error());
        assert_noop!(Market::commit(RuntimeOrigin::signed(P[0]), job, H256::repeat_byte(1)), error());
        assert_noop!(Market::reveal(RuntimeOrigin::signed(P[0]), job, honest(), salt(P[0]), out(OUTPUT)), error());
        assert_noop!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job), error());
        assert_noop!(Market::vote(RuntimeOrigin::signed(P[2]), job, H256::repeat_byte(2)), error());
        assert_noop!(Market::reveal_vote(RuntimeOrigin::signed(P[2]), job, honest(), vote_salt(P[2])), error());
        assert_noop!(Market::cancel_job(RuntimeOrigin::signed(ALICE), job), error());
    }

    #[test]
    fn calls_on_a_settled_job_say_it_ended_until_its_result_is_pruned() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            run_replicas(job, &[honest(), honest()]);
            run_to_block(11);
            assert!(!JobOf::<Test>::contains_key(job));
            assert!(ResultOf::<Test>::contains_key(job));
            every_call_fails_with(job, || Error::<Test>::JobEnded);
            run_to_block(11 + RETENTION);
            assert!(!ResultOf::<Test>::contains_key(job));
            every_call_fails_with(job, || Error::<Test>::JobNotFound);
        });
    }

    #[test]
    fn calls_on_a_cancelled_job_say_it_ended() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            claim(P[0], job);
            assert_ok!(Market::cancel_job(RuntimeOrigin::signed(ALICE), job));
            every_call_fails_with(job, || Error::<Test>::JobEnded);
            check_invariants();
        });
    }

    #[test]
    fn an_id_never_posted_is_not_found() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            every_call_fails_with(job + 1, || Error::<Test>::JobNotFound);
        });
    }
}

mod challenge {
    use super::*;

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            assert_noop!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job), Error::<Test>::NotChallengeable);
            assert_noop!(Market::challenge(RuntimeOrigin::signed(CHARLIE), 5), Error::<Test>::JobNotFound);
            run_replicas(job, &[honest(), honest()]);
            assert_noop!(Market::challenge(RuntimeOrigin::signed(P[0]), job), Error::<Test>::ReplicaCannotChallenge);
            assert_noop!(Market::challenge(RuntimeOrigin::signed(POOR), job), Error::<Test>::CannotAffordBond);
            System::set_block_number(12);
            assert_noop!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job), Error::<Test>::DeadlinePassed);
        });
    }

    #[test]
    fn the_requester_may_challenge() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            run_replicas(job, &[honest(), honest()]);
            assert_ok!(Market::challenge(RuntimeOrigin::signed(ALICE), job));
            assert_eq!(last_event(), Event::DisputeOpened { job, challenger: Some(ALICE) });
            check_invariants();
        });
    }
}

mod vote {
    use super::*;

    #[test]
    fn errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            let seal = H256::repeat_byte(3);
            assert_noop!(Market::vote(RuntimeOrigin::signed(P[2]), job, seal), Error::<Test>::NotDisputed);
            run_replicas(job, &[honest(), lie()]);
            assert_noop!(Market::vote(RuntimeOrigin::signed(P[2]), job, seal), Error::<Test>::CommitteeNotDrawn);
            run_to_block(2);
            let j = jurors(job);
            assert_noop!(Market::vote(RuntimeOrigin::signed(P[0]), job, seal), Error::<Test>::NotJuror);
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, honest(), vote_salt(j[0])),
                Error::<Test>::NotRevealingVotes
            );
            vote_as(j[0], job, honest());
            assert_eq!(last_event(), Event::Voted { job, juror: j[0] });
            assert_noop!(Market::vote(RuntimeOrigin::signed(j[0]), job, seal), Error::<Test>::AlreadyVoted);
            System::set_block_number(2 + VOTE_TIMEOUT + 1);
            assert_noop!(Market::vote(RuntimeOrigin::signed(j[1]), job, seal), Error::<Test>::DeadlinePassed);
        });
    }

    #[test]
    fn reveal_vote_errors() {
        new_test_ext().execute_with(|| {
            let (job, j) = split_and_drawn();
            vote_as(j[0], job, honest());
            vote_as(j[1], job, honest());
            run_to_block(2 + VOTE_TIMEOUT);
            assert_eq!(DisputeOf::<Test>::get(job).unwrap().stage, DisputeStage::Revealing);
            // Voting is closed.
            assert_noop!(Market::vote(RuntimeOrigin::signed(j[2]), job, H256::repeat_byte(3)), Error::<Test>::NotVoting);
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(P[0]), job, honest(), vote_salt(P[0])),
                Error::<Test>::NotJuror
            );
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[2]), job, honest(), vote_salt(j[2])),
                Error::<Test>::VoteNotCast
            );
            // Another receipt, or another salt, does not open the sealed vote.
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, lie(), vote_salt(j[0])),
                Error::<Test>::VoteCommitmentMismatch
            );
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, honest(), [0; 32]),
                Error::<Test>::VoteCommitmentMismatch
            );
            // A revealed vote is checked like a replica's reveal.
            let over = Receipt::new(ExitStatus::Ok, FUEL_LIMIT + 1, OUTPUT);
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, over, vote_salt(j[0])),
                Error::<Test>::FuelAboveLimit
            );
            let short = Receipt::new(ExitStatus::OutOfFuel, FUEL_LIMIT - 1, b"");
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, short, vote_salt(j[0])),
                Error::<Test>::InconsistentReceipt
            );
            reveal_vote_as(j[0], job, honest());
            assert_eq!(last_event(), Event::VoteRevealed { job, juror: j[0], receipt: honest() });
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, honest(), vote_salt(j[0])),
                Error::<Test>::VoteAlreadyRevealed
            );
            System::set_block_number(2 + VOTE_TIMEOUT + VOTE_REVEAL_TIMEOUT + 1);
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[1]), job, honest(), vote_salt(j[1])),
                Error::<Test>::DeadlinePassed
            );
        });
    }

    #[test]
    fn an_impossible_receipt_cannot_win_a_committee() {
        // Two colluding jurors seal a receipt above the job's fuel limit (it would pay their
        // co-conspirator replica more): it can never be revealed, so it never counts, and they
        // are faulted for not revealing.
        new_test_ext().execute_with(|| {
            let (_, job) = setup(5);
            let inflated = Receipt::new(ExitStatus::Ok, FUEL_LIMIT + 1, b"forged");
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            let j = jurors(job);
            vote_as(j[0], job, inflated);
            vote_as(j[1], job, inflated);
            vote_as(j[2], job, honest());
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(j[0]), job, inflated, vote_salt(j[0])),
                Error::<Test>::FuelAboveLimit
            );
            reveal_vote_as(j[2], job, honest());
            run_to_block(2 + VOTE_REVEAL_TIMEOUT);
            // One revealed vote of three: no majority, the two are faulted.
            assert!(has_event(Event::NoMajority { job, round: 1 }));
            for who in &j[..2] {
                assert!(has_event(Event::Faulted { job, who: *who, duty: Duty::RevealVote, slashed: STAKE / 5 }));
            }
        });
    }

    #[test]
    fn a_lazy_juror_cannot_copy_a_sealed_vote() {
        // The attack the sealed votes close: a juror who does not re-execute waits for an
        // honest juror's vote and submits the same. All it can see is a hash bound to the
        // honest juror's account, which never opens under its own: it is faulted for not
        // revealing and loses `MissedDeadlineSlash`, against a reward for honest work.
        new_test_ext().execute_with(|| {
            let (job, j) = split_and_drawn();
            let (honest_juror, copier) = (j[0], j[1]);
            vote_as(honest_juror, job, honest());
            let visible = DisputeOf::<Test>::get(job).unwrap().committee[0].sealed.unwrap();
            assert_ok!(Market::vote(RuntimeOrigin::signed(copier), job, visible));
            vote_as(j[2], job, honest());
            // Everyone voted: the reveals open at once.
            assert_eq!(DisputeOf::<Test>::get(job).unwrap().stage, DisputeStage::Revealing);
            reveal_vote_as(honest_juror, job, honest());
            reveal_vote_as(j[2], job, honest());
            // Now the honest receipt and salt are public, yet they open only the honest
            // juror's seal.
            assert_noop!(
                Market::reveal_vote(RuntimeOrigin::signed(copier), job, honest(), vote_salt(honest_juror)),
                Error::<Test>::VoteCommitmentMismatch
            );
            let copier_free = free(copier);
            run_to_block(2 + VOTE_REVEAL_TIMEOUT);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            assert!(has_event(Event::Faulted { job, who: copier, duty: Duty::RevealVote, slashed: STAKE / 5 }));
            assert!(has_event(Event::JurorRewarded { job, juror: honest_juror, bond_share: 0, reward: STAKE / 2 / 2 / 2 }));
            assert!(!System::events().iter().any(|e| matches!(
                &e.event,
                RuntimeEvent::Market(Event::JurorRewarded { juror, .. }) if *juror == copier
            )));
            run_to_block(2 + VOTE_REVEAL_TIMEOUT + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(copier), STAKE - STAKE / 5, "the copier lost stake");
            assert_eq!(free(copier), copier_free, "and earned nothing");
        });
    }

    #[test]
    fn withholding_a_losing_vote_costs_as_much_as_revealing_it() {
        // The attack: a lazy juror seals a guess, waits for the others' reveals, and keeps its
        // own back once it sees it would be outvoted. Withheld, it loses what a minority vote
        // loses (`MinorityVoteSlash`, 20 % here), not just a missed deadline's 5 %.
        new_test_ext().execute_with(|| {
            let (job, j) = split_and_drawn();
            vote_as(j[0], job, honest());
            vote_as(j[1], job, honest());
            vote_as(j[2], job, lie());
            reveal_vote_as(j[0], job, honest());
            reveal_vote_as(j[1], job, honest());
            run_to_block(2 + VOTE_REVEAL_TIMEOUT);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            assert!(has_event(Event::Faulted { job, who: j[2], duty: Duty::RevealVote, slashed: STAKE / 5 }));
            assert!(!System::events().iter().any(|e| matches!(
                &e.event,
                RuntimeEvent::Market(Event::JurorSlashed { .. })
            )));
        });
    }

    #[test]
    fn a_minority_juror_is_slashed_to_the_treasury() {
        new_test_ext().execute_with(|| {
            let (job, j) = split_and_drawn();
            vote_as(j[0], job, honest());
            vote_as(j[1], job, honest());
            vote_as(j[2], job, lie());
            for who in &j {
                let r = if *who == j[2] { lie() } else { honest() };
                reveal_vote_as(*who, job, r);
            }
            run_to_block(3);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            // 20 % of the minority juror's stake, to the treasury after the deferral.
            assert!(has_event(Event::JurorSlashed { job, juror: j[2], slashed: STAKE / 5 }));
            assert_eq!(reputation(j[2]).faults, 1);
            let treasury = free(TREASURY);
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(j[2]), STAKE - STAKE / 5);
            // The liar's 50 % (no challenger) and the juror's 20 % both went to the treasury.
            assert_eq!(free(TREASURY), treasury + STAKE / 2 + STAKE / 5);
        });
    }

    #[test]
    fn the_draw_waits_draw_delay_blocks_and_uses_the_randomness_of_that_block() {
        new_test_ext().execute_with(|| {
            DrawDelay::set(4);
            let (_, job) = setup(8);
            run_replicas(job, &[honest(), lie()]);
            assert_eq!(phase(job), Phase::Disputed(1 + 4));
            run_to_block(4);
            assert!(jurors(job).is_empty(), "not drawn before the delay");
            // The seed is the randomness as of the drawing block, not of the opening one.
            let expected = Market::committee_seed(job, 1);
            run_to_block(5);
            assert_eq!(DisputeOf::<Test>::get(job).unwrap().round, 1);
            assert_eq!(Market::committee_seed(job, 1), Market::committee_seed(job, 1));
            assert_ne!(expected, Market::committee_seed(job, 1), "the seed of block 4 is not the draw's");
            assert_eq!(jurors(job).len(), 3);
        });
    }

    #[test]
    fn committees_differ_between_jobs() {
        new_test_ext().execute_with(|| {
            register_providers(10);
            let program = upload_program(ALICE);
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..4 {
                let job = post(ALICE, spec(program));
                run_replicas(job, &[honest(), lie()]);
                run_to_block(System::block_number() + 1);
                seen.insert(jurors(job));
                run_to_block(System::block_number() + VOTE_TIMEOUT + 1);
            }
            assert!(seen.len() > 1, "the draw depends on the job");
        });
    }

    #[test]
    fn a_swarm_of_minimum_stake_accounts_sits_on_committees_only_by_its_stake() {
        // The attack the stake-weighted draw closes: one party registers 20 accounts at the
        // minimum stake (20,000 in all) next to 5 honest providers at the cap (50,000). Drawn
        // per account it would hold 80 % of the seats and a majority of most committees;
        // drawn by stake it holds its 2/7 of the weight.
        new_test_ext().execute_with(|| {
            register_providers(7);
            let sybils: Vec<AccountId> = (100..120).collect();
            for s in &sybils {
                <Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(s, ENDOWMENT);
                assert_ok!(Providers::register(RuntimeOrigin::signed(*s), MIN_STAKE, provider_profile(2, 2)));
            }
            let program = upload_program(ALICE);
            let job = post(ALICE, spec(program));
            run_replicas(job, &[honest(), lie()]);
            let (open, dispute) = first_round(job);
            let draws = 600u32;
            let (mut seats, mut majorities) = (0u32, 0u32);
            for id in 0..u64::from(draws) {
                let committee = Market::draw_committee(id, &open, &dispute);
                assert_eq!(committee.len(), 3);
                assert!(committee.iter().all(|j| !open.slot_of(&j.who).is_some() && j.who != ALICE));
                let mine = committee.iter().filter(|j| sybils.contains(&j.who)).count() as u32;
                seats += mine;
                majorities += u32::from(mine >= 2);
            }
            let share = f64::from(seats) / f64::from(3 * draws);
            let won = f64::from(majorities) / f64::from(draws);
            // Weight share 2/7 ≈ 0.286 (a little more per seat without replacement); about 20 %
            // of committees. Per account it would be 0.8 and about 90 %.
            assert!((0.22..0.38).contains(&share), "the swarm holds {share:.3} of the seats");
            assert!(won < 0.30, "the swarm controls {won:.3} of the committees");
        });
    }

    #[test]
    fn stake_above_the_cap_buys_no_extra_seat() {
        new_test_ext().execute_with(|| {
            register_providers(6);
            // P[5] bonds 10 × the cap.
            assert_ok!(Providers::bond_more(RuntimeOrigin::signed(P[5]), 9 * STAKE));
            let program = upload_program(ALICE);
            let job = post(ALICE, spec(program));
            run_replicas(job, &[honest(), lie()]);
            let (open, dispute) = first_round(job);
            let draws = 600u32;
            let whale = (0..u64::from(draws))
                .filter(|id| Market::draw_committee(*id, &open, &dispute).iter().any(|j| j.who == P[5]))
                .count() as f64
                / f64::from(draws);
            // 4 eligible providers of equal capped weight, 3 seats: each sits on 3/4.
            assert!((0.65..0.85).contains(&whale), "the whale sits on {whale:.3} of the committees");
        });
    }
}

// -------------------------------------------------------------------------------------------
// Deadline queue and emission
// -------------------------------------------------------------------------------------------

mod queue {
    use super::*;

    #[test]
    fn at_most_max_transitions_per_block_and_the_rest_next_block() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            let jobs: Vec<JobId> = (0..12).map(|_| post(BOB, spec(program))).collect();
            run_to_block(11);
            let ended = |j: &&JobId| ResultOf::<Test>::contains_key(**j);
            assert_eq!(jobs.iter().filter(ended).count(), 8, "MaxTransitionsPerBlock = 8");
            run_to_block(12);
            assert_eq!(jobs.iter().filter(ended).count(), 12);
            assert_eq!(held(HoldReason::Escrow, BOB), 0);
        });
    }

    #[test]
    fn idle_blocks_touch_no_job() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(0);
            run_to_block(10);
            assert_eq!(phase(job), Phase::Open(11));
            assert_eq!(crate::DeadlineCursor::<Test>::get(), 11);
        });
    }
}

mod emission {
    use super::*;

    #[test]
    fn rewards_stop_at_the_era_budget_and_the_next_era_is_smaller() {
        new_test_ext().execute_with(|| {
            register_providers(2);
            let program = upload_program(ALICE);
            let big = Receipt::new(ExitStatus::Ok, 100_000, b"");
            let mut s = spec(program);
            s.terms.fuel_limit = 100_000;
            s.terms.max_price_per_fuel = PRICE;
            let job = post(ALICE, s.clone());
            run_replicas_with(job, &[(big, b""), (big, b"")]);
            run_to_block(11);
            // Era 0's budget is 10,000: the first replica takes it all, the second gets none.
            assert_eq!(TotalEmitted::<Test>::get(), ERA0_EMISSION);
            assert!(has_event(Event::ReplicaPaid { job, provider: P[0], payment: 200_000, reward: ERA0_EMISSION }));
            assert!(has_event(Event::ReplicaPaid { job, provider: P[1], payment: 200_000, reward: 0 }));

            run_to_block(u64::from(ERA_LENGTH));
            let job = post(ALICE, s);
            run_replicas_with(job, &[(big, b""), (big, b"")]);
            run_to_block(u64::from(ERA_LENGTH) + 10);
            // Era 1: 10 % less.
            assert_eq!(TotalEmitted::<Test>::get(), ERA0_EMISSION + 9_000);
        });
    }
}

mod invariants {
    use super::*;

    #[test]
    fn try_state_catches_a_hold_out_of_books() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(0);
            check_invariants();
            JobOf::<Test>::mutate(job, |j| j.as_mut().unwrap().escrow -= 1);
            assert!(Market::do_try_state().is_err());
        });
    }

    #[test]
    fn try_state_catches_a_lost_deadline() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(0);
            Deadlines::<Test>::remove(11, job);
            assert!(Market::do_try_state().is_err());
        });
    }
}

mod migrations {
    use super::*;
    use crate::migrations::v2::{MigrateV1ToV2, OldDispute, OldJuror};
    use codec::Encode;
    use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

    #[test]
    fn v1_disputes_become_sealed_vote_disputes_and_finish() {
        new_test_ext().execute_with(|| {
            // Two disputes written in the v1 layout: one awaiting its draw, one whose committee
            // has two public votes of three.
            let (program, waiting) = setup(5);
            run_replicas(waiting, &[honest(), lie()]);
            let job = post(ALICE, spec(program));
            run_replicas(job, &[honest(), lie()]);
            run_to_block(2);
            let drawn = jurors(job);
            let old = OldDispute::<Test> {
                challenge: None,
                committee: drawn
                    .iter()
                    .enumerate()
                    .map(|(i, who)| OldJuror { who: *who, vote: (i < 2).then(honest) })
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap_or_else(|_| panic!("fits")),
                round: 1,
            };
            frame_support::storage::unhashed::put_raw(&DisputeOf::<Test>::hashed_key_for(job), &old.encode());
            let unstarted = OldDispute::<Test> { challenge: None, committee: Default::default(), round: 0 };
            frame_support::storage::unhashed::put_raw(&DisputeOf::<Test>::hashed_key_for(waiting), &unstarted.encode());
            StorageVersion::new(1).put::<Market>();

            MigrateV1ToV2::<Test>::on_runtime_upgrade();
            assert_eq!(Market::on_chain_storage_version(), StorageVersion::new(2));
            assert_eq!(DisputeOf::<Test>::get(waiting).unwrap().stage, DisputeStage::Drawing);
            let d = DisputeOf::<Test>::get(job).unwrap();
            assert_eq!(d.stage, DisputeStage::Voting);
            assert_eq!(d.committee.iter().filter(|j| j.vote == Some(honest())).count(), 2);
            check_invariants();
            // The third juror votes sealed; the reveals open and, with everyone's vote in,
            // the dispute is decided by the two public votes and the third.
            vote_as(drawn[2], job, honest());
            assert_eq!(DisputeOf::<Test>::get(job).unwrap().stage, DisputeStage::Revealing);
            reveal_vote_as(drawn[2], job, honest());
            run_to_block(4);
            assert!(has_event(Event::DisputeResolved { job, receipt: honest() }));
            // A second run changes nothing.
            let before = sp_io::storage::root(sp_runtime::StateVersion::V1);
            MigrateV1ToV2::<Test>::on_runtime_upgrade();
            assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), before);
        });
    }
}
