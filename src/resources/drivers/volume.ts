import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { nameFromUid, throwIfAborted, wrapError } from './util.ts';

/**
 * `volume`: a directory for the resource under Pave's data directory,
 * `<dataDir>/volumes/<sanitised uid>-<hash>`, mode 0750. Outputs `{ source }`, the absolute path
 * (Score's `volume` resources are mounted from a `source`). Re-provisioning keeps its content;
 * delete removes it recursively. A file or symbolic link where the directory should be is an error,
 * never followed.
 */
const ID = 'volume';
const MODE = 0o750;

export const volumeInputs = z.strictObject({});
export type VolumeInputs = z.infer<typeof volumeInputs>;

/** The directory of a resource's volume. */
export function volumePath(dataDir: string, uid: string): string {
  if (!dataDir) throw new DriverError(ID, 'Pave has no data directory configured', { retryable: false });
  return path.join(path.resolve(dataDir), 'volumes', nameFromUid(uid, { max: 120, prefix: '', separator: '-' }));
}

async function statOf(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw wrapError(ID, `cannot read ${p}`, err);
  }
}

async function provision(req: ProvisionRequest<VolumeInputs>): Promise<ProvisionResult> {
  throwIfAborted(ID, req.signal);
  const dir = volumePath(req.dataDir, req.resource.uid);
  try {
    await mkdir(path.dirname(dir), { recursive: true, mode: MODE });
  } catch (err) {
    throw wrapError(ID, `cannot create ${path.dirname(dir)}`, err, [], false);
  }
  const st = await statOf(dir);
  if (st && !st.isDirectory()) {
    throw new DriverError(ID, `${dir} exists and is not a directory (${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}); remove it and provision again`, { retryable: false });
  }
  if (!st) {
    try {
      await mkdir(dir, { mode: MODE });
      req.log.info('created volume directory', { path: dir });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapError(ID, `cannot create ${dir}`, err, [], false);
    }
  }
  // mkdir's mode is filtered by the umask; set it exactly (also converges a changed mode).
  await chmod(dir, MODE).catch((err: unknown) => {
    throw wrapError(ID, `cannot set the mode of ${dir}`, err, [], false);
  });
  return { outputs: { source: dir }, secretOutputs: [], state: { path: dir } };
}

async function check(req: CheckRequest<VolumeInputs>): Promise<DriftReport> {
  const dir = volumePath(req.dataDir, req.resource.uid);
  const st = await statOf(dir);
  if (!st) return { status: 'missing', detail: `${dir} does not exist` };
  if (!st.isDirectory()) return { status: 'changed', detail: `${dir} is not a directory`, differences: [{ field: 'type', expected: 'directory', actual: st.isSymbolicLink() ? 'symlink' : 'file' }] };
  const mode = st.mode & 0o777;
  if (mode !== MODE) return { status: 'changed', detail: `${dir} has mode ${mode.toString(8)}`, differences: [{ field: 'mode', expected: MODE.toString(8), actual: mode.toString(8) }] };
  return { status: 'in-sync' };
}

async function remove(req: DeleteRequest<VolumeInputs>): Promise<void> {
  throwIfAborted(ID, req.signal);
  const dir = volumePath(req.dataDir, req.resource.uid);
  const existed = (await statOf(dir)) !== null;
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw wrapError(ID, `cannot remove ${dir}`, err);
  }
  if (existed) req.log.info('removed volume directory', { path: dir });
}

export const volumeDriver: Driver<VolumeInputs> = {
  id: ID,
  description: "A directory under Pave's data directory (mode 0750)",
  inputs: volumeInputs,
  secretInputs: [],
  provision,
  check,
  delete: remove,
};
