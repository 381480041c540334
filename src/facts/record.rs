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

/// A vocabulary value in a record, written by its name ("EMBASSY", "MEMBER"): typed from the API
/// to the entity, a name only in the JSON form, where an unknown one is refused with the names
/// it could be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named<T>(pub T);

impl<T: crate::domain::Vocabulary> std::fmt::Display for Named<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl<T: crate::domain::Vocabulary> Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de, T: crate::domain::Vocabulary> Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        name.parse().map(Named).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MissionKind;

    fn mission(kind: &str) -> String {
        format!(
            r#"{{"type":"mission","key":"m","kind":"{kind}","sendingCountry":"XK","hostCountry":"IL","status":"OPEN","sources":[]}}"#
        )
    }

    #[test]
    fn vocabulary_values_are_typed_and_written_by_name() {
        let Record::Mission(record) =
            serde_json::from_str::<Record>(&mission("CONSULATE")).unwrap()
        else {
            panic!("not a mission")
        };
        assert_eq!(record.kind, Named(MissionKind::Consulate));
        let written = serde_json::to_string(&Record::Mission(record)).unwrap();
        assert!(written.contains(r#""kind":"CONSULATE""#), "{written}");
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_names_it_could_be() {
        let err = serde_json::from_str::<Record>(&mission("PALACE"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PALACE") && err.contains("EMBASSY") && err.contains("CONSULATE"),
            "{err}"
        );
    }
}
