"""A hub name a one-machine hub cannot make a system account of is refused in one line."""

from __future__ import annotations

import pytest

from pglab.classroom.system_accounts import SYSTEM_NAME_MAX, check_system_account_name
from pglab.errors import HubError


def test_names_useradd_takes_pass() -> None:
    for name in ("alice", "jane.doe", "Jane.Doe", "jane-doe@example.org", "a" * SYSTEM_NAME_MAX):
        check_system_account_name(name)


def test_a_64_character_id_points_to_username_map_or_kubernetes() -> None:
    with pytest.raises(HubError) as err:
        check_system_account_name("f3a1c2e4b5d6" * 5 + "abcd")
    message = str(err.value)
    assert "username_map" in message and "Kubernetes" in message and "\n" not in message
    with pytest.raises(HubError):
        check_system_account_name("é" * 17)  # 34 bytes
