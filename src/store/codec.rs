//! The on-disk value format: one version byte, then postcard. A later format bumps the byte and
//! adds its upgrade path here, so old data dirs stay readable.

use super::StoreError;
use serde::{de::DeserializeOwned, Serialize};

pub const FORMAT_VERSION: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_VERSION];
    let body = postcard::to_stdvec(value).map_err(|e| StoreError::Codec(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Codec(e.to_string()))
        }
        Some((&other, _)) => Err(StoreError::UnsupportedFormat {
            found: other,
            expected: FORMAT_VERSION,
        }),
        None => Err(StoreError::Codec("empty value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PartialDate;

    #[test]
    fn round_trips_and_refuses_unknown_versions() {
        let date: PartialDate = "2021-02-01".parse().unwrap();
        let bytes = encode(&date).unwrap();
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode::<PartialDate>(&bytes).unwrap(), date);
        let mut future = bytes.clone();
        future[0] = FORMAT_VERSION + 1;
        assert!(matches!(
            decode::<PartialDate>(&future),
            Err(StoreError::UnsupportedFormat { .. })
        ));
        assert!(decode::<PartialDate>(&[]).is_err());
    }
}
