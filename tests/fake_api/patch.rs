//! PATCH `pods/{name}/ephemeralcontainers` (strategic merge, JSON merge and
//! JSON patch, as kube-rs and kubectl send them), the validation the real
//! API server does (existing ephemeral containers may not change or go,
//! names are unique), and the simulated kubelet that starts new ones.

use axum::http::StatusCode;
use axum::response::Response;
use k8s_openapi::api::core::v1::EphemeralContainer;
use serde_json::{Value, json};

use super::merge::{json_patch_op, merge_patch, strategic_merge};
use super::pods::{container_names, set_ephemeral_status};
use super::server::{
    Query, bad_request, forbidden, json_response, mark_deleted, no_such_resource, not_found, status,
};
use super::state::{FakeState, to_value};

fn invalid(pod: &str, cause_field: &str, message: &str) -> Response {
    status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        &format!("Pod \"{pod}\" is invalid: {cause_field}: {message}"),
        &json!({"name": pod, "kind": "Pod", "causes": [{"reason": "FieldValueInvalid", "message": message, "field": cause_field}]}),
    )
}

/// Applies the patch to the pod's JSON by content type. Err is the answer to send.
#[allow(clippy::result_large_err)] // A test double: the error is the HTTP response.
fn apply(content_type: &str, pod: &mut Value, body: &[u8]) -> Result<(), Response> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let parsed = || {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| bad_request(&format!("error decoding patch: {e}")))
    };
    match media {
        "application/strategic-merge-patch+json" => {
            let patch = parsed()?;
            if !patch.is_object() {
                return Err(bad_request("strategic merge patch must be a JSON object"));
            }
            strategic_merge(pod, &patch);
            Ok(())
        }
        "application/merge-patch+json" => {
            merge_patch(pod, &parsed()?);
            Ok(())
        }
        "application/json-patch+json" => {
            let ops = parsed()?;
            let Some(ops) = ops.as_array() else {
                return Err(bad_request("json patch must be an array of operations"));
            };
            // All or nothing, like the API server.
            let mut patched = pod.clone();
            for op in ops {
                json_patch_op(&mut patched, op).map_err(|e| {
                    status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        &format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                        &Value::Null,
                    )
                })?;
            }
            *pod = patched;
            Ok(())
        }
        _ => Err(status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format ({media}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (the fake does not do server-side apply)"
            ),
            &Value::Null,
        )),
    }
}

/// PATCH `.../pods/{name}/ephemeralcontainers`.
pub(crate) fn patch_ephemeral(
    state: &FakeState,
    ns: &str,
    name: &str,
    content_type: &str,
    body: &[u8],
    query: &Query,
) -> Response {
    if state.is_denied("patch", "pods", "ephemeralcontainers") {
        return forbidden("patch", "pods", "ephemeralcontainers", name, Some(ns));
    }
    let knobs = state.knobs();
    if knobs.ephemeral_disabled {
        return no_such_resource();
    }
    let Some(pod) = state.pod(ns, name) else {
        return not_found("pods", name);
    };
    let mut doc = to_value(&pod);
    if let Err(response) = apply(content_type, &mut doc, body) {
        return response;
    }
    let list = doc
        .pointer("/spec/ephemeralContainers")
        .cloned()
        .unwrap_or(Value::Null);
    let new: Vec<EphemeralContainer> = if list.is_null() {
        Vec::new()
    } else {
        match serde_json::from_value(list) {
            Ok(l) => l,
            Err(e) => {
                return invalid(
                    name,
                    "spec.ephemeralContainers",
                    &format!("Invalid value: {e}"),
                );
            }
        }
    };
    let old = pod
        .spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.clone())
        .unwrap_or_default();
    for o in &old {
        match new.iter().find(|n| n.name == o.name) {
            None => {
                return invalid(
                    name,
                    "spec.ephemeralContainers",
                    &format!(
                        "Forbidden: existing ephemeral containers \"{}\" may not be removed",
                        o.name
                    ),
                );
            }
            Some(n) if to_value(n) != to_value(o) => {
                return invalid(
                    name,
                    "spec.ephemeralContainers",
                    &format!(
                        "Forbidden: existing ephemeral containers \"{}\" may not be changed",
                        o.name
                    ),
                );
            }
            Some(_) => {}
        }
    }
    let regular = container_names(&pod);
    let added: Vec<&EphemeralContainer> = new
        .iter()
        .filter(|n| !old.iter().any(|o| o.name == n.name))
        .collect();
    for (i, c) in added.iter().enumerate() {
        let field = format!("spec.ephemeralContainers[{}]", old.len() + i);
        if c.name.is_empty() {
            return invalid(name, &format!("{field}.name"), "Required value");
        }
        if regular.contains(&c.name) || added.iter().filter(|a| a.name == c.name).count() > 1 {
            return invalid(
                name,
                &format!("{field}.name"),
                &format!("Duplicate value: \"{}\"", c.name),
            );
        }
        if c.image.as_deref().unwrap_or("").is_empty() {
            return invalid(name, &format!("{field}.image"), "Required value");
        }
    }
    if added.is_empty() {
        return json_response(StatusCode::OK, &to_value(&pod));
    }
    let added: Vec<(String, String)> = added
        .iter()
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .collect();
    if query.get("dryRun") == Some("All") {
        let mut preview = pod;
        if let Some(spec) = preview.spec.as_mut() {
            spec.ephemeral_containers = Some(new);
        }
        return json_response(StatusCode::OK, &to_value(&preview));
    }
    let Some(updated) = state.update_pod(ns, name, |p| {
        if let Some(spec) = p.spec.as_mut() {
            spec.ephemeral_containers = Some(new);
        }
    }) else {
        return not_found("pods", name);
    };
    for (container, image) in added {
        tokio::spawn(kubelet(
            state.clone(),
            ns.to_owned(),
            name.to_owned(),
            container,
            image,
        ));
    }
    json_response(StatusCode::OK, &to_value(&updated))
}

/// The simulated kubelet: ContainerCreating at once, then after the delay
/// running, ImagePullBackOff, or the pod deleted, per the knobs.
async fn kubelet(state: FakeState, ns: String, pod: String, container: String, image: String) {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let creating = Some(("ContainerCreating", None));
    if state
        .update_pod(&ns, &pod, |p| {
            set_ephemeral_status(p, &container, &image, creating);
        })
        .is_none()
    {
        return;
    }
    let knobs = state.knobs();
    tokio::time::sleep(knobs.kubelet_delay).await;
    if knobs.delete_pod_after_patch {
        mark_deleted(&state, &ns, &pod);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        state.delete_pod(&ns, &pod);
        return;
    }
    let waiting = knobs.pull_fails.contains(&image).then(|| {
        (
            "ImagePullBackOff",
            Some(format!("Back-off pulling image \"{image}\"")),
        )
    });
    state.update_pod(&ns, &pod, |p| {
        set_ephemeral_status(p, &container, &image, waiting);
    });
}
