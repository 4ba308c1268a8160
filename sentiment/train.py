"""Train the local scorer's model from shared/data, reproducibly.

    python -m sentiment.train --data ../shared/data --out sentiment/data/local_model.json.gz

What it fits (scikit-learn, the ``train`` extra; inference needs only the saved weights):

- three logistic regressions on GoEmotions *train* over word uni/bigrams and 5-letter prefixes
  (document frequency >= ``--min-df``, NB-scaled: each column times sqrt|log-count ratio|)
  plus lexicon features: ``neg`` (negative emotion group), ``pos`` (positive group) and
  ``frus`` (anger or annoyance). The regularisation strength of each is picked from a small
  grid by ROC-AUC on GoEmotions *dev*.
- ``stack``: score = bias + s * (a * P(pos)' - P(neg) + b * compound'), where ' means gated by
  1 - P(neg). (a, b) is the mix with the best GoEmotions *dev* AUC among those whose Pearson r
  with the VADER tweet ratings (fixed 80 % train split by a hash of the id; 20 % held out) is
  >= 0.85; s is the least-squares slope to rating / 4 divided by r; the bias puts the median of
  GoEmotions *dev* neutral comments at 0.
- frustration = sigmoid(frus logit + rules + m * neg logit + offset): m picked by dev AUC, the
  offset puts ``--escalate-share`` (10 %) of GoEmotions *dev* at or above 0.75.

The output is gzip'd JSON with sorted keys and weights rounded to 5 decimals, written with a
zero gzip timestamp, so the same data and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

from sentiment import _rules as R
from sentiment._features import DENSE_NAMES, analyse, features_for_model

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "sentiment" / "data" / "local_model.json.gz"

NEGATIVE_GROUP = 1  # goemotions/group/labels.txt: ambiguous, negative, neutral, positive
POSITIVE_GROUP = 3
ANGER, ANNOYANCE = 2, 3  # goemotions/original/labels.txt
VADER_FILES = (  # all four are read by evaluate; the stack uses tweets
    "tweets_GroundTruth.txt",
    "amazonReviewSnippets_GroundTruth.txt",
    "movieReviewSnippets_GroundTruth.txt",
    "nytEditorialSnippets_GroundTruth.txt",
)
C_GRID = (0.05, 0.1, 0.2)
POS_MIX = (0.0, 0.25, 0.5, 1.0)
COMP_MIX = (0.0, 0.1, 0.25, 0.5)
FRUS_NEG_MIX = (0.0, 0.25, 0.5)
MIN_TWEETS_PEARSON = 0.85
NEUTRAL_GROUP = 2


# --- data --------------------------------------------------------------------------------------
def read_goemotions(data: Path, split: str) -> tuple[list[str], list[set[int]], list[set[int]]]:
    """Texts, emotion id sets, group id sets of one split (the two files are row-aligned)."""
    texts, emotions, groups = [], [], []
    orig = (data / "goemotions" / "original" / f"{split}.tsv").read_text(encoding="utf-8")
    grp = (data / "goemotions" / "group" / f"{split}.tsv").read_text(encoding="utf-8")
    for line_o, line_g in zip(orig.splitlines(), grp.splitlines(), strict=True):
        text, ids, cid = line_o.split("\t")
        text_g, gids, cid_g = line_g.split("\t")
        if cid != cid_g:
            raise ValueError(f"goemotions {split}: original and group files are not aligned")
        texts.append(text)
        emotions.append({int(i) for i in ids.split(",")})
        groups.append({int(i) for i in gids.split(",")})
    return texts, emotions, groups


def vader_split(name: str, ident: str) -> str:
    h = int(hashlib.md5(f"{name}:{ident}".encode()).hexdigest()[:8], 16) % 10
    return "test" if h < 2 else "train"


def read_vader(data: Path, name: str) -> list[tuple[str, float, str]]:
    """(text, rating -4..4, split) rows of one VADER ground-truth file."""
    rows = []
    raw = (data / "vader_ground_truth" / name).read_bytes().decode("utf-8", errors="replace")
    for line in raw.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        rows.append((parts[2], float(parts[1]), vader_split(name, parts[0])))
    return rows


# --- lexicon -----------------------------------------------------------------------------------
def build_lexicon() -> dict[str, float]:
    import vaderSentiment

    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    lexicon: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                lexicon[parts[0].strip().lower()] = float(parts[1])
            except ValueError:
                continue
    lexicon.update(R.DOMAIN_VALENCE)
    lexicon.update(R.EMOJI_VALENCE)
    return {k: v for k, v in lexicon.items() if v != 0.0}


# --- features ----------------------------------------------------------------------------------
class Featuriser:
    def __init__(self, lexicon: dict[str, float]):
        self.lexicon = lexicon
        self.vocab: dict[str, int] = {}

    def analyse_all(self, texts: list[str]):
        return [analyse(t, self.lexicon) for t in texts]

    def fit_vocab(self, analyses, min_df: int) -> None:
        df: dict[str, int] = {}
        for a in analyses:
            for f in set(features_for_model(a.tokens)):
                df[f] = df.get(f, 0) + 1
        kept = sorted(f for f, n in df.items() if n >= min_df)
        self.vocab = {f: i for i, f in enumerate(kept)}

    def matrix(self, analyses):
        from scipy import sparse

        rows, cols = [], []
        n_vocab = len(self.vocab)
        dense = np.zeros((len(analyses), len(DENSE_NAMES)))
        for r, a in enumerate(analyses):
            idx = {self.vocab[f] for f in features_for_model(a.tokens) if f in self.vocab}
            rows.extend([r] * len(idx))
            cols.extend(sorted(idx))
            dense[r] = a.dense
        data = np.ones(len(rows))
        x = sparse.csr_matrix((data, (rows, cols)), shape=(len(analyses), n_vocab))
        return sparse.hstack([x, sparse.csr_matrix(dense)], format="csr")


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    from sentiment.evaluate import roc_auc as _auc

    return _auc(y, s)


def fit_lr(x, y: np.ndarray, c: float, weights: np.ndarray | None = None):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, solver="lbfgs", tol=1e-6)
    model.fit(x, y, sample_weight=weights)
    return model


def nb_scale(x, y: np.ndarray, n_vocab: int) -> np.ndarray:
    """Per-column scale: sqrt(|log-count ratio|) for word features (NB-LR style), 1 for dense."""
    xb = x[:, :n_vocab]
    p = np.asarray(xb[y > 0.5].sum(0)).ravel() + 1.0
    q = np.asarray(xb[y <= 0.5].sum(0)).ravel() + 1.0
    r = np.sqrt(np.abs(np.log((p / p.sum()) / (q / q.sum()))))
    return np.concatenate([r, np.ones(x.shape[1] - n_vocab)])


def fit_head(name, x_tr, y_tr, x_dev, y_dev, n_vocab, log=print):
    """Fit one head for each C in the grid on NB-scaled features; keep the best by dev AUC.

    Returns (coefficients per original column, intercept, chosen C)."""
    from scipy import sparse

    scale = nb_scale(x_tr, y_tr, n_vocab)
    d = sparse.diags(scale)
    xs_tr, xs_dev = x_tr @ d, x_dev @ d
    best = None
    for c in C_GRID:
        model = fit_lr(xs_tr, y_tr, c)
        auc = roc_auc(y_dev, model.decision_function(xs_dev))
        log(f"  {name}: C={c} dev AUC={auc:.4f}")
        if best is None or auc > best[0] + 1e-9:
            best = (auc, c, model)
    log(f"  {name}: chose C={best[1]}")
    model = best[2]
    return model.coef_[0] * scale, float(model.intercept_[0]), best[1]


def r5(v: float) -> float:
    return float(f"{v:.5g}")


def train(data: Path, out: Path, seed: int = 13, limit: int | None = None, min_df: int = 3,
          escalate_share: float = 0.10, log=print) -> dict:
    from sentiment.local import LocalScorer

    random.seed(seed)
    np.random.seed(seed)
    lexicon = build_lexicon()
    fz = Featuriser(lexicon)
    tr_t, tr_e, tr_g = read_goemotions(data, "train")
    dv_t, dv_e, dv_g = read_goemotions(data, "dev")
    if limit:
        rng = random.Random(seed)
        pick = sorted(rng.sample(range(len(tr_t)), min(limit, len(tr_t))))
        tr_t, tr_e, tr_g = [tr_t[i] for i in pick], [tr_e[i] for i in pick], [tr_g[i] for i in pick]
        pick = sorted(rng.sample(range(len(dv_t)), min(limit // 4 + 1, len(dv_t))))
        dv_t, dv_e, dv_g = [dv_t[i] for i in pick], [dv_e[i] for i in pick], [dv_g[i] for i in pick]
    log(f"GoEmotions train {len(tr_t)}, dev {len(dv_t)}")
    a_tr = fz.analyse_all(tr_t)
    a_dv = fz.analyse_all(dv_t)
    fz.fit_vocab(a_tr, min_df)
    log(f"vocabulary {len(fz.vocab)} uni/bigrams")
    x_tr, x_dv = fz.matrix(a_tr), fz.matrix(a_dv)

    y_neg = np.array([NEGATIVE_GROUP in g for g in tr_g], dtype=float)
    y_pos = np.array([POSITIVE_GROUP in g for g in tr_g], dtype=float)
    y_frus = np.array([bool({ANGER, ANNOYANCE} & e) for e in tr_e], dtype=float)
    d_neg = np.array([NEGATIVE_GROUP in g for g in dv_g], dtype=float)
    d_pos = np.array([POSITIVE_GROUP in g for g in dv_g], dtype=float)
    d_frus = np.array([bool({ANGER, ANNOYANCE} & e) for e in dv_e], dtype=float)

    n_vocab = len(fz.vocab)
    coef, bias, chosen_c = {}, {}, {}
    for head, y, d in (("neg", y_neg, d_neg), ("pos", y_pos, d_pos), ("frus", y_frus, d_frus)):
        coef[head], bias[head], chosen_c[head] = fit_head(head, x_tr, y, x_dv, d, n_vocab, log=log)

    names = sorted(fz.vocab, key=fz.vocab.get)
    vocab_out = {}
    for i, f in enumerate(names):
        w = [r5(coef["neg"][i]), r5(coef["pos"][i]), r5(coef["frus"][i])]
        if max(abs(v) for v in w) >= 0.02:
            vocab_out[f] = w
    model = {
        "format": 3,
        "seed": seed,
        "min_df": min_df,
        "chosen_c": chosen_c,
        "dense_names": list(DENSE_NAMES),
        "dense": {h: [r5(v) for v in coef[h][n_vocab:]] for h in coef},
        "bias": {h: r5(bias[h]) for h in coef},
        "vocab": vocab_out,
        "lexicon": {k: r5(v) for k, v in sorted(lexicon.items())},
        "stack": [0.0, 0.0, -1.0, 0.0],
        "frustration_neg": 0.0,
        "frustration_offset": 0.0,
    }
    scorer = LocalScorer(model=model)

    # Score: u = a*P(pos)' - P(neg) + b*compound' (' = gated by 1 - P(neg)); (a, b) chosen by
    # GoEmotions dev AUC among the mixes whose Pearson r with the VADER tweet ratings (train
    # split) is at least MIN_TWEETS_PEARSON. Slope: least squares on those ratings, de-attenuated
    # by r so the spread matches theirs; offset: GoEmotions dev neutral comments centre on 0.
    rows = [r for r in read_vader(data, "tweets_GroundTruth.txt") if r[2] == "train"]
    if limit:
        rows = [rows[i] for i in sorted(random.Random(seed).sample(range(len(rows)), min(limit, len(rows))))]
    v_in = np.array([scorer.stack_inputs(t) for t, _, _ in rows])
    v_target = np.array([r[1] / 4.0 for r in rows])
    g_in = np.array([scorer.stack_inputs(t) for t in dv_t])
    best = None
    for a in POS_MIX:
        for b in COMP_MIX:
            u_v = a * v_in[:, 0] - v_in[:, 1] + b * v_in[:, 2]
            r = float(np.corrcoef(u_v, v_target)[0, 1])
            auc = roc_auc(d_neg, -(a * g_in[:, 0] - g_in[:, 1] + b * g_in[:, 2]))
            ok = r >= MIN_TWEETS_PEARSON
            log(f"  score mix P(pos)*{a} compound*{b}: tweets train r={r:.4f} dev AUC={auc:.4f}")
            key = (ok, auc if ok else r)
            if best is None or key > best[0]:
                best = (key, a, b, r)
    _, a, b, r = best
    u_v = a * v_in[:, 0] - v_in[:, 1] + b * v_in[:, 2]
    slope = float(np.polyfit(u_v, v_target, 1)[0]) / r  # least squares, de-attenuated
    neutral = np.array([g == {NEUTRAL_GROUP} for g in dv_g])
    u_g = a * g_in[:, 0] - g_in[:, 1] + b * g_in[:, 2]
    icpt = -slope * float(np.median(u_g[neutral])) if neutral.any() else 0.0
    model["stack"] = [r5(icpt), r5(slope * a), r5(-slope), r5(slope * b)]
    log(f"score: mix a={a} b={b}, r={r:.4f}; stack (bias, P(pos)', P(neg), compound') {model['stack']}")

    # Frustration: z = frus logit + rules + m * neg logit; m by GoEmotions dev AUC.
    parts = np.array([scorer.frustration_parts(t) for t in dv_t])
    best = None
    for m in FRUS_NEG_MIX:
        auc = roc_auc(d_frus, parts[:, 0] + m * parts[:, 1])
        log(f"  frustration + {m} * neg logit: dev AUC={auc:.4f}")
        if best is None or auc > best[0] + 1e-9:
            best = (auc, m)
    model["frustration_neg"] = best[1]
    z = np.sort(parts[:, 0] + best[1] * parts[:, 1])
    cut = z[int(math.floor((1.0 - escalate_share) * len(z)))]
    model["frustration_offset"] = r5(math.log(0.75 / 0.25) - float(cut))
    log(f"frustration: neg mix {best[1]}, offset {model['frustration_offset']} "
        f"(dev share >= 0.75: {escalate_share:.0%})")

    body = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    version = hashlib.sha256(body).hexdigest()[:12]
    model["version"] = version
    body = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    log(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB), version {version}")
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/data folder (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=None, help="train on a random subset of this size (quick checks)")
    parser.add_argument("--min-df", type=int, default=3)
    parser.add_argument("--escalate-share", type=float, default=0.10)
    args = parser.parse_args(argv)
    if not (args.data / "goemotions").is_dir():
        print(f"error: no goemotions/ under {args.data}", file=sys.stderr)
        return 2
    train(args.data, args.out, seed=args.seed, limit=args.limit, min_df=args.min_df,
          escalate_share=args.escalate_share, log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
