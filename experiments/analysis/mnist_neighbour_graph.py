"""How much do a run's neighbours know that its linear probe does not use?

Reads the embeddings `pretext evaluate` cached for an MNIST run (the 60,000
training images and the 10,000 test images) and the run's 10-per-class label
draws, builds the graph joining each image to its 10 nearest neighbours
(cosine), and prints, against the plain linear probe on the embedding:

- how often a neighbour shares its image's digit;
- label spreading (Zhou et al. 2004) over that graph from the 100 labels:
  what the graph knows, semi-supervised, not a probe;
- the linear probe on the embedding smoothed over the graph (each point
  half itself, half its neighbours' mean, t times; test images join their
  training-set neighbours): what an encoder that maps an image near its
  neighbours could hand a probe.

scikit-learn's logistic regression stands in for pretext's probe
(standardised features, C = 1), so its figures are close to, not equal
to, those of docs/results/mnist.md.

    pip install scikit-learn scipy
    pretext evaluate runs/<run> --set 'heads=["linear"]' --set 'budgets=["10/class"]' --set 'baselines=[]'
    python3 experiments/analysis/mnist_neighbour_graph.py runs/<run>   # about 2 minutes on 2 cores
"""
import gzip
import json
import pathlib
import struct
import sys
import warnings

import numpy as np
from scipy.sparse import csr_matrix, diags
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

warnings.filterwarnings("ignore")
MNIST = pathlib.Path(__file__).resolve().parents[2] / "datasets/mnist"
K = 10


def idx_labels(name):
    data = gzip.open(MNIST / name).read()
    return np.frombuffer(data, np.uint8, offset=8)


def cached_embeddings(run):
    """The run's cached embeddings by row count (see pretext-eval's embed.rs)."""
    found = {}
    for path in (run / "eval/cache").glob("*.bin"):
        data = path.read_bytes()
        key_len = struct.unpack("<Q", data[8:16])[0]
        at = 16 + key_len
        rows, dim = struct.unpack("<QQ", data[at : at + 16])
        found[rows] = np.frombuffer(data, np.float32, offset=at + 16).reshape(rows, dim)
    return found[60000], found[10000]


def probe(features, pool_labels, test_labels, draws):
    mean, std = features[:60000].mean(0), features[:60000].std(0) + 1e-8
    z = (features - mean) / std
    scores = []
    for train in draws:
        fit = LogisticRegression(C=1.0, max_iter=3000).fit(z[train], pool_labels[train])
        scores.append(100 * (fit.predict(z[60000:]) == test_labels).mean())
    return scores


def show(name, scores):
    print(f"{name:<44} {np.mean(scores):5.1f} ± {np.std(scores, ddof=1):.1f}  {np.round(scores, 1)}")


def main(run):
    pool, test = cached_embeddings(run)
    pool_labels = idx_labels("train-labels-idx1-ubyte.gz")
    test_labels = idx_labels("t10k-labels-idx1-ubyte.gz")
    draws = [
        np.array(json.loads(p.read_text())["train"])
        for p in sorted((run / "eval/splits").glob("10-per-class-seed*.json"))
    ]
    x = np.vstack([pool, test])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    n = len(x)
    # Each image's K nearest training images (itself left out).
    _, near = NearestNeighbors(n_neighbors=K + 1).fit(x[:60000]).kneighbors(x)
    near = np.where(np.arange(n)[:, None] < 60000, near[:, 1:], near[:, :-1])
    agree = (pool_labels[near[:60000]] == pool_labels[:, None]).mean()
    print(f"{run.name}: {100 * agree:.1f}% of training images' {K} nearest share their digit")

    show("linear probe on the embedding", probe(x, pool_labels, test_labels, draws))

    graph = csr_matrix((np.ones(n * K), (np.repeat(np.arange(n), K), near.ravel())), shape=(n, n))
    sym = graph.maximum(graph.T)
    d = diags(1 / np.sqrt(np.asarray(sym.sum(1)).ravel()))
    s = d @ sym @ d
    spread = []
    for train in draws:
        y = np.zeros((n, 10))
        y[train, pool_labels[train]] = 1
        f = y.copy()
        for _ in range(50):
            f = 0.99 * (s @ f) + 0.01 * y
        spread.append(100 * (f[60000:].argmax(1) == test_labels).mean())
    show("label spreading over the graph (not a probe)", spread)

    walk = diags(1 / np.asarray(graph.sum(1)).ravel()) @ graph
    smooth = x.copy()
    for t in range(1, 17):
        smooth = 0.5 * smooth + 0.5 * (walk @ smooth)
        if t in (1, 4, 16):
            show(f"linear probe, smoothed {t} times", probe(smooth, pool_labels, test_labels, draws))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: mnist_neighbour_graph.py runs/<run>")
    main(pathlib.Path(sys.argv[1]))
