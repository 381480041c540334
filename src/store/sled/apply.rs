//! A checked plan as one sled transaction: the entities, their index entries (references,
//! name tokens, codes, URLs), the per-kind and per-target counts, the revisions and the
//! sequence.

use super::*;
use crate::store::{Change, Marker, RevisionAction};
use crate::with_entity;
use std::collections::{BTreeSet, HashMap};

fn revision_key(node: &NodeRef, number: u64) -> Vec<u8> {
    let mut k = format!("{node}\0").into_bytes();
    k.extend_from_slice(&number.to_be_bytes());
    k
}

fn encode_fact(fact: &Fact) -> Result<Vec<u8>, StoreError> {
    with_entity!(fact, e => codec::encode(e))
}

fn entries_of(fact: &Fact) -> Vec<(&'static str, Vec<u8>)> {
    with_entity!(fact, e => index_entries(e))
}

impl SledStore {
    /// Writes a checked plan: entities, every index, the counts, the revisions and the
    /// sequence, in one transaction.
    pub(super) fn apply_plan(&self, plan: &Plan) -> Result<(), StoreError> {
        let mut removals = Batch::default();
        let mut puts = Batch::default();
        let mut count_delta: HashMap<NodeKind, i64> = HashMap::new();
        let mut refcount_delta: HashMap<Vec<u8>, i64> = HashMap::new();
        for Change {
            node,
            old,
            new,
            revision,
        } in &plan.changes
        {
            let tree = tree_name(node.kind);
            let old_entries = old.as_ref().map(entries_of).unwrap_or_default();
            let new_entries = new.as_ref().map(entries_of).unwrap_or_default();
            count_references(&old_entries, &new_entries, &mut refcount_delta);
            if let Some(o) = old {
                for (t, k) in old_entries {
                    removals.remove(t, k);
                }
                for (t, k, _) in valued_entries(o) {
                    removals.remove(t, k);
                }
            }
            match new {
                Some(n) => {
                    puts.put(tree, node.key.as_bytes(), encode_fact(n)?);
                    for (t, k) in new_entries {
                        puts.put(t, k, Vec::new());
                    }
                    for (t, k, v) in valued_entries(n) {
                        puts.put(t, k, v);
                    }
                }
                None => removals.remove(tree, node.key.as_bytes()),
            }
            *count_delta.entry(node.kind).or_default() += match revision.action {
                RevisionAction::Created => 1,
                RevisionAction::Deleted => -1,
                RevisionAction::Updated => 0,
            };
            puts.put(
                REVISIONS,
                revision_key(node, revision.number),
                codec::encode(revision)?,
            );
        }
        for (kind, delta) in count_delta {
            if delta != 0 {
                let count = (self.count_of(kind)? as i64 + delta).max(0) as u64;
                puts.put(META, count_key(kind), count.to_be_bytes().to_vec());
            }
        }
        for (prefix, delta) in refcount_delta {
            if delta != 0 {
                let count = (self.refcount(&prefix)? as i64 + delta).max(0) as u64;
                match count {
                    0 => puts.remove(REFCOUNTS, prefix),
                    n => puts.put(REFCOUNTS, prefix, n.to_be_bytes().to_vec()),
                }
            }
        }
        match plan.marker {
            Some(Marker::Seeded) => puts.put(META, META_SEEDED.to_vec(), b"1".to_vec()),
            None => {}
        }
        let next = self.sequence()? + 1;
        puts.put(META, META_SEQUENCE.to_vec(), next.to_be_bytes().to_vec());
        let mut batch = removals;
        batch.ops.extend(puts.ops);
        self.write_batch(&batch, self.journals(plan).then_some(next))?;
        self.add_known(plan.changes.iter().map(|change| &change.node));
        Ok(())
    }
}

/// Adds to `delta`, per `target \0 role \0` prefix, the references a node gains and loses.
fn count_references(
    old: &[(&'static str, Vec<u8>)],
    new: &[(&'static str, Vec<u8>)],
    delta: &mut HashMap<Vec<u8>, i64>,
) {
    let refs = |entries: &'_ [(&'static str, Vec<u8>)]| -> BTreeSet<Vec<u8>> {
        entries
            .iter()
            .filter(|(t, _)| *t == REFS)
            .map(|(_, k)| k.clone())
            .collect()
    };
    let (old, new) = (refs(old), refs(new));
    for (keys, others, sign) in [(&new, &old, 1), (&old, &new, -1)] {
        for key in keys.difference(others) {
            if let Some(prefix) = refs_key_prefix(key) {
                *delta.entry(prefix.to_vec()).or_default() += sign;
            }
        }
    }
}

#[cfg(test)]
mod refcount_tests {
    use super::*;
    use crate::domain::Statement;
    use crate::ingest::dataset::{load, DatasetFiles};
    use crate::store::{Store, Write};
    use std::collections::BTreeMap;

    /// Every count in `refcounts` equals the number of `refs` entries under its prefix.
    fn assert_counts_match_index(store: &Store) {
        let mut counted: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        referrers::for_each(store.sled().tree(REFERRERS).unwrap(), b"", |prefix, _| {
            *counted.entry(prefix.to_vec()).or_default() += 1;
            Ok(())
        })
        .unwrap();
        let kept: BTreeMap<Vec<u8>, u64> = store
            .sled()
            .tree(REFCOUNTS)
            .unwrap()
            .iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (
                    k.to_vec(),
                    u64::from_be_bytes(v.as_ref().try_into().unwrap()),
                )
            })
            .collect();
        assert_eq!(kept, counted);
    }

    #[test]
    fn counts_follow_creates_moves_and_deletes_and_pages_read_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .seed(&load(&DatasetFiles::builtin()).unwrap())
            .unwrap();
        assert_counts_match_index(&store);
        let xk = NodeRef::new(NodeKind::Country, "XK");
        let about_xk = store.referrer_count(&xk, Role::About).unwrap();
        let all = store.referrers(&xk, Role::About).unwrap();
        assert_eq!(about_xk as usize, all.len());
        assert!(all.len() >= 3, "the seed has statements about Kosovo");

        // Pages walk the same keys, in order, each read separately.
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .referrer_page(&xk, Role::About, NodeKind::Statement, after.as_deref(), 2)
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            walked.extend(page.iter().cloned());
        }
        assert_eq!(walked, all);

        // Move one statement from Kosovo to Serbia, then delete another.
        let w = store.lock_writes();
        let mut moved: Statement = store.get(&all[0]).unwrap().unwrap();
        moved.about = vec![NodeRef::new(NodeKind::Country, "RS")];
        let rs_before = store
            .referrer_count(&NodeRef::new(NodeKind::Country, "RS"), Role::About)
            .unwrap();
        w.commit(&[Write::Upsert(Fact::Statement(moved))], "t", None)
            .unwrap();
        w.commit(
            &[Write::Delete {
                node: NodeRef::new(NodeKind::Statement, &all[1]),
                cascade: false,
                expected_revision: None,
            }],
            "t",
            None,
        )
        .unwrap();
        assert_eq!(
            store.referrer_count(&xk, Role::About).unwrap(),
            about_xk - 2
        );
        assert_eq!(
            store
                .referrer_count(&NodeRef::new(NodeKind::Country, "RS"), Role::About)
                .unwrap(),
            rs_before + 1
        );
        assert_counts_match_index(&store);
    }

    #[test]
    fn a_data_dir_without_counts_is_counted_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .seed(&load(&DatasetFiles::builtin()).unwrap())
                .unwrap();
            // As a data dir from before counts were kept.
            store.sled().tree(REFCOUNTS).unwrap().clear().unwrap();
            store
                .sled()
                .tree(META)
                .unwrap()
                .remove(META_REFCOUNTS)
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store
            .sled()
            .tree(META)
            .unwrap()
            .contains_key(META_REFCOUNTS)
            .unwrap());
        assert_counts_match_index(&store);
        assert!(
            store
                .referrer_count(&NodeRef::new(NodeKind::Country, "XK"), Role::About)
                .unwrap()
                > 0
        );
    }
}
