/**
 * A client peer that is the project's real initiating-entity machine, run by the same
 * SessionDriver the runtime client uses; the scenario supplies its policy (mechanisms,
 * initial response, resource) and what the application does once online.
 */
import type { InitiatingEntityMachine } from '../../machines/initiating/index.js';
import { NS } from '../../machines/ns.js';
import { DEFAULT_CLIENT_POLICY } from '../../machines/policy.js';
import type { Command, InitiatingEntityInput } from '../../machines/protocol.js';
import { attr } from '../../machines/xml.js';
import { SessionDriver, type TransitionTrace } from '../../runtime/session/driver.js';
import { SALTED_PASSWORD_CACHE, SIM_ACCOUNTS } from '../accounts.js';
import type { LinkEnd } from '../link.js';
import type { MachineClientPlan } from '../scenario.js';
import { PeerTimers } from './timers.js';
import { planStanza, SIM_MAX_STANZA_BYTES, type ClientRecord, type ClientWorld } from './client.js';

export class MachineClient {
  readonly record: ClientRecord;
  readonly driver: SessionDriver<InitiatingEntityMachine>;
  private readonly timers: PeerTimers;
  private seq = 0;

  constructor(
    private readonly world: ClientWorld,
    end: LinkEnd,
    readonly plan: MachineClientPlan,
    index: number,
    machine: InitiatingEntityMachine,
    onTransition?: (t: TransitionTrace) => void,
  ) {
    this.timers = new PeerTimers(world.clock);
    this.record = {
      index, jid: undefined, boundAt: undefined, sent: [], received: [], streamErrors: [], parseErrors: [],
      misbehavedAt: undefined, stoppedAt: undefined, wroteClose: false, refusedWithoutTls: false,
    };
    const rng = world.rng;
    // What the default policy lacks comes first: after a leading spread V8 gives the object a
    // new hidden class per session, and the machine reads `context.input` on every step.
    const input: InitiatingEntityInput & { saltedPasswordCache?: Map<string, Uint8Array> } = {
      jid: plan.resource !== undefined ? `${plan.user}@${world.domain}/${plan.resource}` : `${plan.user}@${world.domain}`,
      password: plan.password ?? SIM_ACCOUNTS[plan.user]!,
      initialResponse: plan.initialResponse,
      random: (n) => rng.bytes(n),
      saltedPasswordCache: SALTED_PASSWORD_CACHE,
      ...DEFAULT_CLIENT_POLICY,
      tls: plan.tls ?? 'required',
      mechanisms: plan.mechanisms,
      allowPlainWithoutTls: false,
      keepalive: plan.keepalive,
      timeouts: world.timeouts,
    };
    this.driver = new SessionDriver({
      machine,
      input,
      transport: end,
      clock: world.clock,
      parser: { maxStanzaBytes: SIM_MAX_STANZA_BYTES },
      onCommand: (c) => this.command(c),
      ...(onTransition ? { onTransition } : {}),
      onWire: (direction, text) => {
        if (direction === 'out' && text === '</stream:stream>') this.record.wroteClose = true;
      },
    });
    end.attach(this.driver);
  }

  start(): void {
    this.driver.start();
  }

  private command(c: Command): void {
    switch (c.type) {
      case 'online':
        this.record.jid = c.jid;
        this.record.boundAt = this.world.clock.now();
        this.stanzas(0);
        return;
      case 'deliver':
        this.record.received.push({ at: this.world.clock.now(), stanza: c.stanza });
        if (c.stanza.xmlns === NS.STREAMS && c.stanza.name === 'error') this.record.streamErrors.push('?');
        return;
      case 'ended':
        this.record.outcome = c.outcome;
        this.timers.clear();
        // The client machine refusing the real server's stream means the two disagree.
        if (c.outcome.kind === 'error-sent' && this.plan.server === undefined) this.record.parseErrors.push(`client machine sent <${c.outcome.condition}/> (${c.outcome.rfc}): ${c.outcome.text ?? ''}`);
        return;
      default:
        return;
    }
  }

  private stanzas(k: number): void {
    const step = this.plan.stanzas[k];
    if (step === undefined) {
      this.timers.after(this.plan.idle, () => {
        if (this.plan.ending === 'client-close') this.driver.send({ type: 'CLOSE' });
        else this.world.serverClose(this.plan.ending === 'shutdown' ? 'shutdown' : 'close');
      });
      return;
    }
    this.timers.after(step.gap, () => {
      if (step.kind === 'whitespace') {
        this.stanzas(k + 1); // the machine sends its own keepalives (§4.6.1)
        return;
      }
      const s = planStanza(step.kind, this.record.index, this.seq++, this.plan.user, this.world.domain);
      this.record.sent.push({ id: attr(s, 'id')!, kind: step.kind, name: s.name, type: attr(s, 'type'), to: attr(s, 'to'), at: this.world.clock.now() });
      this.driver.send({ type: 'SEND', stanza: s });
      this.stanzas(k + 1);
    });
  }
}
