//! Configuration file.
