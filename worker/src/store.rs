//! The worker's durable state: for every job it works on, the salt and receipt it commits to
//! and the output it will reveal, the sealed vote it cast as a juror, plus which results it
//! audited. Stored in an embedded database
//! (redb) whose transactions are durable on commit, and always written *before* the extrinsic
//! that depends on it is submitted — so a `kill -9` at any point loses nothing: a restarted
//! worker finds the salt of every commitment it may have made.

use std::path::Path;

use codec::{Decode, Encode};
use redb::{Database, ReadableTable, TableDefinition};
use tessera_primitives::{JobId, Receipt};

const WORK: TableDefinition<u64, &[u8]> = TableDefinition::new("work");
const AUDITS: TableDefinition<u64, &[u8]> = TableDefinition::new("audits");
const BALLOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("ballots");

/// Every table, each keyed by job.
const TABLES: [TableDefinition<u64, &[u8]>; 3] = [WORK, AUDITS, BALLOTS];

/// What the worker computed for one of its replicas (or one of its juror duties).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct Work {
    /// The receipt committed to.
    pub receipt: Receipt,
    /// The commitment's salt.
    pub salt: [u8; 32],
    /// The output the receipt hashes (revealed inline).
    pub output: Vec<u8>,
}

/// A juror's sealed vote: what it opens to, so the vote can be revealed after a restart.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ballot {
    /// The dispute round it was cast in (a later round needs a new seal).
    pub round: u32,
    /// The receipt voted.
    pub receipt: Receipt,
    /// The seal's salt.
    pub salt: [u8; 32],
}

/// What an audit of someone else's result found.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct Audit {
    /// The receipt this worker computed.
    pub receipt: Receipt,
    /// Whether it disagreed with the revealed one (and a challenge was sent).
    pub challenged: bool,
}

/// The worker's database.
pub struct Store {
    db: Database,
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("worker database: {0}")]
pub struct StoreError(pub String);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let db = Database::create(path).map_err(err)?;
        let txn = db.begin_write().map_err(err)?;
        for def in TABLES {
            txn.open_table(def).map_err(err)?;
        }
        txn.commit().map_err(err)?;
        Ok(Store { db })
    }

    fn put(&self, table: TableDefinition<u64, &[u8]>, job: JobId, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(err)?;
        txn.open_table(table).map_err(err)?.insert(job, value).map_err(err)?;
        // Durable once this returns: redb fsyncs on commit.
        txn.commit().map_err(err)
    }

    fn get<T: Decode>(&self, table: TableDefinition<u64, &[u8]>, job: JobId) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let table = txn.open_table(table).map_err(err)?;
        let Some(value) = table.get(job).map_err(err)? else { return Ok(None) };
        T::decode(&mut value.value()).map(Some).map_err(err)
    }

    /// Records the work for `job` (durably).
    pub fn put_work(&self, job: JobId, work: &Work) -> Result<(), StoreError> {
        self.put(WORK, job, &work.encode())
    }

    /// The work recorded for `job`.
    pub fn work(&self, job: JobId) -> Result<Option<Work>, StoreError> {
        self.get(WORK, job)
    }

    /// Records the sealed vote cast in `job` (durably).
    pub fn put_ballot(&self, job: JobId, ballot: &Ballot) -> Result<(), StoreError> {
        self.put(BALLOTS, job, &ballot.encode())
    }

    /// The sealed vote cast in `job`, if any.
    pub fn ballot(&self, job: JobId) -> Result<Option<Ballot>, StoreError> {
        self.get(BALLOTS, job)
    }

    /// Records an audit of `job`.
    pub fn put_audit(&self, job: JobId, audit: &Audit) -> Result<(), StoreError> {
        self.put(AUDITS, job, &audit.encode())
    }

    /// The audit of `job`, if done.
    pub fn audit(&self, job: JobId) -> Result<Option<Audit>, StoreError> {
        self.get(AUDITS, job)
    }

    /// Forgets `job` (it ended: nothing about it can be asked of this provider any more).
    pub fn forget(&self, job: JobId) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(err)?;
        for def in TABLES {
            txn.open_table(def).map_err(err)?.remove(job).map_err(err)?;
        }
        txn.commit().map_err(err)
    }

    /// Forgets everything about jobs that are no longer live (keeps the database bounded).
    pub fn retain(&self, live: impl Fn(JobId) -> bool) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(err)?;
        let mut removed = 0;
        for def in TABLES {
            let mut table = txn.open_table(def).map_err(err)?;
            let dead: Vec<u64> = table
                .iter()
                .map_err(err)?
                .filter_map(|e| e.ok().map(|(k, _)| k.value()))
                .filter(|k| !live(*k))
                .collect();
            for k in dead {
                table.remove(k).map_err(err)?;
                removed += 1;
            }
        }
        txn.commit().map_err(err)?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_primitives::ExitStatus;

    #[test]
    fn work_survives_reopening_and_dead_jobs_are_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("worker.redb");
        let work = Work { receipt: Receipt::new(ExitStatus::Ok, 42, b"out"), salt: [7; 32], output: b"out".to_vec() };
        {
            let store = Store::open(&path).expect("open");
            store.put_work(3, &work).expect("put");
            store.put_work(4, &work).expect("put");
            store.put_audit(4, &Audit { receipt: work.receipt, challenged: true }).expect("put");
            store.put_ballot(4, &Ballot { round: 1, receipt: work.receipt, salt: [3; 32] }).expect("put");
            store.put_ballot(3, &Ballot { round: 2, receipt: work.receipt, salt: [5; 32] }).expect("put");
        }
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.work(3).expect("get"), Some(work.clone()));
        assert_eq!(store.work(5).expect("get"), None);
        assert_eq!(store.ballot(3).expect("get").map(|b| (b.round, b.salt)), Some((2, [5; 32])));
        assert_eq!(store.retain(|job| job == 3).expect("retain"), 3);
        assert_eq!(store.work(3).expect("get"), Some(work));
        assert_eq!(store.work(4).expect("get"), None);
        assert_eq!(store.audit(4).expect("get"), None);
        assert_eq!(store.ballot(4).expect("get"), None);
        store.forget(3).expect("forget");
        assert_eq!(store.work(3).expect("get"), None);
        assert_eq!(store.ballot(3).expect("get"), None);
    }
}
