//! Mission: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::{self, text, NodeKind, NodeRef, Role};
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
#[graphql(remote = "domain::MissionKind")]
pub enum MissionKind {
    Embassy,
    Consulate,
    Mission,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::MissionStatus")]
pub enum MissionStatus {
    Proposed,
    Promised,
    Planned,
    Open,
    Closed,
}

#[derive(Clone)]
pub struct MissionObj(pub Arc<domain::Mission>);

#[Object(name = "Mission")]
impl MissionObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Mission, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Mission, &self.0.key))
    }
    async fn kind(&self) -> MissionKind {
        self.0.kind.into()
    }
    async fn sending_country(&self, ctx: &Context<'_>) -> Result<Lean<CountryObj>> {
        Ok(Lean(
            country(ctx, Some(&self.0.sending_country))
                .await?
                .ok_or_else(|| missing("country", &self.0.sending_country))?,
        ))
    }
    async fn host_country(&self, ctx: &Context<'_>) -> Result<Lean<CountryObj>> {
        Ok(Lean(
            country(ctx, Some(&self.0.host_country))
                .await?
                .ok_or_else(|| missing("country", &self.0.host_country))?,
        ))
    }
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    async fn status(&self) -> MissionStatus {
        self.0.status.into()
    }
    async fn opened(&self) -> Option<DateScalar> {
        date(self.0.opened)
    }
    /// When officials expect a planned mission to open.
    async fn expected_opening(&self) -> Option<DateScalar> {
        date(self.0.expected_opening)
    }
    async fn closed(&self) -> Option<DateScalar> {
        date(self.0.closed)
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    MissionConnection, MissionEdge, MissionObj;
}

#[derive(InputObject, Default)]
pub struct MissionFilter {
    pub sending_country: Option<String>,
    pub host_country: Option<String>,
    /// City name, ignoring letter case and diacritics.
    pub city: Option<String>,
    pub kind: Option<MissionKind>,
    pub status: Option<MissionStatus>,
}

#[derive(Default)]
pub struct MissionQuery;

#[Object]
impl MissionQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn missions(
        &self,
        ctx: &Context<'_>,
        filter: Option<MissionFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<MissionConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        candidates = by_country(
            ctx,
            candidates,
            filter.sending_country.as_deref(),
            "filter.sendingCountry",
            Role::MissionSending,
        )
        .await?;
        candidates = by_country(
            ctx,
            candidates,
            filter.host_country.as_deref(),
            "filter.hostCountry",
            Role::MissionHost,
        )
        .await?;
        if let Some(city) = &filter.city {
            let city = name_arg(city, "filter.city")?;
            let found = reader(ctx)
                .find_by_name::<domain::Mission>(&city)
                .await
                .gql()?;
            candidates = candidates.narrow(ctx, found).await?;
        }
        // The index matches word starts; the filter wants the whole city name.
        let city = filter.city.as_deref().map(text::fold);
        let kind = filter.kind.map(domain::MissionKind::from);
        let status = filter.status.map(domain::MissionStatus::from);
        let filtered = city.is_some() || kind.is_some() || status.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            |m: &domain::Mission| {
                city.as_ref()
                    .is_none_or(|c| m.city.as_deref().is_some_and(|mc| text::fold(mc) == *c))
                    && kind.is_none_or(|k| m.kind == k)
                    && status.is_none_or(|s| m.status == s)
            },
            MissionObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct MissionInput {
    pub key: Option<String>,
    pub kind: MissionKind,
    pub sending_country: String,
    pub host_country: String,
    pub city: Option<String>,
    pub status: MissionStatus,
    pub opened: Option<DateScalar>,
    pub expected_opening: Option<DateScalar>,
    pub closed: Option<DateScalar>,
    pub sources: Vec<CitationInput>,
}

impl MissionInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Mission(MissionRecord {
            key: self.key.unwrap_or_default(),
            kind: Named(self.kind.into()),
            sending_country: self.sending_country,
            host_country: self.host_country,
            city: self.city,
            status: Named(self.status.into()),
            opened: date_text(self.opened),
            expected_opening: date_text(self.expected_opening),
            closed: date_text(self.closed),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct MissionMutation;

#[Object]
impl MissionMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_mission(&self, ctx: &Context<'_>, input: MissionInput) -> Result<MissionObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Mission,
            MissionObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_mission(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MissionInput,
        expected_revision: Option<i32>,
    ) -> Result<MissionObj> {
        let record = keyed(input.record(None), NodeKind::Mission, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Mission,
            MissionObj
        )
    }
}

impl KindApi for domain::Mission {
    type Object = MissionObj;
    type Query = MissionQuery;
    type Mutation = MissionMutation;
    type Input = MissionInput;

    fn object(entity: Arc<Self>) -> MissionObj {
        MissionObj(entity)
    }

    fn input_record(input: MissionInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }
}
