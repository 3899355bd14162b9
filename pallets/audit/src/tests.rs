//! Tests of the auditor's off-chain worker against the real market: what it picks, what it
//! re-executes, and the transactions it submits.

use std::sync::Arc;

use codec::Decode;
use frame_support::{assert_ok, traits::Hooks};
use sp_core::{
    offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt},
    sr25519, H256,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::{Perbill, Permill};
use tessera_executor::{ProgramLimits, RunLimits};
use tessera_primitives::{commitment, ExitStatus, JobId, ProgramId, Receipt};

use crate::{mock::*, KEY_TYPE, RATE_KEY};
use pallet_market::{InputSpec, JobSpec, JobTerms, Outcome, ResultOf};

const MAX_OUTPUT_LEN: u32 = 64;

struct Node {
    ext: sp_io::TestExternalities,
    pool: Arc<parking_lot::RwLock<testing::PoolState>>,
    auditor: Option<AccountId>,
}

/// A node with the chain's state and, when `with_key`, an auditor key in its keystore.
fn node(with_key: bool) -> Node {
    let keystore = MemoryKeystore::new();
    let auditor = with_key.then(|| {
        let key: sr25519::Public = keystore.sr25519_generate_new(KEY_TYPE, Some("//Auditor")).unwrap();
        account_of(&key)
    });
    let mut ext = new_test_ext(auditor.as_slice());
    let (offchain, _) = testing::TestOffchainExt::new();
    let (pool, pool_state) = testing::TestTransactionPoolExt::new();
    ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
    ext.register_extension(OffchainDbExt::new(offchain));
    ext.register_extension(TransactionPoolExt::new(pool));
    ext.register_extension(KeystoreExt(Arc::new(keystore)));
    Node { ext, pool: pool_state, auditor }
}

fn hash_chain() -> ProgramId {
    let code = tessera_examples::HASH_CHAIN;
    let id = H256(sp_crypto_hashing::blake2_256(code));
    if !pallet_programs::ProgramOf::<Test>::contains_key(id) {
        assert_ok!(Programs::upload_program(RuntimeOrigin::signed(requester()), code.to_vec().try_into().unwrap()));
    }
    id
}

fn input() -> Vec<u8> {
    tessera_examples::input::hash_chain(500, b"audit me")
}

fn honest(fuel_limit: u64) -> Receipt {
    let limits = ProgramLimits { max_code_len: 64 * 1024, max_memory_pages: 16, max_table_elements: 64 };
    let run = RunLimits { fuel: fuel_limit, max_memory_pages: 16, max_output_len: MAX_OUTPUT_LEN };
    tessera_executor::referee(tessera_examples::HASH_CHAIN, &limits, &input(), &run).unwrap().receipt
}

fn lie() -> Receipt {
    Receipt::new(ExitStatus::Ok, 700, b"made up")
}

/// A job served by one replica that reveals `receipt`; its result is agreed in this block.
fn agreed(fuel_limit: u64, receipt: Receipt) -> JobId {
    let program = hash_chain();
    let spec = JobSpec::<Test> {
        terms: JobTerms {
            program,
            fuel_limit,
            replicas: 1,
            max_price_per_fuel: 1,
            min_reputation: Permill::zero(),
            max_output_len: MAX_OUTPUT_LEN,
            claim_timeout: 10,
            execution_timeout: 10,
            challenge_window: 10,
        },
        input: InputSpec::Inline(input().try_into().unwrap()),
        placement: Default::default(),
    };
    let job = pallet_market::NextJobId::<Test>::get();
    assert_ok!(Market::post_job(RuntimeOrigin::signed(requester()), Box::new(spec)));
    let p = provider(0);
    assert_ok!(Market::claim_slot(RuntimeOrigin::signed(p.clone()), job));
    assert_ok!(Market::commit(RuntimeOrigin::signed(p.clone()), job, commitment(job, &p, &receipt, &[5; 32])));
    assert_ok!(Market::reveal(RuntimeOrigin::signed(p), job, receipt, [5; 32], Vec::new()));
    job
}

/// The calls in the pool, with the nonce each was signed with.
fn submitted(pool: &Arc<parking_lot::RwLock<testing::PoolState>>) -> Vec<(u64, RuntimeCall)> {
    pool.write()
        .transactions
        .drain(..)
        .map(|tx| {
            let xt = Extrinsic::decode(&mut &*tx).unwrap();
            let nonce = match xt.preamble {
                sp_runtime::generic::Preamble::Signed(nonce, ..) => nonce,
                other => panic!("an auditor signs its transactions, got {other:?}"),
            };
            (nonce, xt.function)
        })
        .collect()
}

#[test]
fn a_lie_is_challenged_and_refereed_and_the_auditor_is_paid() {
    let mut n = node(true);
    let auditor = n.auditor.clone().unwrap();
    n.ext.execute_with(|| {
        let job = agreed(100_000, lie());
        Audit::offchain_worker(System::block_number());
        let calls = submitted(&n.pool);
        assert_eq!(
            calls,
            vec![
                (0, RuntimeCall::Market(pallet_market::Call::challenge { job })),
                (1, RuntimeCall::Market(pallet_market::Call::referee { job, input: None })),
            ],
            "challenge, then the referee call, with consecutive nonces"
        );
        // The block author includes them.
        let before = Balances::free_balance(&auditor);
        for (_, call) in calls {
            assert_ok!(sp_runtime::traits::Dispatchable::dispatch(call, RuntimeOrigin::signed(auditor.clone())));
        }
        let result = ResultOf::<Test>::get(job).unwrap();
        assert_eq!(result.outcome, Outcome::Settled);
        assert_eq!(result.receipt, Some(honest(100_000)), "the referee found the honest receipt");
        assert_eq!(result.paid, 0, "the liar is not paid");
        assert_eq!(Balances::free_balance(&auditor), before, "the bond is back");
        run_to_block(System::block_number() + 12);
        assert!(Balances::free_balance(&auditor) > before, "and half of the liar's slash is the auditor's");
    });
}

#[test]
fn an_honest_result_is_confirmed_and_left_alone() {
    let mut n = node(true);
    n.ext.execute_with(|| {
        let job = agreed(100_000, honest(100_000));
        Audit::offchain_worker(System::block_number());
        assert!(submitted(&n.pool).is_empty());
        assert!(pallet_market::JobOf::<Test>::get(job).is_some(), "still in its window");
    });
}

#[test]
fn a_node_without_an_auditor_key_audits_nothing() {
    let mut n = node(false);
    n.ext.execute_with(|| {
        agreed(100_000, lie());
        Audit::offchain_worker(System::block_number());
        assert!(submitted(&n.pool).is_empty());
    });
}

#[test]
fn the_rate_decides_and_a_node_may_set_its_own() {
    let mut n = node(true);
    n.ext.execute_with(|| {
        AuditRate::set(Perbill::zero());
        agreed(100_000, lie());
        Audit::offchain_worker(System::block_number());
        assert!(submitted(&n.pool).is_empty(), "rate 0: nothing picked");
        // The node raises its own rate; the next agreed lie is caught.
        sp_runtime::offchain::storage::StorageValueRef::persistent(RATE_KEY).set(&1_000_000_000u32);
        assert_eq!(Audit::rate(), Perbill::one());
        run_to_block(System::block_number() + 1);
        let job = agreed(100_000, lie());
        Audit::offchain_worker(System::block_number());
        assert_eq!(submitted(&n.pool).first().map(|(_, c)| c.clone()), Some(RuntimeCall::Market(pallet_market::Call::challenge { job })));
    });
}

#[test]
fn jobs_above_the_budget_are_not_audited_and_large_lies_go_to_a_committee() {
    let mut n = node(true);
    n.ext.execute_with(|| {
        // Above the per-block budget: never re-executed.
        agreed(FUEL_BUDGET + 1, lie());
        Audit::offchain_worker(System::block_number());
        assert!(submitted(&n.pool).is_empty());
        // Within the budget but above the referee's limit: challenged, no referee call.
        run_to_block(System::block_number() + 1);
        let job = agreed(200_000, lie());
        Audit::offchain_worker(System::block_number());
        assert_eq!(submitted(&n.pool), vec![(0, RuntimeCall::Market(pallet_market::Call::challenge { job }))]);
    });
}

/// Two lies agreed in one block, each needing most of the per-block budget.
fn two_large_lies() -> (JobId, JobId) {
    let first = agreed(200_000, lie());
    let second = pallet_market::NextJobId::<Test>::get();
    let spec = JobSpec::<Test> {
        terms: pallet_market::JobOf::<Test>::get(first).unwrap().terms,
        input: InputSpec::Inline(input().try_into().unwrap()),
        placement: Default::default(),
    };
    assert_ok!(Market::post_job(RuntimeOrigin::signed(requester()), Box::new(spec)));
    let p = provider(1);
    assert_ok!(Market::claim_slot(RuntimeOrigin::signed(p.clone()), second));
    assert_ok!(Market::commit(RuntimeOrigin::signed(p.clone()), second, commitment(second, &p, &lie(), &[6; 32])));
    assert_ok!(Market::reveal(RuntimeOrigin::signed(p), second, lie(), [6; 32], Vec::new()));
    (first, second)
}

#[test]
fn the_budget_spreads_audits_over_blocks() {
    let mut n = node(true);
    n.ext.execute_with(|| {
        let (first, second) = two_large_lies();
        Audit::offchain_worker(System::block_number());
        assert_eq!(submitted(&n.pool), vec![(0, RuntimeCall::Market(pallet_market::Call::challenge { job: first }))]);
        run_to_block(System::block_number() + 1);
        Audit::offchain_worker(System::block_number());
        let calls: Vec<RuntimeCall> = submitted(&n.pool).into_iter().map(|(_, c)| c).collect();
        assert_eq!(calls, vec![RuntimeCall::Market(pallet_market::Call::challenge { job: second })]);
    });
}

#[test]
fn a_result_whose_window_closed_is_dropped() {
    let mut n = node(true);
    n.ext.execute_with(|| {
        let (first, second) = two_large_lies();
        Audit::offchain_worker(System::block_number());
        assert_eq!(submitted(&n.pool).len(), 1, "the first is challenged, the second waits");
        // The node misses the blocks until the second's window has closed and it settled.
        run_to_block(System::block_number() + 11);
        assert!(ResultOf::<Test>::get(second).is_some());
        Audit::offchain_worker(System::block_number());
        assert!(submitted(&n.pool).is_empty(), "nothing left to challenge");
        let queue = sp_runtime::offchain::storage::StorageValueRef::persistent(crate::QUEUE_KEY);
        assert_eq!(queue.get::<Vec<crate::worker::Candidate>>().unwrap(), Some(vec![]));
        let _ = first;
    });
}
