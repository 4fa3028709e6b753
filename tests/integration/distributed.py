#!/usr/bin/env python3
"""Data-parallel runs of the real executables (issue #11), 2 Gloo processes on loopback.

  equivalence PRETRAIN FINETUNE TORCHRUN WORK
      pretrain (CL-TCI-SimCLR with gathered negatives, CL-TCI-MoCo with gathered keys) and
      finetune, once as one process and once as 2 processes under torchrun at the same global
      batch: every exported weight agrees within 1e-5 after at least 5 steps.
  killed PRETRAIN WORK
      2 processes started by hand (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); rank 1 is killed
      with SIGKILL mid-training; rank 0 must exit non-zero within run.dist_timeout_s with one
      line naming rank 1, and leave no half-written checkpoint.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

TOLERANCE = 1e-5

# A small phantom and U-Net: group norm, since local BatchNorm statistics legitimately differ
# from the global batch's (docs/distributed.md); everything else is the real pipeline.
COMMON = ["--threads", "1", "--device", "cpu",
          "--set", "data.source.patients=12", "--set", "data.source.images_per_patient=[2,4]",
          "--set", "data.image_size=32", "--set", "model.base_channels=8",
          "--set", "model.depth=2", "--set", "model.norm=group",
          "--set", "data.workers=1", "--set", "run.log_every=1",
          "--set", "run.dist_timeout_s=60"]


def run(command, env=None, timeout=600):
    print("+", " ".join(command), flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:])
        raise SystemExit(f"exit {done.returncode}: {' '.join(command)}")
    return done.stdout + done.stderr


def max_difference(first, second):
    a, b = load_file(str(first)), load_file(str(second))
    if a.keys() != b.keys():
        raise SystemExit(f"{first} and {second} hold different tensors")
    worst = 0.0
    for name in a:
        worst = max(worst, (a[name].double() - b[name].double()).abs().max().item())
    return worst, len(a)


def steps_of(log):
    return sum(1 for line in log.splitlines() if "[train] epoch" in line)


def equivalence(pretrain, finetune, torchrun, work):
    cache = ["--set", f"data.cache_dir={work}/cache"]
    failures = []
    for method, extra in [("cltci_simclr", ["--set", "method.images_per_patient=2"]),
                          ("cltci_moco", ["--set", "method.queue_size=16",
                                          "--set", "method.shuffle_bn=false"])]:
        config = ["--config", str(Path(__file__).resolve().parents[2] /
                                  "configs/pretrain/phantom_cltci_moco_unet.yaml"),
                  "--set", f"method.name={method}", "--set", "optim.batch_size=8",
                  "--set", "optim.epochs=2", "--set", "optim.warmup_epochs=0",
                  "--set", "method.embedding_dim=16", "--set", "run.probe_every=100"]
        config += COMMON + cache + extra
        one = run([pretrain, *config, "--output", f"{work}/one", "--overwrite"])
        two = run([torchrun, "--standalone", "--nproc-per-node", "2", "--no-python", pretrain,
                   *config, "--output", f"{work}/two", "--overwrite"])
        name = "phantom_cltci_moco_unet"
        worst, tensors = max_difference(Path(work, "one", name, "encoder.safetensors"),
                                        Path(work, "two", name, "encoder.safetensors"))
        steps = steps_of(one)
        print(f"pretrain {method}: {steps} steps, {tensors} tensors, max |difference| {worst:.3g}")
        if "[dist] 2 processes" not in two:
            failures.append(f"{method}: the 2-process run did not report its group")
        if steps < 5 or worst > TOLERANCE:
            failures.append(f"pretrain {method}: {steps} steps, max difference {worst:.3g}")
    config = ["--config", str(Path(__file__).resolve().parents[2] /
                              "configs/finetune/phantom_random_unet.yaml"),
              "--set", "budgets=[8]", "--set", "seeds=[0]", "--set", "folds.k=2",
              "--set", "optim.epochs=3", "--set", "optim.batch_size=3",
              # SGD: Adam divides by the root of tiny second moments, which turns float32
              # summation-order noise in near-zero gradients into visible weight differences.
              "--set", "optim.name=sgd", "--set", "optim.lr=0.01"] + COMMON + cache
    run([finetune, *config, "--output", f"{work}/ft-one", "--overwrite"])
    run([torchrun, "--standalone", "--nproc-per-node", "2", "--no-python", finetune, *config,
         "--output", f"{work}/ft-two", "--overwrite"])
    models = sorted(Path(work, "ft-one").rglob("model.safetensors"))
    if len(models) != 2:
        failures.append(f"finetune: {len(models)} cells instead of 2")
    for model in models:
        other = Path(work, "ft-two") / model.relative_to(Path(work, "ft-one"))
        worst, tensors = max_difference(model, other)
        # M = 8 in batches of 3: 3, 3 and a short 2, split 1 + 1 and 2 + 1 images over the ranks.
        print(f"finetune {model.parent.name}: 9 steps, {tensors} tensors, max |difference| "
              f"{worst:.3g}")
        if worst > TOLERANCE:
            failures.append(f"finetune {model.parent.name}: max difference {worst:.3g}")
    if failures:
        raise SystemExit("; ".join(failures))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def killed(pretrain, work):
    timeout = 20
    config = ["--config", str(Path(__file__).resolve().parents[2] /
                              "configs/pretrain/phantom_cltci_moco_unet.yaml"),
              "--set", "optim.batch_size=8", "--set", "optim.epochs=200",
              "--set", "method.queue_size=16", "--set", "run.probe_every=1000",
              "--set", f"data.cache_dir={work}/cache", "--output", f"{work}/killed",
              "--overwrite"] + COMMON + ["--set", f"run.dist_timeout_s={timeout}"]
    port = free_port()
    ranks = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        ranks.append(subprocess.Popen([pretrain, *config], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    # Wait until rank 0 trains (its progress lines), then kill rank 1.
    lines = []
    deadline = time.time() + 300
    for line in ranks[0].stdout:
        lines.append(line)
        if "[train] epoch 2/" in line or time.time() > deadline:
            break
    ranks[1].send_signal(signal.SIGKILL)
    killed_at = time.time()
    try:
        rest, _ = ranks[0].communicate(timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        ranks[0].kill()
        raise SystemExit(f"rank 0 still running {timeout + 10} s after rank 1 was killed")
    seconds = time.time() - killed_at
    ranks[1].wait()
    lines += rest.splitlines(keepends=True)
    text = "".join(lines)
    print(text[-1500:])
    named = [line for line in lines if "rank 1 stopped" in line]
    print(f"rank 0 exited {ranks[0].returncode} {seconds:.1f} s after rank 1 was killed")
    if ranks[0].returncode == 0 or not named or seconds > timeout:
        raise SystemExit("rank 0 did not stop with a line naming rank 1 in time")
    run_dir = Path(work, "killed", "phantom_cltci_moco_unet")
    leftovers = [p.name for p in run_dir.iterdir() if ".tmp" in p.name]
    if leftovers:
        raise SystemExit(f"half-written files left: {leftovers}")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "equivalence" and len(sys.argv) == 6:
        equivalence(*sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "killed" and len(sys.argv) == 4:
        killed(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)


if __name__ == "__main__":
    main()
