//! Version, discovery (what kube-rs and kubectl read before they act) and
//! SelfSubjectAccessReview, which answers per the deny knobs.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::server::{USER, bad_request, json_response, status};
use super::state::FakeState;

pub(crate) fn version(state: &FakeState) -> Response {
    let minor = state.knobs().version_minor;
    json_response(
        StatusCode::OK,
        &json!({
            "major": "1",
            "minor": minor.to_string(),
            "emulationMajor": "1",
            "emulationMinor": minor.to_string(),
            "gitVersion": format!("v1.{minor}.0"),
            "gitCommit": "9edcffcde5595e8a5b1a35f88c421764e575afce",
            "gitTreeState": "clean",
            "buildDate": "2024-08-13T07:28:49Z",
            "goVersion": "go1.22.5",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
    )
}

pub(crate) fn api_versions(headers: &HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
        }),
    )
}

pub(crate) fn api_groups() -> Response {
    let gv = json!({"groupVersion": "authorization.k8s.io/v1", "version": "v1"});
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [{"name": "authorization.k8s.io", "versions": [gv.clone()], "preferredVersion": gv}],
        }),
    )
}

fn resource(name: &str, singular: &str, namespaced: bool, kind: &str, verbs: &[&str]) -> Value {
    json!({"name": name, "singularName": singular, "namespaced": namespaced, "kind": kind, "verbs": verbs})
}

pub(crate) fn core_resources(state: &FakeState) -> Response {
    let rw = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    let mut pods = resource("pods", "pod", true, "Pod", &rw);
    pods["shortNames"] = json!(["po"]);
    pods["categories"] = json!(["all"]);
    let mut namespaces = resource(
        "namespaces",
        "namespace",
        false,
        "Namespace",
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    );
    namespaces["shortNames"] = json!(["ns"]);
    let mut resources = vec![
        namespaces,
        pods,
        resource(
            "pods/attach",
            "",
            true,
            "PodAttachOptions",
            &["create", "get"],
        ),
        resource("pods/exec", "", true, "PodExecOptions", &["create", "get"]),
        resource("pods/log", "", true, "Pod", &["get"]),
        resource("pods/status", "", true, "Pod", &["get", "patch", "update"]),
    ];
    if !state.knobs().ephemeral_disabled {
        resources.push(resource(
            "pods/ephemeralcontainers",
            "",
            true,
            "Pod",
            &["get", "patch", "update"],
        ));
    }
    json_response(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources}),
    )
}

pub(crate) fn authorization_resources() -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": "authorization.k8s.io/v1",
            "resources": [resource("selfsubjectaccessreviews", "selfsubjectaccessreview", false, "SelfSubjectAccessReview", &["create"])],
        }),
    )
}

pub(crate) fn access_review(state: &FakeState, body: &[u8]) -> Response {
    let Ok(review) = serde_json::from_slice::<Value>(body) else {
        return bad_request(
            "the body of the request could not be decoded as a SelfSubjectAccessReview",
        );
    };
    let Some(spec) = review.get("spec").filter(|s| s.is_object()) else {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
            &json!({"kind": "SelfSubjectAccessReview", "group": "authorization.k8s.io"}),
        );
    };
    let allowed = spec.get("resourceAttributes").is_none_or(|ra| {
        let field = |k: &str| ra.get(k).and_then(Value::as_str).unwrap_or("");
        !state.is_denied(field("verb"), field("resource"), field("subresource"))
    });
    let mut status_body = json!({"allowed": allowed});
    if allowed {
        status_body["reason"] = json!(format!(
            "RBAC: allowed by ClusterRoleBinding \"fake\" of ClusterRole \"cluster-admin\" to User \"{USER}\""
        ));
    }
    json_response(
        StatusCode::CREATED,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": spec,
            "status": status_body,
        }),
    )
}
