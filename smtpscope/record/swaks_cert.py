"""A certificate as swaks shows it: OpenSSL's renderings and checks, redone on the recorded PEM.

swaks prints what OpenSSL (through Net::SSLeay) makes of each certificate: the subject as
``X509_NAME_oneline`` writes it, the first commonName's bytes, the subjectAltNames, notAfter in
ISO form, and whether ``X509_check_host`` (or ``X509_check_ip_asc``) accepts the name it
verifies. A recording keeps each certificate's PEM, so these are computed from the certificate
itself with ``cryptography``, following OpenSSL 3's rules (``crypto/x509/x509_obj.c`` and
``v3_utl.c``), and never from smtpscope's own RFC 4514 text.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from smtpscope.sanitize import visible

if TYPE_CHECKING:
    from datetime import datetime

    from cryptography import x509

# How cryptography decoded a string type, to get the value's content octets back.
_ENCODINGS = {"BMPString": "utf-16-be", "UniversalString": "utf-32-be", "T61String": "latin-1"}
# What swaks verifies as an IP address (a colon, or four dotted numbers): the rest as a name.
_SWAKS_IP = re.compile(r":|^\d+\.\d+\.\d+\.\d+$")
# X509_verify_cert_error_string() of the checks whose outcome the recording types.
_VERIFY_ERRORS = {"expired": "certificate has expired",
                  "not-yet-valid": "certificate is not yet valid"}


def load(pem: Any) -> x509.Certificate | None:
    """The certificate of a recorded PEM; None when there is none or it does not parse."""
    if not isinstance(pem, str) or not pem:
        return None
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii", "replace"))
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _short_name(dotted: str) -> str:
    """OpenSSL's name for an OID (``OBJ_nid2sn``/``i2t_ASN1_OBJECT``), asked of the OpenSSL
    ``ssl`` is linked with; the dotted form for an OID OpenSSL does not know."""
    import ssl

    try:
        found = ssl._ASN1Object(dotted)  # private, but how ssl itself names objects
    except ValueError:
        return dotted
    return str(found.shortname)


def _octets(attribute: x509.NameAttribute[Any]) -> bytes:
    """The content octets of a name attribute's value, as OpenSSL holds them."""
    value = attribute.value
    if isinstance(value, bytes):
        return value
    kind = getattr(getattr(attribute, "_type", None), "name", "")
    return str(value).encode(_ENCODINGS.get(kind, "utf-8"), "surrogatepass")


def oneline(name: x509.Name) -> str:
    """``X509_NAME_oneline``: ``/C=US/O=Example/CN=mx``, in DER order, ``+`` inside an RDN.

    Bytes outside printable ASCII become ``\\xHH`` (each byte of UTF-8, and the NULs of a
    BMPString), ``/`` and ``+`` in values get a backslash; nothing else is escaped.
    """
    out = []
    for rdn in name.rdns:
        for index, attribute in enumerate(rdn):
            out.append("+" if index else "/")
            out.append(_short_name(attribute.oid.dotted_string) + "=")
            for byte in _octets(attribute):
                char = chr(byte)
                if byte < 0x20 or byte > 0x7E:
                    out.append(f"\\x{byte:02X}")
                else:
                    out.append("\\" + char if char in "/+" else char)
    return "".join(out)


def common_name(name: x509.Name) -> bytes:
    """``X509_NAME_get_text_by_NID(name, commonName)``: the first commonName's octets, b""
    when the name has none."""
    from cryptography.x509.oid import NameOID

    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return _octets(found[0]) if found else b""


def _general_name(name: Any) -> str:
    """One subjectAltName entry as swaks prints it, made visible (it is the peer's text)."""
    from cryptography import x509

    address = name.value if isinstance(name, x509.IPAddress) else None
    if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        return "IP Address:" + socket.inet_ntop(family, address.packed)  # as Perl's Socket
    if isinstance(name, x509.DirectoryName):  # oneline() escapes; its backslashes are its own
        return "DirName:" + visible(oneline(name.value), keep_backslashes=True)
    from smtpscope.transport.x509 import general_name

    return visible(general_name(name))


def alt_names(cert: x509.Certificate) -> str:
    """swaks' ``getSanString``: the subjectAltNames in OpenSSL's labels, comma-separated, made
    visible."""
    from cryptography import x509

    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ""
    return ", ".join(_general_name(name) for name in names)


def not_after(cert: x509.Certificate) -> str:
    """``P_ASN1_TIME_get_isotime`` of notAfter: ``2030-01-01T00:00:00Z``."""
    return iso_z(cert.not_valid_after_utc)


def iso_z(moment: datetime) -> str:
    """An aware time in swaks' form, UTC with ``Z``: ``2030-01-01T00:00:00Z``."""
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def host_verified(cert: x509.Certificate, host: str) -> bool:
    """What swaks' host verification says: ``X509_check_ip_asc`` for what it takes for an IP
    literal, else ``X509_check_host`` with no flags (DNS names of the SAN, the subject's
    commonNames only when the SAN has none; one wildcard, partial ones allowed)."""
    from cryptography import x509

    try:
        san = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (x509.ExtensionNotFound, ValueError):
        san = []
    if _SWAKS_IP.search(host):
        try:
            wanted = ipaddress.ip_address(host)
        except ValueError:
            return False  # OpenSSL cannot read it as an address either
        return any(isinstance(n, x509.IPAddress) and n.value == wanted for n in san)
    dns = [n.value.encode("utf-8") for n in san if isinstance(n, x509.DNSName)]
    if not dns:
        from cryptography.x509.oid import NameOID

        dns = [str(a.value).encode("utf-8", "surrogatepass")  # ASN1_STRING_to_UTF8
               for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(_name_matches(pattern, host.encode("utf-8", "surrogateescape"))
               for pattern in dns)


def _name_matches(pattern: bytes, host: bytes) -> bool:
    """OpenSSL's ``equal_wildcard``: a valid wildcard matches letters, digits and hyphens
    within one label (no A-label unless the star is the whole first label); otherwise the
    names are equal but for the case of ASCII letters."""
    star = -1 if host.startswith(b".") and len(host) > 1 else _valid_star(pattern)
    if star < 0:
        return b"\0" not in pattern and pattern.lower() == host.lower()
    prefix, suffix, subject = pattern[:star].lower(), pattern[star + 1:].lower(), host.lower()
    if len(subject) < len(prefix) + len(suffix) or not subject.startswith(prefix) \
            or not subject.endswith(suffix):
        return False
    middle = subject[len(prefix):len(subject) - len(suffix)]
    whole_label = not prefix and suffix.startswith(b".")
    if (whole_label and not middle) or (not whole_label and subject.startswith(b"xn--")):
        return False
    return middle == b"*" or re.fullmatch(rb"[a-z0-9-]*", middle) is not None


def _valid_star(pattern: bytes) -> int:
    """OpenSSL's ``valid_star``: where the one ``*`` of a usable wildcard pattern is (at the
    start or end of a first label that is no A-label, two labels after it), or -1."""
    star, start, hyphen, idna, dots = -1, True, False, False, 0
    for i, byte in enumerate(pattern):
        char = chr(byte)
        if char == "*":
            at_end = i == len(pattern) - 1 or pattern[i + 1:i + 2] == b"."
            if star >= 0 or idna or dots or not (start or at_end):
                return -1
            star, start = i, False
        elif char.isascii() and char.isalnum():
            idna = idna or (start and pattern[i:i + 4].lower() == b"xn--")
            start = hyphen = False
        elif char == "." and not (start or hyphen):
            start, hyphen, idna, dots = True, False, False, dots + 1
        elif char == "-" and not start:
            hyphen = True
        else:
            return -1
    return -1 if start or hyphen or dots < 2 else star


def ca_failure(reason_code: Any, chain: list[x509.Certificate]) -> str | None:
    """``X509_verify_cert_error_string`` for a chain the recording says did not verify, when
    its typed reason tells which OpenSSL would give; None when it does not.

    The recorded check looks at the dates before the chain, OpenSSL at the chain first: an
    expired certificate from an unknown CA reads "certificate has expired" here, where swaks
    would say it cannot find the issuer.
    """
    if not isinstance(reason_code, str):
        return None  # a damaged recording: nothing typed to go by
    if reason_code in _VERIFY_ERRORS:
        return _VERIFY_ERRORS[reason_code]
    if reason_code not in ("self-signed", "unknown-ca", "no-trust-anchors") or not chain:
        return None
    top = chain[-1]
    if top.issuer != top.subject:
        return "unable to get local issuer certificate"
    return "self-signed certificate" if len(chain) == 1 else \
        "self-signed certificate in certificate chain"


# ERR_lib_error_string() of the libraries a handshake reports from (OpenSSL 3's ERR_str_libraries).
_LIBRARIES = {"SSL": "SSL routines", "X509": "x509 certificate routines", "SYS": "system library",
              "ASN1": "asn1 encoding routines", "PEM": "PEM routines", "BIO": "BIO routines",
              "EVP": "digital envelope routines", "X509V3": "X509 V3 routines"}


def error_string(library: str, reason: str) -> str:
    """``ERR_error_string`` as OpenSSL 3 writes it (``error:0A00010B:SSL routines::wrong version
    number``) for an error known by its library and reason mnemonics, as ssl gives them.

    The packed code comes from the tables ssl holds for the OpenSSL it is linked with (the
    library number shifted by 23 bits, OpenSSL 3's ``ERR_PACK``); the reason's text is its
    mnemonic in lower case with spaces, as OpenSSL's reason strings are written.
    """
    import ssl

    libraries = getattr(ssl._ssl, "lib_codes_to_names", {})  # type: ignore[attr-defined]
    reasons = getattr(ssl._ssl, "err_codes_to_names", {})  # type: ignore[attr-defined]
    number = next((code for code, name in libraries.items() if name == library), None)
    packed = next(((lib << 23) | code for (lib, code), name in reasons.items()
                   if lib == number and name == reason), None)
    code = "" if packed is None else f"{packed:08X}:"
    label = _LIBRARIES.get(library, f"lib({number})" if number is not None else library)
    return f"error:{code}{label}::{reason.lower().replace('_', ' ')}"
