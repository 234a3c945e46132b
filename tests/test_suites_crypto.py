"""Issue 21: the suites' callback crypto against the vendors' own published vectors, and credentials sealed at rest."""

from __future__ import annotations

import pytest

from checklists.notify.suites import vault
from checklists.notify.suites.crypto import (
    CryptoError,
    feishu_decrypt,
    feishu_encrypt,
    feishu_signature,
    wx_decrypt,
    wx_encrypt,
    wx_signature,
)

# WeCom's published sample (加解密方案说明, developer.work.weixin.qq.com/document/path/90968).
WX_TOKEN = "QDG6eK"
WX_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WX_CORP = "wx5823bf96d3bd56c7"
WX_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxch"
    "rRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUM"
    "nvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHC"
    "mJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


def test_the_wecom_sample_message_verifies_and_decrypts_to_the_documented_xml():
    assert (
        wx_signature(token=WX_TOKEN, timestamp="1409659813", nonce="1372623149", encrypt=WX_ENCRYPT)
        == "477715d11cdb4164915debcba66cb864d751f3e6"
    )
    plain = wx_decrypt(encoding_aes_key=WX_KEY, receive_id=WX_CORP, encrypted=WX_ENCRYPT)
    assert b"<Content><![CDATA[hello]]></Content>" in plain
    assert b"<MsgId>4561255354251345929</MsgId>" in plain


def test_the_wecom_sample_url_check_decrypts_to_its_echostr():
    echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    assert (
        wx_signature(token=WX_TOKEN, timestamp="1409659589", nonce="263014780", encrypt=echo) == "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    )
    assert wx_decrypt(encoding_aes_key=WX_KEY, receive_id=WX_CORP, encrypted=echo) == b"1616140317555161061"


def test_a_message_for_another_corp_or_app_key_is_refused():
    with pytest.raises(CryptoError):
        wx_decrypt(encoding_aes_key=WX_KEY, receive_id="wx-other-corp", encrypted=WX_ENCRYPT)


@pytest.mark.parametrize("receive_id", ["dingabc123appkey", WX_CORP])
def test_the_dingtalk_and_wecom_scheme_round_trips_with_32_byte_padding(receive_id):
    text = b'{"EventType":"check_url"}' * 3
    encrypted = wx_encrypt(encoding_aes_key=WX_KEY, receive_id=receive_id, plaintext=text)
    import base64

    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert wx_decrypt(encoding_aes_key=WX_KEY, receive_id=receive_id, encrypted=encrypted) == text


def test_a_damaged_ciphertext_is_refused_not_crashed_on():
    damaged = WX_ENCRYPT[:40] + ("A" if WX_ENCRYPT[40] != "A" else "B") + WX_ENCRYPT[41:]
    with pytest.raises(CryptoError):
        wx_decrypt(encoding_aes_key=WX_KEY, receive_id=WX_CORP, encrypted=damaged)
    with pytest.raises(CryptoError):
        wx_decrypt(encoding_aes_key=WX_KEY, receive_id=WX_CORP, encrypted="not base64!")


def test_the_feishu_sample_decrypts_to_hello_world():
    # Feishu's published example (事件订阅 Encrypt Key 加密): key "test key".
    assert feishu_decrypt(encrypt_key="test key", encrypted="P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"


def test_feishu_encryption_round_trips_and_a_wrong_key_is_refused():
    encrypted = feishu_encrypt(encrypt_key="k1", plaintext="卡片回调".encode())
    assert feishu_decrypt(encrypt_key="k1", encrypted=encrypted) == "卡片回调".encode()
    with pytest.raises(CryptoError):
        feishu_decrypt(encrypt_key="k2", encrypted=encrypted)


def test_the_feishu_signature_covers_timestamp_nonce_key_and_body():
    base = feishu_signature(timestamp="1", nonce="n", encrypt_key="k", body=b"{}")
    assert base != feishu_signature(timestamp="2", nonce="n", encrypt_key="k", body=b"{}")
    assert base != feishu_signature(timestamp="1", nonce="n", encrypt_key="k", body=b"{ }")
    import hashlib

    assert base == hashlib.sha256(b"1nk{}").hexdigest()


def test_a_sealed_credential_opens_only_with_the_key_and_never_shows_in_full(settings):
    sealed = vault.seal("app-secret-0123456789")
    assert "app-secret" not in sealed
    assert sealed.startswith("fernet:")
    assert vault.unseal(sealed) == "app-secret-0123456789"
    assert vault.masked("app-secret-0123456789") == "••••6789"
    assert vault.masked("short") == "••••"
    settings.OPSTEAM_FIELD_KEY = "a-new-dedicated-key"
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(ValueError):
        vault.unseal(sealed)


def test_a_credential_sealed_under_secret_key_still_opens_after_a_dedicated_key_is_set(settings):
    sealed = vault.seal("s3cret-value-xyz")
    settings.OPSTEAM_FIELD_KEY = "dedicated"
    assert vault.unseal(sealed) == "s3cret-value-xyz"
    assert vault.unseal(vault.seal("x1")) == "x1"
