/**
 * The playground page: both stream machines side by side over the simulator's link and
 * virtual clock. The run is a pure function of the choices and the injected faults (kept in
 * the URL fragment), so undo and shared links re-run it from the start to the wanted step.
 */
import data from 'playground:data';
import { initiatingEntityMachine } from '../machines/initiating/index.js';
import { receivingEntityMachine } from '../machines/receiving/index.js';
import type { MechanismName } from '../machines/protocol.js';
import type { Scenario } from '../sim/scenario.js';
import type { TraceFile } from '../sim/trace.js';
import { DEFAULT_CHOICES, fromFragment, scenarioOf, toFragment, type Choices, type Injection } from './choices.js';
import { VIEWS, type View } from './data.js';
import { available, FAULTS, FAULT_INFO, type FaultKind } from './faults.js';
import { PlaygroundRun, replayTo, type Side } from './run.js';
import { TransitionIndex } from './transitions.js';
import { renderTaken } from './view/details.js';
import { DiagramPanel } from './view/diagram.js';
import { byId, h } from './view/dom.js';
import { renderWire } from './view/wire.js';

const index = { client: new TransitionIndex(initiatingEntityMachine), server: new TransitionIndex(receivingEntityMachine) };
const panels = { client: new DiagramPanel(byId('client-diagram'), data.diagrams.client), server: new DiagramPanel(byId('server-diagram'), data.diagrams.server) };
const pinned: Partial<Record<Side, View>> = {};

interface Session {
  choices: Choices;
  injections: Injection[];
  /** Set when the run replays a loaded simulator trace (its scenario, not the choices). */
  trace?: TraceFile;
  run: PlaygroundRun;
}

let session: Session = start(DEFAULT_CHOICES, []);

function start(choices: Choices, injections: Injection[], trace?: TraceFile): Session {
  const scenario: Scenario = trace?.scenario ?? scenarioOf(choices, injections);
  return { choices, injections, ...(trace ? { trace } : {}), run: new PlaygroundRun(scenario, injections) };
}

/** Leaf state paths of a snapshot value ('open.negotiating.saslNegotiation.challengeSent'). */
function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function render(): void {
  const { run } = session;
  const last = run.steps.at(-1);
  byId('clock').textContent = `t = ${run.now} ms, step ${run.steps.length}${run.finished ? ' (nothing left to run)' : ''}`;
  for (const side of ['client', 'server'] as const) {
    const actor = side === 'client' ? run.clientActor() : run.serverActor();
    const stateEl = byId(`${side}-state`);
    if (!actor) {
      stateEl.textContent = side === 'client' && session.trace ? 'a scripted client (sim/peers/client.ts): no machine to draw' : 'not connected yet';
      stateEl.dataset.state = '';
      panels[side].show([], [], pinned[side]);
      renderViews(side, pinned[side] ?? 'overview');
      continue;
    }
    const snapshot = actor.getSnapshot() as { value: unknown; status: string };
    const active = leaves(snapshot.value);
    const from = (last?.transitions ?? []).filter((t) => t.side === side).map((t) => index[side].path(t.trace.source));
    stateEl.textContent = active.join(' | ');
    stateEl.dataset.state = active.join(' ');
    renderViews(side, panels[side].show(active, from, pinned[side]));
  }
  const segments = run.world.links[0]?.segments ?? [];
  const latest = new Set(last?.segments ?? []);
  const wire = byId('wire');
  wire.replaceChildren(
    ...renderWire(segments.map((segment, i) => ({ segment, index: i, injected: run.injected.has(i), latest: latest.has(i), ...(run.rawBytes.has(i) ? { bytes: run.rawBytes.get(i)! } : {}) }))),
  );
  wire.scrollTop = wire.scrollHeight;
  byId('taken').replaceChildren(
    ...(last?.faults.length ? [h('p', { class: 'note' }, `Injected before this step: ${last.faults.map((f) => FAULT_INFO[f].label).join(', ')}. Expect ${last.faults.map((f) => FAULT_INFO[f].expect).join('; ')}.`)] : []),
    ...(last ? renderTaken(last.transitions, index, data.sections) : [h('p', { class: 'note' }, 'Nothing has happened yet: the first step connects the client (TCP) and it writes its stream header (§4.2).')]),
  );
  renderTimers();
  const outcome = (run.world.clients[0]?.record.outcome ?? undefined) as { kind: string; condition?: string; rfc?: string } | undefined;
  const server = run.world.serverOf[0]?.events.find((e) => e.type === 'ended');
  byId('outcome').textContent = [
    outcome ? `client: ${outcome.kind}${outcome.condition ? ` <${outcome.condition}/>` : ''} (${outcome.rfc})` : '',
    server && server.type === 'ended' ? `server: ${server.outcome.kind}${server.outcome.condition ? ` <${server.outcome.condition}/>` : ''} (${server.outcome.rfc})` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  for (const b of document.querySelectorAll<HTMLButtonElement>('#faults button')) b.disabled = session.trace !== undefined || !available(run.world, b.dataset.fault as FaultKind);
  for (const id of ['step', 'next', 'end']) byId<HTMLButtonElement>(id).disabled = run.finished && run.steps.length > 0;
  byId<HTMLButtonElement>('undo').disabled = run.steps.length === 0;
  byId<HTMLButtonElement>('share').disabled = session.trace !== undefined;
  byId('mode').textContent = session.trace ? traceNote(session.trace, run) : 'alice@sim.example (password wonderland-1) connects, sends presence and a message to herself, pings the server and closes the stream (§4.4).';
  if (!session.trace) history.replaceState(null, '', `#${toFragment(session.choices, session.injections, run.steps.length)}`);
}

function renderViews(side: Side, shown: View): void {
  const box = document.querySelector<HTMLElement>(`.views[data-side="${side}"]`)!;
  const follow = h('button', { type: 'button', 'aria-pressed': String(pinned[side] === undefined) }, 'follow state');
  follow.addEventListener('click', () => {
    delete pinned[side];
    render();
  });
  box.replaceChildren(
    h('span', {}, 'diagram: '),
    ...VIEWS.map((v) => {
      const b = h('button', { type: 'button', 'aria-pressed': String(v === shown), 'data-view': v }, v);
      b.addEventListener('click', () => {
        pinned[side] = v;
        render();
      });
      return b;
    }),
    follow,
  );
}

function renderTimers(): void {
  const { run } = session;
  const timers = run.pendingTimers();
  byId('timers').replaceChildren(
    h('p', {}, `Virtual time: ${run.now} ms. Next event at ${run.world.clock.nextAt() ?? '(none)'} ms.`),
    timers.length === 0
      ? h('p', { class: 'note' }, 'No machine timer pending.')
      : h('table', {}, h('tr', {}, h('th', {}, 'machine'), h('th', {}, 'timer'), h('th', {}, 'fires at')), ...timers.map((t) => h('tr', {}, h('td', {}, t.side), h('td', {}, t.event.replace(/^xstate\.after\.([^.]+)\..*$/, 'after $1')), h('td', {}, `${t.at} ms`)))),
    h('p', { class: 'note' }, `${run.otherScheduled()} other scheduled: bytes in flight, host answers, the client's script.`),
  );
}

function traceNote(trace: TraceFile, run: PlaygroundRun): string {
  const recorded = trace.segments.filter((s) => s.link === 0);
  const replayed = run.world.links[0]?.segments ?? [];
  const same = recorded.length === replayed.length && recorded.every((s, i) => s.text === replayed[i]!.text && s.at === replayed[i]!.at);
  const status = !run.finished ? `${replayed.length} of ${recorded.length} recorded segments replayed so far` : same ? `replay identical to the trace: ${recorded.length} segments` : `replay differs from the trace: ${replayed.length} segments against ${recorded.length} recorded`;
  return `Replaying trace "${trace.scenario.name}" (seed ${trace.scenario.seed}${trace.scenario.clients.length > 1 ? `, link 0 of ${trace.scenario.clients.length}` : ''}): ${status}. Restart returns to the playground.`;
}

function fillForm(c: Choices): void {
  const form = byId<HTMLFormElement>('policy');
  const el = (name: string): HTMLInputElement => form.elements.namedItem(name) as HTMLInputElement;
  el('clientTls').value = c.clientTls;
  el('mechanism').value = c.mechanism;
  el('initialResponse').checked = c.initialResponse;
  el('resource').value = c.resource;
  el('serverTls').value = c.serverTls;
  el('maxAuthAttempts').value = String(c.maxAuthAttempts);
  el('seed').value = String(c.seed);
  for (const box of form.querySelectorAll<HTMLInputElement>('input[name="serverMechanism"]')) box.checked = c.serverMechanisms.includes(box.value as MechanismName);
}

function readForm(): Choices {
  const form = byId<HTMLFormElement>('policy');
  const fd = new FormData(form);
  const frag = new URLSearchParams({
    seed: String(fd.get('seed') ?? 1),
    ctls: String(fd.get('clientTls')),
    mech: String(fd.get('mechanism')),
    ir: fd.get('initialResponse') ? '1' : '0',
    res: String(fd.get('resource') ?? ''),
    stls: String(fd.get('serverTls')),
    smech: fd.getAll('serverMechanism').join(' '),
    auth: String(fd.get('maxAuthAttempts')),
  });
  return fromFragment(frag.toString())!.choices;
}

function act(fn: (run: PlaygroundRun) => void): void {
  fn(session.run);
  render();
}

function undo(): void {
  const n = session.run.steps.length - 1;
  if (n < 0) return;
  // Faults injected at the undone step go with it.
  const injections = session.injections.filter((i) => i.step <= n);
  session = { ...session, injections, run: replayTo(session.trace ? session.run.scenario : scenarioOf(session.choices, injections), injections, n) };
  render();
}

function injectFault(fault: FaultKind): void {
  const injections = [...session.injections, { step: session.run.steps.length + 1, fault }];
  // A wrong password is the client's input: the same run with it, up to here (it has not been used yet).
  const scenario = fault === 'wrong-password' ? scenarioOf(session.choices, injections) : session.run.scenario;
  session = { ...session, injections, run: replayTo(scenario, injections, session.run.steps.length) };
  session.run.step();
  render();
}

function loadTrace(text: string): void {
  const trace = JSON.parse(text) as TraceFile;
  if (trace.format !== 'xmpp-statekit-sim-trace/1') throw new Error(`not a simulator trace (format ${String(trace.format)})`);
  session = start(session.choices, [], trace);
  render();
}

byId('step').addEventListener('click', () => act((r) => r.step()));
byId('next').addEventListener('click', () => act((r) => r.toNextState()));
byId('end').addEventListener('click', () => act((r) => r.toEnd()));
byId('undo').addEventListener('click', undo);
byId('restart').addEventListener('click', () => {
  session = start(session.choices, []);
  render();
});
byId('share').addEventListener('click', () => {
  const url = location.href;
  void navigator.clipboard?.writeText(url).catch(() => undefined);
  byId('mode').textContent = `This run: ${url}`;
});
byId<HTMLFormElement>('policy').addEventListener('submit', (e) => {
  e.preventDefault();
  session = start(readForm(), []);
  render();
});
for (const f of FAULTS) document.querySelector(`#faults button[data-fault="${f}"]`)!.addEventListener('click', () => injectFault(f));
byId<HTMLInputElement>('trace').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void file.text().then(loadTrace, (err: unknown) => (byId('mode').textContent = String(err))).catch((err: unknown) => (byId('mode').textContent = `Could not load the trace: ${String(err)}`));
});
document.addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || (e.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName))) return;
  const id = { s: 'step', n: 'next', e: 'end', u: 'undo' }[e.key];
  if (id) byId<HTMLButtonElement>(id).click();
});

const shared = fromFragment(location.hash);
if (shared) {
  session = { ...start(shared.choices, shared.injections) };
  session.run.toStep(shared.step);
}
fillForm(session.choices);
render();
