//! Input types of the mutations. Each becomes a fact record, checked by the same resolver as
//! the built-in dataset and the importer. References take a global id or a plain key;
//! countries take a code, as everywhere.

use super::id;
use super::types::*;
use crate::domain::{NodeKind, RelationKind as DRelationKind};
use crate::facts::*;
use async_graphql::{InputObject, ID};

/// The key of a reference given as a global id (of the expected kind) or a plain key.
pub fn key_of(kind: NodeKind, reference: &str) -> String {
    match id::decode(reference) {
        Some(node) if node.kind == kind => node.key,
        _ => reference.trim().to_string(),
    }
}

fn keys_of(kind: NodeKind, references: Vec<ID>) -> Vec<String> {
    references.iter().map(|r| key_of(kind, r)).collect()
}

fn opt_key(kind: NodeKind, reference: Option<ID>) -> Option<String> {
    reference.map(|r| key_of(kind, &r))
}

fn date(d: Option<DateScalar>) -> Option<String> {
    d.map(|d| d.0.to_string())
}

/// "What a statement is about", as the record writes it: `kind:key`.
fn about(reference: &str) -> String {
    let reference = reference.trim();
    if let Some(node) = id::decode(reference) {
        return format!("{}:{}", node.kind.as_str().to_ascii_lowercase(), node.key);
    }
    if reference.contains(':') {
        reference.to_string()
    } else {
        format!("country:{reference}")
    }
}

/// A citation: an excerpt of a source, located by the server.
#[derive(InputObject)]
pub struct CitationInput {
    /// The source's id or key; in `addSource`, omit it to cite the source being added.
    pub source: Option<ID>,
    /// Words of the source, verbatim (white space may differ).
    pub excerpt: String,
    /// Where the excerpt starts (chars), to pick one of several occurrences.
    pub start: Option<i32>,
}

impl CitationInput {
    fn record(self, default_source: Option<&str>) -> CitationRecord {
        CitationRecord {
            source: self
                .source
                .map(|s| key_of(NodeKind::Source, &s))
                .or_else(|| default_source.map(str::to_string))
                .unwrap_or_default(),
            excerpt: self.excerpt,
            start: self.start.and_then(|s| u32::try_from(s).ok()),
        }
    }
}

fn cites(list: Vec<CitationInput>, default_source: Option<&str>) -> Vec<CitationRecord> {
    list.into_iter().map(|c| c.record(default_source)).collect()
}

#[derive(InputObject)]
pub struct CountryInput {
    pub code: String,
    pub alpha3: String,
    pub name: String,
    pub official_name: Option<String>,
    #[graphql(default)]
    pub aliases: Vec<String>,
    #[graphql(default)]
    pub demonyms: Vec<String>,
    pub capital: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    #[graphql(default)]
    pub un_member: bool,
}

impl CountryInput {
    pub fn record(self) -> Record {
        Record::Country(CountryRecord {
            code: self.code,
            alpha3: self.alpha3,
            name: self.name,
            official_name: self.official_name,
            aliases: self.aliases,
            demonyms: self.demonyms,
            capital: self.capital,
            region: self.region,
            subregion: self.subregion,
            un_member: self.un_member,
        })
    }
}

#[derive(InputObject)]
pub struct SourceInput {
    /// A readable key; made from the title when omitted.
    pub key: Option<String>,
    pub title: String,
    pub publisher: Option<String>,
    pub author: Option<String>,
    /// Unique: two sources cannot share a URL.
    pub url: Option<String>,
    pub published: Option<DateScalar>,
    /// The whole article text; citations are excerpts of it.
    pub text: String,
}

impl SourceInput {
    pub fn record(self) -> SourceRecord {
        SourceRecord {
            key: self.key.unwrap_or_default(),
            title: self.title,
            publisher: self.publisher,
            author: self.author,
            url: self.url,
            published: date(self.published),
            text: Some(self.text),
            file: None,
            facts: Vec::new(),
            note: None,
        }
    }
}

#[derive(InputObject)]
pub struct OrganizationInput {
    pub key: Option<String>,
    pub name: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    pub kind: OrganizationKind,
    pub country: Option<String>,
    pub sources: Vec<CitationInput>,
}

impl OrganizationInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Organization(OrganizationRecord {
            key: self.key.unwrap_or_default(),
            name: self.name,
            aliases: self.aliases,
            kind: crate::domain::OrganizationKind::from(self.kind)
                .as_str()
                .into(),
            country: self.country,
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct PostInput {
    pub title: String,
    pub country: Option<String>,
    pub organization: Option<ID>,
    pub start: Option<DateScalar>,
    pub end: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct PersonInput {
    pub key: Option<String>,
    pub name: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    #[graphql(default)]
    pub posts: Vec<PostInput>,
}

impl PersonInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Person(PersonRecord {
            key: self.key.unwrap_or_default(),
            name: self.name,
            aliases: self.aliases,
            posts: self
                .posts
                .into_iter()
                .map(|p| PostRecord {
                    title: p.title,
                    country: p.country,
                    organization: opt_key(NodeKind::Organization, p.organization),
                    start: date(p.start),
                    end: date(p.end),
                    sources: cites(p.sources, default_source),
                })
                .collect(),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct SignatoryInput {
    pub person: ID,
    pub country: Option<String>,
}

#[derive(InputObject)]
pub struct ProvisionInput {
    pub text: String,
    pub actor: Option<String>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct AgreementInput {
    pub key: Option<String>,
    pub title: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    pub signed_on: Option<DateScalar>,
    pub place: Option<String>,
    #[graphql(default)]
    pub parties: Vec<String>,
    #[graphql(default)]
    pub signatories: Vec<SignatoryInput>,
    #[graphql(default)]
    pub brokers: Vec<String>,
    #[graphql(default)]
    pub provisions: Vec<ProvisionInput>,
    pub sources: Vec<CitationInput>,
}

impl AgreementInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Agreement(AgreementRecord {
            key: self.key.unwrap_or_default(),
            title: self.title,
            aliases: self.aliases,
            signed_on: date(self.signed_on),
            place: self.place,
            parties: self.parties,
            signatories: self
                .signatories
                .into_iter()
                .map(|s| SignatoryRecord {
                    person: key_of(NodeKind::Person, &s.person),
                    country: s.country,
                })
                .collect(),
            brokers: self.brokers,
            provisions: self
                .provisions
                .into_iter()
                .map(|p| ProvisionRecord {
                    text: p.text,
                    actor: p.actor,
                    sources: cites(p.sources, default_source),
                })
                .collect(),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct StatusChangeInput {
    pub status: RelationStatus,
    pub date: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct RelationInput {
    pub key: Option<String>,
    pub kind: RelationKind,
    pub subject: String,
    pub object: String,
    pub agreement: Option<ID>,
    pub event: Option<ID>,
    /// Oldest first; the last entry is the current status.
    pub history: Vec<StatusChangeInput>,
}

impl RelationInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Relation(RelationRecord {
            key: self.key.unwrap_or_default(),
            kind: DRelationKind::from(self.kind).as_str().into(),
            subject: self.subject,
            object: self.object,
            agreement: opt_key(NodeKind::Agreement, self.agreement),
            event: opt_key(NodeKind::Event, self.event),
            history: self
                .history
                .into_iter()
                .map(|h| StatusChangeRecord {
                    status: crate::domain::RelationStatus::from(h.status)
                        .as_str()
                        .into(),
                    date: date(h.date),
                    sources: cites(h.sources, default_source),
                })
                .collect(),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct MissionInput {
    pub key: Option<String>,
    pub kind: MissionKind,
    pub sending_country: String,
    pub host_country: String,
    pub city: Option<String>,
    pub status: MissionStatus,
    pub opened: Option<DateScalar>,
    pub expected_opening: Option<DateScalar>,
    pub closed: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

impl MissionInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Mission(MissionRecord {
            key: self.key.unwrap_or_default(),
            kind: crate::domain::MissionKind::from(self.kind).as_str().into(),
            sending_country: self.sending_country,
            host_country: self.host_country,
            city: self.city,
            status: crate::domain::MissionStatus::from(self.status)
                .as_str()
                .into(),
            opened: date(self.opened),
            expected_opening: date(self.expected_opening),
            closed: date(self.closed),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct EventInput {
    pub key: Option<String>,
    pub kind: EventKind,
    pub title: String,
    pub date: Option<DateScalar>,
    pub place: Option<String>,
    #[graphql(default)]
    pub participants: Vec<ID>,
    #[graphql(default)]
    pub countries: Vec<String>,
    pub agreement: Option<ID>,
    pub sources: Vec<CitationInput>,
}

impl EventInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Event(EventRecord {
            key: self.key.unwrap_or_default(),
            kind: crate::domain::EventKind::from(self.kind).as_str().into(),
            title: self.title,
            date: date(self.date),
            place: self.place,
            participants: keys_of(NodeKind::Person, self.participants),
            countries: self.countries,
            agreement: opt_key(NodeKind::Agreement, self.agreement),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(InputObject)]
pub struct StatementInput {
    pub key: Option<String>,
    /// Verbatim when `direct` (it must then occur in the excerpt), else as reported.
    pub text: String,
    pub direct: bool,
    /// A person's or an organization's id.
    pub speaker: Option<ID>,
    pub date: Option<DateScalar>,
    pub medium: StatementMedium,
    pub event: Option<ID>,
    /// Country codes or node ids.
    #[graphql(default)]
    pub about: Vec<String>,
    pub source: CitationInput,
}

impl StatementInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        let speaker = self.speaker.map(|s| match id::decode(&s) {
            Some(node) if node.kind == NodeKind::Organization => SpeakerRecord {
                person: None,
                organization: Some(node.key),
            },
            _ => SpeakerRecord {
                person: Some(key_of(NodeKind::Person, &s)),
                organization: None,
            },
        });
        Record::Statement(StatementRecord {
            key: self.key.unwrap_or_default(),
            text: self.text,
            direct: self.direct,
            speaker,
            date: date(self.date),
            medium: crate::domain::StatementMedium::from(self.medium)
                .as_str()
                .into(),
            event: opt_key(NodeKind::Event, self.event),
            about: self.about.iter().map(|a| about(a)).collect(),
            source: self.source.record(default_source),
            note: None,
        })
    }
}

/// An article and the facts it supports, stored together: all of it, or none.
#[derive(InputObject)]
pub struct AddSourceInput {
    pub source: SourceInput,
    #[graphql(default)]
    pub organizations: Vec<OrganizationInput>,
    #[graphql(default)]
    pub people: Vec<PersonInput>,
    #[graphql(default)]
    pub agreements: Vec<AgreementInput>,
    #[graphql(default)]
    pub events: Vec<EventInput>,
    #[graphql(default)]
    pub relations: Vec<RelationInput>,
    #[graphql(default)]
    pub missions: Vec<MissionInput>,
    #[graphql(default)]
    pub statements: Vec<StatementInput>,
}
