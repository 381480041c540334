//! Direct quotes and who said them: words in quotation marks (or after "saying in a tweet:"),
//! attributed to the person the sentence names before the quote (not as an object: "thanked
//! Haradinaj for"), else the one named right after it ("…,” President Trump said"), else the
//! person a pronoun or "the foreign minister" points back to, else, for a paragraph that is only
//! a quote, the speaker of the quote before it.

use super::article::Article;
use super::people::{KnownPerson, PersonMention};
use crate::domain::StatementMedium;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct QuoteMention {
    /// The quoted words, without their marks: bytes of the article's text.
    pub quoted: Range<usize>,
    /// What cites the quote: from the start of its sentence to the end of the quote.
    pub span: Range<usize>,
    pub speaker: Option<KnownPerson>,
    pub medium: Option<StatementMedium>,
}

/// Quotes shorter than this are scare quotes or titles ("historic"), not statements.
const WORDS_AT_LEAST: usize = 4;

/// Words before which a name is an object, not a speaker.
const OBJECT_BEFORE: [&str; 9] = [
    "to", "with", "for", "by", "of", "from", "and", "thanked", "told",
];

/// Words that introduce an unquoted quote after a colon ("saying in a tweet: Deeper ties…").
const COLON_AFTER: [&str; 7] = [
    "tweet", "tweeted", "said", "saying", "wrote", "stated", "posted",
];

/// Every direct quote of the body, in text order; `people` are the article's person mentions.
pub fn quotes(article: &Article, people: &[PersonMention]) -> Vec<QuoteMention> {
    let text = &article.text;
    let mut found: Vec<QuoteMention> = Vec::new();
    for quoted in quoted_spans(text, article.body_start) {
        if text[quoted.clone()].split_whitespace().count() < WORDS_AT_LEAST {
            continue;
        }
        let clause_start = clause_start(text, article.body_start, quoted.start);
        let outside_quotes = |m: &&PersonMention| {
            !found.iter().any(|q| contains(&q.quoted, &m.span)) && !contains(&quoted, &m.span)
        };
        let before = people
            .iter()
            .filter(outside_quotes)
            .filter(|m| clause_start <= m.span.start && m.span.end <= quoted.start)
            .find(|m| !is_object(text, &m.span));
        // The attribution after the quote: from past its closing marks to the sentence's end.
        let close = quoted.end
            + (text[quoted.end..].len()
                - text[quoted.end..]
                    .trim_start_matches([',', ' ', '”', '"', '’'])
                    .len());
        let following = close
            ..text[close..]
                .find(['.', '\n', '“', '"'])
                .map_or(text.len(), |end| close + end);
        let after = || {
            people
                .iter()
                .find(|m| contains(&following, &m.span) && m.span.start < close + 48)
        };
        let speaker = before
            .or_else(after)
            .map(|m| m.person.clone())
            .or_else(|| pointed_back(text, clause_start..quoted.start, people))
            .or_else(|| continued(text, &quoted, &found));
        let attribution = &text[clause_start..quoted.start];
        found.push(QuoteMention {
            span: clause_start..quoted.end,
            medium: medium(attribution).or_else(|| medium(&text[following])),
            quoted,
            speaker,
        });
    }
    found
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The quoted spans: between “ and ”, or a pair of " within a paragraph, or after a colon that
/// follows a word of speech, to the end of the sentence.
fn quoted_spans(text: &str, from: usize) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut at = from;
    while let Some(offset) = text[at..].find(['“', '"', ':']) {
        let open = at + offset;
        let mark = text[open..].chars().next().unwrap_or(':');
        let inner_start = open + mark.len_utf8();
        let close_mark = match mark {
            '“' => '”',
            '"' => '"',
            _ => {
                at = inner_start;
                if let Some(span) = after_colon(text, open) {
                    at = span.end;
                    spans.push(span);
                }
                continue;
            }
        };
        let paragraph_end = text[inner_start..]
            .find('\n')
            .map_or(text.len(), |e| inner_start + e);
        match text[inner_start..paragraph_end].find(close_mark) {
            Some(length) => {
                let inner = inner_start..inner_start + length;
                // The quote's own closing comma belongs to the attribution.
                let trimmed = text[inner.clone()].trim_end_matches([',', ' ']).len();
                spans.push(inner.start..inner.start + trimmed);
                at = inner.end + close_mark.len_utf8();
            }
            // An unclosed quote runs to the end of its paragraph (a quote continued in the next).
            None => {
                spans.push(inner_start..paragraph_end);
                at = paragraph_end;
            }
        }
    }
    spans
}

/// "saying in a tweet: Deeper international ties…": the words after the colon, to the end of
/// the sentence, when a word of speech comes right before it and no quotation mark after.
fn after_colon(text: &str, colon: usize) -> Option<Range<usize>> {
    let word = text[..colon].rsplit(' ').next()?;
    if !COLON_AFTER.contains(&word) {
        return None;
    }
    let start = colon + 2;
    let first = text.get(start..)?.chars().next()?;
    if !text[colon..].starts_with(": ") || !first.is_uppercase() {
        return None;
    }
    let rest = &text[start..];
    let end = rest
        .match_indices(['.', '!', '?'])
        .find(|(at, _)| rest[at + 1..].starts_with([' ', '\n']) || at + 1 == rest.len())
        .map_or(rest.len(), |(at, _)| at + 1);
    let end = rest[..end].find('\n').unwrap_or(end);
    Some(start..start + end)
}

/// Where the sentence holding byte `at` starts: after the last stop followed by a space, or the
/// last line break, before it (quoted text included, so a stop inside a quote counts too).
fn clause_start(text: &str, floor: usize, at: usize) -> usize {
    let before = &text[floor..at];
    let line = before.rfind('\n').map_or(0, |l| l + 1);
    let stop = before
        .match_indices(['.', '!', '?'])
        .filter(|(i, _)| before[i + 1..].starts_with(' '))
        .filter(|(i, _)| !before[..*i].ends_with(char::is_uppercase)) // "U.S." "Mr. A"
        .filter(|(i, _)| !before[..*i].ends_with("Mr"))
        .map(|(i, _)| i + 2)
        .next_back()
        .unwrap_or(0);
    floor + line.max(stop)
}

fn is_object(text: &str, span: &Range<usize>) -> bool {
    let word = text[..span.start]
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap_or_default();
    OBJECT_BEFORE.contains(&word) || word == "Mr." || word == "Ms."
}

/// "she", "he", "the foreign minister" before the quote in its sentence: the last person named
/// before that sentence, or the last whose post's title the words name.
fn pointed_back(text: &str, clause: Range<usize>, people: &[PersonMention]) -> Option<KnownPerson> {
    let words = text[clause.clone()].to_lowercase();
    let mut earlier = people
        .iter()
        .rev()
        .filter(|m| m.span.end <= clause.start && !is_object(text, &m.span));
    let has_word = |w: &str| words.split(|c: char| !c.is_alphabetic()).any(|x| x == w);
    if has_word("she") || has_word("he") {
        return earlier.next().map(|m| m.person.clone());
    }
    let titled: Vec<&KnownPerson> = people
        .iter()
        .filter(|m| m.span.end <= clause.start)
        .filter(|m| {
            m.post
                .as_ref()
                .is_some_and(|post| words.contains(&format!("the {}", post.title.to_lowercase())))
        })
        .map(|m| &m.person)
        .collect();
    // Of the people so titled, the one named last as a subject, else the last so titled.
    earlier
        .find(|m| titled.contains(&&m.person))
        .map(|m| &m.person)
        .or_else(|| titled.last().copied())
        .cloned()
}

/// A paragraph that is only a quote continues the speaker of the quote before it.
fn continued(text: &str, quoted: &Range<usize>, found: &[QuoteMention]) -> Option<KnownPerson> {
    let opens_paragraph = text[..quoted.start]
        .trim_end_matches(['“', '"'])
        .ends_with('\n');
    if !opens_paragraph {
        return None;
    }
    found.last().and_then(|q| q.speaker.clone())
}

/// The medium the words around a quote name, if any.
fn medium(words: &str) -> Option<StatementMedium> {
    let words = words.to_lowercase();
    let starts_a_word = |prefix: &str| {
        words
            .split(|c: char| !c.is_alphabetic())
            .any(|w| w.starts_with(prefix))
    };
    // "tweeeted" too: copy has typos.
    if starts_a_word("tweet") || starts_a_word("tweee") {
        Some(StatementMedium::Tweet)
    } else if words.contains("interview") {
        Some(StatementMedium::Interview)
    } else if words.contains(" call") || words.contains("phone") {
        Some(StatementMedium::PhoneCall)
    } else if words.contains("statement")
        || words.contains("stated")
        || words.contains("announcement")
    {
        Some(StatementMedium::PressStatement)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Graph;
    use crate::ingest::dataset::{load, DatasetFiles};

    fn found(graph: &Graph, text: &str) -> Vec<(String, Option<String>, Option<StatementMedium>)> {
        crate::extract::testing::extractor(graph, true)
            .extract(&Article::plain(text.into(), None))
            .quotes
            .into_iter()
            .map(|q| {
                (
                    text[q.quoted].to_string(),
                    q.speaker.map(|s| s.name),
                    q.medium,
                )
            })
            .collect()
    }

    #[test]
    fn a_quote_goes_to_the_speaker_named_before_it_after_it_or_pointed_back_to() {
        let graph = load(&DatasetFiles::builtin()).unwrap();
        let text = "Israeli Foreign Minister Gabi Ashkenazi spoke. \
                    \"We will open it in March, as agreed,\" said Ashkenazi. \
                    Kosovo Foreign Minister Meliza Haradinaj-Stublla tweeted: We are grateful to our friends. \
                    Ashkenazi thanked Haradinaj for \"leading the process of adoption here.\" \
                    She added that she \"confirmed our intention to open an embassy.\" \
                    Call it \"historic\".";
        let quotes = found(&graph, text);
        let expected = [
            (
                "We will open it in March, as agreed",
                "Gabi Ashkenazi",
                None,
            ),
            (
                "We are grateful to our friends.",
                "Meliza Haradinaj-Stublla",
                Some(StatementMedium::Tweet),
            ),
            (
                "leading the process of adoption here.",
                "Gabi Ashkenazi",
                None,
            ),
            (
                "confirmed our intention to open an embassy.",
                "Gabi Ashkenazi",
                None,
            ),
        ];
        let quotes: Vec<(&str, Option<&str>, Option<StatementMedium>)> = quotes
            .iter()
            .map(|(q, s, m)| (q.as_str(), s.as_deref(), *m))
            .collect();
        let expected: Vec<(&str, Option<&str>, Option<StatementMedium>)> = expected
            .iter()
            .map(|(q, s, m)| (*q, Some(*s), *m))
            .collect();
        assert_eq!(quotes, expected);
    }

    /// Every direct quote the curated data takes from a seed article is found there, with its
    /// speaker.
    #[test]
    fn the_seed_articles_direct_quotes_are_found_with_their_speakers() {
        let graph = load(&DatasetFiles::builtin()).unwrap();
        let mut right = 0;
        let mut total = 0;
        for statement in graph.statements.iter().filter(|s| s.direct) {
            let Some(speaker) = statement.speaker.as_ref() else {
                continue;
            };
            let source = graph
                .sources
                .iter()
                .find(|s| s.key == statement.source.source)
                .unwrap();
            let speaker_name = graph
                .people
                .iter()
                .find(|p| speaker.kind == crate::domain::NodeKind::Person && p.key == speaker.key)
                .map(|p| p.name.clone());
            let head: String = statement.text.chars().take(30).collect();
            total += 1;
            let quotes = found(&graph, &source.text);
            if quotes
                .iter()
                .any(|(q, s, _)| q.contains(head.trim_end()) && *s == speaker_name)
            {
                right += 1;
            } else {
                eprintln!(
                    "{}: not found with {speaker_name:?} in {quotes:#?}",
                    statement.key
                );
            }
        }
        assert!(total > 0);
        assert_eq!(right, total, "direct quotes found with their speaker");
    }
}
