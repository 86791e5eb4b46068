"""Every option key a config file may hold for some command (normalised as
``defaults._norm`` makes them), so that a key no command knows is reported as a typo rather
than skipped as another command's. tests/cli/test_config_keys.py keeps it equal to the
parsers'; importing them all here would cost a run some 50 ms."""

from __future__ import annotations

ALL_OPTIONS = frozenset({
    "add_header", "as", "attach", "attach_body", "attach_name", "attach_type", "auth",
    "auth_mechanisms", "auth_optional", "auth_optional_strict", "auth_user", "bcc", "bdat",
    "body", "cafile", "capath", "cc", "cert", "check_tls", "concurrency", "dane", "data",
    "data_timeout", "domain", "drop", "drop_after", "drop_after_send", "dsn_notify", "dsn_ret",
    "envid", "fail", "fail_seed", "family", "faults", "file", "fmt", "format", "from",
    "from_addr", "full", "header", "helo", "host", "hostname", "html", "implicit_tls",
    "insecure", "install", "json", "jsonl", "key", "listen_any", "local_interface",
    "local_port", "maildir", "netrc", "netrc_file", "no_fetch", "no_progress", "no_record",
    "no_starttls", "no_tls", "no_trace", "output", "output_file", "password_env", "pipe",
    "pipeline", "port", "protocol", "proxy", "proxy_dest", "proxy_dest_port", "proxy_source",
    "proxy_source_port", "quit", "quit_after", "reconnect", "record", "record_dir",
    "require_auth", "require_tls", "resolver", "shard", "shell", "show_certs",
    "show_time_lapse", "silent", "size", "smtputf8", "sni", "subject", "suppress_data",
    "target", "targets", "targets_file", "timeout", "timestamps", "tls", "tls_cert",
    "tls_ciphers", "tls_fingerprint", "tls_key", "tls_level", "tls_max", "tls_min",
    "tls_on_connect", "tls_optional", "tls_port", "to", "user", "users", "users_file",
    "verify_name", "xclient"
})
