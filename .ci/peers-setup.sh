#!/usr/bin/env bash
# Install (when missing) and start the loopback Postfix + Dovecot harness for the peer tests.
# Stop it afterwards with: python3 tests/peers/mta.py stop
set -euo pipefail

cd "$(dirname "$0")/.."
run_dir="${SMTPSCOPE_PEER_RUN_DIR:-tests/peers/run}"

show_logs() {
    for log in "$run_dir/log/postfix.log" "$run_dir/log/dovecot.log" "$run_dir/log/launch.out"; do
        if [[ -f "$log" ]]; then
            echo "----- $log (last 60 lines) -----" >&2
            tail -n 60 "$log" >&2
        fi
    done
}

started=$SECONDS
if ! python3 tests/peers/mta.py install; then
    echo "peers-setup: installing postfix/dovecot failed" >&2
    exit 1
fi
if ! python3 tests/peers/mta.py start; then
    echo "peers-setup: starting the harness failed" >&2
    show_logs
    exit 1
fi
python3 tests/peers/mta.py status
echo "peers-setup: harness ready in $((SECONDS - started))s"
