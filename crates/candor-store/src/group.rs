//! Group commit for the log. Appending a leaf takes the log's lock and holds it through the
//! commit, so one connection appending one leaf per transaction is bounded by the commits a
//! second the database can make durable (about a thousand on PostgreSQL here). A [`GroupLog`]
//! has one writer, on its own connection, append the leaves of every caller waiting at that
//! moment in one transaction; each caller is answered only after the commit that made its own
//! leaf durable, so an answered append is never lost, and the commit's cost is shared.
//!
//! It takes leaves whose unit of work writes nothing else (reads and refused reads): their
//! workflow reads first, then hands the leaf over. A workflow that writes rows and records them
//! with a leaf keeps both in its own unit ([`Store::unit`]), which takes the same lock.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;

use candor_log::leaf::Leaf;

use crate::{Store, StoreError};

/// Most leaves one transaction appends: a group's statements stay a few milliseconds' work.
pub const MAX_GROUP: usize = 256;
/// Callers waiting for the writer, at most; past it, [`GroupLog::append`] waits for room.
const QUEUE: usize = 4_096;

/// What a caller is told once its leaf's group committed (or failed): called on the writer's
/// thread, so it should only hand the answer on (to a channel, a waiting task).
pub type Done = Box<dyn FnOnce(Result<i64, StoreError>) + Send>;

struct Job {
    leaf: Leaf,
    done: Done,
}

/// One writer appending the leaves of many callers, a transaction per group of waiting callers.
pub struct GroupLog {
    queue: Mutex<Option<SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl GroupLog {
    /// Starts the writer on `store`, a connection of its own.
    pub fn start(store: Store) -> Result<GroupLog, StoreError> {
        GroupLog::with_queue(store, QUEUE)
    }

    /// [`GroupLog::start`] with at most `queue` callers waiting for the writer.
    pub fn with_queue(store: Store, queue: usize) -> Result<GroupLog, StoreError> {
        let (queue, jobs) = mpsc::sync_channel(queue);
        let writer = std::thread::Builder::new()
            .name("candor-log-writer".into())
            .spawn(move || write(store, jobs))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the log writer: {e}")))?;
        Ok(GroupLog { queue: Mutex::new(Some(queue)), writer: Mutex::new(Some(writer)) })
    }

    /// Appends `leaf` as [`Store::log`] does and returns its index once it is durable: a
    /// blocking call, for a thread that may wait.
    pub fn append(&self, leaf: Leaf) -> Result<i64, StoreError> {
        let (done, answer) = mpsc::sync_channel(1);
        let queue = self.queue()?;
        let job = Job { leaf, done: Box::new(move |index| drop(done.send(index))) };
        queue.send(job).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Hands `leaf` to the writer without waiting: `done` is told its index once it is
    /// durable, or why it is not. For a caller that must not block (an async task awaiting a
    /// channel `done` fills): the writer wakes it directly, with no thread between. With the
    /// writer's queue full, [`StoreError::Busy`] at once, and `done` is not called.
    pub fn submit(&self, leaf: Leaf, done: Done) -> Result<(), StoreError> {
        self.queue()?.try_send(Job { leaf, done }).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::Busy,
            TrySendError::Disconnected(_) => stopped(),
        })
    }

    fn queue(&self) -> Result<SyncSender<Job>, StoreError> {
        self.queue.lock().map_err(|_| stopped())?.clone().ok_or_else(stopped)
    }

    /// Stops taking leaves, lets the writer finish those it has, and waits for it.
    pub fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Corrupt("the log writer has stopped".into())
}

impl Drop for GroupLog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer: takes every job waiting (at least one), appends their leaves in one transaction,
/// and answers each; until every sender is gone.
fn write(mut store: Store, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let leaves: Vec<&Leaf> = group.iter().map(|j| &j.leaf).collect();
        match store.log_all(&leaves) {
            Ok(indices) => {
                for (job, index) in group.into_iter().zip(indices) {
                    (job.done)(index);
                }
            }
            // The transaction failed as a whole and appended nothing: each leaf alone, so one
            // caller's trouble is not every caller's.
            Err(_) => {
                for job in group {
                    let index = store.log(&job.leaf);
                    (job.done)(index);
                }
            }
        }
    }
}
