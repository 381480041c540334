//! The write API's writes, applied one after another on a thread of their own and answered
//! together once one sync covers them.
//!
//! Each write used to take a thread of tokio's blocking pool, apply its plan, then wait there
//! for a sync, and a writer that a sync covered but did not run slept and woke once more:
//! several thread switches a write, on a core that also serves the reads. Here a write is handed to
//! the queue's one thread: it applies every write waiting, syncs once for all of them, then
//! answers each. Writes that arrive while a sync runs wait in the queue and share the next one,
//! so a stream of writes groups itself, with no timer. Each write is still answered only once
//! it is durable, and one that fails is answered with its own error; the store's write lock
//! still orders these writes with any other writer of the process.

use super::write::{WriteFailure, Writer};
use crate::store::{StoreError, WriteError};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use tokio::sync::oneshot;

/// Writes applied before one sync covers them: a steady stream of writes must not keep the
/// first ones of a batch waiting for long.
const BATCH_AT_MOST: usize = 64;

/// Answers a write once the sync that covers it is over (Err: that sync failed).
type Answer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write to apply, handing back how to answer it.
type Job = Box<dyn FnOnce(&Writer) -> Answer + Send>;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the write queue has stopped")]
    Stopped,
    #[error("a write failed unexpectedly")]
    Panicked,
}

/// The sending side; the thread ends once every clone is dropped.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<Job>,
}

impl WriteQueue {
    /// Starts the queue's thread, which writes through `writer` (held weakly: the queue keeps
    /// no store open once its writer is gone).
    pub fn start(writer: &Arc<Writer>) -> std::io::Result<WriteQueue> {
        let (jobs, queued) = mpsc::channel::<Job>();
        let writer = Arc::downgrade(writer);
        std::thread::Builder::new()
            .name("write queue".into())
            .spawn(move || serve(&writer, &queued))?;
        Ok(WriteQueue { jobs })
    }

    /// Runs `job` on the queue's thread. Its answer comes once the writes it made are durable;
    /// if the sync that was to cover them failed, that failure is its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Writer) -> Result<T, WriteFailure> + Send + 'static,
    ) -> Result<Result<T, WriteFailure>, QueueError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |writer| {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(writer)));
            Box::new(move |synced: Result<(), StoreError>| {
                let _ = answer.send(match outcome {
                    Ok(Ok(value)) => Ok(synced
                        .map(|()| value)
                        .map_err(|e| WriteFailure::from(WriteError::from(e)))),
                    Ok(Err(failure)) => Ok(Err(failure)),
                    Err(_) => Err(QueueError::Panicked),
                });
            })
        });
        self.jobs.send(job).map_err(|_| QueueError::Stopped)?;
        answered.await.map_err(|_| QueueError::Stopped)?
    }
}

fn serve(writer: &Weak<Writer>, queued: &mpsc::Receiver<Job>) {
    while let Ok(first) = queued.recv() {
        let Some(writer) = writer.upgrade() else {
            return;
        };
        let writer = writer.deferring();
        let mut answers = vec![first(&writer)];
        while answers.len() < BATCH_AT_MOST {
            match queued.try_recv() {
                Ok(next) => answers.push(next(&writer)),
                Err(_) => break,
            }
        }
        let synced = writer.acknowledge_deferred();
        if let Err(e) = &synced {
            tracing::error!(error = %e, "a sync of queued writes failed");
        }
        for answer in answers {
            answer(synced.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fact, NodeKind, NodeRef, Person};
    use crate::facts::Record;
    use crate::ingest::write::{Author, Mode};
    use crate::store::Store;

    fn queue_over_a_new_store() -> (tempfile::TempDir, Arc<Store>, Arc<Writer>, WriteQueue) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let writer = Arc::new(Writer::new(store.clone(), None));
        let queue = WriteQueue::start(&writer).unwrap();
        (dir, store, writer, queue)
    }

    fn person(key: &str) -> Vec<(String, Record)> {
        let fact = Fact::Person(Person {
            key: key.into(),
            name: format!("Person {key}"),
            aliases: vec![],
            posts: vec![],
        });
        vec![("input".into(), Record::of(&fact, &|_| None))]
    }

    fn create(key: &str) -> impl FnOnce(&Writer) -> Result<NodeRef, WriteFailure> {
        let records = person(key);
        move |writer| {
            let outcomes = writer.write(records, Mode::Create, &Author::operator("t"))?;
            Ok(outcomes[0].node.clone())
        }
    }

    /// Writes queued behind a busy one are applied together and covered by one sync; each is
    /// answered, with its own outcome, only once durable.
    #[tokio::test]
    async fn writes_waiting_together_share_one_sync_and_each_gets_its_own_answer() {
        use async_graphql::futures_util::poll;
        let (_dir, store, _writer, queue) = queue_over_a_new_store();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let create_first = create("first");
        // A future hands its write to the queue on its first poll; the queue's thread then
        // holds the first write until it is released.
        let mut first = std::pin::pin!(queue.run(move |writer| {
            released.recv().unwrap();
            create_first(writer)
        }));
        assert!(poll!(first.as_mut()).is_pending());
        let (_, _, syncs_before) = store.sync_counts();
        // Every third one names the person the first creates: refused on its own.
        let keys: Vec<String> = (0..16)
            .map(|n| match n % 3 {
                0 => "first".to_string(),
                _ => format!("p{n}"),
            })
            .collect();
        let mut waiting: Vec<_> = keys
            .iter()
            .map(|key| Box::pin(queue.run(create(key))))
            .collect();
        for write in &mut waiting {
            assert!(poll!(write.as_mut()).is_pending());
        }
        release.send(()).unwrap();
        assert_eq!(
            first.await.unwrap().unwrap(),
            NodeRef::new(NodeKind::Person, "first")
        );
        let (applied, durable, _) = store.sync_counts();
        assert_eq!(durable, applied, "answered before durable");
        for (key, write) in keys.iter().zip(waiting) {
            match (key.as_str(), write.await.unwrap()) {
                ("first", Err(WriteFailure::Write(WriteError::AlreadyExists(_)))) => {}
                (key, Ok(node)) if key != "first" => {
                    assert_eq!(node, NodeRef::new(NodeKind::Person, key))
                }
                (key, other) => panic!("{key}: {other:?}"),
            }
        }
        let (_, _, syncs) = store.sync_counts();
        assert_eq!(syncs - syncs_before, 1, "one sync for the batch");
        assert_eq!(store.all::<Person>().unwrap().len(), 11);
    }

    #[tokio::test]
    async fn a_write_that_panics_is_an_error_and_the_queue_goes_on() {
        let (_dir, store, _writer, queue) = queue_over_a_new_store();
        let panicked = queue
            .run(|_| -> Result<(), WriteFailure> { panic!("a bug in a write") })
            .await;
        assert!(matches!(panicked, Err(QueueError::Panicked)));
        queue.run(create("after")).await.unwrap().unwrap();
        assert!(store
            .get_fact(&NodeRef::new(NodeKind::Person, "after"))
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn once_its_writer_is_gone_the_queue_refuses_writes() {
        let (_dir, _store, writer, queue) = queue_over_a_new_store();
        drop(writer);
        let refused = queue.run(create("late")).await;
        assert!(matches!(refused, Err(QueueError::Stopped)));
    }
}
