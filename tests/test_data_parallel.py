"""Real data-parallel SGD (sgd_utils.distributed.data_parallel) against one process's large batch.

The oracle is the trainer's own step (``optimizer.train_step`` on the whole global batch, the fused
momentum update) in this process; the system under test is W operating-system processes that each
backpropagate a shard with NumPy and all-reduce through torch.distributed's gloo backend. They
share no code path beyond the network's backpropagation, so agreement to float64 rounding at every
step is chapter 11's proposition checked on real processes.
"""
import os
import socket
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from sgd_utils.distributed.data_parallel import (DataParallelConfig, large_batch_reference,
                                                 run_data_parallel)

PYTHON_BIN = os.path.dirname(sys.executable)
ROUNDING = 1e-12   # float64 rounding of sums in another order, far below any real difference

# float64, momentum, every step recorded; 30 steps cross no epoch boundary at these batch sizes
CONFIG = DataParallelConfig(sizes=(784, 64, 10), num_steps=30, batch_size=32, dtype="float64",
                            record_every=1)


@pytest.mark.parametrize("num_workers", [2, 4])
def test_workers_take_the_large_batch_steps_step_for_step(num_workers):
    run = run_data_parallel(num_workers, CONFIG)
    losses, steps, params = large_batch_reference(CONFIG, num_workers)
    assert run.steps.tolist() == steps.tolist() == list(range(1, CONFIG.num_steps + 1))
    scale = np.abs(params).max()
    gaps = np.abs(run.params - params).max(axis=1) / scale   # one relative gap per step
    assert gaps.max() < ROUNDING, gaps
    np.testing.assert_allclose(run.losses, losses, rtol=ROUNDING)
    assert run.replica_gap == 0.0   # every rank applies the same all-reduced gradient
    # and the run did train: the parameters moved by far more than rounding
    assert np.abs(params[-1] - params[0]).max() / scale > 1e-3


def test_uneven_shards_are_weighted_by_their_size():
    """8000 rows in global batches of 150 leave 50 rows at the end of each epoch: shards of 17,
    17 and 16 rows, which only the |S_k|/|S| weighting turns into the batch's mean gradient."""
    config = replace(CONFIG, batch_size=50, num_steps=56, record_every=0)
    run = run_data_parallel(3, config)
    _, _, params = large_batch_reference(config, 3)
    assert np.abs(run.params - params).max() / np.abs(params).max() < ROUNDING


def test_timings_split_each_step():
    run = run_data_parallel(2, replace(CONFIG, num_steps=5, record_every=0))
    for times in (run.compute_times, run.allreduce_times, run.update_times):
        assert times.shape == (2, 5) and np.all(times >= 0)
    assert 0 < run.communication_share < 1
    assert run.params.shape == (1, sum(a * b + b for a, b in zip((784, 64), (64, 10))))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_torchrun_across_two_nodes_as_the_readme_says(tmp_path):
    """Two torchrun launchers meeting at a c10d rendezvous, as two machines would (here both on
    127.0.0.1), run the module as a script; rank 0 saves its result."""
    port, steps = free_port(), 6
    command = [os.path.join(PYTHON_BIN, "torchrun"), "--nnodes", "2", "--nproc-per-node", "1",
               "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
               "--rdzv-id", "test", "-m", "sgd_utils.distributed.data_parallel",
               "--steps", str(steps), "--dtype", "float64"]
    nodes = [subprocess.Popen(command + ["--out", str(tmp_path / f"node{node}.npz")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for node in range(2)]
    outputs = [node.communicate(timeout=120)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    saved = [np.load(path) for path in tmp_path.glob("node*.npz")]
    assert len(saved) == 1   # only rank 0 saves
    assert "2 workers x batch 32" in "".join(outputs)
    config = DataParallelConfig(num_steps=steps, dtype="float64")
    losses, _, params = large_batch_reference(config, 2)
    assert np.abs(saved[0]["params"] - params[-1]).max() / np.abs(params).max() < ROUNDING
    np.testing.assert_allclose(saved[0]["losses"], losses, rtol=ROUNDING)


def test_the_script_refuses_to_run_without_torchrun():
    result = subprocess.run([sys.executable, "-m", "sgd_utils.distributed.data_parallel"],
                            capture_output=True, text=True, env=_without_rank())
    assert result.returncode == 2 and "start this script with torchrun" in result.stderr


def _without_rank():
    return {name: value for name, value in os.environ.items() if name != "RANK"}


def test_the_package_imports_without_torch():
    """sgd_utils, this module included, imports without PyTorch; a run says how to install it."""
    code = ("import sys; sys.modules['torch'] = None\n"   # makes 'import torch' fail
            "import sgd_utils.distributed.data_parallel as dp\n"
            "try:\n    dp.run_data_parallel(2, num_steps=1)\n"
            "except ImportError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "pip install torch==2.13.0" in result.stdout


@pytest.mark.parametrize("settings, message", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"num_steps": 2.5}, "num_steps must be an integer >= 1"),
    ({"dtype": "float16"}, "dtype must be"),
    ({"lr": -0.1}, "lr must be a number >= 0"),
    ({"momentum": "0.9"}, "momentum must be a number >= 0"),
    ({"record_every": -1}, "record_every must be an integer >= 0"),
    ({"activation": "swish"}, "activation"),
    ({"sizes": (784,)}, "sizes"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        DataParallelConfig(**settings)


def test_bad_calls_are_named():
    with pytest.raises(ValueError, match="num_workers must be an integer >= 1"):
        run_data_parallel(0)
    with pytest.raises(TypeError, match="either config or keyword settings"):
        run_data_parallel(2, CONFIG, num_steps=3)
    with pytest.raises(TypeError, match="config must be a DataParallelConfig"):
        run_data_parallel(2, {"num_steps": 3})
