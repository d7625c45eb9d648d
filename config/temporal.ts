import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './env';

const DEFAULT_ADDRESS = '127.0.0.1:7233';

/**
 * How every prooflane process reaches Temporal: the standard `TEMPORAL_*` variables and profiles
 * of `@temporalio/envconfig` (the same ones the Temporal CLI reads), so TLS, mTLS and API keys
 * work the same for the API and every worker. Listed here to be validated and documented; the
 * connection itself is built by envconfig.
 */
export const TemporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port (an IPv6 host in brackets)')
    .optional()
    .describe(`Temporal frontend host:port (else the profile's, else ${DEFAULT_ADDRESS})`),
  TEMPORAL_NAMESPACE: z.string().min(1).optional().describe("Temporal namespace (else the profile's, else default)"),
  TEMPORAL_PROFILE: z.string().optional().describe('profile of the Temporal client config file to use (default: default)'),
  TEMPORAL_CONFIG_FILE: z.string().optional().describe('Temporal client config file (TOML; default ~/.config/temporalio/temporal.toml)'),
  TEMPORAL_API_KEY: z.string().optional().describe('API key sent to Temporal (turns TLS on unless TEMPORAL_TLS=false)'),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional().describe('connect to Temporal over TLS'),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().optional().describe("CA certificate that signed the Temporal frontend's certificate (PEM)"),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().optional().describe('client certificate for mTLS (PEM)'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().optional().describe("client certificate's private key for mTLS (PEM)"),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional().describe('server name to verify the frontend certificate against'),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().optional().describe('the CA certificate itself (PEM), instead of its path'),
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().optional().describe('the client certificate itself (PEM), instead of its path'),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().optional().describe("the client certificate's private key itself (PEM), instead of its path"),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: z
    .enum(['true', 'false'])
    .optional()
    .describe("don't verify the frontend certificate's host name"),
  TEMPORAL_UI_URL: z
    .url()
    .default('http://127.0.0.1:8233')
    .transform((url) => url.replace(/\/$/, ''))
    .describe('base URL of the Temporal Web UI, for links to workflows'),
});

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Base URL of the Temporal Web UI, for links to workflows. */
  uiUrl: string;
  /** For `Connection.connect` (API) and `NativeConnection.connect` (workers): address, TLS, API key, gRPC metadata. */
  connection: NativeConnectionOptions & { address: string };
}

/** The Temporal connection of this process, from its environment (and profile file, if any). */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const variables = loadConfig('Temporal connection', TemporalEnvSchema, env);
  // envconfig sees what the schema saw: trimmed values, empty ones unset (an empty TEMPORAL_TLS must not mean "off").
  const overrideEnvVars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value.trim() !== '') overrideEnvVars[name] = value.trim();
  if (variables.TEMPORAL_CONFIG_FILE && !existsSync(variables.TEMPORAL_CONFIG_FILE))
    throw new ConfigError(
      `Temporal connection: invalid configuration\n  TEMPORAL_CONFIG_FILE=${JSON.stringify(variables.TEMPORAL_CONFIG_FILE)}: no such file`,
    );
  let connect: ReturnType<typeof loadClientConnectConfig>;
  try {
    connect = loadClientConnectConfig({ overrideEnvVars });
  } catch (error) {
    // A certificate file that is not there, a profile that does not exist, a config file that is not TOML.
    throw new ConfigError(
      `Temporal connection: invalid configuration (TEMPORAL_* variables, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE)\n  ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const { connectionOptions, namespace } = connect;
  const address = connectionOptions.address || DEFAULT_ADDRESS;
  return {
    address,
    namespace: namespace || 'default',
    uiUrl: variables.TEMPORAL_UI_URL,
    connection: { ...connectionOptions, address },
  };
}

export function workflowUiUrl(settings: Pick<TemporalSettings, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
