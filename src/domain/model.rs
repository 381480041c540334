//! The entities of the knowledge graph. Every fact carries the citations it comes from.

use super::date::PartialDate;
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case; the key.
    pub code: String,
    pub alpha3: String,
    pub name: String,
    pub official_name: Option<String>,
    pub aliases: Vec<String>,
    pub demonyms: Vec<String>,
    pub capital: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub un_member: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    pub published: Option<PartialDate>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub key: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub posts: Vec<Post>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub title: String,
    pub country: Option<String>,
    pub organization: Option<String>,
    pub start: Option<PartialDate>,
    pub end: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub key: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub kind: OrganizationKind,
    pub country: Option<String>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub key: String,
    pub title: String,
    pub aliases: Vec<String>,
    pub signed_on: Option<PartialDate>,
    pub place: Option<String>,
    pub parties: Vec<String>,
    pub signatories: Vec<Signatory>,
    pub brokers: Vec<String>,
    pub provisions: Vec<Provision>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signatory {
    pub person: String,
    pub country: Option<String>,
}

/// A clause of an agreement; addressed as `<agreement key>/<number>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provision {
    pub number: u32,
    pub text: String,
    pub actor: Option<String>,
    pub sources: Vec<Citation>,
}

impl Provision {
    pub fn key(agreement: &str, number: u32) -> String {
        format!("{agreement}/{number}")
    }

    /// Splits a provision key into its agreement key and number.
    pub fn split_key(key: &str) -> Option<(&str, u32)> {
        let (agreement, number) = key.rsplit_once('/')?;
        Some((agreement, number.parse().ok()?))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub key: String,
    pub kind: RelationKind,
    /// For RECOGNITION, the recognizing country.
    pub subject: String,
    pub object: String,
    pub agreement: Option<String>,
    pub event: Option<String>,
    /// Oldest first; the last entry is the current status.
    pub history: Vec<StatusChange>,
}

impl Relation {
    pub fn status(&self) -> RelationStatus {
        self.history
            .last()
            .map(|c| c.status)
            .unwrap_or(RelationStatus::Proposed)
    }

    pub fn since(&self) -> Option<PartialDate> {
        self.history.last().and_then(|c| c.date)
    }

    pub fn sources(&self) -> impl Iterator<Item = &Citation> {
        self.history.iter().flat_map(|c| c.sources.iter())
    }

    pub fn involves(&self, country: &str) -> bool {
        self.subject == country || self.object == country
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: RelationStatus,
    pub date: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    pub key: String,
    pub kind: MissionKind,
    pub sending_country: String,
    pub host_country: String,
    pub city: Option<String>,
    pub status: MissionStatus,
    pub opened: Option<PartialDate>,
    pub expected_opening: Option<PartialDate>,
    pub closed: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub key: String,
    pub kind: EventKind,
    pub title: String,
    pub date: Option<PartialDate>,
    pub place: Option<String>,
    pub participants: Vec<String>,
    pub countries: Vec<String>,
    pub agreement: Option<String>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub key: String,
    pub text: String,
    pub direct: bool,
    pub speaker: Option<NodeRef>,
    pub date: Option<PartialDate>,
    pub medium: StatementMedium,
    pub event: Option<String>,
    pub about: Vec<NodeRef>,
    pub source: Citation,
}

/// Declares a fieldless enum with its canonical SCREAMING_CASE names, shared by the dataset
/// files, the store and the API.
macro_rules! named_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        kind: stringify!($name),
                        name: s.to_string(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} '{name}'; expected one of {expected:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static [&'static str],
}

named_enum!(OrganizationKind {
    GovernmentBody = "GOVERNMENT_BODY",
    Intergovernmental = "INTERGOVERNMENTAL",
    NonStateArmedGroup = "NON_STATE_ARMED_GROUP",
    Ngo = "NGO",
    Media = "MEDIA",
    Other = "OTHER",
});

named_enum!(RelationKind {
    DiplomaticRelations = "DIPLOMATIC_RELATIONS",
    Recognition = "RECOGNITION",
});

named_enum!(RelationStatus {
    Proposed = "PROPOSED",
    Agreed = "AGREED",
    Established = "ESTABLISHED",
    Suspended = "SUSPENDED",
    Ended = "ENDED",
});

named_enum!(MissionKind {
    Embassy = "EMBASSY",
    Consulate = "CONSULATE",
    Mission = "MISSION",
});

named_enum!(MissionStatus {
    Proposed = "PROPOSED",
    Promised = "PROMISED",
    Planned = "PLANNED",
    Open = "OPEN",
    Closed = "CLOSED",
});

named_enum!(EventKind {
    Signing = "SIGNING",
    Ceremony = "CEREMONY",
    PhoneCall = "PHONE_CALL",
    VideoConference = "VIDEO_CONFERENCE",
    Announcement = "ANNOUNCEMENT",
    Declaration = "DECLARATION",
    Meeting = "MEETING",
    Other = "OTHER",
});

named_enum!(StatementMedium {
    Tweet = "TWEET",
    Speech = "SPEECH",
    PhoneCall = "PHONE_CALL",
    PressStatement = "PRESS_STATEMENT",
    Interview = "INTERVIEW",
    Other = "OTHER",
});

named_enum!(NodeKind {
    Country = "Country",
    Person = "Person",
    Organization = "Organization",
    Agreement = "Agreement",
    Provision = "Provision",
    Relation = "Relation",
    Mission = "Mission",
    Event = "Event",
    Statement = "Statement",
    Source = "Source",
});

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
