/** What the build embeds in the bundle: the quoted RFC sections and both machines' diagrams. */
import type { RfcSection } from './rfc-sections.js';

/** The per-compound-state diagrams of docs/diagrams/ the page switches between (see cli/generate-docs.ts diagramSpecs). */
export const VIEWS = ['overview', 'negotiating', 'established'] as const;
export type View = (typeof VIEWS)[number];

export interface PlaygroundData {
  readonly sections: Readonly<Record<string, RfcSection>>;
  readonly diagrams: Readonly<Record<'client' | 'server', Readonly<Record<string, string>>>>;
}
