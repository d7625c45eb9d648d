import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ArtifactCorruptError, ArtifactNotFoundError, sha256Hex, type ArtifactStore } from '../storage/artifact-store';
import { createArtifactStore } from '../storage/factory';
import { startS3Server, type S3Server } from '../infra/s3/s3-server';

// A real S3-compatible server (VersityGW over a folder) for the s3 store, its keys where the
// AWS SDK's default chain finds them, as a worker's environment would hold them.
let s3: S3Server;
const s3Stores: ArtifactStore[] = [];
beforeAll(async () => {
  s3 = await startS3Server({ dataDir: mkdtempSync(path.join(tmpdir(), 'prooflane-s3-')), stdio: 'ignore' });
  Object.assign(process.env, s3.credentialsEnv);
});
afterAll(async () => {
  for (const store of s3Stores) await store.close();
  await s3?.stop();
});

/** A store in a fresh bucket, under a prefix, as a cluster would name it. */
async function s3Store(): Promise<ArtifactStore> {
  const store = createArtifactStore(await s3.artifactStoreUri(`contract-${randomUUID().slice(0, 8)}`, 'prooflane/artifacts'));
  s3Stores.push(store);
  return store;
}

/** The suite every artifact store passes, each built through the factory from its URI, as workers build them. */
const IMPLEMENTATIONS: [string, () => ArtifactStore | Promise<ArtifactStore>][] = [
  ['file', () => createArtifactStore(pathToFileURL(mkdtempSync(path.join(tmpdir(), 'prooflane-store-'))).href)],
  ['memory', () => createArtifactStore(`memory://contract-${randomUUID()}`)],
  ['s3', s3Store],
];

describe.each(IMPLEMENTATIONS)('artifact store contract: %s', (_name, create) => {
  it('returns exactly the bytes it stored, under their content address', async () => {
    const store = await create();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const ref = await store.put(bytes);
        expect(ref).toBe(`sha256:${sha256Hex(bytes)}`);
        expect(Buffer.from(await store.get(ref)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: 11, numRuns: 100 },
    );
  });

  it('stores the same bytes once, however often and however concurrently they are put', async () => {
    const store = await create();
    const bytes = Buffer.from('one proof');
    const refs = await Promise.all(Array.from({ length: 16 }, () => store.put(bytes)));
    expect(new Set(refs).size).toBe(1);
    expect(Buffer.from(await store.get(refs[0])).toString()).toBe('one proof');
  });

  it('keeps its own copy: changing the caller buffer afterwards changes nothing stored', async () => {
    const store = await create();
    const bytes = Buffer.from('original');
    const ref = await store.put(bytes);
    bytes.write('tampered');
    const read = await store.get(ref);
    expect(Buffer.from(read).toString()).toBe('original');
    read[0] = 0;
    expect(Buffer.from(await store.get(ref)).toString()).toBe('original');
  });

  it('answers ArtifactNotFoundError for an unknown reference and for anything that is not a reference', async () => {
    const store = await create();
    await expect(store.get(`sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    for (const ref of ['../../etc/passwd', 'sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha256:${'0'.repeat(63)}`, '']) {
      await expect(store.get(ref)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    }
  });
});

describe('file artifact store', () => {
  it('detects a changed file under its content address instead of handing it out', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'prooflane-store-'));
    const store = createArtifactStore(pathToFileURL(root).href);
    const ref = await store.put(Buffer.from('genuine proof'));
    const digest = ref.slice('sha256:'.length);
    writeFileSync(path.join(root, 'sha256', digest.slice(0, 2), digest), 'forged proof');
    await expect(store.get(ref)).rejects.toBeInstanceOf(ArtifactCorruptError);
  });

  it('leaves no staging files behind', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'prooflane-store-'));
    const store = createArtifactStore(pathToFileURL(root).href);
    const ref = await store.put(Buffer.from('proof'));
    const digest = ref.slice('sha256:'.length);
    expect(readdirSync(path.join(root, 'sha256', digest.slice(0, 2)))).toEqual([digest]);
  });
});

describe('s3 artifact store', () => {
  it('detects a changed object under its content address instead of handing it out', async () => {
    const bucket = `forged-${randomUUID().slice(0, 8)}`;
    const store = createArtifactStore(await s3.artifactStoreUri(bucket, 'p'));
    s3Stores.push(store);
    const ref = await store.put(Buffer.from('genuine proof'));
    const digest = ref.slice('sha256:'.length);
    const raw = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true });
    try {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `p/sha256/${digest.slice(0, 2)}/${digest}`, Body: 'forged proof' }));
    } finally {
      raw.destroy();
    }
    await expect(store.get(ref)).rejects.toBeInstanceOf(ArtifactCorruptError);
  });

  it('keeps stores with other prefixes or buckets apart', async () => {
    const bucket = `apart-${randomUUID().slice(0, 8)}`;
    const [one, other, elsewhere] = await Promise.all([
      s3.artifactStoreUri(bucket, 'one'),
      s3.artifactStoreUri(bucket, 'other'),
      s3.artifactStoreUri(`${bucket}-b`, 'one'),
    ]).then((uris) => uris.map((uri) => createArtifactStore(uri)));
    s3Stores.push(one, other, elsewhere);
    const ref = await one.put(Buffer.from('proof'));
    await expect(other.get(ref)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(elsewhere.get(ref)).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('fails a put loudly when the service refuses the credentials, instead of returning a reference', async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const denied = createArtifactStore(await s3.artifactStoreUri(`denied-${randomUUID().slice(0, 8)}`));
      s3Stores.push(denied);
      await expect(denied.put(Buffer.from('proof'))).rejects.toThrow(/signature|denied|forbidden/i);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });
});

describe('artifact store factory', () => {
  it('names the schemes it knows when a URI is unknown or not a URI', () => {
    expect(() => createArtifactStore('ftp://host/x')).toThrow(/unsupported scheme ftp: \(schemes: file:\/\/, s3:\/\/, memory:\/\/\)/);
    expect(() => createArtifactStore('/data/artifacts')).toThrow(/is not a URI/);
  });

  it('gives every in-process worker that names the same memory store the same store', async () => {
    const name = `memory://shared-${randomUUID()}`;
    const ref = await createArtifactStore(name).put(Buffer.from('shared'));
    expect(Buffer.from(await createArtifactStore(name).get(ref)).toString()).toBe('shared');
    await expect(createArtifactStore(`memory://other-${randomUUID()}`).get(ref)).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });
});
