//! Organization: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::{self, NodeKind, NodeRef, Role};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
use crate::graphql::error::OrGqlError;
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

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::OrganizationKind")]
pub enum OrganizationKind {
    GovernmentBody,
    Intergovernmental,
    NonStateArmedGroup,
    Ngo,
    Media,
    Other,
}

#[derive(Clone)]
pub struct OrganizationObj(pub Arc<domain::Organization>);

#[Object(name = "Organization")]
impl OrganizationObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Organization, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Organization, &self.0.key))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Lean<CountryObj>>> {
        Ok(country(ctx, self.0.country.as_ref()).await?.map(Lean))
    }
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        connection_of(
            ctx,
            NodeRef::new(NodeKind::Organization, &self.0.key),
            Role::Speaker,
            first,
            after,
            StatementObj,
        )
        .await
    }
    /// The countries that are members of it, have applied, are candidates, intend to join,
    /// or have left.
    async fn members(&self, ctx: &Context<'_>) -> Result<LeanList<MembershipObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Organization, &self.0.key),
            Role::MembershipOrganization,
            MembershipObj,
        )
        .await
    }
    /// People who hold or held a post in this organization.
    async fn people(&self, ctx: &Context<'_>) -> Result<LeanList<PersonObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Organization, &self.0.key),
            Role::PostOrganization,
            PersonObj,
        )
        .await
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    OrganizationConnection, OrganizationEdge, OrganizationObj;
}

#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    pub name: Option<String>,
    pub kind: Option<OrganizationKind>,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganizationFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrganizationConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        if let Some(name) = &filter.name {
            let name = name_arg(name, "filter.name")?;
            let found = reader(ctx)
                .find_by_name::<domain::Organization>(&name)
                .await
                .gql()?;
            candidates = candidates.narrow(ctx, found).await?;
        }
        let kind = filter.kind.map(domain::OrganizationKind::from);
        list(
            ctx,
            candidates,
            kind.is_some(),
            page,
            |o: &domain::Organization| kind.is_none_or(|k| o.kind == k),
            OrganizationObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct OrganizationInput {
    pub key: Option<String>,
    pub name: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    pub kind: OrganizationKind,
    pub country: Option<String>,
    pub sources: Vec<CitationInput>,
}

impl OrganizationInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Organization(OrganizationRecord {
            key: self.key.unwrap_or_default(),
            name: self.name,
            aliases: self.aliases,
            kind: Named(self.kind.into()),
            country: self.country,
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: OrganizationInput,
    ) -> Result<OrganizationObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Organization,
            OrganizationObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: OrganizationInput,
        expected_revision: Option<i32>,
    ) -> Result<OrganizationObj> {
        let record = keyed(input.record(None), NodeKind::Organization, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Organization,
            OrganizationObj
        )
    }
}

impl KindApi for domain::Organization {
    type Object = OrganizationObj;
    type Query = OrganizationQuery;
    type Mutation = OrganizationMutation;
    type Input = OrganizationInput;

    fn object(entity: Arc<Self>) -> OrganizationObj {
        OrganizationObj(entity)
    }

    fn input_record(input: OrganizationInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }

    fn search_text(object: &OrganizationObj) -> String {
        object.0.name.clone()
    }
}
