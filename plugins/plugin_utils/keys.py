# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard key material: X25519 keys and preshared keys, made in Python."""

import base64
import binascii
import os

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional

_x25519 = optional("cryptography.hazmat.primitives.asymmetric.x25519")
_serialization = optional("cryptography.hazmat.primitives.serialization")
X25519PrivateKey = getattr(_x25519, "X25519PrivateKey", None)
Encoding = getattr(_serialization, "Encoding", None)
PublicFormat = getattr(_serialization, "PublicFormat", None)

KEY_BYTES = 32


def _clamp(raw):
    """Clamp a Curve25519 scalar exactly as ``wg genkey`` does."""
    key = bytearray(raw)
    key[0] &= 248
    key[31] = (key[31] & 127) | 64
    return bytes(key)


def generate_private_key():
    return base64.b64encode(_clamp(os.urandom(KEY_BYTES))).decode("ascii")


def generate_preshared_key():
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def decode_key(text):
    """The 32 raw bytes of a base64 WireGuard key, or ValueError."""
    if not isinstance(text, str) or len(text) != 44 or not text.endswith("="):
        raise ValueError("not a 44-character base64 WireGuard key")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError("does not decode to 32 bytes")
    return raw


def public_key(private_key):
    """The base64 public key of a base64 private key (what ``wg pubkey`` prints)."""
    raw = X25519PrivateKey.from_private_bytes(decode_key(private_key)).public_key()
    return base64.b64encode(raw.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")
