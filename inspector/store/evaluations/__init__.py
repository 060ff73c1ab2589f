"""Evaluation runs: a recipe judged over a labelled image set, each result kept so a run can
resume and two runs can be compared. Reached through `Store`."""
