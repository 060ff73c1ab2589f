"""What a new password must be: long enough, not common, not the user's name; more for admins.

The rules, and why (NIST SP 800-63B, revision 4, section 3.1.1.2, is the reference):
- Length is what makes a password strong. People: at least 10 characters, above NIST's floor of
  8, kept short enough to type many times a shift at a line station; guessing on line is
  bounded by the lockout (users.py). Administrators: at least 15, NIST's minimum for a password
  that is the only factor, because an admin account can add users, change the site settings
  and purge records.
- A blocklist: the 10,000 most common passwords (common_passwords.txt, with its source and
  licence), compared without regard to case, and also after taking away the user's name,
  digits, spaces and punctuation, so "Monkey2024!!!!" is refused for being "monkey" decorated.
- Not the user's name, nor containing it: the first thing a guesser tries.
- Not one character or a short pattern repeated ("aaaaaaaaaa", "abcabcabcabc").
- Administrators also mix: at least three of lower case, upper case, digits and other
  characters (a space counts), unless the password is a passphrase of 20 characters or more.
  NIST advises against composition rules for everyone; for the few admin accounts they buy
  guessing resistance that a 15-character minimum alone does not when people pad a word.

Each refusal names its rule, so the person knows what to change.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from inspector.errors import InputError

MIN_LENGTH = 10
MIN_LENGTH_ADMIN = 15
PASSPHRASE_LENGTH = 20  # from here an admin password needs no mix of character classes
MIN_CLASSES_ADMIN = 3
MAX_LENGTH = 256  # NIST asks for at least 64; scrypt hashes any length in the same time
MIN_DISTINCT = 5  # fewer different characters than this is a repeated pattern
_DECORATION = re.compile(r"[\W\d_]+")  # digits, spaces, punctuation: what people pad words with


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def _classes(password: str) -> int:
    kinds = (str.islower, str.isupper, str.isdigit)
    found = {i for c in password for i, kind in enumerate(kinds) if kind(c)}
    if any(not (c.islower() or c.isupper() or c.isdigit()) for c in password):
        found.add(len(kinds))
    return len(found)


def problem(password: str, user_name: str, admin: bool) -> str | None:
    """The rule a new password breaks, in words, or None when it is acceptable."""
    minimum = MIN_LENGTH_ADMIN if admin else MIN_LENGTH
    who = "an administrator's password" if admin else "a password"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    lowered, name = password.lower(), user_name.lower()
    if lowered in common_passwords():
        return "it is one of the 10,000 most common passwords; choose another"
    if len(password) < minimum:
        return f"{who} needs at least {minimum} characters (this one has {len(password)})"
    if len(name) >= 3 and name in lowered:
        return "it contains the user name; choose one that does not"
    core = _DECORATION.sub("", lowered.replace(name, "") if len(name) >= 3 else lowered)
    if core and core in common_passwords():
        # Not named: a refusal never repeats any part of what was typed.
        return "it is a common password with digits or symbols added; choose one that is not"
    if len(set(lowered)) < MIN_DISTINCT:
        return f"it repeats a few characters; use at least {MIN_DISTINCT} different ones"
    if admin and len(password) < PASSPHRASE_LENGTH and _classes(password) < MIN_CLASSES_ADMIN:
        return (
            f"an administrator's password shorter than {PASSPHRASE_LENGTH} characters mixes at "
            f"least {MIN_CLASSES_ADMIN} of lower case, upper case, digits and other characters "
            f"(a space counts); or use a passphrase of {PASSPHRASE_LENGTH} characters or more"
        )
    return None


def check(password: str, user_name: str, admin: bool) -> None:
    """InputError naming the rule when the new password of `user_name` breaks one."""
    broken = problem(password, user_name, admin)
    if broken is not None:
        raise InputError(f"password for {user_name} refused: {broken}")
