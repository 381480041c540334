//! The read API's root.

use super::connection::*;
use super::error::{ApiError, OrGqlError};
use super::id;
use super::kinds::*;
use super::loader::Reader;
use super::types::*;
use crate::domain::Kinds;
use crate::domain::{self, text, NodeKind, NodeRef};
use crate::domain::{Entity, Role};
use crate::search::SearchIndex;
use crate::store::{IndexAnswer, IndexRead};
use async_graphql::futures_util::future::join_all;
use async_graphql::{Context, MergedObject, Object, Result, ID};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The root fields that belong to no one kind; each kind's own are in `kinds`.
#[derive(Default)]
pub struct CoreQuery;

macro_rules! query_root {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// The read API's root.
        #[derive(MergedObject, Default)]
        pub struct Query(CoreQuery, $(<domain::$kind as KindApi>::Query,)*);
    };
}
crate::with_kinds!(query_root);

/// The kinds of node the search index holds text of.
pub(crate) const SEARCHED: Kinds = Kinds::of(NodeKind::Statement)
    .and(Kinds::of(NodeKind::Agreement))
    .and(Kinds::of(NodeKind::Event))
    .and(Kinds::of(NodeKind::Source));

pub(crate) fn reader<'a>(ctx: &Context<'a>) -> &'a Reader {
    ctx.data_unchecked::<Reader>()
}

/// The key of the country with this alpha-2 or alpha-3 code, in any letter case.
pub(crate) async fn country_key(ctx: &Context<'_>, code: &str) -> Result<Option<String>> {
    reader(ctx).country_code(code).await.gql()
}

/// Resolves a country argument; an unknown code is the caller's mistake.
pub(crate) async fn country_arg(ctx: &Context<'_>, code: &str, argument: &str) -> Result<String> {
    country_key(ctx, code)
        .await?
        .ok_or_else(|| {
            ApiError::bad_input(format!(
                "`{argument}`: unknown country code '{code}'; use ISO 3166-1 alpha-2 or alpha-3"
            ))
        })
        .gql()
}

pub(crate) fn name_arg(name: &str, argument: &str) -> Result<String> {
    if text::fold(name).is_empty() {
        return Err(ApiError::bad_input(format!(
            "`{argument}` must contain a letter or digit"
        )))
        .gql();
    }
    Ok(name.to_string())
}

/// `filter.speaker`: the id of a person or an organization.
pub fn speaker_arg(speaker: &ID) -> Result<NodeRef, ApiError> {
    id::decode(speaker)
        .filter(|n| matches!(n.kind, NodeKind::Person | NodeKind::Organization))
        .ok_or_else(|| {
            ApiError::bad_input(format!(
                "`filter.speaker`: '{}' is not the id of a person or organization",
                speaker.as_str()
            ))
        })
}

/// `filter.about`: a country code or any node id.
pub fn about_arg(about: &str, country_code: Option<String>) -> Result<NodeRef, ApiError> {
    match country_code {
        Some(code) => Ok(NodeRef::new(NodeKind::Country, code)),
        None => id::decode(about).ok_or_else(|| {
            ApiError::bad_input(format!(
                "`filter.about`: '{about}' is neither a country code nor a node id"
            ))
        }),
    }
}

/// The rows the index filters of a list have narrowed it to.
pub(crate) enum Candidates {
    /// No index filter: every row of the kind.
    All,
    /// One reverse-reference filter so far: read page by page from the index.
    Referrers(NodeRef, Role),
    Keys(Vec<String>),
}

impl Candidates {
    /// The candidate keys; None for every row.
    pub(crate) async fn keys(self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(match self {
            Candidates::All => None,
            Candidates::Referrers(target, role) => {
                Some(referrers(ctx, target, role).await?.to_vec())
            }
            Candidates::Keys(keys) => Some(keys),
        })
    }

    /// Keeps only the candidates also in `more`.
    pub(crate) async fn narrow(
        self,
        ctx: &Context<'_>,
        more: impl IntoIterator<Item = String>,
    ) -> Result<Candidates> {
        let more: BTreeSet<String> = more.into_iter().collect();
        Ok(Candidates::Keys(match self.keys(ctx).await? {
            None => more.into_iter().collect(),
            Some(c) => c.into_iter().filter(|k| more.contains(k)).collect(),
        }))
    }

    /// Keeps only the entities that refer to `target` in `role`.
    pub(crate) async fn referring_to(
        self,
        ctx: &Context<'_>,
        target: NodeRef,
        role: Role,
    ) -> Result<Candidates> {
        match self {
            Candidates::All => Ok(Candidates::Referrers(target, role)),
            other => {
                let keys = referrers(ctx, target, role).await?;
                other.narrow(ctx, keys.iter().cloned()).await
            }
        }
    }
}

/// Narrows candidates to the entities that refer to a country (given as a code) in `role`.
pub(crate) async fn by_country(
    ctx: &Context<'_>,
    candidates: Candidates,
    code: Option<&str>,
    argument: &str,
    role: Role,
) -> Result<Candidates> {
    let Some(code) = code else {
        return Ok(candidates);
    };
    let code = country_arg(ctx, code, argument).await?;
    candidates
        .referring_to(ctx, NodeRef::new(NodeKind::Country, code), role)
        .await
}

/// One page of entities of kind E: from `candidates` when a filter chose them, else from the
/// whole tree; `keep` applies the filters no index answers.
pub(crate) async fn list<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    candidates: Candidates,
    filtered: bool,
    page: PageRequest,
    keep: impl Fn(&E) -> bool,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let reader = reader(ctx);
    let keys = match candidates {
        Candidates::All if !filtered => return whole_tree_page(ctx, page, wrap).await,
        Candidates::Referrers(target, role) if !filtered => {
            return referrer_connection(ctx, target, role, page, wrap).await
        }
        Candidates::Keys(c) if !filtered => return keyed_page(ctx, &c, page, wrap).await,
        Candidates::All => reader
            .index(&IndexRead::Keys {
                kind: E::KIND,
                after: None,
                limit: usize::MAX,
            })
            .await
            .and_then(IndexAnswer::keys)
            .gql()?
            .to_vec(),
        other => other.keys(ctx).await?.unwrap_or_default(),
    };
    filtered_connection(ctx, &keys, page, keep, wrap).await
}

/// Unfiltered: a range scan after the cursor, and the stored count.
pub(crate) async fn whole_tree_page<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    page: PageRequest,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let reader = reader(ctx);
    let keys = reader
        .index(&IndexRead::Keys {
            kind: E::KIND,
            after: page.after.clone(),
            limit: page.size + 1,
        })
        .await
        .and_then(IndexAnswer::keys)
        .gql()?;
    let total = reader
        .index(&IndexRead::Count(E::KIND))
        .await
        .and_then(IndexAnswer::count)
        .gql()? as usize;
    page_from_keys(ctx, &keys, &page, total, wrap).await
}

pub(crate) fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<PageRequest> {
    PageRequest::new(page_limits(ctx), first, after).gql()
}

pub(crate) fn in_range(
    d: Option<domain::PartialDate>,
    from: Option<DateScalar>,
    to: Option<DateScalar>,
) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    d.is_some_and(|d| d.overlaps(from.as_ref().map(|f| &f.0), to.as_ref().map(|t| &t.0)))
}

#[Object]
impl CoreQuery {
    /// Any node by its global id; null when there is none.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        match id::decode(&id) {
            Some(node) => resolve_node(ctx, &node).await,
            None => Ok(None),
        }
    }

    /// Ranked full-text search over statements, agreements, provisions, events and source articles.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
    ) -> Result<Vec<SearchHitObj>> {
        let limit = page_limits(ctx).size(first).gql()?;
        let query = name_arg(&query, "query")?;
        let search = ctx.data_unchecked::<Arc<SearchIndex>>();
        reader(ctx).note_read(SEARCHED);
        let hits = search.search(&query, limit, None).gql()?;
        // Concurrent, so that hits of one kind load in one batch.
        let nodes = join_all(hits.iter().map(|(node, _)| resolve_node(ctx, node))).await;
        let mut out = Vec::with_capacity(hits.len());
        for ((_, score), node) in hits.into_iter().zip(nodes) {
            if let Some(node) = node? {
                out.push(SearchHitObj {
                    snippet: search.snippet(&node.search_text(), &query),
                    node,
                    score: score as f64,
                });
            }
        }
        Ok(out)
    }

    /// Every API key, revoked ones included (admin keys only). Secrets are never shown.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<super::keys::ApiKeyObj>> {
        super::keys::list(ctx).await
    }
}
