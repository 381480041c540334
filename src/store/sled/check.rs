//! `diplograph check`: the store against itself. Every index is derived again from the
//! entities and compared with what is stored (an entry pointing at nothing, a record missing
//! from an index, a count that is off), every value must decode under its own key, every
//! reference must resolve, and every citation must lie within its source's text.

use super::*;
use crate::domain::{Citation, Country, Source};
use std::any::Any;
use std::collections::BTreeMap;

use crate::store::CheckReport;

/// What the entities say the indexes must hold.
#[derive(Default)]
struct Expected {
    /// `refs` keys: target \0 role \0 referrer.
    references: BTreeSet<Vec<u8>>,
    names: BTreeSet<Vec<u8>>,
    /// (tree, key) → value, for codes and URLs.
    valued: BTreeMap<(&'static str, Vec<u8>), Vec<u8>>,
    /// Each referrer and what it refers to.
    links: Vec<(NodeRef, NodeRef)>,
    /// Each citing node and its citation.
    citations: Vec<(NodeRef, Citation)>,
    /// Source key → its text's length in Unicode scalar values.
    source_lengths: HashMap<String, u32>,
}

impl SledStore {
    /// Checks the whole store (a blocking read of every tree: run it with the server stopped,
    /// or accept that writes landing meanwhile may show as findings).
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        self.write_held_edits()?;
        let mut report = CheckReport::default();
        let mut expected = Expected::default();
        crate::for_every_kind!(E => {
            self.derive::<E>(&mut expected, &mut report)?;
        });
        self.compare_references(&expected, &mut report)?;
        self.compare_keys(NAMES, &expected.names, &mut report)?;
        self.compare_valued(&expected, &mut report)?;
        for (from, to) in &expected.links {
            report.links += 1;
            if !crate::store::node_exists(self, to)? {
                report.damage(format!("{from} refers to {to}, which does not exist"));
            }
        }
        for (from, citation) in &expected.citations {
            report.links += 1;
            match expected.source_lengths.get(&citation.source) {
                None => report.damage(format!(
                    "{from} cites source '{}', which does not exist",
                    citation.source
                )),
                Some(&length) if citation.start >= citation.end || citation.end > length => report
                    .damage(format!(
                        "{from} cites characters {}..{} of source '{}', which has {length}",
                        citation.start, citation.end, citation.source
                    )),
                Some(_) => {}
            }
        }
        Ok(report)
    }

    /// Reads every `E`: each must decode and sit under its own key; what it implies for the
    /// indexes goes into `expected`, and the kind's count must match.
    fn derive<E: Entity>(
        &self,
        expected: &mut Expected,
        report: &mut CheckReport,
    ) -> Result<(), StoreError> {
        let mut read = 0u64;
        for entry in self.tree(tree_name(E::KIND))?.iter() {
            let (key, value) = entry?;
            let shown = String::from_utf8_lossy(&key).into_owned();
            let entity: E = match codec::decode(&value) {
                Ok(entity) => entity,
                Err(e) => {
                    report.damage(format!("{}:{shown} cannot be read: {e}", E::KIND));
                    continue;
                }
            };
            read += 1;
            if entity.key().as_bytes() != key.as_ref() {
                report.damage(format!(
                    "{}:{shown} is stored under that key but names itself '{}'",
                    E::KIND,
                    entity.key()
                ));
            }
            let me = NodeRef::new(E::KIND, entity.key());
            for (tree, key) in index_entries(&entity) {
                match tree {
                    NAMES => expected.names.insert(key),
                    _ => expected.references.insert(key),
                };
            }
            for (_, target) in all_references(&entity) {
                expected.links.push((me.clone(), target));
            }
            for citation in entity.cited() {
                expected.citations.push((me.clone(), citation.clone()));
            }
            let any: &dyn Any = &entity;
            if let Some(country) = any.downcast_ref::<Country>() {
                for (tree, k, v) in valued_entries(&Fact::Country(country.clone())) {
                    expected.valued.insert((tree, k), v);
                }
            }
            if let Some(source) = any.downcast_ref::<Source>() {
                for (tree, k, v) in valued_entries(&Fact::Source(source.clone())) {
                    expected.valued.insert((tree, k), v);
                }
                expected
                    .source_lengths
                    .insert(source.key.clone(), source.text.chars().count() as u32);
            }
        }
        report.entities += read;
        let counted = self.count_of(E::KIND)? as u64;
        if counted != read {
            report.damage(format!(
                "the {} count says {counted}, but {read} are stored",
                tree_name(E::KIND)
            ));
        }
        Ok(())
    }

    /// The reference index and its counts against the references of the entities.
    fn compare_references(
        &self,
        expected: &Expected,
        report: &mut CheckReport,
    ) -> Result<(), StoreError> {
        let mut stored = BTreeSet::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        referrers::for_each(self.tree(REFERRERS)?, b"", |prefix, referrer| {
            let mut key = prefix.to_vec();
            key.extend_from_slice(referrer.as_bytes());
            stored.insert(key);
            Ok(())
        })?;
        for key in &expected.references {
            if let Some(prefix) = refs_key_prefix(key) {
                *counts.entry(prefix.to_vec()).or_default() += 1;
            }
        }
        report.index_entries += stored.len() as u64;
        for key in expected.references.difference(&stored) {
            report.damage(format!(
                "the reference index lacks {}",
                describe_reference(key)
            ));
        }
        for key in stored.difference(&expected.references) {
            report.damage(format!(
                "the reference index holds {}, which no entity makes",
                describe_reference(key)
            ));
        }
        let mut stored_counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for entry in self.tree(REFCOUNTS)?.iter() {
            let (key, value) = entry?;
            let n = <[u8; 8]>::try_from(value.as_ref())
                .map(u64::from_be_bytes)
                .unwrap_or(u64::MAX);
            stored_counts.insert(key.to_vec(), n);
        }
        report.index_entries += stored_counts.len() as u64;
        for (prefix, n) in &counts {
            let found = stored_counts.get(prefix).copied().unwrap_or(0);
            if found != *n {
                report.damage(format!(
                    "the referrer count of {} says {found}, but there are {n}",
                    describe_reference(prefix)
                ));
            }
        }
        for (prefix, found) in &stored_counts {
            if !counts.contains_key(prefix) && *found != 0 {
                report.damage(format!(
                    "the referrer count of {} says {found}, but there are none",
                    describe_reference(prefix)
                ));
            }
        }
        Ok(())
    }

    /// A tree of keys without values (the name index) against the keys it must hold.
    fn compare_keys(
        &self,
        tree: &'static str,
        expected: &BTreeSet<Vec<u8>>,
        report: &mut CheckReport,
    ) -> Result<(), StoreError> {
        let mut stored = BTreeSet::new();
        for entry in self.tree(tree)?.iter() {
            stored.insert(entry?.0.to_vec());
        }
        report.index_entries += stored.len() as u64;
        for key in expected.difference(&stored) {
            report.damage(format!("the {tree} index lacks {}", printable(key)));
        }
        for key in stored.difference(expected) {
            report.damage(format!(
                "the {tree} index holds {}, which no entity makes",
                printable(key)
            ));
        }
        Ok(())
    }

    /// Country codes and source URLs against the countries and sources.
    fn compare_valued(
        &self,
        expected: &Expected,
        report: &mut CheckReport,
    ) -> Result<(), StoreError> {
        let mut stored = BTreeMap::new();
        for tree in [CODES, URLS] {
            for entry in self.tree(tree)?.iter() {
                let (key, value) = entry?;
                stored.insert((tree, key.to_vec()), value.to_vec());
            }
        }
        report.index_entries += stored.len() as u64;
        for ((tree, key), value) in &expected.valued {
            match stored.get(&(*tree, key.clone())) {
                Some(found) if found == value => {}
                Some(found) => report.damage(format!(
                    "the {tree} index maps {} to {}, not {}",
                    printable(key),
                    printable(found),
                    printable(value)
                )),
                None => report.damage(format!("the {tree} index lacks {}", printable(key))),
            }
        }
        for (tree, key) in stored.keys() {
            if !expected.valued.contains_key(&(*tree, key.clone())) {
                report.damage(format!(
                    "the {tree} index holds {}, which no entity makes",
                    printable(key)
                ));
            }
        }
        Ok(())
    }
}

/// A key with its NUL separators shown.
fn printable(key: &[u8]) -> String {
    String::from_utf8_lossy(key).replace('\0', " / ")
}

/// A `refs` key (target \0 role \0 referrer) in words.
fn describe_reference(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    let mut parts = text.splitn(3, '\0');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(target), Some(role), Some(referrer)) if !referrer.is_empty() => {
            format!("{referrer} → {target} ({role})")
        }
        (Some(target), Some(role), _) => format!("{target} ({role})"),
        _ => printable(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Person, Statement};
    use crate::ingest::dataset::{load, DatasetFiles};
    use crate::store::tests::seeded;
    use crate::store::{Store, Write};

    #[test]
    fn a_seeded_store_is_clean() {
        let (_dir, store) = seeded();
        let report = store.check().unwrap();
        assert!(report.is_clean(), "{:#?}", report.damage);
        assert!(
            report.entities > 200 && report.index_entries > 500 && report.links > 200,
            "{report:?}"
        );
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let (_dir, store) = seeded();
        // A name token lost, a stray one, a count off, a code pointing elsewhere.
        let names = store.sled().tree(NAMES).unwrap();
        let lost = names.iter().next().unwrap().unwrap().0;
        names.remove(&lost).unwrap();
        names
            .insert(b"Person\0zzz\0nobody", b"".as_slice())
            .unwrap();
        store
            .sled()
            .tree(META)
            .unwrap()
            .insert(count_key(NodeKind::Mission), 1u64.to_be_bytes().to_vec())
            .unwrap();
        store
            .sled()
            .tree(CODES)
            .unwrap()
            .insert(b"XKX", b"RS".as_slice())
            .unwrap();
        // An entity that cannot be read, and a statement citing past its source's end.
        store
            .sled()
            .tree("events")
            .unwrap()
            .insert(b"garbage", vec![codec_version(), 0xff, 0xff])
            .unwrap();
        let statements = store.sled().tree("statements").unwrap();
        let (key, value) = statements.iter().next().unwrap().unwrap();
        let mut statement: Statement = codec::decode(&value).unwrap();
        statement.source.end = 10_000_000;
        statements
            .insert(key, codec::encode(&statement).unwrap())
            .unwrap();
        // A person removed under the index's feet: its references dangle in the index, and
        // what referred to it refers to nothing.
        let people = store.sled().tree("people").unwrap();
        let (key, _) = people.iter().next().unwrap().unwrap();
        people.remove(&key).unwrap();

        let report = store.check().unwrap();
        let all = report.damage.join("\n");
        for expected in [
            "the names index lacks",
            "Person / zzz / nobody, which no entity makes",
            "the missions count says 1",
            "the codes index maps XKX to RS, not XK",
            "Event:garbage cannot be read",
            "cites characters",
            "which does not exist",
            "the people count says",
        ] {
            assert!(all.contains(expected), "missing '{expected}' in:\n{all}");
        }
        assert_eq!(report.damage_count as usize, report.damage.len());
    }

    /// The property: whatever sequence of writes lands, the index trees agree with the primary
    /// trees. Each seed imports a small generated data set (the bulk path, with its held-back
    /// reference index), then makes random updates that move references, plain and cascading
    /// deletes, and re-creations, checking after every round.
    #[test]
    fn any_sequence_of_writes_leaves_the_indexes_agreeing_with_the_entities() {
        use crate::ingest::write::{Author, Mode, Writer};
        let graph = load(&DatasetFiles::builtin()).unwrap();
        let codes: Vec<String> = graph.countries.iter().map(|c| c.code.clone()).collect();
        for seed in 1..=3u64 {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(Store::open(dir.path()).unwrap());
            store.seed(&graph).unwrap();
            let mut lines = Vec::new();
            crate::ingest::generate::generate(0.02, seed, codes.clone(), &mut lines).unwrap();
            let writer = Writer::new(store.clone(), None);
            crate::ingest::bulk::import(&writer, lines.as_slice(), true, |_| {}, |_| {}).unwrap();
            let report = store.check().unwrap();
            assert!(
                report.is_clean(),
                "seed {seed}, after import: {:#?}",
                report.damage
            );

            let mut rng = fastrand::Rng::with_seed(seed);
            let operator = Author::operator("property");
            for round in 0..6 {
                let statements = store.all::<Statement>().unwrap();
                let people = store.all::<Person>().unwrap();
                for _ in 0..15 {
                    // Move a statement's subjects to other countries.
                    let mut statement = statements[rng.usize(..statements.len())].clone();
                    statement.about = (0..rng.usize(0..4))
                        .map(|_| NodeRef::new(NodeKind::Country, &codes[rng.usize(..codes.len())]))
                        .collect();
                    statement.about.sort();
                    statement.about.dedup();
                    let guard = store.lock_writes();
                    guard
                        .commit(&[Write::Upsert(Fact::Statement(statement))], "t", None)
                        .unwrap();
                }
                for _ in 0..3 {
                    // Delete a person, plainly (refused if referred to) or with all that
                    // refers to it; then write it back.
                    let person = people[rng.usize(..people.len())].clone();
                    let node = NodeRef::new(NodeKind::Person, &person.key);
                    let cascade = rng.bool();
                    let _ = writer.delete(node, cascade, None, &operator);
                    let record = crate::facts::Record::of(&Fact::Person(person), &|key| {
                        store
                            .get::<Source>(key)
                            .ok()
                            .flatten()
                            .map(|s| Arc::from(s.text))
                    });
                    let _ = writer.write(vec![("again".into(), record)], Mode::Upsert, &operator);
                }
                let report = store.check().unwrap();
                assert!(
                    report.is_clean(),
                    "seed {seed}, round {round}: {:#?}",
                    report.damage
                );
            }
        }
    }

    fn codec_version() -> u8 {
        codec::encode(&0u8).unwrap()[0]
    }
}
