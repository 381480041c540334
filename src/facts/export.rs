//! Entities back into records, for export: an exported store re-imports to the same entities.

use super::record::*;
use super::resolve::locate;
use crate::domain::*;
use std::sync::Arc;

fn date(d: &Option<PartialDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

struct Citer<'a> {
    text_of: &'a dyn Fn(&str) -> Option<Arc<str>>,
}

impl Citer<'_> {
    /// The excerpt, plus its start only where the text has the same words earlier.
    fn cite(&self, c: &Citation) -> CitationRecord {
        let text = (self.text_of)(&c.source).unwrap_or_else(|| Arc::from(""));
        let excerpt: String = text
            .chars()
            .skip(c.start as usize)
            .take(c.end.saturating_sub(c.start) as usize)
            .collect();
        let first = locate(&text, &excerpt, None).map(|(s, _)| s as u32);
        CitationRecord {
            source: c.source.clone(),
            start: (first != Some(c.start)).then_some(c.start),
            excerpt,
        }
    }

    fn cite_all(&self, cs: &[Citation]) -> Vec<CitationRecord> {
        cs.iter().map(|c| self.cite(c)).collect()
    }
}

fn node(n: &NodeRef) -> String {
    format!("{}:{}", n.kind.as_str().to_ascii_lowercase(), n.key)
}

/// The record for an entity; `text_of` gives a source's text, to recover excerpts.
pub fn to_record(fact: &Fact, text_of: &dyn Fn(&str) -> Option<Arc<str>>) -> Record {
    let c = Citer { text_of };
    match fact {
        Fact::Country(e) => Record::Country(CountryRecord {
            code: e.code.clone(),
            alpha3: e.alpha3.clone(),
            name: e.name.clone(),
            official_name: e.official_name.clone(),
            aliases: e.aliases.clone(),
            demonyms: e.demonyms.clone(),
            capital: e.capital.clone(),
            region: e.region.clone(),
            subregion: e.subregion.clone(),
            un_member: e.un_member,
        }),
        Fact::Source(e) => Record::Source(SourceRecord {
            key: e.key.clone(),
            title: e.title.clone(),
            publisher: e.publisher.clone(),
            author: e.author.clone(),
            url: e.url.clone(),
            published: date(&e.published),
            text: Some(e.text.clone()),
            file: None,
            facts: Vec::new(),
            note: None,
        }),
        Fact::Organization(e) => Record::Organization(OrganizationRecord {
            key: e.key.clone(),
            name: e.name.clone(),
            aliases: e.aliases.clone(),
            kind: e.kind.as_str().into(),
            country: e.country.clone(),
            sources: c.cite_all(&e.sources),
            note: None,
        }),
        Fact::Person(e) => Record::Person(PersonRecord {
            key: e.key.clone(),
            name: e.name.clone(),
            aliases: e.aliases.clone(),
            posts: e
                .posts
                .iter()
                .map(|p| PostRecord {
                    title: p.title.clone(),
                    country: p.country.clone(),
                    organization: p.organization.clone(),
                    start: date(&p.start),
                    end: date(&p.end),
                    sources: c.cite_all(&p.sources),
                })
                .collect(),
            note: None,
        }),
        Fact::Agreement(e) => Record::Agreement(AgreementRecord {
            key: e.key.clone(),
            title: e.title.clone(),
            aliases: e.aliases.clone(),
            signed_on: date(&e.signed_on),
            place: e.place.clone(),
            parties: e.parties.clone(),
            signatories: e
                .signatories
                .iter()
                .map(|s| SignatoryRecord {
                    person: s.person.clone(),
                    country: s.country.clone(),
                })
                .collect(),
            brokers: e.brokers.clone(),
            provisions: e
                .provisions
                .iter()
                .map(|p| ProvisionRecord {
                    text: p.text.clone(),
                    actor: p.actor.clone(),
                    sources: c.cite_all(&p.sources),
                })
                .collect(),
            sources: c.cite_all(&e.sources),
            note: None,
        }),
        Fact::Event(e) => Record::Event(EventRecord {
            key: e.key.clone(),
            kind: e.kind.as_str().into(),
            title: e.title.clone(),
            date: date(&e.date),
            place: e.place.clone(),
            participants: e.participants.clone(),
            countries: e.countries.clone(),
            agreement: e.agreement.clone(),
            sources: c.cite_all(&e.sources),
            note: None,
        }),
        Fact::Relation(e) => Record::Relation(RelationRecord {
            key: e.key.clone(),
            kind: e.kind.as_str().into(),
            subject: e.subject.clone(),
            object: e.object.clone(),
            agreement: e.agreement.clone(),
            event: e.event.clone(),
            history: e
                .history
                .iter()
                .map(|h| StatusChangeRecord {
                    status: h.status.as_str().into(),
                    date: date(&h.date),
                    sources: c.cite_all(&h.sources),
                })
                .collect(),
            note: None,
        }),
        Fact::Mission(e) => Record::Mission(MissionRecord {
            key: e.key.clone(),
            kind: e.kind.as_str().into(),
            sending_country: e.sending_country.clone(),
            host_country: e.host_country.clone(),
            city: e.city.clone(),
            status: e.status.as_str().into(),
            opened: date(&e.opened),
            expected_opening: date(&e.expected_opening),
            closed: date(&e.closed),
            sources: c.cite_all(&e.sources),
            note: None,
        }),
        Fact::Statement(e) => Record::Statement(StatementRecord {
            key: e.key.clone(),
            text: e.text.clone(),
            direct: e.direct,
            speaker: e.speaker.as_ref().map(|s| match s.kind {
                NodeKind::Organization => SpeakerRecord {
                    person: None,
                    organization: Some(s.key.clone()),
                },
                _ => SpeakerRecord {
                    person: Some(s.key.clone()),
                    organization: None,
                },
            }),
            date: date(&e.date),
            medium: e.medium.as_str().into(),
            event: e.event.clone(),
            about: e.about.iter().map(node).collect(),
            source: c.cite(&e.source),
            note: None,
        }),
    }
}
