import 'reflect-metadata';

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PATH_METADATA } from '@nestjs/common/constants';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

import { ALL_TARGETS, ConfigError, loadConfig } from '@latchkey/config';
import { compileTrustProxy, HealthController, parseTrustProxy } from '@latchkey/platform';

/**
 * deploy/kubernetes, checked without a cluster (there is no kubectl or kustomize here): every
 * resource against the Kubernetes API schemas, then what an operator would check by hand.
 */
const ROOT = join(__dirname, '../../..');
const BASE = join(ROOT, 'deploy/kubernetes');
const SECRET_EXAMPLE = 'secret.example.yaml';

/** The secrets a production process refuses to start without (libs/config/src/load-config.ts). */
const REQUIRED_SECRETS = [
  'KEY_HASH_SECRET',
  'ENCRYPTION_KEY',
  'PLATFORM_ADMIN_TOKEN',
  'INTERNAL_TOKEN',
  'SERVICE_SECRET',
  'SMTP_URL',
  'DATABASE_URL',
  'REDIS_URL',
];

/** Real-shaped values for the example Secret's placeholders, to check what a filled-in Secret gives each pod. */
const FILLED_SECRET: Record<string, string> = {
  KEY_HASH_SECRET: 'k8s-key-hash-secret-of-at-least-32-chars',
  ENCRYPTION_KEY: 'cd'.repeat(32),
  PLATFORM_ADMIN_TOKEN: 'k8s-platform-admin-token-0000',
  INTERNAL_TOKEN: 'k8s-internal-token-000000',
  SERVICE_SECRET: 'k8s-service-secret-of-at-least-32-chars',
  SMTP_URL: 'smtps://latchkey:pw@smtp.example.test:465',
  DATABASE_URL: 'postgres://latchkey:pw@postgres.example.test:5432/latchkey',
  REDIS_URL: 'rediss://latchkey:pw@redis.example.test:6380',
};

/** Each kind the base may hold: its schema (kubernetes-models) and the declaration file of its type. */
const KINDS = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { model: Job, module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
} as const;
type KindKey = keyof typeof KINDS;

interface Resource {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: any;
}

/**
 * Every document of a file. YAML 1.1, as Kubernetes reads it: there `on`, `yes` and `no` are
 * booleans, which a ConfigMap or an env value must not be.
 */
function resourcesIn(file: string): Resource[] {
  return parseAllDocuments(readFileSync(join(BASE, file), 'utf8'), { version: '1.1' }).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    return { ...(document.toJS() as object), file } as Resource;
  });
}

const kindKey = (resource: { apiVersion: string; kind: string }) => `${resource.apiVersion}/${resource.kind}`;

/** The resource as it is in its file, without the file name this test adds. */
function manifestOf(resource: Resource): Record<string, unknown> {
  const manifest: Record<string, unknown> = { ...resource };
  delete manifest.file;
  return manifest;
}

/**
 * Field names the Kubernetes types do not have. The schemas accept unknown fields, while
 * `kubectl apply` (strict field validation) refuses them: a misspelled `readinesProbe` would
 * pass the schema and be rejected by the cluster. The names come from kubernetes-models'
 * type declarations, read with the TypeScript compiler.
 */
class UnknownFields {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  constructor() {
    const files = Object.values(KINDS).map((kind) => require.resolve(kind.module).replace(/\.js$/, '.d.ts'));
    const program = ts.createProgram(files, {
      noEmit: true,
      skipLibCheck: true,
      types: [],
      moduleResolution: ts.ModuleResolutionKind.Node10,
    });
    this.checker = program.getTypeChecker();
    for (const [key, kind] of Object.entries(KINDS)) {
      const file = files[Object.keys(KINDS).indexOf(key)];
      const source = program.getSourceFile(file);
      const moduleSymbol = source && this.checker.getSymbolAtLocation(source);
      const symbol = moduleSymbol && this.checker.getExportsOfModule(moduleSymbol).find((entry) => entry.name === kind.type);
      if (!symbol) throw new Error(`${kind.module} declares no ${kind.type}`);
      this.types.set(key, this.checker.getDeclaredTypeOfSymbol(symbol));
    }
  }

  of(resource: Resource): string[] {
    const type = this.types.get(kindKey(resource));
    if (!type) throw new Error(`no type for ${kindKey(resource)}`);
    const unknown: string[] = [];
    this.walk(manifestOf(resource), type, '', unknown);
    return unknown;
  }

  private walk(value: unknown, declared: ts.Type, path: string, unknown: string[]): void {
    if (value === null || typeof value !== 'object') return; // a scalar's type is the schema's to check
    let type = this.checker.getNonNullableType(declared);
    if (Array.isArray(value)) {
      const element = type.getNumberIndexType();
      if (element) value.forEach((item, index) => this.walk(item, element, `${path}[${index}]`, unknown));
      return;
    }
    if (type.isUnion()) {
      const objects = type.types.filter((member) => member.flags & ts.TypeFlags.Object);
      if (objects.length !== 1) return;
      type = objects[0];
    }
    const values = type.getStringIndexType();
    if (values) {
      for (const [key, item] of Object.entries(value)) this.walk(item, values, `${path}.${key}`, unknown);
      return;
    }
    const properties = new Map(this.checker.getPropertiesOfType(type).map((property) => [property.name, property]));
    for (const [key, item] of Object.entries(value)) {
      const property = properties.get(key);
      if (property) this.walk(item, this.checker.getTypeOfSymbol(property), `${path}.${key}`, unknown);
      else unknown.push(`${path}.${key}`.slice(1));
    }
  }
}

/** Schema errors of one resource, as `kubectl apply --dry-run=server` would list them. */
function schemaErrors(resource: Resource): string | undefined {
  const kind = KINDS[kindKey(resource) as KindKey];
  if (!kind) return `no schema for ${kindKey(resource)}: add the kind to KINDS`;
  try {
    new kind.model(manifestOf(resource)).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** `const NAME = 5_000;` in a source file: the app's own deadlines, so the grace periods follow them. */
function constantsIn(file: string, name: string): number[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return [...source.matchAll(new RegExp(`^const ${name} = ([\\d_]+);`, 'gm'))].map((match) => Number(match[1].replace(/_/g, '')));
}

function constantIn(file: string, name: string): number {
  const [value, ...more] = constantsIn(file, name);
  if (value === undefined || more.length > 0) throw new Error(`${file} no longer declares one ${name}: update this test`);
  return value;
}

function sourceFilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(file))
    .map((file) => join(dir, file));
}

/** `100m`, `1`, `256Mi`, `1Gi` as a number, to compare a request with its limit. */
function quantity(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(value));
  if (!match) throw new Error(`unreadable quantity ${value}`);
  const scale = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * scale;
}

/** The variables of docs/configuration.md's table, which configuration-doc.spec.ts keeps equal to the env schema. */
function documentedVariables(): Set<string> {
  const markdown = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  const section = /^## Variables\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  return new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((match) => match[1]));
}

/** What the image's entry point itself reads (`${NAME:-…}`), before the app does. */
function entryPointVariables(): Set<string> {
  const script = readFileSync(join(ROOT, 'deploy/docker-entrypoint.sh'), 'utf8');
  return new Set([...script.matchAll(/\$\{([A-Z][A-Z0-9_]*)[:}-]/g)].map((match) => match[1]));
}

function healthPath(route: 'live' | 'ready'): string {
  const controllerPath = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
  const routePath = Reflect.getMetadata(PATH_METADATA, HealthController.prototype[route]) as string;
  return `/${controllerPath}/${routePath}`.replace(/\/+/g, '/');
}

describe('deploy/kubernetes (the kustomize base)', () => {
  const kustomization = resourcesIn('kustomization.yaml')[0] as unknown as {
    resources: string[];
    images: Array<{ name: string; newName?: string; newTag?: string }>;
  };
  const yamlFiles = readdirSync(BASE).filter((file) => /\.ya?ml$/.test(file));
  const resources = kustomization.resources.flatMap((file) => resourcesIn(file));
  const ofKind = (kind: string) => resources.filter((resource) => resource.kind === kind);
  const deployments = ofKind('Deployment');
  const deploymentOf = (target: string) => deployments.find((deployment) => deployment.metadata.name === `latchkey-${target}`);
  const job = ofKind('Job')[0];
  const workloads = [...deployments, job].filter(Boolean);
  const containersOf = (workload: Resource): any[] => workload.spec.template.spec.containers;
  const configMap = ofKind('ConfigMap').find((resource) => resource.metadata.name === 'latchkey-config');
  const secretExample = resourcesIn(SECRET_EXAMPLE)[0];
  const exampleSecretValues = (secretExample.stringData ?? {}) as Record<string, string>;
  const unknownFields = new UnknownFields();

  /** What a container's process sees: the ConfigMap, then the Secret (later wins, as in Kubernetes), then its own env. */
  function environmentOf(container: any, secretValues: Record<string, string>): Record<string, string> {
    const environment: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef?.name === configMap?.metadata.name) Object.assign(environment, configMap?.data);
      if (source.secretRef?.name === secretExample.metadata.name) Object.assign(environment, secretValues);
    }
    for (const variable of container.env ?? []) environment[variable.name] = variable.value;
    return environment;
  }

  it('lists every file of the base in kustomization.yaml, and the example Secret in none', () => {
    const listed = [...kustomization.resources].sort();
    const onDisk = yamlFiles.filter((file) => file !== 'kustomization.yaml' && file !== SECRET_EXAMPLE).sort();

    expect(listed).toEqual(onDisk);
    expect(listed).not.toContain(SECRET_EXAMPLE);
    // A Secret among the resources would be applied with whatever values the file holds.
    expect(ofKind('Secret')).toEqual([]);
  });

  it('names each resource once per kind', () => {
    const names = resources.map((resource) => `${resource.kind}/${resource.metadata.name}`);

    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it.each([...resources, secretExample].map((resource) => [`${resource.file}: ${resource.kind} ${resource.metadata.name}`, resource]))(
    '%s is valid for the Kubernetes API, with no unknown field',
    (_name, resource) => {
      expect(schemaErrors(resource)).toBeUndefined();
      expect(unknownFields.of(resource)).toEqual([]);
    },
  );

  it('would catch a broken manifest: a wrong type, a missing field, a misspelled field', () => {
    const deployment = structuredClone(deploymentOf('auth-check')!);
    deployment.spec.template.spec.containers[0].ports[0].containerPort = '3000';
    const withoutSelector = structuredClone(deploymentOf('auth-check')!);
    delete withoutSelector.spec.selector;
    const misspelled = structuredClone(deploymentOf('auth-check')!);
    const container = misspelled.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;

    expect(schemaErrors(deployment)).toMatch(/containerPort must be integer/);
    expect(schemaErrors(withoutSelector)).toMatch(/required property selector/);
    expect(unknownFields.of(misspelled)).toEqual(['spec.template.spec.containers[0].readinesProbe']);
  });

  it('runs one Deployment per service, all from the one image, each with its TARGET', () => {
    const targets = deployments.map(
      (deployment) => containersOf(deployment)[0].env?.find((variable: any) => variable.name === 'TARGET')?.value,
    );

    expect([...targets].sort()).toEqual([...ALL_TARGETS].sort());
    for (const deployment of deployments) {
      const target = containersOf(deployment)[0].env.find((variable: any) => variable.name === 'TARGET').value;
      expect(deployment.metadata.name).toBe(`latchkey-${target}`);
      expect(deployment.spec.template.metadata.labels['app.kubernetes.io/component']).toBe(target);
      expect(deployment.spec.selector.matchLabels).toEqual(
        expect.objectContaining({ 'app.kubernetes.io/component': target, 'app.kubernetes.io/name': 'latchkey' }),
      );
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      expect(containersOf(deployment)).toHaveLength(1);
    }
  });

  it('sets the one image once, in kustomization.yaml, at the version of package.json', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const images = new Set(workloads.flatMap((workload) => containersOf(workload).map((container) => container.image)));

    expect([...images]).toEqual(['latchkey']);
    expect(kustomization.images).toEqual([expect.objectContaining({ name: 'latchkey', newTag: version })]);
  });

  it('gives every HTTP service a Service that selects its pods on their http port', () => {
    const services = ofKind('Service');

    expect(services.map((service) => service.metadata.name).sort()).toEqual(
      deployments.map((deployment) => deployment.metadata.name).sort(),
    );
    for (const service of services) {
      const selected = deployments.filter((deployment) =>
        Object.entries(service.spec.selector as Record<string, string>).every(
          ([label, value]) => deployment.spec.template.metadata.labels[label] === value,
        ),
      );
      expect(selected.map((deployment) => deployment.metadata.name)).toEqual([service.metadata.name]);
      const portNames = containersOf(selected[0])[0].ports.map((port: any) => port.name);
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
  });

  it('runs the migration Job with the script `npm run migration:up` runs, and no Deployment migrates', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

    expect(job).toBeDefined();
    expect(containersOf(job)[0].command.join(' ')).toBe(scripts['migration:up']);
    // The Dockerfile compiles libs/db/src/migrate.ts to dist/libs/db/src/migrate.js.
    expect(readdirSync(join(ROOT, 'libs/db/src'))).toContain('migrate.ts');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    for (const deployment of deployments) {
      expect(environmentOf(containersOf(deployment)[0], FILLED_SECRET).MIGRATE_ON_START).toBe('false');
    }
  });

  it('gives every container the ConfigMap and the Secret by reference, never a secret value inline', () => {
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        expect(container.envFrom).toEqual([{ configMapRef: { name: 'latchkey-config' } }, { secretRef: { name: 'latchkey-secrets' } }]);
        for (const variable of container.env ?? []) {
          expect(REQUIRED_SECRETS).not.toContain(variable.name);
          // A single key taken from the Secret must be one the Secret has.
          if (variable.valueFrom?.secretKeyRef) {
            expect(variable.valueFrom.secretKeyRef.name).toBe(secretExample.metadata.name);
            expect(Object.keys(exampleSecretValues)).toContain(variable.valueFrom.secretKeyRef.key);
          }
        }
      }
    }
    expect(secretExample.metadata.name).toBe('latchkey-secrets');
    expect(Object.keys(configMap?.data ?? {}).filter((name) => REQUIRED_SECRETS.includes(name))).toEqual([]);
  });

  it('lists every required secret in the example Secret, with placeholders the apps refuse', () => {
    expect(Object.keys(exampleSecretValues).sort()).toEqual([...REQUIRED_SECRETS].sort());

    const unedited = () => loadConfig(environmentOf(containersOf(deploymentOf('org-api')!)[0], exampleSecretValues));

    expect(unedited).toThrow(ConfigError);
    expect(unedited).toThrow(/KEY_HASH_SECRET[\s\S]*ENCRYPTION_KEY[\s\S]*PLATFORM_ADMIN_TOKEN/);
    expect(unedited).toThrow(/INTERNAL_TOKEN[\s\S]*SERVICE_SECRET/);
  });

  it('sets only variables the apps or the image entry point read', () => {
    const accepted = new Set([...documentedVariables(), ...entryPointVariables()]);
    const names = [
      ...Object.keys(configMap?.data ?? {}),
      ...Object.keys(exampleSecretValues),
      ...workloads.flatMap((workload) =>
        containersOf(workload).flatMap((container) => (container.env ?? []).map((variable: any) => variable.name)),
      ),
    ];

    expect(accepted.has('TARGET')).toBe(true);
    expect(accepted.has('MIGRATE_ON_START')).toBe(true);
    expect(names.filter((name) => !accepted.has(name))).toEqual([]);
  });

  it.each([...ALL_TARGETS])('gives %s an environment its config accepts in production, running only that service', (target) => {
    const config = loadConfig(environmentOf(containersOf(deploymentOf(target)!)[0], FILLED_SECRET));

    expect(config.NODE_ENV).toBe('production');
    expect(config.targets).toEqual([target]);
  });

  it('gives the migration Job an environment its config accepts in production', () => {
    expect(loadConfig(environmentOf(containersOf(job)[0], FILLED_SECRET)).NODE_ENV).toBe('production');
  });

  it('probes the health routes the apps serve: live for liveness and start-up, ready for readiness', () => {
    const port = Number(configMap?.data.PORT);

    for (const deployment of deployments) {
      const container = containersOf(deployment)[0];
      const http = container.ports.find((entry: any) => entry.name === 'http');
      expect(http.containerPort).toBe(port);
      expect(container.livenessProbe.httpGet).toEqual({ path: healthPath('live'), port: 'http' });
      expect(container.startupProbe.httpGet).toEqual({ path: healthPath('live'), port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: healthPath('ready'), port: 'http' });
    }
    expect([healthPath('live'), healthPath('ready')]).toEqual(['/health/live', '/health/ready']);
  });

  it('lets the load balancers drop a pod before it stops, and the app finish its shutdown before the kill', () => {
    const buffer = 'apps/auth-check/src/usage-events/usage-event-buffer.service.ts';
    // The usage buffer's flush, its late flush, then closing its queue.
    const authCheckShutdownMs =
      constantIn(buffer, 'SHUTDOWN_DEADLINE_MS') + constantIn(buffer, 'LATE_FLUSH_DEADLINE_MS') + constantIn(buffer, 'CLOSE_DEADLINE_MS');
    // Every queue of the worker closing one after another: more than it takes, never less.
    const usageWorkerShutdownMs = sourceFilesUnder('apps/usage-worker/src')
      .flatMap((file) => constantsIn(file, 'CLOSE_DEADLINE_MS'))
      .reduce((sum, value) => sum + value, 0);

    expect(usageWorkerShutdownMs).toBeGreaterThan(0);
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const preStop: string[] = pod.containers[0].lifecycle.preStop.exec.command;
      expect(preStop[0]).toBe('sleep');
      const drainMs = Number(preStop[1]) * 1000;
      expect(drainMs).toBeGreaterThanOrEqual(5_000);
      const shutdownMs = deployment.metadata.name === 'latchkey-usage-worker' ? usageWorkerShutdownMs : authCheckShutdownMs;
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs + shutdownMs);
    }
  });

  it('runs every container as a non-root user, on a read-only root, with no capability', () => {
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      // The image's user is `node` by name, which the kubelet cannot check is not root.
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const writable = (container.volumeMounts ?? []).map((mount: any) => mount.mountPath);
        expect(writable).toEqual(['/tmp']);
      }
    }
  });

  it('gives every container CPU and memory requests within its limits', () => {
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        for (const resource of ['cpu', 'memory']) {
          const request = container.resources?.requests?.[resource];
          const limit = container.resources?.limits?.[resource];
          expect([workload.metadata.name, resource, request !== undefined, limit !== undefined]).toEqual([
            workload.metadata.name,
            resource,
            true,
            true,
          ]);
          expect(quantity(request)).toBeLessThanOrEqual(quantity(limit));
        }
      }
    }
  });

  it('scales auth-check with an autoscaler that owns its replica count, and keeps all but one copy through a drain', () => {
    const authCheck = deploymentOf('auth-check')!;
    const [autoscaler] = ofKind('HorizontalPodAutoscaler');
    const [budget] = ofKind('PodDisruptionBudget');

    expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: authCheck.metadata.name });
    expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas);
    // A replica count in the Deployment would undo the autoscaler's on every apply.
    expect(authCheck.spec.replicas).toBeUndefined();
    // Utilization is a share of the request, so the container must request CPU.
    expect(containersOf(authCheck)[0].resources.requests.cpu).toBeDefined();
    expect(budget.spec.selector.matchLabels).toEqual(authCheck.spec.selector.matchLabels);
    expect(budget.spec.maxUnavailable).toBeLessThan(autoscaler.spec.minReplicas);
  });

  it('trusts X-Forwarded-For from the cluster address ranges only, never from every hop', () => {
    const value: string = configMap?.data.TRUST_PROXY;
    const trusted = compileTrustProxy(parseTrustProxy(value));

    expect(parseTrustProxy(value)).not.toBe(true);
    expect(parseTrustProxy(value)).not.toBe(false);
    expect(trusted('10.244.3.17', 0)).toBe(true);
    expect(trusted('203.0.113.9', 0)).toBe(false);
  });
});
