/**
 * Writes docs/: the Mermaid sources and SVGs of every machine (docs/diagrams/), the
 * conformance report (docs/CONFORMANCE-REPORT.md) and the page (docs/index.html).
 * `expectedSources` is what the staleness test compares with the committed files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESCRIBE_OPTIONS, loadMachines, type LoadedMachine } from '../machines/introspect/catalog.js';
import { toMermaid, type MermaidOptions } from '../diagrams/mermaid.js';
import { describeMachine, type MachineModel } from '../machines/introspect/model.js';
import { renderPage, type PageMachine } from '../diagrams/page.js';
import { renderSvgs, sourceStamp, type RenderJob } from '../diagrams/render.js';
import { collectConformance, renderReport, type ConformanceData } from '../diagrams/report.js';
import { collectTestIndex, renderTestIndex, TEST_INDEX_FILE } from '../diagrams/test-index.js';
import { renderPlanDoc } from '../mbt/plan-doc.js';
import { SELF_PROFILES } from '../mbt/self.js';
import { writePlayground } from '../playground/build.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DOCS_DIR = join(PROJECT_ROOT, 'docs');
export const DIAGRAMS_DIR = join(DOCS_DIR, 'diagrams');
export const REPORT_FILE = join(DOCS_DIR, 'CONFORMANCE-REPORT.md');
export const PAGE_FILE = join(DOCS_DIR, 'index.html');
export const MBT_PLAN_FILE = join(DOCS_DIR, 'MBT-PLAN.md');

/** docs/MBT-PLAN.md: the model-based test plan under the self profiles (mbt). */
export function mbtPlanText(): string {
  return renderPlanDoc(SELF_PROFILES);
}

/**
 * Above this many transitions one diagram is a wall of arrows: the machine also gets an
 * overview (states down to OVERVIEW_DEPTH, deeper ones folded, one edge per pair of states)
 * and one diagram for each compound or parallel state that the overview folds.
 */
export const DENSE_TRANSITIONS = 45;
export const OVERVIEW_DEPTH = 2;

export interface DiagramSpec {
  /** File name without extension. */
  readonly stem: string;
  readonly title: string;
  readonly options: MermaidOptions;
}

export function diagramSpecs(m: LoadedMachine, model: MachineModel): DiagramSpec[] {
  const specs: DiagramSpec[] = [{ stem: m.name, title: m.title, options: {} }];
  if (model.transitions.length <= DENSE_TRANSITIONS) return specs;
  specs.push({ stem: `${m.name}.overview`, title: `${m.title}: overview`, options: { depth: OVERVIEW_DEPTH, merge: true } });
  for (const s of model.states) {
    const folded = s.path.split('.').length === OVERVIEW_DEPTH && (s.type === 'compound' || s.type === 'parallel');
    if (folded) specs.push({ stem: `${m.name}.${s.key}`, title: `${m.title}: ${s.path}`, options: { focus: s.path, merge: true } });
  }
  return specs;
}

export interface DiagramSource extends DiagramSpec {
  readonly machine: string;
  readonly mermaid: string;
}

export function diagramSources(machines: readonly LoadedMachine[]): DiagramSource[] {
  return machines.flatMap((m) => {
    const model = describeMachine(m.machine, DESCRIBE_OPTIONS);
    return diagramSpecs(m, model).map((spec) => ({
      ...spec,
      machine: m.name,
      mermaid: toMermaid(model, { ...spec.options, title: spec.title, layout: 'elk' }),
    }));
  });
}

/** Generated text files by path relative to the project root (SVGs and the page excluded: chromium output varies). */
export function expectedSources(machines: readonly LoadedMachine[], conformance: ConformanceData, diagramsDir = DIAGRAMS_DIR): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of diagramSources(machines)) files.set(rel(join(diagramsDir, `${d.stem}.mmd`)), d.mermaid);
  files.set(rel(REPORT_FILE), renderReport(conformance));
  files.set(rel(MBT_PLAN_FILE), mbtPlanText());
  return files;
}

export interface GenerateOptions {
  readonly machines?: readonly LoadedMachine[];
  /** Where .mmd / .svg go; the page goes to its parent folder. */
  readonly diagramsDir?: string;
  readonly svg?: boolean;
  /** Render every SVG even when its .mmd did not change. */
  readonly force?: boolean;
  /** Re-collect docs/test-titles.json with `vitest list` (about a minute); default true. */
  readonly testIndex?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * An SVG is up to date when it was rendered from the current .mmd: the renderer stamps the
 * source's hash into the SVG (see stampSource), so this holds across checkouts and clocks.
 */
export function svgUpToDate(mmdPath: string, svgPath: string): boolean {
  if (!existsSync(svgPath)) return false;
  const svg = readFileSync(svgPath, 'utf8');
  return svg.includes(sourceStamp(readFileSync(mmdPath, 'utf8')));
}


/** Writes the .mmd (and .svg) files and the page; removes diagrams of machines or states that are gone. */
export async function generateDiagrams(opts: GenerateOptions = {}): Promise<string[]> {
  const machines = opts.machines ?? (await loadMachines());
  const dir = resolve(opts.diagramsDir ?? DIAGRAMS_DIR);
  const log = opts.log ?? (() => {});
  await mkdir(dir, { recursive: true });
  const sources = diagramSources(machines);
  const keep = new Set(sources.flatMap((d) => [`${d.stem}.mmd`, `${d.stem}.svg`]));
  for (const name of readdirSync(dir)) {
    if ((name.endsWith('.mmd') || name.endsWith('.svg')) && !keep.has(name)) await rm(join(dir, name));
  }
  const written: string[] = [];
  const jobs: RenderJob[] = [];
  for (const d of sources) {
    const mmd = join(dir, `${d.stem}.mmd`);
    await writeFile(mmd, d.mermaid);
    written.push(mmd);
    log(`wrote ${rel(mmd)}`);
    if (opts.svg !== false) jobs.push({ mmd, svg: join(dir, `${d.stem}.svg`), svgId: `svg-${d.stem.replace(/[^A-Za-z0-9-]/g, '-')}` });
  }
  // Unchanged sources keep their SVG (chromium's output is not byte-stable across machines, and rendering is slow).
  const stale = opts.force ? jobs : jobs.filter((j) => !svgUpToDate(j.mmd, j.svg));
  await renderSvgs(stale);
  for (const j of jobs) {
    written.push(j.svg);
    log(`${stale.includes(j) ? 'wrote' : 'kept'} ${rel(j.svg)}`);
  }
  const page = await generatePage({ machines, diagramsDir: dir, sources });
  log(`wrote ${rel(page)}`);
  return [...written, page];
}

export async function generateReport(opts: GenerateOptions & { file?: string } = {}): Promise<string> {
  const machines = opts.machines ?? (await loadMachines());
  const file = opts.file ?? REPORT_FILE;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderReport(collectConformance({ root: PROJECT_ROOT, machines })));
  opts.log?.(`wrote ${rel(file)}`);
  return file;
}

async function generatePage(args: { machines: readonly LoadedMachine[]; diagramsDir: string; sources: readonly DiagramSource[] }): Promise<string> {
  const pageFile = join(dirname(args.diagramsDir), 'index.html');
  await writeFile(pageFile, pageText(args.machines, args.diagramsDir, args.sources));
  return pageFile;
}

/** The page as generated from the machines and the SVGs now in `diagramsDir` (what the staleness test compares). */
export function pageText(machines: readonly LoadedMachine[], diagramsDir = DIAGRAMS_DIR, sources: readonly DiagramSource[] = diagramSources(machines)): string {
  const pageFile = join(dirname(diagramsDir), 'index.html');
  const pageMachines: PageMachine[] = [];
  for (const m of machines) {
    const diagrams = [];
    for (const d of sources.filter((s) => s.machine === m.name)) {
      const svgPath = join(diagramsDir, `${d.stem}.svg`);
      const svg = existsSync(svgPath) ? readFileSync(svgPath, 'utf8') : undefined;
      diagrams.push({ title: d.title, href: relative(dirname(pageFile), svgPath).split('\\').join('/'), mermaid: d.mermaid, ...(svg !== undefined && { svg }) });
    }
    pageMachines.push({ name: m.name, title: m.title, role: m.role, model: describeMachine(m.machine, DESCRIBE_OPTIONS), diagrams });
  }
  return renderPage(pageMachines, collectConformance({ root: PROJECT_ROOT, machines }));
}

/** Everything: diagrams, SVGs, page and report. */
/** docs/test-titles.json: every test's expanded title, as the test runner collects them (diagrams/test-index.ts). */
export async function generateTestIndex(opts: GenerateOptions = {}): Promise<string> {
  const file = join(PROJECT_ROOT, TEST_INDEX_FILE);
  await writeFile(file, renderTestIndex(collectTestIndex(PROJECT_ROOT)));
  opts.log?.(`wrote ${TEST_INDEX_FILE}`);
  return file;
}

export async function generateDocs(opts: GenerateOptions = {}): Promise<string[]> {
  const machines = opts.machines ?? (await loadMachines());
  // The index first: the report and the page count the tests it lists.
  const files = opts.testIndex !== false ? [await generateTestIndex(opts)] : [];
  files.push(...(await generateDiagrams({ ...opts, machines })));
  // After the diagrams: the playground embeds their SVGs.
  files.push(...(await writePlayground(opts.log)));
  files.push(await generateReport({ ...opts, machines }));
  await writeFile(MBT_PLAN_FILE, mbtPlanText());
  opts.log?.(`wrote ${rel(MBT_PLAN_FILE)}`);
  files.push(MBT_PLAN_FILE);
  return files;
}

function rel(p: string): string {
  return relative(PROJECT_ROOT, p).split('\\').join('/');
}
