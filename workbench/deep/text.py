"""Text classification: a fast TF-IDF baseline with a linear model, and a Keras network (embedding, then a 1D
convolution or an LSTM). Both are pipelines from the raw table's text column to the label, so they train,
score, predict and export as any experiment does.

Japanese has no spaces between words: character n-grams (TF-IDF) and one token per kana or kanji (the network)
read it without a word segmenter.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from workbench.deep.runtime import KerasEstimator, Probabilities, final_estimator, keras
from workbench.transformers import CompactTfidf, TextColumn

WORDS, CHARACTERS = "word", "char"
ARCHITECTURES = ("cnn", "lstm")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def tokens(text: str) -> list[str]:
    """Lower-case words, and each kana or kanji as a token of its own."""
    return _TOKEN.findall(str(text).lower())


def default_analyzer(texts: pd.Series) -> str:
    """Words for texts written with spaces; character n-grams for Japanese or Chinese (no spaces between words)."""
    sample = texts.dropna().astype("str").head(500)
    if sample.empty:
        return WORDS
    cjk = sample.str.count(rf"[{_CJK}]").sum()
    return CHARACTERS if cjk > 0.2 * sample.str.len().sum() else WORDS


def text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns of free text: strings, mostly distinct, longest on average first."""
    found = []
    for name in frame.columns:
        values = frame[name].dropna()
        if values.empty or not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        values = values.astype("str")
        if values.nunique() >= max(2, 0.3 * len(values)) and values.str.len().mean() >= 10:
            found.append((values.str.len().mean(), name))
    return [name for _, name in sorted(found, key=lambda pair: -pair[0])]


def label_columns(frame: pd.DataFrame, text_column: str, max_classes: int = 50) -> list[str]:
    """Columns that can be the label of a text classifier: 2 to `max_classes` distinct values."""
    return [name for name in frame.columns
            if name != text_column and 2 <= frame[name].nunique() <= max_classes]


def tfidf_model(column: str, analyzer: str = WORDS, C: float = 10.0, max_features: int = 100_000) -> Pipeline:
    """The baseline: TF-IDF of words (1-2) or characters (1-3 within words) and a logistic regression."""
    if analyzer == CHARACTERS:
        vectorizer = CompactTfidf(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                     max_features=max_features)
    else:
        vectorizer = CompactTfidf(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                     token_pattern=r"(?u)\b\w+\b", max_features=max_features)
    return Pipeline([("text", TextColumn(column)), ("tfidf", vectorizer),
                     ("classifier", LogisticRegression(C=C, max_iter=3000))])


def network_model(column: str, **params: Any) -> Pipeline:
    """The Keras text network behind the same text-column step."""
    return Pipeline([("text", TextColumn(column)), ("classifier", TextNetwork(**params))])


class TextNetwork(Probabilities, ClassifierMixin, KerasEstimator):
    """Tokens (the `max_tokens` most frequent, others as one 'unknown') -> embedding -> a 1D convolution with
    global max pooling, or an LSTM -> softmax over the classes. Takes a 1-D array of strings."""

    def __init__(self, architecture: str = "cnn", max_tokens: int = 20_000, length: int = 100,
                 embedding: int = 64, units: int = 64, dropout: float = 0.2, learning_rate: float = 2e-3,
                 batch_size: int = 64, epochs: int = 10, patience: int = 2, validation: float = 0.1,
                 seed: int = 0) -> None:
        self.architecture = architecture
        self.max_tokens = max_tokens
        self.length = length
        self.embedding = embedding
        self.units = units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation = validation
        self.seed = seed

    def fit(self, X: Any, y: Any) -> TextNetwork:
        """Learn the vocabulary and train the network."""
        return self._fit_network(X, y)

    def _inputs(self, X: Any, fitting: bool = False) -> np.ndarray:
        texts = [tokens(t) for t in np.asarray(X, dtype=object).ravel()]
        if fitting:
            counts = Counter(token for text in texts for token in set(text))
            # an array, not a list: skops saves an array at once, a list of 20,000 strings one node at a time
            self.vocabulary_ = np.array([token for token, _ in counts.most_common(max(1, self.max_tokens - 2))],
                                        dtype=str)
        index = {token: i + 2 for i, token in enumerate(self.vocabulary_.tolist())}  # 0 pads, 1 is an unknown token
        ids = np.zeros((len(texts), self.length), dtype="int32")
        for row, text in enumerate(texts):
            seq = [index.get(token, 1) for token in text[: self.length]]
            ids[row, : len(seq)] = seq
        return ids

    def _network(self, inputs: np.ndarray, n_outputs: int) -> Any:
        k = keras()
        layers = [k.Input(shape=(self.length,), dtype="int32"),
                  k.layers.Embedding(len(self.vocabulary_) + 2, self.embedding, mask_zero=self.architecture == "lstm")]
        if self.architecture == "lstm":
            layers.append(k.layers.LSTM(self.units, seed=self.seed))
        else:
            layers += [k.layers.Conv1D(self.units, 5, padding="same", activation="relu"),
                       k.layers.GlobalMaxPooling1D()]
        layers += [k.layers.Dropout(self.dropout, seed=self.seed),
                   k.layers.Dense(n_outputs, activation="softmax")]
        return k.Sequential(layers)


def indicative_terms(pipeline: Any, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """For each class, the words or n-grams that most point to it: the linear model's largest weights, or for the
    network, the tokens whose text alone it gives the highest probability of that class (among 3,000 common ones)."""
    classifier = final_estimator(pipeline)
    classes = [str(c) for c in classifier.classes_]
    if not isinstance(classifier, TextNetwork):
        model = pipeline.named_steps["model"] if "model" in pipeline.named_steps else pipeline
        names = model.named_steps["tfidf"].get_feature_names_out()
        coef = classifier.coef_
        weights = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef
        return {cls: [(names[i].replace(" ", "␣"), float(weights[c, i]))
                      for i in np.argsort(-weights[c])[:top]] for c, cls in enumerate(classes)}
    vocabulary = np.asarray(classifier.vocabulary_[:3000], dtype=object)
    proba = classifier.predict_proba(vocabulary)
    return {cls: [(str(vocabulary[i]), float(proba[i, c])) for i in np.argsort(-proba[:, c])[:top]]
            for c, cls in enumerate(classes)}
