import { spawnSync } from 'node:child_process';
import { ConfigError, inspectHostOf, loadConfig, streamUrlOf } from '../../src/config.js';
import { createProviders } from '../../src/providers/create-providers.js';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('configuration', () => {
  it('starts with no environment at all: PGlite in ./data and local providers', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, DATA_DIR: './data', MAX_CONCURRENT_CALLS: 50, LOG_LEVEL: 'info' });
    expect(c.DEEPGRAM_ENDPOINTING_MS).toBe(300);
    expect(c.providers).toEqual({ stt: 'local', llm: 'local', tts: 'local' });
    expect(createProviders(c, () => '2026-11-25').describe()).toContain('no DEEPGRAM_API_KEY');
  });

  it('selects each cloud provider when its key is set, with the configured base URL', () => {
    const c = loadConfig({
      DEEPGRAM_API_KEY: 'dg',
      DEEPGRAM_URL: 'http://127.0.0.1:9/',
      OPENAI_API_KEY: 'sk',
      CARTESIA_API_KEY: 'ca',
    });
    expect(c.providers).toEqual({ stt: 'deepgram', llm: 'openai', tts: 'cartesia' });
    const line = createProviders(c, () => '2026-11-25').describe();
    expect(line).toContain('deepgram (127.0.0.1:9)');
    expect(line).toContain('openai gpt-4o-mini (api.openai.com)');
    expect(line).not.toMatch(/\bdg\b|\bsk\b/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ MAX_CONCURRENT_CALLS: '0' }, 'MAX_CONCURRENT_CALLS'],
    [{ DEEPGRAM_ENDPOINTING_MS: 'soon' }, 'DEEPGRAM_ENDPOINTING_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SUPABASE_URL: 'https://x.supabase.co' }, 'SUPABASE_URL'],
    [{ TWILIO_AUTH_TOKEN: 'secret-token-value' }, 'PUBLIC_URL'],
    [{ POST_CALL_WEBHOOK_URL: 'https://hooks.example/secret-path' }, 'POST_CALL_WEBHOOK_SECRET'],
    [{ RECORDING_RETENTION_DAYS: 'minus-three' }, 'RECORDING_RETENTION_DAYS'],
  ])('names the bad variable in %j (never its value)', (env, name) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems.join('\n')).toContain(name);
    for (const v of Object.values(env)) expect(problems.join('\n')).not.toContain(v);
  });

  it('records nothing and reports nothing by default; RECORDING=on and the webhook pair switch them on', () => {
    const off = loadConfig({});
    expect(off).toMatchObject({ RECORDING: false, RECORDING_RETENTION_DAYS: 0 });
    expect(off.POST_CALL_WEBHOOK_URL).toBeUndefined();
    const on = loadConfig({
      RECORDING: 'on',
      RECORDING_DIR: '/var/lib/statecall/recordings',
      RECORDING_RETENTION_DAYS: '30',
      POST_CALL_WEBHOOK_URL: 'https://hooks.example/statecall',
      POST_CALL_WEBHOOK_SECRET: 'whsec',
    });
    expect(on).toMatchObject({
      RECORDING: true,
      RECORDING_DIR: '/var/lib/statecall/recordings',
      RECORDING_RETENTION_DAYS: 30,
      POST_CALL_WEBHOOK_URL: 'https://hooks.example/statecall',
    });
  });

  it('group-commits the outbox journal every 100 ms unless JOURNAL_GROUP_MS says otherwise', () => {
    expect(loadConfig({}).JOURNAL_GROUP_MS).toBe(100);
    expect(loadConfig({ JOURNAL_GROUP_MS: '20' }).JOURNAL_GROUP_MS).toBe(20);
    expect(problemsOf({ JOURNAL_GROUP_MS: '0' }).join(' ')).toContain('JOURNAL_GROUP_MS');
    expect(problemsOf({ JOURNAL_GROUP_MS: 'soon' }).join(' ')).toContain('JOURNAL_GROUP_MS');
  });

  it('stops start-up with a message naming the variable and exit code 1', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: 'eighty', OPENAI_API_KEY: 'sk-very-secret' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr + r.stdout).not.toContain('sk-very-secret');
  }, 40_000);

  it('turns PUBLIC_URL into the wss:// stream URL Twilio opens', () => {
    expect(streamUrlOf('https://abc.ngrok.app/')).toBe('wss://abc.ngrok.app/twilio/stream');
    expect(streamUrlOf('http://localhost:3000')).toBe('ws://localhost:3000/twilio/stream');
  });

  it('puts the inspector relay on HOST, on loopback when HOST is every interface, or on INSPECT_HOST', () => {
    expect(inspectHostOf(loadConfig({}))).toBe('127.0.0.1');
    expect(inspectHostOf(loadConfig({ HOST: '::' }))).toBe('127.0.0.1');
    expect(inspectHostOf(loadConfig({ HOST: '10.1.2.3' }))).toBe('10.1.2.3');
    expect(inspectHostOf(loadConfig({ INSPECT_HOST: '0.0.0.0' }))).toBe('0.0.0.0');
  });

  it('takes an E.164 TRANSFER_NUMBER only with the Twilio credentials that can redirect and sign', () => {
    const twilio = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', PUBLIC_URL: 'https://x.test' };
    expect(loadConfig({ ...twilio, TRANSFER_NUMBER: '+15551230000' })).toMatchObject({
      TRANSFER_NUMBER: '+15551230000',
      TRANSFER_AFTER_MISUNDERSTANDINGS: 3,
    });
    expect(loadConfig({}).TRANSFER_NUMBER).toBeUndefined();
    expect(() => loadConfig({ ...twilio, TRANSFER_NUMBER: '555-123-0000' })).toThrow(
      /TRANSFER_NUMBER: must be an E\.164/,
    );
    expect(() => loadConfig({ TRANSFER_NUMBER: '+15551230000' })).toThrow(
      /TRANSFER_NUMBER: needs TWILIO_ACCOUNT_SID/,
    );
    expect(() => loadConfig({ TRANSFER_AFTER_MISUNDERSTANDINGS: '-1' })).toThrow(
      /TRANSFER_AFTER_MISUNDERSTANDINGS/,
    );
    expect(loadConfig({ TRANSFER_AFTER_MISUNDERSTANDINGS: '0' }).TRANSFER_AFTER_MISUNDERSTANDINGS).toBe(0);
  });
});
