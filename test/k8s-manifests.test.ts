import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { GpuClass, ProverName } from '../domain/block';
import { gpuTaskQueue } from '../domain/names';
import { lintChart, renderChart, validateObjects, type KubernetesObject } from '../infra/k8s/validate';

/**
 * The Helm chart in infra/k8s/prooflane, rendered as an operator would (`helm template`) and every
 * object validated offline against the Kubernetes and KEDA JSON schemas.
 */

/** Two GPU classes with different backends, TLS off, the chart creating its secrets. */
const TWO_CLASSES = {
  temporal: { address: 'temporal.example:7233', namespace: 'rollup', tls: { enabled: false } },
  provers: ['groth16', 'o1js', 'simulated'],
  secrets: { apiKeys: 'a-key-of-sixteen-chars-or-more', s3: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } },
  gpuClasses: [
    {
      name: 'h100',
      gpusPerPod: 8,
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
      provers: ['groth16', 'o1js'],
      longestProofSeconds: 900,
      minReplicas: 1,
      maxReplicas: 32,
    },
    {
      name: 'l40s',
      gpusPerPod: 4,
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L40S' },
      provers: ['simulated'],
      longestProofSeconds: 120,
      minReplicas: 0,
      maxReplicas: 8,
    },
  ],
};

function valuesFile(values: object): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-chart-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

function ofKind(objects: KubernetesObject[], kind: string): KubernetesObject[] {
  return objects.filter((object) => object.kind === kind);
}

interface Container {
  args: string[];
  resources: { limits: Record<string, number> };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { policies: { type: string; value: number }[] } } } };
  triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
}

function podSpec(deployment: KubernetesObject): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

describe('Kubernetes manifests (Helm chart), validated offline', () => {
  it('renders with its defaults into objects that all validate, and passes helm lint', async () => {
    await expect(lintChart()).resolves.toMatch(/0 chart\(s\) failed/);
    const objects = await renderChart();
    expect(validateObjects(objects)).toEqual(objects.map((object) => ({ name: `${object.kind} ${object.metadata.name}`, valid: true })));
    expect(ofKind(objects, 'Deployment').map((object) => object.metadata.name)).toEqual(
      expect.arrayContaining(['prooflane-api', 'prooflane-orchestration', 'prooflane-gpu-h100']),
    );
    // mTLS to Temporal by default: KEDA authenticates with the same secret the pods mount.
    expect(ofKind(objects, 'TriggerAuthentication')).toHaveLength(1);
  });

  it('gives each GPU class its own worker Deployment and ScaledObject, on the task queues the workers poll', async () => {
    const objects = await renderChart({ valuesFiles: [valuesFile(TWO_CLASSES)] });
    expect(validateObjects(objects).filter((result) => !result.valid)).toEqual([]);
    for (const gpuClass of TWO_CLASSES.gpuClasses) {
      const name = `prooflane-gpu-${gpuClass.name}`;
      const [deployment] = ofKind(objects, 'Deployment').filter((object) => object.metadata.name === name);
      const [scaled] = ofKind(objects, 'ScaledObject').filter((object) => object.metadata.name === name);
      const pod = podSpec(deployment);
      const [worker] = pod.containers;
      expect(flag(worker.args, '--gpu-class')).toBe(gpuClass.name);
      expect(flag(worker.args, '--gpus')).toBe(String(gpuClass.gpusPerPod));
      expect(flag(worker.args, '--provers')).toBe(gpuClass.provers.join(','));
      expect(worker.resources.limits['nvidia.com/gpu']).toBe(gpuClass.gpusPerPod);
      // Scale-down never kills a pod mid-proof: it drains for the longest proof, and is killed only after that.
      expect(flag(worker.args, '--drain-seconds')).toBe(String(gpuClass.longestProofSeconds));
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(gpuClass.longestProofSeconds);

      const spec = scaled.spec as ScaledObjectSpec;
      expect(spec.scaleTargetRef.name).toBe(name);
      expect([spec.minReplicaCount, spec.maxReplicaCount]).toEqual([gpuClass.minReplicas, gpuClass.maxReplicas]);
      expect(spec.triggers.map((trigger) => trigger.metadata.taskQueue)).toEqual(
        gpuClass.provers.map((prover) => gpuTaskQueue(gpuClass.name as GpuClass, prover as ProverName)),
      );
      for (const trigger of spec.triggers) {
        expect(trigger).toMatchObject({
          type: 'temporal',
          metadata: { queueTypes: 'activity', namespace: 'rollup', endpoint: 'temporal.example:7233' },
        });
        expect(trigger.authenticationRef).toBeUndefined();
      }
      expect(spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies).toEqual([
        expect.objectContaining({ type: 'Pods', value: 1 }),
      ]);
    }
    expect(
      ofKind(objects, 'Secret')
        .map((object) => object.metadata.name)
        .sort(),
    ).toEqual(['prooflane-api-keys', 'prooflane-s3']);
  });

  it('without KEDA, runs each GPU class at its minimum and renders no autoscaling objects', async () => {
    const objects = await renderChart({ set: ['keda.enabled=false'] });
    expect(ofKind(objects, 'ScaledObject')).toEqual([]);
    expect(ofKind(objects, 'TriggerAuthentication')).toEqual([]);
    const [gpu] = ofKind(objects, 'Deployment').filter((object) => object.metadata.name === 'prooflane-gpu-h100');
    expect((gpu.spec as { replicas: number }).replicas).toBe(1);
  });

  it('rejects a broken manifest: a wrong type, a missing required field, an unknown kind', async () => {
    const objects = await renderChart();
    const deployment = structuredClone(ofKind(objects, 'Deployment')[0]);
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    const scaled = structuredClone(ofKind(objects, 'ScaledObject')[0]);
    delete (scaled.spec as { scaleTargetRef?: unknown }).scaleTargetRef;
    const unknown: KubernetesObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    const results = validateObjects([deployment, scaled, unknown]);
    expect(results.map((result) => result.valid)).toEqual([false, false, false]);
    expect(results[0].error).toMatch(/replicas must be integer/);
    expect(results[1].error).toMatch(/scaleTargetRef/);
    expect(results[2].error).toMatch(/no schema for example.com\/v1 Widget/);
  });

  it('refuses bad values before rendering anything (values.schema.json)', async () => {
    await expect(renderChart({ set: ['gpuClasses[0].gpusPerPod=eight'] })).rejects.toThrow(/gpusPerPod/);
    await expect(renderChart({ set: ['provers={zkvm-x}'] })).rejects.toThrow(/provers/);
    await expect(lintChart({ set: ['temporal.address=no-port'] })).rejects.toThrow(/address/);
  });
});
