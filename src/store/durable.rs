//! Group commit: writers apply their plans one at a time, then wait, without the write lock,
//! until a sync of the backend covers their plan. One writer at a time syncs for everyone
//! applied before it started, so concurrent writes share one flush, and each is acknowledged
//! only once it is durable.

use super::StoreError;
use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct Progress {
    /// Plans applied (visible) so far.
    applied: u64,
    /// Plans covered by a finished sync.
    durable: u64,
    /// Whether some writer is syncing now.
    syncing: bool,
}

#[derive(Default)]
pub(super) struct GroupSync {
    progress: Mutex<Progress>,
    synced: Condvar,
}

/// A plan applied and not yet known durable: `Store::make_durable` waits for it.
#[must_use = "a write is acknowledged only once it is durable"]
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

impl GroupSync {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called under the write lock, once a plan has been applied.
    pub(super) fn applied(&self) -> Ticket {
        let mut progress = self.lock();
        progress.applied += 1;
        Ticket(progress.applied)
    }

    /// Returns once a sync that began after the ticket's plan was applied has finished:
    /// syncing itself if no one else is, else waiting for the one running (and the next).
    pub(super) fn wait(
        &self,
        ticket: Ticket,
        sync: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut progress = self.lock();
        loop {
            if progress.durable >= ticket.0 {
                return Ok(());
            }
            if progress.syncing {
                progress = self
                    .synced
                    .wait(progress)
                    .unwrap_or_else(|p| p.into_inner());
                continue;
            }
            progress.syncing = true;
            let covers = progress.applied;
            drop(progress);
            let synced = sync();
            progress = self.lock();
            progress.syncing = false;
            if synced.is_ok() {
                progress.durable = progress.durable.max(covers);
            }
            self.synced.notify_all();
            synced?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn writers_waiting_together_share_one_sync_and_each_returns_covered() {
        let group = Arc::new(GroupSync::default());
        let syncs = Arc::new(AtomicU64::new(0));
        let covered = Arc::new(AtomicU64::new(0));
        let writers = 16;
        let all_applied = Arc::new(Barrier::new(writers));
        let threads: Vec<_> = (0..writers)
            .map(|_| {
                let (group, syncs, covered) = (group.clone(), syncs.clone(), covered.clone());
                let all_applied = all_applied.clone();
                std::thread::spawn(move || {
                    let ticket = group.applied();
                    all_applied.wait();
                    let sync = || {
                        // What a sync starting now covers: every plan applied so far.
                        let applied = group.lock().applied;
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        syncs.fetch_add(1, Ordering::SeqCst);
                        covered.fetch_max(applied, Ordering::SeqCst);
                        Ok(())
                    };
                    group.wait(ticket, &sync).unwrap();
                    assert!(
                        covered.load(Ordering::SeqCst) >= ticket.0,
                        "acknowledged before durable"
                    );
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(
            syncs.load(Ordering::SeqCst),
            1,
            "one sync covered all sixteen"
        );
    }

    #[test]
    fn a_failed_sync_fails_its_writer_and_the_next_wait_syncs_again() {
        let group = GroupSync::default();
        let ticket = group.applied();
        let failing = || Err(StoreError::Backend("disk gone".into()));
        assert!(group.wait(ticket, &failing).is_err());
        let calls = AtomicU64::new(0);
        let working = || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        group.wait(ticket, &working).unwrap();
        group.wait(ticket, &working).unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "durable once synced: no second sync"
        );
    }
}
