import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/protocol/codec.js';
import { checkedReply, parseRecord, parseReply, parseRequest } from '../../src/protocol/messages.js';

const peer = {
  node: 'n1',
  incarnation: 1700000000000,
  role: 'worker' as const,
  rpc: 'tcp://127.0.0.1:5000',
  pub: 'tcp://127.0.0.1:5001',
};

describe('protocol messages', () => {
  it('accepts every record kind after a codec round trip', () => {
    const records = [
      { kind: 'worker', peer, slots: 2, free: 1, blocks: 3, memoryBytes: 1024, seq: 7 },
      { kind: 'client', peer: { ...peer, role: 'client' }, seq: 1 },
      { kind: 'job', jobId: 'j1', attempt: 0, source: peer, owner: 'c1', partition: 4 },
      { kind: 'rdd', blockId: 'rdd_x_0', holder: peer, bytes: 10, owner: 'c1' },
      { kind: 'withdraw', of: 'job', id: 'j1', holder: 'n1' },
    ];
    const kinds = records.map((r) => {
      const parsed = parseRecord(decode(encode(r)));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.record.kind;
    });
    expect(kinds).toEqual(['worker', 'client', 'job', 'rdd', 'withdraw']);
  });

  it("SWIM's requests, replies and records parse, and malformed ones are refused", () => {
    const ok = [
      { op: 'ping', from: 'n2', inc: 3 },
      { op: 'ping-req', from: 'n2', target: 'n1', inc: 1 },
      { op: 'hello', peer, cluster: 'c', protocol: 4, introduced: true },
      { op: 'snapshot', hints: true },
    ];
    expect(ok.map((r) => parseRequest(decode(encode(r))).ok)).toEqual([true, true, true, true]);
    const bad = [
      { op: 'ping', from: '', inc: 3 },
      { op: 'ping', from: 'n2', inc: -1 },
      { op: 'ping-req', from: 'n2', inc: 1 },
      { op: 'snapshot', hints: 'yes' },
    ];
    expect(bad.map((r) => parseRequest(r).ok)).toEqual([false, false, false, false]);
    expect(parseReply('ping', { inc: 1, member: false })).toEqual({
      ok: true,
      reply: { inc: 1, member: false },
    });
    expect(parseReply('ping', { inc: 1 }).ok).toBe(false);
    expect(parseReply('ping-req', { ack: true })).toEqual({ ok: true, reply: { ack: true } });
    expect(parseReply('ping-req', { ack: 1 }).ok).toBe(false);
    for (const kind of ['suspect', 'dead']) {
      expect(parseRecord(decode(encode({ kind, peer, from: 'n2' }))).ok).toBe(true);
      expect(parseRecord({ kind, peer: { ...peer, role: 'x' }, from: 'n2' }).ok).toBe(false);
      expect(parseRecord({ kind, peer }).ok).toBe(false);
    }
  });

  it('rejects malformed records with a reason', () => {
    const bad: unknown[] = [
      null,
      'worker',
      { kind: 'nope' },
      { kind: 'job', jobId: '', attempt: 0, source: peer, owner: 'c', partition: 0 },
      { kind: 'job', jobId: 'j', attempt: -1, source: peer, owner: 'c', partition: 0 },
      {
        kind: 'worker',
        peer: { ...peer, rpc: 'ipc:///tmp/x' },
        slots: 1,
        free: 1,
        blocks: 0,
        memoryBytes: 0,
        seq: 0,
      },
    ];
    expect(bad.map((b) => parseRecord(b).ok)).toEqual([false, false, false, false, false, false]);
  });

  it('validates requests, including byte payloads', () => {
    const ok = parseRequest(
      decode(
        encode({
          op: 'job.complete',
          jobId: 'j',
          token: 't',
          worker: 'w',
          result: Buffer.from([1, 2]),
          accumulators: [['a', 3]],
        }),
      ),
    );
    expect(ok.ok).toBe(true);
    expect(
      parseRequest({ op: 'fetch', what: 'block', id: 'b', offset: 0, length: 64 * 1024 * 1024 }).ok,
    ).toBe(false);
    expect(parseRequest({ op: 'job.claim', jobId: 'j', attempt: 1 }).ok).toBe(false);
  });

  it('checks replies against their request: a claim grant needs its lease and task', () => {
    const grant = {
      granted: true,
      lease: { token: 't', attempt: 0, ttlMs: 1000 },
      task: new Uint8Array([1]),
    };
    expect(parseReply('job.claim', grant)).toEqual({ ok: true, reply: grant });
    expect(parseReply('job.claim', { granted: false, reason: 'not-member' }).ok).toBe(true);
    expect(parseReply('job.claim', { granted: true }).ok).toBe(false);
    expect(parseReply('job.claim', { granted: false, reason: 'maybe' }).ok).toBe(false);
    expect(parseReply('fetch', { data: new Uint8Array(2), total: 2 }).ok).toBe(true);
    expect(() => checkedReply('job.renew', { ok: 'yes' })).toThrow(/malformed job\.renew reply/);
    expect(() => checkedReply('job.renew', { ok: true, ttlMs: 5 })).not.toThrow();
  });
});
