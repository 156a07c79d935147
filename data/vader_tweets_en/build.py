"""Rebuild the English tweet sentiment split from the vaderSentiment package.

Source: vaderSentiment 3.3.2 (sdist on the Python package index, MIT licence),
file additional_resources/hutto_ICWSM_2014.tar.gz, member
hutto_ICWSM_2014/tweets_GroundTruth.txt: tab-separated ID, mean human sentiment
rating (-4 .. +4, at least 20 raters each) and tweet text.

Steps:
  1. download the pinned sdist with pip (or use --archive PATH) and check its sha256;
  2. read the ratings file; HTML entities in the text (&amp;, &lt;) are unescaped;
  3. label from the mean rating: below -BAND negative, above +BAND positive,
     otherwise neutral;
  4. drop exact duplicate texts (and any text under two labels);
  5. seeded, stratified draw of N_TEST test rows, then N_TRAIN train rows from
     what is left, so no text is in both files.

Run:  python data/vader_tweets_en/build.py      (rewrites train.jsonl and test.jsonl)
Only the standard library (and pip, for the download) is used; output is
byte-identical on re-runs.
"""

import html
import io
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # data/package_split.py
import package_split  # noqa: E402

PACKAGE, VERSION = "vaderSentiment", "3.3.2"
ARCHIVE = "vaderSentiment-3.3.2.tar.gz"
SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
MEMBER = "hutto_ICWSM_2014/tweets_GroundTruth.txt"
BAND = 0.5
N_TRAIN, N_TEST = 1500, 400
SEED = 27


def label_of(rating):
    if rating < -BAND:
        return "negative"
    if rating > BAND:
        return "positive"
    return "neutral"


def read_pool(archive):
    """(text, label) pairs from the rated tweets inside the nested archive."""
    with tarfile.open(archive) as outer:
        inner = io.BytesIO(outer.extractfile(INNER).read())
    with tarfile.open(fileobj=inner) as tar:
        lines = tar.extractfile(MEMBER).read().decode("utf-8").splitlines()
    rows = []
    for line in lines:
        _id, rating, text = line.split("\t")
        rows.append((html.unescape(text).strip(), label_of(float(rating))))
    return rows


def main():
    package_split.build(HERE, __doc__.splitlines()[0], PACKAGE, VERSION, ARCHIVE, SHA256, read_pool,
                        N_TRAIN, N_TEST, SEED, pool_words="pool")


if __name__ == "__main__":
    main()
