"""Creating a thing once: an idempotency key sent with a create, kept on the row, answers a repeat with the first row.

A double tap on a phone, a client's retry after a timeout or a page resubmitted from the history sends the same
create twice. The API takes the key in the `Idempotency-Key` header, a page form in a hidden `idempotency_key`
field drawn with the form (`{% idempotency_field %}`). The row keeps the key under a unique constraint per
creator, named `<app>_<model>_once_per_idempotency_key`: that constraint, not the look-up before it, decides
between two requests that arrive at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
KEY_MAX = 64
# A UUID, a ULID or a client's own token: letters, digits and - _ . : only, so it is safe in logs and URLs.
_KEY = re.compile(rf"[A-Za-z0-9_.:-]{{1,{KEY_MAX}}}")

M = TypeVar("M", bound=models.Model)


def idempotency_key_clean(raw: str | None) -> str | None:
    """The key as sent, or None when none was sent; a malformed key is a ValidationError on `idempotency_key`."""
    key = (raw or "").strip()
    if not key:
        return None
    if not _KEY.fullmatch(key):
        raise ValidationError(
            {FORM_FIELD: _("The Idempotency-Key must be 1 to %(max)d letters, digits, - _ . or :, e.g. a UUID.") % {"max": KEY_MAX}}
        )
    return key


def idempotency_key_field() -> models.CharField:
    """The column each model created by a person carries (null: created without a key)."""
    return models.CharField(max_length=KEY_MAX, null=True, blank=True, editable=False, default=None)


def idempotency_key_constraint(*, app_model: str, scope: str = "created_by") -> models.UniqueConstraint:
    """One row per (creator, key): `checklists_task_once_per_idempotency_key`."""
    return models.UniqueConstraint(
        fields=[scope, "idempotency_key"],
        condition=Q(idempotency_key__isnull=False),
        name=f"{app_model}_once_per_idempotency_key",
    )


def create_once(*, model: type[M], key: str | None, scope: dict, create: Callable[[], M]) -> M:
    """`create()` once per key: a repeat returns the row the first call made, marked `replayed = True`.

    `scope` is the creator's column and value (`{"created_by": member}`), the same as the constraint's; `create`
    must write `idempotency_key=key` on the row it inserts. Without a key every call creates.
    """
    if key is None:
        return create()
    existing = model.objects.filter(**scope, idempotency_key=key).first()
    if existing is not None:
        existing.replayed = True
        return existing
    try:
        # A savepoint: on PostgreSQL the losing INSERT would otherwise leave the caller's transaction unusable.
        with transaction.atomic():
            return create()
    except IntegrityError:
        # Two requests with the same key at once: both missed the look-up, the unique constraint let one insert.
        # The other waited for it to commit, so a new read sees its row.
        existing = model.objects.filter(**scope, idempotency_key=key).first()
        if existing is None:
            raise  # another constraint refused the row: not a repeat
        existing.replayed = True
        return existing
