//! Person: its GraphQL object, filters, query fields, input and mutations.

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
use async_graphql::{Context, InputObject, Object, Result, ID};
use std::sync::Arc;

#[derive(Clone)]
pub struct PersonObj(pub Arc<domain::Person>);

#[Object(name = "Person")]
impl PersonObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Person, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Person, &self.0.key))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Other names the sources use for this person.
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }
    async fn posts(&self) -> LeanList<PostObj> {
        LeanList(self.0.posts.iter().cloned().map(PostObj).collect())
    }
    /// What this person said, directly or as reported.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        connection_of(
            ctx,
            NodeRef::new(NodeKind::Person, &self.0.key),
            Role::Speaker,
            first,
            after,
            StatementObj,
        )
        .await
    }
    /// Agreements this person signed.
    async fn signed(&self, ctx: &Context<'_>) -> Result<LeanList<AgreementObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Person, &self.0.key),
            Role::Signatory,
            AgreementObj,
        )
        .await
    }
    /// Events this person took part in.
    async fn events(&self, ctx: &Context<'_>) -> Result<LeanList<EventObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Person, &self.0.key),
            Role::EventParticipant,
            EventObj,
        )
        .await
    }
}

pub struct PostObj(pub domain::Post);

#[Object(name = "Post")]
impl PostObj {
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Lean<CountryObj>>> {
        Ok(country(ctx, self.0.country.as_ref()).await?.map(Lean))
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Lean<OrganizationObj>>> {
        Ok(
            optional(ctx, self.0.organization.as_deref(), OrganizationObj)
                .await?
                .map(Lean),
        )
    }
    async fn start(&self) -> Option<DateScalar> {
        date(self.0.start)
    }
    async fn end(&self) -> Option<DateScalar> {
        date(self.0.end)
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    PersonConnection, PersonEdge, PersonObj;
}

#[derive(InputObject, Default)]
pub struct PersonFilter {
    pub name: Option<String>,
    /// People who held a post for this country (a code as in Query.country).
    pub country: Option<String>,
}

#[derive(Default)]
pub struct PersonQuery;

#[Object]
impl PersonQuery {
    /// A person by global id; null when there is none.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Lean<PersonObj>>> {
        Ok(match id::decode(&id) {
            Some(NodeRef {
                kind: NodeKind::Person,
                key,
            }) => load_one(ctx, &key).await?.map(|p| Lean(PersonObj(p))),
            _ => None,
        })
    }

    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        filter: Option<PersonFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PersonConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        if let Some(name) = &filter.name {
            let name = name_arg(name, "filter.name")?;
            let found = reader(ctx)
                .find_by_name::<domain::Person>(&name)
                .await
                .gql()?;
            candidates = candidates.narrow(ctx, found).await?;
        }
        candidates = by_country(
            ctx,
            candidates,
            filter.country.as_deref(),
            "filter.country",
            Role::PostCountry,
        )
        .await?;
        list(
            ctx,
            candidates,
            false,
            page,
            |_: &domain::Person| true,
            PersonObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct PostInput {
    pub title: String,
    pub country: Option<String>,
    pub organization: Option<ID>,
    pub start: Option<DateScalar>,
    pub end: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct PersonInput {
    pub key: Option<String>,
    pub name: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    #[graphql(default)]
    pub posts: Vec<PostInput>,
}

impl PersonInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Person(PersonRecord {
            key: self.key.unwrap_or_default(),
            name: self.name,
            aliases: self.aliases,
            posts: self
                .posts
                .into_iter()
                .map(|p| PostRecord {
                    title: p.title,
                    country: p.country,
                    organization: opt_key(NodeKind::Organization, p.organization),
                    start: date_text(p.start),
                    end: date_text(p.end),
                    sources: cites(p.sources, default_source),
                })
                .collect(),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct PersonMutation;

#[Object]
impl PersonMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_person(&self, ctx: &Context<'_>, input: PersonInput) -> Result<PersonObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Person,
            PersonObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PersonInput,
        expected_revision: Option<i32>,
    ) -> Result<PersonObj> {
        let record = keyed(input.record(None), NodeKind::Person, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Person,
            PersonObj
        )
    }
}

impl KindApi for domain::Person {
    type Object = PersonObj;
    type Query = PersonQuery;
    type Mutation = PersonMutation;
    type Input = PersonInput;

    fn object(entity: Arc<Self>) -> PersonObj {
        PersonObj(entity)
    }

    fn input_record(input: PersonInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }

    fn search_text(object: &PersonObj) -> String {
        object.0.name.clone()
    }
}
