/**
 * Delivers the post-call report of every ended conversation to POST_CALL_WEBHOOK_URL: signed
 * (webhook-signature.ts), at least once, retried with exponential backoff and jitter, and durable
 * across restarts. Nothing here runs on a call's path: the writer tells it a conversation ended
 * (a synchronous, non-throwing call) and everything else happens in the background.
 *
 * Journal first: each delivery is a small JSON file in `dir` (`<conversation id>.json`), written
 * (atomically: temp file + rename) before anything else happens, and rewritten after each attempt
 * with the attempt count and the next due time; it is deleted once the receiver answered 2xx. The
 * report itself is built once, after the store outbox has written the conversation's last rows
 * (so it matches the database), and kept in the file: every retry sends the same body, with a new
 * timestamp and signature. `start()` picks up the files a previous process left.
 *
 * Failure semantics: network errors, timeouts, 408, 429 and 5xx are retried; other 4xx answers
 * are final (a receiver that refuses the request will refuse it again). After `maxAttempts`, or
 * on a final answer, the file moves to `dir/failed/` and an error is logged. The receiver should
 * dedupe on `X-Statecall-Delivery` (the conversation id): a crash between its 2xx and our delete
 * sends the report again.
 */
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutboxLogger } from '../store/outbox.js';
import type { ConversationDetail } from '../store/types.js';
import { buildPostCallReport } from './post-call-report.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './webhook-signature.js';

/** pino-compatible logger subset (the outbox's). */
export type WebhookLogger = OutboxLogger;

/** Options of {@link createPostCallWebhook}. */
export interface PostCallWebhookOptions {
  url: string;
  secret: string;
  /** Where pending deliveries are kept (e.g. DATA_DIR/post-call). */
  dir: string;
  /** Resolves once every write queued so far reached the store (the outbox's flush). */
  waitForWrites(): Promise<void>;
  /** The stored conversation (the read API's detail). */
  load(conversationId: string): Promise<ConversationDetail | null>;
  /** The recording's URL, or null when the conversation has none. */
  recordingUrl(conversationId: string): Promise<string | null>;
  logger: WebhookLogger;
  fetch?: typeof fetch;
  /** First retry delay (default 2 s); doubles per attempt, with jitter. */
  initialBackoffMs?: number;
  /** Cap of the retry delay (default 30 min). */
  maxBackoffMs?: number;
  /** Attempts before a delivery is given up (default 20: about 4 hours with the defaults and jitter). */
  maxAttempts?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Deliveries in flight at once (default 4). */
  concurrency?: number;
}

/** Counters for /healthz and tests. */
export interface PostCallWebhookStats {
  pending: number;
  delivered: number;
  retries: number;
  failed: number;
}

/** The delivery queue (see file header). */
export interface PostCallWebhook {
  /** A conversation ended: its report is due. Synchronous; never throws; repeated ids count once. */
  conversationEnded(conversationId: string): void;
  /** Resumes the deliveries a previous process left. Never rejects. */
  start(): Promise<void>;
  /** Stops (in-flight requests are abandoned; their files stay for the next start). Never rejects. */
  close(): Promise<void>;
  stats(): PostCallWebhookStats;
}

/** One delivery, as kept on disk. */
interface Delivery {
  conversationId: string;
  attempts: number;
  /** Epoch ms when the next attempt is due. */
  nextAt: number;
  /** The report, once built (the exact bytes every attempt sends). */
  body: string | null;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for answers worth retrying. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/** Creates the delivery queue (see file header). */
export function createPostCallWebhook(opts: PostCallWebhookOptions): PostCallWebhook {
  const log = opts.logger;
  const doFetch = opts.fetch ?? fetch;
  const initial = opts.initialBackoffMs ?? 2000;
  const cap = opts.maxBackoffMs ?? 30 * 60_000;
  const maxAttempts = opts.maxAttempts ?? 20;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const concurrency = opts.concurrency ?? 4;
  const failedDir = path.join(opts.dir, 'failed');
  // Never the URL's path or query: it may carry a token.
  const host = new URL(opts.url).host;
  const jobs = new Map<string, Delivery>();
  const running = new Map<string, Promise<void>>();
  const abort = new AbortController();
  const stats = { delivered: 0, retries: 0, failed: 0 };
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let dirReady = false;

  const fileOf = (id: string) => path.join(opts.dir, `${id}.json`);

  const save = async (d: Delivery) => {
    if (!dirReady) {
      mkdirSync(opts.dir, { recursive: true });
      dirReady = true;
    }
    const tmp = `${fileOf(d.conversationId)}.tmp`;
    await writeFile(tmp, JSON.stringify(d));
    await rename(tmp, fileOf(d.conversationId));
  };

  const giveUp = async (d: Delivery, why: string) => {
    jobs.delete(d.conversationId);
    stats.failed += 1;
    log.error(
      { conversationId: d.conversationId, attempts: d.attempts, host, why },
      'post-call report given up',
    );
    try {
      mkdirSync(failedDir, { recursive: true });
      await rename(fileOf(d.conversationId), path.join(failedDir, `${d.conversationId}.json`));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'post-call report: could not move to failed/');
    }
  };

  const retryLater = async (d: Delivery, why: string) => {
    if (d.attempts >= maxAttempts) return giveUp(d, why);
    stats.retries += 1;
    const base = Math.min(cap, initial * 2 ** Math.max(0, d.attempts - 1));
    d.nextAt = Date.now() + Math.round(base * (0.5 + Math.random() * 0.5));
    log.warn(
      { conversationId: d.conversationId, attempts: d.attempts, host, why },
      'post-call report: retrying later',
    );
    await save(d);
  };

  /** Builds the body once the conversation's rows are in the store; false if not yet. */
  const build = async (d: Delivery): Promise<boolean> => {
    await opts.waitForWrites();
    const detail = await opts.load(d.conversationId);
    if (!detail?.conversation.ended_at) return false;
    const report = buildPostCallReport(detail, await opts.recordingUrl(d.conversationId));
    d.body = JSON.stringify(report);
    await save(d);
    return true;
  };

  const send = async (d: Delivery, body: string) => {
    const ts = Math.floor(Date.now() / 1000);
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
    return doFetch(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'statecall-post-call/1',
        [SIGNATURE_HEADER]: signWebhook(opts.secret, ts, body),
        [TIMESTAMP_HEADER]: String(ts),
        'x-statecall-delivery': d.conversationId,
        'x-statecall-attempt': String(d.attempts),
      },
      body,
      signal,
      redirect: 'error',
    });
  };

  const attempt = async (d: Delivery) => {
    try {
      if (d.body === null && !(await build(d))) {
        d.attempts += 1;
        return await retryLater(d, 'conversation not in the store yet');
      }
      d.attempts += 1;
      const res = await send(d, d.body!);
      await res.body?.cancel().catch(() => {});
      if (res.ok) {
        jobs.delete(d.conversationId);
        stats.delivered += 1;
        await unlink(fileOf(d.conversationId)).catch(() => {});
        log.info(
          { conversationId: d.conversationId, attempts: d.attempts, status: res.status },
          'post-call report delivered',
        );
        return;
      }
      if (!retryable(res.status)) return await giveUp(d, `HTTP ${res.status}`);
      await retryLater(d, `HTTP ${res.status}`);
    } catch (err) {
      if (closed) return; // abandoned at close: the file stays as it was
      await retryLater(d, (err as Error).message).catch((e: Error) =>
        log.error({ err: e.message }, 'post-call report: could not save the delivery'),
      );
    }
  };

  /** Starts what is due (up to `concurrency`) and sets the timer for the next one. */
  const kick = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const now = Date.now();
    let next = Infinity;
    for (const d of jobs.values()) {
      if (running.has(d.conversationId)) continue;
      if (d.nextAt > now) {
        next = Math.min(next, d.nextAt);
        continue;
      }
      if (running.size >= concurrency) break;
      const p = attempt(d).finally(() => {
        running.delete(d.conversationId);
        kick();
      });
      running.set(d.conversationId, p);
    }
    if (next !== Infinity) {
      timer = setTimeout(kick, Math.max(0, next - now));
      timer.unref?.();
    }
  };

  return {
    conversationEnded(conversationId) {
      if (closed || !ID.test(conversationId) || jobs.has(conversationId)) return;
      const d: Delivery = { conversationId, attempts: 0, nextAt: Date.now(), body: null };
      jobs.set(conversationId, d);
      // After the writer's current tick, so the session's last rows (metrics) are queued too.
      setImmediate(() => {
        save(d).then(kick, (err: Error) => {
          log.warn({ err: err.message }, 'post-call report: could not journal; delivering anyway');
          kick();
        });
      });
    },
    async start() {
      let names: string[];
      try {
        names = (await readdir(opts.dir)).filter((n) => n.endsWith('.json'));
        dirReady = true;
      } catch {
        return; // nothing pending
      }
      for (const name of names) {
        try {
          const d = JSON.parse(await readFile(path.join(opts.dir, name), 'utf8')) as Delivery;
          if (!ID.test(d.conversationId) || typeof d.attempts !== 'number') throw new Error('not a delivery');
          if (!jobs.has(d.conversationId))
            jobs.set(d.conversationId, {
              conversationId: d.conversationId,
              attempts: d.attempts,
              nextAt: typeof d.nextAt === 'number' ? d.nextAt : Date.now(),
              body: typeof d.body === 'string' ? d.body : null,
            });
        } catch (err) {
          log.warn(
            { file: name, err: (err as Error).message },
            'post-call report: unreadable pending delivery skipped',
          );
        }
      }
      if (jobs.size > 0) log.info({ pending: jobs.size }, 'post-call reports: resuming pending deliveries');
      kick();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await Promise.allSettled([...running.values()]);
    },
    stats: () => ({ pending: jobs.size, ...stats }),
  };
}
