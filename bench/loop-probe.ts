/**
 * Preloaded into the server processes the latency bench spawns (`node --import ./bench/loop-probe.ts`),
 * the engine and the bare pipeline alike, so both are measured the same way: event-loop delay
 * (`monitorEventLoopDelay`, 10 ms resolution) and RSS, reported over the IPC channel.
 *
 * Protocol (process.send): the bench sends `'reset'` (start a measuring window) or `'read'`; the
 * probe answers `{ type: 'loop', p50Ms, p99Ms, maxMs, rssBytes, cpuMs }` to `'read'` (`cpuMs`: the
 * process's own CPU time, every thread, since the last `'reset'`). Without an IPC
 * channel (a normal start) it does nothing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

if (process.send) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let cpuFrom = process.cpuUsage();
  process.on('message', (m: unknown) => {
    if (m === 'reset') {
      histogram.reset();
      cpuFrom = process.cpuUsage();
    } else if (m === 'read') {
      const cpu = process.cpuUsage(cpuFrom);
      process.send?.({
        type: 'loop',
        p50Ms: histogram.percentile(50) / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        maxMs: histogram.max / 1e6,
        rssBytes: process.memoryUsage.rss(),
        cpuMs: (cpu.user + cpu.system) / 1000,
      });
    }
  });
  // The IPC channel must not keep a server alive that was asked to stop.
  process.channel?.unref();
}
