//! Turns records into domain entities, checking everything a write must not get wrong:
//! references resolve, dates parse, names are not empty, every excerpt occurs in its source
//! (its offsets computed here, never trusted) and direct quotes are verbatim. Errors name the
//! field path, so a client or a data file author can find the mistake.

use super::record::*;
use crate::domain::*;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactErrorKind {
    /// The value itself is wrong.
    Invalid,
    /// It names something that does not exist.
    NotFound,
    /// It clashes with something that exists.
    Conflict,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct FactError {
    pub path: String,
    pub message: String,
    pub kind: FactErrorKind,
}

impl FactError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::Invalid,
        }
    }

    pub fn not_found(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::NotFound,
        }
    }

    pub fn conflict(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::Conflict,
        }
    }
}

/// What the resolver may ask of the world the records join: the store, the rest of a batch,
/// or the built-in dataset.
pub trait Lookup {
    /// The country key for an alpha-2 or alpha-3 code, any letter case.
    fn country(&self, code: &str) -> Option<String>;
    fn exists(&self, kind: NodeKind, key: &str) -> bool;
    fn source_text(&self, key: &str) -> Option<Arc<str>>;
}

/// Finds `excerpt` in `text`, any run of white space in the excerpt matching any run in the
/// text (articles wrap lines and use non-breaking spaces). Returns char offsets, end exclusive;
/// with `at`, only an occurrence starting at that char counts.
pub fn locate(text: &str, excerpt: &str, at: Option<usize>) -> Option<(usize, usize)> {
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
            if at.is_some_and(|a| a != char_start) {
                continue;
            }
            let char_end = char_start + text[start..pos].chars().count();
            return Some((char_start, char_end));
        }
    }
    None
}

pub struct Resolver<'a> {
    lookup: &'a dyn Lookup,
}

fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn item(path: &str, name: &str, i: usize) -> String {
    format!("{}[{i}]", field(path, name))
}

/// The longest name, title, alias or city, in characters.
pub const MAX_LABEL_CHARS: usize = 1000;
/// The longest key, in bytes (keys are sorted and stored in every index entry).
pub const MAX_KEY_BYTES: usize = 200;

/// A name, title, alias or city: one line of printable text.
fn non_empty(path: &str, value: &str) -> Result<String, FactError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FactError::invalid(path, "must not be empty"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FactError::invalid(
            path,
            "must not contain control characters (line breaks, tabs, NUL...)",
        ));
    }
    if trimmed.chars().count() > MAX_LABEL_CHARS {
        return Err(FactError::invalid(
            path,
            format!("must be at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Running text (a statement, a provision, an article): line breaks and tabs are its own, other
/// control characters are not.
fn text(path: &str, value: &str) -> Result<String, FactError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FactError::invalid(path, "must not be empty"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FactError::invalid(
            path,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(trimmed.to_string())
}

fn key(path: &str, value: &str) -> Result<String, FactError> {
    let k = non_empty(path, value)?;
    if k.contains(['/', ':']) {
        return Err(FactError::invalid(
            path,
            "a key must not contain '/' or ':'",
        ));
    }
    if k.len() > MAX_KEY_BYTES {
        return Err(FactError::invalid(
            path,
            format!("a key must be at most {MAX_KEY_BYTES} bytes"),
        ));
    }
    Ok(k)
}

fn date(path: &str, raw: &Option<String>) -> Result<Option<PartialDate>, FactError> {
    raw.as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e: DateError| FactError::invalid(path, e.to_string()))
        })
        .transpose()
}

fn named<T: std::str::FromStr<Err = UnknownName>>(path: &str, raw: &str) -> Result<T, FactError> {
    raw.parse()
        .map_err(|e: UnknownName| FactError::invalid(path, e.to_string()))
}

fn names(path: &str, values: &[String]) -> Result<Vec<String>, FactError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| non_empty(&format!("{path}[{i}]"), v))
        .collect()
}

impl<'a> Resolver<'a> {
    pub fn new(lookup: &'a dyn Lookup) -> Self {
        Resolver { lookup }
    }

    fn cite(&self, path: &str, raw: &CitationRecord) -> Result<Citation, FactError> {
        let text = self.lookup.source_text(&raw.source).ok_or_else(|| {
            FactError::not_found(
                &field(path, "source"),
                format!("unknown source '{}'", raw.source),
            )
        })?;
        let (start, end) =
            locate(&text, &raw.excerpt, raw.start.map(|s| s as usize)).ok_or_else(|| {
                FactError::invalid(
                    &field(path, "excerpt"),
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

    fn cite_all(&self, path: &str, raw: &[CitationRecord]) -> Result<Vec<Citation>, FactError> {
        if raw.is_empty() {
            return Err(FactError::invalid(
                path,
                "a fact needs at least one citation",
            ));
        }
        raw.iter()
            .enumerate()
            .map(|(i, c)| self.cite(&format!("{path}[{i}]"), c))
            .collect()
    }

    fn country(&self, path: &str, code: &str) -> Result<String, FactError> {
        self.lookup
            .country(code)
            .ok_or_else(|| FactError::not_found(path, format!("unknown country code '{code}'")))
    }

    fn opt_country(&self, path: &str, code: &Option<String>) -> Result<Option<String>, FactError> {
        code.as_deref().map(|c| self.country(path, c)).transpose()
    }

    fn countries(&self, path: &str, codes: &[String]) -> Result<Vec<String>, FactError> {
        let mut out: Vec<String> = Vec::new();
        for (i, c) in codes.iter().enumerate() {
            let code = self.country(&format!("{path}[{i}]"), c)?;
            if out.contains(&code) {
                return Err(FactError::invalid(
                    &format!("{path}[{i}]"),
                    format!("'{code}' is listed twice"),
                ));
            }
            out.push(code);
        }
        Ok(out)
    }

    fn reference(&self, path: &str, kind: NodeKind, key: &str) -> Result<String, FactError> {
        if self.lookup.exists(kind, key) {
            Ok(key.to_string())
        } else {
            Err(FactError::not_found(
                path,
                format!("unknown {kind} '{key}'"),
            ))
        }
    }

    fn opt_reference(
        &self,
        path: &str,
        kind: NodeKind,
        key: &Option<String>,
    ) -> Result<Option<String>, FactError> {
        key.as_deref()
            .map(|k| self.reference(path, kind, k))
            .transpose()
    }

    fn node(&self, path: &str, reference: &str) -> Result<NodeRef, FactError> {
        let (kind, key) = reference.split_once(':').ok_or_else(|| {
            FactError::invalid(path, format!("'{reference}' is not of the form kind:key"))
        })?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "country" => return Ok(NodeRef::new(NodeKind::Country, self.country(path, key)?)),
            "provision" => {
                let exists = Provision::split_key(key)
                    .is_some_and(|(a, _)| self.lookup.exists(NodeKind::Agreement, a));
                if !exists {
                    return Err(FactError::not_found(
                        path,
                        format!("unknown provision '{key}'"),
                    ));
                }
                return Ok(NodeRef::new(NodeKind::Provision, key));
            }
            other => match NodeKind::ALL
                .iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(other))
            {
                Some(kind) => *kind,
                None => {
                    return Err(FactError::invalid(
                        path,
                        format!("unknown node kind '{other}'"),
                    ))
                }
            },
        };
        Ok(NodeRef::new(kind, self.reference(path, kind, key)?))
    }

    /// Resolves one record; `path` prefixes every error's field path.
    pub fn resolve(&self, record: &Record, path: &str) -> Result<Fact, FactError> {
        Ok(match record {
            Record::Country(r) => Fact::Country(self.country_record(r, path)?),
            Record::Source(r) => Fact::Source(self.source(r, path)?),
            Record::Organization(r) => Fact::Organization(self.organization(r, path)?),
            Record::Person(r) => Fact::Person(self.person(r, path)?),
            Record::Agreement(r) => Fact::Agreement(self.agreement(r, path)?),
            Record::Event(r) => Fact::Event(self.event(r, path)?),
            Record::Relation(r) => Fact::Relation(self.relation(r, path)?),
            Record::Mission(r) => Fact::Mission(self.mission(r, path)?),
            Record::Statement(r) => Fact::Statement(self.statement(r, path)?),
        })
    }

    fn country_record(&self, r: &CountryRecord, path: &str) -> Result<Country, FactError> {
        let code = r.code.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FactError::invalid(
                &field(path, "code"),
                "an ISO 3166-1 alpha-2 code is two letters",
            ));
        }
        let alpha3 = r.alpha3.trim().to_ascii_uppercase();
        if alpha3.len() != 3 || !alpha3.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FactError::invalid(
                &field(path, "alpha3"),
                "an ISO 3166-1 alpha-3 code is three letters",
            ));
        }
        let opt = |name: &str, v: &Option<String>| -> Result<Option<String>, FactError> {
            v.as_deref()
                .map(|s| non_empty(&field(path, name), s))
                .transpose()
        };
        Ok(Country {
            code,
            alpha3,
            name: non_empty(&field(path, "name"), &r.name)?,
            official_name: opt("officialName", &r.official_name)?,
            aliases: names(&field(path, "aliases"), &r.aliases)?,
            demonyms: names(&field(path, "demonyms"), &r.demonyms)?,
            capital: opt("capital", &r.capital)?,
            region: opt("region", &r.region)?,
            subregion: opt("subregion", &r.subregion)?,
            un_member: r.un_member,
        })
    }

    fn source(&self, r: &SourceRecord, path: &str) -> Result<Source, FactError> {
        let body = r
            .text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| FactError::invalid(&field(path, "text"), "a source needs its text"))?;
        text(&field(path, "text"), body)?;
        if let Some(url) = &r.url {
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(FactError::invalid(
                    &field(path, "url"),
                    "must be an http(s) URL",
                ));
            }
        }
        Ok(Source {
            key: key(&field(path, "key"), &r.key)?,
            title: non_empty(&field(path, "title"), &r.title)?,
            publisher: r.publisher.clone(),
            author: r.author.clone(),
            url: r.url.as_ref().map(|u| u.trim().to_string()),
            published: date(&field(path, "published"), &r.published)?,
            text: body.to_string(),
        })
    }

    fn organization(&self, r: &OrganizationRecord, path: &str) -> Result<Organization, FactError> {
        Ok(Organization {
            key: key(&field(path, "key"), &r.key)?,
            name: non_empty(&field(path, "name"), &r.name)?,
            aliases: names(&field(path, "aliases"), &r.aliases)?,
            kind: named(&field(path, "kind"), &r.kind)?,
            country: self.opt_country(&field(path, "country"), &r.country)?,
            sources: self.cite_all(&field(path, "sources"), &r.sources)?,
        })
    }

    fn person(&self, r: &PersonRecord, path: &str) -> Result<Person, FactError> {
        let mut posts = Vec::new();
        for (i, post) in r.posts.iter().enumerate() {
            let p = item(path, "posts", i);
            let start = date(&field(&p, "start"), &post.start)?;
            let end = date(&field(&p, "end"), &post.end)?;
            if let (Some(s), Some(e)) = (start, end) {
                if e.latest() < s.earliest() {
                    return Err(FactError::invalid(
                        &field(&p, "end"),
                        format!("ends ({e}) before it starts ({s})"),
                    ));
                }
            }
            if post.country.is_none() && post.organization.is_none() {
                return Err(FactError::invalid(
                    &p,
                    "a post is held for a country or an organization",
                ));
            }
            posts.push(Post {
                title: non_empty(&field(&p, "title"), &post.title)?,
                country: self.opt_country(&field(&p, "country"), &post.country)?,
                organization: self.opt_reference(
                    &field(&p, "organization"),
                    NodeKind::Organization,
                    &post.organization,
                )?,
                start,
                end,
                sources: self.cite_all(&field(&p, "sources"), &post.sources)?,
            });
        }
        Ok(Person {
            key: key(&field(path, "key"), &r.key)?,
            name: non_empty(&field(path, "name"), &r.name)?,
            aliases: names(&field(path, "aliases"), &r.aliases)?,
            posts,
        })
    }

    fn agreement(&self, r: &AgreementRecord, path: &str) -> Result<Agreement, FactError> {
        let agreement_key = key(&field(path, "key"), &r.key)?;
        let mut provisions = Vec::new();
        for (i, p) in r.provisions.iter().enumerate() {
            let pp = item(path, "provisions", i);
            provisions.push(Provision {
                number: i as u32 + 1,
                text: text(&field(&pp, "text"), &p.text)?,
                actor: self.opt_country(&field(&pp, "actor"), &p.actor)?,
                sources: self.cite_all(&field(&pp, "sources"), &p.sources)?,
            });
        }
        let mut signatories = Vec::new();
        for (i, s) in r.signatories.iter().enumerate() {
            let sp = item(path, "signatories", i);
            signatories.push(Signatory {
                person: self.reference(&field(&sp, "person"), NodeKind::Person, &s.person)?,
                country: self.opt_country(&field(&sp, "country"), &s.country)?,
            });
        }
        Ok(Agreement {
            key: agreement_key,
            title: non_empty(&field(path, "title"), &r.title)?,
            aliases: names(&field(path, "aliases"), &r.aliases)?,
            signed_on: date(&field(path, "signedOn"), &r.signed_on)?,
            place: r.place.clone(),
            parties: self.countries(&field(path, "parties"), &r.parties)?,
            signatories,
            brokers: self.countries(&field(path, "brokers"), &r.brokers)?,
            provisions,
            sources: self.cite_all(&field(path, "sources"), &r.sources)?,
        })
    }

    fn relation(&self, r: &RelationRecord, path: &str) -> Result<Relation, FactError> {
        if r.history.is_empty() {
            return Err(FactError::invalid(
                &field(path, "history"),
                "a relation needs at least one status",
            ));
        }
        let mut history: Vec<StatusChange> = Vec::new();
        for (i, h) in r.history.iter().enumerate() {
            let hp = item(path, "history", i);
            let change = StatusChange {
                status: named(&field(&hp, "status"), &h.status)?,
                date: date(&field(&hp, "date"), &h.date)?,
                sources: self.cite_all(&field(&hp, "sources"), &h.sources)?,
            };
            let earlier = history.iter().rev().find_map(|c| c.date);
            if let (Some(before), Some(now)) = (earlier, change.date) {
                if now.latest() < before.earliest() {
                    return Err(FactError::invalid(
                        &field(&hp, "date"),
                        "history runs oldest first",
                    ));
                }
            }
            history.push(change);
        }
        let subject = self.country(&field(path, "subject"), &r.subject)?;
        let object = self.country(&field(path, "object"), &r.object)?;
        if subject == object {
            return Err(FactError::invalid(
                &field(path, "object"),
                "a relation needs two different countries",
            ));
        }
        Ok(Relation {
            key: key(&field(path, "key"), &r.key)?,
            kind: named(&field(path, "kind"), &r.kind)?,
            subject,
            object,
            agreement: self.opt_reference(
                &field(path, "agreement"),
                NodeKind::Agreement,
                &r.agreement,
            )?,
            event: self.opt_reference(&field(path, "event"), NodeKind::Event, &r.event)?,
            history,
        })
    }

    fn mission(&self, r: &MissionRecord, path: &str) -> Result<Mission, FactError> {
        let sending_country = self.country(&field(path, "sendingCountry"), &r.sending_country)?;
        let host_country = self.country(&field(path, "hostCountry"), &r.host_country)?;
        if sending_country == host_country {
            return Err(FactError::invalid(
                &field(path, "hostCountry"),
                "a mission is hosted by another country",
            ));
        }
        let opened = date(&field(path, "opened"), &r.opened)?;
        let closed = date(&field(path, "closed"), &r.closed)?;
        if let (Some(o), Some(c)) = (opened, closed) {
            if c.latest() < o.earliest() {
                return Err(FactError::invalid(
                    &field(path, "closed"),
                    format!("closes ({c}) before it opens ({o})"),
                ));
            }
        }
        Ok(Mission {
            key: key(&field(path, "key"), &r.key)?,
            kind: named(&field(path, "kind"), &r.kind)?,
            sending_country,
            host_country,
            city: r
                .city
                .as_deref()
                .map(|c| non_empty(&field(path, "city"), c))
                .transpose()?,
            status: named(&field(path, "status"), &r.status)?,
            opened,
            expected_opening: date(&field(path, "expectedOpening"), &r.expected_opening)?,
            closed,
            sources: self.cite_all(&field(path, "sources"), &r.sources)?,
        })
    }

    fn event(&self, r: &EventRecord, path: &str) -> Result<Event, FactError> {
        Ok(Event {
            key: key(&field(path, "key"), &r.key)?,
            kind: named(&field(path, "kind"), &r.kind)?,
            title: non_empty(&field(path, "title"), &r.title)?,
            date: date(&field(path, "date"), &r.date)?,
            place: r.place.clone(),
            participants: r
                .participants
                .iter()
                .enumerate()
                .map(|(i, p)| self.reference(&item(path, "participants", i), NodeKind::Person, p))
                .collect::<Result<_, _>>()?,
            countries: self.countries(&field(path, "countries"), &r.countries)?,
            agreement: self.opt_reference(
                &field(path, "agreement"),
                NodeKind::Agreement,
                &r.agreement,
            )?,
            sources: self.cite_all(&field(path, "sources"), &r.sources)?,
        })
    }

    fn statement(&self, r: &StatementRecord, path: &str) -> Result<Statement, FactError> {
        let source = self.cite(&field(path, "source"), &r.source)?;
        let text = text(&field(path, "text"), &r.text)?;
        if r.direct {
            let full = self
                .lookup
                .source_text(&source.source)
                .unwrap_or_else(|| Arc::from(""));
            let excerpt: String = full
                .chars()
                .skip(source.start as usize)
                .take((source.end - source.start) as usize)
                .collect();
            if locate(&excerpt, &text, None).is_none() {
                return Err(FactError::invalid(
                    &field(path, "text"),
                    "a direct quote's text must occur verbatim in its excerpt",
                ));
            }
        }
        let speaker = match &r.speaker {
            None => None,
            Some(SpeakerRecord {
                person: Some(p),
                organization: None,
            }) => Some(NodeRef::new(
                NodeKind::Person,
                self.reference(&field(path, "speaker.person"), NodeKind::Person, p)?,
            )),
            Some(SpeakerRecord {
                person: None,
                organization: Some(o),
            }) => Some(NodeRef::new(
                NodeKind::Organization,
                self.reference(
                    &field(path, "speaker.organization"),
                    NodeKind::Organization,
                    o,
                )?,
            )),
            Some(_) => {
                return Err(FactError::invalid(
                    &field(path, "speaker"),
                    "a speaker is one person or one organization",
                ))
            }
        };
        Ok(Statement {
            key: key(&field(path, "key"), &r.key)?,
            text,
            direct: r.direct,
            speaker,
            date: date(&field(path, "date"), &r.date)?,
            medium: named(&field(path, "medium"), &r.medium)?,
            event: self.opt_reference(&field(path, "event"), NodeKind::Event, &r.event)?,
            about: r
                .about
                .iter()
                .enumerate()
                .map(|(i, a)| self.node(&item(path, "about", i), a))
                .collect::<Result<_, _>>()?,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keys_and_texts_refuse_control_characters_and_excess_length() {
        assert_eq!(non_empty("p", "  Hoti ").unwrap(), "Hoti");
        assert!(non_empty("p", "Ho\0ti").is_err());
        assert!(non_empty("p", "Ho\nti").is_err());
        assert!(non_empty("p", "\u{7}").is_err());
        assert!(non_empty("p", &"x".repeat(MAX_LABEL_CHARS + 1)).is_err());
        assert!(non_empty("p", &"ë".repeat(MAX_LABEL_CHARS)).is_ok());
        assert!(key("p", &"k".repeat(10_000)).is_err());
        assert!(key("p", &"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(key("p", "a/b").is_err());
        assert!(key("p", "a\u{1b}b").is_err());
        assert_eq!(text("p", "one\n\ttwo").unwrap(), "one\n\ttwo");
        assert!(text("p", "one\0two").is_err());
        assert!(text("p", "  ").is_err());
    }

    #[test]
    fn locate_spans_white_space_counts_chars_and_honours_a_start() {
        let text = "Vučić and\u{a0}Hoti  signed\nit; Hoti signed";
        assert_eq!(locate(text, "Vučić and Hoti signed", None), Some((0, 22)));
        assert_eq!(locate(text, "Hoti signed it", None), Some((10, 25)));
        assert_eq!(locate(text, "Hoti signed", Some(27)), Some((27, 38)));
        assert_eq!(locate(text, "Hoti signed", Some(3)), None);
        assert_eq!(locate(text, "Hoti signs", None), None);
        assert_eq!(locate(text, "   ", None), None);
    }
}
