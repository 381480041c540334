//! Country: its GraphQL object, filters, query fields, input and mutations.

use crate::domain::Fact;
use crate::domain::{self, NodeKind, NodeRef, Role};
use crate::facts::*;
use crate::graphql::auth::RoleGuard;
use crate::graphql::connection::*;
use crate::graphql::error::{ApiError, OrGqlError};
use crate::graphql::id;
use crate::graphql::kinds::*;
use crate::graphql::lean::{Lean, LeanList};
use crate::graphql::mutation::unwrap_fact;
use crate::graphql::mutation::*;
use crate::graphql::query::*;
use crate::graphql::types::*;
use crate::ingest::write::Mode;
use crate::store::KeyRole;
use async_graphql::{Context, InputObject, Object, Result, ID};
use std::sync::Arc;

#[derive(Clone)]
pub struct CountryObj(pub Arc<domain::Country>);

#[Object(name = "Country")]
impl CountryObj {
    pub(crate) async fn id(&self) -> ID {
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
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
    async fn missions_abroad(&self, ctx: &Context<'_>) -> Result<LeanList<MissionObj>> {
        related(
            ctx,
            country_ref(&self.0.code),
            Role::MissionSending,
            MissionObj,
        )
        .await
    }
    /// Missions other countries keep, or plan, in this country.
    async fn missions_hosted(&self, ctx: &Context<'_>) -> Result<LeanList<MissionObj>> {
        related(
            ctx,
            country_ref(&self.0.code),
            Role::MissionHost,
            MissionObj,
        )
        .await
    }
    /// The organizations this country belongs to, has applied to or is a candidate for,
    /// intends to join, or has left.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<LeanList<MembershipObj>> {
        related(
            ctx,
            country_ref(&self.0.code),
            Role::MembershipCountry,
            MembershipObj,
        )
        .await
    }
    /// Statements about this country.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
    async fn people(&self, ctx: &Context<'_>) -> Result<LeanList<PersonObj>> {
        related(ctx, country_ref(&self.0.code), Role::PostCountry, PersonObj).await
    }
    /// Events this country took part in.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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

connection_types! {
    CountryConnection, CountryEdge, CountryObj;
}

/// Name filters match the name or any alias, ignoring letter case and diacritics (Vucic finds
/// Vučić); a name matches from the start of any of its words.
#[derive(InputObject, Default)]
pub struct CountryFilter {
    pub name: Option<String>,
    /// Exact region, any letter case: Africa, Americas, Asia, Europe, Oceania, Antarctic.
    pub region: Option<String>,
}

#[derive(Default)]
pub struct CountryQuery;

#[Object]
impl CountryQuery {
    /// ISO 3166-1 alpha-2 or alpha-3, any letter case. Kosovo is XK / XKX. Unknown code: null.
    async fn country(&self, ctx: &Context<'_>, code: String) -> Result<Option<Lean<CountryObj>>> {
        Ok(match country_key(ctx, &code).await? {
            Some(key) => load_one(ctx, &key).await?.map(|c| Lean(CountryObj(c))),
            None => None,
        })
    }

    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
                .find_by_name::<domain::Country>(&name)
                .await
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
}

#[derive(InputObject)]
pub struct CountryInput {
    pub code: String,
    pub alpha3: String,
    pub name: String,
    pub official_name: Option<String>,
    #[graphql(default)]
    pub aliases: Vec<String>,
    #[graphql(default)]
    pub demonyms: Vec<String>,
    pub capital: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    #[graphql(default)]
    pub un_member: bool,
}

impl CountryInput {
    pub fn record(self) -> Record {
        Record::Country(CountryRecord {
            code: self.code,
            alpha3: self.alpha3,
            name: self.name,
            official_name: self.official_name,
            aliases: self.aliases,
            demonyms: self.demonyms,
            capital: self.capital,
            region: self.region,
            subregion: self.subregion,
            un_member: self.un_member,
        })
    }
}

#[derive(Default)]
pub struct CountryMutation;

#[Object]
impl CountryMutation {
    /// Adds a country (admin). Its alpha-2 code is its key and must be new.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_country(&self, ctx: &Context<'_>, input: CountryInput) -> Result<CountryObj> {
        unwrap_fact!(
            write_one(ctx, input.record(), Mode::Create).await?,
            Country,
            CountryObj
        )
    }

    /// Replaces a country's data (admin); `code` names it and cannot change.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_country(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: CountryInput,
        expected_revision: Option<i32>,
    ) -> Result<CountryObj> {
        if !input.code.eq_ignore_ascii_case(code.trim()) {
            return Err(ApiError::bad_input(
                "`input.code` must equal `code`: a country's code is its key",
            ))
            .gql();
        }
        unwrap_fact!(
            write_one(ctx, input.record(), replace(expected_revision)?).await?,
            Country,
            CountryObj
        )
    }
}

impl KindApi for domain::Country {
    type Object = CountryObj;
    type Query = CountryQuery;
    type Mutation = CountryMutation;
    type Input = CountryInput;

    fn object(entity: Arc<Self>) -> CountryObj {
        CountryObj(entity)
    }

    fn input_record(input: CountryInput, _default_source: Option<&str>) -> Record {
        input.record()
    }

    fn search_text(object: &CountryObj) -> String {
        object.0.name.clone()
    }
}
