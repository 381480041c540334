//! The write API. Every mutation needs `Authorization: Bearer <key>`; each is one transaction,
//! flushed to disk before it answers, and announced to subscribers after it commits.

use super::auth::{self, Caller, RoleGuard};
use super::error::{off_worker, ApiError, OrGqlError};
use super::id;
use super::inputs::*;
use super::kinds::*;
use crate::domain::{Fact, NodeKind, NodeRef};
use crate::facts::Record;
use crate::ingest::queue::WriteQueue;
use crate::ingest::write::{slug, Author, Mode, WriteFailure, Writer};
use crate::store::{KeyRole, Outcome, OutcomeAction, WriteError};
use async_graphql::{Context, MergedObject, Object, Result, SimpleObject, ID};
use std::sync::Arc;

/// The root fields that belong to no one kind; each kind's own are in `kinds`.
#[derive(Default)]
pub struct CoreMutation;

macro_rules! mutation_root {
    (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
        /// The write API's root.
        #[derive(MergedObject, Default)]
        pub struct Mutation(CoreMutation, $(<crate::domain::$kind as KindApi>::Mutation,)*);
    };
}
crate::with_kinds!(mutation_root);

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

pub(crate) fn writer<'a>(ctx: &Context<'a>) -> &'a Arc<Writer> {
    ctx.data_unchecked::<Arc<Writer>>()
}

/// Runs a write on the write queue, off the async workers, as the caller (whose role the
/// writer checks against the role matrix, `ingest::write::required_role`); it answers once
/// the write is durable.
pub(crate) async fn run<T: Send + 'static>(
    ctx: &Context<'_>,
    job: impl FnOnce(&Writer, &Author) -> Result<T, WriteFailure> + Send + 'static,
) -> Result<T> {
    let caller = ctx.data_unchecked::<Caller>();
    let Some(author) = caller.author() else {
        RoleGuard(KeyRole::Writer).check_caller(caller)?;
        return Err(auth::unauthenticated("this needs an API key"));
    };
    ctx.data_unchecked::<WriteQueue>()
        .run(move |writer| job(writer, &author))
        .await
        .map_err(ApiError::from)
        .gql()?
        .map_err(ApiError::from)
        .gql()
}

/// Reads the store off the async worker (a sled read may wait on the disk).
async fn read<T: Send + 'static>(
    ctx: &Context<'_>,
    job: impl FnOnce(&crate::store::Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T> {
    let store = writer(ctx).store().clone();
    off_worker("read", move || job(&store)).await?.gql()
}

/// The node as the write just made left it, read in the same trip off the worker as the write
/// (each trip is two thread switches on the writer's path).
fn as_written(writer: &Writer, node: NodeRef) -> Result<Fact, WriteFailure> {
    writer
        .store()
        .get_fact(&node)
        .map_err(WriteError::from)?
        .ok_or_else(|| WriteError::Conflict(format!("{node} vanished after it was written")).into())
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
pub(crate) use unwrap_fact;

/// Writes one record; returns the node it stored.
pub(crate) async fn write_one(ctx: &Context<'_>, record: Record, mode: Mode) -> Result<Fact> {
    run(ctx, move |w, by| {
        let outcomes = w.write(vec![("input".into(), record)], mode, by)?;
        let node = outcomes
            .into_iter()
            .next()
            .map(|o| o.node)
            .ok_or_else(|| WriteError::Conflict("nothing was written".into()))?;
        as_written(w, node)
    })
    .await
}

/// The record with the key of the node `id` names, for a replacement.
pub(crate) fn keyed(mut record: Record, kind: NodeKind, id: &ID) -> Result<Record> {
    let key = key_of(kind, id);
    if key.is_empty() {
        return Err(ApiError::bad_input("`id` must not be empty")).gql();
    }
    debug_assert_eq!(record.kind(), kind);
    *record.key_mut() = key;
    Ok(record)
}

pub(crate) fn replace(expected_revision: Option<i32>) -> Result<Mode> {
    let expected_revision = expected_revision
        .map(|r| {
            u64::try_from(r)
                .map_err(|_| ApiError::bad_input("`expectedRevision` must not be negative"))
        })
        .transpose()
        .gql()?;
    Ok(Mode::Replace { expected_revision })
}

pub(crate) fn ids(outcomes: &[Outcome]) -> Vec<ID> {
    outcomes.iter().map(|o| id::encode(&o.node)).collect()
}

#[Object]
impl CoreMutation {
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
        let (source, facts) = input.into_parts();
        let mut source = source.record();
        if source.key.trim().is_empty() {
            let base = slug(&source.title);
            source.key = read(ctx, move |store| {
                let taken = |k: &str| {
                    store
                        .exists(&NodeRef::new(NodeKind::Source, k))
                        .unwrap_or(true)
                };
                Ok(if taken(&base) {
                    (2..)
                        .map(|n| format!("{base}-{n}"))
                        .find(|k| !taken(k))
                        .unwrap_or(base)
                } else {
                    base
                })
            })
            .await?;
        }
        let key = source.key.clone();
        let mut records: Vec<(String, Record)> =
            vec![("input.source".into(), Record::Source(source))];
        records.extend(facts(&key));
        let (outcomes, source) = run(ctx, move |w, by| {
            let outcomes = w.write(records, Mode::Create, by)?;
            Ok((
                outcomes,
                as_written(w, NodeRef::new(NodeKind::Source, key))?,
            ))
        })
        .await?;
        let source = unwrap_fact!(source, Source, SourceObj)?;
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
