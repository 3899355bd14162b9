//! Receipts and commitments.
//!
//! Running a program on an input yields a [`Receipt`]: how it ended, how much fuel it used and
//! the hash of its output. Replicas first commit to `commitment(job, provider, receipt, salt)`
//! and only later reveal the receipt and salt, so no replica can copy another's answer: the
//! provider's account is inside the hash, and the salt hides the receipt until the reveal.
//! Jurors of a dispute seal their votes the same way, with [`vote_commitment`], which also
//! binds the dispute round and has its own domain, so neither kind of commitment can stand in
//! for the other.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;

use crate::{Fuel, JobId};

/// Domain separator of commitments (versioned: a new scheme gets a new tag).
pub const COMMITMENT_DOMAIN: &[u8; 21] = b"tessera/commitment/v1";

/// Domain separator of jurors' sealed votes (versioned like [`COMMITMENT_DOMAIN`]).
pub const VOTE_DOMAIN: &[u8; 15] = b"tessera/vote/v1";

/// How an execution ended. Every variant is a valid, checkable result, paid for its fuel.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum ExitStatus {
    /// The entry point returned normally.
    Ok,
    /// The program called the host's `abort` with this code.
    Aborted(u32),
    /// The program trapped (unreachable, division by zero, out-of-bounds access, …).
    Trapped,
    /// The program used its whole fuel limit.
    OutOfFuel,
}

/// The checkable outcome of running a program on an input with a fuel limit.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub struct Receipt {
    /// How the execution ended.
    pub status: ExitStatus,
    /// Fuel used, at most the job's fuel limit.
    pub fuel_used: Fuel,
    /// blake2-256 of everything the program wrote as output (also when it trapped).
    pub output_hash: H256,
}

impl Receipt {
    /// The receipt of an execution that wrote `output`.
    pub fn new(status: ExitStatus, fuel_used: Fuel, output: &[u8]) -> Self {
        Receipt { status, fuel_used, output_hash: H256(blake2_256(output)) }
    }

    /// A compact id of the receipt, used to tally votes and compare replicas.
    pub fn digest(&self) -> H256 {
        H256(self.using_encoded(blake2_256))
    }
}

/// The commitment a replica submits before revealing: blake2-256 over the SCALE encoding of
/// `(COMMITMENT_DOMAIN, job, provider, receipt, salt)`. The domain is a fixed-size byte array,
/// so it is hashed as its 21 raw bytes with no length prefix; byte by byte (and with test
/// vectors) in docs/PROTOCOL.md, "Commitments and receipts".
pub fn commitment<AccountId: Encode>(
    job: JobId,
    provider: &AccountId,
    receipt: &Receipt,
    salt: &[u8; 32],
) -> H256 {
    H256((COMMITMENT_DOMAIN, job, provider, receipt, salt).using_encoded(blake2_256))
}

/// The sealed vote a juror submits in dispute round `round` before revealing it: blake2-256
/// over the SCALE encoding of `(VOTE_DOMAIN, job, round, juror, receipt, salt)`, the domain
/// hashed as its 15 raw bytes. The juror's account and the round are inside the hash, so a
/// juror cannot submit another juror's sealed vote (it would not open under its own account)
/// nor replay one from an earlier round; byte by byte in docs/PROTOCOL.md, "Disputes".
pub fn vote_commitment<AccountId: Encode>(
    job: JobId,
    round: u32,
    juror: &AccountId,
    receipt: &Receipt,
    salt: &[u8; 32],
) -> H256 {
    H256((VOTE_DOMAIN, job, round, juror, receipt, salt).using_encoded(blake2_256))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn receipt(status: u8, fuel: u64, out: &[u8]) -> Receipt {
        let status = match status % 4 {
            0 => ExitStatus::Ok,
            1 => ExitStatus::Aborted(u32::from(status)),
            2 => ExitStatus::Trapped,
            _ => ExitStatus::OutOfFuel,
        };
        Receipt::new(status, fuel, out)
    }

    #[test]
    fn known_vector() {
        // Pins the encoding: a change here breaks every deployed worker.
        let r = Receipt::new(ExitStatus::Ok, 42, b"hello");
        let c = commitment(7u64, &[1u8; 32], &r, &[9u8; 32]);
        let again = commitment(7u64, &[1u8; 32], &Receipt::new(ExitStatus::Ok, 42, b"hello"), &[9u8; 32]);
        assert_eq!(c, again);
        assert_eq!(r.output_hash, H256(blake2_256(b"hello")));
        assert_eq!(
            r.encode().len(),
            1 + 8 + 32,
            "receipt encodes as status byte, u64 fuel, 32-byte hash"
        );
    }

    /// The commitment built by hand from docs/PROTOCOL.md ("Commitments and receipts"): the
    /// tag's 21 bytes, the job id as u64 little-endian, the provider's 32 bytes, the receipt
    /// (status index byte, the abort code as u32 little-endian for `Aborted`, fuel used as u64
    /// little-endian, the 32-byte output hash) and the 32-byte salt, hashed with blake2-256.
    fn documented_commitment(job: u64, provider: [u8; 32], status: &[u8], fuel_used: u64, output: &[u8], salt: [u8; 32]) -> [u8; 32] {
        let mut bytes: Vec<u8> = Vec::new();
        bytes.extend_from_slice(b"tessera/commitment/v1");
        bytes.extend_from_slice(&job.to_le_bytes());
        bytes.extend_from_slice(&provider);
        bytes.extend_from_slice(status);
        bytes.extend_from_slice(&fuel_used.to_le_bytes());
        bytes.extend_from_slice(&blake2_256(output));
        bytes.extend_from_slice(&salt);
        blake2_256(&bytes)
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn commitment_matches_the_documented_formula_and_vectors() {
        // Vector 1 of docs/PROTOCOL.md: job 7, provider 0x01 × 32, Ok, 42 fuel, output "hello",
        // salt 0x09 × 32.
        let by_hand = documented_commitment(7, [1; 32], &[0], 42, b"hello", [9; 32]);
        assert_eq!(hex(&by_hand), "7fa49f29d6569489da757b7d1442bdfe30f9a3455967ee7a06b2643f6230cb12");
        let r = Receipt::new(ExitStatus::Ok, 42, b"hello");
        assert_eq!(commitment(7u64, &[1u8; 32], &r, &[9u8; 32]), H256(by_hand));

        // Vector 2: the same, but the program aborted with code 3 (status bytes 01 03 00 00 00).
        let by_hand = documented_commitment(7, [1; 32], &[1, 3, 0, 0, 0], 42, b"hello", [9; 32]);
        assert_eq!(hex(&by_hand), "1a31b98186bf5c6271840f42e803cce14159eec8e46f69189916207ed564a9c9");
        let r = Receipt::new(ExitStatus::Aborted(3), 42, b"hello");
        assert_eq!(commitment(7u64, &[1u8; 32], &r, &[9u8; 32]), H256(by_hand));

        // The vectors are the ones the protocol document shows.
        let doc = include_str!("../../docs/PROTOCOL.md");
        for v in [
            "0x7fa49f29d6569489da757b7d1442bdfe30f9a3455967ee7a06b2643f6230cb12",
            "0x1a31b98186bf5c6271840f42e803cce14159eec8e46f69189916207ed564a9c9",
        ] {
            assert!(doc.contains(v), "docs/PROTOCOL.md lost the test vector {v}");
        }

        // The other statuses are one index byte each.
        for (status, index) in [(ExitStatus::Trapped, 2u8), (ExitStatus::OutOfFuel, 3u8)] {
            let r = Receipt::new(status, 42, b"hello");
            let by_hand = documented_commitment(7, [1; 32], &[index], 42, b"hello", [9; 32]);
            assert_eq!(commitment(7u64, &[1u8; 32], &r, &[9u8; 32]), H256(by_hand));
        }
    }

    /// The sealed vote built by hand from docs/PROTOCOL.md ("Disputes"): the tag's 15 bytes,
    /// the job id as u64 little-endian, the round as u32 little-endian, the juror's 32 bytes,
    /// the receipt as in [`documented_commitment`] and the 32-byte salt, hashed with blake2-256.
    fn documented_vote(job: u64, round: u32, juror: [u8; 32], status: &[u8], fuel_used: u64, output: &[u8], salt: [u8; 32]) -> [u8; 32] {
        let mut bytes: Vec<u8> = Vec::new();
        bytes.extend_from_slice(b"tessera/vote/v1");
        bytes.extend_from_slice(&job.to_le_bytes());
        bytes.extend_from_slice(&round.to_le_bytes());
        bytes.extend_from_slice(&juror);
        bytes.extend_from_slice(status);
        bytes.extend_from_slice(&fuel_used.to_le_bytes());
        bytes.extend_from_slice(&blake2_256(output));
        bytes.extend_from_slice(&salt);
        blake2_256(&bytes)
    }

    #[test]
    fn vote_commitment_matches_the_documented_formula_and_vector() {
        // Pins the encoding: job 7, round 1, juror 0x01 × 32, Ok, 42 fuel, output "hello",
        // salt 0x09 × 32 (the commitment vector's inputs, plus the round).
        let by_hand = documented_vote(7, 1, [1; 32], &[0], 42, b"hello", [9; 32]);
        assert_eq!(hex(&by_hand), "3062ae26b58dd02d7f1738f055eaa6e2b6df62fa1a292be0c9dfc610fd4f32a3");
        let r = Receipt::new(ExitStatus::Ok, 42, b"hello");
        assert_eq!(vote_commitment(7u64, 1, &[1u8; 32], &r, &[9u8; 32]), H256(by_hand));
        // Aborted(3): status bytes 01 03 00 00 00.
        let r = Receipt::new(ExitStatus::Aborted(3), 42, b"hello");
        let by_hand = documented_vote(7, 1, [1; 32], &[1, 3, 0, 0, 0], 42, b"hello", [9; 32]);
        assert_eq!(vote_commitment(7u64, 1, &[1u8; 32], &r, &[9u8; 32]), H256(by_hand));

        let doc = include_str!("../../docs/PROTOCOL.md");
        assert!(doc.contains("0x3062ae26b58dd02d7f1738f055eaa6e2b6df62fa1a292be0c9dfc610fd4f32a3"), "docs/PROTOCOL.md lost the vote test vector");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn vote_commitment_binds_every_field_and_differs_from_a_commitment(
            job in any::<u64>(), other_job in any::<u64>(), round in any::<u32>(), other_round in any::<u32>(),
            who in any::<[u8; 32]>(), other_who in any::<[u8; 32]>(),
            st in any::<u8>(), fuel in any::<u64>(), out in proptest::collection::vec(any::<u8>(), 0..64),
            fuel2 in any::<u64>(), salt in any::<[u8; 32]>(), salt2 in any::<[u8; 32]>(),
        ) {
            let r = receipt(st, fuel, &out);
            let v = vote_commitment(job, round, &who, &r, &salt);
            prop_assert_eq!(v, vote_commitment(job, round, &who, &r, &salt));
            // A replica's commitment to the same receipt and salt never opens a sealed vote,
            // nor the other way round.
            prop_assert_ne!(v, commitment(job, &who, &r, &salt));
            if job != other_job { prop_assert_ne!(v, vote_commitment(other_job, round, &who, &r, &salt)); }
            if round != other_round { prop_assert_ne!(v, vote_commitment(job, other_round, &who, &r, &salt)); }
            if who != other_who { prop_assert_ne!(v, vote_commitment(job, round, &other_who, &r, &salt)); }
            if salt != salt2 { prop_assert_ne!(v, vote_commitment(job, round, &who, &r, &salt2)); }
            let r2 = receipt(st, fuel2, &out);
            if r2 != r { prop_assert_ne!(v, vote_commitment(job, round, &who, &r2, &salt)); }
        }

        #[test]
        fn commitment_binds_every_field(
            job in any::<u64>(), other_job in any::<u64>(),
            who in any::<[u8; 32]>(), other_who in any::<[u8; 32]>(),
            st in any::<u8>(), fuel in any::<u64>(), out in proptest::collection::vec(any::<u8>(), 0..64),
            fuel2 in any::<u64>(), out2 in proptest::collection::vec(any::<u8>(), 0..64),
            salt in any::<[u8; 32]>(), salt2 in any::<[u8; 32]>(),
        ) {
            let r = receipt(st, fuel, &out);
            let c = commitment(job, &who, &r, &salt);
            prop_assert_eq!(c, commitment(job, &who, &r, &salt));
            if job != other_job { prop_assert_ne!(c, commitment(other_job, &who, &r, &salt)); }
            if who != other_who { prop_assert_ne!(c, commitment(job, &other_who, &r, &salt)); }
            if salt != salt2 { prop_assert_ne!(c, commitment(job, &who, &r, &salt2)); }
            let r2 = receipt(st, fuel2, &out2);
            if r2 != r { prop_assert_ne!(c, commitment(job, &who, &r2, &salt)); }
        }

        #[test]
        fn receipts_roundtrip(st in any::<u8>(), fuel in any::<u64>(), out in proptest::collection::vec(any::<u8>(), 0..64)) {
            let r = receipt(st, fuel, &out);
            prop_assert_eq!(Receipt::decode(&mut &r.encode()[..]).unwrap(), r);
            prop_assert_eq!(r.encode().len(), r.encoded_size());
            prop_assert!(r.encoded_size() <= Receipt::max_encoded_len());
        }
    }
}
