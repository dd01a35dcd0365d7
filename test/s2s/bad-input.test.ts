/**
 * Bad input on our server-to-server port, over real sockets (issue #10 item 6): a raw peer
 * that claims a.test talks to b.test. Each case gets the stream error or dialback answer the
 * RFC / XEP names, our closing tag and a closed socket, and nothing reaches bob@b.test. The
 * real a.test (ours) is the Authoritative Server for the dialback cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, text, type XmlElement } from '../../machines/xml.js';
import type { XmppClient } from '../../runtime/client/index.js';
import { RawClient, streamErrorCondition } from '../server/client.js';
import { chat, federate, PASSWORD, type Federation } from './federation-fixture.js';
import { nextStanza } from '../client/fixture.js';

const HEADER = (from = 'a.test', to = 'b.test') =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${to}' version='1.0'>`;

let f: Federation;
let bob: XmppClient;
const bobGot: XmlElement[] = [];

beforeAll(async () => {
  f = await federate([{ domain: 'a.test' }, { domain: 'b.test' }]);
  bob = await f.client('bob@b.test', PASSWORD);
  bob.on('stanza', (e) => bobGot.push(e));
});
afterAll(() => f.stop());

const port = () => f.domains['b.test']!.s2sPort;

/** Up to the features after STARTTLS, presenting `cert` (default: none). */
async function secured(cert?: { certPem: string; keyPem: string }): Promise<{ c: RawClient; features: XmlElement; streamId: string }> {
  const c = await RawClient.connect(port());
  c.write(HEADER());
  await c.element('features', NS.STREAMS);
  c.write(`<starttls xmlns='${NS.TLS}'/>`);
  await c.element('proceed', NS.TLS);
  await c.startTls(f.ca.certPem, 'b.test', cert ? { cert: cert.certPem, key: cert.keyPem } : {});
  c.write(HEADER());
  const header = (await c.next((e) => e.type === 'HEADER', 3000, 'response header')) as { header: { id?: string } };
  return { c, features: await c.element('features', NS.STREAMS), streamId: header.header.id ?? '' };
}

/** The stream error, then our closing tag answered by the server's socket close (§4.9.1.1, §4.4). */
async function streamError(c: RawClient): Promise<string | undefined> {
  const error = await c.element('error', NS.STREAMS);
  await c.next((e) => e.type === 'STREAM_CLOSE', 3000, '</stream:stream>');
  c.write('</stream:stream>');
  await c.waitClosed();
  return streamErrorCondition(error);
}

/** Authenticated with SASL EXTERNAL as a.test (a good certificate from the CA, XEP-0178 §3), restarted. */
async function authenticated(): Promise<RawClient> {
  const { c, features } = await secured(f.ca.issueServer('a.test'));
  const mechanisms = childElements(child(features, 'mechanisms', NS.SASL)!).map(text);
  expect(mechanisms).toEqual(['EXTERNAL']);
  c.write(`<auth xmlns='${NS.SASL}' mechanism='EXTERNAL'>=</auth>`);
  await c.element('success', NS.SASL);
  c.resetParser();
  c.write(HEADER());
  await c.element('features', NS.STREAMS);
  return c;
}

const message = (from: string | undefined, to: string | undefined) =>
  `<message${from ? ` from='${from}'` : ''}${to ? ` to='${to}'` : ''} type='chat'><body>must not arrive</body></message>`;

describe('bad input on the s2s port (RFC 6120 §4.9.3, §8.1.1.2, §8.1.2.2; XEP-0220 §2.2.1)', () => {
  it("a header whose 'to' is not served here: <host-unknown/> (§4.9.3.6)", async () => {
    const c = await RawClient.connect(port());
    c.write(HEADER('a.test', 'elsewhere.test'));
    expect(await streamError(c)).toBe('host-unknown');
  });

  it('a stanza before STARTTLS and authentication: <not-authorized/> (§4.9.3.12: "before the stream has been authenticated")', async () => {
    const c = await RawClient.connect(port());
    c.write(HEADER());
    await c.element('features', NS.STREAMS);
    c.write(message('mallory@a.test', 'bob@b.test'));
    expect(await streamError(c)).toBe('not-authorized');
  });

  it('a stanza after TLS but before the pair is authenticated: <not-authorized/> (§4.9.3.12)', async () => {
    const { c } = await secured();
    c.write(message('mallory@a.test', 'bob@b.test'));
    expect(await streamError(c)).toBe('not-authorized');
  });

  it("authenticated as a.test, a stanza 'from' another domain: <invalid-from/> (§4.9.3.9, §8.1.2.2)", async () => {
    const c = await authenticated();
    c.write(message('mallory@evil.test', 'bob@b.test'));
    expect(await streamError(c)).toBe('invalid-from');
  });

  it("authenticated as a.test, a stanza without 'to': <improper-addressing/> (§4.9.3.7)", async () => {
    const c = await authenticated();
    c.write(message('mallory@a.test', undefined));
    expect(await streamError(c)).toBe('improper-addressing');
  });

  it("authenticated as a.test, a stanza to a domain b.test does not serve: <host-unknown/> (§4.9.3.6, §8.1.1.2)", async () => {
    const c = await authenticated();
    c.write(message('mallory@a.test', 'bob@elsewhere.test'));
    expect(await streamError(c)).toBe('host-unknown');
  });

  it("a forged dialback key for a.test: a.test (the Authoritative Server) says invalid; <db:result type='invalid'/> and the stream closes (XEP-0220 §2.2.1)", async () => {
    const { c, features } = await secured();
    expect(child(features, 'dialback', NS.DIALBACK_FEATURES)).toBeDefined();
    expect(child(features, 'mechanisms', NS.SASL)).toBeUndefined(); // no certificate: no EXTERNAL (XEP-0178 §3)
    c.write(`<db:result from='a.test' to='b.test'>${'0'.repeat(64)}</db:result>`);
    const result = await c.element('result', NS.DIALBACK, 10_000);
    expect([attr(result, 'type'), attr(result, 'from'), attr(result, 'to')]).toEqual(['invalid', 'b.test', 'a.test']);
    await c.next((e) => e.type === 'STREAM_CLOSE', 3000, '</stream:stream>');
    c.write('</stream:stream>');
    await c.waitClosed();
  });

  it('a certificate for the wrong name: no EXTERNAL offered, only dialback (§13.7.2.1, XEP-0178 §3 step 9)', async () => {
    const { c, features } = await secured(f.ca.issueWrongName('evil.test'));
    expect(child(features, 'mechanisms', NS.SASL)).toBeUndefined();
    expect(child(features, 'dialback', NS.DIALBACK_FEATURES)).toBeDefined();
    c.write('</stream:stream>');
    await c.waitClosed();
  });

  it('garbage in the middle of the TLS handshake: the connection ends, the server goes on federating', async () => {
    const c = await RawClient.connect(port());
    c.write(HEADER());
    await c.element('features', NS.STREAMS);
    c.write(`<starttls xmlns='${NS.TLS}'/>`);
    await c.element('proceed', NS.TLS);
    c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]));
    await c.waitClosed(5000);
    const alice = await f.client('alice@a.test', PASSWORD);
    const atBob = nextStanza(bob, (e) => e.name === 'message' && attr(e, 'from') === alice.jid);
    alice.send(chat('bob@b.test', 'still federating'));
    expect(text(child(await atBob, 'body', NS.CLIENT)!)).toBe('still federating');
  });

  it('none of the above reached bob@b.test', () => {
    expect(bobGot.filter((e) => e.name === 'message' && text(child(e, 'body', NS.CLIENT) ?? e).includes('must not arrive'))).toEqual([]);
  });
});
