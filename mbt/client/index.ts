/**
 * Model-based conformance testing of a client against the initiating-entity machine
 * (RFC 6120 §4-§8): our side is a scripted server following paths of the client model,
 * the client under test is launched at it, and everything it writes is checked against the
 * model. `runClientMbt` is what `xmppkit mbt --client` and the tests call.
 */
import { buildReport, type MbtReport } from '../report.js';
import { makeServerCredentials } from './credentials.js';
import { runClientProfile, type ClientRunOptions, type ClientUnderTest } from './run.js';

export async function runClientMbt(client: ClientUnderTest, opts: ClientRunOptions = {}): Promise<MbtReport> {
  const creds = makeServerCredentials(client.account.domain);
  try {
    const { plan, result } = await runClientProfile(client, creds, opts);
    return buildReport(`client ${client.name} (${client.command})`, [plan], [result]);
  } finally {
    creds.dispose();
  }
}

export { runClientProfile, type ClientUnderTest, type ClientRunOptions, type ServerCredentials } from './run.js';
export { planClientPaths, classifyClientTransition, enabledServerActions, type ClientPathPlan } from './paths.js';
export { ClientModel, type ClientModelPolicy } from './model.js';
export { describeServerAction, type ServerAction } from './actions.js';
export { substitute, PLACEHOLDERS } from './launch.js';
