//! Statement: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::Kinds;
use crate::domain::{self, NodeKind, NodeRef, Role};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
use crate::graphql::error::OrGqlError;
use crate::graphql::id;
use crate::graphql::inputs::*;
use crate::graphql::kinds::*;
use crate::graphql::lean::Lean;
use crate::graphql::mutation::unwrap_fact;
use crate::graphql::mutation::*;
use crate::graphql::query::*;
use crate::graphql::types::*;
use crate::ingest::write::Mode;
use crate::search::SearchIndex;
use crate::store::KeyRole;
use async_graphql::futures_util::future::join_all;
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::StatementMedium")]
pub enum StatementMedium {
    Tweet,
    Speech,
    PhoneCall,
    PressStatement,
    Interview,
    Other,
}

#[derive(Clone)]
pub struct StatementObj(pub Arc<domain::Statement>);

#[Object(name = "Statement")]
impl StatementObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Statement, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Statement, &self.0.key))
    }
    /// The words: verbatim when `direct`, else as the source reports them.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// true: the source quotes the words verbatim; false: it reports them.
    async fn direct(&self) -> bool {
        self.0.direct
    }
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Option<Speaker>> {
        let Some(speaker) = &self.0.speaker else {
            return Ok(None);
        };
        Ok(match resolve_node(ctx, speaker).await? {
            Some(Node::Person(p)) => Some(Speaker::Person(p)),
            Some(Node::Organization(o)) => Some(Speaker::Organization(o)),
            _ => None,
        })
    }
    async fn date(&self) -> Option<DateScalar> {
        date(self.0.date)
    }
    async fn medium(&self) -> StatementMedium {
        self.0.medium.into()
    }
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Lean<EventObj>>> {
        Ok(optional(ctx, self.0.event.as_deref(), EventObj)
            .await?
            .map(Lean))
    }
    /// What the statement is about: countries, people, agreements, relations, missions...
    async fn about(&self, ctx: &Context<'_>) -> Result<Vec<Node>> {
        // Resolved concurrently, so that same-kind loads share a batch.
        let nodes = join_all(self.0.about.iter().map(|n| resolve_node(ctx, n))).await;
        let mut out = Vec::with_capacity(nodes.len());
        for node in nodes {
            out.extend(node?);
        }
        Ok(out)
    }
    async fn source(&self) -> Lean<CitationObj> {
        Lean(CitationObj(self.0.source.clone()))
    }
}

connection_types! {
    StatementConnection, StatementEdge, StatementObj;
}

/// `about` takes a country code or any node ID; `text` is a full-text match.
#[derive(InputObject, Default)]
pub struct StatementFilter {
    pub speaker: Option<ID>,
    pub speaker_name: Option<String>,
    pub about: Option<String>,
    pub text: Option<String>,
    pub from: Option<DateScalar>,
    pub to: Option<DateScalar>,
}

#[derive(Default)]
pub struct StatementQuery;

#[Object]
impl StatementQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatementFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        if let Some(speaker) = &filter.speaker {
            let node = speaker_arg(speaker).gql()?;
            candidates = candidates.referring_to(ctx, node, Role::Speaker).await?;
        }
        if let Some(name) = &filter.speaker_name {
            let name = name_arg(name, "filter.speakerName")?;
            let people = reader(ctx)
                .find_by_name::<domain::Person>(&name)
                .await
                .gql()?;
            let orgs = reader(ctx)
                .find_by_name::<domain::Organization>(&name)
                .await
                .gql()?;
            let speakers = people
                .into_iter()
                .map(|k| NodeRef::new(NodeKind::Person, k))
                .chain(
                    orgs.into_iter()
                        .map(|k| NodeRef::new(NodeKind::Organization, k)),
                );
            // Concurrent, so the lookups share one batch.
            let found =
                join_all(speakers.map(|speaker| referrers(ctx, speaker, Role::Speaker))).await;
            let mut keys = Vec::new();
            for speaker_statements in found {
                keys.extend(speaker_statements?.iter().cloned());
            }
            candidates = candidates.narrow(ctx, keys).await?;
        }
        if let Some(about) = &filter.about {
            let code = reader(ctx).country_code(about).await.gql()?;
            let node = about_arg(about, code)?;
            candidates = candidates.referring_to(ctx, node, Role::About).await?;
        }
        if let Some(query) = &filter.text {
            let query = name_arg(query, "filter.text")?;
            let search = ctx.data_unchecked::<Arc<SearchIndex>>();
            reader(ctx).note_read(Kinds::of(NodeKind::Statement));
            let keys = search.matching(&query, NodeKind::Statement).gql()?;
            candidates = candidates.narrow(ctx, keys).await?;
        }
        let (from, to) = (filter.from, filter.to);
        let filtered = from.is_some() || to.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            |s: &domain::Statement| in_range(s.date, from, to),
            StatementObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct StatementInput {
    pub key: Option<String>,
    /// Verbatim when `direct` (it must then occur in the excerpt), else as reported.
    pub text: String,
    pub direct: bool,
    /// A person's or an organization's id.
    pub speaker: Option<ID>,
    pub date: Option<DateScalar>,
    pub medium: StatementMedium,
    pub event: Option<ID>,
    /// Country codes or node ids.
    #[graphql(default)]
    pub about: Vec<String>,
    pub source: CitationInput,
}

impl StatementInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        let speaker = self.speaker.map(|s| match id::decode(&s) {
            Some(node) if node.kind == NodeKind::Organization => SpeakerRecord {
                person: None,
                organization: Some(node.key),
            },
            _ => SpeakerRecord {
                person: Some(key_of(NodeKind::Person, &s)),
                organization: None,
            },
        });
        Record::Statement(StatementRecord {
            key: self.key.unwrap_or_default(),
            text: self.text,
            direct: self.direct,
            speaker,
            date: date_text(self.date),
            medium: Named(self.medium.into()),
            event: opt_key(NodeKind::Event, self.event),
            about: self.about.iter().map(|a| about(a)).collect(),
            source: self.source.record(default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct StatementMutation;

#[Object]
impl StatementMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_statement(
        &self,
        ctx: &Context<'_>,
        input: StatementInput,
    ) -> Result<StatementObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Statement,
            StatementObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_statement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: StatementInput,
        expected_revision: Option<i32>,
    ) -> Result<StatementObj> {
        let record = keyed(input.record(None), NodeKind::Statement, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Statement,
            StatementObj
        )
    }
}

impl KindApi for domain::Statement {
    type Object = StatementObj;
    type Query = StatementQuery;
    type Mutation = StatementMutation;
    type Input = StatementInput;

    fn object(entity: Arc<Self>) -> StatementObj {
        StatementObj(entity)
    }

    fn input_record(input: StatementInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }

    fn search_text(object: &StatementObj) -> String {
        object.0.text.clone()
    }
}
