import { describe, expect, it } from 'vitest';
import { candidateList, isDecidedlyUnavailable, orderSrv, parseOverride, srvName, type SrvAnswer, type SrvResult } from '../../runtime/net/srv.js';

const rr = (name: string, port: number, priority = 0, weight = 0): SrvAnswer => ({ name, port, priority, weight });
const records = (...r: SrvAnswer[]): SrvResult => ({ kind: 'records', records: r });
const none: SrvResult = { kind: 'none', reason: 'no SRV records (ENOTFOUND)' };
/** A random source that returns the given values in turn (uniform in [0, 1)). */
const fixed = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('RFC 2782 ordering (RFC 6120 §3.2.1 step 3)', () => {
  it('priorities ascending, whatever order the answer came in', () => {
    const out = orderSrv([rr('c', 3, 30), rr('a', 1, 10), rr('b', 2, 20)], Math.random);
    expect(out.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('within a priority, the weighted pick: a uniform integer in [0, sum], first running sum reaching it', () => {
    // weights 10, 30, 60 (sum 100). random 0.5 → 50: running sums 10, 40, 100 → the third (weight 60).
    // Then 10, 30 (sum 40): random 0.1 → floor(0.1 * 41) = 4 → the first (10 >= 4). Then the last one.
    const set = [rr('w10', 1, 0, 10), rr('w30', 2, 0, 30), rr('w60', 3, 0, 60)];
    expect(orderSrv(set, fixed(0.5, 0.1)).map((r) => r.name)).toEqual(['w60', 'w10', 'w30']);
    // random 0 → pick 0 → the first record, every time.
    expect(orderSrv(set, fixed(0)).map((r) => r.name)).toEqual(['w10', 'w30', 'w60']);
    // random just below 1 → pick = sum → always the last record of what is left.
    expect(orderSrv(set, fixed(0.999999)).map((r) => r.name)).toEqual(['w60', 'w30', 'w10']);
  });

  it('weight-0 records go first in the running sum: picked only when the number drawn is 0', () => {
    const set = [rr('heavy', 1, 0, 5), rr('zero', 2, 0, 0)];
    expect(orderSrv(set, fixed(0)).map((r) => r.name)).toEqual(['zero', 'heavy']);
    expect(orderSrv(set, fixed(0.5)).map((r) => r.name)).toEqual(['heavy', 'zero']);
  });

  it('the weights are honoured in proportion over many draws (a seeded generator)', () => {
    let seed = 42;
    const lcg = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const set = [rr('a', 1, 0, 1), rr('b', 2, 0, 3)];
    let firstB = 0;
    for (let i = 0; i < 4000; i++) if (orderSrv(set, lcg)[0]!.name === 'b') firstB++;
    // P(b first) = 3/5 when picking an integer in [0, 4] with running sums 1, 4 → {2,3,4} of {0..4}.
    expect(firstB / 4000).toBeGreaterThan(0.56);
    expect(firstB / 4000).toBeLessThan(0.64);
  });

  it('every record comes out exactly once', () => {
    const set = [rr('a', 1, 1, 5), rr('b', 2, 0, 0), rr('c', 3, 1, 0), rr('d', 4, 0, 7), rr('e', 5, 2, 1)];
    const out = orderSrv(set, Math.random);
    expect(out.map((r) => r.name).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(out.map((r) => r.priority)).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('candidate list (RFC 6120 §3.2.1, §3.2.2)', () => {
  it('SRV targets and ports, trailing root dot dropped, STARTTLS', () => {
    const list = candidateList({
      domain: 'example.net',
      service: 'xmpp-client',
      starttls: records(rr('xmpp2.example.net.', 5223, 20), rr('xmpp1.example.net', 5222, 10)),
      random: fixed(0),
    });
    expect(list).toEqual({
      kind: 'candidates',
      candidates: [
        { host: 'xmpp1.example.net', port: 5222, directTls: false, source: 'srv' },
        { host: 'xmpp2.example.net', port: 5223, directTls: false, source: 'srv' },
      ],
    });
  });

  it("a single '.' target: decidedly not available, no fallback (§3.2.1 step 3)", () => {
    for (const root of ['', '.']) {
      const list = candidateList({ domain: 'example.net', service: 'xmpp-server', starttls: records(rr(root, 0)), random: fixed(0) });
      expect(list.kind).toBe('unavailable');
      if (list.kind === 'unavailable') expect(list.reason).toMatch(/_xmpp-server\._tcp\.example\.net: target '\.', the service is decidedly not available at example\.net/);
    }
    expect(isDecidedlyUnavailable([rr('.', 5269)])).toBe(true);
    expect(isDecidedlyUnavailable([rr('.', 5269), rr('x.example', 5269)])).toBe(false);
  });

  it("a '.' among other records names no host: dropped, the others used", () => {
    const list = candidateList({ domain: 'd.example', service: 'xmpp-client', starttls: records(rr('.', 1), rr('x.d.example', 5222, 5)), random: fixed(0) });
    expect(list).toEqual({ kind: 'candidates', candidates: [{ host: 'x.d.example', port: 5222, directTls: false, source: 'srv' }] });
  });

  it('no SRV records: the fallback, the domain itself on 5222 (client) or 5269 (server) (§3.2.2)', () => {
    expect(candidateList({ domain: 'example.net', service: 'xmpp-client', starttls: none, random: fixed(0) })).toEqual({
      kind: 'candidates',
      candidates: [{ host: 'example.net', port: 5222, directTls: false, source: 'fallback' }],
    });
    expect(candidateList({ domain: 'example.net', service: 'xmpp-server', starttls: none, directTls: none, random: fixed(0) })).toEqual({
      kind: 'candidates',
      candidates: [{ host: 'example.net', port: 5269, directTls: false, source: 'fallback' }],
    });
  });

  it('the SRV owner names queried: _xmpp-client._tcp / _xmpps-server._tcp (§3.2.1 steps 1-2, XEP-0368 §3)', () => {
    expect(srvName('xmpp-client', 'example.net', false)).toBe('_xmpp-client._tcp.example.net');
    expect(srvName('xmpp-server', 'im.example.com', false)).toBe('_xmpp-server._tcp.im.example.com');
    expect(srvName('xmpp-client', 'example.net', true)).toBe('_xmpps-client._tcp.example.net');
    expect(srvName('xmpp-server', 'example.net', true)).toBe('_xmpps-server._tcp.example.net');
  });
});

describe('XEP-0368 §3 direct TLS records, mixed with the STARTTLS ones', () => {
  it('one RFC 2782 ordering over both sets: priorities decide, whichever service they came from', () => {
    const list = candidateList({
      domain: 'example.net',
      service: 'xmpp-client',
      starttls: records(rr('starttls.example.net', 5222, 10), rr('backup.example.net', 5222, 30)),
      directTls: records(rr('tls.example.net', 443, 20), rr('tls0.example.net', 5223, 5)),
      random: fixed(0),
    });
    expect(list.kind === 'candidates' && list.candidates.map((c) => [c.host, c.port, c.directTls])).toEqual([
      ['tls0.example.net', 5223, true],
      ['starttls.example.net', 5222, false],
      ['tls.example.net', 443, true],
      ['backup.example.net', 5222, false],
    ]);
  });

  it('equal priority: the weights are mixed across both sets (rule 1)', () => {
    const args = {
      domain: 'example.net',
      service: 'xmpp-client' as const,
      starttls: records(rr('starttls.example.net', 5222, 0, 10)),
      directTls: records(rr('tls.example.net', 5223, 0, 90)),
    };
    // sum 100; the STARTTLS record is first in the running sum (10), the direct TLS one reaches 100.
    const first = (r: number): string => {
      const l = candidateList({ ...args, random: fixed(r) });
      return l.kind === 'candidates' ? l.candidates[0]!.host : l.reason;
    };
    expect(first(0.05)).toBe('starttls.example.net');
    expect(first(0.5)).toBe('tls.example.net');
  });

  it("'.' for _xmpps-*: no direct TLS, the STARTTLS records are used (§4)", () => {
    const list = candidateList({ domain: 'example.net', service: 'xmpp-server', starttls: records(rr('s2s.example.net', 5269)), directTls: records(rr('.', 0)), random: fixed(0) });
    expect(list).toEqual({ kind: 'candidates', candidates: [{ host: 's2s.example.net', port: 5269, directTls: false, source: 'srv' }] });
  });

  it("'.' for _xmpps-* and no _xmpp-* record: unavailable, the A/AAAA fallback MUST NOT be tried (§4)", () => {
    const list = candidateList({ domain: 'example.net', service: 'xmpp-client', starttls: none, directTls: records(rr('.', 0)), random: fixed(0) });
    expect(list).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('_xmpps-client._tcp.example.net') });
  });

  it("'.' for _xmpp-* with direct TLS records: only direct TLS is offered, it is used", () => {
    const list = candidateList({ domain: 'example.net', service: 'xmpp-client', starttls: records(rr('.', 0)), directTls: records(rr('tls.example.net', 5223)), random: fixed(0) });
    expect(list).toEqual({ kind: 'candidates', candidates: [{ host: 'tls.example.net', port: 5223, directTls: true, source: 'srv' }] });
  });

  it("'.' for both: unavailable, both names in the reason", () => {
    const list = candidateList({ domain: 'example.net', service: 'xmpp-client', starttls: records(rr('.', 0)), directTls: records(rr('', 0)), random: fixed(0) });
    expect(list).toMatchObject({ kind: 'unavailable', reason: expect.stringMatching(/_xmpp-client\._tcp\.example\.net and _xmpps-client\._tcp\.example\.net/) });
  });

  it('only direct TLS records: no fallback needed, those are the candidates', () => {
    const list = candidateList({ domain: 'example.net', service: 'xmpp-server', starttls: none, directTls: records(rr('tls.example.net', 5270)), random: fixed(0) });
    expect(list).toEqual({ kind: 'candidates', candidates: [{ host: 'tls.example.net', port: 5270, directTls: true, source: 'srv' }] });
  });
});

describe('static overrides (RFC 6120 §3.2.3)', () => {
  it("'host:port', '[v6]:port' and a bare host (the service's port)", () => {
    expect(parseOverride('10.0.0.2:5270', 'xmpp-server')).toEqual({ host: '10.0.0.2', port: 5270, directTls: false, source: 'override' });
    expect(parseOverride('[::1]:5222', 'xmpp-client')).toEqual({ host: '::1', port: 5222, directTls: false, source: 'override' });
    expect(parseOverride('apps.example.com', 'xmpp-server')).toEqual({ host: 'apps.example.com', port: 5269, directTls: false, source: 'override' });
    expect(parseOverride('localhost', 'xmpp-client').port).toBe(5222);
  });

  it('anything else is a clear error', () => {
    for (const bad of ['', 'host:', 'host:0', 'host:70000', 'a b:1', '::1:5222', 'host:port']) {
      expect(() => parseOverride(bad, 'xmpp-server'), bad).toThrow(/override '.*': expected 'host:port', '\[IPv6\]:port' or 'host' \(RFC 6120 §3\.2\.3\)/);
    }
  });
});
