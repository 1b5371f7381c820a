"""Evaluation: suites and task files, episode jobs and typed results, the executors
that run them (in-process, local processes, Ray), summaries and episode recordings."""
