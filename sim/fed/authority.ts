/**
 * The forger's own Authoritative Server for 'evil.test' (a domain it really owns: XEP-0220
 * §2.1.2 Step 2 asks it, and it says 'valid' to every key). So the forger does authenticate
 * evil.test by dialback, legitimately, and then sends stanzas 'from' other domains on that
 * stream: what RFC 6120 §8.1.2.2 and §4.9.3.9 (invalid-from) are about. Byte-level, just enough
 * of a receiving server: header, STARTTLS, dialback feature, `<db:verify/>` answers, close.
 */
import { NS } from '../../machines/ns.js';
import { attr, childElements, type XmlElement } from '../../machines/xml.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { STREAM_CLOSE_TAG } from '../../runtime/xml/serialize.js';
import type { LinkEnd, LinkSink } from '../link.js';

export class EvilAuthority implements LinkSink {
  private readonly parser = new StreamParser();
  private tls = false;
  private done = false;
  private streams = 0;
  /** `<db:verify/>` requests it answered 'valid'. */
  verified = 0;

  constructor(
    private readonly end: LinkEnd,
    readonly domain: string,
  ) {}

  receive(chunk: Uint8Array | string): void {
    if (this.done) return;
    for (const ev of this.parser.write(chunk)) this.event(ev);
  }

  tlsEstablished(): void {
    this.tls = true;
    this.parser.reset();
  }

  tlsFailed(): void {
    this.done = true;
  }

  closed(): void {
    this.done = true;
  }

  writeFailed(): void {
    this.end.close();
  }

  private event(ev: ParserEvent): void {
    if (this.done) return;
    if (ev.type === 'HEADER') {
      const peer = ev.header.from ?? '';
      this.end.write(`<stream:stream xmlns='jabber:server' xmlns:stream='${NS.STREAMS}' xmlns:db='jabber:server:dialback' from='${this.domain}' to='${peer}' id='evil-${this.streams++}' version='1.0'>`);
      this.end.write(this.tls ? `<stream:features><dialback xmlns='${NS.DIALBACK_FEATURES}'><errors/></dialback></stream:features>` : `<stream:features><starttls xmlns='${NS.TLS}'/><dialback xmlns='${NS.DIALBACK_FEATURES}'><errors/></dialback></stream:features>`);
    } else if (ev.type === 'ELEMENT') this.element(ev.element);
    else if (ev.type === 'STREAM_CLOSE' || ev.type === 'PARSE_ERROR') {
      this.end.write(STREAM_CLOSE_TAG);
      this.end.close();
      this.done = true;
    }
  }

  private element(e: XmlElement): void {
    if (e.xmlns === NS.TLS && e.name === 'starttls') {
      this.end.write(`<proceed xmlns='${NS.TLS}'/>`);
      this.end.startTls();
      return;
    }
    if (e.name === 'verify' && childElements(e).length === 0) {
      this.verified++;
      this.end.write(`<db:verify from='${attr(e, 'to') ?? ''}' to='${attr(e, 'from') ?? ''}' id='${attr(e, 'id') ?? ''}' type='valid'/>`);
    }
  }
}
