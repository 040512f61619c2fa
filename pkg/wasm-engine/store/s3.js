'use strict';
// S3 requests for core's S3 store (crates/core/src/store/s3.rs, through crates/wasm/src/s3.rs),
// one @aws-sdk/client-s3 request a method. The protocol (part sizes, parts in flight, checksums,
// the HEAD before Complete, aborts) and what a failure means are core's; errors leave as the
// SDK threw them. Credentials come from the SDK's standard chain unless given.
class S3Calls {
  /**
   * `location`: core's S3Location (read back by core, which runs the store over these calls);
   * `credentials` ({accessKeyId, secretAccessKey, sessionToken?}) replace the AWS chain when given.
   */
  constructor(loc, credentials) {
    // Loaded here so a local-only user never pays for the SDK.
    this.sdk = require('@aws-sdk/client-s3');
    this.s3Location = loc;
    const endpoint = loc.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
    let region = loc.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
    // A custom server rarely cares about the region; AWS itself needs the right one.
    if (!region && endpoint) region = 'us-east-1';
    this.client = new this.sdk.S3Client({
      region,
      endpoint: loc.endpoint ?? undefined,
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

  send(command, input) {
    return this.client.send(new this.sdk[command]({ Bucket: this.s3Location.bucket, ...input }));
  }

  /** The location's server-side encryption, on every write. */
  sse() {
    const sse = this.s3Location.sse;
    if (!sse) return {};
    if (sse.kind === 'AES256') return { ServerSideEncryption: 'AES256' };
    return { ServerSideEncryption: 'aws:kms', ...(sse.keyId ? { SSEKMSKeyId: sse.keyId } : {}) };
  }

  async putObject(Key, Body, ChecksumSHA256, ifNoneMatch) {
    const write = { Key, Body, ContentLength: Body.length, ChecksumAlgorithm: 'SHA256', ChecksumSHA256, ...this.sse() };
    await this.send('PutObjectCommand', { ...write, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) });
  }

  async createUpload(Key) {
    const upload = { Key, ContentType: 'application/gzip', ChecksumAlgorithm: 'SHA256', ...this.sse() };
    return (await this.send('CreateMultipartUploadCommand', upload)).UploadId;
  }

  async uploadPart(Key, UploadId, PartNumber, Body, ChecksumSHA256) {
    const part = { Key, UploadId, PartNumber, Body, ContentLength: Body.length, ChecksumAlgorithm: 'SHA256', ChecksumSHA256 };
    return (await this.send('UploadPartCommand', part)).ETag;
  }

  async completeUpload(Key, UploadId, parts) {
    const Parts = parts.map(p => ({ PartNumber: p.part_number, ETag: p.etag ?? undefined, ChecksumSHA256: p.sha256 }));
    await this.send('CompleteMultipartUploadCommand', { Key, UploadId, MultipartUpload: { Parts } });
  }

  async abortUpload(Key, UploadId) {
    await this.send('AbortMultipartUploadCommand', { Key, UploadId });
  }

  async headObject(Key) {
    await this.send('HeadObjectCommand', { Key });
  }

  async getObject(Key) {
    const out = await this.send('GetObjectCommand', { Key });
    return { stream: out.Body, size: Number(out.ContentLength ?? 0) };
  }

  async listObjects(Prefix, ContinuationToken) {
    const page = await this.send('ListObjectsV2Command', { Prefix, Delimiter: '/', ContinuationToken });
    const objects = (page.Contents ?? []).map(o => ({ key: o.Key, size: Number(o.Size ?? 0), modified_ms: o.LastModified?.getTime() }));
    return { objects, next_token: page.IsTruncated ? page.NextContinuationToken : undefined };
  }

  async listUploads(Prefix, KeyMarker, UploadIdMarker) {
    const page = await this.send('ListMultipartUploadsCommand', { Prefix, KeyMarker, UploadIdMarker });
    return {
      uploads: (page.Uploads ?? []).map(u => ({ key: u.Key, upload_id: u.UploadId, initiated_ms: u.Initiated?.getTime() })),
      truncated: Boolean(page.IsTruncated),
      next_key_marker: page.NextKeyMarker,
      next_upload_id_marker: page.NextUploadIdMarker,
    };
  }

  async deleteObject(Key) {
    await this.send('DeleteObjectCommand', { Key });
  }
}

module.exports = { S3Calls };
