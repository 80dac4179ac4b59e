"""PyTorch counterpart of pretext's CPU benchmarks, for side-by-side timing.

Each workload rebuilds, layer for layer, the model pretext trains with its
default settings (same layer order, kernel sizes, padding, bias, batch norm,
pooling, heads, loss, and Adam with pretext's defaults), and times one step:

  simclr-cnn   SimCLR step: small CNN 32-64-128 + projection head (Linear-BN-ReLU-
               Linear, 512/128) + NT-Xent (t=0.5), MNIST 28x28x1, B images x 2 views
               (what `pretext bench` measures)
  resnet18     the same SimCLR step with ResNet-18 (CIFAR stem) on random 32x32x3
  autoencoder  autoencoder step: small CNN + conv decoder (128-64-32), MSE, MNIST
  embed        small CNN forward only, eval mode, under torch.inference_mode()

Mirrors crates/pretext-nn/src/encoder/{small_cnn,resnet}.rs,
crates/pretext-nn/src/head/projection.rs, crates/pretext-nn/src/decoder/conv.rs,
crates/pretext-methods/src/{method/simclr.rs,method/two_views.rs,
method/autoencoder.rs,loss/nt_xent.rs,loss/reconstruction.rs} and
crates/pretext-train/src/optimizer.rs.

Run (CPU):
  python bench/pytorch_bench.py --workload simclr-cnn --batch 256 --steps 10 --warmup 2

The last line is `torch <median step s> <images/s>` (images, not views).
"""
import argparse
import gzip
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST = Path(__file__).resolve().parent.parent / "datasets/mnist/train-images-idx3-ubyte.gz"


# ---------------------------------------------------------------- modules


class SmallCnn(nn.Module):
    """small_cnn.rs: per stage conv3x3 (pad 1, no bias) -> BN -> ReLU -> maxpool 2
    (pool only while the map is >= 4x4), then global average pooling."""

    def __init__(self, c_in=1, hw=(28, 28), widths=(32, 64, 128)):
        super().__init__()
        h, w = hw
        stages = []
        for c_out in widths:
            layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            if h >= 4 and w >= 4:
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            stages.append(nn.Sequential(*layers))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.out_dim = c_in

    def forward(self, x):
        return self.stages(x).mean(dim=(2, 3))


class BasicBlock(nn.Module):
    """resnet.rs BasicBlock: conv3x3-BN-ReLU-conv3x3-BN + identity (1x1 conv + BN
    when the shape changes), then ReLU."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + identity)


class ResNet18(nn.Module):
    """resnet.rs, default config (width 64, CIFAR stem: conv3x3 stride 1, no max-pool)."""

    def __init__(self, c_in=3, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, c = [], width
        for stage, c_out in enumerate([width, 2 * width, 4 * width, 8 * width]):
            blocks += [BasicBlock(c, c_out, 1 if stage == 0 else 2), BasicBlock(c_out, c_out, 1)]
            c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.out_dim = 8 * width

    def forward(self, x):
        return self.blocks(F.relu(self.bn1(self.conv1(x)))).mean(dim=(2, 3))


def projection_head(in_dim, hidden=512, out=128):
    """projection.rs defaults: Linear -> BN -> ReLU -> Linear (biases on)."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))


def halvings(n, max_k):
    """decoder/conv.rs `halvings`: times n halves evenly keeping >= 3 pixels, up to max_k."""
    k = 0
    while k < max_k and n % 2 == 0 and n // 2 >= 3:
        n, k = n // 2, k + 1
    return k


class ConvDecoder(nn.Module):
    """decoder/conv.rs defaults (widths 128-64-32): ReLU(Linear) to a c0 x h0 x w0 map,
    k x [ConvTranspose 4/2/1 -> BN -> ReLU], conv3x3 (pad 1, bias) to the image channels."""

    def __init__(self, in_dim, c_out=1, hw=(28, 28), widths=(128, 64, 32)):
        super().__init__()
        h, w = hw
        k = max(min(halvings(h, len(widths)), halvings(w, len(widths))), 1)
        k = min(k, len(widths))
        self.start = (widths[0], h >> k, w >> k)
        self.size = (h, w)
        self.fc = nn.Linear(in_dim, widths[0] * (h >> k) * (w >> k))
        ups, c = [], widths[0]
        for i in range(1, k + 1):
            nxt = widths[i] if i < len(widths) else widths[-1]
            ups += [nn.ConvTranspose2d(c, nxt, 4, 2, 1), nn.BatchNorm2d(nxt), nn.ReLU()]
            c = nxt
        self.ups = nn.Sequential(*ups)
        self.out = nn.Conv2d(c, c_out, 3, padding=1)

    def forward(self, z):
        x = self.out(self.ups(F.relu(self.fc(z)).view(z.shape[0], *self.start)))
        (th, tw), (h, w) = self.size, x.shape[2:]
        return x if (h, w) == (th, tw) else F.pad(x, (0, tw - w, 0, th - h))


def nt_xent(z1, z2, temperature=0.5):
    """loss/nt_xent.rs: L2-normalise, cosine similarities / t, self-similarity masked
    to -1e9, cross-entropy towards the other view of each image, mean over 2n anchors."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1, eps=1e-12)
    sim = (z @ z.T) / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), -1e9)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def adam(model):
    """optimizer.rs OptimizerConfig::default(): Adam with L2 weight decay 1e-6 added to
    the gradient, burn's AdamConfig defaults betas (0.9, 0.999), eps 1e-5; lr 1e-3."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-5, weight_decay=1e-6)


# ---------------------------------------------------------------- data


def mnist(n):
    """The first n MNIST training images, [n, 1, 28, 28], normalised with their own
    mean/std (pretext's ChannelStats::of: population std, floored at 1e-3)."""
    with gzip.open(MNIST, "rb") as f:
        raw = f.read(16 + n * 784)
    count = int.from_bytes(raw[4:8], "big")
    assert n <= count, f"need {n} images, the file has {count}"
    x = torch.from_numpy(np.frombuffer(raw, np.uint8, n * 784, 16).astype(np.float32) / 255.0)
    mean, std = x.double().mean(), x.double().std(correction=0).clamp_min(1e-3)
    return ((x - mean.float()) / std.float()).view(n, 1, 28, 28)


def two_views(x, batch):
    """Per batch, two views: image + independent N(0, 0.05^2) noise."""
    return [tuple(b + 0.05 * torch.randn_like(b) for _ in range(2)) for b in x.split(batch)]


# ---------------------------------------------------------------- workloads
# Each returns (description, model, batches, step) where step(batch) runs one timed step.


def simclr_step(model, opt):
    encoder, head = model

    def step(views):
        b = views[0].shape[0]
        z = head(encoder(torch.cat(views)))  # both views in one batch, as two_views.rs
        loss = nt_xent(z[:b], z[b:], 0.5)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def build_simclr_cnn(args, n):
    model = nn.ModuleList([SmallCnn(), projection_head(128)]).train()
    batches = two_views(mnist(n), args.batch)
    return "SimCLR, small CNN [32, 64, 128], MNIST 28x28x1, batch %d x 2 views" % args.batch, model, batches, simclr_step(model, adam(model))


def build_resnet18(args, n):
    model = nn.ModuleList([ResNet18(), projection_head(512)]).train()
    # Each view its own standard-normal batch, as `pretext bench` generates them.
    batches = [(torch.randn(args.batch, 3, 32, 32), torch.randn(args.batch, 3, 32, 32)) for _ in range(n // args.batch)]
    return "SimCLR, ResNet-18 CIFAR stem, random 32x32x3, batch %d x 2 views" % args.batch, model, batches, simclr_step(model, adam(model))


def build_autoencoder(args, n):
    model = nn.Sequential(SmallCnn(), ConvDecoder(128)).train()
    opt = adam(model)
    batches = list(mnist(n).split(args.batch))

    def step(x):
        loss = F.mse_loss(model(x), x)  # ReconstructionLoss::Mse on normalised pixels
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return "autoencoder, small CNN [32, 64, 128] + conv decoder [128, 64, 32], MSE, MNIST 28x28x1, batch %d" % args.batch, model, batches, step


def build_embed(args, n):
    model = SmallCnn().eval()
    batches = list(mnist(n).split(args.batch))

    def step(x):
        with torch.inference_mode():
            model(x)

    return "embed, small CNN [32, 64, 128] forward, eval, inference_mode, MNIST 28x28x1, batch %d" % args.batch, model, batches, step


WORKLOADS = {"simclr-cnn": build_simclr_cnn, "resnet18": build_resnet18, "autoencoder": build_autoencoder, "embed": build_embed}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", choices=WORKLOADS, required=True)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)

    desc, model, batches, step = WORKLOADS[args.workload](args, args.batch * (args.steps + args.warmup))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    running = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    print(f"# {desc}, {args.steps} timed steps after {args.warmup} warm-up, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"# params {trainable} (with batch-norm running mean/var, as burn's num_params counts: {trainable + running})")

    times = []
    for i, batch in enumerate(batches):
        start = time.perf_counter()
        step(batch)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    m = statistics.median(times)
    print(f"torch {m:.4f} {args.batch / m:.1f}")


if __name__ == "__main__":
    main()
