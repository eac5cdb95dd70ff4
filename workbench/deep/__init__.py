"""Neural networks with TensorFlow/Keras: a tabular network, text and image classifiers.

TensorFlow takes seconds to import, so nothing here imports it at module level;
`runtime.keras()` does, on first use.
"""
