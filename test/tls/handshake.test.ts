/**
 * A real TLS handshake over loopback, upgraded in place from plain TCP the way STARTTLS
 * does it (RFC 6120 §5.4.3.3), with the initiating entity checking the receiving entity's
 * certificate against the domain it put in its stream header (§13.7.2.1).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificate,
  createSelfSignedCertificate,
  xmppCheckServerIdentity,
  type CertificateBundle,
} from '../../runtime/tls/index.js';

const STARTTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const PROCEED = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

/** Everything a test opens, so afterEach can close it whatever happened. */
const open: { servers: net.Server[]; sockets: net.Socket[] } = { servers: [], sockets: [] };

/**
 * Once a TLSSocket wraps a TCP socket, only the TLSSocket may be destroyed: on Node 20,
 * destroying the plain socket handed to tls.connect({ socket }) first crashes the process
 * (SIGSEGV). So the wrapper takes the plain socket's place in the list.
 */
function upgraded(raw: net.Socket, secure: tls.TLSSocket): void {
  open.sockets[open.sockets.indexOf(raw)] = secure;
}

afterEach(async () => {
  for (const s of open.sockets) s.destroy();
  await Promise.all(open.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  open.sockets.length = 0;
  open.servers.length = 0;
});

/** A receiving entity: reads <starttls/>, answers <proceed/>, then runs TLS on the same socket and echoes. */
async function startServer(bundle: CertificateBundle): Promise<{ port: number; serverErrors: Error[] }> {
  const secureContext = tls.createSecureContext({ cert: bundle.certPem, key: bundle.keyPem });
  const serverErrors: Error[] = [];
  const server = net.createServer((raw) => {
    open.sockets.push(raw);
    raw.on('error', (e) => serverErrors.push(e));
    raw.once('data', (chunk) => {
      expect(chunk.toString()).toBe(STARTTLS);
      raw.write(PROCEED, () => {
        const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
        upgraded(raw, secure);
        secure.on('error', (e) => serverErrors.push(e));
        secure.on('data', (d) => secure.write(`echo:${d.toString()}`));
      });
    });
  });
  open.servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, serverErrors };
}

/** An initiating entity: plain TCP, <starttls/>, then tls.connect over that socket. */
async function startTls(
  port: number,
  options: { domain: string; ca: string; service?: 'xmpp-client' | 'xmpp-server' },
): Promise<tls.TLSSocket> {
  const raw = net.connect(port, '127.0.0.1');
  open.sockets.push(raw);
  await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
  raw.write(STARTTLS);
  const answer = await new Promise<string>((resolve) => raw.once('data', (d) => resolve(d.toString())));
  expect(answer).toBe(PROCEED);
  const secure = tls.connect({
    socket: raw,
    servername: options.domain,
    ca: options.ca,
    checkServerIdentity: xmppCheckServerIdentity(options.domain, options.service),
  });
  upgraded(raw, secure);
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  return secure;
}

describe('STARTTLS upgrade with XMPP service identity checking (RFC 6120 §5.4.3.3, §13.7.2.1)', () => {
  let bundle: CertificateBundle;
  beforeAll(() => {
    bundle = createSelfSignedCertificate('example.com');
  });

  it('succeeds for the domain the certificate names, and data flows over TLS', async () => {
    const { port, serverErrors } = await startServer(bundle);
    const secure = await startTls(port, { domain: 'example.com', ca: bundle.certPem });
    expect(secure.authorized).toBe(true);
    expect(secure.encrypted).toBe(true);
    expect(secure.getPeerCertificate().subject.CN).toBe('example.com');
    secure.write('hello');
    const reply = await new Promise<string>((resolve) => secure.once('data', (d) => resolve(d.toString())));
    expect(reply).toBe('echo:hello');
    await new Promise<void>((resolve) => secure.end(resolve));
    expect(serverErrors).toEqual([]);
  });

  it('succeeds for a server-to-server peer through the _xmpp-server SRV-ID', async () => {
    const { port } = await startServer(bundle);
    const secure = await startTls(port, { domain: 'example.com', ca: bundle.certPem, service: 'xmpp-server' });
    expect(secure.authorized).toBe(true);
  });

  it('fails with a clear identity error for the wrong domain, though the chain is trusted', async () => {
    const { port } = await startServer(bundle);
    const failure = startTls(port, { domain: 'wrong.example', ca: bundle.certPem });
    await expect(failure).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      message: expect.stringMatching(/does not identify xmpp-client service 'wrong\.example'.*DNS-IDs \[example\.com\]/),
    });
  });

  it('accepts a certificate that names the service only by SRV-ID, where Node\'s own check would not', async () => {
    const srvOnly = createCertificate({ srvNames: ['_xmpp-client.example.com'], cn: 'Example Products, Inc.' });
    expect(tls.checkServerIdentity('example.com', { subject: { CN: 'Example Products, Inc.' } } as tls.PeerCertificate)).toBeInstanceOf(Error);
    const { port } = await startServer(srvOnly);
    const secure = await startTls(port, { domain: 'example.com', ca: srvOnly.certPem });
    expect(secure.authorized).toBe(true);
    // ... and only for that service.
    const { port: port2 } = await startServer(srvOnly);
    await expect(startTls(port2, { domain: 'example.com', ca: srvOnly.certPem, service: 'xmpp-server' })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('fails on an untrusted certificate before identity is even considered (§13.7.2 step 2)', async () => {
    const { port } = await startServer(bundle);
    const stranger = createSelfSignedCertificate('example.com', { keyBits: 1024 });
    await expect(startTls(port, { domain: 'example.com', ca: stranger.certPem })).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT_SIGNATURE_FAILURE/),
    });
  });
});
