//! Byte transforms, called once per chunk (~1 MiB) so V8 optimises the loop early: gzip with
//! the compressed side's SHA-256, plain SHA-256, and verification of a stored `.sql.gz` stream.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use backstage_backup_core::pipeline::DigestCounter;
use backstage_backup_core::verify::{
    ends_with_completion_line, problems, Expectations, StreamVerifier, VerifyFailure,
};
use backstage_backup_core::Error;
use flate2::write::GzEncoder;
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, to_js};

/// The dump's last bytes, enough to find pg_dump's completion line.
const TAIL_KEEP: usize = 16 << 10;

/// The end of the dump seen so far (at most 4 × TAIL_KEEP bytes kept).
#[derive(Default)]
struct DumpTail(Vec<u8>);

impl DumpTail {
    fn push(&mut self, chunk: &[u8]) {
        self.0.extend_from_slice(chunk);
        if self.0.len() > 4 * TAIL_KEEP {
            self.0.drain(..self.0.len() - TAIL_KEEP);
        }
    }

    fn is_complete(&self) -> bool {
        ends_with_completion_line(&self.0)
    }
}

/// `{bytes, sha256}` of a compressed stream, an error until it is `finished`.
fn finished_digest(finished: bool, compressed: &DigestCounter) -> Result<JsValue, JsValue> {
    if !finished {
        return Err(coded(Error::internal("the gzip stream is not finished")));
    }
    to_js(&compressed.clone().finish())
}

/// gzip (one standard stream, the same bytes as the native engine's single-thread output) with
/// the SHA-256 and size of the compressed side. The raw side's SHA-256 is a separate `Hasher`,
/// so the JS glue can run the two on two threads, as the native engine uses two cores.
#[wasm_bindgen]
pub struct Deflater {
    encoder: Option<GzEncoder<Vec<u8>>>,
    compressed: DigestCounter,
    raw_bytes: u64,
    tail: DumpTail,
}

#[wasm_bindgen]
impl Deflater {
    #[wasm_bindgen(constructor)]
    pub fn new(level: u32) -> Result<Deflater, JsValue> {
        check_level(level)?;
        Ok(Deflater {
            encoder: Some(GzEncoder::new(
                Vec::with_capacity(1 << 20),
                flate2::Compression::new(level),
            )),
            compressed: DigestCounter::default(),
            raw_bytes: 0,
            tail: DumpTail::default(),
        })
    }

    /// Compresses a chunk; returns the compressed bytes ready so far (often empty).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, JsValue> {
        let encoder = self
            .encoder
            .as_mut()
            .ok_or_else(|| coded(Error::internal("the gzip stream is already finished")))?;
        encoder
            .write_all(chunk)
            .map_err(|e| coded(Error::internal(format!("gzip: {e}"))))?;
        self.raw_bytes += chunk.len() as u64;
        self.tail.push(chunk);
        let out = std::mem::take(encoder.get_mut());
        self.compressed.update(&out);
        Ok(out)
    }

    /// Ends the stream; returns the last compressed bytes. `digest()` is final afterwards.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        let encoder = self
            .encoder
            .take()
            .ok_or_else(|| coded(Error::internal("the gzip stream is already finished")))?;
        let last = encoder
            .finish()
            .map_err(|e| coded(Error::internal(format!("gzip: {e}"))))?;
        self.compressed.update(&last);
        Ok(last)
    }

    /// `{bytes, sha256}` of the compressed stream, once finished.
    pub fn digest(&self) -> Result<JsValue, JsValue> {
        finished_digest(self.encoder.is_none(), &self.compressed)
    }

    /// Whether the input so far ends with pg_dump's "dump complete" line.
    #[wasm_bindgen(js_name = completionLine)]
    pub fn completion_line(&self) -> bool {
        self.tail.is_complete()
    }

    #[wasm_bindgen(getter, js_name = rawBytes)]
    pub fn raw_bytes(&self) -> f64 {
        self.raw_bytes as f64
    }

    /// Compressed bytes handed out so far.
    #[wasm_bindgen(getter, js_name = storedBytes)]
    pub fn stored_bytes(&self) -> f64 {
        self.compressed.bytes() as f64
    }
}

fn check_level(level: u32) -> Result<(), JsValue> {
    if level > 9 {
        return Err(coded(Error::invalid(format!(
            "compression level {level} is out of range: use 1 (fastest) to 9 (smallest)"
        ))));
    }
    Ok(())
}

/// One block of a pigz-style gzip stream (core's `pipeline::deflate_block`), compressed by a
/// worker thread; a `GzipFramer` on the main thread frames the blocks into one gzip stream.
#[wasm_bindgen(js_name = deflateBlock)]
pub fn deflate_block(
    level: u32,
    dictionary: &[u8],
    data: &[u8],
    last: bool,
) -> Result<Vec<u8>, JsValue> {
    check_level(level)?;
    backstage_backup_core::pipeline::deflate_block(level, dictionary, data, last)
        .map_err(|e| coded(Error::internal(format!("gzip: {e}"))))
}

/// The main thread's half of the parallel gzip: CRC-32 and size of the raw side, the header
/// and trailer around the workers' blocks, SHA-256 of everything stored, and the completion
/// line: one standard gzip stream, framed as the native engine frames its blocks. The raw
/// side's SHA-256 is the glue's (Node's crypto: SHA extensions, which WebAssembly lacks, make
/// it ~10x faster there, and on this thread it is the bottleneck).
#[wasm_bindgen]
pub struct GzipFramer {
    crc: flate2::Crc,
    compressed: DigestCounter,
    tail: DumpTail,
    finished: bool,
}

#[wasm_bindgen]
impl GzipFramer {
    #[wasm_bindgen(constructor)]
    pub fn new() -> GzipFramer {
        GzipFramer {
            crc: flate2::Crc::new(),
            compressed: DigestCounter::default(),
            tail: DumpTail::default(),
            finished: false,
        }
    }

    /// The gzip header: the first bytes to store.
    pub fn header(&mut self) -> Vec<u8> {
        let header = backstage_backup_core::pipeline::GZIP_HEADER.to_vec();
        self.compressed.update(&header);
        header
    }

    /// Accounts for a block of the dump, before it goes to a worker.
    pub fn raw(&mut self, block: &[u8]) {
        self.crc.update(block);
        self.tail.push(block);
    }

    /// Accounts for a compressed block as it is stored (blocks in order).
    pub fn stored(&mut self, block: &[u8]) {
        self.compressed.update(block);
    }

    /// The gzip trailer (CRC-32 and size of the raw side): the last bytes to store.
    pub fn trailer(&mut self) -> Vec<u8> {
        let mut trailer = self.crc.sum().to_le_bytes().to_vec();
        // ISIZE: the raw size modulo 2^32, as gzip defines it.
        trailer.extend_from_slice(&self.crc.amount().to_le_bytes());
        self.compressed.update(&trailer);
        self.finished = true;
        trailer
    }

    /// `{bytes, sha256}` of the stored (compressed) stream, once the trailer is out.
    pub fn digest(&self) -> Result<JsValue, JsValue> {
        finished_digest(self.finished, &self.compressed)
    }

    /// Whether the dump so far ends with pg_dump's "dump complete" line.
    #[wasm_bindgen(js_name = completionLine)]
    pub fn completion_line(&self) -> bool {
        self.tail.is_complete()
    }

    #[wasm_bindgen(getter, js_name = storedBytes)]
    pub fn stored_bytes(&self) -> f64 {
        self.compressed.bytes() as f64
    }
}

impl Default for GzipFramer {
    fn default() -> Self {
        Self::new()
    }
}

/// SHA-256 and byte count of a stream.
#[wasm_bindgen]
#[derive(Default)]
pub struct Hasher {
    inner: DigestCounter,
}

#[wasm_bindgen]
impl Hasher {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Hasher {
        Hasher::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
    }

    /// `{bytes, sha256}` (hex). Leaves the hasher reset.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        to_js(&std::mem::take(&mut self.inner).finish())
    }
}

/// Collects the decompressed dump for the caller (restore feeds it to psql).
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Verification of a stored `.sql.gz` as it streams: SHA-256 and size of both sides, a full
/// gunzip (concatenated members too) and pg_dump's completion line.
#[wasm_bindgen]
pub struct Verifier {
    inner: Option<StreamVerifier<Shared>>,
    out: Shared,
    keep_output: bool,
}

#[wasm_bindgen]
impl Verifier {
    /// With `keepOutput`, `push` returns the decompressed bytes (for a restore); else nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(keep_output: bool) -> Verifier {
        let out = Shared::default();
        Verifier {
            inner: Some(StreamVerifier::with_output(out.clone())),
            out,
            keep_output,
        }
    }

    /// Feeds a chunk of the stored object. Throws `E_INTEGRITY` when it is not valid gzip.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, JsValue> {
        let verifier = self
            .inner
            .as_mut()
            .ok_or_else(|| coded(Error::internal("the verifier is already finished")))?;
        verifier.push(chunk).map_err(failure)?;
        Ok(self.drain())
    }

    fn drain(&mut self) -> Vec<u8> {
        let mut out = self.out.0.borrow_mut();
        if self.keep_output {
            std::mem::take(&mut *out)
        } else {
            out.clear();
            Vec::new()
        }
    }

    /// Ends the stream and judges it against what the manifest and sidecar promise
    /// (`{compressed, raw, sidecar_sha256}`, each optional): `{check, problems, rest}`, where
    /// `rest` is the last decompressed output. Throws `E_INTEGRITY` when gzip is cut short.
    pub fn finish(&mut self, expected: JsValue) -> Result<JsValue, JsValue> {
        let expected: Expectations = if expected.is_undefined() || expected.is_null() {
            Expectations::default()
        } else {
            from_js(expected, "expectations")?
        };
        let verifier = self
            .inner
            .take()
            .ok_or_else(|| coded(Error::internal("the verifier is already finished")))?;
        let (check, _) = verifier.finish().map_err(failure)?;
        let found = problems(&check, &expected);
        let out = to_js(&serde_json::json!({"check": check, "problems": found}))?;
        let rest = js_sys::Uint8Array::from(&self.drain()[..]);
        js_sys::Reflect::set(&out, &"rest".into(), &rest)?;
        Ok(out)
    }

    #[wasm_bindgen(getter, js_name = rawBytes)]
    pub fn raw_bytes(&self) -> f64 {
        self.inner.as_ref().map_or(0, StreamVerifier::raw_bytes) as f64
    }

    #[wasm_bindgen(getter, js_name = storedBytes)]
    pub fn stored_bytes(&self) -> f64 {
        self.inner
            .as_ref()
            .map_or(0, StreamVerifier::compressed_bytes) as f64
    }
}

fn failure(failure: VerifyFailure) -> JsValue {
    match failure {
        VerifyFailure::Corrupt(err) => coded(err),
        VerifyFailure::Output(err) => coded(Error::internal(format!("verify output: {err}"))),
    }
}
