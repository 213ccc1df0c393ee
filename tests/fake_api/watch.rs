//! Lists and watches of pods and namespaces: field and label selectors, the
//! resourceVersion rules kube-rs's watcher relies on (list, then watch from
//! the list's resourceVersion), bookmarks, timeouts and 410 Expired.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::server::{App, Query, bad_request, forbidden, json_response, streaming};
use super::state::{Event, FakeState, Resource, to_value};

/// A watch without timeoutSeconds ends after this long; longer ones are cut to `MAX_WATCH`.
const DEFAULT_WATCH: Duration = Duration::from_secs(600);
const MAX_WATCH: Duration = Duration::from_secs(3600);

/// Which objects a list or watch wants.
struct Filter {
    resource: Resource,
    namespace: Option<String>,
    fields: Vec<(String, bool, String)>,
    labels: Vec<LabelTerm>,
}

enum LabelTerm {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
}

impl Filter {
    fn matches(&self, resource: Resource, object: &Value) -> bool {
        if resource != self.resource {
            return false;
        }
        if let Some(ns) = &self.namespace
            && object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                != Some(ns)
        {
            return false;
        }
        let field_ok = self.fields.iter().all(|(path, eq, want)| {
            let got = object.pointer(path).map_or_else(String::new, |v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            (got == *want) == *eq
        });
        let labels = object.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        field_ok
            && self.labels.iter().all(|t| match t {
                LabelTerm::Eq(k, v) => label(k) == Some(v),
                LabelTerm::Ne(k, v) => label(k) != Some(v),
                LabelTerm::Exists(k) => label(k).is_some(),
                LabelTerm::Absent(k) => label(k).is_none(),
            })
    }
}

fn names(resource: Resource) -> (&'static str, &'static str, &'static str) {
    match resource {
        Resource::Pods => ("pods", "Pod", "PodList"),
        Resource::Namespaces => ("namespaces", "Namespace", "NamespaceList"),
    }
}

fn parse_fields(resource: Resource, raw: &str) -> Result<Vec<(String, bool, String)>, String> {
    let supported: &[&str] = match resource {
        Resource::Pods => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        Resource::Namespaces => &["metadata.name", "metadata.namespace", "status.phase"],
    };
    raw.split(',')
        .filter(|t| !t.is_empty())
        .map(|term| {
            let (key, eq, value) = if let Some((k, v)) = term.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{raw}'; can't understand '{term}'"
                ));
            };
            if !supported.contains(&key) {
                return Err(format!("field label not supported: {key}"));
            }
            Ok((format!("/{}", key.replace('.', "/")), eq, value.to_owned()))
        })
        .collect()
}

/// Equality-based label selectors; set-based ones (`in (...)`) select everything.
fn parse_labels(raw: &str) -> Vec<LabelTerm> {
    if raw.contains('(') {
        return Vec::new();
    }
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                LabelTerm::Ne(k.to_owned(), v.to_owned())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                LabelTerm::Eq(k.to_owned(), v.to_owned())
            } else if let Some(k) = term.strip_prefix('!') {
                LabelTerm::Absent(k.to_owned())
            } else {
                LabelTerm::Exists(term.to_owned())
            }
        })
        .collect()
}

/// `GET` on a collection: a list, or a watch with `watch=true`/`watch=1`.
pub(crate) fn list_or_watch(
    app: &App,
    resource: Resource,
    namespace: Option<&str>,
    query: &Query,
) -> Response {
    let watching = query.flag("watch");
    let verb = if watching { "watch" } else { "list" };
    let (plural, kind, list_kind) = names(resource);
    if app.state.is_denied(verb, plural, "") {
        return forbidden(verb, plural, "", "", namespace);
    }
    let fields = match parse_fields(resource, query.get("fieldSelector").unwrap_or("")) {
        Ok(f) => f,
        Err(e) => return bad_request(&e),
    };
    let filter = Filter {
        resource,
        namespace: namespace.map(str::to_owned),
        fields,
        labels: parse_labels(query.get("labelSelector").unwrap_or("")),
    };
    if watching {
        return watch(&app.state, filter, kind, query);
    }
    let inner = app.state.lock();
    let objects: Vec<Value> = match resource {
        Resource::Pods => inner.pods.values().map(to_value).collect(),
        Resource::Namespaces => inner.namespaces.values().map(to_value).collect(),
    };
    let items: Vec<Value> = objects
        .into_iter()
        .filter(|o| filter.matches(resource, o))
        .map(|mut o| {
            // Items of a real list carry no kind/apiVersion.
            if let Some(map) = o.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            o
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "kind": list_kind,
            "apiVersion": "v1",
            "metadata": {"resourceVersion": inner.rv.to_string()},
            "items": items,
        }),
    )
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

fn watch(state: &FakeState, filter: Filter, kind: &'static str, query: &Query) -> Response {
    let timeout = match query.get("timeoutSeconds").map(str::parse::<u64>) {
        None => DEFAULT_WATCH,
        Some(Ok(s)) => Duration::from_secs(s).min(MAX_WATCH),
        Some(Err(_)) => return bad_request("timeoutSeconds: invalid value"),
    };
    let bookmarks = query.flag("allowWatchBookmarks");
    let initial_end = query.flag("sendInitialEvents");
    let rv_param = query.get("resourceVersion").unwrap_or("");
    let bookmark_every = state.knobs().bookmark_interval;
    let (initial, from, rx) = {
        let inner = state.lock();
        let rx = state.subscribe();
        if rv_param.is_empty() || rv_param == "0" || initial_end {
            let objects: Vec<Value> = match filter.resource {
                Resource::Pods => inner.pods.values().map(to_value).collect(),
                Resource::Namespaces => inner.namespaces.values().map(to_value).collect(),
            };
            let added = objects
                .into_iter()
                .filter(|o| filter.matches(filter.resource, o))
                .map(|o| line("ADDED", &o))
                .collect::<Vec<_>>();
            (added, inner.rv, rx)
        } else {
            let Ok(from) = rv_param.parse::<u64>() else {
                return bad_request(&format!("resourceVersion: Invalid value: \"{rv_param}\""));
            };
            if from < inner.history_floor {
                let gone = json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": format!("too old resource version: {from} ({})", inner.history_floor + 1),
                    "reason": "Expired", "code": 410,
                });
                return streaming(Body::from(line("ERROR", &gone)));
            }
            let replay = inner
                .history
                .iter()
                .filter(|e| e.rv > from && filter.matches(e.resource, &e.object))
                .map(|e| line(e.kind, &e.object))
                .collect();
            (
                replay,
                from.max(inner.history.back().map_or(from, |e| e.rv)),
                rx,
            )
        }
    };
    let (tx, body_rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(pump(
        tx,
        rx,
        filter,
        Pump {
            initial,
            last: from,
            kind,
            timeout,
            bookmark_every: bookmarks.then_some(bookmark_every),
            initial_end: initial_end && bookmarks,
        },
    ));
    let stream = futures::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    streaming(Body::from_stream(stream))
}

struct Pump {
    initial: Vec<Bytes>,
    last: u64,
    kind: &'static str,
    timeout: Duration,
    bookmark_every: Option<Duration>,
    initial_end: bool,
}

fn bookmark(kind: &str, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": kind, "apiVersion": "v1", "metadata": meta}),
    )
}

async fn pump(
    tx: mpsc::Sender<Bytes>,
    mut rx: broadcast::Receiver<Event>,
    filter: Filter,
    p: Pump,
) {
    let deadline = tokio::time::sleep(p.timeout);
    tokio::pin!(deadline);
    for l in p.initial {
        if tx.send(l).await.is_err() {
            return;
        }
    }
    let mut last = p.last;
    if p.initial_end && tx.send(bookmark(p.kind, last, true)).await.is_err() {
        return;
    }
    let mut ticker = tokio::time::interval(p.bookmark_every.unwrap_or(Duration::from_secs(3600)));
    ticker.tick().await;
    loop {
        tokio::select! {
            () = &mut deadline => return,
            () = tx.closed() => return,
            _ = ticker.tick(), if p.bookmark_every.is_some() => {
                if tx.send(bookmark(p.kind, last, false)).await.is_err() {
                    return;
                }
            }
            event = rx.recv() => match event {
                Ok(e) => {
                    if e.rv > last
                        && filter.matches(e.resource, &e.object)
                        && tx.send(line(e.kind, &e.object)).await.is_err()
                    {
                        return;
                    }
                    last = last.max(e.rv);
                }
                // A slow watcher is ended; the client re-lists or resumes.
                Err(_) => return,
            },
        }
    }
}
