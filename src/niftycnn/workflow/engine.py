"""Where the independent tasks of a sweep or a search run: one after another in this
process (``local``, the default), or as Ray tasks (``ray``: a local Ray instance started
and shut down here, or a running cluster by ``address``).

A task is a module-level function ``task(plan, item, layout, progress)`` that writes only
its own sub-folder of the run directory (``RunLayout``) and returns its result. On Ray
the plan is put in the object store once; each task asks for one CPU and runs torch on
one thread (several tasks per machine, no oversubscription); a task that fails (an
exception, or its worker dying) is retried once; one that fails again is reported
after every other task has finished, and the finished ones are kept (a resumed sweep
skips them). The run directory must be on a filesystem every Ray node sees.

``NIFTYCNN_FAULT=<task name>[:<marker file>]`` (a test hook) makes that task's worker
exit abruptly after its first fold is written: on every attempt, or with a marker file
only while the file does not exist (it is created then), so the retry finishes it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from niftycnn.errors import EngineError
from niftycnn.extras import require
from niftycnn.rundir import RunLayout

FAULT_ENV = "NIFTYCNN_FAULT"
RETRIES = 1

Task = Callable[[Any, Any, RunLayout, bool], Any]


@dataclass(frozen=True)
class Engine:
    """``kind`` local or ray; ``address`` of a running Ray cluster (None: start a local
    instance); ``num_cpus`` of the local instance (None: every core)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = None
    num_cpus: int | None = None


def map_tasks(
    engine: Engine | None,
    task: Task,
    plan: Any,
    items: dict[str, Any],
    layout: RunLayout,
    *,
    progress: bool = True,
    what: str = "tasks",
) -> dict[str, Any]:
    """``{name: task(plan, item, layout, progress)}`` for every item, on ``engine``."""
    if not items:
        return {}
    if engine is None or engine.kind == "local":
        return {name: task(plan, item, layout, progress) for name, item in items.items()}
    done, failed = _ray_map(engine, task, plan, items, layout, progress, what)
    if failed:
        command = "search" if what == "trials" else "sweep"
        shown = "; ".join(f"{name}: {why}" for name, why in sorted(failed.items())[:3])
        raise EngineError(
            f"{len(failed)} of {len(items)} {what} failed after {RETRIES} retry ({shown}); "
            f"the {len(done)} finished ones are kept in {layout.root}: fix the cause and "
            f"resume with `niftycnn {command} --resume {layout.root} --engine ray`"
        )
    return done


def _ray_map(
    engine: Engine,
    task: Task,
    plan: Any,
    items: dict[str, Any],
    layout: RunLayout,
    progress: bool,
    what: str,
) -> tuple[dict[str, Any], dict[str, str]]:
    ray = require("ray", "--engine ray")
    started = _connect(ray, engine)
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    try:
        remote = ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=True)(_on_worker)
        plan_ref = ray.put(plan)
        fault = os.environ.get(FAULT_ENV)
        pending = {
            remote.remote(task, plan_ref, item, str(layout.root), name, fault): name
            for name, item in items.items()
        }
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            name = pending.pop(ready[0])
            try:
                done[name] = ray.get(ready[0])
            except Exception as exc:  # a task error or a dead worker, after its retry
                failed[name] = _gist(exc)
            if progress:
                print(
                    f"{what}: {name} {'failed' if name in failed else 'done'} "
                    f"({len(done) + len(failed)}/{len(items)})",
                    flush=True,
                )
    finally:
        if started:
            ray.shutdown()
    return done, failed


def _connect(ray: Any, engine: Engine) -> bool:
    """Connect to the cluster (or start a local instance); True when started here."""
    if ray.is_initialized():
        return False  # a notebook's (or a test's) own Ray: keep it running
    try:
        if engine.address is not None:
            ray.init(address=engine.address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=engine.num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,  # not Ray's start-up banners
            )
    except Exception as exc:  # ConnectionError, RuntimeError, ...
        where = engine.address or "a local instance"
        raise EngineError(
            f"could not start Ray ({where}): {_gist(exc)}; check --address (the "
            "head's host:port, see `ray start --head`) or run with --engine local"
        ) from None
    return True


def _on_worker(task: Task, plan: Any, item: Any, root: str, name: str, fault: str | None) -> Any:
    """A task on a Ray worker: torch on one thread (the task's one CPU)."""
    import torch

    torch.set_num_threads(1)
    if fault is not None:
        _arm_fault(fault, name)
    return task(plan, item, RunLayout(Path(root)), False)


def _arm_fault(fault: str, name: str) -> None:
    """The ``NIFTYCNN_FAULT`` hook (module docstring)."""
    import niftycnn.walkforward.run as walkforward_run

    target, _, marker = fault.partition(":")
    if target != name or (marker and Path(marker).exists()):
        return

    def die(fold: int) -> None:
        if marker:
            Path(marker).write_text(f"{name} killed after fold {fold}\n", encoding="utf-8")
        os._exit(1)

    walkforward_run._on_fold_written = die


def _gist(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:200] if lines else type(exc).__name__
