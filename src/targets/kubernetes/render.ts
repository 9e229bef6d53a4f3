import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IIoK8sApiCoreV1Container as Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IIoK8sApiCoreV1PersistentVolumeClaimSpec as PvcSpec } from 'kubernetes-models/v1/PersistentVolumeClaimSpec';
import type { IIoK8sApiCoreV1PodSpec as PodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IIoK8sApiCoreV1Probe as Probe } from 'kubernetes-models/v1/Probe';
import type { IIoK8sApiCoreV1ResourceRequirements as Resources } from 'kubernetes-models/v1/ResourceRequirements';
import type { IIoK8sApiCoreV1Volume as Volume } from 'kubernetes-models/v1/Volume';
import type { IIoK8sApiCoreV1VolumeMount as VolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { placeholdersIn } from '../../workloads/placeholders.ts';
import type { ScoreContainer, ScoreProbe, ScoreWorkload } from '../../workloads/score.ts';
import { configKey, dnsLabel, isDnsSubdomain, labelValue, portName } from './names.ts';
import { FIELD_MANAGER, LABELS, type KubeObject, type RenderedObject } from './objects.ts';
import { exceeds, normalizeQuantity } from './quantity.ts';
import { validateObjects } from './validate.ts';

/**
 * The Kubernetes renderer: one application's deployment in one environment → Kubernetes objects. A
 * pure function of the application model (the resolved Score workload, the deployment's variables and
 * which of them are secret, the build's image, the team profile's defaults): the same input always
 * gives the same objects, so a rollback re-applies exactly what an earlier deployment rendered.
 *
 * What it makes, in apply order:
 * - `namespace`: the Namespace `<app>-<env>`, unless the target names an existing namespace to use.
 * - `workload` (named after the deployment, `<app>-<number>`, so a new deployment runs beside the one
 *   that serves until it is released): a Secret with every secret variable (containers read them
 *   with secretKeyRef: a secret value never appears in the Deployment), a ConfigMap of the files
 *   (a Secret for files whose content holds a secret), PersistentVolumeClaims of `volume` resources,
 *   and the Deployment, or a StatefulSet (with its headless Service and volume claim templates) when
 *   the workload asks with the annotation `k8s.score.dev/kind: StatefulSet` (or `pave.dev/kind`).
 * - `release`: the Service `<app>` whose selector names the deployment (switching it is the release),
 *   and, for released environments, an HTTPRoute (Gateway API) or an Ingress: from the workload's
 *   `route` resources when it has some, else one for the environment's host.
 *
 * Every object carries the labels app.kubernetes.io/{name,instance,managed-by} and
 * pave.dev/{application,catalog-namespace,environment,deployment}. Probes come from the workload (or
 * the profile's health path), resources from the workload's requests and limits (or the profile's
 * cpu and memory). Every object is validated (validate.ts); what Kubernetes cannot express is returned
 * as `errors`, values that are not known yet (an image not built, outputs not provisioned, a file not
 * readable) as `placeholders`: callers that apply or commit refuse both.
 */

export interface RouteOptions {
  /** HTTPRoute (Gateway API, the default) or Ingress. */
  kind?: 'HTTPRoute' | 'Ingress' | undefined;
  /** The host of the environment; default `<app>-<env>.<domain>`. */
  host?: string | undefined;
  domain?: string | undefined;
  /** The Gateway an HTTPRoute attaches to (default: `pave`, in the route's namespace). */
  gateway?: { name: string; namespace?: string | undefined } | undefined;
  ingressClassName?: string | undefined;
}

export interface RenderInput {
  /** The application in Pave's catalog. */
  application: { namespace: string; name: string };
  environment: { name: string; type: string };
  /** The deployment this rendering is of: its id labels every object, its number names the workload's objects. */
  deployment: { id: string; number: number };
  /** The resolved workload (placeholders substituted), and which variables and files hold a secret output. */
  workload: ScoreWorkload;
  secretVariables: { container: string; name: string }[];
  secretFiles: { container: string; target: string }[];
  /** Command and args entries that hold a secret output: passed as `$(PAVE_SECRET_ARG_n)` from the Secret. */
  secretArgs?: { container: string; field: 'command' | 'args'; index: number }[] | undefined;
  /**
   * The main container's variables (`web`, else the first): the deployment's snapshot, i.e. the
   * workload's and add-ons' over the team profile's and the environment config's, and which are secret.
   * When absent, the main container keeps its workload variables.
   */
  main?: { variables: Record<string, string>; secretNames: string[] } | undefined;
  /** The image of the build, for containers whose image is `.` (the application's own); null when it has none. */
  image: string | null;
  /** What to say instead of an image that is not known (e.g. "build 3 is a local artifact, not an image"). */
  imageMissing?: string | undefined;
  /** The team profile's defaults for the environment type (EnvironmentDefaults). */
  profile: { replicas?: number | undefined; cpu?: string | undefined; memory?: string | undefined; healthPath?: string | undefined };
  /** Replicas of the environment (an explicit scale wins over the profile). */
  replicas?: number | undefined;
  /** Use this (existing) namespace instead of creating `<app>-<env>`. */
  namespace?: string | undefined;
  /** Render the Service switch and the route: the deployment is (to be) released. */
  released: boolean;
  route?: RouteOptions | undefined;
  /** Reads a file a workload gives by `source` (relative to the Score file); undefined when not available. */
  readSource?: ((source: string) => Buffer | undefined) | undefined;
  /** Shown instead of every secret value (a review of the objects), e.g. `********`. */
  mask?: string | undefined;
}

export interface RenderResult {
  namespace: string;
  objects: RenderedObject[];
  /** Where the rendering differs from what the workload says, e.g. a probe with two handlers. */
  warnings: string[];
  /** Values that are not real yet. Never apply or commit while there are some. */
  placeholders: string[];
  /** What Kubernetes cannot express, or would refuse (including schema validation failures). */
  errors: string[];
}

/** The annotation that asks for a StatefulSet (score-k8s' name; `pave.dev/kind` is read too). */
export const KIND_ANNOTATIONS = ['k8s.score.dev/kind', 'pave.dev/kind'];
const B64 = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
/** Kubernetes expands `$(VAR)` in env values, command and args; Score means them literally. */
const literal = (s: string) => s.replaceAll('$(', () => '$$(');
const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
const RESOURCE_REF = /^\$\{resources\.([^.}]+)\}$/;

export function renderKubernetes(input: RenderInput): RenderResult {
  const warnings: string[] = [];
  const placeholders: string[] = [];
  const errors: string[] = [];
  const { application: app, environment: env, workload: w } = input;
  const base = dnsLabel(app.namespace === 'default' ? app.name : `${app.namespace}-${app.name}`, 40);
  const namespace = input.namespace ?? dnsLabel(`${base}-${env.name}`);
  const name = dnsLabel(`${base}-${input.deployment.number}`, 47);
  const labels: Record<string, string> = {
    [LABELS.name]: labelValue(app.name),
    [LABELS.instance]: labelValue(`${base}-${env.name}`),
    [LABELS.managedBy]: FIELD_MANAGER,
    [LABELS.application]: labelValue(app.name),
    [LABELS.catalogNamespace]: labelValue(app.namespace),
    [LABELS.environment]: labelValue(env.name),
    [LABELS.deployment]: labelValue(input.deployment.id),
  };
  const selector = { [LABELS.application]: labels[LABELS.application]!, [LABELS.catalogNamespace]: labels[LABELS.catalogNamespace]!, [LABELS.environment]: labels[LABELS.environment]!, [LABELS.deployment]: labels[LABELS.deployment]! };
  const meta = (n: string, extra: Record<string, unknown> = {}) => ({ name: n, namespace, labels: { ...labels }, ...extra });
  const objects: RenderedObject[] = [];
  const add = (phase: RenderedObject['phase'], object: object) => objects.push({ phase, object: object as KubeObject });

  if (input.namespace === undefined) {
    const ns: INamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { ...labels } } };
    delete ns.metadata!.labels![LABELS.deployment];
    add('namespace', ns);
  }

  const annotations = { ...w.metadata.annotations };
  const kindAnnotation = KIND_ANNOTATIONS.map((k) => annotations[k]).find((v) => v !== undefined);
  const stateful = kindAnnotation !== undefined && kindAnnotation.toLowerCase() === 'statefulset';
  if (kindAnnotation !== undefined && !stateful && kindAnnotation.toLowerCase() !== 'deployment') errors.push(`metadata.annotations: kind "${kindAnnotation}" is neither Deployment nor StatefulSet`);
  const containerNames = Object.keys(w.containers);
  const mainName = 'web' in w.containers ? 'web' : containerNames[0]!;
  const replicas = Math.max(0, input.replicas ?? input.profile.replicas ?? 1);

  // ---- secrets and files ----------------------------------------------------------------------
  const secretData: Record<string, string> = {};
  const fileData: Record<string, string> = {};
  const fileBinary: Record<string, string> = {};
  const secretFileData: Record<string, string> = {};
  const usedKeys = new Set<string>();
  const uniqueKey = (wanted: string) => {
    let k = configKey(wanted);
    for (let i = 2; usedKeys.has(k); i++) k = configKey(`${wanted}-${i}`);
    usedKeys.add(k);
    return k;
  };
  const secretValue = (v: string) => B64(input.mask ?? v);
  const secretName = `${name}-env`;
  const filesName = `${name}-files`;
  const secretFilesName = `${name}-secret-files`;
  const fileModes: { map: 'config' | 'secret'; key: string; mode: number | undefined }[] = [];

  const podVolumes: Volume[] = [];
  const claims: IPersistentVolumeClaim[] = [];
  const claimTemplates: NonNullable<IStatefulSet['spec']>['volumeClaimTemplates'] = [];
  const volumeNames = new Set<string>();
  const volumeName = (wanted: string) => {
    let v = dnsLabel(wanted, 63);
    for (let i = 2; volumeNames.has(v); i++) v = dnsLabel(`${wanted}-${i}`, 63);
    volumeNames.add(v);
    return v;
  };
  const resourceVolumes = new Map<string, string>();
  volumeNames.add('files').add('secret-files');

  const containers: Container[] = [];
  for (const [cname, c] of Object.entries(w.containers)) {
    const at = `containers.${cname}`;
    const isMain = cname === mainName;
    // -- image
    let image = c.image;
    if (image === '.') {
      if (input.image) image = input.image;
      else {
        image = `pave-placeholder.invalid/${base}:build`;
        placeholders.push(`${at}.image: ${input.imageMissing ?? 'no image was built for this application'}; shown as ${image}`);
      }
    }
    // -- env
    const vars = isMain && input.main ? input.main.variables : (c.variables ?? {});
    const secretNames = new Set(isMain && input.main ? input.main.secretNames : input.secretVariables.filter((v) => v.container === cname).map((v) => v.name));
    const envVars: EnvVar[] = [];
    const pave: Record<string, string> = { PAVE_APPLICATION: app.name, PAVE_ENVIRONMENT: env.name, PAVE_DEPLOYMENT: input.deployment.id };
    for (const [k, v] of Object.entries(pave)) if (!(k in vars)) envVars.push({ name: k, value: v });
    for (const [k, v] of Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))) {
      if (placeholdersIn(v).length) {
        placeholders.push(`${at}.variables.${k}: ${v} (not provisioned yet)`);
        secretNames.add(k); // an output not known yet may be a secret: it goes where secrets go
      }
      if (secretNames.has(k)) {
        const key = uniqueKey(isMain ? k : `${cname}.${k}`);
        secretData[key] = secretValue(v);
        envVars.push({ name: k, valueFrom: { secretKeyRef: { name: secretName, key } } });
      } else envVars.push({ name: k, value: literal(v) });
    }
    // -- files
    const mounts: VolumeMount[] = [];
    const secretTargets = new Set(input.secretFiles.filter((f) => f.container === cname).map((f) => f.target));
    for (const [target, f] of Object.entries(c.files ?? {})) {
      const secret = secretTargets.has(target);
      const key = uniqueKey(`${cname}${target.replaceAll('/', '.')}`.replace(/\.+/g, '.'));
      let content: Buffer | string;
      if (f.content !== undefined) content = f.content;
      else if (f.binaryContent !== undefined) content = Buffer.from(f.binaryContent, 'base64');
      else {
        const read = input.readSource?.(f.source!);
        if (read) content = read;
        else {
          content = `<the content of ${f.source} was not available when rendering>\n`;
          placeholders.push(`${at}.files["${target}"]: its source ${f.source} was not available; its content is a placeholder`);
        }
      }
      if (secret) secretFileData[key] = secretValue(content.toString());
      else if (typeof content === 'string' || (f.binaryContent === undefined && isUtf8(content))) fileData[key] = content.toString();
      else fileBinary[key] = content.toString('base64');
      let mode: number | undefined;
      if (f.mode !== undefined) mode = parseInt(f.mode, 8);
      fileModes.push({ map: secret ? 'secret' : 'config', key, mode });
      mounts.push({ name: secret ? 'secret-files' : 'files', mountPath: target, subPath: key, readOnly: true });
    }
    // -- volumes
    for (const [target, v] of Object.entries(c.volumes ?? {})) {
      const ref = RESOURCE_REF.exec(v.source);
      let vname: string;
      if (ref) {
        const resName = ref[1]!;
        const res = w.resources?.[resName];
        if (!res) {
          errors.push(`${at}.volumes["${target}"]: resource ${resName} is not declared`);
          continue;
        }
        if (res.type !== 'volume') {
          errors.push(`${at}.volumes["${target}"]: resource ${resName} is a ${res.type}; only volume resources can be mounted`);
          continue;
        }
        vname = resourceVolumes.get(resName) ?? volumeName(`vol-${resName}`);
        if (!resourceVolumes.has(resName)) {
          resourceVolumes.set(resName, vname);
          const params = res.params ?? {};
          const spec: PvcSpec = {
            accessModes: [ACCESS_MODES.find((m) => m === params.accessMode) ?? 'ReadWriteOnce'],
            resources: { requests: { storage: typeof params.size === 'string' ? normalizeQuantity(params.size) : '1Gi' } },
            ...(typeof params.storageClass === 'string' ? { storageClassName: params.storageClass } : {}),
          };
          if (stateful) claimTemplates.push({ metadata: { name: vname, labels: { ...selector } }, spec });
          else {
            const claim = dnsLabel(`${base}-${resName}`, 63);
            const pvc: IPersistentVolumeClaim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(claim), spec };
            claims.push(pvc);
            podVolumes.push({ name: vname, persistentVolumeClaim: { claimName: claim } });
            if (replicas > 1 && spec.accessModes![0] === 'ReadWriteOnce') warnings.push(`${at}.volumes["${target}"]: ${replicas} replicas share the ReadWriteOnce claim ${claim}; they must run on one node (or ask for a StatefulSet, or accessMode ReadWriteMany)`);
          }
        }
      } else if (placeholdersIn(v.source).length) {
        errors.push(`${at}.volumes["${target}"]: source ${v.source} must be \${resources.<name>} of a volume resource`);
        continue;
      } else {
        vname = volumeName(`claim-${v.source}`);
        if (!isDnsSubdomain(v.source)) {
          errors.push(`${at}.volumes["${target}"]: source ${v.source} is neither \${resources.<name>} nor a PersistentVolumeClaim name`);
          continue;
        }
        podVolumes.push({ name: vname, persistentVolumeClaim: { claimName: v.source, ...(v.readOnly ? { readOnly: true } : {}) } });
        warnings.push(`${at}.volumes["${target}"]: source ${v.source} is not a resource; it is mounted as the existing PersistentVolumeClaim ${v.source}`);
      }
      mounts.push({ name: vname, mountPath: target, ...(v.path ? { subPath: v.path.replace(/^\/+/, '') } : {}), ...(v.readOnly ? { readOnly: true } : {}) });
    }
    if (c.before && Object.keys(c.before).length) warnings.push(`${at}.before: Kubernetes starts a pod's containers together; the order is not rendered`);
    // -- probes and resources
    const container: Container = { name: cname, image };
    for (const field of ['command', 'args'] as const) {
      const list = c[field];
      if (!list) continue;
      container[field] = list.map((v, index) => {
        if (!input.secretArgs?.some((a) => a.container === cname && a.field === field && a.index === index)) return literal(v);
        const varName = `PAVE_SECRET_ARG_${envVars.filter((e) => e.name.startsWith('PAVE_SECRET_ARG_')).length}`;
        const key = uniqueKey(`${cname}.${field}.${index}`);
        secretData[key] = secretValue(v);
        envVars.push({ name: varName, valueFrom: { secretKeyRef: { name: secretName, key } } });
        return `$(${varName})`;
      });
    }
    if (envVars.length) container.env = envVars;
    const resources = containerResources(c, isMain ? input.profile : {});
    if (resources) container.resources = resources;
    const liveness = probe(c.livenessProbe, `${at}.livenessProbe`, warnings);
    const readiness = probe(c.readinessProbe, `${at}.readinessProbe`, warnings);
    if (liveness) container.livenessProbe = liveness;
    if (readiness) container.readinessProbe = readiness;
    else if (isMain && !liveness && input.profile.healthPath) {
      const port = Object.values(w.service?.ports ?? {}).find((p) => (p.protocol ?? 'TCP') === 'TCP');
      if (port) container.readinessProbe = { httpGet: { path: input.profile.healthPath, port: port.targetPort ?? port.port } };
    }
    if (mounts.length) container.volumeMounts = mounts;
    containers.push(container);
  }

  // ---- workload objects ---------------------------------------------------------------------------
  for (const pvc of claims) add('workload', pvc);
  if (Object.keys(secretData).length) {
    const s: ISecret = { apiVersion: 'v1', kind: 'Secret', metadata: meta(secretName), type: 'Opaque', immutable: true, data: sortKeys(secretData) };
    add('workload', s);
  }
  const items = (map: 'config' | 'secret') => fileModes.filter((f) => f.map === map).map((f) => ({ key: f.key, path: f.key, ...(f.mode !== undefined ? { mode: f.mode } : {}) }));
  if (Object.keys(fileData).length || Object.keys(fileBinary).length) {
    const cm: IConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(filesName), immutable: true };
    if (Object.keys(fileData).length) cm.data = sortKeys(fileData);
    if (Object.keys(fileBinary).length) cm.binaryData = sortKeys(fileBinary);
    add('workload', cm);
    podVolumes.push({ name: 'files', configMap: { name: filesName, items: items('config') } });
  }
  if (Object.keys(secretFileData).length) {
    add('workload', { apiVersion: 'v1', kind: 'Secret', metadata: meta(secretFilesName), type: 'Opaque', immutable: true, data: sortKeys(secretFileData) } satisfies ISecret);
    podVolumes.push({ name: 'secret-files', secret: { secretName: secretFilesName, items: items('secret') } });
  }

  const pod: PodSpec = { containers, enableServiceLinks: false, automountServiceAccountToken: false };
  if (podVolumes.length) pod.volumes = podVolumes;
  const podMeta = { labels: { ...labels }, ...(Object.keys(annotations).length ? { annotations } : {}) };
  const workloadMeta = meta(name, Object.keys(annotations).length ? { annotations } : {});
  const servicePorts = Object.entries(w.service?.ports ?? {}).map(([pname, p]) => {
    const n = portName(pname, p.port);
    if (n !== pname) warnings.push(`service.ports.${pname}: named ${n} in Kubernetes (port names are at most 15 of a-z, 0-9 and '-')`);
    return { name: n, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' };
  });
  if (stateful) {
    const headless = `${name}-headless`;
    const svc: IService = { apiVersion: 'v1', kind: 'Service', metadata: meta(headless), spec: { clusterIP: 'None', selector: { ...selector }, ...(servicePorts.length ? { ports: servicePorts } : {}) } };
    add('workload', svc);
    const sts: IStatefulSet = {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: workloadMeta,
      spec: { replicas, serviceName: headless, selector: { matchLabels: { ...selector } }, template: { metadata: podMeta, spec: pod }, ...(claimTemplates.length ? { volumeClaimTemplates: claimTemplates } : {}) },
    };
    add('workload', sts);
  } else {
    const d: IDeployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: workloadMeta,
      spec: { replicas, revisionHistoryLimit: 2, selector: { matchLabels: { ...selector } }, template: { metadata: podMeta, spec: pod } },
    };
    add('workload', d);
  }

  // ---- release objects ----------------------------------------------------------------------------
  if (servicePorts.length) {
    const svc: IService = { apiVersion: 'v1', kind: 'Service', metadata: meta(base), spec: { type: 'ClusterIP', selector: { ...selector }, ports: servicePorts } };
    add('release', svc);
  }
  if (input.released) {
    const routes = routeRules(input, base, env.name, servicePorts, warnings, placeholders);
    if (routes.length && !servicePorts.length) warnings.push('the workload declares no service ports, so nothing is routed to it');
    else if (routes.length) {
      if ((input.route?.kind ?? 'HTTPRoute') === 'Ingress') {
        const ing: IIngress = {
          apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta(base),
          spec: {
            ...(input.route?.ingressClassName ? { ingressClassName: input.route.ingressClassName } : {}),
            rules: groupByHost(routes).map(([host, rs]) => ({ host, http: { paths: rs.map((r) => ({ path: r.path, pathType: 'Prefix', backend: { service: { name: base, port: { number: r.port } } } })) } })),
          },
        };
        add('release', ing);
      } else {
        const gw = input.route?.gateway ?? { name: 'pave' };
        if (new Set(routes.map((r) => r.host)).size > 1) warnings.push(`route: one HTTPRoute serves every path on each of the hosts ${[...new Set(routes.map((r) => r.host))].join(', ')}`);
        const hr: IHTTPRoute = {
          apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta(base),
          spec: {
            parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.name, ...(gw.namespace ? { namespace: gw.namespace } : {}) }],
            hostnames: [...new Set(routes.map((r) => r.host))],
            rules: routes.map((r) => ({ matches: [{ path: { type: 'PathPrefix', value: r.path } }], backendRefs: [{ name: base, port: r.port }] })),
          },
        };
        add('release', hr);
      }
    }
  }

  errors.push(...validateObjects(objects.map((o) => o.object)));
  return { namespace, objects, warnings, placeholders, errors };
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function probe(p: ScoreProbe | undefined, at: string, warnings: string[]): Probe | undefined {
  if (!p) return undefined;
  if (p.httpGet && p.exec) warnings.push(`${at}: Kubernetes allows one handler per probe; httpGet is rendered and exec is left out`);
  if (p.httpGet) {
    const h = p.httpGet;
    return {
      httpGet: {
        path: h.path, port: h.port,
        ...(h.host ? { host: h.host } : {}),
        ...(h.scheme ? { scheme: h.scheme } : {}),
        ...(h.httpHeaders?.length ? { httpHeaders: h.httpHeaders.map((x) => ({ name: x.name, value: x.value })) } : {}),
      },
    };
  }
  if (p.exec) return { exec: { command: [...p.exec.command] } };
  return undefined;
}

/**
 * Requests and limits: the workload's own; for the main container, what it leaves out from the
 * profile (cpu and memory requested, memory also as the limit; no CPU limit, so that replicas are not
 * throttled), never above a limit the workload set. A workload's own request above its own limit is
 * kept as written, and validation reports it (the API server refuses it).
 */
function containerResources(c: ScoreContainer, profile: RenderInput['profile']): Resources | undefined {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  for (const k of ['cpu', 'memory'] as const) {
    const l = c.resources?.limits?.[k];
    const r = c.resources?.requests?.[k];
    if (l !== undefined) limits[k] = normalizeQuantity(l);
    if (r !== undefined) requests[k] = normalizeQuantity(r);
  }
  for (const k of ['cpu', 'memory'] as const) {
    const p = profile[k];
    if (p === undefined) continue;
    if (requests[k] === undefined) requests[k] = limits[k] !== undefined && exceeds(p, limits[k]!) ? limits[k]! : p;
    if (k === 'memory' && limits.memory === undefined && !exceeds(requests.memory!, p)) limits.memory = p;
  }
  if (!Object.keys(limits).length && !Object.keys(requests).length) return undefined;
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

interface RouteRule {
  host: string;
  path: string;
  port: number;
}

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The routes of a released environment: the workload's `route` resources, or one for the environment's host. */
function routeRules(input: RenderInput, base: string, env: string, ports: { name: string; port: number; protocol: string }[], warnings: string[], placeholders: string[]): RouteRule[] {
  const tcp = ports.filter((p) => p.protocol === 'TCP');
  const preferred = tcp.find((p) => ['web', 'http', 'www'].includes(p.name)) ?? tcp[0];
  const defaultHost = () => {
    if (input.route?.host) return input.route.host;
    if (input.route?.domain) return `${base}-${env}.${input.route.domain}`;
    const host = `${base}-${env}.pave-placeholder.invalid`;
    placeholders.push(`route: no host or domain is configured for the environment; the host is shown as ${host}`);
    return host;
  };
  const checkHost = (h: string, what: string) => {
    if (HOST.test(h)) return h;
    const host = `${base}-${env}.pave-placeholder.invalid`;
    placeholders.push(`${what}: host ${h} is not known yet (or not a host name); shown as ${host}`);
    return host;
  };
  const out: RouteRule[] = [];
  for (const [rname, r] of Object.entries(input.workload.resources ?? {})) {
    if (r.type !== 'route') continue;
    const params = r.params ?? {};
    const host = checkHost(typeof params.host === 'string' && params.host ? params.host : defaultHost(), `resources.${rname}.params.host`);
    const path = typeof params.path === 'string' && params.path.startsWith('/') ? params.path : '/';
    const wanted = Number(params.port);
    const port = tcp.find((p) => p.port === wanted)?.port ?? preferred?.port;
    if (port === undefined) continue;
    if (Number.isFinite(wanted) && wanted !== port) warnings.push(`resources.${rname}.params.port: ${String(params.port)} is not a TCP port of the service; routed to ${port}`);
    out.push({ host, path, port });
  }
  if (!out.length && preferred) out.push({ host: checkHost(defaultHost(), 'route'), path: '/', port: preferred.port });
  return out;
}

function groupByHost(rules: RouteRule[]): [string, RouteRule[]][] {
  const m = new Map<string, RouteRule[]>();
  for (const r of rules) m.set(r.host, [...(m.get(r.host) ?? []), r]);
  return [...m];
}
