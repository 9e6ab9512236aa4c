"""``/process/approvals/``: submit, approve and reject against a small process registry.

Each configured :class:`~sandbox.salesforce.config.ApprovalProcess` is one step with one
approver. Submitting creates a ProcessInstance (``04g``) and a ProcessInstanceWorkitem
(``04i``) and runs the process's field updates; approving or rejecting closes the instance,
removes the workitem and runs the matching field updates. Both objects are queryable, so a
client can find pending workitems the way it would in an org.

How refusals come back is unconfirmed (``Behaviour.approval_errors``): either the whole call
answers 400 with a top-level error list (nothing committed), or 200 with ``success: false``
entries while the valid requests commit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox.salesforce.config import ApprovalProcess, EmulatorConfig
from sandbox.salesforce.dml import Engine, WriteContext
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.ids import make_id, normalize_id
from sandbox.salesforce.values import format_datetime


class Approvals:
    def __init__(self, config: EmulatorConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.processes = list(config.approval_processes)
        self.definition_ids = {p.name: make_id("04a", i + 1) for i, p in enumerate(self.processes)}

    def definitions(self) -> dict[str, Any]:
        """``GET /process/approvals/``: process definitions grouped by object."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for order, process in enumerate(self.processes, start=1):
            grouped.setdefault(process.object, []).append(
                {
                    "description": process.description,
                    "id": self.definition_ids[process.name],
                    "name": process.name,
                    "object": process.object,
                    "sortOrder": order,
                }
            )
        return {"approvals": grouped}

    def run(self, body: Any, ctx: WriteContext) -> list[dict[str, Any]]:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise SfError("JSON_PARSER_ERROR", "Expected a non-empty list of requests", fields=[])
        per_request = self.config.behaviour.approval_errors == "per_request"
        results = []
        for request in requests:
            if not per_request:
                results.append(self._one(request, ctx))
                continue
            try:
                with self.engine.store.atomic():
                    results.append(self._one(request, ctx))
            except SfError as error:
                results.append(
                    {
                        "actorIds": None,
                        "entityId": None,
                        "errors": [error.per_record()],
                        "instanceId": None,
                        "instanceStatus": None,
                        "newWorkitemIds": None,
                        "success": False,
                    }
                )
        return results

    def _one(self, request: Any, ctx: WriteContext) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise SfError("JSON_PARSER_ERROR", "Each request must be an object", fields=[])
        action = str(request.get("actionType", ""))
        context_id = normalize_id(str(request.get("contextId", "")))
        if context_id is None:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[])
        system = replace(ctx, system=True)
        if action == "Submit":
            return self._submit(request, context_id, system)
        if action in ("Approve", "Reject"):
            return self._decide(action, context_id, system)
        raise SfError("INVALID_OPERATION", f"Invalid actionType: {action}", fields=[])

    def _submit(self, request: dict[str, Any], record_id: str, ctx: WriteContext) -> dict[str, Any]:
        schema, store = self.engine.schema, self.engine.store
        obj = schema.object_of_id(record_id)
        found = store.get(record_id)
        if obj is None or found is None or found[1]:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[])
        process = self._process_for(obj.name, request.get("processDefinitionNameOrId"))
        instances = store.children("ProcessInstance", "TargetObjectId", [record_id])
        for instance_id in instances:
            instance = store.get(instance_id)
            if instance and instance[2].get("Status") == "Pending":
                raise SfError(
                    "ALREADY_IN_PROCESS", "Cannot submit object already in process.", fields=[]
                )
        approver = self._approver(process, request.get("nextApproverIds"), ctx)
        instance_obj = schema.sobject_or_404("ProcessInstance")
        workitem_obj = schema.sobject_or_404("ProcessInstanceWorkitem")
        instance_id = self.engine.create(
            instance_obj,
            {
                "TargetObjectId": record_id,
                "Status": "Pending",
                "ProcessDefinitionId": self.definition_ids[process.name],
            },
            ctx,
        )
        workitem_id = self.engine.create(
            workitem_obj, {"ProcessInstanceId": instance_id, "ActorId": approver}, ctx
        )
        if process.on_submit:
            self.engine.update(obj, record_id, dict(process.on_submit), ctx)
        return {
            "actorIds": [approver],
            "entityId": record_id,
            "errors": None,
            "instanceId": instance_id,
            "instanceStatus": "Pending",
            "newWorkitemIds": [workitem_id],
            "success": True,
        }

    def _decide(self, action: str, workitem_id: str, ctx: WriteContext) -> dict[str, Any]:
        schema, store = self.engine.schema, self.engine.store
        workitem = store.get(workitem_id)
        if workitem is None or workitem[0] != "ProcessInstanceWorkitem" or workitem[1]:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[])
        instance_id = workitem[2]["ProcessInstanceId"]
        instance = store.get(instance_id)
        if instance is None:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[])
        record_id = instance[2]["TargetObjectId"]
        obj = schema.object_of_id(record_id)
        process = next(
            (
                p
                for p in self.processes
                if self.definition_ids[p.name] == instance[2].get("ProcessDefinitionId")
            ),
            None,
        )
        status = "Approved" if action == "Approve" else "Rejected"
        instance_obj = schema.sobject_or_404("ProcessInstance")
        self.engine.write_fields(
            instance_obj,
            instance_id,
            instance[2],
            {"Status": status, "CompletedDate": format_datetime(self.engine.clock.now())},
            ctx,
        )
        self.engine.delete(schema.sobject_or_404("ProcessInstanceWorkitem"), workitem_id, ctx)
        updates = (
            (process.on_approve if action == "Approve" else process.on_reject) if process else {}
        )
        if obj is not None and updates:
            self.engine.update(obj, record_id, dict(updates), ctx)
        return {
            "actorIds": None,
            "entityId": record_id,
            "errors": None,
            "instanceId": instance_id,
            "instanceStatus": status,
            "newWorkitemIds": [],
            "success": True,
        }

    def _process_for(self, sobject: str, wanted: Any) -> ApprovalProcess:
        for process in self.processes:
            if process.object.lower() != sobject.lower():
                continue
            if wanted in (None, "", process.name, self.definition_ids[process.name]):
                return process
        raise SfError(
            "NO_APPLICABLE_PROCESS", "No applicable approval process was found.", fields=[]
        )

    def _approver(self, process: ApprovalProcess, next_ids: Any, ctx: WriteContext) -> str:
        if isinstance(next_ids, list) and next_ids:
            approver = normalize_id(str(next_ids[0]))
            user = self.engine.store.get(approver) if approver else None
            if approver is None or user is None or user[0] != "User":
                raise SfError(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
                )
            return approver
        if process.approver_username:
            user_obj = self.engine.schema.sobject_or_404("User")
            username = user_obj.field("Username")
            matches = (
                self.engine.find_external(user_obj, username, process.approver_username)
                if username
                else []
            )
            if matches:
                return matches[0]
        return ctx.user_id
