'use strict';
// The catalog the test backend ingests: a small organisation of every common kind, written as
// the catalog-info.yaml a real app would point `catalog.locations` at.

/** How many entities of each kind the file holds. */
const COUNTS = { Group: 4, User: 24, System: 3, Component: 40, API: 12, Resource: 6 };

function entity(kind, name, spec, extra = {}) {
  return { apiVersion: 'backstage.io/v1alpha1', kind, metadata: { name, ...extra }, spec };
}

/** The entities, and the file's text (YAML documents written as JSON, which YAML reads). */
function catalogInfo() {
  const groups = Array.from({ length: COUNTS.Group }, (_, i) => `team-${i + 1}`);
  const systems = Array.from({ length: COUNTS.System }, (_, i) => `system-${i + 1}`);
  const pick = (list, i) => list[i % list.length];
  const entities = [
    ...groups.map(name => entity('Group', name, { type: 'team', children: [] })),
    ...Array.from({ length: COUNTS.User }, (_, i) => entity('User', `user-${i + 1}`, { memberOf: [pick(groups, i)] })),
    ...systems.map((name, i) => entity('System', name, { owner: pick(groups, i) })),
    ...Array.from({ length: COUNTS.API }, (_, i) =>
      entity('API', `api-${i + 1}`, { type: 'openapi', lifecycle: 'production', owner: pick(groups, i), system: pick(systems, i), definition: 'openapi: 3.0.0' }),
    ),
    ...Array.from({ length: COUNTS.Component }, (_, i) =>
      entity(
        'Component',
        `service-${i + 1}`,
        { type: 'service', lifecycle: 'production', owner: pick(groups, i), system: pick(systems, i), providesApis: [`api-${(i % COUNTS.API) + 1}`] },
        { description: `Service number ${i + 1} of the browser test's catalog` },
      ),
    ),
    ...Array.from({ length: COUNTS.Resource }, (_, i) =>
      entity('Resource', `database-${i + 1}`, { type: 'database', owner: pick(groups, i), system: pick(systems, i) }),
    ),
  ];
  return { entities, text: entities.map(e => `---\n${JSON.stringify(e)}\n`).join('') };
}

module.exports = { COUNTS, catalogInfo };
