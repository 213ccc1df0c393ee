use super::*;

#[test]
fn backoff_is_1_2_4_then_capped() {
    let o = StreamOptions::default();
    let secs: Vec<u64> = (1..=5).map(|a| o.backoff(a).as_secs()).collect();
    assert_eq!(secs, vec![1, 2, 4, 4, 4]);
    assert_eq!(o.backoff(100), Duration::from_secs(4));
}

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

fn status(json: serde_json::Value) -> Status {
    serde_json::from_value(json).unwrap()
}

#[test]
fn success_status_ends_cleanly() {
    let s = status(serde_json::json!({"metadata": {}, "status": "Success"}));
    assert_eq!(
        classify(false, Some(PumpEnd::Eof), Some(s), None, None, true),
        Outcome::Done(None)
    );
}

#[test]
fn failure_status_names_the_exit_code_and_stderr() {
    let s = status(serde_json::json!({
        "status": "Failure", "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
    }));
    let Outcome::Done(Some(text)) = classify(
        false,
        Some(PumpEnd::Eof),
        Some(s),
        None,
        Some("capture: no NET_RAW".into()),
        true,
    ) else {
        panic!("not a final failure");
    };
    assert_eq!(text, "the agent exited with code 3: capture: no NET_RAW");
}

#[test]
fn no_status_is_a_broken_stream() {
    assert!(matches!(
        classify(false, Some(PumpEnd::Eof), None, None, None, false),
        Outcome::Broken {
            streamed: false,
            ..
        }
    ));
    let Outcome::Broken { reason, streamed } =
        classify(false, Some(PumpEnd::Idle), None, None, None, true)
    else {
        panic!("idle must be broken");
    };
    assert!(streamed);
    assert!(reason.contains("no data"), "{reason}");
}

#[test]
fn stop_and_gone_receiver_end_cleanly() {
    assert_eq!(
        classify(true, None, None, None, None, true),
        Outcome::Done(None)
    );
    assert_eq!(
        classify(false, Some(PumpEnd::ReceiverGone), None, None, None, true),
        Outcome::Done(None)
    );
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
