//! Relation: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::{self, NodeKind, NodeRef, Role};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
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
#[graphql(remote = "domain::RelationKind")]
pub enum RelationKind {
    DiplomaticRelations,
    Recognition,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::RelationStatus")]
pub enum RelationStatus {
    Proposed,
    Agreed,
    Established,
    Suspended,
    Ended,
}

#[derive(Clone)]
pub struct RelationObj(pub Arc<domain::Relation>);

/// A relation between two countries. For RECOGNITION, subject recognizes object.
#[Object(name = "Relation")]
impl RelationObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Relation, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Relation, &self.0.key))
    }
    async fn kind(&self) -> RelationKind {
        self.0.kind.into()
    }
    async fn subject(&self, ctx: &Context<'_>) -> Result<Lean<CountryObj>> {
        Ok(Lean(
            country(ctx, Some(&self.0.subject))
                .await?
                .ok_or_else(|| missing("country", &self.0.subject))?,
        ))
    }
    async fn object(&self, ctx: &Context<'_>) -> Result<Lean<CountryObj>> {
        Ok(Lean(
            country(ctx, Some(&self.0.object))
                .await?
                .ok_or_else(|| missing("country", &self.0.object))?,
        ))
    }
    /// The current status: the last entry of `history`.
    async fn status(&self) -> RelationStatus {
        self.0.status().into()
    }
    /// When the current status began, where the sources say.
    async fn since(&self) -> Option<DateScalar> {
        date(self.0.since())
    }
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<Lean<AgreementObj>>> {
        Ok(optional(ctx, self.0.agreement.as_deref(), AgreementObj)
            .await?
            .map(Lean))
    }
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Lean<EventObj>>> {
        Ok(optional(ctx, self.0.event.as_deref(), EventObj)
            .await?
            .map(Lean))
    }
    /// Every citation of every status the relation went through.
    async fn sources(&self) -> LeanList<CitationObj> {
        LeanList(self.0.sources().cloned().map(CitationObj).collect())
    }
    /// The statuses the relation went through, oldest first, each with its sources.
    async fn history(&self) -> LeanList<StatusChangeObj> {
        LeanList(
            self.0
                .history
                .iter()
                .cloned()
                .map(StatusChangeObj)
                .collect(),
        )
    }
    /// The side that is not `country` (a code as in Query.country); null if neither side is.
    async fn counterpart(
        &self,
        ctx: &Context<'_>,
        country: String,
    ) -> Result<Option<Lean<CountryObj>>> {
        let code = country.to_ascii_uppercase();
        let other = if self.0.subject == code || load_alpha3(ctx, &self.0.subject).await? == code {
            &self.0.object
        } else if self.0.object == code || load_alpha3(ctx, &self.0.object).await? == code {
            &self.0.subject
        } else {
            return Ok(None);
        };
        Ok(self::country(ctx, Some(other)).await?.map(Lean))
    }
}

pub struct StatusChangeObj(pub domain::StatusChange);

/// One step in a relation's history.
#[Object(name = "RelationStatusChange")]
impl StatusChangeObj {
    async fn status(&self) -> RelationStatus {
        self.0.status.into()
    }
    async fn date(&self) -> Option<DateScalar> {
        date(self.0.date)
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    RelationConnection, RelationEdge, RelationObj;
}

#[derive(InputObject, Default)]
pub struct RelationFilter {
    pub country: Option<String>,
    pub counterpart: Option<String>,
    pub kind: Option<RelationKind>,
    pub status: Option<RelationStatus>,
}

#[derive(Default)]
pub struct RelationQuery;

#[Object]
impl RelationQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn relations(
        &self,
        ctx: &Context<'_>,
        filter: Option<RelationFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<RelationConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        let mut sides = Vec::new();
        for (code, argument) in [
            (&filter.country, "filter.country"),
            (&filter.counterpart, "filter.counterpart"),
        ] {
            if let Some(code) = code {
                let code = country_arg(ctx, code, argument).await?;
                let country = NodeRef::new(NodeKind::Country, code.clone());
                candidates = candidates
                    .referring_to(ctx, country, Role::RelationParty)
                    .await?;
                sides.push(code);
            }
        }
        let kind = filter.kind.map(domain::RelationKind::from);
        let status = filter.status.map(domain::RelationStatus::from);
        let filtered = kind.is_some() || status.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            // country = counterpart would otherwise match every relation of that country.
            |r: &domain::Relation| {
                kind.is_none_or(|k| r.kind == k)
                    && status.is_none_or(|s| r.status() == s)
                    && (sides.len() < 2
                        || (sides[0] != sides[1] && sides.iter().all(|c| r.involves(c))))
            },
            RelationObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct StatusChangeInput {
    pub status: RelationStatus,
    pub date: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct RelationInput {
    pub key: Option<String>,
    pub kind: RelationKind,
    pub subject: String,
    pub object: String,
    pub agreement: Option<ID>,
    pub event: Option<ID>,
    /// Oldest first; the last entry is the current status.
    pub history: Vec<StatusChangeInput>,
}

impl RelationInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Relation(RelationRecord {
            key: self.key.unwrap_or_default(),
            kind: Named(self.kind.into()),
            subject: self.subject,
            object: self.object,
            agreement: opt_key(NodeKind::Agreement, self.agreement),
            event: opt_key(NodeKind::Event, self.event),
            history: self
                .history
                .into_iter()
                .map(|h| StatusChangeRecord {
                    status: Named(h.status.into()),
                    date: date_text(h.date),
                    sources: cites(h.sources, default_source),
                })
                .collect(),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct RelationMutation;

#[Object]
impl RelationMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_relation(
        &self,
        ctx: &Context<'_>,
        input: RelationInput,
    ) -> Result<RelationObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Relation,
            RelationObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_relation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RelationInput,
        expected_revision: Option<i32>,
    ) -> Result<RelationObj> {
        let record = keyed(input.record(None), NodeKind::Relation, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Relation,
            RelationObj
        )
    }
}

impl KindApi for domain::Relation {
    type Object = RelationObj;
    type Query = RelationQuery;
    type Mutation = RelationMutation;
    type Input = RelationInput;

    fn object(entity: Arc<Self>) -> RelationObj {
        RelationObj(entity)
    }

    fn input_record(input: RelationInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }
}
