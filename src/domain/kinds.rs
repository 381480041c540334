//! The registry of stored kinds of fact: the one list every per-kind table is expanded from.
//!
//! Adding a kind means a line here (and its variant in `NodeKind`, which the compiler checks
//! against this list); the stores' trees, the seed and export order, the reference index's
//! staging, node lookup by id and the `Fact` and `Record` enums all expand from it, so none of
//! them can forget a kind.

mod agreement;
mod country;
mod event;
mod membership;
mod mission;
mod organization;
mod person;
mod relation;
mod source;
mod statement;

pub use agreement::*;
pub use country::*;
pub use event::*;
pub use membership::*;
pub use mission::*;
pub use organization::*;
pub use person::*;
pub use relation::*;
pub use source::*;
pub use statement::*;

/// Calls `$callback!` with every stored kind, in the order where each kind's references come
/// before it (the order of the seed, of an import's held-back references and of an export).
/// Each entry names the domain type (also the `NodeKind` variant and the `Fact` and `Record`
/// variant), its key field, its plural (the store's tree and the `Graph` field), its record
/// type in `facts`, and whether an article's facts can include it (`addSource`). Tokens after
/// the callback's name reach it first, in parentheses.
#[macro_export]
macro_rules! with_kinds {
    ($($callback:tt)::+ $(, $($args:tt)*)?) => {
        $($callback)::+! {
            ($($($args)*)?)
            Country { key: code, plural: countries, record: CountryRecord, with_source: no },
            Source { key: key, plural: sources, record: SourceRecord, with_source: no },
            Organization { key: key, plural: organizations, record: OrganizationRecord, with_source: yes },
            Person { key: key, plural: people, record: PersonRecord, with_source: yes },
            Agreement { key: key, plural: agreements, record: AgreementRecord, with_source: yes },
            Event { key: key, plural: events, record: EventRecord, with_source: yes },
            Relation { key: key, plural: relations, record: RelationRecord, with_source: yes },
            Mission { key: key, plural: missions, record: MissionRecord, with_source: yes },
            Membership { key: key, plural: memberships, record: MembershipRecord, with_source: yes },
            Statement { key: key, plural: statements, record: StatementRecord, with_source: yes },
        }
    };
}

// Every kind of node, stored or not. Index values written before storage format 3 (postcard)
// hold a `NodeRef`'s kind by its position here: a new kind goes last.
named_enum!(NodeKind {
    Country = "Country",
    Person = "Person",
    Organization = "Organization",
    Agreement = "Agreement",
    Provision = "Provision",
    Relation = "Relation",
    Mission = "Mission",
    Event = "Event",
    Statement = "Statement",
    Source = "Source",
    Membership = "Membership",
});

macro_rules! stored_kinds {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// Every stored kind, references first.
        pub const STORED: &[NodeKind] = &[$(NodeKind::$kind),*];

        impl NodeKind {
            /// Whether facts of this kind are stored on their own (a provision lives inside
            /// its agreement). Exhaustive, so `NodeKind` and the registry cannot disagree.
            pub const fn is_stored(self) -> bool {
                match self {
                    $(NodeKind::$kind => true,)*
                    NodeKind::Provision => false,
                }
            }

            /// The plural name of a stored kind (its tree, its `Graph` field); a provision's is
            /// its agreement's.
            pub const fn plural(self) -> &'static str {
                match self {
                    $(NodeKind::$kind => stringify!($plural),)*
                    NodeKind::Provision => NodeKind::Agreement.plural(),
                }
            }
        }
    };
}
with_kinds!(stored_kinds);

/// How many kinds a `Kinds` set can hold; a compile error names the limit if `NodeKind` outgrows it.
const KINDS_CAPACITY: usize = u32::BITS as usize;
const _: () = assert!(
    NodeKind::ALL.len() <= KINDS_CAPACITY,
    "Kinds holds at most 32 kinds: widen it"
);

/// A set of node kinds. Provisions live inside their agreement, so they count as agreements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kinds(u32);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    pub const ALL: Kinds = Kinds(((1u64 << NodeKind::ALL.len()) - 1) as u32);

    pub const fn of(kind: NodeKind) -> Kinds {
        let kind = match kind {
            NodeKind::Provision => NodeKind::Agreement,
            other => other,
        };
        Kinds(1 << kind as u32)
    }

    pub const fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub fn contains(self, kind: NodeKind) -> bool {
        self.0 & Kinds::of(kind).0 != 0
    }

    /// The set as bits, bit `kind as u32` for each kind (for atomics).
    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn from_bits(bits: u32) -> Kinds {
        Kinds(bits & Kinds::ALL.0)
    }
}

impl FromIterator<NodeKind> for Kinds {
    fn from_iter<I: IntoIterator<Item = NodeKind>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Kinds::NONE, |acc, k| acc.and(Kinds::of(k)))
    }
}

/// Calls `$body` with the entity inside a `Fact`, bound to `$e` with its own type.
#[macro_export]
macro_rules! with_entity {
    ($fact:expr, $e:ident => $body:expr) => {
        $crate::with_kinds!($crate::match_every_kind_of_fact, ($fact), $e, ($body))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! match_every_kind_of_fact {
    ((($fact:expr), $e:ident, ($body:expr)) $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        match $fact {
            $($crate::domain::Fact::$kind($e) => $body,)*
        }
    };
}

/// Runs `$body` once per stored kind, references first, with `$ty` naming the kind's type.
#[macro_export]
macro_rules! for_every_kind {
    ($ty:ident => $body:block) => {
        $crate::with_kinds!($crate::for_every_kind_body, $ty, $body)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! for_every_kind_body {
    (($ty:ident, $body:block) $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        $({
            type $ty = $crate::domain::$kind;
            $body
        })*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_kind_but_provision_is_stored_once_with_its_own_plural() {
        for kind in NodeKind::ALL {
            assert_eq!(kind.is_stored(), STORED.contains(kind), "{kind}");
        }
        let mut plurals: Vec<&str> = STORED.iter().map(|k| k.plural()).collect();
        plurals.sort_unstable();
        plurals.dedup();
        assert_eq!(plurals.len(), STORED.len());
        assert_eq!(NodeKind::Provision.plural(), "agreements");
    }

    #[test]
    fn provisions_count_as_agreements_and_all_holds_every_kind() {
        assert_eq!(
            Kinds::of(NodeKind::Provision),
            Kinds::of(NodeKind::Agreement)
        );
        for kind in NodeKind::ALL {
            assert!(Kinds::ALL.contains(*kind));
        }
        assert_eq!(Kinds::from_bits(u32::MAX), Kinds::ALL);
    }
}
