//! Entities and their validation; knows neither sled nor GraphQL.

pub mod date;
// First: its `named_enum!` is used by the kinds.
#[macro_use]
pub mod model;
mod entity;
mod kinds;
pub mod text;

pub use date::{DateError, PartialDate};
pub use entity::{all_references, Entity, Role};
pub use kinds::*;
pub use model::*;

macro_rules! facts_of_every_kind {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// A whole graph of entities, as the built-in dataset (or a later import) provides it.
        #[derive(Clone, Debug, Default)]
        pub struct Graph {
            $(pub $plural: Vec<$kind>,)*
        }

        /// Any storable entity, for writes that mix kinds.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Fact {
            $($kind($kind),)*
        }

        impl Fact {
            pub fn node(&self) -> NodeRef {
                match self {
                    $(Fact::$kind(e) => NodeRef::new(NodeKind::$kind, e.key()),)*
                }
            }
        }

        $(impl From<$kind> for Fact {
            fn from(entity: $kind) -> Fact {
                Fact::$kind(entity)
            }
        }

        impl TryFrom<Fact> for $kind {
            type Error = Fact;
            fn try_from(fact: Fact) -> Result<$kind, Fact> {
                match fact {
                    Fact::$kind(entity) => Ok(entity),
                    other => Err(other),
                }
            }
        })*

        impl Graph {
            /// Adds an entity to its kind's list.
            pub fn push(&mut self, fact: Fact) {
                match fact {
                    $(Fact::$kind(e) => self.$plural.push(e),)*
                }
            }

            /// Every entity, in an order where each one's references come before it.
            pub fn into_facts(self) -> Vec<Fact> {
                let mut out = Vec::new();
                $(out.extend(self.$plural.into_iter().map(Fact::$kind));)*
                out
            }
        }
    };
}
crate::with_kinds!(facts_of_every_kind);
