//! The read API's root.

use super::connection::*;
use super::error::{ApiError, OrGqlError};
use super::id;
use super::loader::Reader;
use super::types::*;
use crate::domain::Kinds;
use crate::domain::{self, text, NodeKind, NodeRef};
use crate::domain::{Entity, Role};
use crate::search::SearchIndex;
use crate::store::{IndexAnswer, IndexRead};
use async_graphql::futures_util::future::join_all;
use async_graphql::{Context, InputObject, Object, Result, ID};
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct Query;

/// The kinds a speaker can be.
const SPEAKERS: Kinds = Kinds::of(NodeKind::Person).and(Kinds::of(NodeKind::Organization));

/// The kinds of node the search index holds text of.
const SEARCHED: Kinds = Kinds::of(NodeKind::Statement)
    .and(Kinds::of(NodeKind::Agreement))
    .and(Kinds::of(NodeKind::Event))
    .and(Kinds::of(NodeKind::Source));

/// Name filters match the name or any alias, ignoring letter case and diacritics (Vucic finds
/// Vučić); a name matches from the start of any of its words.
#[derive(InputObject, Default)]
pub struct CountryFilter {
    pub name: Option<String>,
    /// Exact region, any letter case: Africa, Americas, Asia, Europe, Oceania, Antarctic.
    pub region: Option<String>,
}

#[derive(InputObject, Default)]
pub struct PersonFilter {
    pub name: Option<String>,
    /// People who held a post for this country (a code as in Query.country).
    pub country: Option<String>,
}

#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    pub name: Option<String>,
    pub kind: Option<OrganizationKind>,
}

/// Country arguments take the same codes as Query.country.
#[derive(InputObject, Default)]
pub struct AgreementFilter {
    pub party: Option<String>,
    pub signed_from: Option<DateScalar>,
    pub signed_to: Option<DateScalar>,
}

#[derive(InputObject, Default)]
pub struct RelationFilter {
    pub country: Option<String>,
    pub counterpart: Option<String>,
    pub kind: Option<RelationKind>,
    pub status: Option<RelationStatus>,
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

#[derive(InputObject, Default)]
pub struct EventFilter {
    pub country: Option<String>,
    pub kind: Option<EventKind>,
    pub from: Option<DateScalar>,
    pub to: Option<DateScalar>,
}

fn reader<'a>(ctx: &Context<'a>) -> &'a Reader {
    ctx.data_unchecked::<Reader>()
}

/// The key of the country with this alpha-2 or alpha-3 code, in any letter case.
fn country_key(ctx: &Context<'_>, code: &str) -> Result<Option<String>> {
    match IndexRead::country_code(code) {
        Some(read) => reader(ctx)
            .index(Kinds::of(NodeKind::Country), &read)
            .and_then(|answer| answer.key())
            .gql(),
        None => Ok(None),
    }
}

/// Resolves a country argument; an unknown code is the caller's mistake.
fn country_arg(ctx: &Context<'_>, code: &str, argument: &str) -> Result<String> {
    country_key(ctx, code)?
        .ok_or_else(|| {
            ApiError::bad_input(format!(
                "`{argument}`: unknown country code '{code}'; use ISO 3166-1 alpha-2 or alpha-3"
            ))
        })
        .gql()
}

fn name_arg(name: &str, argument: &str) -> Result<String> {
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
pub fn about_arg(store: &crate::store::Store, about: &str) -> Result<NodeRef, ApiError> {
    match store.country_code(about)? {
        Some(code) => Ok(NodeRef::new(NodeKind::Country, code)),
        None => id::decode(about).ok_or_else(|| {
            ApiError::bad_input(format!(
                "`filter.about`: '{about}' is neither a country code nor a node id"
            ))
        }),
    }
}

/// The rows the index filters of a list have narrowed it to.
enum Candidates {
    /// No index filter: every row of the kind.
    All,
    /// One reverse-reference filter so far: read page by page from the index.
    Referrers(NodeRef, Role),
    Keys(Vec<String>),
}

impl Candidates {
    /// The candidate keys; None for every row.
    async fn keys(self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(match self {
            Candidates::All => None,
            Candidates::Referrers(target, role) => {
                Some(referrers(ctx, target, role).await?.to_vec())
            }
            Candidates::Keys(keys) => Some(keys),
        })
    }

    /// Keeps only the candidates also in `more`.
    async fn narrow(
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
    async fn referring_to(
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
async fn by_country(
    ctx: &Context<'_>,
    candidates: Candidates,
    code: Option<&str>,
    argument: &str,
    role: Role,
) -> Result<Candidates> {
    let Some(code) = code else {
        return Ok(candidates);
    };
    let code = country_arg(ctx, code, argument)?;
    candidates
        .referring_to(ctx, NodeRef::new(NodeKind::Country, code), role)
        .await
}

/// One page of entities of kind E: from `candidates` when a filter chose them, else from the
/// whole tree; `keep` applies the filters no index answers.
async fn list<E: Entity, T, C: From<Page<T>>>(
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
            .index(
                Kinds::of(E::KIND),
                &IndexRead::Keys {
                    kind: E::KIND,
                    after: None,
                    limit: usize::MAX,
                },
            )
            .and_then(IndexAnswer::keys)
            .gql()?
            .to_vec(),
        other => other.keys(ctx).await?.unwrap_or_default(),
    };
    filtered_connection(ctx, &keys, page, keep, wrap).await
}

/// Unfiltered: a range scan after the cursor, and the stored count.
async fn whole_tree_page<E: Entity, T, C: From<Page<T>>>(
    ctx: &Context<'_>,
    page: PageRequest,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<C> {
    let reader = reader(ctx);
    let kinds = Kinds::of(E::KIND);
    let keys = reader
        .index(
            kinds,
            &IndexRead::Keys {
                kind: E::KIND,
                after: page.after.clone(),
                limit: page.size + 1,
            },
        )
        .and_then(IndexAnswer::keys)
        .gql()?;
    let total = reader
        .index(kinds, &IndexRead::Count(E::KIND))
        .and_then(IndexAnswer::count)
        .gql()? as usize;
    page_from_keys(ctx, &keys, &page, total, wrap).await
}

fn page(ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<PageRequest> {
    PageRequest::new(page_limits(ctx), first, after).gql()
}

fn in_range(
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
impl Query {
    /// Any node by its global id; null when there is none.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        match id::decode(&id) {
            Some(node) => resolve_node(ctx, &node).await,
            None => Ok(None),
        }
    }

    /// ISO 3166-1 alpha-2 or alpha-3, any letter case. Kosovo is XK / XKX. Unknown code: null.
    async fn country(&self, ctx: &Context<'_>, code: String) -> Result<Option<CountryObj>> {
        match country_key(ctx, &code)? {
            Some(key) => Ok(load_one(ctx, &key).await?.map(CountryObj)),
            None => Ok(None),
        }
    }

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn countries(
        &self,
        ctx: &Context<'_>,
        filter: Option<CountryFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CountryConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        if let Some(name) = &filter.name {
            let name = name_arg(name, "filter.name")?;
            let found = reader(ctx)
                .call(Kinds::of(NodeKind::Country), |s| {
                    s.find_by_name::<domain::Country>(&name)
                })
                .gql()?;
            candidates = candidates.narrow(ctx, found).await?;
        }
        let region = filter.region.map(|r| r.to_lowercase());
        let filtered = region.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            |c: &domain::Country| {
                region
                    .as_ref()
                    .is_none_or(|r| c.region.as_ref().is_some_and(|cr| cr.to_lowercase() == *r))
            },
            CountryObj,
        )
        .await
    }

    /// A person by global id; null when there is none.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PersonObj>> {
        match id::decode(&id) {
            Some(NodeRef {
                kind: NodeKind::Person,
                key,
            }) => Ok(load_one(ctx, &key).await?.map(PersonObj)),
            _ => Ok(None),
        }
    }

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
                .call(Kinds::of(NodeKind::Person), |s| {
                    s.find_by_name::<domain::Person>(&name)
                })
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

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
                .call(Kinds::of(NodeKind::Organization), |s| {
                    s.find_by_name::<domain::Organization>(&name)
                })
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

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        filter: Option<AgreementFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AgreementConnection> {
        let page = page(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let mut candidates = Candidates::All;
        candidates = by_country(
            ctx,
            candidates,
            filter.party.as_deref(),
            "filter.party",
            Role::Party,
        )
        .await?;
        let (from, to) = (filter.signed_from, filter.signed_to);
        let filtered = from.is_some() || to.is_some();
        list(
            ctx,
            candidates,
            filtered,
            page,
            |a: &domain::Agreement| in_range(a.signed_on, from, to),
            AgreementObj,
        )
        .await
    }

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
                let code = country_arg(ctx, code, argument)?;
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

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
                .call(Kinds::of(NodeKind::Mission), |s| {
                    s.find_by_name::<domain::Mission>(&city)
                })
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

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
            let (people, orgs) = reader(ctx)
                .call(SPEAKERS, |s| {
                    Ok((
                        s.find_by_name::<domain::Person>(&name)?,
                        s.find_by_name::<domain::Organization>(&name)?,
                    ))
                })
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
            let node = reader(ctx)
                .call(Kinds::of(NodeKind::Country), |s| Ok(about_arg(s, about)))
                .gql()?
                .gql()?;
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

    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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

    /// The source articles.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
