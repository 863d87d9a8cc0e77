#!/usr/bin/env python3
"""PyTorch counterpart of `mimanet bench`: the same three computations, timed the same way.

  trainStepMs     ResNet18 (width --width) + linear head, Adam, cross entropy, on --batch images
  forwardMs       the same net in eval mode, no gradient
  finetuneStepMs  one guided fine-tuning step (src/train/finetune.ts, Eq. 8): MiNet forward and
                  backward on n micro clips of T frames, the frozen MaNet forward (eval mode, no
                  gradient) on n macro clips, D_s, D_t, C_s (s = 1, 2, 4, K = 4), all five losses,
                  one Adam step over MiNet and the three heads

Each figure is the median of --steps repetitions after one warm-up (the fine-tuning step uses
half as many, at least 2), as in src/cli/bench.ts. Prints one JSON object with the keys of
`mimanet bench --json`. Needs PyTorch (Debian: apt-get install -y python3-torch).

  python3 bench/torch_ref.py --size 112 --batch 8 --frames 16 --n 8 --threads 2
  python3 bench/torch_ref.py --device cuda    # on an NVIDIA GPU (each timed call ends in .item(), a sync)
"""
import argparse
import json
import random
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write('bench/torch_ref.py: PyTorch is not installed (Debian: apt-get install -y python3-torch)\n')
    sys.exit(3)

# the paper preset of src/config.ts
PRETRAIN_LR = 1e-3
FINETUNE_LR = 1e-4
SC, K = 3, 4
HEAD_WIDTHS = (256, 128, 64)
WEIGHTS = {'s': 0.1, 'sam': 0.2, 't': 0.2, 'con': 0.1}
TAU = 0.1
MICRO_CLASSES = 3
MACRO_CLASSES = 7
# macro (CK+ order: anger, contempt, disgust, fear, happiness, sadness, surprise) -> micro (negative, positive, surprise)
MACRO_TO_MICRO = [0, 0, 0, 0, 1, 0, 2]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """ResNet18 trunk; `pool` ends in global average pooling [N, 8w], else the last map [N, 8w, h, w]."""

    def __init__(self, channels, width, pool):
        super().__init__()
        self.pool = pool
        self.stem = nn.Sequential(
            nn.Conv2d(channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, c = [], width
        for i, mult in enumerate((1, 2, 4, 8)):
            f = width * mult
            layers += [Block(c, f, 1 if i == 0 else 2), Block(f, f, 1)]
            c = f
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return x.mean((2, 3)) if self.pool else x


class TwoStream(nn.Module):
    """src/model/twostream.ts: spatial ResNet18 on the apex frame, temporal ResNet18 shared over the T frames."""

    def __init__(self, channels, width, classes):
        super().__init__()
        self.features = 8 * width
        self.spatial = ResNet18(channels, width, pool=False)
        self.temporal = ResNet18(channels, width, pool=True)
        self.classifier = nn.Linear(2 * self.features, classes)

    def forward(self, apex, frames, starts):
        n, T = frames.shape[:2]
        apex_map = self.spatial(apex)
        f_a = apex_map.mean((2, 3))
        frame_features = self.temporal(frames.reshape(n * T, *frames.shape[2:])).reshape(n, T, self.features)
        vs = [frame_features[:, [starts[k] + j * 2 ** k for j in range(K)]] for k in range(SC)]
        v = torch.stack([x.mean(1) for x in vs]).mean(0)
        z = torch.cat([f_a, v], 1)
        return {'apex_map': apex_map, 'vs': vs, 'z': z, 'logits': self.classifier(z)}


def head(dims, cin, outputs):
    """src/model/heads.ts: three conv layers (3, 'same', ReLU), global average pooling, a linear layer."""
    conv = nn.Conv2d if dims == 2 else nn.Conv1d
    mods, c = [], cin
    for w in HEAD_WIDTHS:
        mods += [conv(c, w, 3, 1, 1), nn.ReLU()]
        c = w
    pool = nn.AdaptiveAvgPool2d(1) if dims == 2 else nn.AdaptiveAvgPool1d(1)
    return nn.Sequential(*mods, pool, nn.Flatten(), nn.Linear(c, outputs))


class Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, dy):
        return -ctx.lam * dy, None


def domain_loss(logits, domains):
    return F.binary_cross_entropy_with_logits(logits.reshape(-1), domains)


def contrastive_loss(z_micro, micro_labels, z_macro, macro_labels, tau):
    """Eq. 5-7, 'mean' reduction, D^j keeping u = j (the defaults of src/model/losses.ts)."""
    n, m = z_micro.shape[0], z_macro.shape[0]
    zi = F.normalize(z_micro, dim=1, eps=1e-12)
    za = F.normalize(z_macro, dim=1, eps=1e-12)
    sim = zi @ torch.cat([zi, za]).t() / tau
    log_ratio = sim - torch.logsumexp(sim, 1, keepdim=True)
    all_labels = torch.cat([micro_labels, macro_labels])
    pos = (micro_labels[:, None] == all_labels[None, :]).float()
    pos[torch.arange(n, device=pos.device), torch.arange(n, device=pos.device)] = 0
    counts = pos.sum(1)
    anchors = (counts > 0).sum()
    if anchors == 0:
        return sim.sum() * 0
    per_anchor = (log_ratio * pos).sum(1) / counts.clamp(min=1)
    return -per_anchor.sum() / anchors


def timed(fn, steps):
    fn()  # warm-up
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(ts), 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', type=int, default=112)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--width', type=int, default=64)
    p.add_argument('--frames', type=int, default=16)
    p.add_argument('--n', type=int, default=8)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--threads', type=int, default=torch.get_num_threads())
    p.add_argument('--skip-finetune', action='store_true')
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--device', default='cpu', help='torch device: cpu or cuda')
    a = p.parse_args()
    if a.device.startswith('cuda') and not torch.cuda.is_available():
        p.error(f'--device {a.device}: this PyTorch sees no CUDA device')
    dev = torch.device(a.device)
    if (K - 1) * 2 ** (SC - 1) + 1 > a.frames:
        p.error(f'--frames {a.frames}: K={K} frames spaced {2 ** (SC - 1)} apart do not fit')
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    C = a.channels

    # ResNet18 + linear head: train step and forward pass
    trunk = ResNet18(C, a.width, pool=True)
    net = nn.Sequential(trunk, nn.Linear(8 * a.width, 5)).to(dev)
    x = torch.randn(a.batch, C, a.size, a.size).to(dev)
    y = torch.tensor([rng.randrange(5) for _ in range(a.batch)]).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=PRETRAIN_LR)

    def train_step():
        net.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()

    def forward():
        net.eval()
        with torch.no_grad():
            net(x).sum().item()

    train_ms = timed(train_step, a.steps)
    forward_ms = timed(forward, a.steps)
    del net, trunk, opt, x

    finetune_ms = None
    if not a.skip_finetune:
        n, T = a.n, a.frames
        minet = TwoStream(C, a.width, MICRO_CLASSES).to(dev)
        manet = TwoStream(C, a.width, MACRO_CLASSES).to(dev).eval()
        for q in manet.parameters():
            q.requires_grad_(False)
        F_ = minet.features
        Ds = head(2, F_, 1).to(dev)
        Dt = head(1, F_, 1).to(dev)
        Cs = head(1, F_, SC).to(dev)
        params = [*minet.parameters(), *Ds.parameters(), *Dt.parameters(), *Cs.parameters()]
        opt = torch.optim.Adam(params, lr=FINETUNE_LR)
        mi_apex, mi_frames = torch.randn(n, C, a.size, a.size).to(dev), torch.randn(n, T, C, a.size, a.size).to(dev)
        ma_apex, ma_frames = torch.randn(n, C, a.size, a.size).to(dev), torch.randn(n, T, C, a.size, a.size).to(dev)
        mi_labels = torch.tensor([rng.randrange(MICRO_CLASSES) for _ in range(n)]).to(dev)
        ma_labels = [rng.randrange(MACRO_CLASSES) for _ in range(n)]
        ma_as_micro = torch.tensor([MACRO_TO_MICRO[l] for l in ma_labels]).to(dev)
        domains = torch.cat([torch.zeros(n), torch.ones(n)]).to(dev)
        lam = 1.0

        def guided_step():
            starts = [rng.randrange(T - (K - 1) * 2 ** k) for k in range(SC)]
            with torch.no_grad():
                teacher = manet(ma_apex, ma_frames, starts)
            minet.train()
            opt.zero_grad(set_to_none=True)
            r = minet(mi_apex, mi_frames, starts)
            loss = F.cross_entropy(r['logits'], mi_labels)  # Eq. 1
            maps = torch.cat([Reverse.apply(r['apex_map'], lam), teacher['apex_map']])
            loss = loss + WEIGHTS['s'] * domain_loss(Ds(maps), domains)  # Eq. 2
            # 1-D heads take [N, F, K] (channels first); the TS heads take [N, K, F]
            sam = [F.cross_entropy(Cs(torch.cat([v, teacher['vs'][k]]).transpose(1, 2)), torch.full((2 * n,), k, device=dev))
                   for k, v in enumerate(r['vs'])]
            loss = loss + WEIGHTS['sam'] * sum(sam) / SC  # Eq. 3
            tl = [domain_loss(Dt(torch.cat([Reverse.apply(v, lam), teacher['vs'][k]]).transpose(1, 2)), domains)
                  for k, v in enumerate(r['vs'])]
            loss = loss + WEIGHTS['t'] * sum(tl) / SC  # Eq. 4
            loss = loss + WEIGHTS['con'] * contrastive_loss(r['z'], mi_labels, teacher['z'], ma_as_micro, TAU)  # Eq. 5-7
            loss.backward()
            opt.step()
            loss.item()

        finetune_ms = timed(guided_step, max(2, a.steps // 2))

    print(json.dumps({
        'backend': 'torch' if a.device == 'cpu' else f'torch-{a.device}',
        'threads': torch.get_num_threads(),
        'workers': 1,
        'size': a.size,
        'batch': a.batch,
        'width': a.width,
        'frames': a.frames,
        'n': a.n,
        'trainStepMs': train_ms,
        'forwardMs': forward_ms,
        'finetuneStepMs': finetune_ms,
        'peakRssMb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        'torchVersion': torch.__version__,
    }))


if __name__ == '__main__':
    main()
