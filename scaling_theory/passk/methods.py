"""Names of the predictors and the project default (a light module: the CLI imports it for ``--help``)."""

from importlib.util import find_spec

BASE_METHODS = (
    "naive",
    "combinatorial",
    "fit",
    "anchored",
    "plugin",
    "plugin_leading",
    "plugin_corrected",
    "plugin_zi",
    "eb",
    "eb_zi",
    "bayes",
)
# Tail-aware extrapolation (passk.tail): the local exponent of 1 − pass@m and of −log pass@m near n, and the
# hybrid of the observed level with the Beta law's decay.
TAIL_METHODS = ("tail_power", "tail_hughes", "tail_eb")
# Richer difficulty models (passk.mixing): registered when that module is installed.
MIXING_FAMILIES = (
    "beta",
    "scaled_beta",
    "kumaraswamy",
    "beta_mix2",
    "beta_mix3",
    "npmle",
    "gmodel",
    "beta_zi",
    "scaled_beta_zi",
    "kumaraswamy_zi",
    "beta_mix2_zi",
    "beta_mix3_zi",
    "npmle_zi",
    "gmodel_zi",
)
MIXING_METHODS = tuple(f"mix_{f}" for f in MIXING_FAMILIES) if find_spec("scaling_theory.passk.mixing") else ()
METHODS = BASE_METHODS + TAIL_METHODS + MIXING_METHODS + ("auto",)
# The project default: the self-validating predictor (passk.auto) — it back-tests every candidate on the
# user's data at the requested extrapolation ratio and uses the best (docs/passk.md, "auto";
# experiments/passk_real_backtests.py). Before it, the default was "eb" (the only single candidate whose MAE
# was below SABER-anchored's on both the SABER synthetic protocol and the Pythia × MATH back-test).
DEFAULT_METHOD = "auto"
BOOTSTRAP_METHODS = ("naive", "combinatorial", "fit")
ZI_METHODS = ("plugin_zi", "eb_zi")
