"""The unknown band and the P(face) floor are chosen on validation folds as the README says: checked against the
plain definition (verdicts + figures per fold), on random scores (hypothesis)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.mask import evaluate


def reference_band(p, labels, fold):
    """The rule spelled out with the module's own verdicts and figures, band by band."""
    grid = [round(x, 3) for x in np.concatenate([np.arange(0.02, 0.2, 0.02), np.arange(0.2, 0.8, 0.05),
                                                  np.arange(0.8, 0.99, 0.01), [0.99, 0.995, 0.998]])]
    best, best_key = None, None
    for hi in grid:
        for lo in (x for x in grid if x <= hi):
            said = evaluate.verdicts(p, (lo, hi))
            per = [evaluate.figures([labels[i] for i in np.nonzero(fold == k)[0]],
                                    [said[i] for i in np.nonzero(fold == k)[0]],
                                    [p[i] is not None for i in np.nonzero(fold == k)[0]]) for k in sorted(set(fold))]
            wb, wu = max(f["bare_passed_as_masked"] for f in per), max(f["unknown_rate"] for f in per)
            acc = evaluate.figures(labels, said, [x is not None for x in p])["accuracy"]
            key = (wb <= evaluate.MAX_BARE_PASSED and wu <= evaluate.MAX_UNKNOWN, acc, hi, -wb)
            if best_key is None or key > best_key:
                best, best_key = (lo, hi), key
    return best


scores = st.one_of(st.none(), st.sampled_from([0.0, 0.02, 0.5, 0.55, 0.7, 0.99, 1.0]), st.floats(0, 1))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(scores, st.booleans(), st.integers(0, 2)), min_size=6, max_size=40))
def test_the_band_is_the_one_the_rule_names(rows):
    p = [r[0] for r in rows]
    labels = ["yes" if r[1] else "no" for r in rows]
    fold = np.array([r[2] for r in rows])
    assert evaluate.choose_band(p, labels, fold)[0] == reference_band(p, labels, fold)


def test_a_floor_that_lets_a_held_out_card_pass_as_masked_is_not_chosen():
    rng = np.random.default_rng(0)
    labels = ["yes"] * 300 + ["no"] * 300
    p_mask = [0.95] * 300 + [0.05] * 300
    p_face = [0.9] * 290 + [0.12] * 10 + [0.9] * 300  # 10 faint masked faces the network doubts are faces
    fold = rng.integers(0, 5, 600)
    # one face-free crop per fold looks like a masked face with P(face) 0.3: floors at or under 0.3 let it pass
    nf_mask, nf_face, nf_fold = np.full(5, 0.97), np.full(5, 0.3), np.arange(5)
    floor, band, why, seen = evaluate.choose_face_min_and_band(p_mask, p_face, labels, fold, nf_mask, nf_face,
                                                               nf_fold)
    assert floor > 0.3 and "at most 1 % of face-free crops passed" in why
    assert seen[0.1]["accuracy"] > seen[floor]["accuracy"]  # the more accurate floor was refused for safety
    assert seen[0.3]["non_faces_passed"] == 5 and seen[floor]["non_faces_passed"] == 0


def test_when_every_floor_lets_cards_through_the_safest_is_used_and_said():
    rng = np.random.default_rng(1)
    labels = ["yes"] * 300 + ["no"] * 300
    p_mask, p_face = [0.95] * 300 + [0.05] * 300, [0.9] * 600
    fold = rng.integers(0, 5, 600)
    nf_face = np.tile([0.01, 0.03, 0.6, 0.7], 5)  # two crops per fold look like faces to any floor
    floor, _band, why, seen = evaluate.choose_face_min_and_band(p_mask, p_face, labels, fold, np.full(20, 0.99),
                                                                nf_face, np.repeat(np.arange(5), 4))
    assert floor == max(evaluate.FACE_GRID) and "NO floor keeps face-free crops" in why
    assert seen[0.02]["non_faces_passed"] == 15 and seen[floor]["non_faces_passed"] == 10
