import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conditionRows, featureRows, type ConformanceRow } from '../../diagrams/conformance.js';
import { parseConformanceFeatures, RFC6120_FILE, section15Lines } from '../../diagrams/conformance-source.js';
import { commentTexts, testTitles, withGeneratedTitles } from '../../diagrams/coverage.js';
import { describeMachine } from '../../machines/introspect/model.js';
import { buildConformance, renderReport } from '../../diagrams/report.js';
import { citations, compareSections, rfc6120Sections, within } from '../../machines/introspect/sections.js';
import { fixtureMachine } from './fixture-machine.js';

const rfc6120 = readFileSync(RFC6120_FILE, 'utf8');

describe('section citations', () => {
  it('reads RFC 6120 sections, with a bare § belonging to the document named last', () => {
    expect(rfc6120Sections('6120 §4.4, §4.6.1')).toEqual(['4.4', '4.6.1']);
    expect(rfc6120Sections('RFC 6120 §6.4.5 closes the stream')).toEqual(['6.4.5']);
    expect(rfc6120Sections('§7.6')).toEqual(['7.6']);
    expect(rfc6120Sections('RFC 5802 §5.1 then §3')).toEqual([]);
    expect(rfc6120Sections('XEP-0199 §4.2')).toEqual([]);
    expect(citations('RFC 6125 §6.4 / RFC 6120 §13.7.2.1, §5')).toEqual([
      { doc: 'RFC 6125', section: '6.4' },
      { doc: 'RFC 6120', section: '13.7.2.1' },
      { doc: 'RFC 6120', section: '5' },
    ]);
  });

  it('reads appendix sections (RFC 6121 §A.2.1), so a bare § after them stays in that document', () => {
    expect(citations('6121 §A.2.1, §3.1.2')).toEqual([
      { doc: 'RFC 6121', section: 'A.2.1' },
      { doc: 'RFC 6121', section: '3.1.2' },
    ]);
    expect(rfc6120Sections('6121 §A.3, §3.4.2')).toEqual([]);
    expect(citations('§Appendix')).toEqual([]);
  });

  it('counts a subsection as within its section, and orders sections numerically', () => {
    expect(within('6.4.5', '6')).toBe(true);
    expect(within('6.4.5', '6.4.5')).toBe(true);
    expect(within('6.45', '6.4')).toBe(false);
    expect(within('4.9', '4.9.3.1')).toBe(false);
    expect(['4.10', '4.9.3', '4.9', '13.8'].sort(compareSections)).toEqual(['4.9', '4.9.3', '4.10', '13.8']);
  });
});

describe('rows', () => {
  it('parses every feature of RFC 6120 §15 from spec/rfc6120.txt, descriptions unwrapped across lines and pages', () => {
    const features = parseConformanceFeatures(rfc6120);
    // As many as the text has "Feature:" lines in §15, and no name twice.
    expect(features).toHaveLength(section15Lines(rfc6120).filter((l) => l.startsWith('   Feature:  ')).length);
    expect(features).toHaveLength(63);
    expect(new Set(features.map((f) => f.name)).size).toBe(features.length);
    expect(features[0]).toEqual({ name: 'bind-gen', description: 'Generate a random resource on demand.', section: '7.6', client: 'N/A', server: 'MUST' });
    // bind-restart's description wraps; stream-negotiation-complete's breaks after a hyphen ("voluntary-to-").
    expect(features.find((f) => f.name === 'bind-restart')!.description).toBe('Do not restart the stream after negotiation of resource binding.');
    expect(features.find((f) => f.name === 'stream-negotiation-complete')!.description).toMatch(/only voluntary-to-negotiate features\.$/);
    expect(features.find((f) => f.name === 'security-mti-both-plain')).toMatchObject({ section: '13.8', client: 'SHOULD', server: 'MAY' });
    expect(features.find((f) => f.name === 'stanza-kind-message')!.section).toBe('8.2.1');
    expect(features.at(-1)!.name).toBe('xml-wellformed-ns');
    for (const f of features) expect(f.description, f.name).not.toMatch(/\[Page|RFC 6120 {2}|\f| {2}/);
  });

  it('refuses a §15 whose feature does not parse, instead of dropping it', () => {
    const broken = rfc6120.replace('   Roles:  Client N/A, Server MUST.', '   Roles:  Client N/A; Server MUST');
    expect(() => parseConformanceFeatures(broken)).toThrow(/bind-gen has Roles/);
    expect(() => parseConformanceFeatures('no such section')).toThrow(/Conformance Requirements/);
  });

  it('turns the features into report rows: no final period, N/A as n/a', () => {
    const rows = featureRows();
    expect(rows.find((r) => r.name === 'bind-gen')).toEqual({
      kind: 'feature',
      name: 'bind-gen',
      what: 'Generate a random resource on demand',
      section: '7.6',
      client: 'n/a',
      server: 'MUST',
    });
    expect(rows.find((r) => r.name === 'tls-mtn')!.what).toMatch(/includes an empty <required\/> element$/);
  });

  it('has the 25 stream, 11 SASL and 22 stanza error conditions with their sections', () => {
    const rows = conditionRows();
    expect(rows.filter((r) => r.kind === 'stream-error')).toHaveLength(25);
    expect(rows.filter((r) => r.kind === 'sasl-failure')).toHaveLength(11);
    expect(rows.filter((r) => r.kind === 'stanza-error')).toHaveLength(22);
    expect(rows.find((r) => r.name === 'connection-timeout')!.section).toBe('4.9.3.4');
    expect(rows.find((r) => r.kind === 'sasl-failure' && r.name === 'temporary-auth-failure')!.section).toBe('6.5.11');
    expect(rows.find((r) => r.name === 'service-unavailable')!.section).toBe('8.3.3.19');
  });
});

describe('test titles and comments', () => {
  it('joins describe and test titles, including each/prop forms and templates', () => {
    const src = `
      describe('RFC 6120 §4.4 closing', () => {
        it('waits for the peer', () => { const s = '§9 in code is not a title'; });
        it.each([1, 2])('case %s cites §4.4.1', () => {});
        describe('nested', () => { test.prop([arb])('prop RFC 5802 §5', () => {}); });
      });
      it(\`template \${x} §7\`, () => {});`;
    expect(testTitles('t.test.ts', src)).toEqual([
      { file: 't.test.ts', title: 'RFC 6120 §4.4 closing › waits for the peer', sections: ['4.4'] },
      { file: 't.test.ts', title: 'RFC 6120 §4.4 closing › case %s cites §4.4.1', sections: ['4.4', '4.4.1'] },
      { file: 't.test.ts', title: 'RFC 6120 §4.4 closing › nested › prop RFC 5802 §5', sections: ['4.4'] },
      { file: 't.test.ts', title: 'template ${…} §7', sections: ['7'] },
    ]);
  });

  it('counts generated tests by the titles the runner expanded (docs/test-titles.json), literal ones as written now', () => {
    const scanned = testTitles('t.test.ts', `
      describe('SASL', () => {
        it('§6.4.2 literal', () => {});
        for (const c of CONDITIONS) it(\`RFC 6120 §\${section(c)} \${c}\`, () => {});
        it.each([1])('case %s', () => {});
      });`);
    const indexed = ['SASL > §6.4.2 literal', 'SASL > RFC 6120 §6.5.1 aborted', 'SASL > RFC 6120 §6.5.6 invalid-authzid', 'SASL > case 1'];
    expect(withGeneratedTitles('t.test.ts', scanned, indexed)).toEqual([
      { file: 't.test.ts', title: 'SASL › §6.4.2 literal', sections: ['6.4.2'] },
      { file: 't.test.ts', title: 'SASL › RFC 6120 §6.5.1 aborted', sections: ['6.5.1'] },
      { file: 't.test.ts', title: 'SASL › RFC 6120 §6.5.6 invalid-authzid', sections: ['6.5.6'] },
      { file: 't.test.ts', title: 'SASL › case 1', sections: [] },
    ]);
    // Without an index (a fresh checkout before `npm run docs`) the scanned titles stand as they are.
    expect(withGeneratedTitles('t.test.ts', scanned, [])).toEqual(scanned);
  });

  it('finds comments but not comment-like text in strings', () => {
    const src = `// a §1\nconst o = { a: 1, // b §2\n  /* c §3 */\n};\nconst s = "// not §4";\n/** d */ function f() {\n  // e\n}\n`;
    expect(commentTexts(src)).toEqual(['// a §1', '// b §2', '/* c §3 */', '/** d */', '// e']);
  });
});

describe('status rule', () => {
  const row = (name: string, section: string, client = 'MUST', server = 'MUST'): ConformanceRow => ({
    kind: 'feature',
    name,
    what: name,
    section,
    client,
    server,
  });
  // The fixture cites §4.2, §4.3.5, §4.4, §4.6.x, §5.4.x, §6.4.x, §6.5 and §8.2.3.
  const server = { name: 'fixture-server', role: 'server' as const, model: describeMachine(fixtureMachine) };
  const data = buildConformance(
    [row('closing', '4.4'), row('sasl', '6'), row('bind', '7'), row('routing', '10'), row('server-only', '4.6', 'n/a')],
    [server],
    [{ file: 'test/x.test.ts', title: 'RFC 6120 §4.4 close handshake', sections: ['4.4'] }],
    [{ file: 'runtime/server/router.ts', roles: ['server'], sections: ['10.1'] }, { file: 'runtime/xml/parser.ts', roles: ['client', 'server'], sections: ['7.1'] }],
  );
  const status = (name: string) => data.rows.find((r) => r.name === name)!.status;

  it('gives implemented+tested when a transition of that end and a test cite the section', () => {
    // Only a server machine is given: the client end has no transition and no runtime citing §4.4.
    expect(status('closing')).toEqual({ client: 'missing', server: 'implemented+tested' });
  });

  it('gives implemented when only a transition cites the section, counting subsections', () => {
    expect(status('sasl').server).toBe('implemented');
    expect(data.rows.find((r) => r.name === 'sasl')!.transitions.map((t) => t.rfc)).toEqual(
      expect.arrayContaining(['6120 §6.4.6', '6120 §6.4.5', '6120 §6.5']),
    );
  });

  it('gives runtime for the end whose runtime code cites it, missing for the other, n/a when not asked', () => {
    expect(status('routing')).toEqual({ client: 'missing', server: 'runtime' });
    expect(status('bind')).toEqual({ client: 'runtime', server: 'runtime' });
    expect(status('server-only').client).toBe('n/a');
    expect(status('server-only').server).toBe('implemented');
  });

  it('renders a deterministic report with totals, tables and details', () => {
    const text = renderReport(data);
    expect(renderReport(data)).toBe(text);
    expect(text).toContain('| Features | 5 | 3 | 1 | 2 |');
    expect(text).toContain('| [closing](#feature-closing) | closing | 4.4 | MUST | missing | MUST | implemented+tested | 0/');
    expect(text).toContain('- test: `test/x.test.ts` › RFC 6120 §4.4 close handshake');
    expect(text).toContain('- fixture-server: `closing` → `closed` on STREAM_CLOSE (§4.4)');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });
});
