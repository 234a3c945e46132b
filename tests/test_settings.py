"""Settings fail loudly on malformed values, at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from opsteam.lib.env import database_from_url, env_bool, env_choice, env_int, env_time, env_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("func", "name", "value", "message"),
    [
        (lambda: env_bool("X_FLAG", False), "X_FLAG", "maybe", "not a boolean"),
        (lambda: env_int("X_PORT", 25, minimum=1), "X_PORT", "twenty", "not a whole number"),
        (lambda: env_int("X_PORT", 25, minimum=1), "X_PORT", "0", "at least 1"),
        (lambda: env_time("X_CUTOFF", "12:00"), "X_CUTOFF", "noon", "HH:MM"),
        (lambda: env_choice("X_LEVEL", "INFO", choices={"INFO", "DEBUG"}), "X_LEVEL", "LOUD", "not one of"),
        (lambda: env_url("X_BROKER", "redis://", schemes={"redis"}), "X_BROKER", "http://x", "expected one of"),
        (lambda: database_from_url("X_DB", "sqlite://:memory:"), "X_DB", "mysql://x/y", "expected one of"),
    ],
)
def test_a_malformed_value_raises_a_clear_message(monkeypatch, func, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        func()


def test_the_laptop_defaults_need_no_server(monkeypatch):
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    code = (
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.TIME_ZONE, s.LANGUAGE_CODE)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="opsteam.settings.dev", OPSTEAM_VAR_DIR=str(ROOT / "var" / "settings-test"))
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "Asia/Shanghai", "zh-hans"]


def test_start_up_stops_on_a_bad_database_url():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsteam.settings.dev", "DATABASE_URL": "mysql://nope/db"}
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "DATABASE_URL='mysql://nope/db' has scheme 'mysql'" in out.stderr


def test_production_settings_require_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="opsteam.settings.production")
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_postgresql_lets_the_hot_statements_be_prepared_unless_turned_off(monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://postgres@127.0.0.1:5432/x")
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    assert database_from_url("X_DB", "sqlite://:memory:")["OPTIONS"]["prepare_threshold"] == 5

    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert "prepare_threshold" not in database_from_url("X_DB", "sqlite://:memory:").get("OPTIONS", {})
