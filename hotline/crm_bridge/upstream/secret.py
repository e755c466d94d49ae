"""The shared HMAC secret: from HOTLINE_UPSTREAM__SECRET, else generated once into
var/secrets.env (0600, not in git) beside the AMI secret."""

from __future__ import annotations

import os
import secrets

from hotline.crm_bridge.settings import CrmBridgeConfig

ENV_NAME = "HOTLINE_UPSTREAM__SECRET"


def ensure_secret(settings: CrmBridgeConfig) -> str:
    if settings.upstream.secret:
        return settings.upstream.secret
    path = settings.var_dir / "secrets.env"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(f"{ENV_NAME}={value}\n")
    os.chmod(path, 0o600)
    settings.upstream.secret = value
    return value
