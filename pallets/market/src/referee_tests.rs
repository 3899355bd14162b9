//! Tests of the on-chain referee: small disputes decided by re-execution inside the runtime,
//! with a real example program whose honest receipt comes from the workers' engine
//! (wasmtime), so these tests also show that the referee (wasmi) agrees with it.

use frame_support::{
    assert_noop, assert_ok,
    dispatch::{GetDispatchInfo, Pays},
    traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;
use sp_runtime::Permill;
use tessera_executor::{Compiler, Engine, RunLimits};
use tessera_primitives::{commitment, program::ProgramLimits, ExitStatus, JobId, ProgramId, Receipt};

use crate::{
    mock::*, DisputeOf, Error, Event, HoldReason, InputSpec, JobOf, JobSpec, JobTerms, Outcome, Phase, ResultOf,
};

const FUEL_LIMIT: u64 = 100_000;
const MAX_OUTPUT_LEN: u32 = 64;

fn hash_chain_input() -> Vec<u8> {
    tessera_examples::input::hash_chain(1_000, b"tessera referee")
}

/// Uploads the hash-chain example as Alice.
fn hash_chain() -> ProgramId {
    let code = tessera_examples::HASH_CHAIN;
    assert_ok!(Programs::upload_program(RuntimeOrigin::signed(ALICE), code.to_vec().try_into().unwrap()));
    H256(sp_crypto_hashing::blake2_256(code))
}

/// What an honest worker computes, with the workers' engine.
fn honest(input: &[u8]) -> (Receipt, Vec<u8>) {
    let limits = ProgramLimits { max_code_len: 64 * 1024, max_memory_pages: 16, max_table_elements: 64 };
    let program = tessera_executor::prepare(tessera_examples::HASH_CHAIN, &limits).unwrap();
    let run = RunLimits { fuel: FUEL_LIMIT, max_memory_pages: 16, max_output_len: MAX_OUTPUT_LEN };
    let e = Compiler::new(std::time::Duration::from_secs(10)).unwrap().execute(&program, input, &run).unwrap();
    if e.receipt.status == ExitStatus::Ok {
        assert_eq!(e.output, tessera_examples::reference::hash_chain(input), "wasmtime computes the hash chain");
    }
    (e.receipt, e.output)
}

fn lie() -> Receipt {
    Receipt::new(ExitStatus::Ok, 1_000, b"forged")
}

fn spec(program: ProgramId, replicas: u32, input: InputSpec) -> JobSpec<Test> {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: FUEL_LIMIT,
            replicas,
            max_price_per_fuel: 2,
            min_reputation: Permill::zero(),
            max_output_len: MAX_OUTPUT_LEN,
            claim_timeout: 10,
            execution_timeout: 10,
            challenge_window: 10,
        },
        input,
        placement: Default::default(),
    }
}

fn inline(bytes: &[u8]) -> InputSpec {
    InputSpec::Inline(bytes.to_vec().try_into().unwrap())
}

fn remote(bytes: &[u8]) -> InputSpec {
    InputSpec::Remote {
        hash: H256(sp_crypto_hashing::blake2_256(bytes)),
        len: bytes.len() as u64,
        uri: b"https://example.invalid/input".to_vec().try_into().unwrap(),
    }
}

fn post(s: JobSpec<Test>) -> JobId {
    let id = crate::NextJobId::<Test>::get();
    assert_ok!(Market::post_job(RuntimeOrigin::signed(ALICE), Box::new(s)));
    id
}

/// Replicas `P[i]` claim, commit to and reveal `receipts[i]` (without outputs).
fn serve(job: JobId, receipts: &[Receipt]) {
    for (i, _) in receipts.iter().enumerate() {
        assert_ok!(Market::claim_slot(RuntimeOrigin::signed(P[i]), job));
    }
    for (i, r) in receipts.iter().enumerate() {
        let c = commitment(job, &P[i], r, &[i as u8; 32]);
        assert_ok!(Market::commit(RuntimeOrigin::signed(P[i]), job, c));
    }
    for (i, r) in receipts.iter().enumerate() {
        let none = Vec::new();
        assert_ok!(Market::reveal(RuntimeOrigin::signed(P[i]), job, *r, [i as u8; 32], none));
    }
}

fn input_arg(bytes: &[u8]) -> Option<Vec<u8>> {
    Some(bytes.to_vec())
}

fn events() -> Vec<Event<Test>> {
    System::events()
        .into_iter()
        .filter_map(|r| if let RuntimeEvent::Market(e) = r.event { Some(e) } else { None })
        .collect()
}

fn stake(who: AccountId) -> Balance {
    Balances::balance_on_hold(&RuntimeHoldReason::Providers(pallet_providers::HoldReason::Stake), &who)
}

fn total_issuance_with_emission() -> Balance {
    Balances::total_issuance() - crate::TotalEmitted::<Test>::get()
}

/// A split between an honest replica and a liar over the hash chain, inline input.
fn split() -> (JobId, Receipt) {
    RefereeFuelLimit::set(FUEL_LIMIT);
    register_providers(5);
    let input = hash_chain_input();
    let program = hash_chain();
    let job = post(spec(program, 2, inline(&input)));
    let (receipt, _) = honest(&input);
    serve(job, &[receipt, lie()]);
    (job, receipt)
}

#[test]
fn a_split_is_decided_by_the_referee_with_the_honest_receipt() {
    new_test_ext().execute_with(|| {
        let issuance = total_issuance_with_emission();
        let (job, receipt) = split();
        let now = System::block_number();
        assert_eq!(phase(job), Phase::Disputed(now + REFEREE_TIMEOUT), "waits for the referee, not a committee");
        let (honest_stake, liar_stake) = (stake(P[0]), stake(P[1]));
        let info = crate::Call::<Test>::referee { job, input: None }.get_dispatch_info();

        let post = Market::referee(RuntimeOrigin::signed(CHARLIE), job, None).expect("the referee decides");

        assert_eq!(post.pays_fee, Pays::No, "deciding a dispute is free");
        assert!(post.actual_weight.unwrap().all_lte(info.call_weight), "refunded to the fuel used");
        assert!(events().contains(&Event::Refereed { job, receipt, by: CHARLIE }));
        let result = ResultOf::<Test>::get(job).expect("settled");
        assert_eq!(result.outcome, Outcome::Settled);
        assert_eq!(result.receipt, Some(receipt), "the referee's receipt is the honest worker's");
        assert!(events().iter().any(|e| matches!(e, Event::WrongResult { provider, slashed, .. } if *provider == P[1] && *slashed > 0)));
        assert!(events().iter().any(|e| matches!(e, Event::ReplicaPaid { provider, .. } if *provider == P[0])));
        assert!(!events().iter().any(|e| matches!(e, Event::CommitteeDrawn { .. })), "no committee");
        assert!(DisputeOf::<Test>::get(job).is_none());
        assert_eq!(total_issuance_with_emission(), issuance, "no funds created or lost");
        run_to_block(now + SLASH_DEFERRAL + 2);
        assert!(stake(P[1]) < liar_stake, "the liar's slash is applied");
        assert_eq!(stake(P[0]), honest_stake, "the honest replica keeps its stake");
        assert_eq!(total_issuance_with_emission(), issuance, "no funds created or lost");
    });
}

fn phase(job: JobId) -> Phase<u64> {
    JobOf::<Test>::get(job).expect("live job").phase
}

#[test]
fn a_challenged_lie_is_exposed_by_the_referee_and_the_challenger_is_paid() {
    new_test_ext().execute_with(|| {
        RefereeFuelLimit::set(FUEL_LIMIT);
        register_providers(3);
        let input = hash_chain_input();
        let job = post(spec(hash_chain(), 1, remote(&input)));
        serve(job, &[lie()]);
        let before = Balances::balance(&CHARLIE);
        assert_ok!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job));
        assert_eq!(
            Balances::balance_on_hold(&RuntimeHoldReason::Market(HoldReason::ChallengeBond), &CHARLIE),
            CHALLENGE_BOND
        );
        assert_ok!(Market::referee(RuntimeOrigin::signed(BOB), job, input_arg(&input)));
        let (receipt, _) = honest(&input);
        assert_eq!(ResultOf::<Test>::get(job).unwrap().receipt, Some(receipt));
        assert!(events().contains(&Event::ChallengeUpheld { job, challenger: CHARLIE }));
        assert_eq!(Balances::balance(&CHARLIE), before, "the bond is back");
        run_to_block(System::block_number() + SLASH_DEFERRAL + 2);
        assert!(Balances::balance(&CHARLIE) > before, "and a share of the liar's slash");
    });
}

#[test]
fn without_a_referee_call_the_dispute_goes_to_a_committee() {
    new_test_ext().execute_with(|| {
        let (job, _) = split();
        let now = System::block_number();
        run_to_block(now + REFEREE_TIMEOUT);
        assert!(!DisputeOf::<Test>::get(job).unwrap().committee.is_empty(), "a committee was drawn");
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None), Error::<Test>::RefereeClosed);
    });
}

#[test]
fn large_jobs_are_not_refereeable() {
    new_test_ext().execute_with(|| {
        let (job, _) = split();
        RefereeFuelLimit::set(FUEL_LIMIT - 1);
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None), Error::<Test>::NotRefereeable);
    });
}

#[test]
fn a_large_job_goes_to_a_committee_in_the_next_block() {
    new_test_ext().execute_with(|| {
        RefereeFuelLimit::set(FUEL_LIMIT - 1);
        register_providers(5);
        let input = hash_chain_input();
        let job = post(spec(hash_chain(), 2, inline(&input)));
        let (receipt, _) = honest(&input);
        serve(job, &[receipt, lie()]);
        assert_eq!(phase(job), Phase::Disputed(System::block_number() + 1));
    });
}

#[test]
fn the_referee_needs_a_dispute() {
    new_test_ext().execute_with(|| {
        RefereeFuelLimit::set(FUEL_LIMIT);
        register_providers(3);
        let input = hash_chain_input();
        let job = post(spec(hash_chain(), 1, inline(&input)));
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None), Error::<Test>::NotDisputed);
        serve(job, &[lie()]);
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None), Error::<Test>::NotDisputed);
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), 99, None), Error::<Test>::JobNotFound);
    });
}

#[test]
fn inputs_are_checked_against_the_job() {
    new_test_ext().execute_with(|| {
        RefereeFuelLimit::set(FUEL_LIMIT);
        register_providers(5);
        let input = hash_chain_input();
        let program = hash_chain();
        let (receipt, _) = honest(&input);

        let on_chain = post(spec(program, 2, inline(&input)));
        serve(on_chain, &[receipt, lie()]);
        assert_noop!(
            Market::referee(RuntimeOrigin::signed(CHARLIE), on_chain, input_arg(&input)),
            Error::<Test>::InputNotNeeded
        );

        let off_chain = post(spec(program, 2, remote(&input)));
        // P[0] and P[1] hold slots of the first job; the second is served by P[2] and P[3].
        for (p, r) in [(P[2], receipt), (P[3], lie())] {
            assert_ok!(Market::claim_slot(RuntimeOrigin::signed(p), off_chain));
            let _ = r;
        }
        for (p, r) in [(P[2], receipt), (P[3], lie())] {
            assert_ok!(Market::commit(RuntimeOrigin::signed(p), off_chain, commitment(off_chain, &p, &r, &[1; 32])));
        }
        for (p, r) in [(P[2], receipt), (P[3], lie())] {
            assert_ok!(Market::reveal(RuntimeOrigin::signed(p), off_chain, r, [1; 32], Vec::new()));
        }
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), off_chain, None), Error::<Test>::InputRequired);
        let mut tampered = input.clone();
        tampered[5] ^= 1;
        assert_noop!(
            Market::referee(RuntimeOrigin::signed(CHARLIE), off_chain, input_arg(&tampered)),
            Error::<Test>::InputMismatch
        );
        assert_noop!(
            Market::referee(RuntimeOrigin::signed(CHARLIE), off_chain, input_arg(&input[..input.len() - 1])),
            Error::<Test>::InputMismatch
        );
        assert_ok!(Market::referee(RuntimeOrigin::signed(CHARLIE), off_chain, input_arg(&input)));
        assert_eq!(ResultOf::<Test>::get(off_chain).unwrap().receipt, Some(receipt));
    });
}

#[test]
fn an_engine_failure_changes_nothing() {
    new_test_ext().execute_with(|| {
        let (job, _) = split();
        let program = JobOf::<Test>::get(job).unwrap().terms.program;
        // The registry cannot lose a program a job uses; simulate the defect.
        pallet_programs::CodeOf::<Test>::remove(program);
        assert_noop!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None), Error::<Test>::RefereeFailed);
    });
}

#[test]
fn the_referee_runs_out_of_fuel_like_the_workers() {
    new_test_ext().execute_with(|| {
        RefereeFuelLimit::set(FUEL_LIMIT);
        register_providers(5);
        // A million rounds need far more than the job's fuel.
        let input = tessera_examples::input::hash_chain(1_000_000, b"");
        let job = post(spec(hash_chain(), 2, inline(&input)));
        let (receipt, _) = honest(&input);
        assert_eq!(receipt.status, ExitStatus::OutOfFuel);
        assert_eq!(receipt.fuel_used, FUEL_LIMIT);
        serve(job, &[receipt, lie()]);
        assert_ok!(Market::referee(RuntimeOrigin::signed(CHARLIE), job, None));
        assert_eq!(ResultOf::<Test>::get(job).unwrap().receipt, Some(receipt));
    });
}
