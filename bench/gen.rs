//! `podtap-gen`: writes synthetic pod traffic as pcapng.
//!
//! ```text
//! podtap-gen [--packets N] [--connections N] [--seed N] [-o FILE]
//! ```
//!
//! The capture goes to FILE (stdout without `-o` or with `-o -`); the ground
//! truth goes to stderr as one line of `key=value` pairs.

use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;

use podtap::synth::{SynthConfig, write_pcapng};

const USAGE: &str = "usage: podtap-gen [--packets N] [--connections N] [--seed N] [-o FILE]\n  defaults: 1200000 packets, 300 connections, seed 1, stdout";

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("podtap-gen: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut config = SynthConfig {
        packets: Some(1_200_000),
        ..SynthConfig::default()
    };
    let mut output: Option<String> = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--packets" => config.packets = Some(number(&value("--packets")?)?),
            "--connections" => {
                let n = number(&value("--connections")?)?;
                config.connections =
                    u32::try_from(n).map_err(|_| format!("too many connections: {n}"))?;
            }
            "--seed" => config.seed = number(&value("--seed")?)?,
            "-o" | "--output" => output = Some(value("-o")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let summary = match output.as_deref() {
        None | Some("-") => write_pcapng(&config, io::stdout().lock()),
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
            write_pcapng(&config, file)
        }
    }
    .map_err(|e| format!("writing the capture failed: {e}"))?;
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "{summary}").map_err(|e| e.to_string())
}

fn number(text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("not a number: {text:?}"))
}
