"""`opcua://HOST:PORT[?cert=FILE&key=FILE]`: the station as an OPC UA server (asyncua) serving
the PLC handshake (handshake.py), on a thread with its own event loop.

Address space (namespace `urn:inspector:station`), named after OPC 40100 (Machine Vision) where
its terms fit: `Objects/VisionSystem` holds `Handshake/*` (`Trigger`, `PartId`, `ResultAck`
written by the PLC; `Ready`, `Busy`, `ResultValid`, `Error`, `ErrorText` read), the state
(`SystemState` in 40100's words, `State` as the handshake's code), `Heartbeat`, `Counters/*`,
`ResultManagement/Result/*` (the last result), `RecipeManagement/*` (the recipe in use, and the
method `RecipeManagement/SelectRecipe(RecipeName) -> Error, Message`, which loads the named
recipe and switches to it between parts; a user is needed, as for every call) and the methods
`Trigger(PartId) -> Error` and `Acknowledge() -> Error`. The values are mirrored from
the handshake by one task on the server's loop, result first and the handshake's bits last, so
a PLC that sees ResultValid reads the result it stands for.

Security: anonymous sessions read and browse only; writes and method calls need a user, checked
by the `check_password(user, password)` the wiring gives (the station's accounts). Without
certificates the endpoint is unencrypted (passwords cross the network in clear: a closed line
network only); with `cert` and `key` (PEM or DER; the certificate names the application URI
`urn:inspector:station`) the only endpoint is Basic256Sha256 Sign & Encrypt; client
certificates are not checked against a trust list. Every refusal (a write by an anonymous
session, a write to a read-only node, a bad value, a login refused) is counted and logged
through the handshake and answered with the protocol's status code (BadUserAccessDenied,
BadTypeMismatch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from asyncua import Server, ua
from asyncua.common.callback import CallbackType
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

from inspector.errors import InputError
from inspector.outputs.base import OutputError, OutputStatus
from inspector.outputs.handshake import ErrorCode, Handshake, Snapshot, State, server_status

log = logging.getLogger(__name__)

NAMESPACE = "urn:inspector:station"
START_TIMEOUT_S = 15.0
# OPC 40100's system states for the handshake's.
SYSTEM_STATE = {
    State.STOPPED: "Halted",
    State.IDLE: "Operational",
    State.RUNNING: "Operational",
    State.BUSY: "Operational",
    State.FAULT: "Error",
}
_READ_ONLY_REQUESTS = {
    ua.ObjectIds.WriteRequest_Encoding_DefaultBinary: "write",
    ua.ObjectIds.CallRequest_Encoding_DefaultBinary: "method call",
}

V = ua.VariantType
# name: (variant type, initial value); in this order under VisionSystem (a "/" makes a folder).
VARIABLES: dict[str, tuple[ua.VariantType, Any]] = {
    "Handshake/Trigger": (V.Boolean, False),
    "Handshake/PartId": (V.String, ""),
    "Handshake/ResultAck": (V.Boolean, False),
    "Handshake/Ready": (V.Boolean, False),
    "Handshake/Busy": (V.Boolean, False),
    "Handshake/ResultValid": (V.Boolean, False),
    "Handshake/Error": (V.Int32, 0),
    "Handshake/ErrorText": (V.String, ""),
    "State": (V.Int32, 0),
    "StateName": (V.String, "STOPPED"),
    "SystemState": (V.String, "Halted"),
    "Fault": (V.String, ""),
    "Heartbeat": (V.UInt32, 0),
    "PartInWork": (V.String, ""),
    "Counters/Triggers": (V.UInt32, 0),
    "Counters/Results": (V.UInt32, 0),
    "Counters/Errors": (V.UInt32, 0),
    "Counters/BusyRejections": (V.UInt32, 0),
    "ResultManagement/Result/Sequence": (V.UInt32, 0),
    "ResultManagement/Result/Code": (V.Int32, 0),
    "ResultManagement/Result/Outcome": (V.String, ""),
    "ResultManagement/Result/Reason": (V.String, ""),
    "ResultManagement/Result/DefectCount": (V.Int32, 0),
    "ResultManagement/Result/FirstDefect": (V.String, ""),
    "ResultManagement/Result/PartId": (V.String, ""),
    "ResultManagement/Result/InspectionId": (V.Int64, 0),
    "ResultManagement/Result/Time": (V.String, ""),
    "ResultManagement/Result/RecipeName": (V.String, ""),
    "ResultManagement/Result/RecipeVersion": (V.Int32, 0),
    "ResultManagement/Result/Engine": (V.String, ""),
    "ResultManagement/Result/LatencyMs": (V.Double, 0.0),
    "RecipeManagement/RecipeName": (V.String, ""),
    "RecipeManagement/RecipeVersion": (V.Int32, 0),
}
WRITABLE = ("Handshake/Trigger", "Handshake/PartId", "Handshake/ResultAck")


def values_of(snapshot: Snapshot) -> dict[str, Any]:
    """The value of every variable for a handshake snapshot."""
    c, r = snapshot.counters, snapshot.result
    values: dict[str, Any] = {
        "State": int(snapshot.state),
        "StateName": snapshot.state.name,
        "SystemState": SYSTEM_STATE[snapshot.state],
        "Fault": snapshot.fault,
        "Heartbeat": snapshot.heartbeat,
        "PartInWork": snapshot.part_id,
        "Counters/Triggers": c.triggers,
        "Counters/Results": c.results,
        "Counters/Errors": c.errors,
        "Counters/BusyRejections": c.busy_rejections,
        "ResultManagement/Result/Sequence": snapshot.result_sequence,
        "RecipeManagement/RecipeName": snapshot.recipe,
        "RecipeManagement/RecipeVersion": snapshot.recipe_version,
    }
    if r is not None:
        prefix = "ResultManagement/Result/"
        values.update(
            {
                prefix + "Code": int(r.code),
                prefix + "Outcome": r.outcome,
                prefix + "Reason": r.reason,
                prefix + "DefectCount": r.defect_count,
                prefix + "FirstDefect": r.first_defect,
                prefix + "PartId": r.part_id,
                prefix + "InspectionId": r.inspection_id,
                prefix + "Time": r.time.isoformat(),
                prefix + "RecipeName": r.recipe,
                prefix + "RecipeVersion": r.recipe_version,
                prefix + "Engine": r.engine,
                prefix + "LatencyMs": float(r.latency_ms),
            }
        )
    # The bits last: a PLC that sees ResultValid reads the result it stands for.
    values["Handshake/Error"] = int(snapshot.error)
    values["Handshake/ErrorText"] = snapshot.error_text
    values["Handshake/Ready"] = snapshot.ready
    values["Handshake/Busy"] = snapshot.busy
    values["Handshake/ResultValid"] = snapshot.result_valid
    return values


class _Accounts(UserManager):
    """Anonymous sessions read; a user the station knows may write and call."""

    def __init__(self, server: OpcUaServer) -> None:
        self._server = server

    def get_user(self, iserver, username=None, password=None, certificate=None) -> User | None:
        if not username:
            return User(role=UserRole.Anonymous)
        check = self._server.check_password
        if check is not None and check(username, password or ""):
            return User(role=UserRole.User, name=username)
        self._server.refuse(ErrorCode.NOT_ALLOWED, f"OPC UA login refused for user {username!r}")
        return None


class _ReadOnlyForAnonymous:
    """asyncua's permission rules: anonymous sessions may do anything but write and call."""

    def __init__(self, server: OpcUaServer) -> None:
        self._server = server

    def check_validity(self, user, action_type_id, body) -> bool:
        if user is None or user.role is not UserRole.Anonymous:
            return True
        refused = _READ_ONLY_REQUESTS.get(action_type_id.Identifier)
        if refused is None:
            return True
        self._server.refuse(ErrorCode.NOT_ALLOWED, f"OPC UA {refused} by an anonymous session")
        return False


class OpcUaServer:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "opcua" or not parts.hostname:
            raise InputError(f"output {url}: expected opcua://HOST:PORT")
        try:
            self.port = parts.port or 4840
        except ValueError:
            raise InputError(f"output {url}: the port must be a number") from None
        self.host = parts.hostname
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"cert", "key"}
        if unknown:
            raise InputError(f"output {url}: unknown option {sorted(unknown)[0]!r}; use cert, key")
        self.cert, self.key = options.get("cert"), options.get("key")
        if bool(self.cert) != bool(self.key):
            raise InputError(f"output {url}: give both cert= and key= (Sign & Encrypt), or none")
        self.name = url
        self.endpoint = f"opc.tcp://{self.host}:{self.port}/inspector/"
        self.check_password: Callable[[str, str], bool] | None = None
        self._handshake: Handshake | None = None
        self._nodes: dict[str, Any] = {}
        self._written: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._failure: str | None = None
        self._changed: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="opcua", daemon=True)

    # -- the Output protocol ---------------------------------------------------------------
    def attach(self, handshake: Handshake) -> None:
        self._handshake = handshake

    def set_accounts(self, check_password: Callable[[str, str], bool]) -> None:
        """Who may write and call: the station's accounts (store.authenticate, wrapped)."""
        self.check_password = check_password

    def start(self) -> None:
        if self._handshake is None:
            raise OutputError(f"output {self.name}: no handshake attached")
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise OutputError(f"output {self.name}: the OPC UA server did not start in time")
        if self._failure is not None:
            raise OutputError(f"output {self.name}: {self._failure}")
        self._handshake.subscribe(self._on_change)
        self._on_change(self._handshake.snapshot())

    def status(self) -> OutputStatus:
        running = self._started.is_set() and self._failure is None and self._thread.is_alive()
        return server_status(self.name, self._handshake, running, self._failure, self._clients)

    def _clients(self) -> int:
        """The connections open now (a PLC, an engineering tool browsing)."""
        server = getattr(self, "_server", None)
        binary = getattr(server, "bserver", None) if server is not None else None
        return len(getattr(binary, "clients", ()) or ())

    def close(self) -> None:
        if self._handshake is not None:
            self._handshake.unsubscribe(self._on_change)
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(10)

    def refuse(self, error: ErrorCode, what: str) -> None:
        if self._handshake is not None:
            self._handshake.refuse(error, what)

    # -- the server's thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # said by start(); the traceback goes to the log file only
            log.warning("OPC UA server on %s:%s failed", self.host, self.port, exc_info=True)
            self._failure = f"the OPC UA server cannot serve on {self.host}:{self.port}: {exc}"
        finally:
            self._started.set()

    async def _serve(self) -> None:
        # asyncua says every request at INFO: the station's log keeps its warnings only.
        logging.getLogger("asyncua").setLevel(logging.WARNING)
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        server = Server(user_manager=_Accounts(self))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("Inspector station")
        await server.set_application_uri(NAMESPACE)  # what the station's certificate names
        rules = _ReadOnlyForAnonymous(self)
        if self.cert and self.key:
            await server.load_certificate(self.cert)
            await server.load_private_key(self.key)
            policies = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
        else:
            policies = [ua.SecurityPolicyType.NoSecurity]
        server.set_security_policy(policies, permission_ruleset=rules)  # type: ignore[arg-type]
        server.set_identity_tokens([ua.AnonymousIdentityToken, ua.UserNameIdentityToken])
        index = await server.register_namespace(NAMESPACE)
        await self._build(server, index)
        server.subscribe_server_callback(CallbackType.PostWrite, self._after_write)
        self._server = server
        async with server:
            mirror = asyncio.create_task(self._mirror())
            self._started.set()
            await self._stop.wait()
            mirror.cancel()

    async def _build(self, server: Server, index: int) -> None:
        system = await server.nodes.objects.add_object(
            ua.NodeId("VisionSystem", index), ua.QualifiedName("VisionSystem", index)
        )
        folders: dict[str, Any] = {"": system}
        for name, (kind, initial) in VARIABLES.items():
            parent_path, _, leaf = name.rpartition("/")
            parent = folders.get(parent_path)
            if parent is None:
                above = ""
                for part in parent_path.split("/"):
                    path = f"{above}/{part}" if above else part
                    if path not in folders:
                        folders[path] = await folders[above].add_folder(
                            ua.NodeId(f"VisionSystem.{path.replace('/', '.')}", index),
                            ua.QualifiedName(part, index),
                        )
                    above = path
                parent = folders[parent_path]
            node = await parent.add_variable(
                ua.NodeId(f"VisionSystem.{name.replace('/', '.')}", index),
                ua.QualifiedName(leaf, index),
                ua.Variant(initial, kind),
            )
            if name in WRITABLE:
                await node.set_writable()
            self._nodes[name] = node
        part_id = ua.Argument(
            Name="PartId",
            DataType=ua.NodeId(ua.ObjectIds.String),
            ValueRank=-1,
            Description=ua.LocalizedText("the part's id or serial number (may be empty)"),
        )
        error = ua.Argument(
            Name="Error",
            DataType=ua.NodeId(ua.ObjectIds.Int32),
            ValueRank=-1,
            Description=ua.LocalizedText("0: taken; else the handshake's error code"),
        )
        await system.add_method(
            ua.NodeId("VisionSystem.Trigger", index),
            ua.QualifiedName("Trigger", index),
            self._trigger_method,
            [part_id],
            [error],
        )
        recipe = ua.Argument(
            Name="RecipeName",
            DataType=ua.NodeId(ua.ObjectIds.String),
            ValueRank=-1,
            Description=ua.LocalizedText("the recipe to select: its file in the recipes folder"),
        )
        message = ua.Argument(
            Name="Message",
            DataType=ua.NodeId(ua.ObjectIds.String),
            ValueRank=-1,
            Description=ua.LocalizedText("what was selected, or why the selection was refused"),
        )
        await folders["RecipeManagement"].add_method(
            ua.NodeId("VisionSystem.RecipeManagement.SelectRecipe", index),
            ua.QualifiedName("SelectRecipe", index),
            self._select_recipe_method,  # not async: asyncua runs it on a worker thread
            [recipe],
            [error, message],
        )
        await system.add_method(
            ua.NodeId("VisionSystem.Acknowledge", index),
            ua.QualifiedName("Acknowledge", index),
            self._acknowledge_method,
            [],
            [error],
        )

    def _trigger_method(self, parent, part_id: ua.Variant) -> list[ua.Variant]:
        text = part_id.Value if isinstance(part_id.Value, str) else ""
        code = self._handshake.trigger(text) if self._handshake else ErrorCode.NOT_READY
        return [ua.Variant(int(code), V.Int32)]

    def _select_recipe_method(self, parent, name: ua.Variant) -> list[ua.Variant]:
        text = name.Value if isinstance(name.Value, str) else ""
        if self._handshake is None:
            code, said = ErrorCode.NOT_READY, "no station"
        else:
            code, said = self._handshake.select_recipe(text)
        return [ua.Variant(int(code), V.Int32), ua.Variant(said, V.String)]

    def _acknowledge_method(self, parent) -> list[ua.Variant]:
        code = self._handshake.acknowledge() if self._handshake else ErrorCode.NO_RESULT
        return [ua.Variant(int(code), V.Int32)]

    async def _after_write(self, event, dispatcher) -> None:
        """The PLC wrote: refusals are counted; Trigger and ResultAck act (PartId first)."""
        handshake = self._handshake
        if handshake is None:
            return
        names = {node.nodeid: name for name, node in self._nodes.items()}
        statuses = event.response_params or []
        acted: list[str] = []
        for item, status in zip(event.request_params.NodesToWrite, statuses, strict=False):
            name = names.get(item.NodeId, str(item.NodeId))
            if not status.is_good():
                if status.value == ua.StatusCodes.BadUserAccessDenied:
                    handshake.refuse(ErrorCode.READ_ONLY, f"OPC UA write to read-only {name}")
                elif status.value == ua.StatusCodes.BadNodeIdUnknown:
                    handshake.refuse(ErrorCode.UNKNOWN_ADDRESS, f"OPC UA write to unknown {name}")
                else:
                    handshake.refuse(ErrorCode.BAD_VALUE, f"OPC UA write to {name}: {status.name}")
                continue
            if name in ("Handshake/Trigger", "Handshake/ResultAck") and item.Value.Value.Value:
                acted.append(name)
        for name in acted:
            await self._set(name, False)  # a command, not a state: it reads back False
            if name == "Handshake/Trigger":
                part_id = (await self._nodes["Handshake/PartId"].read_value()) or ""
                await self._set("Handshake/PartId", "")
                handshake.trigger(part_id)
            else:
                handshake.acknowledge()

    async def _set(self, name: str, value: Any) -> None:
        kind = VARIABLES[name][0]
        await self._server.write_attribute_value(
            self._nodes[name].nodeid, ua.DataValue(ua.Variant(value, kind))
        )

    # -- the handshake's changes, mirrored -------------------------------------------------
    def _on_change(self, snapshot: Snapshot) -> None:
        """Any thread: wake the mirror, which reads the newest snapshot."""
        loop, changed = self._loop, self._changed
        if loop is None or changed is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(changed.set)

    async def _mirror(self) -> None:
        """One task writes the handshake's values, the newest each time: changes that come
        while it writes are taken on the next round, and an older value never lands last."""
        assert self._changed is not None and self._handshake is not None
        while True:
            await self._changed.wait()
            self._changed.clear()
            for name, value in values_of(self._handshake.snapshot()).items():
                if self._written.get(name, object()) != value:
                    await self._set(name, value)
                    self._written[name] = value
