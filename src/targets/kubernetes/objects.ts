import { stringify } from 'yaml';

/**
 * Kubernetes objects as Pave renders, validates, applies and commits them: plain JSON (what the API
 * server and git see), the labels that tie each object to its application, environment and deployment,
 * and where each kind lives in the API (for server-side apply, list and delete).
 */

/** Any Kubernetes object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string | undefined;
    labels?: Record<string, string> | undefined;
    annotations?: Record<string, string> | undefined;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Which step of a rollout an object belongs to: the namespace first, then what runs, then what switches traffic. */
export type Phase = 'namespace' | 'workload' | 'release';

export interface RenderedObject {
  phase: Phase;
  object: KubeObject;
}

/** An object's identity: enough to address it in the API. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
}

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  application: 'pave.dev/application',
  catalogNamespace: 'pave.dev/catalog-namespace',
  environment: 'pave.dev/environment',
  deployment: 'pave.dev/deployment',
} as const;

/** The field manager of every server-side apply, and the value of app.kubernetes.io/managed-by. */
export const FIELD_MANAGER = 'pave';

/** Where a kind lives in the API: its plural, and whether it is namespaced. */
export interface KindInfo {
  plural: string;
  namespaced: boolean;
}

/** The kinds Pave renders (and so applies, lists and prunes); nothing else is ever touched. */
export const KINDS: Readonly<Record<string, KindInfo & { apiVersion: string }>> = {
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  Ingress: { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  HTTPRoute: { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true },
};

export function refOf(o: KubeObject): ObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace ?? null, name: o.metadata.name };
}

/** `Deployment shop-production/shop-3`. */
export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export const refKey = (r: ObjectRef) => `${r.apiVersion}|${r.kind}|${r.namespace ?? ''}|${r.name}`;

/** The API path of a kind's collection (in a namespace when namespaced), e.g. `/apis/apps/v1/namespaces/x/deployments`. */
export function collectionPath(apiVersion: string, kind: string, namespace: string | null): string {
  const info = KINDS[kind];
  if (!info) throw new Error(`Pave does not manage objects of kind ${kind}`);
  const group = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (!info.namespaced) return `${group}/${info.plural}`;
  if (!namespace) throw new Error(`${kind} is namespaced: a namespace is needed`);
  return `${group}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`;
}

export function objectPath(r: ObjectRef): string {
  return `${collectionPath(r.apiVersion, r.kind, r.namespace)}/${encodeURIComponent(r.name)}`;
}

/** Multi-document YAML, one object per document, in the given order. */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
