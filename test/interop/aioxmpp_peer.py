#!/usr/bin/python3
"""Interop peer for test/interop/aioxmpp.test.ts (Debian python3-aioxmpp).

One aioxmpp client logs in over STARTTLS (the server's self-signed certificate pinned as
the only one trusted for the domain), with aioxmpp's standard roster service
(aioxmpp.RosterClient, which requests the roster right after binding: RFC 6121 §2.2;
aioxmpp used to disconnect when that request failed), waits for the initial roster, sends
one chat message to PEER and waits for one back, then disconnects cleanly.
JSON lines on stdout: {"online": JID}, then one object with what happened; logs on stderr.

usage: aioxmpp_peer.py PORT CA_FILE JID PASSWORD PEER
"""
import asyncio
import json
import logging
import sys

import aioxmpp
import aioxmpp.dispatcher
import aioxmpp.security_layer

TIMEOUT = 15


def pin_store(domain, ca_file):
    # PinType.CERTIFICATE stores the DER of whole certificates, base64: the PEM body.
    pem = open(ca_file).read()
    body = pem.split('-----BEGIN CERTIFICATE-----')[1].split('-----END CERTIFICATE-----')[0]
    return {domain: [''.join(body.split())]}


async def main(port, ca_file, jid_text, password, peer_text):
    jid = aioxmpp.JID.fromstr(jid_text)
    peer = aioxmpp.JID.fromstr(peer_text)
    security = aioxmpp.make_security_layer(
        password,
        pin_store=pin_store(jid.domain, ca_file),
        pin_type=aioxmpp.security_layer.PinType.CERTIFICATE,
    )
    client = aioxmpp.PresenceManagedClient(
        jid,
        security,
        override_peer=[('127.0.0.1', port, aioxmpp.connector.STARTTLSConnector())],
    )
    roster = client.summon(aioxmpp.RosterClient)
    initial_roster = asyncio.get_running_loop().create_future()
    roster.on_initial_roster_received.connect(lambda: initial_roster.done() or initial_roster.set_result(True))

    inbox = asyncio.Queue()
    messages = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
    messages.register_callback(aioxmpp.MessageType.CHAT, None, inbox.put_nowait)

    failures = []
    client.on_failure.connect(lambda exc: failures.append(f'failure: {exc!r}'))
    stopped = asyncio.get_running_loop().create_future()
    client.on_stopped.connect(lambda: stopped.done() or stopped.set_result(True))

    out = {}
    async with client.connected() as stream:
        print(json.dumps({'online': str(client.local_jid)}), flush=True)
        await asyncio.wait_for(initial_roster, TIMEOUT)
        out['roster_version'] = roster.version
        out['roster'] = sorted(
            [str(item.jid), item.name, item.subscription, sorted(item.groups)] for item in roster.items.values()
        )
        msg = aioxmpp.Message(to=peer, type_=aioxmpp.MessageType.CHAT)
        msg.body[None] = 'hello from aioxmpp'
        await stream.send(msg)
        reply = await asyncio.wait_for(inbox.get(), TIMEOUT)
        out['received'] = {'from': str(reply.from_), 'to': str(reply.to), 'body': reply.body.any()}
        out['jid'] = str(client.local_jid)
    await asyncio.wait_for(stopped, TIMEOUT)
    out['stopped'] = True
    out['failures'] = failures
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    port, ca_file, jid_text, password, peer_text = sys.argv[1:]
    asyncio.run(main(int(port), ca_file, jid_text, password, peer_text))
