"""Multi-process runs through ``jax.distributed`` (several hosts, or several processes on one host).

Every process runs the same command; JAX connects them through a coordinator
(``jax.distributed.initialize``), after which ``jax.devices()`` lists the devices of every process
and jitted computations over a mesh of them run SPMD, with cross-process collectives (gloo on CPU,
NCCL on GPU). Conventions of the project:

* :func:`initialize` is called once by the CLI (``scaling-theory --coordinator HOST:PORT
  --num-processes P --process-id I ...``), or with no arguments under SLURM / Open MPI with more than
  one task, where JAX detects the cluster itself. It must run before any JAX computation.
* Work that is split across processes uses ``numerics.global_mesh`` / ``global_array`` /
  ``to_host``; randomness comes from counters of global indices, so numbers do not depend on the
  number of processes or devices (``jax_threefry_partitionable`` is switched on for ``jax.random``).
* Only process 0 prints and writes files (:func:`is_main_process`; ``io.write_bytes_atomic`` and
  the CLI check it).

References:
  https://docs.jax.dev/en/latest/multi_process.html (``jax.distributed.initialize``).
"""

from __future__ import annotations

import os
import sys

from scaling_theory.errors import InputError

_CLUSTER_TASK_VARS = ("SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE")


def cluster_tasks() -> int:
    """Number of tasks of the SLURM / Open MPI job this process belongs to (1 outside one)."""
    for var in _CLUSTER_TASK_VARS:
        try:
            n = int(os.environ.get(var, "1"))
        except ValueError:
            continue
        if n > 1:
            return n
    return 1


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: int = 300,
) -> bool:
    """Join a multi-process JAX run; returns whether one was joined.

    Args:
      coordinator: ``HOST:PORT`` of process 0's coordinator service (every process passes the same).
      num_processes: total number of processes P.
      process_id: this process's index in [0, P).
      timeout: seconds to wait for all processes to connect.

    With none of the three given, a run is joined only under SLURM or Open MPI with more than one
    task (JAX reads the cluster's variables); otherwise nothing happens (one process). CPU
    collectives use gloo, and ``jax.random`` bits are partitionable (sharding-invariant).
    Raises ``InputError`` for an incomplete or inconsistent set of options.
    """
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise InputError("--coordinator, --num-processes and --process-id must be given together")
    if not any(given) and cluster_tasks() == 1:
        return False
    if all(given):
        if ":" not in str(coordinator) or not str(coordinator).rsplit(":", 1)[1].isdigit():
            raise InputError(f"--coordinator={coordinator!r}: expected HOST:PORT")
        if not isinstance(num_processes, int) or num_processes < 1:
            raise InputError(f"--num-processes={num_processes!r}: must be an integer ≥ 1")
        if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
            raise InputError(f"--process-id={process_id!r}: must be in [0, {num_processes})")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.config.update("jax_threefry_partitionable", True)
    if jax.distributed.is_initialized():
        return True
    if all(given):
        jax.distributed.initialize(coordinator, num_processes, process_id, initialization_timeout=timeout)
    else:
        jax.distributed.initialize(initialization_timeout=timeout)
    return True


def is_main_process() -> bool:
    """True in a single-process run and in process 0 of a multi-process one (without starting JAX)."""
    jax = sys.modules.get("jax")
    if jax is None:
        return True
    try:
        if not jax.distributed.is_initialized():
            return True
        return jax.process_index() == 0
    except Exception:  # noqa: BLE001 - a broken backend is reported by the computation, not here
        return True
