//! Agreement: its GraphQL object, filters, query fields, input and mutations.

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
use async_graphql::{Context, InputObject, Object, Result, ID};
use std::sync::Arc;

#[derive(Clone)]
pub struct AgreementObj(pub Arc<domain::Agreement>);

#[Object(name = "Agreement")]
impl AgreementObj {
    pub(crate) async fn id(&self) -> ID {
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
    async fn parties(&self, ctx: &Context<'_>) -> Result<LeanList<CountryObj>> {
        countries(ctx, &self.0.parties).await
    }
    async fn signatories(&self) -> LeanList<SignatoryObj> {
        LeanList(
            self.0
                .signatories
                .iter()
                .cloned()
                .map(SignatoryObj)
                .collect(),
        )
    }
    /// Countries that brokered the agreement.
    async fn brokers(&self, ctx: &Context<'_>) -> Result<LeanList<CountryObj>> {
        countries(ctx, &self.0.brokers).await
    }
    async fn provisions(&self) -> LeanList<ProvisionObj> {
        LeanList(
            (0..self.0.provisions.len())
                .map(|index| ProvisionObj {
                    agreement: self.0.clone(),
                    index,
                })
                .collect(),
        )
    }
    async fn events(&self, ctx: &Context<'_>) -> Result<LeanList<EventObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Agreement, &self.0.key),
            Role::EventAgreement,
            EventObj,
        )
        .await
    }
    /// Relations this agreement set up or changed.
    async fn relations(&self, ctx: &Context<'_>) -> Result<LeanList<RelationObj>> {
        related(
            ctx,
            NodeRef::new(NodeKind::Agreement, &self.0.key),
            Role::RelationAgreement,
            RelationObj,
        )
        .await
    }
    /// Statements about this agreement.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.0.sources)
    }
}

pub struct SignatoryObj(pub domain::Signatory);

#[Object(name = "Signatory")]
impl SignatoryObj {
    async fn person(&self, ctx: &Context<'_>) -> Result<Lean<PersonObj>> {
        Ok(Lean(
            load_one(ctx, &self.0.person)
                .await?
                .map(PersonObj)
                .ok_or_else(|| missing("person", &self.0.person))?,
        ))
    }
    /// The country the person signed for.
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<Lean<CountryObj>>> {
        Ok(country(ctx, self.0.country.as_ref()).await?.map(Lean))
    }
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

    pub(crate) fn provision(&self) -> &domain::Provision {
        &self.agreement.provisions[self.index]
    }
}

#[Object(name = "Provision")]
impl ProvisionObj {
    pub(crate) async fn id(&self) -> ID {
        id::encode_parts(
            NodeKind::Provision,
            &domain::Provision::key(&self.agreement.key, self.provision().number),
        )
    }
    async fn text(&self) -> &str {
        &self.provision().text
    }
    /// The country that commits to act, where one does.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Lean<CountryObj>>> {
        Ok(country(ctx, self.provision().actor.as_ref())
            .await?
            .map(Lean))
    }
    async fn sources(&self) -> LeanList<CitationObj> {
        citations(&self.provision().sources)
    }
    /// Its position in the agreement, from 1.
    async fn number(&self) -> i32 {
        self.provision().number as i32
    }
    async fn agreement(&self) -> Lean<AgreementObj> {
        Lean(AgreementObj(self.agreement.clone()))
    }
}

connection_types! {
    AgreementConnection, AgreementEdge, AgreementObj;
}

/// Country arguments take the same codes as Query.country.
#[derive(InputObject, Default)]
pub struct AgreementFilter {
    pub party: Option<String>,
    pub signed_from: Option<DateScalar>,
    pub signed_to: Option<DateScalar>,
}

#[derive(Default)]
pub struct AgreementQuery;

#[Object]
impl AgreementQuery {
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
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
}

#[derive(InputObject)]
pub struct SignatoryInput {
    pub person: ID,
    pub country: Option<String>,
}

#[derive(InputObject)]
pub struct ProvisionInput {
    pub text: String,
    pub actor: Option<String>,
    pub sources: Vec<CitationInput>,
}

#[derive(InputObject)]
pub struct AgreementInput {
    pub key: Option<String>,
    pub title: String,
    #[graphql(default)]
    pub aliases: Vec<String>,
    pub signed_on: Option<DateScalar>,
    pub place: Option<String>,
    #[graphql(default)]
    pub parties: Vec<String>,
    #[graphql(default)]
    pub signatories: Vec<SignatoryInput>,
    #[graphql(default)]
    pub brokers: Vec<String>,
    #[graphql(default)]
    pub provisions: Vec<ProvisionInput>,
    pub sources: Vec<CitationInput>,
}

impl AgreementInput {
    pub fn record(self, default_source: Option<&str>) -> Record {
        Record::Agreement(AgreementRecord {
            key: self.key.unwrap_or_default(),
            title: self.title,
            aliases: self.aliases,
            signed_on: date_text(self.signed_on),
            place: self.place,
            parties: self.parties,
            signatories: self
                .signatories
                .into_iter()
                .map(|s| SignatoryRecord {
                    person: key_of(NodeKind::Person, &s.person),
                    country: s.country,
                })
                .collect(),
            brokers: self.brokers,
            provisions: self
                .provisions
                .into_iter()
                .map(|p| ProvisionRecord {
                    text: p.text,
                    actor: p.actor,
                    sources: cites(p.sources, default_source),
                })
                .collect(),
            sources: cites(self.sources, default_source),
            note: None,
        })
    }
}

#[derive(Default)]
pub struct AgreementMutation;

#[Object]
impl AgreementMutation {
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_agreement(
        &self,
        ctx: &Context<'_>,
        input: AgreementInput,
    ) -> Result<AgreementObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Agreement,
            AgreementObj
        )
    }

    /// Replaces an agreement; a provision something still refers to cannot be dropped.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_agreement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AgreementInput,
        expected_revision: Option<i32>,
    ) -> Result<AgreementObj> {
        let record = keyed(input.record(None), NodeKind::Agreement, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Agreement,
            AgreementObj
        )
    }
}

impl KindApi for domain::Agreement {
    type Object = AgreementObj;
    type Query = AgreementQuery;
    type Mutation = AgreementMutation;
    type Input = AgreementInput;

    fn object(entity: Arc<Self>) -> AgreementObj {
        AgreementObj(entity)
    }

    fn input_record(input: AgreementInput, default_source: Option<&str>) -> Record {
        input.record(default_source)
    }

    fn search_text(object: &AgreementObj) -> String {
        crate::search::agreement_text(&object.0)
    }
}
