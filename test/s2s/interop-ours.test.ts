/**
 * The interop cases of ./interop-scenario.ts with our own server as b.test: the baseline for
 * the Prosody and ejabberd runs (same network, same CA, same users and cases, same timings),
 * so a difference there is the peer's, not the harness's. No root, ip or dnsmasq → the suite
 * fails with the reason; it is never skipped.
 */
import { interopSuite } from './interop-scenario.js';
import { OUR_USERS, startOurServer } from './netns-fixture.js';

interopSuite({
  name: 'ours',
  async start({ net, ca, dir, peer }) {
    const b = await startOurServer(net, 'p', { domain: 'b.test', certificate: 'good', s2sPort: peer.s2s === undefined || peer.s2s === true || peer.s2s === false ? 5269 : peer.s2s.port ?? 5269, ca, dir });
    return {
      version: 'this tree',
      host: b.host,
      port: b.port,
      ca: ca.certPem,
      accounts: OUR_USERS,
      log: () => b.logs.slice(-60).map((r) => JSON.stringify(r)).join('\n'),
      stop: () => b.stop(),
    };
  },
});
