/**
 * Bad HTTP input: oversized, malformed, mis-encoded bodies and unknown routes each get their own
 * 4xx with a JSON body (never a 500, never Express's HTML page), and the server stays up.
 */
import { gzipSync } from 'node:zlib';
import { DASHBOARD_TOKEN } from '../support/phone-stack.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import type { Scenario } from '../support/report.js';
import { withPhoneServer } from '../support/with-server.js';

const TEN_MB = 10 * 1024 * 1024;
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

interface Case {
  name: string;
  expect: number;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

const auth = { Authorization: `Bearer ${DASHBOARD_TOKEN}` };

const CASES: Case[] = [
  {
    name: '10 MB JSON body',
    expect: 413,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': JSON_TYPE },
    body: `{"a":"${'x'.repeat(TEN_MB)}"}`,
  },
  {
    name: '10 MB form body',
    expect: 413,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': FORM_TYPE },
    body: `a=${'x'.repeat(TEN_MB)}`,
  },
  {
    name: 'malformed JSON',
    expect: 400,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': JSON_TYPE },
    body: '{"event": "start", "start": {',
  },
  {
    name: '5000 form parameters',
    expect: 413,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': FORM_TYPE },
    body: Array.from({ length: 5000 }, (_, i) => `p${i}=1`).join('&'),
  },
  {
    name: 'unknown charset',
    expect: 415,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': `${FORM_TYPE}; charset=klingon-8` },
    body: 'CallSid=CA1',
  },
  {
    name: 'bad gzip body',
    expect: 400,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': JSON_TYPE, 'Content-Encoding': 'gzip' },
    body: Buffer.concat([gzipSync('{"a":1}').subarray(0, 10), Buffer.from('not gzip at all')]),
  },
  {
    name: 'unknown content encoding',
    expect: 415,
    method: 'POST',
    path: '/twilio/voice',
    headers: { 'Content-Type': JSON_TYPE, 'Content-Encoding': 'snappy' },
    body: '{"a":1}',
  },
  { name: 'unknown route (GET)', expect: 404, method: 'GET', path: '/no/such/route' },
  {
    name: 'unknown route (POST)',
    expect: 404,
    method: 'POST',
    path: '/no/such/route',
    headers: { 'Content-Type': JSON_TYPE },
    body: '{}',
  },
  { name: 'unknown API route', expect: 404, method: 'GET', path: '/api/no-such-thing', headers: auth },
  { name: 'limit=0x10', expect: 400, method: 'GET', path: '/api/conversations?limit=0x10', headers: auth },
];

function isJsonError(r: RawResponse): boolean {
  if (!r.contentType.startsWith(JSON_TYPE)) return false;
  try {
    const body = JSON.parse(r.body) as { error?: unknown };
    return typeof body.error === 'string';
  } catch {
    return false;
  }
}

export const badHttpInput: Scenario = {
  id: 'http',
  title: 'bad HTTP input answers its own 4xx with a JSON body, never a 500 or HTML, and the server stays up',
  run: (report) =>
    withPhoneServer(report, 'http', {}, async ({ server }) => {
      for (const c of CASES) {
        const r = await rawRequest(server.url, c);
        const kind = r.error ? `no answer (${r.error})` : `${r.status} ${r.contentType.split(';')[0] || '-'}`;
        report.figure(`${c.name.padEnd(26)} ${c.method} ${c.path.slice(0, 32)}`, kind);
        report.check(
          `${c.name}: ${c.expect} with a JSON error`,
          r.status === c.expect && isJsonError(r),
          `${kind}: ${r.body.slice(0, 120)}`,
        );
      }
      const health = await server.health().catch((e: Error) => ({ ok: false, error: e.message }));
      report.check(
        'the server is alive and healthy after all of it',
        server.alive() && health.ok === true,
        health,
      );
    }),
};
