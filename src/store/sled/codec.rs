//! The on-disk value format: one version byte, then the body.
//!
//! Version 2, written now: MessagePack, structs as arrays. An array carries its length, so a
//! field added at the end of a struct with `#[serde(default)]` reads as its default from values
//! written before it existed; enum variants are written by name, so adding one leaves old values
//! readable. Removing, reordering or retyping a field, or renaming a variant, is a format
//! change: it bumps the store format (`STORE_FORMAT`) and comes with its upgrade.
//!
//! Version 1: postcard, positional (a struct that gained a field no longer read its old
//! values). Read for index values written before format 3; entities are rewritten when a
//! format-2 data dir is opened.

use super::StoreError;
use serde::{de::DeserializeOwned, Serialize};

pub const FORMAT_VERSION: u8 = 2;
const POSTCARD: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_VERSION];
    rmp_serde::encode::write(&mut out, value).map_err(|e| StoreError::Codec(e.to_string()))?;
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            rmp_serde::from_slice(body).map_err(|e| StoreError::Codec(e.to_string()))
        }
        Some((&POSTCARD, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Codec(e.to_string()))
        }
        Some((&other, _)) => Err(StoreError::UnsupportedFormat {
            found: other,
            expected: FORMAT_VERSION,
        }),
        None => Err(StoreError::Codec("empty value".into())),
    }
}

/// Whether a value was written in the postcard format (version 1).
pub fn is_postcard(bytes: &[u8]) -> bool {
    bytes.first() == Some(&POSTCARD)
}

/// A value in the postcard format, as builds before storage format 3 wrote it (tests make old
/// data dirs with it).
#[cfg(test)]
pub fn encode_postcard<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![POSTCARD];
    out.extend(postcard::to_stdvec(value).expect("postcard encodes"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PartialDate;
    use serde::Deserialize;

    #[test]
    fn round_trips_reads_postcard_and_refuses_unknown_versions() {
        let date: PartialDate = "2021-02-01".parse().unwrap();
        let bytes = encode(&date).unwrap();
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode::<PartialDate>(&bytes).unwrap(), date);
        assert_eq!(
            decode::<PartialDate>(&encode_postcard(&date)).unwrap(),
            date
        );
        let mut future = bytes.clone();
        future[0] = FORMAT_VERSION + 1;
        assert!(matches!(
            decode::<PartialDate>(&future),
            Err(StoreError::UnsupportedFormat { .. })
        ));
        assert!(decode::<PartialDate>(&[]).is_err());
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum StatusBefore {
        Open,
        Closed,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum StatusAfter {
        Open,
        Closed,
        Planned,
    }

    #[derive(Serialize, Deserialize)]
    struct PostBefore {
        title: String,
        status: StatusBefore,
    }

    #[derive(Serialize, Deserialize)]
    struct PersonBefore {
        key: String,
        posts: Vec<PostBefore>,
        aliases: Vec<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct PostAfter {
        title: String,
        status: StatusAfter,
        #[serde(default)]
        until: Option<String>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct PersonAfter {
        key: String,
        posts: Vec<PostAfter>,
        aliases: Vec<String>,
        #[serde(default)]
        born: Option<String>,
        #[serde(default)]
        languages: Vec<String>,
    }

    /// The evolution rule this format exists for: fields added last (with a default), at any
    /// depth, and variants added last, leave every stored value readable.
    #[test]
    fn values_written_before_fields_and_variants_were_added_still_read() {
        let before = PersonBefore {
            key: "k".into(),
            posts: vec![PostBefore {
                title: "Minister".into(),
                status: StatusBefore::Closed,
            }],
            aliases: vec!["A".into()],
        };
        let after: PersonAfter = decode(&encode(&before).unwrap()).unwrap();
        assert_eq!(
            after,
            PersonAfter {
                key: "k".into(),
                posts: vec![PostAfter {
                    title: "Minister".into(),
                    status: StatusAfter::Closed,
                    until: None,
                }],
                aliases: vec!["A".into()],
                born: None,
                languages: Vec::new(),
            }
        );
        // Unit variants are written by name: an enum's variants may be reordered or added
        // anywhere, and renaming one is a format change.
        #[derive(Deserialize, Debug, PartialEq)]
        enum StatusReordered {
            Planned,
            Closed,
            Open,
        }
        assert_eq!(
            decode::<StatusReordered>(&encode(&StatusBefore::Closed).unwrap()).unwrap(),
            StatusReordered::Closed
        );
        // A field removed from the middle is a format change, not this; here the types differ
        // and the read fails loudly.
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Reordered {
            key: String,
            aliases: Vec<String>,
        }
        assert!(decode::<Reordered>(&encode(&before).unwrap()).is_err());
    }
}
