/** The offline message store (RFC 6121 §8.5.2.2.1) and the held subscription requests (§3.1.3 rule 4) on real temporary files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { openAccountStore } from '../../runtime/store/accounts.js';
import { openOfflineStore } from '../../runtime/store/offline.js';
import { openSubscriptionRequestStore } from '../../runtime/store/subscription-requests.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xmppkit-offline-'));
  file = join(dir, 'accounts.sqlite');
  const a = openAccountStore({ file, iterations: 4096 });
  a.add('juliet', 'pw');
  a.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const message = (id: string) => el('message', NS.CLIENT, { from: 'romeo@localhost/o', to: 'juliet@localhost', type: 'chat', id, 'xml:lang': 'en' }, el('body', NS.CLIENT, {}, `<hi> & "${id}"`), el('x', 'urn:example', { a: '1' }));

describe('offline store', () => {
  it('keeps messages in arrival order up to the limit, exactly as given; take returns them once; across reopen; Juliet → juliet', () => {
    const s = openOfflineStore({ file });
    const t = new Date('2026-05-06T07:08:09.010Z');
    expect(s.add('juliet', message('1'), t, 2)).toBe(true);
    expect(s.add('Juliet', message('2'), t, 2)).toBe(true);
    expect(s.add('juliet', message('3'), t, 2)).toBe(false);
    s.close();
    const again = openOfflineStore({ file });
    expect(again.count('juliet')).toBe(2);
    expect(again.take('juliet')).toEqual([
      { stanza: message('1'), stamp: '2026-05-06T07:08:09.010Z' },
      { stanza: message('2'), stamp: '2026-05-06T07:08:09.010Z' },
    ]);
    expect(again.take('juliet')).toEqual([]);
    expect(() => again.add('nobody', message('x'), t, 5)).toThrow(); // no such account (foreign key)
    expect(() => again.add('not a localpart@', message('x'), t, 5)).toThrow(/localpart/);
    again.close();
  });

  it('messages and held requests are deleted with the account', () => {
    const s = openOfflineStore({ file });
    const r = openSubscriptionRequestStore({ file });
    s.add('juliet', message('1'), new Date(), 5);
    r.hold('juliet', 'romeo@localhost', el('presence', NS.CLIENT, { from: 'romeo@localhost', type: 'subscribe' }), new Date());
    const a = openAccountStore({ file });
    a.remove('juliet');
    a.add('juliet', 'pw');
    a.close();
    expect(s.count('juliet')).toBe(0);
    expect(r.has('juliet', 'romeo@localhost')).toBe(false);
    s.close();
    r.close();
  });
});

describe('subscription request store', () => {
  it('one per contact (the newest replaces), in order, forgotten on answer', () => {
    const r = openSubscriptionRequestStore({ file });
    const req = (from: string, status: string) => el('presence', NS.CLIENT, { from, to: 'juliet@localhost', type: 'subscribe' }, el('status', NS.CLIENT, {}, status));
    r.hold('juliet', 'romeo@localhost', req('romeo@localhost', 'first'), new Date(1000));
    r.hold('juliet', 'nurse@localhost', req('nurse@localhost', 'n'), new Date(2000));
    r.hold('juliet', 'romeo@localhost', req('romeo@localhost', 'second'), new Date(500));
    expect(r.get('juliet', 'romeo@localhost')).toEqual(req('romeo@localhost', 'second'));
    expect(r.list('juliet').map((h) => h.contact)).toEqual(['romeo@localhost', 'nurse@localhost']);
    r.forget('juliet', 'romeo@localhost');
    expect(r.has('juliet', 'romeo@localhost')).toBe(false);
    expect(r.list('juliet').map((h) => h.contact)).toEqual(['nurse@localhost']);
    r.close();
  });
});
