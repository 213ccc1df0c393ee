//! The HTTP side: authentication, the request log, routing by path, errors
//! as `metav1.Status`, discovery, version, single objects and
//! SelfSubjectAccessReview. Lists and watches are in `watch`, the
//! ephemeral-container PATCH in `patch`, exec in `exec`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::discovery::{
    access_review, api_groups, api_versions, authorization_resources, core_resources, version,
};
use super::state::{FakeState, LoggedRequest, Resource, logged_body, now, to_value};
use super::{exec, patch, watch};

/// Request bodies larger than this answer 413.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct App {
    pub state: FakeState,
    pub token: Arc<str>,
}

/// The user every token belongs to (used in 403 messages).
pub(crate) const USER: &str = "fake-user";

pub(crate) fn router(state: FakeState, token: &str) -> Router {
    Router::new().fallback(handle).with_state(App {
        state,
        token: token.into(),
    })
}

async fn handle(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            "request entity too large",
            &json!({}),
        );
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    app.state.log_request(LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        content_type: content_type.clone(),
        body: logged_body(&body),
    });
    if !authorized(&parts.headers, &app.token) {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
            &Value::Null,
        );
    }
    let query = match Query::parse(parts.uri.query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = parts.method.clone();
    let get = method == Method::GET;
    match segments.as_slice() {
        ["version"] if get => version(&app.state),
        ["api"] if get => api_versions(&parts.headers),
        ["apis"] if get => api_groups(),
        ["api", "v1"] if get => core_resources(&app.state),
        ["apis", "authorization.k8s.io", "v1"] if get => authorization_resources(),
        ["api", "v1", "namespaces"] if get => {
            watch::list_or_watch(&app, Resource::Namespaces, None, &query)
        }
        ["api", "v1", "namespaces", ns] if get => get_namespace(&app.state, ns),
        ["api", "v1", "pods"] if get => watch::list_or_watch(&app, Resource::Pods, None, &query),
        ["api", "v1", "namespaces", ns, "pods"] if get => {
            watch::list_or_watch(&app, Resource::Pods, Some(ns), &query)
        }
        ["api", "v1", "namespaces", ns, "pods", name] if get => get_pod(&app.state, ns, name, ""),
        ["api", "v1", "namespaces", ns, "pods", name] if method == Method::DELETE => {
            delete_pod(&app.state, ns, name)
        }
        ["api", "v1", "namespaces", ns, "pods", name, "status"] if get => {
            get_pod(&app.state, ns, name, "status")
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "pods",
            name,
            "ephemeralcontainers",
        ] if get => {
            if app.state.knobs().ephemeral_disabled {
                return no_such_resource();
            }
            get_pod(&app.state, ns, name, "ephemeralcontainers")
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "pods",
            name,
            "ephemeralcontainers",
        ] if method == Method::PATCH => {
            patch::patch_ephemeral(&app.state, ns, name, &content_type, &body, &query)
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "pods",
            name,
            sub @ ("exec" | "attach"),
        ] if get || method == Method::POST => {
            let (ns, name, attach) = ((*ns).to_owned(), (*name).to_owned(), *sub == "attach");
            exec::exec(&app, parts, &ns, &name, &query, attach).await
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] if method == Method::POST => access_review(&app.state, &body),
        _ if known_path(&segments) => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("the server does not allow this method on the requested resource ({method})"),
            &json!({}),
        ),
        _ => no_such_resource(),
    }
}

fn known_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["version" | "api" | "apis"]
            | ["api", "v1", ..]
            | ["apis", "authorization.k8s.io", "v1", ..]
    )
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == token)
}

/// A `metav1.Status` error response. `details` is left out when null.
pub(crate) fn status(code: StatusCode, reason: &str, message: &str, details: &Value) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if !details.is_null() {
        body["details"] = details.clone();
    }
    (code, axum::Json(body)).into_response()
}

pub(crate) fn bad_request(message: &str) -> Response {
    status(StatusCode::BAD_REQUEST, "BadRequest", message, &Value::Null)
}

/// The answer for a path the server does not serve (empty `details.name`).
pub(crate) fn no_such_resource() -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
        &json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}),
    )
}

pub(crate) fn not_found(kind: &str, name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{kind} \"{name}\" not found"),
        &json!({"name": name, "kind": kind}),
    )
}

/// 403 as RBAC writes it; `name` may be empty, `namespace` `None` for cluster scope.
pub(crate) fn forbidden(
    verb: &str,
    resource: &str,
    sub: &str,
    name: &str,
    namespace: Option<&str>,
) -> Response {
    let full = if sub.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}/{sub}")
    };
    let what = if name.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource} \"{name}\"")
    };
    let scope = namespace.map_or_else(
        || "at the cluster scope".to_owned(),
        |ns| format!("in the namespace \"{ns}\""),
    );
    let mut details = json!({"kind": resource});
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    status(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &format!(
            "{what} is forbidden: User \"{USER}\" cannot {verb} resource \"{full}\" in API group \"\" {scope}"
        ),
        &details,
    )
}

pub(crate) fn json_response(code: StatusCode, value: &Value) -> Response {
    (code, axum::Json(value.clone())).into_response()
}

fn get_namespace(state: &FakeState, name: &str) -> Response {
    if state.is_denied("get", "namespaces", "") {
        return forbidden("get", "namespaces", "", name, None);
    }
    match state.namespace(name) {
        Some(ns) => json_response(StatusCode::OK, &to_value(&ns)),
        None => not_found("namespaces", name),
    }
}

fn get_pod(state: &FakeState, ns: &str, name: &str, sub: &str) -> Response {
    if state.is_denied("get", "pods", sub) {
        return forbidden("get", "pods", sub, name, Some(ns));
    }
    match state.pod(ns, name) {
        Some(pod) => json_response(StatusCode::OK, &to_value(&pod)),
        None => not_found("pods", name),
    }
}

/// Graceful deletion: deletionTimestamp first (MODIFIED), gone shortly after (DELETED).
fn delete_pod(state: &FakeState, ns: &str, name: &str) -> Response {
    if state.is_denied("delete", "pods", "") {
        return forbidden("delete", "pods", "", name, Some(ns));
    }
    let Some(pod) = mark_deleted(state, ns, name) else {
        return not_found("pods", name);
    };
    let state = state.clone();
    let (ns, name) = (ns.to_owned(), name.to_owned());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        state.delete_pod(&ns, &name);
    });
    json_response(StatusCode::OK, &to_value(&pod))
}

/// Sets deletionTimestamp (a MODIFIED event); the caller removes the pod later.
pub(crate) fn mark_deleted(
    state: &FakeState,
    ns: &str,
    name: &str,
) -> Option<k8s_openapi::api::core::v1::Pod> {
    state.update_pod(ns, name, |pod| {
        pod.metadata.deletion_timestamp = Some(now());
        pod.metadata.deletion_grace_period_seconds = Some(30);
    })
}

/// A decoded query string; repeated keys (`command=a&command=b`) keep their order.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: &str) -> Result<Query, String> {
        raw.split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                Ok((decode(k)?, decode(v)?))
            })
            .collect::<Result<_, String>>()
            .map(Query)
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `true` or `1`.
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("invalid percent-encoding in query: {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("query is not UTF-8: {s:?}"))
}

/// An empty response body helper for streaming endpoints.
pub(crate) fn streaming(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
