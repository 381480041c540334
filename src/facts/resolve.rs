//! Turns records into domain entities, checking everything a write must not get wrong:
//! references resolve, dates parse, names are not empty, every excerpt occurs in its source
//! (its offsets computed here, never trusted) and direct quotes are verbatim. Errors name the
//! field path, so a client or a data file author can find the mistake.

use super::record::*;
use crate::domain::*;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactErrorKind {
    /// The value itself is wrong.
    Invalid,
    /// It names something that does not exist.
    NotFound,
    /// It clashes with something that exists.
    Conflict,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct FactError {
    pub path: String,
    pub message: String,
    pub kind: FactErrorKind,
}

impl FactError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::Invalid,
        }
    }

    pub fn not_found(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::NotFound,
        }
    }

    pub fn conflict(path: &str, message: impl Into<String>) -> Self {
        FactError {
            path: path.to_string(),
            message: message.into(),
            kind: FactErrorKind::Conflict,
        }
    }
}

/// What the resolver may ask of the world the records join: the store, the rest of a batch,
/// or the built-in dataset.
pub trait Lookup {
    /// The country key for an alpha-2 or alpha-3 code, any letter case.
    fn country(&self, code: &str) -> Option<String>;
    fn exists(&self, kind: NodeKind, key: &str) -> bool;
    fn source_text(&self, key: &str) -> Option<Arc<str>>;
}

/// Finds `excerpt` in `text`, any run of white space in the excerpt matching any run in the
/// text (articles wrap lines and use non-breaking spaces). Returns char offsets, end exclusive;
/// with `at`, only an occurrence starting at that char counts.
pub fn locate(text: &str, excerpt: &str, at: Option<usize>) -> Option<(usize, usize)> {
    let words: Vec<&str> = excerpt.split_whitespace().collect();
    let first = *words.first()?;
    for (start, _) in text.match_indices(first) {
        let mut pos = start + first.len();
        let mut matched = true;
        for word in &words[1..] {
            let rest = &text[pos..];
            let gap = rest.len() - rest.trim_start().len();
            if gap == 0 || !rest[gap..].starts_with(word) {
                matched = false;
                break;
            }
            pos += gap + word.len();
        }
        if matched {
            let char_start = text[..start].chars().count();
            if at.is_some_and(|a| a != char_start) {
                continue;
            }
            let char_end = char_start + text[start..pos].chars().count();
            return Some((char_start, char_end));
        }
    }
    None
}

pub struct Resolver<'a> {
    pub(crate) lookup: &'a dyn Lookup,
}

pub(crate) fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub(crate) fn item(path: &str, name: &str, i: usize) -> String {
    format!("{}[{i}]", field(path, name))
}

/// The longest name, title, alias or city, in characters.
pub const MAX_LABEL_CHARS: usize = 1000;
/// The longest key, in bytes (keys are sorted and stored in every index entry).
pub const MAX_KEY_BYTES: usize = 200;

/// A name, title, alias or city: one line of printable text.
pub(crate) fn non_empty(path: &str, value: &str) -> Result<String, FactError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FactError::invalid(path, "must not be empty"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FactError::invalid(
            path,
            "must not contain control characters (line breaks, tabs, NUL...)",
        ));
    }
    if trimmed.chars().count() > MAX_LABEL_CHARS {
        return Err(FactError::invalid(
            path,
            format!("must be at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Running text (a statement, a provision, an article): line breaks and tabs are its own, other
/// control characters are not.
pub(crate) fn text(path: &str, value: &str) -> Result<String, FactError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FactError::invalid(path, "must not be empty"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FactError::invalid(
            path,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(trimmed.to_string())
}

pub(crate) fn key(path: &str, value: &str) -> Result<String, FactError> {
    let k = non_empty(path, value)?;
    if k.contains(['/', ':']) {
        return Err(FactError::invalid(
            path,
            "a key must not contain '/' or ':'",
        ));
    }
    if k.len() > MAX_KEY_BYTES {
        return Err(FactError::invalid(
            path,
            format!("a key must be at most {MAX_KEY_BYTES} bytes"),
        ));
    }
    Ok(k)
}

pub(crate) fn date(path: &str, raw: &Option<String>) -> Result<Option<PartialDate>, FactError> {
    raw.as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e: DateError| FactError::invalid(path, e.to_string()))
        })
        .transpose()
}

pub(crate) fn names(path: &str, values: &[String]) -> Result<Vec<String>, FactError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| non_empty(&format!("{path}[{i}]"), v))
        .collect()
}

impl<'a> Resolver<'a> {
    pub fn new(lookup: &'a dyn Lookup) -> Self {
        Resolver { lookup }
    }

    pub(crate) fn cite(&self, path: &str, raw: &CitationRecord) -> Result<Citation, FactError> {
        let text = self.lookup.source_text(&raw.source).ok_or_else(|| {
            FactError::not_found(
                &field(path, "source"),
                format!("unknown source '{}'", raw.source),
            )
        })?;
        let (start, end) =
            locate(&text, &raw.excerpt, raw.start.map(|s| s as usize)).ok_or_else(|| {
                FactError::invalid(
                    &field(path, "excerpt"),
                    format!(
                        "excerpt not found in source '{}': \"{}\"",
                        raw.source, raw.excerpt
                    ),
                )
            })?;
        Ok(Citation {
            source: raw.source.clone(),
            start: start as u32,
            end: end as u32,
        })
    }

    pub(crate) fn cite_all(
        &self,
        path: &str,
        raw: &[CitationRecord],
    ) -> Result<Vec<Citation>, FactError> {
        if raw.is_empty() {
            return Err(FactError::invalid(
                path,
                "a fact needs at least one citation",
            ));
        }
        raw.iter()
            .enumerate()
            .map(|(i, c)| self.cite(&format!("{path}[{i}]"), c))
            .collect()
    }

    pub(crate) fn country(&self, path: &str, code: &str) -> Result<String, FactError> {
        self.lookup
            .country(code)
            .ok_or_else(|| FactError::not_found(path, format!("unknown country code '{code}'")))
    }

    pub(crate) fn opt_country(
        &self,
        path: &str,
        code: &Option<String>,
    ) -> Result<Option<String>, FactError> {
        code.as_deref().map(|c| self.country(path, c)).transpose()
    }

    pub(crate) fn countries(&self, path: &str, codes: &[String]) -> Result<Vec<String>, FactError> {
        let mut out: Vec<String> = Vec::new();
        for (i, c) in codes.iter().enumerate() {
            let code = self.country(&format!("{path}[{i}]"), c)?;
            if out.contains(&code) {
                return Err(FactError::invalid(
                    &format!("{path}[{i}]"),
                    format!("'{code}' is listed twice"),
                ));
            }
            out.push(code);
        }
        Ok(out)
    }

    pub(crate) fn reference(
        &self,
        path: &str,
        kind: NodeKind,
        key: &str,
    ) -> Result<String, FactError> {
        if self.lookup.exists(kind, key) {
            Ok(key.to_string())
        } else {
            Err(FactError::not_found(
                path,
                format!("unknown {kind} '{key}'"),
            ))
        }
    }

    pub(crate) fn opt_reference(
        &self,
        path: &str,
        kind: NodeKind,
        key: &Option<String>,
    ) -> Result<Option<String>, FactError> {
        key.as_deref()
            .map(|k| self.reference(path, kind, k))
            .transpose()
    }

    pub(crate) fn node(&self, path: &str, reference: &str) -> Result<NodeRef, FactError> {
        let (kind, key) = reference.split_once(':').ok_or_else(|| {
            FactError::invalid(path, format!("'{reference}' is not of the form kind:key"))
        })?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "country" => return Ok(NodeRef::new(NodeKind::Country, self.country(path, key)?)),
            "provision" => {
                let exists = Provision::split_key(key)
                    .is_some_and(|(a, _)| self.lookup.exists(NodeKind::Agreement, a));
                if !exists {
                    return Err(FactError::not_found(
                        path,
                        format!("unknown provision '{key}'"),
                    ));
                }
                return Ok(NodeRef::new(NodeKind::Provision, key));
            }
            other => match NodeKind::ALL
                .iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(other))
            {
                Some(kind) => *kind,
                None => {
                    return Err(FactError::invalid(
                        path,
                        format!("unknown node kind '{other}'"),
                    ))
                }
            },
        };
        Ok(NodeRef::new(kind, self.reference(path, kind, key)?))
    }

    /// Resolves one record; `path` prefixes every error's field path.
    pub fn resolve(&self, record: &Record, path: &str) -> Result<Fact, FactError> {
        record.resolve(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keys_and_texts_refuse_control_characters_and_excess_length() {
        assert_eq!(non_empty("p", "  Hoti ").unwrap(), "Hoti");
        assert!(non_empty("p", "Ho\0ti").is_err());
        assert!(non_empty("p", "Ho\nti").is_err());
        assert!(non_empty("p", "\u{7}").is_err());
        assert!(non_empty("p", &"x".repeat(MAX_LABEL_CHARS + 1)).is_err());
        assert!(non_empty("p", &"ë".repeat(MAX_LABEL_CHARS)).is_ok());
        assert!(key("p", &"k".repeat(10_000)).is_err());
        assert!(key("p", &"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(key("p", "a/b").is_err());
        assert!(key("p", "a\u{1b}b").is_err());
        assert_eq!(text("p", "one\n\ttwo").unwrap(), "one\n\ttwo");
        assert!(text("p", "one\0two").is_err());
        assert!(text("p", "  ").is_err());
    }

    #[test]
    fn locate_spans_white_space_counts_chars_and_honours_a_start() {
        let text = "Vučić and\u{a0}Hoti  signed\nit; Hoti signed";
        assert_eq!(locate(text, "Vučić and Hoti signed", None), Some((0, 22)));
        assert_eq!(locate(text, "Hoti signed it", None), Some((10, 25)));
        assert_eq!(locate(text, "Hoti signed", Some(27)), Some((27, 38)));
        assert_eq!(locate(text, "Hoti signed", Some(3)), None);
        assert_eq!(locate(text, "Hoti signs", None), None);
        assert_eq!(locate(text, "   ", None), None);
    }
}
