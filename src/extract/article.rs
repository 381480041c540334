//! An article as extraction reads it: its text exactly as it will be stored as a source (so that
//! every span found in it is a valid citation), the publication date that relative dates count
//! from, and its sentences.

use crate::domain::PartialDate;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct Article {
    /// The whole text, a leading `date` line included: citations count from its start.
    pub text: String,
    pub published: Option<PartialDate>,
    /// Where the body starts (after a `date` line, if any), in bytes.
    pub body_start: usize,
}

impl Article {
    /// A plain text article, as the seed files are: an optional first line `date 2021-02-01`
    /// (blank lines and spaces around it allowed) gives the publication date, unless `published`
    /// is given.
    pub fn plain(text: String, published: Option<PartialDate>) -> Article {
        let mut body_start = 0;
        let mut dated = None;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            offset += line.len();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(date) = trimmed.strip_prefix("date ") {
                dated = date.trim().parse().ok();
                if dated.is_some() {
                    body_start = offset;
                }
            }
            break;
        }
        Article {
            published: published.or(dated),
            text,
            body_start,
        }
    }

    /// The body's sentences, as byte ranges of `text`, trimmed. A sentence ends at `.`, `?` or
    /// `!` (and any closing quotes or brackets) followed by a space and a capital letter, a digit
    /// or an opening quote, unless the word ending there is an abbreviation ("Sept.", "U.S.",
    /// "Mr."); a line break always ends one.
    pub fn sentences(&self) -> Vec<Range<usize>> {
        let mut sentences = Vec::new();
        let body = &self.text[self.body_start..];
        let mut start = 0;
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let (at, c) = chars[i];
            let ends_here = match c {
                '\n' => Some(at),
                '.' | '?' | '!' => {
                    let mut j = i + 1;
                    while j < chars.len() && is_closing(chars[j].1) {
                        j += 1;
                    }
                    let end = chars.get(j).map_or(body.len(), |&(at, _)| at);
                    let next_is_space = chars.get(j).is_some_and(|&(_, c)| c == ' ');
                    let opens_next = chars.get(j + 1).is_some_and(|&(_, c)| {
                        c.is_uppercase() || c.is_ascii_digit() || is_opening(c)
                    });
                    let at_end = j >= chars.len() || chars[j].1 == '\n';
                    let abbreviation = c == '.' && is_abbreviation(&body[start..at]);
                    ((at_end || (next_is_space && opens_next)) && !abbreviation).then_some(end)
                }
                _ => None,
            };
            if let Some(end) = ends_here {
                push_trimmed(&mut sentences, body, start..end, self.body_start);
                start = end;
            }
            i += 1;
        }
        push_trimmed(&mut sentences, body, start..body.len(), self.body_start);
        sentences
    }
}

fn push_trimmed(out: &mut Vec<Range<usize>>, body: &str, range: Range<usize>, base: usize) {
    let piece = &body[range.clone()];
    let leading = piece.len() - piece.trim_start().len();
    let trailing = piece.len() - piece.trim_end().len();
    if leading + trailing < piece.len() {
        out.push(base + range.start + leading..base + range.end - trailing);
    }
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']')
}

fn is_opening(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '‘' | '(' | '[')
}

/// Whether the text before a full stop ends with an abbreviation that does not end a
/// sentence: a title, a month, a single capital ("U.S.", "J. Smith"), "No.".
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '“' || c == '"')
        .next()
        .unwrap_or_default();
    const WORDS: [&str; 24] = [
        "Mr", "Mrs", "Ms", "Dr", "Prof", "Gen", "Sen", "Rep", "Gov", "Lt", "Col", "St", "Jan",
        "Feb", "Mar", "Apr", "Aug", "Sept", "Sep", "Oct", "Nov", "Dec", "No", "vs",
    ];
    WORDS.contains(&word)
        // "U.S" before the last stop, "J" of an initial.
        || (word.len() <= 3 && word.split('.').all(|part| part.len() == 1 && part.chars().all(char::is_uppercase)))
}

/// The offset in Unicode scalar values (what citations count in) of byte `at` of `text`.
pub fn char_offset(text: &str, at: usize) -> usize {
    text[..at].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_line_gives_the_publication_date_and_the_body_follows_it() {
        let article = Article::plain(
            " date 2021-02-01 \n\n\n\nJERUSALEM (Reuters) – Text.".into(),
            None,
        );
        assert_eq!(article.published, Some("2021-02-01".parse().unwrap()));
        assert!(article.text[article.body_start..]
            .trim_start()
            .starts_with("JERUSALEM"));
        let undated = Article::plain("Datelines are not dates.\n".into(), None);
        assert_eq!((undated.published, undated.body_start), (None, 0));
        let given = Article::plain(
            "date 2021-02-01\nText.".into(),
            Some("2020-01".parse().unwrap()),
        );
        assert_eq!(given.published, Some("2020-01".parse().unwrap()));
    }

    #[test]
    fn sentences_end_at_stops_but_not_at_abbreviations_or_initials() {
        let text = "On Sept. 4, 2020, the U.S. and Serbia agreed. Mr. Vučić said: “It is done.” \
                    Then J. Smith left! Did he? Yes\nA new line.";
        let article = Article::plain(text.into(), None);
        let sentences: Vec<&str> = article
            .sentences()
            .into_iter()
            .map(|r| &article.text[r])
            .collect();
        assert_eq!(
            sentences,
            [
                "On Sept. 4, 2020, the U.S. and Serbia agreed.",
                "Mr. Vučić said: “It is done.”",
                "Then J. Smith left!",
                "Did he?",
                "Yes",
                "A new line.",
            ]
        );
    }

    #[test]
    fn offsets_count_unicode_scalar_values() {
        let text = "Vučić – Serbia";
        let at = text.find("Serbia").unwrap();
        assert_eq!(char_offset(text, at), 8);
    }
}
