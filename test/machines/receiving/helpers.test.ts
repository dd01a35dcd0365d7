import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import {
  classifyElement,
  decideBinding,
  featuresElement,
  fromIsValid,
  headerError,
  newStreamId,
  offeredMechanisms,
  parseBindRequest,
  parseVersion,
  responseHeader,
  responseVersion,
  stampStanza,
  streamErrorElementFor,
  unexpectedElementCondition,
  type PendingBind,
} from '../../../machines/receiving/index.js';
import { childElements, el, text } from '../../../machines/xml.js';
import { DOMAIN, counterRandom, makeInput } from './harness.js';

const h = (o: Record<string, string | undefined> = {}) => ({ to: DOMAIN, version: '1.0', contentNamespace: NS.CLIENT, ...o });

describe('RFC 6120 §4.7 header validation', () => {
  it('accepts a 1.0 header addressed to our domain (case and trailing dot ignored, RFC 7622 §3.2)', () => {
    expect(headerError(h(), DOMAIN)).toBeUndefined();
    expect(headerError(h({ to: 'IM.Example.COM.' }), DOMAIN)).toBeUndefined();
  });
  it('§4.9.3.10 invalid-namespace for a content namespace other than jabber:client', () => {
    expect(headerError(h({ contentNamespace: NS.SERVER }), DOMAIN)).toBe('invalid-namespace');
  });
  it('§4.7.5 rule 4: a header without version is a 0.9 peer, which we do not implement → unsupported-version', () => {
    expect(headerError(h({ version: undefined }), DOMAIN)).toBe('unsupported-version');
    expect(headerError(h({ version: '0.9' }), DOMAIN)).toBe('unsupported-version');
    expect(headerError(h({ version: 'one' }), DOMAIN)).toBe('unsupported-version');
  });
  it('§4.7.5 rule 2: higher versions are accepted (the peer decides, rule 3)', () => {
    expect(headerError(h({ version: '1.5' }), DOMAIN)).toBeUndefined();
    expect(headerError(h({ version: '11.0' }), DOMAIN)).toBeUndefined();
  });
  it('§4.9.3.6 host-unknown when to is missing, another domain, or not a bare domain', () => {
    expect(headerError(h({ to: undefined }), DOMAIN)).toBe('host-unknown');
    expect(headerError(h({ to: 'example.org' }), DOMAIN)).toBe('host-unknown');
    expect(headerError(h({ to: `juliet@${DOMAIN}` }), DOMAIN)).toBe('host-unknown');
  });
  it('§4.7.5: versions are pairs of integers; leading zeros ignored; numeric comparison', () => {
    expect(parseVersion('01.00')).toEqual({ major: 1, minor: 0 });
    expect(parseVersion('2.13')).toEqual({ major: 2, minor: 13 });
    expect(parseVersion('1')).toBeUndefined();
    expect(responseVersion('1.0')).toBe('1.0');
    expect(responseVersion('1.13')).toBe('1.0');
    expect(responseVersion('12.3')).toBe('1.0');
    expect(responseVersion('0.9')).toBe('0.9');
    expect(responseVersion(undefined)).toBeUndefined();
  });
});

describe('RFC 6120 §4.7 response header', () => {
  it("§4.7.2 'to' is the bare JID of the client's 'from'; §4.7.1 'from' is our domain; §4.7.4 xml:lang", () => {
    const r = responseHeader({ ...h(), from: 'Juliet@im.example.com/balcony', lang: 'de-CH' }, DOMAIN, 'abc');
    expect(r).toEqual({ from: DOMAIN, to: 'juliet@im.example.com', id: 'abc', version: '1.0', lang: 'en', contentNamespace: NS.CLIENT });
  });
  it("§4.7.2 no 'to' when the client sent no 'from' (or one that is not a JID)", () => {
    expect(responseHeader(h(), DOMAIN, 'x').to).toBeUndefined();
    expect(responseHeader({ ...h(), from: '@@' }, DOMAIN, 'x').to).toBeUndefined();
  });
  it('§4.7.5 rule 4: no version on the response when the initial header had none', () => {
    expect(responseHeader(h({ version: undefined }), DOMAIN, 'x').version).toBeUndefined();
  });
  it('§4.9.1.2: before any initial header we still open a 1.0 stream from our domain', () => {
    expect(responseHeader(undefined, DOMAIN, 'x')).toEqual({ from: DOMAIN, id: 'x', version: '1.0', lang: 'en', contentNamespace: NS.CLIENT });
  });
  it('§4.7.3 stream ids carry 128 random bits and do not repeat', () => {
    const random = counterRandom(3);
    const ids = new Set(Array.from({ length: 1000 }, () => newStreamId(random)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(Buffer.from(id, 'base64url').length).toBe(16);
  });
});

describe('RFC 6120 §4.3.2 features per stage', () => {
  const mechs = (f: ReturnType<typeof featuresElement>) =>
    childElements(childElements(f).find((c) => c.name === 'mechanisms') ?? el('x', 'x')).map((m) => text(m));
  it('§5.3.1 / §6.3.4: TLS required and not on → only <starttls><required/></starttls>', () => {
    const f = featuresElement(makeInput({ tls: 'required' }), false, false);
    expect(f).toEqual(el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS))));
  });
  it('§5.4.1 TLS optional: voluntary <starttls/> plus mechanisms allowed without TLS (no PLAIN, §13.9.4)', () => {
    const f = featuresElement(makeInput({ tls: 'optional' }), false, false);
    expect(childElements(f)[0]).toEqual(el('starttls', NS.TLS));
    expect(mechs(f)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1']);
  });
  it('§5.4.3.3 rule 5: after TLS no STARTTLS, all configured mechanisms in preference order (§6.3.3)', () => {
    const f = featuresElement(makeInput({ tls: 'required' }), true, false);
    expect(childElements(f).map((c) => c.name)).toEqual(['mechanisms']);
    expect(mechs(f)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  });
  it('§6.3.4: PLAIN without TLS only when policy allows it', () => {
    expect(offeredMechanisms(makeInput({ allowPlainWithoutTls: true }), false)).toContain('PLAIN');
    expect(offeredMechanisms(makeInput({ mechanisms: ['PLAIN', 'SCRAM-SHA-1'] }), true)).toEqual(['PLAIN', 'SCRAM-SHA-1']);
  });
  it('§7.4: after SASL only <bind/>', () => {
    expect(featuresElement(makeInput(), true, true)).toEqual(el('features', NS.STREAMS, {}, el('bind', NS.BIND)));
  });
  it('§4.3.2: the host\'s informational features (RFC 6121 §2.6.1 <ver/>) follow <bind/>, and only after SASL', () => {
    const ver = el('ver', 'urn:xmpp:features:rosterver');
    const input = makeInput({ boundFeatures: [ver] });
    expect(featuresElement(input, true, true)).toEqual(el('features', NS.STREAMS, {}, el('bind', NS.BIND), ver));
    expect(featuresElement(input, true, false).children).not.toContainEqual(ver);
  });
});

describe('RFC 6120 §7 bind helpers', () => {
  it('§7.6.1 / §7.7.1 parse requests; §7.7.2.1 unusable ones are rejected', () => {
    const iq = (type: string, ...kids: ReturnType<typeof el>[]) => el('iq', NS.CLIENT, { id: 'b', type }, el('bind', NS.BIND, {}, ...kids));
    expect(parseBindRequest(iq('set'))).toEqual({ ok: true, iqId: 'b' });
    expect(parseBindRequest(iq('set', el('resource', NS.BIND, {}, 'balcony')))).toEqual({ ok: true, iqId: 'b', resource: 'balcony' });
    expect(parseBindRequest(iq('get'))).toEqual({ ok: false });
    expect(parseBindRequest(iq('set', el('resource', NS.BIND)))).toEqual({ ok: false });
    expect(parseBindRequest(iq('set', el('resource', NS.BIND, {}, '   ')))).toEqual({ ok: false });
    expect(parseBindRequest(iq('set', el('resource', NS.BIND, {}, 'a\u0007b')))).toEqual({ ok: false });
    expect(parseBindRequest(iq('set', el('resource', NS.BIND, {}, 'x'.repeat(1024))))).toEqual({ ok: false });
  });
  const pending: PendingBind = { iqId: 'b', resource: 'balcony', submitted: true, regenerations: 0 };
  const policy = { resourceConflict: 'disallow' as const, maxResourcesPerAccount: 2 };
  it('§7.7.2.2 the three conflict policies', () => {
    const inUse = { inUse: true, boundCount: 1 };
    expect(decideBinding(pending, inUse, { ...policy, resourceConflict: 'disallow' })).toEqual({ kind: 'error', condition: 'conflict' });
    expect(decideBinding(pending, inUse, { ...policy, resourceConflict: 'generate' })).toEqual({ kind: 'regenerate' });
    expect(decideBinding(pending, inUse, { ...policy, resourceConflict: 'override' })).toEqual({ kind: 'bind', resource: 'balcony', replace: true });
  });
  it('§7.6.2.1 resource-constraint counts the new resource unless it replaces one', () => {
    expect(decideBinding(pending, { inUse: false, boundCount: 2 }, policy)).toEqual({ kind: 'error', condition: 'resource-constraint' });
    expect(decideBinding(pending, { inUse: true, boundCount: 2 }, { ...policy, resourceConflict: 'override' }).kind).toBe('bind');
  });
  it('§7.6.2.2 not-allowed comes first', () => {
    expect(decideBinding(pending, { inUse: false, boundCount: 0, allowed: false }, policy)).toEqual({ kind: 'error', condition: 'not-allowed' });
  });
  it('§7.6: a server-generated resource in use is regenerated a bounded number of times', () => {
    const ours = { ...pending, submitted: false };
    expect(decideBinding(ours, { inUse: true, boundCount: 0 }, policy)).toEqual({ kind: 'regenerate' });
    expect(decideBinding({ ...ours, regenerations: 2 }, { inUse: true, boundCount: 0 }, policy)).toEqual({ kind: 'error', condition: 'internal-server-error' });
  });
});

describe('RFC 6120 §8.1.2.1 stanza helpers', () => {
  const full = 'juliet@im.example.com/balcony';
  const msg = (from?: string) => el('message', NS.CLIENT, { from, to: 'romeo@example.net' });
  it('§4.9.3.9 accepts no from, the full JID and the bare JID; rejects others', () => {
    expect(fromIsValid(msg(), full)).toBe(true);
    expect(fromIsValid(msg(full), full)).toBe(true);
    expect(fromIsValid(msg('Juliet@IM.example.com'), full)).toBe(true);
    expect(fromIsValid(msg('juliet@im.example.com/other'), full)).toBe(false);
    expect(fromIsValid(msg('romeo@example.net'), full)).toBe(false);
    expect(fromIsValid(msg('not a jid@@'), full)).toBe(false);
  });
  it('§8.1.2.1 rule 1 stamps the full JID, the bare JID on subscription presence; §4.7.4 adds the stream xml:lang', () => {
    expect(stampStanza(msg('juliet@im.example.com'), full, 'en').attrs).toEqual({ from: full, to: 'romeo@example.net', 'xml:lang': 'en' });
    const sub = el('presence', NS.CLIENT, { type: 'subscribe', to: 'romeo@example.net', 'xml:lang': 'fr' });
    expect(stampStanza(sub, full, 'en').attrs).toEqual({ type: 'subscribe', to: 'romeo@example.net', 'xml:lang': 'fr', from: 'juliet@im.example.com' });
  });
});

describe('RFC 6120 §4.9 element classification', () => {
  it('classifies first-level elements and maps the unexpected ones to §4.9.3 conditions', () => {
    expect(classifyElement(el('message', NS.SERVER))).toBe('foreign-stanza');
    expect(unexpectedElementCondition('foreign-stanza')).toBe('invalid-namespace');
    expect(classifyElement(el('message', 'urn:other'))).toBe('other');
    expect(unexpectedElementCondition('other')).toBe('unsupported-stanza-type');
    expect(classifyElement(el('iq', NS.CLIENT, {}, el('bind', NS.BIND)))).toBe('bind-request');
    expect(unexpectedElementCondition('stanza')).toBe('not-authorized');
    expect(classifyElement(el('challenge', NS.SASL))).toBe('sasl-other');
    expect(classifyElement(el('features', NS.STREAMS))).toBe('other');
  });
  it('§4.9.3.19 see-other-host carries the host as its character data', () => {
    expect(streamErrorElementFor('see-other-host', 'other.example:5222')).toEqual(
      el('error', NS.STREAMS, {}, el('see-other-host', NS.STREAM_ERRORS, {}, 'other.example:5222')),
    );
  });
});
