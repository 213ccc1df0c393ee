//! The control thread: reads JSON lines from stdin for the supervisor.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::Sender;
use std::thread::{self, JoinHandle};

/// Longest control line accepted; longer ones are refused whole.
pub const MAX_LINE: usize = 64 * 1024;

/// What the control thread saw.
#[derive(Debug, PartialEq, Eq)]
pub enum ControlEvent {
    /// One line, without its newline.
    Line(String),
    /// A line longer than [`MAX_LINE`] (skipped).
    TooLong,
    /// End of input (or a read error).
    Eof,
}

/// Starts the thread reading `input` line by line.
pub fn start<R: Read + Send + 'static>(input: R, tx: Sender<ControlEvent>) -> JoinHandle<()> {
    thread::Builder::new()
        .name("control".into())
        .spawn(move || read_lines(BufReader::new(input), &tx))
        .expect("spawn the control thread")
}

fn read_lines(mut input: impl BufRead, tx: &Sender<ControlEvent>) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut too_long = false;
        // Read up to the newline, keeping at most MAX_LINE bytes.
        loop {
            let buf = match input.fill_buf() {
                Ok([]) | Err(_) => {
                    let _ = tx.send(ControlEvent::Eof);
                    return;
                }
                Ok(buf) => buf,
            };
            let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if line.len() + chunk.len() > MAX_LINE {
                too_long = true;
            } else {
                line.extend_from_slice(chunk);
            }
            let used = done.unwrap_or(buf.len());
            input.consume(used);
            if done.is_some() {
                break;
            }
        }
        let event = if too_long {
            ControlEvent::TooLong
        } else {
            ControlEvent::Line(String::from_utf8_lossy(&line).into_owned())
        };
        if tx.send(event).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn lines_long_lines_and_eof() {
        let mut input = b"{\"cmd\":\"heartbeat\"}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend_from_slice(b"\nlast");
        let (tx, rx) = channel();
        start(std::io::Cursor::new(input), tx).join().unwrap();
        let got: Vec<ControlEvent> = rx.iter().collect();
        assert_eq!(
            got,
            vec![
                ControlEvent::Line("{\"cmd\":\"heartbeat\"}".into()),
                ControlEvent::TooLong,
                ControlEvent::Eof,
            ],
            "an unterminated last line is not a command"
        );
    }
}
