"""The experiment registry and runner: discovery, selection, manifest, failures, CLI."""

from __future__ import annotations

import hashlib
import json

import pytest

from scaling_theory import cli, reproduce
from scaling_theory.errors import InputError

GOOD = '''"""Fake paper, Figure 1: a line."""
import json
NAME = "fake_line"
def run(out, profile="quick", seed=0):
    (out / "line.csv").write_text("x,y\\n0,%d\\n" % seed)
    return {"profile": profile, "seed": seed}
'''
BAD = '''"""Fake paper, Figure 2: broken."""
NAME = "fake_broken"
def run(out, profile="quick", seed=0):
    raise RuntimeError("boom")
'''


@pytest.fixture
def fake_experiments(tmp_path, monkeypatch):
    d = tmp_path / "experiments"
    d.mkdir()
    (d / "fake_line.py").write_text(GOOD)
    (d / "fake_broken.py").write_text(BAD)
    (d / "_helper.py").write_text("NAME = 'ignored'\ndef run(*a, **k): pass\n")
    (d / "not_an_experiment.py").write_text("X = 1\n")
    monkeypatch.setenv("SCALING_THEORY_EXPERIMENTS", str(d))
    return d


def test_discover_and_select(fake_experiments):
    found = reproduce.discover()
    assert list(found) == ["fake_broken", "fake_line"]
    assert found["fake_line"].title == "Fake paper, Figure 1: a line."
    assert [e.name for e in reproduce.select(found, ["fake_l*"])] == ["fake_line"]
    assert len(reproduce.select(found, ["all"])) == 2
    with pytest.raises(InputError, match="unknown experiment 'nope'; available: fake_broken, fake_line"):
        reproduce.select(found, ["nope"])


def test_manifest_records_arguments_files_and_hashes(fake_experiments, tmp_path):
    out = tmp_path / "figs"
    exps = reproduce.select(reproduce.discover(), ["fake_line"])
    manifest = reproduce.run_experiments(exps, out, profile="smoke", seed=7, progress=False)
    on_disk = json.loads((out / "MANIFEST.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    entry = on_disk["experiments"]["fake_line"]
    assert entry["status"] == "ok" and entry["arguments"] == {"profile": "smoke", "seed": 7}
    assert entry["summary"] == {"profile": "smoke", "seed": 7}
    assert entry["seconds"] >= 0
    [f] = entry["files"]
    data = (out / f["path"]).read_bytes()
    assert f["path"] == "fake_line/line.csv" and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert data == b"x,y\n0,7\n"


def test_failed_experiment_is_recorded_and_others_still_run(fake_experiments, tmp_path, capsys):
    out = tmp_path / "figs"
    code = cli.main(["reproduce", "all", "--profile", "smoke", "--out", str(out), "--no-progress"])
    assert code == 1
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["experiments"]["fake_broken"]["status"] == "failed"
    assert "boom" in manifest["experiments"]["fake_broken"]["error"]
    assert manifest["experiments"]["fake_line"]["status"] == "ok"
    assert "1 experiment(s) failed: fake_broken" in capsys.readouterr().err


def test_rerun_of_one_experiment_keeps_the_others_in_the_manifest(fake_experiments, tmp_path):
    out = tmp_path / "figs"
    found = reproduce.discover()
    reproduce.run_experiments(list(found.values()), out, progress=False)
    reproduce.run_experiments([found["fake_line"]], out, seed=3, progress=False)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert set(manifest["experiments"]) == {"fake_line", "fake_broken"}
    assert manifest["experiments"]["fake_line"]["arguments"]["seed"] == 3


def test_cli_unknown_experiment_is_one_line_exit_2(fake_experiments, capsys):
    assert cli.main(["reproduce", "nope", "--out", "/tmp/unused"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown experiment 'nope'") and "\n" not in err


def test_cli_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "--profile", "huge"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice: 'huge'" in err and "\n" not in err


def test_parallel_jobs_record_the_same_results_as_one_process(fake_experiments, tmp_path):
    found = list(reproduce.discover().values())
    serial = reproduce.run_experiments(found, tmp_path / "serial", seed=5, progress=False)
    parallel = reproduce.run_experiments(found, tmp_path / "parallel", seed=5, progress=False, jobs=2)
    for name in ("fake_line", "fake_broken"):
        a, b = serial["experiments"][name], parallel["experiments"][name]
        assert a["status"] == b["status"] and a.get("summary") == b.get("summary") and a.get("error") == b.get("error")
        assert [(f["path"], f["sha256"]) for f in a["files"]] == [(f["path"], f["sha256"]) for f in b["files"]]
    assert parallel["experiments"]["fake_broken"]["status"] == "failed"
    with pytest.raises(InputError, match="--jobs must be at least 1"):
        reproduce.run_experiments(found, tmp_path / "x", progress=False, jobs=0)


PRODUCER = '''"""Fake producer: writes a cache the consumer reuses."""
import time
NAME = "fake_producer"
def run(out, profile="quick", seed=0):
    time.sleep(1.5)
    (out.parent / "_fake_cache.txt").write_text("made")
    return {}
'''
CONSUMER = '''"""Fake consumer: reuses the producer's cache when present."""
NAME = "fake_consumer"
AFTER = ("fake_producer",)
def run(out, profile="quick", seed=0):
    return {"cache_found": (out.parent / "_fake_cache.txt").exists()}
'''


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_experiment_runs_after_the_ones_it_reuses(tmp_path, monkeypatch, jobs):
    # The consumer sorts first by name and is instant, the producer sleeps: without AFTER the consumer
    # would run before (jobs=1) or beside (jobs=2) the producer and find no cache.
    d = tmp_path / "experiments"
    d.mkdir()
    (d / "fake_consumer.py").write_text(CONSUMER)
    (d / "fake_producer.py").write_text(PRODUCER)
    monkeypatch.setenv("SCALING_THEORY_EXPERIMENTS", str(d))
    found = reproduce.discover()
    assert found["fake_consumer"].after == ("fake_producer",)
    manifest = reproduce.run_experiments(list(found.values()), tmp_path / "out", progress=False, jobs=jobs)
    assert manifest["experiments"]["fake_consumer"]["summary"] == {"cache_found": True}
    # alone (its producer not selected) it runs at once and finds no cache
    alone = reproduce.run_experiments([found["fake_consumer"]], tmp_path / "alone", progress=False, jobs=jobs)
    assert alone["experiments"]["fake_consumer"]["summary"] == {"cache_found": False}
