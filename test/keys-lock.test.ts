import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { withKeysLock } from '../provers/groth16/keys';

/**
 * The lock that keeps two nodes from preparing different proving keys on a shared keys volume:
 * an owner on another host (where its pid means nothing, and every container is pid 1) counts as
 * alive while its heartbeat beats, and is taken over once it stops.
 */
function lockHeldBy(owner: string, heartbeatAgeMs: number): string {
  const lock = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-lock-')), 'keys.lock');
  mkdirSync(lock);
  writeFileSync(path.join(lock, 'owner'), owner);
  writeFileSync(path.join(lock, 'heartbeat'), '');
  const beat = new Date(Date.now() - heartbeatAgeMs);
  utimesSync(path.join(lock, 'heartbeat'), beat, beat);
  return lock;
}

describe('groth16 keys lock on a shared volume', () => {
  it('takes over a lock whose owner on another host stopped beating', async () => {
    const lock = lockHeldBy('another-node 1', 60_000);
    await expect(
      withKeysLock(
        lock,
        () => undefined,
        async () => 'prepared',
      ),
    ).resolves.toBe('prepared');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock of a dead process on this host, whatever its heartbeat', async () => {
    const lock = lockHeldBy(`${hostname()} 2147483646`, 0);
    await expect(
      withKeysLock(
        lock,
        () => undefined,
        async () => 'prepared',
      ),
    ).resolves.toBe('prepared');
  });

  it('waits for a live owner on another host, even one that is pid 1 like this process might be, and goes on once it is done', async () => {
    const lock = lockHeldBy(`another-node ${process.pid}`, 0);
    const events: string[] = [];
    let released: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (released = resolve));
    const run = withKeysLock(
      lock,
      (message) => {
        events.push(`waiting: ${message}`);
        released();
      },
      async () => {
        events.push('prepared');
      },
    );
    await waiting;
    expect(events).toEqual([expect.stringMatching(/another-node.*waiting for it/)]);
    // The owner finishes: its lock goes away, and the waiter prepares next.
    rmSync(lock, { recursive: true, force: true });
    await run;
    expect(events).toEqual([expect.stringMatching(/waiting/), 'prepared']);
  });
});
