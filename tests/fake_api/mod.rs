//! A fake Kubernetes API server for podtap's cluster tests: axum on
//! 127.0.0.1, reached by the real `kube::Client` (or kubectl) through a
//! generated kubeconfig with a bearer token. It serves what podtap calls:
//! version and discovery, namespaces, pods (list, get, watch, delete),
//! `pods/ephemeralcontainers` (with a simulated kubelet),
//! SelfSubjectAccessReview, and exec/attach over WebSocket running a
//! process the test chooses. Failures come from knobs on `FakeState`.
//!
//! Use it from a test crate with `mod fake_api;` (feature `cluster`):
//!
//! ```ignore
//! let state = FakeState::new();
//! state.add_namespace("shop", &[]);
//! state.add_pod(running_pod("shop", "web", &[("app", "nginx:1.27")]));
//! let fake = FakeApi::start(state.clone());
//! let client = fake.client().await;
//! ```

#![allow(dead_code)]

mod discovery;
mod exec;
mod kubeconfig;
mod merge;
mod patch;
mod pods;
mod server;
mod state;
mod tls;
mod watch;

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use pods::running_pod;
// Re-exported for the tests that use them; not every test crate does.
#[allow(unused_imports)]
pub use state::{Event, ExecPlug, FakeState, LoggedRequest, OrphanedExec, Resource};

/// A running fake API server; stops when dropped.
pub struct FakeApi {
    state: FakeState,
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    token: String,
    dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Starts the server on 127.0.0.1 (a free port) in its own runtime
    /// thread, so sync and async tests can both use it, and writes the
    /// kubeconfig.
    pub fn start(state: FakeState) -> FakeApi {
        Self::launch(state, false).expect("start the fake API server")
    }

    /// Like `start`, and also serves HTTPS (self-signed, made with the
    /// openssl command) for clients that send tokens only over TLS, such as
    /// kubectl; see `tls_kubeconfig_path`. Err says why TLS is unavailable.
    pub fn start_with_tls(state: FakeState) -> Result<FakeApi, String> {
        Self::launch(state, true)
    }

    fn launch(state: FakeState, with_tls: bool) -> Result<FakeApi, String> {
        let bind = || -> Result<(std::net::TcpListener, SocketAddr), String> {
            let listener =
                std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            Ok((listener, addr))
        };
        let (listener, addr) = bind()?;
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let token = format!("fake-{random:016x}");
        let dir = std::env::temp_dir().join(format!(
            "podtap-fake-api-{}-{}",
            std::process::id(),
            addr.port()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("kubeconfig dir: {e}"))?;
        let config = kubeconfig::kubeconfig(&format!("http://{addr}"), &token, None);
        std::fs::write(dir.join("kubeconfig"), config.to_string())
            .map_err(|e| format!("write kubeconfig: {e}"))?;
        let secure = if with_tls {
            let pem = tls::make_certificate(&dir)?;
            let acceptor = tls::acceptor(&dir)?;
            let (tls_listener, tls_addr) = bind()?;
            let config = kubeconfig::kubeconfig(
                &format!("https://{tls_addr}"),
                &token,
                Some(&tls::base64(pem.as_bytes())),
            );
            std::fs::write(dir.join("kubeconfig-tls"), config.to_string())
                .map_err(|e| format!("write kubeconfig: {e}"))?;
            Some((tls_listener, tls_addr, acceptor))
        } else {
            None
        };
        let tls_addr = secure.as_ref().map(|(_, a, _)| *a);
        let app = server::router(state.clone(), &token);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-api-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fake API runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let https = async {
                        match secure {
                            Some((tcp, _, acceptor)) => {
                                let tcp =
                                    tokio::net::TcpListener::from_std(tcp).expect("tokio listener");
                                let _ =
                                    axum::serve(tls::TlsListener { tcp, acceptor }, app.clone())
                                        .await;
                            }
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = async { axum::serve(listener, app.clone()).await } => {}
                        () = https => {}
                        _ = rx => {}
                    }
                });
                // Open watches, exec sessions and their processes end here.
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|e| format!("spawn fake API thread: {e}"))?;
        Ok(FakeApi {
            state,
            addr,
            tls_addr,
            token,
            dir,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:PORT` when started with TLS.
    pub fn https_url(&self) -> Option<String> {
        self.tls_addr.map(|a| format!("https://{a}"))
    }

    /// The kubeconfig for the HTTPS port (with the CA), when started with TLS.
    pub fn tls_kubeconfig_path(&self) -> Option<PathBuf> {
        self.tls_addr.map(|_| self.dir.join("kubeconfig-tls"))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The kubeconfig file (contexts `fake`, current, namespace `shop`, and `other`, namespace `default`).
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// A scratch directory removed with the server (for kubectl's cache and the like).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The shared state.
    pub fn state(&self) -> &FakeState {
        &self.state
    }

    /// The parsed kubeconfig.
    pub fn kubeconfig(&self) -> kube::config::Kubeconfig {
        kube::config::Kubeconfig::read_from(self.kubeconfig_path()).expect("read kubeconfig")
    }

    /// A `kube::Client` for the `fake` context, built as production builds one.
    pub async fn client(&self) -> kube::Client {
        let options = kube::config::KubeConfigOptions {
            context: Some("fake".to_owned()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(self.kubeconfig(), &options)
            .await
            .expect("config from kubeconfig");
        kube::Client::try_from(config).expect("client")
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
