/**
 * The behaviours of a client under test pinned by test/mbt/clients.test.ts, each what the
 * client wrote (summarised) in the step that shows it:
 * - clearAuth: features without STARTTLS while it requires TLS (RFC 6120 §5.3.1, §13.9.4);
 * - badSignature: `<success/>` with a wrong SCRAM server signature (RFC 5802 §5, RFC 6120 §6.4.6);
 * - badCertificate: a certificate it must not trust (§5.4.3.2, §13.7.2);
 * - streamError: the server's stream error and closing tag (§4.9.1.1, §4.4);
 * - closeAnswered: the server's closing tag (§4.4);
 * - tlsFailure: `<failure/>` after `<starttls/>` (§5.4.2.2).
 * A summary is the kinds of what arrived: 'auth', 'stream-error', 'close', 'eof', 'header', '-' (nothing).
 */
import type { MbtReport } from '../../mbt/report.js';

export interface ClientPinned {
  readonly clearAuth: string;
  readonly badSignature: string;
  readonly badCertificate: string;
  readonly streamError: string;
  readonly closeAnswered: string;
  readonly tlsFailure: string;
}

function summary(received: readonly string[]): string {
  if (received.length === 0) return '-';
  return received
    .map((r) => {
      if (r.startsWith('<stream:error')) return 'stream-error';
      if (r === '</stream:stream>') return 'close';
      if (r === '(TCP closed)') return 'eof';
      if (r.startsWith('<stream:stream')) return 'header';
      const m = /^<([a-z:]+)/.exec(r);
      return m ? m[1]! : r;
    })
    .join('+');
}

export function clientPinned(report: MbtReport): ClientPinned {
  const paths = report.profiles.flatMap((p) => p.paths);
  const at = (actions: string, step: string): string => {
    const path = paths.find((p) => p.actions.join(' → ') === actions);
    const s = path?.steps.find((x) => x.action === step);
    return s === undefined ? '(not played)' : summary(s.received);
  };
  return {
    clearAuth: at('header → featuresSasl(SCRAM-SHA-1)', 'featuresSasl(SCRAM-SHA-1)'),
    badSignature: at('header → featuresStarttls → proceed → tlsHandshake → header → featuresSasl(SCRAM-SHA-1) → challenge → success(wrong signature)', 'success(wrong signature)'),
    badCertificate: at('header → featuresStarttls → proceed → tlsBadCertificate', 'tlsBadCertificate'),
    streamError: at('header → streamError(system-shutdown)', 'streamError(system-shutdown)'),
    closeAnswered: at('header → close', 'close'),
    tlsFailure: at('header → featuresStarttls → tlsFailure', 'tlsFailure'),
  };
}
