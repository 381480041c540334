//! The write-ahead log: what makes a small write durable without flushing sled.
//!
//! sled's flush is most of a small write's CPU (it writes its log buffers on its thread pool,
//! waking every idle thread of the pool each time). So a journaled plan's operations (already
//! absolute: values and counts computed before) are first written to this file, then applied
//! to sled in memory; a sync is one `fdatasync` of this file, covering every plan written
//! before it. sled's own background flusher writes its pages at its own pace, and a full sync
//! (sled's flush and an `fdatasync` of its log) now and then lets the log start over.
//!
//! Each record holds the store's sequence after its plan. When the store is opened, records
//! that follow the sequence sled recovered are applied again, in order; a record that does not
//! follow (a plan in between was never durable: a transaction, which a full sync covers) ends
//! the replay, and so does a record cut short or damaged: neither was acknowledged.
//!
//! The file is reused, never shortened: an `fdatasync` that must also write the file's new
//! size and newly allocated blocks costs a second disk write, so the file grows ahead of the
//! records, by blocks of zeros, and starting over is a new generation in its header, which
//! every record repeats: a record left from an earlier generation is not read. Generations are
//! random, not counted: a header lost in a crash (it is made durable by the next sync, not at
//! once) cannot bring back a generation whose records are still in the file.
//!
//! Layout, all big-endian: the header (`MAGIC`, then the generation, u64); then records:
//! payload length (u32), CRC-32 of the payload (u32), then the payload: the generation (u64),
//! the sequence after the plan (u64) and the plan's operations (`journal::encode`).

use super::journal::{self, OwnedOp};
use super::StoreError;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The log's file name, in the data dir beside sled's own files.
pub(super) const FILE_NAME: &str = "write-ahead.log";

const MAGIC: &[u8; 8] = b"dgwal\0\0\x01";
const FILE_HEADER: u64 = 16;
const RECORD_HEADER: usize = 8;

/// Once the log holds this much, the next sync is a full one, and the log starts over: replay
/// on opening stays short, and sled's flush is paid once per this many bytes of plans.
pub(super) const FULL_SYNC_AFTER_BYTES: u64 = 8 << 20;

/// How far ahead of its records the file is grown.
const GROW_BY: u64 = 256 << 10;

/// A record read back: the store's sequence after its plan, and the plan's operations.
#[derive(Debug, PartialEq)]
pub(super) struct Record {
    pub(super) sequence: u64,
    pub(super) ops: Vec<OwnedOp>,
}

/// The open log: written to by the writer; synced, through a clone of its file (`handle`), by
/// whoever syncs.
pub(super) struct WriteAheadLog {
    file: File,
    generation: u64,
    /// Where the next record goes.
    end: u64,
    /// The file's size: past it, a record would also change the file's size and blocks.
    allocated: u64,
    /// `FULL_SYNC_AFTER_BYTES`; tests set their own.
    full_sync_after: u64,
}

impl WriteAheadLog {
    /// Opens (or creates) the log in `dir` and reads back the records of its generation, in
    /// order. The caller applies what it needs of them, then starts the log over (`start_over`).
    pub(super) fn open(dir: &Path) -> Result<(WriteAheadLog, Vec<Record>), StoreError> {
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("open", e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error("read", e))?;
        if bytes.is_empty() {
            // A new file: its name must outlast a crash as its contents will.
            File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(|e| io_error("record the creation of", e))?;
        }
        let (generation, records) = match bytes.get(..FILE_HEADER as usize) {
            // New, or made and never synced: nothing in it was acknowledged.
            None => (0, Vec::new()),
            Some(header) if header.iter().all(|b| *b == 0) => (0, Vec::new()),
            Some(header) if &header[..8] == MAGIC => {
                let generation = u64::from_be_bytes(header[8..].try_into().unwrap_or_default());
                let records = read_records(generation, &bytes[FILE_HEADER as usize..]);
                (generation, records)
            }
            Some(_) => {
                return Err(StoreError::Codec(format!(
                    "{} is not a write-ahead log this build can read",
                    path.display()
                )))
            }
        };
        let log = WriteAheadLog {
            file,
            generation,
            end: FILE_HEADER,
            allocated: bytes.len() as u64,
            full_sync_after: FULL_SYNC_AFTER_BYTES,
        };
        Ok((log, records))
    }

    /// Writes one plan's record (durable once the file is synced).
    pub(super) fn append(&mut self, sequence: u64, encoded_ops: &[u8]) -> Result<(), StoreError> {
        let record = encode_record(self.generation, sequence, encoded_ops);
        let end = self.end + record.len() as u64;
        if end > self.allocated {
            let grown = end.max(self.allocated + GROW_BY);
            let zeros = vec![0; (grown - self.allocated) as usize];
            self.file
                .write_all_at(&zeros, self.allocated)
                .map_err(|e| io_error("grow", e))?;
            self.allocated = grown;
        }
        self.file
            .write_all_at(&record, self.end)
            .map_err(|e| io_error("write to", e))?;
        self.end = end;
        Ok(())
    }

    /// Whether the log holds enough to start over after a full sync.
    pub(super) fn is_long(&self) -> bool {
        self.end >= self.full_sync_after
    }

    /// Starts the log over, once everything in it is durable in sled (or was never
    /// acknowledged): a new generation, whose first record goes after the header.
    pub(super) fn start_over(&mut self) -> Result<(), StoreError> {
        let generation = loop {
            let mut random = [0; 8];
            getrandom::fill(&mut random)
                .map_err(|e| StoreError::Backend(format!("no random generation: {e}")))?;
            let drawn = u64::from_be_bytes(random);
            if drawn != 0 && drawn != self.generation {
                break drawn;
            }
        };
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&generation.to_be_bytes());
        self.file
            .write_all_at(&header, 0)
            .map_err(|e| io_error("start over", e))?;
        self.generation = generation;
        self.end = FILE_HEADER;
        self.allocated = self.allocated.max(FILE_HEADER);
        Ok(())
    }

    /// Takes back the records written from `end` on: their first header is zeroed, so that
    /// reading stops there, and made durable at once (a sync running meanwhile may have
    /// written the record to disk).
    pub(super) fn take_back_to(&mut self, end: u64) -> Result<(), StoreError> {
        self.file
            .write_all_at(&[0; RECORD_HEADER], end)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io_error("take back a record of", e))?;
        self.end = end;
        Ok(())
    }

    /// Where the next record goes: `take_back_to` it to take back the records written after.
    pub(super) fn end(&self) -> u64 {
        self.end
    }

    /// A clone of the file handle, to `fdatasync` without holding the log.
    pub(super) fn handle(&self) -> Result<File, StoreError> {
        self.file.try_clone().map_err(|e| io_error("open", e))
    }
}

fn io_error(doing: &str, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("could not {doing} the write-ahead log: {e}"))
}

/// A record of a plan whose operations are `encoded_ops` (`journal::encode`, the same bytes as
/// its journal entry).
fn encode_record(generation: u64, sequence: u64, encoded_ops: &[u8]) -> Vec<u8> {
    let mut payload = generation.to_be_bytes().to_vec();
    payload.extend_from_slice(&sequence.to_be_bytes());
    payload.extend_from_slice(encoded_ops);
    let mut record = Vec::with_capacity(RECORD_HEADER + payload.len());
    record.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    record.extend_from_slice(&payload);
    record
}

/// The whole records of `generation` at the start of `bytes`: reading stops at the first one
/// cut short, damaged (a write the crash interrupted, never acknowledged) or of another
/// generation (left from before the log started over).
fn read_records(generation: u64, mut bytes: &[u8]) -> Vec<Record> {
    let mut records = Vec::new();
    while bytes.len() >= RECORD_HEADER {
        let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let crc = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let Some(payload) = bytes.get(RECORD_HEADER..RECORD_HEADER + len) else {
            break;
        };
        if len < 16 || crc32fast::hash(payload) != crc {
            break;
        }
        let number =
            |at: usize| u64::from_be_bytes(payload[at..at + 8].try_into().unwrap_or_default());
        if number(0) != generation {
            break;
        }
        let Ok(ops) = journal::decode(&payload[16..]) else {
            break;
        };
        records.push(Record {
            sequence: number(8),
            ops,
        });
        bytes = &bytes[RECORD_HEADER + len..];
    }
    records
}

/// The records to apply again over a store whose sequence is `recovered`: those that follow
/// it one by one. A record at or below it is in the store already; a jump means a plan in
/// between was lost, and nothing after it was acknowledged.
pub(super) fn to_replay(records: Vec<Record>, recovered: u64) -> Vec<Record> {
    let mut expected = recovered + 1;
    let mut replay = Vec::new();
    for record in records {
        if record.sequence < expected {
            continue;
        }
        if record.sequence > expected {
            break;
        }
        expected += 1;
        replay.push(record);
    }
    replay
}

#[cfg(test)]
mod tests {
    use super::super::journal::OpRef;
    use super::super::Op;
    use super::*;

    fn ops(n: u8) -> Vec<Op> {
        vec![
            ("people", vec![b'k', n], Some(vec![n; 3])),
            ("names", vec![b'n', n], None),
        ]
    }

    fn record(sequence: u64, n: u8) -> Record {
        let owned = ops(n)
            .into_iter()
            .map(|(t, k, v)| (t.to_string(), k, v))
            .collect();
        Record {
            sequence,
            ops: owned,
        }
    }

    fn append(log: &mut WriteAheadLog, sequence: u64, n: u8) {
        let ops = ops(n);
        let refs: Vec<OpRef> = ops.iter().map(journal::op_ref).collect();
        log.append(sequence, &journal::encode(&refs)).unwrap();
    }

    /// A log as the store leaves it once opened: started over.
    fn opened(dir: &Path) -> (WriteAheadLog, Vec<Record>) {
        let (mut log, records) = WriteAheadLog::open(dir).unwrap();
        log.start_over().unwrap();
        (log, records)
    }

    #[test]
    fn records_read_back_in_order_and_a_torn_or_damaged_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, records) = opened(dir.path());
            assert!(records.is_empty());
            for (sequence, n) in [(5, 1), (6, 2), (7, 3)] {
                append(&mut log, sequence, n);
            }
        }
        let path = dir.path().join(FILE_NAME);
        let whole = std::fs::read(&path).unwrap();
        assert!(whole.len() as u64 >= GROW_BY, "grown ahead by zeros");
        let (_, records) = WriteAheadLog::open(dir.path()).unwrap();
        assert_eq!(records, [record(5, 1), record(6, 2), record(7, 3)]);
        let generation = u64::from_be_bytes(whole[8..16].try_into().unwrap());
        let body = &whole[FILE_HEADER as usize..];
        let mut used = 0;
        for _ in 0..3 {
            let len = u32::from_be_bytes(body[used..used + 4].try_into().unwrap()) as usize;
            used += RECORD_HEADER + len;
        }
        assert_eq!(read_records(generation, &body[..used]).len(), 3);
        // Every cut reads as the whole records before it.
        for cut in 0..used {
            let read = read_records(generation, &body[..cut]);
            assert!(read.len() < 3, "cut at {cut}");
            assert_eq!(read, [record(5, 1), record(6, 2)][..read.len()]);
        }
        // A flipped byte in the second record ends the log before it.
        let first = RECORD_HEADER + u32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
        let mut damaged = body.to_vec();
        damaged[first + RECORD_HEADER + 20] ^= 0x40;
        assert_eq!(read_records(generation, &damaged), [record(5, 1)]);
    }

    #[test]
    fn a_log_started_over_reads_only_its_new_records_and_taken_back_ones_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _) = opened(dir.path());
            for sequence in 1..=3 {
                append(&mut log, sequence, 1);
            }
            log.start_over().unwrap();
            append(&mut log, 4, 2);
            let before = log.end();
            append(&mut log, 5, 3);
            log.take_back_to(before).unwrap();
        }
        let (mut log, records) = WriteAheadLog::open(dir.path()).unwrap();
        assert_eq!(
            records,
            [record(4, 2)],
            "3 and 2 of the last generation are hidden"
        );
        assert!(!log.is_long());
        log.start_over().unwrap();
        drop(log);
        assert!(WriteAheadLog::open(dir.path()).unwrap().1.is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_log_is_refused_and_one_never_synced_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), vec![7; 64]).unwrap();
        assert!(WriteAheadLog::open(dir.path()).is_err());
        // Grown, then cut off by a crash before its header was written.
        std::fs::write(dir.path().join(FILE_NAME), vec![0; 64]).unwrap();
        assert!(WriteAheadLog::open(dir.path()).unwrap().1.is_empty());
    }

    #[test]
    fn replay_takes_the_records_that_follow_the_recovered_sequence_up_to_a_gap() {
        let sequences =
            |records: Vec<Record>| records.iter().map(|r| r.sequence).collect::<Vec<_>>();
        let log = || vec![record(3, 0), record(4, 0), record(5, 0), record(7, 0)];
        assert_eq!(sequences(to_replay(log(), 3)), [4, 5], "7 follows a lost 6");
        assert_eq!(sequences(to_replay(log(), 2)), [3, 4, 5]);
        assert_eq!(sequences(to_replay(log(), 5)), Vec::<u64>::new());
        assert_eq!(sequences(to_replay(log(), 6)), [7]);
        assert_eq!(sequences(to_replay(log(), 9)), Vec::<u64>::new());
        assert_eq!(
            sequences(to_replay(log(), 0)),
            Vec::<u64>::new(),
            "1 and 2 are missing"
        );
    }

    mod with_a_store {
        use super::super::{WriteAheadLog, FILE_NAME};
        use crate::domain::{NodeKind, NodeRef, Person};
        use crate::store::sled::journal::tests::person;
        use crate::store::{Store, Write, WriteGuard};
        use std::path::Path;

        fn copy_dir(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                let target = to.join(entry.file_name());
                match entry.file_type().unwrap().is_dir() {
                    true => copy_dir(&entry.path(), &target),
                    false => {
                        std::fs::copy(entry.path(), target).unwrap();
                    }
                }
            }
        }

        /// One person, in a plan small enough to be logged.
        fn create(w: &WriteGuard<'_>, key: &str, name: &str) {
            w.commit(&[person(key, name)], "t", None).unwrap();
        }

        /// A hundred people: more changes than a journaled plan holds, so one transaction.
        fn create_a_hundred(w: &WriteGuard<'_>) {
            let many: Vec<Write> = (0..100)
                .map(|i| person(&format!("many-{i}"), &format!("Many {i}")))
                .collect();
            w.commit(&many, "t", None).unwrap();
        }

        /// How many records the log in `dir` holds now.
        fn logged(dir: &Path) -> usize {
            WriteAheadLog::open(dir).unwrap().1.len()
        }

        #[test]
        fn writes_acknowledged_after_sleds_last_flush_come_back_from_the_log() {
            let live = tempfile::tempdir().unwrap();
            let lost = tempfile::tempdir().unwrap();
            let (people, sequence) = {
                let store = crate::store::tests::seeded_at(live.path());
                (store.count::<Person>().unwrap(), store.sequence().unwrap())
            };
            {
                let store = Store::open(live.path()).unwrap();
                let w = store.lock_writes();
                // The first sync after opening a store whose log was empty is a full one: this
                // write is in sled's files.
                create(&w, "flushed", "Flushed First");
                assert_eq!(logged(live.path()), 0);
                // sled's files as they are now: what a crash right after the next writes could
                // leave on disk if sled's flusher had not run.
                copy_dir(live.path(), lost.path());
                create(&w, "logged-one", "Logged One");
                create(&w, "logged-two", "Logged Two");
                assert_eq!(logged(live.path()), 2, "small writes are logged");
            }
            std::fs::copy(live.path().join(FILE_NAME), lost.path().join(FILE_NAME)).unwrap();
            let store = Store::open(lost.path()).unwrap();
            assert_eq!(store.count::<Person>().unwrap(), people + 3);
            assert_eq!(store.sequence().unwrap(), sequence + 3);
            for (key, name) in [("logged-one", "logged one"), ("logged-two", "logged two")] {
                assert_eq!(store.find_by_name::<Person>(name).unwrap(), [key]);
                let node = NodeRef::new(NodeKind::Person, key);
                assert_eq!(store.revisions(&node).unwrap().len(), 1);
            }
            assert!(store.check().unwrap().is_clean());
            assert_eq!(logged(lost.path()), 0, "started over once sled holds them");
            drop(store);
            // Opened again: nothing applied twice.
            let store = Store::open(lost.path()).unwrap();
            assert_eq!(store.sequence().unwrap(), sequence + 3);
        }

        #[test]
        fn a_logged_write_that_does_not_follow_the_store_recovered_is_not_applied() {
            let live = tempfile::tempdir().unwrap();
            let lost = tempfile::tempdir().unwrap();
            drop(crate::store::tests::seeded_at(live.path()));
            let (people, sequence) = {
                let store = Store::open(live.path()).unwrap();
                let w = store.lock_writes();
                create(&w, "flushed", "Flushed First");
                copy_dir(live.path(), lost.path());
                let people = store.count::<Person>().unwrap();
                // A transaction, then a logged write after it.
                create_a_hundred(&w);
                create(&w, "after-many", "After Many");
                assert_eq!(logged(live.path()), 1);
                (people, store.sequence().unwrap() - 2)
            };
            // sled's files from before the transaction, the log from after it.
            std::fs::copy(live.path().join(FILE_NAME), lost.path().join(FILE_NAME)).unwrap();
            let store = Store::open(lost.path()).unwrap();
            assert_eq!(store.sequence().unwrap(), sequence);
            assert_eq!(store.count::<Person>().unwrap(), people);
            assert!(store
                .find_by_name::<Person>("after many")
                .unwrap()
                .is_empty());
            assert!(store.check().unwrap().is_clean());
        }

        #[test]
        fn a_long_log_makes_the_next_sync_a_full_one() {
            let (dir, store) = crate::store::tests::seeded();
            let w = store.lock_writes();
            create(&w, "first", "First Write");
            let before = logged(dir.path());
            create(&w, "logged", "Logged Write");
            assert_eq!(logged(dir.path()), before + 1);
            // Any record now makes the log long.
            store.sled().wal.lock().full_sync_after = 1;
            create(&w, "long", "Long Log");
            assert_eq!(logged(dir.path()), 0, "sled flushed, the log started over");
            assert_eq!(store.find_by_name::<Person>("long log").unwrap(), ["long"]);
        }

        #[test]
        fn a_write_sled_refused_is_taken_back_from_the_log() {
            let (dir, store) = crate::store::tests::seeded();
            let w = store.lock_writes();
            create(&w, "first", "First Write");
            let before = logged(dir.path());
            let people = store.count::<Person>().unwrap();
            store
                .sled()
                .refuse_journal
                .store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(w
                .commit(&[person("refused", "Refused Write")], "t", None)
                .is_err());
            assert_eq!(logged(dir.path()), before, "taken back");
            assert_eq!(store.count::<Person>().unwrap(), people);
            // The next write takes the record's place.
            create(&w, "next", "Next Write");
            assert_eq!(logged(dir.path()), before + 1);
            drop(w);
            drop(store);
            let store = Store::open(dir.path()).unwrap();
            assert!(store
                .find_by_name::<Person>("refused write")
                .unwrap()
                .is_empty());
            assert_eq!(
                store.find_by_name::<Person>("next write").unwrap(),
                ["next"]
            );
        }

        #[test]
        fn a_write_outside_the_log_makes_the_next_sync_flush_sled_and_start_the_log_over() {
            let (dir, store) = crate::store::tests::seeded();
            let w = store.lock_writes();
            create(&w, "small", "Small Write");
            assert_eq!(logged(dir.path()), 1);
            create_a_hundred(&w);
            assert_eq!(logged(dir.path()), 0);
            create(&w, "after", "After Many");
            assert_eq!(logged(dir.path()), 1);
        }
    }
}
