//! Records: facts as people write them (the built-in dataset files, JSON Lines import and
//! export). References are keys (`gabi-ashkenazi`) or country codes; citations are excerpts,
//! whose offsets the server computes.

use super::export::Citer;
use super::kinds::*;
use super::resolve::{FactError, Resolver};
use super::KindRecord;
use crate::domain::{Fact, NodeKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CitationRecord {
    pub source: String,
    pub excerpt: String,
    /// Where the excerpt starts, in chars; picks one occurrence when the text repeats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
}

macro_rules! records_of_every_kind {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// One line of the JSON Lines format: `{"type": "person", ...}`.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "camelCase")]
        pub enum Record {
            $($kind($record),)*
        }

        impl Record {
            /// The kind of entity the record describes.
            pub fn kind(&self) -> NodeKind {
                match self {
                    $(Record::$kind(_) => NodeKind::$kind,)*
                }
            }

            /// Its key field (a country's is its code).
            pub fn key_mut(&mut self) -> &mut String {
                match self {
                    $(Record::$kind(r) => &mut r.$key,)*
                }
            }

            pub fn key(&self) -> &str {
                match self {
                    $(Record::$kind(r) => &r.$key,)*
                }
            }

            /// Checks the record against what exists and makes its entity; `path` prefixes
            /// every error's field path.
            pub fn resolve(&self, at: &Resolver, path: &str) -> Result<Fact, FactError> {
                Ok(match self {
                    $(Record::$kind(r) => Fact::$kind(r.resolve(at, path)?),)*
                })
            }

            /// The record of an entity; `text_of` gives a source's text, to recover excerpts.
            pub fn of(fact: &Fact, text_of: &dyn Fn(&str) -> Option<Arc<str>>) -> Record {
                let citer = Citer { text_of };
                match fact {
                    $(Fact::$kind(e) => Record::$kind($record::export(e, &citer)),)*
                }
            }

            /// What a generated key is made from: the record's name, title or first words.
            pub fn key_basis(&self) -> String {
                match self {
                    $(Record::$kind(r) => r.key_basis(),)*
                }
            }
        }
    };
}
crate::with_kinds!(records_of_every_kind);
