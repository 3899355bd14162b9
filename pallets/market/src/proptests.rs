//! Property test: thousands of random call sequences against the mock runtime (posts, claims,
//! honest and lying commitments, reveals, challenges, sealed votes and their reveals, referee
//! calls, audits (what a validator's auditor submits: a challenge and the referee call),
//! cancellations, unbonding, maintenance, slash cancellations, the slashing switch, and blocks
//! passing), checking after every step that
//! - a call that fails changes nothing (the storage root is unchanged);
//! - no funds are created or lost: the balances of all accounts add up to the total issuance,
//!   and the total issuance moved only by what the market minted as emission;
//! - every account's escrow, deposit and bond holds equal the market's books;
//! - `try_state` of the providers and market pallets holds.

use frame_support::traits::fungible::Inspect;
use proptest::prelude::*;
use sp_runtime::{DispatchResult, Permill, StateVersion};
use tessera_primitives::{commitment, vote_commitment, ExitStatus, JobId, Receipt};

use tessera_traits::PlacementSpec;

use crate::{mock::*, HoldBooks, HoldReason, InputSpec, JobSpec, JobTerms, TotalEmitted};

#[derive(Clone, Debug)]
enum Action {
    /// `placed`: 0 or 1 no placement, 2 the providers' region `eu` (met), 3 a label nobody
    /// advertises (unmet: claims fail, the job expires).
    Post { requester: u8, replicas: u32, fuel: u64, price: u64, claim: u64, exec: u64, window: u64, output: u32, remote: bool, placed: u8 },
    Claim { provider: u8, job: u8 },
    Release { provider: u8, job: u8 },
    /// A whole job in one step: posted, claimed by `servers`, committed (honestly or not) and
    /// revealed (or withheld), each call checked like any other.
    Lifecycle { requester: u8, replicas: u32, fuel: u64, price: u64, servers: [u8; 3], honest: [bool; 3], reveal: [bool; 3] },
    Commit { provider: u8, job: u8, honest: bool },
    Reveal { provider: u8, job: u8, output: bool, tamper: bool },
    Challenge { who: u8, job: u8 },
    Vote { seat: u8, job: u8, honest: bool },
    RevealVote { seat: u8, job: u8, wrong_salt: bool },
    Referee { who: u8, job: u8 },
    Audit { job: u8 },
    Cancel { who: u8, job: u8 },
    Unbond { provider: u8, all: bool },
    Maintenance { provider: u8, on: bool },
    CancelSlash { pick: u8 },
    Slashing { on: bool },
    Advance { blocks: u64 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0u8..3, 1u32..=3, 1u64..2_000, 1u64..6, 1u64..12, 1u64..12, 1u64..12, 0u32..32, any::<bool>(), 0u8..4).prop_map(
            |(requester, replicas, fuel, price, claim, exec, window, output, remote, placed)| Action::Post {
                requester, replicas, fuel, price, claim, exec, window, output, remote, placed
            }
        ),
        6 => (0u8..8, any::<u8>()).prop_map(|(provider, job)| Action::Claim { provider, job }),
        1 => (0u8..8, any::<u8>()).prop_map(|(provider, job)| Action::Release { provider, job }),
        3 => (
            0u8..3,
            1u32..=3,
            1u64..2_000,
            1u64..6,
            [0u8..8, 0u8..8, 0u8..8],
            [prop::bool::weighted(0.7), prop::bool::weighted(0.7), prop::bool::weighted(0.7)],
            [prop::bool::weighted(0.8), prop::bool::weighted(0.8), prop::bool::weighted(0.8)],
        )
            .prop_map(|(requester, replicas, fuel, price, servers, honest, reveal)| Action::Lifecycle {
                requester, replicas, fuel, price, servers, honest, reveal
            }),
        5 => (0u8..8, any::<u8>(), prop::bool::weighted(0.8)).prop_map(|(provider, job, honest)| Action::Commit { provider, job, honest }),
        5 => (0u8..8, any::<u8>(), any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(provider, job, output, tamper)| Action::Reveal { provider, job, output, tamper }),
        1 => (0u8..14, any::<u8>()).prop_map(|(who, job)| Action::Challenge { who, job }),
        4 => (0u8..3, any::<u8>(), prop::bool::weighted(0.8)).prop_map(|(seat, job, honest)| Action::Vote { seat, job, honest }),
        4 => (0u8..3, any::<u8>(), prop::bool::weighted(0.1))
            .prop_map(|(seat, job, wrong_salt)| Action::RevealVote { seat, job, wrong_salt }),
        2 => (0u8..14, any::<u8>()).prop_map(|(who, job)| Action::Referee { who, job }),
        1 => any::<u8>().prop_map(|job| Action::Audit { job }),
        1 => (0u8..3, any::<u8>()).prop_map(|(who, job)| Action::Cancel { who, job }),
        1 => (0u8..8, any::<bool>()).prop_map(|(provider, all)| Action::Unbond { provider, all }),
        1 => (0u8..8, any::<bool>()).prop_map(|(provider, on)| Action::Maintenance { provider, on }),
        1 => any::<u8>().prop_map(|pick| Action::CancelSlash { pick }),
        1 => any::<bool>().prop_map(|on| Action::Slashing { on }),
        5 => (1u64..8).prop_map(|blocks| Action::Advance { blocks }),
    ]
}

/// The account behind a small index: requesters, then providers, then the poor account.
fn account(i: u8) -> AccountId {
    match i {
        0 => ALICE,
        1 => BOB,
        2 => CHARLIE,
        i if (i as usize) < 3 + P.len() => P[i as usize - 3],
        _ => POOR,
    }
}

/// What an honest execution of `job` yields (any deterministic function of the job will do;
/// this one uses most of the fuel, so payments, fees and emission are not dust).
fn truth(job: JobId, fuel_limit: u64) -> Receipt {
    Receipt::new(ExitStatus::Ok, fuel_limit - job % fuel_limit, &job.to_le_bytes())
}

fn forged(job: JobId, fuel_limit: u64) -> Receipt {
    Receipt::new(ExitStatus::Ok, fuel_limit - job % fuel_limit, b"forged")
}

/// A job id near the live ones: mostly existing jobs, sometimes one that does not exist.
fn pick_job(pick: u8) -> JobId {
    let next = crate::NextJobId::<Test>::get();
    if next == 0 {
        return u64::from(pick);
    }
    next.saturating_sub(1 + u64::from(pick) % (next + 1))
}

struct Model {
    /// What each (job, provider) committed to.
    committed: std::collections::BTreeMap<(JobId, AccountId), Receipt>,
    /// What each (job, round, juror) sealed.
    sealed: std::collections::BTreeMap<(JobId, u32, AccountId), Receipt>,
    issuance0: Balance,
}

/// The juror in `seat` of `job`'s committee (or some provider when there is none), and the round.
fn seat_of(job: JobId, seat: u8) -> (AccountId, u32) {
    crate::DisputeOf::<Test>::get(job)
        .and_then(|d| d.committee.get(seat as usize).map(|j| (j.who, d.round)))
        .unwrap_or((P[seat as usize], 0))
}

/// A validator's auditor key's account: funded, not a provider.
const AUDITOR: AccountId = 50;

fn salt(job: JobId, who: AccountId) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&job.to_le_bytes());
    s[8..16].copy_from_slice(&who.to_le_bytes());
    s
}

fn apply(m: &mut Model, a: &Action) -> DispatchResult {
    let signed = RuntimeOrigin::signed;
    match a.clone() {
        Action::Post { requester, replicas, fuel, price, claim, exec, window, output, remote, placed } => {
            let program = program_id();
            let input = if remote {
                InputSpec::Remote { hash: sp_core::H256::repeat_byte(3), len: 9, uri: b"ipfs://x".to_vec().try_into().unwrap() }
            } else {
                InputSpec::Inline(vec![requester; 7].try_into().unwrap())
            };
            let spec = JobSpec::<Test> {
                terms: JobTerms {
                    program,
                    fuel_limit: fuel,
                    replicas,
                    max_price_per_fuel: price,
                    min_reputation: Permill::zero(),
                    max_output_len: output,
                    claim_timeout: claim,
                    execution_timeout: exec,
                    challenge_window: window,
                },
                input,
                placement: match placed {
                    2 => PlacementSpec { region: Some(b"eu".to_vec()), labels: vec![] },
                    3 => PlacementSpec { region: None, labels: vec![b"gpu".to_vec()] },
                    _ => PlacementSpec::default(),
                },
            };
            Market::post_job(signed(account(requester)), Box::new(spec))
        },
        Action::Claim { provider, job } => Market::claim_slot(signed(P[provider as usize]), pick_job(job)).map(|_| ()).map_err(|e| e.error),
        Action::Release { provider, job } => {
            Market::release_slot(signed(P[provider as usize]), pick_job(job)).map(|_| ()).map_err(|e| e.error)
        },
        Action::Lifecycle { requester, replicas, fuel, price, servers, honest, reveal } => {
            let spec = JobSpec::<Test> {
                terms: JobTerms {
                    program: program_id(),
                    fuel_limit: fuel,
                    replicas,
                    max_price_per_fuel: price,
                    min_reputation: Permill::zero(),
                    max_output_len: 16,
                    claim_timeout: 10,
                    execution_timeout: 10,
                    challenge_window: 3,
                },
                input: InputSpec::Inline(vec![requester; 7].try_into().unwrap()),
                // Where the world's providers are, so the whole job can be served.
                placement: PlacementSpec { region: Some(b"eu".to_vec()), labels: vec![] },
            };
            let id = crate::NextJobId::<Test>::get();
            Market::post_job(signed(account(requester)), Box::new(spec))?;
            // Each step may fail (a provider out of capacity, the same provider twice); a failed
            // step must change nothing, like any failed call.
            let step = |a: Action, m: &mut Model| {
                let before = sp_io::storage::root(StateVersion::V1);
                if apply(m, &a).is_err() {
                    assert_eq!(sp_io::storage::root(StateVersion::V1), before, "failed {a:?} changed state");
                }
            };
            let job = (crate::NextJobId::<Test>::get() - 1 - id) as u8;
            let n = replicas as usize;
            for &provider in &servers[..n] {
                step(Action::Claim { provider, job }, m);
            }
            for i in 0..n {
                step(Action::Commit { provider: servers[i], job, honest: honest[i] }, m);
            }
            for i in 0..n {
                if reveal[i] {
                    step(Action::Reveal { provider: servers[i], job, output: true, tamper: false }, m);
                }
            }
            Ok(())
        },
        Action::Commit { provider, job, honest } => {
            let who = P[provider as usize];
            let id = pick_job(job);
            let limit = crate::JobOf::<Test>::get(id).map_or(1, |j| j.terms.fuel_limit);
            let r = if honest { truth(id, limit) } else { forged(id, limit) };
            let res = Market::commit(signed(who), id, commitment(id, &who, &r, &salt(id, who))).map(|_| ()).map_err(|e| e.error);
            if res.is_ok() {
                m.committed.insert((id, who), r);
            }
            res
        },
        Action::Reveal { provider, job, output, tamper } => {
            let who = P[provider as usize];
            let id = pick_job(job);
            let r = m.committed.get(&(id, who)).copied().unwrap_or_else(|| truth(id, 1));
            let r = if tamper { Receipt { fuel_used: r.fuel_used + 1, ..r } } else { r };
            let bytes: Vec<u8> = if r.output_hash == truth(id, 1).output_hash {
                id.to_le_bytes().to_vec()
            } else {
                b"forged".to_vec()
            };
            let out = if output { bytes.try_into().unwrap() } else { Default::default() };
            Market::reveal(signed(who), id, r, salt(id, who), out).map(|_| ()).map_err(|e| e.error)
        },
        Action::Challenge { who, job } => Market::challenge(signed(account(who)), pick_job(job)),
        Action::Vote { seat, job, honest } => {
            let id = pick_job(job);
            let (juror, round) = seat_of(id, seat);
            let limit = crate::JobOf::<Test>::get(id).map_or(1, |j| j.terms.fuel_limit);
            let r = if honest { truth(id, limit) } else { forged(id, limit) };
            let res = Market::vote(signed(juror), id, vote_commitment(id, round, &juror, &r, &salt(id, juror)))
                .map(|_| ())
                .map_err(|e| e.error);
            if res.is_ok() {
                m.sealed.insert((id, round, juror), r);
            }
            res
        },
        Action::RevealVote { seat, job, wrong_salt } => {
            let id = pick_job(job);
            let (juror, round) = seat_of(id, seat);
            let r = m.sealed.get(&(id, round, juror)).copied().unwrap_or_else(|| truth(id, 1));
            let s = if wrong_salt { [0xee; 32] } else { salt(id, juror) };
            Market::reveal_vote(signed(juror), id, r, s).map(|_| ()).map_err(|e| e.error)
        },
        Action::Referee { who, job } => {
            // Inline inputs only (the remote ones here name bytes nobody has).
            Market::referee(signed(account(who)), pick_job(job), None).map(|_| ()).map_err(|e| e.error)
        },
        Action::Audit { job } => {
            // A validator's auditor found the agreed result wrong: it challenges, and where
            // the referee decides, submits the referee call in the same block.
            let id = pick_job(job);
            Market::challenge(signed(AUDITOR), id)?;
            let _ = Market::referee(signed(AUDITOR), id, None);
            Ok(())
        },
        Action::Cancel { who, job } => {
            Market::cancel_job(signed(account(who)), pick_job(job)).map(|_| ()).map_err(|e| e.error)
        },
        Action::Unbond { provider, all } => {
            let who = P[provider as usize];
            let stake = pallet_providers::ProviderOf::<Test>::get(who).map_or(0, |p| p.stake);
            let amount = if all { stake } else { stake.saturating_sub(MIN_STAKE).max(1) };
            Providers::unbond(signed(who), amount)
        },
        Action::Maintenance { provider, on } => Providers::set_maintenance(signed(P[provider as usize]), on),
        Action::CancelSlash { pick } => {
            let ids: Vec<_> = pallet_providers::PendingSlashOf::<Test>::iter_keys().collect();
            if ids.is_empty() {
                return Ok(());
            }
            Providers::cancel_slash(RuntimeOrigin::root(), ids[pick as usize % ids.len()])
        },
        Action::Slashing { on } => Providers::set_slashing_enabled(RuntimeOrigin::root(), on),
        Action::Advance { blocks } => {
            run_to_block(System::block_number() + blocks);
            Ok(())
        },
    }
}

fn check_books(m: &Model) -> Result<(), TestCaseError> {
    check_invariants();
    let mut sum: Balance = 0;
    let books = Market::hold_books();
    for (who, _) in frame_system::Account::<Test>::iter() {
        sum += Balances::total_balance(&who);
        let HoldBooks { escrow, deposit, bond } = books.get(&who).copied().unwrap_or_default();
        let held = |r: HoldReason| {
            <Balances as frame_support::traits::fungible::InspectHold<_>>::balance_on_hold(
                &RuntimeHoldReason::Market(r),
                &who,
            )
        };
        prop_assert_eq!(held(HoldReason::Escrow), escrow, "escrow of {}", who);
        prop_assert_eq!(held(HoldReason::StorageDeposit), deposit, "deposit of {}", who);
        prop_assert_eq!(held(HoldReason::ChallengeBond), bond, "bond of {}", who);
    }
    let issuance = Balances::total_issuance();
    prop_assert_eq!(sum, issuance, "accounts do not add up to the issuance");
    prop_assert_eq!(issuance, m.issuance0 + TotalEmitted::<Test>::get(), "issuance moved by more than emission");
    Ok(())
}

/// The world both property tests start from: 8 providers at prices 1..=3, the program, a funded
/// auditor account; and the model of what was committed and sealed.
fn world() -> Model {
    for (i, who) in P.iter().take(8).enumerate() {
        let price = 1 + (i as Balance % 3);
        frame_support::assert_ok!(Providers::register(RuntimeOrigin::signed(*who), STAKE, provider_profile(2, price)));
    }
    upload_program(ALICE);
    <Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&AUDITOR, ENDOWMENT);
    Model { committed: Default::default(), sealed: Default::default(), issuance0: Balances::total_issuance() }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_call_sequences_conserve_funds_and_keep_the_books(actions in prop::collection::vec(action(), 1..80)) {
        new_test_ext().execute_with(|| {
            let mut m = world();
            check_books(&m)?;
            for a in &actions {
                let before = sp_io::storage::root(StateVersion::V1);
                let events = System::event_count();
                if apply(&mut m, a).is_err() {
                    prop_assert_eq!(sp_io::storage::root(StateVersion::V1), before, "failed {:?} changed state", a);
                    prop_assert_eq!(System::event_count(), events);
                }
                check_books(&m)?;
            }
            // Let every live job run out its deadlines: the books still balance and nothing is
            // left held by the market once the results are pruned.
            run_to_block(System::block_number() + 200);
            check_books(&m)?;
            prop_assert_eq!(crate::JobOf::<Test>::count(), 0);
            prop_assert_eq!(crate::ResultOf::<Test>::iter().count(), 0);
            prop_assert!(Market::hold_books().is_empty(), "the market still books holds");
            Ok(())
        })?;
    }
}

// -------------------------------------------------------------------------------------------
// Adversaries
// -------------------------------------------------------------------------------------------

/// The adversary: a requester (Alice) and two providers (P0, P1) run by one party. They
/// self-deal (post jobs their own providers serve), lie, withhold reveals, claim and miss,
/// release, challenge their own jobs, and sit as sybil jurors voting anything. Everyone else
/// is honest: providers P2..P7 commit and vote the truth, Bob and Charlie post and challenge.
/// (Two adversary providers can never hold a committee majority on a job one of them serves,
/// so a dispute over the party's own jobs is decided by honest jurors; capturing committees
/// with most of the stake is the committee-security question of PROTOCOL.md, not this one.)
const ADVERSARY: [AccountId; 3] = [ALICE, P[0], P[1]];

fn adversarial(a: &Action) -> bool {
    let adversary_provider = |i: u8| (i as usize) < 2;
    match a {
        Action::Commit { provider, .. } | Action::Reveal { provider, .. } | Action::Claim { provider, .. } |
        Action::Release { provider, .. } => adversary_provider(*provider),
        _ => false,
    }
}

/// An honest actor's version of `a`: an honest provider commits and votes the truth and never
/// tampers with a reveal; governance (slash cancellations, the switch) does not act.
fn honest_version(a: Action) -> Action {
    let adversary = adversarial(&a);
    match a {
        Action::Lifecycle { requester, replicas, fuel, price, servers, mut honest, mut reveal } => {
            for i in 0..3 {
                if servers[i] >= 2 {
                    honest[i] = true;
                    reveal[i] = true;
                }
            }
            Action::Lifecycle { requester, replicas, fuel, price, servers, honest, reveal }
        },
        Action::Commit { provider, job, .. } if !adversary => Action::Commit { provider, job, honest: true },
        Action::Reveal { provider, job, output, .. } if !adversary => {
            Action::Reveal { provider, job, output, tamper: false }
        },
        Action::Vote { seat, job, honest } => {
            let (juror, _) = seat_of(pick_job(job), seat);
            Action::Vote { seat, job, honest: honest || !ADVERSARY.contains(&juror) }
        },
        Action::RevealVote { seat, job, wrong_salt } => {
            let (juror, _) = seat_of(pick_job(job), seat);
            Action::RevealVote { seat, job, wrong_salt: wrong_salt && ADVERSARY.contains(&juror) }
        },
        Action::CancelSlash { .. } | Action::Slashing { .. } => Action::Advance { blocks: 1 },
        other => other,
    }
}

/// The party's net worth ([`net_worth`]: balances less scheduled slashes).
fn adversary_net_worth() -> i128 {
    net_worth(&ADVERSARY) as i128
}

/// What the party could have earned by serving others: every amount that reached its accounts
/// from an account outside the party (payments, compensations, bond shares, a share of others'
/// slashes), and the emission minted to it for jobs of requesters outside the party.
#[derive(Default)]
struct Earned {
    from_others: i128,
    /// Events read so far.
    seen: usize,
    /// Who posted each job (from `JobPosted`).
    requesters: std::collections::BTreeMap<JobId, AccountId>,
}

impl Earned {
    fn update(&mut self) {
        let events = System::events();
        for record in events.iter().skip(self.seen) {
            if let RuntimeEvent::Market(crate::Event::JobPosted { job, requester, .. }) = &record.event {
                self.requesters.insert(*job, *requester);
            }
            match &record.event {
                RuntimeEvent::Balances(pallet_balances::Event::TransferOnHold { source, dest, amount, .. })
                | RuntimeEvent::Balances(pallet_balances::Event::Transfer { from: source, to: dest, amount })
                    if ADVERSARY.contains(dest) && !ADVERSARY.contains(source) =>
                {
                    self.from_others += *amount as i128;
                },
                RuntimeEvent::Market(crate::Event::ReplicaPaid { job, provider: who, reward, .. })
                | RuntimeEvent::Market(crate::Event::JurorRewarded { job, juror: who, reward, .. })
                    if ADVERSARY.contains(who) && !ADVERSARY.contains(&self.requesters[job]) =>
                {
                    self.from_others += *reward as i128;
                },
                _ => {},
            }
        }
        self.seen = events.len();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    /// Thousands of sequences of an adversary party among honest actors: besides conservation
    /// (checked as in the test above), the party's net worth never grows by more than what
    /// reached it from others and the emission for others' jobs. No self-dealing, lying,
    /// withholding, claiming and missing, releasing, self-challenge or sybil vote turns the
    /// protocol's own money (emission, the treasury) or the party's own payments into profit.
    #[test]
    fn adversaries_never_gain_more_than_serving_others_earns(actions in prop::collection::vec(action(), 1..80)) {
        new_test_ext().execute_with(|| {
            PostingFee::set(3);
            let mut m = world();
            let start = adversary_net_worth();
            let mut earned = Earned { seen: System::events().len(), ..Default::default() };
            for a in &actions {
                // Who acts decides what it does: honest actors only act honestly (this reads
                // the committee, so it happens here, against the chain's state).
                let a = &honest_version(a.clone());
                let before = sp_io::storage::root(StateVersion::V1);
                if apply(&mut m, a).is_err() {
                    prop_assert_eq!(sp_io::storage::root(StateVersion::V1), before, "failed {:?} changed state", a);
                }
                check_books(&m)?;
                earned.update();
                let gain = adversary_net_worth() - start;
                prop_assert!(gain <= earned.from_others, "after {:?}: gained {} but earned {} from others", a, gain, earned.from_others);
            }
            run_to_block(System::block_number() + 200);
            check_books(&m)?;
            earned.update();
            let gain = adversary_net_worth() - start;
            prop_assert!(gain <= earned.from_others, "at the end: gained {} but earned {} from others", gain, earned.from_others);
            PostingFee::set(0);
            Ok(())
        })?;
    }
}
