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
  ])('names the bad variable in %j (never its value)', (env, name) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems.join('\n')).toContain(name);
    for (const v of Object.values(env)) expect(problems.join('\n')).not.toContain(v);
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
});
