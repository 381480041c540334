//! Records: facts as people write them (the built-in dataset files, JSON Lines import and
//! export). References are keys (`gabi-ashkenazi`) or country codes; citations are excerpts,
//! whose offsets the server computes.

use crate::domain::NodeKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CitationRecord {
    pub source: String,
    pub excerpt: String,
    /// Where the excerpt starts, in chars; picks one occurrence when the text repeats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CountryRecord {
    pub code: String,
    pub alpha3: String,
    pub name: String,
    #[serde(default)]
    pub official_name: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub demonyms: Vec<String>,
    #[serde(default)]
    pub capital: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub subregion: Option<String>,
    #[serde(default)]
    pub un_member: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRecord {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
    /// The article text; the built-in dataset names a `file` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Facts this source supports, stored with it in one transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonRecord {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub posts: Vec<PostRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostRecord {
    pub title: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    pub sources: Vec<CitationRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationRecord {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: String,
    #[serde(default)]
    pub country: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementRecord {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub signed_on: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub parties: Vec<String>,
    #[serde(default)]
    pub signatories: Vec<SignatoryRecord>,
    #[serde(default)]
    pub brokers: Vec<String>,
    #[serde(default)]
    pub provisions: Vec<ProvisionRecord>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatoryRecord {
    pub person: String,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisionRecord {
    pub text: String,
    #[serde(default)]
    pub actor: Option<String>,
    pub sources: Vec<CitationRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelationRecord {
    pub key: String,
    pub kind: String,
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
    pub status: String,
    #[serde(default)]
    pub date: Option<String>,
    pub sources: Vec<CitationRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MissionRecord {
    pub key: String,
    pub kind: String,
    pub sending_country: String,
    pub host_country: String,
    #[serde(default)]
    pub city: Option<String>,
    pub status: String,
    #[serde(default)]
    pub opened: Option<String>,
    #[serde(default)]
    pub expected_opening: Option<String>,
    #[serde(default)]
    pub closed: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventRecord {
    pub key: String,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub participants: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub agreement: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

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
    pub medium: String,
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

macro_rules! records_of_every_kind {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident }),* $(,)?) => {
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
        }
    };
}
crate::with_kinds!(records_of_every_kind);
