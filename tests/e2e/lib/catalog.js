'use strict';
// Generates the catalog the suite ingests: `perKind` entities of every kind, in `catalog-info.yaml`
// files as a Backstage adopter keeps them, with relations across kinds. One index file (the
// config location) holds `perKind` Location entities, each pointing at one shard file that holds
// one entity of each other kind; two extra files are registered through the catalog API (so one
// can be unregistered through it).
const fs = require('node:fs');
const path = require('node:path');

const KINDS = ['Domain', 'System', 'Component', 'API', 'Resource', 'Group', 'User', 'Template', 'Location'];

const pad = i => String(i).padStart(4, '0');

/** JSON is YAML: one document per entity, `---` between them. */
const documents = entities => entities.map(e => `---\n${JSON.stringify(e)}\n`).join('');

function shardEntities(i, n) {
  const id = pad(i);
  const next = pad((i + 1) % n);
  const owner = `group:default/team-${id}`;
  const meta = (name, extra = {}) => ({
    name,
    description: `generated for the disaster-recovery suite (${name})`,
    tags: ['e2e', `shard-${i % 10}`],
    annotations: { 'backstage.io/techdocs-ref': 'dir:.' },
    ...extra,
  });
  return [
    { apiVersion: 'backstage.io/v1alpha1', kind: 'Domain', metadata: meta(`domain-${id}`), spec: { owner } },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'System',
      metadata: meta(`system-${id}`),
      spec: { owner, domain: `domain-${id}` },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: meta(`component-${id}`, { links: [{ url: `https://example.com/${id}`, title: 'home' }] }),
      spec: {
        type: 'service',
        lifecycle: i % 3 === 0 ? 'experimental' : 'production',
        owner,
        system: `system-${id}`,
        providesApis: [`api-${id}`],
        consumesApis: [`api-${next}`],
        dependsOn: [`resource:default/resource-${id}`, `component:default/component-${next}`],
      },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'API',
      metadata: meta(`api-${id}`),
      spec: {
        type: 'openapi',
        lifecycle: 'production',
        owner,
        system: `system-${id}`,
        definition: `openapi: 3.0.0\ninfo: { title: api-${id}, version: 1.0.0 }\npaths: {}\n`,
      },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: meta(`resource-${id}`),
      spec: { type: 'database', owner, system: `system-${id}`, dependsOn: [`resource:default/resource-${next}`] },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: meta(`team-${id}`),
      spec: {
        type: 'team',
        profile: { displayName: `Team ${id}` },
        ...(i === 0 ? {} : { parent: `team-${pad(Math.floor((i - 1) / 10))}` }),
        children: [],
      },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: meta(`user-${id}`),
      spec: { profile: { displayName: `User ${id}`, email: `user-${id}@example.com` }, memberOf: [`team-${id}`] },
    },
    {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: meta(`template-${id}`, { title: `Template ${id}` }),
      spec: {
        type: 'service',
        owner,
        parameters: [{ title: 'Name', required: ['name'], properties: { name: { type: 'string' } } }],
        steps: [{ id: 'log', name: 'Log', action: 'debug:log', input: { message: '${{ parameters.name }}' } }],
      },
    },
  ];
}

/** A file registered through the catalog API: a few components owned by team-0000. */
function extraEntities(tag, count) {
  return Array.from({ length: count }, (_, k) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: `${tag}-component-${k}`, tags: ['e2e', tag] },
    spec: { type: 'library', lifecycle: 'production', owner: 'group:default/team-0000', dependsOn: ['component:default/component-0000'] },
  }));
}

/**
 * Writes the catalog under `dir`; returns `{index, registered, expected}`: the config location
 * (a path), the files to register through the API (names under `dir`, served over HTTP), and
 * the entity count the catalog must reach.
 */
function writeCatalog(dir, perKind) {
  fs.mkdirSync(path.join(dir, 'shards'), { recursive: true });
  const locations = [];
  for (let i = 0; i < perKind; i++) {
    const file = `shards/shard-${pad(i)}.yaml`;
    fs.writeFileSync(path.join(dir, file), documents(shardEntities(i, perKind)));
    locations.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: { name: `shard-${pad(i)}`, description: `shard ${i}` },
      spec: { type: 'file', target: `./${file}` },
    });
  }
  const index = path.join(dir, 'catalog-info.yaml');
  fs.writeFileSync(index, documents(locations));
  const registered = [];
  for (const tag of ['extra-a', 'extra-b']) {
    fs.writeFileSync(path.join(dir, `${tag}.yaml`), documents(extraEntities(tag, 10)));
    registered.push(`${tag}.yaml`);
  }
  // 8 kinds in the shards, perKind Location entities in the index, one Location entity per
  // location the catalog knows (the config one and each registered one), 10 per extra file.
  const expected = perKind * 9 + 1 + registered.length * 11;
  return { index, registered, expected };
}

module.exports = { KINDS, writeCatalog };
