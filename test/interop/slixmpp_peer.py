#!/usr/bin/python3
"""Interop peer for test/interop/slixmpp.test.ts (Debian python3-slixmpp).

Two slixmpp clients log in to the server under test over STARTTLS with SCRAM (the server's
self-signed certificate is pinned as the only trusted CA), bind, exchange messages both
ways (full JID one way, bare JID the other), ping the server (XEP-0199), ask its
disco#info (XEP-0030), fetch the roster (RFC 6121 §2.2: empty for a new account), and disconnect cleanly. One JSON object on stdout says what
happened; everything else goes to stderr.

usage: slixmpp_peer.py PORT CA_FILE JID1 PASSWORD1 MECH1 JID2 PASSWORD2 MECH2
       slixmpp_peer.py cross PORT CA_FILE JID PASSWORD MECH PEER_FULL_JID   (see cross below)
"""
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

TIMEOUT = 15


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mech, ca_file):
        super().__init__(jid, password, sasl_mech=mech)
        self.ca_certs = Path(ca_file)  # pin the server's self-signed certificate
        self.register_plugin('xep_0030')
        self.register_plugin('xep_0199')
        self.started = asyncio.get_event_loop().create_future()
        self.ended = asyncio.get_event_loop().create_future()
        self.inbox = asyncio.Queue()
        self.failures = []
        self.add_event_handler('session_start', self._on_start)
        self.add_event_handler('message', lambda m: self.inbox.put_nowait(m))
        self.add_event_handler('disconnected', self._on_end)
        self.add_event_handler('failed_auth', lambda *_: self.failures.append('failed_auth'))
        self.add_event_handler('ssl_invalid_chain', lambda *_: self.failures.append('ssl_invalid_chain'))
        self.add_event_handler('stream_error', lambda e: self.failures.append('stream_error:' + e['condition']))

    def _on_start(self, _event):
        if not self.started.done():
            self.started.set_result(time.monotonic())

    def _on_end(self, _event):
        if not self.ended.done():
            self.ended.set_result(True)


async def main(argv):
    port, ca_file = int(argv[1]), argv[2]
    a = Peer(argv[3], argv[4], argv[5], ca_file)
    b = Peer(argv[6], argv[7], argv[8], ca_file)
    out = {'failures': []}
    t0 = time.monotonic()
    for peer in (a, b):
        peer.connect(('127.0.0.1', port), force_starttls=True)
    try:
        started = await asyncio.wait_for(asyncio.gather(a.started, b.started), TIMEOUT)
    except asyncio.TimeoutError:
        out['failures'] = ['login timed out'] + a.failures + b.failures
        print(json.dumps(out))
        return 1
    out['login_ms'] = [round((t - t0) * 1000, 1) for t in started]
    out['jids'] = [str(a.boundjid), str(b.boundjid)]
    out['tls'] = [p.transport.get_extra_info('ssl_object') is not None for p in (a, b)]
    for peer in (a, b):
        peer.send_presence()

    # a → b at b's full JID; b → a at a's bare JID (RFC 6120 §10.5.4, §10.5.3.2).
    a.send_message(mto=b.boundjid, mbody='hello from a', mtype='chat')
    got_b = await asyncio.wait_for(b.inbox.get(), TIMEOUT)
    b.send_message(mto=a.boundjid.bare, mbody='hello from b', mtype='chat')
    got_a = await asyncio.wait_for(a.inbox.get(), TIMEOUT)
    out['b_received'] = {'from': str(got_b['from']), 'to': str(got_b['to']), 'body': got_b['body']}
    out['a_received'] = {'from': str(got_a['from']), 'to': str(got_a['to']), 'body': got_a['body']}

    # XEP-0199 ping to the server.
    t = time.monotonic()
    await a.plugin['xep_0199'].ping(jid=a.boundjid.domain, timeout=TIMEOUT)
    out['ping_ms'] = round((time.monotonic() - t) * 1000, 1)

    # XEP-0030 disco#info of the server.
    info = await a.plugin['xep_0030'].get_info(jid=a.boundjid.domain, timeout=TIMEOUT)
    out['disco_identities'] = [list(i[:2]) for i in info['disco_info']['identities']]
    out['disco_features'] = sorted(info['disco_info']['features'])

    # RFC 6121 §2.2 roster get: the server answers with the (empty) roster.
    try:
        await b.get_roster(timeout=TIMEOUT)
        out['roster'] = 'result'
    except IqError as e:
        out['roster'] = 'error:' + e.iq['error']['condition']
    except IqTimeout:
        out['roster'] = 'timeout'

    for peer in (a, b):
        peer.disconnect()
    try:
        await asyncio.wait_for(asyncio.gather(a.ended, b.ended), TIMEOUT)
        out['disconnected'] = True
    except asyncio.TimeoutError:
        out['disconnected'] = False
    out['failures'] = a.failures + b.failures
    print(json.dumps(out))
    return 0


async def cross(argv):
    """cross PORT CA_FILE JID PASSWORD MECH PEER: talk to another implementation's client.

    Sends two messages to PEER (a full JID), expects each echoed back, sends 'quit' and
    disconnects. Prints one JSON object.
    """
    port, ca_file, peer_jid = int(argv[2]), argv[3], argv[7]
    me = Peer(argv[4], argv[5], argv[6], ca_file)
    out = {'failures': []}
    t0 = time.monotonic()
    me.connect(('127.0.0.1', port), force_starttls=True)
    try:
        started = await asyncio.wait_for(me.started, TIMEOUT)
    except asyncio.TimeoutError:
        out['failures'] = ['login timed out'] + me.failures
        print(json.dumps(out))
        return 1
    out['login_ms'] = round((started - t0) * 1000, 1)
    out['jid'] = str(me.boundjid)
    echoes = []
    for body in ('first <&> message', 'second'):
        me.send_message(mto=peer_jid, mbody=body, mtype='chat')
        reply = await asyncio.wait_for(me.inbox.get(), TIMEOUT)
        echoes.append({'from': str(reply['from']), 'to': str(reply['to']), 'body': reply['body']})
    out['echoes'] = echoes
    me.send_message(mto=peer_jid, mbody='quit', mtype='chat')
    me.disconnect()
    try:
        await asyncio.wait_for(me.ended, TIMEOUT)
        out['disconnected'] = True
    except asyncio.TimeoutError:
        out['disconnected'] = False
    out['failures'] = me.failures
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    entry = cross if sys.argv[1] == 'cross' else main
    code = loop.run_until_complete(entry(sys.argv))
    # slixmpp leaves its filter tasks pending after a disconnect; end them quietly.
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    sys.exit(code)
