//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz): each feeds arbitrary bytes to one
//! parser or decoder that a request or a file can reach. Not part of the API; each must return
//! (an error is fine) and never panic.

/// An import line: parsed as a record, then checked as a write would check it (against a
/// lookup that knows a few countries and one source).
pub fn import_line(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(record) = serde_json::from_str::<crate::facts::Record>(text) else {
        return;
    };
    let _ = crate::facts::Resolver::new(&FixedLookup).resolve(&record, "line 1");
}

struct FixedLookup;

impl crate::facts::Lookup for FixedLookup {
    fn country(&self, code: &str) -> Option<String> {
        let code = code.trim().to_ascii_uppercase();
        ["XK", "RS", "KE", "IL", "US"]
            .contains(&code.as_str())
            .then_some(code)
    }
    fn exists(&self, _: crate::domain::NodeKind, key: &str) -> bool {
        key.len().is_multiple_of(2)
    }
    fn source_text(&self, key: &str) -> Option<std::sync::Arc<str>> {
        (key == "a").then(|| {
            std::sync::Arc::from("Kosovo and Serbia signed it in Washington. “We did,” he said.")
        })
    }
}

/// A partial date, as filters and records give them.
pub fn partial_date(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(date) = text.parse::<crate::domain::PartialDate>() {
            // What parses prints back to what parses to the same date.
            let again: crate::domain::PartialDate = date
                .to_string()
                .parse()
                .unwrap_or_else(|e| panic!("{date} does not parse back: {e}"));
            assert_eq!(again, date);
        }
    }
}

/// Global ids and cursors, as clients send them back.
pub fn ids_and_cursors(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some(node) = crate::graphql::id::decode(text) {
            assert_eq!(
                crate::graphql::id::decode(&crate::graphql::id::encode(&node).0),
                Some(node)
            );
        }
        let _ = crate::graphql::id::decode_cursor(text);
    }
}

/// A stored value, as the store decodes it: every kind, and keys.
pub fn stored_value(bytes: &[u8]) {
    use crate::store::fuzz_decode as decode;
    crate::for_every_kind!(E => {
        decode::<E>(bytes);
    });
    decode::<crate::store::ApiKey>(bytes);
}
