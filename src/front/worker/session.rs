//! The worker thread's session with the API server: the request loop,
//! connecting, and the namespace and pod watches that keep the pickers'
//! lists current.

use std::sync::mpsc::Sender;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::launch::launch;
use super::{Outputs, WorkerOptions};
use crate::cluster::{self, Cluster, ConnectOptions};
use crate::front::{FrontEvent, Request};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

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

pub(super) async fn run(
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
