//! The framework floor: the bench's queries answered by async-graphql over plain in-memory
//! structs — every entity in a map, every reverse reference a sorted list built once — behind
//! actix-web with the same one worker, and no store, loaders, limits or middleware. What the
//! real server spends beyond this is what the store, the indexes and the batching cost.
//!
//! It serves only the fields the bench's queries select, under the same names and shapes, so
//! that the very same request bodies run on both and their `data` can be compared.

use actix_web::{web, App, HttpResponse, HttpServer};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, InputObject, Object, Schema, SimpleObject,
    Union,
};
use diplograph::domain::{self, NodeKind};
use diplograph::graphql::connection::{PageInfo, PageLimits, PageRequest};
use diplograph::graphql::id;
use diplograph::search::SearchIndex;
use diplograph::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;

type Map<T> = HashMap<String, Arc<T>>;

/// Everything the queries read, in memory.
pub struct Graph {
    countries: Map<domain::Country>,
    codes: HashMap<String, String>,
    agreements: Map<domain::Agreement>,
    relations: Map<domain::Relation>,
    statements: Map<domain::Statement>,
    statement_keys: Vec<String>,
    people: Map<domain::Person>,
    organizations: Map<domain::Organization>,
    events: Map<domain::Event>,
    sources: Map<domain::Source>,
    relations_of: HashMap<String, Vec<String>>,
    agreements_of: HashMap<String, Vec<String>>,
    statements_about: HashMap<String, Vec<String>>,
    search: SearchIndex,
}

fn keyed<E: diplograph::domain::Entity>(store: &Store) -> Result<Map<E>, StoreError> {
    Ok(store
        .all::<E>()?
        .into_iter()
        .map(|e| (e.key().to_string(), Arc::new(e)))
        .collect())
}

/// Appends `key` under each of `owners`; lists are sorted at the end.
fn index(map: &mut HashMap<String, Vec<String>>, owners: &[&String], key: &str) {
    for owner in owners {
        map.entry((*owner).clone())
            .or_default()
            .push(key.to_string());
    }
}

impl Graph {
    /// Reads the whole store once; afterwards nothing touches it.
    pub fn load(store: &Store) -> Result<Graph, StoreError> {
        let countries = keyed::<domain::Country>(store)?;
        let codes = countries
            .values()
            .flat_map(|c| {
                [
                    (c.code.clone(), c.code.clone()),
                    (c.alpha3.clone(), c.code.clone()),
                ]
            })
            .collect();
        let agreements = keyed::<domain::Agreement>(store)?;
        let relations = keyed::<domain::Relation>(store)?;
        let statements = keyed::<domain::Statement>(store)?;
        let (mut relations_of, mut agreements_of, mut statements_about) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for r in relations.values() {
            index(&mut relations_of, &[&r.subject, &r.object], &r.key);
        }
        for a in agreements.values() {
            index(
                &mut agreements_of,
                &a.parties.iter().collect::<Vec<_>>(),
                &a.key,
            );
        }
        for s in statements.values() {
            let countries: Vec<&String> = s
                .about
                .iter()
                .filter(|n| n.kind == NodeKind::Country)
                .map(|n| &n.key)
                .collect();
            index(&mut statements_about, &countries, &s.key);
        }
        for lists in [&mut relations_of, &mut agreements_of, &mut statements_about] {
            lists.values_mut().for_each(|l| {
                l.sort_unstable();
                l.dedup();
            });
        }
        let mut statement_keys: Vec<String> = statements.keys().cloned().collect();
        statement_keys.sort_unstable();
        Ok(Graph {
            countries,
            codes,
            agreements,
            relations,
            statements,
            statement_keys,
            people: keyed(store)?,
            organizations: keyed(store)?,
            events: keyed(store)?,
            sources: keyed(store)?,
            relations_of,
            agreements_of,
            statements_about,
            search: SearchIndex::in_memory(
                store
                    .all::<domain::Statement>()?
                    .into_iter()
                    .map(domain::Fact::Statement)
                    .chain(
                        store
                            .all::<domain::Agreement>()?
                            .into_iter()
                            .map(domain::Fact::Agreement),
                    )
                    .chain(
                        store
                            .all::<domain::Event>()?
                            .into_iter()
                            .map(domain::Fact::Event),
                    )
                    .chain(
                        store
                            .all::<domain::Source>()?
                            .into_iter()
                            .map(domain::Fact::Source),
                    ),
            )
            .map_err(|e| StoreError::Codec(e.to_string()))?,
        })
    }
}

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

fn graph<'a>(ctx: &Context<'a>) -> &'a Graph {
    ctx.data_unchecked::<Arc<Graph>>()
}

/// A page's rows (cursor and node), its info and the total it was cut from.
type Rows<T> = (Vec<(String, T)>, PageInfo, usize);

/// One page of `keys` (sorted) as edges of the entities in `map`.
fn page<E, T>(
    keys: &[String],
    map: &Map<E>,
    first: Option<i32>,
    after: Option<String>,
    wrap: impl Fn(Arc<E>) -> T,
) -> async_graphql::Result<Rows<T>> {
    let request = PageRequest::new(&LIMITS, first, after).map_err(|e| e.to_string())?;
    let (range, info) = request.slice(keys);
    let rows = keys[range]
        .iter()
        .filter_map(|k| map.get(k).map(|e| (id::encode_cursor(k), wrap(e.clone()))))
        .collect();
    Ok((rows, info, keys.len()))
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident) => {
        #[derive(SimpleObject)]
        struct $edge {
            cursor: String,
            node: $node,
        }

        #[derive(SimpleObject)]
        struct $connection {
            edges: Vec<$edge>,
            page_info: PageInfo,
            total_count: i32,
        }

        impl $connection {
            fn from((rows, page_info, total): Rows<$node>) -> Self {
                $connection {
                    edges: rows
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count: total as i32,
                }
            }
        }
    };
}

connection!(RelationConnection, RelationEdge, Relation);
connection!(AgreementConnection, AgreementEdge, Agreement);
connection!(StatementConnection, StatementEdge, Statement);

const NO_KEYS: &[String] = &[];

fn of<'a>(lists: &'a HashMap<String, Vec<String>>, owner: &str) -> &'a [String] {
    lists.get(owner).map_or(NO_KEYS, Vec::as_slice)
}

struct Country(Arc<domain::Country>);

#[Object]
impl Country {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn alpha3(&self) -> &str {
        &self.0.alpha3
    }
    async fn capital(&self) -> Option<&str> {
        self.0.capital.as_deref()
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn relations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<RelationConnection> {
        let g = graph(ctx);
        let keys = of(&g.relations_of, &self.0.code);
        page(keys, &g.relations, first, after, Relation).map(RelationConnection::from)
    }
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgreementConnection> {
        let g = graph(ctx);
        let keys = of(&g.agreements_of, &self.0.code);
        page(keys, &g.agreements, first, after, Agreement).map(AgreementConnection::from)
    }
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<StatementConnection> {
        let g = graph(ctx);
        let keys = of(&g.statements_about, &self.0.code);
        page(keys, &g.statements, first, after, Statement).map(StatementConnection::from)
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::RelationKind")]
enum RelationKind {
    DiplomaticRelations,
    Recognition,
}

struct Relation(Arc<domain::Relation>);

#[Object]
impl Relation {
    async fn kind(&self) -> RelationKind {
        self.0.kind.into()
    }
    async fn since(&self) -> Option<String> {
        self.0.since().map(|d| d.to_string())
    }
    async fn subject(&self, ctx: &Context<'_>) -> Option<Country> {
        graph(ctx)
            .countries
            .get(&self.0.subject)
            .cloned()
            .map(Country)
    }
    async fn object(&self, ctx: &Context<'_>) -> Option<Country> {
        graph(ctx)
            .countries
            .get(&self.0.object)
            .cloned()
            .map(Country)
    }
}

struct Agreement(Arc<domain::Agreement>);

#[Object]
impl Agreement {
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn signed_on(&self) -> Option<String> {
        self.0.signed_on.map(|d| d.to_string())
    }
    async fn parties(&self, ctx: &Context<'_>) -> Vec<Country> {
        let g = graph(ctx);
        self.0
            .parties
            .iter()
            .filter_map(|c| g.countries.get(c).cloned().map(Country))
            .collect()
    }
    async fn provisions(&self) -> Vec<Provision> {
        (0..self.0.provisions.len())
            .map(|i| Provision(self.0.clone(), i))
            .collect()
    }
}

struct Provision(Arc<domain::Agreement>, usize);

#[Object]
impl Provision {
    async fn text(&self) -> &str {
        &self.0.provisions[self.1].text
    }
}

struct Statement(Arc<domain::Statement>);

#[Object]
impl Statement {
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn speaker(&self, ctx: &Context<'_>) -> Option<Speaker> {
        let g = graph(ctx);
        let speaker = self.0.speaker.as_ref()?;
        match speaker.kind {
            NodeKind::Person => g
                .people
                .get(&speaker.key)
                .cloned()
                .map(|p| Speaker::Person(Person(p))),
            NodeKind::Organization => g
                .organizations
                .get(&speaker.key)
                .cloned()
                .map(|o| Speaker::Organization(Organization(o))),
            _ => None,
        }
    }
}

struct Person(Arc<domain::Person>);

#[Object]
impl Person {
    async fn name(&self) -> &str {
        &self.0.name
    }
}

struct Organization(Arc<domain::Organization>);

#[Object]
impl Organization {
    async fn name(&self) -> &str {
        &self.0.name
    }
}

#[derive(Union)]
enum Speaker {
    Person(Person),
    Organization(Organization),
}

struct Event(Arc<domain::Event>);

#[Object]
impl Event {
    async fn title(&self) -> &str {
        &self.0.title
    }
}

struct Source(Arc<domain::Source>);

#[Object]
impl Source {
    async fn title(&self) -> &str {
        &self.0.title
    }
}

#[derive(Union)]
enum Node {
    Statement(Statement),
    Agreement(Agreement),
    Provision(Provision),
    Event(Event),
    Source(Source),
}

#[derive(SimpleObject)]
struct SearchHit {
    score: f64,
    snippet: String,
    node: Node,
}

#[derive(InputObject)]
struct AgreementFilter {
    party: Option<String>,
}

struct Query;

#[Object]
impl Query {
    async fn country(&self, ctx: &Context<'_>, code: String) -> Option<Country> {
        let g = graph(ctx);
        let code = g.codes.get(&code.to_ascii_uppercase())?;
        g.countries.get(code).cloned().map(Country)
    }
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        filter: Option<AgreementFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgreementConnection> {
        let g = graph(ctx);
        let party = filter.and_then(|f| f.party).unwrap_or_default();
        let code = g
            .codes
            .get(&party.to_ascii_uppercase())
            .ok_or("unknown party")?;
        page(
            of(&g.agreements_of, code),
            &g.agreements,
            first,
            after,
            Agreement,
        )
        .map(AgreementConnection::from)
    }
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<StatementConnection> {
        let g = graph(ctx);
        page(&g.statement_keys, &g.statements, first, after, Statement)
            .map(StatementConnection::from)
    }
    async fn search(&self, ctx: &Context<'_>, query: String, first: Option<i32>) -> Vec<SearchHit> {
        let g = graph(ctx);
        let limit = first.unwrap_or(20).clamp(0, 100) as usize;
        let hits = g.search.search(&query, limit, None).unwrap_or_default();
        hits.into_iter()
            .filter_map(|(node, score)| {
                let key = &node.key;
                let (node, text) = match node.kind {
                    NodeKind::Statement => {
                        let s = g.statements.get(key)?.clone();
                        (Node::Statement(Statement(s.clone())), s.text.clone())
                    }
                    NodeKind::Agreement => {
                        let a = g.agreements.get(key)?.clone();
                        let text = diplograph::search::agreement_text(&a);
                        (Node::Agreement(Agreement(a)), text)
                    }
                    NodeKind::Provision => {
                        let (agreement, number) = domain::Provision::split_key(key)?;
                        let a = g.agreements.get(agreement)?.clone();
                        let index = a.provisions.iter().position(|p| p.number == number)?;
                        let text = a.provisions[index].text.clone();
                        (Node::Provision(Provision(a, index)), text)
                    }
                    NodeKind::Event => {
                        let e = g.events.get(key)?.clone();
                        (Node::Event(Event(e.clone())), e.title.clone())
                    }
                    NodeKind::Source => {
                        let s = g.sources.get(key)?.clone();
                        let text = diplograph::search::source_text(&s);
                        (Node::Source(Source(s)), text)
                    }
                    _ => return None,
                };
                Some(SearchHit {
                    score: score as f64,
                    snippet: g.search.snippet(&text, &query),
                    node,
                })
            })
            .collect()
    }
}

type FloorSchema = Schema<Query, EmptyMutation, EmptySubscription>;

async fn graphql(schema: web::Data<FloorSchema>, body: web::Bytes) -> HttpResponse {
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return HttpResponse::BadRequest().body(e.to_string()),
    };
    let response = schema.execute(request).await;
    match serde_json::to_vec(&response) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// Loads the store at `dir` into memory, closes it, and serves on `port` with one worker.
pub fn serve(dir: &std::path::Path, port: u16) -> Result<(), String> {
    let graph = {
        let store = Store::open(dir).map_err(|e| e.to_string())?;
        Graph::load(&store).map_err(|e| e.to_string())?
    };
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(Arc::new(graph))
        .finish();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(schema.clone()))
                .route("/graphql", web::post().to(graphql))
                .route("/healthz", web::post().to(HttpResponse::Ok))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .map_err(|e| e.to_string())?
        .run()
        .await
        .map_err(|e| e.to_string())
    })
}
