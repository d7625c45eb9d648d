import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, stopProcess } from '../../infra/processes';
import { waitFor } from './cluster';

export interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/**
 * Debian's Prometheus (infra/install-debian-packages.sh) on a spare loopback port, scraping the
 * given targets every second and evaluating the given rule files every second.
 */
export class TestPrometheus {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(options: { targets: { job: string; url: string }[]; ruleFiles: string[] }): Promise<TestPrometheus> {
    const dir = mkdtempSync(path.join(tmpdir(), 'prooflane-prometheus-'));
    const scrapeConfigs = options.targets.map(({ job, url }) => {
      const target = new URL(url);
      return { job_name: job, metrics_path: target.pathname, static_configs: [{ targets: [target.host] }] };
    });
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles,
      scrape_configs: scrapeConfigs,
    };
    writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString('utf8')).slice(-4_000)));
    const url = `http://127.0.0.1:${port}`;
    const prometheus = new TestPrometheus(url, child, dir);
    try {
      await waitFor(
        'Prometheus to be ready',
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log}`);
          return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok ? true : undefined;
        },
        30_000,
      );
    } catch (error) {
      await prometheus.stop();
      throw error;
    }
    return prometheus;
  }

  async alerts(): Promise<PrometheusAlert[]> {
    const body = (await (await fetch(`${this.url}/api/v1/alerts`)).json()) as { data: { alerts: PrometheusAlert[] } };
    return body.data.alerts;
  }

  /** An instant query; answers Prometheus's status, error and result. */
  async query(expr: string): Promise<{ status: string; error?: string; result: unknown[] }> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    return { status: body.status, error: body.error, result: body.data?.result ?? [] };
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 'SIGTERM', 10_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
