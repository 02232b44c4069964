/** Start-up warnings for a risky or half-done set-up (src/http/startup-warnings.ts). */
import { startupWarnings } from '../../src/http/startup-warnings.js';

const PUBLIC = 'https://bot.example.com';

describe('start-up warnings', () => {
  it('says nothing for a local run with the client built', () => {
    expect(startupWarnings({}, { clientBuilt: true })).toEqual([]);
  });

  it('warns that a public server without DASHBOARD_TOKEN keeps its dashboard closed, and how to open it', () => {
    const w = startupWarnings({ PUBLIC_URL: PUBLIC, TWILIO_AUTH_TOKEN: 'x' }, { clientBuilt: true });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/DASHBOARD_TOKEN is not.*\?token=<DASHBOARD_TOKEN>/);
  });

  it('warns that a public server without TWILIO_AUTH_TOKEN checks no webhook signature', () => {
    const w = startupWarnings({ PUBLIC_URL: PUBLIC, DASHBOARD_TOKEN: 'd' }, { clientBuilt: true });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/TWILIO_AUTH_TOKEN is not.*signatures are not checked/);
  });

  it('says how to build a missing browser client, whatever else is set', () => {
    const w = startupWarnings({ PUBLIC_URL: PUBLIC }, { clientBuilt: false });
    expect(w).toHaveLength(3);
    expect(w[2]).toMatch(/npm run client:build/);
  });

  it('never repeats a secret it was given', () => {
    const w = startupWarnings({ PUBLIC_URL: PUBLIC, DASHBOARD_TOKEN: 's3cret-dash' }, { clientBuilt: false });
    expect(w.join(' ')).not.toContain('s3cret-dash');
  });
});
