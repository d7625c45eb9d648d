import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BlockHashSchema, BlockNumberSchema, ChainIdSchema, CountedProofSchema } from '../domain/block';
import {
  conflictWith,
  samePublication,
  type ProofPublisher,
  type Publication,
  type PublishedRecord,
  type PublishReceipt,
} from './proof-publisher';

const PublishedRecordSchema = z.object({
  chainId: ChainIdSchema,
  number: BlockNumberSchema,
  hash: BlockHashSchema,
  proofRef: z.string(),
  proofs: z.array(CountedProofSchema).optional(),
  publishedAt: z.number(),
});

/** Records are written here first; a crash mid-publication can leave a file here, never in a chain's folder. */
const STAGING = '.staging';

/**
 * One JSON record per block under `<root>/<chainId>/<number>.json`. A record is written whole
 * to a staging file (`<root>/.staging/`, same file system), flushed, then hard-linked to its
 * name, which fails if the name exists: a crash at any point leaves either no record or a
 * complete one, never a half file, and a chain's folder holds only records.
 */
export class FileProofPublisher implements ProofPublisher {
  constructor(readonly root: string) {}

  async publish(publication: Publication): Promise<PublishReceipt> {
    const file = this.pathOf(publication.chainId, publication.number);
    const stagingDir = path.join(this.root, STAGING);
    await Promise.all([mkdir(path.dirname(file), { recursive: true }), mkdir(stagingDir, { recursive: true })]);
    const record: PublishedRecord = { ...publication, publishedAt: Date.now() };
    const staging = path.join(stagingDir, `${publication.chainId}-${publication.number}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(staging, 'wx');
      try {
        await handle.writeFile(JSON.stringify(record));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await link(staging, file);
      return { publishedAt: record.publishedAt, alreadyPublished: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(staging, { force: true });
    }
    const existing = (await this.lookup(publication.chainId, publication.number)) as PublishedRecord;
    if (!samePublication(existing, publication)) throw conflictWith(existing);
    return { publishedAt: existing.publishedAt, alreadyPublished: true };
  }

  async lookup(chainId: string, number: number): Promise<PublishedRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(chainId, number), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return PublishedRecordSchema.parse(JSON.parse(text));
  }

  async head(chainId: string): Promise<number | null> {
    let names: string[];
    try {
      names = await readdir(path.join(this.root, ChainIdSchema.parse(chainId)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let head: number | null = null;
    for (const name of names) {
      const match = /^(\d{1,16})\.json$/.exec(name);
      if (match && (head === null || Number(match[1]) > head)) head = Number(match[1]);
    }
    return head;
  }

  /** Only a valid chain id and block number become a path: nothing a client sends can name another file. */
  private pathOf(chainId: string, number: number): string {
    return path.join(this.root, ChainIdSchema.parse(chainId), `${BlockNumberSchema.parse(number)}.json`);
  }
}
