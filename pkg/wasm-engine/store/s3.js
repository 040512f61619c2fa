'use strict';
// An S3 store, as core's store/s3.rs: multipart uploads with a SHA-256 per part (part size
// grows every 1,000 parts so the 10,000-part limit holds past 5 TiB, two parts in flight),
// put-if-absent with If-None-Match, and abort on any failure, awaited, so no partial object
// or open upload is left when an operation fails or is cancelled. Credentials come from the
// SDK's standard chain (environment, profiles and SSO, web identity, instance roles).
// Not @aws-sdk/lib-storage's Upload: its done() rejects on abort before AbortMultipartUpload is
// sent (and never sends it while the body stream is stalled), its part size is fixed, and it
// cannot refuse to overwrite an existing object; those are this store's promises.
const crypto = require('node:crypto');

const { BackupError, invalid, store: storeError } = require('../../errors');
const { describe } = require('./location');

const FIRST_PART_SIZE = 6 << 20;
const PARTS_PER_SIZE_STEP = 1000;
const MAX_PARTS_IN_FLIGHT = 2;

const partSize = n => FIRST_PART_SIZE * 2 ** Math.min(9, Math.floor((Math.max(n, 1) - 1) / PARTS_PER_SIZE_STEP));
const sha256 = data => crypto.createHash('sha256').update(data).digest('base64');

class S3Store {
  /** `credentials` ({accessKeyId, secretAccessKey, sessionToken?}) replace the AWS chain when given. */
  constructor(loc, credentials) {
    // Loaded here so a local-only user never pays for the SDK.
    this.sdk = require('@aws-sdk/client-s3');
    this.loc = loc;
    const endpoint = loc.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
    let region = loc.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
    // A custom server rarely cares about the region; AWS itself needs the right one.
    if (!region && endpoint) region = 'us-east-1';
    this.client = new this.sdk.S3Client({
      region,
      endpoint: loc.endpoint,
      forcePathStyle: loc.pathStyle,
      ...(credentials ? { credentials } : {}),
      maxAttempts: 6,
      requestHandler: { connectionTimeout: 10000, requestTimeout: 120000 },
      // SHA-256 is set explicitly on every write; the SDK's default CRC32 trailers are not
      // understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  describe() {
    return describe(this.loc);
  }

  fullKey(key) {
    return this.loc.prefix ? `${this.loc.prefix}/${key}` : key;
  }

  listPrefix() {
    return this.loc.prefix ? `${this.loc.prefix}/` : '';
  }

  relative(full) {
    if (!full?.startsWith(this.listPrefix())) return undefined;
    const rest = full.slice(this.listPrefix().length);
    return rest && !rest.includes('/') ? rest : undefined;
  }

  sse() {
    const sse = this.loc.sse;
    if (!sse) return {};
    if (sse.kind === 'AES256') return { ServerSideEncryption: 'AES256' };
    return { ServerSideEncryption: 'aws:kms', ...(sse.keyId ? { SSEKMSKeyId: sse.keyId } : {}) };
  }

  error(doing, key, err) {
    const bucket = this.loc.bucket;
    const what = `${doing} s3://${bucket}/${key}`;
    const code = err?.name ?? err?.Code;
    const status = err?.$metadata?.httpStatusCode;
    if (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload')) {
      return new BackupError('E_NOT_FOUND', `${what}: no such object`);
    }
    if (code === 'NoSuchBucket') return storeError(`${what}: bucket '${bucket}' does not exist; create it or fix the store URL`);
    if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(code)) {
      return storeError(`${what}: access denied (${code}); check the AWS credentials and the bucket policy`);
    }
    if (/Region is missing/i.test(err?.message ?? '')) {
      return invalid('no AWS region is set for the S3 store: add ?region=… to the URL or set AWS_REGION');
    }
    if (code === 'CredentialsProviderError' || /credential/i.test(err?.message ?? '')) {
      return storeError(
        `${what}: no usable AWS credentials (${err.message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ` +
          'AWS_PROFILE, or run with an IAM role',
      );
    }
    if (['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(err?.code) || code === 'TimeoutError') {
      return storeError(
        `${what}: cannot reach ${this.loc.endpoint ?? 'AWS S3'} (${err.code ?? code}); check the endpoint, the network and that the server is up`,
      );
    }
    return storeError(`${what}: ${code ?? 'error'}: ${err?.message ?? err}`);
  }

  async send(command, doing, key) {
    try {
      return await this.client.send(command);
    } catch (err) {
      throw this.error(doing, key, err);
    }
  }

  async writeSmall(key, data, exclusive) {
    const body = Buffer.from(data);
    try {
      await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.fullKey(key),
          Body: body,
          ContentLength: body.length,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: sha256(body),
          ...this.sse(),
          ...(exclusive ? { IfNoneMatch: '*' } : {}),
        }),
      );
    } catch (err) {
      if (err?.name === 'PreconditionFailed' || err?.name === 'ConditionalRequestConflict' || err?.$metadata?.httpStatusCode === 412) {
        throw new BackupError('E_EXISTS', `${key} already exists in the store`);
      }
      throw this.error('writing', key, err);
    }
  }

  put(key, data) {
    return this.writeSmall(key, data, false);
  }

  putNew(key, data) {
    return this.writeSmall(key, data, true);
  }

  async startUpload(key) {
    const Key = this.fullKey(key);
    const created = await this.send(
      new this.sdk.CreateMultipartUploadCommand({
        Bucket: this.loc.bucket,
        Key,
        ContentType: 'application/gzip',
        ChecksumAlgorithm: 'SHA256',
        ...this.sse(),
      }),
      'starting the upload of',
      key,
    );
    if (!created.UploadId) throw storeError('the S3 server returned no upload id');
    return new S3Upload(this, key, Key, created.UploadId);
  }

  async get(key) {
    const out = await this.send(new this.sdk.GetObjectCommand({ Bucket: this.loc.bucket, Key: this.fullKey(key) }), 'reading', key);
    return { stream: out.Body, size: Number(out.ContentLength ?? 0) };
  }

  async list() {
    const out = [];
    let token;
    do {
      const page = await this.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.loc.bucket,
          Prefix: this.listPrefix(),
          Delimiter: '/',
          ContinuationToken: token,
        }),
        'listing',
        this.listPrefix(),
      );
      for (const object of page.Contents ?? []) {
        const key = this.relative(object.Key);
        if (key) out.push({ key, size: Number(object.Size ?? 0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key) {
    await this.send(new this.sdk.DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.fullKey(key) }), 'deleting', key);
  }

  async pendingUploads() {
    const out = [];
    let KeyMarker;
    let UploadIdMarker;
    for (;;) {
      const page = await this.send(
        new this.sdk.ListMultipartUploadsCommand({ Bucket: this.loc.bucket, Prefix: this.listPrefix(), KeyMarker, UploadIdMarker }),
        'listing uploads in',
        this.listPrefix(),
      );
      for (const upload of page.Uploads ?? []) {
        const key = this.relative(upload.Key);
        if (key && upload.UploadId) out.push({ key, started_ms: upload.Initiated ? new Date(upload.Initiated).getTime() : undefined, handle: upload.UploadId });
      }
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
      if (!KeyMarker && !UploadIdMarker) break;
    }
    return out;
  }

  async abortPending(pending) {
    await this.send(
      new this.sdk.AbortMultipartUploadCommand({ Bucket: this.loc.bucket, Key: this.fullKey(pending.key), UploadId: pending.handle }),
      'aborting the upload of',
      pending.key,
    );
  }
}

class S3Upload {
  constructor(store, key, fullKey, uploadId) {
    Object.assign(this, { store, key, fullKey, uploadId });
    this.buffered = [];
    this.bufferedBytes = 0;
    this.nextPart = 1;
    this.inFlight = new Set();
    this.done = [];
    this.failed = undefined;
    this.open = true;
  }

  take(size) {
    const all = Buffer.concat(this.buffered);
    const part = all.subarray(0, size);
    const rest = all.subarray(size);
    this.buffered = rest.length ? [rest] : [];
    this.bufferedBytes = rest.length;
    return part;
  }

  sendPart(body) {
    const PartNumber = this.nextPart++;
    const ChecksumSHA256 = sha256(body);
    const { sdk, loc } = this.store;
    const sending = this.store
      .send(
        new sdk.UploadPartCommand({
          Bucket: loc.bucket,
          Key: this.fullKey,
          UploadId: this.uploadId,
          PartNumber,
          Body: body,
          ContentLength: body.length,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256,
        }),
        `uploading part ${PartNumber} of`,
        this.key,
      )
      .then(out => this.done.push({ PartNumber, ETag: out.ETag, ChecksumSHA256 }))
      .catch(err => {
        this.failed ??= err;
      })
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  async settleOne() {
    if (this.inFlight.size) await Promise.race(this.inFlight);
    if (this.failed) throw this.failed;
  }

  async fail(err) {
    await this.abort().catch(() => {});
    throw err;
  }

  async write(chunk) {
    if (!this.open) throw new BackupError('E_INTERNAL', 'write after the upload ended');
    if (this.failed) await this.fail(this.failed);
    this.buffered.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.bufferedBytes += chunk.byteLength;
    try {
      while (this.bufferedBytes >= partSize(this.nextPart)) {
        while (this.inFlight.size >= MAX_PARTS_IN_FLIGHT) await this.settleOne();
        this.sendPart(this.take(partSize(this.nextPart)));
      }
    } catch (err) {
      await this.fail(err);
    }
  }

  async complete() {
    const { sdk, loc } = this.store;
    try {
      if (this.bufferedBytes || this.nextPart === 1) this.sendPart(this.take(this.bufferedBytes));
      while (this.inFlight.size) await this.settleOne();
      if (this.failed) throw this.failed;
      // Never replace an object someone else completed under this name.
      let exists = true;
      try {
        await this.store.client.send(new sdk.HeadObjectCommand({ Bucket: loc.bucket, Key: this.fullKey }));
      } catch (err) {
        if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound') exists = false;
        else throw this.store.error('checking', this.key, err);
      }
      if (exists) throw new BackupError('E_EXISTS', `${this.key} already exists in the store`);
      const Parts = [...this.done].sort((a, b) => a.PartNumber - b.PartNumber);
      await this.store.send(
        new sdk.CompleteMultipartUploadCommand({ Bucket: loc.bucket, Key: this.fullKey, UploadId: this.uploadId, MultipartUpload: { Parts } }),
        'completing the upload of',
        this.key,
      );
      this.open = false;
    } catch (err) {
      await this.fail(err);
    }
  }

  /** Waits for parts in flight, then aborts the upload: nothing of it stays in the store. */
  async abort() {
    if (!this.open) return;
    this.open = false;
    this.buffered = [];
    await Promise.allSettled([...this.inFlight]);
    const { sdk, loc } = this.store;
    await this.store.send(
      new sdk.AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: this.fullKey, UploadId: this.uploadId }),
      'aborting the upload of',
      this.key,
    );
  }
}

module.exports = { S3Store, partSize };
