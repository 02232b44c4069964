/**
 * The `/client/stream` wire format, server → client, shared by the server (which builds the frames)
 * and the browser client (which reads them): each session notice becomes `{"event": <type>, ...}`.
 * `event` is the frame's discriminator, so a state change's triggering event travels as `eventType`.
 */
import type { SessionNotice } from '../../session/session-types.js';

type FrameOf<N> = N extends { type: 'state.changed'; actor: infer A }
  ? { event: 'state.changed'; actor: A; value: unknown; eventType: string }
  : N extends { type: infer T }
    ? { event: T } & Omit<N, 'type'>
    : never;

/** A session notice as a frame. */
export type NoticeFrame = FrameOf<SessionNotice>;

/** Every JSON frame the server sends (audio mode adds binary mu-law frames). */
export type ServerFrame =
  | NoticeFrame
  | { event: 'clear' }
  | { event: 'mark'; name: string }
  | { event: 'error'; message: string }
  | { event: 'hangup'; reason?: string }
  | { event: 'pong' };

/** The claim card carried by `claim.updated`. */
export type ClaimCard = Extract<SessionNotice, { type: 'claim.updated' }>['claim'];

/** Builds the frame of a notice. */
export function noticeFrame(n: SessionNotice): NoticeFrame {
  if (n.type === 'state.changed')
    return { event: 'state.changed', actor: n.actor, value: n.value, eventType: n.event };
  const { type, ...fields } = n;
  return { event: type, ...fields } as NoticeFrame;
}
