import {
  conflictWith,
  samePublication,
  type ProofPublisher,
  type Publication,
  type PublishedRecord,
  type PublishReceipt,
} from './proof-publisher';

/** Publications in this process's memory: for tests and single-process tools. */
export class MemoryProofPublisher implements ProofPublisher {
  private readonly records = new Map<string, PublishedRecord>();

  async publish(publication: Publication): Promise<PublishReceipt> {
    const key = `${publication.chainId}/${publication.number}`;
    const existing = this.records.get(key);
    if (existing) {
      if (!samePublication(existing, publication)) throw conflictWith(existing);
      return { publishedAt: existing.publishedAt, alreadyPublished: true };
    }
    const record: PublishedRecord = { ...publication, publishedAt: Date.now() };
    this.records.set(key, record);
    return { publishedAt: record.publishedAt, alreadyPublished: false };
  }

  async lookup(chainId: string, number: number): Promise<PublishedRecord | undefined> {
    const record = this.records.get(`${chainId}/${number}`);
    return record && { ...record };
  }

  async head(chainId: string): Promise<number | null> {
    let head: number | null = null;
    for (const record of this.records.values())
      if (record.chainId === chainId && (head === null || record.number > head)) head = record.number;
    return head;
  }
}
