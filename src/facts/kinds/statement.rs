//! Statement: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatementRecord {
    pub key: String,
    pub text: String,
    pub direct: bool,
    #[serde(default)]
    pub speaker: Option<SpeakerRecord>,
    #[serde(default)]
    pub date: Option<String>,
    pub medium: Named<StatementMedium>,
    #[serde(default)]
    pub event: Option<String>,
    /// `kind:key` references (`country:XK`, `mission:kosovo-embassy-jerusalem`).
    #[serde(default)]
    pub about: Vec<String>,
    pub source: CitationRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpeakerRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

impl KindRecord for StatementRecord {
    type Entity = Statement;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Statement, FactError> {
        let source = at.cite(&field(path, "source"), &self.source)?;
        let text = text(&field(path, "text"), &self.text)?;
        if self.direct {
            let full = at
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
        let speaker = match &self.speaker {
            None => None,
            Some(SpeakerRecord {
                person: Some(p),
                organization: None,
            }) => Some(NodeRef::new(
                NodeKind::Person,
                at.reference(&field(path, "speaker.person"), NodeKind::Person, p)?,
            )),
            Some(SpeakerRecord {
                person: None,
                organization: Some(o),
            }) => Some(NodeRef::new(
                NodeKind::Organization,
                at.reference(
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
            key: key(&field(path, "key"), &self.key)?,
            text,
            direct: self.direct,
            speaker,
            date: date(&field(path, "date"), &self.date)?,
            medium: self.medium.0,
            event: at.opt_reference(&field(path, "event"), NodeKind::Event, &self.event)?,
            about: self
                .about
                .iter()
                .enumerate()
                .map(|(i, a)| at.node(&item(path, "about", i), a))
                .collect::<Result<_, _>>()?,
            source,
        })
    }

    fn export(e: &Statement, c: &Citer) -> Self {
        Self {
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
            date: date_text(&e.date),
            medium: Named(e.medium),
            event: e.event.clone(),
            about: e.about.iter().map(node_text).collect(),
            source: c.cite(&e.source),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.text
            .split_whitespace()
            .take(8)
            .collect::<Vec<_>>()
            .join(" ")
    }
}
