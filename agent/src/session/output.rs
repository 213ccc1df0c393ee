//! The bounded queue between the capture thread and stdout, and the writer thread.
//!
//! The capture loop never waits for stdout: it offers whole batches, and when
//! the bytes queued would pass the cap, the batch is dropped and its packets
//! counted. Control blocks (statistics, pings, errors) are small and always
//! queued. The writer thread records when a write started, so the supervisor
//! can tell a stdout that stays blocked.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

/// Shared state of the output side.
#[derive(Debug)]
pub struct Output {
    tx: Mutex<Option<Sender<Vec<u8>>>>,
    queued: AtomicUsize,
    cap: usize,
    /// Packets dropped because the queue was full.
    pub dropped_packets: AtomicU64,
    /// Milliseconds since `epoch` when the current write began (0: not writing).
    writing_since: AtomicU64,
    failed: AtomicBool,
    epoch: Instant,
}

impl Output {
    /// Starts the writer thread on `out`, queueing at most `cap` bytes of packets.
    pub fn start<W: Write + Send + 'static>(out: W, cap: usize) -> (Arc<Output>, JoinHandle<()>) {
        let (tx, rx) = channel::<Vec<u8>>();
        let output = Arc::new(Output {
            tx: Mutex::new(Some(tx)),
            queued: AtomicUsize::new(0),
            cap,
            dropped_packets: AtomicU64::new(0),
            writing_since: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            epoch: Instant::now(),
        });
        let shared = Arc::clone(&output);
        let handle = thread::Builder::new()
            .name("writer".into())
            .spawn(move || shared.write_loop(out, &rx))
            .expect("spawn the writer thread");
        (output, handle)
    }

    fn write_loop<W: Write>(&self, mut out: W, rx: &Receiver<Vec<u8>>) {
        for chunk in rx {
            self.writing_since
                .store(self.now_ms().max(1), Ordering::Relaxed);
            let mut result = out.write_all(&chunk);
            // Flush when nothing else waits, so a quiet stream still reaches the reader.
            if result.is_ok()
                && self.queued.fetch_sub(chunk.len(), Ordering::Relaxed) == chunk.len()
            {
                result = out.flush();
            }
            self.writing_since.store(0, Ordering::Relaxed);
            if result.is_err() {
                self.failed.store(true, Ordering::Relaxed);
                return;
            }
        }
        let _ = out.flush();
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn send(&self, chunk: Vec<u8>) -> bool {
        let len = chunk.len();
        let guard = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_ref() {
            Some(tx) => {
                self.queued.fetch_add(len, Ordering::Relaxed);
                if tx.send(chunk).is_err() {
                    self.queued.fetch_sub(len, Ordering::Relaxed);
                    return false;
                }
                true
            }
            None => false,
        }
    }

    /// Offers a batch holding `packets` packets; drops (and counts) it when the queue is full.
    pub fn offer_packets(&self, batch: Vec<u8>, packets: u64) -> bool {
        if self.queued.load(Ordering::Relaxed) + batch.len() > self.cap || !self.send(batch) {
            self.dropped_packets.fetch_add(packets, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Queues a control block (statistics, messages) regardless of the cap.
    pub fn push_control(&self, block: Vec<u8>) {
        self.send(block);
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether writing to stdout failed (closed pipe).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// How long the current write has been blocked, in milliseconds (0 when not writing).
    pub fn blocked_ms(&self) -> u64 {
        match self.writing_since.load(Ordering::Relaxed) {
            0 => 0,
            since => self.now_ms().saturating_sub(since),
        }
    }

    /// No more blocks: the writer thread ends once the queue is written.
    pub fn close(&self) {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}
