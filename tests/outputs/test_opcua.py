"""A PLC played by a real asyncua client runs the handshake against `inspector run --trigger plc
--output opcua://...` on the demo camera (reference recipe, no model): 200 parts, each trigger
answered once, the results equal to the records; then bad input, counted and refused."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.line_station import (
    PLC_PASSWORD,
    PLC_USER,
    add_plc_account,
    records,
    start_line_station,
    stop_station,
)
from tests.support.ports import free_port

asyncua = pytest.importorskip("asyncua")
from asyncua import Client, ua  # noqa: E402

PARTS = 200
NAMESPACE = "urn:inspector:station"
RESULT = ("Code", "Outcome", "PartId", "InspectionId", "Reason", "Sequence")


async def connect(url: str, user: str | None = None, password: str | None = None) -> Client:
    """A session once the station's server answers (the station loads its recipe first)."""
    for _ in range(300):
        client = Client(url, timeout=5)
        if user:
            client.set_user(user)
            client.set_password(password or "")
        try:
            await client.connect()
            return client
        except (TimeoutError, OSError):
            await asyncio.sleep(0.1)
    raise AssertionError(f"no OPC UA server at {url}")


class Plc:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def setup(self) -> None:
        self.ns = await self.client.get_namespace_index(NAMESPACE)
        self.system = self.node("")

    def node(self, name: str):
        node_id = "VisionSystem" + (f".{name}" if name else "")
        return self.client.get_node(ua.NodeId(node_id, self.ns))

    async def read(self, name: str):
        return await self.node(name).read_value()

    async def wait(self, name: str, value, timeout: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.read(name) == value:
                return
        state = {n: await self.read(n) for n in ("StateName", "PartInWork", "Handshake.ErrorText")}
        raise AssertionError(f"{name} did not become {value} within {timeout} s: {state}")

    async def result(self) -> dict:
        names = [f"ResultManagement.Result.{n}" for n in RESULT]
        values = await self.client.read_values([self.node(n) for n in names])
        return dict(zip(RESULT, values, strict=True))

    async def trigger_by_write(self, part_id: str) -> None:
        nodes = [self.node("Handshake.PartId"), self.node("Handshake.Trigger")]
        await self.client.write_values(nodes, [part_id, True])

    async def trigger_by_call(self, part_id: str) -> int:
        return await self.system.call_method(ua.NodeId("VisionSystem.Trigger", self.ns), part_id)

    async def part(self, part_id: str, by_call: bool) -> dict:
        """One part through the whole handshake."""
        if by_call:
            assert await self.trigger_by_call(part_id) == 0
        else:
            await self.trigger_by_write(part_id)
        await self.wait("Handshake.ResultValid", True)
        result = await self.result()
        await self.node("Handshake.ResultAck").write_value(True)
        await self.wait("Handshake.ResultValid", False)
        return result


async def run_line(url: str) -> tuple[list[dict], dict]:
    client = await connect(url, PLC_USER, PLC_PASSWORD)
    try:
        plc = Plc(client)
        await plc.setup()
        await plc.wait("Handshake.Ready", True)
        results = [await plc.part(f"SN-{i:04d}", by_call=i % 2 == 1) for i in range(PARTS)]
        bad = await bad_input(url, plc)
        return results, bad
    finally:
        await client.disconnect()


async def bad_input(url: str, plc: Plc) -> dict:
    """Each refused with the protocol's error and counted; the station goes on."""
    seen: dict = {}
    anonymous = await connect(url)
    try:
        guest = Plc(anonymous)
        await guest.setup()
        seen["anonymous reads"] = await guest.read("StateName")
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await guest.node("Handshake.Trigger").write_value(True)
        seen["anonymous write"] = type(refused.value).__name__
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await guest.trigger_by_call("X")
        seen["anonymous call"] = type(refused.value).__name__
    finally:
        await anonymous.disconnect()
    wrong = Client(url, timeout=5)
    wrong.set_user(PLC_USER)
    wrong.set_password("not-the-password")
    with pytest.raises(ua.UaStatusCodeError) as refused:
        await wrong.connect()
    seen["wrong password"] = type(refused.value).__name__
    with pytest.raises(ua.UaStatusCodeError) as refused:
        await plc.node("Heartbeat").write_value(ua.Variant(7, ua.VariantType.UInt32))
    seen["read-only write"] = type(refused.value).__name__
    # A trigger while the last result waits for its acknowledgement: refused, counted.
    assert await plc.trigger_by_call("SN-busy-1") == 0
    await plc.wait("Handshake.ResultValid", True)
    seen["busy trigger"] = await plc.trigger_by_call("SN-busy-2")
    seen["busy result"] = await plc.result()
    await plc.node("Handshake.ResultAck").write_value(True)
    await plc.wait("Handshake.ResultValid", False)
    # The station goes on; a PLC (or SCADA) subscribed to ResultValid is told of the result.
    notified: list = []

    class Handler:
        def datachange_notification(self, node, value, data) -> None:
            notified.append(value)

    subscription = await plc.client.create_subscription(10, Handler())
    await subscription.subscribe_data_change(plc.node("Handshake.ResultValid"))
    seen["after"] = await plc.part("SN-after", by_call=False)
    for _ in range(100):
        if True in notified:
            break
        await asyncio.sleep(0.02)
    await subscription.delete()
    seen["notified"] = notified
    names = ("Triggers", "Results", "Errors", "BusyRejections")
    seen["counters"] = {n: await plc.read(f"Counters.{n}") for n in names}
    seen["heartbeat"] = await plc.read("Heartbeat")
    return seen


def test_a_plc_runs_200_parts_over_opcua_and_bad_input_is_refused(tmp_path):
    data = tmp_path / "data"
    add_plc_account(data)
    port = free_port()
    station = start_line_station(data, f"opcua://127.0.0.1:{port}")
    try:
        results, bad = asyncio.run(run_line(f"opc.tcp://127.0.0.1:{port}/inspector/"))
    finally:
        stdout, stderr = stop_station(station)

    # Every trigger got exactly one result, in order, and each is the part's record.
    assert [r["PartId"] for r in results] == [f"SN-{i:04d}" for i in range(PARTS)]
    assert [r["Sequence"] for r in results] == list(range(1, PARTS + 1))
    rows = {row[0]: row for row in records(data)}
    assert len(rows) == PARTS + 2  # the 200, the busy test's part and the one after
    codes = {"PASS": 1, "FAIL": 2, "UNSURE": 2}  # the demo recipe rejects UNSURE parts
    for result in results:
        _, part_id, outcome, _ = rows[result["InspectionId"]]
        assert (part_id, outcome) == (result["PartId"], result["Outcome"])
        assert result["Code"] == codes[outcome] and result["Reason"] == "verdict"
    # The demo camera alternates a defective board and a good one.
    assert {r["Outcome"] for r in results[0::2]} == {"FAIL"}
    assert {r["Outcome"] for r in results[1::2]} == {"PASS"}
    assert len(stdout.splitlines()) == PARTS + 2

    assert bad["anonymous reads"] == "IDLE"
    assert bad["anonymous write"] == bad["anonymous call"] == "BadUserAccessDenied"
    assert bad["wrong password"] == "BadUserAccessDenied"
    assert bad["read-only write"] == "BadUserAccessDenied"
    assert bad["busy trigger"] == 1  # ErrorCode.BUSY
    assert bad["busy result"]["PartId"] == "SN-busy-1"
    assert bad["after"]["PartId"] == "SN-after"
    assert True in bad["notified"]
    assert bad["counters"] == {
        "Triggers": PARTS + 3,
        "Results": PARTS + 2,
        "Errors": 5,  # anonymous write and call, wrong password, read-only write, busy
        "BusyRejections": 1,
    }
    assert bad["heartbeat"] > 0
    log = (data / "logs" / "inspector.log").read_text()
    assert "PLC handshake: OPC UA write by an anonymous session (NOT_ALLOWED)" in log
    assert "PLC handshake: OPC UA write to read-only Heartbeat (READ_ONLY)" in log
    assert "PLC handshake: trigger while busy (BUSY)" in log
    assert (
        f"stopped: {PARTS + 2} frames captured, {PARTS + 2} judged, {PARTS + 2} recorded" in stderr
    )


def test_with_certificates_the_only_endpoint_signs_and_encrypts(tmp_path):
    """`opcua://...?cert=&key=`: a plain client finds no endpoint; a client that signs and
    encrypts, with a user, triggers. The station is the handshake answering at once."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from inspector.outputs.handshake import Handshake, PartResult, ResultCode, State
    from inspector.outputs.opcua import OpcUaServer

    async def certificates() -> None:
        for name, uri, use in (
            ("station", NAMESPACE, ExtendedKeyUsageOID.SERVER_AUTH),
            ("plc", "urn:test:plc", ExtendedKeyUsageOID.CLIENT_AUTH),
        ):
            await setup_self_signed_certificate(
                tmp_path / f"{name}.pem",
                tmp_path / f"{name}.der",
                uri,
                "localhost",
                [use],
                {"commonName": name},
            )

    asyncio.run(certificates())
    handshake = Handshake()
    handshake.set_state(State.IDLE)
    handshake.on_trigger = lambda token, part_id: handshake.complete(
        token, PartResult(ResultCode.PASS, part_id=part_id)
    )
    port = free_port()
    server = OpcUaServer(
        f"opcua://127.0.0.1:{port}?cert={tmp_path / 'station.der'}&key={tmp_path / 'station.pem'}"
    )
    server.attach(handshake)
    server.set_accounts(lambda user, password: (user, password) == (PLC_USER, PLC_PASSWORD))
    server.start()
    url = f"opc.tcp://127.0.0.1:{port}/inspector/"

    async def plc() -> tuple[str, int, str]:
        plain = Client(url, timeout=5)
        with pytest.raises(ua.UaError) as refused:
            await plain.connect()
        secure = Client(url, timeout=5)
        await secure.set_security(
            SecurityPolicyBasic256Sha256,
            str(tmp_path / "plc.der"),
            str(tmp_path / "plc.pem"),
            server_certificate=str(tmp_path / "station.der"),
            mode=ua.MessageSecurityMode.SignAndEncrypt,
        )
        secure.set_user(PLC_USER)
        secure.set_password(PLC_PASSWORD)
        async with secure:
            line = Plc(secure)
            await line.setup()
            error = await line.trigger_by_call("SN-sealed")
            await line.wait("Handshake.ResultValid", True)
            return str(refused.value), error, (await line.result())["PartId"]

    try:
        refusal, error, part_id = asyncio.run(plc())
    finally:
        server.close()
        handshake.close()
    assert "No matching endpoints" in refusal
    assert (error, part_id) == (0, "SN-sealed")
