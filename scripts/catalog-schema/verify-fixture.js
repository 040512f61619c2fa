#!/usr/bin/env node
/*
 * Checks a database made by `catalog-fixture` against the code of
 * @backstage/plugin-catalog-backend 4.0.0 itself:
 *   - every final entity passes catalog-model's entity schema and its kind's
 *     validator (Template has no validator in catalog-model: envelope only);
 *   - final_entities.hash and metadata.etag equal the stitcher's stable hash;
 *   - refresh_state.unprocessed_hash equals generateStableHash(unprocessed);
 *   - the stitched relations equal the distinct relations rows (ordered);
 *   - the search rows equal what the stitcher's buildEntitySearch produces;
 *   - every entity has an incoming refresh_state_references row (no orphans).
 *
 * Usage: node verify-fixture.js postgresql://postgres@127.0.0.1:5432/DBNAME
 * (run `npm ci --ignore-scripts` here first, or use generate.sh once).
 */
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const { Client } = require('pg');
const stableStringify = require('fast-json-stable-stringify');
const model = require('@backstage/catalog-model');

const backendDir = path.dirname(require.resolve('@backstage/plugin-catalog-backend/package.json'));
const { buildEntitySearch } = require(
  path.join(backendDir, 'dist/database/operations/stitcher/buildEntitySearch.cjs.js'),
);

const sha1 = s => crypto.createHash('sha1').update(s).digest('hex');

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error('usage: node verify-fixture.js DATABASE_URL');
  const db = new Client({ connectionString: url });
  await db.connect();
  const kindValidators = [
    model.apiEntityV1alpha1Validator,
    model.componentEntityV1alpha1Validator,
    model.domainEntityV1alpha1Validator,
    model.groupEntityV1alpha1Validator,
    model.locationEntityV1alpha1Validator,
    model.resourceEntityV1alpha1Validator,
    model.systemEntityV1alpha1Validator,
    model.userEntityV1alpha1Validator,
  ];
  const validateEntity = model.entitySchemaValidator();
  const failures = [];
  const fail = (ref, msg) => {
    if (failures.length < 20) failures.push(`${ref}: ${msg}`);
    else if (failures.length === 20) failures.push('...');
  };

  const { rows: entities } = await db.query(
    `SELECT f.entity_id, f.entity_ref, f.hash, f.final_entity, r.unprocessed_entity, r.unprocessed_hash,
            (SELECT count(*) FROM refresh_state_references x WHERE x.target_entity_ref = f.entity_ref)::int AS refs
       FROM final_entities f JOIN refresh_state r USING (entity_id) ORDER BY f.entity_ref`,
  );
  const relationRows = new Map();
  for (const r of (
    await db.query(
      `SELECT DISTINCT source_entity_ref, type, target_entity_ref FROM relations
        ORDER BY source_entity_ref, type, target_entity_ref`,
    )
  ).rows) {
    if (!relationRows.has(r.source_entity_ref)) relationRows.set(r.source_entity_ref, []);
    relationRows.get(r.source_entity_ref).push({ type: r.type, targetRef: r.target_entity_ref });
  }
  const searchRows = new Map();
  for (const r of (await db.query(`SELECT entity_id, key, value, original_value FROM search`)).rows) {
    if (!searchRows.has(r.entity_id)) searchRows.set(r.entity_id, []);
    searchRows.get(r.entity_id).push(`${r.key}\t${r.value}\t${r.original_value}`);
  }

  let validated = 0;
  for (const row of entities) {
    const entity = JSON.parse(row.final_entity);
    const ref = row.entity_ref;
    try {
      validateEntity(entity);
      let matched = false;
      for (const v of kindValidators) {
        if (await v.check(entity)) matched = true;
      }
      if (matched) validated += 1;
      else if (entity.kind !== 'Template') fail(ref, 'no kind validator matched');
    } catch (e) {
      fail(ref, `invalid entity: ${e.message}`);
    }
    const { etag, ...metadata } = entity.metadata;
    const hash = sha1(stableStringify({ ...entity, metadata }));
    if (hash !== row.hash || etag !== row.hash) fail(ref, `hash ${row.hash} etag ${etag} computed ${hash}`);
    const unprocessed = JSON.parse(row.unprocessed_entity);
    if (sha1(stableStringify(unprocessed)) !== row.unprocessed_hash) fail(ref, 'unprocessed_hash');
    if (model.stringifyEntityRef(entity) !== ref) fail(ref, 'entity_ref');
    if (entity.metadata.uid !== row.entity_id) fail(ref, 'uid');
    const expectedRelations = relationRows.get(ref) ?? [];
    if (JSON.stringify(expectedRelations) !== JSON.stringify(entity.relations)) {
      fail(ref, `relations differ from the relations table: ${JSON.stringify(entity.relations)}`);
    }
    const expectedSearch = buildEntitySearch(row.entity_id, entity)
      .map(r => `${r.key}\t${r.value}\t${r.original_value}`)
      .sort();
    const actualSearch = (searchRows.get(row.entity_id) ?? []).sort();
    if (JSON.stringify(expectedSearch) !== JSON.stringify(actualSearch)) {
      const missing = expectedSearch.filter(x => !actualSearch.includes(x)).slice(0, 3);
      const extra = actualSearch.filter(x => !expectedSearch.includes(x)).slice(0, 3);
      fail(ref, `search rows differ; missing ${JSON.stringify(missing)} extra ${JSON.stringify(extra)}`);
    }
    if (row.refs === 0) fail(ref, 'orphan (no refresh_state_references row targets it)');
  }
  await db.end();
  console.log(
    `${entities.length} entities checked (${validated} by a kind validator), ${failures.length} problems`,
  );
  for (const f of failures) console.log(`  ${f}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch(err => {
  console.error(`verify-fixture.js: ${err.stack || err.message}`);
  process.exit(1);
});
