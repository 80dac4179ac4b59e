"""Checks that a documentation move lost no figure.

Counts every figure (a decimal number, a mean ± spread, a number with
thousands separators) in README.md at an earlier commit, and in the
documentation now (README.md, ARCHITECTURE.md, CONTRIBUTING.md,
bench/README.md, docs/**.md) less what docs/ held at that commit. Prints the
figures that occur fewer times now than the old README held them.

    python3 experiments/analysis/docs_figures.py 7346ce6   # the split of 3616fc1
"""
import collections
import glob
import re
import subprocess
import sys

FIGURE = re.compile(r"[+-−]?\d[\d,]*\.\d+(?: ± \d+\.\d+)?%?|\d[\d,]*(?: ± \d+)|\d+(?:,\d{3})+")


def figures(text):
    return collections.Counter(FIGURE.findall(text))


def at(commit, path):
    return subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True).stdout


def main():
    commit = sys.argv[1]
    old = figures(at(commit, "README.md"))
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, "docs"],
                            capture_output=True, text=True, check=True).stdout.split()
    before = collections.Counter()
    for path in listed:
        if path.endswith(".md"):
            before += figures(at(commit, path))
    now = collections.Counter()
    paths = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md", "bench/README.md"]
    paths += glob.glob("docs/**/*.md", recursive=True)
    for path in paths:
        try:
            now += figures(open(path, encoding="utf-8").read())
        except FileNotFoundError:
            pass
    lost = {k: (v, now[k] - before[k]) for k, v in old.items() if now[k] - before[k] < v}
    print(f"{len(old)} distinct figures, {sum(old.values())} occurrences in README.md at {commit}; "
          f"{len(lost)} found fewer times now")
    for k, (was, is_) in sorted(lost.items()):
        print(f"  {k!r}: {was} then, {max(is_, 0)} now")


if __name__ == "__main__":
    main()
