"""The contract between a challenge's checks and a learner's work, wherever the two meet.

A check module (plain pytest, :mod:`pglab.checks.plugin`) sees the learner's work as a
:class:`~pglab.checks.submission.Submission` and turns into :class:`~pglab.checks.results.CheckResult`
rows. The same check runs in the learner's own kernel (*Check your work*, plain ``nbgrader
autograde``), in ``pytest --submission``, and in ``pglab grade``'s check runners: so this package
imports nothing of the grader (``pglab.grading``), and nothing of zmq or jupyter_client.
"""
