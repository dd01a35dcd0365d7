#!/usr/bin/python3
"""Client under test for `xmppkit mbt --client` (test/mbt/clients.test.ts): one slixmpp client
(Debian python3-slixmpp) that requires STARTTLS (force_starttls), trusts only the CA file it
is given, logs in, stays online doing nothing, and exits when the stream ends. No reconnect.

usage: slixmpp_mbt_client.py HOST PORT JID PASSWORD CA_FILE
"""
import asyncio
import logging
import sys
from pathlib import Path

import slixmpp


async def main(host, port, jid, password, ca_file):
    xmpp = slixmpp.ClientXMPP(jid, password)
    xmpp.ca_certs = Path(ca_file)
    xmpp.register_plugin('xep_0199')  # answers the server's ping (XEP-0199 §4.2)
    ended = asyncio.get_event_loop().create_future()
    xmpp.add_event_handler('disconnected', lambda _e: ended.done() or ended.set_result(True))
    xmpp.add_event_handler('connection_failed', lambda _e: ended.done() or ended.set_result(True))
    xmpp.connect((host, int(port)), force_starttls=True)
    await ended


if __name__ == '__main__':
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(main(*sys.argv[1:6]), 60))
    except asyncio.TimeoutError:
        pass
    sys.exit(0)
