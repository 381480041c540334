//! The built-in dataset: the seed articles and the facts they state, kept as readable JSON in
//! `data/` and compiled into the binary. Loading checks every reference and every citation:
//! each excerpt must occur in its source text (the loader computes the offsets), each direct
//! quote must be verbatim, and a dataset that fails is refused with the file and fact named.

mod gazetteer;

use crate::domain::*;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

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
        HashMap::from([$(($name, include_str!(concat!("../../data/", $name)).to_string())),+])
    };
}

impl DatasetFiles {
    pub fn builtin() -> Self {
        let files = embed!(
            "gazetteer/countries.json",
            "gazetteer/overlay.json",
            "seed/sources.json",
            "seed/people.json",
            "seed/organizations.json",
            "seed/agreements.json",
            "seed/relations.json",
            "seed/missions.json",
            "seed/events.json",
            "seed/statements.json",
        );
        let articles = HashMap::from([
            (
                "000_1e9b93c12349144a.txt",
                include_str!("../../data/seed/articles/000_1e9b93c12349144a.txt"),
            ),
            (
                "001_d4d1b8372fa2d0d2.txt",
                include_str!("../../data/seed/articles/001_d4d1b8372fa2d0d2.txt"),
            ),
            (
                "002_d9d71f1519c112bb.txt",
                include_str!("../../data/seed/articles/002_d9d71f1519c112bb.txt"),
            ),
            (
                "003_656634e99e592b8b.txt",
                include_str!("../../data/seed/articles/003_656634e99e592b8b.txt"),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCitation {
    source: String,
    excerpt: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSource {
    key: String,
    file: String,
    title: String,
    #[allow(dead_code)]
    title_note: Option<String>,
    publisher: Option<String>,
    author: Option<String>,
    url: Option<String>,
    published: Option<String>,
    #[allow(dead_code)]
    published_note: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPerson {
    key: String,
    name: String,
    aliases: Vec<String>,
    posts: Vec<RawPost>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPost {
    title: String,
    country: Option<String>,
    organization: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOrganization {
    key: String,
    name: String,
    aliases: Vec<String>,
    kind: String,
    country: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawAgreement {
    key: String,
    title: String,
    aliases: Vec<String>,
    signed_on: Option<String>,
    place: Option<String>,
    parties: Vec<String>,
    signatories: Vec<RawSignatory>,
    #[allow(dead_code)]
    signatories_note: Option<String>,
    brokers: Vec<String>,
    sources: Vec<RawCitation>,
    provisions: Vec<RawProvision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignatory {
    person: String,
    country: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvision {
    text: String,
    actor: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRelation {
    key: String,
    kind: String,
    subject: String,
    object: String,
    agreement: Option<String>,
    event: Option<String>,
    history: Vec<RawStatusChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatusChange {
    status: String,
    date: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMission {
    key: String,
    kind: String,
    sending_country: String,
    host_country: String,
    city: Option<String>,
    #[allow(dead_code)]
    city_note: Option<String>,
    status: String,
    opened: Option<String>,
    expected_opening: Option<String>,
    closed: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawEvent {
    key: String,
    kind: String,
    title: String,
    date: Option<String>,
    place: Option<String>,
    participants: Vec<String>,
    countries: Vec<String>,
    agreement: Option<String>,
    sources: Vec<RawCitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawStatement {
    key: String,
    text: String,
    direct: bool,
    speaker: Option<RawSpeaker>,
    date: Option<String>,
    medium: String,
    event: Option<String>,
    about: Vec<String>,
    source: RawCitation,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpeaker {
    person: Option<String>,
    organization: Option<String>,
}

/// Finds `excerpt` in `text`, any run of white space in the excerpt matching any run in the
/// text (articles wrap lines and use non-breaking spaces). Returns char offsets, end exclusive.
pub fn locate(text: &str, excerpt: &str) -> Option<(usize, usize)> {
    let words: Vec<&str> = excerpt.split_whitespace().collect();
    let first = *words.first()?;
    for (start, _) in text.match_indices(first) {
        let mut pos = start + first.len();
        let mut matched = true;
        for word in &words[1..] {
            let rest = &text[pos..];
            let gap = rest.len() - rest.trim_start().len();
            if gap == 0 || !rest[gap..].starts_with(word) {
                matched = false;
                break;
            }
            pos += gap + word.len();
        }
        if matched {
            let char_start = text[..start].chars().count();
            let char_end = char_start + text[start..pos].chars().count();
            return Some((char_start, char_end));
        }
    }
    None
}

struct Resolver<'a> {
    texts: HashMap<String, &'a str>,
    countries: HashSet<String>,
    keys: HashMap<NodeKind, HashSet<String>>,
}

impl<'a> Resolver<'a> {
    fn cite(&self, file: &str, fact: &str, raw: &RawCitation) -> Result<Citation, DatasetError> {
        let text = self.texts.get(&raw.source).ok_or_else(|| {
            DatasetError::fact(file, fact, format!("cites unknown source '{}'", raw.source))
        })?;
        let (start, end) = locate(text, &raw.excerpt).ok_or_else(|| {
            DatasetError::fact(
                file,
                fact,
                format!(
                    "excerpt not found in source '{}': \"{}\"",
                    raw.source, raw.excerpt
                ),
            )
        })?;
        Ok(Citation {
            source: raw.source.clone(),
            start: start as u32,
            end: end as u32,
        })
    }

    fn cite_all(
        &self,
        file: &str,
        fact: &str,
        raw: &[RawCitation],
    ) -> Result<Vec<Citation>, DatasetError> {
        if raw.is_empty() {
            return Err(DatasetError::fact(
                file,
                fact,
                "a fact needs at least one citation",
            ));
        }
        raw.iter().map(|c| self.cite(file, fact, c)).collect()
    }

    fn country(&self, file: &str, fact: &str, code: &str) -> Result<String, DatasetError> {
        if self.countries.contains(code) {
            Ok(code.to_string())
        } else {
            Err(DatasetError::fact(
                file,
                fact,
                format!("unknown country code '{code}'"),
            ))
        }
    }

    fn countries(
        &self,
        file: &str,
        fact: &str,
        codes: &[String],
    ) -> Result<Vec<String>, DatasetError> {
        codes.iter().map(|c| self.country(file, fact, c)).collect()
    }

    fn key(
        &self,
        file: &str,
        fact: &str,
        kind: NodeKind,
        key: &str,
    ) -> Result<String, DatasetError> {
        if self.keys.get(&kind).is_some_and(|k| k.contains(key)) {
            Ok(key.to_string())
        } else {
            Err(DatasetError::fact(
                file,
                fact,
                format!("unknown {kind} '{key}'"),
            ))
        }
    }

    fn node(&self, file: &str, fact: &str, reference: &str) -> Result<NodeRef, DatasetError> {
        let (kind, key) = reference.split_once(':').ok_or_else(|| {
            DatasetError::fact(
                file,
                fact,
                format!("'{reference}' is not of the form kind:key"),
            )
        })?;
        let kind = match kind {
            "country" => {
                return Ok(NodeRef::new(
                    NodeKind::Country,
                    self.country(file, fact, key)?,
                ))
            }
            "person" => NodeKind::Person,
            "organization" => NodeKind::Organization,
            "agreement" => NodeKind::Agreement,
            "relation" => NodeKind::Relation,
            "mission" => NodeKind::Mission,
            "event" => NodeKind::Event,
            "statement" => NodeKind::Statement,
            "source" => NodeKind::Source,
            other => {
                return Err(DatasetError::fact(
                    file,
                    fact,
                    format!("unknown node kind '{other}'"),
                ))
            }
        };
        Ok(NodeRef::new(kind, self.key(file, fact, kind, key)?))
    }
}

fn date(file: &str, fact: &str, raw: &Option<String>) -> Result<Option<PartialDate>, DatasetError> {
    raw.as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e: DateError| DatasetError::fact(file, fact, e.to_string()))
        })
        .transpose()
}

fn named<T: std::str::FromStr<Err = UnknownName>>(
    file: &str,
    fact: &str,
    raw: &str,
) -> Result<T, DatasetError> {
    raw.parse()
        .map_err(|e: UnknownName| DatasetError::fact(file, fact, e.to_string()))
}

fn read<T: serde::de::DeserializeOwned>(
    files: &DatasetFiles,
    name: &str,
) -> Result<T, DatasetError> {
    serde_json::from_str(files.file(name)?).map_err(|e| DatasetError::parse(name, e))
}

fn unique_keys<'k>(
    file: &str,
    keys: impl Iterator<Item = &'k String>,
) -> Result<HashSet<String>, DatasetError> {
    let mut seen = HashSet::new();
    for key in keys {
        if key.is_empty() || key.contains(['/', ':', '\0']) {
            return Err(DatasetError::fact(
                file,
                key,
                "keys must be non-empty, without '/', ':' or NUL",
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(DatasetError::fact(file, key, "duplicate key"));
        }
    }
    Ok(seen)
}

/// Parses and checks a dataset into a graph ready to store.
pub fn load(files: &DatasetFiles) -> Result<Graph, DatasetError> {
    let countries = gazetteer::parse(
        files.file("gazetteer/countries.json")?,
        files.file("gazetteer/overlay.json")?,
    )?;
    let raw_sources: Vec<RawSource> = read(files, "seed/sources.json")?;
    let raw_people: Vec<RawPerson> = read(files, "seed/people.json")?;
    let raw_orgs: Vec<RawOrganization> = read(files, "seed/organizations.json")?;
    let raw_agreements: Vec<RawAgreement> = read(files, "seed/agreements.json")?;
    let raw_relations: Vec<RawRelation> = read(files, "seed/relations.json")?;
    let raw_missions: Vec<RawMission> = read(files, "seed/missions.json")?;
    let raw_events: Vec<RawEvent> = read(files, "seed/events.json")?;
    let raw_statements: Vec<RawStatement> = read(files, "seed/statements.json")?;

    let mut keys = HashMap::new();
    keys.insert(
        NodeKind::Source,
        unique_keys("seed/sources.json", raw_sources.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Person,
        unique_keys("seed/people.json", raw_people.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Organization,
        unique_keys("seed/organizations.json", raw_orgs.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Agreement,
        unique_keys(
            "seed/agreements.json",
            raw_agreements.iter().map(|r| &r.key),
        )?,
    );
    keys.insert(
        NodeKind::Relation,
        unique_keys("seed/relations.json", raw_relations.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Mission,
        unique_keys("seed/missions.json", raw_missions.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Event,
        unique_keys("seed/events.json", raw_events.iter().map(|r| &r.key))?,
    );
    keys.insert(
        NodeKind::Statement,
        unique_keys(
            "seed/statements.json",
            raw_statements.iter().map(|r| &r.key),
        )?,
    );

    let mut sources = Vec::new();
    for r in &raw_sources {
        let f = "seed/sources.json";
        let text = files.articles.get(&r.file).ok_or_else(|| {
            DatasetError::fact(f, &r.key, format!("article file '{}' missing", r.file))
        })?;
        sources.push(Source {
            key: r.key.clone(),
            title: r.title.clone(),
            publisher: r.publisher.clone(),
            author: r.author.clone(),
            url: r.url.clone(),
            published: date(f, &r.key, &r.published)?,
            text: text.clone(),
        });
    }
    let resolver = Resolver {
        texts: sources
            .iter()
            .map(|s| (s.key.clone(), s.text.as_str()))
            .collect(),
        countries: countries.iter().map(|c| c.code.clone()).collect(),
        keys,
    };
    let r = &resolver;

    let mut people = Vec::new();
    for p in &raw_people {
        let f = "seed/people.json";
        let mut posts = Vec::new();
        for post in &p.posts {
            let start = date(f, &p.key, &post.start)?;
            let end = date(f, &p.key, &post.end)?;
            if let (Some(s), Some(e)) = (start, end) {
                if e.latest() < s.earliest() {
                    return Err(DatasetError::fact(
                        f,
                        &p.key,
                        "a post ends before it starts",
                    ));
                }
            }
            posts.push(Post {
                title: post.title.clone(),
                country: post
                    .country
                    .as_deref()
                    .map(|c| r.country(f, &p.key, c))
                    .transpose()?,
                organization: post
                    .organization
                    .as_deref()
                    .map(|o| r.key(f, &p.key, NodeKind::Organization, o))
                    .transpose()?,
                start,
                end,
                sources: r.cite_all(f, &p.key, &post.sources)?,
            });
        }
        people.push(Person {
            key: p.key.clone(),
            name: p.name.clone(),
            aliases: p.aliases.clone(),
            posts,
        });
    }

    let mut organizations = Vec::new();
    for o in &raw_orgs {
        let f = "seed/organizations.json";
        organizations.push(Organization {
            key: o.key.clone(),
            name: o.name.clone(),
            aliases: o.aliases.clone(),
            kind: named(f, &o.key, &o.kind)?,
            country: o
                .country
                .as_deref()
                .map(|c| r.country(f, &o.key, c))
                .transpose()?,
            sources: r.cite_all(f, &o.key, &o.sources)?,
        });
    }

    let mut agreements = Vec::new();
    for a in &raw_agreements {
        let f = "seed/agreements.json";
        let mut provisions = Vec::new();
        for (i, p) in a.provisions.iter().enumerate() {
            let fact = Provision::key(&a.key, i as u32 + 1);
            provisions.push(Provision {
                number: i as u32 + 1,
                text: p.text.clone(),
                actor: p
                    .actor
                    .as_deref()
                    .map(|c| r.country(f, &fact, c))
                    .transpose()?,
                sources: r.cite_all(f, &fact, &p.sources)?,
            });
        }
        let mut signatories = Vec::new();
        for s in &a.signatories {
            signatories.push(Signatory {
                person: r.key(f, &a.key, NodeKind::Person, &s.person)?,
                country: s
                    .country
                    .as_deref()
                    .map(|c| r.country(f, &a.key, c))
                    .transpose()?,
            });
        }
        agreements.push(Agreement {
            key: a.key.clone(),
            title: a.title.clone(),
            aliases: a.aliases.clone(),
            signed_on: date(f, &a.key, &a.signed_on)?,
            place: a.place.clone(),
            parties: r.countries(f, &a.key, &a.parties)?,
            signatories,
            brokers: r.countries(f, &a.key, &a.brokers)?,
            provisions,
            sources: r.cite_all(f, &a.key, &a.sources)?,
        });
    }

    let mut relations = Vec::new();
    for rel in &raw_relations {
        let f = "seed/relations.json";
        if rel.history.is_empty() {
            return Err(DatasetError::fact(
                f,
                &rel.key,
                "a relation needs at least one status",
            ));
        }
        let mut history = Vec::new();
        for h in &rel.history {
            history.push(StatusChange {
                status: named(f, &rel.key, &h.status)?,
                date: date(f, &rel.key, &h.date)?,
                sources: r.cite_all(f, &rel.key, &h.sources)?,
            });
        }
        let subject = r.country(f, &rel.key, &rel.subject)?;
        let object = r.country(f, &rel.key, &rel.object)?;
        if subject == object {
            return Err(DatasetError::fact(
                f,
                &rel.key,
                "a relation needs two different countries",
            ));
        }
        relations.push(Relation {
            key: rel.key.clone(),
            kind: named(f, &rel.key, &rel.kind)?,
            subject,
            object,
            agreement: rel
                .agreement
                .as_deref()
                .map(|a| r.key(f, &rel.key, NodeKind::Agreement, a))
                .transpose()?,
            event: rel
                .event
                .as_deref()
                .map(|e| r.key(f, &rel.key, NodeKind::Event, e))
                .transpose()?,
            history,
        });
    }

    let mut missions = Vec::new();
    for m in &raw_missions {
        let f = "seed/missions.json";
        missions.push(Mission {
            key: m.key.clone(),
            kind: named(f, &m.key, &m.kind)?,
            sending_country: r.country(f, &m.key, &m.sending_country)?,
            host_country: r.country(f, &m.key, &m.host_country)?,
            city: m.city.clone(),
            status: named(f, &m.key, &m.status)?,
            opened: date(f, &m.key, &m.opened)?,
            expected_opening: date(f, &m.key, &m.expected_opening)?,
            closed: date(f, &m.key, &m.closed)?,
            sources: r.cite_all(f, &m.key, &m.sources)?,
        });
    }

    let mut events = Vec::new();
    for e in &raw_events {
        let f = "seed/events.json";
        events.push(Event {
            key: e.key.clone(),
            kind: named(f, &e.key, &e.kind)?,
            title: e.title.clone(),
            date: date(f, &e.key, &e.date)?,
            place: e.place.clone(),
            participants: e
                .participants
                .iter()
                .map(|p| r.key(f, &e.key, NodeKind::Person, p))
                .collect::<Result<_, _>>()?,
            countries: r.countries(f, &e.key, &e.countries)?,
            agreement: e
                .agreement
                .as_deref()
                .map(|a| r.key(f, &e.key, NodeKind::Agreement, a))
                .transpose()?,
            sources: r.cite_all(f, &e.key, &e.sources)?,
        });
    }

    let mut statements = Vec::new();
    for s in &raw_statements {
        let f = "seed/statements.json";
        let source = r.cite(f, &s.key, &s.source)?;
        if s.direct {
            let excerpt: String = r.texts[&source.source]
                .chars()
                .skip(source.start as usize)
                .take((source.end - source.start) as usize)
                .collect();
            if locate(&excerpt, &s.text).is_none() {
                return Err(DatasetError::fact(
                    f,
                    &s.key,
                    "a direct quote's text must occur verbatim in its excerpt",
                ));
            }
        }
        let speaker = match &s.speaker {
            None => None,
            Some(RawSpeaker {
                person: Some(p),
                organization: None,
            }) => Some(NodeRef::new(
                NodeKind::Person,
                r.key(f, &s.key, NodeKind::Person, p)?,
            )),
            Some(RawSpeaker {
                person: None,
                organization: Some(o),
            }) => Some(NodeRef::new(
                NodeKind::Organization,
                r.key(f, &s.key, NodeKind::Organization, o)?,
            )),
            Some(_) => {
                return Err(DatasetError::fact(
                    f,
                    &s.key,
                    "a speaker is one person or one organization",
                ))
            }
        };
        statements.push(Statement {
            key: s.key.clone(),
            text: s.text.clone(),
            direct: s.direct,
            speaker,
            date: date(f, &s.key, &s.date)?,
            medium: named(f, &s.key, &s.medium)?,
            event: s
                .event
                .as_deref()
                .map(|e| r.key(f, &s.key, NodeKind::Event, e))
                .transpose()?,
            about: s
                .about
                .iter()
                .map(|a| r.node(f, &s.key, a))
                .collect::<Result<_, _>>()?,
            source,
        });
    }

    Ok(Graph {
        countries,
        sources,
        people,
        organizations,
        agreements,
        relations,
        missions,
        events,
        statements,
    })
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
    fn locate_spans_white_space_and_counts_chars() {
        let text = "Vučić and\u{a0}Hoti  signed\nit";
        assert_eq!(locate(text, "Vučić and Hoti signed"), Some((0, 22)));
        assert_eq!(locate(text, "Hoti signed it"), Some((10, 25)));
        assert_eq!(locate(text, "Hoti signs"), None);
        assert_eq!(locate(text, "   "), None);
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
}
