"""Bundles a forger cannot re-seal: the site's key is made with the first administrator and
recorded in the chain, bundles are signed, and `export verify` catches a rewritten record whose
manifest, seal and digest were all recomputed, a bundle re-signed with another key, and members
named to escape the folder they are unpacked into."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspector.errors import InputError
from inspector.export.bundle import verify_bundle, write_bundle
from inspector.export.record_digests import bundle_fields, inspection_digest
from inspector.store import Store, export_dict
from tests.support.bundles import forge, site_private_key
from tests.support.records_data import (
    PASSWORDS,
    inspector,
    make_users,
    plain_query,
    populate,
)


@pytest.fixture
def signed(settings, tmp_path):
    """A site (its key made with its first admin), six records, two of them FAIL, and a
    bundle of them exported through the CLI."""
    with Store.open(settings) as store:
        make_users(store)
        _, ids = populate(store, 6)
    out = tmp_path / "bundle.zip"
    result = inspector(settings, "export", "bundle", str(out), user="olly")
    assert result.returncode == 0, result.stderr
    assert "signed by the site key sha256:" in result.stdout
    return out, ids


def _fail_made_pass(digest_too: bool):
    def change(records):
        [victim] = [r for r in records if r["outcome"] == "FAIL"][:1]
        victim.update(outcome="PASS", final_outcome="PASS", defects=[], reason="clean")
        if digest_too:
            victim["record_sha256"] = inspection_digest(victim)  # the public function

    return change


def test_the_first_admin_brings_the_site_key_recorded_in_the_chain(sqlite_settings):
    with Store.open(sqlite_settings) as store:
        assert store.site_keys() == []
        make_users(store)
        [key] = store.site_keys()
        path = sqlite_settings.data_dir / "site-signing-key.pem"
        assert store.site_key_path == path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        [entry] = store.audit_entries(1, "site_key")
        assert entry.action == "site_key.created" and entry.user_name == "ada"
        assert entry.new["public_key"] == key.public_key and entry.entity_id == key.fingerprint
        assert store.site_signer().fingerprint == key.fingerprint
        assert store.verify().ok
        # A second admin brings no second key.
        ada = store.authenticate("ada", PASSWORDS["ada"])
        store.add_user(ada, "adam", "admin", "another admin passphrase, 2026", "Adam")
        assert len(store.site_keys()) == 1
    # The private key is nowhere in the database.
    private = path.read_text()
    secret_line = private.splitlines()[1]
    for row in plain_query(sqlite_settings, "SELECT new_value, old_value FROM audit_entries"):
        assert "PRIVATE" not in str(row) and secret_line not in str(row)
    shown = inspector(sqlite_settings, "audit", "site-key")
    assert shown.returncode == 0 and f"sha256:{key.fingerprint}" in shown.stdout


def test_a_signed_bundle_verifies_and_names_its_key(signed, settings):
    out, _ = signed
    check = verify_bundle(out)
    assert check.ok, check.problems
    with Store.open(settings) as store:
        [key] = store.site_keys()
    assert check.fingerprint == key.fingerprint
    result = inspector(settings, "export", "verify", str(out), "--against-database")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"signed by the site key sha256:{key.fingerprint}" in result.stdout
    assert "every record matches this database" in result.stdout
    by_key = inspector(settings, "export", "verify", str(out), "--key", key.fingerprint[:16])
    assert by_key.returncode == 0, by_key.stdout


def test_a_record_rewritten_with_its_manifest_and_seal_recomputed_fails(signed, tmp_path):
    out, ids = signed
    forged = forge(out, tmp_path / "forged.zip", _fail_made_pass(digest_too=False))
    check = verify_bundle(forged)
    assert not check.ok
    # The first FAIL is the third record (FAIL, PASS, UNSURE in turn from the first).
    assert (
        f"records.jsonl line 3: inspection {ids[2]}, part P-0003: its fields do not match its "
        "record_sha256 (changed after export)"
    ) in check.problems
    assert any("signature does not match manifest.json" in p for p in check.problems)
    assert not any("seal" in p for p in check.problems)  # the unkeyed seal was recomputed


def test_a_record_rewritten_with_its_digest_recomputed_fails_and_is_named_by_the_database(
    signed, settings, tmp_path
):
    out, ids = signed
    forged = forge(out, tmp_path / "forged.zip", _fail_made_pass(digest_too=True))
    check = verify_bundle(forged)
    # Every hash in the bundle is consistent again; only the signature can tell.
    assert check.problems == [
        "signature.json: the signature does not match manifest.json: the manifest was changed "
        "after the site signed it"
    ]
    result = inspector(settings, "export", "verify", str(forged), "--against-database")
    assert result.returncode == 1
    assert result.stdout.startswith("bundle FAILS verification: signature.json")
    assert (
        f"records.jsonl line 3: inspection {ids[2]}, part P-0003: differs from the record in "
        "this database"
    ) in result.stdout


def test_a_bundle_re_signed_with_another_key_fails_against_the_database(signed, settings, tmp_path):
    out, ids = signed
    thief = Ed25519PrivateKey.generate()
    forged = forge(out, tmp_path / "forged.zip", _fail_made_pass(digest_too=True), key=thief)
    check = verify_bundle(forged)
    assert check.ok, check.problems  # self-consistent: alone it proves only who signed it
    with Store.open(settings) as store:
        [site] = store.site_keys()
    assert check.fingerprint != site.fingerprint
    offline = inspector(settings, "export", "verify", str(forged), "--key", site.fingerprint)
    assert offline.returncode == 1 and "not by the key given" in offline.stdout
    result = inspector(settings, "export", "verify", str(forged), "--against-database")
    assert result.returncode == 1
    assert f"signed by key sha256:{check.fingerprint}" in result.stdout
    assert "never recorded as the site's" in result.stdout
    assert f"inspection {ids[2]}, part P-0003: differs from the record" in result.stdout


@pytest.mark.parametrize("name", ["../escape.txt", "evidence/../../escape.txt", "/etc/escape"])
def test_members_that_escape_the_folder_are_refused_by_name(sqlite_settings, tmp_path, name):
    with Store.open(sqlite_settings) as store:
        make_users(store)
        populate(store, 2)
        out = tmp_path / "bundle.zip"
        head, where = store.as_of()
        about = {"chain_head": {"seq": head.seq, "hash": head.hash}}
        records = ({**export_dict(r), **bundle_fields(r)} for r in store.records(where))
        write_bundle(records, out, store.evidence.root, about, signer=store.site_signer())
    # Signed by the site's own key: the name alone is refused.
    key = site_private_key(sqlite_settings.data_dir)
    forged = forge(out, tmp_path / "forged.zip", extra={name: b"x"}, key=key)
    check = verify_bundle(forged)
    assert check.problems == [
        f"member {name!r}: a path outside the bundle (.. or absolute); bundle refused"
    ]
    result = inspector(sqlite_settings, "export", "verify", str(forged))
    assert result.returncode == 1 and repr(name) in result.stdout


def test_an_unsigned_bundle_fails_unless_the_auditor_accepts_it(sqlite_settings, tmp_path):
    """A site set up before keys: its bundles are unsigned, verify refuses them by default (a
    forger would otherwise strip the signature), accepts them with --allow-unsigned and a
    warning; an administrator then creates the key and bundles are signed."""
    with Store.open(sqlite_settings) as store:
        path, store.site_key_path = store.site_key_path, None  # an old site: no key then
        store.add_user(None, "ada", "admin", PASSWORDS["ada"], "Ada Lovelace")
        store.site_key_path = path
        ada = store.authenticate("ada", PASSWORDS["ada"])
        store.add_user(ada, "olly", "operator", PASSWORDS["olly"], "Olly")
        populate(store, 3)
        assert store.site_keys() == [] and store.site_signer() is None
    out = tmp_path / "old.zip"
    made = inspector(sqlite_settings, "export", "bundle", str(out), user="olly")
    assert made.returncode == 0, made.stderr
    assert "the bundle is NOT signed" in made.stdout
    refused = inspector(sqlite_settings, "export", "verify", str(out))
    assert refused.returncode == 1 and "UNSIGNED" in refused.stdout
    accepted = inspector(
        sqlite_settings, "export", "verify", str(out), "--allow-unsigned", "--against-database"
    )
    assert accepted.returncode == 0, accepted.stdout
    assert accepted.stdout.startswith("warning: UNSIGNED")
    assert "UNSIGNED; every record matches this database" in accepted.stdout

    denied = inspector(sqlite_settings, "audit", "site-key", "--create", user="olly")
    assert denied.returncode != 0 and "may not manage users" in denied.stderr
    created = inspector(sqlite_settings, "audit", "site-key", "--create", user="ada")
    assert created.returncode == 0, created.stderr
    again = inspector(sqlite_settings, "audit", "site-key", "--create", user="ada")
    assert again.returncode != 0 and "has a signing key already" in again.stderr
    signed = tmp_path / "new.zip"
    assert inspector(sqlite_settings, "export", "bundle", str(signed), user="olly").returncode == 0
    assert verify_bundle(signed).ok
    assert inspector(sqlite_settings, "audit", "verify").returncode == 0


def test_a_recorded_key_missing_or_replaced_on_disk_signs_nothing(sqlite_settings, tmp_path):
    with Store.open(sqlite_settings) as store:
        make_users(store)
        populate(store, 1)
        path = store.site_key_path
        original = path.read_bytes()
        path.unlink()
        with pytest.raises(InputError, match=r"is not at .*site-signing-key\.pem: copy it"):
            store.site_signer()
        # A key planted in the data directory is not the one the chain recorded.
        planted = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(planted)
        with pytest.raises(InputError, match="is not the site's signing key recorded"):
            store.site_signer()
        path.write_bytes(original)
        assert store.site_signer() is not None
    path.unlink()
    out = tmp_path / "b.zip"
    result = inspector(sqlite_settings, "export", "bundle", str(out), user="olly")
    assert result.returncode != 0 and "site-signing-key.pem: copy it there" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_the_manifest_names_the_key_and_the_records_carry_the_digest_inputs(signed):
    out, _ = signed
    import zipfile

    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        signature = json.loads(archive.read("signature.json"))
        first = json.loads(archive.read("records.jsonl").splitlines()[0])
    assert manifest["format"] == "inspector-bundle-2"
    assert manifest["signing_key"]["public_key"] == signature["public_key"]
    assert "signature.json" not in manifest["files"]
    assert inspection_digest(first) == first["record_sha256"]


def test_an_old_format_1_bundle_is_checked_record_by_record_against_the_database(
    settings, tmp_path
):
    """A bundle from before signing (format 1: no signature, no recipe_version_id): accepted
    only with --allow-unsigned, and then only the database can tell a rewritten record."""
    with Store.open(settings) as store:
        make_users(store)
        _, ids = populate(store, 6)
        head, where = store.as_of()
        about = {"chain_head": {"seq": head.seq, "hash": head.hash}}
        made = tmp_path / "made.zip"
        write_bundle(map(export_dict, store.records(where)), made, store.evidence.root, about)

    def as_format_1(manifest):
        manifest["format"] = "inspector-bundle-1"

    old = forge(made, tmp_path / "old.zip", manifest_change=as_format_1)
    refused = inspector(settings, "export", "verify", str(old))
    assert refused.returncode == 1 and "UNSIGNED" in refused.stdout
    accepted = inspector(
        settings, "export", "verify", str(old), "--allow-unsigned", "--against-database"
    )
    assert accepted.returncode == 0, accepted.stdout
    assert "6 record(s) of a format-1 bundle carry no recipe_version_id" in accepted.stdout

    forged = forge(old, tmp_path / "forged.zip", _fail_made_pass(digest_too=False))
    alone = verify_bundle(forged, allow_unsigned=True)
    assert alone.ok  # nothing in an unsigned format-1 bundle can tell
    caught = inspector(
        settings, "export", "verify", str(forged), "--allow-unsigned", "--against-database"
    )
    assert caught.returncode == 1
    assert f"inspection {ids[2]}, part P-0003: differs from the record" in caught.stdout


def test_the_first_admin_is_not_added_when_the_key_cannot_be_written(sqlite_settings, tmp_path):
    """The key and its admin are one transaction: no admin without the site's key."""
    from tests.support import command_line

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"INSPECTOR_SITE_KEY": str(blocker / "site-signing-key.pem")}
    args = ("user", "add", "ada", "--role", "admin", "--password-stdin")
    failed = command_line.inspector(
        *args, data_dir=sqlite_settings.data_dir, env=env, input=PASSWORDS["ada"] + "\n"
    )
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert f"cannot write the site's signing key at {blocker}" in failed.stderr
    with Store.open(sqlite_settings) as store:
        assert not store.has_people() and store.site_keys() == []
    elsewhere = tmp_path / "keys" / "site.pem"
    added = command_line.inspector(
        *args,
        data_dir=sqlite_settings.data_dir,
        env={"INSPECTOR_SITE_KEY": str(elsewhere)},
        input=PASSWORDS["ada"] + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert stat.S_IMODE(os.stat(elsewhere).st_mode) == 0o600
    with Store.open(sqlite_settings) as store:
        assert store.has_people() and len(store.site_keys()) == 1
