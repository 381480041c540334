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

/// Any storable entity, for writes that mix kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Fact {
    Country(Country),
    Source(Source),
    Person(Person),
    Organization(Organization),
    Agreement(Agreement),
    Relation(Relation),
    Mission(Mission),
    Event(Event),
    Statement(Statement),
}

impl Fact {
    pub fn node(&self) -> NodeRef {
        let (kind, key) = match self {
            Fact::Country(e) => (NodeKind::Country, &e.code),
            Fact::Source(e) => (NodeKind::Source, &e.key),
            Fact::Person(e) => (NodeKind::Person, &e.key),
            Fact::Organization(e) => (NodeKind::Organization, &e.key),
            Fact::Agreement(e) => (NodeKind::Agreement, &e.key),
            Fact::Relation(e) => (NodeKind::Relation, &e.key),
            Fact::Mission(e) => (NodeKind::Mission, &e.key),
            Fact::Event(e) => (NodeKind::Event, &e.key),
            Fact::Statement(e) => (NodeKind::Statement, &e.key),
        };
        NodeRef::new(kind, key.clone())
    }
}

impl Graph {
    /// Adds an entity to its kind's list.
    pub fn push(&mut self, fact: Fact) {
        match fact {
            Fact::Country(e) => self.countries.push(e),
            Fact::Source(e) => self.sources.push(e),
            Fact::Person(e) => self.people.push(e),
            Fact::Organization(e) => self.organizations.push(e),
            Fact::Agreement(e) => self.agreements.push(e),
            Fact::Relation(e) => self.relations.push(e),
            Fact::Mission(e) => self.missions.push(e),
            Fact::Event(e) => self.events.push(e),
            Fact::Statement(e) => self.statements.push(e),
        }
    }

    /// Every entity, in an order where each one's references come before it.
    pub fn into_facts(self) -> Vec<Fact> {
        let mut out = Vec::new();
        out.extend(self.countries.into_iter().map(Fact::Country));
        out.extend(self.sources.into_iter().map(Fact::Source));
        out.extend(self.organizations.into_iter().map(Fact::Organization));
        out.extend(self.people.into_iter().map(Fact::Person));
        out.extend(self.agreements.into_iter().map(Fact::Agreement));
        out.extend(self.events.into_iter().map(Fact::Event));
        out.extend(self.relations.into_iter().map(Fact::Relation));
        out.extend(self.missions.into_iter().map(Fact::Mission));
        out.extend(self.statements.into_iter().map(Fact::Statement));
        out
    }
}
