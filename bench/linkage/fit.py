"""Fit tidetrace's feature weights by logistic regression on the *tune* part only.

Prints a ``weights:`` block and bias for ``tidetrace/resolve/data/scoring.yml``. The held-out
part is never read here. Name pairs are featurised exactly as the scorer does (best name
pair under the current weights, then record features), so re-running after pasting the new
weights converges in one or two rounds.

    python -m bench.linkage.fit            # print
    python -m bench.linkage.fit --write    # and rewrite bias and weights in scoring.yml
"""

import re
import sys

import numpy as np

from bench.linkage.build import OUT
from bench.linkage.run import load_rows
from tidetrace.resolve.features import prepare
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import DEFAULT_CONFIG, Scorer

# L2 penalty: keeps weights of rare features (legal_conflict, number_conflict) finite.
L2 = 0.0005


def featurise(scorer: Scorer, rows: list[dict[str, str]], names: list[str]) -> np.ndarray:
    """The feature matrix of ``rows`` in the order of ``names``."""
    out = np.zeros((len(rows), len(names)))
    for i, row in enumerate(rows):
        left = prepare(Record("l", "LegalEntity", (row["left"],), _c(row["left_country"])))
        right = prepare(Record("r", "LegalEntity", (row["right"],), _c(row["right_country"])))
        values, _, _ = scorer.vector(left, right)
        by_name = {v.name: v.value for v in values}
        out[i] = [by_name.get(n, 0.0) for n in names]
    return out


def _c(value: str) -> tuple[str, ...]:
    return (value.lower(),) if value else ()


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression; column 0 is the bias."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + penalty * w * len(y)
        hess = (x.T * (p * (1 - p))) @ x + np.diag(penalty * len(y)) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-6:
            break
    return w


def main() -> int:
    scorer = Scorer()
    names = sorted(scorer.config.weights)
    rows = [r for r in load_rows(OUT) if r["split"] == "tune" and r["relation"] != "other-name"]
    x = featurise(scorer, rows, names)
    x = np.hstack([np.ones((len(rows), 1)), x])
    y = np.array([float(r["label"]) for r in rows])
    # A feature that never fires in the tune part cannot be fitted: it keeps the weight
    # set by hand in scoring.yml (a prior), and is left out of the regression.
    fired = [i for i in range(len(names)) if np.any(x[:, i + 1] != 0)]
    w_fit = fit(x[:, [0, *(i + 1 for i in fired)]], y)
    weights = dict(scorer.config.weights)
    for k, i in enumerate(fired):
        weights[names[i]] = float(w_fit[k + 1])
    block = f"bias: {w_fit[0]:.2f}\nweights:\n" + "".join(
        f"  {name}: {weights[name]:.2f}"
        + ("" if i in fired else "  # prior: never fires in tune")
        + "\n"
        for i, name in enumerate(names)
    )
    sys.stdout.write(block)
    if "--write" in sys.argv[1:]:
        text = DEFAULT_CONFIG.read_text(encoding="utf-8")
        # Replace the bias line and the whole indented weights mapping after it.
        pattern = r"^bias:[^\n]*\n(?:#[^\n]*\n)*weights:\n(?:[ \t]+[^\n]*\n)*"
        new, count = re.subn(pattern, block, text, count=1, flags=re.M)
        if count != 1:
            raise SystemExit(f"{DEFAULT_CONFIG}: no bias/weights block to replace")
        DEFAULT_CONFIG.write_text(new, encoding="utf-8")
        sys.stdout.write(f"wrote {DEFAULT_CONFIG}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
