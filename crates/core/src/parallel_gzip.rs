//! pigz-style parallel gzip: the input is cut into 1 MiB blocks, each compressed on a worker
//! thread as raw deflate primed with the previous 32 KiB (so the ratio stays gzip's), ended
//! with a sync flush, and the blocks are stitched in order into ONE standard gzip stream that
//! `gunzip` reads. Same push/take interface as `pipeline::Compressor`, with back-pressure:
//! `push` waits when too many blocks are in flight.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::pipeline::{
    deflate_block, DigestCounter, StreamDigests, GZIP_BLOCK_BYTES as BLOCK_BYTES,
    GZIP_DICTIONARY_BYTES as DICTIONARY_BYTES, GZIP_HEADER,
};

struct Job {
    seq: u64,
    dictionary: Vec<u8>,
    data: Vec<u8>,
    last: bool,
}

type Done = (u64, Result<Vec<u8>, String>);

pub struct ParallelCompressor {
    level: u32,
    raw: DigestCounter,
    crc: crc32fast::Hasher,
    compressed: DigestCounter,
    block: Vec<u8>,
    dictionary: Vec<u8>,
    next_seq: u64,
    next_out: u64,
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    ready: BTreeMap<u64, Vec<u8>>,
    out: Vec<u8>,
    workers: Vec<JoinHandle<()>>,
    max_in_flight: u64,
    failed: Option<String>,
}

fn deflate_job(level: u32, job: &Job) -> Result<Vec<u8>, String> {
    deflate_block(level, &job.dictionary, &job.data, job.last)
}

impl ParallelCompressor {
    /// `threads` 0 means one per core.
    pub fn new(level: u32, threads: usize) -> Self {
        let level = level.min(9);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Checked by `backup` already; capped here too so no caller can spawn without bound.
        let threads = crate::pipeline::compression_threads(threads as u64, cores)
            .unwrap_or(crate::pipeline::MAX_THREADS as usize);
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads);
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let workers = (0..threads)
            .map(|_| {
                let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
                std::thread::spawn(move || loop {
                    let job = match job_rx.lock().map(|rx| rx.recv()) {
                        Ok(Ok(job)) => job,
                        _ => return,
                    };
                    if done_tx.send((job.seq, deflate_job(level, &job))).is_err() {
                        return;
                    }
                })
            })
            .collect();
        ParallelCompressor {
            level,
            raw: DigestCounter::default(),
            crc: crc32fast::Hasher::new(),
            compressed: DigestCounter::default(),
            block: Vec::with_capacity(BLOCK_BYTES),
            dictionary: Vec::new(),
            next_seq: 0,
            next_out: 0,
            jobs: Some(job_tx),
            results: done_rx,
            ready: BTreeMap::new(),
            out: GZIP_HEADER.to_vec(),
            workers,
            // Enough to keep every worker busy while one block is being read; more only costs memory.
            max_in_flight: threads as u64 + 2,
            failed: None,
        }
    }

    pub fn level(&self) -> u32 {
        self.level
    }

    pub fn push(&mut self, mut chunk: &[u8]) {
        self.raw.update(chunk);
        self.crc.update(chunk);
        while !chunk.is_empty() {
            let take = (BLOCK_BYTES - self.block.len()).min(chunk.len());
            self.block.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.block.len() == BLOCK_BYTES {
                self.dispatch(false);
            }
        }
    }

    fn dispatch(&mut self, last: bool) {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_BYTES));
        let tail_from = data.len().saturating_sub(DICTIONARY_BYTES);
        let mut dictionary = std::mem::take(&mut self.dictionary);
        if data.len() >= DICTIONARY_BYTES {
            self.dictionary = data[tail_from..].to_vec();
        } else {
            // A short block: the window is the old dictionary's end plus this block.
            let mut next = dictionary.clone();
            next.extend_from_slice(&data);
            let keep = next.len().saturating_sub(DICTIONARY_BYTES);
            self.dictionary = next[keep..].to_vec();
        }
        if dictionary.len() > DICTIONARY_BYTES {
            dictionary.drain(..dictionary.len() - DICTIONARY_BYTES);
        }
        let job = Job {
            seq: self.next_seq,
            dictionary,
            data,
            last,
        };
        self.next_seq += 1;
        if let Some(jobs) = &self.jobs {
            if jobs.send(job).is_err() {
                self.failed
                    .get_or_insert_with(|| "compression workers stopped".into());
            }
        }
        while self.next_seq - self.next_out > self.max_in_flight {
            self.collect(true);
        }
        self.collect(false);
    }

    /// Moves finished blocks, in order, to the output; waits for one when `wait`.
    fn collect(&mut self, wait: bool) {
        let mut wait = wait;
        loop {
            let done = if wait {
                self.results.recv().ok()
            } else {
                self.results.try_recv().ok()
            };
            let Some((seq, result)) = done else { break };
            wait = false;
            match result {
                Ok(bytes) => {
                    self.ready.insert(seq, bytes);
                }
                Err(err) => {
                    self.failed.get_or_insert(err);
                    self.ready.insert(seq, Vec::new());
                }
            }
        }
        while let Some(bytes) = self.ready.remove(&self.next_out) {
            self.out.extend_from_slice(&bytes);
            self.next_out += 1;
        }
    }

    pub fn pending(&self) -> usize {
        self.out.len()
    }

    pub fn take_output(&mut self) -> Vec<u8> {
        self.collect(false);
        let out = std::mem::take(&mut self.out);
        self.compressed.update(&out);
        out
    }

    pub fn raw_bytes(&self) -> u64 {
        self.raw.bytes()
    }

    pub fn compressed_bytes(&self) -> u64 {
        self.compressed.bytes() + self.out.len() as u64
    }

    /// Ends the stream: the last block, the trailer, both digests. Err if a worker failed.
    pub fn finish(mut self) -> Result<(Vec<u8>, StreamDigests), String> {
        self.dispatch(true);
        self.jobs.take();
        while self.next_out < self.next_seq {
            self.collect(true);
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        let mut tail = std::mem::take(&mut self.out);
        tail.extend_from_slice(&self.crc.clone().finalize().to_le_bytes());
        tail.extend_from_slice(&(self.raw.bytes() as u32).to_le_bytes());
        self.compressed.update(&tail);
        let raw = std::mem::take(&mut self.raw);
        let compressed = std::mem::take(&mut self.compressed);
        Ok((
            tail,
            StreamDigests {
                raw: raw.finish(),
                compressed: compressed.finish(),
            },
        ))
    }
}

impl Drop for ParallelCompressor {
    fn drop(&mut self) {
        // Closing the job channel lets idle workers exit; busy ones finish their block.
        self.jobs.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Compressor;
    use sha2::{Digest as _, Sha256};
    use std::io::Read;

    fn sample(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9u32;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.extend_from_slice(
                format!(
                    "INSERT INTO t VALUES ({}, 'name-{}');\n",
                    x % 100_000,
                    x % 977
                )
                .as_bytes(),
            );
        }
        out.truncate(len);
        out
    }

    fn compress(data: &[u8], chunk: usize, threads: usize) -> (Vec<u8>, StreamDigests) {
        let mut c = ParallelCompressor::new(6, threads);
        let mut out = Vec::new();
        for piece in data.chunks(chunk.max(1)) {
            c.push(piece);
            out.extend(c.take_output());
        }
        let (tail, digests) = c.finish().unwrap();
        out.extend(tail);
        (out, digests)
    }

    #[test]
    fn one_standard_gzip_stream_that_decodes_to_the_input() {
        for (len, chunk, threads) in [
            (0, 1, 2),
            (10, 3, 1),
            (BLOCK_BYTES, 65_536, 2),
            (5 * BLOCK_BYTES + 12_345, 100_003, 3),
        ] {
            let data = sample(len);
            let (gz, digests) = compress(&data, chunk, threads);
            // Single-member decoder: the blocks form one member, as gunzip expects.
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, data, "len {len}");
            assert_eq!(digests.raw.sha256, hex::encode(Sha256::digest(&data)));
            assert_eq!(digests.compressed.sha256, hex::encode(Sha256::digest(&gz)));
            assert_eq!(digests.compressed.bytes, gz.len() as u64);
        }
    }

    #[test]
    fn the_ratio_stays_within_one_percent_of_single_threaded_gzip() {
        let data = sample(6 * BLOCK_BYTES);
        let (parallel, _) = compress(&data, 1 << 16, 2);
        let mut single = Compressor::new(6);
        single.push(&data);
        let mut out = single.take_output();
        out.extend(single.finish().0);
        assert!(
            (parallel.len() as f64) < out.len() as f64 * 1.01,
            "{} vs {}",
            parallel.len(),
            out.len()
        );
    }
}
