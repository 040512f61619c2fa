'use strict';
// What "the catalog serves the same entities" means here: for every entity the catalog API
// returns, its uid, kind, namespace, name, etag and relations, compared entity by entity.
const { sleep } = require('./servers');

const FIELDS = 'kind,metadata.uid,metadata.namespace,metadata.name,metadata.etag,relations';

/** Every entity, through GET /api/catalog/entities/by-query, page by page. */
async function snapshot(backend) {
  const entities = new Map();
  let cursor = null;
  do {
    const query = cursor ? `cursor=${encodeURIComponent(cursor)}` : `limit=2000&fields=${FIELDS}`;
    const page = await backend.api('GET', `/api/catalog/entities/by-query?${query}`);
    for (const e of page.items) {
      const ref = `${e.kind}:${e.metadata.namespace}/${e.metadata.name}`.toLowerCase();
      const relations = (e.relations ?? []).map(r => `${r.type}>${r.targetRef}`).sort();
      entities.set(ref, { uid: e.metadata.uid, kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name, etag: e.metadata.etag, relations });
    }
    cursor = page.pageInfo?.nextCursor ?? null;
  } while (cursor);
  return entities;
}

/** How many entities the catalog serves (one small query). */
async function count(backend) {
  const page = await backend.api('GET', '/api/catalog/entities/by-query?limit=1&fields=kind');
  return page.totalItems;
}

/** Entities by kind, for messages. */
function kinds(entities) {
  const counts = {};
  for (const e of entities.values()) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  return counts;
}

/** Every difference between two snapshots, in words; empty when they are the same. */
function differences(before, after) {
  const out = [];
  for (const [ref, b] of before) {
    const a = after.get(ref);
    if (!a) {
      out.push(`${ref}: missing`);
      continue;
    }
    for (const key of ['uid', 'kind', 'namespace', 'name', 'etag']) {
      if (a[key] !== b[key]) out.push(`${ref}: ${key} ${b[key]} -> ${a[key]}`);
    }
    if (a.relations.join('|') !== b.relations.join('|')) {
      const lost = b.relations.filter(r => !a.relations.includes(r));
      const gained = a.relations.filter(r => !b.relations.includes(r));
      out.push(`${ref}: relations lost [${lost.join(', ')}] gained [${gained.join(', ')}]`);
    }
  }
  for (const ref of after.keys()) if (!before.has(ref)) out.push(`${ref}: unexpected`);
  return out;
}

/** A readable assertion message: the count and the first few differences. */
function summary(diffs, limit = 15) {
  return diffs.length === 0 ? 'identical' : `${diffs.length} differences:\n  ${diffs.slice(0, limit).join('\n  ')}`;
}

/**
 * Waits until the catalog is quiescent: it serves `expected` entities and two snapshots taken
 * `intervalMs` apart are identical (nothing is still being processed or stitched).
 */
async function settle(backend, expected, { timeoutMs = 600_000, intervalMs = 3000, onProgress } = {}) {
  const deadline = Date.now() + timeoutMs;
  let previous = null;
  while (Date.now() < deadline) {
    const n = await count(backend);
    onProgress?.(n);
    if (n === expected) {
      const current = await snapshot(backend);
      if (previous && differences(previous, current).length === 0) return current;
      previous = current;
    } else {
      previous = null;
    }
    await sleep(intervalMs);
  }
  throw new Error(`the catalog did not settle at ${expected} entities within ${timeoutMs} ms`);
}

module.exports = { snapshot, count, kinds, differences, summary, settle };
