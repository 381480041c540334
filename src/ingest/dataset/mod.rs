//! The built-in dataset: the seed articles and the facts they state, kept as readable JSON in
//! `data/` (one file per kind, in the record format of `facts`) and compiled into the binary.
//! Loading checks every reference and every citation: each excerpt must occur in its source
//! text (the loader computes the offsets), each direct quote must be verbatim, and a dataset
//! that fails is refused with the file and fact named.

mod gazetteer;

use crate::domain::*;
use crate::facts::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{file}: not valid JSON for this file: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {fact}: {message}")]
    Fact {
        file: String,
        fact: String,
        message: String,
    },
}

impl DatasetError {
    fn parse(file: &str, e: serde_json::Error) -> Self {
        DatasetError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        }
    }

    fn fact(file: &str, fact: &str, message: impl Into<String>) -> Self {
        DatasetError::Fact {
            file: file.to_string(),
            fact: fact.to_string(),
            message: message.into(),
        }
    }
}

/// The files of a dataset, by name. The built-in one is compiled in; tests build variants.
#[derive(Clone)]
pub struct DatasetFiles {
    pub files: HashMap<&'static str, String>,
    pub articles: HashMap<String, String>,
}

macro_rules! embed {
    ($($name:literal),+ $(,)?) => {
        HashMap::from([$(($name, include_str!(concat!("../../../data/", $name)).to_string())),+])
    };
}

impl DatasetFiles {
    pub fn builtin() -> Self {
        let mut files = embed!("gazetteer/countries.json", "gazetteer/overlay.json");
        // One file of facts per kind of the registry, `seed/<plural>.json`.
        macro_rules! embed_every_kind {
            (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
                $(files.insert(
                    concat!("seed/", stringify!($plural), ".json"),
                    include_str!(concat!("../../../data/seed/", stringify!($plural), ".json")).to_string(),
                );)*
            };
        }
        crate::with_kinds!(embed_every_kind);
        let articles = HashMap::from([
            (
                "000_1e9b93c12349144a.txt",
                include_str!("../../../data/seed/articles/000_1e9b93c12349144a.txt"),
            ),
            (
                "001_d4d1b8372fa2d0d2.txt",
                include_str!("../../../data/seed/articles/001_d4d1b8372fa2d0d2.txt"),
            ),
            (
                "002_d9d71f1519c112bb.txt",
                include_str!("../../../data/seed/articles/002_d9d71f1519c112bb.txt"),
            ),
            (
                "003_656634e99e592b8b.txt",
                include_str!("../../../data/seed/articles/003_656634e99e592b8b.txt"),
            ),
        ])
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        DatasetFiles { files, articles }
    }

    fn file(&self, name: &str) -> Result<&str, DatasetError> {
        self.files
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| DatasetError::fact(name, "-", "file missing from the dataset"))
    }
}

/// The dataset as a lookup: what its own files define.
struct MemoryLookup {
    codes: HashMap<String, String>,
    keys: HashMap<NodeKind, HashSet<String>>,
    texts: HashMap<String, Arc<str>>,
}

impl Lookup for MemoryLookup {
    fn country(&self, code: &str) -> Option<String> {
        self.codes.get(&code.trim().to_ascii_uppercase()).cloned()
    }

    fn exists(&self, kind: NodeKind, key: &str) -> bool {
        self.keys.get(&kind).is_some_and(|k| k.contains(key))
    }

    fn source_text(&self, key: &str) -> Option<Arc<str>> {
        self.texts.get(key).cloned()
    }
}

fn read<T: serde::de::DeserializeOwned>(
    files: &DatasetFiles,
    name: &str,
) -> Result<Vec<T>, DatasetError> {
    serde_json::from_str(files.file(name)?).map_err(|e| DatasetError::parse(name, e))
}

/// Parses and checks a dataset into a graph ready to store.
pub fn load(files: &DatasetFiles) -> Result<Graph, DatasetError> {
    let countries = gazetteer::parse(
        files.file("gazetteer/countries.json")?,
        files.file("gazetteer/overlay.json")?,
    )?;
    // One file per kind, `seed/<plural>.json`; most countries come from the gazetteer, and
    // `seed/countries.json` holds any it lacks.
    let mut records: Vec<(&str, Record)> = Vec::new();
    macro_rules! read_every_kind {
        (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
            $({
                let file = concat!("seed/", stringify!($plural), ".json");
                let list: Vec<$record> = read(files, file)?;
                records.extend(list.into_iter().map(|r| (file, Record::$kind(r))));
            })*
        };
    }
    crate::with_kinds!(read_every_kind);
    for (_, record) in &mut records {
        if let Record::Source(s) = record {
            let file = s.file.clone().unwrap_or_default();
            let text = files.articles.get(&file).ok_or_else(|| {
                DatasetError::fact(
                    "seed/sources.json",
                    &s.key,
                    format!("article file '{file}' missing"),
                )
            })?;
            s.text = Some(text.clone());
        }
    }

    let mut lookup = MemoryLookup {
        codes: HashMap::new(),
        keys: HashMap::new(),
        texts: HashMap::new(),
    };
    for c in &countries {
        lookup.codes.insert(c.code.clone(), c.code.clone());
        lookup.codes.insert(c.alpha3.clone(), c.code.clone());
        lookup
            .keys
            .entry(NodeKind::Country)
            .or_default()
            .insert(c.code.clone());
    }
    for (file, record) in &records {
        let (kind, key) = (record.kind(), record.key());
        if let Record::Country(c) = record {
            for code in [&c.code, &c.alpha3] {
                let code = code.trim().to_ascii_uppercase();
                lookup
                    .codes
                    .insert(code, c.code.trim().to_ascii_uppercase());
            }
        }
        if !lookup.keys.entry(kind).or_default().insert(key.to_string()) {
            return Err(DatasetError::fact(file, key, "duplicate key"));
        }
        if let Record::Source(s) = record {
            lookup
                .texts
                .insert(s.key.clone(), Arc::from(s.text.clone().unwrap_or_default()));
        }
    }

    let resolver = Resolver::new(&lookup);
    let mut graph = Graph {
        countries,
        ..Graph::default()
    };
    for (file, record) in &records {
        let key = record.key();
        let fact = resolver
            .resolve(record, key)
            .map_err(|e| DatasetError::Fact {
                file: file.to_string(),
                fact: key.to_string(),
                message: e.to_string(),
            })?;
        graph.push(fact);
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_dataset_loads_with_exact_citations() {
        let files = DatasetFiles::builtin();
        let graph = load(&files).expect("the built-in dataset is valid");
        assert_eq!(graph.sources.len(), 4);
        assert_eq!(graph.countries.iter().filter(|c| c.un_member).count(), 193);
        for code in ["XK", "PS", "VA", "TW"] {
            assert!(
                graph.countries.iter().any(|c| c.code == code),
                "{code} missing"
            );
        }
        let kosovo = graph.countries.iter().find(|c| c.code == "XK").unwrap();
        assert_eq!(kosovo.alpha3, "XKX");
        assert!(kosovo.demonyms.contains(&"Kosovan".to_string()));
        let text: HashMap<_, _> = graph
            .sources
            .iter()
            .map(|s| (s.key.as_str(), s.text.as_str()))
            .collect();
        for s in &graph.statements {
            let excerpt: String = text[s.source.source.as_str()]
                .chars()
                .skip(s.source.start as usize)
                .take((s.source.end - s.source.start) as usize)
                .collect();
            assert!(!excerpt.is_empty());
        }
    }

    #[test]
    fn refuses_a_citation_that_is_not_in_its_source() {
        let mut files = DatasetFiles::builtin();
        let statements = files.files["seed/statements.json"].replace(
            "Deeper international ties further contribute",
            "Deeper international ties greatly contribute",
        );
        files.files.insert("seed/statements.json", statements);
        let err = load(&files).unwrap_err().to_string();
        assert!(err.contains("seed/statements.json"), "{err}");
        assert!(err.contains("price-deeper-ties-tweet"), "{err}");
        assert!(err.contains("excerpt not found"), "{err}");
    }

    #[test]
    fn refuses_unknown_references() {
        let mut files = DatasetFiles::builtin();
        let missions = files.files["seed/missions.json"]
            .replace("\"sendingCountry\": \"GT\"", "\"sendingCountry\": \"ZZ\"");
        files.files.insert("seed/missions.json", missions);
        let err = load(&files).unwrap_err().to_string();
        assert!(
            err.contains("guatemala-embassy-jerusalem") && err.contains("ZZ"),
            "{err}"
        );
    }

    #[test]
    fn seed_countries_add_to_the_gazetteer_and_may_not_repeat_it() {
        let mut files = DatasetFiles::builtin();
        files.files.insert(
            "seed/countries.json",
            r#"[{"code": "qq", "alpha3": "QQQ", "name": "Quxland"}]"#.to_string(),
        );
        let memberships = files.files["seed/memberships.json"]
            .replace("\"country\": \"RS\"", "\"country\": \"QQQ\"");
        files.files.insert("seed/memberships.json", memberships);
        let graph = load(&files).expect("a country the gazetteer lacks");
        assert!(graph.countries.iter().any(|c| c.code == "QQ"));
        assert!(graph.memberships.iter().any(|m| m.country == "QQ"));

        files.files.insert(
            "seed/countries.json",
            r#"[{"code": "XK", "alpha3": "XKX", "name": "Kosovo again"}]"#.to_string(),
        );
        let err = load(&files).unwrap_err().to_string();
        assert!(
            err.contains("seed/countries.json") && err.contains("duplicate"),
            "{err}"
        );
    }
}
