"""Train the local scorer's model from shared/data, reproducibly.

    python -m ticketpulse.sentiment.train --data ../shared/data --out sentiment/data/local_model.json.gz

What it fits (scikit-learn, the ``train`` extra; inference needs only the saved weights):

- three logistic regressions on GoEmotions *train* over, per distinct word, the word, its
  5-letter prefix and its character 3-5-grams (within the word), per distinct word bigram, and
  lexicon features (document frequency >= ``--min-df``, NB-scaled: each column times
  sqrt|log-count ratio|): ``neg`` (negative emotion group), ``pos`` (positive group), ``frus``
  (anger or annoyance). C of each from a small grid by ROC-AUC on GoEmotions *dev*.
- ``score_map``: u = neg logit - RULE_VAL_WEIGHT * phrase-rule valence - gate * (pos * P(pos) +
  compound * lexicon compound), the gate open only where the neg logit is low; (gate, pos,
  compound) by GoEmotions *dev* AUC among mixes with Pearson r >= MIN_TWEETS_PEARSON on the VADER
  tweets (train split, 80 % by a hash of the id). Then the largest negative-intensity weight
  that costs <= NEG_INT_MAX_COST dev AUC. score = a strictly decreasing piecewise-linear map of
  u (isotonic fit on the VADER tweets train split, de-attenuated, dev neutral median at 0).
- ``frustration_map``: sigmoid(frus logit + rules + m * neg logit + offset): m by dev AUC, the
  offset puts ``--escalate-share`` (10 %) of GoEmotions *dev* at or above 0.75.
- Last, with every choice above fixed (C per head, min-df, gate, mixes, intensity, neg mix), the
  final fit: vocabulary, NB scaling and the three heads refit on GoEmotions *train+dev*; the score
  map's knots refit on the VADER tweets train split (centred on the dev neutral median) and the
  frustration offset refit on dev, both with the refit model (dev is then in-sample). This is
  what ships (``"fit_on": "train+dev"`` in the model); ``--no-refit`` ships the train-only fit.

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

from ticketpulse.sentiment import rules as R
from ticketpulse.sentiment.features import DENSE_NAMES, analyse, bigram_features, distinct, word_features

# Relative to the working directory (run it from the repository's root), never to site-packages.
DEFAULT_DATA = Path("../shared/data")
DEFAULT_OUT = Path("sentiment/data/local_model.json.gz")

NEGATIVE_GROUP = 1  # goemotions/group/labels.txt: ambiguous, negative, neutral, positive
POSITIVE_GROUP = 3
ANGER, ANNOYANCE = 2, 3  # goemotions/original/labels.txt
C_GRID = (0.03, 0.05, 0.1)
CHAR_SCALE = 0.5  # char n-gram counts are worth half a word feature before NB scaling
MIN_WEIGHT = 0.002  # smaller weights are dropped from the saved model
# score map: u = neg logit - RULE * rule valence - gate(neg logit) * (POS * P(pos) + COMP * compound)
GATE_AT = (-2.0, -2.5, -3.0)  # where the gate is half open (neg logit)
GATE_SLOPE = 2.0
POS_MIX = (0.0, 0.5, 1.0, 2.0)
COMP_MIX = (0.0, 0.5, 1.0, 2.0)
NEG_GATE_AT = 1.0  # the negative-intensity gate is half open here (neg logit)
NEG_INT_MIX = (0.0, 0.5, 1.0, 1.5)
NEG_INT_MAX_COST = 0.001  # the largest intensity weight costing at most this much dev AUC
RULE_VAL_WEIGHT = 0.4  # design choice (support-domain phrases), not fitted: logit per valence unit
MIN_TWEETS_PEARSON = 0.825  # on the VADER tweets train split; the target is 0.80
KNOT_QUANTILES = (0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99)
FRUS_NEG_MIX = (0.0, 0.1, 0.2, 0.3)
NEUTRAL_GROUP = 2


# --- data --------------------------------------------------------------------------------------
def read_goemotions(data: Path, split: str) -> tuple[list[str], list[set[int]], list[set[int]]]:
    """Texts, emotion id sets, group id sets of one split (the two files are row-aligned)."""
    texts, emotions, groups = [], [], []
    orig = (data / "goemotions" / "original" / f"{split}.tsv").read_text(encoding="utf-8")
    grp = (data / "goemotions" / "group" / f"{split}.tsv").read_text(encoding="utf-8")
    for line_o, line_g in zip(orig.splitlines(), grp.splitlines(), strict=True):
        text, ids, cid = line_o.split("\t")
        _, gids, cid_g = line_g.split("\t")
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
    """Sparse rows exactly as LocalScorer sums them: per distinct word, its word / prefix / char
    n-gram features (counts; char n-grams times CHAR_SCALE); per distinct bigram, 1; the dense
    lexicon features."""

    def __init__(self, lexicon: dict[str, float]):
        self.lexicon = lexicon
        self.vocab: dict[str, int] = {}

    def analyse_all(self, texts: list[str]):
        return [analyse(t, self.lexicon) for t in texts]

    @staticmethod
    def _doc_features(a) -> list[str]:
        feats = []
        for tok in distinct(a.tokens):
            feats.extend(word_features(tok))
        feats.extend(bigram_features(a.tokens))
        return feats

    def fit_vocab(self, analyses, min_df: int) -> None:
        df: dict[str, int] = {}
        for a in analyses:
            for f in set(self._doc_features(a)):
                df[f] = df.get(f, 0) + 1
        kept = sorted(f for f, n in df.items() if n >= min_df)
        self.vocab = {f: i for i, f in enumerate(kept)}

    def value(self, feature: str) -> float:
        return CHAR_SCALE if feature[0] == "#" else 1.0

    def matrix(self, analyses):
        from scipy import sparse

        rows, cols, vals = [], [], []
        n_vocab = len(self.vocab)
        dense = np.zeros((len(analyses), len(DENSE_NAMES)))
        for r, a in enumerate(analyses):
            cnt: dict[int, float] = {}
            for f in self._doc_features(a):
                j = self.vocab.get(f)
                if j is not None:
                    cnt[j] = cnt.get(j, 0.0) + self.value(f)
            for j in sorted(cnt):
                rows.append(r)
                cols.append(j)
                vals.append(cnt[j])
            dense[r] = a.dense
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(analyses), n_vocab))
        return sparse.hstack([x, sparse.csr_matrix(dense)], format="csr")


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    from ticketpulse.sentiment.evaluate import roc_auc as _auc

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


def fit_final(x, y: np.ndarray, c: float, n_vocab: int):
    """The head refit with a fixed C (chosen on dev) on NB-scaled features of x (train+dev)."""
    from scipy import sparse

    scale = nb_scale(x, y, n_vocab)
    model = fit_lr(x @ sparse.diags(scale), y, c)
    return model.coef_[0] * scale, float(model.intercept_[0])


def export_weights(fz: "Featuriser", coef: dict, bias: dict) -> dict:
    """vocab / dense / bias of the saved model (weights rounded, tiny ones dropped)."""
    n_vocab = len(fz.vocab)
    names = sorted(fz.vocab, key=fz.vocab.get)
    vocab_out = {}
    for i, f in enumerate(names):
        v = fz.value(f)
        w = [r5(coef["neg"][i] * v), r5(coef["pos"][i] * v), r5(coef["frus"][i] * v)]
        if max(abs(x) for x in w) >= MIN_WEIGHT:
            vocab_out[f] = w
    return {
        "dense": {h: [r5(v) for v in coef[h][n_vocab:]] for h in coef},
        "bias": {h: r5(bias[h]) for h in coef},
        "vocab": vocab_out,
    }


def r5(v: float) -> float:
    return float(f"{v:.5g}")


def _pearson(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _u(p: dict, gate_at: float, pos: float, comp: float, neg_int: float = 0.0) -> float:
    """LocalScorer.negativity on precomputed parts (kept in step with it; checked in train)."""
    u = p["zn"] - RULE_VAL_WEIGHT * p["rule_val"]
    g = 1.0 / (1.0 + math.exp(-GATE_SLOPE * (gate_at - p["zn"])))
    if g > 1e-4:
        pp = 0.0 if p["sarcasm"] else pos / (1.0 + math.exp(-p["zp"]))
        u -= g * (pp + comp * p["compound"])
    if p["compound"] < 0.0 and neg_int:
        u -= neg_int * p["compound"] / (1.0 + math.exp(-GATE_SLOPE * (p["zn"] - NEG_GATE_AT)))
    return u


def fit_knots(u: np.ndarray, target: np.ndarray, u_neutral: np.ndarray) -> tuple[list, list, float]:
    """A decreasing piecewise-linear map u -> score: isotonic fit of target on u, read at
    KNOT_QUANTILES of u, stretched so its spread matches the target's (de-attenuated),
    shifted so the median neutral comment scores 0, kept strictly decreasing within +-0.97."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(u, target)
    qs = np.quantile(u, KNOT_QUANTILES)
    ku = [float(q) for q in qs]
    ks = iso.predict(qs)
    fitted = iso.predict(u)
    stretch = float(np.std(target) / max(np.std(fitted), 1e-9))
    centre = float(np.interp(np.median(u_neutral), qs, ks))
    ks = (ks - centre) * stretch
    ks = np.clip(ks, -0.97, 0.97)
    out = [float(ks[0])]
    for v in ks[1:]:
        out.append(min(float(v), out[-1] - 0.002))  # strictly decreasing: no ties, AUC kept
    out = [max(v, -0.97 + 0.002 * (len(out) - 1 - i)) for i, v in enumerate(out)]
    return [r5(v) for v in ku], [r5(v) for v in out], stretch


def train(data: Path, out: Path, seed: int = 13, limit: int | None = None, min_df: int = 3,
          escalate_share: float = 0.10, refit: bool = True, log=print) -> dict:
    from ticketpulse.sentiment.local import LocalScorer

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
    log(f"vocabulary {len(fz.vocab)} words, prefixes, char n-grams and bigrams")
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

    model = {
        "format": 4,
        "seed": seed,
        "min_df": min_df,
        "chosen_c": chosen_c,
        "dense_names": list(DENSE_NAMES),
        **export_weights(fz, coef, bias),
        "lexicon": {k: r5(v) for k, v in sorted(lexicon.items())},
        "score_map": {"gate_at": 0.0, "gate_slope": GATE_SLOPE, "pos": 0.0, "compound": 0.0,
                      "rule": RULE_VAL_WEIGHT, "neg_gate_at": NEG_GATE_AT, "neg_intensity": 0.0, "knots_u": [-1.0, 1.0], "knots_s": [0.5, -0.5],
                      "tail": 0.5},
        "frustration_map": {"neg": 0.0, "rules": 1.0, "offset": 0.0},
    }
    scorer = LocalScorer(model=model)
    dv_p = [scorer.parts(t) for t in dv_t]
    zn_dv = np.array([p["zn"] for p in dv_p])
    log(f"dev AUC of the bare heads: neg {roc_auc(d_neg, zn_dv):.4f}, "
        f"pos {roc_auc(d_pos, [p['zp'] for p in dv_p]):.4f}, "
        f"frus {roc_auc(d_frus, [p['zf'] for p in dv_p]):.4f}")

    # Score: a decreasing map of u (see _u). (gate_at, pos, comp) by GoEmotions dev AUC among
    # the mixes whose mapped score has Pearson r >= MIN_TWEETS_PEARSON with the VADER tweet
    # ratings (train split, 80 % by a hash of the id); the map itself is fitted on that split.
    rows = [r for r in read_vader(data, "tweets_GroundTruth.txt") if r[2] == "train"]
    if limit:
        rows = [rows[i] for i in sorted(random.Random(seed).sample(range(len(rows)), min(limit, len(rows))))]
    v_p = [scorer.parts(t) for t, _, _ in rows]
    v_target = np.array([r[1] / 4.0 for r in rows])
    neutral = [i for i, g in enumerate(dv_g) if g == {NEUTRAL_GROUP}] or list(range(len(dv_g)))
    best = None
    for gate_at in GATE_AT:
        for pos in POS_MIX:
            for comp in COMP_MIX:
                u_v = np.array([_u(p, gate_at, pos, comp) for p in v_p])
                u_d = np.array([_u(p, gate_at, pos, comp) for p in dv_p])
                ku, ks, stretch = fit_knots(u_v, v_target, u_d[neutral])
                sm = dict(model["score_map"], gate_at=gate_at, pos=pos, compound=comp, knots_u=ku, knots_s=ks)
                probe = LocalScorer(model=dict(model, score_map=sm))
                r = _pearson([probe.score_of(u) for u in u_v], v_target)
                auc = roc_auc(d_neg, u_d)
                ok = r >= MIN_TWEETS_PEARSON
                log(f"  score gate {gate_at} P(pos)*{pos} compound*{comp}: tweets train r={r:.4f} "
                    f"dev AUC={auc:.4f}")
                key = (ok, auc if ok else r)
                if best is None or key > best[0]:
                    best = (key, sm, r, auc, stretch)
    _, sm, r, auc, stretch = best
    # Negative intensity (the lexicon compound among clearly negative messages), so that
    # strongly worded complaints reach the escalation threshold and mild ones do not.
    base_auc = auc
    for neg_int in NEG_INT_MIX[1:]:
        u_v = np.array([_u(p, sm["gate_at"], sm["pos"], sm["compound"], neg_int) for p in v_p])
        u_d = np.array([_u(p, sm["gate_at"], sm["pos"], sm["compound"], neg_int) for p in dv_p])
        auc_i = roc_auc(d_neg, u_d)
        ku, ks, stretch_i = fit_knots(u_v, v_target, u_d[neutral])
        sm_i = dict(sm, neg_intensity=neg_int, knots_u=ku, knots_s=ks)
        probe = LocalScorer(model=dict(model, score_map=sm_i))
        r_i = _pearson([probe.score_of(u) for u in u_v], v_target)
        log(f"  negative intensity {neg_int}: tweets train r={r_i:.4f} dev AUC={auc_i:.4f}")
        if auc_i >= base_auc - NEG_INT_MAX_COST and r_i >= MIN_TWEETS_PEARSON:
            sm, r, auc, stretch = sm_i, r_i, auc_i, stretch_i
    model["score_map"] = sm
    log(f"score: gate {sm['gate_at']} pos {sm['pos']} compound {sm['compound']} negative intensity "
        f"{sm['neg_intensity']}: tweets train "
        f"r={r:.4f}, dev AUC={auc:.4f}, stretch {stretch:.2f}; knots {sm['knots_s']}")
    scorer = LocalScorer(model=model)
    a0 = analyse(dv_t[0], lexicon)
    assert abs(scorer.negativity(a0, dv_p[0]["zn"], dv_p[0]["zp"])
               - _u(dv_p[0], sm["gate_at"], sm["pos"], sm["compound"], sm["neg_intensity"])) < 1e-9

    # Frustration: z = frus logit + rules + m * neg logit; m by GoEmotions dev AUC; the offset
    # puts escalate_share of GoEmotions dev at or above 0.75.
    zf = np.array([p["zf"] + p["frus_rules"] for p in dv_p])
    best = None
    for m in FRUS_NEG_MIX:
        auc = roc_auc(d_frus, zf + m * zn_dv)
        log(f"  frustration + {m} * neg logit: dev AUC={auc:.4f}")
        if best is None or auc > best[0] + 1e-9:
            best = (auc, m)
    z = np.sort(zf + best[1] * zn_dv)
    cut = z[int(math.floor((1.0 - escalate_share) * len(z)))]
    model["frustration_map"] = {"neg": best[1], "rules": 1.0, "offset": r5(math.log(0.75 / 0.25) - float(cut))}
    log(f"frustration: neg mix {best[1]}, dev AUC={best[0]:.4f}, offset "
        f"{model['frustration_map']['offset']} (dev share >= 0.75: {escalate_share:.0%})")

    if refit:
        model = refit_on_train_and_dev(model, lexicon, a_tr + a_dv, tr_g + dv_g, tr_e + dv_e, dv_t,
                                       neutral, rows, v_target, min_df, escalate_share, log)
    model["fit_on"] = "train+dev" if refit else "train"

    body = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    version = hashlib.sha256(body).hexdigest()[:12]
    model["version"] = version
    body = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    log(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB), version {version}")
    return model


def refit_on_train_and_dev(model: dict, lexicon: dict, analyses, groups, emotions, dv_t,
                           neutral: list[int], rows, v_target: np.ndarray, min_df: int,
                           escalate_share: float, log=print) -> dict:
    """The last step, once every choice is fixed on dev: the three heads refit on GoEmotions
    train+dev (vocabulary, NB scaling and weights; C per head as chosen on dev); the score map
    keeps its chosen gate / mixes / intensity and refits only its knots (isotonic on the VADER
    tweets train split, centred on the dev neutral median, now in-sample); the frustration map
    keeps its chosen neg mix and refits only its offset so that escalate_share of dev (scored by
    the refit model, in-sample) reaches 0.75."""
    from ticketpulse.sentiment.local import LocalScorer

    fz = Featuriser(lexicon)
    fz.fit_vocab(analyses, min_df)
    x = fz.matrix(analyses)
    n_vocab = len(fz.vocab)
    ys = {
        "neg": np.array([NEGATIVE_GROUP in g for g in groups], dtype=float),
        "pos": np.array([POSITIVE_GROUP in g for g in groups], dtype=float),
        "frus": np.array([bool({ANGER, ANNOYANCE} & e) for e in emotions], dtype=float),
    }
    coef, bias = {}, {}
    for head in ("neg", "pos", "frus"):
        coef[head], bias[head] = fit_final(x, ys[head], model["chosen_c"][head], n_vocab)
    log(f"refit on train+dev ({len(analyses)} comments, vocabulary {n_vocab}) with C {model['chosen_c']}")
    model = dict(model, **export_weights(fz, coef, bias))

    sm = model["score_map"]
    scorer = LocalScorer(model=model)
    dv_p = [scorer.parts(t) for t in dv_t]
    v_p = [scorer.parts(t) for t, _, _ in rows]
    mix = (sm["gate_at"], sm["pos"], sm["compound"], sm["neg_intensity"])
    u_v = np.array([_u(p, *mix) for p in v_p])
    u_d = np.array([_u(p, *mix) for p in dv_p])
    ku, ks, stretch = fit_knots(u_v, v_target, u_d[neutral])
    model["score_map"] = sm = dict(sm, knots_u=ku, knots_s=ks)
    probe = LocalScorer(model=model)
    r = _pearson([probe.score_of(u) for u in u_v], v_target)
    log(f"refit score map: tweets train r={r:.4f}, stretch {stretch:.2f}; knots {sm['knots_s']}")

    fm = model["frustration_map"]
    zn = np.array([p["zn"] for p in dv_p])
    z = np.sort(np.array([p["zf"] + p["frus_rules"] for p in dv_p]) + fm["neg"] * zn)
    cut = z[int(math.floor((1.0 - escalate_share) * len(z)))]
    model["frustration_map"] = dict(fm, offset=r5(math.log(0.75 / 0.25) - float(cut)))
    log(f"refit frustration offset {model['frustration_map']['offset']} (dev, in-sample, share >= 0.75: "
        f"{escalate_share:.0%})")
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ticketpulse.sentiment.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/data folder (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="model file to write (default: sentiment/data/local_model.json.gz)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=None, help="train on a random subset of this size (quick checks)")
    parser.add_argument("--min-df", type=int, default=3)
    parser.add_argument("--escalate-share", type=float, default=0.10)
    parser.add_argument("--no-refit", action="store_true",
                        help="ship the models fit on train only (skip the final refit on train+dev)")
    args = parser.parse_args(argv)
    if not (args.data / "goemotions").is_dir():
        print(f"error: no goemotions/ under {args.data}", file=sys.stderr)
        return 2
    train(args.data, args.out, seed=args.seed, limit=args.limit, min_df=args.min_df,
          escalate_share=args.escalate_share, refit=not args.no_refit,
          log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
