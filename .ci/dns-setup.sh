#!/usr/bin/env bash
# Install NSD and unbound (Debian packages) and start the loopback test DNS server used by tests
# marked "dns", with unbound validating the signed tls.test (NSEC) and nsec3.test (NSEC3) zones
# in front of it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tests/peers/dns.py install
python3 tests/peers/dns.py start
