import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { parseAllDocuments } from 'yaml';
import { runMain } from '../../config/env';

const run = promisify(execFile);

/** The chart: infra/k8s/prooflane (Helm: one GPU worker Deployment and ScaledObject per GPU class from one list). */
export const CHART = path.join(__dirname, 'prooflane');

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Finds or builds Helm (infra/k8s/install-helm.sh) and returns its path. */
export function helmPath(): string {
  return execFileSync('bash', [path.join(__dirname, 'install-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** `helm template` of the chart with these values files and `--set` pairs, parsed into objects. */
export async function renderChart(options: { valuesFiles?: string[]; set?: string[]; release?: string } = {}): Promise<KubernetesObject[]> {
  const args = ['template', options.release ?? 'prooflane', CHART];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  const { stdout } = await run(helmPath(), args, { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

/** Objects of a multi-document YAML stream; empty documents (a template that rendered nothing) are skipped. */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`manifest is not YAML: ${document.errors[0].message}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

export interface ValidationResult {
  /** `<kind> <name>` */
  name: string;
  valid: boolean;
  error?: string;
}

/** Every kind the chart renders; an object of another kind is reported invalid, never skipped. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** Each object checked against its Kubernetes or KEDA JSON schema (shipped by kubernetes-models and @kubernetes-models/keda), offline. */
export function validateObjects(objects: KubernetesObject[]): ValidationResult[] {
  return objects.map((object) => {
    const name = `${object?.kind ?? '?'} ${object?.metadata?.name ?? '?'}`;
    const Model = MODELS[`${object?.apiVersion}/${object?.kind}`];
    if (!Model)
      return {
        name,
        valid: false,
        error: `no schema for ${object?.apiVersion} ${object?.kind} (known: ${Object.keys(MODELS).join(', ')})`,
      };
    try {
      new Model(object as never).validate();
      return { name, valid: true };
    } catch (error) {
      return { name, valid: false, error: (error as Error).message };
    }
  });
}

/** `helm lint` of the chart (values checked against values.schema.json); resolves to its output, rejects on a finding. */
export async function lintChart(options: { valuesFiles?: string[]; set?: string[] } = {}): Promise<string> {
  const args = ['lint', '--strict', CHART];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  const { stdout } = await run(helmPath(), args);
  return stdout;
}

/** `npm run k8s:validate [-- --values my-values.yaml ...]`: renders the chart as an operator would and validates every object offline. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { values: { type: 'string', multiple: true, short: 'f' }, set: { type: 'string', multiple: true } },
  });
  const options = { valuesFiles: values.values, set: values.set };
  await lintChart(options);
  const objects = await renderChart(options);
  const results = validateObjects(objects);
  for (const result of results)
    console.log(`${result.valid ? 'valid  ' : 'INVALID'} ${result.name}${result.error ? `: ${result.error}` : ''}`);
  const invalid = results.filter((result) => !result.valid).length;
  if (invalid > 0) throw new Error(`${invalid} of ${objects.length} rendered objects do not validate`);
  console.log(`${objects.length} objects rendered from ${CHART}, each valid against the Kubernetes and KEDA schemas`);
}

if (require.main === module) runMain('k8s:validate', main);
