"""OpsTeam as a DingTalk, WeCom or Feishu app (issue 21): one interface (base.SuiteAdapter), one adapter per suite.

crypto.py   the vendors' callback cryptography        vault.py    credentials sealed at rest
tokens.py   access tokens in Redis, one renewer        http.py     the one HTTP client
dingtalk.py wecom.py feishu.py   the adapters          deliver.py  personal cards from the outbox
callbacks.py card buttons and contact events          signin.py   免登 / OAuth / QR sign-in and linking
links.py    DingTalk's signed action links             services.py the director's settings and org import
"""

from __future__ import annotations

from collections.abc import Callable


def adapter_for(app):
    from checklists.notify.suites.dingtalk import DingTalkAdapter
    from checklists.notify.suites.feishu import FeishuAdapter
    from checklists.notify.suites.wecom import WeComAdapter

    return {"dingtalk": DingTalkAdapter, "wecom": WeComAdapter, "feishu": FeishuAdapter}[app.kind](app)


def call_with_token(app, adapter, do: Callable):
    """`do(token)` with the app's cached token; a "token expired" answer renews it (once for all workers) and calls again once.

    TokenRefused (bad credentials) and TokenUnavailable (the lock) propagate.
    """
    from checklists.notify.suites.base import Failure
    from checklists.notify.suites.tokens import token_get

    token = token_get(app, fetch=adapter.fetch_token)
    result = do(token)
    outcome = result[-1] if isinstance(result, tuple) else result
    if not outcome.ok and outcome.failure == Failure.TOKEN:
        token = token_get(app, fetch=adapter.fetch_token, stale=token)
        result = do(token)
    return result
