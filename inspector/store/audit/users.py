"""Users, roles and what each role may do; logins. Every change is an audit entry.

Passwords are kept as scrypt hashes (hashlib.scrypt, standard library): a 16-byte random salt
per user, N=2**15, r=8, p=1, 32-byte key, about 32 MiB and 0.1 s per check, so a stolen
database costs an attacker that much per guess. The parameters are stored with each hash and
can be raised later without invalidating old ones.

An `Identity` is the acting user the interface passes to every operation that changes a record.
Operations take it as a claim and check it again inside their transaction (`acting`): a user
disabled or demoted a second ago can do nothing more.

Lockout: every way of proving a password (a login, a signature, the current password when
changing it) goes through `_prove`, which counts wrong passwords per account. After the site
setting `lockout_attempts` wrong ones in a row, the account is locked for `lockout_minutes`:
no password is even checked until then, and an admin can lift it (`unlock_user`). The count
and the lock are re-read under the chain's lock, so stations guessing together share one
count. Failed attempts, locks and unlocks are audit entries; a password never is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from inspector.domain import utc_now
from inspector.errors import InputError, InspectorError
from inspector.store.audit import digests, password_policy, site_key
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import UserRow

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, SALT_BYTES = 2**15, 8, 1, 32, 16
SERVICE_ACCOUNT = "station"  # the headless station records as this account unless told otherwise
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_users = UserRow.__table__


class Role(StrEnum):
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"
    SERVICE = "service"  # a station running headless; cannot log in


class Permission(StrEnum):
    RECORD_INSPECTION = "record inspections"
    SAVE_RECIPE = "save recipe versions"
    APPROVE_RECIPE = "approve recipes"
    OVERRIDE_VERDICT = "override verdicts"
    EXPORT = "export records"
    MANAGE_USERS = "manage users"
    CHANGE_SETTINGS = "change settings"
    PURGE = "purge records"


_OPERATOR = {Permission.RECORD_INSPECTION, Permission.OVERRIDE_VERDICT, Permission.EXPORT}
_ENGINEER = _OPERATOR | {Permission.SAVE_RECIPE, Permission.APPROVE_RECIPE}
GRANTS: dict[Role, frozenset[Permission]] = {
    # A station registers the recipe it runs on first use (the `station_saves_recipes` setting
    # can take that away, so that only recipes an engineer saved can run).
    Role.SERVICE: frozenset({Permission.RECORD_INSPECTION, Permission.SAVE_RECIPE}),
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.ENGINEER: frozenset(_ENGINEER),
    Role.ADMIN: frozenset(Permission),
}


class PermissionDenied(InspectorError):
    exit_code = 4


class LoginFailed(InspectorError):
    exit_code = 4


class AccountLocked(LoginFailed):
    """Too many wrong passwords in a row: no login or signature until the lock ends."""


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    full_name: str

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            allowed = ", ".join(r.value for r in Role if permission in GRANTS[r])
            raise PermissionDenied(
                f"user {self.name} ({self.role.value}) may not {permission.value}; "
                f"that takes the role {allowed}"
            )


@dataclass(frozen=True)
class UserInfo:
    name: str
    full_name: str
    role: Role
    disabled: bool
    created_at: datetime
    locked_until: datetime | None = None  # set only while the account is locked
    failed_logins: int = 0  # wrong passwords in a row


# -- passwords ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        _scrypt(password, b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)  # same time
        return False
    scheme, n, r, p, salt, key = stored.split("$")
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(key)
    actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int = KEY_BYTES) -> bytes:
    memory = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=size
    )


# -- reading -----------------------------------------------------------------------------


def _row(connection: Connection, name: str) -> dict | None:
    row = connection.execute(select(_users).where(_users.c.name == name)).mappings().first()
    return dict(row) if row is not None else None


def _existing_row(connection: Connection, name: str) -> dict:
    """The user's row; InputError naming the user where there is none."""
    row = _row(connection, name)
    if row is None:
        raise InputError(f"user {name}: no such user (see `inspector user list`)")
    return row


def _identity(row: dict) -> Identity:
    return Identity(row["name"], Role(row["role"]), row["full_name"])


def list_users(engine: Engine) -> list[UserInfo]:
    with engine.connect() as connection:
        rows = connection.execute(select(_users).order_by(_users.c.name)).mappings().all()
    now = utc_now()
    return [
        UserInfo(
            r["name"],
            r["full_name"],
            Role(r["role"]),
            r["disabled"],
            r["created_at"],
            _locked_until(r, now),
            r["failed_logins"],
        )
        for r in rows
    ]


def has_people(bind: Engine | Connection) -> bool:
    """Whether any account other than a service account exists (bootstrap is over)."""
    query = select(_users.c.id).where(_users.c.role != Role.SERVICE.value).limit(1)
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return connection.execute(query).first() is not None
    return bind.execute(query).first() is not None


def acting(connection: Connection, identity: Identity, permission: Permission) -> Identity:
    """The identity as the database knows it now, allowed `permission`, or PermissionDenied."""
    row = _row(connection, identity.name)
    if row is None or row["disabled"]:
        state = "unknown" if row is None else "disabled"
        raise PermissionDenied(f"user {identity.name} is {state}")
    current = _identity(row)
    current.require(permission)
    return current


# -- logins, signatures and the lockout ---------------------------------------------------


def _locked_until(row: dict, now: datetime) -> datetime | None:
    until = row["locked_until"]
    return until if until is not None and until > now else None


def locked_message(name: str, until: datetime, failures: int) -> str:
    """What a locked account's owner reads (the time in the station's own time zone)."""
    local = until.astimezone().strftime("%H:%M")
    return (
        f"account {name} is locked until {local} ({failures} failed attempts); "
        f"an admin can unlock it with `inspector user unlock {name}`"
    )


def _lockout_settings(connection: Connection) -> tuple[int, int]:
    # Imported here: site_settings imports this module (Identity, acting).
    from inspector.store.audit import site_settings

    current = site_settings.load(connection)
    return current.lockout_attempts, current.lockout_minutes


@dataclass(frozen=True)
class _Attempt:
    row: dict | None
    failure: str | None  # None: the password was right and the account may use it
    locked: tuple[datetime, int] | None = None  # (until, failed attempts) when locked


def _prove(
    engine: Engine, name: str, password: str, failed_action: str, ok_action: str | None = None
) -> _Attempt:
    """Check `name`'s password, counting wrong ones and locking; audits every failure (and the
    success as `ok_action` when given)."""
    with engine.connect() as connection:
        row = _row(connection, name)
    now = utc_now()
    # A locked account takes no guesses: its password is not even checked.
    was_locked = row is not None and _locked_until(row, now) is not None
    seen = (row["locked_until"], row["failed_logins"]) if was_locked else None
    matches = not was_locked and check_password(password, row["password_hash"] if row else None)
    with audit.audited(engine) as connection:
        row = _row(connection, name)  # again, under the chain's lock: shared by every station
        locked, counted = None, None
        if row is None:
            failure = "unknown user"
        elif row["role"] == Role.SERVICE.value:
            failure = "a service account cannot log in"
        elif was_locked or _locked_until(row, now) is not None:
            failure = "account locked"
            still = _locked_until(row, now) is not None  # an admin may have lifted it since
            locked = (row["locked_until"], row["failed_logins"]) if still else seen
        elif not matches:
            failure = "wrong password"
            locked, counted = _count_failure(connection, row, now)
        elif row["disabled"]:
            failure = "user disabled"
        else:
            failure = None
            if row["failed_logins"] or row["locked_until"] is not None:
                connection.execute(
                    update(_users)
                    .where(_users.c.name == name)
                    .values(failed_logins=0, locked_until=None)
                )
            if ok_action:
                audit.append(connection, name, ok_action, "user", name[:100])
        if failure is not None:
            audit.append(
                connection, name, failed_action, "user", name[:100], new=counted, reason=failure
            )
            if locked is not None and failure == "wrong password":
                until, failures = locked
                audit.append(
                    connection,
                    "system",
                    "user.locked",
                    "user",
                    name,
                    new={"locked_until": until.isoformat(), "failed_logins": failures},
                    reason=f"{failures} wrong passwords in a row",
                )
    return _Attempt(row, failure, locked)


def _count_failure(
    connection: Connection, row: dict, now: datetime
) -> tuple[tuple[datetime, int] | None, dict]:
    """One more wrong password: ((until, count) when this one locks the account, the count and
    the limit for the audit entry)."""
    attempts, minutes = _lockout_settings(connection)
    # A lock that has run out starts the count again.
    failures = (0 if row["locked_until"] is not None else row["failed_logins"]) + 1
    until = now + timedelta(minutes=minutes) if failures >= attempts else None
    connection.execute(
        update(_users)
        .where(_users.c.name == row["name"])
        .values(failed_logins=failures, locked_until=until)
    )
    counted = {"failed_attempts": failures, "lockout_attempts": attempts}
    return ((until, failures) if until is not None else None), counted


def _raise_if_locked(name: str, attempt: _Attempt) -> None:
    if attempt.locked is not None:
        until, failures = attempt.locked
        raise AccountLocked(locked_message(name, until, failures))


def authenticate(engine: Engine, name: str, password: str) -> Identity:
    """The identity of a user whose password matches; each try is an audit entry."""
    attempt = _prove(engine, name, password, "user.login_failed", "user.login")
    _raise_if_locked(name, attempt)
    if attempt.failure == "user disabled":
        raise LoginFailed(f"user {name} is disabled; an administrator can tell why")
    if attempt.failure:
        raise LoginFailed(f"login failed for {name!r}: wrong user name or password")
    return _identity(attempt.row)


def check_signer(engine: Engine, identity: Identity, password: str) -> None:
    """An electronic signature's password check: the signer types the password again."""
    attempt = _prove(engine, identity.name, password, "signature.failed")
    _raise_if_locked(identity.name, attempt)
    if attempt.failure:
        raise LoginFailed(f"signature refused: wrong password for {identity.name}")


def unlock_user(engine: Engine, actor: Identity, name: str, reason: str = "") -> UserInfo:
    """Lift a lock and clear the count of wrong passwords; returns the state before."""
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.MANAGE_USERS)
        row = _existing_row(connection, name)
        if not row["failed_logins"] and row["locked_until"] is None:
            raise InputError(f"user {name} is not locked and has no failed attempts on record")
        connection.execute(
            update(_users).where(_users.c.name == name).values(failed_logins=0, locked_until=None)
        )
        until = row["locked_until"]
        audit.append(
            connection,
            by.name,
            "user.unlocked",
            "user",
            name,
            old={
                "failed_logins": row["failed_logins"],
                "locked_until": until.isoformat() if until else None,
            },
            new={"failed_logins": 0, "locked_until": None},
            reason=reason,
        )
    return UserInfo(
        name,
        row["full_name"],
        Role(row["role"]),
        row["disabled"],
        row["created_at"],
        _locked_until(row, utc_now()),
        row["failed_logins"],
    )


# -- changes -----------------------------------------------------------------------------


def add_user(
    engine: Engine,
    actor: Identity | None,
    name: str,
    role: str,
    password: str | None,
    full_name: str = "",
    reason: str = "",
    site_key_path: Path | None = None,
) -> Identity:
    """Add an account. With no actor, only the first administrator (bootstrap) may be added;
    the site's signing key is created with it (its private key at `site_key_path`)."""
    if not NAME_PATTERN.match(name):
        raise InputError(
            f"user name {name!r}: use letters, digits and . _ @ - (at most 64, "
            "starting with a letter or digit)"
        )
    try:
        role_ = Role(role)
    except ValueError:
        raise InputError(f"role {role!r}: use one of {', '.join(r.value for r in Role)}") from None
    if actor is not None:
        actor.require(Permission.MANAGE_USERS)  # before saying anything about the password
    stored = None
    if role_ is not Role.SERVICE:
        if password is None:
            raise InputError(f"user {name} needs a password")
        password_policy.check(password, name, admin=role_ is Role.ADMIN)
        stored = hash_password(password)
    with audit.audited(engine) as connection:
        if actor is None:
            if has_people(connection) or role_ is not Role.ADMIN:
                raise PermissionDenied(
                    "adding a user takes an administrator (give --user NAME); without one, "
                    "only the first administrator can be added"
                )
            by, reason = name, reason or "first administrator (bootstrap)"
        else:
            by = acting(connection, actor, Permission.MANAGE_USERS).name
        added = _insert(connection, by, name, role_, stored, full_name or name, reason)
        if actor is None and site_key_path is not None:
            site_key.create(connection, name, site_key_path)  # the site's key, with its admin
        return added


def ensure_service_account(engine: Engine, name: str = SERVICE_ACCOUNT) -> Identity:
    """The identity of a station's service account, created on the station's first start."""
    with engine.connect() as connection:
        row = _row(connection, name)
    if row is None:
        with audit.audited(engine) as connection:
            row = _row(connection, name)
            if row is None:
                reason = "service account created on the station's first start"
                return _insert(connection, "system", name, Role.SERVICE, None, name, reason)
    if row["role"] != Role.SERVICE.value:
        raise PermissionDenied(
            f"{name} is a person's account, not a service account; a station records as a "
            "service account (log in to act as a person)"
        )
    if row["disabled"]:
        raise PermissionDenied(f"the service account {name} is disabled; nothing is recorded")
    return _identity(row)


def _insert(
    connection: Connection,
    by: str,
    name: str,
    role: Role,
    stored: str | None,
    full_name: str,
    reason: str,
) -> Identity:
    if _row(connection, name) is not None:
        raise InputError(f"user {name} exists already; pick another name")
    row = {
        "name": name,
        "full_name": full_name,
        "role": role.value,
        "password_hash": stored,
        "disabled": False,
        "created_at": utc_now(),
        "failed_logins": 0,
        "locked_until": None,
    }
    connection.execute(insert(_users), row)
    new = {"name": name, "full_name": full_name, "role": role.value, "disabled": False}
    new["sha256"] = digests.user(row)
    audit.append(connection, by, "user.added", "user", name, new=new, reason=reason)
    return Identity(name, role, full_name)


def disable_user(engine: Engine, actor: Identity, name: str, reason: str = "") -> None:
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.MANAGE_USERS)
        row = _existing_row(connection, name)
        if row["disabled"]:
            raise InputError(f"user {name} is disabled already")
        if row["role"] == Role.ADMIN.value:
            others = connection.execute(
                select(_users.c.id).where(
                    _users.c.role == Role.ADMIN.value,
                    _users.c.disabled.is_(False),
                    _users.c.name != name,
                )
            ).first()
            if others is None:
                raise InputError(f"user {name} is the last administrator; add another first")
        connection.execute(update(_users).where(_users.c.name == name).values(disabled=True))
        new = {"disabled": True, "sha256": digests.user({**row, "disabled": True})}
        audit.append(
            connection,
            by.name,
            "user.disabled",
            "user",
            name,
            old={"disabled": False},
            new=new,
            reason=reason,
        )


def change_own_password(
    engine: Engine, name: str, current: str, new_password: str, reason: str = ""
) -> None:
    """A person sets a new password, proving the current one (a wrong one counts to a lock)."""
    row = _person(engine, name)
    password_policy.check(new_password, name, admin=row["role"] == Role.ADMIN.value)
    attempt = _prove(engine, name, current, "user.password_change_failed")
    _raise_if_locked(name, attempt)
    if attempt.failure == "user disabled":
        raise PermissionDenied(f"user {name} is disabled")
    if attempt.failure:
        raise LoginFailed(f"password not changed: wrong current password for {name}")
    if check_password(new_password, attempt.row["password_hash"]):
        raise InputError(f"password for {name} refused: it is the current password")
    with audit.audited(engine) as connection:
        _store_password(connection, name, name, new_password, reason or "changed by its owner")


def reset_password(
    engine: Engine,
    actor: Identity,
    signature_password: str,
    name: str,
    new_password: str,
    reason: str = "",
) -> int:
    """An administrator sets another user's password, signed with the admin's own password;
    the user's lock, if any, ends. Returns the signature's id."""
    from inspector.store.audit import signatures  # it imports this module (Identity)

    actor.require(Permission.MANAGE_USERS)
    row = _person(engine, name)
    password_policy.check(new_password, name, admin=row["role"] == Role.ADMIN.value)
    check_signer(engine, actor, signature_password)
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.MANAGE_USERS)
        why = reason or "set by an administrator"
        statement = f"{by.full_name} ({by.name}) set a new password for user {name}. Reason: {why}"
        signature_id, signature_sha = signatures.sign(
            connection, by, signatures.Meaning.APPROVED, "user", name, statement
        )
        _store_password(connection, by.name, name, new_password, why, signature_id, signature_sha)
    return signature_id


def _person(engine: Engine, name: str) -> dict:
    with engine.connect() as connection:
        row = _existing_row(connection, name)
    if row["role"] == Role.SERVICE.value:
        raise InputError(f"user {name} is a service account: it has no password")
    return row


def _store_password(
    connection: Connection,
    by: str,
    name: str,
    new_password: str,
    reason: str,
    signature_id: int | None = None,
    signature_sha: str | None = None,
) -> None:
    stored = hash_password(new_password)
    connection.execute(
        update(_users)
        .where(_users.c.name == name)
        .values(password_hash=stored, failed_logins=0, locked_until=None)
    )
    row = _row(connection, name)
    new = {"sha256": digests.user(row)}  # the digest covers the hash's hash, never the password
    if signature_sha is not None:
        new["signature_sha256"] = signature_sha
    audit.append(
        connection,
        by,
        "user.password_changed",
        "user",
        name,
        new=new,
        reason=reason,
        signature_id=signature_id,
    )


def enable_user(engine: Engine, actor: Identity, name: str, reason: str = "") -> None:
    """Give a disabled account back its use (`disable_user` undone), audited."""
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.MANAGE_USERS)
        row = _existing_row(connection, name)
        if not row["disabled"]:
            raise InputError(f"user {name} is active already")
        connection.execute(update(_users).where(_users.c.name == name).values(disabled=False))
        new = {"disabled": False, "sha256": digests.user({**row, "disabled": False})}
        audit.append(
            connection,
            by.name,
            "user.enabled",
            "user",
            name,
            old={"disabled": True},
            new=new,
            reason=reason,
        )


def set_role(engine: Engine, actor: Identity, name: str, role: str, reason: str = "") -> Role:
    """Change a person's role, audited; returns the role it had. A person's account never
    becomes a service account nor the other way round, and the last active administrator
    stays one."""
    try:
        new_role = Role(role)
    except ValueError:
        raise InputError(f"role {role!r}: use one of {', '.join(r.value for r in Role)}") from None
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.MANAGE_USERS)
        row = _existing_row(connection, name)
        old_role = Role(row["role"])
        if Role.SERVICE in (old_role, new_role):
            raise InputError(
                f"user {name}: a service account and a person's account cannot change into "
                "each other; add a new account instead"
            )
        if old_role is new_role:
            raise InputError(f"user {name} is {new_role.value} already")
        if old_role is Role.ADMIN and not row["disabled"] and not _other_admin(connection, name):
            raise InputError(f"user {name} is the last administrator; make another one first")
        connection.execute(update(_users).where(_users.c.name == name).values(role=new_role.value))
        new = {"role": new_role.value, "sha256": digests.user({**row, "role": new_role.value})}
        audit.append(
            connection,
            by.name,
            "user.role_changed",
            "user",
            name,
            old={"role": old_role.value},
            new=new,
            reason=reason,
        )
    return old_role


def _other_admin(connection: Connection, name: str) -> bool:
    query = select(_users.c.id).where(
        _users.c.role == Role.ADMIN.value, _users.c.disabled.is_(False), _users.c.name != name
    )
    return connection.execute(query).first() is not None


def log_out(engine: Engine, identity: Identity, reason: str = "") -> int:
    """The end of a person's session in the window (a logout or a switch of user), audited as
    `user.logout` like the login it closes; returns the entry's number."""
    with audit.audited(engine) as connection:
        return audit.append(
            connection, identity.name, "user.logout", "user", identity.name[:100], reason=reason
        )
