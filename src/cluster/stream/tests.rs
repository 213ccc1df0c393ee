use super::*;

#[test]
fn backoff_is_1_2_4_then_capped() {
    let o = StreamOptions::default();
    let secs: Vec<u64> = (1..=5).map(|a| o.backoff(a).as_secs()).collect();
    assert_eq!(secs, vec![1, 2, 4, 4, 4]);
    assert_eq!(o.backoff(100), Duration::from_secs(4));
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
