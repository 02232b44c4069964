/**
 * The minimal socket a call runs over: send a text or binary frame, close with a code, hear
 * messages, the close and errors. The orchestration (call-orchestration.ts) knows only this, so it
 * and every codec are tested with a plain object; {@link wsCallSocket} adapts a `ws` WebSocket.
 */
import type { WebSocket } from 'ws';

/** One inbound frame, as received (bytes; a text frame's are UTF-8). */
export interface InboundFrame {
  binary: boolean;
  data: Uint8Array;
}

/** A call's socket (see file header). No method throws. */
export interface CallSocket {
  /** False once closing or closed: frames sent then are dropped by the caller. */
  isOpen(): boolean;
  /** A string goes as a text frame, bytes as a binary frame. */
  send(frame: string | Uint8Array): void;
  close(code: number, reason: string): void;
  onMessage(listener: (frame: InboundFrame) => void): void;
  /** Fires once, for every socket that was open. */
  onClose(listener: (code: number) => void): void;
  onError(listener: (err: Error) => void): void;
}

/** Bytes of whatever `ws` hands a message listener (Buffer, Buffer[] or ArrayBuffer). */
function bytesOf(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : new Uint8Array(data);
}

/** Adapts a `ws` WebSocket to {@link CallSocket}. */
export function wsCallSocket(ws: WebSocket): CallSocket {
  return {
    isOpen: () => ws.readyState === ws.OPEN,
    send(frame) {
      if (ws.readyState !== ws.OPEN) return;
      if (typeof frame === 'string') ws.send(frame);
      else ws.send(frame, { binary: true });
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    onMessage(listener) {
      ws.on('message', (data, isBinary) => listener({ binary: isBinary, data: bytesOf(data) }));
    },
    onClose(listener) {
      ws.once('close', (code) => listener(code));
    },
    onError(listener) {
      ws.on('error', listener);
    },
  };
}
