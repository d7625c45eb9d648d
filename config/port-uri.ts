/** How a port implementation is built from each URI scheme it supports (`file:`, `memory:`, `s3:`). */
export type PortBuilders<T> = Record<string, (url: URL) => T>;

/**
 * Builds the implementation of a port (artifact store, proof publisher) that a configuration
 * URI names, or says clearly which schemes exist. `what` names the port in the message.
 */
export function portFromUri<T>(what: string, uri: string, builders: PortBuilders<T>): T {
  const schemes = Object.keys(builders).map((scheme) => `${scheme}//`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`${what} "${uri}" is not a URI (schemes: ${schemes.join(', ')})`);
  }
  const build = builders[url.protocol];
  if (!build) throw new Error(`${what} "${uri}": unsupported scheme ${url.protocol} (schemes: ${schemes.join(', ')})`);
  return build(url);
}

/** One instance per `memory://<name>` in a process, so in-process workers given the same URI share it. */
export function memoryInstance<T>(instances: Map<string, T>, url: URL, create: () => T): T {
  const name = url.host + url.pathname;
  let instance = instances.get(name);
  if (!instance) instances.set(name, (instance = create()));
  return instance;
}
