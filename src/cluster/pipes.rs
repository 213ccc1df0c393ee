//! The exec session's pipes: stdout into the decoder's channel (with the
//! liveness timeout), stderr lines as events, control lines to stdin, and
//! the blocking `Read` the decoder thread reads the channel through. Used by
//! `stream`.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::wire::agent::Control;

use super::events::{ClusterEvent, EventSender, emit};
use super::stream::GRACE;

/// How the stdout pump ended.
#[derive(Debug)]
pub(super) enum PumpEnd {
    Eof,
    Idle,
    Failed(String),
    ReceiverGone,
}

/// Copies stdout into the decoder's channel; a read that waits `liveness` ends it.
pub(super) async fn pump_stdout<R: AsyncRead + Unpin>(
    mut stdout: R,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    liveness: Duration,
    streamed: Arc<AtomicU64>,
) -> PumpEnd {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(liveness, stdout.read(&mut buf)).await {
            Err(_) => return PumpEnd::Idle,
            Ok(Ok(0)) => return PumpEnd::Eof,
            Ok(Ok(n)) => {
                streamed.fetch_add(n as u64, Ordering::Relaxed);
                if tx.send(buf[..n].to_vec()).await.is_err() {
                    return PumpEnd::ReceiverGone;
                }
            }
            Ok(Err(e)) => return PumpEnd::Failed(e.to_string()),
        }
    }
}

/// Forwards stderr lines as events; returns the last non-empty one.
pub(super) async fn read_stderr<R: AsyncRead + Unpin>(
    stderr: R,
    events: EventSender,
) -> Option<String> {
    let mut lines = BufReader::new(stderr).lines();
    let mut last = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim().to_owned();
        if !line.is_empty() {
            emit(&events, ClusterEvent::AgentStderr(line.clone()));
            last = Some(line);
        }
    }
    last
}

/// Writes one control line; a failed or stuck write drops stdin (the session is ending).
pub(super) async fn write_line<W: AsyncWrite + Unpin>(stdin: &mut Option<W>, control: &Control) {
    let Some(pipe) = stdin else { return };
    let line = control.to_line();
    let write = async {
        pipe.write_all(line.as_bytes()).await?;
        pipe.flush().await
    };
    if !matches!(tokio::time::timeout(GRACE, write).await, Ok(Ok(()))) {
        *stdin = None;
    }
}

/// A blocking `Read` over the pump's channel; the end of the channel is the end of the stream.
pub(super) struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    pub(super) fn new(rx: tokio::sync::mpsc::Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_reader_reads_chunks_in_any_size_then_eof() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(b"abc".to_vec()).unwrap();
        tx.try_send(Vec::new()).unwrap();
        tx.try_send(b"defgh".to_vec()).unwrap();
        drop(tx);
        let mut reader = ChannelReader::new(rx);
        let mut out = Vec::new();
        let mut buf = [0u8; 2];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"abcdefgh");
    }

    #[tokio::test]
    async fn pump_stops_on_idle_and_at_eof() {
        let (client, mut server) = tokio::io::duplex(64);
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let streamed = Arc::new(AtomicU64::new(0));
        server.write_all(b"hello").await.unwrap();
        let end = pump_stdout(client, tx, Duration::from_millis(50), Arc::clone(&streamed)).await;
        assert!(matches!(end, PumpEnd::Idle));
        assert_eq!(rx.recv().await.unwrap(), b"hello");
        assert_eq!(streamed.load(Ordering::Relaxed), 5);

        let (client, server) = tokio::io::duplex(64);
        drop(server);
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let end = pump_stdout(
            client,
            tx,
            Duration::from_secs(5),
            Arc::new(AtomicU64::new(0)),
        )
        .await;
        assert!(matches!(end, PumpEnd::Eof));
    }
}
