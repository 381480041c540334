//! The write API. Every mutation needs `Authorization: Bearer <key>`; each is one transaction,
//! flushed to disk before it answers, and announced to subscribers after it commits.

use super::auth::{self, Caller, RoleGuard};
use super::error::{ApiError, OrGqlError};
use super::id;
use super::inputs::*;
use super::types::*;
use crate::domain::{Fact, NodeKind, NodeRef};
use crate::facts::Record;
use crate::store::{KeyRole, Outcome, OutcomeAction};
use crate::write::{slug, Author, Mode, WriteFailure, Writer};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use std::sync::Arc;

pub struct Mutation;

/// What a delete removed: the node, and with `cascade` whatever referred to it.
#[derive(SimpleObject)]
pub struct DeletePayload {
    pub deleted_ids: Vec<ID>,
}

/// The stored source and the ids of every fact stored with it.
#[derive(SimpleObject)]
pub struct AddSourcePayload {
    pub source: SourceObj,
    pub fact_ids: Vec<ID>,
}

fn writer<'a>(ctx: &Context<'a>) -> &'a Arc<Writer> {
    ctx.data_unchecked::<Arc<Writer>>()
}

/// Runs a blocking write off the async worker, as the caller (whose role the writer checks
/// against the role matrix, `write::required_role`).
async fn run<T: Send + 'static>(
    ctx: &Context<'_>,
    job: impl FnOnce(&Writer, &Author) -> Result<T, WriteFailure> + Send + 'static,
) -> Result<T> {
    let writer = writer(ctx).clone();
    let caller = ctx.data_unchecked::<Caller>();
    let Some(author) = caller.author() else {
        RoleGuard(KeyRole::Writer).check_caller(caller)?;
        return Err(auth::unauthenticated("this needs an API key"));
    };
    match actix_web::rt::task::spawn_blocking(move || job(&writer, &author)).await {
        Ok(result) => result.map_err(ApiError::from).gql(),
        Err(e) => {
            tracing::error!(error = %e, "a write task failed");
            Err(ApiError::bad_input("the write could not complete")).gql()
        }
    }
}

fn fact(ctx: &Context<'_>, node: &NodeRef) -> Result<Fact> {
    writer(ctx)
        .store()
        .get_fact(node)
        .gql()?
        .ok_or_else(|| async_graphql::Error::new(format!("{node} vanished after it was written")))
}

macro_rules! unwrap_fact {
    ($fact:expr, $variant:ident, $obj:ident) => {
        match $fact {
            Fact::$variant(e) => Ok($obj(Arc::new(e))),
            other => Err(async_graphql::Error::new(format!(
                "expected a {}, found {}",
                stringify!($variant),
                other.node()
            ))),
        }
    };
}

/// Writes one record; returns the node it stored.
async fn write_one(ctx: &Context<'_>, record: Record, mode: Mode) -> Result<Fact> {
    let outcomes = run(ctx, move |w, by| {
        w.write(vec![("input".into(), record)], mode, by)
    })
    .await?;
    let node = outcomes
        .into_iter()
        .next()
        .map(|o| o.node)
        .ok_or_else(|| async_graphql::Error::new("nothing was written"))?;
    fact(ctx, &node)
}

/// The record with the key of the node `id` names, for a replacement.
fn keyed(mut record: Record, kind: NodeKind, id: &ID) -> Result<Record> {
    let key = key_of(kind, id);
    if key.is_empty() {
        return Err(ApiError::bad_input("`id` must not be empty")).gql();
    }
    debug_assert_eq!(record.kind(), kind);
    *record.key_mut() = key;
    Ok(record)
}

fn replace(expected_revision: Option<i32>) -> Result<Mode> {
    let expected_revision = expected_revision
        .map(|r| {
            u64::try_from(r)
                .map_err(|_| ApiError::bad_input("`expectedRevision` must not be negative"))
        })
        .transpose()
        .gql()?;
    Ok(Mode::Replace { expected_revision })
}

fn ids(outcomes: &[Outcome]) -> Vec<ID> {
    outcomes.iter().map(|o| id::encode(&o.node)).collect()
}

#[Object]
impl Mutation {
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

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_person(&self, ctx: &Context<'_>, input: PersonInput) -> Result<PersonObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Person,
            PersonObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PersonInput,
        expected_revision: Option<i32>,
    ) -> Result<PersonObj> {
        let record = keyed(input.record(None), NodeKind::Person, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Person,
            PersonObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: OrganizationInput,
    ) -> Result<OrganizationObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Organization,
            OrganizationObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: OrganizationInput,
        expected_revision: Option<i32>,
    ) -> Result<OrganizationObj> {
        let record = keyed(input.record(None), NodeKind::Organization, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Organization,
            OrganizationObj
        )
    }

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

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_relation(
        &self,
        ctx: &Context<'_>,
        input: RelationInput,
    ) -> Result<RelationObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Relation,
            RelationObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_relation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RelationInput,
        expected_revision: Option<i32>,
    ) -> Result<RelationObj> {
        let record = keyed(input.record(None), NodeKind::Relation, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Relation,
            RelationObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn create_mission(&self, ctx: &Context<'_>, input: MissionInput) -> Result<MissionObj> {
        unwrap_fact!(
            write_one(ctx, input.record(None), Mode::Create).await?,
            Mission,
            MissionObj
        )
    }

    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn update_mission(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MissionInput,
        expected_revision: Option<i32>,
    ) -> Result<MissionObj> {
        let record = keyed(input.record(None), NodeKind::Mission, &id)?;
        unwrap_fact!(
            write_one(ctx, record, replace(expected_revision)?).await?,
            Mission,
            MissionObj
        )
    }

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

    /// Deletes any node. Refused while something refers to it (the error lists the referrers
    /// in `extensions.referrers`), unless `cascade` (admin) deletes those too.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn delete_node(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default)] cascade: bool,
        expected_revision: Option<i32>,
    ) -> Result<DeletePayload> {
        let node = id::decode(&id)
            .filter(|n| n.kind != NodeKind::Provision)
            .ok_or_else(|| {
                ApiError::bad_input(format!(
                    "'{}' is not the id of a deletable node (provisions go with their agreement)",
                    id.as_str()
                ))
            })
            .gql()?;
        let Mode::Replace { expected_revision } = replace(expected_revision)? else {
            unreachable!()
        };
        let outcomes = run(ctx, move |w, by| {
            w.delete(node, cascade, expected_revision, by)
        })
        .await?;
        Ok(DeletePayload {
            deleted_ids: ids(&outcomes),
        })
    }

    /// Stores an article with the facts it supports, in one transaction: all of it, or none.
    /// Citations that name no source cite this one.
    #[graphql(guard = "RoleGuard(KeyRole::Writer)")]
    async fn add_source(
        &self,
        ctx: &Context<'_>,
        input: AddSourceInput,
    ) -> Result<AddSourcePayload> {
        let mut source = input.source.record();
        if source.key.trim().is_empty() {
            let store = writer(ctx).store();
            let base = slug(&source.title);
            let taken = |k: &str| {
                store
                    .exists(&NodeRef::new(NodeKind::Source, k))
                    .unwrap_or(true)
            };
            source.key = if taken(&base) {
                (2..)
                    .map(|n| format!("{base}-{n}"))
                    .find(|k| !taken(k))
                    .unwrap_or(base)
            } else {
                base
            };
        }
        let key = source.key.clone();
        let here = Some(key.as_str());
        let mut records: Vec<(String, Record)> =
            vec![("input.source".into(), Record::Source(source))];
        let mut add = |field: &str, list: Vec<Record>| {
            for (i, r) in list.into_iter().enumerate() {
                records.push((format!("input.{field}[{i}]"), r));
            }
        };
        add(
            "organizations",
            input
                .organizations
                .into_iter()
                .map(|x| x.record(here))
                .collect(),
        );
        add(
            "people",
            input.people.into_iter().map(|x| x.record(here)).collect(),
        );
        add(
            "agreements",
            input
                .agreements
                .into_iter()
                .map(|x| x.record(here))
                .collect(),
        );
        add(
            "events",
            input.events.into_iter().map(|x| x.record(here)).collect(),
        );
        add(
            "relations",
            input
                .relations
                .into_iter()
                .map(|x| x.record(here))
                .collect(),
        );
        add(
            "missions",
            input.missions.into_iter().map(|x| x.record(here)).collect(),
        );
        add(
            "statements",
            input
                .statements
                .into_iter()
                .map(|x| x.record(here))
                .collect(),
        );
        let outcomes = run(ctx, move |w, by| w.write(records, Mode::Create, by)).await?;
        let source = unwrap_fact!(
            fact(ctx, &NodeRef::new(NodeKind::Source, key))?,
            Source,
            SourceObj
        )?;
        let fact_ids = outcomes
            .iter()
            .filter(|o| o.node.kind != NodeKind::Source && o.action != OutcomeAction::Unchanged)
            .map(|o| id::encode(&o.node))
            .collect();
        Ok(AddSourcePayload { source, fact_ids })
    }

    /// Makes an API key (admin keys only); the answer holds its secret, shown this once. It
    /// works from the next request on, until revoked or past `expiresAt` (RFC 3339).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        name: String,
        role: super::keys::ApiKeyRole,
        expires_at: Option<String>,
    ) -> Result<super::keys::CreatedApiKey> {
        super::keys::create(ctx, name, role, expires_at).await
    }

    /// Revokes an API key for good (admin keys only): it fails from the next request on, and
    /// WebSockets opened with it are closed.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> Result<super::keys::ApiKeyObj> {
        super::keys::revoke(ctx, name).await
    }

    /// Writes a consistent copy of the whole store to `<backup_dir>/<name>` on the server
    /// (admin keys only), while it serves: writes wait for the copy, reads go on. Restore it
    /// with `diplograph restore`.
    async fn create_backup(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> Result<super::backup::Backup> {
        super::backup::create(ctx, name).await
    }
}
