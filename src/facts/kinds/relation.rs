//! Relation: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelationRecord {
    pub key: String,
    pub kind: Named<RelationKind>,
    pub subject: String,
    pub object: String,
    #[serde(default)]
    pub agreement: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    pub history: Vec<StatusChangeRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChangeRecord {
    pub status: Named<RelationStatus>,
    #[serde(default)]
    pub date: Option<String>,
    pub sources: Vec<CitationRecord>,
}

impl KindRecord for RelationRecord {
    type Entity = Relation;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Relation, FactError> {
        if self.history.is_empty() {
            return Err(FactError::invalid(
                &field(path, "history"),
                "a relation needs at least one status",
            ));
        }
        let mut history: Vec<StatusChange> = Vec::new();
        for (i, h) in self.history.iter().enumerate() {
            let hp = item(path, "history", i);
            let change = StatusChange {
                status: h.status.0,
                date: date(&field(&hp, "date"), &h.date)?,
                sources: at.cite_all(&field(&hp, "sources"), &h.sources)?,
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
        let subject = at.country(&field(path, "subject"), &self.subject)?;
        let object = at.country(&field(path, "object"), &self.object)?;
        if subject == object {
            return Err(FactError::invalid(
                &field(path, "object"),
                "a relation needs two different countries",
            ));
        }
        Ok(Relation {
            key: key(&field(path, "key"), &self.key)?,
            kind: self.kind.0,
            subject,
            object,
            agreement: at.opt_reference(
                &field(path, "agreement"),
                NodeKind::Agreement,
                &self.agreement,
            )?,
            event: at.opt_reference(&field(path, "event"), NodeKind::Event, &self.event)?,
            history,
        })
    }

    fn export(e: &Relation, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            kind: Named(e.kind),
            subject: e.subject.clone(),
            object: e.object.clone(),
            agreement: e.agreement.clone(),
            event: e.event.clone(),
            history: e
                .history
                .iter()
                .map(|h| StatusChangeRecord {
                    status: Named(h.status),
                    date: date_text(&h.date),
                    sources: c.cite_all(&h.sources),
                })
                .collect(),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        format!("{} {} {}", self.subject, self.object, self.kind)
    }
}
