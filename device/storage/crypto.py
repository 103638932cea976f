"""Disk encryption at rest: AES-256-GCM over fixed-size chunks, with a key derived from the passphrase.

Chunks (64 KiB of plaintext each) let playback and export read any part of a block without decrypting the
whole file; each chunk's nonce is the file's random prefix plus the chunk number, and its associated data
says whether it is the last chunk, so chunks cannot be reordered, dropped or truncated unnoticed.
The passphrase is never stored: the card keeps a salt and the wrapped data key, the camera keeps the key derived
from the passphrase (as a camera keeps its secrets in its own memory, not on the card).
"""

from __future__ import annotations

import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"EDGSENC1"
CHUNK = 64 * 1024
TAG = 16
_HEADER = struct.Struct(">8s8s")  # magic, nonce prefix
_WRAP_AAD = b"edgestore disk data key"
MAX_PASSPHRASE_BYTES = 512


class DecryptionError(Exception):
    """Wrong key, or a file that was altered or cut short."""


def derive_key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(passphrase.encode("utf-8"))


@dataclass(frozen=True)
class WrappedKey:
    """What the card keeps: a random data key wrapped by the passphrase's key, and the salt.

    Recordings are encrypted with the data key, so changing the passphrase only re-wraps it: nothing is
    re-encrypted and recording goes on. A wrong passphrase fails to unwrap; nothing here decrypts without it.
    """

    salt: bytes
    wrapped: bytes  # nonce + AES-GCM(passphrase key, data key)

    @classmethod
    def create(cls, passphrase_key: bytes, salt: bytes, data_key: bytes | None = None) -> WrappedKey:
        nonce = secrets.token_bytes(12)
        data_key = data_key or AESGCM.generate_key(bit_length=256)
        return cls(salt, nonce + AESGCM(passphrase_key).encrypt(nonce, data_key, _WRAP_AAD))

    def unwrap(self, passphrase_key: bytes) -> bytes | None:
        try:
            return AESGCM(passphrase_key).decrypt(self.wrapped[:12], self.wrapped[12:], _WRAP_AAD)
        except InvalidTag:
            return None

    def to_json(self) -> dict[str, str]:
        return {"salt": self.salt.hex(), "wrapped": self.wrapped.hex()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> WrappedKey:
        return cls(bytes.fromhex(data["salt"]), bytes.fromhex(data["wrapped"]))


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">I?", index, last)


class EncryptedWriter:
    """Append-only writer; `close()` seals the last chunk. Plain files use the same interface unencrypted."""

    def __init__(self, f: BinaryIO, key: bytes) -> None:
        self._f = f
        self._aes = AESGCM(key)
        self._prefix = secrets.token_bytes(8)
        self._buffer = bytearray()
        self._index = 0
        f.write(_HEADER.pack(MAGIC, self._prefix))

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte so the last chunk is sealed by close()
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._f.close()

    def _emit(self, plain: bytes, last: bool) -> None:
        self._f.write(self._aes.encrypt(_nonce(self._prefix, self._index), plain, _aad(self._index, last)))
        self._index += 1


def encrypted_size(plain_size: int) -> int:
    chunks = max(1, -(-plain_size // CHUNK))
    return _HEADER.size + plain_size + chunks * TAG


def first_bytes_if_intact(path: Path, key: bytes, count: int) -> bytes:
    """The first `count` plaintext bytes, after checking every chunk's tag one chunk at a time (memory stays at
    one chunk however big the block). Raises DecryptionError when any chunk does not decrypt."""
    total = plain_size(path)
    chunks = max(1, -(-total // CHUNK))
    head = b""
    with path.open("rb") as f:
        magic, prefix = _HEADER.unpack(f.read(_HEADER.size))
        if magic != MAGIC:
            raise DecryptionError(f"{path.name} is not an encrypted block")
        aes = AESGCM(key)
        for index in range(chunks):
            sealed = f.read(CHUNK + TAG)
            try:
                plain = aes.decrypt(_nonce(prefix, index), sealed, _aad(index, index == chunks - 1))
            except InvalidTag:
                raise DecryptionError(f"{path.name}: chunk {index} does not decrypt") from None
            if index == 0:
                head = plain[:count]
    return head


def decrypt_file(path: Path, key: bytes) -> bytes:
    """The whole plaintext (for checks and small files); readers of big blocks use read_range."""
    return read_range(path, key, 0, None)


def plain_size(path: Path, growing: bool = False) -> int:
    """Plaintext bytes in the file; of a `growing` file only its whole chunks count (the rest may be half written)."""
    stored = max(0, os.path.getsize(path) - _HEADER.size)
    full, rest = divmod(stored, CHUNK + TAG)
    return full * CHUNK + (0 if growing else max(0, rest - TAG))


def read_range(path: Path, key: bytes, offset: int, length: int | None, growing: bool = False) -> bytes:
    """Plaintext bytes ``offset .. offset+length`` (to the end when None). A `growing` file is a block still being
    written: all its chunks so far are full ones sealed as not last, and its unsealed tail is not readable yet."""
    aes = AESGCM(key)
    total = plain_size(path, growing)
    end = total if length is None else min(total, offset + length)
    last_index = -1 if growing else max(0, -(-total // CHUNK) - 1)
    if growing and end <= offset:
        return b""
    out = bytearray()
    with path.open("rb") as f:
        magic, prefix = _HEADER.unpack(f.read(_HEADER.size))
        if magic != MAGIC:
            raise DecryptionError(f"{path.name} is not an encrypted block")
        index = offset // CHUNK
        while index * CHUNK < end or (total == 0 and index == 0):
            f.seek(_HEADER.size + index * (CHUNK + TAG))
            sealed = f.read(CHUNK + TAG)
            try:
                plain = aes.decrypt(_nonce(prefix, index), sealed, _aad(index, index == last_index))
            except InvalidTag:
                raise DecryptionError(f"{path.name}: chunk {index} does not decrypt") from None
            out += plain
            index += 1
            if total == 0:
                break
    start = offset - (offset // CHUNK) * CHUNK
    return bytes(out[start : start + (end - offset)])
