/**
 * Faults the learner injects at the current point of a run. Each writes what a broken or
 * hostile client would put on the wire (from the client's end of the link, past the client
 * machine), or does to the link what a network does. The server machine's answer is the lesson.
 */
import type { World } from '../sim/world.js';

export const FAULTS = ['garbage', 'xml-comment', 'wrong-password', 'stanza-before-auth', 'second-bind', 'silence', 'cut'] as const;
export type FaultKind = (typeof FAULTS)[number];

export interface FaultInfo {
  readonly label: string;
  /** What the receiving entity must do, and where RFC 6120 says so. */
  readonly expect: string;
}

export const FAULT_INFO: Readonly<Record<FaultKind, FaultInfo>> = {
  garbage: { label: 'garbage bytes', expect: 'bytes that are not UTF-8: <unsupported-encoding/> (§4.9.3.22, §11.6)' },
  'xml-comment': { label: 'an XML comment', expect: 'comments are restricted XML: <restricted-xml/> (§4.9.3.18, §11.1)' },
  'wrong-password': { label: 'a wrong password', expect: 'SASL <failure><not-authorized/> (§6.4.5, §6.5.10)' },
  'stanza-before-auth': { label: 'a stanza before auth', expect: 'no stanza before the stream is authenticated: <not-authorized/> (§4.3.5, §4.9.3.12)' },
  'second-bind': { label: 'a second bind', expect: 'a resource is bound once per stream (§7.7.1): the server answers or closes' },
  silence: { label: 'silence', expect: 'the link stops carrying bytes: a timer fires, the peer is declared gone (§4.6.2, §4.9.3.4)' },
  cut: { label: 'a cut link', expect: 'the TCP connection is gone: SOCKET_CLOSED on both ends (§4.6.1)' },
};

const CLIENT = 0;

/** An overlong encoding of '/' and two bytes UTF-8 never uses (RFC 3629 §3). */
export const GARBAGE_BYTES = Uint8Array.of(0xc0, 0xaf, 0xff, 0xfe);

/** Whether the fault makes sense now (a wrong password only before the client has authenticated, ...). */
export function available(world: World, fault: FaultKind): boolean {
  const link = world.links[CLIENT];
  const server = world.serverOf[CLIENT];
  const sentAuth = link?.segments.some((s) => s.from === 'a' && s.text.includes('<auth')) ?? false;
  // The password can be chosen until the client uses it, even before it connects.
  if (fault === 'wrong-password') return !sentAuth && !link?.cut && !server?.ended;
  if (!link || link.cut || !server || server.ended || !link.a.isOpen) return false;
  const authenticated = server.events.some((e) => e.type === 'authenticated');
  switch (fault) {
    case 'stanza-before-auth':
      return !authenticated;
    case 'second-bind':
      return server.jid !== undefined;
    default:
      return true;
  }
}

/**
 * Perform a fault now. A wrong password is not performed here: it is the client's input,
 * chosen before the run (see scenarioOf), and the run up to this step is the same with either
 * password because the client has not used it yet.
 */
export function inject(world: World, fault: FaultKind): void {
  const link = world.links[CLIENT]!;
  switch (fault) {
    case 'garbage':
      link.a.writeBytes(GARBAGE_BYTES);
      return;
    case 'xml-comment':
      link.a.write('<!-- a comment -->');
      return;
    case 'stanza-before-auth':
      link.a.write("<message to='bob@sim.example' id='early'><body>too early</body></message>");
      return;
    case 'second-bind':
      link.a.write("<iq type='set' id='bind-again'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>again</resource></bind></iq>");
      return;
    case 'silence':
      // Neither end reads what the other writes; the sockets stay up (a black-holed route).
      link.a.setReading(false);
      link.b.setReading(false);
      return;
    case 'cut':
      link.sever('connection reset (playground)');
      return;
    case 'wrong-password':
      return;
  }
}
