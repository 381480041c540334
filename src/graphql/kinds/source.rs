//! Source: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::{self, NodeKind, NodeRef};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
use crate::graphql::id;
use crate::graphql::inputs::*;
use crate::graphql::kinds::KindApi;
use crate::graphql::mutation::unwrap_fact;
use crate::graphql::mutation::*;
use crate::graphql::query::*;
use crate::graphql::types::*;
use crate::ingest::write::Mode;
use crate::store::KeyRole;
use async_graphql::{Context, InputObject, Object, Result, ID};
use std::sync::Arc;

#[derive(Clone)]
pub struct SourceObj(pub Arc<domain::Source>);

#[Object(name = "Source")]
impl SourceObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Source, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Source, &self.0.key))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn publisher(&self) -> Option<&str> {
        self.0.publisher.as_deref()
    }
    async fn author(&self) -> Option<&str> {
        self.0.author.as_deref()
    }
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    async fn published(&self) -> Option<DateScalar> {
        date(self.0.published)
    }
    /// The whole article text.
    async fn text(&self) -> &str {
        &self.0.text
    }
}

connection_types! {
    SourceConnection, SourceEdge, SourceObj;
}

#[derive(Default)]
pub struct SourceQuery;

#[Object]
impl SourceQuery {
    /// The source articles.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn sources(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SourceConnection> {
        let page = page(ctx, first, after)?;
        list(
            ctx,
            Candidates::All,
            false,
            page,
            |_: &domain::Source| true,
            SourceObj,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct SourceInput {
    /// A readable key; made from the title when omitted.
    pub key: Option<String>,
    pub title: String,
    pub publisher: Option<String>,
    pub author: Option<String>,
    /// Unique: two sources cannot share a URL.
    pub url: Option<String>,
    pub published: Option<DateScalar>,
    /// The whole article text; citations are excerpts of it.
    pub text: String,
}

impl SourceInput {
    pub fn record(self) -> SourceRecord {
        SourceRecord {
            key: self.key.unwrap_or_default(),
            title: self.title,
            publisher: self.publisher,
            author: self.author,
            url: self.url,
            published: date_text(self.published),
            text: Some(self.text),
            file: None,
            facts: Vec::new(),
            note: None,
        }
    }
}

#[derive(Default)]
pub struct SourceMutation;

#[Object]
impl SourceMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_source(&self, ctx: &Context<'_>, input: SourceInput) -> Result<SourceObj> {
        unwrap_fact!(
            write_one(ctx, Record::Source(input.record()), Mode::Create).await?,
            Source,
            SourceObj
        )
    }

    /// Replaces a source. Citations of it must still be found in the new text.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SourceInput,
        expected_revision: Option<i32>,
    ) -> Result<SourceObj> {
        let record = keyed(Record::Source(input.record()), NodeKind::Source, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Source,
            SourceObj
        )
    }
}

impl KindApi for domain::Source {
    type Object = SourceObj;
    type Query = SourceQuery;
    type Mutation = SourceMutation;
    type Input = SourceInput;

    fn object(entity: Arc<Self>) -> SourceObj {
        SourceObj(entity)
    }

    fn input_record(input: SourceInput, _default_source: Option<&str>) -> Record {
        crate::facts::Record::Source(input.record())
    }

    fn search_text(object: &SourceObj) -> String {
        crate::search::source_text(&object.0)
    }
}
