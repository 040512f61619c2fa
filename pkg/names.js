'use strict';
// Results cross from the engines with the CLI's snake_case names; JS callers get camelCase.

// Keys under these are data (label names, entity kinds), not field names: never renamed.
const VERBATIM = new Set(['labels', 'entities', 'expected_entities', 'expectedEntities']);

function rename(value, convert, verbatim = false) {
  if (Array.isArray(value)) return value.map(v => rename(v, convert));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) {
    const name = verbatim ? key : convert(key);
    out[name] = verbatim ? inner : rename(inner, convert, VERBATIM.has(key));
  }
  return out;
}
const toCamel = key => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const toSnake = key => key.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);

const camel = value => rename(value, toCamel);
const snake = value => rename(value, toSnake);

module.exports = { camel, snake };
