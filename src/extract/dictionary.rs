//! Names looked up in a text in one pass: every pattern of a dictionary found as a whole word,
//! the longest first where two overlap, each with what it may name.

use super::ExtractError;
use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::BTreeMap;
use std::ops::Range;

/// Patterns and the values they name; a pattern may name several (an ambiguous name).
pub struct Dictionary<T> {
    matcher: AhoCorasick,
    named: Vec<Vec<T>>,
}

/// A dictionary being filled.
pub struct Entries<T> {
    by_pattern: BTreeMap<String, Vec<T>>,
    case_insensitive: bool,
}

impl<T: PartialEq> Entries<T> {
    /// Patterns match as written.
    pub fn exact() -> Self {
        Entries {
            by_pattern: BTreeMap::new(),
            case_insensitive: false,
        }
    }

    /// Patterns match in any ASCII letter case ("State Department", "state department").
    pub fn any_case() -> Self {
        Entries {
            by_pattern: BTreeMap::new(),
            case_insensitive: true,
        }
    }

    /// `pattern` (trimmed; an empty one is ignored) names `value`, besides what it named before.
    pub fn add(&mut self, pattern: &str, value: T) {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return;
        }
        let key = match self.case_insensitive {
            true => pattern.to_ascii_lowercase(),
            false => pattern.to_string(),
        };
        let values = self.by_pattern.entry(key).or_default();
        if !values.contains(&value) {
            values.push(value);
        }
    }

    pub fn build(self) -> Result<Dictionary<T>, ExtractError> {
        let (patterns, named): (Vec<String>, Vec<Vec<T>>) = self.by_pattern.into_iter().unzip();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(self.case_insensitive)
            .build(&patterns)
            .map_err(|e| ExtractError::Dictionary(e.to_string()))?;
        Ok(Dictionary { matcher, named })
    }
}

impl<T> Dictionary<T> {
    /// Every pattern found as a whole word in `text[within]`: its span in `text` (bytes) and what
    /// it may name. A hyphen may join a word to another ("US-brokered"); a letter or digit may
    /// not ("Chadwick" holds no "Chad").
    pub fn find<'d>(&'d self, text: &str, within: Range<usize>) -> Vec<(Range<usize>, &'d [T])> {
        let start = within.start;
        self.matcher
            .find_iter(&text[within])
            .map(|found| (start + found.start()..start + found.end(), found.pattern()))
            .filter(|(span, _)| stands_alone(text, span))
            .map(|(span, pattern)| (span, self.named[pattern.as_usize()].as_slice()))
            .collect()
    }
}

fn stands_alone(text: &str, span: &Range<usize>) -> bool {
    let before = text[..span.start].chars().next_back();
    let after = text[span.end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only_the_longest_first_with_every_value_a_pattern_names() {
        let mut entries = Entries::exact();
        entries.add("Guinea", 1);
        entries.add("Papua New Guinea", 2);
        entries.add("Congolese", 3);
        entries.add("Congolese", 4);
        entries.add(" ", 5);
        let dictionary = entries.build().unwrap();
        let text = "Papua New Guinea, Guinean Guinea-Bissau Congolese guinea";
        let found: Vec<(&str, &[i32])> = dictionary
            .find(text, 0..text.len())
            .into_iter()
            .map(|(span, values)| (&text[span], values))
            .collect();
        assert_eq!(
            found,
            [
                ("Papua New Guinea", &[2][..]),
                ("Guinea", &[1][..]),
                ("Congolese", &[3, 4][..]),
            ]
        );
    }

    #[test]
    fn any_case_entries_match_in_any_ascii_case_within_a_range() {
        let mut entries = Entries::any_case();
        entries.add("State Department", "us-state-department");
        let dictionary = entries.build().unwrap();
        let text = "the State Department and the state department";
        let found: Vec<Range<usize>> = dictionary
            .find(text, 4..text.len())
            .into_iter()
            .map(|(span, _)| span)
            .collect();
        assert_eq!(found, [4..20, 29..45]);
    }
}
