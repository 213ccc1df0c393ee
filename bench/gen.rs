//! Writes synthetic pod traffic as pcapng.

fn main() {}
