/**
 * Behaviours every server must show, whatever else it does differently from our model:
 * - a wrong password gets `<failure><not-authorized/></failure>` (RFC 6120 §6.5.10);
 * - a stanza before authentication is never delivered: a stream error, or an error back
 *   to the sender (§4.3.5, §7.1);
 * - a closing tag from the client is answered with the server's own (§4.4).
 * Each list holds what the server wrote in the step that shows the behaviour.
 */
import type { MbtReport } from '../../mbt/report.js';

export interface Pinned {
  readonly wrongPassword: string[];
  readonly stanzaBeforeAuth: string[];
  readonly closeAnswered: string[];
}

export function pinnedBehaviours(report: MbtReport): Pinned {
  const out: Pinned = { wrongPassword: [], stanzaBeforeAuth: [], closeAnswered: [] };
  for (const profile of report.profiles) {
    for (const path of profile.paths) {
      path.steps.forEach((step, i) => {
        const received = step.received.join(' ');
        const before = path.steps.slice(0, i).map((s) => s.action);
        if (step.action === 'authPlain(wrong)' || step.action === 'response(wrong proof)') {
          // The first failure of the exchange; later attempts may also end the stream (§6.4.5).
          if (!before.some((a) => a.startsWith('auth') || a.startsWith('response'))) out.wrongPassword.push(received);
        }
        if (step.action === 'message' && before.includes('open') && !before.some((a) => a.startsWith('bind'))) out.stanzaBeforeAuth.push(received);
        if (step.action === 'close' && before.includes('open') && path.steps[i - 1]?.received.every((r) => !r.includes('stream:error'))) {
          out.closeAnswered.push(received);
        }
      });
    }
  }
  return out;
}
