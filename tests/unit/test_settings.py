"""Configuration is read from the environment in one place (:func:`pglab.settings.load_settings`)."""

from __future__ import annotations

from pglab.settings import load_settings


def test_the_admin_url_is_a_setting_like_the_others() -> None:
    assert load_settings({}).admin_url is None
    url = "postgresql://admin:secret@db.example:5432/postgres"
    settings = load_settings({"PGLAB_ADMIN_URL": url, "DATABASE_URL": "postgresql://learner@db.example/catalogue"})
    assert settings.admin_url == url and settings.external
