import { describe, expect, it } from 'vitest';
import { authoritativeVerify } from '../../../machines/dialback/authoritative.js';
import { parseVerify, verifyAnswer, verifyError } from '../../../machines/dialback/elements.js';
import { DialbackSecret } from '../../../machines/dialback/key.js';
import type { DbVerifyRequest } from '../../../machines/dialback/types.js';
import { dialbackExamples, trimmed } from './xep.js';

/** XEP-0220 §2: montague.example's secret; §2.2.2 has montague as the Authoritative Server. */
const MONTAGUE = new DialbackSecret('d14lb4ck43v3r');
const secretFor = (domain: string) => (domain === 'montague.example' ? MONTAGUE : undefined);

function example(captionStart: string) {
  return dialbackExamples().find((x) => x.caption.startsWith(captionStart))!.element;
}

function exampleRequest(): DbVerifyRequest {
  const p = parseVerify(example('Authoritative Server Receives Verification Request'));
  if (!p.ok || p.value.kind !== 'request') throw new Error('the XEP example is not a request');
  return p.value;
}

describe('authoritativeVerify: the Authoritative Server answers <db:verify/> (XEP-0220 §2.2.2)', () => {
  it("XEP-0220 §2.2.2: the XEP's request with montague's secret → exactly the XEP's type='valid' answer", () => {
    const a = authoritativeVerify(exampleRequest(), secretFor);
    expect(a.verdict).toBe('valid');
    expect(a.element).toEqual(trimmed(example('Authoritative Server Informs Receiving Server that Key is Valid')));
  });

  it("XEP-0220 §2.2.2: a forged key, another stream ID or another secret → exactly the XEP's type='invalid' answer", () => {
    const invalid = trimmed(example('Authoritative Server Informs Receiving Server that Key is Invalid'));
    const req = exampleRequest();
    const forged = { ...req, key: req.key.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    expect(authoritativeVerify(forged, secretFor)).toEqual({ verdict: 'invalid', element: invalid });
    // "doesn't know anything about the StreamID": the same key for another stream is not valid.
    expect(authoritativeVerify({ ...req, id: 'D60000229F' }, secretFor)).toEqual({
      verdict: 'invalid',
      element: verifyAnswer('montague.example', 'capulet.example', 'D60000229F', 'invalid'),
    });
    expect(authoritativeVerify(req, () => new DialbackSecret('not-montague')).verdict).toBe('invalid');
  });

  it("XEP-0220 §2.2.2, §2.5: a 'to' domain we are not authoritative for → exactly the XEP's item-not-found error, from that domain", () => {
    const req = exampleRequest();
    const a = authoritativeVerify(req, () => undefined);
    expect(a.verdict).toBe('item-not-found');
    expect(a.element).toEqual(trimmed(example('Authoritative Server Sends Dialback Error to Receiving Server')));
    expect(authoritativeVerify({ ...req, to: 'verona.example' }, secretFor).element).toEqual(
      verifyError('verona.example', 'capulet.example', '417GAF25', 'item-not-found'),
    );
  });
});
