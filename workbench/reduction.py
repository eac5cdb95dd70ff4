"""Principal component analysis of the prepared columns: explained variance, loadings and a biplot.

The same reduction is a recipe step ("pca", in workbench.steps.learned), fitted on the training rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from workbench.clustering import MAP_SAMPLE, prepared, sample_rows
from workbench.recipe import Recipe


@dataclass
class PCAResult:
    """Explained variance per component, loadings (components x prepared features) and row scores (a sample)."""

    explained: pd.DataFrame  # component, ratio, cumulative
    loadings: pd.DataFrame  # index: component; columns: prepared features
    scores: pd.DataFrame  # PC1, PC2 of a sample of rows, with their row number

    def components_for(self, share: float) -> int:
        """How many components keep at least `share` of the variance."""
        return int(np.searchsorted(self.explained["cumulative"].to_numpy(), share - 1e-12) + 1)


def pca(frame: pd.DataFrame, recipe: Recipe, columns: list[str] | None = None, max_components: int = 20,
        seed: int = 0) -> PCAResult:
    """PCA on the chosen columns, imputed, scaled and one-hot encoded as for clustering."""
    Z, prep, _ = prepared(frame, recipe, columns)
    names = [str(n) for n in prep.get_feature_names_out()]
    n = max(1, min(max_components, Z.shape[1], len(Z)))
    model = PCA(n_components=n, random_state=seed).fit(Z)
    labels = [f"PC{i + 1}" for i in range(n)]
    explained = pd.DataFrame({"component": labels, "ratio": model.explained_variance_ratio_,
                              "cumulative": np.cumsum(model.explained_variance_ratio_)})
    loadings = pd.DataFrame(model.components_, index=labels, columns=names)
    rows = sample_rows(len(Z), MAP_SAMPLE, seed)
    xy = model.transform(Z[rows])
    scores = pd.DataFrame({"PC1": xy[:, 0], "PC2": xy[:, 1] if n > 1 else 0.0, "row": rows})
    return PCAResult(explained, loadings, scores)
