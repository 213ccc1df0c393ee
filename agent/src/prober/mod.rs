//! Ping prober: ICMP echo and TCP connect probes from inside the pod.
//!
//! One thread per target probes every interval and sends a [`ProbeResult`]
//! per probe into the channel given to [`Prober::new`]. Targets are `IP` or
//! `name` (ICMP echo) and `host:port` or `[v6]:port` (TCP connect).
//!
//! ```text
//! Prober::add --> target::parse --> thread: resolve --> icmp::probe | tcp::probe --> results channel
//!                                      ^------------- wait interval (or stop) <----------/
//! ```
//!
//! `sys` holds the only `unsafe` (the libc socket calls); `packet` is pure.

mod icmp;
mod packet;
mod sys;
mod target;
mod tcp;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use podtap::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};

use icmp::IcmpProber;
use target::Target;

/// The longest a probe thread blocks before looking at its stop flag.
const SLICE: Duration = Duration::from_millis(20);

/// Which ICMP socket the prober opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IcmpMode {
    /// A ping socket, or a raw socket when the ping socket is refused.
    #[default]
    Auto,
    /// Only a ping socket (`SOCK_DGRAM`, allowed by `net.ipv4.ping_group_range`).
    PingOnly,
    /// Only a raw socket (needs `CAP_NET_RAW`).
    RawOnly,
}

/// Runs one probing thread per target; results go to the channel given at creation.
pub struct Prober {
    results: Sender<ProbeResult>,
    icmp_mode: IcmpMode,
    workers: BTreeMap<String, Worker>,
    /// Threads told to stop, not joined yet (one may sit in a slow name lookup).
    retired: Vec<JoinHandle<()>>,
}

/// A running target's thread.
struct Worker {
    stop: Arc<Stop>,
    thread: JoinHandle<()>,
}

impl Prober {
    /// A prober sending results to `results`.
    pub fn new(results: Sender<ProbeResult>) -> Self {
        Prober::with_icmp_mode(results, IcmpMode::Auto)
    }

    /// A prober that opens ICMP sockets as `mode` says (tests force each path).
    pub fn with_icmp_mode(results: Sender<ProbeResult>, mode: IcmpMode) -> Self {
        Prober {
            results,
            icmp_mode: mode,
            workers: BTreeMap::new(),
            retired: Vec::new(),
        }
    }

    /// Starts probing `target` (`10.0.0.1`, `name`, `host:port`, `[v6]:port`).
    pub fn add(
        &mut self,
        target: &str,
        interval: Duration,
        timeout: Duration,
    ) -> Result<(), String> {
        self.reap();
        let parsed = target::parse(target)?;
        let name = target.trim().to_owned();
        if self.workers.contains_key(&name) {
            return Err(format!("Target {name:?} is already being probed."));
        }
        if interval.is_zero() || timeout.is_zero() {
            return Err(format!(
                "Target {name:?} needs a positive interval and timeout."
            ));
        }
        let stop = Arc::new(Stop::default());
        let job = Job {
            name: name.clone(),
            target: parsed,
            interval,
            timeout,
            icmp_mode: self.icmp_mode,
            results: self.results.clone(),
            stop: Arc::clone(&stop),
        };
        let thread = thread::Builder::new()
            .name(format!("probe {name}"))
            .spawn(move || job.run())
            .map_err(|e| format!("Cannot start a thread to probe {name:?}: {e}."))?;
        self.workers.insert(name, Worker { stop, thread });
        Ok(())
    }

    /// Stops probing `target`: no result for it is sent once this returns.
    pub fn remove(&mut self, target: &str) -> Result<(), String> {
        self.reap();
        let name = target.trim();
        let Some(worker) = self.workers.remove(name) else {
            return Err(format!("Target {name:?} is not being probed."));
        };
        worker.stop.set();
        self.retired.push(worker.thread);
        Ok(())
    }

    /// The targets being probed, sorted.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.workers.keys().map(String::as_str)
    }

    /// Stops every probe and waits for the threads.
    pub fn stop_all(&mut self) {
        for worker in self.workers.values() {
            worker.stop.set();
        }
        let workers = std::mem::take(&mut self.workers);
        let threads = workers.into_values().map(|w| w.thread);
        for thread in self.retired.drain(..).chain(threads) {
            let _ = thread.join();
        }
    }

    /// Joins the retired threads that have finished.
    fn reap(&mut self) {
        let (done, running) = std::mem::take(&mut self.retired)
            .into_iter()
            .partition(JoinHandle::is_finished);
        self.retired = running;
        for thread in done {
            let _ = thread.join();
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// A stop flag a thread can wait on.
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self) {
        *self.lock() = true;
        self.wake.notify_all();
    }

    /// Whether the thread should stop.
    pub(crate) fn is_set(&self) -> bool {
        *self.lock()
    }

    /// Waits until `deadline`; true when stopped.
    fn wait_until(&self, deadline: Instant) -> bool {
        let mut stopped = self.lock();
        while !*stopped {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            stopped = self
                .wake
                .wait_timeout(stopped, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *stopped
    }

    /// Sends `result` unless stopped; holding the lock meanwhile means nothing
    /// is sent after [`Stop::set`] returns.
    fn send(&self, results: &Sender<ProbeResult>, result: ProbeResult) -> bool {
        let stopped = self.lock();
        !*stopped && results.send(result).is_ok()
    }
}

/// What one probe found.
#[derive(Debug)]
pub(crate) struct Measured {
    outcome: ProbeOutcome,
    rtt: Option<Duration>,
    detail: Option<String>,
}

impl Measured {
    fn new(outcome: ProbeOutcome, rtt: Option<Duration>, detail: Option<String>) -> Measured {
        Measured {
            outcome,
            rtt,
            detail,
        }
    }

    pub(crate) fn reply(rtt: Duration) -> Measured {
        Measured::new(ProbeOutcome::Reply, Some(rtt), None)
    }

    pub(crate) fn refused(rtt: Duration) -> Measured {
        Measured::new(ProbeOutcome::Refused, Some(rtt), None)
    }

    pub(crate) fn timeout() -> Measured {
        Measured::new(ProbeOutcome::Timeout, None, None)
    }

    pub(crate) fn unreachable(detail: String) -> Measured {
        Measured::new(ProbeOutcome::Unreachable, None, Some(detail))
    }

    pub(crate) fn error(detail: String) -> Measured {
        Measured::new(ProbeOutcome::Error, None, Some(detail))
    }
}

/// Everything one target's thread needs.
struct Job {
    name: String,
    target: Target,
    interval: Duration,
    timeout: Duration,
    icmp_mode: IcmpMode,
    results: Sender<ProbeResult>,
    stop: Arc<Stop>,
}

impl Job {
    /// Probes every interval until stopped or the receiver is gone.
    fn run(self) {
        let (host, port, kind) = match &self.target {
            Target::Icmp(host) => (host, 0, ProbeKind::Icmp),
            Target::Tcp(host, port) => (host, *port, ProbeKind::Tcp),
        };
        let mut icmp = IcmpProber::new(self.icmp_mode, seed(&self.name));
        // Resolved once; a failed lookup is retried on the next probe.
        let mut resolved: Option<SocketAddr> = None;
        let mut next = Instant::now();
        for seq in 0u64.. {
            let addr = resolved.map_or_else(|| target::resolve(host, port), Ok);
            resolved = addr.as_ref().ok().copied();
            let sent_ns = epoch_ns();
            let measured = match &addr {
                Err(detail) => Some(Measured::error(detail.clone())),
                Ok(a) if kind == ProbeKind::Icmp => {
                    icmp.probe(a.ip(), seq, sent_ns, self.timeout, &self.stop)
                }
                Ok(a) => tcp::probe(*a, self.timeout, &self.stop),
            };
            let Some(m) = measured else { break };
            let result = ProbeResult {
                target: self.name.clone(),
                kind,
                addr: resolved.map(|a| a.ip().to_string()),
                seq,
                sent_ns,
                outcome: m.outcome,
                rtt_ns: m.rtt.map(|d| d.as_nanos() as u64),
                detail: m.detail,
            };
            if !self.stop.send(&self.results, result) {
                break;
            }
            next = (next + self.interval).max(Instant::now());
            if self.stop.wait_until(next) {
                break;
            }
        }
    }
}

/// Per-target randomness for the echo identifier and cookie.
fn seed(name: &str) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(name.as_bytes());
    hasher.write_u64(epoch_ns());
    hasher.finish()
}

/// Wall-clock time in ns since the epoch.
fn epoch_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn add_and_remove_refuse_bad_requests() {
        let (tx, rx) = mpsc::channel();
        let mut prober = Prober::new(tx);
        let second = Duration::from_secs(1);
        assert!(
            prober
                .add("db:0", second, second)
                .unwrap_err()
                .contains("bad port")
        );
        assert!(
            prober
                .add("", second, second)
                .unwrap_err()
                .contains("empty")
        );
        let zero = prober.add("127.0.0.1:9", Duration::ZERO, second);
        assert!(zero.unwrap_err().contains("positive interval"));
        prober.add("127.0.0.1:9", second, second).unwrap();
        let again = prober.add(" 127.0.0.1:9 ", second, second);
        assert!(again.unwrap_err().contains("already being probed"));
        assert_eq!(prober.targets().collect::<Vec<_>>(), ["127.0.0.1:9"]);
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!((first.target.as_str(), first.seq), ("127.0.0.1:9", 0));
        assert_eq!(first.kind, ProbeKind::Tcp);
        assert!(
            prober
                .remove("127.0.0.2:9")
                .unwrap_err()
                .contains("not being probed")
        );
        prober.remove("127.0.0.1:9").unwrap();
        assert!(prober.remove("127.0.0.1:9").is_err());
        drop(prober);
        assert!(rx.try_iter().all(|r| r.seq == 0));
    }

    #[test]
    fn stop_wakes_a_waiting_thread() {
        let stop = Arc::new(Stop::default());
        let waiter = Arc::clone(&stop);
        let start = Instant::now();
        let thread =
            thread::spawn(move || waiter.wait_until(Instant::now() + Duration::from_secs(60)));
        thread::sleep(Duration::from_millis(20));
        stop.set();
        assert!(thread.join().unwrap());
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(stop.is_set());
    }
}
