/**
 * `cmd`: runs an executable that does the provisioning, so platform teams can plug in anything
 * (OpenTofu/Terraform wrappers, cloud CLIs, in-house scripts). In spirit it is Score's `cmd://`
 * provisioner: a JSON request on stdin, a JSON answer on stdout.
 *
 * ## Protocol
 *
 * Inputs: `{ command, args?, env?, timeoutSeconds? (default 300), …any other fields }`.
 * `command` is the absolute path of an executable; it runs directly (no shell) as
 * `command ...args`, in the directory that holds it, with `env` (secret: stored encrypted) added to a
 * minimal environment (PATH, HOME, USER, LOGNAME, LANG, LC_ALL, TZ, TMPDIR; nothing else of Pave's
 * own environment, which holds Pave's credentials).
 *
 * Request, one JSON object on stdin (then stdin is closed):
 *
 *   { "action": "provision" | "check" | "delete",
 *     "resource": { "uid", "type", "class", "id", "application", "environment", "environmentType", "team" },
 *     "params": { … },                 // the resource's params
 *     "inputs": { … },                 // the definition's inputs without command and args
 *     "state": { … } | null,           // what the last provision returned as state
 *     "outputs": { … } }               // check only: the outputs Pave holds
 *
 * Answer, on stdout, exit code 0:
 *
 *   provision  { "outputs": { … }, "secretOutputs"?: ["password"], "state"?: { … } }
 *              (no `state`: the previous state is kept)
 *   check      { "status": "in-sync" | "missing" | "changed", "detail"?: "…",
 *                "differences"?: [{ "field", "expected", "actual" }] }
 *   delete     anything, or nothing
 *
 * The provisioner must be idempotent like every driver: names derived from `resource.uid`,
 * provision converges when called again (with the last state, or `null` after a crash), delete
 * succeeds when everything is already gone.
 *
 * Failures: a non-zero exit is a DriverError carrying the last 20 lines of stderr (with the values
 * of `env` and of the state's strings redacted; the request on stdin is never shown). Running longer
 * than `timeoutSeconds` stops the process group with SIGTERM, then SIGKILL after a grace period.
 * Cancelling the request (its AbortSignal) stops it the same way. Output that is not valid JSON or
 * not of the expected shape is a DriverError saying what is wrong. Stderr is for humans: write
 * progress there, never secrets.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type ProvisionRequest, type ProvisionResult, type ResourceIdentity } from './driver.ts';
import { redact, throwIfAborted } from './util.ts';

const ID = 'cmd';
const STDOUT_LIMIT = 16 * 1024 * 1024;
const STDERR_KEEP = 64 * 1024;
const STDERR_LINES = 20;
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export const cmdInputs = z.looseObject({
  command: z.string().min(1).refine((c) => path.isAbsolute(c), 'command must be the absolute path of an executable'),
  args: z.array(z.string()).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string()).optional(),
  timeoutSeconds: z.number().positive().max(86_400).optional(),
});
export type CmdInputs = z.infer<typeof cmdInputs>;

const provisionAnswer = z.object({
  outputs: z.record(z.string(), z.unknown()),
  secretOutputs: z.array(z.string()).optional(),
  state: z.record(z.string(), z.unknown()).nullable().optional(),
});

const checkAnswer = z.object({
  status: z.enum(['in-sync', 'missing', 'changed']),
  detail: z.string().optional(),
  differences: z.array(z.object({ field: z.string(), expected: z.unknown(), actual: z.unknown() })).optional(),
});

export interface CmdDriverOptions {
  /** Time between SIGTERM and SIGKILL when a provisioner is stopped (default 5 s). */
  killGraceMs?: number;
}

type Action = 'provision' | 'check' | 'delete';

interface Invocation {
  action: Action;
  resource: ResourceIdentity;
  params: Record<string, unknown>;
  inputs: CmdInputs;
  state: Record<string, unknown> | null;
  outputs?: Record<string, unknown>;
  signal: AbortSignal;
}

/** Strings worth redacting from what a provisioner prints: env values, and the state's strings. */
function secretsOf(inv: Invocation): string[] {
  const out = Object.values(inv.inputs.env ?? {}).filter((v) => v.length >= 4);
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= 8) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(inv.state);
  return out;
}

function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split(/\r?\n/);
  return all.slice(-lines).join('\n');
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Runs the provisioner once; resolves with its stdout, or throws a DriverError. */
function run(inv: Invocation, killGraceMs: number): Promise<string> {
  throwIfAborted(ID, inv.signal);
  const { command, args = [], env = {}, timeoutSeconds = 300 } = inv.inputs;
  const passedInputs = Object.fromEntries(Object.entries(inv.inputs).filter(([k]) => k !== 'command' && k !== 'args'));
  const request = JSON.stringify({
    action: inv.action,
    resource: inv.resource,
    params: inv.params,
    inputs: passedInputs,
    state: inv.state,
    ...(inv.action === 'check' ? { outputs: inv.outputs ?? {} } : {}),
  });
  const childEnv: Record<string, string> = {};
  for (const k of INHERITED_ENV) {
    const v = process.env[k];
    if (v !== undefined) childEnv[k] = v;
  }
  Object.assign(childEnv, env);
  const secrets = secretsOf(inv);
  const name = path.basename(command);

  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { cwd: path.dirname(command), env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let stopped: 'timeout' | 'aborted' | 'stdout' | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig); // the provisioner's whole process group (tofu starts providers)
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    };
    const stop = (why: 'timeout' | 'aborted' | 'stdout') => {
      if (stopped) return;
      stopped = why;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
    };
    const timer = setTimeout(() => stop('timeout'), Math.round(timeoutSeconds * 1000));
    const onAbort = () => stop('aborted');
    inv.signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err: DriverError | null, out?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inv.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(out ?? '');
    };

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_LIMIT) stop('stdout');
      else stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    // A provisioner that exits without reading stdin closes the pipe: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(request);

    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(killTimer);
      const hint =
        err.code === 'ENOENT' ? `command ${command} does not exist` : err.code === 'EACCES' ? `command ${command} is not executable (chmod +x it)` : `cannot run ${command}: ${err.message}`;
      finish(new DriverError(ID, hint, { retryable: false }));
    });
    child.on('close', (code, sig) => {
      clearTimeout(killTimer);
      const errTail = redact(tail(stderr, STDERR_LINES), secrets);
      const withStderr = (msg: string) => (errTail ? `${msg}; last lines of stderr:\n${errTail}` : `${msg} (no stderr)`);
      if (stopped === 'aborted') return finish(new DriverError(ID, `${inv.action} was cancelled; ${name} was stopped`));
      if (stopped === 'timeout') return finish(new DriverError(ID, withStderr(`${name} ${inv.action} timed out after ${timeoutSeconds}s and was stopped (SIGTERM, then SIGKILL after ${killGraceMs / 1000}s)`)));
      if (stopped === 'stdout') return finish(new DriverError(ID, `${name} ${inv.action} printed more than ${STDOUT_LIMIT} bytes on stdout and was stopped`, { retryable: false }));
      if (code !== 0) return finish(new DriverError(ID, withStderr(`${name} ${inv.action} failed: ${code === null ? `killed by ${sig}` : `exit code ${code}`}`)));
      finish(null, Buffer.concat(stdout).toString('utf8'));
    });
  });
}

function parseAnswer<T>(inv: Invocation, stdout: string, schema: z.ZodType<T>): T {
  const name = path.basename(inv.inputs.command);
  const text = stdout.trim();
  if (!text) throw new DriverError(ID, `${name} ${inv.action} printed nothing on stdout; it must print one JSON object`, { retryable: false });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const why = redact(err instanceof Error ? err.message : String(err), secretsOf(inv));
    throw new DriverError(ID, `${name} ${inv.action} printed invalid JSON on stdout (${why}); it must print one JSON object, and write logs to stderr`, { retryable: false });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new DriverError(ID, `${name} ${inv.action} answered JSON of the wrong shape: ${describeIssues(parsed.error)}`, { retryable: false });
  return parsed.data;
}

export function createCmdDriver(options: CmdDriverOptions = {}): Driver<CmdInputs> {
  const grace = options.killGraceMs ?? 5000;
  return {
    id: ID,
    description: 'Runs an executable with a JSON request on stdin and reads its JSON answer (Score cmd:// provisioners, OpenTofu/Terraform wrappers)',
    inputs: cmdInputs,
    secretInputs: ['env'],

    async provision(req: ProvisionRequest<CmdInputs>): Promise<ProvisionResult> {
      const inv: Invocation = { action: 'provision', resource: req.resource, params: req.params, inputs: req.inputs, state: req.state, signal: req.signal };
      const answer = parseAnswer(inv, await run(inv, grace), provisionAnswer);
      const secretOutputs = answer.secretOutputs ?? [];
      const unknown = secretOutputs.filter((k) => !(k in answer.outputs));
      if (unknown.length > 0) throw new DriverError(ID, `${path.basename(req.inputs.command)} provision named secretOutputs that are not outputs: ${unknown.join(', ')}`, { retryable: false });
      return { outputs: answer.outputs, secretOutputs, state: answer.state ?? req.state ?? {} };
    },

    async check(req: CheckRequest<CmdInputs>): Promise<DriftReport> {
      const inv: Invocation = { action: 'check', resource: req.resource, params: req.params, inputs: req.inputs, state: req.state, outputs: req.outputs, signal: req.signal };
      const a = parseAnswer(inv, await run(inv, grace), checkAnswer);
      if (a.status === 'in-sync') return { status: 'in-sync' };
      if (a.status === 'missing') return { status: 'missing', detail: a.detail ?? 'the provisioner reports the resource missing' };
      return { status: 'changed', detail: a.detail ?? 'the provisioner reports changes', differences: (a.differences ?? []).map((d) => ({ field: d.field, expected: d.expected, actual: d.actual })) };
    },

    async delete(req: DeleteRequest<CmdInputs>): Promise<void> {
      const inv: Invocation = { action: 'delete', resource: req.resource, params: req.params, inputs: req.inputs, state: req.state, signal: req.signal };
      await run(inv, grace);
    },
  };
}

export const cmdDriver: Driver<CmdInputs> = createCmdDriver();
