//! Entities and their validation; knows neither sled nor GraphQL.

pub mod date;
pub mod model;
pub mod text;

pub use date::{DateError, PartialDate};
pub use model::*;

/// A whole graph of entities, as the built-in dataset (or a later import) provides it.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub countries: Vec<Country>,
    pub sources: Vec<Source>,
    pub people: Vec<Person>,
    pub organizations: Vec<Organization>,
    pub agreements: Vec<Agreement>,
    pub relations: Vec<Relation>,
    pub missions: Vec<Mission>,
    pub events: Vec<Event>,
    pub statements: Vec<Statement>,
}
