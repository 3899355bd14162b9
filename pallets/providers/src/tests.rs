//! Tests of the providers pallet: every call's happy path and errors, slashing, liveness,
//! reputation and the registry trait the market uses.

use frame_support::{
    assert_noop, assert_ok,
    traits::fungible::{Inspect, InspectHold},
};
use frame_support::traits::ConstU32;
use sp_runtime::{DispatchError, Perbill, Permill};
use tessera_primitives::reputation::Outcome;
use tessera_traits::{Ineligible, Placement, PlacementSpec, ProviderRegistry, Requirements, SlashReason};

use crate::{
    mock::*, Error, Event, HoldReason, JobPlacement, JobRequirements, PendingSlashOf, ProfileSpec, ProviderAt, ProviderOf,
    SlashesDue,
};

fn profile(capacity: u32, price: Balance) -> ProfileSpec<Test> {
    ProfileSpec::<Test> { capacity, price_per_fuel: price, region: b"eu-west".to_vec(), labels: vec![b"cpu".to_vec()] }
}

fn register(who: AccountId, stake: Balance) {
    assert_ok!(Providers::register(RuntimeOrigin::signed(who), stake, profile(2, 10)));
}

fn held(who: AccountId) -> Balance {
    Balances::balance_on_hold(&RuntimeHoldReason::Providers(HoldReason::Stake), &who)
}

fn req(max_price: Balance) -> JobRequirements<Test> {
    Requirements { min_reputation: Permill::zero(), max_price_per_fuel: max_price, placement: Default::default() }
}

/// Requirements at any price with a placement of `region` (if any) and `labels`.
fn placed(region: Option<&[u8]>, labels: &[&[u8]]) -> JobRequirements<Test> {
    let spec = PlacementSpec { region: region.map(|r| r.to_vec()), labels: labels.iter().map(|l| l.to_vec()).collect() };
    let placement: JobPlacement<Test> = spec.bounded().expect("within the mock's bounds");
    Requirements { placement, ..req(10) }
}

fn last_event() -> Event<Test> {
    System::events()
        .into_iter()
        .filter_map(|r| if let RuntimeEvent::Providers(e) = r.event { Some(e) } else { None })
        .last()
        .expect("a providers event")
}

mod register {
    use super::*;

    #[test]
    fn holds_stake_and_records_profile() {
        new_test_ext().execute_with(|| {
            register(1, 5_000);
            assert_eq!(held(1), 5_000);
            assert_eq!(Balances::balance(&1), 95_000);
            let p = ProviderOf::<Test>::get(1).unwrap();
            assert_eq!((p.stake, p.profile.capacity, p.index), (5_000, 2, 0));
            assert_eq!(ProviderAt::<Test>::get(0), Some(1));
            assert_eq!(last_event(), Event::Registered { who: 1, stake: 5_000 });
        });
    }

    /// Over-long profile fields decode (the call takes plain vectors) and get named errors.
    #[test]
    fn over_long_profile_fields_get_named_errors() {
        new_test_ext().execute_with(|| {
            let o = || RuntimeOrigin::signed(1);
            let mut p = profile(2, 10);
            p.region = vec![b'r'; 17];
            assert_noop!(Providers::register(o(), MIN_STAKE, p), Error::<Test>::RegionTooLong);
            let mut p = profile(2, 10);
            p.labels = vec![b"l".to_vec(); 5];
            assert_noop!(Providers::register(o(), MIN_STAKE, p), Error::<Test>::TooManyLabels);
            let mut p = profile(2, 10);
            p.labels = vec![vec![b'l'; 9]];
            assert_noop!(Providers::register(o(), MIN_STAKE, p), Error::<Test>::LabelTooLong);
            register(1, MIN_STAKE);
            let mut p = profile(2, 10);
            p.region = vec![b'r'; 17];
            assert_noop!(Providers::update_profile(o(), p), Error::<Test>::RegionTooLong);
            let mut p = profile(2, 10);
            p.region = vec![b'r'; 16];
            p.labels = vec![vec![b'l'; 8]; 4];
            assert_ok!(Providers::update_profile(o(), p));
        });
    }

    #[test]
    fn rejects_bad_input_and_changes_nothing() {
        new_test_ext().execute_with(|| {
            let o = || RuntimeOrigin::signed(1);
            assert_noop!(Providers::register(o(), MIN_STAKE - 1, profile(2, 10)), Error::<Test>::StakeTooLow);
            assert_noop!(Providers::register(o(), MIN_STAKE, profile(0, 10)), Error::<Test>::BadCapacity);
            assert_noop!(Providers::register(o(), MIN_STAKE, profile(17, 10)), Error::<Test>::BadCapacity);
            assert_noop!(Providers::register(o(), MIN_STAKE, profile(2, 0)), Error::<Test>::ZeroPrice);
            assert_noop!(
                Providers::register(o(), 200_000, profile(2, 10)),
                sp_runtime::TokenError::FundsUnavailable
            );
            assert_noop!(Providers::register(RuntimeOrigin::root(), MIN_STAKE, profile(2, 10)), DispatchError::BadOrigin);
            register(1, MIN_STAKE);
            assert_noop!(Providers::register(o(), MIN_STAKE, profile(2, 10)), Error::<Test>::AlreadyRegistered);
        });
    }

    #[test]
    fn registry_is_bounded() {
        new_test_ext().execute_with(|| {
            for who in 1..=8 {
                register(who, MIN_STAKE);
            }
            assert_noop!(
                Providers::register(RuntimeOrigin::signed(9), MIN_STAKE, profile(2, 10)),
                Error::<Test>::TooManyProviders
            );
        });
    }
}

mod profile_and_stake {
    use super::*;

    #[test]
    fn update_profile_checks_capacity_against_assignments() {
        new_test_ext().execute_with(|| {
            assert_noop!(Providers::update_profile(RuntimeOrigin::signed(1), profile(1, 5)), Error::<Test>::NotRegistered);
            register(1, MIN_STAKE);
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            assert_noop!(
                Providers::update_profile(RuntimeOrigin::signed(1), profile(1, 5)),
                Error::<Test>::CapacityBelowAssignments
            );
            assert_ok!(Providers::update_profile(RuntimeOrigin::signed(1), profile(3, 5)));
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().profile.price_per_fuel, 5);
            assert_eq!(last_event(), Event::ProfileUpdated { who: 1 });
        });
    }

    #[test]
    fn bond_more_adds_to_the_hold() {
        new_test_ext().execute_with(|| {
            assert_noop!(Providers::bond_more(RuntimeOrigin::signed(1), 10), Error::<Test>::NotRegistered);
            register(1, MIN_STAKE);
            assert_noop!(Providers::bond_more(RuntimeOrigin::signed(1), 0), Error::<Test>::BadAmount);
            assert_ok!(Providers::bond_more(RuntimeOrigin::signed(1), 500));
            assert_eq!(held(1), MIN_STAKE + 500);
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().stake, MIN_STAKE + 500);
            assert_eq!(last_event(), Event::Bonded { who: 1, amount: 500 });
        });
    }

    #[test]
    fn unbond_then_withdraw_after_the_period() {
        new_test_ext().execute_with(|| {
            register(1, 3_000);
            assert_noop!(Providers::unbond(RuntimeOrigin::signed(1), 0), Error::<Test>::BadAmount);
            assert_noop!(Providers::unbond(RuntimeOrigin::signed(1), 3_001), Error::<Test>::BadAmount);
            // Leaving 500 active would be below the minimum.
            assert_noop!(Providers::unbond(RuntimeOrigin::signed(1), 2_500), Error::<Test>::StakeTooLow);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 2_000));
            assert_eq!(last_event(), Event::Unbonded { who: 1, amount: 2_000, unlock_at: 1 + UNBONDING });
            // Still held while unbonding.
            assert_eq!(held(1), 3_000);
            assert_noop!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)), Error::<Test>::NothingToWithdraw);
            run_to_block(1 + UNBONDING);
            assert_ok!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)));
            assert_eq!(held(1), 1_000);
            assert_eq!(Balances::balance(&1), 99_000);
            assert_eq!(last_event(), Event::Withdrawn { who: 1, amount: 2_000 });
        });
    }

    #[test]
    fn stake_of_is_the_active_stake_only() {
        new_test_ext().execute_with(|| {
            assert_eq!(<Providers as ProviderRegistry<_>>::stake_of(&1), 0, "not registered");
            register(1, 3_000);
            assert_eq!(<Providers as ProviderRegistry<_>>::stake_of(&1), 3_000);
            assert_ok!(Providers::bond_more(RuntimeOrigin::signed(1), 500));
            assert_eq!(<Providers as ProviderRegistry<_>>::stake_of(&1), 3_500);
            // Unbonding stake is still held (and slashable) but no longer weighs a juror.
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 2_000));
            assert_eq!(held(1), 3_500);
            assert_eq!(<Providers as ProviderRegistry<_>>::stake_of(&1), 1_500);
        });
    }

    #[test]
    fn unbonding_chunks_are_bounded() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            for _ in 0..4 {
                assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 100));
            }
            assert_noop!(Providers::unbond(RuntimeOrigin::signed(1), 100), Error::<Test>::TooManyUnbondingChunks);
        });
    }

    #[test]
    fn withdraw_waits_for_live_assignments_and_pending_slashes() {
        new_test_ext().execute_with(|| {
            register(1, 2_000);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 1_000));
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            run_to_block(1 + UNBONDING);
            assert_noop!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)), Error::<Test>::HasLiveAssignments);
            <Providers as ProviderRegistry<_>>::release(&1);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(10), None, SlashReason::MissedDeadline);
            assert_noop!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)), Error::<Test>::HasPendingSlashes);
        });
    }
}

mod deregister {
    use super::*;

    #[test]
    fn needs_everything_withdrawn_and_keeps_the_index_dense() {
        new_test_ext().execute_with(|| {
            register(1, MIN_STAKE);
            register(2, MIN_STAKE);
            register(3, MIN_STAKE);
            assert_noop!(Providers::deregister(RuntimeOrigin::signed(1)), Error::<Test>::StillStaked);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), MIN_STAKE));
            assert_noop!(Providers::deregister(RuntimeOrigin::signed(1)), Error::<Test>::StillStaked);
            run_to_block(1 + UNBONDING);
            assert_ok!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)));
            assert_ok!(Providers::deregister(RuntimeOrigin::signed(1)));
            assert_eq!(last_event(), Event::Deregistered { who: 1 });
            assert!(ProviderOf::<Test>::get(1).is_none());
            // Provider 3 moved into index 0.
            assert_eq!(ProviderAt::<Test>::get(0), Some(3));
            assert_eq!(ProviderOf::<Test>::get(3).unwrap().index, 0);
            assert_eq!(ProviderAt::<Test>::get(2), None);
            assert_eq!(<Providers as ProviderRegistry<_>>::provider_count(), 2);
            assert_eq!(Balances::balance(&1), 100_000);
            Providers::do_try_state().unwrap();
        });
    }

    #[test]
    fn refused_with_live_assignments_or_unregistered() {
        new_test_ext().execute_with(|| {
            assert_noop!(Providers::deregister(RuntimeOrigin::signed(1)), Error::<Test>::NotRegistered);
            register(1, MIN_STAKE);
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            assert_noop!(Providers::deregister(RuntimeOrigin::signed(1)), Error::<Test>::HasLiveAssignments);
        });
    }
}

mod liveness {
    use super::*;

    #[test]
    fn missed_heartbeats_make_a_provider_inactive_until_the_next() {
        new_test_ext().execute_with(|| {
            register(1, MIN_STAKE);
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &req(10)), Ok(10));
            run_to_block(1 + HEARTBEAT_TIMEOUT + 1);
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &req(10)), Err(Ineligible::Inactive));
            assert!(!<Providers as ProviderRegistry<_>>::is_active(&1));
            assert_ok!(Providers::heartbeat(RuntimeOrigin::signed(1)));
            assert_eq!(last_event(), Event::Heartbeat { who: 1 });
            assert!(<Providers as ProviderRegistry<_>>::is_active(&1));
            assert_noop!(Providers::heartbeat(RuntimeOrigin::signed(2)), Error::<Test>::NotRegistered);
        });
    }

    #[test]
    fn maintenance_takes_no_work_and_leaving_it_counts_as_heartbeat() {
        new_test_ext().execute_with(|| {
            register(1, MIN_STAKE);
            assert_noop!(Providers::set_maintenance(RuntimeOrigin::signed(1), false), Error::<Test>::MaintenanceUnchanged);
            assert_ok!(Providers::set_maintenance(RuntimeOrigin::signed(1), true));
            assert_eq!(last_event(), Event::MaintenanceSet { who: 1, maintenance: true });
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &req(10)), Err(Ineligible::InMaintenance));
            run_to_block(100);
            assert_ok!(Providers::set_maintenance(RuntimeOrigin::signed(1), false));
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &req(10)), Ok(10));
        });
    }
}

mod eligibility {
    use super::*;

    #[test]
    fn each_reason_is_reported() {
        new_test_ext().execute_with(|| {
            let reg = |who| <Providers as ProviderRegistry<_>>::check_eligible(&who, &req(10));
            assert_eq!(reg(1), Err(Ineligible::NotProvider));
            register(1, MIN_STAKE);
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &req(9)), Err(Ineligible::PriceTooHigh));
            let picky = Requirements { min_reputation: Permill::from_percent(60), ..req(10) };
            assert_eq!(<Providers as ProviderRegistry<_>>::check_eligible(&1, &picky), Err(Ineligible::ReputationTooLow));
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            assert_eq!(reg(1), Err(Ineligible::NoCapacity));
            assert_noop!(<Providers as ProviderRegistry<_>>::assign(&1), Error::<Test>::CapacityBelowAssignments);
            <Providers as ProviderRegistry<_>>::release(&1);
            assert_eq!(reg(1), Ok(10));
            // Unbonding everything leaves no active stake.
            <Providers as ProviderRegistry<_>>::release(&1);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), MIN_STAKE));
            assert_eq!(reg(1), Err(Ineligible::StakeTooLow));
        });
    }

    #[test]
    fn a_placement_admits_only_providers_in_its_region_with_all_its_labels() {
        new_test_ext().execute_with(|| {
            // Registered in `eu-west` with the label `cpu`.
            register(1, MIN_STAKE);
            let check = |r: &JobRequirements<Test>| <Providers as ProviderRegistry<_>>::check_eligible(&1, r);
            assert_eq!(check(&placed(None, &[])), Ok(10));
            assert_eq!(check(&placed(Some(b"eu-west"), &[])), Ok(10));
            assert_eq!(check(&placed(Some(b"eu-west"), &[b"cpu"])), Ok(10));
            assert_eq!(check(&placed(None, &[b"cpu"])), Ok(10));
            // Exact bytes: no prefix, case or partial matches.
            assert_eq!(check(&placed(Some(b"eu"), &[])), Err(Ineligible::WrongRegion));
            assert_eq!(check(&placed(Some(b"EU-WEST"), &[])), Err(Ineligible::WrongRegion));
            assert_eq!(check(&placed(Some(b""), &[])), Err(Ineligible::WrongRegion));
            assert_eq!(check(&placed(None, &[b"cpu", b"gpu"])), Err(Ineligible::MissingLabel));
            assert_eq!(check(&placed(None, &[b"cp"])), Err(Ineligible::MissingLabel));
            // The region is checked before the labels.
            assert_eq!(check(&placed(Some(b"us"), &[b"gpu"])), Err(Ineligible::WrongRegion));
            // After moving and relabelling, the same placement admits it.
            let moved = ProfileSpec::<Test> {
                region: b"us".to_vec(),
                labels: vec![b"sgx".to_vec(), b"gpu".to_vec()],
                ..profile(2, 10)
            };
            assert_ok!(Providers::update_profile(RuntimeOrigin::signed(1), moved));
            assert_eq!(check(&placed(Some(b"us"), &[b"gpu"])), Ok(10));
            assert_eq!(check(&placed(Some(b"us"), &[b"gpu", b"sgx"])), Ok(10));
            assert_eq!(check(&placed(Some(b"eu-west"), &[b"cpu"])), Err(Ineligible::WrongRegion));
        });
    }

    #[test]
    fn a_placement_is_bounded_as_profiles_are() {
        // The mock's bounds: regions of 16 bytes, 4 labels of 8 bytes.
        let bound = |region: Option<Vec<u8>>, labels: Vec<Vec<u8>>| {
            PlacementSpec { region, labels }.bounded::<ConstU32<16>, ConstU32<4>, ConstU32<8>>().map(|_| ())
        };
        use tessera_traits::PlacementTooLarge::*;
        assert_eq!(bound(Some(vec![b'r'; 16]), vec![vec![b'l'; 8]; 4]), Ok(()));
        assert_eq!(bound(Some(vec![b'r'; 17]), vec![]), Err(RegionTooLong));
        assert_eq!(bound(None, vec![vec![b'l'; 1]; 5]), Err(TooManyLabels));
        assert_eq!(bound(None, vec![vec![b'l'; 9]]), Err(LabelTooLong));
        assert!(Placement::<Vec<u8>, Vec<Vec<u8>>>::default().is_empty());
    }

    #[test]
    fn reputation_moves_with_outcomes() {
        new_test_ext().execute_with(|| {
            register(1, MIN_STAKE);
            let score = || ProviderOf::<Test>::get(1).unwrap().reputation;
            assert_eq!(score().score, Permill::zero(), "a newcomer starts at the lowest score");
            <Providers as ProviderRegistry<_>>::record_outcome(&1, Outcome::Success);
            let after_one = score().score;
            assert!(after_one > Permill::zero());
            assert_eq!(score().completed, 1);
            <Providers as ProviderRegistry<_>>::record_outcome(&1, Outcome::Fault);
            <Providers as ProviderRegistry<_>>::record_outcome(&1, Outcome::Fault);
            assert!(score().score < after_one);
            assert_eq!(score().faults, 2);
        });
    }

    /// The attack: a provider with a bad record deregisters and registers again to start
    /// over. It now starts at the lowest score, never above the record it left behind.
    #[test]
    fn registering_again_never_washes_a_bad_reputation() {
        new_test_ext().execute_with(|| {
            register(1, MIN_STAKE);
            for _ in 0..30 {
                <Providers as ProviderRegistry<_>>::record_outcome(&1, Outcome::Success);
            }
            for _ in 0..3 {
                <Providers as ProviderRegistry<_>>::record_outcome(&1, Outcome::Fault);
            }
            let bad = ProviderOf::<Test>::get(1).unwrap().reputation.score;
            assert!(bad > Permill::zero());
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), MIN_STAKE));
            run_to_block(1 + UNBONDING);
            assert_ok!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)));
            assert_ok!(Providers::deregister(RuntimeOrigin::signed(1)));
            register(1, MIN_STAKE);
            let fresh = ProviderOf::<Test>::get(1).unwrap().reputation;
            assert_eq!(fresh.score, Permill::zero());
            assert!(fresh.score < bad);
        });
    }
}

mod slashing {
    use super::*;

    #[test]
    fn deferred_slash_pays_beneficiary_and_treasury() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            let amount = <Providers as ProviderRegistry<_>>::slash(
                &1,
                Perbill::from_percent(20),
                Some((7, Perbill::from_percent(25))),
                SlashReason::WrongResult,
            );
            assert_eq!(amount, 2_000);
            let due = 1 + DEFERRAL + 1;
            assert_eq!(
                last_event(),
                Event::SlashScheduled { id: 0, who: 1, amount: 2_000, reason: SlashReason::WrongResult, due }
            );
            let issuance = Balances::total_issuance();
            run_to_block(due - 1);
            assert_eq!(held(1), 10_000, "nothing taken during the deferral");
            run_to_block(due);
            assert_eq!(held(1), 8_000);
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().stake, 8_000);
            assert_eq!(Balances::balance(&7), 100_000 + 500);
            assert_eq!(Balances::balance(&TREASURY), 1 + 1_500);
            assert_eq!(Balances::total_issuance(), issuance, "a slash moves funds, it creates none");
            assert_eq!(
                last_event(),
                Event::Slashed { id: 0, who: 1, amount: 2_000, to_beneficiary: 500, to_treasury: 1_500 }
            );
            let p = ProviderOf::<Test>::get(1).unwrap();
            assert_eq!((p.reputation.slashed, p.pending_slashes), (1, 0));
        });
    }

    #[test]
    fn cancelled_slash_takes_nothing() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(50), None, SlashReason::WrongResult);
            assert_noop!(Providers::cancel_slash(RuntimeOrigin::signed(1), 0), DispatchError::BadOrigin);
            assert_noop!(Providers::cancel_slash(RuntimeOrigin::root(), 5), Error::<Test>::NoSuchSlash);
            assert_ok!(Providers::cancel_slash(RuntimeOrigin::root(), 0));
            assert_eq!(last_event(), Event::SlashCancelled { id: 0 });
            run_to_block(30);
            assert_eq!(held(1), 10_000);
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().pending_slashes, 0);
        });
    }

    #[test]
    fn switched_off_slashing_schedules_nothing_and_discards_due_slashes() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(50), None, SlashReason::WrongResult);
            assert_noop!(Providers::set_slashing_enabled(RuntimeOrigin::signed(ADMIN), false), DispatchError::BadOrigin);
            assert_ok!(Providers::set_slashing_enabled(RuntimeOrigin::root(), false));
            assert_eq!(last_event(), Event::SlashingSet { enabled: false });
            let none = <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(50), None, SlashReason::WrongResult);
            assert_eq!(none, 0);
            assert_eq!(last_event(), Event::SlashSkipped { who: 1, reason: SlashReason::WrongResult });
            run_to_block(30);
            assert_eq!(held(1), 10_000);
            assert!(System::events().iter().any(|r| r.event == RuntimeEvent::Providers(Event::SlashDiscarded { id: 0 })));
        });
    }

    #[test]
    fn unbonding_stake_is_still_slashable() {
        new_test_ext().execute_with(|| {
            register(1, 4_000);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 4_000));
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(50), None, SlashReason::WrongResult);
            run_to_block(1 + DEFERRAL + 1);
            assert_eq!(held(1), 2_000);
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().unbonding[0].amount, 2_000);
            run_to_block(1 + UNBONDING);
            assert_ok!(Providers::withdraw_unbonded(RuntimeOrigin::signed(1)));
            assert_eq!(Balances::balance(&1), 98_000);
        });
    }

    #[test]
    fn a_full_block_queue_spills_into_the_next_block() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            for _ in 0..3 {
                <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(1), None, SlashReason::MissedDeadline);
            }
            let due = 1 + DEFERRAL + 1;
            assert_eq!(SlashesDue::<Test>::get(due).len(), 2);
            assert_eq!(SlashesDue::<Test>::get(due + 1).len(), 1);
            run_to_block(due + 1);
            assert_eq!(held(1), 10_000 - 300);
        });
    }

    /// The attack: a liar floods the queue with cheap faults (of a second account) in the
    /// block its own large slash is scheduled, hoping the queue is full and the slash is
    /// dropped. With 2 slashes per block and 16 probed blocks, the 34th slash used to vanish.
    /// Now every slash is queued (later blocks, in order) and every one is applied.
    #[test]
    fn a_flood_of_slashes_delays_but_never_drops_one() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            register(2, 90_000);
            let flood = 2 * 16 + 5;
            for _ in 0..flood {
                <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_parts(1_000_000), None, SlashReason::MissedDeadline);
            }
            let big = <Providers as ProviderRegistry<_>>::slash(&2, Perbill::from_percent(50), None, SlashReason::WrongResult);
            assert_eq!(big, 45_000);
            assert_eq!(ProviderOf::<Test>::get(2).unwrap().pending_slashes, 1);
            assert_eq!(PendingSlashOf::<Test>::iter().count() as u32, flood + 1);
            let treasury = Balances::balance(&TREASURY);
            run_to_block(1 + DEFERRAL + 1 + flood as u64);
            assert_eq!(PendingSlashOf::<Test>::iter().count(), 0, "every slash applied");
            assert_eq!(held(2), 45_000, "the liar's slash was applied, late but whole");
            assert_eq!(held(1), 10_000 - 10 * u64::from(flood));
            assert_eq!(Balances::balance(&TREASURY), treasury + 45_000 + 10 * u64::from(flood));
        });
    }

    /// A floor raises a slash to at least the floor, never above what is held.
    #[test]
    fn slash_at_least_takes_the_floor_up_to_everything_held() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            let s = |floor| {
                <Providers as ProviderRegistry<_>>::slash_at_least(&1, Perbill::from_percent(1), floor, None, SlashReason::MissedDeadline)
            };
            assert_eq!(s(0), 100);
            assert_eq!(s(2_500), 2_500);
            assert_eq!(s(1_000_000), 10_000);
        });
    }

    /// A missed deadline was booked as a fault when it happened; applying its slash must not
    /// book it again as a wrong result.
    #[test]
    fn only_a_wrong_result_is_booked_as_a_slash() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(1), None, SlashReason::MissedDeadline);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(1), None, SlashReason::MinorityVote);
            run_to_block(1 + DEFERRAL + 2);
            let r = ProviderOf::<Test>::get(1).unwrap().reputation;
            assert_eq!((r.slashed, r.score), (0, Permill::zero()));
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(1), None, SlashReason::WrongResult);
            run_to_block(2 * DEFERRAL + 10);
            assert_eq!(ProviderOf::<Test>::get(1).unwrap().reputation.slashed, 1);
        });
    }
}

mod reap {
    use super::*;
    use frame_support::traits::Get;

    /// The attack: registrations left behind hold registry slots forever (and `MaxProviders`
    /// locks newcomers out). After `ReapAfter` without a heartbeat anyone frees the slot; the
    /// owner gets its whole stake back, nothing is created or lost.
    #[test]
    fn an_abandoned_registration_is_reaped_and_its_stake_returned() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            register(2, 10_000);
            assert_ok!(Providers::unbond(RuntimeOrigin::signed(1), 4_000));
            let reap_after: u64 = <<Test as crate::Config>::ReapAfter as Get<u64>>::get();
            run_to_block(1 + reap_after);
            assert_noop!(Providers::reap(RuntimeOrigin::signed(3), 1), Error::<Test>::RecentlyLive);
            assert_ok!(Providers::heartbeat(RuntimeOrigin::signed(2)));
            run_to_block(2 + reap_after);
            assert_noop!(Providers::reap(RuntimeOrigin::signed(3), 2), Error::<Test>::RecentlyLive);
            assert_noop!(Providers::reap(RuntimeOrigin::signed(3), 5), Error::<Test>::NotRegistered);
            let issuance = Balances::total_issuance();
            assert_ok!(Providers::reap(RuntimeOrigin::signed(3), 1));
            assert_eq!(last_event(), Event::Reaped { who: 1, stake: 10_000 });
            assert!(!ProviderOf::<Test>::contains_key(1));
            assert_eq!(held(1), 0);
            assert_eq!(Balances::balance(&1), 100_000);
            assert_eq!(Balances::total_issuance(), issuance);
            assert_eq!(ProviderOf::<Test>::count(), 1);
            assert_eq!(ProviderAt::<Test>::get(0), Some(2));
            Providers::do_try_state().expect("invariants hold");
        });
    }

    #[test]
    fn a_provider_with_work_or_debts_is_not_reaped() {
        new_test_ext().execute_with(|| {
            register(1, 10_000);
            assert_ok!(<Providers as ProviderRegistry<_>>::assign(&1));
            let reap_after: u64 = <<Test as crate::Config>::ReapAfter as Get<u64>>::get();
            run_to_block(2 + reap_after);
            assert_noop!(Providers::reap(RuntimeOrigin::signed(3), 1), Error::<Test>::HasLiveAssignments);
            <Providers as ProviderRegistry<_>>::release(&1);
            <Providers as ProviderRegistry<_>>::slash(&1, Perbill::from_percent(1), None, SlashReason::MissedDeadline);
            assert_noop!(Providers::reap(RuntimeOrigin::signed(3), 1), Error::<Test>::HasPendingSlashes);
        });
    }
}
