"""What makes a copied database useless: keyed hashes of chats, and authenticated encryption.

One secret, `BOTS_SECRET_KEY`, gives two keys (HKDF-SHA256):

- a hashing key: a conversation is filed under HMAC-SHA256(bot, chat id), so the database
  holds no Telegram id and cannot be searched for a known one without the key; the same
  person gets unrelated keys in different bots;
- an encryption key: whatever must be kept to reach a person or go on with their
  conversation (the state with its answers, an update until it is processed, a message
  until it is sent, the chat id of an open handoff) is sealed with AES-256-GCM, bound to its
  row (the associated data), so a sealed value moved to another row does not open.

The key never reaches the database: a short sealed check value does, so that starting with
another key fails at once with a clear message instead of garbling conversations.

A database moved to a new key (`bots db rekey`) cannot have its chats hashed afresh: it does
not hold their ids. Each stored chat key is hashed once more with a layer key derived from
the new secret, and the keys needed to get there from a chat id (the first hashing key, the
layers of the keys in between) are kept in the database sealed under the new key (`meta`
row `chat hash keys`): the new key finds every chat, the old one neither opens nor finds
anything (`Vault.successor`, `Vault.adopt_chain`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bots.errors import BotsError

ENV = "BOTS_SECRET_KEY"
#: the `meta` row of a rekeyed database: the keys its chat keys are computed with, sealed
CHAT_KEYS = "chat hash keys"
MIN_KEY_BYTES = 32
MIN_PASSPHRASE = 40
FORMAT = b"\x01"  # the version of the sealed format: nonce (12 bytes) + ciphertext with tag
_DEVELOPMENT_SECRET = b"bots development key -- NOT SECRET: anyone can read what it protects"


class WeakKey(BotsError, ValueError, status=2):
    """The secret key given is missing, malformed or too weak."""


class SealBroken(ValueError):
    """A sealed value does not open: another key, or the data was changed."""


def new_key() -> str:
    """A fresh key for `BOTS_SECRET_KEY`: 32 random bytes, base64url (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).rstrip(b"=").decode()


def parse_key(text: str, name: str = ENV) -> bytes:
    """The key material in `text`: 32+ random bytes as base64url or hex, or a long passphrase.

    Raises `WeakKey` with what to do instead (`name`: the variable the key came from).
    """
    text = text.strip()
    advice = f"make one with 'bots keygen' and set it in {name}"
    if not text:
        raise WeakKey(f"{name} is empty: {advice}")
    raw = _decoded(text)
    if raw is not None and len(raw) >= MIN_KEY_BYTES:
        if len(set(raw)) < 16:
            raise WeakKey(f"{name} is not random enough (too many repeated bytes): {advice}")
        return raw
    if len(text) >= MIN_PASSPHRASE and len(set(text)) >= 12:
        return text.encode()
    raise WeakKey(
        f"{name} is too weak: it must be 32 random bytes (base64 or hex) or a passphrase of at least "
        f"{MIN_PASSPHRASE} varied characters; {advice}"
    )


def _decoded(text: str) -> bytes | None:
    if all(c in "0123456789abcdefABCDEF" for c in text) and len(text) % 2 == 0:
        return binascii.unhexlify(text)
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded.replace("+", "-").replace("/", "_"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


class _Nonces:
    """Random 96-bit nonces for AES-GCM, drawn from the system's random source a few hundred
    at a time: each is as random as `secrets.token_bytes(12)` (the random-nonce construction,
    fit for 2**32 seals a key), without a system call per seal. The call is the cost: CPython
    lets go of the GIL around it, and a thread waiting for the GIL (the database's) then keeps
    the event loop waiting for up to the switch interval. A forked child draws afresh: it must
    never use a nonce its parent may use too."""

    BATCH = 512

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = 0

    def take(self) -> bytes:
        with self._lock:
            if self._offset >= len(self._pool):
                self._pool = os.urandom(12 * self.BATCH)
                self._offset = 0
            start = self._offset
            self._offset = start + 12
            return self._pool[start : start + 12]

    def forget(self) -> None:
        self._lock = threading.Lock()  # a lock held in the parent at the fork stays held in the child
        self._pool = b""
        self._offset = 0


_NONCES = _Nonces()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_NONCES.forget)


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"bots/vault/v1", info=purpose).derive(master)


def _hashed(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class Vault:
    """Hashes chat ids and seals values with keys derived from one secret."""

    def __init__(self, master: bytes, *, development: bool = False) -> None:
        self.development = development
        self._mac_key = _derive(master, b"chat keys")
        self._layer_key = _derive(master, b"chat key layer")
        self._aead = AESGCM(_derive(master, b"sealed values"))
        self.pseudonym_key = _derive(master, b"log pseudonyms")
        #: on a rekeyed database: the key its chats were first hashed with, then the layer
        #: keys of the secrets it had since; empty on a database made with this secret
        self._chain: tuple[bytes, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Vault | None:
        """The vault of `BOTS_SECRET_KEY`, or None when it is not set. Raises `WeakKey`."""
        value = (environ if environ is not None else os.environ).get(ENV)
        if value is None or not value.strip():
            return None
        return cls(parse_key(value))

    @classmethod
    def for_development(cls) -> Vault:
        """A fixed, public key: for `bots chat` and tests. It protects nothing."""
        return cls(_DEVELOPMENT_SECRET, development=True)

    # --- chat keys ------------------------------------------------------------------------

    def chat_key(self, bot: str, chat: int | str) -> str:
        """The key a chat is filed under: 22 characters, the same for the same bot and chat."""
        if not self._chain:
            return _hashed(self._mac_key, f"{bot}\0{chat}")
        key = _hashed(self._chain[0], f"{bot}\0{chat}")
        for layer in (*self._chain[1:], self._layer_key):
            key = _hashed(layer, key)
        return key

    # --- moving a database to a new secret (bots db rekey) -----------------------------------

    def same_secret(self, other: Vault) -> bool:
        """Whether both vaults come from the same secret."""
        return hmac.compare_digest(self._mac_key, other._mac_key)

    def successor(self, master: bytes) -> Vault:
        """The vault of the secret `master` for a database this vault wrote: it seals with
        the new secret, and finds a chat under `rehash` of the key this vault gave it."""
        new = Vault(master)
        new._chain = (*self._chain, self._layer_key) if self._chain else (self._mac_key,)
        return new

    def rehash(self, stored: str) -> str:
        """The key a chat stored under `stored` by the previous secret has under this one
        (the chat key hashed once more with this secret's layer key; "" stays "")."""
        return _hashed(self._layer_key, stored) if stored else ""

    @property
    def layers(self) -> int:
        """How many secrets the database had before this one (0: made with this one)."""
        return len(self._chain)

    def sealed_chain(self) -> bytes | None:
        """What the `meta` row `chat hash keys` holds for this vault (None: no such row)."""
        if not self._chain:
            return None
        return self.seal_json([base64.urlsafe_b64encode(k).decode() for k in self._chain], CHAT_KEYS)

    def adopt_chain(self, sealed: bytes) -> None:
        """Compute chat keys as the database whose `chat hash keys` row is `sealed` does.
        Raises `SealBroken` if it was sealed with another secret."""
        chain = tuple(base64.urlsafe_b64decode(k) for k in self.open_json(sealed, CHAT_KEYS))
        if self._chain and self._chain != chain:
            raise SealBroken("this vault already computes chat keys for a database with other ones")
        self._chain = chain

    def shared_secret(self, purpose: str) -> str:
        """A secret every process with this key derives alike (e.g. the webhook's secret
        token, which several workers behind one address must agree on): 43 URL-safe
        characters. With the development key it is public, like the key."""
        digest = hmac.new(self._mac_key, f"shared secret\0{purpose}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # --- sealing --------------------------------------------------------------------------

    def seal(self, data: bytes, context: str) -> bytes:
        """Encrypt and authenticate `data`, bound to `context` (e.g. the row it belongs to)."""
        nonce = _NONCES.take()
        return FORMAT + nonce + self._aead.encrypt(nonce, data, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if not sealed or sealed[:1] != FORMAT:
            raise SealBroken("not a sealed value (written without encryption, or by another version)")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], context.encode())
        except InvalidTag:
            raise SealBroken("does not open with this key (another BOTS_SECRET_KEY, or changed data)") from None

    def seal_text(self, text: str, context: str) -> bytes:
        return self.seal(text.encode(), context)

    def open_text(self, sealed: bytes, context: str) -> str:
        return self.open(sealed, context).decode()

    def seal_json(self, value: Any, context: str) -> bytes:
        return self.seal(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), context)

    def open_json(self, sealed: bytes, context: str) -> Any:
        return json.loads(self.open(sealed, context))
