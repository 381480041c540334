//! Event: its GraphQL object, filters, query fields, input and mutations.

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
#[graphql(remote = "domain::EventKind")]
pub enum EventKind {
    Signing,
    Ceremony,
    PhoneCall,
    VideoConference,
    Announcement,
    Declaration,
    Meeting,
    Other,
}

#[derive(Clone)]
pub struct EventObj(pub Arc<domain::Event>);

#[Object(name = "Event")]
impl EventObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Event, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Event, &self.0.key))
    }
    async fn kind(&self) -> EventKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn date(&self) -> Option<DateScalar> {
        date(self.0.date)
    }
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    async fn participants(&self, ctx: &Context<'_>) -> Result<LeanList<PersonObj>> {
        Ok(LeanList(
            load_many(ctx, &self.0.participants)
                .await?
                .into_iter()
                .map(PersonObj)
                .collect(),
        ))
    }
    async fn countries(&self, ctx: &Context<'_>) -> Result<LeanList<CountryObj>> {
        countries(ctx, &self.0.countries).await
    }
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<Lean<AgreementObj>>> {
        Ok(optional(ctx, self.0.agreement.as_deref(), AgreementObj)
            .await?
            .map(Lean))
    }
    /// Statements made at this event.
    async fn statements(&self, ctx: &Context<'_>) -> Result<LeanList<StatementObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Event, &self.0.key),
            Role::StatementEvent,
            StatementObj,
        )
        .await
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

connection_types! {
    EventConnection, EventEdge, EventObj;
}

#[derive(InputObject, Default)]
pub struct EventFilter {
    pub country: Option<String>,
    pub kind: Option<EventKind>,
    pub from: Option<DateScalar>,
    pub to: Option<DateScalar>,
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<EventConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        candidates = by_country(
            ctx,
            candidates,
            filter.country.as_deref(),
            "filter.country",
            Role::EventCountry,
        )
        .await?;
        let kind = filter.kind.map(domain::EventKind::from);
        let (from, to) = (filter.from, filter.to);
        let filtered = kind.is_some() || from.is_some() || to.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            |e: &domain::Event| kind.is_none_or(|k| e.kind == k) && in_range(e.date, from, to),
            EventObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct EventInput {
    pub key: Option<String>,
    pub kind: EventKind,
    pub title: String,
    pub date: Option<DateScalar>,
    pub place: Option<String>,
    #[graphql(default)]
    pub participants: Vec<ID>,
    #[graphql(default)]
    pub countries: Vec<String>,
    pub agreement: Option<ID>,
    pub sources: Vec<CitationInput>,
}

impl EventInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Event(EventRecord {
            key: self.key.unwrap_or_default(),
            kind: Named(self.kind.into()),
            title: self.title,
            date: date_text(self.date),
            place: self.place,
            participants: keys_of(NodeKind::Person, self.participants),
            countries: self.countries,
            agreement: opt_key(NodeKind::Agreement, self.agreement),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_event(&self, ctx: &Context<'_>, input: EventInput) -> Result<EventObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Event,
            EventObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: EventInput,
        expected_revision: Option<i32>,
    ) -> Result<EventObj> {
        let record = keyed(input.record(None), NodeKind::Event, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Event,
            EventObj
        )
    }
}

impl KindApi for domain::Event {
    type Object = EventObj;
    type Query = EventQuery;
    type Mutation = EventMutation;
    type Input = EventInput;

    fn object(entity: Arc<Self>) -> EventObj {
        EventObj(entity)
    }

    fn input_record(input: EventInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }

    fn search_text(object: &EventObj) -> String {
        object.0.title.clone()
    }
}
