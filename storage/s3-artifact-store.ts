import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { artifactRef, ArtifactNotFoundError, checkedContent, digestOf, sha256Hex, type ArtifactStore } from './artifact-store';

/** Where an S3 artifact store keeps its objects and how it reaches the service. */
export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' or ending in '/'). */
  prefix: string;
  /** An S3-compatible service's URL (MinIO, VersityGW, Ceph); unset: AWS itself. */
  endpoint?: string;
  region: string;
  /** `bucket` in the path instead of the host name: what most S3-compatible services need. */
  forcePathStyle: boolean;
}

/**
 * Content-addressed objects in an S3 bucket: `<prefix>sha256/ab/abcdef...`, for clusters whose
 * workers share no volume. Credentials come from the AWS SDK's default chain (environment,
 * web identity in Kubernetes, instance profile), never from the URI. Each upload carries the
 * content's SHA-256, so the service refuses bytes damaged in transit; each read is checked
 * against its address, so a changed object is never handed to a verifier as genuine.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;

  constructor(readonly options: S3ArtifactStoreOptions) {
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // The SHA-256 we send is the checksum; no second one computed by the SDK on every put.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(bytes: Uint8Array): Promise<string> {
    const digest = sha256Hex(bytes);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.keyOf(digest),
        // A copy: the caller may change its buffer while the request is in flight.
        Body: Buffer.from(bytes),
        ContentType: 'application/octet-stream',
        ChecksumSHA256: Buffer.from(digest, 'hex').toString('base64'),
      }),
    );
    return artifactRef(digest);
  }

  async get(ref: string): Promise<Uint8Array> {
    const digest = digestOf(ref);
    let bytes: Uint8Array;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(digest) }));
      if (!object.Body) throw new ArtifactNotFoundError(`artifact ${ref} has no body in s3://${this.options.bucket}`);
      bytes = await object.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404))
        throw new ArtifactNotFoundError(`artifact ${ref} is not in s3://${this.options.bucket}/${this.options.prefix}`);
      throw error;
    }
    return checkedContent(ref, digest, bytes);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private keyOf(digest: string): string {
    return `${this.options.prefix}sha256/${digest.slice(0, 2)}/${digest}`;
  }
}

/**
 * `s3://bucket[/prefix]?region=us-east-1&endpoint=http://host:port&forcePathStyle=true`:
 * `endpoint` for an S3-compatible service, `forcePathStyle` defaults to true when an endpoint is
 * given (what those services expect) and false for AWS.
 */
export function s3OptionsFromUrl(url: URL): S3ArtifactStoreOptions {
  const bucket = url.hostname;
  if (!bucket) throw new Error(`artifact store ${url.href}: the bucket is missing (s3://<bucket>/<prefix>)`);
  const known = new Set(['region', 'endpoint', 'forcePathStyle']);
  for (const name of url.searchParams.keys()) {
    if (!known.has(name)) throw new Error(`artifact store ${url.href}: unknown parameter ${name} (parameters: ${[...known].join(', ')})`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    throw new Error(`artifact store ${url.href}: endpoint must be an http(s):// URL`);
  const pathStyle = url.searchParams.get('forcePathStyle');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false')
    throw new Error(`artifact store ${url.href}: forcePathStyle must be true or false`);
  const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  return {
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    endpoint,
    region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
  };
}
