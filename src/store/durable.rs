//! Group commit: writers apply their plans one at a time, then wait, without the write lock,
//! until a sync of the backend covers their plan. One writer at a time syncs for everyone
//! applied before it started, so concurrent writes share one flush, and each is acknowledged
//! only once it is durable.
//!
//! Applying and syncing take turns. sled's flush holds its global concurrency lock (shared)
//! for the whole of its disk wait; a transaction needs that lock alone, and while one waits
//! for it every read in the process waits behind it. So a plan is applied only while no sync
//! runs, and a sync waits (up to `GATHER_AT_MOST`) until the writers who have taken their turn
//! have applied: the sync that follows covers all of them, and no read ever waits on the disk.
//! A plan the backend applies without that lock (`Backend::applies_beside_sync`: sled's
//! journaled small plans, which wait only for a full sync, the rare one that flushes sled)
//! goes in at once, and the next sync covers it.

use super::StoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a sync waits for writers already in line before it starts without them: long
/// enough for a line of writers to apply (each takes the write lock in turn), short enough
/// that a steady stream of writers never keeps the ones applied waiting for long.
const GATHER_AT_MOST: Duration = Duration::from_millis(4);

/// While writes come closer together than this, a sync that would cover no plan applied after
/// it began gathering waits up to this long for the next one: two writes then share a sync
/// (whose CPU cost, sled's flush and its pool's wake-ups, is most of a small write's), at the
/// price of that wait. A lone write never waits; a stream of them is what pays for the syncs.
const LINGER_AT_MOST: Duration = Duration::from_micros(700);

#[derive(Default)]
struct Progress {
    /// Plans applied (visible) so far.
    applied: u64,
    /// Plans covered by a finished sync.
    durable: u64,
    /// Whether some writer is syncing now.
    syncing: bool,
    /// Whether some writer is about to sync, waiting for the writers in line to apply.
    gathering: bool,
    /// Whether some writer is applying a plan now.
    applying: bool,
    /// Writers that have asked for the write lock and not yet applied (or given up).
    in_line: u64,
    /// When the last plan was applied, and how long after the one before.
    last_applied_at: Option<Instant>,
    apply_gap: Option<Duration>,
    /// Syncs finished, failed ones too.
    syncs: u64,
}

pub(super) struct GroupSync {
    progress: Mutex<Progress>,
    /// A sync ended: writers waiting to be covered, or to apply, look again. Each waiter needs
    /// this news, once per sync.
    synced: Condvar,
    /// A plan was applied or a writer left the line: only the writer gathering them needs
    /// this news (one condition variable for both woke every waiting writer at each apply).
    turn: Condvar,
    /// How long a sync waits for writers in line (`GATHER_AT_MOST`; tests set their own).
    gather_at_most: Duration,
    /// How long a sync waits for the next write of a stream (`LINGER_AT_MOST`).
    linger_at_most: Duration,
}

impl Default for GroupSync {
    fn default() -> Self {
        GroupSync::waiting_at_most(GATHER_AT_MOST, LINGER_AT_MOST)
    }
}

/// A plan applied and not yet known durable: `Store::make_durable` waits for it.
#[must_use = "a write is acknowledged only once it is durable"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// A writer in line, from asking for the write lock until its first plan is applied or it
/// gives up: a sync waits for it.
pub(super) struct InLine<'g> {
    group: &'g GroupSync,
    waiting: AtomicBool,
}

impl InLine<'_> {
    fn leave(&self, progress: &mut Progress) {
        if self.waiting.swap(false, Ordering::Relaxed) {
            progress.in_line -= 1;
            self.group.turn.notify_all();
        }
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        if self.waiting.load(Ordering::Relaxed) {
            let mut progress = self.group.lock();
            self.leave(&mut progress);
        }
    }
}

impl GroupSync {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait_on<'p>(
        condvar: &Condvar,
        progress: std::sync::MutexGuard<'p, Progress>,
    ) -> std::sync::MutexGuard<'p, Progress> {
        condvar.wait(progress).unwrap_or_else(|p| p.into_inner())
    }

    fn waiting_at_most(gather_at_most: Duration, linger_at_most: Duration) -> Self {
        GroupSync {
            progress: Mutex::default(),
            synced: Condvar::new(),
            turn: Condvar::new(),
            gather_at_most,
            linger_at_most,
        }
    }

    /// Plans applied, plans durable, syncs run.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (u64, u64, u64) {
        let progress = self.lock();
        (progress.applied, progress.durable, progress.syncs)
    }

    /// Called before a writer waits for the write lock.
    pub(super) fn join_line(&self) -> InLine<'_> {
        self.lock().in_line += 1;
        InLine {
            group: self,
            waiting: AtomicBool::new(true),
        }
    }

    /// Called under the write lock: applies a plan once no sync is running (at once when
    /// `beside_sync`: the backend applies it without the lock a sync holds), and counts it.
    pub(super) fn apply<T>(
        &self,
        writer: &InLine<'_>,
        beside_sync: bool,
        apply: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<(T, Ticket), StoreError> {
        let mut progress = self.lock();
        while progress.syncing && !beside_sync {
            progress = Self::wait_on(&self.synced, progress);
        }
        progress.applying = true;
        drop(progress);
        let applied = apply();
        let mut progress = self.lock();
        progress.applying = false;
        writer.leave(&mut progress);
        self.turn.notify_all();
        let value = applied?;
        progress.applied += 1;
        let now = Instant::now();
        progress.apply_gap = progress.last_applied_at.map(|last| now - last);
        progress.last_applied_at = Some(now);
        Ok((value, Ticket(progress.applied)))
    }

    /// Returns once a sync that began after the ticket's plan was applied has finished:
    /// syncing itself if no one else is (after the writers in line have applied, when
    /// `gather`), else waiting for the one running (and the next).
    pub(super) fn wait(
        &self,
        ticket: Ticket,
        gather: bool,
        sync: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut progress = self.lock();
        loop {
            if progress.durable >= ticket.0 {
                return Ok(());
            }
            if progress.syncing || progress.gathering {
                progress = Self::wait_on(&self.synced, progress);
                continue;
            }
            // This writer syncs for everyone: first the plan being applied, and (briefly) the
            // writers in line, so that the sync covers them too.
            progress.gathering = true;
            let since = Instant::now();
            let applied_before = progress.applied;
            let in_a_stream = progress
                .apply_gap
                .is_some_and(|gap| gap < self.linger_at_most);
            loop {
                let left = self.gather_at_most.saturating_sub(since.elapsed());
                let in_line = gather && progress.in_line > 0 && !left.is_zero();
                let linger_left = self.linger_at_most.saturating_sub(since.elapsed());
                let linger = gather
                    && in_a_stream
                    && progress.applied == applied_before
                    && !linger_left.is_zero();
                if !progress.applying && !in_line && !linger {
                    break;
                }
                let left = match in_line {
                    true => left,
                    false => linger_left,
                };
                progress = match progress.applying {
                    true => Self::wait_on(&self.turn, progress),
                    false => self
                        .turn
                        .wait_timeout(progress, left)
                        .map(|(progress, _)| progress)
                        .unwrap_or_else(|p| p.into_inner().0),
                };
            }
            progress.gathering = false;
            progress.syncing = true;
            let covers = progress.applied;
            drop(progress);
            let synced = sync();
            progress = self.lock();
            progress.syncing = false;
            progress.syncs += 1;
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
    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Barrier};

    fn applied(group: &GroupSync) -> Ticket {
        let writer = group.join_line();
        group.apply(&writer, false, || Ok(())).unwrap().1
    }

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
                    let ticket = applied(&group);
                    all_applied.wait();
                    let sync = || {
                        // What a sync starting now covers: every plan applied so far.
                        let applied = group.lock().applied;
                        std::thread::sleep(Duration::from_millis(5));
                        syncs.fetch_add(1, Ordering::SeqCst);
                        covered.fetch_max(applied, Ordering::SeqCst);
                        Ok(())
                    };
                    group.wait(ticket, true, &sync).unwrap();
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
    fn a_sync_lingers_for_the_next_write_only_while_writes_come_close_together() {
        // Long enough that a write sent meanwhile always lands in time, however slow the machine.
        let linger = Duration::from_secs(30);
        let group = GroupSync::waiting_at_most(GATHER_AT_MOST, linger);
        let covered = AtomicU64::new(0);
        let sync = || {
            covered.store(group.lock().applied, Ordering::SeqCst);
            Ok(())
        };
        // A lone write: no wait.
        let started = Instant::now();
        group.wait(applied(&group), true, &sync).unwrap();
        assert!(started.elapsed() < linger, "a lone write lingered");
        // A second write soon after: a stream, so its sync waits for a third.
        let second = applied(&group);
        std::thread::scope(|scope| {
            let group = &group;
            scope.spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                let _ = applied(group);
            });
            group.wait(second, true, &sync).unwrap();
        });
        assert_eq!(
            covered.load(Ordering::SeqCst),
            3,
            "the sync covered the third"
        );
    }

    #[test]
    fn a_sync_waits_for_the_writers_in_line_and_covers_them() {
        // Long enough that the second writer always applies first, however slow the machine.
        let group = Arc::new(GroupSync::waiting_at_most(
            Duration::from_secs(60),
            LINGER_AT_MOST,
        ));
        let first = applied(&group);
        let second_in_line = group.join_line();
        let syncs = AtomicU64::new(0);
        let covered = AtomicU64::new(0);
        let sync = || {
            syncs.fetch_add(1, Ordering::SeqCst);
            covered.store(group.lock().applied, Ordering::SeqCst);
            Ok(())
        };
        std::thread::scope(|scope| {
            let group = &group;
            scope.spawn(move || {
                std::thread::sleep(Duration::from_millis(1));
                let second = group.apply(&second_in_line, false, || Ok(())).unwrap().1;
                assert_eq!(second.0, 2);
            });
            group.wait(first, true, &sync).unwrap();
        });
        assert_eq!(
            covered.load(Ordering::SeqCst),
            2,
            "the sync waited for the second"
        );
        group.wait(Ticket(2), true, &sync).unwrap();
        assert_eq!(
            syncs.load(Ordering::SeqCst),
            1,
            "the second was covered already"
        );
    }

    #[test]
    fn a_writer_in_line_that_never_applies_delays_a_sync_only_briefly() {
        let group = GroupSync::default();
        let ticket = applied(&group);
        let _stuck = group.join_line();
        let started = Instant::now();
        group.wait(ticket, true, &|| Ok(())).unwrap();
        assert!(started.elapsed() >= GATHER_AT_MOST);
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_plan_is_applied_only_while_no_sync_runs_unless_it_may_go_beside() {
        for beside_sync in [false, true] {
            let overlapped = applied_while_syncing(beside_sync);
            assert_eq!(overlapped, beside_sync, "beside a sync: {beside_sync}");
        }
    }

    /// Whether a plan applied after a sync began saw the sync still running.
    fn applied_while_syncing(beside_sync: bool) -> bool {
        let group = GroupSync::default();
        let ticket = applied(&group);
        let syncing = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let group = &group;
            let syncing = &syncing;
            let sync = move || {
                syncing.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                syncing.store(false, Ordering::SeqCst);
                Ok(())
            };
            scope.spawn(move || group.wait(ticket, false, &sync).unwrap());
            while !syncing.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let writer = group.join_line();
            group
                .apply(&writer, beside_sync, || Ok(syncing.load(Ordering::SeqCst)))
                .unwrap()
                .0
        })
    }

    #[test]
    fn a_failed_sync_fails_its_writer_and_the_next_wait_syncs_again() {
        let group = GroupSync::default();
        let ticket = applied(&group);
        let failing = || Err(StoreError::Backend("disk gone".into()));
        assert!(group.wait(ticket, true, &failing).is_err());
        let calls = AtomicU64::new(0);
        let working = || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        group.wait(ticket, true, &working).unwrap();
        group.wait(ticket, true, &working).unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "durable once synced: no second sync"
        );
    }

    #[test]
    fn a_failed_apply_leaves_the_line_and_counts_nothing() {
        let group = GroupSync::default();
        let writer = group.join_line();
        let failed = group.apply(&writer, false, || -> Result<(), _> {
            Err(StoreError::Backend("refused".into()))
        });
        assert!(failed.is_err());
        let progress = group.lock();
        assert_eq!((progress.applied, progress.in_line), (0, 0));
    }
}
