//! Tests of the programs pallet: uploads, every validation error, removal, the registry trait.

use frame_support::{
    assert_noop, assert_ok,
    traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::DispatchError;
use tessera_primitives::{program::synthetic_program, ProgramId};
use tessera_traits::ProgramRegistry;

use crate::{mock::*, CodeOf, Error, Event, HoldReason, ProgramOf};

const ECHO: &str = r#"(module
    (import "tessera" "input_len" (func $len (result i32)))
    (import "tessera" "read_input" (func $read (param i32 i32 i32) (result i32)))
    (import "tessera" "write_output" (func $write (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "run")
        (drop (call $read (i32.const 0) (i32.const 0) (call $len)))
        (call $write (i32.const 0) (call $len))))"#;

fn code(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

fn id_of(code: &[u8]) -> ProgramId {
    ProgramId::from(sp_io::hashing::blake2_256(code))
}

fn held(who: AccountId) -> Balance {
    Balances::balance_on_hold(&RuntimeHoldReason::Programs(HoldReason::ProgramDeposit), &who)
}

fn upload(who: AccountId, wat: &str) -> ProgramId {
    let c = code(wat);
    let id = id_of(&c);
    assert_ok!(Programs::upload_program(RuntimeOrigin::signed(who), c));
    id
}

#[test]
fn upload_stores_code_under_its_hash_and_holds_the_deposit() {
    new_test_ext().execute_with(|| {
        let c = code(ECHO);
        let len = c.len() as u32;
        let id = upload(1, ECHO);
        let record = ProgramOf::<Test>::get(id).unwrap();
        assert_eq!(record.owner, 1);
        assert_eq!(record.code_len, len);
        assert_eq!(record.deposit, DEPOSIT_BASE + DEPOSIT_PER_BYTE * len as u64);
        assert_eq!(held(1), record.deposit);
        assert_eq!(CodeOf::<Test>::get(id).unwrap(), c);
        assert_eq!(Programs::code(&id), Some(c));
        System::assert_last_event(
            Event::ProgramUploaded { id, owner: 1, code_len: len, deposit: record.deposit }.into(),
        );
        Programs::do_try_state().unwrap();
    });
}

#[test]
fn each_invalid_module_is_rejected_with_its_error_and_nothing_changes() {
    new_test_ext().execute_with(|| {
        let cases: Vec<(Vec<u8>, Error<Test>)> = vec![
            (b"not wasm at all".to_vec(), Error::InvalidModule),
            (wat::parse_str(r#"(module (import "env" "time" (func)) (memory (export "memory") 1) (func (export "run")))"#).unwrap(), Error::ForbiddenImport),
            (wat::parse_str(r#"(module (import "tessera" "abort" (func (param i64))) (memory (export "memory") 1) (func (export "run")))"#).unwrap(), Error::BadImportSignature),
            (wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "start")))"#).unwrap(), Error::MissingEntryPoint),
            (wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "run") (result i32) (i32.const 0)))"#).unwrap(), Error::BadEntryPointSignature),
            (wat::parse_str(r#"(module (func (export "run")))"#).unwrap(), Error::BadMemory),
            (wat::parse_str(r#"(module (memory (export "memory") 17) (func (export "run")))"#).unwrap(), Error::MemoryTooLarge),
            (wat::parse_str(r#"(module (memory (export "memory") 1) (table 100 funcref) (func (export "run")))"#).unwrap(), Error::TableTooLarge),
            (wat::parse_str(r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "run")))"#).unwrap(), Error::HasStartFunction),
            (wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "run") (drop (v128.const i64x2 0 0))))"#).unwrap(), Error::InvalidModule),
        ];
        for (bytes, error) in cases {
            assert_noop!(Programs::upload_program(RuntimeOrigin::signed(1), bytes), error);
        }
        assert_eq!(ProgramOf::<Test>::iter().count(), 0);
        assert_eq!(held(1), 0);
    });
}

#[test]
fn upload_errors_for_origin_duplicates_and_funds() {
    new_test_ext().execute_with(|| {
        assert_noop!(Programs::upload_program(RuntimeOrigin::root(), code(ECHO)), DispatchError::BadOrigin);
        upload(1, ECHO);
        // Same code, same id: refused whoever uploads it.
        assert_noop!(Programs::upload_program(RuntimeOrigin::signed(2), code(ECHO)), Error::<Test>::ProgramExists);
        // Account 5 cannot afford the deposit.
        let other = code(r#"(module (memory (export "memory") 1) (func (export "run")))"#);
        assert!(Programs::deposit_for(other.len() as u32) > Balances::balance(&5));
        assert_noop!(
            Programs::upload_program(RuntimeOrigin::signed(5), other),
            sp_runtime::TokenError::FundsUnavailable
        );
    });
}

#[test]
fn the_largest_program_fits_and_a_larger_one_is_refused_by_name() {
    new_test_ext().execute_with(|| {
        let big = synthetic_program(MAX_PROGRAM_SIZE);
        assert_ok!(Programs::upload_program(RuntimeOrigin::signed(1), big.clone()));
        assert_eq!(ProgramOf::<Test>::get(id_of(&big)).unwrap().code_len, MAX_PROGRAM_SIZE);
        // One byte more decodes (the argument is a plain vector) and gets the named error.
        assert_noop!(
            Programs::upload_program(RuntimeOrigin::signed(1), synthetic_program(MAX_PROGRAM_SIZE + 1)),
            Error::<Test>::ProgramTooLarge
        );
        // The call, encoded as a transaction carries it, still decodes.
        let call = crate::Call::<Test>::upload_program { code: synthetic_program(MAX_PROGRAM_SIZE + 1) };
        let encoded = codec::Encode::encode(&call);
        assert!(<crate::Call<Test> as codec::Decode>::decode(&mut &encoded[..]).is_ok());
    });
}

#[test]
fn remove_releases_the_deposit() {
    new_test_ext().execute_with(|| {
        let id = upload(1, ECHO);
        assert_noop!(Programs::remove_program(RuntimeOrigin::signed(2), id), Error::<Test>::NotOwner);
        assert_noop!(
            Programs::remove_program(RuntimeOrigin::signed(1), ProgramId::repeat_byte(7)),
            Error::<Test>::ProgramNotFound
        );
        assert_ok!(Programs::remove_program(RuntimeOrigin::signed(1), id));
        System::assert_last_event(Event::ProgramRemoved { id }.into());
        assert!(ProgramOf::<Test>::get(id).is_none());
        assert!(CodeOf::<Test>::get(id).is_none());
        assert_eq!(held(1), 0);
        assert_eq!(Balances::balance(&1), 1_000_000);
    });
}

#[test]
fn a_program_in_use_cannot_be_removed() {
    new_test_ext().execute_with(|| {
        let id = upload(1, ECHO);
        assert_ok!(<Programs as ProgramRegistry<_>>::acquire(&id));
        assert_ok!(<Programs as ProgramRegistry<_>>::acquire(&id));
        assert_noop!(Programs::remove_program(RuntimeOrigin::signed(1), id), Error::<Test>::ProgramInUse);
        <Programs as ProgramRegistry<_>>::release(&id);
        assert_noop!(Programs::remove_program(RuntimeOrigin::signed(1), id), Error::<Test>::ProgramInUse);
        <Programs as ProgramRegistry<_>>::release(&id);
        assert_ok!(Programs::remove_program(RuntimeOrigin::signed(1), id));
        assert!(!<Programs as ProgramRegistry<_>>::exists(&id));
        assert_noop!(<Programs as ProgramRegistry<_>>::acquire(&id), Error::<Test>::ProgramNotFound);
    });
}
