"""The records an org has before anyone writes: its Organization, an administrator
profile, the integration (running) user and any extra users from the configuration.

They are created once per state directory and found again by username afterwards, so a
restart keeps the same user ids and ``/__sandbox/reset`` keeps them too.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.dml import Engine, WriteContext
from sandbox.salesforce.values import format_datetime

PROFILE_NAME = "System Administrator"
#: Objects ``/__sandbox/reset`` keeps: the org's own records.
KEPT_ON_RESET = ("User", "Profile", "Organization")

_USER_DEFAULTS = {
    "IsActive": True,
    "TimeZoneSidKey": "Europe/Brussels",
    "LocaleSidKey": "fr_BE",
    "LanguageLocaleKey": "en_US",
    "EmailEncodingKey": "UTF-8",
}


def ensure_org_records(engine: Engine, config: EmulatorConfig, org_id: str) -> str:
    """Create what is missing; answer the running user's id."""
    user_obj = engine.schema.sobject_or_404("User")
    username_field = user_obj.field("Username")
    assert username_field is not None
    existing = engine.find_external(user_obj, username_field, config.credentials.username)
    if existing:
        user_id = existing[0]
    else:
        user_id = engine.store.next_id(engine.schema.key_prefix(user_obj))
        ctx = WriteContext(user_id=user_id, version="59.0", system=True)
        running = config.running_user
        create_user(
            engine,
            {
                "Username": config.credentials.username,
                "FirstName": running.first_name,
                "LastName": running.last_name,
                "Email": running.email,
                "Alias": running.alias,
                "TimeZoneSidKey": running.time_zone,
            },
            ctx,
            record_id=user_id,
        )
    ctx = WriteContext(user_id=user_id, version="59.0", system=True)
    _ensure_organization(engine, org_id, user_id)
    for extra in config.extra_users:
        username = extra.get("Username")
        if username and not engine.find_external(user_obj, username_field, username):
            create_user(engine, dict(extra), ctx)
    return user_id


def create_user(
    engine: Engine, values: dict[str, Any], ctx: WriteContext, *, record_id: str | None = None
) -> str:
    """A User with the defaults an admin's user-creation form would fill in."""
    user_obj = engine.schema.sobject_or_404("User")
    body = {k: v for k, v in _USER_DEFAULTS.items() if user_obj.field(k) is not None}
    if user_obj.field("ProfileId") is not None:
        body["ProfileId"] = admin_profile(engine, ctx)
    if user_obj.field("Alias") is not None and values.get("LastName"):
        body["Alias"] = str(values["LastName"])[:8]
    body.update(values)
    return engine.create(user_obj, body, ctx, record_id=record_id)


def admin_profile(engine: Engine, ctx: WriteContext) -> str:
    stored = engine.store.meta("profile_id")
    if stored and engine.store.get(stored):
        return stored
    profile = engine.schema.sobject_or_404("Profile")
    profile_id = engine.create(profile, {"Name": PROFILE_NAME}, ctx)
    engine.store.set_meta("profile_id", profile_id)
    return profile_id


def _ensure_organization(engine: Engine, org_id: str, user_id: str) -> None:
    org = engine.schema.object("Organization")
    if org is None or engine.store.get(org_id) is not None:
        return
    stamp = format_datetime(engine.clock.now())
    data: dict[str, Any] = {
        "Id": org_id,
        "Name": "Naturhome (emulated)",
        "InstanceName": "EMU1",
        "IsSandbox": True,
        "OrganizationType": "Developer Edition",
        "IsDeleted": False,
        "CreatedDate": stamp,
        "CreatedById": user_id,
        "LastModifiedDate": stamp,
        "LastModifiedById": user_id,
        "SystemModstamp": stamp,
    }
    engine.store.insert(
        org.name, org_id, {k: v for k, v in data.items() if org.field(k) is not None}
    )
