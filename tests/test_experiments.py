"""Smoke test: every registered experiment runs at the tiny `smoke` profile and writes a figure + data."""

from __future__ import annotations

import json

import pytest

from scaling_theory import reproduce
from scaling_theory.io import jsonable

EXPERIMENTS = reproduce.discover()


def test_experiment_names_follow_the_area_convention():
    areas = ("passk", "judge", "saturation", "fitting", "testbed", "allocation")
    for name, exp in EXPERIMENTS.items():
        assert name.split("_")[0] in areas, name
        assert exp.title, f"{exp.path} needs a docstring naming the paper and figure"


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_experiment_smoke(name, tmp_path):
    exp = EXPERIMENTS[name]
    out = tmp_path / name
    out.mkdir()
    summary = exp.run(out, profile="smoke", seed=0)
    json.dumps(jsonable(summary))  # the summary is recordable in the manifest
    files = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert ".png" in files and ".pdf" in files, f"{name} wrote no figure"
    assert files & {".csv", ".json"}, f"{name} wrote no plotted data"
