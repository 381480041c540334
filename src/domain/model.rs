//! What every kind shares: citations, node references and the named vocabularies (each kind's
//! own entity lives in `kinds/`). Every fact carries the citations it comes from.

use super::NodeKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A span of a source's text, in Unicode scalar values, end exclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub source: String,
    pub start: u32,
    pub end: u32,
}

/// Declares a fieldless enum with its canonical SCREAMING_CASE names, shared by the dataset
/// files, the store and the API.
macro_rules! named_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::UnknownName {
                        kind: stringify!($name),
                        name: s.to_string(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::domain::Vocabulary for $name {
            fn name(&self) -> &'static str {
                self.as_str()
            }
        }
    };
}

/// A closed set of names (a kind of mission, a status): written by name in records and the API.
pub trait Vocabulary: Copy + std::str::FromStr<Err = UnknownName> {
    fn name(&self) -> &'static str;
}

#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} '{name}'; expected one of {expected:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static [&'static str],
}

/// A typed reference to any node of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeRef {
    pub kind: NodeKind,
    pub key: String,
}

impl NodeRef {
    pub fn new(kind: NodeKind, key: impl Into<String>) -> Self {
        NodeRef {
            kind,
            key: key.into(),
        }
    }

    pub fn country(code: &str) -> Self {
        NodeRef::new(NodeKind::Country, code)
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.key)
    }
}

impl FromStr for NodeRef {
    type Err = UnknownName;

    /// Parses `Kind:key`, the inverse of Display.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, key) = s.split_once(':').ok_or_else(|| UnknownName {
            kind: "node reference",
            name: s.to_string(),
            expected: &["Kind:key"],
        })?;
        Ok(NodeRef::new(kind.parse()?, key))
    }
}
