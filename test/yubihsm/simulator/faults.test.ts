import { describe, expect, it } from 'vitest';
import { CMD, device, errorOf, frame, open, parse, tryOpen } from './raw-host.ts';

describe('fault hooks', () => {
  it('drops the link after N requests: later requests fail typed until reconnect, which power-cycles', async () => {
    const dev = await device({ faults: { dropAfter: 3 } });
    const s = await open(dev); // requests 1 and 2
    await s.ok(CMD.echo, [1]); // request 3
    await expect(s.send(CMD.echo, [2])).toThrowWithCode('SIMULATOR_DISCONNECTED');
    await expect(dev.transmit(frame(CMD.echo, [3]))).toThrowWithCode('SIMULATOR_DISCONNECTED');
    expect(dev.isConnected).toBe(false);
    dev.reconnect();
    expect(dev.isConnected).toBe(true);
    // Power cycle: the old session is gone, the factory key still opens a new one.
    expect(errorOf(await s.send(CMD.echo, [4]))).toBe(3 /* invalid session */);
    expect(await tryOpen(dev, 1, 'password')).not.toBeTypeOf('number');
  });

  it('delays answers', async () => {
    const dev = await device({ faults: { delayMs: 60 } });
    const started = performance.now();
    await dev.transmit(frame(CMD.echo, [1]));
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('answers garbage for the requests chosen, after executing them', async () => {
    const dev = await device();
    dev.faults.garbage = (n) => (n === 2 ? Uint8Array.of(0xde, 0xad) : undefined);
    expect(parse(await dev.transmit(frame(CMD.echo, [1]))).code).toBe(0x81);
    expect([...(await dev.transmit(frame(CMD.echo, [2])))]).toEqual([0xde, 0xad]);
    expect(parse(await dev.transmit(frame(CMD.echo, [3]))).code).toBe(0x81);
  });

  it('refuses everything once closed', async () => {
    const dev = await device();
    dev.close();
    await expect(dev.transmit(frame(CMD.echo))).toThrowWithCode('SIMULATOR_CLOSED');
    expect(() => dev.reconnect()).toThrowWithCode('SIMULATOR_CLOSED');
  });

  it('handles concurrent requests one at a time, as the device does', async () => {
    const dev = await device({ faults: { delayMs: 5 } });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => dev.transmit(frame(CMD.echo, [i]))));
    expect(answers.map((a) => a[3])).toEqual([1, 2, 3, 4, 5]);
    expect(dev.internalErrors).toEqual([]);
    expect(CMD.echo).toBe(1);
  });
});
