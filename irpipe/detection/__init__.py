"""Infrared temporal action detection (seed 001, InfDetNet): snippet features, training,
post-processing, paper tables. Models live in ``irpipe.models``, the evaluator in
``irpipe.eval.detection``."""
