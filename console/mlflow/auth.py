"""How the client authenticates, resolved exactly as MLflow's own client does it.

Username and password → HTTP Basic (even when a token is also set: MLflow's code, not its
docstring, gives Basic precedence); else a token → Bearer; TLS from the insecure flag and the
server/client certificate paths. Secrets stay in ``SecretStr`` and never reach a repr or a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from console.errors import SettingsError
from console.http_auth import authorization


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment: safe to show in messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value or None
    return SecretStr(value) if value else None


@dataclass(frozen=True)
class AuthConfig:
    """Credentials and TLS settings for one server; ``repr`` shows the scheme, never secrets."""

    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    token: SecretStr | None = field(default=None, repr=False)
    insecure_tls: bool = False
    server_cert_path: Path | None = None
    client_cert_path: Path | None = None

    @classmethod
    def create(
        cls,
        *,
        username: str | None = None,
        password: str | SecretStr | None = None,
        token: str | SecretStr | None = None,
        insecure_tls: bool = False,
        server_cert_path: str | Path | None = None,
        client_cert_path: str | Path | None = None,
    ) -> AuthConfig:
        if insecure_tls and server_cert_path:
            # MLflow refuses this combination too: it is either verify-with-this-CA or not at all
            raise SettingsError(
                "tracking_insecure_tls and tracking_server_cert_path are both set",
                hint="unset one of MLFLOW_TRACKING_INSECURE_TLS / MLFLOW_TRACKING_SERVER_CERT_PATH",
            )
        return cls(
            username=username or None,
            password=_secret(password),
            token=_secret(token),
            insecure_tls=insecure_tls,
            server_cert_path=Path(server_cert_path) if server_cert_path else None,
            client_cert_path=Path(client_cert_path) if client_cert_path else None,
        )

    @classmethod
    def from_settings(cls, settings: Any) -> AuthConfig:
        return cls.create(
            username=settings.tracking_username,
            password=settings.tracking_password,
            token=settings.tracking_token,
            insecure_tls=settings.tracking_insecure_tls,
            server_cert_path=settings.tracking_server_cert_path,
            client_cert_path=settings.tracking_client_cert_path,
        )

    @property
    def scheme(self) -> str:
        """``basic``, ``bearer`` or ``none``: which credentials requests will carry."""
        if self.username and self.password:
            return "basic"
        if self.token:
            return "bearer"
        return "none"

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header, as MLflow's ``http_request`` builds it."""
        return authorization(
            self.username,
            self.password.get_secret_value() if self.password else None,
            self.token.get_secret_value() if self.token else None,
        )

    def verify(self) -> bool | str:
        """httpx's ``verify``: off when insecure (as MLflow), else the CA bundle or default."""
        if self.insecure_tls:
            return False
        if self.server_cert_path:
            return str(self.server_cert_path)
        return True

    def cert(self) -> str | None:
        return str(self.client_cert_path) if self.client_cert_path else None

    def describe(self) -> str:
        """One safe line for repr and diagnostics, e.g. ``basic user=alice``."""
        if self.scheme == "basic":
            return f"basic user={self.username}"
        return self.scheme
