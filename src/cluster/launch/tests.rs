use super::*;

fn options() -> LaunchOptions {
    LaunchOptions {
        image: "ghcr.io/podtap/agent@sha256:0123456789abcdef".to_owned(),
        pull_policy: PullPolicy::IfNotPresent,
        startup_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(600),
    }
}

const GOLDEN: &str = r#"{"spec":{"ephemeralContainers":[{"command":["/podtap-agent","serve","--idle-timeout","600"],"image":"ghcr.io/podtap/agent@sha256:0123456789abcdef","imagePullPolicy":"IfNotPresent","name":"podtap-ab3de","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"add":["NET_RAW"],"drop":["ALL"]},"runAsNonRoot":false,"runAsUser":0},"stdin":false,"targetContainerName":"app","tty":false}]}}"#;

#[test]
fn patch_body_matches_the_golden_json() {
    let body = patch_body(&agent_container("podtap-ab3de", "app", &options()));
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
    assert_eq!(body, golden);
    // serde_json sorts keys, so the text is stable too.
    assert_eq!(serde_json::to_string(&body).unwrap(), GOLDEN);
}

#[test]
fn patch_body_security_context_is_exact() {
    let body = patch_body(&agent_container("podtap-ab3de", "app", &options()));
    assert_eq!(
        body["spec"]["ephemeralContainers"][0]["securityContext"],
        serde_json::json!({
            "runAsUser": 0,
            "runAsNonRoot": false,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]}
        })
    );
}

#[test]
fn tag_image_and_pull_policy_pass_through() {
    let mut o = options();
    o.image = "registry.local:5000/podtap-agent:0.1.0".to_owned();
    o.pull_policy = PullPolicy::Always;
    let c = agent_container("podtap-zz9zz", "web", &o);
    assert_eq!(
        c.image.as_deref(),
        Some("registry.local:5000/podtap-agent:0.1.0")
    );
    assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
}

#[test]
fn random_names_are_podtap_and_five_lowercase_alnum() {
    for _ in 0..50 {
        let name = random_agent_name();
        let suffix = name.strip_prefix("podtap-").unwrap();
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{name}"
        );
    }
}

fn api_error(code: u16, message: &str, details_name: Option<&str>) -> kube::Error {
    let status: kube::core::Status = serde_json::from_value(serde_json::json!({
        "status": "Failure",
        "code": code,
        "message": message,
        "reason": "NotFound",
        "details": details_name.map(|n| serde_json::json!({"name": n, "kind": "pods"})),
    }))
    .unwrap();
    kube::Error::Api(Box::new(status))
}

#[test]
fn not_found_without_a_name_means_ephemeral_containers_are_disabled() {
    let err = patch_error(
        "shop",
        "api",
        api_error(
            404,
            "the server could not find the requested resource",
            None,
        ),
    );
    assert!(matches!(err, LaunchError::EphemeralDisabled { .. }));
    assert!(
        err.to_string().contains("ephemeral containers disabled"),
        "{err}"
    );
    let err = patch_error(
        "shop",
        "api",
        api_error(404, "pods \"api\" not found", Some("api")),
    );
    assert!(matches!(err, LaunchError::PodNotFound { .. }));
}

#[test]
fn forbidden_patch_is_named() {
    let err = patch_error(
        "shop",
        "api",
        api_error(
            403,
            "pods \"api\" is forbidden: User \"u\" cannot patch resource \"pods/ephemeralcontainers\"",
            None,
        ),
    );
    assert!(matches!(err, LaunchError::Forbidden { .. }));
    let err = patch_error(
        "shop",
        "api",
        api_error(403, "violates PodSecurity \"baseline:latest\"", None),
    );
    assert!(err.to_string().contains("PodSecurity"), "{err}");
}
