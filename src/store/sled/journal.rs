//! A small plan applied key by key behind a journal entry instead of in a sled transaction.
//!
//! sled 0.34 makes every transaction (and every `apply_batch`) write its log buffer to disk
//! twice, before and after it reserves the batch's manifest, each on a thread of its pool,
//! waking all of that pool's idle threads; and it takes sled's global lock alone, so every read
//! in the process waits for it. For a write of a few entries that cost is most of the write.
//! Here the plan's operations (already absolute: values and counts computed before) are first
//! stored as one entry of the `meta` tree, a single log message; then applied one by one; then
//! the entry is removed. sled recovers a prefix of its log, so after a crash either the journal
//! entry is not there (and neither is any operation after it) or it is, and opening the store
//! applies it again: setting the same values twice changes nothing.
//!
//! Readers must not see a plan half applied: they hold `Visibility` shared for each read, and
//! the operations are applied holding it alone (no disk wait happens while it is held).

#[cfg(test)]
use super::META;
use super::{Op, StoreError};

/// The journal's meta key.
pub(super) const META_JOURNAL: &[u8] = b"journal";

/// Plans that change at most this many nodes are journaled; larger ones (an import's batches)
/// go in one transaction, whose fixed cost is small beside theirs and which writes each byte
/// once.
pub(super) const JOURNALED_CHANGES_AT_MOST: usize = 64;

const VERSION: u8 = 1;

/// One operation as read back from a journal: the tree by name.
pub(super) type OwnedOp = (String, Vec<u8>, Option<Vec<u8>>);

/// One operation as applied and journaled: tree, key, and the value to set (`None`: remove).
pub(super) type OpRef<'o> = (&'o str, &'o [u8], Option<&'o [u8]>);

pub(super) fn op_ref<'o>((tree, key, value): &'o Op) -> OpRef<'o> {
    (tree, key, value.as_deref())
}

pub(super) fn owned_op_ref<'o>((tree, key, value): &'o OwnedOp) -> OpRef<'o> {
    (tree, key, value.as_deref())
}

pub(super) fn encode(ops: &[OpRef<'_>]) -> Vec<u8> {
    let size: usize = ops
        .iter()
        .map(|(t, k, v)| 10 + t.len() + k.len() + v.map_or(0, <[u8]>::len))
        .sum();
    let mut out = Vec::with_capacity(1 + size);
    out.push(VERSION);
    for (tree, key, value) in ops {
        // Tree names are the store's own constants: short.
        out.push(tree.len() as u8);
        out.extend_from_slice(tree.as_bytes());
        put_bytes(&mut out, key);
        match value {
            Some(v) => {
                out.push(1);
                put_bytes(&mut out, v);
            }
            None => out.push(0),
        }
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads a journal back, every length checked.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<OwnedOp>, StoreError> {
    let mut reader = Reader(bytes);
    let version = reader.take(1)?[0];
    if version != VERSION {
        return Err(StoreError::Codec(format!(
            "the write journal has format {version}, this build knows {VERSION}"
        )));
    }
    let mut ops = Vec::new();
    while !reader.0.is_empty() {
        let name_len = reader.take(1)?[0] as usize;
        let tree = std::str::from_utf8(reader.take(name_len)?)
            .map_err(|_| damaged())?
            .to_string();
        let key = reader.bytes()?;
        let value = match reader.take(1)?[0] {
            0 => None,
            1 => Some(reader.bytes()?),
            _ => return Err(damaged()),
        };
        ops.push((tree, key, value));
    }
    Ok(ops)
}

fn damaged() -> StoreError {
    StoreError::Codec("the write journal is damaged".into())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.0.len() < n {
            return Err(damaged());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self) -> Result<Vec<u8>, StoreError> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| damaged())?);
        Ok(self.take(len as usize)?.to_vec())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{Fact, NodeKind, NodeRef, Person, Post};
    use crate::store::{Store, Write};
    use std::sync::atomic::Ordering;

    /// A person with a post in a country: a plan that also writes a reference and its count.
    pub(in crate::store::sled) fn person(key: &str, name: &str) -> Write {
        Write::Create(Fact::Person(Person {
            key: key.into(),
            name: name.into(),
            aliases: vec![],
            posts: vec![Post {
                title: "Envoy".into(),
                country: Some("XK".into()),
                organization: None,
                start: None,
                end: None,
                sources: vec![],
            }],
        }))
    }

    /// The next `times` applications of a journal fail after `at` operations.
    fn cut(store: &Store, at: usize, times: usize) {
        store.sled().cut_at.store(at, Ordering::Relaxed);
        store.sled().cuts.store(times, Ordering::Relaxed);
    }

    #[test]
    fn a_plan_cut_short_once_is_finished_from_its_journal_at_once() {
        let (_dir, store) = crate::store::tests::seeded();
        let people = store.count::<Person>().unwrap();
        cut(&store, 2, 1);
        let w = store.lock_writes();
        w.commit(&[person("cut-once", "Cut Once")], "t", None)
            .unwrap();
        assert_eq!(
            store.find_by_name::<Person>("cut once").unwrap(),
            ["cut-once"]
        );
        assert_eq!(store.count::<Person>().unwrap(), people + 1);
        assert!(store.check().unwrap().is_clean());
    }

    #[test]
    fn a_plan_that_cannot_be_finished_stops_writes_until_the_store_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let people = {
            let store = crate::store::tests::seeded_at(dir.path());
            let people = store.count::<Person>().unwrap();
            cut(&store, 2, 2);
            let w = store.lock_writes();
            assert!(w
                .commit(&[person("cut-twice", "Cut Twice")], "t", None)
                .is_err());
            // Nothing is planned on a half-written store, not even a retry.
            let refused = w.commit(&[person("next", "Next One")], "t", None);
            assert!(format!("{:?}", refused.unwrap_err()).contains("restart"));
            drop(w);
            store.flush().unwrap();
            people
        };
        let store = Store::open(dir.path()).unwrap();
        assert!(store
            .sled()
            .tree(META)
            .unwrap()
            .get(META_JOURNAL)
            .unwrap()
            .is_none());
        assert_eq!(
            store.find_by_name::<Person>("cut twice").unwrap(),
            ["cut-twice"]
        );
        assert!(store.find_by_name::<Person>("next one").unwrap().is_empty());
        assert_eq!(store.count::<Person>().unwrap(), people + 1);
        let node = NodeRef::new(NodeKind::Person, "cut-twice");
        assert_eq!(store.revisions(&node).unwrap().len(), 1);
        assert!(store.check().unwrap().is_clean());
        // And it takes writes again.
        let w = store.lock_writes();
        w.commit(&[person("after", "After Reopen")], "t", None)
            .unwrap();
        assert_eq!(store.count::<Person>().unwrap(), people + 2);
    }

    #[test]
    fn operations_read_back_as_written_and_damage_is_an_error() {
        let ops: Vec<Op> = vec![
            ("people", b"ned-price".to_vec(), Some(vec![1, 2, 3])),
            ("names", b"person\0ned".to_vec(), None),
            ("meta", Vec::new(), Some(Vec::new())),
        ];
        let refs: Vec<OpRef> = ops.iter().map(op_ref).collect();
        let bytes = encode(&refs);
        let back = decode(&bytes).unwrap();
        let expected: Vec<OwnedOp> = ops
            .iter()
            .map(|(t, k, v)| (t.to_string(), k.clone(), v.clone()))
            .collect();
        assert_eq!(back, expected);
        for cut in 0..bytes.len() - 1 {
            let read = decode(&bytes[..cut]);
            // A cut between two operations reads as fewer: never a panic, never garbage.
            if let Ok(fewer) = read {
                assert!(expected.starts_with(&fewer), "cut at {cut}");
            }
        }
        assert!(decode(&[9]).is_err(), "an unknown format is refused");
    }
}
