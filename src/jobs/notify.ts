import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { CHANNEL } from './queue.ts';

/**
 * Wakes workers and followers: one dedicated connection per server LISTENs on the jobs channel, and
 * what this server writes itself is signalled in process too. Notifications only shorten waits:
 * workers and followers also poll, so a lost notification (a reconnect, a pooler that does not
 * support LISTEN) costs latency, never correctness.
 */
export class JobNotifier {
  private readonly url: string | undefined;
  private readonly log: Logger;
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private stopped = true;
  private retry: NodeJS.Timeout | undefined;

  constructor(o: { url?: string | undefined; log: Logger }) {
    this.url = o.url;
    this.log = o.log;
    this.emitter.setMaxListeners(0);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.url) void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped || !this.url) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'pave-jobs-listen' });
    const again = () => {
      if (this.client !== client) return;
      this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.retry = setTimeout(() => void this.connect(), 2000);
      this.retry.unref();
    };
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'job notifications interrupted; reconnecting (workers keep polling meanwhile)');
      again();
    });
    client.on('end', again);
    client.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload) this.signal(n.payload);
    });
    this.client = client;
    try {
      await client.connect();
      // the listening socket must not keep a process alive that has nothing else to do
      (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.stopped) await client.end().catch(() => undefined);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not listen for job notifications; polling only until it can');
      again();
    }
  }

  /** `q:<kind>`: a job is due; `e:<id>`: a job has news (an event, or it ended). */
  signal(payload: string): void {
    this.emitter.emit(payload);
    if (payload.startsWith('q:')) this.emitter.emit('q');
  }

  /**
   * Resolves at the next signal of `topic`, after `ms`, or when `signal` aborts, whichever comes first.
   * `unref`: the timer keeps no process alive (background loops that nobody awaits).
   */
  wait(topic: string, ms: number, signal?: AbortSignal, unref = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(topic, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (unref) timer.unref();
      this.emitter.once(topic, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
