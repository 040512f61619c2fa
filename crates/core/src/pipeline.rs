//! The streaming path, pure and push-based: bytes in, gzip out, SHA-256 of both sides.
//! Push-based so that the native engine (a pg_dump pipe) and the WebAssembly engine (chunks
//! handed over from JS) drive the same code.

use std::io::Write;

use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

use crate::manifest::Digest;

pub const DEFAULT_LEVEL: u32 = 6;

/// The most compression threads any front end accepts (the CLI's `--threads`, the engines'
/// `threads`): far past what gzip gains from, short of what exhausts a machine.
pub const MAX_THREADS: u64 = 256;

/// Compression threads as every front end takes them: 0 means one per core (`cores`).
pub fn compression_threads(requested: u64, cores: usize) -> crate::error::Result<usize> {
    match requested {
        0 => Ok(cores.max(1)),
        n if n <= MAX_THREADS => Ok(n as usize),
        n => Err(crate::error::Error::invalid(format!(
            "threads must be a whole number from 0 (one per core) to {MAX_THREADS}, not {n}"
        ))),
    }
}

/// gzip header: magic, deflate, no flags, no mtime, no extra flags, OS = Unix.
/// Parallel gzip (pigz style): the dump is cut into blocks compressed independently, each
/// primed with the previous block's last 32 KiB (gzip's ratio, not a block's). Both engines'
/// compressors use these sizes (the wasm engine's worker threads through `gzipBlocks`).
pub const GZIP_BLOCK_BYTES: usize = 1 << 20;
pub const GZIP_DICTIONARY_BYTES: usize = 32 << 10;

pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// One block of a pigz-style gzip stream: raw deflate of `data` primed with `dictionary` (the
/// previous block's last 32 KiB, so the ratio stays gzip's), ended with a sync flush so blocks
/// can be concatenated, or finished when `last`. Blocks between [`GZIP_HEADER`] and the
/// CRC-32/size trailer make one standard gzip stream.
pub fn deflate_block(
    level: u32,
    dictionary: &[u8],
    data: &[u8],
    last: bool,
) -> Result<Vec<u8>, String> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut deflate = Compress::new(Compression::new(level), false);
    if !dictionary.is_empty() {
        deflate
            .set_dictionary(dictionary)
            .map_err(|e| e.to_string())?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    loop {
        if out.capacity() - out.len() < 16 << 10 {
            out.reserve(256 << 10);
        }
        let consumed = deflate.total_in() as usize;
        let status = deflate
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(|e| e.to_string())?;
        let all_in = deflate.total_in() as usize == data.len();
        // A sync flush is complete once deflate leaves output space unused.
        match status {
            Status::StreamEnd => return Ok(out),
            _ if all_in && !last && out.len() < out.capacity() => return Ok(out),
            _ => {}
        }
    }
}

/// SHA-256 and byte count of one side of the stream.
#[derive(Clone, Default)]
pub struct DigestCounter {
    hasher: Sha256,
    bytes: u64,
}

impl DigestCounter {
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn finish(self) -> Digest {
        Digest {
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// Both sides' digests once a stream is done.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StreamDigests {
    pub raw: Digest,
    pub compressed: Digest,
}

/// Compresses a stream pushed in chunks. Output accumulates inside until taken, so the caller
/// decides how much to buffer (and so applies back-pressure).
pub struct Compressor {
    raw: DigestCounter,
    compressed: DigestCounter,
    encoder: GzEncoder<Vec<u8>>,
    level: u32,
}

impl Compressor {
    pub fn new(level: u32) -> Self {
        let level = level.min(9);
        Compressor {
            raw: DigestCounter::default(),
            compressed: DigestCounter::default(),
            encoder: GzEncoder::new(Vec::with_capacity(1 << 20), flate2::Compression::new(level)),
            level,
        }
    }

    pub fn level(&self) -> u32 {
        self.level
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.raw.update(chunk);
        // Writing into a Vec cannot fail.
        self.encoder
            .write_all(chunk)
            .expect("gzip into memory cannot fail");
    }

    /// Bytes of compressed output waiting to be taken.
    pub fn pending(&self) -> usize {
        self.encoder.get_ref().len()
    }

    /// Takes the compressed output produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        let out = std::mem::take(self.encoder.get_mut());
        self.compressed.update(&out);
        out
    }

    pub fn raw_bytes(&self) -> u64 {
        self.raw.bytes()
    }

    pub fn compressed_bytes(&self) -> u64 {
        self.compressed.bytes() + self.pending() as u64
    }

    /// Ends the stream: returns the last output and both digests.
    pub fn finish(self) -> (Vec<u8>, StreamDigests) {
        let Compressor {
            raw,
            mut compressed,
            encoder,
            ..
        } = self;
        let tail = encoder.finish().expect("gzip into memory cannot fail");
        compressed.update(&tail);
        (
            tail,
            StreamDigests {
                raw: raw.finish(),
                compressed: compressed.finish(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn output_is_one_standard_gzip_stream_with_matching_digests() {
        let input: Vec<u8> = (0..3_000_000u32)
            .flat_map(|i| format!("row {i}\n").into_bytes())
            .collect();
        let mut compressor = Compressor::new(6);
        let mut out = Vec::new();
        for chunk in input.chunks(65_537) {
            compressor.push(chunk);
            out.extend(compressor.take_output());
        }
        let (tail, digests) = compressor.finish();
        out.extend(tail);

        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&out[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, input);
        assert_eq!(digests.raw.bytes, input.len() as u64);
        assert_eq!(digests.raw.sha256, hex::encode(Sha256::digest(&input)));
        assert_eq!(digests.compressed.bytes, out.len() as u64);
        assert_eq!(digests.compressed.sha256, hex::encode(Sha256::digest(&out)));
        assert!(out.len() < input.len() / 3);
    }
}
