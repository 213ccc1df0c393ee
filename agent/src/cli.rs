//! Command line of the agent: `capture`, `serve`, `--version`.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::capture::afpacket::{AfPacket, SourceConfig};
use crate::capture::interfaces;
use crate::session::{self, ExitReason, Hello, SessionConfig};
use crate::{caps, serve};

/// podtap's in-pod agent: streams the pod's traffic as pcapng on stdout.
#[derive(Debug, Parser)]
#[command(name = "podtap-agent", version, about, long_about = None)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture every interface of this network namespace to stdout (pcapng); control lines on stdin.
    Capture {
        /// Bytes kept of each packet.
        #[arg(long, default_value_t = 262_144, value_parser = clap::value_parser!(u32).range(64..=262_144))]
        snaplen: u32,
        /// Seconds without a heartbeat line before exiting.
        #[arg(long, default_value_t = 15)]
        heartbeat_timeout: u64,
        /// Seconds a write to stdout may stay blocked before exiting.
        #[arg(long, default_value_t = 10)]
        stdout_timeout: u64,
        /// MiB of packets queued for stdout before packets are dropped (and counted).
        #[arg(long, default_value_t = 8)]
        queue_mib: usize,
        /// MiB of the kernel ring (0: no ring, one recvfrom per packet).
        #[arg(long, default_value_t = 4)]
        ring_mib: usize,
    },
    /// The container's main process: print one readiness line, exit when idle.
    Serve {
        /// Seconds with no capture session before exiting.
        #[arg(long, default_value_t = 600)]
        idle_timeout: u64,
    },
}

/// Exit code when the process lacks a capability or the socket cannot be opened.
const EXIT_NO_CAPTURE: u8 = 3;

/// Runs the agent with the process arguments.
pub fn run() -> ExitCode {
    let args = Args::parse();
    let signal = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&signal)) {
            eprintln!("podtap-agent: cannot handle signal {sig}: {e}");
        }
    }
    match args.command {
        Command::Serve { idle_timeout } => {
            let idle = Duration::from_secs(idle_timeout);
            match serve::run(
                idle,
                Duration::from_secs(2).min(idle),
                &signal,
                &mut io::stdout(),
            ) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("podtap-agent: serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Capture {
            snaplen,
            heartbeat_timeout,
            stdout_timeout,
            queue_mib,
            ring_mib,
        } => {
            let config = SessionConfig {
                snaplen,
                heartbeat_timeout: Duration::from_secs(heartbeat_timeout.max(1)),
                stdout_timeout: Duration::from_secs(stdout_timeout.max(1)),
                queue_bytes: queue_mib.max(1) << 20,
                ..SessionConfig::default()
            };
            capture(&config, ring_mib << 20, &signal)
        }
    }
}

const NET_RAW_HELP: &str = "capture needs the NET_RAW capability: add it to the container \
    (securityContext.capabilities.add: [NET_RAW]); podtap adds it to the agent it launches";

fn capture(config: &SessionConfig, ring_bytes: usize, signal: &Arc<AtomicBool>) -> ExitCode {
    let mask = caps::effective();
    if mask.is_some_and(|m| m & (1 << caps::CAP_NET_RAW) == 0) {
        eprintln!("podtap-agent: {NET_RAW_HELP}");
        return ExitCode::from(EXIT_NO_CAPTURE);
    }
    let ifaces = match interfaces::list() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("podtap-agent: cannot list network interfaces: {e}");
            return ExitCode::from(EXIT_NO_CAPTURE);
        }
    };
    let source = match AfPacket::open(SourceConfig {
        snaplen: config.snaplen,
        ring_bytes,
    }) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            eprintln!("podtap-agent: {NET_RAW_HELP} ({e})");
            return ExitCode::from(EXIT_NO_CAPTURE);
        }
        Err(e) => {
            eprintln!("podtap-agent: cannot open the capture socket: {e}");
            return ExitCode::from(EXIT_NO_CAPTURE);
        }
    };
    // Held for the session's lifetime so that `serve` knows a capture runs.
    let _announced = serve::announce_session();
    let hello = Hello {
        hostname: hostname(),
        capabilities: mask.map(caps::names).unwrap_or_default(),
    };
    let out = io::BufWriter::with_capacity(256 * 1024, io::stdout());
    let reason = session::run(source, &ifaces, io::stdin(), out, config, &hello, signal);
    eprintln!("podtap-agent: capture ended: {}", reason.as_str());
    match reason {
        ExitReason::CaptureFailed => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn args_are_consistent() {
        Args::command().debug_assert();
        assert!(Args::try_parse_from(["podtap-agent", "capture", "--snaplen", "10"]).is_err());
        let a = Args::try_parse_from(["podtap-agent", "serve", "--idle-timeout", "5"]).unwrap();
        assert!(matches!(a.command, Command::Serve { idle_timeout: 5 }));
    }
}
