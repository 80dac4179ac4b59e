"""How far can features learnt without labels from the SST-2 phrase pool go?

A classical reference for the text tables of docs/results/text.md: LSA (a 50-dimensional
truncated SVD of the TF-IDF matrix of the 67,349 SST-2 phrases, labels
ignored, the same corpus pretext pretrains on) against TF-IDF + logistic
regression fitted on each task's own labelled pool, both with scikit-learn's
LogisticRegressionCV on 8 and 64 labels per class (40 for TREC), 3 seeds,
test sets as pretext's tasks use them (MR, Subj, CR and SMS spam hold out a
seeded 20%; the split differs from pretext's, the protocol does not).

    pip install scikit-learn
    python3 experiments/analysis/text_lsa_ceiling.py   # about 3 minutes on 2 cores

It prints test accuracy (%), mean over the 3 seeds, for each set.
"""
import csv
import pathlib
import warnings

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
TEXT = pathlib.Path(__file__).resolve().parents[3] / "shared/datasets/text"


def label_text(path, coarse=False):
    docs, labels = [], []
    for line in open(path, encoding="latin1"):
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        label, doc = parts
        labels.append(label.split(":")[0] if coarse else label)
        docs.append(doc)
    return docs, labels


def held_out(docs, labels, seed=0):
    order = np.random.RandomState(seed).permutation(len(docs))
    n = len(docs) // 5
    pick = lambda idx, xs: [xs[i] for i in idx]
    return (pick(order[n:], docs), pick(order[n:], labels),
            pick(order[:n], docs), pick(order[:n], labels))


def sets():
    s = TEXT / "sentences"
    yield "sst2", label_text(s / "stsa.binary.train") + label_text(s / "stsa.binary.test"), 64
    yield "trec", label_text(s / "TREC.train.all", True) + label_text(s / "TREC.test.all", True), 40
    for name, file in [("mr", "rt-polarity.all"), ("subj", "subj.all"), ("cr", "custrev.all")]:
        yield name, held_out(*label_text(s / file)), 64
    sms = [l.rstrip("\n").split("\t", 1) for l in open(TEXT / "sms-spam/SMSSpamCollection", encoding="utf-8")]
    yield "sms-spam", held_out([d for _, d in sms], [l for l, _ in sms]), 64


def accuracy(train_x, train_y, test_x, test_y, per_class):
    train_y, test_y = np.array(train_y), np.array(test_y)
    scores = []
    for seed in range(3):
        rng = np.random.RandomState(seed)
        idx = np.concatenate([
            rng.choice(np.where(train_y == c)[0], min(per_class, (train_y == c).sum()), replace=False)
            for c in sorted(set(train_y))])
        scale = StandardScaler(with_mean=not hasattr(train_x, "tocsr")).fit(train_x[idx])
        clf = LogisticRegressionCV(Cs=8, cv=3, max_iter=3000).fit(scale.transform(train_x[idx]), train_y[idx])
        scores.append((clf.predict(scale.transform(test_x)) == test_y).mean())
    return 100 * np.mean(scores)


def main():
    with open(TEXT / "sst2-phrases/train.tsv", encoding="utf-8") as f:
        phrases = [r["sentence"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    tfidf_phrases = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(phrases)
    lsa = TruncatedSVD(50, random_state=0).fit(tfidf_phrases.transform(phrases))
    embed = lambda docs: lsa.transform(tfidf_phrases.transform(docs))
    print(f"{'set':9} {'labels':>7} {'tf-idf + LR':>12} {'LSA-50 (phrases) + LR':>22}")
    for name, (train_x, train_y, test_x, test_y), mid in sets():
        own = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(train_x)
        for per_class in (8, mid):
            a = accuracy(own.transform(train_x), train_y, own.transform(test_x), test_y, per_class)
            b = accuracy(embed(train_x), train_y, embed(test_x), test_y, per_class)
            print(f"{name:9} {per_class:>5}/c {a:12.1f} {b:22.1f}", flush=True)


if __name__ == "__main__":
    main()
