#!/usr/bin/env node
'use strict';
// The Node engine's benchmark (issue 4): gzip + SHA-256 throughput over one plain dump of at
// least 100 MB for the native engine, the WebAssembly engine and Node's own zlib + crypto, and
// the peak RSS of a real backup at two catalog sizes. Prints markdown tables with the ratios
// and the targets (native >= 1.5x Node's pipeline; wasm >= 0.6x native).
//
//   node bench/node/run.js [--small N] [--large N] [--rounds N]
//
// Build first, release: BACKSTAGE_BACKUP_PROFILE=release scripts/build-native.sh and
// scripts/build-wasm.sh (release by default). Uses PostgreSQL at BENCH_ADMIN_URL (default
// postgresql://postgres@127.0.0.1:5432/postgres); creates catalogs bbbench_node_<N> once
// (crates/catalog-fixture, kept for later runs).
//
// Throughput rows back up the same dump file through each engine's real API: a stand-in
// pg_dump (BACKSTAGE_BACKUP_PG_BIN) replays the file, so the rows differ only in the engine.
// The RSS rows run real pg_dump. Every row runs in its own Node process; rounds interleave.
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { pipeline } = require('node:stream/promises');
const { Transform } = require('node:stream');

const root = path.join(__dirname, '..', '..');
const admin = process.env.BENCH_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbUrl = name => Object.assign(new URL(admin), { pathname: `/${name}` }).toString();
const MiB = 1 << 20;

// --- Child: one measured run -------------------------------------------------------------
async function child(spec) {
  const started = process.hrtime.bigint();
  let raw = 0;
  let stored = 0;
  if (spec.kind === 'node-zlib') {
    // Node's own pipeline, the same shape as the engines': dump -> SHA-256 -> gzip -> SHA-256 -> file.
    const dump = spawn(path.join(spec.pgBin, 'pg_dump'), ['--format=plain'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rawHash = crypto.createHash('sha256');
    const gzHash = crypto.createHash('sha256');
    const tap = (hash, count) =>
      new Transform({
        transform(chunk, _, done) {
          hash.update(chunk);
          count(chunk.length);
          done(null, chunk);
        },
      });
    const file = path.join(spec.store, 'node.sql.gz');
    const out = fs.createWriteStream(file, { mode: 0o600 });
    await pipeline(dump.stdout, tap(rawHash, n => (raw += n)), zlib.createGzip({ level: 6 }), tap(gzHash, n => (stored += n)), out);
    const fd = fs.openSync(file, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    rawHash.digest('hex');
    gzHash.digest('hex');
  } else if (spec.kind === 'wasm-compute' || spec.kind === 'node-compute') {
    // The byte transforms alone, over the file in memory in 1 MiB chunks: no I/O at all.
    const data = fs.readFileSync(spec.dumpFile);
    const t0 = process.hrtime.bigint();
    if (spec.kind === 'wasm-compute') {
      const core = require(path.join(root, 'pkg', 'wasm-engine', 'core'));
      core.warmUp();
      // Both digests and gzip on this one thread (the engine hashes the raw side on a worker).
      const gz = new core.Deflater(6);
      const hasher = new core.Hasher();
      for (let i = 0; i < data.length; i += MiB) {
        const chunk = data.subarray(i, i + MiB);
        hasher.update(chunk);
        stored += gz.push(chunk).length;
      }
      stored += gz.finish().length;
      gz.digest();
      hasher.finish();
    } else {
      const rawHash = crypto.createHash('sha256');
      const gzHash = crypto.createHash('sha256');
      const gzip = zlib.createGzip({ level: 6 });
      gzip.on('data', chunk => {
        gzHash.update(chunk);
        stored += chunk.length;
      });
      const ended = new Promise(resolve => gzip.on('end', resolve));
      for (let i = 0; i < data.length; i += MiB) {
        const chunk = data.subarray(i, i + MiB);
        rawHash.update(chunk);
        if (!gzip.write(chunk)) await new Promise(resolve => gzip.once('drain', resolve));
      }
      gzip.end();
      await ended;
      rawHash.digest('hex');
      gzHash.digest('hex');
    }
    raw = data.length;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { seconds, raw, stored, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  } else {
    const { Engine } = require(path.join(root, 'pkg'));
    const engine = new Engine({ store: spec.store, engine: spec.engine });
    const opts = { databaseUrl: spec.databaseUrl };
    if (spec.threads) opts.threads = spec.threads;
    const t0 = process.hrtime.bigint();
    const manifest = await engine.backup(opts);
    raw = manifest.raw.bytes;
    stored = manifest.compressed.bytes;
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, raw, stored, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, raw, stored, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

// --- Parent ------------------------------------------------------------------------------
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function binary(name) {
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'backstage-backup', 'target');
  for (const profile of ['release', 'debug']) {
    const file = path.join(target, profile, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${name} is not built: cargo build -p backstage-catalog-fixture`);
}

function ensureCatalog(entities) {
  const name = `bbbench_node_${entities}`;
  execFileSync(binary('catalog-fixture'), ['--admin-url', admin, '--database', name, '--entities', String(entities), '--if-missing'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return name;
}

function measure(spec) {
  const out = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(spec)], {
    encoding: 'utf8',
    env: { ...process.env, ...(spec.env ?? {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(`${spec.label} failed (${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, d = 1) => n.toFixed(d);

async function main() {
  const small = arg('small', 2000);
  const large = arg('large', 20000);
  const rounds = arg('rounds', 3);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bbbench-node-'));
  try {
    console.error(`creating (once) catalogs of ${small} and ${large} entities`);
    const smallDb = ensureCatalog(small);
    const largeDb = ensureCatalog(large);
    const dumpFile = path.join(work, 'dump.sql');
    execFileSync('bash', ['-c', `pg_dump --format=plain "$0" > "$1"`, dbUrl(largeDb), dumpFile]);
    const dumpBytes = fs.statSync(dumpFile).size;
    if (dumpBytes < 100e6) throw new Error(`the dump is ${dumpBytes} bytes; pass a larger --large (>= 100 MB needed)`);
    // The stand-in pg_dump: the real one's version, the file's bytes.
    const pgBin = path.join(work, 'pgbin');
    fs.mkdirSync(pgBin);
    const realPgDump = execFileSync('bash', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).trim();
    const realPsql = execFileSync('bash', ['-c', 'command -v psql'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(
      path.join(pgBin, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = --version ]; then exec ${realPgDump} --version; fi\nexec cat ${dumpFile}\n`,
      { mode: 0o755 },
    );
    fs.symlinkSync(realPsql, path.join(pgBin, 'psql'));
    const standIn = { BACKSTAGE_BACKUP_PG_BIN: pgBin };

    const rows = [
      { label: 'native engine (`engine.backup`, default threads)', kind: 'engine', engine: 'native', env: standIn },
      { label: 'native engine (`threads: 1`)', kind: 'engine', engine: 'native', threads: 1, env: standIn },
      { label: 'wasm engine (`engine.backup`)', kind: 'engine', engine: 'wasm', env: standIn },
      { label: "Node's `zlib` + `crypto` (same pipeline, streams)", kind: 'node-zlib', pgBin },
      { label: 'wasm `Deflater` + `Hasher`, one thread, in memory (no I/O)', kind: 'wasm-compute', dumpFile },
      { label: "Node's `zlib` + `crypto`, in memory (no I/O)", kind: 'node-compute', dumpFile },
    ];
    const results = new Map(rows.map(r => [r.label, []]));
    for (let round = 0; round < rounds; round++) {
      for (const row of rows) {
        const store = fs.mkdtempSync(path.join(work, 'store-'));
        console.error(`round ${round + 1}/${rounds}: ${row.label}`);
        results.get(row.label).push(measure({ ...row, store, databaseUrl: dbUrl(smallDb) }));
        fs.rmSync(store, { recursive: true, force: true });
      }
    }
    const rate = label => median(results.get(label).map(r => r.raw / r.seconds / 1e6));
    // On a shared machine the best round is the least disturbed one: shown beside the median.
    const best = label => Math.max(...results.get(label).map(r => r.raw / r.seconds / 1e6));
    const lines = [];
    lines.push(`Command: \`node bench/node/run.js --small ${small} --large ${large} --rounds ${rounds}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`);
    lines.push('');
    lines.push(
      `Machine: ${os.cpus().length} cores (${os.cpus()[0].model.trim()}), load average ${os.loadavg().map(l => l.toFixed(2)).join(' ')}; ` +
        `Node ${process.version}; gzip level 6. Dump: \`${largeDb}\` (${large} entities), plain SQL, ${fmt(dumpBytes / 1e6)} MB.`,
    );
    lines.push('');
    lines.push('### gzip + SHA-256 throughput over the same dump');
    lines.push('');
    lines.push('| run | wall s (median) | MB/s of plain SQL (median) | MB/s (best round) | peak RSS MiB | output MB |');
    lines.push('|---|--:|--:|--:|--:|--:|');
    for (const row of rows) {
      const rs = results.get(row.label);
      lines.push(
        `| ${row.label} | ${fmt(median(rs.map(r => r.seconds)), 2)} | ${fmt(rate(row.label))} | ${fmt(best(row.label))} | ` +
          `${fmt(median(rs.map(r => r.maxRssMiB)))} | ${fmt(median(rs.map(r => r.stored)) / 1e6, 2)} |`,
      );
    }
    const native = rate(rows[0].label);
    const native1 = rate(rows[1].label);
    const wasm = rate(rows[2].label);
    const node = rate(rows[3].label);
    const verdict = (ok, text) => `- **${ok ? 'PASS' : 'FAIL'}** ${text}`;
    lines.push('');
    lines.push('Ratios (medians):');
    lines.push('');
    lines.push(verdict(native / node >= 1.5, `native / Node's zlib+crypto: ${fmt(native / node, 2)} (target >= 1.5)`));
    lines.push(verdict(wasm / native >= 0.6, `wasm / native: ${fmt(wasm / native, 2)} (target >= 0.6)`));
    lines.push(`- native with one thread / Node's zlib+crypto: ${fmt(native1 / node, 2)}; wasm / native with one thread: ${fmt(wasm / native1, 2)}`);
    const [bn, bw, bz] = [best(rows[0].label), best(rows[2].label), best(rows[3].label)];
    lines.push(`- best rounds: native / Node's zlib+crypto ${fmt(bn / bz, 2)}; wasm / native ${fmt(bw / bn, 2)}`);
    lines.push(
      `- in memory: wasm / Node's zlib+crypto: ${fmt(rate(rows[4].label) / rate(rows[5].label), 2)}`,
    );

    // Peak RSS of a real backup (real pg_dump) at two sizes.
    const sizes = [
      [smallDb, small],
      [largeDb, large],
    ];
    const rss = [];
    for (const [db, entities] of sizes) {
      for (const engine of ['native', 'wasm']) {
        const runs = [];
        for (let round = 0; round < rounds; round++) {
          const store = fs.mkdtempSync(path.join(work, 'store-'));
          console.error(`round ${round + 1}/${rounds}: RSS ${engine} ${db}`);
          runs.push(measure({ label: `${engine} ${db}`, kind: 'engine', engine, store, databaseUrl: dbUrl(db) }));
          fs.rmSync(store, { recursive: true, force: true });
        }
        rss.push({ db, entities, engine, runs });
      }
    }
    lines.push('');
    lines.push('### Peak RSS of a backup (real pg_dump, local store)');
    lines.push('');
    lines.push("The Node process's own peak RSS (`process.resourceUsage().maxRSS`, pg_dump is a separate process), median of the rounds.");
    lines.push('');
    lines.push('| database | engine | plain SQL MB | wall s | MB/s | peak RSS MiB |');
    lines.push('|---|---|--:|--:|--:|--:|');
    for (const { db, entities, engine, runs } of rss) {
      const raw = median(runs.map(r => r.raw));
      const secs = median(runs.map(r => r.seconds));
      lines.push(`| \`${db}\` (${entities} entities) | ${engine} | ${fmt(raw / 1e6)} | ${fmt(secs, 2)} | ${fmt(raw / secs / 1e6)} | ${fmt(median(runs.map(r => r.maxRssMiB)))} |`);
    }
    console.log(lines.join('\n'));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then(
    result => console.log(JSON.stringify(result)),
    err => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch(err => {
    console.error(err.message);
    process.exit(1);
  });
}
