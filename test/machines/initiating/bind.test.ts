/**
 * Initiating entity, scripted server: resource binding (RFC 6120 §7).
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import { child, text } from '../../../machines/xml.js';
import {
  BARE,
  bindErrorIq,
  bindFeature,
  bindResultIq,
  features,
  lastSent,
  mechanisms,
  scriptedTls,
  scriptedToBind,
  sent,
  serverHeader,
  startClient,
  streamErrorOf,
  success,
  types,
} from './harness.js';

describe('initiating entity: resource binding (RFC 6120 §7)', () => {
  it('RFC 6120 §7.6.1: a bare input JID asks for a server-generated resource; online with the server\'s JID', () => {
    const h = startClient({ jid: BARE });
    const id = scriptedToBind(h);
    const iq = lastSent(h)!;
    expect(iq.attrs.type).toBe('set');
    const bind = child(iq, 'bind', NS.BIND)!;
    expect(bind.children).toEqual([]);
    const cmds = h.step(bindResultIq(id, `${BARE}/4db06f06`));
    expect(cmds).toEqual([{ type: 'online', jid: `${BARE}/4db06f06` }]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
  });

  it('RFC 6120 §7.7.1: a full input JID submits its resourcepart', () => {
    const h = startClient({ jid: `${BARE}/balcony` });
    scriptedToBind(h);
    const resource = child(child(lastSent(h)!, 'bind', NS.BIND)!, 'resource', NS.BIND)!;
    expect(text(resource)).toBe('balcony');
  });

  it('RFC 6120 §7.6.1: the server may bind another resource than the one asked for; the JID text is trimmed', () => {
    const h = startClient({ jid: `${BARE}/balcony` });
    const id = scriptedToBind(h);
    expect(h.step(bindResultIq(id, `\n  ${BARE}/balcony-2af3\n`))).toEqual([{ type: 'online', jid: `${BARE}/balcony-2af3` }]);
  });

  it('RFC 6120 §7.3.2: no stream restart after binding', () => {
    const h = startClient();
    const id = scriptedToBind(h);
    expect(types(h.step(bindResultIq(id, `${BARE}/r`)))).toEqual(['online']);
  });

  it('RFC 6120 §8.2.3: a result with another id is not the bind reply → unsupported-stanza-type', () => {
    const h = startClient();
    scriptedToBind(h);
    expect(streamErrorOf(h.step(bindResultIq('other', `${BARE}/r`)))).toBe('unsupported-stanza-type');
  });

  for (const [what, jid] of [
    ['a bare JID', BARE],
    ['another account', 'romeo@im.example.com/r'],
    ['no JID at all', ''],
  ] as const) {
    it(`RFC 6120 §7.6.1: a bind result with ${what} → undefined-condition, outcome bind-failed`, () => {
      const h = startClient();
      const id = scriptedToBind(h);
      const cmds = h.step(bindResultIq(id, jid));
      expect(streamErrorOf(cmds)).toBe('undefined-condition');
      h.send({ type: 'STREAM_CLOSE' });
      expect(h.outcome).toMatchObject({ kind: 'bind-failed', condition: 'undefined-condition', rfc: '6120 §7.6.1' });
    });
  }

  const errors = [
    ['bad-request', '6120 §7.7.2.1', 'modify'],
    ['not-allowed', '6120 §7.6.2.2', 'cancel'],
    ['resource-constraint', '6120 §7.6.2.1', 'wait'],
    ['internal-server-error', '6120 §7.6.2', 'cancel'],
  ] as const;
  for (const [condition, rfc, type] of errors) {
    it(`RFC ${rfc} ${condition}: close the stream gracefully, outcome bind-failed`, () => {
      const h = startClient({ jid: `${BARE}/balcony` });
      const id = scriptedToBind(h);
      expect(types(h.step(bindErrorIq(id, condition, type)))).toEqual(['closeStream']);
      expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
      expect(h.outcome).toEqual({ kind: 'bind-failed', rfc, condition });
    });
  }

  it('RFC 6120 §7.7.2.2: conflict for a submitted resource → one retry without resource, then online', () => {
    const h = startClient({ jid: `${BARE}/balcony` });
    const id = scriptedToBind(h);
    const retry = sent(h.step(bindErrorIq(id, 'conflict', 'modify')));
    expect(retry).toHaveLength(1);
    const retryId = retry[0]!.attrs.id!;
    expect(retryId).not.toBe(id);
    expect(child(retry[0]!, 'bind', NS.BIND)!.children).toEqual([]);
    expect(h.step(bindResultIq(retryId, `${BARE}/generated`))).toEqual([{ type: 'online', jid: `${BARE}/generated` }]);
  });

  it('RFC 6120 §7.7.2.2: conflict again after the retry → bind-failed conflict', () => {
    const h = startClient({ jid: `${BARE}/balcony` });
    const id = scriptedToBind(h);
    h.send(bindErrorIq(id, 'conflict', 'modify'));
    const retryId = lastSent(h)!.attrs.id!;
    expect(types(h.step(bindErrorIq(retryId, 'conflict')))).toEqual(['closeStream']);
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.outcome).toEqual({ kind: 'bind-failed', rfc: '6120 §7.7.2.2', condition: 'conflict' });
  });

  it('RFC 6120 §7.6.2: conflict for a server-generated request → no retry', () => {
    const h = startClient({ jid: BARE });
    const id = scriptedToBind(h);
    expect(types(h.step(bindErrorIq(id, 'conflict')))).toEqual(['closeStream']);
  });

  it('RFC 6120 §7.3.1: features without <bind/> after authentication → undefined-condition, bind-failed', () => {
    const h = startClient();
    scriptedTls(h);
    h.send(features(mechanisms('PLAIN')));
    h.send(success());
    h.send(serverHeader({ id: 's3' }));
    const cmds = h.step(features(mechanisms('PLAIN')));
    expect(streamErrorOf(cmds)).toBe('undefined-condition');
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.outcome).toMatchObject({ kind: 'bind-failed', rfc: '6120 §7.3.1' });
  });

  it('RFC 6120 §7.3.1: a bind feature before authentication is no reason to bind (SASL first)', () => {
    const h = startClient({ tls: 'never' });
    h.send(serverHeader());
    expect(streamErrorOf(h.step(features(bindFeature())))).toBe('unsupported-feature');
  });

  it('RFC 6120 §6.3.8: an authzid account may be the one bound', () => {
    const h = startClient({ authzid: 'boss@im.example.com' });
    const id = scriptedToBind(h);
    expect(h.step(bindResultIq(id, 'boss@im.example.com/x'))).toEqual([{ type: 'online', jid: 'boss@im.example.com/x' }]);
  });
});
