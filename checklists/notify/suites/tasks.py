"""Celery tasks of the suite apps: thin, take ids (registered through checklists.tasks)."""

from __future__ import annotations

from celery import shared_task

from checklists.notify.suites.base import Failure


class _RateLimited(Exception):
    pass


@shared_task(name="checklists.suite_card_update", bind=True, max_retries=8)
def suite_card_update_task(self, card_action_id: int, update_code: str = "") -> str:
    """Show a pressed button's result on the person's card. A rate-limited or failed update retries with back-off."""
    from checklists.notify.suites.deliver import suite_card_update
    from checklists.notify.suites.models import CardAction

    action = CardAction.objects.select_related("app__team", "notification", "member").filter(pk=card_action_id).first()
    if action is None:
        return "gone"
    result = suite_card_update(
        app=action.app, notification=action.notification, member=action.member, state=action.outcome, update_code=update_code
    )
    if not result.ok and result.failure in (Failure.RATE, Failure.NETWORK):
        raise self.retry(countdown=result.retry_after or 2 ** (self.request.retries + 2))
    return "updated" if result.ok else f"failed {result.code}"
