//! The store's connections, handed out in turn.
//!
//! A handler takes whichever connection is free, so requests on PostgreSQL run in parallel.
//! SQLite has one writer at a time, and writers on several connections would wait for each other
//! by polling: there every write goes through one connection, and reads that may run beside it
//! (a lender's read, a caller's key) take a reader of their own when there are any.
//!
//! When every connection is busy, callers wait in the order they came ([`Set`]): a caller that
//! arrives while others wait queues behind them rather than taking the next connection freed. A
//! lock of one connection each would let newcomers overtake, and under a steady overload some
//! requests then waited tens of times as long as the rest.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

use candor_store::Store;

/// A connection was lost: a handler panicked while holding it.
#[derive(Debug)]
pub struct Lost;

/// One set of connections and its queue of waiting callers.
struct Set {
    conns: Vec<Mutex<Store>>,
    queue: Mutex<Turns>,
    turn: Condvar,
}

/// Callers in line, by ticket: each takes the next; the one served is the one whose turn it is.
#[derive(Default)]
struct Turns {
    next: u64,
    serving: u64,
}

impl Set {
    fn new() -> Set {
        Set { conns: Vec::new(), queue: Mutex::new(Turns::default()), turn: Condvar::new() }
    }

    /// A connection free this instant, trying each once from `start`.
    fn try_free(&self, start: usize) -> Result<Option<MutexGuard<'_, Store>>, Lost> {
        let n = self.conns.len();
        for k in 0..n {
            match self.conns[(start + k) % n].try_lock() {
                Ok(guard) => return Ok(Some(guard)),
                Err(TryLockError::Poisoned(_)) => return Err(Lost),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        Ok(None)
    }

    /// The first connection free once every caller who came before has had theirs (at once
    /// when no one waits and one is free).
    fn take(&self, start: usize) -> Result<Conn<'_>, Lost> {
        let mut turns = self.queue.lock().map_err(|_| Lost)?;
        let ticket = turns.next;
        turns.next += 1;
        loop {
            if turns.serving == ticket {
                let taken = self.try_free(start);
                if !matches!(taken, Ok(None)) {
                    // Served (or the connection lost): the next in line may find another free.
                    turns.serving += 1;
                    self.turn.notify_all();
                    return taken.map(|guard| Conn { guard, set: self });
                }
            }
            turns = self.turn.wait(turns).map_err(|_| Lost)?;
        }
    }

    fn waiting(&self) -> usize {
        self.queue.lock().map_or(0, |t| (t.next - t.serving) as usize)
    }
}

/// A connection of the pool, given back when dropped.
pub struct Conn<'a> {
    guard: Option<MutexGuard<'a, Store>>,
    set: &'a Set,
}

impl Deref for Conn<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.guard.as_deref().expect("held until dropped")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.guard.as_deref_mut().expect("held until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        // Taken and let go, so a waiter between its check and its wait still hears of it.
        drop(self.set.queue.lock());
        self.set.turn.notify_all();
    }
}

/// The store's connections: those for any work, and readers (SQLite's) for reads beside the
/// writer.
pub struct StorePool {
    conns: Set,
    readers: Set,
    next: AtomicUsize,
}

impl StorePool {
    pub fn new(first: Store) -> StorePool {
        let mut pool = StorePool { conns: Set::new(), readers: Set::new(), next: AtomicUsize::new(0) };
        pool.add(first);
        pool
    }

    pub fn add(&mut self, store: Store) {
        self.conns.conns.push(Mutex::new(store));
    }

    /// Adds a connection that serves only [`StorePool::read`].
    pub fn add_reader(&mut self, store: Store) {
        self.readers.conns.push(Mutex::new(store));
    }

    /// A free connection, or (all busy) the first freed after every caller who came before.
    pub fn lock(&self) -> Result<Conn<'_>, Lost> {
        self.conns.take(self.start(&self.conns))
    }

    /// A connection for work that only reads: a free reader, or any connection without readers.
    pub fn read(&self) -> Result<Conn<'_>, Lost> {
        if self.readers.conns.is_empty() {
            self.lock()
        } else {
            self.readers.take(self.start(&self.readers))
        }
    }

    /// A reader that is free this instant, if the pool has readers (SQLite's) and no one waits
    /// for one: what a short read runs on without leaving the thread it is on.
    pub fn try_read(&self) -> Option<Conn<'_>> {
        if self.readers.waiting() > 0 {
            return None;
        }
        let guard = self.readers.try_free(self.start(&self.readers)).ok()??;
        Some(Conn { guard: Some(guard), set: &self.readers })
    }

    /// Where a search for a free connection starts: each caller one further, so work spreads.
    fn start(&self, set: &Set) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % set.conns.len().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("pool.db").to_str().expect("path")).expect("store");
        (dir, store)
    }

    fn wait_until(what: impl Fn() -> bool) {
        let start = Instant::now();
        while !what() {
            assert!(start.elapsed() < Duration::from_secs(10), "waited too long");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// With every connection busy, callers get one in the order they came.
    #[test]
    fn waiting_callers_are_served_in_the_order_they_came() {
        let (_a, one) = store();
        let pool = StorePool::new(one);
        let (served_tx, served) = mpsc::channel();
        std::thread::scope(|scope| {
            let held = pool.lock().expect("held");
            for caller in 0..12 {
                let (pool, served_tx) = (&pool, served_tx.clone());
                scope.spawn(move || {
                    let conn = pool.lock().expect("in turn");
                    served_tx.send(caller).expect("send");
                    std::thread::sleep(Duration::from_millis(2));
                    drop(conn);
                });
                wait_until(|| pool.conns.waiting() == caller + 1);
            }
            drop(held);
        });
        drop(served_tx);
        let order: Vec<usize> = served.iter().collect();
        assert_eq!(order, (0..12).collect::<Vec<_>>(), "in the order they came");
    }

    /// A reader free this instant is not taken past callers waiting for one.
    #[test]
    fn a_free_reader_is_not_taken_past_those_waiting() {
        let (_a, one) = store();
        let (_b, reader) = store();
        let mut pool = StorePool::new(one);
        pool.add_reader(reader);
        std::thread::scope(|scope| {
            let held = pool.read().expect("reader");
            assert!(pool.try_read().is_none(), "the only reader is busy");
            let waiter = scope.spawn(|| pool.read().map(|_| ()).is_ok());
            wait_until(|| pool.readers.waiting() == 1);
            drop(held);
            assert!(waiter.join().expect("waiter"), "the waiter got the reader");
            assert!(pool.try_read().is_some(), "free again, no one waiting");
        });
    }
}
