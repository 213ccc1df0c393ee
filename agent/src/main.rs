//! The `podtap-agent` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    podtap_agent::run()
}
