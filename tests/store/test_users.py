"""Users, roles and signatures: permissions are checked by the API, whoever calls it."""

from __future__ import annotations

import pytest

from inspector.recipes import parse_recipe
from inspector.store import Store
from inspector.store.audit import users
from tests.support.records_data import (
    PASSWORDS,
    RECIPE,
    inspector,
    make_users,
    plain_query,
    populate,
)


def test_passwords_are_salted_scrypt_hashes():
    first, second = users.hash_password("same password"), users.hash_password("same password")
    assert first != second  # a salt of its own each
    scheme, n, r, p, _salt, _key = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert users.check_password("same password", first)
    assert not users.check_password("same passworD", first)
    assert not users.check_password("anything", None)  # a service account has none


def test_an_operator_cannot_save_a_recipe_add_a_user_or_approve(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        olly, erin, ada = people["olly"], people["erin"], people["ada"]
        bumped = parse_recipe({**RECIPE, "version": 2}, "test")
        with pytest.raises(users.PermissionDenied, match=r"olly .operator. may not save recipe"):
            store.recipe_version_id(bumped, [], actor=olly)
        with pytest.raises(users.PermissionDenied, match="may not manage users"):
            store.add_user(olly, "mallory", "admin", "Long enough pw 1", "M")
        with pytest.raises(users.PermissionDenied, match="may not change settings"):
            store.set_setting(olly, "retention_days", "1")
        version_id = store.recipe_version_id(bumped, [], actor=erin)  # an engineer may
        with pytest.raises(users.PermissionDenied, match="may not approve recipes"):
            store.approve_recipe(olly, PASSWORDS["olly"], "bracket", 2, "approved")
        with pytest.raises(users.PermissionDenied, match="may not manage users"):
            store.disable_user(erin, "olly")
        store.add_user(ada, "mallory", "operator", "Long enough pw 1", "M")  # an admin may

        saved = [e for e in store.audit_entries(50) if e.action == "recipe.saved"]
        assert [(e.user_name, e.entity_id) for e in saved] == [("erin", str(version_id))]
        assert [u.name for u in store.list_users()] == [
            "ada",
            "erin",
            "mallory",
            "olly",
            "station",
        ]


def test_a_claimed_role_is_checked_against_the_database(settings):
    """An Identity is a claim: a demoted or disabled user can do nothing more."""
    with Store.open(settings) as store:
        people = make_users(store)
        forged = users.Identity(
            "olly", users.Role.ADMIN, "Olly"
        )  # says admin; the database says no
        with pytest.raises(users.PermissionDenied, match=r"olly .operator. may not manage users"):
            store.add_user(forged, "mallory", "admin", "Long enough pw 1", "M")
        store.disable_user(people["ada"], "erin", "left the company")
        with pytest.raises(users.PermissionDenied, match="user erin is disabled"):
            store.recipe_version_id(parse_recipe({**RECIPE, "version": 3}, "t"), [], people["erin"])
        with pytest.raises(users.LoginFailed, match="erin is disabled"):
            store.authenticate("erin", PASSWORDS["erin"])
        with pytest.raises(users.InputError, match="last administrator"):
            store.disable_user(people["ada"], "ada")


def test_bootstrap_adds_only_the_first_administrator(settings):
    with Store.open(settings) as store:
        with pytest.raises(users.PermissionDenied, match="only the first administrator"):
            store.add_user(None, "olly", "operator", "Long enough pw 1", "O")
        store.add_user(None, "ada", "admin", "Long enough pw 1", "Ada")
        with pytest.raises(users.PermissionDenied, match="takes an administrator"):
            store.add_user(None, "eve", "admin", "Long enough pw 1", "Eve")
        [entry] = [e for e in store.audit_entries(10) if e.entity_id == "ada"]
        assert (entry.user_name, entry.reason) == ("ada", "first administrator (bootstrap)")


def test_the_station_records_as_its_service_account(settings):
    with Store.open(settings) as store:
        make_users(store)
        _, [inspection_id] = populate(store, 1)
        [entry] = store.audit_entries(1, "inspection", inspection_id)
        assert entry.user_name == "station"
        with pytest.raises(users.LoginFailed):
            store.authenticate("station", "")  # a service account cannot log in
        ada = store.authenticate("ada", PASSWORDS["ada"])
        store.disable_user(ada, "station", "line stopped")
    with pytest.raises(users.PermissionDenied, match="service account station is disabled"):
        Store.open(settings)
    with pytest.raises(users.PermissionDenied, match="not a service account"):
        Store.open(settings, actor="ada")


def test_a_site_can_keep_stations_from_saving_recipes(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        store.set_setting(people["ada"], "station_saves_recipes", "false")
        recipe = parse_recipe(RECIPE, "test")
        with pytest.raises(users.PermissionDenied, match="inspector recipe save"):
            store.recipe_version_id(recipe, [])
        saved = store.recipe_version_id(recipe, [], actor=people["erin"])
        assert store.recipe_version_id(recipe, []) == saved  # what an engineer saved runs
        [changed] = [e for e in store.audit_entries(20) if e.action == "setting.changed"]
        assert (changed.old, changed.new["value"]) == ({"value": True}, False)


def test_a_signature_needs_the_password_again_and_records_its_meaning(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        _, ids = populate(store, 3)
        olly = people["olly"]
        with pytest.raises(users.LoginFailed, match="signature refused"):
            store.override_verdict(olly, "guess", ids[0], "FAIL", "r", "reviewed")
        with pytest.raises(users.InputError, match="an override decides PASS or FAIL"):
            store.override_verdict(olly, PASSWORDS["olly"], ids[0], "UNSURE", "r", "reviewed")
        done = store.override_verdict(
            olly, PASSWORDS["olly"], ids[0], "FAIL", "burr on the edge", "rejected"
        )
        [signature] = store.signatures_of("inspection", ids[0])
        assert (signature.printed_name, signature.meaning) == ("Olly Ørsted", "rejected")
        assert "PASS -> FAIL. Reason: burr on the edge" in signature.statement
        [entry] = store.audit_entries(1, "override", done.id)
        assert entry.signature_id == signature.id and entry.action == "verdict.overridden"
        assert entry.old == {"inspection_id": ids[0], "outcome": "PASS"}
        assert store.effective_outcome(ids[0]).value == "FAIL"
        # The model's verdict stays as recorded: an override is a row of its own.
        [(recorded,)] = plain_query(
            settings, f"SELECT outcome FROM inspections WHERE id = {ids[0]}"
        )
        assert recorded == "PASS"
        assert any(e.action == "signature.failed" for e in store.audit_entries(20))


def test_role_checks_through_the_cli(sqlite_settings):
    settings = sqlite_settings
    first = inspector(
        settings,
        "user",
        "add",
        "ada",
        "--role",
        "admin",
        "--full-name",
        "Ada Lovelace",
        "--password-stdin",
        stdin=PASSWORDS["ada"] + "\n",
    )
    assert first.returncode == 0, first.stderr
    assert "user ada added as admin (first administrator)" in first.stdout
    added = inspector(
        settings,
        "user",
        "add",
        "olly",
        "--role",
        "operator",
        "--password-stdin",
        user="ada",
        stdin=PASSWORDS["olly"] + "\n",
    )
    assert added.returncode == 0, added.stderr

    denied = inspector(
        settings,
        "user",
        "add",
        "eve",
        "--role",
        "admin",
        "--password-stdin",
        user="olly",
        stdin="a long password\n",
    )
    assert denied.returncode == 4
    assert denied.stderr.strip() == (
        "inspector: user olly (operator) may not manage users; that takes the role admin"
    )
    recipe = settings.data_dir.parent / "recipe.yaml"
    import yaml

    recipe.write_text(yaml.safe_dump({**RECIPE, "version": 7}))
    refused = inspector(settings, "recipe", "save", str(recipe), user="olly")
    assert refused.returncode == 4 and "may not save recipe versions" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    nobody = inspector(settings, "recipe", "save", str(recipe))
    assert nobody.returncode == 2 and "give --user NAME" in nobody.stderr
    wrong = inspector(settings, "user", "list", "--json")
    names = [u["name"] for u in __import__("json").loads(wrong.stdout)]
    assert names == ["ada", "olly", "station"]  # eve was never added
    assert inspector(settings, "audit", "verify").returncode == 0


def test_a_disabled_user_is_kept_on_record(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        store.disable_user(people["ada"], "olly", "left")
        [olly] = [u for u in store.list_users() if u.name == "olly"]  # kept, marked disabled
        assert olly.disabled is True
        [entry] = [e for e in store.audit_entries(5) if e.action == "user.disabled"]
        assert (entry.entity_id, entry.reason, entry.user_name) == ("olly", "left", "ada")
