//! Membership: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::{self, text, Fact, NodeKind, NodeRef, Role};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
use crate::graphql::error::{ApiError, OrGqlError};
use crate::graphql::id;
use crate::graphql::inputs::*;
use crate::graphql::kinds::*;
use crate::graphql::lean::{Lean, LeanList};
use crate::graphql::mutation::unwrap_fact;
use crate::graphql::mutation::*;
use crate::graphql::query::*;
use crate::graphql::types::*;
use crate::ingest::write::Mode;
use crate::store::KeyRole;
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use std::sync::Arc;

/// Where a country stands towards an organization.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MembershipStatus")]
pub enum MembershipStatus {
    Member,
    Applicant,
    Candidate,
    /// It has said it intends to join.
    IntendsToJoin,
    /// It was a member, and has left.
    Withdrawn,
}

#[derive(Clone)]
pub struct MembershipObj(pub Arc<domain::Membership>);

/// A country's membership of, application to, candidacy for, intention to join, or departure
/// from an organization.
#[Object(name = "Membership")]
impl MembershipObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Membership, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Membership, &self.0.key))
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Lean<CountryObj>> {
        Ok(Lean(
            country(ctx, Some(&self.0.country))
                .await?
                .ok_or_else(|| missing("country", &self.0.country))?,
        ))
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Lean<OrganizationObj>> {
        Ok(Lean(
            load_one(ctx, &self.0.organization)
                .await?
                .map(OrganizationObj)
                .ok_or_else(|| missing("organization", &self.0.organization))?,
        ))
    }
    async fn status(&self) -> MembershipStatus {
        self.0.status.into()
    }
    /// When the status began: joined, applied, became a candidate, said it intends to join,
    /// or left.
    async fn since(&self) -> Option<DateScalar> {
        date(self.0.since)
    }
    /// When the status ended, if it has.
    async fn until(&self) -> Option<DateScalar> {
        date(self.0.until)
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    MembershipConnection, MembershipEdge, MembershipObj;
}

#[derive(InputObject, Default)]
pub struct MembershipFilter {
    /// ISO 3166-1 alpha-2 or alpha-3.
    pub country: Option<String>,
    /// The organization's name, one of its aliases (EU), its key or its id; letter case and
    /// diacritics are ignored.
    pub organization: Option<String>,
    pub status: Option<MembershipStatus>,
}

/// The keys of the organizations an argument names: by id or key, else every organization
/// whose name or an alias is the argument (folded). None named: the caller's mistake.
async fn organizations_named(ctx: &Context<'_>, name: &str, argument: &str) -> Result<Vec<String>> {
    let key = key_of(NodeKind::Organization, name);
    if load_one::<domain::Organization>(ctx, &key).await?.is_some() {
        return Ok(vec![key]);
    }
    let name = name_arg(name, argument)?;
    let wanted = text::fold(&name);
    let found = reader(ctx)
        .find_by_name::<domain::Organization>(&name)
        .await
        .gql()?;
    let keys: Vec<String> = load_many::<domain::Organization>(ctx, &found)
        .await?
        .into_iter()
        .filter(|o| {
            std::iter::once(&o.name)
                .chain(&o.aliases)
                .any(|n| text::fold(n) == wanted)
        })
        .map(|o| o.key.clone())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::bad_input(format!(
            "`{argument}`: no organization is named '{name}'"
        )))
        .gql();
    }
    Ok(keys)
}

#[derive(Default)]
pub struct MembershipQuery;

#[Object]
impl MembershipQuery {
    /// Memberships, applications, candidacies, intentions to join and departures.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        filter: Option<MembershipFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<MembershipConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = by_country(
            ctx,
            Candidates::All,
            filter.country.as_deref(),
            "filter.country",
            Role::MembershipCountry,
        )
        .await?;
        if let Some(name) = &filter.organization {
            let organizations = organizations_named(ctx, name, "filter.organization").await?;
            candidates = match organizations.as_slice() {
                [one] => {
                    let target = NodeRef::new(NodeKind::Organization, one.as_str());
                    candidates
                        .referring_to(ctx, target, Role::MembershipOrganization)
                        .await?
                }
                several => {
                    let mut members = Vec::new();
                    for key in several {
                        let target = NodeRef::new(NodeKind::Organization, key.as_str());
                        let keys = referrers(ctx, target, Role::MembershipOrganization).await?;
                        members.extend(keys.iter().cloned());
                    }
                    candidates.narrow(ctx, members).await?
                }
            };
        }
        let status = filter.status.map(domain::MembershipStatus::from);
        list(
            ctx,
            candidates,
            status.is_some(),
            page,
            |m: &domain::Membership| status.is_none_or(|s| m.status == s),
            MembershipObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct MembershipInput {
    pub key: Option<String>,
    /// ISO 3166-1 alpha-2 or alpha-3.
    pub country: String,
    /// The organization's id or key.
    pub organization: ID,
    pub status: MembershipStatus,
    pub since: Option<DateScalar>,
    pub until: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

impl MembershipInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Membership(MembershipRecord {
            key: self.key.unwrap_or_default(),
            country: self.country,
            organization: key_of(NodeKind::Organization, &self.organization),
            status: Named(self.status.into()),
            since: date_text(self.since),
            until: date_text(self.until),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct MembershipMutation;

#[Object]
impl MembershipMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_membership(
        &self,
        ctx: &Context<'_>,
        input: MembershipInput,
    ) -> Result<MembershipObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Membership,
            MembershipObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_membership(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MembershipInput,
        expected_revision: Option<i32>,
    ) -> Result<MembershipObj> {
        let record = keyed(input.record(None), NodeKind::Membership, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Membership,
            MembershipObj
        )
    }
}

impl KindApi for domain::Membership {
    type Object = MembershipObj;
    type Query = MembershipQuery;
    type Mutation = MembershipMutation;
    type Input = MembershipInput;

    fn object(entity: Arc<Self>) -> MembershipObj {
        MembershipObj(entity)
    }

    fn input_record(input: MembershipInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }
}
