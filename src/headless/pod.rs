//! `podtap --no-tui -n NS POD`: a pod's traffic as JSON lines (or a table).
//!
//! Connects like kubectl, runs the preflight, adds (or reuses) the agent,
//! streams it over exec, and prints what the stream decodes to stdout.
//! Progress, findings and errors go to stderr, one line each; a blocking
//! finding stops before anything is changed and prints the Role to grant.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{channel, sync_channel};
use std::time::Duration;

use super::{Format, HeadlessError};
use crate::cluster::{
    self, ClusterEvent, ConnectOptions, LaunchOptions, PullPolicy, Severity, StreamOptions,
};

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct PodRequest {
    /// Kubeconfig, context and namespace.
    pub connect: ConnectOptions,
    /// The pod.
    pub pod: String,
    /// The container whose network to share (default: the pod's default container).
    pub container: Option<String>,
    /// The agent image.
    pub image: String,
    /// Print the preflight and the PATCH body, change nothing.
    pub dry_run: bool,
    /// How long the agent may take to start.
    pub startup_timeout: Duration,
}

/// Exit codes: 0 done, 1 the stream failed, 2 could not start (preflight, connection, launch).
pub fn run(
    request: &PodRequest,
    format: Format,
    interrupt: &Arc<AtomicBool>,
) -> Result<u8, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let connected = runtime
        .block_on(cluster::connect(&request.connect))
        .map_err(|e| e.to_string())?;
    let c = connected.cluster.clone();
    let ns = c.namespace().to_owned();
    let context = connected.context.as_deref().unwrap_or("in-cluster");
    eprintln!(
        "podtap: {} (context {context}), namespace {ns}",
        connected.server
    );

    let pod = runtime
        .block_on(c.pod(&ns, &request.pod))
        .map_err(|e| e.to_string())?;
    let summary = cluster::summarize(&pod, k8s_openapi::jiff::Timestamp::now());
    let target = request
        .container
        .clone()
        .or(summary.default_container.clone())
        .ok_or_else(|| format!("pod {ns}/{} has no container to attach to", request.pod))?;
    let options = LaunchOptions {
        image: request.image.clone(),
        pull_policy: PullPolicy::IfNotPresent,
        startup_timeout: request.startup_timeout,
        idle_timeout: Duration::from_secs(600),
    };

    if request.dry_run {
        let plan = runtime
            .block_on(c.dry_run(&ns, &request.pod, &target, &options))
            .map_err(|e| e.to_string())?;
        for f in &plan.findings {
            eprintln!("podtap: {}: {}", severity(f.severity), f.message);
        }
        match &plan.reuse {
            Some(agent) => println!("{}", serde_json::json!({ "reuse": agent })),
            None => println!(
                "{}",
                serde_json::to_string_pretty(&plan.patch).unwrap_or_default()
            ),
        }
        return Ok(if plan.findings.iter().any(cluster::Finding::is_blocking) {
            2
        } else {
            0
        });
    }

    let findings = runtime
        .block_on(c.preflight(&ns, &request.pod, &target))
        .map_err(|e| e.to_string())?;
    for f in &findings {
        eprintln!("podtap: {}: {}", severity(f.severity), f.message);
    }
    if let Some(blocking) = findings.iter().find(|f| f.is_blocking()) {
        if let Some(role) = &blocking.role_yaml {
            eprintln!("podtap: a Role that grants what is missing:\n{role}");
        }
        return Ok(2);
    }

    let (cluster_tx, cluster_rx) = channel::<ClusterEvent>();
    let printer = std::thread::spawn(move || {
        for e in cluster_rx {
            if let Some(line) = e.describe() {
                eprintln!("podtap: {line}");
            }
        }
    });
    let agent = match runtime.block_on(c.launch(&ns, &request.pod, &target, &options, &cluster_tx))
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("podtap: {e}");
            return Ok(2);
        }
    };
    let (tx, rx) = sync_channel(16_384);
    let handle = cluster::start_stream(
        runtime.handle(),
        c,
        agent,
        StreamOptions::default(),
        tx,
        cluster_tx,
    )
    .map_err(|e| e.to_string())?;
    let stop = || handle.stop();
    let result = super::run_events(&rx, std::io::stdout().lock(), format, interrupt, &stop);
    handle.stop();
    drop(handle);
    let _ = printer.join();
    match result {
        Ok(s) if s.ended.is_none() => Ok(0),
        Ok(s) => {
            eprintln!("podtap: the stream ended: {}", s.ended.unwrap_or_default());
            Ok(1)
        }
        Err(HeadlessError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.to_string()),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Blocking => "blocking",
    }
}
