//! The reverse-reference index, packed. The referrers of one target in one role ("Kind:key"
//! strings, sorted) are cut into chunks of at most `CHUNK_MAX`, each one sled entry keyed
//! `target \0 role \0` + a lower bound: empty for the first chunk, else its first referrer.
//! Every referrer in a chunk sorts at or after its bound and before the next chunk's.
//!
//! Why chunks: sled's cost is per entry, in time and on disk (measured on this machine: about
//! 130,000 inserts/s for empty values, 340 bytes on disk per entry), and one entry per reference
//! made this index 60% of the store's entries.

use super::{codec, refs_key_prefix, utf8, Batch, Op, StoreError, REFS};
use std::collections::BTreeMap;

pub(super) const REFERRERS: &str = "referrers";
/// Referrers per chunk. A write rewrites the chunks it touches whole, so a chunk stays a few
/// KiB. Writes in key order leave all but a target's last chunk full; others leave some chunks
/// part-full (the scale-100 import: 372,810 chunks for 354,075 target-role pairs).
pub(super) const CHUNK_MAX: usize = 128;
/// Chunks a migration writes per sled batch.
const MIGRATION_BATCH: usize = 5_000;

type Chunk = Vec<String>;

fn decode(value: &[u8]) -> Result<Chunk, StoreError> {
    codec::decode(value)
}

fn concat(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + tail.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(tail);
    key
}

/// The key of the chunk that holds (or would hold) `referrer` under `prefix`, if any chunk's
/// bound is at or before it.
fn chunk_holding(
    tree: &sled::Tree,
    prefix: &[u8],
    referrer: &[u8],
) -> Result<Option<sled::IVec>, StoreError> {
    Ok(tree
        .range(prefix.to_vec()..=concat(prefix, referrer))
        .keys()
        .next_back()
        .transpose()?)
}

/// Turns the reference entries of a batch (`refs` keys: target \0 role \0 referrer, put or
/// removed, the last op on a key winning) into puts and removals of the chunks they land in.
/// Reads the chunks as they are now: the caller holds the write lock.
///
/// Only the chunks that receive a change are decoded and rewritten. A batch of mixed kinds
/// adds referrers far apart under a popular target ("Agreement:…" and "Statement:…" under one
/// country): rewriting everything between them made this index 68% of the bytes an import
/// wrote.
pub(super) fn pack(tree: &sled::Tree, batch: &Batch) -> Result<Vec<Op>, StoreError> {
    let mut edits: BTreeMap<&[u8], BTreeMap<&[u8], bool>> = BTreeMap::new();
    for (name, key, value) in &batch.ops {
        if *name != REFS {
            continue;
        }
        let prefix = refs_key_prefix(key)
            .ok_or_else(|| StoreError::Codec("a reference entry without target and role".into()))?;
        edits
            .entry(prefix)
            .or_default()
            .insert(&key[prefix.len()..], value.is_some());
    }
    let mut ops = Vec::new();
    for (prefix, changes) in edits {
        let (Some(first), Some(last)) = (changes.keys().next(), changes.keys().next_back()) else {
            continue;
        };
        let from =
            chunk_holding(tree, prefix, first)?.map_or_else(|| prefix.to_vec(), |k| k.to_vec());
        // The chunks the changes span, in order; each change lands in the last one whose
        // bound is at or before it, or in a new first chunk when none is.
        let spanned = tree
            .range(from..=concat(prefix, last))
            .collect::<Result<Vec<_>, _>>()?;
        let mut landing: BTreeMap<Option<usize>, Vec<(&[u8], bool)>> = BTreeMap::new();
        let mut after_holder = 0;
        for (referrer, present) in changes {
            while after_holder < spanned.len()
                && spanned[after_holder].0[prefix.len()..] <= *referrer
            {
                after_holder += 1;
            }
            landing
                .entry(after_holder.checked_sub(1))
                .or_default()
                .push((referrer, present));
        }
        for (holder, chunk_changes) in landing {
            let (key, mut members) = match holder.and_then(|i| spanned.get(i)) {
                Some((key, value)) => (key.to_vec(), decode(value)?),
                None => (prefix.to_vec(), Chunk::new()),
            };
            let old_last = members.last().cloned();
            let mut changed = false;
            let mut appended_only = true;
            for (referrer, present) in chunk_changes {
                let referrer = utf8(referrer)?;
                match (members.binary_search(&referrer), present) {
                    (Err(at), true) => {
                        appended_only &= old_last.as_ref().is_none_or(|last| referrer > *last);
                        members.insert(at, referrer);
                        changed = true;
                    }
                    (Ok(at), false) => {
                        members.remove(at);
                        changed = true;
                    }
                    _ => {}
                }
            }
            // An update re-derives every reference of the node it changes: most are put back
            // as they were, and their chunks need no rewrite.
            if !changed {
                continue;
            }
            if members.is_empty() {
                ops.push((REFERRERS, key, None));
                continue;
            }
            // Writes in key order only append: full pieces leave every chunk but a target's
            // last full. Anything else splits evenly, so that inserts at the front of a full
            // chunk do not shed one-referrer chunks.
            let pieces = members.len().div_ceil(CHUNK_MAX);
            let size = match appended_only {
                true => CHUNK_MAX,
                false => members.len().div_ceil(pieces),
            };
            for (i, piece) in members.chunks(size).enumerate() {
                let piece_key = match i {
                    0 => key.clone(),
                    _ => concat(prefix, piece[0].as_bytes()),
                };
                ops.push((REFERRERS, piece_key, Some(codec::encode(&piece)?)));
            }
        }
    }
    Ok(ops)
}

/// Calls `f` with the `target \0 role \0` prefix and each referrer of every chunk whose key
/// starts with `prefix`, in key order.
pub(super) fn for_each(
    tree: &sled::Tree,
    prefix: &[u8],
    mut f: impl FnMut(&[u8], String) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for entry in tree.scan_prefix(prefix) {
        let (key, value) = entry?;
        let owner = refs_key_prefix(&key)
            .ok_or_else(|| StoreError::Codec("a referrer chunk without target and role".into()))?;
        for referrer in decode(&value)? {
            f(owner, referrer)?;
        }
    }
    Ok(())
}

/// Up to `limit` referrers under `prefix` (target \0 role \0) that start with `kind_prefix`
/// ("Kind:"), strictly after `kind_prefix` + `after` when given: reads only the chunks the
/// page spans.
pub(super) fn page(
    tree: &sled::Tree,
    prefix: &[u8],
    kind_prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let start = format!("{kind_prefix}{}", after.unwrap_or(""));
    let from = chunk_holding(tree, prefix, start.as_bytes())?
        .map_or_else(|| prefix.to_vec(), |k| k.to_vec());
    for entry in tree.range(from..) {
        let (key, value) = entry?;
        if !key.starts_with(prefix) {
            break;
        }
        for referrer in decode(&value)? {
            let past_start = match after {
                Some(_) => referrer > start,
                None => referrer >= start,
            };
            if !past_start {
                continue;
            }
            let Some(key) = referrer.strip_prefix(kind_prefix) else {
                return Ok(out);
            };
            out.push(key.to_string());
            if out.len() == limit {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Packs the unpacked `refs` tree of a format-1 data dir into `into`, replacing whatever a
/// stopped migration left there. Returns the references packed.
pub(super) fn migrate(from: &sled::Tree, into: &sled::Tree) -> Result<u64, StoreError> {
    into.clear()?;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    let mut write = |key: Vec<u8>, chunk: &Chunk| -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        batch.insert(key, codec::encode(chunk)?);
        in_batch += 1;
        if in_batch == MIGRATION_BATCH {
            into.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
        Ok(())
    };
    let (mut prefix, mut bound, mut chunk) = (Vec::new(), Vec::new(), Chunk::new());
    let mut packed = 0;
    for key in from.iter().keys() {
        let key = key?;
        let owner = refs_key_prefix(&key)
            .ok_or_else(|| StoreError::Codec("a reference entry without target and role".into()))?;
        let referrer = utf8(&key[owner.len()..])?;
        if owner != prefix.as_slice() {
            write(concat(&prefix, &bound), &chunk)?;
            prefix = owner.to_vec();
            bound.clear();
            chunk.clear();
        } else if chunk.len() == CHUNK_MAX {
            write(concat(&prefix, &bound), &chunk)?;
            bound = referrer.as_bytes().to_vec();
            chunk.clear();
        }
        chunk.push(referrer);
        packed += 1;
    }
    write(concat(&prefix, &bound), &chunk)?;
    into.apply_batch(batch)?;
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const PREFIX: &[u8] = b"Country:XK\0about\0";

    fn tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        (dir, db.open_tree("t").unwrap())
    }

    fn apply(tree: &sled::Tree, ops: Vec<Op>) {
        for (_, key, value) in ops {
            match value {
                Some(v) => tree.insert(key, v).unwrap(),
                None => tree.remove(key).unwrap(),
            };
        }
    }

    /// Every chunk is non-empty, sorted, at most CHUNK_MAX long, at or after its bound and
    /// before the next chunk's; returns the referrers in order.
    fn checked_members(tree: &sled::Tree) -> Vec<String> {
        let mut all = Vec::new();
        let mut bounds = Vec::new();
        for entry in tree.scan_prefix(PREFIX) {
            let (key, value) = entry.unwrap();
            let chunk = decode(&value).unwrap();
            assert!(
                !chunk.is_empty() && chunk.len() <= CHUNK_MAX,
                "{}",
                chunk.len()
            );
            assert!(chunk.windows(2).all(|w| w[0] < w[1]));
            let bound = String::from_utf8(key[PREFIX.len()..].to_vec()).unwrap();
            assert!(chunk[0] >= bound);
            if let Some(last) = all.last() {
                assert!(bound > *last, "{bound} after {last}");
            }
            bounds.push(bound);
            all.extend(chunk);
        }
        all
    }

    fn walk(tree: &sled::Tree, kind: &str, size: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let got = page(tree, PREFIX, kind, after.as_deref(), size).unwrap();
            assert!(got.len() <= size);
            if got.is_empty() {
                return out;
            }
            after = got.last().cloned();
            out.extend(got);
        }
    }

    #[test]
    fn random_adds_and_removes_keep_chunks_bounded_ordered_and_pageable() {
        let (_dir, tree) = tree();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut model: BTreeSet<String> = BTreeSet::new();
        for round in 0..40 {
            let mut batch = Batch::default();
            let mut expected = model.clone();
            for _ in 0..rng.usize(1..120) {
                let kind = if rng.bool() { "Event" } else { "Statement" };
                let referrer = format!("{kind}:k{:04}", rng.usize(0..1500));
                let key = [PREFIX, referrer.as_bytes()].concat();
                // Later rounds remove more, so chunks also shrink and vanish.
                if rng.usize(0..40) < round {
                    batch.remove(REFS, key);
                    expected.remove(&referrer);
                } else {
                    batch.put(REFS, key, Vec::new());
                    expected.insert(referrer);
                }
            }
            apply(&tree, pack(&tree, &batch).unwrap());
            model = expected;
            assert_eq!(
                checked_members(&tree),
                model.iter().cloned().collect::<Vec<_>>()
            );
        }
        assert!(tree.len() > 2, "the test must span several chunks");
        for kind in ["Event:", "Statement:", "Person:"] {
            let expected: Vec<String> = model
                .iter()
                .filter_map(|r| r.strip_prefix(kind).map(str::to_string))
                .collect();
            for size in [1, 7, 500] {
                assert_eq!(walk(&tree, kind, size), expected, "{kind} by {size}");
            }
        }
        assert!(page(&tree, PREFIX, "Event:", None, 0).unwrap().is_empty());
        // Removing everything leaves no chunk behind.
        let mut batch = Batch::default();
        for referrer in &model {
            batch.remove(REFS, [PREFIX, referrer.as_bytes()].concat());
        }
        apply(&tree, pack(&tree, &batch).unwrap());
        assert_eq!(tree.len(), 0);
    }

    fn put_all(tree: &sled::Tree, referrers: impl IntoIterator<Item = String>) -> usize {
        let mut batch = Batch::default();
        for referrer in referrers {
            batch.put(REFS, [PREFIX, referrer.as_bytes()].concat(), Vec::new());
        }
        let ops = pack(tree, &batch).unwrap();
        let n = ops.len();
        apply(tree, ops);
        n
    }

    #[test]
    fn a_batch_rewrites_only_the_chunks_its_changes_land_in() {
        let (_dir, tree) = tree();
        let statement = |i: usize| format!("Statement:s{i:05}");
        let mut expected: BTreeSet<String> = (0..CHUNK_MAX * 4 + 10).map(statement).collect();
        assert_eq!(
            put_all(&tree, expected.clone()),
            5,
            "written in order: full chunks"
        );
        // One referrer at each end of a run of five chunks: two chunk writes, not five.
        let mut batch = Batch::default();
        batch.remove(REFS, [PREFIX, statement(5).as_bytes()].concat());
        apply(&tree, pack(&tree, &batch).unwrap());
        expected.remove(&statement(5));
        let ends = ["Agreement:a1".to_string(), statement(99_999)];
        assert_eq!(put_all(&tree, ends.clone()), 2);
        expected.extend(ends);
        assert_eq!(tree.len(), 5);
        // A full chunk that grows in the middle splits evenly.
        assert_eq!(put_all(&tree, ["Statement:s00000a".to_string()]), 2);
        expected.insert("Statement:s00000a".to_string());
        assert_eq!(tree.len(), 6);
        assert_eq!(checked_members(&tree), Vec::from_iter(expected));
        let first_two: Vec<usize> = tree
            .scan_prefix(PREFIX)
            .values()
            .take(2)
            .map(|v| decode(&v.unwrap()).unwrap().len())
            .collect();
        assert_eq!(first_two, [65, 64]);
    }

    #[test]
    fn inserts_at_the_front_keep_chunks_at_least_half_full() {
        let (_dir, tree) = tree();
        let n = CHUNK_MAX * 6;
        for i in (0..n).rev() {
            put_all(&tree, [format!("Statement:s{i:05}")]);
        }
        assert_eq!(checked_members(&tree).len(), n);
        assert!(tree.len() <= n / (CHUNK_MAX / 2), "{} chunks", tree.len());
    }

    #[test]
    fn a_referrer_before_every_chunk_starts_a_new_first_chunk() {
        let (_dir, tree) = tree();
        put_all(
            &tree,
            (0..CHUNK_MAX + 1).map(|i| format!("Statement:s{i:05}")),
        );
        // Empty the first chunk: the second one, bounded by its first referrer, remains.
        let mut batch = Batch::default();
        for i in 0..CHUNK_MAX {
            batch.remove(
                REFS,
                [PREFIX, format!("Statement:s{i:05}").as_bytes()].concat(),
            );
        }
        apply(&tree, pack(&tree, &batch).unwrap());
        assert_eq!(tree.len(), 1);
        put_all(
            &tree,
            ["Event:e1".to_string(), "Statement:s00000".to_string()],
        );
        assert_eq!(
            checked_members(&tree),
            [
                "Event:e1",
                "Statement:s00000",
                &format!("Statement:s{CHUNK_MAX:05}")
            ]
        );
        assert_eq!(walk(&tree, "Statement:", 1).len(), 2);
    }

    #[test]
    fn the_last_op_on_a_reference_wins_within_a_batch() {
        let (_dir, tree) = tree();
        let key = [PREFIX, b"Statement:a".as_slice()].concat();
        let mut batch = Batch::default();
        batch.put(REFS, key.clone(), Vec::new());
        apply(&tree, pack(&tree, &batch).unwrap());
        // An update re-derives its index entries: removed, then put again.
        let mut batch = Batch::default();
        batch.remove(REFS, key.clone());
        batch.put(REFS, key, Vec::new());
        assert!(
            pack(&tree, &batch).unwrap().is_empty(),
            "references put back as they were rewrite nothing"
        );
        batch.remove(REFS, [PREFIX, b"Statement:a".as_slice()].concat());
        apply(&tree, pack(&tree, &batch).unwrap());
        assert!(checked_members(&tree).is_empty());
    }

    #[test]
    fn migration_packs_one_entry_per_reference_into_full_chunks() {
        let (_dir, old) = tree();
        let dir = tempfile::tempdir().unwrap();
        let new = sled::Config::new()
            .path(dir.path())
            .open()
            .unwrap()
            .open_tree("n")
            .unwrap();
        let mut model = Vec::new();
        for i in 0..(CHUNK_MAX * 2 + 5) {
            let referrer = format!("Statement:s{i:05}");
            old.insert([PREFIX, referrer.as_bytes()].concat(), b"")
                .unwrap();
            model.push(referrer);
        }
        old.insert(b"Country:XL\0about\0Statement:x", b"").unwrap();
        new.insert(b"left over", b"").unwrap();
        assert_eq!(migrate(&old, &new).unwrap(), model.len() as u64 + 1);
        assert_eq!(checked_members(&new), model);
        // Three chunks under the prefix, one under the other; nothing left over.
        assert_eq!(new.len(), 4);
        assert_eq!(
            walk(&new, "Statement:", 50).len(),
            model.len(),
            "pages read the migrated chunks"
        );
    }
}
