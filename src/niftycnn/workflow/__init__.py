"""The workflow: one experiment in, one run directory out.

``run`` runs (and resumes) an experiment, ``stages`` holds one function per stage (each
naming what it reads and writes in the run's ``RunLayout``), ``sweep`` runs a
``[sweep]`` grid. The CLI and the notebook API (``niftycnn.api``) sit on top.
"""
