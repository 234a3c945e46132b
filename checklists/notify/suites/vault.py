"""A shop's suite credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
OPSTEAM_FIELD_KEY, or SECRET_KEY when that is not set. Old keys (SECRET_KEY_FALLBACKS and
OPSTEAM_FIELD_KEY_FALLBACKS) still decrypt, so a key can be rotated; a credential is re-sealed when saved.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:"


def _fernet_for(secret: str) -> Fernet:
    digest = hashlib.sha256(b"opsteam-suite-credentials\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    primary = getattr(settings, "OPSTEAM_FIELD_KEY", "") or settings.SECRET_KEY
    older = [*getattr(settings, "OPSTEAM_FIELD_KEY_FALLBACKS", []), settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(primary)] + [_fernet_for(k) for k in older if k and k != primary])


def seal(plaintext: str) -> str:
    """The stored form of a credential ("" stays "")."""
    if not plaintext:
        return ""
    return PREFIX + _keys().encrypt(plaintext.encode()).decode()


def unseal(stored: str) -> str:
    """The credential; raises ValueError when no configured key opens it (the key was changed without a fallback)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise ValueError("not a sealed credential")
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError("no configured key opens this credential (OPSTEAM_FIELD_KEY or SECRET_KEY changed?)") from None


def masked(plaintext: str) -> str:
    """What the settings page shows of a stored credential: never more than its last four characters."""
    if not plaintext:
        return ""
    return "••••" + (plaintext[-4:] if len(plaintext) >= 12 else "")
