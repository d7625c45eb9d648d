import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, stopProcess } from '../processes';
import { exitWatch, waitUntil } from '../temporal/server';

/**
 * A real S3-compatible server on loopback: VersityGW serving a folder (each bucket a
 * subfolder), with one root key pair. For the tests and a one-machine system; a cluster points
 * `PROOFLANE_ARTIFACT_STORE` at its own object store instead.
 */
export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The environment the AWS SDK reads its credentials from. */
  credentialsEnv: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_REGION: string };
  /** The artifact store URI of `bucket` (created first if missing) under `prefix`. */
  artifactStoreUri(bucket: string, prefix?: string): Promise<string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function versitygwPath(): string {
  return execFileSync('bash', [path.join(__dirname, 'install-versitygw.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export async function startS3Server(options: { dataDir: string; port?: number; stdio?: 'inherit' | 'ignore' }): Promise<S3Server> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = `prooflane${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  const region = 'us-east-1';
  mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(versitygwPath(), ['--port', `127.0.0.1:${port}`, '--region', region, 'posix', options.dataDir], {
    // Keys through the environment, not argv: argv is visible to every user of the machine.
    env: { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', options.stdio ?? 'ignore', options.stdio ?? 'inherit'],
  });
  const stop = (): Promise<void> => stopProcess(child, 'SIGTERM', 5_000);
  const client = new S3Client({ region, endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  const createBucket = async (bucket: string): Promise<void> => {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test((error as Error).name)) throw error;
    }
  };
  try {
    await waitUntil(
      async () => {
        try {
          await fetch(endpoint);
          return true;
        } catch {
          return false;
        }
      },
      `versitygw on ${endpoint}`,
      exitWatch(child),
      30_000,
    );
  } catch (error) {
    client.destroy();
    await stop();
    throw error;
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region,
    credentialsEnv: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region },
    artifactStoreUri: async (bucket, prefix = '') => {
      await createBucket(bucket);
      return `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
    },
    process: child,
    stop: async () => {
      client.destroy();
      await stop();
    },
  };
}
