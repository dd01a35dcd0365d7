#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: the real XMPP peers
# the interop tests talk to (Prosody, ejabberd, slixmpp, aioxmpp, go-sendxmpp, profanity driven
# in tmux), iproute2 and dnsmasq for the
# namespaced test network of the federation tests (peers/netns.ts), chromium for diagrams and the model page,
# openssl for certificate checks, and the npm dependencies (better-sqlite3 builds from source).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v prosody >/dev/null || need+=(prosody)
command -v ejabberdctl >/dev/null || need+=(ejabberd)
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null || need+=(python3-slixmpp)
/usr/bin/python3 -c 'import aioxmpp' 2>/dev/null || need+=(python3-aioxmpp)
command -v go-sendxmpp >/dev/null || need+=(go-sendxmpp)
command -v profanity >/dev/null || need+=(profanity)
command -v chromium >/dev/null || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)
command -v tmux >/dev/null || need+=(tmux)
command -v ip >/dev/null || need+=(iproute2)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing system packages: ${need[*]} (run as root or install them with apt-get)" >&2
    exit 1
  fi
  echo "setup: apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PUPPETEER_SKIP_DOWNLOAD=1
npm install --no-audit --no-fund
# Fail loudly when a peer is still missing: a skipped interop test would be a hidden failure.
missing=()
command -v prosody >/dev/null || missing+=(prosody)
command -v ejabberdctl >/dev/null || missing+=(ejabberd)
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null || missing+=(python3-slixmpp)
/usr/bin/python3 -c 'import aioxmpp' 2>/dev/null || missing+=(python3-aioxmpp)
command -v go-sendxmpp >/dev/null || missing+=(go-sendxmpp)
command -v profanity >/dev/null || missing+=(profanity)
command -v chromium >/dev/null || missing+=(chromium)
command -v tmux >/dev/null || missing+=(tmux)
command -v ip >/dev/null || missing+=(iproute2)
command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
[ -d node_modules/@xmpp/client ] || missing+=(@xmpp/client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: FAILED, still missing: ${missing[*]}" >&2
  exit 1
fi
echo "setup: peers present: $(dpkg-query -W -f='${Package} ${Version}, ' prosody ejabberd python3-slixmpp python3-aioxmpp go-sendxmpp profanity chromium tmux iproute2 dnsmasq-base)@xmpp/client $(node -p "require('./node_modules/@xmpp/client/package.json').version")"
