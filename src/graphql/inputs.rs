//! Input types of the mutations. Each becomes a fact record, checked by the same resolver as
//! the built-in dataset and the importer. References take a global id or a plain key;
//! countries take a code, as everywhere.

use super::id;
use super::kinds::*;
use super::types::*;
use crate::domain::NodeKind;
use crate::facts::*;
use async_graphql::{InputObject, ID};

/// The key of a reference given as a global id (of the expected kind) or a plain key.
pub fn key_of(kind: NodeKind, reference: &str) -> String {
    match id::decode(reference) {
        Some(node) if node.kind == kind => node.key,
        _ => reference.trim().to_string(),
    }
}

pub(crate) fn keys_of(kind: NodeKind, references: Vec<ID>) -> Vec<String> {
    references.iter().map(|r| key_of(kind, r)).collect()
}

pub(crate) fn opt_key(kind: NodeKind, reference: Option<ID>) -> Option<String> {
    reference.map(|r| key_of(kind, &r))
}

pub(crate) fn date_text(d: Option<DateScalar>) -> Option<String> {
    d.map(|d| d.0.to_string())
}

/// "What a statement is about", as the record writes it: `kind:key`.
pub(crate) fn about(reference: &str) -> String {
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
    pub(crate) fn record(self, default_source: Option<&str>) -> CitationRecord {
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

pub(crate) fn cites(list: Vec<CitationInput>, default_source: Option<&str>) -> Vec<CitationRecord> {
    list.into_iter().map(|c| c.record(default_source)).collect()
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
    pub memberships: Vec<MembershipInput>,
    #[graphql(default)]
    pub statements: Vec<StatementInput>,
}
