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

macro_rules! add_source_input {
    (() $($entries:tt)*) => {
        add_source_input!(@collect [] [] $($entries)*);
    };
    (@collect [$($fields:tt)*] [$($kinds:tt)*]
        $kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: yes }
        $(, $($rest:tt)*)?) => {
        add_source_input!(@collect
            [$($fields)* #[graphql(default)] pub $plural: Vec<<crate::domain::$kind as KindApi>::Input>,]
            [$($kinds)* ($kind, $plural)]
            $($($rest)*)?);
    };
    (@collect [$($fields:tt)*] [$($kinds:tt)*]
        $kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: no }
        $(, $($rest:tt)*)?) => {
        add_source_input!(@collect [$($fields)*] [$($kinds)*] $($($rest)*)?);
    };
    (@collect [$($fields:tt)*] [$(($kind:ident, $plural:ident))*]) => {
        /// An article and the facts it supports, stored together: all of it, or none.
        #[derive(InputObject)]
        pub struct AddSourceInput {
            pub source: SourceInput,
            $($fields)*
        }

        /// The facts of an `AddSourceInput`, made into records once the source's key is known:
        /// each with the path its errors are reported under, citing that source when they name
        /// none.
        pub type FactRecords = Box<dyn FnOnce(&str) -> Vec<(String, Record)> + Send>;

        impl AddSourceInput {
            /// The source, and its facts to be made into records.
            pub fn into_parts(self) -> (SourceInput, FactRecords) {
                let AddSourceInput { source, $($plural),* } = self;
                let facts = move |key: &str| {
                    let mut out = Vec::new();
                    $(for (i, input) in $plural.into_iter().enumerate() {
                        out.push((
                            format!("input.{}[{i}]", stringify!($plural)),
                            <crate::domain::$kind as KindApi>::input_record(input, Some(key)),
                        ));
                    })*
                    out
                };
                (source, Box::new(facts))
            }
        }
    };
}
crate::with_kinds!(add_source_input);
