"""The reference side of `liaison bench pdq`: Python threatexchange 1.2.17's
PDQIndex (faiss multi-hash index) and Python pdqhash, timed on the same data.

  pdq_bench.py index HASHES_FILE QUERIES_FILE LIMIT
      HASHES_FILE: one hex hash per line (entry i is line i);
      QUERIES_FILE: "hex expected_index" per line (-1: a random query).
  pdq_bench.py hash FILE...
Prints one JSON object. Set OMP_NUM_THREADS=1 for one core.
"""

import json
import sys
import time


def index(hashes_file, queries_file, limit):
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    with open(hashes_file) as f:
        hashes = [line.strip() for line in f if line.strip()]
    queries = []
    with open(queries_file) as f:
        for line in f:
            h, expected = line.split()
            queries.append((h, int(expected)))
    queries = queries[:limit]
    start = time.perf_counter()
    idx = PDQIndex(entries=[(h, i) for i, h in enumerate(hashes)])
    build = time.perf_counter() - start
    expected_total = found = results = 0
    start = time.perf_counter()
    for h, expected in queries:
        matches = idx.query(h)
        results += len(matches)
        if expected >= 0:
            expected_total += 1
            if any(m.metadata == expected for m in matches):
                found += 1
    seconds = time.perf_counter() - start
    print(json.dumps({
        "build_seconds": build, "queries": len(queries), "seconds": seconds,
        "results": results, "recall": found / expected_total if expected_total else 1.0,
    }))


def hash_files(files):
    import numpy as np
    import pdqhash
    from PIL import Image

    start = time.perf_counter()
    for path in files:
        with Image.open(path) as img:
            pdqhash.compute(np.asarray(img.convert("RGB")))
    print(json.dumps({"images": len(files), "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    if sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        hash_files(sys.argv[2:])
