"""Themes from item texts: TF-IDF + k-means, readable labels, stable re-clustering.

Pure computation (numpy/scikit-learn, no Django). A theme is represented by its centroid
as a sparse `{term: weight}` dict (top terms of the cluster's mean TF-IDF vector), which
is all that is stored: new items are assigned by cosine similarity to those centroids
(incremental, no model to pickle), and a re-cluster matches its clusters to existing
centroids so stable themes keep their ids.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

# scikit-learn's English stop words, inlined so importing this module (the API, the
# incremental path) does not import scikit-learn.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway
    anywhere are around as at back be became because become becomes becoming been before beforehand
    behind being below beside besides between beyond bill both bottom but by call can cannot cant co
    con could couldnt cry de describe detail do done down due during each eg eight either eleven
    else elsewhere empty enough etc even ever every everyone everything everywhere except few
    fifteen fifty fill find fire first five for former formerly forty found four from front full
    further get give go had has hasnt have he hence her here hereafter hereby herein hereupon hers
    herself him himself his how however hundred i ie if in inc indeed interest into is it its itself
    keep last latter latterly least less ltd made many may me meanwhile might mill mine more
    moreover most mostly move much must my myself name namely neither never nevertheless next nine
    no nobody none noone nor not nothing now nowhere of off often on once one only onto or other
    others otherwise our ours ourselves out over own part per perhaps please put rather re same see
    seem seemed seeming seems serious several she should show side since sincere six sixty so some
    somehow someone something sometime sometimes somewhere still such system take ten than that the
    their them themselves then thence there thereafter thereby therefore therein thereupon these
    they thick thin third this those though three through throughout thru thus to together too top
    toward towards twelve twenty two un under until up upon us very via was we well were what
    whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
    whether which while whither who whoever whole whom whose why will with within without would yet
    you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a readable word list
)

# Words every piece of feedback uses; they say nothing about the topic.
DOMAIN_STOP_WORDS = {
    "app", "use", "using", "used", "just", "really", "like", "get", "got", "would", "could", "also",
    "one", "still", "even", "please", "thanks", "thank", "hi", "hello", "team", "need", "want", "make",
    "time", "way", "lot", "thing", "things", "good", "great", "bad", "love", "hate", "product",
    "customer", "customers", "issue", "problem", "dont", "don", "doesn", "isn", "can", "ve", "im",
    "say", "says", "said", "honestly", "fyi", "quick", "note", "fix", "frustrating", "costing", "sales",
    "it's", "i'm", "we", "our", "us", "every", "since", "again", "today", "yesterday", "week", "day",
}  # fmt: skip
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS | DOMAIN_STOP_WORDS)
TOKEN_RE = re.compile(r"[a-z][a-z0-9']+")
MAX_TERMS = 40
ASSIGN_THRESHOLD = 0.12  # a new item joins the nearest theme at this cosine or more
JOIN_THRESHOLD = 0.1  # a clustered item this far from its theme's centroid stays unthemed
MATCH_THRESHOLD = 0.3
MERGE_THRESHOLD = 0.14  # k-means over-splits a topic by phrasing; clusters this close are merged
OVER_CLUSTERS = 16
NEAR_DUPLICATE_THRESHOLD = 0.8


def stem(word: str) -> str:
    """Plural to singular, enough that "invoices" and "invoice" are one term."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and (word.endswith(("sses", "xes", "shes", "ches"))):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    words = [w.strip("'") for w in TOKEN_RE.findall((text or "").lower())]
    return [stem(w) for w in words if len(w) > 2 and w not in STOP_WORDS]


def terms_of(text: str) -> list[str]:
    """Unigrams and adjacent bigrams (the same analyzer the vectorizer uses)."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def normalized_hash(text: str) -> str:
    """Exact-duplicate key: case, punctuation and whitespace do not matter."""
    norm = " ".join(re.findall(r"[a-z0-9]+", (text or "").lower()))
    return hashlib.sha1(norm.encode()).hexdigest()  # noqa: S324 - a fingerprint, not security


def vectorize(text: str) -> dict[str, float]:
    """Sublinear TF, L2-normalised: the query side of cosine similarity to a centroid."""
    counts = Counter(terms_of(text))
    vec = {t: 1.0 + math.log(c) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(t, 0.0) for t, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def nearest(vec: dict[str, float], centroids: dict[int, dict[str, float]], threshold: float = ASSIGN_THRESHOLD):
    """(id, similarity) of the closest centroid above the threshold, else (None, best)."""
    best_id, best = None, 0.0
    for key, centroid in centroids.items():
        sim = cosine(vec, centroid)
        if sim > best:
            best_id, best = key, sim
    return (best_id, best) if best >= threshold else (None, best)


def label_for(terms: dict[str, float], n: int = 3) -> str:
    """Readable label from top terms: bigrams first, no word repeated."""
    ranked = [t for t, _ in sorted(terms.items(), key=lambda kv: -kv[1])]
    chosen: list[str] = []
    used: set[str] = set()
    for term in [t for t in ranked[:6] if " " in t] + ranked:
        words = set(term.split())
        if words & used:
            continue
        chosen.append(term)
        used |= words
        if len(chosen) == n:
            break
    return " · ".join(chosen).capitalize() if chosen else "Miscellaneous"


@dataclass
class Cluster:
    terms: dict[str, float]
    members: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return label_for(self.terms)


def tfidf_distinct(texts: Sequence[str], *, min_df: int = 1, max_df: float = 1.0, max_features: int = 50_000):
    """TF-IDF (sublinear tf, smooth idf, L2 rows) of the *distinct* texts, with document
    frequencies counted over all texts — the same vectors TfidfVectorizer gives each text,
    computed once per distinct text. Returns (matrix of distinct texts, vocabulary,
    index of each text's row, how many times each distinct text occurs)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    distinct, inverse, counts = np.unique(np.asarray(texts, dtype=object), return_inverse=True, return_counts=True)
    counter = CountVectorizer(analyzer=terms_of, dtype=np.float32)
    matrix = counter.fit_transform(distinct.tolist())  # raises ValueError when no text has a term
    vocab = counter.get_feature_names_out()
    weights = counts.astype(np.float32)
    present = matrix.copy()
    present.data[:] = 1
    df = np.asarray(present.T @ weights).ravel()
    keep = (df >= min_df) & (df <= max_df * len(texts))
    if keep.sum() > max_features:
        totals = np.asarray(matrix.T @ weights).ravel()
        keep[np.argsort(-np.where(keep, totals, -1))[max_features:]] = False
    if not keep.any():
        raise ValueError("no terms left after document-frequency filtering")
    columns = np.flatnonzero(keep)
    matrix, vocab, df = matrix[:, columns].tocsr(), vocab[columns], df[columns]
    matrix.data = 1 + np.log(matrix.data)
    idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
    matrix = normalize(matrix.multiply(idf).tocsr(), copy=False)
    return matrix.astype(np.float32), vocab, inverse.ravel(), weights


def cluster_texts(
    texts: Sequence[str], *, k: int | None = None, seed: int = 0, merge_threshold: float = MERGE_THRESHOLD
) -> list[Cluster]:
    """TF-IDF + k-means over distinct texts weighted by how often each occurs (feedback
    repeats itself); clusters whose centroids are near-identical are merged."""
    import numpy as np
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning

    n = len(texts)
    if n == 0:
        return []
    if n < 4:
        return [Cluster(_centroid_terms_from_texts(texts), list(range(n)))]
    try:
        matrix, vocab, inverse, weights = tfidf_distinct(
            texts, min_df=2 if n >= 20 else 1, max_df=0.8 if n >= 20 else 1.0
        )
    except ValueError:  # no usable terms at all
        return [Cluster({}, list(range(n)))]
    rows = matrix.shape[0]
    forced = k is not None
    k = min(k or OVER_CLUSTERS, rows)
    if k <= 1:
        return [Cluster(_centroid_terms_from_texts(texts), list(range(n)))]
    model = (
        MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048)
        if rows > 2000
        else KMeans(n_clusters=k, random_state=seed, n_init=3)
    )
    with warnings.catch_warnings():  # texts that differ only in stop words are one point: fewer clusters
        warnings.simplefilter("ignore", ConvergenceWarning)
        row_labels = model.fit_predict(matrix, sample_weight=weights)
    groups = [np.flatnonzero(row_labels == c) for c in range(k)]
    groups = [g for g in groups if len(g)]
    if not forced:
        groups = _merge_groups(matrix, weights, groups, threshold=merge_threshold)
    clusters: list[Cluster] = []
    members_of_row: dict[int, int] = {}
    for number, group in enumerate(groups):
        mean = np.asarray(matrix[group].T @ weights[group]).ravel() / weights[group].sum()
        norm = float(np.linalg.norm(mean)) or 1.0
        similarity = np.asarray(matrix[group] @ (mean / norm)).ravel()
        for row, sim in zip(group.tolist(), similarity.tolist(), strict=True):
            if forced or sim >= JOIN_THRESHOLD:  # else: unthemed (praise, one-off remarks)
                members_of_row[row] = number
        clusters.append(Cluster(_top_terms(mean, vocab), []))
    for index, row in enumerate(inverse.tolist()):
        number = members_of_row.get(row)
        if number is not None:
            clusters[number].members.append(index)
    return [c for c in clusters if c.members]


def _merge_groups(matrix, weights, groups: list, *, threshold: float) -> list:
    """Average-linkage merging of k-means clusters: repeatedly join the two clusters whose
    mean vectors are most similar (cosine) while that is >= threshold. One topic written
    several ways ("Proration on upgrades", "Upgrade charges …") comes back together; two
    topics that only share a word stay apart."""
    import numpy as np

    def unit_mean(group):
        mean = np.asarray(matrix[group].T @ weights[group]).ravel()
        return mean / (float(np.linalg.norm(mean)) or 1.0)

    groups = list(groups)
    means = [unit_mean(g) for g in groups]
    while len(groups) > 1:
        stacked = np.vstack(means)
        sims = stacked @ stacked.T
        np.fill_diagonal(sims, -1.0)
        a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        groups[a] = np.concatenate([groups[a], groups[b]])
        means[a] = unit_mean(groups[a])
        del groups[b], means[b]
    return groups


def _top_terms(weights, vocab) -> dict[str, float]:
    import numpy as np

    top = np.argsort(-weights)[:MAX_TERMS]
    chosen = {str(vocab[i]): float(weights[i]) for i in top if weights[i] > 0}
    norm = math.sqrt(sum(v * v for v in chosen.values())) or 1.0
    return {t: round(v / norm, 5) for t, v in chosen.items()}


def _centroid_terms_from_texts(texts: Sequence[str]) -> dict[str, float]:
    total: Counter = Counter()
    for text in texts:
        total.update(vectorize(text))
    top = dict(total.most_common(MAX_TERMS))
    norm = math.sqrt(sum(v * v for v in top.values())) or 1.0
    return {t: round(v / norm, 5) for t, v in top.items()}


def match_clusters(
    clusters: Sequence[Cluster], existing: dict[int, dict[str, float]], threshold: float = MATCH_THRESHOLD
) -> dict[int, int | None]:
    """Cluster index → existing theme id (one-to-one, most similar pairs first) or None (new)."""
    pairs = sorted(
        ((cosine(c.terms, terms), i, theme_id) for i, c in enumerate(clusters) for theme_id, terms in existing.items()),
        reverse=True,
    )
    result: dict[int, int | None] = {i: None for i in range(len(clusters))}
    taken: set[int] = set()
    for sim, i, theme_id in pairs:
        if sim < threshold:
            break
        if result[i] is None and theme_id not in taken:
            result[i] = theme_id
            taken.add(theme_id)
    return result


def shingles(text: str, size: int = 3) -> set[str]:
    words = re.findall(r"[a-z0-9]+", (text or "").lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicate_of(text: str, candidates: Sequence[tuple[int, str]], threshold: float = NEAR_DUPLICATE_THRESHOLD):
    """Id of the most similar candidate text (word 3-shingle Jaccard ≥ threshold), else None."""
    mine = shingles(text)
    best_id, best = None, threshold
    for key, other in candidates:
        sim = jaccard(mine, shingles(other))
        if sim >= best:
            best_id, best = key, sim
    return best_id


@dataclass
class DupCandidate:
    """One text in a near-duplicate search: `group` is who sent it (account, else source)."""

    pk: int
    group: tuple
    created: object  # datetime
    shingles: frozenset[str]


def near_duplicates(
    probes: Sequence[DupCandidate],
    pool: Sequence[DupCandidate],
    *,
    window_for,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> dict[int, int]:
    """probe pk → pk of the most similar earlier pool text of the same group (word 3-shingle
    Jaccard ≥ threshold, created within `window_for(probe)`); ties go to the earliest.

    A prefix-filtered similarity join, exact (no false negatives), not all pairs: with the
    shingles of every set sorted rarest first, two sets with Jaccard ≥ t always share a
    shingle among the first |s| − ⌈t·|s|⌉ + 1 of each. So only pool texts sharing one of
    those few rare shingles with the probe are compared.
    """
    # Any fixed order is correct; rarest first keeps candidate lists short. Counted over
    # distinct texts (repeated texts would only repeat the counts).
    df: Counter = Counter()
    for shingle_set in {c.shingles for c in pool} | {c.shingles for c in probes}:
        df.update(shingle_set)

    def prefix(shingles: frozenset[str]) -> list[str]:
        ordered = sorted(shingles, key=lambda s: (df[s], s))
        return ordered[: len(ordered) - math.ceil(threshold * len(ordered) - 1e-9) + 1]

    index: dict[tuple, list[DupCandidate]] = {}
    prefixes: dict[frozenset, list[str]] = {}
    for c in pool:
        if not c.shingles:
            continue
        p = prefixes.get(c.shingles)
        if p is None:
            p = prefixes[c.shingles] = prefix(c.shingles)
        for s in p:
            index.setdefault((c.group, s), []).append(c)
    out: dict[int, int] = {}
    for probe in probes:
        if not probe.shingles:
            continue
        p = prefixes.get(probe.shingles)
        if p is None:
            p = prefixes[probe.shingles] = prefix(probe.shingles)
        window = window_for(probe)
        size = len(probe.shingles)
        seen: set[int] = set()
        best_pk, best = None, threshold
        for s in p:
            for c in index.get((probe.group, s), ()):
                if c.pk >= probe.pk or c.pk in seen:
                    continue
                seen.add(c.pk)
                other = len(c.shingles)
                if min(size, other) < threshold * max(size, other):  # length filter
                    continue
                if abs(c.created - probe.created) > window:
                    continue
                sim = len(probe.shingles & c.shingles) / len(probe.shingles | c.shingles)
                if sim > best or (sim == best and (best_pk is None or c.pk < best_pk)):
                    best_pk, best = c.pk, sim
        if best_pk is not None:
            out[probe.pk] = best_pk
    return out
