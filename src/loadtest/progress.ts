/**
 * The progress bar on a terminal (one line, redrawn in place); nothing when the output is not a TTY.
 */
import type { LoadProgress } from './run-load.js';

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

/** One line of progress: a bar of calls done against the plan, counters and elapsed time. */
export function progressLine(
  p: LoadProgress,
  plan: { calls: number; durationMs?: number | undefined },
  width = 24,
): string {
  const done = p.completed + p.failed;
  const fraction = plan.durationMs
    ? Math.min(1, p.elapsedMs / plan.durationMs)
    : Math.min(1, done / Math.max(1, plan.calls));
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const time = plan.durationMs ? `${clock(p.elapsedMs)} / ${clock(plan.durationMs)}` : clock(p.elapsedMs);
  return `${bar} placed ${p.placed}  active ${p.active}  completed ${p.completed}  failed ${p.failed}  ${time}`;
}

/** A progress printer for `stream` (a no-op unless it is a TTY). */
export function createProgressBar(
  stream: NodeJS.WriteStream,
  plan: { calls: number; durationMs?: number | undefined },
): { update(p: LoadProgress): void; done(): void } {
  if (!stream.isTTY) return { update() {}, done() {} };
  let shown = false;
  return {
    update(p) {
      shown = true;
      stream.write(
        `\r\x1b[2K${progressLine(p, plan, Math.max(10, Math.min(40, (stream.columns ?? 80) - 70)))}`,
      );
    },
    done() {
      if (shown) stream.write('\n');
    },
  };
}
