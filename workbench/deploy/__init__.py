"""After training: the model bundle (export, model files, ONNX, model card, predicting on raw rows, replaying a
project), and the versions, serving and monitoring built on it. Kept free of imports: bundles carry parts of
this package and run without the rest of the workbench."""
