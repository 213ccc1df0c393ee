//! Checks before anything irreversible (an ephemeral container can never be
//! removed): server version, RBAC, Pod Security admission, the pod's own
//! security context and state. Each problem is a [`Finding`]: one sentence
//! with the fix, and a Role to apply when permissions are missing.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::version::Info;
use kube::api::{Api, PostParams};

use super::role::{Permission, role_yaml};
use super::{Cluster, ClusterError, api_code};

/// The Pod Security admission label that rejects what it does not allow.
const PSA_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// For information.
    Info,
    /// podtap can go on, but the user should know.
    Warning,
    /// podtap must not go on.
    Blocking,
}

/// One preflight result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// One sentence: what is wrong and what to do.
    pub message: String,
    /// A Role granting the missing permissions, when that is the problem.
    pub role_yaml: Option<String>,
}

impl Finding {
    /// A finding without a Role.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            severity,
            message: message.into(),
            role_yaml: None,
        }
    }

    /// Whether podtap must stop here.
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Blocking
    }
}

/// The server version's finding: ephemeral containers are beta in 1.23 and 1.24, GA from 1.25.
pub fn check_version(info: &Info) -> Option<Finding> {
    let number = |s: &str| -> Option<u32> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let (Some(major), Some(minor)) = (number(&info.major), number(&info.minor)) else {
        return Some(Finding::new(
            Severity::Warning,
            format!(
                "The API server reports an unreadable version ({:?}); podtap needs Kubernetes 1.23 or later for ephemeral containers and will try anyway.",
                info.git_version
            ),
        ));
    };
    if (major, minor) < (1, 23) {
        Some(Finding::new(
            Severity::Blocking,
            format!(
                "The cluster runs Kubernetes {major}.{minor}, but ephemeral containers need 1.23 or later; upgrade the cluster or use another one."
            ),
        ))
    } else if (major, minor) < (1, 25) {
        Some(Finding::new(
            Severity::Info,
            format!(
                "The cluster runs Kubernetes {major}.{minor}, where ephemeral containers are beta; if adding the agent fails, check that the EphemeralContainers feature gate is on."
            ),
        ))
    } else {
        None
    }
}

/// The namespace's Pod Security admission finding: baseline and restricted reject NET_RAW.
pub fn check_namespace(namespace: &Namespace) -> Option<Finding> {
    let name = namespace.metadata.name.as_deref().unwrap_or("?");
    let level = namespace
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(PSA_ENFORCE))?;
    match level.as_str() {
        "baseline" | "restricted" => Some(Finding::new(
            Severity::Blocking,
            format!(
                "Namespace {name} enforces the {level} Pod Security level ({PSA_ENFORCE}={level}), which rejects the agent's NET_RAW capability; use a pod in another namespace or ask an admin to label this one privileged."
            ),
        )),
        _ => None,
    }
}

/// The pod's findings: its state, the target container, its security context, host networking.
pub fn check_pod(pod: &Pod, target: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if let Some(phase @ ("Succeeded" | "Failed")) = phase {
        findings.push(Finding::new(
            Severity::Blocking,
            format!("Pod {name} has finished ({phase}) and cannot get new containers; pick a running pod."),
        ));
    }
    let spec = pod.spec.as_ref();
    let containers: Vec<&str> = spec
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    if !containers.contains(&target) {
        findings.push(Finding::new(
            Severity::Blocking,
            format!(
                "Pod {name} has no container {target:?} (it has {}); pick one of those with --container.",
                containers.join(", ")
            ),
        ));
    }
    let security = spec.and_then(|s| s.security_context.as_ref());
    if security.and_then(|s| s.run_as_non_root) == Some(true) {
        findings.push(Finding::new(
            Severity::Warning,
            format!(
                "Pod {name} sets runAsNonRoot: true; the agent overrides it with runAsUser: 0 in its own securityContext (it needs root for NET_RAW), which an admission policy may reject."
            ),
        ));
    } else if let Some(uid) = security.and_then(|s| s.run_as_user).filter(|u| *u != 0) {
        findings.push(Finding::new(
            Severity::Warning,
            format!(
                "Pod {name} runs as user {uid}; the agent overrides it with runAsUser: 0 in its own securityContext (it needs root for NET_RAW), which an admission policy may reject."
            ),
        ));
    }
    if spec.and_then(|s| s.host_network) == Some(true) {
        findings.push(Finding::new(
            Severity::Warning,
            format!(
                "Pod {name} uses hostNetwork: true, so you would capture the traffic of the whole node, not just this pod; be sure that is what you want."
            ),
        ));
    }
    findings
}

/// The finding for permissions the user lacks, with a Role granting them.
pub(crate) fn check_access(namespace: &str, missing: &[Permission]) -> Option<Finding> {
    if missing.is_empty() {
        return None;
    }
    let rules: Vec<String> = missing.iter().map(|p| p.rule()).collect();
    Some(Finding {
        severity: Severity::Blocking,
        message: format!(
            "You may not {} in namespace {namespace}; ask an admin to apply the Role below and bind it to you.",
            rules.join(", ")
        ),
        role_yaml: Some(role_yaml(namespace, missing)),
    })
}

impl Cluster {
    /// Runs every check for adding an agent to `pod` (in `namespace`) targeting `target`.
    ///
    /// Fails only when the API cannot be asked at all; refusals become findings.
    pub async fn preflight(
        &self,
        namespace: &str,
        pod: &str,
        target: &str,
    ) -> Result<Vec<Finding>, ClusterError> {
        let mut findings = Vec::new();
        let version = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| ClusterError::api("reading the server version", e))?;
        findings.extend(check_version(&version));

        let mut missing = Vec::new();
        for permission in Permission::ALL {
            if !self.allowed(namespace, pod, permission).await? {
                missing.push(permission);
            }
        }
        findings.extend(check_access(namespace, &missing));

        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        match namespaces.get(namespace).await {
            Ok(ns) => findings.extend(check_namespace(&ns)),
            Err(e) if api_code(&e) == Some(403) => findings.push(Finding::new(
                Severity::Info,
                format!(
                    "podtap may not read namespace {namespace}, so it cannot check its Pod Security level; if adding the agent is rejected, that is the likely reason."
                ),
            )),
            Err(e) => return Err(ClusterError::api(format!("reading namespace {namespace}"), e)),
        }

        if !missing.contains(&Permission::GetPods) {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
            match pods.get(pod).await {
                Ok(p) => findings.extend(check_pod(&p, target)),
                Err(e) if api_code(&e) == Some(404) => findings.push(Finding::new(
                    Severity::Blocking,
                    format!("Pod {pod} does not exist in namespace {namespace}; pick another pod."),
                )),
                Err(e) => {
                    return Err(ClusterError::api(
                        format!("reading pod {namespace}/{pod}"),
                        e,
                    ));
                }
            }
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Ok(findings)
    }

    /// Asks the API server whether the user may do `permission` on `pod`.
    async fn allowed(
        &self,
        namespace: &str,
        pod: &str,
        permission: Permission,
    ) -> Result<bool, ClusterError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.to_owned()),
                    verb: Some(permission.verb().to_owned()),
                    group: Some(String::new()),
                    version: Some("v1".to_owned()),
                    resource: Some("pods".to_owned()),
                    subresource: permission.subresource().map(str::to_owned),
                    name: Some(pod.to_owned()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| {
                ClusterError::api(format!("asking whether you may {}", permission.rule()), e)
            })?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(major: &str, minor: &str) -> Info {
        Info {
            major: major.into(),
            minor: minor.into(),
            git_version: format!("v{major}.{minor}.0"),
            ..Info::default()
        }
    }

    fn namespace(label: Option<&str>) -> Namespace {
        let mut json = serde_json::json!({"metadata": {"name": "shop", "labels": {}}});
        if let Some(level) = label {
            json["metadata"]["labels"][PSA_ENFORCE] = level.into();
        }
        serde_json::from_value(json).unwrap()
    }

    #[allow(
        clippy::needless_pass_by_value,
        reason = "call sites read better with json! inline"
    )]
    fn pod(spec_extra: serde_json::Value, phase: &str) -> Pod {
        let mut spec = serde_json::json!({"containers": [{"name": "app"}]});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api"}, "spec": spec, "status": {"phase": phase}
        }))
        .unwrap()
    }

    #[test]
    fn old_server_is_blocking() {
        let f = check_version(&version("1", "22")).unwrap();
        assert_eq!(f.severity, Severity::Blocking);
        assert!(f.message.contains("1.22"), "{}", f.message);
        assert!(f.message.contains("1.23 or later"), "{}", f.message);
    }

    #[test]
    fn beta_server_is_info_and_gke_minor_parses() {
        assert_eq!(
            check_version(&version("1", "24+")).unwrap().severity,
            Severity::Info
        );
        assert_eq!(check_version(&version("1", "30+")), None);
        assert_eq!(
            check_version(&version("", "")).unwrap().severity,
            Severity::Warning
        );
    }

    #[test]
    fn psa_baseline_and_restricted_block() {
        for level in ["baseline", "restricted"] {
            let f = check_namespace(&namespace(Some(level))).unwrap();
            assert_eq!(f.severity, Severity::Blocking);
            assert!(f.message.contains(level), "{}", f.message);
            assert!(f.message.contains("NET_RAW"), "{}", f.message);
            assert!(f.message.contains("another namespace"), "{}", f.message);
            assert!(f.message.contains("privileged"), "{}", f.message);
        }
        assert_eq!(check_namespace(&namespace(Some("privileged"))), None);
        assert_eq!(check_namespace(&namespace(None)), None);
    }

    #[test]
    fn host_network_warns() {
        let f = check_pod(
            &pod(serde_json::json!({"hostNetwork": true}), "Running"),
            "app",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("whole node"), "{}", f[0].message);
    }

    #[test]
    fn run_as_non_root_and_non_zero_user_warn() {
        let f = check_pod(
            &pod(
                serde_json::json!({"securityContext": {"runAsNonRoot": true}}),
                "Running",
            ),
            "app",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message.contains("runAsNonRoot: true"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("runAsUser: 0"), "{}", f[0].message);
        let f = check_pod(
            &pod(
                serde_json::json!({"securityContext": {"runAsUser": 1000}}),
                "Running",
            ),
            "app",
        );
        assert!(f[0].message.contains("user 1000"), "{}", f[0].message);
        let f = check_pod(
            &pod(
                serde_json::json!({"securityContext": {"runAsUser": 0}}),
                "Running",
            ),
            "app",
        );
        assert!(f.is_empty());
    }

    #[test]
    fn finished_pod_and_missing_target_block() {
        let f = check_pod(&pod(serde_json::json!({}), "Succeeded"), "app");
        assert_eq!(f.len(), 1);
        assert!(f[0].is_blocking());
        assert!(f[0].message.contains("Succeeded"), "{}", f[0].message);
        let f = check_pod(&pod(serde_json::json!({}), "Running"), "web");
        assert!(f[0].is_blocking());
        assert!(f[0].message.contains("\"web\""), "{}", f[0].message);
        assert!(f[0].message.contains("app"), "{}", f[0].message);
    }

    #[test]
    fn missing_permissions_name_the_rules_and_carry_a_role() {
        assert_eq!(check_access("shop", &[]), None);
        let f = check_access("shop", &[Permission::PatchEphemeralContainers]).unwrap();
        assert!(f.is_blocking());
        assert!(
            f.message.contains("patch pods/ephemeralcontainers"),
            "{}",
            f.message
        );
        let yaml = f.role_yaml.unwrap();
        assert!(yaml.contains("pods/ephemeralcontainers"));
        assert!(!yaml.contains("pods/exec"));
    }
}
