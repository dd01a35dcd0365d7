/**
 * docs/index.html: one static page, opened from disk (file://), no server and nothing
 * fetched from the network. Per machine: its diagrams (the SVGs inlined, so the page is a
 * single file that works anywhere) and, per state, the outgoing transitions with event,
 * guard, target and RFC section; then the conformance table. A few lines of inline script
 * add a filter box; without script the page is complete.
 */
import { edgeLabel, shortRfc } from './mermaid.js';
import type { MachineModel, StateInfo, TransitionInfo } from '../machines/introspect/model.js';
import { anchor, type ConformanceData, type CoveredRow, type Status } from './report.js';
import type { Role } from '../machines/introspect/catalog.js';

export interface PageDiagram {
  readonly title: string;
  /** Path of the SVG relative to the page, for the "open" link. */
  readonly href: string;
  /** The SVG markup, or undefined when it was not rendered (then the Mermaid text is shown). */
  readonly svg?: string;
  readonly mermaid: string;
}

export interface PageMachine {
  readonly name: string;
  readonly title: string;
  readonly role: Role;
  readonly model: MachineModel;
  readonly diagrams: readonly PageDiagram[];
}

export function renderPage(machines: readonly PageMachine[], conformance: ConformanceData): string {
  const body: string[] = [];
  body.push(
    '<header>',
    '<h1>xmpp-statekit: the RFC 6120 stream machines and the RFC 6121 subscription machine</h1>',
    '<p>Generated from the XState machines by <code>npm run docs</code>; every transition names the RFC section it implements.</p>',
    '<nav>',
    ...machines.map((m) => `<a href="#${esc(m.name)}">${esc(m.title)}</a>`),
    '<a href="#conformance">Conformance</a>',
    '<label>Filter <input id="filter" type="search" placeholder="state, event, guard or §"></label>',
    '</nav>',
    '</header>',
  );
  for (const m of machines) body.push(...machineSection(m));
  body.push(...conformanceSection(conformance));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>xmpp-statekit: RFC 6120 machines</title>',
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function machineSection(m: PageMachine): string[] {
  const out: string[] = [];
  const { model } = m;
  out.push(
    `<section class="machine" id="${esc(m.name)}" data-machine="${esc(m.name)}">`,
    `<h2>${esc(m.title)}</h2>`,
    `<p class="facts"><code>${esc(m.name)}</code> · machine id <code>${esc(model.id)}</code> · ${m.role} · ${model.states.length} states · ${model.transitions.length} transitions${model.rfc ? ` · ${esc(model.rfc)}` : ''}</p>`,
  );
  for (const d of m.diagrams) {
    out.push('<figure class="diagram">', `<figcaption>${esc(d.title)} <a href="${esc(d.href)}">open SVG</a> <span class="hint">(click the diagram for actual size)</span></figcaption>`);
    out.push(d.svg !== undefined ? `<div class="svg">${stripProlog(d.svg)}</div>` : `<pre class="mermaid-source">${esc(d.mermaid)}</pre>`);
    out.push('</figure>');
  }
  out.push('<h3>States and their transitions</h3>');
  const root = model.transitions.filter((t) => t.source === '');
  if (root.length > 0) out.push(...stateBlock(m.name, { path: '', key: '(any state)', type: 'compound', parent: '' }, root));
  for (const s of model.states) out.push(...stateBlock(m.name, s, model.transitions.filter((t) => t.source === s.path)));
  out.push('</section>');
  return out;
}

function stateBlock(machine: string, s: StateInfo, transitions: readonly TransitionInfo[]): string[] {
  const depth = s.path === '' ? 0 : s.path.split('.').length - 1;
  const label = s.path === '' ? '(any state): transitions of the machine root' : s.path;
  const out = [
    `<div class="state" id="${esc(`${machine}--${s.path || 'root'}`)}" data-state="${esc(s.path)}" style="--depth:${depth}">`,
    `<h4><code class="state-name">${esc(label)}</code> <span class="type">${s.type}${s.initial ? `, initial ${esc(s.initial)}` : ''}</span>${s.rfc ? ` <span class="rfc">${esc(shortRfc(s.rfc))}</span>` : ''}</h4>`,
  ];
  if (s.summary) out.push(`<p class="summary">${esc(s.summary)}</p>`);
  if (s.invokes) out.push(`<p class="summary">invokes <code>${esc(s.invokes.join(', '))}</code> while active</p>`);
  if (transitions.length === 0) {
    out.push('<p class="none">no transitions of its own</p>');
  } else {
    out.push('<table class="transitions"><colgroup><col class="c-event"><col class="c-guard"><col class="c-target"><col class="c-rfc"><col class="c-actions"></colgroup><thead><tr><th>event</th><th>guard</th><th>target</th><th>§</th><th>actions</th></tr></thead><tbody>');
    for (const t of transitions) {
      const target =
        t.targets.length === 0
          ? '<span class="none">stays (targetless)</span>'
          : t.targets.map((x) => `<a href="#${esc(`${machine}--${x || 'root'}`)}"><code>${esc(x)}</code></a>`).join(', ');
      out.push(
        `<tr title="${esc(edgeLabel(t))}"><td><code>${esc(t.event)}</code></td><td>${t.guard ? `<code>${esc(t.guard)}</code>` : ''}</td><td>${target}${t.reenter ? ' (re-entered)' : ''}</td><td class="rfc">${esc(t.rfc ? shortRfc(t.rfc) : '')}</td><td>${esc(t.actions.join(', '))}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  out.push('</div>');
  return out;
}

function conformanceSection(data: ConformanceData): string[] {
  const out = [
    '<section id="conformance">',
    '<h2>Conformance (RFC 6120 §15 and the error conditions)</h2>',
    '<p>Status per end, derived from citations only: a transition and a test (implemented+tested), a transition (implemented), runtime code (runtime), nothing (missing). The full list is in <a href="CONFORMANCE-REPORT.md">CONFORMANCE-REPORT.md</a>; what the model-based tests drive against a server is in <a href="MBT-PLAN.md">MBT-PLAN.md</a>.</p>',
    '<table class="conformance"><thead><tr><th>row</th><th>what</th><th>§</th><th>C</th><th>client</th><th>S</th><th>server</th><th>transitions</th><th>tests</th></tr></thead><tbody>',
  ];
  for (const r of data.rows) out.push(conformanceRow(r));
  out.push('</tbody></table>', '</section>');
  return out;
}

function conformanceRow(r: CoveredRow): string {
  const transitions = r.transitions.map((t) => `${t.machine}: ${t.state} · ${t.event}`).join('\n');
  const tests = r.tests.map((t) => `${t.file} › ${t.title}`).join('\n');
  return (
    `<tr class="row-${r.kind}" id="${esc(anchor(r))}" data-feature="${esc(r.name)}">` +
    `<td><code>${esc(r.name)}</code></td><td>${esc(r.what)}</td><td>${r.section}</td>` +
    `<td>${esc(r.client)}</td><td>${badge(r.status.client)}</td><td>${esc(r.server)}</td><td>${badge(r.status.server)}</td>` +
    `<td title="${esc(transitions)}">${r.transitions.length}</td><td title="${esc(tests)}">${r.tests.length}</td></tr>`
  );
}

function badge(s: Status): string {
  return `<span class="status status-${s.replace(/[^a-z]+/g, '-')}">${s}</span>`;
}

function stripProlog(svg: string): string {
  return svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 1.5rem 4rem; color: #1d1d1f; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5rem 0; z-index: 1; }
h1 { font-size: 1.4rem; margin: .3rem 0; }
nav { display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
nav label { margin-left: auto; }
h2 { margin-top: 2.5rem; border-bottom: 2px solid #6c5ce7; }
.facts, .summary, .none { color: #555; }
figure.diagram { margin: 1rem 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: .5rem; }
figcaption { font-weight: 600; margin-bottom: .5rem; }
figcaption a { font-weight: normal; margin-left: .5rem; }
.hint { font-weight: normal; color: #888; font-size: .85em; }
.svg { overflow: auto; cursor: zoom-in; text-align: center; }
.svg svg { max-width: 100%; max-height: 85vh; width: auto; height: auto; }
.svg.actual { cursor: zoom-out; max-height: 90vh; text-align: left; }
.svg.actual svg { max-width: none; max-height: none; }
pre.mermaid-source { overflow: auto; background: #f7f7f7; padding: .5rem; }
.state { margin: .4rem 0 .4rem calc(var(--depth) * 1.2rem); border-left: 3px solid #d8d3ff; padding-left: .6rem; }
.state h4 { margin: .6rem 0 .2rem; font-weight: normal; }
.state-name { font-weight: 700; }
.type { color: #777; font-size: .85em; }
.rfc { color: #6c5ce7; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { border: 1px solid #e3e3e3; padding: .2rem .4rem; text-align: left; vertical-align: top; }
th { background: #f4f3ff; }
table.transitions { table-layout: fixed; }
.c-event { width: 22%; } .c-guard { width: 22%; } .c-target { width: 26%; } .c-rfc { width: 12%; } .c-actions { width: 18%; }
td { overflow-wrap: anywhere; }
section, .state, tr { scroll-margin-top: 8rem; }
.status { padding: 0 .35rem; border-radius: 3px; white-space: nowrap; }
.status-implemented-tested { background: #c8f0d0; }
.status-implemented { background: #e4f4c4; }
.status-runtime { background: #fbeec2; }
.status-missing { background: #f8cccc; }
.status-n-a { background: #eee; color: #777; }
.hidden { display: none; }
`;

/** Filter: hide states and conformance rows whose text does not contain the query. Click a diagram: actual size. */
const SCRIPT = `
(function () {
  document.querySelectorAll('.svg').forEach(function (el) {
    el.addEventListener('click', function () { el.classList.toggle('actual'); });
  });
  var input = document.getElementById('filter');
  if (!input) return;
  input.addEventListener('input', function () {
    var q = input.value.trim().toLowerCase();
    document.querySelectorAll('.state, table.conformance tbody tr').forEach(function (el) {
      el.classList.toggle('hidden', q !== '' && el.textContent.toLowerCase().indexOf(q) < 0);
    });
  });
})();
`;
