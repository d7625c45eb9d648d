import { stopTestServers } from './test-run';

export default async function globalTeardown(): Promise<void> {
  await stopTestServers();
}
