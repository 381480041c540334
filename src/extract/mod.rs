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
