import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { isConfigKey, isDnsLabel, isDnsSubdomain, isLabelValue, isPortName, isQualifiedName } from './names.ts';
import { describeRef, refOf, type KubeObject } from './objects.ts';
import { exceeds } from './quantity.ts';

/**
 * Every object Pave renders is checked twice before anyone sees it: against the Kubernetes OpenAPI
 * schemas (npm kubernetes-models and @kubernetes-models/gateway-api, which validate with ajv: required
 * fields, types, enums, formats), and against the rules the API server applies beyond the schemas
 * (names, label and annotation keys and values, ConfigMap and Secret keys, port names, one handler per
 * probe, requests not above limits, the 1 MiB size of a ConfigMap or Secret).
 */

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'apps/v1/StatefulSet': StatefulSet as unknown as ModelClass,
  'networking.k8s.io/v1/Ingress': Ingress as unknown as ModelClass,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute as unknown as ModelClass,
};

/** Names that must be RFC 1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

type Json = Record<string, unknown>;
const rec = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** The problems of one object, each prefixed with the object (`Deployment ns/name: …`); [] when it is valid. */
export function validateObject(o: KubeObject): string[] {
  const where = describeRef(refOf(o));
  const out: string[] = [];
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!model) return [`${where}: Pave has no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new model(structuredClone(o) as never).validate();
  } catch (err) {
    out.push(`schema: ${(err as Error).message}`);
  }
  out.push(...apiServerRules(o));
  return out.map((m) => `${where}: ${m}`);
}

/** The problems of every object; [] when all are valid. */
export function validateObjects(objects: readonly KubeObject[]): string[] {
  return objects.flatMap(validateObject);
}

function checkMeta(o: KubeObject, out: string[]): void {
  const name = o.metadata.name;
  if (LABEL_NAMED.has(o.kind) ? !isDnsLabel(name) : !isDnsSubdomain(name)) out.push(`metadata.name "${name}" must be an RFC 1123 ${LABEL_NAMED.has(o.kind) ? 'label' : 'subdomain'}`);
  if (o.kind !== 'Namespace' && o.metadata.namespace !== undefined && !isDnsLabel(o.metadata.namespace)) out.push(`metadata.namespace "${o.metadata.namespace}" must be an RFC 1123 label`);
  labels(o.metadata.labels, 'metadata.labels', out);
  annotations(o.metadata.annotations, 'metadata.annotations', out);
}

function labels(l: Record<string, string> | undefined, path: string, out: string[]): void {
  for (const [k, v] of Object.entries(l ?? {})) {
    if (!isQualifiedName(k)) out.push(`${path}: "${k}" is not a valid label key`);
    if (!isLabelValue(v)) out.push(`${path}.${k}: "${v}" is not a valid label value (at most 63 of A-Z, a-z, 0-9, '-', '_', '.', alphanumeric at both ends)`);
  }
}

function annotations(a: Record<string, string> | undefined, path: string, out: string[]): void {
  for (const k of Object.keys(a ?? {})) if (!isQualifiedName(k)) out.push(`${path}: "${k}" is not a valid annotation key`);
}

const MAX_DATA = 1024 * 1024;

function apiServerRules(o: KubeObject): string[] {
  const out: string[] = [];
  checkMeta(o, out);
  if (o.kind === 'ConfigMap' || o.kind === 'Secret') {
    let size = 0;
    for (const field of ['data', 'binaryData', 'stringData']) {
      for (const [k, v] of Object.entries(rec(o[field]))) {
        if (!isConfigKey(k)) out.push(`${field}: "${k}" is not a valid key (a-z, A-Z, 0-9, '-', '_', '.')`);
        size += k.length + String(v).length;
      }
    }
    if (size > MAX_DATA) out.push(`is ${size} bytes; a ${o.kind} holds at most 1 MiB`);
  }
  if (o.kind === 'Service') {
    const ports = arr(rec(o.spec).ports);
    for (const [i, p] of ports.entries()) {
      const name = p.name;
      if (typeof name === 'string' && !isPortName(name)) out.push(`spec.ports[${i}].name "${name}" is not a valid port name (IANA service name: at most 15 of a-z, 0-9, '-')`);
      if (ports.length > 1 && typeof name !== 'string') out.push(`spec.ports[${i}] needs a name: a Service with several ports names each`);
    }
  }
  if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
    const spec = rec(o.spec);
    const template = rec(spec.template);
    labels(rec(template.metadata).labels as Record<string, string> | undefined, 'spec.template.metadata.labels', out);
    annotations(rec(template.metadata).annotations as Record<string, string> | undefined, 'spec.template.metadata.annotations', out);
    const selector = rec(rec(spec.selector).matchLabels) as Record<string, string>;
    const podLabels = rec(rec(template.metadata).labels);
    for (const [k, v] of Object.entries(selector)) if (podLabels[k] !== v) out.push(`spec.selector.matchLabels.${k} does not match the pod template's labels`);
    const pod = rec(template.spec);
    const volumes = new Set(arr(pod.volumes).map((v) => String(v.name)));
    for (const t of arr(spec.volumeClaimTemplates)) volumes.add(String(rec(t.metadata).name));
    for (const v of volumes) if (!isDnsLabel(v)) out.push(`volume name "${v}" must be an RFC 1123 label`);
    for (const [i, c] of arr(pod.containers).entries()) {
      const at = `spec.template.spec.containers[${i}]`;
      if (!isDnsLabel(String(c.name))) out.push(`${at}.name "${String(c.name)}" must be an RFC 1123 label`);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const p = rec(c[probe]);
        const handlers = ['httpGet', 'exec', 'tcpSocket', 'grpc'].filter((h) => h in p);
        if (probe in c && handlers.length !== 1) out.push(`${at}.${probe} must have exactly one handler (has ${handlers.join(', ') || 'none'})`);
      }
      const res = rec(c.resources);
      for (const [k, req] of Object.entries(rec(res.requests))) {
        const lim = rec(res.limits)[k];
        if (typeof lim === 'string' && typeof req === 'string' && exceeds(req, lim)) out.push(`${at}.resources.requests.${k} ${req} is above its limit ${lim}`);
      }
      const mounts = new Set<string>();
      for (const m of arr(c.volumeMounts)) {
        if (!volumes.has(String(m.name))) out.push(`${at}.volumeMounts: no volume named "${String(m.name)}"`);
        const mp = String(m.mountPath);
        if (mounts.has(mp)) out.push(`${at}.volumeMounts: ${mp} is mounted twice`);
        mounts.add(mp);
      }
    }
  }
  return out;
}
