"""Evaluation: judge a labelled image set with a recipe and measure it before it goes live.

Miss rate (defects passed), overkill (good parts failed), per-class recall, UNSURE rate,
latency, cost, a confusion matrix, and for a screen (the `reference` engine) the curve of miss
rate, overkill and frames handed on across thresholds. Runs are recorded in the store, can be
interrupted and resumed, and compared (`inspector eval`).
"""
