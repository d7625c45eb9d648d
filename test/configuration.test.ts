import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readme, readmeWithConfiguration } from '../config/document';
import { ConfigError, loadConfig } from '../config/env';
import { ApiConfigSchema, GpuWorkerConfigSchema } from '../config/processes';
import { proverSettings } from '../config/provers';
import { temporalSettings } from '../config/temporal';
import { spawnEntryPoint } from '../infra/processes';
import { createProverRegistry } from '../provers/registry';

const REPO = path.resolve(__dirname, '..');
/** A Temporal client config file without profiles, so a developer's own cannot leak into these cases. */
const NO_PROFILES = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-config-')), 'temporal.toml');
writeFileSync(NO_PROFILES, '[profile.default]\n');

/** Runs one of our processes with `env` and answers how it ended and what it wrote to stderr. */
async function runProcess(script: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const child: ChildProcess = spawnEntryPoint(script, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, stderr };
}

describe('configuration: one schema per process, bad values stop it with the variable named', () => {
  it('names every bad variable and its value', () => {
    const load = () =>
      loadConfig('gpu-worker', GpuWorkerConfigSchema, {
        PROOFLANE_GPU_CLASS: 'RTX 5090',
        PROOFLANE_DRAIN_SECONDS: 'abc',
        PROOFLANE_GPUS: '0',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PROOFLANE_DRAIN_SECONDS="abc": .*expected number/);
    expect(load).toThrow(/PROOFLANE_GPU_CLASS="RTX 5090": a GPU class must match/);
    expect(load).toThrow(/PROOFLANE_GPUS="0": .*>=1/);
  });

  it('reads defaults for what is unset and treats an empty variable as unset', () => {
    const config = loadConfig('api', ApiConfigSchema, { PROOFLANE_API_PORT: '', PROOFLANE_PROVERS: 'simulated' });
    expect(config.PROOFLANE_API_PORT).toBe(8080);
    expect(config.PROOFLANE_API_TEMPORAL_TIMEOUT_MS).toBe(10_000);
    expect(config.PROOFLANE_PROVERS).toEqual(['simulated']);
    expect(() => loadConfig('api', ApiConfigSchema, { PROOFLANE_PROVERS: 'simulated', PROOFLANE_DEFAULT_PROVER: 'o1js' })).toThrow(
      /PROOFLANE_DEFAULT_PROVER="o1js": must be one of PROOFLANE_PROVERS \(simulated\)/,
    );
  });

  it('registers exactly the configured backends: the real provers by default, command only with an executable', () => {
    expect([...createProverRegistry(proverSettings({})).keys()]).toEqual(['o1js', 'groth16']);
    expect([...createProverRegistry(proverSettings({ PROOFLANE_PROVERS: 'simulated' })).keys()]).toEqual(['simulated']);
    expect(() => proverSettings({ PROOFLANE_PROVERS: 'simulated,command' })).toThrow(
      /PROOFLANE_COMMAND_PROVER: required when PROOFLANE_PROVERS lists command/,
    );
    expect(() => proverSettings({ PROOFLANE_PROVERS: 'simulated,magic' })).toThrow(/PROOFLANE_PROVERS="simulated,magic"/);
    const command = proverSettings({ PROOFLANE_PROVERS: 'command', PROOFLANE_COMMAND_PROVER: '/opt/zkvm/prove --gpu' }).command;
    expect(command).toEqual({
      command: '/opt/zkvm/prove',
      args: ['--gpu', '--input', '{input}', '--output', '{output}'],
      badInputExitCodes: [2, 65],
      killGraceMs: 2_000,
    });
  });

  it('connects to Temporal with the standard TEMPORAL_* variables: API key, TLS, server name', () => {
    const settings = temporalSettings({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'rollup-a',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
      TEMPORAL_CONFIG_FILE: NO_PROFILES,
    });
    expect(settings.address).toBe('temporal.internal:7233');
    expect(settings.namespace).toBe('rollup-a');
    expect(settings.connection.apiKey).toBe('secret-key');
    expect(settings.connection.tls).toMatchObject({ serverNameOverride: 'frontend.temporal.internal' });
    expect(temporalSettings({ TEMPORAL_CONFIG_FILE: NO_PROFILES }).connection).toMatchObject({
      address: '127.0.0.1:7233',
    });
    expect(() => temporalSettings({ TEMPORAL_ADDRESS: 'no port' })).toThrow(/TEMPORAL_ADDRESS="no port": must be host:port/);
    expect(temporalSettings({ TEMPORAL_ADDRESS: '[::1]:7233', TEMPORAL_CONFIG_FILE: NO_PROFILES }).address).toBe('[::1]:7233');
  });

  it('stops on a Temporal configuration it cannot use, and never reads an empty TEMPORAL_TLS as "off"', () => {
    expect(() => temporalSettings({ TEMPORAL_CONFIG_FILE: path.join(REPO, 'no-such.toml') })).toThrow(
      /TEMPORAL_CONFIG_FILE=".*no-such.toml": no such file/,
    );
    expect(() =>
      temporalSettings({ TEMPORAL_CONFIG_FILE: NO_PROFILES, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(REPO, 'no-such-ca.pem') }),
    ).toThrow(ConfigError);
    const withKey = temporalSettings({ TEMPORAL_CONFIG_FILE: NO_PROFILES, TEMPORAL_API_KEY: 'secret-key', TEMPORAL_TLS: ' ' });
    expect(withKey.connection.tls).toBe(true);
  });

  it('reads log levels in any case', () => {
    const config = loadConfig('gpu-worker', GpuWorkerConfigSchema, { PROOFLANE_GPU_CLASS: 'b200', PROOFLANE_LOG_LEVEL: 'warn' });
    expect(config.PROOFLANE_LOG_LEVEL).toBe('WARN');
    expect(loadConfig('gpu-worker', GpuWorkerConfigSchema, { PROOFLANE_GPU_CLASS: 'b200' }).PROOFLANE_LOG_LEVEL).toBe('INFO');
  });

  it.each([
    [
      'workers/gpu-worker.ts',
      { PROOFLANE_GPU_CLASS: 'h100', PROOFLANE_GPUS: '1', PROOFLANE_DRAIN_SECONDS: 'abc' },
      /PROOFLANE_DRAIN_SECONDS="abc"/,
    ],
    [
      'workers/orchestration-worker.ts',
      { PROOFLANE_PROVERS: 'command', PROOFLANE_COMMAND_PROVER: '' },
      /PROOFLANE_COMMAND_PROVER: required/,
    ],
    ['api/main.ts', { PROOFLANE_DEFAULT_SEGMENTS: '0' }, /PROOFLANE_DEFAULT_SEGMENTS="0"/],
  ])('%s stops at start with exit code 2 and the variable named', async (script, env, message) => {
    const { code, stderr } = await runProcess(script, env);
    expect(code).toBe(2);
    // One JSON log line whose message names the variable: for the operator, not a stack trace.
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('fatal');
    expect(lines[0].msg).toMatch(message);
    expect(lines[0].msg).not.toMatch(/\n\s+at /);
  });

  it('README lists every variable of every process as the schemas define them (npm run docs:config)', () => {
    expect(readme()).toBe(readmeWithConfiguration(readme()));
  });
});
