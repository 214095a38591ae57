"""The arithmetic of ``qa.learning.fastpredict``: the probabilities of a fitted TF-IDF union +
sigmoid-calibrated linear classifier pipeline from the term counts of its vectorisers, computed
with a few array operations and no sparse matrix, the numbers of sklearn's sparse chain bit for bit
(checked in tests/test_score_batch.py)."""

from __future__ import annotations


def _indptr(r, n: int):
    """CSR row pointers of entries sorted by row ``r`` (n rows)."""
    import numpy as np

    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return indptr


def _tfidf_counts(vec, x):
    """TfidfVectorizer's transform of a count matrix ``x`` (CSR, each row's columns in ascending
    order, as ``TextBatch.counts`` gives them), without its input validation.

    The numbers are those of the sparse-matrix chain this module used before, bit for bit
    (tests/test_score_batch.py holds it to that chain): ``x @ diag(idf)`` (each value times its
    column's idf), the row norms ``sqrt((x * x).sum(axis=1))`` (scipy sums each row with
    ``np.add.reduceat`` over its values in column order) and ``diag(1 / norms) @ x``; each value is
    the same product computed directly, and each row keeps its columns in ascending order (two
    sparse products each reverse it)."""
    import scipy.sparse as sp

    data = _tfidf_values(vec, x.data, x.indices, x.indptr)
    return sp.csr_matrix((data, x.indices.copy(), x.indptr.copy()), shape=x.shape)


def _tfidf_values(vec, counts, cols, indptr):
    """The values of ``_tfidf_counts`` for entries given as counts, columns and row pointers."""
    import numpy as np

    data = counts.astype(np.float64)
    if vec.sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= vec._tfidf.idf_[cols]
    return _normalised(data, indptr)


def _normalised(data, indptr):
    """Each row's values (CSR ``data``, row pointers ``indptr``) divided by the row's L2 norm."""
    import numpy as np

    sums = np.zeros(len(indptr) - 1)
    filled = np.flatnonzero(np.diff(indptr))
    if len(filled):
        sums[filled] = np.add.reduceat(data * data, indptr[filled])
    norms = np.sqrt(sums)
    norms[norms == 0.0] = 1.0
    inv = 1.0 / norms
    return np.repeat(inv, np.diff(indptr)) * data


_FAST: dict[int, tuple] = {}


def _fast_parts(model):
    """(vectorisers, [(coef, intercept, [(a, b) per class])] per calibrated classifier, n classes,
    the same joined: (idf, column offset per vectoriser, coef, intercept, (a, b), sublinear_tf or None
    when the vectorisers differ)) of a sigmoid-calibrated linear pipeline from this module, or None
    when the model has another shape."""
    key = id(model)
    if key in _FAST:
        return _FAST[key][1]
    parts = None
    try:
        feats = model.named_steps["features"]
        clf = model.steps[-1][1]
        if len(model.steps) == 2 and not feats.transformer_weights and getattr(clf, "method", "") == "sigmoid":
            k = len(clf.classes_)
            ccs = []
            for cc in clf.calibrated_classifiers_:
                est = cc.estimator
                if list(est.classes_) != list(clf.classes_) or not hasattr(est, "coef_"):
                    raise ValueError("unexpected estimator")
                cal = [(float(c.a_), float(c.b_)) for c in cc.calibrators]
                if len(cal) != (1 if k == 2 else k):
                    raise ValueError("unexpected calibrators")
                ccs.append((est.coef_.T.copy(), est.intercept_.copy(), cal))
            vecs = [t for _, t in feats.transformer_list]
            for v in vecs:
                tf = getattr(v, "_tfidf", None)
                if tf is None or v.binary or getattr(v, "norm", None) != "l2" or not getattr(v, "use_idf", False):
                    raise ValueError("unexpected vectorizer")
            import numpy as np

            offs = np.cumsum([0] + [len(v.vocabulary_) for v in vecs])[:-1]
            joint = (np.concatenate([v._tfidf.idf_ for v in vecs]), offs, np.hstack([c[0] for c in ccs]),
                     np.concatenate([c[1] for c in ccs]), np.array([ab for c in ccs for ab in c[2]]),
                     vecs[0].sublinear_tf if len({v.sublinear_tf for v in vecs}) == 1 else None)
            parts = (vecs, ccs, k, joint)
    except Exception:  # any other shape: the plain sklearn path
        parts = None
    _FAST[key] = (model, parts)  # keep the model alive so that its id stays unique
    return parts


def _decisions(joint, got, n: int):
    """``x @ coef`` of every calibrated classifier (side by side), ``x`` the TF-IDF union of the
    entries ``got`` of each vectoriser, without building it. Each (vectoriser, row) is one segment
    of one array (``_tfidf_values`` as for each vectoriser alone); scipy's sparse product sums each
    row's products in the row's column order (the first vectoriser's columns, then the next one's)
    starting from zero, and np.bincount with weights adds them up in that same order: the same
    numbers, bit for bit."""
    import numpy as np

    idf, offs, coef = joint[:3]
    row = np.concatenate([r for r, _, _ in got])
    seg = np.concatenate([r + i * n for i, (r, _, _) in enumerate(got)])
    cols = np.concatenate([col + off for (_, col, _), off in zip(got, offs)])
    data = np.concatenate([c for _, _, c in got]).astype(np.float64)
    if joint[5]:
        np.log(data, data)
        data += 1.0
    w = _normalised(data * idf[cols], _indptr(seg, len(got) * n))[:, None] * coef[cols]
    return np.column_stack([np.bincount(row, weights=w[:, j], minlength=n) for j in range(coef.shape[1])])


def _probabilities(d, ab, n_cc: int, k: int):
    """The calibrated probabilities averaged over the ``n_cc`` calibrated classifiers, from their
    decision values ``d`` side by side (each value's sigmoid as sklearn computes it)."""
    import numpy as np

    e = 1.0 / (1.0 + np.exp(ab[:, 0] * d + ab[:, 1]))
    total = np.zeros((d.shape[0], k))
    w = 1 if k == 2 else k
    for c in range(n_cc):
        if k == 2:
            p1 = e[:, c]
            total += np.column_stack([1.0 - p1, p1])
        else:
            pr = np.ascontiguousarray(e[:, c * w:(c + 1) * w])
            sums = pr.sum(axis=1, keepdims=True)
            pr = np.where(sums == 0, 1.0 / k, pr / np.where(sums == 0, 1.0, sums))
            total += pr
    return total / n_cc
