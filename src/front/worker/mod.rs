//! The API side of cluster mode, on its own thread with a tokio runtime:
//! connects, keeps the namespace and pod lists current with watches, and
//! runs a launch (pod, preflight, agent, exec stream) as one abortable task.
//!
//! Replies go out as [`FrontEvent`]s; launch progress as the cluster
//! module's own [`ClusterEvent`](crate::cluster::ClusterEvent)s; a started stream as a [`LiveStream`] for
//! the runner, which owns it from then on.
//!
//! This module holds the [`Worker`] handle and what it is started with;
//! `session` is the thread's request loop, connection and watches, and
//! `launch` the launch task.

mod launch;
mod session;

use std::sync::mpsc::Sender;
use std::thread;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use self::session::run;
use super::{FrontEvent, Request};
use crate::cluster::{AgentRef, EventSender, LaunchOptions, StreamOptions};
use crate::source::{SourceEvent, SourceHandle};

/// What the worker needs besides requests.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `--kubeconfig` (the context comes with each `Connect`).
    pub kubeconfig: Option<std::path::PathBuf>,
    /// How to add the agent.
    pub launch: LaunchOptions,
    /// Timing of the exec stream.
    pub stream: StreamOptions,
}

/// A started exec stream, handed to the runner.
pub struct LiveStream {
    /// The launch that started it.
    pub launch: u64,
    /// The agent it reads from.
    pub agent: AgentRef,
    /// The stream (stops when dropped).
    pub handle: SourceHandle,
    /// Its decoded events.
    pub events: std::sync::mpsc::Receiver<SourceEvent>,
}

impl std::fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStream")
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

/// Where the worker's output goes.
#[derive(Clone)]
pub struct Outputs {
    /// Replies.
    pub front: Sender<FrontEvent>,
    /// Launch progress and stream events.
    pub cluster: EventSender,
    /// Started streams.
    pub live: Sender<LiveStream>,
}

/// The running worker; dropping it ends the watches and any launch.
pub struct Worker {
    requests: Option<UnboundedSender<Request>>,
    /// Dropped to end the worker's loop, even in the middle of a request.
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    /// Outlives the thread: streams started by a launch run on it until dropped.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the worker thread.
    pub fn start(options: WorkerOptions, outputs: Outputs) -> std::io::Result<Worker> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("podtap-api")
            .enable_all()
            .build()?;
        let (tx, rx) = unbounded_channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
        let handle = runtime.handle().clone();
        let thread = thread::Builder::new()
            .name("podtap-worker".into())
            .spawn(move || {
                handle.block_on(run(rx, shutdown_rx, options, outputs, handle.clone()));
            })?;
        Ok(Worker {
            requests: Some(tx),
            shutdown: Some(shutdown),
            thread: Some(thread),
            runtime: Some(runtime),
        })
    }

    /// Ends the worker: its watches and launch first, then the streams it
    /// started that nobody took from `live` (each stops its agent), then the runtime.
    pub fn finish(mut self, live: &std::sync::mpsc::Receiver<LiveStream>) {
        self.stop_thread();
        for stream in live.try_iter() {
            drop(stream.handle);
        }
    }

    fn stop_thread(&mut self) {
        self.requests = None;
        self.shutdown = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Queues a request.
    pub fn send(&self, request: Request) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(request);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop_thread();
        if let Some(r) = self.runtime.take() {
            // Not shut down: a stream thread that outlived its handle's drop
            // wait (a stuck write, say) still polls timers on this runtime, and
            // on a shut-down runtime that panics. The process is ending; the
            // watches end with it, and the agent on its heartbeat timeout.
            std::mem::forget(r);
        }
    }
}
