#!/usr/bin/env python3
"""Writes the generated review sentences: datasets/reviews/{train,test}.tsv.

A small text classification set the project may commit, so that the text
path runs end to end on a fresh clone. Every sentence comes from a fixed
grammar and its label from a known rule (see README.md beside this file):

- `label`: 1 when the review is positive, 0 when negative. The polarity of
  the adjective decides, flipped by a negation ("not", "hardly", "nothing
  about ... was") and taken from the clause after "but" when there is one;
  "could not have been more ADJ" does not flip. A bag of words without
  word order cannot get every sentence right.
- `topic`: film, food, gadget or travel, from the nouns.

Deterministic: `python3 datasets/reviews/generate.py` rewrites the same
bytes (Python's `random.Random` with a fixed seed; standard library only).
Sentences are unique across both files, so no test sentence is also a
training sentence.
"""
import os
import random

SEED = 20261206
TRAIN, TEST = 4000, 1000

NOUNS = {
    "film": ["film", "movie", "plot", "script", "acting", "cast", "soundtrack",
             "ending", "dialogue", "director"],
    "food": ["soup", "pasta", "bread", "coffee", "service", "dessert", "menu",
             "staff", "kitchen", "wine"],
    "gadget": ["battery", "screen", "keyboard", "camera", "charger", "case",
               "speaker", "app", "manual", "fan"],
    "travel": ["hotel", "room", "beach", "flight", "guide", "view", "pool",
               "tour", "breakfast", "bus"],
}
POSITIVE = ["good", "great", "excellent", "wonderful", "charming", "delightful",
            "superb", "clever", "fresh", "lovely", "solid", "reliable",
            "friendly", "gripping", "pleasant", "bright"]
NEGATIVE = ["bad", "poor", "awful", "dull", "bland", "tedious", "clumsy",
            "stale", "weak", "flimsy", "boring", "noisy", "rude", "slow",
            "broken", "messy"]
DETERMINERS = ["the", "this", "that", "our"]
INTENSIFIERS = ["", "very ", "really ", "quite ", "truly ", "rather "]
OPENINGS = ["", "honestly , ", "overall , ", "to be fair , ", "in short , "]
TIMES = ["", " last night", " this week", " on monday", " after an hour"]


def adjective(rng, positive):
    return rng.choice(POSITIVE if positive else NEGATIVE)


def noun_phrase(rng, topic):
    return f"{rng.choice(DETERMINERS)} {rng.choice(NOUNS[topic])}"


def sentence(rng, label, topic):
    """One sentence whose rule gives `label` (True: positive) on `topic`."""
    np_, np2 = noun_phrase(rng, topic), noun_phrase(rng, topic)
    opening, time = rng.choice(OPENINGS), rng.choice(TIMES)
    intens = rng.choice(INTENSIFIERS)
    kind = rng.randrange(8)
    if kind == 0:  # plain: the adjective decides
        return f"{opening}{np_}{time} was {intens}{adjective(rng, label)} ."
    if kind == 1:  # negated: flipped
        return f"{opening}{np_}{time} was not {intens}{adjective(rng, not label)} ."
    if kind == 2:  # contrast: the clause after "but" decides
        first = adjective(rng, rng.random() < 0.5)
        return f"{np_} was {first} , but {np2} was {intens}{adjective(rng, label)} ."
    if kind == 3:  # two clauses of the same polarity
        a, b = adjective(rng, label), adjective(rng, label)
        return f"{opening}{np_} was {a} and {np2} was {intens}{b} ."
    if kind == 4:  # "nothing about ... was": flipped
        return f"nothing about {np_} was {adjective(rng, not label)} ."
    if kind == 5:  # "could not have been more": not flipped
        return f"{np_} could not have been more {adjective(rng, label)} ."
    if kind == 6:  # "hardly": flipped
        return f"{opening}{np_} was hardly {adjective(rng, not label)} ."
    # a recommendation that agrees with its adjective
    verb = "would recommend" if label else "would not recommend"
    return f"i {verb} {np_} : it was {intens}{adjective(rng, label)} ."


def main():
    rng = random.Random(SEED)
    seen = set()
    rows = []
    topics = sorted(NOUNS)
    while len(rows) < TRAIN + TEST:
        label = len(rows) % 2 == 0  # balanced, shuffled below
        topic = topics[(len(rows) // 2) % len(topics)]
        text = sentence(rng, label, topic)
        if text in seen:
            continue
        seen.add(text)
        rows.append((int(label), topic, text))
    rng.shuffle(rows)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, part in [("train.tsv", rows[:TRAIN]), ("test.tsv", rows[TRAIN:])]:
        with open(os.path.join(here, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("label\ttopic\tsentence\n")
            for label, topic, text in part:
                f.write(f"{label}\t{topic}\t{text}\n")


if __name__ == "__main__":
    main()
