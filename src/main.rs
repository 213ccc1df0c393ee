//! The `podtap` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    podtap::run()
}
