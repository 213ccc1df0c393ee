//! Command line: flags and the [`run`] entry point.
//!
//! Flags follow kubectl and tcpdump habits where they overlap (`-r/--read`,
//! `-` for stdin, `-n`, `--context`, `-c`). Without a source flag podtap
//! starts in cluster mode at the pickers; `-n NS POD` goes straight to a
//! pod; `--no-tui` prints JSON lines or a table instead of the TUI.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use crate::decode::PipelineConfig;
use crate::headless::{self, Format, HeadlessError};

/// Output format of the headless mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line (exchange, flow, ping, summary).
    Json,
    /// Aligned columns for people.
    Table,
}

/// podtap: see the HTTP, TCP flows and ping latency of a Kubernetes pod.
#[derive(Debug, Parser)]
#[command(name = "podtap", version, about, long_about = None)]
pub struct Args {
    /// Read a pcap or pcapng capture instead of a pod ('-' reads stdin).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,

    /// Print results to stdout instead of opening the terminal UI.
    #[arg(long = "no-tui")]
    pub no_tui: bool,

    /// Output format with --no-tui.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,

    /// Most TCP/UDP flows tracked at once (the least active are evicted past it).
    #[arg(long, value_name = "N", default_value_t = PipelineConfig::default().max_flows)]
    pub max_flows: usize,

    /// Bytes of each HTTP body kept as a preview.
    #[arg(long, value_name = "BYTES", default_value_t = PipelineConfig::default().http.body_preview)]
    pub body_preview: usize,

    /// Replay --read at the capture's own pace instead of instantly.
    #[arg(long, requires = "read")]
    pub pace: bool,

    /// Show a built-in demo: a shop API pod's synthetic traffic (needs no cluster).
    #[arg(long, conflicts_with_all = ["read", "local"])]
    pub demo: bool,

    /// Capture this host with a local podtap-agent (as root), for bastion hosts and tests.
    #[arg(long, conflicts_with = "read")]
    pub local: bool,

    /// With --local: capture inside this network namespace (`ip netns exec NS`).
    #[arg(long, value_name = "NS", requires = "local")]
    pub netns: Option<String>,

    /// With --local: the podtap-agent binary (default: next to podtap, then PATH).
    #[arg(long, value_name = "PATH", requires = "local")]
    pub agent: Option<PathBuf>,

    /// Configuration file (default: the user's config dir, podtap/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seed of the demo's traffic.
    #[arg(long, default_value_t = 1, requires = "demo")]
    pub seed: u64,

    /// The pod to watch (cluster mode; with --no-tui its traffic is printed).
    #[arg(value_name = "POD", conflicts_with_all = ["read", "demo", "local"])]
    pub pod: Option<String>,

    /// Namespace of the pod (default: the context's namespace).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The pod's container whose network the agent shares (default: the pod's default container).
    #[arg(short = 'c', long, value_name = "NAME", requires = "pod")]
    pub container: Option<String>,

    /// The agent image, by tag or digest (default: the config file's agent_image).
    #[arg(long, value_name = "IMAGE")]
    pub agent_image: Option<String>,

    /// Print the preflight report and the exact PATCH body; change nothing.
    #[arg(long, requires = "pod")]
    pub dry_run: bool,

    /// Seconds the agent may take to start.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub startup_timeout: u64,
}

/// Exit code: the input was read to its end.
const EXIT_OK: u8 = 0;
/// Exit code: the input was damaged part-way; what came before was printed.
const EXIT_DAMAGED: u8 = 1;
/// Exit code: usage error, unreadable input, or not a capture.
const EXIT_USAGE: u8 = 2;

/// Runs podtap with the process arguments.
pub fn run() -> ExitCode {
    let args = Args::parse();
    match run_args(&args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("podtap: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_args(args: &Args) -> Result<u8, String> {
    if args.pod.is_some() {
        return run_pod(args);
    }
    if !args.no_tui {
        return run_tui(args);
    }
    let Some(path) = &args.read else {
        return Err(
            "--no-tui needs a source: --read FILE (or '-' for stdin), or -n NAMESPACE POD"
                .to_owned(),
        );
    };
    let name = path.display().to_string();
    let input: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?)
    };
    let format = match args.format {
        OutputFormat::Json => Format::Json,
        OutputFormat::Table => Format::Table,
    };
    let mut config = PipelineConfig {
        max_flows: args.max_flows.max(1),
        ..PipelineConfig::default()
    };
    config.http.body_preview = args.body_preview;
    match headless::run(input, io::stdout().lock(), format, config) {
        Ok(summary) => match summary.error {
            None => Ok(EXIT_OK),
            Some(e) => {
                eprintln!("podtap: {name}: {e} (everything before it was printed)");
                Ok(EXIT_DAMAGED)
            }
        },
        Err(HeadlessError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(HeadlessError::Input(e)) => Err(format!("{name}: {e}")),
        Err(e @ HeadlessError::Output(_)) => Err(e.to_string()),
    }
}

/// The TUI on the source the flags name.
#[cfg(feature = "tui")]
fn run_tui(args: &Args) -> Result<u8, String> {
    use crate::source::SourceSpec;

    let config = load_config(args)?;
    let (spec, name) = if args.demo {
        (SourceSpec::Demo { seed: args.seed }, "demo".to_owned())
    } else if let Some(path) = &args.read {
        let name = if path.as_os_str() == "-" {
            "stdin".to_owned()
        } else {
            path.display().to_string()
        };
        (
            SourceSpec::Read {
                path: path.clone(),
                pace: args.pace,
            },
            name,
        )
    } else if args.local {
        let agent = args.agent.clone().unwrap_or_else(default_agent);
        let name = args
            .netns
            .as_ref()
            .map_or_else(|| "local".to_owned(), |ns| format!("local netns {ns}"));
        (
            SourceSpec::Local {
                agent,
                netns: args.netns.clone(),
            },
            name,
        )
    } else {
        return run_cluster_tui(args, &config);
    };
    need_terminal()?;
    crate::tui::run(&spec, &name, &config)?;
    Ok(EXIT_OK)
}

#[cfg(feature = "tui")]
fn need_terminal() -> Result<(), String> {
    if std::io::IsTerminal::is_terminal(&io::stdout()) {
        Ok(())
    } else {
        Err("the terminal UI needs a terminal: add --no-tui to print results instead".to_owned())
    }
}

#[cfg(feature = "tui")]
fn load_config(args: &Args) -> Result<crate::config::Config, String> {
    use crate::config::Config;
    match &args.config {
        Some(path) => Config::load(path),
        None => Config::default_path().map_or_else(|| Ok(Config::default()), |p| Config::load(&p)),
    }
}

/// The agent image: the flag, the config file, else `podtap-agent:VERSION`.
#[cfg(all(feature = "tui", feature = "cluster"))]
fn agent_image(args: &Args, config: &crate::config::Config) -> String {
    args.agent_image
        .clone()
        .or(config.agent_image.clone())
        .unwrap_or_else(|| format!("podtap-agent:{}", env!("CARGO_PKG_VERSION")))
}

/// Cluster mode in the TUI: the pickers (or straight to `POD`), the launch
/// screen, then the panes. Kubeconfig problems are one line before the
/// screen changes.
#[cfg(all(feature = "tui", feature = "cluster"))]
fn run_cluster_tui(args: &Args, config: &crate::config::Config) -> Result<u8, String> {
    use crate::cluster::{self, ConnectOptions, LaunchOptions, PullPolicy, StreamOptions};
    use crate::front::Start;
    use crate::front::worker::WorkerOptions;

    let connect = ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: None,
    };
    let contexts = cluster::contexts(&connect).map_err(|e| e.to_string())?;
    if contexts.is_empty() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
        return Err("no kubeconfig found (KUBECONFIG is unset and ~/.kube/config does not exist) \
             and podtap is not running inside a cluster: pass --kubeconfig FILE, or try podtap --demo"
            .to_owned());
    }
    if let Some(ctx) = &args.context
        && !contexts.iter().any(|c| &c.name == ctx)
    {
        return Err(format!(
            "context {ctx:?} is not in the kubeconfig; run `kubectl config get-contexts` to see the contexts"
        ));
    }
    need_terminal()?;
    let run = crate::tui::ClusterRun {
        start: Start {
            contexts,
            context: args.context.clone(),
            namespace: args.namespace.clone().or(config.namespace.clone()),
            pod: args.pod.clone().map(|p| (p, args.container.clone())),
        },
        worker: WorkerOptions {
            kubeconfig: args.kubeconfig.clone(),
            launch: LaunchOptions {
                image: agent_image(args, config),
                pull_policy: PullPolicy::IfNotPresent,
                startup_timeout: std::time::Duration::from_secs(args.startup_timeout.max(1)),
                idle_timeout: std::time::Duration::from_secs(600),
            },
            stream: StreamOptions::default(),
        },
    };
    crate::tui::run_cluster(run, config)?;
    Ok(EXIT_OK)
}

#[cfg(all(feature = "tui", not(feature = "cluster")))]
fn run_cluster_tui(_args: &Args, _config: &crate::config::Config) -> Result<u8, String> {
    Err("this build has no cluster mode: try --demo, --read FILE or --local".to_owned())
}

#[cfg(not(feature = "tui"))]
fn run_tui(_args: &Args) -> Result<u8, String> {
    Err("this build has no terminal UI: add --no-tui".to_owned())
}

/// Cluster mode on one pod: the TUI, or with `--no-tui` / `--dry-run` lines on stdout.
#[cfg(all(feature = "tui", feature = "cluster"))]
fn run_pod(args: &Args) -> Result<u8, String> {
    use crate::cluster::ConnectOptions;
    use crate::headless::pod::{self, PodRequest};

    let config = load_config(args)?;
    if !args.no_tui && !args.dry_run {
        return run_cluster_tui(args, &config);
    }
    let image = agent_image(args, &config);
    let request = PodRequest {
        connect: ConnectOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone().or(config.namespace.clone()),
        },
        pod: args.pod.clone().unwrap_or_default(),
        container: args.container.clone(),
        image,
        dry_run: args.dry_run,
        startup_timeout: std::time::Duration::from_secs(args.startup_timeout.max(1)),
    };
    let format = match args.format {
        OutputFormat::Json => Format::Json,
        OutputFormat::Table => Format::Table,
    };
    let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register(sig, std::sync::Arc::clone(&interrupt));
    }
    pod::run(&request, format, &interrupt)
}

#[cfg(not(all(feature = "tui", feature = "cluster")))]
fn run_pod(_args: &Args) -> Result<u8, String> {
    Err("this build has no cluster mode (features tui and cluster)".to_owned())
}

/// `podtap-agent` next to this executable, else from PATH.
#[cfg(feature = "tui")]
fn default_agent() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("podtap-agent")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("podtap-agent"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn args_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn read_and_format_parse() {
        let a = Args::try_parse_from(["podtap", "--read", "-", "--no-tui", "--format", "table"])
            .unwrap();
        assert_eq!(a.read.as_deref(), Some(std::path::Path::new("-")));
        assert_eq!(a.format, OutputFormat::Table);
        assert!(Args::try_parse_from(["podtap", "--format", "xml"]).is_err());
    }
}
