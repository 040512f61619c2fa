//! Verification of a backup's byte stream: SHA-256 of the stored bytes, a full gunzip, SHA-256
//! of the dump, and pg_dump's completion line (which catches a dump cut short inside an intact
//! gzip stream). Pure and push-based; restore runs the same checks while it loads. The dump
//! reaches `out` only through the `DumpSanitizer`, line by checked line.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;
use serde::Serialize;

use super::sanitize::DumpSanitizer;
use crate::error::{Error, Result};
use crate::manifest::Digest;
use crate::naming::printable;
use crate::pipeline::DigestCounter;

/// pg_dump's last comment in a plain dump.
const COMPLETION_LINE: &str = "-- PostgreSQL database dump complete";
/// The completion line sits within the last few hundred bytes; keep some slack.
const TAIL_BYTES: usize = 16 * 1024;

/// What verification found in a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct StreamCheck {
    pub raw: Digest,
    pub compressed: Digest,
    pub completion_line: bool,
}

/// Where the decompressed dump goes. When the output fails (psql died on an SQL error) the rest
/// of the stream is still checked, so a damaged backup is reported as such and not as the
/// SQL error the damage caused.
struct RawSink<W: Write> {
    out: W,
    raw: DigestCounter,
    tail: Vec<u8>,
    out_error: Option<io::Error>,
    sanitizer: DumpSanitizer,
    /// Why the sanitizer refused the dump; nothing more reaches `out` after it.
    refused: Option<Error>,
}

impl<W: Write> RawSink<W> {
    fn forward(out: &mut W, out_error: &mut Option<io::Error>, bytes: &[u8]) {
        if out_error.is_none() {
            if let Err(err) = out.write_all(bytes) {
                *out_error = Some(err);
            }
        }
    }
}

impl<W: Write> Write for RawSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.refused.is_none() {
            let (out, out_error) = (&mut self.out, &mut self.out_error);
            if let Err(err) = self
                .sanitizer
                .push(buf, &mut |bytes| Self::forward(out, out_error, bytes))
            {
                self.refused = Some(err);
            }
        }
        self.raw.update(buf);
        self.tail.extend_from_slice(buf);
        if self.tail.len() > 2 * TAIL_BYTES {
            self.tail.drain(..self.tail.len() - TAIL_BYTES);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Verifies a gzip stream pushed in chunks, forwarding the decompressed dump to `out`.
pub struct StreamVerifier<W: Write> {
    compressed: DigestCounter,
    decoder: MultiGzDecoder<RawSink<W>>,
}

/// Why `push` or `finish` failed: the backup, or the place the dump was going.
#[derive(Debug)]
pub enum VerifyFailure {
    Corrupt(Error),
    Output(io::Error),
}

impl StreamVerifier<io::Sink> {
    pub fn new() -> Self {
        Self::with_output(io::sink())
    }
}

impl Default for StreamVerifier<io::Sink> {
    fn default() -> Self {
        Self::new()
    }
}

impl<W: Write> StreamVerifier<W> {
    pub fn with_output(out: W) -> Self {
        StreamVerifier {
            compressed: DigestCounter::default(),
            decoder: MultiGzDecoder::new(RawSink {
                out,
                raw: DigestCounter::default(),
                tail: Vec::new(),
                out_error: None,
                sanitizer: DumpSanitizer::new(),
                refused: None,
            }),
        }
    }

    /// Where the checked dump went so far (a buffer the caller empties between pushes).
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.decoder.get_mut().out
    }

    pub fn compressed_bytes(&self) -> u64 {
        self.compressed.bytes()
    }

    pub fn raw_bytes(&self) -> u64 {
        self.decoder.get_ref().raw.bytes()
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), VerifyFailure> {
        self.compressed.update(chunk);
        self.decoder.write_all(chunk).map_err(|err| {
            VerifyFailure::Corrupt(Error::integrity(format!(
                "not a valid gzip stream at or before byte {}: {err}",
                self.compressed.bytes()
            )))
        })?;
        match &self.decoder.get_ref().refused {
            Some(err) => Err(VerifyFailure::Corrupt(err.clone())),
            None => Ok(()),
        }
    }

    /// Ends the stream and reports; a truncated gzip stream is an error here.
    pub fn finish(mut self) -> Result<(StreamCheck, W), VerifyFailure> {
        if self.decoder.try_finish().is_err() {
            return Err(VerifyFailure::Corrupt(Error::integrity(format!(
                "gzip stream ends early after {} bytes: the backup is truncated",
                self.compressed.bytes()
            ))));
        }
        let mut sink = self
            .decoder
            .finish()
            .map_err(|e| VerifyFailure::Output(io::Error::other(e.to_string())))?;
        if let Some(err) = sink.refused.take() {
            return Err(VerifyFailure::Corrupt(err));
        }
        let (out, out_error) = (&mut sink.out, &mut sink.out_error);
        sink.sanitizer
            .finish(&mut |bytes| RawSink::forward(out, out_error, bytes))
            .map_err(VerifyFailure::Corrupt)?;
        if let Some(err) = sink.out_error.take() {
            return Err(VerifyFailure::Output(err));
        }
        let check = StreamCheck {
            completion_line: ends_with_completion_line(&sink.tail),
            raw: sink.raw.finish(),
            compressed: self.compressed.finish(),
        };
        Ok((check, sink.out))
    }
}

/// True when the dump's last meaningful line is pg_dump's completion comment; only comments,
/// blank lines and pg_dump 15.14+'s `\unrestrict KEY` may follow it.
pub fn ends_with_completion_line(tail: &[u8]) -> bool {
    let text = String::from_utf8_lossy(tail);
    let Some(pos) = text.rfind(COMPLETION_LINE) else {
        return false;
    };
    let after = &text[pos + COMPLETION_LINE.len()..];
    if !(after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")) {
        return false;
    }
    after.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with("--") || line.starts_with("\\unrestrict ")
    })
}

/// What a stream must match, from the manifest and the sidecar (either may be absent).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Expectations {
    #[serde(default)]
    pub compressed: Option<Digest>,
    #[serde(default)]
    pub raw: Option<Digest>,
    #[serde(default)]
    pub sidecar_sha256: Option<String>,
}

/// Compares a finished check with what was recorded; lists every mismatch. The recorded hashes
/// come from a manifest or sidecar that may have been tampered with: shown printable only.
pub fn problems(check: &StreamCheck, expected: &Expectations) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(want) = &expected.compressed {
        if want.sha256 != check.compressed.sha256 {
            found.push(format!(
                "SHA-256 of the stored object is {} but the manifest says {}",
                check.compressed.sha256,
                printable(&want.sha256)
            ));
        }
        if want.bytes != check.compressed.bytes {
            found.push(format!(
                "the stored object has {} bytes but the manifest says {}",
                check.compressed.bytes, want.bytes
            ));
        }
    }
    if let Some(want) = &expected.sidecar_sha256 {
        if *want != check.compressed.sha256 {
            found.push(format!(
                "SHA-256 of the stored object is {} but the .sha256 sidecar says {}",
                check.compressed.sha256,
                printable(want)
            ));
        }
    }
    if let Some(want) = &expected.raw {
        if want.sha256 != check.raw.sha256 || want.bytes != check.raw.bytes {
            found.push(format!(
                "the decompressed dump ({} bytes, SHA-256 {}) differs from the manifest ({} bytes, {})",
                check.raw.bytes,
                check.raw.sha256,
                want.bytes,
                printable(&want.sha256)
            ));
        }
    }
    if !check.completion_line {
        found.push(
            "the dump does not end with pg_dump's \"PostgreSQL database dump complete\" line: \
             it was cut short when it was taken"
                .to_string(),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Compressor;

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\\restrict abc\n\nCREATE TABLE t (x int);\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n";

    fn gz(data: &[u8]) -> (Vec<u8>, crate::pipeline::StreamDigests) {
        let mut c = Compressor::new(6);
        c.push(data);
        let mut out = c.take_output();
        let (tail, d) = c.finish();
        out.extend(tail);
        (out, d)
    }

    fn run(bytes: &[u8]) -> Result<StreamCheck, VerifyFailure> {
        let mut v = StreamVerifier::new();
        for chunk in bytes.chunks(7) {
            v.push(chunk)?;
        }
        v.finish().map(|(check, _)| check)
    }

    #[test]
    fn a_good_stream_passes_and_matches_its_digests() {
        let (bytes, digests) = gz(DUMP.as_bytes());
        let check = run(&bytes).unwrap();
        assert!(check.completion_line);
        assert_eq!(check.raw, digests.raw);
        assert_eq!(check.compressed, digests.compressed);
        let expected = Expectations {
            compressed: Some(digests.compressed.clone()),
            raw: Some(digests.raw.clone()),
            sidecar_sha256: Some(digests.compressed.sha256.clone()),
        };
        assert!(problems(&check, &expected).is_empty());
    }

    #[test]
    fn a_flipped_byte_is_caught() {
        let (mut bytes, digests) = gz(DUMP.as_bytes());
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        let expected = Expectations {
            compressed: Some(digests.compressed),
            ..Default::default()
        };
        match run(&bytes) {
            Err(VerifyFailure::Corrupt(_)) => {}
            Ok(check) => assert!(!problems(&check, &expected).is_empty()),
            Err(VerifyFailure::Output(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn a_truncated_object_is_caught() {
        let (bytes, _) = gz(DUMP.as_bytes());
        assert!(matches!(
            run(&bytes[..bytes.len() - 5]),
            Err(VerifyFailure::Corrupt(_))
        ));
    }

    #[test]
    fn a_truncated_dump_inside_intact_gzip_is_caught() {
        let cut = &DUMP[..DUMP.find("-- PostgreSQL database dump complete").unwrap()];
        let (bytes, _) = gz(cut.as_bytes());
        let check = run(&bytes).unwrap();
        assert!(!check.completion_line);
        assert_eq!(problems(&check, &Expectations::default()).len(), 1);
    }

    #[test]
    fn completion_line_rules() {
        assert!(ends_with_completion_line(
            b"x\n-- PostgreSQL database dump complete\n--\n\n"
        ));
        assert!(!ends_with_completion_line(
            b"-- PostgreSQL database dump complete\n--\nINSERT INTO t VALUES (1);\n"
        ));
        assert!(!ends_with_completion_line(
            b"-- PostgreSQL database dump completed\n"
        ));
        assert!(!ends_with_completion_line(b""));
    }

    #[test]
    fn trailing_garbage_after_gzip_is_caught() {
        let (mut bytes, _) = gz(DUMP.as_bytes());
        bytes.extend_from_slice(b"garbage!garbage!garbage!");
        assert!(matches!(run(&bytes), Err(VerifyFailure::Corrupt(_))));
    }
}
