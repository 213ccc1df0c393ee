//! The launch task: pod, preflight, agent and exec stream, run as one
//! abortable task; a started stream goes to the runner as a [`LiveStream`].

use std::sync::mpsc::{SyncSender, sync_channel};

use super::{LiveStream, Outputs, WorkerOptions};
use crate::cluster::{self, Cluster};
use crate::front::{FrontEvent, Target};
use crate::source::SourceEvent;

/// Events queued between the exec stream and the UI.
const STREAM_CHANNEL: usize = 16_384;

/// Pod, preflight, agent, stream: each failure is one `LaunchFailed`.
pub(super) async fn launch(
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
