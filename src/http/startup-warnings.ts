/**
 * What an operator must hear at start-up about a risky or half-done set-up: a public server
 * (PUBLIC_URL) whose dashboard is closed for want of DASHBOARD_TOKEN, or whose Twilio webhooks are
 * not verified for want of TWILIO_AUTH_TOKEN; and a browser client that is not built (a compiled
 * run, `node dist/src/main.js`, skips `npm start`'s build step). Pure: the caller logs them.
 */
import type { AppConfig } from '../config.js';

/** The settings the warnings depend on. */
export type WarningConfig = Pick<AppConfig, 'PUBLIC_URL' | 'DASHBOARD_TOKEN' | 'TWILIO_AUTH_TOKEN'>;

/** One warning per problem found, in plain words with the fix; empty when all is well. */
export function startupWarnings(config: WarningConfig, opts: { clientBuilt: boolean }): string[] {
  const out: string[] = [];
  if (config.PUBLIC_URL && !config.DASHBOARD_TOKEN)
    out.push(
      "PUBLIC_URL is set but DASHBOARD_TOKEN is not: the dashboard API and the browser client refuse every request (they hold callers' personal data). Set DASHBOARD_TOKEN and open the client as /?token=<DASHBOARD_TOKEN>.",
    );
  if (config.PUBLIC_URL && !config.TWILIO_AUTH_TOKEN)
    out.push(
      'PUBLIC_URL is set but TWILIO_AUTH_TOKEN is not: Twilio webhook signatures are not checked (anyone can start calls) and the bot cannot hang up through the REST API. Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.',
    );
  if (!opts.clientBuilt)
    out.push(
      'the browser client is not built (no client/dist/index.html): / answers 404 until you run `npm run client:build` (`npm start` builds it itself).',
    );
  return out;
}
