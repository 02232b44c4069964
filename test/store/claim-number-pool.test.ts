import { createClaimNumberPool, type ClaimNumberPoolOptions } from '../../src/store/claim-number-pool.js';
import { recordingStore, waitFor } from './fixtures.js';

let counter = 0;
const generate = () => `CLM-${String(++counter).padStart(8, '0')}`;

function logger() {
  const warnings: { obj: object; msg?: string }[] = [];
  return { warnings, info() {}, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) };
}

function pool(over: Partial<ClaimNumberPoolOptions> & Pick<ClaimNumberPoolOptions, 'store'>) {
  return createClaimNumberPool({ generate, instanceId: 'inst-test', retryMs: 5, startWaitMs: 50, ...over });
}

describe('claim number pool', () => {
  it('hands out distinct reserved numbers synchronously once started', async () => {
    const { store } = recordingStore();
    const p = pool({ store, size: 8 });
    await p.start();
    expect(p.available()).toBe(8);
    const taken = [p.take(), p.take(), p.take()];
    expect(taken.every((t) => t.reserved)).toBe(true);
    expect(new Set(taken.map((t) => t.claimId)).size).toBe(3);
    p.stop();
  });

  it('refills in the background once fewer than half are left', async () => {
    const { store } = recordingStore();
    const p = pool({ store, size: 4 });
    await p.start();
    for (let i = 0; i < 3; i++) p.take();
    await waitFor(() => p.available() === 4);
    p.stop();
  });

  it('never hands out a number the database refused (already reserved or used)', async () => {
    const { store } = recordingStore();
    const tiny = ['CLM-A', 'CLM-B', 'CLM-A', 'CLM-C', 'CLM-B', 'CLM-D', 'CLM-E', 'CLM-F'];
    let i = 0;
    const first = pool({ store, size: 2, generate: () => tiny[i++ % tiny.length] as string });
    await first.start();
    const seen = [first.take().claimId, first.take().claimId];
    await waitFor(() => first.available() === 2);
    seen.push(first.take().claimId, first.take().claimId);
    expect(new Set(seen).size).toBe(4);
    first.stop();
  });

  it('falls back to a logged, unreserved local number while the database is down, then reserves again', async () => {
    const rec = recordingStore();
    rec.controls.down = true;
    const log = logger();
    const p = pool({ store: rec.store, size: 4, logger: log });
    await p.start();
    const local = p.take();
    expect(local.reserved).toBe(false);
    expect(local.claimId).toMatch(/^CLM-/);
    expect(log.warnings.map((w) => w.msg)).toContain(
      'claim number pool empty (database unreachable?): using an unreserved number',
    );

    rec.controls.down = false;
    await waitFor(() => p.available() === 4);
    expect(p.take().reserved).toBe(true);
    p.stop();
  });

  it('does not hold up start-up when the database hangs', async () => {
    const rec = recordingStore();
    rec.controls.hang = true;
    const p = pool({ store: rec.store, startWaitMs: 10 });
    await p.start();
    expect(p.take().reserved).toBe(false);
    p.stop();
  });
});
