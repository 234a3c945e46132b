"""The suites' callback cryptography, as each vendor documents it (pure functions of keys and bytes).

DingTalk (事件订阅 "消息加解密", https://open.dingtalk.com/document/orgapp/configure-event-subcription) and
WeCom ("加解密方案说明", https://developer.work.weixin.qq.com/document/path/90968) share one scheme:

  AESKey    = Base64_Decode(EncodingAESKey + "=")      43 characters -> 32 bytes (AES-256)
  IV        = AESKey[:16]
  encrypt   = Base64_Encode(AES-CBC(random(16) + msg_len(4, network order) + msg + receive_id))
  padding   = PKCS#7 to 32-byte blocks (both vendors' reference libraries pad to 32, not AES's 16)
  signature = sha1(sort([token, timestamp, nonce, encrypt]) joined)

receive_id is the app key for a DingTalk internal app's subscription (the corp id in older callbacks) and the
corp id for WeCom. Feishu ("Encrypt Key", https://open.feishu.cn/document/server-docs/event-subscription-guide/
event-subscription-configure-/encrypt-key-encryption-configuration-case) uses AES-256-CBC with
key = sha256(encrypt_key), the IV as the first 16 bytes of the decoded text, PKCS#7 to 16 bytes; its request
signature is sha256(timestamp + nonce + encrypt_key + raw body), hex, in X-Lark-Signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

WX_BLOCK = 32
AES_BLOCK = 16


class CryptoError(ValueError):
    """The text could not be decrypted or did not come for this app (a forged or damaged callback)."""


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(data: bytes, block: int) -> bytes:
    if not data:
        raise CryptoError("empty")
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


def _cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def wx_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key behind the console's 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must be 43 characters")
    return key


def wx_encrypt(*, encoding_aes_key: str, receive_id: str, plaintext: bytes, random16: bytes | None = None) -> str:
    key = wx_aes_key(encoding_aes_key)
    body = (random16 or os.urandom(16)) + struct.pack(">I", len(plaintext)) + plaintext + receive_id.encode()
    return base64.b64encode(_cbc(key, key[:16], _pad(body, WX_BLOCK), encrypt=True)).decode()


def wx_decrypt(*, encoding_aes_key: str, receive_id: str, encrypted: str) -> bytes:
    """The message, after checking it ends with our receive_id (another corp's or app's message is refused)."""
    key = wx_aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("not base64") from None
    if not raw or len(raw) % AES_BLOCK:
        raise CryptoError("not whole blocks")
    body = _unpad(_cbc(key, key[:16], raw, encrypt=False), WX_BLOCK)
    if len(body) < 20:
        raise CryptoError("too short")
    (length,) = struct.unpack(">I", body[16:20])
    message, suffix = body[20 : 20 + length], body[20 + length :]
    if len(message) != length or not hmac.compare_digest(suffix, receive_id.encode()):
        raise CryptoError("not for this app")
    return message


def wx_signature(*, token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()  # noqa: S324 - the vendors' scheme


def feishu_encrypt(*, encrypt_key: str, plaintext: bytes, iv: bytes | None = None) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = iv or os.urandom(16)
    return base64.b64encode(iv + _cbc(key, iv, _pad(plaintext, AES_BLOCK), encrypt=True)).decode()


def feishu_decrypt(*, encrypt_key: str, encrypted: str) -> bytes:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("not base64") from None
    if len(raw) < 32 or len(raw) % AES_BLOCK:
        raise CryptoError("not whole blocks")
    return _unpad(_cbc(key, raw[:16], raw[16:], encrypt=False), AES_BLOCK)


def feishu_signature(*, timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def signatures_equal(a: str, b: str) -> bool:
    return hmac.compare_digest((a or "").encode(), (b or "").encode())
