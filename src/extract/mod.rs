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
