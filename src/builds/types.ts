/**
 * The build contract: source in, immutable artifact out. Builders work on the file system only (no
 * store, no HTTP); the deployments module records builds in the store.
 */

export type BuildSource =
  | { kind: 'path'; path: string }
  | { kind: 'git'; url: string; ref: string }
  /** A .tar.gz of the source (an upload). */
  | { kind: 'archive'; file: string };

export interface BuildRecipe {
  /** A build command from the template (run with /bin/sh -c after the install), instead of package.json's build script. */
  command?: string | undefined;
  /** Process types when the source has no Procfile (e.g. from the template): name → command. */
  processes?: Record<string, string> | undefined;
}

/** An artifact on disk: a folder named by the digest of its content, with its process types. */
export interface Artifact {
  /** `sha256:<hex>` of the artifact's content (paths, modes and bytes of every file). */
  digest: string;
  /** Absolute path of the artifact's folder; never changed once written. */
  dir: string;
  /** Process types (Procfile, or detected): name → command. `release` is not among them. */
  processes: Record<string, string>;
  /** The Procfile's `release:` command, run once before a deployment is first released. */
  release: string | null;
  /** What was detected: e.g. ['node', 'npm', 'procfile']. */
  detected: string[];
  sizeBytes: number;
  createdAt: string;
}

export type BuildResult =
  | {
      ok: true; artifact: Artifact; sourceDigest: string; /** true when an earlier build of the same source and recipe was reused */ reused: boolean; durationMs: number;
      /** The commit a git source checked out and its commit time (ISO 8601); null for folders and archives. */
      commit?: { sha: string; time: string } | null;
    }
  | { ok: false; error: string; sourceDigest: string | null; durationMs: number };

export interface BuildLogLine {
  ts: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}
