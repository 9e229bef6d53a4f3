import { fromKubeconfig, inCluster, KubeConfigError, type ClusterAccess } from './kubernetes/client.ts';
import { TargetSettingsError, type RuntimeName } from './target.ts';

/**
 * A cluster's settings as the team profile gives them (`environments.<type>.cluster`, checked by the
 * platform's schema when it loads), and how they become credentials: platform secrets are read by
 * name through `reveal` (the caller's: the targets know nothing of the store), the kubeconfig parsed,
 * the in-cluster service account read. Every problem names the setting at fault.
 */
export interface SecretName {
  secretRef: string;
}

export interface ClusterSettingsInput {
  name: string;
  server?: string | undefined;
  ca?: string | SecretName | undefined;
  token?: SecretName | undefined;
  kubeconfig?: SecretName | undefined;
  context?: string | undefined;
  inCluster?: boolean | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  namespace?: string | undefined;
  domain?: string | undefined;
  route?: 'httproute' | 'ingress' | undefined;
  gateway?: string | undefined;
  ingressClass?: string | undefined;
  rolloutTimeout?: string | undefined;
  gitops?: { remote?: string | undefined; directory?: string | undefined; branch?: string | undefined; secrets?: 'omit' | 'commit' | undefined } | undefined;
}

export type Reveal = (names: string[]) => Promise<Map<string, string>>;

/** Whether the settings can serve a runtime; the first problem, with the setting's path under `at`. */
export function checkSettings(runtime: RuntimeName, settings: ClusterSettingsInput | undefined, at: string): TargetSettingsError | null {
  if (runtime === 'local') return null;
  if (!settings) return new TargetSettingsError(at, `no cluster is configured for this environment type: a platform engineer sets ${at} in the team profile (name, and server with a token, a kubeconfig, or inCluster${runtime === 'gitops' ? '; and gitops.remote or gitops.directory' : ''})`);
  if (runtime === 'gitops' && !settings.gitops) return new TargetSettingsError(`${at}.gitops`, `cluster ${settings.name} has no GitOps repository: set ${at}.gitops.remote (a repository to push to) or ${at}.gitops.directory`);
  if (runtime === 'kubernetes' && !settings.server && !settings.kubeconfig && !settings.inCluster) return new TargetSettingsError(`${at}.server`, `cluster ${settings.name} gives no way to reach its API server: set ${at}.server (with token), ${at}.kubeconfig, or ${at}.inCluster`);
  return null;
}

/** The credentials of a cluster, with its secrets read. Throws TargetSettingsError. */
export async function clusterAccess(settings: ClusterSettingsInput, reveal: Reveal, at: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterAccess> {
  const secret = async (field: string, ref: SecretName): Promise<string> => {
    try {
      const values = await reveal([ref.secretRef]);
      const v = values.get(ref.secretRef);
      if (v === undefined || v === '') throw new Error(`platform secret ${ref.secretRef} is empty`);
      return v;
    } catch (err) {
      throw new TargetSettingsError(`${at}.${field}`, (err as Error).message);
    }
  };
  let access: ClusterAccess;
  if (settings.kubeconfig) {
    const text = await secret('kubeconfig', settings.kubeconfig);
    try {
      access = fromKubeconfig(text, { context: settings.context });
    } catch (err) {
      const message = err instanceof KubeConfigError ? err.message : `the kubeconfig in platform secret ${settings.kubeconfig.secretRef} is not readable: ${(err as Error).message}`;
      throw new TargetSettingsError(`${at}.kubeconfig`, message);
    }
  } else if (settings.inCluster) {
    try {
      access = inCluster(env);
    } catch (err) {
      throw new TargetSettingsError(`${at}.inCluster`, `in-cluster credentials are not available: ${(err as Error).message}`);
    }
  } else if (settings.server) {
    access = {
      server: settings.server.replace(/\/+$/, ''),
      token: settings.token ? await secret('token', settings.token) : undefined,
      ca: typeof settings.ca === 'string' ? settings.ca : settings.ca ? await secret('ca', settings.ca) : undefined,
      insecureSkipTlsVerify: settings.insecureSkipTlsVerify,
    };
  } else throw new TargetSettingsError(`${at}.server`, `cluster ${settings.name} gives no way to reach its API server: set server (with token), kubeconfig, or inCluster`);
  if (access.server.startsWith('http:') && access.token && !isLoopback(access.server)) {
    throw new TargetSettingsError(`${at}.server`, `${access.server} is plain HTTP: a bearer token is only sent over HTTPS (or to this machine)`);
  }
  return access;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** `5m` → ms (default 5 minutes). */
export function rolloutTimeoutMs(settings: ClusterSettingsInput | undefined): number {
  const d = settings?.rolloutTimeout;
  if (!d) return 5 * 60_000;
  return Number(d.slice(0, -1)) * (d.endsWith('m') ? 60_000 : 1000);
}
