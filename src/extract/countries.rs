//! Countries named in a text: by name, official name or alias, by demonym ("Israeli",
//! "Kosovars"), and by capital where the capital stands for its government ("Pristina and
//! Belgrade agreed"), all from the gazetteer the store holds.

use super::article::Article;
use super::dictionary::{Dictionary, Entries};
use super::ExtractError;
use crate::domain::Country;
use std::ops::Range;

/// How a country was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Naming {
    Name,
    Demonym,
    /// Its capital, standing for its government.
    Capital,
}

/// A country named at `span` (bytes of the article's text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryMention {
    pub code: String,
    pub span: Range<usize>,
    pub naming: Naming,
}

/// Words after which a capital names a place, not a government ("an embassy in Jerusalem").
const PLACE_BEFORE: [&str; 16] = [
    "in", "to", "at", "from", "into", "near", "via", "outside", "across", "of", "around", "visit",
    "visited", "visiting", "East", "West",
];

pub struct CountryMatcher {
    /// Per pattern, each country it may name and how (the pattern names more than one country:
    /// ambiguous, never proposed).
    dictionary: Dictionary<(String, Naming)>,
}

impl CountryMatcher {
    pub fn new(countries: &[Country]) -> Result<CountryMatcher, ExtractError> {
        let mut entries = Entries::exact();
        let mut add = |pattern: &str, code: &str, naming: Naming| {
            // A one-letter name, or one in lower case, would match words of prose.
            let pattern = pattern.trim();
            if pattern.chars().count() >= 2 && pattern.starts_with(char::is_uppercase) {
                entries.add(pattern, (code.to_string(), naming));
            }
        };
        for country in countries {
            let code = country.code.as_str();
            add(&country.name, code, Naming::Name);
            if let Some(official) = &country.official_name {
                add(official, code, Naming::Name);
            }
            for alias in &country.aliases {
                add(alias, code, Naming::Name);
            }
            // The gazetteer joins some ("Bosnian, Herzegovinian").
            for demonym in country.demonyms.iter().flat_map(|d| d.split(',')) {
                let demonym = demonym.trim();
                add(demonym, code, Naming::Demonym);
                add(&format!("{demonym}s"), code, Naming::Demonym);
            }
            if let Some(capital) = &country.capital {
                add(capital, code, Naming::Capital);
            }
        }
        Ok(CountryMatcher {
            dictionary: entries.build()?,
        })
    }

    /// Every country the article's body names unambiguously, in text order.
    pub fn mentions(&self, article: &Article) -> Vec<CountryMention> {
        let text = &article.text;
        let mut mentions = Vec::new();
        for (span, named) in self.dictionary.find(text, article.body_start..text.len()) {
            let Some((code, _)) = named.first() else {
                continue;
            };
            if named.iter().any(|(other, _)| other != code) {
                continue;
            }
            // A name beats a capital or demonym spelled the same (Djibouti, Singapore).
            let naming = named
                .iter()
                .map(|(_, naming)| *naming)
                .min()
                .unwrap_or(Naming::Name);
            if naming == Naming::Capital && names_a_place(text, &span) {
                continue;
            }
            mentions.push(CountryMention {
                code: code.clone(),
                span,
                naming,
            });
        }
        mentions
    }
}

/// Whether a capital at `span` names the city: after a place word, or in a dateline (the start
/// of a line, before "(Reuters)" or a dash).
fn names_a_place(text: &str, span: &Range<usize>) -> bool {
    let before = &text[..span.start];
    let previous_word = before
        .trim_end()
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let dateline = before[line_start..].trim().is_empty()
        && text[span.end..]
            .trim_start()
            .starts_with(['(', '–', '-', ',']);
    PLACE_BEFORE.contains(&previous_word) || dateline
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dataset::{load, DatasetFiles};
    use std::collections::BTreeSet;

    fn matcher() -> CountryMatcher {
        let graph = load(&DatasetFiles::builtin()).unwrap();
        CountryMatcher::new(&graph.countries).unwrap()
    }

    fn named(text: &str) -> Vec<(String, Naming, String)> {
        let article = Article::plain(text.into(), None);
        matcher()
            .mentions(&article)
            .into_iter()
            .map(|m| (m.code, m.naming, text[m.span].to_string()))
            .collect()
    }

    fn codes(text: &str) -> Vec<String> {
        named(text).into_iter().map(|(code, _, _)| code).collect()
    }

    #[test]
    fn names_aliases_and_demonyms_name_their_country() {
        assert_eq!(
            named(
                "Israeli Foreign Minister Gabi Ashkenazi hailed the US-brokered deal with Kosovo."
            ),
            [
                ("IL".into(), Naming::Demonym, "Israeli".into()),
                ("US".into(), Naming::Name, "US".into()),
                ("XK".into(), Naming::Name, "Kosovo".into()),
            ]
        );
        assert_eq!(
            codes("Kosovars and Palestinians, the U.S. and the United Arab Emirates"),
            ["XK", "PS", "US", "AE"]
        );
        assert_eq!(codes("Bosnian and Herzegovinian leaders"), ["BA", "BA"]);
    }

    #[test]
    fn the_longest_name_wins_and_words_must_stand_alone() {
        assert_eq!(codes("Papua New Guinea and Guinea"), ["PG", "GN"]);
        assert_eq!(
            codes("Nigeria, not Niger; Omani, not Oman"),
            ["NG", "NE", "OM", "OM"]
        );
        assert_eq!(codes("Frances and Chadwick"), Vec::<String>::new());
    }

    #[test]
    fn a_capital_names_a_government_unless_it_names_a_place() {
        assert_eq!(
            named("Pristina and Belgrade agreed, Washington said."),
            [
                ("XK".into(), Naming::Capital, "Pristina".into()),
                ("RS".into(), Naming::Capital, "Belgrade".into()),
            ]
        );
        assert_eq!(
            codes("an embassy in Jerusalem; the status of Jerusalem; East Jerusalem"),
            Vec::<String>::new()
        );
        assert_eq!(
            codes("JERUSALEM (Reuters) – x\nBelgrade – y"),
            Vec::<String>::new()
        );
    }

    /// Every country a curated fact citing a seed article refers to is named in that article
    /// (an organization's country is what the graph knows of it, not what the article says).
    #[test]
    fn the_seed_articles_name_every_country_their_curated_facts_refer_to() {
        use crate::domain::{NodeKind, Role};
        let graph = crate::extract::testing::graph();
        let matcher = CountryMatcher::new(&graph.countries).unwrap();
        for source in &graph.sources {
            let expected = crate::extract::testing::referred(
                &graph,
                &source.key,
                NodeKind::Country,
                &[Role::OrganizationCountry],
            );
            let found: BTreeSet<String> = matcher
                .mentions(&Article::plain(source.text.clone(), None))
                .into_iter()
                .map(|m| m.code)
                .collect();
            crate::extract::testing::assert_all_found(&source.key, &expected, &found);
        }
    }

    #[test]
    fn a_name_two_countries_share_is_left_out() {
        // Congolese: DR Congo or Congo.
        assert_eq!(codes("Congolese officials"), Vec::<String>::new());
    }
}
