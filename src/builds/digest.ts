/**
 * Content digest of a folder: SHA-256 over the sorted relative paths, the kind of every entry, the
 * exec bit and the bytes of every file, and the target of every symbolic link. Owners, times and
 * the other permission bits are left out, so the same tree checked out, copied or extracted
 * anywhere has the same digest. Used for sources and artifacts alike.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface TreeSummary {
  /** `sha256:<hex>` */
  digest: string;
  /** Bytes of all regular files. */
  sizeBytes: number;
  /** Number of regular files. */
  files: number;
}

export interface TreeEntry {
  /** Relative path with `/` separators. */
  rel: string;
  kind: 'file' | 'dir' | 'link';
}

/** Files up to this size are read whole (a window of them at once); larger ones are streamed. */
const SMALL_FILE = 256 * 1024;
const WINDOW = 32;

/**
 * Every directory, regular file and symbolic link under `root` (not `root` itself), sorted by
 * relative path (UTF-16 code unit order). Other kinds (sockets, fifos, devices) are skipped.
 */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const stack: string[] = [''];
  while (stack.length > 0) {
    const relDir = stack.pop() as string;
    const entries = await fs.readdir(path.join(root, relDir), { withFileTypes: true });
    for (const e of entries) {
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      if (e.isDirectory()) {
        out.push({ rel, kind: 'dir' });
        stack.push(rel);
      } else if (e.isFile()) out.push({ rel, kind: 'file' });
      else if (e.isSymbolicLink()) out.push({ rel, kind: 'link' });
    }
  }
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

async function streamInto(hash: Hash, file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    n += buf.length;
    hash.update(buf);
  }
  return n;
}

/** The digest, total file size and file count of the tree under `root`. */
export async function digestTree(root: string): Promise<TreeSummary> {
  const entries = await listTree(root);
  const hash = createHash('sha256');
  hash.update('pave-tree-v1\0');
  let sizeBytes = 0;
  let files = 0;
  for (let i = 0; i < entries.length; i += WINDOW) {
    const window = entries.slice(i, i + WINDOW);
    // Start the small reads of the window together, then hash in order.
    const loaded = window.map(async (e) => {
      const abs = path.join(root, e.rel);
      if (e.kind === 'dir') return { e, abs, mode: 0, size: 0, data: null, target: null };
      if (e.kind === 'link') return { e, abs, mode: 0, size: 0, data: null, target: await fs.readlink(abs) };
      const st = await fs.lstat(abs);
      const data = st.size <= SMALL_FILE ? await fs.readFile(abs) : null;
      return { e, abs, mode: st.mode, size: data ? data.length : st.size, data, target: null };
    });
    for (const p of loaded) {
      const item = await p;
      const { e } = item;
      if (e.kind === 'dir') {
        hash.update(`d ${e.rel}\0`);
      } else if (e.kind === 'link') {
        hash.update(`l ${e.rel}\0${item.target}\0`);
      } else {
        const exec = (item.mode & 0o111) !== 0 ? 'x' : '-';
        hash.update(`f ${e.rel}\0${exec}\0${item.size}\0`);
        if (item.data) hash.update(item.data);
        else {
          const n = await streamInto(hash, item.abs);
          if (n !== item.size) throw new Error(`${e.rel} changed while it was being read`);
        }
        sizeBytes += item.size;
        files++;
      }
    }
  }
  return { digest: `sha256:${hash.digest('hex')}`, sizeBytes, files };
}

/** `sha256:<hex>` of the tree under `dir` (paths, kinds, exec bits, bytes, link targets). */
export async function treeDigest(dir: string): Promise<string> {
  return (await digestTree(dir)).digest;
}
