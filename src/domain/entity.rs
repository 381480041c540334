//! What every kind of fact shares: its key, the names it is found by, and the references and
//! citations it makes (which the stores index backwards).

use super::*;
use serde::{de::DeserializeOwned, Serialize};

/// The ways one entity refers to another; each is an index the API reads backwards
/// ("agreements whose party is XK").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Party,
    Broker,
    Signatory,
    RelationParty,
    RelationAgreement,
    MissionSending,
    MissionHost,
    EventCountry,
    EventParticipant,
    EventAgreement,
    Speaker,
    About,
    StatementEvent,
    PostCountry,
    PostOrganization,
    OrganizationCountry,
    /// A citation of a source, from any fact.
    Cites,
    SignatoryCountry,
    ProvisionActor,
    RelationEvent,
    MembershipCountry,
    MembershipOrganization,
}

impl Role {
    /// The kinds of node that refer in this role (a citation can come from any fact).
    pub fn referrer_kinds(self) -> Kinds {
        let kind = match self {
            Role::Party | Role::Broker | Role::Signatory => NodeKind::Agreement,
            Role::SignatoryCountry | Role::ProvisionActor => NodeKind::Agreement,
            Role::RelationParty | Role::RelationAgreement | Role::RelationEvent => {
                NodeKind::Relation
            }
            Role::MissionSending | Role::MissionHost => NodeKind::Mission,
            Role::EventCountry | Role::EventParticipant | Role::EventAgreement => NodeKind::Event,
            Role::Speaker | Role::About | Role::StatementEvent => NodeKind::Statement,
            Role::PostCountry | Role::PostOrganization => NodeKind::Person,
            Role::OrganizationCountry => NodeKind::Organization,
            Role::MembershipCountry | Role::MembershipOrganization => NodeKind::Membership,
            Role::Cites => return Kinds::ALL,
        };
        Kinds::of(kind)
    }

    /// The role's stable name (stores key their reverse indexes by it).
    pub fn tag(self) -> &'static str {
        match self {
            Role::Party => "party",
            Role::Broker => "broker",
            Role::Signatory => "signatory",
            Role::RelationParty => "relation-party",
            Role::RelationAgreement => "relation-agreement",
            Role::MissionSending => "mission-sending",
            Role::MissionHost => "mission-host",
            Role::EventCountry => "event-country",
            Role::EventParticipant => "event-participant",
            Role::EventAgreement => "event-agreement",
            Role::Speaker => "speaker",
            Role::About => "about",
            Role::StatementEvent => "statement-event",
            Role::PostCountry => "post-country",
            Role::PostOrganization => "post-organization",
            Role::OrganizationCountry => "organization-country",
            Role::Cites => "cites",
            Role::SignatoryCountry => "signatory-country",
            Role::ProvisionActor => "provision-actor",
            Role::RelationEvent => "relation-event",
            Role::MembershipCountry => "membership-country",
            Role::MembershipOrganization => "membership-organization",
        }
    }
}

/// A kind of stored fact. `Into<Fact>`/`TryFrom<Fact>` come from the registry: backends speak
/// `Fact`, and the store hands out each kind's own type.
pub trait Entity:
    Serialize + DeserializeOwned + Send + Sync + 'static + Into<Fact> + TryFrom<Fact, Error = Fact>
{
    const KIND: NodeKind;
    fn key(&self) -> &str;
    /// Names and aliases, for the folded name index.
    fn names(&self) -> Vec<&str> {
        Vec::new()
    }
    /// Outgoing references, for the reverse indexes (citations included, see `cited`).
    fn references(&self) -> Vec<(Role, NodeRef)> {
        Vec::new()
    }
    /// Every citation the entity makes.
    fn cited(&self) -> Vec<&Citation> {
        Vec::new()
    }
}

/// All outgoing references of an entity, citations of sources included.
pub fn all_references<E: Entity>(entity: &E) -> Vec<(Role, NodeRef)> {
    let mut refs = entity.references();
    let mut sources: Vec<&str> = entity.cited().iter().map(|c| c.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    refs.extend(
        sources
            .into_iter()
            .map(|s| (Role::Cites, NodeRef::new(NodeKind::Source, s))),
    );
    refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dataset::{load, DatasetFiles};

    /// A cached response that read referrers in some role is dropped when a node of that
    /// role's referrer kind changes: the kinds must be right for every reference there is.
    #[test]
    fn every_reference_is_made_by_a_kind_its_role_names() {
        fn check<E: Entity>(items: &[E]) {
            for item in items {
                for (role, _) in all_references(item) {
                    assert!(
                        role.referrer_kinds().contains(E::KIND),
                        "{:?} from a {}",
                        role,
                        E::KIND
                    );
                }
            }
        }
        let g = load(&DatasetFiles::builtin()).unwrap();
        macro_rules! check_every_kind {
            (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
                $(check(&g.$plural);)*
            };
        }
        crate::with_kinds!(check_every_kind);
    }
}
