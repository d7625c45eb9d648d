import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { loadConfig } from './env';

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
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
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
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars });
  const address = connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: namespace ?? 'default',
    uiUrl: variables.TEMPORAL_UI_URL,
    connection: { ...connectionOptions, address },
  };
}

export function workflowUiUrl(settings: Pick<TemporalSettings, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
