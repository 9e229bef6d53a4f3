/** Builds: source in, immutable content-addressed artifact out. */
export { Builder, BuildError, buildKey, type BuilderOptions } from './builder.ts';
export { treeDigest, digestTree, type TreeSummary } from './digest.ts';
export { parseProcfile, formatProcfile, type Procfile, type ProcfileError } from './procfile.ts';
export type { Artifact, BuildLogLine, BuildRecipe, BuildResult, BuildSource } from './types.ts';
