/**
 * What a source is and how to build and run it: Node.js (package.json and its lockfile), a Procfile,
 * or what the recipe says.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from './source.ts';
import { checkProcesses, formatProcfile, parseProcfile } from './procfile.ts';
import type { BuildRecipe } from './types.ts';

export type PackageManager = 'npm' | 'pnpm' | 'yarn';

export interface BuildPlan {
  detected: string[];
  /** The install command, or null (with `installNote` saying why when it is worth saying). */
  install: string | null;
  installNote: string | null;
  /** The build command (package.json's build script, or the recipe's command), or null. */
  build: string | null;
  processes: Record<string, string>;
  release: string | null;
  /** A Procfile to write into the artifact when the process types did not come from one in the source. */
  procfile: string | null;
}

interface PackageJson {
  scripts?: Record<string, unknown>;
  main?: unknown;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  optionalDependencies?: Record<string, unknown>;
  workspaces?: unknown;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readPackageJson(root: string): Promise<PackageJson | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, 'package.json'), 'utf8');
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BuildError(`package.json is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuildError('package.json must hold a JSON object');
  return value as PackageJson;
}

const count = (o: unknown) => (typeof o === 'object' && o !== null ? Object.keys(o).length : 0);

/** Quotes a word for /bin/sh when it needs it. */
function shQuote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function packageManager(root: string): Promise<{ pm: PackageManager; install: string }> {
  if ((await exists(path.join(root, 'package-lock.json'))) || (await exists(path.join(root, 'npm-shrinkwrap.json')))) return { pm: 'npm', install: 'npm ci' };
  if (await exists(path.join(root, 'pnpm-lock.yaml'))) return { pm: 'pnpm', install: 'pnpm install --frozen-lockfile' };
  if (await exists(path.join(root, 'yarn.lock'))) return { pm: 'yarn', install: 'yarn install --frozen-lockfile' };
  return { pm: 'npm', install: 'npm install' };
}

/**
 * The plan for the source tree under `root`. `prebuilt`: the tree is already built (an archive from
 * CI): no install and no build command. Throws a BuildError when nothing can be made of it.
 */
export async function detect(root: string, recipe: BuildRecipe, opts: { prebuilt: boolean }): Promise<BuildPlan> {
  const detected: string[] = [];
  const pkg = await readPackageJson(root);
  let install: string | null = null;
  let installNote: string | null = null;
  let build: string | null = null;
  let pm: PackageManager = 'npm';

  if (pkg) {
    detected.push('node');
    if (!opts.prebuilt) {
      const found = await packageManager(root);
      pm = found.pm;
      detected.push(pm);
      const deps = count(pkg.dependencies) + count(pkg.devDependencies) + count(pkg.optionalDependencies);
      if (deps > 0 || pkg.workspaces !== undefined) install = found.install;
      else installNote = 'no dependencies to install';
    }
  }
  if (!opts.prebuilt) {
    if (recipe.command !== undefined && recipe.command.trim() !== '') {
      build = recipe.command;
      detected.push('command');
    } else if (pkg && typeof pkg.scripts?.build === 'string' && pkg.scripts.build.trim() !== '') {
      build = `${pm} run build`;
      detected.push('build-script');
    }
  }

  // Process types: the Procfile, else the recipe's, else Node.js conventions.
  let processes: Record<string, string> = {};
  let release: string | null = null;
  let procfile: string | null = null;
  let procfileText: string | null = null;
  try {
    procfileText = await fs.readFile(path.join(root, 'Procfile'), 'utf8');
  } catch {
    procfileText = null;
  }
  if (procfileText !== null) {
    const parsed = parseProcfile(procfileText);
    if (parsed.errors.length > 0) {
      throw new BuildError(`Procfile: ${parsed.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ')}`);
    }
    detected.push('procfile');
    processes = parsed.processes;
    release = parsed.release;
  }
  if (Object.keys(processes).length === 0) {
    if (recipe.processes && Object.keys(recipe.processes).length > 0) {
      processes = { ...recipe.processes };
      detected.push('recipe-processes');
    } else if (pkg && typeof pkg.scripts?.start === 'string' && pkg.scripts.start.trim() !== '') {
      processes = { web: 'npm start' };
      detected.push('start-script');
    } else if (pkg && typeof pkg.main === 'string' && pkg.main.trim() !== '') {
      processes = { web: `node ${shQuote(pkg.main)}` };
      detected.push('main');
    } else if (!opts.prebuilt && !pkg && procfileText === null && build === null) {
      throw new BuildError('nothing to build: the source has no package.json and no Procfile, and the recipe gives no command or process types');
    } else {
      throw new BuildError('no process types: add a Procfile (web: <command>) or a start script');
    }
    // Process types from the recipe are written into the artifact as its Procfile, so the artifact
    // says how to run itself and its digest covers them (same tree, other processes: other digest).
    if (detected.includes('recipe-processes')) procfile = formatProcfile(processes, release);
  }
  return { detected, install, installNote, build, processes, release, procfile };
}

/** Problems with a recipe's shape (before anything is fetched). */
export function checkRecipe(recipe: BuildRecipe): string[] {
  const problems: string[] = [];
  if (recipe.command !== undefined && typeof recipe.command !== 'string') problems.push('recipe.command must be a string');
  if (recipe.processes !== undefined) {
    if (typeof recipe.processes !== 'object' || recipe.processes === null || Array.isArray(recipe.processes)) problems.push('recipe.processes must be an object of name → command');
    else problems.push(...checkProcesses(recipe.processes).map((p) => `recipe.processes: ${p}`));
  }
  return problems;
}
