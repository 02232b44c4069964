/**
 * The deployment files agree with the server: the Grafana dashboard queries only metrics the
 * server exports, the Kubernetes example probes the real endpoints and gives a drain its time, the
 * HPA scales on an exported metric, and the image runs `node dist/src/main.js` as a non-root PID 1
 * with a HEALTHCHECK on /healthz. (deploy/build-image-layout.sh, run by CI, builds and starts the
 * image's layout itself.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { createServerMetrics } from '../../src/telemetry/metrics.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

/** Metric names the server's registry exposes (histograms with their _bucket/_sum/_count). */
async function exportedNames(): Promise<Set<string>> {
  const m = createServerMetrics({ activeCalls: () => 0, outboxPending: () => 0 });
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

describe('the deployment files', () => {
  it('query in the Grafana dashboard only metrics the server exports', async () => {
    const dashboard = JSON.parse(read('deploy/grafana/statecall-dashboard.json')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/\b(?:statecall|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(8);
    const exported = await exportedNames();
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('probe /readyz and /healthz in Kubernetes and give a drain more than DRAIN_TIMEOUT_S', () => {
    const deployment = read('deploy/kubernetes/deployment.yaml');
    const num = (re: RegExp) => Number(re.exec(deployment)?.[1]);
    const grace = num(/terminationGracePeriodSeconds: (\d+)/);
    const drain = num(/name: DRAIN_TIMEOUT_S, value: '(\d+)'/);
    const preStop = num(/command: \['sleep', '(\d+)'\]/);
    expect(grace).toBeGreaterThan(drain + preStop);
    expect(deployment).toMatch(/readinessProbe:\s+httpGet: \{ path: \/readyz/);
    expect(deployment).toMatch(/livenessProbe:\s+httpGet: \{ path: \/healthz/);
    const hpa = read('deploy/kubernetes/hpa.yaml');
    expect(hpa).toContain('metric: { name: statecall_calls_active }');
  });

  it('build an image that runs node dist/src/main.js as a non-root PID 1 with a HEALTHCHECK on /healthz', () => {
    const dockerfile = read('Dockerfile');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/healthz/m);
    expect(runtime).toContain('espeak-ng');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(read('.dockerignore')).toMatch(/^\.env$/m);
  });
});
