"""Real-server test harness: Postfix + Dovecot on loopback, and the pytest plugin for it."""
