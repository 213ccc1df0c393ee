//! How numbers, sizes, durations and clock times are written on screen:
//! short, fixed-width-friendly and the same in every pane.

use crate::wire::Nanos;

/// `HH:MM:SS.mmm` (UTC) of a capture timestamp.
pub fn clock(ts: Nanos) -> String {
    let ms = ts.0 / 1_000_000;
    let day_ms = ms % 86_400_000;
    let (h, m) = (day_ms / 3_600_000, (day_ms / 60_000) % 60);
    let (s, milli) = ((day_ms / 1000) % 60, day_ms % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

/// A byte count: `512B`, `1.2kB`, `34kB`, `5.6MB`.
pub fn bytes(n: u64) -> String {
    scaled(n as f64, "B")
}

/// A count: `512`, `1.2k`, `34k`, `5.6M`.
pub fn count(n: u64) -> String {
    scaled(n as f64, "")
}

/// A rate per second: `1.2k`, `340` (unit appended by the caller).
pub fn rate(v: f64) -> String {
    if !v.is_finite() || v < 0.0 {
        return "0".into();
    }
    if v < 10.0 && v.fract() != 0.0 {
        format!("{v:.1}")
    } else {
        scaled(v, "")
    }
}

fn scaled(v: f64, unit: &str) -> String {
    const PREFIXES: [&str; 5] = ["", "k", "M", "G", "T"];
    let mut v = v;
    let mut i = 0;
    while v >= 999.5 && i + 1 < PREFIXES.len() {
        v /= 1000.0;
        i += 1;
    }
    let p = PREFIXES[i];
    if i == 0 {
        format!("{v:.0}{unit}")
    } else if v < 9.95 {
        format!("{v:.1}{p}{unit}")
    } else {
        format!("{v:.0}{p}{unit}")
    }
}

/// Milliseconds: `0.42ms`, `12.3ms`, `123ms`, `1.23s`, `75s`.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        "-".into()
    } else if ms < 10.0 {
        format!("{ms:.2}ms")
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 10_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        format!("{:.0}s", ms / 1000.0)
    }
}

/// A duration in nanoseconds, as [`millis`].
pub fn duration(d: Nanos) -> String {
    millis(d.as_millis_f64())
}

/// An optional duration; `-` when unknown.
pub fn opt_duration(d: Option<Nanos>) -> String {
    d.map_or_else(|| "-".into(), duration)
}

/// An optional value in milliseconds; `-` when unknown.
pub fn opt_millis(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".into(), millis)
}

/// An age: `45s`, `12m`, `3h`, `2d`.
pub fn age(d: Nanos) -> String {
    let s = d.0 / 1_000_000_000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(clock(Nanos(1_700_000_123_456_789_012)), "22:15:23.456");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1234), "1.2kB");
        assert_eq!(bytes(34_000), "34kB");
        assert_eq!(bytes(999_999), "1.0MB");
        assert_eq!(count(0), "0");
        assert_eq!(millis(0.4211), "0.42ms");
        assert_eq!(millis(12.34), "12.3ms");
        assert_eq!(millis(1234.0), "1.23s");
        assert_eq!(age(Nanos::SECOND), "1s");
        assert_eq!(rate(2.5), "2.5");
    }
}
