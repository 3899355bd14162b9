//! Attacks on the protocol's economics, each played against the real pallets: the strategy an
//! adversary would use, and the assertion that it now fails or loses the attacker money. One
//! module per class of attack (docs/PROTOCOL.md, "Economics", gives each break-even at the
//! runtime's parameters).

use frame_support::{
    assert_noop, assert_ok,
    dispatch::{Pays, PostDispatchInfo},
};
use tessera_primitives::{ExitStatus, JobId, Receipt};

use crate::{mock::*, tests::*, DisputeOf, Error, Event, ForfeitedOf, InputSpec, JobOf, Outcome, Phase, ResultOf, TotalEmitted};

mod self_dealing {
    use super::*;

    /// The attack: one party is requester (Alice) and provider (P0). It posts jobs to itself at
    /// the lowest price, "runs" them with a receipt it knows without executing, and collects
    /// emission. Emission used to be `fuel × RewardPerFuel`, a multiple of what the job cost;
    /// now it matches half of the protocol fee paid, which goes to the treasury: every job
    /// loses the party half its fee.
    #[test]
    fn posting_jobs_to_oneself_for_emission_loses_money() {
        new_test_ext().execute_with(|| {
            assert_ok!(Providers::register(RuntimeOrigin::signed(P[0]), STAKE, provider_profile(8, 1)));
            let program = upload_program(ALICE);
            let party = [ALICE, P[0]];
            let before = wealth(&party);
            let treasury = free(TREASURY);
            let fuel = 20_000;
            for _ in 0..4 {
                let mut s = spec(program);
                s.terms.replicas = 1;
                s.terms.fuel_limit = fuel;
                s.terms.max_price_per_fuel = 1;
                s.terms.execution_timeout = 10;
                s.terms.challenge_window = 1;
                let job = post(ALICE, s);
                let known = Receipt::new(ExitStatus::OutOfFuel, fuel, b"");
                claim(P[0], job);
                commit_to(P[0], job, &known);
                reveal_as(P[0], job, known, b"");
            }
            run_to_block(3);
            let fees = free(TREASURY) - treasury;
            assert_eq!(fees, 4 * 2_000, "10 % of each 20,000 payment");
            assert_eq!(TotalEmitted::<Test>::get(), 4 * 1_000, "emission matched half the fees");
            assert_eq!(wealth(&party), before - 4 * 1_000, "the party lost half of every fee");
        });
    }

    /// The same job served for another party's demand earns the provider its payment plus the
    /// matched emission: emission rewards serving others.
    #[test]
    fn serving_another_party_earns_payment_and_emission() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            let (p0, p1) = (free(P[0]), free(P[1]));
            run_replicas(job, &[honest(), honest()]);
            run_to_block(20);
            // 600 fuel × 2 = 1,200 paid, fee 120 each, 60 of emission each.
            assert_eq!(free(P[0]) - p0, 1_200 + 60);
            assert_eq!(free(P[1]) - p1, 1_200 + 60);
            assert_eq!(TotalEmitted::<Test>::get(), 120);
        });
    }
}

mod unservable_jobs {
    use super::*;

    /// The attack: a requester posts a job that cannot be served (here a remote input that
    /// does not hash to its commitment) so that every claimer misses its deadline and is
    /// slashed. A provider that finds the job unservable releases its slot: no slash, no
    /// reputation change, its capacity back; the requester's job expires unserved and its
    /// posting fee is gone.
    #[test]
    fn a_provider_walks_away_from_an_unservable_job_without_loss() {
        new_test_ext().execute_with(|| {
            PostingFee::set(3);
            register_providers(2);
            let program = upload_program(ALICE);
            let mut s = spec(program);
            s.input = InputSpec::Remote {
                hash: sp_core::H256::repeat_byte(9),
                len: 10,
                uri: b"https://example.invalid/gone".to_vec().try_into().unwrap(),
            };
            let alice = free(ALICE);
            let job = post(ALICE, s);
            claim(P[0], job);
            claim(P[1], job);
            let (stake, rep) = (stake_held(P[0]), reputation(P[0]));
            for p in [P[0], P[1]] {
                let info = Market::release_slot(RuntimeOrigin::signed(p), job).unwrap();
                assert_eq!(info.pays_fee, Pays::No, "the way out is free");
                assert_eq!(live_assignments(p), 0);
            }
            assert!(matches!(phase(job), Phase::Open(_)));
            assert!(has_event(Event::SlotReleased { job, provider: P[0], claim_until: 1 + REOPEN_TIMEOUT }));
            run_to_block(1 + REOPEN_TIMEOUT);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().outcome, Outcome::Expired);
            assert_eq!((stake_held(P[0]), reputation(P[0])), (stake, rep));
            assert!(pallet_providers::PendingSlashOf::<Test>::iter().next().is_none(), "nobody slashed");
            run_to_block(40);
            assert_eq!(free(ALICE), alice - 3, "the requester bears the cost: its posting fee");
        });
    }

    /// A job whose execution timeout is too short for its fuel cannot be posted at all.
    #[test]
    fn a_timeout_too_short_for_the_fuel_is_refused() {
        new_test_ext().execute_with(|| {
            let program = upload_program(ALICE);
            let mut s = spec(program);
            s.terms.fuel_limit = 5 * FUEL_PER_BLOCK;
            s.terms.replicas = 1;
            s.terms.max_price_per_fuel = 1;
            s.terms.execution_timeout = 5;
            assert_noop!(Market::post_job(RuntimeOrigin::signed(ALICE), Box::new(s.clone())), Error::<Test>::ExecutionTimeoutTooShort);
            s.terms.execution_timeout = 6;
            assert_ok!(Market::post_job(RuntimeOrigin::signed(ALICE), Box::new(s)));
        });
    }

    #[test]
    fn release_errors_and_no_second_claim() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(6);
            assert_noop!(Market::release_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::NotReplica);
            claim(P[0], job);
            assert_ok!(Market::release_slot(RuntimeOrigin::signed(P[0]), job));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), job), Error::<Test>::SlotForfeited);
            claim(P[1], job);
            claim(P[2], job);
            commit_to(P[1], job, &honest());
            assert_noop!(Market::release_slot(RuntimeOrigin::signed(P[1]), job), Error::<Test>::AlreadyCommitted);
            // Releases are bounded per job: after MaxReplicas of them, a claimer must commit.
            for p in [P[2], P[3], P[4]] {
                if JobOf::<Test>::get(job).unwrap().slot_of(&p).is_none() {
                    claim(p, job);
                }
                if ForfeitedOf::<Test>::get(job).releases < MAX_REPLICAS {
                    assert_ok!(Market::release_slot(RuntimeOrigin::signed(p), job));
                }
            }
            claim(P[5], job);
            assert_eq!(ForfeitedOf::<Test>::get(job).releases, MAX_REPLICAS);
            assert_noop!(Market::release_slot(RuntimeOrigin::signed(P[5]), job), Error::<Test>::TooManyReleases);
        });
    }
}

mod lockouts {
    use super::*;

    /// The attack: fill `MaxLiveJobs` with jobs nobody will claim, locking every other
    /// requester out. The posting fee doubles with every sixteenth of occupancy past half, so
    /// the attacker pays 263 × the base fee to fill the mock's 16 places (16.4 × 10,000 × the
    /// base fee on the runtime's market), all of it to the treasury and none refunded.
    #[test]
    fn filling_the_market_costs_the_attacker_its_posting_fees() {
        new_test_ext().execute_with(|| {
            PostingFee::set(3);
            let program = upload_program(ALICE);
            let treasury = free(TREASURY);
            let before = wealth(&[ALICE]);
            for _ in 0..16 {
                let mut s = spec(program);
                s.terms.max_price_per_fuel = 1;
                post(ALICE, s);
            }
            assert_noop!(Market::post_job(RuntimeOrigin::signed(BOB), Box::new(spec(program))), Error::<Test>::TooManyJobs);
            assert_eq!(free(TREASURY) - treasury, 263 * 3);
            run_to_block(30);
            assert_eq!(wealth(&[ALICE]), before - 263 * 3, "escrow and deposits came back, the fees did not");
        });
    }

    /// Cheap deadlines are handled in bulk: the hook spends up to `MaxDeadlineWeight` per block,
    /// so with the budget for three expiries, three jobs expire per block.
    #[test]
    fn the_deadline_hook_works_to_its_weight_budget() {
        new_test_ext().execute_with(|| {
            use crate::WeightInfo;
            let program = upload_program(ALICE);
            let jobs: Vec<JobId> = (0..7).map(|_| post(BOB, spec(program))).collect();
            MaxDeadlineWeight::set(<() as WeightInfo>::expire_job(0).saturating_mul(3));
            run_to_block(11);
            let ended = || jobs.iter().filter(|j| ResultOf::<Test>::contains_key(**j)).count();
            assert_eq!(ended(), 3);
            run_to_block(13);
            assert_eq!(ended(), 7);
            MaxDeadlineWeight::set(frame_support::weights::Weight::MAX);
        });
    }
}

mod free_disputes {
    use super::*;

    /// The attack: the requester challenges its own job, served by its own account (P0) and an
    /// honest provider, to make honest jurors re-execute for free (the forfeited bond used to go
    /// to the replicas, i.e. back to the party). Now a rejected bond pays the jurors.
    #[test]
    fn challenging_ones_own_job_costs_the_bond() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(6);
            let party = [ALICE, P[0]];
            run_replicas(job, &[honest(), honest()]);
            let before = net_worth(&party);
            assert_ok!(Market::challenge(RuntimeOrigin::signed(ALICE), job));
            run_to_block(2);
            let committee = jurors(job);
            assert!(!committee.contains(&P[0]) && !committee.contains(&ALICE));
            let pay: Vec<Balance> = committee.iter().map(|j| free(*j)).collect();
            decide(job, &committee, honest());
            run_to_block(8);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().outcome, Outcome::Settled);
            for (j, before) in committee.iter().zip(pay) {
                assert_eq!(free(*j) - before, CHALLENGE_BOND / 3, "each juror gets a third of the bond");
            }
            // The party paid its replica's payment to itself, the other replica's payment and
            // the fees, and lost the bond; the emission matched to its replica's fee is back.
            let job_cost = 1_200 + 120 + 120 - 60;
            assert_eq!(net_worth(&party), before - job_cost - CHALLENGE_BOND);
        });
    }

    /// The attack: force a dispute no committee can decide (no eligible juror), to get the
    /// public result refunded. The replicas that revealed are paid for their work anyway.
    #[test]
    fn a_dispute_with_no_juror_still_pays_for_the_revealed_work() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            run_replicas(job, &[honest(), honest()]);
            let (p0, alice) = (free(P[0]), wealth(&[ALICE]));
            assert_ok!(Market::challenge(RuntimeOrigin::signed(ALICE), job));
            run_to_block(2);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!(result.outcome, Outcome::Inconclusive);
            assert_eq!((result.paid, result.fee), (2 * 1_200, 2 * 120));
            assert_eq!(free(P[0]) - p0, 1_200);
            assert_eq!(wealth(&[ALICE]), alice - 2 * 1_200 - 2 * 120, "the result was not free");
        });
    }
}

mod withholding {
    use super::*;

    /// The attack: a lazy replica commits a guess and, when the other reveal shows the guess
    /// wrong, withholds its own (it used to cost 1 % of stake, a wrong reveal 10 %). Withholding
    /// now costs at least `WrongResultSlash`: the same as the wrong answer.
    #[test]
    fn withholding_a_reveal_costs_as_much_as_revealing_a_wrong_result() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &lie());
            reveal_as(P[0], job, honest(), OUTPUT);
            run_to_block(1 + REVEAL_TIMEOUT + 1);
            assert!(has_event(Event::Faulted { job, who: P[1], duty: crate::Duty::Reveal, slashed: STAKE / 2 }));
        });
    }

    /// The attack: commit anything, never reveal, and be paid when the job expires after a
    /// reopen. Committed replicas are no longer compensated on expiry.
    #[test]
    fn a_commitment_is_not_paid_when_the_job_expires() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(3);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &lie());
            let p0 = free(P[0]);
            // P1 misses; its slot reopens; nobody claims it; the job expires.
            run_to_block(11 + REOPEN_TIMEOUT);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().outcome, Outcome::Expired);
            assert_eq!(free(P[0]), p0);
            assert_eq!(ResultOf::<Test>::get(job).unwrap().paid, 0);
        });
    }
}

mod claim_and_miss {
    use super::*;

    /// The attack: claim every reopened slot and never commit, so the job dies after
    /// `MaxReopens`. A missed commitment now costs at least the slot's value (its price for the
    /// whole fuel limit), and the same account cannot claim the job again.
    #[test]
    fn missing_a_commitment_costs_the_slot_value_and_bars_a_second_claim() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(4);
            // A provider with little stake relative to the job: the floor decides the slash.
            let mut s = spec(program_id());
            s.terms.fuel_limit = 100_000;
            s.terms.max_price_per_fuel = 2;
            let big = post(BOB, s);
            claim(P[0], big);
            claim(P[1], big);
            commit_to(P[1], big, &honest());
            claim(P[2], job);
            claim(P[3], job);
            commit_to(P[3], job, &honest());
            run_to_block(12);
            // Slot value: 100,000 fuel × price 2 = 200,000 > 5 % of 10,000: everything held.
            assert!(has_event(Event::Faulted { job: big, who: P[0], duty: crate::Duty::Commit, slashed: STAKE }));
            assert!(matches!(phase(big), Phase::Open(_)));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), big), Error::<Test>::SlotForfeited);
            // On the small default job, 1,000 fuel × 2 = 2,000 > 5 % of 10,000 (500).
            assert!(has_event(Event::Faulted { job, who: P[2], duty: crate::Duty::Commit, slashed: 2_000 }));
        });
    }
}

mod rounding {
    use super::*;

    /// The attack: split work into payments so small the fee rounds to zero. The fee now rounds
    /// up: a 1-planck payment pays a 1-planck fee.
    #[test]
    fn the_smallest_payment_pays_a_fee() {
        new_test_ext().execute_with(|| {
            assert_ok!(Providers::register(RuntimeOrigin::signed(P[0]), STAKE, provider_profile(2, 1)));
            let program = upload_program(ALICE);
            let mut s = spec(program);
            s.terms.replicas = 1;
            s.terms.fuel_limit = 1;
            s.terms.max_price_per_fuel = 1;
            let job = post(ALICE, s);
            let r = Receipt::new(ExitStatus::Ok, 1, OUTPUT);
            claim(P[0], job);
            commit_to(P[0], job, &r);
            reveal_as(P[0], job, r, OUTPUT);
            run_to_block(12);
            let result = ResultOf::<Test>::get(job).unwrap();
            assert_eq!((result.paid, result.fee), (1, 1));
        });
    }
}

mod bad_input {
    use super::*;

    /// Arguments one byte over their bounds (the constants `MaxInputLen`, `MaxUriLen`,
    /// `MaxOutputLen`, `MaxRefereeInputLen` in metadata) decode as calls, so the transaction
    /// pool can validate them, and fail with named errors that change nothing.
    #[test]
    fn over_long_arguments_decode_and_get_named_errors() {
        new_test_ext().execute_with(|| {
            let (_, job) = setup(2);
            let mut s = spec(program_id());
            s.input = InputSpec::Inline(vec![7; 1_025]);
            let call = crate::Call::<Test>::post_job { spec: Box::new(s.clone()) };
            let encoded = codec::Encode::encode(&call);
            assert!(<crate::Call<Test> as codec::Decode>::decode(&mut &encoded[..]).is_ok());
            assert_noop!(Market::post_job(RuntimeOrigin::signed(ALICE), Box::new(s)), Error::<Test>::InputTooLong);
            claim(P[0], job);
            claim(P[1], job);
            commit_to(P[0], job, &honest());
            commit_to(P[1], job, &honest());
            assert_noop!(
                Market::reveal(RuntimeOrigin::signed(P[0]), job, honest(), salt(P[0]), vec![0; MAX_OUTPUT as usize + 1]),
                Error::<Test>::OutputTooLong
            );
            assert_noop!(
                Market::referee(RuntimeOrigin::signed(ALICE), job, Some(vec![0; MAX_REFEREE_INPUT as usize + 1])),
                Error::<Test>::InputTooLong
            );
        });
    }
}

mod duty_fees {
    use super::*;

    fn pays(r: Result<PostDispatchInfo, sp_runtime::DispatchErrorWithPostInfo<PostDispatchInfo>>) -> Pays {
        match r {
            Ok(info) => info.pays_fee,
            Err(e) => e.post_info.pays_fee,
        }
    }

    /// Providers' duties cost no transaction fees when they succeed (their spam cost is the
    /// stake at risk), so honest service never runs at a loss; failed calls pay as usual.
    #[test]
    fn successful_duty_calls_are_free_and_failed_ones_pay() {
        new_test_ext().execute_with(|| {
            let (job, committee) = split_and_drawn();
            let j = committee[0];
            let sealed_vote = sealed(j, job, &honest());
            assert_eq!(pays(Market::vote(RuntimeOrigin::signed(j), job, sealed_vote)), Pays::No);
            assert_eq!(pays(Market::vote(RuntimeOrigin::signed(j), job, sealed_vote)), Pays::Yes);
            let other = post(BOB, spec(program_id()));
            let s = RuntimeOrigin::signed;
            assert_eq!(pays(Market::claim_slot(s(P[3]), other)), Pays::No);
            assert_eq!(pays(Market::claim_slot(s(P[3]), other)), Pays::Yes);
            assert_eq!(pays(Market::claim_slot(s(P[4]), other)), Pays::No);
            let c = tessera_primitives::commitment(other, &P[3], &honest(), &salt(P[3]));
            assert_eq!(pays(Market::commit(s(P[3]), other, c)), Pays::No);
            let c = tessera_primitives::commitment(other, &P[4], &honest(), &salt(P[4]));
            assert_eq!(pays(Market::commit(s(P[4]), other, c)), Pays::No);
            assert_eq!(pays(Market::reveal(s(P[3]), other, honest(), salt(P[3]), out(OUTPUT))), Pays::No);
            assert_eq!(pays(Market::reveal(s(P[3]), other, honest(), salt(P[3]), out(OUTPUT))), Pays::Yes);
            assert!(DisputeOf::<Test>::get(job).is_some());
        });
    }
}

mod steering {
    use super::*;
    use crate::PlacementOf;

    /// A job that only a provider advertising `label` can serve: one replica at the
    /// providers' price, a short window.
    fn steered(program: tessera_primitives::ProgramId, label: &[u8]) -> crate::JobSpec<Test> {
        let mut s = spec(program);
        s.terms.replicas = 1;
        s.terms.max_price_per_fuel = PRICE;
        s.terms.challenge_window = 5;
        s.placement = placement(None, &[label]);
        s
    }

    /// The attack: a requester steers its jobs to its own sybil provider with a placement no
    /// one else meets (a label only the sybil advertises), so honest providers cannot claim
    /// first, and self-deals for emission. What the placement buys is only the race for the
    /// slot: the requester's own account still cannot serve (`OwnJob` comes before any
    /// placement check), the reputation floor still applies, and the party still pays the
    /// fee it self-deals on, losing half of it as in `self_dealing`, plus the deposit for the
    /// placement while the job is live.
    #[test]
    fn steering_a_job_to_ones_own_sybil_still_loses_half_of_every_fee() {
        new_test_ext().execute_with(|| {
            register_providers(3);
            // The sybil P0 advertises a label nobody else has, with room for every job; so does
            // Alice, as a provider.
            let sybil = pallet_providers::ProfileSpec::<Test> {
                labels: vec![b"mine".to_vec()],
                ..provider_profile(8, PRICE)
            };
            assert_ok!(Providers::update_profile(RuntimeOrigin::signed(P[0]), sybil.clone()));
            assert_ok!(Providers::register(RuntimeOrigin::signed(ALICE), STAKE, sybil));
            let program = upload_program(ALICE);

            // The placement does not let the requester serve itself, nor skip the reputation
            // floor it set.
            let job = post(ALICE, steered(program, b"mine"));
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(ALICE), job), Error::<Test>::OwnJob);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[1]), job), Error::<Test>::MissingLabel);
            let mut picky = steered(program, b"mine");
            picky.terms.min_reputation = sp_runtime::Permill::from_percent(90);
            let picky = post(ALICE, picky);
            assert_noop!(Market::claim_slot(RuntimeOrigin::signed(P[0]), picky), Error::<Test>::ReputationTooLow);
            assert_ok!(Market::cancel_job(RuntimeOrigin::signed(ALICE), picky));

            // The sybil serves the steered jobs with a receipt it knows without executing.
            let party = [ALICE, P[0]];
            let before = wealth(&party);
            let treasury = free(TREASURY);
            let mut jobs = vec![job];
            jobs.extend((0..3).map(|_| post(ALICE, steered(program, b"mine"))));
            let deposit = JobOf::<Test>::get(job).unwrap().deposit;
            assert!(deposit > DEPOSIT, "the placement is charged for while the job lives");
            for &j in &jobs {
                claim(P[0], j);
                commit_to(P[0], j, &honest());
                reveal_as(P[0], j, honest(), OUTPUT);
            }
            run_to_block(20);
            assert!(jobs.iter().all(|j| ResultOf::<Test>::get(j).unwrap().outcome == Outcome::Settled));
            assert_eq!(PlacementOf::<Test>::iter().count(), 0, "no placement outlives its job");
            // 600 fuel at 2 each: a fee of 120 per job to the treasury, half of it matched as
            // emission to the sybil.
            assert_eq!(free(TREASURY) - treasury, 4 * 120);
            assert_eq!(wealth(&party), before - 4 * 60, "the party lost half of every fee");
        });
    }

    /// A steered job's result is still judged by a committee drawn from every active provider,
    /// not only those meeting the placement: a sybil that lies on a job steered to it is
    /// outvoted and slashed.
    #[test]
    fn a_steered_lie_is_judged_by_providers_outside_the_placement() {
        new_test_ext().execute_with(|| {
            register_providers(4);
            relocate(P[0], b"eu", &[b"mine"]);
            let program = upload_program(ALICE);
            let job = post(ALICE, steered(program, b"mine"));
            claim(P[0], job);
            commit_to(P[0], job, &lie());
            reveal_as(P[0], job, lie(), b"forged");
            assert_ok!(Market::challenge(RuntimeOrigin::signed(CHARLIE), job));
            run_to_block(2);
            let committee: Vec<AccountId> = DisputeOf::<Test>::get(job).unwrap().committee.iter().map(|j| j.who).collect();
            assert_eq!(committee.len(), 3);
            assert!(committee.iter().all(|j| P[1..4].contains(j)), "jurors need not meet the placement");
            decide(job, &committee, honest());
            run_to_block(3);
            assert!(has_event(Event::ChallengeUpheld { job, challenger: CHARLIE }));
            run_to_block(3 + SLASH_DEFERRAL + 1);
            assert_eq!(stake_held(P[0]), STAKE / 2, "the sybil lost half its stake");
        });
    }
}
