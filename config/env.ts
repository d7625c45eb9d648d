import { createLogger } from '../observability/logger';
import { z } from 'zod';

/**
 * A process's configuration: one zod object whose keys are environment variable names, each
 * with its type, default and description (`.describe`). `loadConfig` reads it from the
 * environment; `describeConfig` renders the same schema as documentation (README's table).
 */
export type EnvShape = Record<string, z.ZodType>;

/** A configuration the process cannot run with; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `env` against `schema`. An empty variable counts as unset (Kubernetes and shells export them). */
export function loadConfig<S extends z.ZodObject<EnvShape>>(what: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const present: Record<string, string> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value.trim();
  }
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(configuration)');
    const value = present[name];
    return `  ${name}${value !== undefined ? `=${JSON.stringify(value)}` : ''}: ${issue.message}`;
  });
  throw new ConfigError(`${what}: invalid configuration\n${lines.join('\n')}`);
}

/** A comma-separated list of `item`s (empty entries dropped). */
export function commaList<T extends z.ZodType>(item: T): z.ZodType<z.output<T>[], string> {
  const items = z.array(item as unknown as z.ZodType<z.output<T>, string>);
  return z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(items);
}

/** A JSON object from an environment variable's text, checked by `schema`. */
export function envJson<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** A whole number from an environment variable's text. */
export function envInt(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().int().min(min).max(max);
}

export interface ConfigVariable {
  name: string;
  type: string;
  default?: string;
  description: string;
}

/** The variables of a schema as documentation rows, in declaration order. */
export function describeConfig(schema: z.ZodObject<EnvShape>): ConfigVariable[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<
      string,
      { type?: string; enum?: string[]; default?: unknown; description?: string; minimum?: number; maximum?: number }
    >;
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    type: property.enum
      ? property.enum.join(' | ')
      : property.type === 'integer' && property.minimum !== undefined
        ? `integer ${property.minimum}..${property.maximum === Number.MAX_SAFE_INTEGER ? '' : property.maximum}`
        : (property.type ?? 'string'),
    ...(property.default !== undefined ? { default: String(property.default) } : {}),
    description: property.description ?? '',
  }));
}

/**
 * Runs a process's main function: a configuration error stops it with its message and exit
 * code 2 (no stack trace: the operator needs the variable, not our code); any other error with 1.
 */
export function runMain(what: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    // One JSON line on stderr, like every other line the process writes (observability/logger.ts).
    const logger = createLogger(what, 'INFO', 'stderr');
    if (error instanceof ConfigError) {
      logger.fatal({ kind: 'configuration' }, error.message);
      process.exit(2);
    }
    logger.fatal(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
