"""AES-GCM nonces: drawn from the system's random source in bulk (bots.privacy.vault), never twice."""

from __future__ import annotations

import os

import pytest

from bots.privacy.vault import FORMAT, Vault


def nonce_of(sealed: bytes) -> bytes:
    assert sealed[:1] == FORMAT
    return sealed[1:13]


def test_every_seal_has_its_own_nonce_across_refills() -> None:
    vault = Vault.for_development()
    sealed = [vault.seal(f"state {i}".encode(), "state\0bot\0chat") for i in range(3000)]  # several batches of 512
    assert len({nonce_of(s) for s in sealed}) == len(sealed)
    assert [vault.open(s, "state\0bot\0chat") for s in sealed[::499]] == [f"state {i}".encode() for i in range(0, 3000, 499)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_draws_nonces_of_its_own() -> None:
    """The parent's unused nonces are not the child's: a child using them would repeat nonces
    that the parent is about to use with the same key."""
    vault = Vault.for_development()
    vault.seal(b"fills the pool", "x")
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.write(writing, b"".join(nonce_of(vault.seal(b"child", "x")) for _ in range(4)))
        finally:
            os._exit(0)
    os.close(writing)
    theirs = b""
    while len(theirs) < 48:
        part = os.read(reading, 48)
        if not part:
            break
        theirs += part
    os.close(reading)
    os.waitpid(child, 0)
    ours = b"".join(nonce_of(vault.seal(b"parent", "x")) for _ in range(4))
    assert len(theirs) == 48
    assert {theirs[i : i + 12] for i in range(0, 48, 12)}.isdisjoint({ours[i : i + 12] for i in range(0, 48, 12)})
