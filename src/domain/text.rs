//! Text folding shared by name lookups: letter case and diacritics do not matter.

/// Lower-cases, strips diacritics (Vučić → vucic) and turns every run of non-alphanumerics into
/// one space, so that "Haradinaj-Stublla" and "haradinaj stublla" fold alike.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `needle` (already folded) occurs in `haystack` at word boundaries' start:
/// "vucic" matches "aleksandar vucic", "haradinaj" matches "meliza haradinaj stublla",
/// "ash" matches "gabi ashkenazi", but "nazi" does not.
pub fn folded_matches(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    haystack
        .match_indices(needle)
        .any(|(i, _)| i == 0 || haystack.as_bytes()[i - 1] == b' ')
}

/// Number of Unicode scalar values, the unit of citation offsets.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_diacritics_and_punctuation() {
        assert_eq!(fold("Aleksandar Vučić"), "aleksandar vucic");
        assert_eq!(fold("  Haradinaj-Stublla "), "haradinaj stublla");
        assert_eq!(fold("Kosovo’s"), "kosovo s");
    }

    #[test]
    fn matches_at_word_starts_only() {
        assert!(folded_matches("aleksandar vucic", "vucic"));
        assert!(folded_matches("gabi ashkenazi", "ash"));
        assert!(folded_matches(
            "meliza haradinaj stublla",
            "haradinaj stublla"
        ));
        assert!(!folded_matches("gabi ashkenazi", "nazi"));
    }
}
