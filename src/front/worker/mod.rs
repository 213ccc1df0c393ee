//! The API side of cluster mode, on its own thread with a tokio runtime:
//! connects, keeps the namespace and pod lists current with watches, and
//! runs a launch (pod, preflight, agent, exec stream) as one abortable task.
//!
//! Replies go out as [`FrontEvent`]s; launch progress as the cluster
//! module's own [`ClusterEvent`]s; a started stream as a [`LiveStream`] for
//! the runner, which owns it from then on.

use std::sync::mpsc::{Sender, SyncSender, sync_channel};
use std::thread;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::{FrontEvent, Request, Target};
use crate::cluster::{
    self, AgentRef, Cluster, ConnectOptions, EventSender, LaunchOptions, StreamOptions,
};
use crate::source::{SourceEvent, SourceHandle};

/// Events queued between the exec stream and the UI.
const STREAM_CHANNEL: usize = 16_384;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

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

/// The worker's state between requests.
struct State {
    options: WorkerOptions,
    outputs: Outputs,
    runtime: tokio::runtime::Handle,
    cluster: Option<Cluster>,
    namespaces: Option<JoinHandle<()>>,
    pods: Option<JoinHandle<()>>,
    launch: Option<JoinHandle<()>>,
}

async fn run(
    mut requests: UnboundedReceiver<Request>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
    options: WorkerOptions,
    outputs: Outputs,
    runtime: tokio::runtime::Handle,
) {
    let mut state = State {
        options,
        outputs,
        runtime,
        cluster: None,
        namespaces: None,
        pods: None,
        launch: None,
    };
    loop {
        let request = tokio::select! {
            _ = &mut shutdown => break,
            r = requests.recv() => match r {
                Some(r) => r,
                None => break,
            },
        };
        tokio::select! {
            _ = &mut shutdown => break,
            () = state.handle(request) => {}
        }
    }
    for task in [state.namespaces, state.pods, state.launch]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
}

impl State {
    async fn handle(&mut self, request: Request) {
        match request {
            Request::Connect { context } => self.connect(context).await,
            Request::WatchPods { namespace } => {
                abort(&mut self.pods);
                if let Some(c) = &self.cluster {
                    self.pods = Some(tokio::spawn(watch_pods(
                        c.clone(),
                        namespace,
                        self.outputs.front.clone(),
                    )));
                }
            }
            Request::Launch { id, target } => {
                abort(&mut self.launch);
                let Some(c) = self.cluster.clone() else {
                    let _ = self.outputs.front.send(FrontEvent::LaunchFailed {
                        launch: id,
                        error: "not connected to a cluster; press r to connect again".to_owned(),
                        role: None,
                    });
                    return;
                };
                self.launch = Some(tokio::spawn(launch(
                    c,
                    id,
                    target,
                    self.options.clone(),
                    self.outputs.clone(),
                    self.runtime.clone(),
                )));
            }
            Request::Cancel => abort(&mut self.launch),
        }
    }

    async fn connect(&mut self, context: Option<String>) {
        abort(&mut self.namespaces);
        abort(&mut self.pods);
        abort(&mut self.launch);
        self.cluster = None;
        let options = ConnectOptions {
            kubeconfig: self.options.kubeconfig.clone(),
            context,
            namespace: None,
        };
        let connected =
            match tokio::time::timeout(CONNECT_TIMEOUT, cluster::connect(&options)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    let _ = self
                        .outputs
                        .front
                        .send(FrontEvent::ConnectFailed(e.to_string()));
                    return;
                }
                Err(_) => {
                    let _ = self.outputs.front.send(FrontEvent::ConnectFailed(format!(
                        "connecting took longer than {} s; check the network and the kubeconfig",
                        CONNECT_TIMEOUT.as_secs()
                    )));
                    return;
                }
            };
        let c = connected.cluster;
        let _ = self.outputs.front.send(FrontEvent::Connected {
            context: connected.context,
            server: connected.server,
            namespace: c.namespace().to_owned(),
        });
        self.namespaces = Some(tokio::spawn(watch_namespaces(
            c.clone(),
            self.outputs.front.clone(),
        )));
        self.cluster = Some(c);
    }
}

fn abort(task: &mut Option<JoinHandle<()>>) {
    if let Some(t) = task.take() {
        t.abort();
    }
}

async fn watch_namespaces(c: Cluster, out: Sender<FrontEvent>) {
    let mut updates = Box::pin(c.watch_namespaces());
    while let Some(u) = updates.next().await {
        let event = match u {
            Ok(u) => FrontEvent::Namespaces(u),
            Err(e) => FrontEvent::NamespacesFailed(with_hint(&e.to_string(), "namespaces")),
        };
        if out.send(event).is_err() {
            return;
        }
    }
}

async fn watch_pods(c: Cluster, namespace: String, out: Sender<FrontEvent>) {
    let mut updates = Box::pin(c.watch_pods(&namespace));
    while let Some(u) = updates.next().await {
        let event = match u {
            Ok(update) => FrontEvent::Pods {
                namespace: namespace.clone(),
                update,
            },
            Err(e) => FrontEvent::PodsFailed {
                namespace: namespace.clone(),
                error: with_hint(&e.to_string(), &format!("pods -n {namespace}")),
            },
        };
        if out.send(event).is_err() {
            return;
        }
    }
}

/// A watch error; after a 403, what to ask for (`resource` as in
/// `kubectl auth can-i`, e.g. `pods -n shop`).
fn with_hint(error: &str, resource: &str) -> String {
    if error.contains("HTTP 403") {
        format!(
            "{error}; podtap needs list and watch on {resource} (check with kubectl auth can-i watch {resource})"
        )
    } else {
        error.to_owned()
    }
}

/// Pod, preflight, agent, stream: each failure is one `LaunchFailed`.
async fn launch(
    c: Cluster,
    id: u64,
    target: Target,
    options: WorkerOptions,
    outputs: Outputs,
    runtime: tokio::runtime::Handle,
) {
    let fail = |error: String, role: Option<String>| {
        let _ = outputs.front.send(FrontEvent::LaunchFailed {
            launch: id,
            error,
            role,
        });
    };
    let Target {
        namespace,
        pod,
        container,
    } = target;
    let summary = match c.pod(&namespace, &pod).await {
        Ok(p) => cluster::summarize(&p, k8s_openapi::jiff::Timestamp::now()),
        Err(e) => {
            let text = e.to_string();
            return fail(
                if text.contains("HTTP 404") {
                    format!("pod {namespace}/{pod} does not exist; pick another pod")
                } else {
                    text
                },
                None,
            );
        }
    };
    let Some(target) = container.or(summary.default_container) else {
        return fail(
            format!("pod {namespace}/{pod} has no container to attach to; pick another pod"),
            None,
        );
    };
    let findings = match c.preflight(&namespace, &pod, &target).await {
        Ok(f) => f,
        Err(e) => return fail(e.to_string(), None),
    };
    let blocking = findings.iter().find(|f| f.is_blocking()).cloned();
    let _ = outputs.front.send(FrontEvent::Preflight {
        launch: id,
        findings,
    });
    if let Some(b) = blocking {
        return fail(b.message, b.role_yaml);
    }
    let agent = match c
        .launch(&namespace, &pod, &target, &options.launch, &outputs.cluster)
        .await
    {
        Ok(a) => a,
        Err(e) => return fail(e.to_string(), None),
    };
    let (tx, rx): (SyncSender<SourceEvent>, _) = sync_channel(STREAM_CHANNEL);
    match cluster::start_stream(
        &runtime,
        c,
        agent.clone(),
        options.stream,
        tx,
        outputs.cluster.clone(),
    ) {
        Ok(handle) => {
            let _ = outputs.live.send(LiveStream {
                launch: id,
                agent,
                handle,
                events: rx,
            });
        }
        Err(e) => fail(e.to_string(), None),
    }
}
