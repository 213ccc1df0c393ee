//! The kubeconfig a test points kube-rs or kubectl at.

use serde_json::{Value, json};

/// Context `fake` (current, namespace `shop`) and `other` (namespace
/// `default`), both on the one cluster and user. JSON is valid YAML.
/// `ca_data` is the base64 PEM of the server certificate for https.
pub(crate) fn kubeconfig(url: &str, token: &str, ca_data: Option<&str>) -> Value {
    let context = |name: &str, namespace: &str| json!({"name": name, "context": {"cluster": "fake", "user": "fake-user", "namespace": namespace}});
    let mut cluster = json!({"server": url});
    if let Some(ca) = ca_data {
        cluster["certificate-authority-data"] = json!(ca);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": cluster}],
        "users": [{"name": "fake-user", "user": {"token": token}}],
        "contexts": [context("fake", "shop"), context("other", "default")],
        "current-context": "fake",
        "preferences": {},
    })
}
