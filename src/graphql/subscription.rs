//! Live updates over WebSocket (graphql-transport-ws, and the older graphql-ws): changes are
//! delivered after their write commits.

use super::error::{ApiError, OrGqlError};
use super::id;
use super::kinds::StatementFilter;
use super::kinds::*;
use super::query::{about_arg, speaker_arg};
use super::types::*;
use crate::domain::{self, text, NodeKind, NodeRef};
use crate::ingest::write::{Change, Writer};
use crate::store::{OutcomeAction, Store};
use async_graphql::futures_util::stream::{self, Stream, StreamExt};
use async_graphql::{Context, Enum, Object, Result, Subscription, ID};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub struct Subscription;

macro_rules! fact_kinds {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// The kinds of fact a change can be about.
        #[derive(Enum, Copy, Clone, Eq, PartialEq)]
        pub enum FactKind {
            $($kind,)*
        }

        impl FactKind {
            fn of(kind: NodeKind) -> Option<FactKind> {
                match kind {
                    $(NodeKind::$kind => Some(FactKind::$kind),)*
                    NodeKind::Provision => None,
                }
            }
        }
    };
}
crate::with_kinds!(fact_kinds);

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeAction {
    Created,
    Updated,
    Deleted,
}

/// One committed change.
pub struct FactChange(pub Change);

#[Object]
impl FactChange {
    async fn id(&self) -> ID {
        id::encode(&self.0.node)
    }
    async fn kind(&self) -> Option<FactKind> {
        FactKind::of(self.0.node.kind)
    }
    async fn action(&self) -> ChangeAction {
        match self.0.action {
            OutcomeAction::Created => ChangeAction::Created,
            OutcomeAction::Deleted => ChangeAction::Deleted,
            _ => ChangeAction::Updated,
        }
    }
    /// The node's revision after the change.
    async fn revision(&self) -> i32 {
        self.0.revision as i32
    }
    /// The node as it is now; null once deleted.
    async fn node(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        resolve_node(ctx, &self.0.node).await
    }
}

/// Committed changes, as a stream; a subscriber that falls behind skips what it missed.
fn changes(writer: &Writer) -> impl Stream<Item = Change> + use<> {
    stream::unfold(writer.subscribe(), |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(change) => return Some((change, rx)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// StatementFilter, checked against one statement as it arrives.
struct LiveFilter {
    speaker: Option<NodeRef>,
    speaker_name: Option<String>,
    about: Option<NodeRef>,
    text: Vec<String>,
    from: Option<domain::PartialDate>,
    to: Option<domain::PartialDate>,
}

impl LiveFilter {
    fn new(store: &Store, filter: StatementFilter) -> Result<Self, ApiError> {
        let speaker = filter.speaker.as_ref().map(speaker_arg).transpose()?;
        let about = filter
            .about
            .as_deref()
            .map(|a| about_arg(a, store.country_code(a)?))
            .transpose()?;
        Ok(LiveFilter {
            speaker,
            speaker_name: filter.speaker_name.map(|n| text::fold(&n)),
            about,
            text: filter
                .text
                .map(|t| text::fold(&t).split(' ').map(str::to_string).collect())
                .unwrap_or_default(),
            from: filter.from.map(|d| d.0),
            to: filter.to.map(|d| d.0),
        })
    }

    fn matches(&self, store: &Store, s: &domain::Statement) -> bool {
        if self
            .speaker
            .as_ref()
            .is_some_and(|sp| s.speaker.as_ref() != Some(sp))
        {
            return false;
        }
        if let Some(name) = &self.speaker_name {
            let names: Vec<String> = match &s.speaker {
                Some(n) if n.kind == NodeKind::Person => store
                    .get::<domain::Person>(&n.key)
                    .ok()
                    .flatten()
                    .map(|p| std::iter::once(p.name).chain(p.aliases).collect())
                    .unwrap_or_default(),
                Some(n) => store
                    .get::<domain::Organization>(&n.key)
                    .ok()
                    .flatten()
                    .map(|o| std::iter::once(o.name).chain(o.aliases).collect())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            if !names
                .iter()
                .any(|n| text::folded_matches(&text::fold(n), name))
            {
                return false;
            }
        }
        if self.about.as_ref().is_some_and(|a| !s.about.contains(a)) {
            return false;
        }
        let folded = text::fold(&s.text);
        if !self
            .text
            .iter()
            .all(|word| text::folded_matches(&folded, word))
        {
            return false;
        }
        if self.from.is_some() || self.to.is_some() {
            return s
                .date
                .is_some_and(|d| d.overlaps(self.from.as_ref(), self.to.as_ref()));
        }
        true
    }
}

#[Subscription]
impl Subscription {
    /// Statements as they are added, once their write has committed, optionally filtered as
    /// in Query.statements (`text` matches words of the statement here).
    async fn statement_added(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatementFilter>,
    ) -> Result<impl Stream<Item = StatementObj>> {
        let writer = ctx.data_unchecked::<Arc<Writer>>().clone();
        let store = writer.store().clone();
        // Store reads run off the async worker: the filter's lookups now, each statement's
        // load and match as it arrives.
        let filter = {
            let store = store.clone();
            let filter = filter.unwrap_or_default();
            actix_web::rt::task::spawn_blocking(move || LiveFilter::new(&store, filter))
                .await
                .map_err(|e| {
                    async_graphql::Error::new(format!("the filter could not be read: {e}"))
                })?
                .gql()?
        };
        let filter = Arc::new(filter);
        Ok(changes(&writer).filter_map(move |change| {
            let (store, filter) = (store.clone(), filter.clone());
            async move {
                if change.action != OutcomeAction::Created
                    || change.node.kind != NodeKind::Statement
                {
                    return None;
                }
                super::error::off_worker("live statement", move || {
                    let statement = store
                        .get::<domain::Statement>(&change.node.key)
                        .ok()
                        .flatten()?;
                    filter
                        .matches(&store, &statement)
                        .then(|| StatementObj(Arc::new(statement)))
                })
                .await
                .ok()
                .flatten()
            }
        }))
    }

    /// Every committed change, of the given kinds (all when omitted).
    async fn fact_changed(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<FactKind>>,
    ) -> impl Stream<Item = FactChange> {
        let writer = ctx.data_unchecked::<Arc<Writer>>();
        changes(writer).filter_map(move |change| {
            let wanted = match (&kinds, FactKind::of(change.node.kind)) {
                (None, _) => true,
                (Some(kinds), Some(kind)) => kinds.contains(&kind),
                (Some(_), None) => false,
            };
            async move { wanted.then_some(FactChange(change)) }
        })
    }
}
