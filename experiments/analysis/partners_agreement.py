"""How often a partners file's neighbours share their image's MNIST digit.

Reads a `neighbours.bin` written by `pretext neighbours <run>` for the MNIST
training images (the format is in `crates/pretext-data/src/partners.rs`:
the 8 bytes `PTXNBR1\\n`, the number of images and k as little-endian u64,
then k u32 indices per image) and the training labels, and prints the share
of neighbours with the image's digit and the three most frequent pairs
(image's digit -> neighbour's digit) among the others. Needs numpy only.

    python3 experiments/analysis/partners_agreement.py runs/scan-mnist/neighbours.bin
"""
import gzip
import sys
from pathlib import Path

import numpy as np

LABELS = Path(__file__).resolve().parents[2] / "datasets/mnist/train-labels-idx1-ubyte.gz"


def main(paths):
    labels = np.frombuffer(gzip.open(LABELS).read()[8:], np.uint8)
    for path in paths:
        raw = Path(path).read_bytes()
        if raw[:8] != b"PTXNBR1\n":
            sys.exit(f"{path}: not a partners file (no PTXNBR1 header)")
        n, k = (int(v) for v in np.frombuffer(raw[8:24], "<u8"))
        if n != len(labels):
            sys.exit(f"{path}: {n} images, but MNIST's training set has {len(labels)}")
        table = np.frombuffer(raw[24:], "<u4").reshape(n, k)
        mine = np.repeat(labels, k)
        theirs = labels[table].ravel()
        confused = np.zeros((10, 10), int)
        np.add.at(confused, (mine[mine != theirs], theirs[mine != theirs]), 1)
        np.fill_diagonal(confused, 0)
        top = np.dstack(np.unravel_index(np.argsort(confused, None)[::-1][:3], confused.shape))[0]
        pairs = ", ".join(f"{a}->{b} {confused[a, b]}" for a, b in top)
        print(f"{path}: {np.mean(mine == theirs) * 100:.2f}% of {k} neighbours share the digit; most confused: {pairs}")


if __name__ == "__main__":
    main(sys.argv[1:] or sys.exit(__doc__))
