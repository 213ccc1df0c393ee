//! The RBAC podtap needs, and a minimal Role granting what is missing.

use std::fmt::Write as _;

/// One permission podtap checks before it changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// `patch pods/ephemeralcontainers`: add the agent.
    PatchEphemeralContainers,
    /// `create pods/exec`: run `podtap-agent capture`.
    CreateExec,
    /// `get pods`: read the pod and watch the agent start.
    GetPods,
}

impl Permission {
    /// All of them, in the order they are checked.
    pub const ALL: [Permission; 3] = [
        Permission::PatchEphemeralContainers,
        Permission::CreateExec,
        Permission::GetPods,
    ];

    /// The verb.
    pub fn verb(self) -> &'static str {
        match self {
            Permission::PatchEphemeralContainers => "patch",
            Permission::CreateExec => "create",
            Permission::GetPods => "get",
        }
    }

    /// The subresource, if any.
    pub fn subresource(self) -> Option<&'static str> {
        match self {
            Permission::PatchEphemeralContainers => Some("ephemeralcontainers"),
            Permission::CreateExec => Some("exec"),
            Permission::GetPods => None,
        }
    }

    /// `pods`, `pods/exec`, ... as RBAC writes it.
    pub fn resource(self) -> String {
        match self.subresource() {
            Some(sub) => format!("pods/{sub}"),
            None => "pods".to_owned(),
        }
    }

    /// `patch pods/ephemeralcontainers`, as kubectl auth can-i says it.
    pub fn rule(self) -> String {
        format!("{} {}", self.verb(), self.resource())
    }
}

/// A Role (and the command binding it) that grants exactly `missing` in `namespace`.
///
/// `get pods` comes with `watch`, which the launch needs to follow the agent's start.
pub fn role_yaml(namespace: &str, missing: &[Permission]) -> String {
    let mut perms: Vec<Permission> = missing.to_vec();
    perms.sort();
    perms.dedup();
    let mut out = String::new();
    out.push_str("apiVersion: rbac.authorization.k8s.io/v1\n");
    out.push_str("kind: Role\n");
    out.push_str("metadata:\n");
    out.push_str("  name: podtap\n");
    let _ = writeln!(out, "  namespace: {}", yaml_scalar(namespace));
    out.push_str("rules:\n");
    for p in perms {
        let verbs = match p {
            Permission::GetPods => "[\"get\", \"watch\"]".to_owned(),
            other => format!("[\"{}\"]", other.verb()),
        };
        out.push_str("- apiGroups: [\"\"]\n");
        let _ = writeln!(out, "  resources: [\"{}\"]", p.resource());
        let _ = writeln!(out, "  verbs: {verbs}");
    }
    let _ = writeln!(
        out,
        "# then: kubectl create rolebinding podtap --role=podtap --user=YOU -n {}",
        yaml_scalar(namespace)
    );
    out
}

/// Namespaces are DNS labels, but quote anything else rather than emit broken YAML.
fn yaml_scalar(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_for_patch_only() {
        let yaml = role_yaml("shop", &[Permission::PatchEphemeralContainers]);
        assert_eq!(
            yaml,
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: podtap\n  namespace: shop\nrules:\n- apiGroups: [\"\"]\n  resources: [\"pods/ephemeralcontainers\"]\n  verbs: [\"patch\"]\n# then: kubectl create rolebinding podtap --role=podtap --user=YOU -n shop\n"
        );
    }

    #[test]
    fn role_for_exec_only() {
        let yaml = role_yaml("default", &[Permission::CreateExec]);
        assert!(yaml.contains("  resources: [\"pods/exec\"]\n  verbs: [\"create\"]\n"));
        assert!(!yaml.contains("ephemeralcontainers"));
        assert!(!yaml.contains("\"get\""));
    }

    #[test]
    fn role_for_get_pods_includes_watch() {
        let yaml = role_yaml("default", &[Permission::GetPods]);
        assert!(yaml.contains("  resources: [\"pods\"]\n  verbs: [\"get\", \"watch\"]\n"));
        assert_eq!(yaml.matches("- apiGroups").count(), 1);
    }

    #[test]
    fn role_for_all_missing_has_three_rules_once_each() {
        let mut all = Permission::ALL.to_vec();
        all.push(Permission::CreateExec);
        let yaml = role_yaml("team-a", &all);
        assert_eq!(yaml.matches("- apiGroups").count(), 3);
        assert!(yaml.contains("namespace: team-a\n"));
    }

    #[test]
    fn odd_namespace_is_quoted() {
        let yaml = role_yaml("a: b", &[Permission::GetPods]);
        assert!(yaml.contains("  namespace: \"a: b\"\n"));
    }

    #[test]
    fn rule_names() {
        assert_eq!(
            Permission::PatchEphemeralContainers.rule(),
            "patch pods/ephemeralcontainers"
        );
        assert_eq!(Permission::CreateExec.rule(), "create pods/exec");
        assert_eq!(Permission::GetPods.rule(), "get pods");
    }
}
