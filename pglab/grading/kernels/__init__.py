"""The grader's kernels: the fork server, one kernel's session, their confinement."""
