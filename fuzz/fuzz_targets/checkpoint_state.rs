//! A checkpoint's `state.json` and the `metrics.jsonl` a resume rewrites
//! from it: any bytes (the state, then the log after a `\n---\n` line) must
//! load or fail with a one-line error naming the file. A state that loads
//! must cut the log back to its epoch with each epoch's line at most once,
//! none after the checkpoint's, and its own line present; cutting twice
//! changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_train::{Checkpoint, Needs, truncate_after};

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    let split = data.windows(5).position(|w| w == b"\n---\n");
    let (state, log) = match split {
        Some(i) => (&data[..i], &data[i + 5..]),
        None => (data, &[][..]),
    };
    let state_path = scratch::file("checkpoint/state.json", state);
    let dir = state_path.parent().expect("in a directory").to_path_buf();
    scratch::file("checkpoint/model.bpk", b"weights");
    let metrics = scratch::file("metrics.jsonl", log);

    match Checkpoint::verify(&dir, Needs::Everything) {
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "errors are one line: {message:?}");
        }
        Ok(state) => {
            let kept = truncate_after(&metrics, state.step, state.epoch, state.record.as_ref())
                .expect("the log is rewritten");
            for (i, e) in kept.iter().enumerate() {
                assert!(e.epoch <= state.epoch, "an epoch after the checkpoint kept");
                assert!(!kept[..i].iter().any(|o| o.epoch == e.epoch), "an epoch kept twice");
            }
            if let Some(r) = state.record.as_ref().filter(|r| r.epoch == state.epoch) {
                assert!(kept.iter().any(|e| e.epoch == r.epoch), "the checkpoint's line is missing");
            }
            let once = std::fs::read(&metrics).expect("the log");
            let twice = truncate_after(&metrics, state.step, state.epoch, state.record.as_ref())
                .expect("the log is rewritten again");
            assert_eq!(twice.len(), kept.len());
            assert_eq!(std::fs::read(&metrics).expect("the log"), once, "cutting twice changed the log");
        }
    }
});
