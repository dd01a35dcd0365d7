/**
 * docs/playground/index.html: the page skeleton and its style; playground.js (the bundle)
 * fills it. Plain HTML controls, so everything works with the keyboard (Tab, Enter, Space).
 */
import { FAULTS, FAULT_INFO } from './faults.js';
import { MECHANISMS } from './choices.js';

const options = (values: readonly string[]): string => values.map((v) => `<option value="${v}">${v}</option>`).join('');

const STYLE = `
:root { font: 15px/1.45 system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
body { margin: 0; }
header { padding: 10px 16px; background: #1d3557; color: #fff; display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; }
header h1 { font-size: 18px; margin: 0 12px 0 0; }
header a { color: #cfe3ff; }
button, select, input { font: inherit; }
button { padding: 5px 11px; border: 1px solid #8a99ad; border-radius: 5px; background: #fff; color: #1d232a; cursor: pointer; }
button:disabled { opacity: .45; cursor: default; }
button:focus-visible, select:focus-visible, input:focus-visible, summary:focus-visible, .frame:focus-visible { outline: 3px solid #f4a261; outline-offset: 2px; }
.controls { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
#clock { font-variant-numeric: tabular-nums; background: #ffffff22; padding: 3px 9px; border-radius: 5px; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; padding: 12px 16px; }
section { background: #fff; border: 1px solid #d5dbe3; border-radius: 7px; padding: 10px 12px; min-width: 0; }
section h2 { font-size: 15px; margin: 0 0 6px; }
.wide { grid-column: 1 / -1; }
fieldset { border: 1px solid #d5dbe3; border-radius: 6px; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 6px 16px; }
legend { font-weight: 600; }
label { white-space: nowrap; }
.frame { height: 430px; overflow: auto; border: 1px solid #e3e7ed; border-radius: 5px; background: #fff; }
.state-path { font-family: ui-monospace, monospace; font-size: 13px; margin: 4px 0; }
.views button[aria-pressed="true"] { background: #1d3557; color: #fff; }
g.node.pg-active rect, g.node.pg-active path, g.node.pg-active polygon { fill: #ffd166 !important; stroke: #e76f51 !important; stroke-width: 3px !important; }
g.node.pg-from rect, g.node.pg-from path, g.node.pg-from polygon { stroke: #457b9d !important; stroke-width: 3px !important; stroke-dasharray: 6 3; }
#wire { max-height: 520px; overflow: auto; font-family: ui-monospace, monospace; font-size: 13px; }
.seg { display: grid; grid-template-columns: 4.5em 1fr; gap: 2px 8px; border-bottom: 1px solid #eef0f3; padding: 3px 0; }
.seg.client button.xml { margin-right: 22%; background: #eef6ff; }
.seg.server button.xml { margin-left: 22%; background: #f2fbf2; }
.seg.injected button.xml { background: #ffe5e0; border-color: #e76f51; }
.seg.latest button.xml { box-shadow: 0 0 0 2px #f4a261; }
.seg .at { color: #66707c; text-align: right; }
button.xml { text-align: left; white-space: pre-wrap; word-break: break-all; font: inherit; width: calc(100% - 22%); padding: 4px 7px; }
.raw { grid-column: 2; white-space: pre-wrap; word-break: break-all; background: #f7f7f7; border: 1px dashed #aab; padding: 4px 7px; margin: 0; }
.who { font-weight: 600; font-family: system-ui, sans-serif; font-size: 12px; color: #44505c; }
.taken { border-left: 4px solid #457b9d; padding: 4px 10px; margin: 8px 0; background: #f8fafc; }
.taken.server { border-color: #2a9d8f; }
.taken code { font-size: 13px; }
.taken dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0; }
.taken dt { color: #66707c; }
.taken dd { margin: 0; }
blockquote { margin: 4px 0 8px; padding: 6px 10px; background: #fffbea; border-left: 3px solid #e9c46a; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12.5px; max-height: 260px; overflow: auto; }
#timers table { border-collapse: collapse; font-size: 13px; }
#timers td, #timers th { padding: 2px 10px 2px 0; text-align: left; }
#faults button { margin: 2px; }
.note { color: #55606b; font-size: 13px; }
#outcome { font-weight: 600; }
`;

export function pageHtml(): string {
  const faultButtons = FAULTS.map((f) => `<button type="button" data-fault="${f}" title="${FAULT_INFO[f].expect.replace(/</g, '&lt;').replace(/"/g, '&quot;')}">${FAULT_INFO[f].label}</button>`).join('\n        ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<title>XMPP playground: RFC 6120 client and server machines, step by step</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>XMPP playground</h1>
  <div class="controls" role="toolbar" aria-label="Run">
    <button type="button" id="step" aria-keyshortcuts="s">Step one event</button>
    <button type="button" id="next" aria-keyshortcuts="n">Run to next state</button>
    <button type="button" id="end" aria-keyshortcuts="e">Run to the end</button>
    <button type="button" id="undo" aria-keyshortcuts="u">Undo step</button>
    <button type="button" id="restart">Restart</button>
    <button type="button" id="share">Copy link to this run</button>
    <label>Load a simulator trace <input type="file" id="trace" accept=".json,application/json"></label>
  </div>
  <span id="clock" aria-live="polite">t = 0 ms, step 0</span>
  <span id="outcome" aria-live="polite"></span>
</header>
<main>
  <section class="wide" id="choices">
    <h2>Policies (apply restarts the run)</h2>
    <form id="policy">
      <fieldset><legend>Client: initiating entity</legend>
        <label>TLS (§5.3.1) <select name="clientTls">${options(['required', 'optional', 'never'])}</select></label>
        <label>Mechanism (§6.3.3) <select name="mechanism">${options(MECHANISMS)}</select></label>
        <label><input type="checkbox" name="initialResponse"> initial response (§6.4.2)</label>
        <label>Resource (§7.7; empty: server-generated, §7.6) <input name="resource" size="12"></label>
      </fieldset>
      <fieldset><legend>Server: receiving entity</legend>
        <label>TLS (§5.3.1) <select name="serverTls">${options(['required', 'optional', 'none'])}</select></label>
        ${MECHANISMS.map((m) => `<label><input type="checkbox" name="serverMechanism" value="${m}"> offer ${m}</label>`).join('\n        ')}
        <label>Auth attempts (§6.4.5) <input type="number" name="maxAuthAttempts" min="1" max="5" size="3"></label>
        <label>Seed <input type="number" name="seed" min="0" size="6"></label>
      </fieldset>
      <button type="submit" id="apply">Apply and restart</button>
    </form>
    <div id="faults" role="group" aria-label="Inject a fault now">
      <strong>Inject now:</strong>
        ${faultButtons}
    </div>
    <p class="note" id="mode"></p>
  </section>
  <section aria-labelledby="client-h">
    <h2 id="client-h">Client: initiating entity</h2>
    <div class="views" data-side="client"></div>
    <p class="state-path" id="client-state"></p>
    <div class="frame" id="client-diagram" tabindex="0" aria-label="client state diagram"></div>
  </section>
  <section aria-labelledby="server-h">
    <h2 id="server-h">Server: receiving entity</h2>
    <div class="views" data-side="server"></div>
    <p class="state-path" id="server-state"></p>
    <div class="frame" id="server-diagram" tabindex="0" aria-label="server state diagram"></div>
  </section>
  <section aria-labelledby="wire-h">
    <h2 id="wire-h">On the wire (client left, server right; click an element for its raw bytes)</h2>
    <div id="wire"></div>
  </section>
  <section aria-labelledby="taken-h">
    <h2 id="taken-h">Transitions of the last step</h2>
    <div id="taken"></div>
    <h2>Virtual time and pending timers</h2>
    <div id="timers"></div>
  </section>
</main>
<script src="playground.js"></script>
</body>
</html>
`;
}
