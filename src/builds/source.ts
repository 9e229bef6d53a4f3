/**
 * Fetching a build source into a fresh folder: a local folder (copied), a git repository (shallow
 * fetch of one ref) or a .tar.gz (extracted with the system tar after checking every entry).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { run, describeExit, type RunResult } from './exec.ts';
import type { BuildSource } from './types.ts';

/** A failure with a message meant for the person who asked for the build. */
export class BuildError extends Error {
  override name = 'BuildError';
}

export interface FetchContext {
  /** A system log line. */
  system: (line: string) => void;
  /** Output of a tool (git), as log lines. */
  output: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal | undefined;
  /** Told the commit a git source checked out, and when it was committed (ISO 8601). */
  commit?: ((c: { sha: string; time: string }) => void) | undefined;
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

// ---------------------------------------------------------------------------------------------
// .paveignore

/** A matcher for a `.paveignore` (gitignore-like, without negation): true when `rel` is ignored. */
export type IgnoreMatcher = (rel: string, isDir: boolean) => boolean;

function globToRegExp(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more folders, `**` anything
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return re;
}

/**
 * Parses a `.paveignore`: one pattern a line, `#` comments; `*`, `?` and `**` wildcards; a trailing
 * `/` matches folders only; a pattern with a `/` (other than a trailing one) is relative to the
 * source's root, otherwise it matches a name at any depth. Negation (`!`) is not supported.
 */
export function parseIgnore(text: string): IgnoreMatcher {
  const rules: { re: RegExp; dirOnly: boolean }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#') || p.startsWith('!')) continue;
    const dirOnly = p.endsWith('/');
    if (dirOnly) p = p.replace(/\/+$/, '');
    if (p === '') continue;
    const anchored = p.includes('/');
    p = p.replace(/^\/+/, '');
    const body = globToRegExp(p);
    rules.push({ re: new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`), dirOnly });
  }
  return (rel, isDir) => rules.some((r) => (!r.dirOnly || isDir) && r.re.test(rel));
}

async function readIgnore(root: string): Promise<IgnoreMatcher | null> {
  try {
    return parseIgnore(await fs.readFile(path.join(root, '.paveignore'), 'utf8'));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// copying a folder

/** Copies the tree under `from` to `to` (created): directories, regular files (with their modes) and symbolic links as they are. */
async function copyTree(from: string, to: string, skip: (rel: string, isDir: boolean) => boolean, signal?: AbortSignal): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  const stack: string[] = [''];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const relDir = stack.pop() as string;
    const entries = await fs.readdir(path.join(from, relDir), { withFileTypes: true });
    const jobs: Promise<void>[] = [];
    for (const e of entries) {
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      const src = path.join(from, rel);
      const dst = path.join(to, rel);
      if (e.isDirectory()) {
        if (ALWAYS_SKIPPED.has(e.name) || skip(rel, true)) continue;
        await fs.mkdir(dst);
        stack.push(rel);
      } else if (e.isFile()) {
        if (ALWAYS_SKIPPED.has(e.name) || skip(rel, false)) continue;
        jobs.push(fs.copyFile(src, dst));
      } else if (e.isSymbolicLink()) {
        if (ALWAYS_SKIPPED.has(e.name) || skip(rel, false)) continue;
        jobs.push(fs.readlink(src).then((target) => fs.symlink(target, dst)));
      }
      if (jobs.length >= 32) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
  }
}

/** Removes what the root's `.paveignore` names (for sources that were not copied with it). */
async function pruneIgnored(root: string): Promise<void> {
  const ignored = await readIgnore(root);
  if (!ignored) return;
  const stack: string[] = [''];
  while (stack.length > 0) {
    const relDir = stack.pop() as string;
    for (const e of await fs.readdir(path.join(root, relDir), { withFileTypes: true })) {
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      const isDir = e.isDirectory();
      if (ignored(rel, isDir)) await fs.rm(path.join(root, rel), { recursive: true, force: true });
      else if (isDir) stack.push(rel);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// git

/** The URL with any user/password part replaced, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

function toolEnv(): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SSH_AUTH_SOCK', 'GIT_SSH_COMMAND', 'GIT_SSH']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

const GIT_CONFIG = ['-c', 'core.autocrlf=false', '-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false', '-c', 'init.defaultBranch=main'];

async function fetchGit(url: string, ref: string, dest: string, ctx: FetchContext): Promise<void> {
  if (url === '' || url.startsWith('-')) throw new BuildError(`invalid git URL ${JSON.stringify(redactUrl(url))}`);
  if (ref === '' || ref.startsWith('-') || /[\s~^:?*[\\]/.test(ref)) throw new BuildError(`invalid git ref ${JSON.stringify(ref)}`);
  const shown = redactUrl(url);
  let stderrTail: string[] = [];
  const git = async (args: string[], display: string): Promise<RunResult> => {
    ctx.system(`$ git ${display}`);
    stderrTail = [];
    return run('git', [...GIT_CONFIG, ...args], {
      cwd: dest,
      env: toolEnv(),
      signal: ctx.signal,
      onLine: (stream, line) => {
        const safe = line.split(url).join(shown);
        if (stream === 'stderr') stderrTail = [...stderrTail.slice(-4), safe];
        ctx.output(stream, safe);
      },
    });
  };
  const fail = (what: string, r: RunResult): never => {
    if (r.aborted) throw new BuildError('build cancelled');
    const why = stderrTail.length > 0 ? `: ${stderrTail.join(' / ')}` : '';
    throw new BuildError(`${what} ${describeExit(r)}${why}`);
  };
  await fs.mkdir(dest, { recursive: true });
  let r = await git(['init', '-q', '.'], 'init');
  if (r.code !== 0) fail('git init', r);
  r = await git(['fetch', '--depth', '1', '--no-tags', url, ref], `fetch --depth 1 ${shown} ${ref}`);
  let checkout = 'FETCH_HEAD';
  if (r.code !== 0) {
    if (r.aborted) fail('git fetch', r);
    if (!/^[0-9a-f]{4,40}$/i.test(ref)) fail(`git fetch of ${ref} from ${shown}`, r);
    // Servers may refuse to serve a commit by its id: fetch everything, then look it up.
    ctx.system('the server did not serve the commit directly: fetching the whole repository');
    r = await git(['fetch', '--tags', url, '+refs/heads/*:refs/remotes/origin/*'], `fetch --tags ${shown} '+refs/heads/*:refs/remotes/origin/*'`);
    if (r.code !== 0) fail(`git fetch from ${shown}`, r);
    checkout = ref;
  }
  r = await git(['checkout', '-q', '--detach', checkout], `checkout --detach ${checkout === 'FETCH_HEAD' ? 'FETCH_HEAD' : ref}`);
  if (r.code !== 0) {
    if (r.aborted) fail('git checkout', r);
    throw new BuildError(`git ref ${ref} was not found in ${shown}`);
  }
  let sha = '';
  let committed = '';
  await run('git', ['show', '-s', '--format=%H %cI', 'HEAD'], {
    cwd: dest, env: toolEnv(),
    onLine: (s, l) => {
      if (s === 'stdout' && l.trim()) [sha = '', committed = ''] = l.trim().split(' ');
    },
  });
  if (sha) ctx.system(`checked out ${sha}`);
  if (sha && committed && !Number.isNaN(Date.parse(committed))) ctx.commit?.({ sha, time: committed });
  await fs.rm(path.join(dest, '.git'), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// archives

async function tarOutput(args: string[], signal?: AbortSignal): Promise<{ r: RunResult; lines: string[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const r = await run('tar', args, {
    cwd: '/',
    env: toolEnv(),
    signal,
    onLine: (s, l) => (s === 'stdout' ? lines.push(l) : errors.push(l)),
  });
  return { r, lines, errors };
}

const ALLOWED_TYPES = new Set(['-', 'd', 'l', 'h']);

function insideRoot(rel: string): boolean {
  return rel !== '..' && !rel.startsWith('../') && !path.posix.isAbsolute(rel);
}

/**
 * Checks the listing of a .tar.gz before anything is extracted: only files, folders and links; no
 * absolute names, no `..`, no symbolic link pointing outside the archive, nothing extracted
 * through a symbolic link. Throws a BuildError saying what is wrong.
 */
async function checkArchive(file: string, signal?: AbortSignal): Promise<void> {
  const names = await tarOutput(['-tzf', file, '--quoting-style=escape'], signal);
  if (names.r.code !== 0) {
    if (names.r.aborted) throw new BuildError('build cancelled');
    throw new BuildError(`${path.basename(file)} is not a readable .tar.gz${names.errors[0] ? `: ${names.errors[0]}` : ''}`);
  }
  const verbose = await tarOutput(['-tzvf', file, '--quoting-style=escape', '--numeric-owner'], signal);
  if (verbose.r.code !== 0 || verbose.lines.length !== names.lines.length) {
    throw new BuildError(`${path.basename(file)} is not a readable .tar.gz${verbose.errors[0] ? `: ${verbose.errors[0]}` : ''}`);
  }
  const bad = (name: string, why: string): never => {
    throw new BuildError(`refusing archive ${path.basename(file)}: entry ${JSON.stringify(name)} ${why}`);
  };
  const links = new Set<string>();
  const normalised: string[] = [];
  names.lines.forEach((name, i) => {
    const line = verbose.lines[i] as string;
    const type = line[0] ?? '?';
    if (!ALLOWED_TYPES.has(type)) bad(name, `is of an unsupported kind ("${type}"): only files, folders and links are allowed`);
    if (name.startsWith('/')) bad(name, 'has an absolute path');
    if (name.split('/').includes('..')) bad(name, 'contains ".."');
    const norm = path.posix.normalize(name).replace(/\/+$/, '');
    if (type === 'l' || type === 'h') {
      const sep = type === 'l' ? ' -> ' : ' link to ';
      const at = line.indexOf(` ${name}${sep}`);
      if (at < 0) bad(name, 'could not be read from the listing');
      const target = line.slice(at + 1 + name.length + sep.length);
      if (type === 'l') {
        if (path.posix.isAbsolute(target)) bad(name, `is a link to an absolute path (${target})`);
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(norm), target));
        if (!insideRoot(resolved)) bad(name, `is a link pointing outside the archive (${target})`);
        links.add(norm);
      } else if (target.startsWith('/') || target.split('/').includes('..')) {
        bad(name, `is a hard link pointing outside the archive (${target})`);
      }
    }
    normalised.push(norm);
  });
  for (const norm of normalised) {
    const parts = norm.split('/');
    for (let k = 1; k < parts.length; k++) {
      const prefix = parts.slice(0, k).join('/');
      if (links.has(prefix)) bad(norm, `would be written through the symbolic link ${JSON.stringify(prefix)}`);
    }
  }
}

/** After extraction: every symbolic link must resolve inside `root` (belt and braces). */
async function verifyLinks(root: string): Promise<void> {
  const realRoot = await fs.realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
  const stack: string[] = [realRoot];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isSymbolicLink()) {
        const target = await fs.readlink(abs);
        let resolved = path.resolve(dir, target);
        try {
          resolved = await fs.realpath(abs);
        } catch {
          // dangling: the lexical resolution has to do
        }
        if (!inside(resolved)) throw new BuildError(`refusing archive: ${path.relative(realRoot, abs)} is a link pointing outside it (${target})`);
      } else if (!e.isFile()) {
        await fs.rm(abs, { force: true });
      }
    }
  }
}

/**
 * Extracts a .tar.gz safely into `dest` (created). When everything in it sits in one top folder
 * (`app/…`), that folder's content is the source: returns the folder that holds the tree.
 */
export async function extractArchive(file: string, dest: string, ctx: FetchContext): Promise<string> {
  const abs = path.resolve(file);
  try {
    const st = await fs.stat(abs);
    if (!st.isFile()) throw new BuildError(`archive ${file} is not a file`);
  } catch (e) {
    if (e instanceof BuildError) throw e;
    throw new BuildError(`archive ${file} does not exist`);
  }
  await checkArchive(abs, ctx.signal);
  await fs.mkdir(dest, { recursive: true });
  ctx.system(`$ tar -xzf ${path.basename(abs)}`);
  const x = await tarOutput(['-xzf', abs, '-C', dest, '--no-same-owner', '--no-same-permissions', '--delay-directory-restore', '--warning=no-timestamp', '--warning=no-unknown-keyword'], ctx.signal);
  for (const l of x.errors) ctx.output('stderr', l);
  if (x.r.code !== 0) {
    if (x.r.aborted) throw new BuildError('build cancelled');
    throw new BuildError(`extracting ${path.basename(abs)} failed: tar ${describeExit(x.r)}${x.errors[0] ? `: ${x.errors[0]}` : ''}`);
  }
  await verifyLinks(dest);
  const top = await fs.readdir(dest, { withFileTypes: true });
  if (top.length === 1 && top[0]?.isDirectory()) {
    ctx.system(`the archive holds one folder (${top[0].name}/): using its content`);
    return path.join(dest, top[0].name);
  }
  return dest;
}

// ---------------------------------------------------------------------------------------------

/**
 * Fetches `source` into `dest` (which must not exist yet, or be empty) and returns the folder that
 * holds the source tree (`dest`, or a folder inside it for archives with one top folder).
 */
export async function fetchSource(source: BuildSource, dest: string, ctx: FetchContext): Promise<string> {
  switch (source.kind) {
    case 'path': {
      const from = path.resolve(source.path);
      let st;
      try {
        st = await fs.stat(from);
      } catch {
        throw new BuildError(`source folder ${source.path} does not exist`);
      }
      if (!st.isDirectory()) throw new BuildError(`source ${source.path} is not a folder`);
      ctx.system(`copying ${from}`);
      const ignored = await readIgnore(from);
      await copyTree(from, dest, ignored ?? (() => false), ctx.signal);
      return dest;
    }
    case 'git': {
      await fetchGit(source.url, source.ref, dest, ctx);
      await pruneIgnored(dest);
      return dest;
    }
    case 'archive': {
      const root = await extractArchive(source.file, dest, ctx);
      await pruneIgnored(root);
      return root;
    }
    default: {
      const kind = (source as { kind?: unknown }).kind;
      throw new BuildError(`unknown source kind ${JSON.stringify(kind)}`);
    }
  }
}
