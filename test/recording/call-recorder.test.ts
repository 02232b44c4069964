/**
 * The recorder's timeline: caller audio drives the clock; bot audio lands where the far end
 * played it (queue model, corrected by mark echoes), and a barge-in cuts what was never heard.
 */
import { decodeMulawSample } from '../../src/audio/mulaw.js';
import { createCallRecorder, type StereoSink } from '../../src/recording/call-recorder.js';

const CALLER = 0x80; // a loud sample
const BOT = 0x90;
const callerValue = decodeMulawSample(CALLER);
const botValue = decodeMulawSample(BOT);

/** A sink that keeps the frames; `left`/`right` split them. */
function memorySink() {
  const chunks: Int16Array[] = [];
  let closed = false;
  const sink: StereoSink = {
    write: (f) => void chunks.push(f.slice()),
    close: async () => void (closed = true),
  };
  const frames = () => {
    const n = chunks.reduce((a, c) => a + c.length, 0);
    const all = new Int16Array(n);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  };
  return {
    sink,
    isClosed: () => closed,
    left: () => frames().filter((_, i) => i % 2 === 0),
    right: () => frames().filter((_, i) => i % 2 === 1),
  };
}

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

/** [start, end) runs of samples equal to `v`. */
function runsOf(samples: Int16Array, v: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= samples.length; i++) {
    const on = i < samples.length && samples[i] === v;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

describe('the call recorder', () => {
  it('writes the caller on the left as it arrives, a lag behind, and the rest at close', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink, lagMs: 50 });
    r.callerAudio(bytes(800, CALLER));
    expect(m.left().length).toBe(800 - 400);
    await r.close();
    expect(m.isClosed()).toBe(true);
    expect(runsOf(m.left(), callerValue)).toEqual([[0, 800]]);
    expect(runsOf(m.right(), 0)).toEqual([[0, 800]]);
  });

  it('places bot audio at the caller position where it was sent, queued chunks back to back', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink });
    r.callerAudio(bytes(800, 0xff));
    r.botAudio(bytes(400, BOT));
    r.botMark('t1-c1');
    r.botAudio(bytes(400, BOT));
    r.botMark('t1-c2');
    r.callerAudio(bytes(1600, 0xff));
    await r.close();
    expect(runsOf(m.right(), botValue)).toEqual([[800, 1600]]);
  });

  it('moves the echoed chunk and the audio queued behind it later when a mark echoes late, and learns the playout delay', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink });
    r.callerAudio(bytes(800, 0xff));
    r.botAudio(bytes(400, BOT)); // modelled at [800, 1200)
    r.botMark('a');
    r.callerAudio(bytes(100, 0xff));
    r.botAudio(bytes(100, BOT)); // queued behind it: [1200, 1300)
    r.botMark('b');
    r.callerAudio(bytes(400, 0xff)); // now 1300: the first chunk echoes 100 samples late
    r.markEchoed('a');
    r.callerAudio(bytes(700, 0xff)); // now 2000
    r.botAudio(bytes(100, BOT)); // queue empty: now + the learned delay
    r.callerAudio(bytes(800, 0xff));
    await r.close();
    // Both chunks really played 100 samples later than modelled: [900, 1300) then [1300, 1400).
    expect(runsOf(m.right(), botValue)).toEqual([
      [900, 1400],
      [2100, 2200],
    ]);
  });

  it('cuts the bot audio at a barge-in and ignores the marks flushed by it', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink });
    r.callerAudio(bytes(800, 0xff));
    r.botAudio(bytes(4000, BOT)); // [800, 4800)
    r.botMark('long');
    r.callerAudio(bytes(400, CALLER)); // the caller talks over it
    r.cleared(); // at 1200
    r.markEchoed('long'); // Twilio echoes flushed marks at once: not a playback fact
    r.callerAudio(bytes(300, 0xff));
    r.botAudio(bytes(200, BOT)); // the next answer starts at the caller's position (1500)
    r.callerAudio(bytes(1000, 0xff));
    await r.close();
    expect(runsOf(m.right(), botValue)).toEqual([
      [800, 1200],
      [1500, 1700],
    ]);
    expect(runsOf(m.left(), callerValue)).toEqual([[800, 1200]]);
  });

  it('drops bot audio scheduled past the end of the call (never heard)', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink });
    r.callerAudio(bytes(400, 0xff));
    r.botAudio(bytes(2000, BOT));
    r.callerAudio(bytes(400, 0xff));
    await r.close();
    expect(m.right().length).toBe(800);
    expect(runsOf(m.right(), botValue)).toEqual([[400, 800]]);
  });

  it('ignores audio after close and never writes twice', async () => {
    const m = memorySink();
    const r = createCallRecorder({ sink: m.sink });
    r.callerAudio(bytes(160, 0xff));
    await r.close();
    r.callerAudio(bytes(160, CALLER));
    r.botAudio(bytes(160, BOT));
    await r.close();
    expect(m.left().length).toBe(160);
  });
});
