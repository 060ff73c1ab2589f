"""Recipe selection over the line against a real `inspector run --trigger plc`: a PLC (a real
asyncua client) runs parts, selects another recipe with OPC UA's SelectRecipe, runs more; a line
system (paho, on the machine's Mosquitto) selects a recipe with the MQTT command; recipes that
cannot be found or loaded are refused with the reason and the station keeps its recipe. Every
part after a switch is recorded under the new recipe's version."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
import yaml

from tests.outputs.test_opcua import Plc, connect
from tests.support.line_station import (
    DEMO,
    PLC_PASSWORD,
    PLC_USER,
    REFERENCE_RECIPE,
    add_plc_account,
    start_line_station,
    stop_station,
)
from tests.support.mqtt_peers import MACHINE_BROKER, Reader, listening, publish
from tests.support.ports import free_port

asyncua = pytest.importorskip("asyncua")
from asyncua import ua  # noqa: E402

HOST, PORT = MACHINE_BROKER
pytestmark = pytest.mark.skipif(
    not listening(HOST, PORT), reason=f"no MQTT broker (Mosquitto) at {HOST}:{PORT}"
)


def _recipes(folder: Path) -> Path:
    """board-a (the demo's reference recipe), board-b (the same judge, another name and
    version), broken (an engine nobody has), in one recipes folder."""
    folder.mkdir()
    demo = yaml.safe_load(REFERENCE_RECIPE.read_text())
    demo["references"] = [str(DEMO / path) for path in demo["references"]]
    for file, name, version in (("board-a", "board-a", 1), ("board-b", "board-b", 3)):
        (folder / f"{file}.yaml").write_text(
            yaml.safe_dump({**demo, "name": name, "version": version})
        )
    broken = {**demo, "name": "broken", "engines": [{"engine": "no-such-engine"}]}
    (folder / "broken.yaml").write_text(yaml.safe_dump(broken))
    return folder / "board-a.yaml"


async def select(plc: Plc, name: str) -> tuple[int, str]:
    method = ua.NodeId("VisionSystem.RecipeManagement.SelectRecipe", plc.ns)
    folder = plc.node("RecipeManagement")
    return await folder.call_method(method, name)


async def plc_session(url: str, mqtt_select) -> dict:
    seen: dict = {"results": []}
    client = await connect(url, PLC_USER, PLC_PASSWORD)
    try:
        plc = Plc(client)
        await plc.setup()
        await plc.wait("Handshake.Ready", True)

        async def parts(prefix: str, count: int) -> None:
            for i in range(count):
                seen["results"].append(await plc.part(f"{prefix}{i}", by_call=True))

        await parts("A-", 3)
        seen["select b"] = await select(plc, "board-b")
        seen["recipe after b"] = await plc.read("RecipeManagement.RecipeName")
        await parts("B-", 3)
        seen["select broken"] = await select(plc, "broken")
        seen["select missing"] = await select(plc, "no-such-recipe")
        seen["select outside"] = await select(plc, "../board-a")
        await parts("B-kept-", 2)
        seen["mqtt reply"] = await asyncio.get_running_loop().run_in_executor(
            None, mqtt_select, "board-a"
        )
        seen["recipe after mqtt"] = await plc.read("RecipeManagement.RecipeName")
        await parts("C-", 2)
        seen["errors"] = await plc.read("Counters.Errors")
        guest = await connect(url)
        try:
            anonymous = Plc(guest)
            await anonymous.setup()
            with pytest.raises(ua.UaStatusCodeError) as refused:
                await select(anonymous, "board-b")
            seen["anonymous select"] = type(refused.value).__name__
        finally:
            await guest.disconnect()
    finally:
        await client.disconnect()
    return seen


def test_recipes_are_selected_over_opcua_and_mqtt_between_parts(tmp_path) -> None:
    data = tmp_path / "data"
    add_plc_account(data)
    recipe = _recipes(tmp_path / "recipes")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    reader = Reader(PORT, [f"{prefix}/#"])
    port = free_port()
    station = start_line_station(
        data,
        f"opcua://127.0.0.1:{port}",
        f"mqtt://{HOST}:{PORT}/{prefix}?station=line-r",
        recipe=recipe,
    )
    command_topic = f"{prefix}/line-r/command"

    def mqtt_select(name: str) -> dict:
        assert reader.wait_for(lambda m: any(t.endswith("/state") for t, _, _ in m))
        publish(PORT, command_topic, json.dumps({"command": "recipe", "recipe": name, "id": 7}))
        assert reader.wait_for(lambda m: any(t.endswith("/command/reply") for t, _, _ in m))
        return json.loads(reader.payloads("/command/reply")[-1])

    try:
        seen = asyncio.run(plc_session(f"opc.tcp://127.0.0.1:{port}/inspector/", mqtt_select))
    finally:
        stdout, stderr = stop_station(station)
    reader.close()

    assert seen["select b"][0] == 0 and "board-b version 3 selected" in seen["select b"][1]
    assert seen["recipe after b"] == "board-b"
    code, why = seen["select broken"]
    assert code == 8 and "no-such-engine" in why  # ErrorCode.RECIPE_REFUSED, with the reason
    code, why = seen["select missing"]
    assert code == 8 and "no recipe 'no-such-recipe'" in why and "board-b" in why
    assert seen["select outside"][0] == 8 and "recipe name" in seen["select outside"][1]
    assert seen["mqtt reply"]["ok"] is True and seen["mqtt reply"]["id"] == 7
    assert "board-a version 1 selected" in seen["mqtt reply"]["result"]
    assert seen["recipe after mqtt"] == "board-a"
    assert seen["anonymous select"] == "BadUserAccessDenied"
    assert seen["errors"] == 3  # the three refused selections, counted

    # Every part is recorded under the recipe in force when it was judged.
    with sqlite3.connect(data / "inspector.db") as connection:
        rows = connection.execute(
            "SELECT i.id, i.part_id, r.name, r.version FROM inspections i "
            "JOIN recipe_versions r ON r.id = i.recipe_version_id ORDER BY i.id"
        ).fetchall()
    recorded = {part: (name, version) for _, part, name, version in rows}
    expected = {f"A-{i}": ("board-a", 1) for i in range(3)}
    expected |= {f"B-{i}": ("board-b", 3) for i in range(3)}
    expected |= {f"B-kept-{i}": ("board-b", 3) for i in range(2)}
    expected |= {f"C-{i}": ("board-a", 1) for i in range(2)}
    assert recorded == expected
    results = {r["PartId"]: r for r in seen["results"]}
    assert {p: r["InspectionId"] for p, r in results.items()} == {p: i for i, p, _, _ in rows}
    # The verdicts on MQTT say the same recipe as the records.
    verdicts = {v["part_id"]: v["recipe"] for v in reader.verdicts()}
    assert verdicts == {p: {"name": n, "version": v} for p, (n, v) in expected.items()}
    assert len(stdout.splitlines()) == len(expected)
    log = (data / "logs" / "inspector.log").read_text()
    assert "recipe 'broken' refused" in log
    assert f"output opcua://127.0.0.1:{port}: closed, " in stderr  # the PLC server's summary
