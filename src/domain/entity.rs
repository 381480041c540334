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
        }
    }
}

pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
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

fn country(code: &str) -> NodeRef {
    NodeRef::new(NodeKind::Country, code)
}

impl Entity for Country {
    const KIND: NodeKind = NodeKind::Country;
    fn key(&self) -> &str {
        &self.code
    }
    fn names(&self) -> Vec<&str> {
        let mut names = vec![self.name.as_str()];
        names.extend(self.official_name.as_deref());
        names.extend(self.aliases.iter().map(String::as_str));
        names
    }
}

impl Entity for Source {
    const KIND: NodeKind = NodeKind::Source;
    fn key(&self) -> &str {
        &self.key
    }
}

impl Entity for Person {
    const KIND: NodeKind = NodeKind::Person;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.posts.iter().flat_map(|p| &p.sources).collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let mut refs = Vec::new();
        for post in &self.posts {
            refs.extend(
                post.country
                    .as_deref()
                    .map(|c| (Role::PostCountry, country(c))),
            );
            refs.extend(post.organization.as_deref().map(|o| {
                (
                    Role::PostOrganization,
                    NodeRef::new(NodeKind::Organization, o),
                )
            }));
        }
        refs
    }
}

impl Entity for Organization {
    const KIND: NodeKind = NodeKind::Organization;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        self.country
            .as_deref()
            .map(|c| (Role::OrganizationCountry, country(c)))
            .into_iter()
            .collect()
    }
}

impl Entity for Agreement {
    const KIND: NodeKind = NodeKind::Agreement;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources
            .iter()
            .chain(self.provisions.iter().flat_map(|p| &p.sources))
            .collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.title.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let parties = self.parties.iter().map(|c| (Role::Party, country(c)));
        let brokers = self.brokers.iter().map(|c| (Role::Broker, country(c)));
        let signatories = self
            .signatories
            .iter()
            .map(|s| (Role::Signatory, NodeRef::new(NodeKind::Person, &s.person)));
        let signatory_countries = self
            .signatories
            .iter()
            .filter_map(|s| s.country.as_deref())
            .map(|c| (Role::SignatoryCountry, country(c)));
        let actors = self
            .provisions
            .iter()
            .filter_map(|p| p.actor.as_deref())
            .map(|c| (Role::ProvisionActor, country(c)));
        parties
            .chain(brokers)
            .chain(signatories)
            .chain(signatory_countries)
            .chain(actors)
            .collect()
    }
}

impl Entity for Relation {
    const KIND: NodeKind = NodeKind::Relation;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let mut refs = vec![
            (Role::RelationParty, country(&self.subject)),
            (Role::RelationParty, country(&self.object)),
        ];
        refs.extend(self.agreement.as_deref().map(|a| {
            (
                Role::RelationAgreement,
                NodeRef::new(NodeKind::Agreement, a),
            )
        }));
        refs.extend(
            self.event
                .as_deref()
                .map(|e| (Role::RelationEvent, NodeRef::new(NodeKind::Event, e))),
        );
        refs
    }
}

impl Entity for Mission {
    const KIND: NodeKind = NodeKind::Mission;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    /// The city, so that missions are found by city through the name index.
    fn names(&self) -> Vec<&str> {
        self.city.as_deref().into_iter().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        vec![
            (Role::MissionSending, country(&self.sending_country)),
            (Role::MissionHost, country(&self.host_country)),
        ]
    }
}

impl Entity for Event {
    const KIND: NodeKind = NodeKind::Event;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let countries = self
            .countries
            .iter()
            .map(|c| (Role::EventCountry, country(c)));
        let people = self
            .participants
            .iter()
            .map(|p| (Role::EventParticipant, NodeRef::new(NodeKind::Person, p)));
        let agreement = self
            .agreement
            .as_deref()
            .map(|a| (Role::EventAgreement, NodeRef::new(NodeKind::Agreement, a)));
        countries.chain(people).chain(agreement).collect()
    }
}

impl Entity for Statement {
    const KIND: NodeKind = NodeKind::Statement;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        vec![&self.source]
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let speaker = self.speaker.clone().map(|s| (Role::Speaker, s));
        let event = self
            .event
            .as_deref()
            .map(|e| (Role::StatementEvent, NodeRef::new(NodeKind::Event, e)));
        let about = self.about.iter().cloned().map(|a| (Role::About, a));
        speaker.into_iter().chain(event).chain(about).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{load, DatasetFiles};

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
            (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident }),* $(,)?) => {
                $(check(&g.$plural);)*
            };
        }
        crate::with_kinds!(check_every_kind);
    }
}
