/**
 * The Kubernetes API paths of the `shop` application's production environment, as the recording API
 * server sees them: what the apply and prune tests expect Pave to ask for.
 */
export const NS = '/api/v1/namespaces/shop-production';
export const APPS = '/apis/apps/v1/namespaces/shop-production';
export const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/shop-production/httproutes';
export const SELECTOR = 'app.kubernetes.io/managed-by=pave,pave.dev/application=shop,pave.dev/catalog-namespace=default,pave.dev/environment=production';

/** The lists a prune reads, one per kind Pave may have applied, by the environment's labels. */
export const PRUNE_LISTS = [
  `GET ${ROUTES}?labelSelector=${SELECTOR}`,
  `GET /apis/networking.k8s.io/v1/namespaces/shop-production/ingresses?labelSelector=${SELECTOR}`,
  `GET ${NS}/services?labelSelector=${SELECTOR}`,
  `GET ${APPS}/deployments?labelSelector=${SELECTOR}`,
  `GET ${APPS}/statefulsets?labelSelector=${SELECTOR}`,
  `GET ${NS}/configmaps?labelSelector=${SELECTOR}`,
  `GET ${NS}/secrets?labelSelector=${SELECTOR}`,
  `GET ${NS}/persistentvolumeclaims?labelSelector=${SELECTOR}`,
  `GET /api/v1/namespaces?labelSelector=${SELECTOR}`,
];
