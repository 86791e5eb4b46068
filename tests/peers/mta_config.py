"""File layout, certificates and Postfix/Dovecot configuration text for the peer harness."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
BASE_PORT = 2525
# Offsets from the plain smtpd port, so 2525 gives 2587/2465/2526/2527 and one override moves all.
PORT_OFFSETS = {"smtp": 0, "submission": 62, "smtps": -60, "small": 1, "strict": 2, "lmtp": 3}
# Session control: XCLIENT allowed from loopback, and a listener that wants a PROXY header.
PORT_OFFSETS.update({"xclient": 13, "proxy": 14})
# TLS trouble on purpose: a CA nobody trusts, a certificate for another name, and a listener
# that asks for a client certificate.
PORT_OFFSETS.update({"unknownca": 4, "wrongname": 5, "ccert": 6})
DOMAIN = "example.test"
MYHOSTNAME = "mx.example.test"
USERS = {"alice": "alice-secret-pw", "bob": "b0b-Pa55!"}
# Known to Dovecot's LMTP only, with a quota no message fits in: LMTP accepts her at RCPT and
# refuses her after the data (552 over quota), the per-recipient failure LMTP exists to report.
LMTP_FULL_USER = "carol"
SMALL_SIZE_LIMIT = 2000
DEFAULT_SIZE_LIMIT = 10240000
# Nobody connects from 127.0.0.2 by accident, so 127.0.0.1 stays an outsider that may not relay;
# a test can still bind its source address to 127.0.0.2 to be a trusted network client.
MYNETWORKS = "127.0.0.2/32"
CERT_DAYS = 30
# Bump when the certificates change shape, so a restart makes them again.
CERT_GENERATION = "2"
# The server certificate also names the host the generated DNS zone points MX records at.
DANE_MX = "mx.tls.test"
WRONG_NAME = "elsewhere.example.net"
# Postfix and Dovecot reach the socket by path; sun_path holds 108 bytes.
MAX_SOCKET_PATH = 100


def ports_for(base: int) -> dict[str, int]:
    ports = {name: base + off for name, off in PORT_OFFSETS.items()}
    bad = [p for p in ports.values() if not 1024 <= p <= 65535]
    if bad:
        raise SystemExit(f"[mta] base port {base} gives ports out of range: {bad}")
    return ports


@dataclass(frozen=True)
class Layout:
    """Every path the harness writes, all under one absolute run directory."""

    run_dir: Path

    @property
    def postfix_dir(self) -> Path:
        return self.run_dir / "etc" / "postfix"

    @property
    def main_cf(self) -> Path:
        return self.postfix_dir / "main.cf"

    @property
    def master_cf(self) -> Path:
        return self.postfix_dir / "master.cf"

    @property
    def queue_dir(self) -> Path:
        return self.run_dir / "spool"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "lib"

    @property
    def postfix_pid(self) -> Path:
        return self.queue_dir / "pid" / "master.pid"

    @property
    def mail_root(self) -> Path:
        return self.run_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def postfix_log(self) -> Path:
        return self.log_dir / "postfix.log"

    @property
    def dovecot_log(self) -> Path:
        return self.log_dir / "dovecot.log"

    @property
    def dovecot_conf(self) -> Path:
        return self.run_dir / "etc" / "dovecot.conf"

    @property
    def dovecot_passwd(self) -> Path:
        return self.run_dir / "etc" / "dovecot.passwd"

    @property
    def dovecot_base(self) -> Path:
        return self.run_dir / "dovecot"

    @property
    def dovecot_pid(self) -> Path:
        return self.dovecot_base / "master.pid"

    @property
    def auth_socket(self) -> Path:
        return self.dovecot_base / "auth-postfix"

    @property
    def lmtp_socket(self) -> Path:
        return self.dovecot_base / "lmtp"

    @property
    def tls_dir(self) -> Path:
        return self.run_dir / "tls"

    @property
    def ca_cert(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.tls_dir / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.tls_dir / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.tls_dir / "server.key"

    @property
    def state(self) -> Path:
        return self.run_dir / "mta.json"

    def tls_file(self, name: str) -> Path:
        """Extra TLS material: other_ca, stranger, wrongname and client (.pem and .key)."""
        return self.tls_dir / name


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"[mta] openssl {args[0]} failed: {result.stderr.strip()}")


def _cert_valid(cert: Path, ca: Path) -> bool:
    """Reuse existing certificates across restarts while they verify and stay valid a day."""
    if not (cert.exists() and ca.exists()):
        return False
    checks = (["x509", "-in", str(cert), "-noout", "-checkend", "86400"],
              ["verify", "-CAfile", str(ca), str(cert)])
    return all(subprocess.run(["openssl", *c], capture_output=True, check=False).returncode == 0
               for c in checks)


def _issue(lay: Layout, name: str, subject: str, ext: str, ca: tuple[Path, Path]) -> None:
    """A key and a certificate ``name``.pem/.key signed by ``ca`` (cert, key)."""
    csr, extfile = lay.tls_file(f"{name}.csr"), lay.tls_file(f"{name}.ext")
    extfile.write_text(ext)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
             "-keyout", str(lay.tls_file(f"{name}.key")), "-out", str(csr), "-subj", subject)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
             "-CAcreateserial", "-sha256", "-days", str(CERT_DAYS), "-extfile", str(extfile),
             "-out", str(lay.tls_file(f"{name}.pem")))
    csr.unlink(missing_ok=True)


def _make_ca(cert: Path, key: Path, subject: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", str(CERT_DAYS),
             "-keyout", str(key), "-out", str(cert), "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash")


_SERVER_EXT = ("basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=serverAuth\n"
               "subjectAltName={san}\n"
               "subjectKeyIdentifier=hash\n"
               "authorityKeyIdentifier=keyid,issuer\n")


def make_certs(lay: Layout) -> None:
    lay.tls_dir.mkdir(parents=True, exist_ok=True)
    generation = lay.tls_file("generation")
    current = generation.exists() and generation.read_text().strip() == CERT_GENERATION
    if current and _cert_valid(lay.server_cert, lay.ca_cert) and lay.server_key.exists():
        return
    _make_ca(lay.ca_cert, lay.ca_key, "/O=smtpscope test harness/CN=smtpscope throwaway CA")
    ca = (lay.ca_cert, lay.ca_key)
    san = f"DNS:localhost,DNS:{MYHOSTNAME},DNS:{DANE_MX},IP:127.0.0.1,IP:::1"
    _issue(lay, "server", "/O=smtpscope test harness/CN=localhost",
           _SERVER_EXT.format(san=san), ca)
    # The same names, from a CA no client trusts.
    other = (lay.tls_file("other_ca.pem"), lay.tls_file("other_ca.key"))
    _make_ca(*other, "/O=somebody else/CN=an unknown CA")
    _issue(lay, "stranger", "/O=somebody else/CN=localhost", _SERVER_EXT.format(san=san), other)
    # The harness CA, but a name the clients never connect to.
    _issue(lay, "wrongname", f"/O=smtpscope test harness/CN={WRONG_NAME}",
           _SERVER_EXT.format(san=f"DNS:{WRONG_NAME}"), ca)
    _issue(lay, "client", "/O=smtpscope test harness/CN=smtpscope test client",
           "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=clientAuth\n", ca)
    for key in lay.tls_dir.glob("*.key"):
        key.chmod(0o600)
    for cert in lay.tls_dir.glob("*.pem"):
        cert.chmod(0o644)
    generation.write_text(CERT_GENERATION + "\n")


def main_cf(lay: Layout, uid: int, gid: int) -> str:
    return f"""\
# Written by tests/peers/mta.py on every start; edits are lost.
compatibility_level = 3.6
queue_directory = {lay.queue_dir}
data_directory = {lay.data_dir}
# Debian keeps postfix-files and dynamicmaps.cf here; our config dir has neither.
meta_directory = /etc/postfix
maillog_file = {lay.postfix_log}
maillog_file_prefixes = {lay.log_dir}
myhostname = {MYHOSTNAME}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
inet_interfaces = {HOST}
inet_protocols = ipv4
mynetworks = {MYNETWORKS}
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtputf8_enable = yes
message_size_limit = {DEFAULT_SIZE_LIMIT}

# Nothing ever leaves this machine.
default_transport = error:mail leaves no test harness
relay_transport = error:mail leaves no test harness
local_transport = error:no local delivery in the test harness

virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {lay.mail_root}
virtual_mailbox_maps = texthash:{lay.postfix_dir}/vmailbox
virtual_alias_maps = texthash:{lay.postfix_dir}/valias
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_transport = virtual

smtpd_banner = $myhostname ESMTP Postfix (smtpscope test harness)
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_forbid_bare_newline = no
smtpd_forbid_bare_newline_exclusions = $mynetworks

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {lay.auth_socket}
smtpd_tls_auth_only = yes
smtpd_tls_security_level = may
smtpd_tls_cert_file = {lay.server_cert}
smtpd_tls_key_file = {lay.server_key}
smtpd_tls_session_cache_database =
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
"""


# type, private, unpriv, chroot, wakeup, maxproc, command. chroot is off everywhere: the queue
# directory is ours and has no copy of /etc inside.
_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
smallcleanup unix n     -       n       -       0       cleanup
  -o message_size_limit={small}
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def master_cf(ports: dict[str, int], lay: Layout) -> str:
    listeners = f"""\
# Optional STARTTLS; AUTH only after TLS (503 5.5.1 before it); bare LF tolerated.
{HOST}:{ports['smtp']} inet n - n - - smtpd
  -o syslog_name=postfix/smtp-{ports['smtp']}
# Submission: TLS required before anything else.
{HOST}:{ports['submission']} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
# Implicit TLS (SMTPS).
{HOST}:{ports['smtps']} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
# Cleartext, tiny size limit, no TLS and no AUTH: for oversize tests.
{HOST}:{ports['small']} inet n - n - - smtpd
  -o syslog_name=postfix/small
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
  -o message_size_limit={SMALL_SIZE_LIMIT}
  -o cleanup_service_name=smallcleanup
# Strict line endings: bare LF rejected, and not excused for any network.
{HOST}:{ports['strict']} inet n - n - - smtpd
  -o syslog_name=postfix/strict
  -o smtpd_forbid_bare_newline=yes
  -o smtpd_forbid_bare_newline_exclusions=
# A certificate from a CA nobody trusts (STARTTLS optional).
{HOST}:{ports['unknownca']} inet n - n - - smtpd
  -o syslog_name=postfix/unknownca
  -o smtpd_tls_cert_file={lay.tls_file('stranger.pem')}
  -o smtpd_tls_key_file={lay.tls_file('stranger.key')}
# The harness CA, but the certificate names only {WRONG_NAME}.
{HOST}:{ports['wrongname']} inet n - n - - smtpd
  -o syslog_name=postfix/wrongname
  -o smtpd_tls_cert_file={lay.tls_file('wrongname.pem')}
  -o smtpd_tls_key_file={lay.tls_file('wrongname.key')}
# Asks for a client certificate and names the verified one in the Received header.
{HOST}:{ports['ccert']} inet n - n - - smtpd
  -o syslog_name=postfix/ccert
  -o smtpd_tls_ask_ccert=yes
  -o smtpd_tls_CAfile={lay.ca_cert}
# XCLIENT (Postfix) from loopback: the client may claim another name and address.
{HOST}:{ports['xclient']} inet n - n - - smtpd
  -o syslog_name=postfix/xclient
  -o smtpd_authorized_xclient_hosts={HOST}
# HAProxy PROXY protocol (v1 and v2) before the banner; no reverse lookups of claimed clients.
{HOST}:{ports['proxy']} inet n - n - - smtpd
  -o syslog_name=postfix/proxy
  -o smtpd_upstream_proxy_protocol=haproxy
  -o smtpd_peername_lookup=no
"""
    return ("# Written by tests/peers/mta.py on every start; edits are lost.\n"
            + listeners + _SERVICES.format(small=SMALL_SIZE_LIMIT))


def dovecot_conf(lay: Layout, uid: int, gid: int, lmtp_port: int) -> str:
    return f"""\
# Written by tests/peers/mta.py on every start; edits are lost. SASL for Postfix, and LMTP
# (TCP and a UNIX socket) delivering into the same Maildirs as Postfix.
base_dir = {lay.dovecot_base}/
state_dir = {lay.dovecot_base}/state
instance_name = smtpscope-harness
protocols = lmtp
ssl = no
hostname = {MYHOSTNAME}
postmaster_address = postmaster@{DOMAIN}
mail_location = maildir:{lay.mail_root}/{DOMAIN}/%n
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_plugins = quota
# Quota is checked after the data, so LMTP answers each recipient there (RFC 2033 §4.2).
lmtp_rcpt_check_quota = no
plugin {{
  quota = maildir:User quota
}}
log_path = {lay.dovecot_log}
info_log_path = {lay.dovecot_log}
auth_verbose = yes
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
# Postfix tells Dovecot when the session is TLS; plaintext refusal is Postfix's job here.
disable_plaintext_auth = no
# Wrong-password tests should not slow the suite down.
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {lay.dovecot_passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {lay.dovecot_passwd}
  default_fields = uid={uid} gid={gid} home={lay.mail_root}/{DOMAIN}/%n
}}
service lmtp {{
  inet_listener lmtp {{
    address = {HOST}
    port = {lmtp_port}
  }}
  unix_listener {lay.lmtp_socket.name} {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener {lay.auth_socket.name} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
# Without this, a correct login after a failed one from 127.0.0.1 waits 10 s and more.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _chown(path: Path, user: str | int, group: str | int) -> None:
    uid = pwd.getpwnam(user).pw_uid if isinstance(user, str) else user
    gid = grp.getgrnam(group).gr_gid if isinstance(group, str) else group
    os.chown(path, uid, gid)


def _write_postfix_file(path: Path, text: str) -> None:
    """Write a file Postfix reads, dated a minute back.

    Postfix sleeps until a freshly modified main.cf or texthash file is over a second old
    (a guard against reading half-written files), which made every start 2.5 s slower.
    """
    path.write_text(text)
    past = time.time() - 60
    os.utime(path, (past, past))


def write_all(lay: Layout, ports: dict[str, int], uid: int, gid: int) -> None:
    """Create directories, certificates, maps, Maildirs and both configurations."""
    if len(str(lay.auth_socket)) > MAX_SOCKET_PATH:
        raise SystemExit(f"[mta] run dir path too long for a unix socket: {lay.auth_socket}; "
                         "use --run-dir or SMTPSCOPE_PEER_RUN_DIR with a shorter path")
    lay.run_dir.mkdir(parents=True, exist_ok=True)
    lay.run_dir.chmod(0o755)
    for d in (lay.postfix_dir, lay.queue_dir, lay.log_dir, lay.dovecot_base):
        d.mkdir(parents=True, exist_ok=True)
    lay.data_dir.mkdir(exist_ok=True)
    _chown(lay.data_dir, "postfix", "postfix")
    make_certs(lay)

    _write_postfix_file(lay.main_cf, main_cf(lay, uid, gid))
    _write_postfix_file(lay.master_cf, master_cf(ports, lay))
    _write_postfix_file(lay.postfix_dir / "vmailbox",
                        "".join(f"{u}@{DOMAIN} {DOMAIN}/{u}/\n" for u in USERS))
    # RFC 5321 wants a postmaster; bounces and notices land in alice's Maildir.
    _write_postfix_file(lay.postfix_dir / "valias", f"postmaster@{DOMAIN} alice@{DOMAIN}\n")

    lay.mail_root.mkdir(exist_ok=True)
    _chown(lay.mail_root, uid, gid)
    domain_dir = lay.mail_root / DOMAIN
    domain_dir.mkdir(exist_ok=True)
    _chown(domain_dir, uid, gid)
    for user in (*USERS, LMTP_FULL_USER):
        for sub in ("", "new", "cur", "tmp"):
            d = domain_dir / user / sub
            d.mkdir(exist_ok=True)
            _chown(d, uid, gid)
            d.chmod(0o700)

    lay.dovecot_conf.write_text(dovecot_conf(lay, uid, gid, ports["lmtp"]))
    # passwd-file lines: user:password:uid:gid:gecos:home:shell:extra (uid, gid and home come
    # from default_fields); the extra field gives carol a quota that nothing fits in.
    lines = [f"{u}:{{PLAIN}}{pw}::::::\n" for u, pw in USERS.items()]
    lines.append(f"{LMTP_FULL_USER}:{{PLAIN}}{LMTP_FULL_USER}-pw::::::"
                 "userdb_quota_rule=*:storage=1B\n")
    lay.dovecot_passwd.write_text("".join(lines))
    lay.dovecot_passwd.chmod(0o640)
    _chown(lay.dovecot_passwd, "root", "dovecot")
    # Dovecot refuses to start over a socket or state left by a killed instance.
    for stale in (lay.auth_socket, lay.lmtp_socket):
        stale.unlink(missing_ok=True)
    if (lay.dovecot_base / "state").exists():
        shutil.rmtree(lay.dovecot_base / "state")
