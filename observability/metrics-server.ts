import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

/**
 * A worker process's metrics endpoint: `GET /metrics` answers prooflane's registry and, when the
 * Temporal SDK exports on a loopback port (observability/runtime.ts), the SDK's metrics after
 * it, so one scrape of one port sees the whole process.
 */
export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveMetrics(options: {
  registry: Registry;
  port: number;
  host?: string;
  sdkMetricsPort?: number;
  logger?: Logger;
}): Promise<MetricsEndpoint> {
  const { registry, sdkMetricsPort, logger } = options;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    void renderMetrics(registry, sdkMetricsPort).then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        logger?.error({ err: error }, 'metrics: could not render');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be rendered\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** prooflane's metrics, then the SDK's (absent, with a comment saying so, while Core does not answer). */
export async function renderMetrics(registry: Registry, sdkMetricsPort?: number): Promise<string> {
  const own = await registry.metrics();
  if (sdkMetricsPort === undefined) return own;
  try {
    const response = await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const sdk = await response.text();
    return `${own}\n${sdk.endsWith('\n') ? sdk : `${sdk}\n`}`;
  } catch (error) {
    return `${own}\n# Temporal SDK metrics unavailable: ${(error as Error).message}\n`;
  }
}
