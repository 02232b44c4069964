/**
 * What a transport needs from the server that hosts it, as small ports: call admission (slots
 * against MAX_CONCURRENT_CALLS) and a place to mount its HTTP and WebSocket routes. The HTTP layer
 * implements them (src/http/session-registry.ts, `createApp`); transports never import it.
 */
import type http from 'node:http';
import type { Express } from 'express';
import type { WebSocket } from 'ws';

/** A live call's slot. */
export interface Slot {
  /** Frees the slot. Safe to call any number of times. */
  release(): void;
}

/** Counters for /healthz and /readyz. */
export interface AdmissionStats {
  limit: number;
  /** Calls with an open socket. */
  active: number;
  /** Webhook reservations waiting for their stream. */
  reserved: number;
  draining: boolean;
}

/** Admission as a transport sees it (the registry's lifecycle, e.g. draining, stays with the server). */
export interface CallAdmission {
  readonly limit: number;
  /** Takes a fresh slot for a call that opens now; null when full or draining. */
  tryAcquire(): Slot | null;
  /**
   * Holds a slot for `callSid` until its stream claims it or the reservation expires. A second
   * reservation of the same CallSid (a retried webhook) refreshes the first one. False when full
   * or draining.
   */
  reserve(callSid: string): boolean;
  /** Turns `callSid`'s reservation into a live slot; null when there is none (expired, never made). */
  claim(callSid: string): Slot | null;
  /** Live plus reserved slots. */
  size(): number;
  /** True when no new call can be admitted (every slot live or reserved). */
  isFull(): boolean;
  stats(): AdmissionStats;
  isDraining(): boolean;
}

/** A WebSocket route: path → connection handler (after the upgrade was accepted). */
export type WsRoute = {
  path: string;
  /** Checks the upgrade request; return a status to refuse it. */
  authorize?: (req: http.IncomingMessage) => { ok: true } | { ok: false; status: number; message: string };
  onConnection: (ws: WebSocket, req: http.IncomingMessage) => void;
};

/** Where a transport mounts its routes (the app, before it listens). */
export interface RouteHost {
  /** Plain HTTP routes (webhooks). */
  readonly express: Pick<Express, 'post' | 'get'>;
  /** Adds a WebSocket route. */
  addWsRoute(route: WsRoute): void;
}
