"""Would weighting the words of a sentence help a skip-gram bag of embeddings?

Reads a text run's export (`pretext export runs/skipgram-corpus`:
encoder.safetensors and tokenizer.json) and embeds SST-2 and TREC four ways:
the plain mean of the token vectors (what pretext computes), an IDF-weighted
mean, and SIF's weighted means a / (a + p(w)) for a = 1e-3 and 1e-4 (Arora et
al., 2017; p(w) is the token's frequency in the pretraining corpus, here the
texts of experiments/skipgram-corpus.toml less its held-out test parts are
approximated by the whole files). Each is scored by scikit-learn's logistic
regression on the label draws pretext wrote (`<run>/eval/<task>/splits/`),
the L2 strength chosen on each draw's validation labels from pretext's grid.

    pip install numpy scikit-learn safetensors tokenizers
    pretext export runs/skipgram-corpus
    python3 experiments/analysis/text_weighted_means.py runs/skipgram-corpus   # ~2 minutes

It prints test accuracy (%), mean ± std over the draws, for each budget.
"""
import glob
import json
import pathlib
import sys
import warnings

import numpy as np
from safetensors.numpy import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from tokenizers import Tokenizer

warnings.filterwarnings("ignore")
TEXT = pathlib.Path(__file__).resolve().parents[3] / "shared/datasets/text"
run = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/skipgram-corpus")
if not (run / "export/encoder.safetensors").is_file():
    sys.exit(f"{run}/export/encoder.safetensors: missing (run `pretext export {run}` first)")
table = load_file(str(run / "export/encoder.safetensors"))["tokens.weight"].astype(np.float64)
config = json.load(open(run / "export/config.json"))
tokenizer = Tokenizer.from_file(str(run / "export/tokenizer.json"))


def label_text(name, encoding="latin1"):
    rows = [l.rstrip("\n").partition(" ") for l in open(TEXT / name, encoding=encoding)]
    return [(label, text) for label, _, text in rows if text.strip()]


def ids(texts):
    cut = config["max_len"]
    return [e.ids[:cut] or [1] for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


corpus = [l.split("\t", 1)[1] for l in open(TEXT / "sst2-phrases/train.tsv").read().splitlines()[1:]]
for name, enc in [("mpqa.all", "latin1"), ("TREC.train.all", "latin1"), ("rt-polarity.all", "latin1"),
                  ("subj.all", "latin1"), ("custrev.all", "utf-8")]:
    corpus += [t for _, t in label_text("sentences/" + name, enc)]
corpus_ids = ids(corpus)
vocab = table.shape[0]
frequency = np.bincount(np.concatenate(corpus_ids), minlength=vocab) / sum(map(len, corpus_ids))
documents = np.bincount(np.concatenate([np.unique(d) for d in corpus_ids]), minlength=vocab)
weights = {
    "mean": np.ones(vocab),
    "idf": np.log((1 + len(corpus_ids)) / (1 + documents)) + 1,
    "sif 1e-3": 1e-3 / (1e-3 + frequency),
    "sif 1e-4": 1e-4 / (1e-4 + frequency),
}


def embed(sequences, w):
    out = np.zeros((len(sequences), table.shape[1]))
    for i, s in enumerate(sequences):
        ws = w[s]
        out[i] = ws @ table[s] / ws.sum()
    return out


def probe(x, y, split, x_test, y_test):
    train, val = np.array(split["train"]), np.array(split["val"])
    scale = StandardScaler().fit(x[train])
    best = None
    for l2 in [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]:
        model = LogisticRegression(C=1 / (l2 * len(train)), max_iter=300)
        model.fit(scale.transform(x[train]), y[train])
        score = (model.predict(scale.transform(x[val])) == y[val]).mean()
        if best is None or score > best[0]:
            best = (score, model)
    return 100 * (best[1].predict(scale.transform(x_test)) == y_test).mean()


for task, train_file, test_file, enc in [
    ("sst2", "stsa.binary.train", "stsa.binary.test", "utf-8"),
    ("trec", "TREC.train.all", "TREC.test.all", "latin1"),
]:
    train, test = label_text("sentences/" + train_file, enc), label_text("sentences/" + test_file, enc)
    y, y_test = np.array([l for l, _ in train]), np.array([l for l, _ in test])
    seq, seq_test = ids([t for _, t in train]), ids([t for _, t in test])
    splits = [json.load(open(p)) for p in sorted(glob.glob(str(run / f"eval/{task}/splits/*.json")))]
    if not splits:
        sys.exit(f"{run}/eval/{task}/splits: no label draws (run `pretext evaluate` on {task} first)")
    for name, w in weights.items():
        x, x_test = embed(seq, w), embed(seq_test, w)
        for budget in dict.fromkeys(s["budget"] for s in splits if s["budget"] != "all"):
            acc = [probe(x, y, s, x_test, y_test) for s in splits if s["budget"] == budget]
            print(f"{task:5s} {budget:9s} {name:9s} {np.mean(acc):5.1f} ± {np.std(acc, ddof=1):.1f} ({len(acc)} draws)")
