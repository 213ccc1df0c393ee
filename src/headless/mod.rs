//! Headless front end: the decode pipeline printed as JSON lines or a table.
