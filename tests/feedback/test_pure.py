"""Pure modules: sentiment/NPS/CSAT, themes, signals (no database)."""

from datetime import date, timedelta

import pytest

from feedback import sentiment, signals, themes


def test_vader_sentiment_is_signed_and_bounded():
    assert sentiment.sentiment_score("I love this, it works great!") > 0.5
    assert sentiment.sentiment_score("This is terrible and broken, I hate it") < -0.5
    assert sentiment.sentiment_score("") == 0.0


def test_nps_with_interval():
    score = sentiment.nps([10] * 50 + [8] * 30 + [3] * 20)
    assert score.value == pytest.approx(30.0)
    assert score.n == 100
    assert score.low == pytest.approx(30 - 1.959964 * ((0.7 - 0.09) / 100) ** 0.5 * 100, abs=0.01)
    assert score.low < 30 < score.high
    assert sentiment.nps([]) is None


def test_csat_wilson_interval():
    score = sentiment.csat([5, 4, 4, 2, 1, 5, 5, 3, 4, 5])
    assert score.value == pytest.approx(70.0)
    assert 39 < score.low < 40 and 89 < score.high < 90


def test_clusters_find_recurring_topics_with_readable_labels():
    texts = (
        [f"Apple Pay button {x} at checkout" for x in ["is missing", "does nothing", "disappears"] * 10]
        + [f"Promo code field {x}" for x in ["rejects valid codes", "is hard to find", "clears on back"] * 10]
        + [f"Guest checkout please, signup wall {x}" for x in ["loses orders", "is annoying", "kills it"] * 10]
    )
    clusters = themes.cluster_texts(texts, seed=1)
    assert len(clusters) == 3
    labels = sorted(c.label.lower() for c in clusters)
    assert any("apple" in label for label in labels)
    assert any("code" in label for label in labels)
    assert any("guest" in label or "signup" in label for label in labels)
    for cluster in clusters:
        assert len(cluster.members) == 30


def test_recluster_matching_keeps_stable_ids_and_proposes_new():
    old = {11: themes.vectorize("apple pay button missing checkout"), 12: themes.vectorize("promo code rejected")}
    new = [
        themes.Cluster(themes.vectorize("promo code field rejected valid codes")),
        themes.Cluster(themes.vectorize("dark mode please")),
        themes.Cluster(themes.vectorize("apple pay button does nothing")),
    ]
    assert themes.match_clusters(new, old) == {0: 12, 1: None, 2: 11}


def test_incremental_assignment_to_nearest_theme():
    centroids = {1: themes.vectorize("apple pay button missing"), 2: themes.vectorize("dark mode night")}
    assert themes.nearest(themes.vectorize("The Apple Pay button is missing again"), centroids)[0] == 1
    assert themes.nearest(themes.vectorize("Invoices lack VAT"), centroids)[0] is None


def test_exact_and_near_duplicates():
    assert themes.normalized_hash("Refund is STUCK!") == themes.normalized_hash("refund is stuck")
    candidates = [(1, "Totally different words here about invoices"), (2, "Our refund has been stuck for ten days now")]
    assert themes.near_duplicate_of("Our refund has been stuck for ten days now!!", candidates) == 2
    assert themes.near_duplicate_of("Refund stuck", candidates) is None


def _weeks(volumes, start=date(2026, 1, 5)):
    return {
        start + timedelta(weeks=i): signals.Week(start + timedelta(weeks=i), volume=v) for i, v in enumerate(volumes)
    }


def test_trend_against_8_week_baseline_and_spike():
    series = signals.with_trends(_weeks([4, 5, 4, 6, 5, 4, 5, 3, 4, 20]))
    last = series[-1]
    assert last.baseline == pytest.approx(4.5)
    assert last.trend == pytest.approx((20 - 4.5) / 4.5, abs=0.001)
    assert last.is_spike and not any(w.is_spike for w in series[:-1])


def test_one_spike_alerts_once_with_hold_down():
    series = signals.with_trends(_weeks([3, 3, 3, 3, 20, 25, 30, 3, 3, 3, 3, 3, 40]))
    alerts = signals.spikes_to_alert(series, None)
    assert [a.volume for a in alerts] == [20, 40]
    assert signals.spikes_to_alert(series, last_alert_week=series[-1].week) == []


def test_aggregate_counts_accounts_arr_once_per_week():
    wk = date(2026, 3, 2)
    rows = [(wk, 1, 100_000, -0.5), (wk, 1, 100_000, 0.1), (wk, 2, 20_000, None), (wk, None, 0, 0.2)]
    week = signals.aggregate(rows)[wk]
    assert (week.volume, week.unique_accounts, week.arr_demand) == (4, 2, 120_000)
    assert week.mean_sentiment == pytest.approx(-0.0667, abs=0.001)


def test_cached_sentiment_equals_vader_on_a_demo_sample():
    from feedback import demo

    texts = [i["text"] for i in demo.generate(400, seed=11)] + ["Terrible!!! NOT good at all", "meh", "  "]
    sentiment._cached_compound.cache_clear()
    assert [sentiment.sentiment_score(t) for t in texts] == [sentiment.vader_compound(t) for t in texts]
    assert [sentiment.sentiment_score(t) for t in texts] == [sentiment.vader_compound(t) for t in texts]  # cached
    assert sentiment._cached_compound.cache_info().hits >= len(texts)


def test_near_duplicate_join_matches_all_pairs():
    """The prefix-filtered join finds exactly what comparing every pair would."""
    import random
    from datetime import datetime

    rng = random.Random(3)
    words = [
        "refund",
        "stuck",
        "pending",
        "ten",
        "days",
        "apple",
        "pay",
        "button",
        "missing",
        "invoice",
        "vat",
        "wrong",
        "address",
        "slow",
    ]
    start = datetime(2026, 1, 1)
    cands = []
    for pk in range(1, 400):
        base = rng.choice(["refund stuck in pending for ten days now", "apple pay button missing at checkout today"])
        text = " ".join(w if rng.random() > 0.12 else rng.choice(words) for w in base.split())
        created = start + timedelta(days=rng.uniform(0, 40))
        cands.append(themes.DupCandidate(pk, ("account", pk % 5), created, frozenset(themes.shingles(text))))
    window = timedelta(days=14)
    found = themes.near_duplicates(cands, cands, window_for=lambda c: window)
    brute = {}
    for probe in cands:
        best_pk, best = None, themes.NEAR_DUPLICATE_THRESHOLD
        for c in cands:
            if c.pk >= probe.pk or c.group != probe.group or abs(c.created - probe.created) > window:
                continue
            sim = themes.jaccard(set(probe.shingles), set(c.shingles))
            if sim > best or (sim == best and (best_pk is None or c.pk < best_pk)):
                best_pk, best = c.pk, sim
        if best_pk is not None:
            brute[probe.pk] = best_pk
    assert len(brute) > 50  # the sample has plenty of near-duplicates
    assert found == brute


def test_tfidf_of_distinct_texts_equals_tfidf_of_all_texts():
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from feedback import demo

    texts = [i["text"] for i in demo.generate(600, seed=5)]
    matrix, vocab, inverse, weights = themes.tfidf_distinct(texts, min_df=2, max_df=0.5)
    reference = TfidfVectorizer(analyzer=themes.terms_of, min_df=2, max_df=0.5, sublinear_tf=True)
    expected = reference.fit_transform(texts)
    assert list(vocab) == list(reference.get_feature_names_out())
    assert weights.sum() == len(texts) and len(weights) < len(texts)
    assert np.allclose(matrix[inverse].toarray(), expected.toarray(), atol=1e-5)


def test_snippet_marks_terms_after_escaping():
    from portal.templatetags.portal_tags import snippet

    html = snippet("<b>Promo</b> code & promotions: PROMO", ["promo code"])
    assert html == "&lt;b&gt;<mark>Promo</mark>&lt;/b&gt; <mark>code</mark> &amp; promotions: <mark>PROMO</mark>"
    assert snippet("a \x01b\x02", None) == "a <mark>b</mark>"  # search markers, as before


def test_demo_themes_come_back_as_one_theme_each_with_readable_labels():
    """The demo generator's recurring themes (several phrasings × several complaints each):
    per product, the items written for one theme land >= 80% in one theme, a theme is
    >= 80% one topic, and its label uses the topic's own words. Praise is not a theme."""
    from collections import Counter, defaultdict
    from datetime import datetime

    from feedback import demo

    rows = defaultdict(list)
    for item, truth in demo.generate_labelled(3000, seed=7, today=datetime(2026, 3, 1)):
        rows[item["product"]].append((item["text"], truth))
    for product, pairs in rows.items():
        clusters = themes.cluster_texts([text for text, _truth in pairs], seed=0)
        theme_of = {m: number for number, c in enumerate(clusters) for m in c.members}
        landed: dict[str, Counter] = defaultdict(Counter)
        topics: dict[int, Counter] = defaultdict(Counter)
        for index, (_text, truth) in enumerate(pairs):
            key = truth[1] if truth else "praise"
            landed[key][theme_of.get(index)] += 1
            if index in theme_of:
                topics[theme_of[index]][key] += 1
        for key in demo.THEMES[product]:
            number, count = landed[key].most_common(1)[0]
            assert number is not None and count >= 0.8 * sum(landed[key].values()), (product, key, landed[key])
            phrasings, fillers = demo.THEMES[product][key]
            vocabulary = {themes.stem(w) for w in themes.TOKEN_RE.findall(" ".join(phrasings + fillers).lower())}
            label = clusters[number].label
            assert 0 < len(label) <= 60 and set(themes.tokens(label)) & vocabulary, (product, key, label)
        for counter in topics.values():
            assert counter.most_common(1)[0][1] >= 0.8 * sum(counter.values()), (product, counter)
