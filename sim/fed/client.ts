/**
 * A client of one federated server: the project's real initiating-entity machine (as
 * sim/peers/machine-client.ts runs it), whose application sends messages and IQ pings to
 * users of other domains once online, then closes (§4.4). Ids are unique in the world
 * (`f<client>-<seq>`), so the invariants follow each stanza across servers.
 */
import { initiatingEntityMachine, type InitiatingEntityMachine } from '../../machines/initiating/index.js';
import { NS } from '../../machines/ns.js';
import { DEFAULT_CLIENT_POLICY } from '../../machines/policy.js';
import type { Command, InitiatingEntityInput, StreamOutcome, Timeouts } from '../../machines/protocol.js';
import { el, type XmlElement } from '../../machines/xml.js';
import { SessionDriver } from '../../runtime/session/driver.js';
import { SALTED_PASSWORD_CACHE, SIM_ACCOUNTS } from '../accounts.js';
import type { VirtualClock } from '../clock.js';
import type { LinkEnd } from '../link.js';
import { PeerTimers } from '../peers/timers.js';
import type { Rng } from '../rng.js';
import type { FedClientPlan } from './scenario.js';

export interface FedSent {
  readonly id: string;
  readonly name: 'message' | 'iq';
  readonly to: string;
  readonly at: number;
}

export class FedClient {
  jid: string | undefined;
  outcome: StreamOutcome | undefined;
  readonly sent: FedSent[] = [];
  readonly received: XmlElement[] = [];
  readonly driver: SessionDriver<InitiatingEntityMachine>;
  private readonly timers: PeerTimers;
  private seq = 0;

  constructor(
    private readonly clock: VirtualClock,
    rng: Rng,
    end: LinkEnd,
    readonly domain: string,
    readonly plan: FedClientPlan,
    /** The world-wide index of this client (for ids). */
    readonly index: number,
    /** Domain of each target server index (-1: the unknown domain). */
    private readonly domainOf: (server: number) => string,
    timeouts: Timeouts,
  ) {
    this.timers = new PeerTimers(clock);
    const input: InitiatingEntityInput & { saltedPasswordCache?: Map<string, Uint8Array> } = {
      jid: `${plan.user}@${domain}`,
      password: SIM_ACCOUNTS[plan.user]!,
      initialResponse: true,
      random: (n) => rng.bytes(n),
      saltedPasswordCache: SALTED_PASSWORD_CACHE,
      ...DEFAULT_CLIENT_POLICY,
      tls: 'required',
      mechanisms: ['SCRAM-SHA-256'],
      allowPlainWithoutTls: false,
      keepalive: 'whitespace',
      timeouts,
    };
    this.driver = new SessionDriver({ machine: initiatingEntityMachine, input, transport: end, clock, onCommand: (c) => this.command(c) });
    end.attach(this.driver);
  }

  start(): void {
    this.driver.start();
  }

  private command(c: Command): void {
    if (c.type === 'online') {
      this.jid = c.jid;
      this.step(0);
    } else if (c.type === 'deliver') this.received.push(c.stanza);
    else if (c.type === 'ended') {
      this.outcome = c.outcome;
      this.timers.clear();
    }
  }

  private step(k: number): void {
    const s = this.plan.stanzas[k];
    if (s === undefined) {
      this.timers.after(this.plan.idle, () => this.driver.send({ type: 'CLOSE' }));
      return;
    }
    this.timers.after(s.gap, () => {
      const id = `f${this.index}-${this.seq++}`;
      const to = `${s.user}@${this.domainOf(s.server)}`;
      const stanza =
        s.kind === 'msg'
          ? el('message', NS.CLIENT, { id, to, type: 'chat' }, el('body', NS.CLIENT, {}, id))
          : el('iq', NS.CLIENT, { id, to, type: 'get' }, el('ping', NS.PING));
      this.sent.push({ id, name: s.kind === 'msg' ? 'message' : 'iq', to, at: this.clock.now() });
      this.driver.send({ type: 'SEND', stanza });
      this.step(k + 1);
    });
  }
}
