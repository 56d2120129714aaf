"""The worker processes: one per runner, driven over JSON lines on stdin/stdout.

A process can hold only one Keras backend, so each runner (tensorflow, jax, torch,
native) gets its own. `Worker` is the driver's side: it starts `python epoch_time.py
--worker RUNNER` with that runner's environment and turns a crash, a hang or a failed
start into an error reply, so one failing runner becomes one error row. `worker_main`
is the process's side: it sets thread counts before any work, then serves setup / epoch /
drop requests with the trainers of `trainers.py`.
"""

import contextlib
import gc
import json
import os
import platform
import select
import subprocess
import sys
import time
import traceback
from pathlib import Path

from benchmark_table import KERAS_BACKENDS, NATIVE
from trainers import KerasTrainer, NativeTrainer

# The script a worker process runs (with --worker): the driver, next to this file.
DRIVER = Path(__file__).resolve().with_name("epoch_time.py")


def _worker_info(runner, threads):
    """Set thread counts before any work, and describe the runtime."""
    info = {"runner": runner, "python": platform.python_version(), "pid": os.getpid()}
    if runner in ("torch", NATIVE):
        import torch

        info["torch_threads_default"] = torch.get_num_threads()
        torch.set_num_threads(threads)
        info["torch_threads"] = torch.get_num_threads()
        info["torch"] = torch.__version__
    if runner == "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # already initialised: keep its default
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        info["tensorflow"] = tf.__version__
        info["tf_intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    if runner == "jax":
        import jax

        info["jax"] = jax.__version__
        info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    if runner in KERAS_BACKENDS:
        import keras

        info["keras"] = keras.__version__
        info["keras_backend"] = keras.backend.backend()
        if info["keras_backend"] != runner:
            raise RuntimeError(f"asked for backend {runner!r}, Keras loaded "
                               f"{info['keras_backend']!r}")
    return info


def worker_main(runner, threads):
    """Serve one JSON request per stdin line; one JSON reply per line on the real stdout.

    Requests: {"cmd": "setup", "key", "cfg", "opts"} builds a model and runs the warm-up
    epoch; {"cmd": "epoch", "key"} times one epoch; {"cmd": "drop", "key"} frees it.
    """
    reply_to = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to the log, not into the protocol

    def send(**msg):
        reply_to.write(json.dumps(msg) + "\n")

    sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `import native_torch`
    try:
        info = _worker_info(runner, threads)
    except Exception as err:  # noqa: BLE001 - report any start-up failure as the row
        send(ok=False, error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
        return
    send(ok=True, info=info)
    trainers = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "setup":
                cls = NativeTrainer if runner == NATIVE else KerasTrainer
                cpu = time.process_time()
                trainer = cls(req["cfg"], req["opts"])
                warmup_s, loss = trainer.epoch()  # compiles / traces / allocates
                trainers[req["key"]] = trainer
                send(ok=True, warmup_s=warmup_s, setup_cpu_s=time.process_time() - cpu,
                     loss=loss, params=trainer.num_params,
                     keras_params=getattr(trainer, "keras_params", trainer.num_params),
                     resolved=trainer.resolved)
            elif req["cmd"] == "epoch":
                trainer = trainers[req["key"]]
                gc.collect()
                load = os.getloadavg()[0]
                cpu = time.process_time()
                seconds, loss = trainer.epoch()
                send(ok=True, seconds=seconds, cpu_s=time.process_time() - cpu, loss=loss,
                     load=load)
            elif req["cmd"] == "drop":
                trainers.pop(req["key"], None)
                gc.collect()
                send(ok=True)
            else:
                raise ValueError(f"unknown command {req['cmd']!r}")
        except Exception as err:  # noqa: BLE001 - one failure is one error row
            send(ok=False, error=f"{type(err).__name__}: {str(err)[:300]}",
                 traceback=traceback.format_exc())


class Worker:
    """The driving side of one worker process."""

    def __init__(self, runner, threads, log_dir, omp_wait_policy="passive"):
        self.runner = runner
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if omp_wait_policy != "inherit":
            env["OMP_WAIT_POLICY"] = omp_wait_policy.upper()
        if runner in KERAS_BACKENDS:
            env["KERAS_BACKEND"] = runner
        self.log_path = Path(log_dir) / f"{runner}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), "--worker", runner,
             "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env=env)
        self.dead = None
        self.info = {}

    def _log_tail(self):
        try:
            lines = [ln for ln in self.log_path.read_text().splitlines() if ln.strip()]
        except OSError:
            return ""
        errors = [ln for ln in lines if "Error" in ln or "error:" in ln]
        return (errors or lines or [""])[-1][:200]

    def receive(self, timeout):
        """The next reply, or an error reply if the worker hangs or dies."""
        if self.dead:
            return {"ok": False, "error": self.dead}
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else None
        if line:
            return json.loads(line)
        if line is None:
            self.proc.kill()
            self.dead = f"worker timed out after {timeout:.0f} s"
        else:
            code = self.proc.wait()
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            self.dead = f"worker {how}; log {self.log_path}: {self._log_tail()}"
        return {"ok": False, "error": self.dead}

    def request(self, timeout, **req):
        if self.dead:
            return {"ok": False, "error": self.dead}
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except OSError:
            return self.receive(timeout)  # it died: collect the reason
        return self.receive(timeout)

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
