//! Reads while others write: `connections` clients on keep-alive connections, each sending, one
//! request after another, one of six ordinary reads or, with probability `write_share`, a write
//! (a `createPerson`, or an `updatePerson` of one it created). Latencies are kept per class, so
//! reads and writes are reported apart. Runs in a child process pinned to the load core, every
//! client a task on one thread.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Class {
    pub count: u64,
    /// Answers with `errors`, or not 200.
    pub failed: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Mixed {
    pub reads: Class,
    pub writes: Class,
    pub per_second: f64,
}

/// The six reads, with a party code and a country from the data set.
pub fn reads(party: &str) -> Vec<String> {
    [
        format!("{{ country(code: \"{party}\") {{ relations(first: 10) {{ edges {{ node {{ kind since object {{ name }} }} }} }} }} }}"),
        format!("{{ statements(filter: {{ about: \"{party}\" }}, first: 10) {{ edges {{ node {{ text date }} }} }} }}"),
        "{ search(query: \"partnership trade\", first: 10) { score node { __typename } } }".to_string(),
        format!("{{ agreements(filter: {{ party: \"{party}\" }}, first: 20) {{ edges {{ node {{ title signedOn }} }} }} }}"),
        "{ missions(first: 50) { edges { node { city status } } } }".to_string(),
        "{ people(filter: { name: \"Person 12\" }, first: 10) { edges { node { name } } } }".to_string(),
    ]
    .into_iter()
    .map(|query| serde_json::json!({ "query": query }).to_string())
    .collect()
}

/// One keep-alive connection, driven by a task: the load's clients are tasks on one thread, so
/// that the load's own cost (a thread woken per answer, as with blocking sockets) does not
/// bound what it measures.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(port: u16) -> Result<Connection, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    async fn send(&self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            self.stream.writable().await.map_err(|e| e.to_string())?;
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Reads more of the answer into the buffer.
    async fn receive(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            self.stream.readable().await.map_err(|e| e.to_string())?;
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// One POST /graphql on the kept-alive connection: (status, body).
    async fn post(&mut self, body: &str, key: Option<&str>) -> Result<(u16, String), String> {
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.send(request.as_bytes()).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(at) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.receive().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let length: usize = lines
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse().ok())
            .ok_or("an answer without Content-Length")?;
        while self.buffer.len() < head_end + length {
            self.receive().await?;
        }
        let body = String::from_utf8_lossy(&self.buffer[head_end..head_end + length]).into_owned();
        Ok((status, body))
    }
}

#[derive(Default)]
struct Samples {
    reads: Vec<f64>,
    writes: Vec<f64>,
    read_failures: u64,
    write_failures: u64,
}

/// One client: until `deadline`, a read or (with probability `write_share`) a write.
async fn client(
    id: usize,
    port: u16,
    key: &str,
    reads: &[String],
    write_share: f64,
    deadline: Instant,
) -> Result<Samples, String> {
    let mut connection = Connection::open(port).await?;
    let mut rng = fastrand::Rng::with_seed(id as u64 + 1);
    let mut samples = Samples::default();
    let mut created: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let write = rng.f64() < write_share;
        let body = match (write, created.is_empty() || rng.bool()) {
            (false, _) => reads[rng.usize(..reads.len())].clone(),
            (true, true) => serde_json::json!({
                "query": "mutation($name: String!) { createPerson(input: { name: $name }) { id } }",
                "variables": { "name": format!("Bench Writer {id} {n}") },
            })
            .to_string(),
            (true, false) => serde_json::json!({
                "query": "mutation($id: ID!, $name: String!) { updatePerson(id: $id, input: { name: $name }) { id } }",
                "variables": {
                    "id": created[rng.usize(..created.len())],
                    "name": format!("Bench Writer {id} {n} renamed"),
                },
            })
            .to_string(),
        };
        let started = Instant::now();
        let (status, answer) = connection.post(&body, write.then_some(key)).await?;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let failed = status != 200 || answer.contains("\"errors\"");
        if write {
            samples.writes.push(millis);
            samples.write_failures += failed as u64;
            if let Some(id) = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["data"]["createPerson"]["id"].as_str().map(str::to_string))
            {
                created.push(id);
            }
        } else {
            samples.reads.push(millis);
            samples.read_failures += failed as u64;
        }
    }
    Ok(samples)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn class(mut latencies: Vec<f64>, failed: u64, seconds: f64) -> Class {
    latencies.sort_by(f64::total_cmp);
    Class {
        count: latencies.len() as u64,
        failed,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

pub fn run(
    port: u16,
    key: &str,
    reads: &[String],
    connections: usize,
    seconds: u64,
    write_share: f64,
) -> Result<Mixed, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let results: Vec<Result<Samples, String>> = runtime.block_on(async {
        let clients =
            (0..connections).map(|id| client(id, port, key, reads, write_share, deadline));
        async_graphql::futures_util::future::join_all(clients).await
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Samples::default();
    for samples in results {
        let samples = samples?;
        all.reads.extend(samples.reads);
        all.writes.extend(samples.writes);
        all.read_failures += samples.read_failures;
        all.write_failures += samples.write_failures;
    }
    let reads = class(all.reads, all.read_failures, elapsed);
    let writes = class(all.writes, all.write_failures, elapsed);
    Ok(Mixed {
        per_second: reads.per_second + writes.per_second,
        reads,
        writes,
    })
}
