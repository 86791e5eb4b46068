"""Read the display fields of an X.509 certificate from DER with the standard library only.

``ssl`` only decodes certificates it has verified, and the chain of an unverified (insecure)
connection is exactly what a debugger must show, so this is a small DER reader for the fields a
view needs. It never raises: a certificate it cannot read still yields a ``CertInfo`` with its
fingerprint and ``parse_error`` set.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

# Short names as OpenSSL and RFC 4514 print them.
_NAME_OIDS = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_SIG_OIDS = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
}
_CURVES = {
    "1.2.840.10045.3.1.7": "secp256r1",
    "1.3.132.0.34": "secp384r1",
    "1.3.132.0.35": "secp521r1",
}
_SAN_OID = "2.5.29.17"


@dataclass(frozen=True)
class CertInfo:
    """What a view shows about one certificate. Dates are ISO 8601 strings in UTC."""

    subject: str  # RFC 4514 one-liner, most specific first: "CN=mx.example,O=Example"
    issuer: str
    san: tuple[str, ...]  # "DNS:mx.example", "IP Address:192.0.2.1", "email:x@y", "URI:..."
    not_before: str
    not_after: str
    serial: str  # upper-case hex, no separators
    fingerprint_sha256: str  # lower-case hex of SHA-256 over the DER
    public_key: str = ""  # "RSA 2048", "EC secp256r1", "ED25519"
    signature_algorithm: str = ""
    parse_error: str | None = None

    @property
    def self_issued(self) -> bool:
        """Subject equals issuer (a root, or a self-signed server certificate)."""
        return self.subject == self.issuer and not self.parse_error

    def expired(self, now: datetime | None = None) -> bool:
        """True when ``now`` (default: the current time) is after ``not_after``."""
        if not self.not_after:
            return False
        moment = now or datetime.now(UTC)
        return moment > datetime.fromisoformat(self.not_after)


class _DERError(ValueError):
    pass


def _read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, start of value, end of value) for the element at ``pos``."""
    if pos + 2 > len(data):
        raise _DERError("truncated element")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _DERError("multi-byte tags are not used in certificates")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise _DERError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise _DERError("element runs past the end")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, vstart, vend = _read_tlv(data, pos)
        out.append((tag, vstart, vend))
        pos = vend
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise _DERError("empty OID")
    parts = [min(raw[0] // 40, 2)]
    parts.append(raw[0] - 40 * parts[0])
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", errors="replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", errors="replace")
    if tag == 0x14:  # T61String: in practice Latin-1
        return raw.decode("latin-1")
    if tag in (0x0C, 0x13, 0x16, 0x12, 0x1A):
        return raw.decode("utf-8", errors="replace")
    return "#" + raw.hex()  # not a string type: RFC 4514 hex form


def _escape_rdn_value(value: str) -> str:
    # RFC 4514 §2.4: escape the specials, a leading '#' or space, and a trailing space.
    out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and len(out) > 1:
        out = out[:-1] + "\\ "
    return out


def _name(data: bytes, start: int, end: int) -> str:
    rdns = []
    for _tag, set_start, set_end in _children(data, start, end):
        atoms = []
        for _t, seq_start, seq_end in _children(data, set_start, set_end):
            (_otag, os_, oe), (vtag, vs, ve) = _children(data, seq_start, seq_end)[:2]
            oid = _oid(data[os_:oe])
            key = _NAME_OIDS.get(oid, oid)
            atoms.append(f"{key}={_escape_rdn_value(_string(vtag, data[vs:ve]))}")
        rdns.append("+".join(atoms))
    return ",".join(reversed(rdns))


def _time(tag: int, raw: bytes) -> str:
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; RFC 5280 §4.1.2.5.1 pivot at 50
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:
        raise _DERError("validity is not a time")
    stamp = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return stamp.isoformat()


def _general_name(tag: int, raw: bytes, data: bytes, start: int, end: int) -> str:
    if tag == 0x82:
        return "DNS:" + raw.decode("ascii", errors="replace")
    if tag == 0x87:
        if len(raw) in (4, 16):
            return "IP Address:" + str(ipaddress.ip_address(raw))
        return "IP Address:#" + raw.hex()
    if tag == 0x81:
        return "email:" + raw.decode("ascii", errors="replace")
    if tag == 0x86:
        return "URI:" + raw.decode("ascii", errors="replace")
    if tag == 0xA4:
        _t, ns, ne = _read_tlv(data, start)
        return "DirName:" + _name(data, ns, ne)
    return f"othername:<tag {tag & 0x1F}>"


def _san(data: bytes, start: int, end: int) -> tuple[str, ...]:
    _t, gs, ge = _read_tlv(data, start)
    return tuple(_general_name(tag, data[s:e], data, s, e) for tag, s, e in _children(data, gs, ge))


def _public_key(data: bytes, start: int, end: int) -> str:
    (_, alg_s, alg_e), (_, bit_s, _bit_e) = _children(data, start, end)[:2]
    alg = _children(data, alg_s, alg_e)
    oid = _oid(data[alg[0][1] : alg[0][2]])
    if oid == "1.2.840.113549.1.1.1":
        # BIT STRING (first byte: unused bits) wrapping RSAPublicKey ::= SEQUENCE {n, e}
        _t, rs, re_ = _read_tlv(data, bit_s + 1)
        _nt, ns, ne = _children(data, rs, re_)[0]
        return f"RSA {int.from_bytes(data[ns:ne], 'big').bit_length()}"
    if oid == "1.2.840.10045.2.1":
        curve = _oid(data[alg[1][1] : alg[1][2]]) if len(alg) > 1 and alg[1][0] == 0x06 else ""
        return f"EC {_CURVES.get(curve, curve)}".strip()
    return _SIG_OIDS.get(oid, oid)


def _parse(der: bytes) -> dict[str, object]:
    _t, cs, ce = _read_tlv(der, 0)
    parts = _children(der, cs, ce)
    _tt, ts, te = parts[0]
    tbs = _children(der, ts, te)
    if tbs[0][0] == 0xA0:  # explicit [0] version
        tbs = tbs[1:]
    serial, _sig, issuer, validity, subject, spki, *rest = tbs
    fields: dict[str, object] = {
        "serial": der[serial[1] : serial[2]].hex().upper().lstrip("0") or "0",
        "issuer": _name(der, issuer[1], issuer[2]),
        "subject": _name(der, subject[1], subject[2]),
    }
    (nbt, nbs, nbe), (nat, nas, nae) = _children(der, validity[1], validity[2])
    fields["not_before"] = _time(nbt, der[nbs:nbe])
    fields["not_after"] = _time(nat, der[nas:nae])
    fields["public_key"] = _public_key(der, spki[1], spki[2])
    sig_alg = _children(der, parts[1][1], parts[1][2])[0]
    oid = _oid(der[sig_alg[1] : sig_alg[2]])
    fields["signature_algorithm"] = _SIG_OIDS.get(oid, oid)
    fields["san"] = ()
    for tag, s, _e in rest:
        if tag != 0xA3:
            continue
        _st, es, ee = _read_tlv(der, s)
        for _et, xs, xe in _children(der, es, ee):
            ext = _children(der, xs, xe)
            if _oid(der[ext[0][1] : ext[0][2]]) == _SAN_OID:
                value = ext[-1]
                fields["san"] = _san(der, value[1], value[2])
    return fields


def cert_info_from_der(der: bytes) -> CertInfo:
    """Describe a DER certificate; unreadable input gives ``parse_error`` instead of raising."""
    fingerprint = hashlib.sha256(der).hexdigest()
    try:
        fields = _parse(der)
    except (ValueError, IndexError, UnicodeDecodeError) as exc:  # _DERError is a ValueError
        return CertInfo(
            subject="",
            issuer="",
            san=(),
            not_before="",
            not_after="",
            serial="",
            fingerprint_sha256=fingerprint,
            parse_error=f"cannot read certificate: {exc}",
        )
    return CertInfo(fingerprint_sha256=fingerprint, **fields)  # type: ignore[arg-type]
