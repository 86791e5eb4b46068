#!/usr/bin/env bash
# Install NSD (Debian package) and start the loopback test DNS server used by tests marked "dns".
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tests/peers/dns.py install
python3 tests/peers/dns.py start
