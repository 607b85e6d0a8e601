"""Hub user names to database and role names: plain names kept, every other name made plain and unique."""

from __future__ import annotations

import hashlib

import pytest

from pglab.classroom.learner_names import NAMEDATALEN, database_name, database_names
from pglab.errors import LearnerError


def test_plain_names_are_kept_as_they_are() -> None:
    for name in ("alice", "zz_bob", "learner042", "mary-jane", "a" * 32):
        assert database_name(name) == name


def test_other_login_names_get_a_readable_part_and_a_stable_hash() -> None:
    def short(name: str) -> str:
        return hashlib.sha256(name.encode()).hexdigest()[:8]

    assert database_name("jane.doe") == f"jane_doe_{short('jane.doe')}"
    assert database_name("Jane.Doe") == f"jane_doe_{short('Jane.Doe')}"
    assert database_name("jane-doe@example.org") == f"jane_doe_example_org_{short('jane-doe@example.org')}"
    assert database_name("Élodie") == f"lodie_{short('Élodie')}"
    assert database_name("42") == f"u_42_{short('42')}"
    assert database_name("postgres") == f"u_postgres_{short('postgres')}"  # reserved names are never taken
    assert database_name("pg_monitor").startswith("u_pg_monitor_")
    assert database_name("Alice") != "alice"
    assert database_name("jane.doe") == database_name("jane.doe")  # the same at every spawn


def test_long_ids_fit_postgresqls_63_bytes() -> None:
    sub = "f3a1c2e4b5d6" * 5 + "abcd"  # an opaque LTI sub id of 64 characters
    assert len(sub) == 64
    name = database_name(sub)
    assert len(name.encode()) <= NAMEDATALEN and name.endswith(hashlib.sha256(sub.encode()).hexdigest()[:8])
    assert database_name("b" * 33) != "b" * 33 and len(database_name("x" * 500)) <= NAMEDATALEN


def test_names_differing_in_case_or_punctuation_never_share() -> None:
    variants = ["jane.doe", "Jane.Doe", "jane-doe", "jane_doe", "JANE_DOE", "jane doe", "jane.doe@example.org",
                "jane-doe@example.org", "Jane-Doe@Example.org", "jane..doe", "jane.doe."]
    names = database_names(variants)
    assert len(set(names.values())) == len(variants), names


def test_a_name_that_would_share_a_database_is_refused_in_one_line() -> None:
    hashed = database_name("jane.doe")
    with pytest.raises(LearnerError, match=r"hub users 'jane\.doe' and '.*' would share the database") as err:
        database_names(["jane.doe", hashed])
    assert "\n" not in str(err.value)
    for bad in ("", " alice", "alice\n", "a\x00b"):
        with pytest.raises(LearnerError, match="is not a hub user name"):
            database_name(bad)
