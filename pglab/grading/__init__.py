"""The autograder: checks with points, sandboxed kernels, one fresh database per submission."""
