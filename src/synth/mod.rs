//! Synthetic pod traffic, written as pcapng.
