'use strict';
// Store URLs, as core's store/location.rs reads them: a folder, file://PATH, or
// s3://bucket/prefix?region=…&endpoint=…&path_style=…&sse=…&kms_key_id=….
const { invalid, printable } = require('../../errors');

const control = /[\u0000-\u001f\u007f]/;
const badSegments = prefix => prefix.split('/').some(seg => seg === '' || seg === '.' || seg === '..');

function nonEmpty(name, value) {
  if (!value.trim()) throw invalid(`the s3:// URL parameter ${name} is empty`);
  return value;
}

function parseS3(text) {
  const rawPath = text.slice('s3://'.length).split('?')[0];
  if (rawPath.split('/').slice(1).some(seg => seg === '.' || seg === '..')) {
    throw invalid(`the S3 prefix in '${printable(rawPath)}' has '.' or '..' segments`);
  }
  let url;
  try {
    url = new URL(text);
  } catch {
    throw invalid('store URL is not a valid s3:// URL');
  }
  if (url.username || url.password) {
    throw invalid(
      'the s3:// URL carries credentials: remove them and use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
        'AWS_PROFILE or an IAM role instead',
    );
  }
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw invalid(`'${printable(bucket)}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, dashes)`);
  }
  if (url.port) throw invalid('an s3:// URL has no port: put a custom server in ?endpoint=http://host:port');
  let prefix = url.pathname.replace(/^\/+|\/+$/g, '');
  if (prefix && badSegments(prefix)) throw invalid(`the S3 prefix '${printable(prefix)}' has empty, '.' or '..' segments`);
  try {
    prefix = decodeURIComponent(prefix);
  } catch {
    throw invalid('the S3 prefix is not UTF-8');
  }
  if (control.test(prefix)) throw invalid('the S3 prefix contains control characters');
  if (prefix && badSegments(prefix)) throw invalid(`the S3 prefix '${printable(prefix)}' has empty, '.' or '..' segments`);
  const loc = { kind: 's3', bucket, prefix, region: undefined, endpoint: undefined, pathStyle: false, sse: undefined };
  let sse;
  let kmsKeyId;
  for (const [name, value] of url.searchParams) {
    if (control.test(value)) throw invalid(`the s3:// URL parameter '${printable(name)}' contains control characters`);
    if (name === 'region') loc.region = nonEmpty(name, value);
    else if (name === 'endpoint') {
      const endpoint = nonEmpty(name, value);
      let parsed;
      try {
        parsed = new URL(endpoint);
      } catch {
        throw invalid(`endpoint '${printable(endpoint)}' is not a URL`);
      }
      if (!['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
        throw invalid(`endpoint '${printable(endpoint)}' must be an http:// or https:// URL`);
      }
      if (parsed.username || parsed.password) throw invalid('the endpoint URL must not carry credentials');
      loc.endpoint = endpoint.replace(/\/+$/, '');
    } else if (name === 'path_style') {
      if (['true', '1', 'yes'].includes(value)) loc.pathStyle = true;
      else if (['false', '0', 'no'].includes(value)) loc.pathStyle = false;
      else throw invalid(`path_style must be true or false, not '${printable(value)}'`);
    } else if (name === 'sse') sse = value;
    else if (name === 'kms_key_id') kmsKeyId = nonEmpty(name, value);
    else throw invalid(`unknown s3:// URL parameter '${printable(name)}': known ones are region, endpoint, path_style, sse, kms_key_id`);
  }
  const aes = sse === 'AES256' || sse === 'aes256';
  if (sse === undefined && kmsKeyId === undefined) loc.sse = undefined;
  else if (aes && kmsKeyId === undefined) loc.sse = { kind: 'AES256' };
  else if (sse === 'aws:kms' || (sse === undefined && kmsKeyId)) loc.sse = { kind: 'aws:kms', keyId: kmsKeyId };
  else if (aes) throw invalid('kms_key_id goes with sse=aws:kms, not sse=AES256');
  else throw invalid(`sse must be AES256 or aws:kms, not '${printable(sse)}'`);
  return loc;
}

/** `{kind: 'local', path}` or `{kind: 's3', bucket, prefix, region, endpoint, pathStyle, sse}`. */
function parseLocation(input) {
  const text = String(input ?? '').trim();
  if (!text) throw invalid('the store is empty: give a folder (./backups) or s3://bucket/prefix');
  if (text.startsWith('file://')) {
    const rest = text.slice('file://'.length);
    if (!rest) throw invalid('file:// needs a path, e.g. file:///var/backups/backstage');
    if (control.test(rest)) throw invalid('the store path contains control characters');
    return { kind: 'local', path: rest };
  }
  if (text.startsWith('s3://')) return parseS3(text);
  const scheme = text.match(/^([^/]*?):\/\//);
  if (scheme) {
    throw invalid(`unsupported store scheme '${printable(scheme[1])}://': use a folder path, file://PATH or s3://bucket/prefix`);
  }
  if (control.test(text)) throw invalid('the store path contains control characters');
  return { kind: 'local', path: text };
}

function describe(loc) {
  if (loc.kind === 'local') return loc.path;
  let out = `s3://${loc.bucket}`;
  if (loc.prefix) out += `/${loc.prefix}`;
  if (loc.endpoint) out += ` (endpoint ${loc.endpoint})`;
  return out;
}

module.exports = { parseLocation, describe };
