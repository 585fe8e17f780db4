"""All tables. Each concept has its own module; ALL_MODELS lists them for checks and tests."""

from portal.models.audit import AuditLog
from portal.models.base import BaseModel
from portal.models.people import (
    ROLE_CLIENT,
    ROLE_FRONTDESK,
    ROLE_OWNER,
    ROLE_THERAPIST,
    ROLES,
    STAFF_ROLES,
    Client,
    LoginAttempt,
    OutboxMessage,
    User,
    UserSession,
    UserToken,
)
from portal.models.practice import Practice, Provider

ALL_MODELS = [
    Practice,
    Provider,
    Client,
    User,
    UserSession,
    UserToken,
    LoginAttempt,
    OutboxMessage,
    AuditLog,
]

__all__ = [
    "ALL_MODELS",
    "AuditLog",
    "BaseModel",
    "Client",
    "LoginAttempt",
    "OutboxMessage",
    "Practice",
    "Provider",
    "ROLES",
    "ROLE_CLIENT",
    "ROLE_FRONTDESK",
    "ROLE_OWNER",
    "ROLE_THERAPIST",
    "STAFF_ROLES",
    "User",
    "UserSession",
    "UserToken",
]
