import { createHash } from 'node:crypto';

/**
 * Kubernetes' naming rules, and how Pave makes valid names and label values out of Score's. These are
 * the API server's own checks (apimachinery's validation package), which the OpenAPI schemas that
 * kubernetes-models validates against do not carry.
 */

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 6);

/** RFC 1123 label: 1–63 of a-z, 0-9 and '-', starting and ending alphanumeric (Service, Namespace, container and volume names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: labels joined by '.', at most 253 (most object names). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: at most 63 of alphanumerics, '-', '_' and '.', starting and ending alphanumeric, or empty. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** The name part of a qualified name (label and annotation keys). */
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** ConfigMap and Secret keys. */
export const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** IANA service name: port names (at most 15, a-z, 0-9 and '-', at least one letter, no '--'). */
export const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export const isDnsLabel = (s: string) => s.length <= 63 && DNS_LABEL.test(s);
export const isDnsSubdomain = (s: string) => s.length <= 253 && DNS_SUBDOMAIN.test(s);
export const isLabelValue = (s: string) => s.length <= 63 && LABEL_VALUE.test(s);
export const isConfigKey = (s: string) => s.length <= 253 && CONFIG_KEY.test(s);
export const isPortName = (s: string) => s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--');

/** A label or annotation key: an optional DNS-subdomain prefix (≤253) and '/', then a name of at most 63. */
export function isQualifiedName(s: string): boolean {
  const i = s.lastIndexOf('/');
  const [prefix, name] = i < 0 ? [null, s] : [s.slice(0, i), s.slice(i + 1)];
  if (prefix !== null && !isDnsSubdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** `s` as an RFC 1123 label of at most `max`: lower case, other characters as '-', and a short hash when it had to be cut. */
export function dnsLabel(s: string, max = 63): string {
  let out = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (!out) out = `x${short(s)}`;
  if (out.length > max) out = `${out.slice(0, max - 7).replace(/-+$/, '')}-${short(s)}`;
  return out;
}

/** `s` as a label value (at most 63). */
export function labelValue(s: string): string {
  if (isLabelValue(s)) return s;
  let out = s.replace(/[^-A-Za-z0-9_.]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (out.length > 63) out = `${out.slice(0, 56).replace(/[^A-Za-z0-9]+$/, '')}-${short(s)}`;
  return out;
}

/** `s` as a ConfigMap or Secret key. */
export function configKey(s: string): string {
  const out = s.replace(/[^-._a-zA-Z0-9]+/g, '_').replace(/^\.+$/, '_');
  return out.length > 253 ? `${out.slice(0, 246)}-${short(s)}` : out || `k${short(s)}`;
}

/** A port name for a Score port name that is not a valid IANA service name (e.g. longer than 15). */
export function portName(s: string, port: number): string {
  if (isPortName(s)) return s;
  let out = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (out.length > 15) out = out.slice(0, 15).replace(/-+$/, '');
  return isPortName(out) ? out : `p${port}`.slice(0, 15);
}
