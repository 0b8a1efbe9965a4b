"""Drops evaluation prompts whose text occurs in the training data (small task spaces,
e.g. 4x4 Sudoku, repeat instances across seeds). Usage: holdout.py TRAIN_DIR IN OUT"""
import glob
import json
import os
import sys

train_dir, src, dst = sys.argv[1:4]
seen = set()
for path in glob.glob(os.path.join(train_dir, "*.jsonl")):
    with open(path) as f:
        seen.update(json.loads(l)["prompt"] for l in f)
kept = dropped = 0
with open(src) as f, open(dst, "w") as out:
    for line in f:
        if json.loads(line)["prompt"] in seen:
            dropped += 1
        else:
            kept += 1
            out.write(line)
print(f"{os.path.basename(dst)}: kept {kept}, dropped {dropped} seen in training")
