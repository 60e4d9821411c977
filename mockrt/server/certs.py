"""TLS material for ``mockrt serve --tls``: a local CA and a server certificate it signs, or the user's own files.

The real service is only reachable over ``wss://`` / ``https://`` (docs/protocol.md §1.1), and several clients
force that scheme (the openai npm package, the Python beta and Azure clients). ``--tls`` makes the mock serve both
on one port with a certificate for ``localhost``, ``127.0.0.1`` and ``::1`` signed by a CA generated on this
machine. Both live in a state directory and are reused across restarts, so a client trusts the CA once
(``NODE_EXTRA_CA_CERTS``, ``SSL_CERT_FILE``, ``ssl.create_default_context(cafile=...)``). Keys are written 0600.

Everything is built with ``cryptography``'s X.509 builder; nothing here opens a socket.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import platform
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from mockrt.config import ServerConfig

LOCAL_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
CERT_FILE, KEY_FILE = "server.pem", "server-key.pem"
CA_DAYS = 3650
CERT_DAYS = 397  # within the 398-day ceiling some TLS clients apply to server certificates
RENEW_BEFORE = datetime.timedelta(days=30)


class TLSSetupError(Exception):
    """The TLS files cannot be used; the message says which file and why (shown before listening)."""


@dataclass(frozen=True)
class TLSFiles:
    """What uvicorn serves (``certfile``, ``keyfile``) and, for the generated CA, what clients must trust."""

    certfile: str
    keyfile: str | None
    ca_path: str | None  # None for the user's own certificate: its issuer is theirs to distribute


def default_tls_dir() -> Path:
    """``$XDG_STATE_HOME/mockrt/tls``, by default ``~/.local/state/mockrt/tls``."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "mockrt" / "tls"


def server_names(host: str) -> tuple[str, ...]:
    """The names the server certificate covers: the loopback names, plus a specific bind address or name."""
    if host in LOCAL_NAMES or host in ("", "0.0.0.0", "::"):
        return LOCAL_NAMES
    return (*LOCAL_NAMES, host)


def local_ca(directory: str | os.PathLike[str] | None = None, names: Sequence[str] = LOCAL_NAMES) -> TLSFiles:
    """The CA and server certificate in ``directory`` (default :func:`default_tls_dir`), created when missing.

    An existing CA is kept (clients may already trust it); the server certificate is reissued from it when it
    is missing, does not match the CA, misses one of ``names`` or expires within 30 days. Concurrent callers
    (test workers) are serialised with a lock file, so they end up with the same files.
    """
    root = Path(directory) if directory is not None else default_tls_dir()
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(root / ".lock"):
            ca_cert, ca_key = _load_or_create_ca(root)
            if not _leaf_is_usable(root, ca_cert, names):
                _issue_leaf(root, ca_cert, ca_key, names)
    except OSError as err:
        raise TLSSetupError(f"cannot write the TLS files in {root}: {err.strerror or err}") from None
    return TLSFiles(str(root / CERT_FILE), str(root / KEY_FILE), str(root / CA_FILE))


def check_files(certfile: str, keyfile: str | None) -> TLSFiles:
    """Validate the user's own certificate and key (``--ssl-certfile/--ssl-keyfile``) before listening."""
    for flag, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile)):
        if path is not None and not os.path.isfile(path):
            raise TLSSetupError(f"{flag} {path}: no such file")
    try:
        cert_pem = Path(certfile).read_bytes()
        key_pem = Path(keyfile).read_bytes() if keyfile is not None else cert_pem
    except OSError as err:
        raise TLSSetupError(f"--ssl-certfile/--ssl-keyfile: {err.strerror or err}") from None
    try:
        x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise TLSSetupError(f"--ssl-certfile {certfile}: not a PEM certificate") from None
    try:
        serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        where = f"--ssl-keyfile {keyfile}" if keyfile is not None else f"--ssl-certfile {certfile}"
        raise TLSSetupError(f"{where}: no unencrypted PEM private key (pass it with --ssl-keyfile)") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile)
    except ssl.SSLError as err:
        reason = "the private key does not match the certificate" if err.reason == "KEY_VALUES_MISMATCH" else err
        raise TLSSetupError(f"--ssl-certfile {certfile} / --ssl-keyfile {keyfile}: {reason}") from None
    return TLSFiles(certfile, keyfile, None)


def write_ca(files: TLSFiles, target: str | os.PathLike[str]) -> Path:
    """Copy the CA certificate (PEM) to ``target`` (``--tls-ca-out``); returns the absolute path."""
    if files.ca_path is None:
        raise TLSSetupError("--tls-ca-out needs the generated local CA; it cannot be used with --ssl-certfile")
    out = Path(target).expanduser().resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(Path(files.ca_path).read_bytes())
    except OSError as err:
        raise TLSSetupError(f"--tls-ca-out {target}: {err.strerror or err}") from None
    return out


def client_context(ca_path: str) -> ssl.SSLContext:
    """A client-side context trusting ``ca_path`` (for Python clients of a ``--tls`` server)."""
    return ssl.create_default_context(cafile=ca_path)


# -- building and checking certificates -------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_or_create_ca(root: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = root / CA_FILE, root / CA_KEY_FILE
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if (isinstance(key, ec.EllipticCurvePrivateKey) and cert.public_key() == key.public_key()
                    and cert.not_valid_after_utc - RENEW_BEFORE > _now()):
                return cert, key
        except ValueError:
            pass  # unreadable: make a new one
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mockrt"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"mockrt local CA ({platform.node() or 'localhost'})"),
    ])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    (root / CERT_FILE).unlink(missing_ok=True)  # signed by the old CA
    return cert, key


def _leaf_is_usable(root: Path, ca_cert: x509.Certificate, names: Sequence[str]) -> bool:
    cert_path, key_path = root / CERT_FILE, root / KEY_FILE
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
        return False
    if cert.not_valid_after_utc - RENEW_BEFORE < _now():
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    covered = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    covered |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return all(_canonical(n) in covered for n in names)


def _issue_leaf(root: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
                names: Sequence[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mockrt"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(root / KEY_FILE, _key_pem(key), private=True)
    _write(root / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Write atomically (a temporary file renamed over ``path``); 0600 for keys, 0644 for certificates."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if not private:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; concurrent first starts may race
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def prepare(config: ServerConfig) -> TLSFiles | None:
    """The TLS files ``config`` asks for, checked (and generated) before listening; None without TLS.

    ``ca_path`` is the ``--tls-ca-out`` copy when one was asked for, else the CA in the state directory.
    """
    if not config.uses_tls:
        return None
    if config.ssl_certfile is None and config.ssl_keyfile is not None:
        raise TLSSetupError("--ssl-keyfile needs --ssl-certfile")
    if config.ssl_certfile is not None:
        if config.tls_ca_out is not None:
            raise TLSSetupError("--tls-ca-out writes the generated local CA; it cannot be used with --ssl-certfile")
        return check_files(config.ssl_certfile, config.ssl_keyfile)
    files = local_ca(config.tls_dir, server_names(config.host))
    if config.tls_ca_out is not None:
        files = TLSFiles(files.certfile, files.keyfile, str(write_ca(files, config.tls_ca_out)))
    return files
