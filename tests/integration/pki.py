# SPDX-License-Identifier: Apache-2.0
"""Throwaway CA, a loopback server certificate and client certificates
(python3-cryptography)."""

import base64
import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(directory, ips=("127.0.0.1",), dns=("localhost",), ca=None):
    """Writes ca.pem, server.pem and server-key.pem into directory.

    The server certificate is valid for ips (IP SANs) and dns (DNS SANs),
    issued by a new CA or by ca (the "ca_obj" of an earlier make_pki).
    Returns a dict: the three paths and ca_obj.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)
    if ca is None:
        ca = _make_ca(start, end)
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name((list(ips) + list(dns))[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            + [x509.DNSName(d) for d in dns]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = {
        "ca": os.path.join(directory, "ca.pem"),
        "cert": os.path.join(directory, "server.pem"),
        "key": os.path.join(directory, "server-key.pem"),
    }
    for path, data, mode in ((paths["ca"], _pem_cert(ca_cert), 0o644),
                             (paths["cert"], _pem_cert(cert), 0o644),
                             (paths["key"], _pem_key(key), 0o600)):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    paths["ca_obj"] = ca
    return paths


def _make_ca(start, end):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("mod_auth_ordsjwt test CA"))
        .issuer_name(_name("mod_auth_ordsjwt test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, ca_key


def make_client_cert(directory, name):
    """A self-signed client certificate (no CA: with SSLVerifyClient
    optional_no_ca the binding of the token, not a CA, is the proof).
    Writes NAME.pem and NAME-key.pem; returns (cert path, key path,
    base64url SHA-256 of the DER: the cnf "x5t#S256" of a token bound to
    it)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name)).issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    paths = (os.path.join(directory, name + ".pem"),
             os.path.join(directory, name + "-key.pem"))
    for path, data in zip(paths, (_pem_cert(cert), _pem_key(key))):
        with open(path, "wb") as f:
            f.write(data)
    der = cert.public_bytes(serialization.Encoding.DER)
    thumb = base64.urlsafe_b64encode(hashlib.sha256(der).digest())
    return paths[0], paths[1], thumb.rstrip(b"=").decode()
