/**
 * docs/CONFORMANCE-REPORT.md: for every row (the RFC 6120 §15 features and the
 * stream / SASL / stanza error conditions), which machine transitions, tests and runtime
 * files cite its section, and a status derived from that alone:
 *
 *   implemented+tested  a machine transition and a test cite it
 *   implemented         only a machine transition does
 *   runtime             no transition, but the runtime's comments cite it
 *   missing             nothing does
 *   n/a                 §15 does not ask it of that end
 *
 * A citation counts when it names the section or one of its subsections (§7.6.1 counts for
 * §7). Nothing here is written by hand, so a gap shows as a gap.
 */
import { join } from 'node:path';
import { conditionRows, featureRows, type ConformanceRow, type RowKind } from './conformance.js';
import { readConformanceFeatures } from './conformance-source.js';
import { scanRuntime, scanTests, type RuntimeRef, type TestRef } from './coverage.js';
import { DESCRIBE_OPTIONS, type LoadedMachine, type Role } from '../machines/introspect/catalog.js';
import { edgeLabel } from './mermaid.js';
import { describeMachine, type MachineModel, type TransitionInfo } from '../machines/introspect/model.js';
import { compareSections, rfc6120Sections, within } from '../machines/introspect/sections.js';

export type Status = 'implemented+tested' | 'implemented' | 'runtime' | 'missing' | 'n/a';
export const STATUSES: readonly Status[] = ['implemented+tested', 'implemented', 'runtime', 'missing', 'n/a'];
const ROLES: readonly Role[] = ['client', 'server'];

export interface TransitionRef {
  readonly machine: string;
  readonly role: Role;
  readonly state: string;
  readonly event: string;
  readonly guard?: string;
  readonly targets: readonly string[];
  readonly rfc: string;
}

export interface CoveredRow extends ConformanceRow {
  readonly status: Readonly<Record<Role, Status>>;
  readonly transitions: readonly TransitionRef[];
  readonly tests: readonly TestRef[];
  readonly runtime: readonly string[];
}

export interface ConformanceData {
  readonly machines: readonly { name: string; role: Role; model: MachineModel }[];
  readonly rows: readonly CoveredRow[];
}

export interface ConformanceSources {
  /** Project root: test/ and runtime/ are scanned below it. */
  readonly root: string;
  /** RFC 6120's text, whose §15 gives the feature rows; default: spec/rfc6120.txt of this repository. */
  readonly rfc6120?: string;
  readonly machines: readonly LoadedMachine[];
}

export function collectConformance(src: ConformanceSources): ConformanceData {
  const features = featureRows(readConformanceFeatures(src.rfc6120 ?? join(src.root, 'spec', 'rfc6120.txt')));
  // The rows are RFC 6120's: a machine of another document (RFC 6121 subscriptions) has no column here.
  const machines = src.machines
    .filter((m) => m.spec === undefined)
    .map((m) => ({ name: m.name, role: m.role, model: describeMachine(m.machine, DESCRIBE_OPTIONS) }));
  return buildConformance(features.concat(conditionRows()), machines, scanTests(src.root), scanRuntime(src.root));
}

export function buildConformance(
  rows: readonly ConformanceRow[],
  machines: ConformanceData['machines'],
  tests: readonly TestRef[],
  runtime: readonly RuntimeRef[],
): ConformanceData {
  const covered = rows.map((row): CoveredRow => {
    const cites = (sections: readonly string[]): boolean => sections.some((s) => within(s, row.section));
    const transitions = machines.flatMap((m) =>
      m.model.transitions
        .filter((t) => cites(rfc6120Sections(t.rfc)))
        .map((t) => transitionRef(m.name, m.role, t)),
    );
    const citingTests = tests.filter((t) => cites(t.sections));
    const citingRuntime = runtime.filter((r) => cites(r.sections));
    const status = {} as Record<Role, Status>;
    for (const role of ROLES) {
      const requirement = role === 'client' ? row.client : row.server;
      if (requirement === 'n/a') status[role] = 'n/a';
      else if (transitions.some((t) => t.role === role)) status[role] = citingTests.length > 0 ? 'implemented+tested' : 'implemented';
      else if (citingRuntime.some((r) => r.roles.includes(role))) status[role] = 'runtime';
      else status[role] = 'missing';
    }
    return { ...row, status, transitions, tests: citingTests, runtime: citingRuntime.map((r) => r.file) };
  });
  return { machines, rows: covered };
}

function transitionRef(machine: string, role: Role, t: TransitionInfo): TransitionRef {
  return {
    machine,
    role,
    state: t.source === '' ? '(any state)' : t.source,
    event: t.event,
    ...(t.guard !== undefined && { guard: t.guard }),
    targets: t.targets,
    rfc: t.rfc ?? '',
  };
}

const SECTIONS: readonly { kind: RowKind; heading: string }[] = [
  { kind: 'feature', heading: 'Features (RFC 6120 §15)' },
  { kind: 'stream-error', heading: 'Stream error conditions (§4.9.3)' },
  { kind: 'sasl-failure', heading: 'SASL failure conditions (§6.5)' },
  { kind: 'stanza-error', heading: 'Stanza error conditions (§8.3.3)' },
];

/** The report as Markdown. Depends only on its input: no dates, no absolute paths. */
export function renderReport(data: ConformanceData): string {
  const out: string[] = [];
  const machineNames = data.machines.map((m) => `\`${m.name}\` (${m.role})`).join(', ');
  out.push(
    '# RFC 6120 conformance report',
    '',
    '<!-- Generated by `npm run docs` (xmppkit report). Do not edit: change the machines, tests or runtime and regenerate. -->',
    '',
    `Rows: the features of RFC 6120 §15 as listed in \`spec/rfc6120.txt\`, and the error conditions of \`machines/conditions.ts\`.`,
    `Machines: ${machineNames || 'none loaded'}. A row's section is cited when a transition's \`meta.rfc\`, a test title`,
    '(`describe`/`it`/`test` under `test/`) or a comment in `runtime/` names it or one of its subsections.',
    '',
    '| status | meaning |',
    '|---|---|',
    '| implemented+tested | a transition of that end\'s machine and a test cite the section |',
    '| implemented | a transition cites it, no test does |',
    '| runtime | no transition, but runtime code for that end cites it |',
    '| missing | nothing cites it |',
    '| n/a | §15 does not ask it of that end |',
    '',
    'What the model-based tests (`xmppkit mbt`) drive against a server over real sockets is listed in',
    '[MBT-PLAN.md](MBT-PLAN.md); their test titles in `test/mbt/` count as tests here.',
    '',
    '## Totals',
    '',
    '| rows | count | with transitions | with tests | with neither |',
    '|---|---:|---:|---:|---:|',
  );
  const groups = SECTIONS.map(({ kind, heading }) => ({ name: heading.replace(/ \(.*\)$/, ''), rows: data.rows.filter((r) => r.kind === kind) }));
  for (const { name, rows } of groups) {
    const count = (f: (r: CoveredRow) => boolean): number => rows.filter(f).length;
    out.push(
      `| ${name} | ${rows.length} | ${count((r) => r.transitions.length > 0)} | ${count((r) => r.tests.length > 0)} | ${count((r) => r.transitions.length === 0 && r.tests.length === 0)} |`,
    );
  }
  out.push('', `| rows | end |${STATUSES.map((s) => ` ${s} |`).join('')}`, `|---|---|${STATUSES.map(() => '---:|').join('')}`);
  for (const { name, rows } of groups) {
    for (const role of ROLES) {
      out.push(`| ${name} | ${role} |${STATUSES.map((s) => ` ${rows.filter((r) => r.status[role] === s).length} |`).join('')}`);
    }
  }
  for (const { kind, heading } of SECTIONS) {
    const rows = data.rows.filter((r) => r.kind === kind);
    out.push('', `## ${heading}`, '');
    if (kind === 'feature') {
      out.push('| feature | what | § | C | client | S | server | transitions C/S | tests | runtime files |', '|---|---|---|---|---|---|---|---:|---:|---:|');
      for (const r of rows) {
        out.push(
          `| [${r.name}](#${anchor(r)}) | ${cell(r.what)} | ${r.section} | ${r.client} | ${r.status.client} | ${r.server} | ${r.status.server} | ${countsByRole(r)} | ${r.tests.length} | ${r.runtime.length} |`,
        );
      }
    } else {
      out.push('| condition | § | client | server | transitions C/S | tests | runtime files |', '|---|---|---|---|---:|---:|---:|');
      for (const r of rows) {
        out.push(
          `| [${r.name}](#${anchor(r)}) | ${r.section} | ${r.status.client} | ${r.status.server} | ${countsByRole(r)} | ${r.tests.length} | ${r.runtime.length} |`,
        );
      }
    }
  }
  out.push('', '## Details', '', 'Rows that nothing cites are listed in the tables above only.');
  for (const r of data.rows) {
    if (r.transitions.length === 0 && r.tests.length === 0 && r.runtime.length === 0) continue;
    out.push('', `<a id="${anchor(r)}"></a>`, `### ${r.name} (§${r.section})`, '');
    for (const t of [...r.transitions].sort(byCitation)) {
      const to = t.targets.length === 0 ? '(stays)' : t.targets.join(', ');
      const label = edgeLabel({ event: t.event, ...(t.guard !== undefined && { guard: t.guard }), rfc: t.rfc } as TransitionInfo);
      out.push(`- ${t.machine}: \`${t.state}\` → \`${to}\` on ${cell(label)}`);
    }
    for (const t of r.tests) out.push(`- test: \`${t.file}\` › ${cell(t.title)}`);
    for (const f of r.runtime) out.push(`- runtime: \`${f}\``);
  }
  return `${out.join('\n')}\n`;
}

function countsByRole(r: CoveredRow): string {
  return ROLES.map((role) => r.transitions.filter((t) => t.role === role).length).join('/');
}

/** Most specific citation first, then machine and state order as found. */
function byCitation(a: TransitionRef, b: TransitionRef): number {
  const sa = rfc6120Sections(a.rfc)[0] ?? '';
  const sb = rfc6120Sections(b.rfc)[0] ?? '';
  return compareSections(sa, sb);
}

export function anchor(r: ConformanceRow): string {
  return `${r.kind}-${r.name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

/** Text safe inside a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
