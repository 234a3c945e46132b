"""Side effects of changes to a login that every path must have, however the change is made."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="roles.tokens_revoke_on_password_change")
def tokens_revoke_on_password_change(sender, instance, **kwargs) -> None:
    """A new password revokes the login's API tokens (issue 15): a phone or a script that had the old one logs in again.

    Every way a password is set ends in User.set_password() and save(): the admin's password form, `manage.py
    changepassword`, a director's reset through the admin. set_password() keeps the new password in `_password`
    until save() has run (Django uses it to tell the password validators): a password rehashed at login (a new
    hasher) is saved without it, and revokes nothing. The session of that login is ended by Django itself (the
    session holds a hash of the password).
    """
    if getattr(instance, "_password", None) is None:
        return
    Token.objects.filter(user=instance).delete()
