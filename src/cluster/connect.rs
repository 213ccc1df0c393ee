//! Kubeconfig like kubectl: `--kubeconfig FILE`, else `KUBECONFIG` (a list
//! of files, merged, the first to set a value wins; missing files are
//! skipped), else `~/.kube/config`, else the in-cluster service account.
//! `--context` picks the context; the namespace is `-n`, else the
//! context's, else `default`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use kube::config::{InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use super::Cluster;

/// What the user gave on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `--kubeconfig FILE` (wins over `KUBECONFIG`).
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME`.
    pub context: Option<String>,
    /// `-n NAMESPACE`.
    pub namespace: Option<String>,
}

/// One context of the merged kubeconfig, for the context picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextInfo {
    /// Context name.
    pub name: String,
    /// Its cluster.
    pub cluster: String,
    /// Its user, if set.
    pub user: Option<String>,
    /// Its namespace, if set.
    pub namespace: Option<String>,
    /// Whether it is the `current-context`.
    pub current: bool,
}

/// A connected cluster and how it was reached.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The seam every API call goes through.
    pub cluster: Cluster,
    /// The context used (`None` in-cluster).
    pub context: Option<String>,
    /// The API server URL.
    pub server: String,
}

/// Why podtap could not reach a cluster; each says which file or context and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A kubeconfig file could not be read or parsed.
    #[error(
        "cannot read the kubeconfig {path}: {source}; check the file or pass another with --kubeconfig"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The loader's error.
        #[source]
        source: KubeconfigError,
    },
    /// No kubeconfig and not inside a pod.
    #[error(
        "no kubeconfig found (KUBECONFIG is unset and ~/.kube/config does not exist) and podtap is not running inside a cluster; pass --kubeconfig FILE"
    )]
    NoConfig {
        /// Why the in-cluster configuration failed.
        #[source]
        source: InClusterError,
    },
    /// `--context` names a context that the files do not have.
    #[error(
        "context {context:?} is not in {files}; run `kubectl config get-contexts` to see the contexts"
    )]
    UnknownContext {
        /// The context asked for.
        context: String,
        /// The files read.
        files: String,
    },
    /// No `--context` and no `current-context`.
    #[error("{files} sets no current-context; pass --context NAME")]
    NoCurrentContext {
        /// The files read.
        files: String,
    },
    /// The context's cluster or user is unusable.
    #[error(
        "cannot use context {context:?} from {files}: {source}; fix the context or pick another with --context"
    )]
    Context {
        /// The context.
        context: String,
        /// The files read.
        files: String,
        /// The loader's error.
        #[source]
        source: KubeconfigError,
    },
    /// The client could not be built (TLS material, auth plugin).
    #[error("cannot create a Kubernetes client for {server}: {source}")]
    Client {
        /// The API server URL.
        server: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
}

/// The kubeconfig files to read, in kubectl's order: the flag, else the
/// non-empty entries of `KUBECONFIG` (`env`), else `HOME/.kube/config` when it
/// exists. Empty means in-cluster.
pub fn kubeconfig_paths(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(path) = flag {
        return vec![path.to_path_buf()];
    }
    if let Some(value) = env {
        let paths: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths;
        }
    }
    home.map(|h| h.join(".kube").join("config"))
        .filter(|p| p.exists())
        .into_iter()
        .collect()
}

/// Reads and merges `paths` (the first file to set a value wins). With more
/// than one file, missing ones are skipped as kubectl does; a single file
/// must exist.
pub fn read_kubeconfig(paths: &[PathBuf]) -> Result<Kubeconfig, ConnectError> {
    let mut merged = Kubeconfig::default();
    for path in paths {
        if paths.len() > 1 && !path.exists() {
            continue;
        }
        let config = Kubeconfig::read_from(path).map_err(|source| ConnectError::Read {
            path: path.clone(),
            source,
        })?;
        merged = merged.merge(config).map_err(|source| ConnectError::Read {
            path: path.clone(),
            source,
        })?;
    }
    Ok(merged)
}

/// The contexts of a merged kubeconfig, in file order.
pub fn contexts_of(config: &Kubeconfig) -> Vec<ContextInfo> {
    config
        .contexts
        .iter()
        .map(|named| {
            let context = named.context.as_ref();
            ContextInfo {
                name: named.name.clone(),
                cluster: context.map(|c| c.cluster.clone()).unwrap_or_default(),
                user: context.and_then(|c| c.user.clone()),
                namespace: context.and_then(|c| c.namespace.clone()),
                current: config.current_context.as_deref() == Some(named.name.as_str()),
            }
        })
        .collect()
}

/// The contexts the user's kubeconfig offers (empty in-cluster).
pub fn contexts(options: &ConnectOptions) -> Result<Vec<ContextInfo>, ConnectError> {
    let paths = user_paths(options);
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    Ok(contexts_of(&read_kubeconfig(&paths)?))
}

/// Builds a [`Cluster`] the way kubectl would reach it.
pub async fn connect(options: &ConnectOptions) -> Result<Connected, ConnectError> {
    let paths = user_paths(options);
    let (config, context) = if paths.is_empty() {
        let config = Config::incluster().map_err(|source| ConnectError::NoConfig { source })?;
        (config, None)
    } else {
        let kubeconfig = read_kubeconfig(&paths)?;
        let files = describe(&paths);
        let Some(context) = options
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
        else {
            return Err(ConnectError::NoCurrentContext { files });
        };
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            return Err(ConnectError::UnknownContext { context, files });
        }
        let kube_options = KubeConfigOptions {
            context: Some(context.clone()),
            cluster: None,
            user: None,
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
            .await
            .map_err(|source| ConnectError::Context {
                context: context.clone(),
                files,
                source,
            })?;
        (config, Some(context))
    };
    // The context's namespace (or `default`) is already in the config.
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|source| ConnectError::Client {
        server: server.clone(),
        source,
    })?;
    Ok(Connected {
        cluster: Cluster::new(client, namespace),
        context,
        server,
    })
}

fn user_paths(options: &ConnectOptions) -> Vec<PathBuf> {
    let env = std::env::var_os("KUBECONFIG");
    let home = std::env::var_os("HOME").map(PathBuf::from);
    kubeconfig_paths(
        options.kubeconfig.as_deref(),
        env.as_deref(),
        home.as_deref(),
    )
}

/// `a.yaml` or `a.yaml, b.yaml` for messages.
fn describe(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: http://127.0.0.1:1
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: shop
users:
- name: dev-user
  user:
    token: abc
";

    const SECOND: &str = "apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: http://127.0.0.1:2
contexts:
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
- name: dev
  context:
    cluster: prod-cluster
    user: prod-user
    namespace: ignored
users:
- name: prod-user
  user:
    token: def
";

    fn write_pair(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("podtap-kcfg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.yaml");
        let b = dir.join("b.yaml");
        std::fs::write(&a, FIRST).unwrap();
        std::fs::write(&b, SECOND).unwrap();
        (dir, a, b)
    }

    #[test]
    fn contexts_from_two_merged_files() {
        let (dir, a, b) = write_pair("merge");
        let list = std::env::join_paths([&a, &b]).unwrap();
        let paths = kubeconfig_paths(None, Some(&list), None);
        assert_eq!(paths, vec![a.clone(), b.clone()]);
        let merged = read_kubeconfig(&paths).unwrap();
        let contexts = contexts_of(&merged);
        assert_eq!(
            contexts,
            vec![
                ContextInfo {
                    name: "dev".into(),
                    cluster: "dev-cluster".into(),
                    user: Some("dev-user".into()),
                    namespace: Some("shop".into()),
                    current: true,
                },
                ContextInfo {
                    name: "prod".into(),
                    cluster: "prod-cluster".into(),
                    user: Some("prod-user".into()),
                    namespace: None,
                    current: false,
                },
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn flag_wins_and_missing_list_entries_are_skipped() {
        let (dir, a, b) = write_pair("flag");
        let list = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(
            kubeconfig_paths(Some(&b), Some(&list), None),
            vec![b.clone()]
        );
        let missing = dir.join("missing.yaml");
        let merged = read_kubeconfig(&[missing.clone(), b.clone()]).unwrap();
        assert_eq!(merged.current_context.as_deref(), Some("prod"));
        let err = read_kubeconfig(std::slice::from_ref(&missing)).unwrap_err();
        assert!(err.to_string().contains("missing.yaml"), "{err}");
        assert!(err.to_string().contains("--kubeconfig"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_env_entries_fall_back_to_home() {
        let paths = kubeconfig_paths(
            None,
            Some(OsStr::new("")),
            Some(Path::new("/nonexistent-home")),
        );
        assert!(paths.is_empty());
    }

    #[tokio::test]
    async fn unknown_context_names_the_files() {
        let (dir, a, _) = write_pair("unknown");
        let options = ConnectOptions {
            kubeconfig: Some(a.clone()),
            context: Some("nope".into()),
            namespace: None,
        };
        let err = connect(&options).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"nope\""), "{text}");
        assert!(text.contains("a.yaml"), "{text}");
        assert!(text.contains("kubectl config get-contexts"), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn namespace_from_flag_then_context() {
        let (dir, a, _) = write_pair("ns");
        let mut options = ConnectOptions {
            kubeconfig: Some(a.clone()),
            ..ConnectOptions::default()
        };
        let connected = connect(&options).await.unwrap();
        assert_eq!(connected.cluster.namespace(), "shop");
        assert_eq!(connected.context.as_deref(), Some("dev"));
        options.namespace = Some("other".into());
        let connected = connect(&options).await.unwrap();
        assert_eq!(connected.cluster.namespace(), "other");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
