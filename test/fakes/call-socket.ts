/**
 * A {@link CallSocket} without a network: what the orchestration sends is recorded, what the far
 * end sends is handed in with `receiveText` / `receiveBinary`, and `hangUp` plays the far end
 * closing. `close()` from the server side is recorded and fires the close listeners, like `ws`.
 */
import type { CallSocket, InboundFrame } from '../../src/transports/call-socket.js';

export interface FakeCallSocket {
  socket: CallSocket;
  /** Every frame sent, in order. */
  sent: (string | Uint8Array)[];
  /** The JSON text frames sent, parsed. */
  json(): Record<string, unknown>[];
  /** Set once the server closed the socket. */
  closedWith: { code: number; reason: string } | null;
  receiveText(text: string | object): void;
  receiveBinary(bytes: Uint8Array): void;
  /** The far end closes (or the connection drops). */
  hangUp(code?: number): void;
}

export function createFakeCallSocket(): FakeCallSocket {
  const messageListeners: ((f: InboundFrame) => void)[] = [];
  const closeListeners: ((code: number) => void)[] = [];
  let open = true;
  const fireClose = (code: number) => {
    if (!open) return;
    open = false;
    for (const l of closeListeners.splice(0)) l(code);
  };
  const fake: FakeCallSocket = {
    sent: [],
    closedWith: null,
    json: () =>
      fake.sent
        .filter((f): f is string => typeof f === 'string')
        .map((f) => JSON.parse(f) as Record<string, unknown>),
    socket: {
      isOpen: () => open,
      send: (frame) => {
        if (!open) throw new Error('send on a closed socket');
        fake.sent.push(frame);
      },
      close: (code, reason) => {
        fake.closedWith ??= { code, reason };
        fireClose(code);
      },
      onMessage: (l) => messageListeners.push(l),
      onClose: (l) => closeListeners.push(l),
      onError: () => {},
    },
    receiveText(text) {
      const s = typeof text === 'string' ? text : JSON.stringify(text);
      const data = new TextEncoder().encode(s);
      for (const l of messageListeners) l({ binary: false, data });
    },
    receiveBinary(bytes) {
      for (const l of messageListeners) l({ binary: true, data: bytes });
    },
    hangUp: (code = 1000) => fireClose(code),
  };
  return fake;
}
