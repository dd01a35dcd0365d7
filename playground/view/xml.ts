/** XML as it crossed the link, indented for reading (the raw bytes stay one click away). */

const TOKEN = /<[^>]*>|[^<]+/g;

/**
 * One line per tag or text run, indented by depth. The stream header opens the stream and
 * stays open (§4.2), so it does not indent what follows it.
 */
export function prettyXml(text: string): string {
  if (/^\s+$/.test(text)) return '(whitespace keepalive, §4.6.1)';
  const out: string[] = [];
  let depth = 0;
  for (const [token] of text.matchAll(TOKEN)) {
    if (token.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      out.push('  '.repeat(depth) + token);
    } else if (token.startsWith('<')) {
      out.push('  '.repeat(depth) + token);
      const opens = !token.endsWith('/>') && !token.startsWith('<?') && !token.startsWith('<!') && !token.startsWith('<stream:stream');
      if (opens) depth++;
    } else if (token.trim() !== '') out.push('  '.repeat(depth) + token.trim());
  }
  // Text between an open and its close tag reads best on one line: <body>hello</body>.
  return out.join('\n').replace(/^( *)(<[^/!?][^>]*[^/]>)\n +([^<\n]+)\n +(<\/[^>]+>)$/gm, '$1$2$3$4');
}

/** The first element's name, for the one-line summary of a segment. */
export function summary(text: string): string {
  if (text === '</stream:stream>') return '</stream:stream>';
  if (/^\s+$/.test(text)) return 'whitespace';
  const names = [...text.matchAll(/<([\w:.-]+)/g)].map((m) => m[1]!).filter((n) => n !== 'xml');
  return names.length > 0 ? `<${names[0]}>${names.length > 1 ? ` +${names.length - 1}` : ''}` : JSON.stringify(text.slice(0, 20));
}

export function hexOf(bytes: Uint8Array): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) rows.push(Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' '));
  return rows.join('\n');
}
