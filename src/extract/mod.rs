//! From a news article to what it states, each finding citing the span of text it came from.
//! Rules and dictionaries, no model: the gazetteer and the store's own entities are the
//! dictionaries, so the graph's knowledge is what extraction recognizes.
//!
//! Extraction reads an `Article` (its text exactly as it is stored as a source, so every span is
//! a citation) and knows nothing of the store's bytes or of GraphQL.

pub mod article;
pub mod countries;
pub mod dates;
pub mod dictionary;
pub mod eval;
pub mod organizations;
pub mod people;
pub mod quotes;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("a dictionary could not be built: {0}")]
    Dictionary(String),
    #[error("{file}: not a dictionary of this shape: {message}")]
    DictionaryFile { file: String, message: String },
}

/// Every dictionary and rule set, built once from what the graph knows, run over articles.
pub struct Extractor {
    countries: countries::CountryMatcher,
    organizations: organizations::OrganizationMatcher,
    people: people::PersonMatcher,
}

/// What an article states, as found so far: each item with the span it came from.
#[derive(Clone, Debug)]
pub struct Extraction {
    pub countries: Vec<countries::CountryMention>,
    pub organizations: Vec<organizations::OrganizationMention>,
    pub people: Vec<people::PersonMention>,
    pub quotes: Vec<quotes::QuoteMention>,
    pub dates: Vec<dates::DateMention>,
}

impl Extractor {
    /// From the graph's countries (the gazetteer), organizations and people, and the
    /// organizations dictionary.
    pub fn new(
        countries: &[crate::domain::Country],
        organizations: &[crate::domain::Organization],
        people: &[crate::domain::Person],
        dictionary: Vec<organizations::KnownOrganization>,
    ) -> Result<Extractor, ExtractError> {
        Ok(Extractor {
            countries: countries::CountryMatcher::new(countries)?,
            organizations: organizations::OrganizationMatcher::new(
                organizations,
                dictionary,
                countries,
            )?,
            people: people::PersonMatcher::new(people)?,
        })
    }

    pub fn extract(&self, article: &article::Article) -> Extraction {
        let countries = self.countries.mentions(article);
        let organizations = self.organizations.mentions(article, &countries);
        let people = self.people.mentions(article, &countries, &organizations);
        let quotes = quotes::quotes(article, &people);
        Extraction {
            dates: dates::dates(article),
            countries,
            organizations,
            people,
            quotes,
        }
    }
}

#[cfg(test)]
mod tests {
    /// Whatever the text, extraction answers: random texts made of the pieces the rules look
    /// at (quotes, stops, titles, names, letters whose lower case changes length) never make it
    /// panic.
    #[test]
    fn extraction_never_panics_on_arbitrary_text() {
        let graph = super::testing::graph();
        let extractor = super::testing::extractor(&graph, true);
        let pieces = [
            "\u{201C}",
            "\u{201D}",
            "\"",
            "'",
            "\u{2019}s",
            ":",
            ": ",
            ".",
            ". ",
            ",",
            ", ",
            "\n",
            " ",
            "the ",
            "said ",
            "tweeted: ",
            "Foreign Minister ",
            "foreign minister",
            "President ",
            "Kosovo",
            "Israeli",
            "Pristina",
            "in ",
            "Mr. ",
            "U.S.",
            "Gabi Ashkenazi",
            "Haradinaj-Stublla",
            "Vu\u{10D}i\u{107}",
            "\u{1C4}",
            "\u{212A}",
            "\u{130}",
            "\u{DF}",
            "forei\u{212A}n ministry",
            "Monday",
            "in September",
            "Sept. 4, 2020",
            "2021-02-31",
            "EU",
            "State Department",
            "foreign ministry",
            "of ",
            "she ",
            "date 2021-02-01\n",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..3000 {
            let text: String = (0..rng.usize(0..40))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let article = super::article::Article::plain(text, None);
            let _ = article.sentences();
            let _ = extractor.extract(&article);
        }
    }
}

/// What the extraction tests share: the built-in graph, an extractor that knows it, and what
/// its curated facts say a seed article refers to.
#[cfg(test)]
pub(crate) mod testing {
    use crate::domain::{all_references, Entity, Graph, NodeKind, Role};
    use crate::ingest::dataset::{load, DatasetFiles};
    use std::collections::BTreeSet;

    /// Fails naming the source and what of `expected` is not in `found`.
    pub fn assert_all_found(source: &str, expected: &BTreeSet<String>, found: &BTreeSet<String>) {
        let missing: Vec<&String> = expected.difference(found).collect();
        assert!(
            missing.is_empty(),
            "{source}: missing {missing:?}, found {found:?}"
        );
    }

    pub fn graph() -> Graph {
        load(&DatasetFiles::builtin()).unwrap()
    }

    /// An extractor that knows the graph's organizations and people (`with_store`), or only
    /// its countries and the organizations dictionary, as a new store does.
    pub fn extractor(graph: &Graph, with_store: bool) -> super::Extractor {
        let dictionary = super::organizations::builtin_dictionary().unwrap();
        match with_store {
            true => super::Extractor::new(
                &graph.countries,
                &graph.organizations,
                &graph.people,
                dictionary,
            ),
            false => super::Extractor::new(&graph.countries, &[], &[], dictionary),
        }
        .unwrap()
    }

    /// The nodes of `kind` that the curated facts citing `source` refer to (in any role but
    /// `except`), and those facts themselves when they are of that kind.
    pub fn referred(
        graph: &Graph,
        source: &str,
        kind: NodeKind,
        except: &[Role],
    ) -> BTreeSet<String> {
        fn add<E: Entity>(
            items: &[E],
            source: &str,
            kind: NodeKind,
            except: &[Role],
            out: &mut BTreeSet<String>,
        ) {
            for item in items
                .iter()
                .filter(|i| i.cited().iter().any(|c| c.source == source))
            {
                if E::KIND == kind {
                    out.insert(item.key().to_string());
                }
                out.extend(
                    all_references(item)
                        .into_iter()
                        .filter(|(role, node)| node.kind == kind && !except.contains(role))
                        .map(|(_, node)| node.key),
                );
            }
        }
        let mut out = BTreeSet::new();
        add(&graph.people, source, kind, except, &mut out);
        add(&graph.organizations, source, kind, except, &mut out);
        add(&graph.agreements, source, kind, except, &mut out);
        add(&graph.events, source, kind, except, &mut out);
        add(&graph.relations, source, kind, except, &mut out);
        add(&graph.missions, source, kind, except, &mut out);
        add(&graph.memberships, source, kind, except, &mut out);
        add(&graph.statements, source, kind, except, &mut out);
        out
    }
}
