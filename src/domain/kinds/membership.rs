//! Membership: a country's standing towards an organization (a member, an applicant, a
//! candidate, one that intends to join, or one that has left), with its dates and citations.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub key: String,
    /// The country's code.
    pub country: String,
    /// The organization's key.
    pub organization: String,
    pub status: MembershipStatus,
    /// When the status began (joined, applied, became a candidate, said it intends to join,
    /// left).
    pub since: Option<PartialDate>,
    /// When it ended, if it has.
    pub until: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

named_enum!(MembershipStatus {
    Member = "MEMBER",
    Applicant = "APPLICANT",
    Candidate = "CANDIDATE",
    IntendsToJoin = "INTENDS_TO_JOIN",
    Withdrawn = "WITHDRAWN",
});

impl Entity for Membership {
    const KIND: NodeKind = NodeKind::Membership;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        vec![
            (Role::MembershipCountry, NodeRef::country(&self.country)),
            (
                Role::MembershipOrganization,
                NodeRef::new(NodeKind::Organization, &self.organization),
            ),
        ]
    }
}
