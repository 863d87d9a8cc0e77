"""
Reference MEGC spotting scorer for the tests: written from the public scorer's
logic (SoftNet-SpotME's Utils/mean_average_precision: a detection-style match
table per video, predictions sorted by confidence, greedy one-to-one matching
against the truth of highest IoU), not from mimanet's TypeScript.

    /usr/bin/python3 megc_ref.py TRUTH.csv PRED.csv [TRUTH2.csv PRED2.csv ...]

prints, for each pair, one line of JSON:
{"micro": {...}, "macro": {...}, "overall": {...}} with tp, fp, fn, precision, recall, f1.

Intervals are inclusive frame ranges. IoU is kept as an exact fraction, so
that ties between truths are ties (the public code compares floats of small
integer ratios, which are equal exactly when the fractions are).
"""
import csv
import json
import sys
from fractions import Fraction

KINDS = ("micro", "macro")


def read_table(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [h.strip().lower() for h in reader.fieldnames]
        rows = []
        for r in reader:
            if not any((v or "").strip() for v in r.values()):
                continue
            row = {
                "video": r["video"].strip(),
                "onset": int(r["onset"]),
                "offset": int(r["offset"]),
                "kind": r["kind"].strip(),
            }
            if "score" in r and r["score"] is not None:
                row["score"] = float(r["score"])
            rows.append(row)
        return rows


def iou(a, b):
    # inclusive frames: lengths and intersection count both ends (the "+ 1" of the public compute_iou)
    inter = max(0, min(a["offset"], b["offset"]) - max(a["onset"], b["onset"]) + 1)
    union = (a["offset"] - a["onset"] + 1) + (b["offset"] - b["onset"] + 1) - inter
    return Fraction(inter, union)


def match_video(preds, truths, threshold=Fraction(1, 2)):
    """Greedy one-to-one matching of one video's predictions of one kind; returns the number of true positives."""
    # sort_values(by='confidence', ascending=False); Python's sort is stable, so ties keep input order
    ranked = sorted(preds, key=lambda p: -p.get("score", 0.0))
    matched = []
    tp = 0
    for p in ranked:
        if not truths:
            continue  # no truth of this kind in the video: a false positive
        ious = [iou(p, t) for t in truths]
        # order = argsort(iou)[::-1]: ascending stable sort, reversed, so among equal IoUs the last truth comes first
        order = sorted(range(len(truths)), key=lambda t: ious[t])[::-1]
        best = order[0]
        # greedy policy: only the best truth is checked; taken or below the threshold means a false positive
        if ious[best] >= threshold and best not in matched:
            matched.append(best)
            tp += 1
    return tp


def scores(tp, fp, fn):
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def evaluate(truth_rows, pred_rows):
    counts = {k: [0, 0, 0] for k in KINDS}
    videos = sorted({r["video"] for r in truth_rows} | {r["video"] for r in pred_rows})
    for kind in KINDS:
        for video in videos:
            truths = [t for t in truth_rows if t["video"] == video and t["kind"] == kind]
            preds = [p for p in pred_rows if p["video"] == video and p["kind"] == kind]
            tp = match_video(preds, truths)
            counts[kind][0] += tp
            counts[kind][1] += len(preds) - tp
            # FN_spot = total_gt - TP_spot
            counts[kind][2] += len(truths) - tp
    out = {k: scores(*counts[k]) for k in KINDS}
    out["overall"] = scores(*(counts["micro"][i] + counts["macro"][i] for i in range(3)))
    return out


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        sys.exit("usage: megc_ref.py TRUTH.csv PRED.csv [TRUTH.csv PRED.csv ...]")
    for i in range(0, len(argv), 2):
        print(json.dumps(evaluate(read_table(argv[i]), read_table(argv[i + 1]))))


if __name__ == "__main__":
    main(sys.argv[1:])
