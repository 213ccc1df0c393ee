//! exec and attach over WebSocket, as the API server speaks them:
//! subprotocol `v5.channel.k8s.io` (or `v4.channel.k8s.io`), binary frames
//! whose first byte is the channel (0 stdin, 1 stdout, 2 stderr, 3 status,
//! 4 resize, 255 close on v5), one empty stdout frame after the upgrade, a
//! `metav1.Status` on channel 3 at the end and a close frame with code 1000.
//! The process is whatever the test's exec plug returns. A cut (a knob)
//! drops the connection after some stdout bytes and either kills the process
//! or leaves it running.

use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};

use super::pods::{container_names, container_running};
use super::server::{App, Query, bad_request, forbidden, not_found, status};
use super::state::{ExecCut, ExecPlug, FakeState};

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;
/// Largest stdout/stderr chunk per frame.
const CHUNK: usize = 32 * 1024;

/// One exec session's parameters.
struct Session {
    v5: bool,
    container: String,
    command: Vec<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    plug: Option<std::sync::Arc<ExecPlug>>,
    cut: Option<ExecCut>,
    state: FakeState,
}

/// `GET|POST .../pods/{name}/exec` (and `attach`).
pub(crate) async fn exec(
    app: &App,
    mut parts: Parts,
    ns: &str,
    name: &str,
    query: &Query,
    attach: bool,
) -> Response {
    let sub = if attach { "attach" } else { "exec" };
    if app.state.is_denied("create", "pods", sub) {
        return forbidden("create", "pods", sub, name, Some(ns));
    }
    let Some(pod) = app.state.pod(ns, name) else {
        return not_found("pods", name);
    };
    let names = container_names(&pod);
    let container = match query.get("container") {
        Some(c) if !c.is_empty() => c.to_owned(),
        _ => match pod.spec.as_ref().map(|s| s.containers.as_slice()) {
            Some([only]) => only.name.clone(),
            _ => {
                return bad_request(&format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                ));
            }
        },
    };
    if !names.contains(&container) {
        return bad_request(&format!(
            "container {container} is not valid for pod {name}"
        ));
    }
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return bad_request(&format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        ));
    }
    if !container_running(&pod, &container) {
        return bad_request(&format!(
            "container {container} is not running in pod {name}"
        ));
    }
    let command = query.all("command");
    if !attach && command.is_empty() {
        return bad_request("you must specify at least 1 command");
    }
    let (stdin, stdout, stderr) = (
        query.flag("stdin"),
        query.flag("stdout"),
        query.flag("stderr"),
    );
    if !stdin && !stdout && !stderr {
        return bad_request("you must specify at least 1 of stdin, stdout, stderr");
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws.protocols([V5, V4]),
        Err(_) => return bad_request("Upgrade request required"),
    };
    let Some(v5) = ws
        .selected_protocol()
        .map(|p| p.as_bytes() == V5.as_bytes())
    else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("none of the requested subprotocols is supported; the fake speaks {V5}, {V4}"),
            &Value::Null,
        );
    };
    let (plug, cut) = {
        let mut inner = app.state.lock();
        (inner.exec_plug.clone(), inner.knobs.exec_cuts.pop_front())
    };
    let session = Session {
        v5,
        container,
        command,
        stdin,
        stdout,
        stderr,
        plug,
        cut,
        state: app.state.clone(),
    };
    ws.max_message_size(1 << 20)
        .on_upgrade(move |socket| run(socket, session))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(v.into())
}

fn failure(message: &str, reason: &str, exit_code: Option<i32>) -> Value {
    let mut s = json!({"metadata": {}, "status": "Failure", "message": message, "reason": reason});
    if let Some(code) = exit_code {
        s["details"] = json!({"causes": [{"reason": "ExitCode", "message": code.to_string()}]});
    } else {
        s["code"] = json!(500);
        s["details"] = json!({"causes": [{"message": message}]});
    }
    s
}

async fn pipe(mut from: impl AsyncRead + Unpin, channel: u8, to: mpsc::Sender<(u8, Vec<u8>)>) {
    let mut buf = vec![0u8; CHUNK];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.send((channel, buf[..n].to_vec())).await.is_err() {
            return;
        }
    }
}

async fn run(socket: WebSocket, s: Session) {
    let (mut sink, mut stream) = socket.split();
    if sink.send(frame(STDOUT, &[])).await.is_err() {
        return;
    }
    let spawned = match &s.plug {
        Some(plug) => {
            let mut cmd = tokio::process::Command::from(plug(&s.container, &s.command));
            cmd.stdin(if s.stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(if s.stdout {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(if s.stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
            cmd.spawn().map_err(|e| e.to_string())
        }
        None => Err("the fake API server has no exec plug".to_owned()),
    };
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let message = format!(
                "Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: {:?}: {e}: unknown",
                s.command.first().map_or("", String::as_str)
            );
            let _ = sink
                .send(frame(
                    STATUS,
                    failure(&message, "InternalError", None)
                        .to_string()
                        .as_bytes(),
                ))
                .await;
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code: close_code::NORMAL,
                    reason: "".into(),
                })))
                .await;
            return;
        }
    };
    let (out_tx, mut out_rx) = mpsc::channel::<(u8, Vec<u8>)>(16);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pipe(out, STDOUT, out_tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pipe(err, STDERR, out_tx.clone()));
    }
    drop(out_tx);
    // A process that outlives its connection keeps its stdin open: this copy
    // of the pipe's write end survives the reader below, which owns the other.
    let held_stdin = match (s.cut, child.stdin.as_ref()) {
        (Some(cut), Some(pipe)) if cut.keep_process => pipe.as_fd().try_clone_to_owned().ok(),
        _ => None,
    };
    // The client side: stdin frames to the process; tells us when the client is gone.
    let (gone_tx, mut gone_rx) = oneshot::channel::<()>();
    let mut child_stdin = child.stdin.take();
    let v5 = s.v5;
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Binary(data) => match data.first() {
                    Some(&STDIN) => {
                        if let Some(stdin) = child_stdin.as_mut()
                            && stdin.write_all(&data[1..]).await.is_err()
                        {
                            child_stdin = None;
                        }
                    }
                    Some(&CLOSE) if v5 && data.get(1) == Some(&STDIN) => child_stdin = None,
                    _ => {}
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = gone_tx.send(());
    });
    let mut sent = 0usize;
    loop {
        tokio::select! {
            chunk = out_rx.recv() => {
                let Some((channel, mut data)) = chunk else { break };
                if channel == STDOUT && let Some(cut) = s.cut {
                    let room = cut.after.saturating_sub(sent);
                    if data.len() >= room {
                        data.truncate(room);
                        let _ = sink.send(frame(STDOUT, &data)).await;
                        // Cut: no status, no close frame; dropping both halves drops the TCP connection.
                        reader.abort();
                        if cut.keep_process {
                            keep_running(&s.state, child, held_stdin, out_rx);
                        } else {
                            let _ = child.start_kill();
                        }
                        return;
                    }
                    sent += data.len();
                }
                if sink.send(frame(channel, &data)).await.is_err() {
                    break;
                }
            }
            _ = &mut gone_rx => {
                let _ = child.start_kill();
                return;
            }
        }
    }
    let exit = tokio::select! {
        exit = child.wait() => exit,
        _ = &mut gone_rx => return,
    };
    let status_json = match exit.map(exit_code) {
        Ok(0) => json!({"metadata": {}, "status": "Success"}),
        Ok(code) => failure(
            &format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                s.command.join(" ")
            ),
            "NonZeroExitCode",
            Some(code),
        ),
        Err(e) => failure(
            &format!("Internal error occurred: waiting for the process: {e}"),
            "InternalError",
            None,
        ),
    };
    let _ = sink
        .send(frame(STATUS, status_json.to_string().as_bytes()))
        .await;
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code: close_code::NORMAL,
            reason: "".into(),
        })))
        .await;
    // Give the client a moment to answer the close, then drop the connection.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), gone_rx).await;
    reader.abort();
}

/// Lets a cut session's process run on until it exits by itself (or the
/// server stops): `stdin` keeps its input open, its stdout is read and thrown
/// away, its stderr and exit are recorded in the state.
fn keep_running(
    state: &FakeState,
    mut child: Child,
    stdin: Option<OwnedFd>,
    mut output: mpsc::Receiver<(u8, Vec<u8>)>,
) {
    let index = state.add_orphan(child.id());
    let state = state.clone();
    tokio::spawn(async move {
        // Both pipes end when the process exits.
        while let Some((channel, data)) = output.recv().await {
            if channel == STDERR {
                state.update_orphan(index, |o| {
                    o.stderr.push_str(&String::from_utf8_lossy(&data));
                });
            }
        }
        let exit = child.wait().await.map(exit_code).ok();
        state.update_orphan(index, |o| {
            o.exited_at = Some(Instant::now());
            o.exit_code = exit;
        });
        drop(stdin);
    });
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
