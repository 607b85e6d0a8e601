"""Visible challenge checks: learners run these from their notebook with ``check_my_work()``."""
