"""One emulated org: its schema, data, sessions and API budget, independent of HTTP.

The HTTP layer (``app.py``) translates requests into calls on :class:`Org`; everything that
touches the store runs under :attr:`Org.lock`, which serialises requests the way row locks
serialise conflicting writes in an org, and keeps SQLite single-writer.
"""

from __future__ import annotations

import threading
from typing import Any

from naturhome_sync.sfschema import load_schema
from naturhome_sync.sfschema.describe import describe_global
from sandbox.salesforce.approvals import Approvals
from sandbox.salesforce.auth import Auth
from sandbox.salesforce.clock import Clock
from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.control import Faults, Stats
from sandbox.salesforce.dml import Engine
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.http_types import RestRequest, RestResponse, error_response
from sandbox.salesforce.ids import to18
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.platform import augment
from sandbox.salesforce.query import QueryService
from sandbox.salesforce.rest import Rest
from sandbox.salesforce.store import Store
from sandbox.salesforce.usage import ApiUsage
from sandbox.salesforce.users import KEPT_ON_RESET, ensure_org_records

INVALID_SESSION = SfError("INVALID_SESSION_ID", "Session expired or invalid", status=401)


class Org:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.store = Store(config.state_dir)
        base = config.schema if config.schema is not None else load_schema(config.salesforce_dir)
        self.default_version = base.api_version or "59.0"
        self.clock = Clock(config.org_timezone)
        self.org_id = to18(config.org_id)
        with self.lock:
            self.schema = OrgSchema(augment(base), self.store)
            self.engine = Engine(self.schema, self.store, self.clock, config.behaviour)
            self.auth = Auth(config, self.store, self.clock, self.org_id)
            self.queries = QueryService(self.schema, self.store, self.clock, config)
            self.approvals = Approvals(config, self.engine)
            self.usage = ApiUsage(self.store, self.clock, config.daily_api_requests, self.lock)
            self.rest = Rest(self)
            self.stats = Stats()
            self.faults = Faults(config.behaviour)
            with self.store.atomic():
                self.user_id = ensure_org_records(self.engine, config, self.org_id)
            self.auth.user_id = self.user_id
        self._describe_cache: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        with self.lock:
            self.store.close()

    def describe_global(self, version: str) -> dict[str, Any]:
        if version not in self._describe_cache:
            self._describe_cache[version] = describe_global(
                self.schema.schema, version, self.schema.prefixes
            )
        return self._describe_cache[version]

    # -- data calls ----------------------------------------------------------------

    def authorize(self, authorization: str | None) -> str:
        """The user behind a bearer token, after counting the call against the allocation."""
        with self.lock:
            user_id = self.auth.authenticate(authorization)
            if user_id is None:
                raise INVALID_SESSION
            self.usage.count_call()
            return user_id

    def handle(self, req: RestRequest) -> RestResponse:
        with self.lock:
            try:
                return self.rest.dispatch(req)
            except SfError as error:
                return error_response(error)

    # -- sandbox control -----------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        """Forget every record except users, profiles and the organization; clear query
        cursors, the API count, call statistics, faults and the clock offset. Schema, key
        prefixes, id counters and sessions stay."""
        with self.lock:
            with self.store.atomic():
                self.store.wipe_data(KEPT_ON_RESET)
            self.queries.forget_all()
            self.usage.reset()
            self.stats.reset()
            self.faults.clear()
            self.clock.reset()
        return {"reset": True, "kept": list(KEPT_ON_RESET)}

    def expire_sessions(self) -> int:
        with self.lock:
            return self.store.drop_sessions()
