//! GraphQL object types: thin wrappers over domain entities, reading related rows through the
//! per-request loaders.

use super::connection::*;
use super::error::OrGqlError;
use super::id;
use super::kinds::*;
use super::lean::{Lean, LeanList};
use super::loader::{Key, Loaders, Reader, ReferrerCount, ReferrerPage, Referrers, RevisionsOf};
use crate::domain::{self, NodeKind, NodeRef, PartialDate};
use crate::domain::{Entity, Role};
use crate::store::{IndexAnswer, IndexRead};
use async_graphql::futures_util::future::join;
use async_graphql::{
    Context, Enum, ErrorExtensions, InputValueError, InputValueResult, Interface, Object, Result,
    Scalar, ScalarType, Union, Value, ID,
};
use std::collections::BTreeSet;
use std::sync::Arc;

pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

pub fn page_limits<'a>(ctx: &Context<'a>) -> &'a PageLimits {
    ctx.data_unchecked::<PageLimits>()
}

/// An entity from memory when it is there, else through the request's batch.
pub async fn load_one<E: Entity>(ctx: &Context<'_>, key: &str) -> Result<Option<Arc<E>>> {
    if let Some(hit) = ctx.data_unchecked::<Reader>().cached::<E>(key) {
        return Ok(Some(hit));
    }
    loaders(ctx).load_one(Key::<E>::new(key)).await.gql()
}

/// Entities for `keys`, in the order given; keys with no entity are skipped. Those in memory
/// are taken at once; only the rest join the request's batch.
pub async fn load_many<E: Entity>(ctx: &Context<'_>, keys: &[String]) -> Result<Vec<Arc<E>>> {
    let reader = ctx.data_unchecked::<Reader>();
    let cached: Vec<Option<Arc<E>>> = keys.iter().map(|k| reader.cached::<E>(k)).collect();
    let missing: Vec<Key<E>> = keys
        .iter()
        .zip(&cached)
        .filter(|(_, hit)| hit.is_none())
        .map(|(k, _)| Key::new(k.as_str()))
        .collect();
    let found = match missing.is_empty() {
        false => loaders(ctx).load_many(missing).await.gql()?,
        true => Default::default(),
    };
    Ok(keys
        .iter()
        .zip(cached)
        .filter_map(|(k, hit)| hit.or_else(|| found.get(&Key::new(k.as_str())).cloned()))
        .collect())
}

pub async fn referrers(ctx: &Context<'_>, target: NodeRef, role: Role) -> Result<Arc<Vec<String>>> {
    Ok(loaders(ctx)
        .load_one(Referrers(target, role))
        .await
        .gql()?
        .unwrap_or_default())
}

/// The entities that refer to `target` in `role`, wrapped for output.
pub(crate) async fn related<E: Entity, T>(
    ctx: &Context<'_>,
    target: NodeRef,
    role: Role,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<LeanList<T>> {
    let keys = referrers(ctx, target, role).await?;
    Ok(LeanList(
        load_many(ctx, &keys).await?.into_iter().map(wrap).collect(),
    ))
}

/// The entity an optional reference points to, wrapped for output.
pub(crate) async fn optional<E: Entity, T>(
    ctx: &Context<'_>,
    key: Option<&str>,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<Option<T>> {
    match key {
        Some(key) => Ok(load_one(ctx, key).await?.map(wrap)),
        None => Ok(None),
    }
}

pub(crate) fn country_ref(code: &str) -> NodeRef {
    NodeRef::new(NodeKind::Country, code)
}

/// One page of the entities at `keys` that pass `keep`, wrapped for output.
pub async fn filtered_connection<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    keys: &[String],
    page: PageRequest,
    keep: impl Fn(&E) -> bool,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let sorted: BTreeSet<&String> = keys.iter().collect();
    let sorted: Vec<String> = sorted.into_iter().cloned().collect();
    let entities = load_many::<E>(ctx, &sorted).await?;
    let kept: Vec<Arc<E>> = entities.into_iter().filter(|e| keep(e)).collect();
    let kept_keys: Vec<String> = kept.iter().map(|e| e.key().to_string()).collect();
    let (range, info) = page.slice(&kept_keys);
    let total = kept.len();
    let rows = kept
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .map(|e| (e.key().to_string(), wrap(e)))
        .collect();
    Ok(Page { rows, info, total }.into())
}

/// One page of the entities at `keys` when nothing filters them: only the page is loaded,
/// however many keys there are.
pub async fn keyed_page<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    keys: &[String],
    page: PageRequest,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let (range, info) = page.slice(&sorted);
    let total = sorted.len();
    let rows = load_many::<E>(ctx, &sorted[range])
        .await?
        .into_iter()
        .map(|e| (e.key().to_string(), wrap(e)))
        .collect();
    Ok(Page { rows, info, total }.into())
}

/// One page of the entities that refer to `target` in `role`, read as a range of the index
/// (the page and one more row), never the whole list. The kept count is read only when the
/// selection asks for `totalCount`; otherwise the page's total is left at 0, unseen.
pub async fn referrer_connection<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    target: NodeRef,
    role: Role,
    page: PageRequest,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let loaders = loaders(ctx);
    let reader = ctx.data_unchecked::<Reader>();
    let wants_total = ctx.look_ahead().field("totalCount").exists();
    let request = ReferrerPage {
        target: target.clone(),
        role,
        kind: E::KIND,
        after: page.after.clone(),
        limit: page.size.saturating_add(1),
    };
    // Pages and counts in memory are taken at once; only the rest join the request's batch.
    let cached_page = reader.cached_index(&request.read());
    let cached_total = match wants_total {
        true => reader.cached_index(&IndexRead::ReferrerCount(target.clone(), role)),
        false => Some(IndexAnswer::Count(0)),
    };
    let (keys, total) = join(
        async {
            match cached_page {
                Some(hit) => hit.keys().map(Some).map_err(Arc::new),
                None => loaders.load_one(request).await,
            }
        },
        async {
            match cached_total {
                Some(hit) => hit.count().map(Some).map_err(Arc::new),
                None => loaders.load_one(ReferrerCount(target, role)).await,
            }
        },
    )
    .await;
    let keys = keys.gql()?.unwrap_or_default();
    let total = total.gql()?.unwrap_or(0) as usize;
    page_from_keys(ctx, &keys, &page, total, wrap).await
}

/// A page from keys read after the cursor with one more than the page size (the extra one
/// only tells that a next page exists), out of `total` rows.
pub async fn page_from_keys<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    keys: &[String],
    page: &PageRequest,
    total: usize,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let has_next_page = keys.len() > page.size;
    let keys = &keys[..keys.len().min(page.size)];
    let info = PageInfo {
        has_next_page,
        has_previous_page: page.after.is_some(),
        start_cursor: keys.first().map(|k| id::encode_cursor(k)),
        end_cursor: keys.last().map(|k| id::encode_cursor(k)),
    };
    let rows = load_many::<E>(ctx, keys)
        .await?
        .into_iter()
        .map(|e| (e.key().to_string(), wrap(e)))
        .collect();
    Ok(Page { rows, info, total }.into())
}

pub(crate) async fn connection_of<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    target: NodeRef,
    role: Role,
    first: Option<i32>,
    after: Option<String>,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let page = PageRequest::new(page_limits(ctx), first, after).gql()?;
    referrer_connection(ctx, target, role, page, wrap).await
}

pub(crate) async fn countries(ctx: &Context<'_>, codes: &[String]) -> Result<LeanList<CountryObj>> {
    Ok(LeanList(
        load_many(ctx, codes)
            .await?
            .into_iter()
            .map(CountryObj)
            .collect(),
    ))
}

pub(crate) async fn country(
    ctx: &Context<'_>,
    code: Option<&String>,
) -> Result<Option<CountryObj>> {
    optional(ctx, code.map(String::as_str), CountryObj).await
}

pub(crate) fn citations(c: &[domain::Citation]) -> LeanList<CitationObj> {
    LeanList(c.iter().cloned().map(CitationObj).collect())
}

/// An ISO-8601 calendar date at the precision the source gives: YYYY, YYYY-MM or YYYY-MM-DD.
#[derive(Clone, Copy, Debug)]
pub struct DateScalar(pub PartialDate);

/// An ISO-8601 calendar date at the precision the source gives: YYYY, YYYY-MM or YYYY-MM-DD.
#[Scalar(name = "PartialDate")]
impl ScalarType for DateScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(DateScalar)
                .map_err(|e: domain::DateError| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

pub(crate) fn date(d: Option<PartialDate>) -> Option<DateScalar> {
    d.map(DateScalar)
}

macro_rules! node_interface {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        #[derive(Interface)]
        #[graphql(field(
            name = "id",
            ty = "ID",
            desc = "Opaque, stable across restarts, resolvable by Query.node."
        ))]
        pub enum Node {
            $($kind(<domain::$kind as KindApi>::Object),)*
            Provision(ProvisionObj),
        }

        impl Node {
            /// The text the search index holds for this node, to cut snippets from.
            pub fn search_text(&self) -> String {
                match self {
                    $(Node::$kind(o) => <domain::$kind as KindApi>::search_text(o),)*
                    Node::Provision(p) => p.provision().text.clone(),
                }
            }
        }

        /// Loads any node by reference; None when it does not exist.
        pub async fn resolve_node(ctx: &Context<'_>, node: &NodeRef) -> Result<Option<Node>> {
            let key = node.key.as_str();
            Ok(match node.kind {
                $(NodeKind::$kind => load_one::<domain::$kind>(ctx, key)
                    .await?
                    .map(|e| Node::$kind(<domain::$kind as KindApi>::object(e))),)*
                NodeKind::Provision => match domain::Provision::split_key(key) {
                    Some((agreement, number)) => load_one::<domain::Agreement>(ctx, agreement)
                        .await?
                        .and_then(|a| ProvisionObj::new(a, number))
                        .map(Node::Provision),
                    None => None,
                },
            })
        }
    };
}
crate::with_kinds!(node_interface);

#[derive(Union)]
pub enum Speaker {
    Person(PersonObj),
    Organization(OrganizationObj),
}

/// A reference the store should always resolve; failing it is an internal error.
pub(crate) fn missing(kind: &str, key: &str) -> async_graphql::Error {
    tracing::error!(kind, key, "dangling reference in the store");
    async_graphql::Error::new("internal error")
        .extend_with(|_, e| e.set("code", super::error::code::INTERNAL))
}

pub(crate) async fn load_alpha3(ctx: &Context<'_>, code: &str) -> Result<String> {
    Ok(load_one::<domain::Country>(ctx, code)
        .await?
        .map(|c| c.alpha3.clone())
        .unwrap_or_default())
}

pub struct CitationObj(pub domain::Citation);

/// Where a fact comes from. Invariant: excerpt == the characters start..end of source.text
/// (Unicode scalar values, end exclusive).
#[Object(name = "Citation")]
impl CitationObj {
    async fn source(&self, ctx: &Context<'_>) -> Result<Lean<SourceObj>> {
        Ok(Lean(
            load_one(ctx, &self.0.source)
                .await?
                .map(SourceObj)
                .ok_or_else(|| missing("source", &self.0.source))?,
        ))
    }
    async fn excerpt(&self, ctx: &Context<'_>) -> Result<String> {
        let source = load_one::<domain::Source>(ctx, &self.0.source)
            .await?
            .ok_or_else(|| missing("source", &self.0.source))?;
        Ok(source
            .text
            .chars()
            .skip(self.0.start as usize)
            .take(self.0.end.saturating_sub(self.0.start) as usize)
            .collect())
    }
    async fn start(&self) -> i32 {
        self.0.start as i32
    }
    async fn end(&self) -> i32 {
        self.0.end as i32
    }
}

/// One full-text match.
pub struct SearchHitObj {
    pub node: Node,
    pub score: f64,
    pub snippet: String,
}

#[Object(name = "SearchHit")]
impl SearchHitObj {
    async fn node(&self) -> &Node {
        &self.node
    }
    /// BM25 relevance; higher is better. Comparable within one result list only.
    async fn score(&self) -> f64 {
        self.score
    }
    /// The text around the first match.
    async fn snippet(&self) -> &str {
        &self.snippet
    }
}

pub struct ChangeLogObj(pub NodeRef);

/// A node's history: every revision, who made it and which fields it changed.
#[Object(name = "ChangeLog")]
impl ChangeLogObj {
    /// When the node was first stored (RFC 3339, UTC).
    async fn created_at(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(revisions(ctx, &self.0)
            .await?
            .first()
            .map(|r| timestamp(r.at_ms)))
    }
    /// When it last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(revisions(ctx, &self.0)
            .await?
            .last()
            .map(|r| timestamp(r.at_ms)))
    }
    /// Its latest revision number; updates may name it as `expectedRevision`.
    async fn revision(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(revisions(ctx, &self.0)
            .await?
            .last()
            .map_or(0, |r| r.number as i32))
    }
    /// Oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<LeanList<RevisionObj>> {
        Ok(LeanList(
            revisions(ctx, &self.0)
                .await?
                .iter()
                .cloned()
                .map(RevisionObj)
                .collect(),
        ))
    }
}

pub(crate) async fn revisions(
    ctx: &Context<'_>,
    node: &NodeRef,
) -> Result<Arc<Vec<crate::store::Revision>>> {
    Ok(loaders(ctx)
        .load_one(RevisionsOf(node.clone()))
        .await
        .gql()?
        .unwrap_or_default())
}

pub(crate) fn timestamp(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RevisionAction {
    Created,
    Updated,
    Deleted,
}

pub struct RevisionObj(pub crate::store::Revision);

#[Object(name = "Revision")]
impl RevisionObj {
    async fn number(&self) -> i32 {
        self.0.number as i32
    }
    /// RFC 3339, UTC.
    async fn at(&self) -> String {
        timestamp(self.0.at_ms)
    }
    /// Who: `key:<name>` for an API key, `builtin dataset`, `import`.
    async fn by(&self) -> &str {
        &self.0.by
    }
    async fn action(&self) -> RevisionAction {
        match self.0.action {
            crate::store::RevisionAction::Created => RevisionAction::Created,
            crate::store::RevisionAction::Updated => RevisionAction::Updated,
            crate::store::RevisionAction::Deleted => RevisionAction::Deleted,
        }
    }
    /// The fields an update changed.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }
}
