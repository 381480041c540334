//! GraphQL object types: thin wrappers over domain entities, reading related rows through the
//! per-request loaders.

use super::connection::*;
use super::error::OrGqlError;
use super::id;
use super::loader::{Key, Loaders, Reader, ReferrerCount, ReferrerPage, Referrers, RevisionsOf};
use crate::domain::Kinds;
use crate::domain::{self, NodeKind, NodeRef, PartialDate};
use crate::domain::{Entity, Role};
use crate::store::{IndexAnswer, IndexRead};
use async_graphql::futures_util::future::{join, join_all};
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
async fn related<E: Entity, T>(
    ctx: &Context<'_>,
    target: NodeRef,
    role: Role,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<Vec<T>> {
    let keys = referrers(ctx, target, role).await?;
    Ok(load_many(ctx, &keys).await?.into_iter().map(wrap).collect())
}

/// The entity an optional reference points to, wrapped for output.
async fn optional<E: Entity, T>(
    ctx: &Context<'_>,
    key: Option<&str>,
    wrap: impl Fn(Arc<E>) -> T,
) -> Result<Option<T>> {
    match key {
        Some(key) => Ok(load_one(ctx, key).await?.map(wrap)),
        None => Ok(None),
    }
}

fn country_ref(code: &str) -> NodeRef {
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
    let kinds = Kinds::of(E::KIND);
    let request = ReferrerPage {
        target: target.clone(),
        role,
        kind: E::KIND,
        after: page.after.clone(),
        limit: page.size.saturating_add(1),
    };
    // Pages and counts in memory are taken at once; only the rest join the request's batch.
    let cached_page = reader.cached_index(kinds, &request.read());
    let cached_total = match wants_total {
        true => reader.cached_index(
            role.referrer_kinds(),
            &IndexRead::ReferrerCount(target.clone(), role),
        ),
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

async fn connection_of<E: Entity, T, C: From<Page<T>>>(
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

async fn countries(ctx: &Context<'_>, codes: &[String]) -> Result<Vec<CountryObj>> {
    Ok(load_many(ctx, codes)
        .await?
        .into_iter()
        .map(CountryObj)
        .collect())
}

async fn country(ctx: &Context<'_>, code: Option<&String>) -> Result<Option<CountryObj>> {
    optional(ctx, code.map(String::as_str), CountryObj).await
}

fn citations(c: &[domain::Citation]) -> Vec<CitationObj> {
    c.iter().cloned().map(CitationObj).collect()
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

fn date(d: Option<PartialDate>) -> Option<DateScalar> {
    d.map(DateScalar)
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::OrganizationKind")]
pub enum OrganizationKind {
    GovernmentBody,
    Intergovernmental,
    NonStateArmedGroup,
    Ngo,
    Media,
    Other,
}

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

#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque, stable across restarts, resolvable by Query.node."
))]
pub enum Node {
    Country(CountryObj),
    Person(PersonObj),
    Organization(OrganizationObj),
    Agreement(AgreementObj),
    Provision(ProvisionObj),
    Relation(RelationObj),
    Mission(MissionObj),
    Event(EventObj),
    Statement(StatementObj),
    Source(SourceObj),
}

impl Node {
    /// The text the search index holds for this node, to cut snippets from.
    pub fn search_text(&self) -> String {
        match self {
            Node::Statement(s) => s.0.text.clone(),
            Node::Agreement(a) => crate::search::agreement_text(&a.0),
            Node::Provision(p) => p.provision().text.clone(),
            Node::Event(e) => e.0.title.clone(),
            Node::Source(s) => crate::search::source_text(&s.0),
            Node::Country(c) => c.0.name.clone(),
            Node::Person(p) => p.0.name.clone(),
            Node::Organization(o) => o.0.name.clone(),
            Node::Relation(_) | Node::Mission(_) => String::new(),
        }
    }
}

/// Loads any node by reference; None when it does not exist.
pub async fn resolve_node(ctx: &Context<'_>, node: &NodeRef) -> Result<Option<Node>> {
    let key = node.key.as_str();
    Ok(match node.kind {
        NodeKind::Country => load_one(ctx, key)
            .await?
            .map(|e| Node::Country(CountryObj(e))),
        NodeKind::Person => load_one(ctx, key)
            .await?
            .map(|e| Node::Person(PersonObj(e))),
        NodeKind::Organization => load_one(ctx, key)
            .await?
            .map(|e| Node::Organization(OrganizationObj(e))),
        NodeKind::Agreement => load_one(ctx, key)
            .await?
            .map(|e| Node::Agreement(AgreementObj(e))),
        NodeKind::Provision => match domain::Provision::split_key(key) {
            Some((agreement, number)) => load_one::<domain::Agreement>(ctx, agreement)
                .await?
                .and_then(|a| ProvisionObj::new(a, number))
                .map(Node::Provision),
            None => None,
        },
        NodeKind::Relation => load_one(ctx, key)
            .await?
            .map(|e| Node::Relation(RelationObj(e))),
        NodeKind::Mission => load_one(ctx, key)
            .await?
            .map(|e| Node::Mission(MissionObj(e))),
        NodeKind::Event => load_one(ctx, key).await?.map(|e| Node::Event(EventObj(e))),
        NodeKind::Statement => load_one(ctx, key)
            .await?
            .map(|e| Node::Statement(StatementObj(e))),
        NodeKind::Source => load_one(ctx, key)
            .await?
            .map(|e| Node::Source(SourceObj(e))),
    })
}

#[derive(Union)]
pub enum Speaker {
    Person(PersonObj),
    Organization(OrganizationObj),
}

#[derive(Clone)]
pub struct CountryObj(pub Arc<domain::Country>);

#[Object(name = "Country")]
impl CountryObj {
    async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Country, &self.0.code)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Country, &self.0.code))
    }
    /// ISO 3166-1 alpha-2.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// ISO 3166-1 alpha-3 (XKX for Kosovo).
    async fn alpha3(&self) -> &str {
        &self.0.alpha3
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn official_name(&self) -> Option<&str> {
        self.0.official_name.as_deref()
    }
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }
    async fn demonyms(&self) -> &[String] {
        &self.0.demonyms
    }
    async fn capital(&self) -> Option<&str> {
        self.0.capital.as_deref()
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn subregion(&self) -> Option<&str> {
        self.0.subregion.as_deref()
    }
    /// Whether the country is a member state of the United Nations.
    async fn un_member(&self) -> bool {
        self.0.un_member
    }
    /// Relations in which this country is either side.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn relations(
        &self,
        ctx: &Context<'_>,
        kind: Option<RelationKind>,
        status: Option<RelationStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<RelationConnection> {
        let page = PageRequest::new(page_limits(ctx), first, after).gql()?;
        let country = country_ref(&self.0.code);
        if kind.is_none() && status.is_none() {
            return referrer_connection(ctx, country, Role::RelationParty, page, RelationObj).await;
        }
        let keys = referrers(ctx, country, Role::RelationParty).await?;
        let kind = kind.map(domain::RelationKind::from);
        let status = status.map(domain::RelationStatus::from);
        filtered_connection(
            ctx,
            &keys,
            page,
            |r: &domain::Relation| {
                kind.is_none_or(|k| r.kind == k) && status.is_none_or(|s| r.status() == s)
            },
            RelationObj,
        )
        .await
    }
    /// Agreements this country is a party to.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AgreementConnection> {
        connection_of(
            ctx,
            country_ref(&self.0.code),
            Role::Party,
            first,
            after,
            AgreementObj,
        )
        .await
    }
    /// Missions this country sends abroad.
    async fn missions_abroad(&self, ctx: &Context<'_>) -> Result<Vec<MissionObj>> {
        related(
            ctx,
            country_ref(&self.0.code),
            Role::MissionSending,
            MissionObj,
        )
        .await
    }
    /// Missions other countries keep, or plan, in this country.
    async fn missions_hosted(&self, ctx: &Context<'_>) -> Result<Vec<MissionObj>> {
        related(
            ctx,
            country_ref(&self.0.code),
            Role::MissionHost,
            MissionObj,
        )
        .await
    }
    /// Statements about this country.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        connection_of(
            ctx,
            country_ref(&self.0.code),
            Role::About,
            first,
            after,
            StatementObj,
        )
        .await
    }
    /// People who hold or held a post for this country.
    async fn people(&self, ctx: &Context<'_>) -> Result<Vec<PersonObj>> {
        related(ctx, country_ref(&self.0.code), Role::PostCountry, PersonObj).await
    }
    /// Events this country took part in.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<EventConnection> {
        connection_of(
            ctx,
            country_ref(&self.0.code),
            Role::EventCountry,
            first,
            after,
            EventObj,
        )
        .await
    }
}

#[derive(Clone)]
pub struct PersonObj(pub Arc<domain::Person>);

#[Object(name = "Person")]
impl PersonObj {
    async fn id(&self) -> ID {
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
    async fn posts(&self) -> Vec<PostObj> {
        self.0.posts.iter().cloned().map(PostObj).collect()
    }
    /// What this person said, directly or as reported.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
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
    async fn signed(&self, ctx: &Context<'_>) -> Result<Vec<AgreementObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Person, &self.0.key),
            Role::Signatory,
            AgreementObj,
        )
        .await
    }
    /// Events this person took part in.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<EventObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Person, &self.0.key),
            Role::EventParticipant,
            EventObj,
        )
        .await
    }
}

pub struct PostObj(domain::Post);

#[Object(name = "Post")]
impl PostObj {
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<CountryObj>> {
        country(ctx, self.0.country.as_ref()).await
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationObj>> {
        optional(ctx, self.0.organization.as_deref(), OrganizationObj).await
    }
    async fn start(&self) -> Option<DateScalar> {
        date(self.0.start)
    }
    async fn end(&self) -> Option<DateScalar> {
        date(self.0.end)
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

#[derive(Clone)]
pub struct OrganizationObj(pub Arc<domain::Organization>);

#[Object(name = "Organization")]
impl OrganizationObj {
    async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Organization, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Organization, &self.0.key))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<CountryObj>> {
        country(ctx, self.0.country.as_ref()).await
    }
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        connection_of(
            ctx,
            NodeRef::new(NodeKind::Organization, &self.0.key),
            Role::Speaker,
            first,
            after,
            StatementObj,
        )
        .await
    }
    /// People who hold or held a post in this organization.
    async fn people(&self, ctx: &Context<'_>) -> Result<Vec<PersonObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Organization, &self.0.key),
            Role::PostOrganization,
            PersonObj,
        )
        .await
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

#[derive(Clone)]
pub struct AgreementObj(pub Arc<domain::Agreement>);

#[Object(name = "Agreement")]
impl AgreementObj {
    async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Agreement, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Agreement, &self.0.key))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Other names the sources use for this agreement.
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }
    async fn signed_on(&self) -> Option<DateScalar> {
        date(self.0.signed_on)
    }
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<CountryObj>> {
        countries(ctx, &self.0.parties).await
    }
    async fn signatories(&self) -> Vec<SignatoryObj> {
        self.0
            .signatories
            .iter()
            .cloned()
            .map(SignatoryObj)
            .collect()
    }
    /// Countries that brokered the agreement.
    async fn brokers(&self, ctx: &Context<'_>) -> Result<Vec<CountryObj>> {
        countries(ctx, &self.0.brokers).await
    }
    async fn provisions(&self) -> Vec<ProvisionObj> {
        (0..self.0.provisions.len())
            .map(|index| ProvisionObj {
                agreement: self.0.clone(),
                index,
            })
            .collect()
    }
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<EventObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Agreement, &self.0.key),
            Role::EventAgreement,
            EventObj,
        )
        .await
    }
    /// Relations this agreement set up or changed.
    async fn relations(&self, ctx: &Context<'_>) -> Result<Vec<RelationObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Agreement, &self.0.key),
            Role::RelationAgreement,
            RelationObj,
        )
        .await
    }
    /// Statements about this agreement.
    #[graphql(complexity = "super::page_cost(first, child_complexity)")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<StatementConnection> {
        connection_of(
            ctx,
            NodeRef::new(NodeKind::Agreement, &self.0.key),
            Role::About,
            first,
            after,
            StatementObj,
        )
        .await
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

pub struct SignatoryObj(domain::Signatory);

#[Object(name = "Signatory")]
impl SignatoryObj {
    async fn person(&self, ctx: &Context<'_>) -> Result<PersonObj> {
        load_one(ctx, &self.0.person)
            .await?
            .map(PersonObj)
            .ok_or_else(|| missing("person", &self.0.person))
    }
    /// The country the person signed for.
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<CountryObj>> {
        country(ctx, self.0.country.as_ref()).await
    }
}

/// A reference the store should always resolve; failing it is an internal error.
fn missing(kind: &str, key: &str) -> async_graphql::Error {
    tracing::error!(kind, key, "dangling reference in the store");
    async_graphql::Error::new("internal error")
        .extend_with(|_, e| e.set("code", super::error::code::INTERNAL))
}

#[derive(Clone)]
pub struct ProvisionObj {
    agreement: Arc<domain::Agreement>,
    index: usize,
}

impl ProvisionObj {
    pub fn new(agreement: Arc<domain::Agreement>, number: u32) -> Option<Self> {
        let index = agreement
            .provisions
            .iter()
            .position(|p| p.number == number)?;
        Some(ProvisionObj { agreement, index })
    }

    fn provision(&self) -> &domain::Provision {
        &self.agreement.provisions[self.index]
    }
}

#[Object(name = "Provision")]
impl ProvisionObj {
    async fn id(&self) -> ID {
        id::encode_parts(
            NodeKind::Provision,
            &domain::Provision::key(&self.agreement.key, self.provision().number),
        )
    }
    async fn text(&self) -> &str {
        &self.provision().text
    }
    /// The country that commits to act, where one does.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<CountryObj>> {
        country(ctx, self.provision().actor.as_ref()).await
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.provision().sources)
    }
    /// Its position in the agreement, from 1.
    async fn number(&self) -> i32 {
        self.provision().number as i32
    }
    async fn agreement(&self) -> AgreementObj {
        AgreementObj(self.agreement.clone())
    }
}

#[derive(Clone)]
pub struct RelationObj(pub Arc<domain::Relation>);

/// A relation between two countries. For RECOGNITION, subject recognizes object.
#[Object(name = "Relation")]
impl RelationObj {
    async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Relation, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Relation, &self.0.key))
    }
    async fn kind(&self) -> RelationKind {
        self.0.kind.into()
    }
    async fn subject(&self, ctx: &Context<'_>) -> Result<CountryObj> {
        country(ctx, Some(&self.0.subject))
            .await?
            .ok_or_else(|| missing("country", &self.0.subject))
    }
    async fn object(&self, ctx: &Context<'_>) -> Result<CountryObj> {
        country(ctx, Some(&self.0.object))
            .await?
            .ok_or_else(|| missing("country", &self.0.object))
    }
    /// The current status: the last entry of `history`.
    async fn status(&self) -> RelationStatus {
        self.0.status().into()
    }
    /// When the current status began, where the sources say.
    async fn since(&self) -> Option<DateScalar> {
        date(self.0.since())
    }
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<AgreementObj>> {
        optional(ctx, self.0.agreement.as_deref(), AgreementObj).await
    }
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<EventObj>> {
        optional(ctx, self.0.event.as_deref(), EventObj).await
    }
    /// Every citation of every status the relation went through.
    async fn sources(&self) -> Vec<CitationObj> {
        self.0.sources().cloned().map(CitationObj).collect()
    }
    /// The statuses the relation went through, oldest first, each with its sources.
    async fn history(&self) -> Vec<StatusChangeObj> {
        self.0
            .history
            .iter()
            .cloned()
            .map(StatusChangeObj)
            .collect()
    }
    /// The side that is not `country` (a code as in Query.country); null if neither side is.
    async fn counterpart(&self, ctx: &Context<'_>, country: String) -> Result<Option<CountryObj>> {
        let code = country.to_ascii_uppercase();
        let other = if self.0.subject == code || load_alpha3(ctx, &self.0.subject).await? == code {
            &self.0.object
        } else if self.0.object == code || load_alpha3(ctx, &self.0.object).await? == code {
            &self.0.subject
        } else {
            return Ok(None);
        };
        self::country(ctx, Some(other)).await
    }
}

async fn load_alpha3(ctx: &Context<'_>, code: &str) -> Result<String> {
    Ok(load_one::<domain::Country>(ctx, code)
        .await?
        .map(|c| c.alpha3.clone())
        .unwrap_or_default())
}

pub struct StatusChangeObj(domain::StatusChange);

/// One step in a relation's history.
#[Object(name = "RelationStatusChange")]
impl StatusChangeObj {
    async fn status(&self) -> RelationStatus {
        self.0.status.into()
    }
    async fn date(&self) -> Option<DateScalar> {
        date(self.0.date)
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

#[derive(Clone)]
pub struct MissionObj(pub Arc<domain::Mission>);

#[Object(name = "Mission")]
impl MissionObj {
    async fn id(&self) -> ID {
        id::encode_parts(NodeKind::Mission, &self.0.key)
    }
    /// When this was stored and changed, by whom, and what changed.
    async fn change_log(&self) -> ChangeLogObj {
        ChangeLogObj(NodeRef::new(NodeKind::Mission, &self.0.key))
    }
    async fn kind(&self) -> MissionKind {
        self.0.kind.into()
    }
    async fn sending_country(&self, ctx: &Context<'_>) -> Result<CountryObj> {
        country(ctx, Some(&self.0.sending_country))
            .await?
            .ok_or_else(|| missing("country", &self.0.sending_country))
    }
    async fn host_country(&self, ctx: &Context<'_>) -> Result<CountryObj> {
        country(ctx, Some(&self.0.host_country))
            .await?
            .ok_or_else(|| missing("country", &self.0.host_country))
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
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

#[derive(Clone)]
pub struct EventObj(pub Arc<domain::Event>);

#[Object(name = "Event")]
impl EventObj {
    async fn id(&self) -> ID {
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
    async fn participants(&self, ctx: &Context<'_>) -> Result<Vec<PersonObj>> {
        Ok(load_many(ctx, &self.0.participants)
            .await?
            .into_iter()
            .map(PersonObj)
            .collect())
    }
    async fn countries(&self, ctx: &Context<'_>) -> Result<Vec<CountryObj>> {
        countries(ctx, &self.0.countries).await
    }
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<AgreementObj>> {
        optional(ctx, self.0.agreement.as_deref(), AgreementObj).await
    }
    /// Statements made at this event.
    async fn statements(&self, ctx: &Context<'_>) -> Result<Vec<StatementObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Event, &self.0.key),
            Role::StatementEvent,
            StatementObj,
        )
        .await
    }
    async fn sources(&self) -> Vec<CitationObj> {
        citations(&self.0.sources)
    }
}

#[derive(Clone)]
pub struct StatementObj(pub Arc<domain::Statement>);

#[Object(name = "Statement")]
impl StatementObj {
    async fn id(&self) -> ID {
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
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<EventObj>> {
        optional(ctx, self.0.event.as_deref(), EventObj).await
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
    async fn source(&self) -> CitationObj {
        CitationObj(self.0.source.clone())
    }
}

#[derive(Clone)]
pub struct SourceObj(pub Arc<domain::Source>);

#[Object(name = "Source")]
impl SourceObj {
    async fn id(&self) -> ID {
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

pub struct CitationObj(pub domain::Citation);

/// Where a fact comes from. Invariant: excerpt == the characters start..end of source.text
/// (Unicode scalar values, end exclusive).
#[Object(name = "Citation")]
impl CitationObj {
    async fn source(&self, ctx: &Context<'_>) -> Result<SourceObj> {
        load_one(ctx, &self.0.source)
            .await?
            .map(SourceObj)
            .ok_or_else(|| missing("source", &self.0.source))
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

pub struct ChangeLogObj(NodeRef);

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
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<RevisionObj>> {
        Ok(revisions(ctx, &self.0)
            .await?
            .iter()
            .cloned()
            .map(RevisionObj)
            .collect())
    }
}

async fn revisions(ctx: &Context<'_>, node: &NodeRef) -> Result<Arc<Vec<crate::store::Revision>>> {
    Ok(loaders(ctx)
        .load_one(RevisionsOf(node.clone()))
        .await
        .gql()?
        .unwrap_or_default())
}

fn timestamp(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RevisionAction {
    Created,
    Updated,
    Deleted,
}

pub struct RevisionObj(crate::store::Revision);

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
