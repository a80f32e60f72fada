"""Training step of the benchmark's reference CNN in PyTorch, for bench/run.ts.

The network equals dsl/bench/reference-cnn.net: three Conv3d (kernel 3, padding 1), each
followed by an optional BatchNorm3d, ReLU and 2x max pooling, then a linear layer to 2 scores,
softmax cross-entropy and Adam at a learning rate of 1e-3, on a batch of normal noise.

Prints one JSON line. Timing mode: {"system", "device", "threads", "firstStepMs", "stepMs"}.
With --memory it runs one step and prints the peak memory that step adds ("peakBytes") and
how it was measured ("method"):
  cpu:  the process's resident set, whose high-water mark (VmHWM) is reset through
        /proc/self/clear_refs after the model and optimizer exist; peakBytes is VmHWM after
        the step minus VmRSS before it, so the input, activations, gradients and Adam state
        all count.
  cuda: torch.cuda.max_memory_allocated after reset_peak_memory_stats, minus the memory
        allocated before the step (the caching allocator's tensors only, not its reserve).

Run with Debian's /usr/bin/python3 (torch 1.13):
  python3 bench/compare/torch_cnn.py --batch 2 --size 80 96 80 --steps 5 [--bn] [--memory]
"""

import argparse
import json
import time

import torch


def build(batch_norm, size, channels=(8, 16, 32), outputs=2):
    layers, in_channels = [], 1
    for out_channels in channels:
        layers.append(torch.nn.Conv3d(in_channels, out_channels, 3, padding=1))
        if batch_norm:
            layers.append(torch.nn.BatchNorm3d(out_channels))
        layers += [torch.nn.ReLU(), torch.nn.MaxPool3d(2)]
        in_channels = out_channels
    for _ in channels:
        size = [s // 2 for s in size]
    features = in_channels * size[0] * size[1] * size[2]
    layers += [torch.nn.Flatten(), torch.nn.Linear(features, outputs)]
    return torch.nn.Sequential(*layers)


def status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/status has no field " + field)


def make_step(model, optimizer, loss_fn, x, y):
    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


# NOTE: the cuda paths (timing with synchronize, allocator peak) have not been run yet, because
# no CUDA machine was available; only the cpu paths are tested.
def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure_memory(args, device, model, optimizer, loss_fn):
    if device.type == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        before = status_kib("VmRSS") * 1024
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    x = torch.randn(args.batch, 1, *args.size, device=device)
    y = torch.arange(args.batch, device=device) % 2
    make_step(model, optimizer, loss_fn, x, y)()
    sync(device)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - before
        method = "torch.cuda.max_memory_allocated minus allocated bytes before the step"
    else:
        peak = status_kib("VmHWM") * 1024 - before
        method = "peak RSS (VmHWM, reset via /proc/self/clear_refs) minus RSS before the step"
    return {"peakBytes": peak, "method": method}


def measure_time(args, device, model, optimizer, loss_fn):
    x = torch.randn(args.batch, 1, *args.size, device=device)
    y = torch.arange(args.batch, device=device) % 2
    step = make_step(model, optimizer, loss_fn, x, y)
    start = time.perf_counter()
    step()
    sync(device)
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return {"firstStepMs": first, "stepMs": times, "loss": float(loss)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=2, help="batch size N (default 2)")
    parser.add_argument("--size", type=int, nargs=3, default=[80, 96, 80], help="D H W")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's)")
    parser.add_argument("--bn", action="store_true", help="add BatchNorm3d after each conv")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--memory", action="store_true", help="print one step's peak memory")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.bn, args.size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    result = {
        "system": "torch-" + device.type,
        "version": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
    }
    measure = measure_memory if args.memory else measure_time
    result.update(measure(args, device, model, optimizer, loss_fn))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
