//! The stream verifier: the input is pushed in two chunks split at a point the fuzzer chooses,
//! then `finish()` and `verify::problems`. Never a panic; errors and problems without control
//! characters; the outcome does not depend on where the stream was split.
//!
//! Input layout: 2 bytes split point (little-endian, taken modulo the stream's length + 1),
//! 1 byte length N, N bytes of "expected SHA-256" text (as a tampered manifest might hold; none
//! when N is 0), then the stream.
#![no_main]

use backstage_backup_core::manifest::Digest;
use backstage_backup_core::verify::{
    problems, Expectations, StreamCheck, StreamVerifier, VerifyFailure,
};
use backstage_backup_fuzz::{check_error, check_text};
use libfuzzer_sys::fuzz_target;

fn run(chunks: &[&[u8]]) -> Result<StreamCheck, VerifyFailure> {
    let mut verifier = StreamVerifier::new();
    for chunk in chunks {
        verifier.push(chunk)?;
    }
    verifier.finish().map(|(check, _)| check)
}

fn outcome(result: &Result<StreamCheck, VerifyFailure>) -> Option<&StreamCheck> {
    match result {
        Ok(check) => Some(check),
        Err(VerifyFailure::Corrupt(err)) => {
            check_error(err);
            None
        }
        Err(VerifyFailure::Output(err)) => panic!("a sink output failed: {err}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let split = u16::from_le_bytes([data[0], data[1]]) as usize;
    let n = (data[2] as usize).min(data.len() - 3);
    let expected_text = String::from_utf8_lossy(&data[3..3 + n]).into_owned();
    let stream = &data[3 + n..];
    let split = split % (stream.len() + 1);

    let split_result = run(&[&stream[..split], &stream[split..]]);
    let whole_result = run(&[stream]);
    let split_check = outcome(&split_result);
    let whole_check = outcome(&whole_result);
    assert_eq!(
        split_check, whole_check,
        "the outcome depends on where the stream was split (at {split})"
    );
    let Some(check) = split_check else {
        return;
    };
    assert_eq!(check.compressed.bytes, stream.len() as u64);

    // Expectations that match the stream: the only possible problem is a missing completion line.
    let matching = Expectations {
        compressed: Some(check.compressed.clone()),
        raw: Some(check.raw.clone()),
        sidecar_sha256: Some(check.compressed.sha256.clone()),
    };
    let found = problems(check, &matching);
    assert_eq!(
        found.len(),
        usize::from(!check.completion_line),
        "{found:?}"
    );

    // Expectations from a tampered manifest and sidecar.
    let expected = if n == 0 {
        Expectations::default()
    } else {
        let digest = Digest {
            bytes: n as u64,
            sha256: expected_text.clone(),
        };
        Expectations {
            compressed: Some(digest.clone()),
            raw: Some(digest),
            sidecar_sha256: Some(expected_text),
        }
    };
    for problem in problems(check, &expected) {
        check_text("verify problem", &problem);
    }
});
