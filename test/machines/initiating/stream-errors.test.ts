/**
 * Initiating entity, scripted server: stream errors received and sent (RFC 6120 §4.9), the
 * transport going away (§4.6.1), unexpected elements.
 */
import { describe, expect, it } from 'vitest';
import { STREAM_ERROR_CONDITIONS, streamErrorSection } from '../../../machines/conditions.js';
import { NS } from '../../../machines/ns.js';
import { el } from '../../../machines/xml.js';
import {
  element,
  features,
  message,
  proceed,
  scriptedEstablish,
  serverHeader,
  startClient,
  starttlsFeature,
  streamError,
  streamErrorOf,
  types,
} from './harness.js';

describe('initiating entity: stream errors received (RFC 6120 §4.9.1.1, §4.9.3)', () => {
  for (const condition of STREAM_ERROR_CONDITIONS) {
    it(`RFC 6120 §${streamErrorSection(condition)} ${condition} while established: close our stream and TCP, outcome error-received`, () => {
      const h = startClient();
      scriptedEstablish(h);
      const cmds = h.step(streamError(condition, condition === 'see-other-host' ? 'im2.example.com' : 'bye'));
      expect(types(cmds)).toEqual(['closeStream', 'closeSocket', 'ended']);
      expect(h.outcome).toEqual({
        kind: 'error-received',
        rfc: '6120 §4.9.1.1',
        condition,
        text: condition === 'see-other-host' ? 'im2.example.com' : 'bye',
      });
    });
  }

  it('RFC 6120 §4.9.1.1: a stream error while waiting for features', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(types(h.step(streamError('host-unknown')))).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'error-received', rfc: '6120 §4.9.1.1', condition: 'host-unknown' });
  });

  it('RFC 6120 §4.9.1.1: a stream error before the response header', () => {
    const h = startClient();
    h.send(streamError('see-other-host', '[2001:db8::1]:5222'));
    expect(h.outcome).toMatchObject({ condition: 'see-other-host', text: '[2001:db8::1]:5222' });
  });

  it('RFC 6120 §4.9.2: a stream error with no defined condition is reported as undefined-condition', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(element(el('error', NS.STREAMS, {}, el('text', NS.STREAM_ERRORS, {}, 'oops'))));
    expect(h.outcome).toMatchObject({ kind: 'error-received', condition: 'undefined-condition', text: 'oops' });
  });
});

describe('initiating entity: stream errors sent (RFC 6120 §4.9.1.1)', () => {
  for (const condition of ['not-well-formed', 'restricted-xml', 'bad-namespace-prefix', 'invalid-xml', 'unsupported-encoding', 'bad-format'] as const) {
    it(`RFC 6120 §${streamErrorSection(condition)}: PARSE_ERROR ${condition} → the error, our closing tag, then wait`, () => {
      const h = startClient();
      scriptedEstablish(h);
      const cmds = h.step({ type: 'PARSE_ERROR', condition, text: 'line 1' });
      expect(types(cmds)).toEqual(['send:error', 'closeStream']);
      expect(streamErrorOf(cmds)).toBe(condition);
      expect(h.at()).toEqual(['closing']);
      expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
      expect(h.outcome).toEqual({ kind: 'error-sent', rfc: `6120 §${streamErrorSection(condition)}`, condition, text: 'line 1' });
    });
  }

  it('RFC 6120 §4.9.3.24: an unknown first-level element while established → unsupported-stanza-type', () => {
    const h = startClient();
    scriptedEstablish(h);
    expect(streamErrorOf(h.step(element(el('r', 'urn:example:unknown'))))).toBe('unsupported-stanza-type');
  });

  it('RFC 6120 §4.9.3.10: a jabber:server stanza → invalid-namespace', () => {
    const h = startClient();
    scriptedEstablish(h);
    expect(streamErrorOf(h.step(element(el('message', NS.SERVER, { to: 'x@y' }))))).toBe('invalid-namespace');
  });

  it('RFC 6120 §4.3.5: an empty <features/> after negotiation is ignored; one with features is not', () => {
    const h = startClient();
    scriptedEstablish(h);
    expect(h.step(features())).toEqual([]);
    expect(streamErrorOf(h.step(features(starttlsFeature())))).toBe('unsupported-stanza-type');
  });

  it('RFC 6120 §4.4 rule 2: after a stream error we process nothing more', () => {
    const h = startClient();
    scriptedEstablish(h);
    h.send({ type: 'PARSE_ERROR', condition: 'not-well-formed' });
    expect(h.step(element(message()))).toEqual([]);
  });
});

describe('initiating entity: the transport (RFC 6120 §4.6.1)', () => {
  it('RFC 6120 §4.6.1: SOCKET_CLOSED in any open state → closed, outcome transport', () => {
    for (const prepare of [
      () => startClient(),
      () => {
        const h = startClient();
        h.send(serverHeader());
        return h;
      },
      () => {
        const h = startClient();
        h.send(serverHeader());
        h.send(features(starttlsFeature(true)));
        h.send(proceed());
        return h;
      },
      () => {
        const h = startClient();
        scriptedEstablish(h);
        return h;
      },
    ]) {
      const h = prepare();
      expect(types(h.step({ type: 'SOCKET_CLOSED', reason: 'reset' }))).toEqual(['ended']);
      expect(h.outcome).toEqual({ kind: 'transport', rfc: '6120 §4.6.1' });
    }
  });

  it('RFC 6120 §4.6.1: WRITE_FAILED → close TCP without a stream error', () => {
    const h = startClient();
    scriptedEstablish(h);
    expect(types(h.step({ type: 'WRITE_FAILED', reason: 'EPIPE' }))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome?.kind).toBe('transport');
  });

  it('RFC 6120 §4.6.1: WRITE_FAILED while closing → close TCP, the outcome stays', () => {
    const h = startClient();
    scriptedEstablish(h);
    h.send({ type: 'CLOSE' });
    expect(types(h.step({ type: 'WRITE_FAILED' }))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
  });
});
