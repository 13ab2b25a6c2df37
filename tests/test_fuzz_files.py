"""A short deterministic run of the file fuzzer (benchmarks/fuzz_files.py): every mutated model
file ends as a verified conversion or a clean `error:` line; no traceback, internal error, hang,
half-written output, or payload run."""
import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fuzz_files  # noqa: E402


def test_short_fuzz_run_has_only_clean_outcomes(tmp_path):
    result = fuzz_files.run(60, seed=0, jobs=2, timeout=60, folder=tmp_path, log=lambda message: None)
    counts = result["counts"]
    bad = {k: v for k, v in counts.items() if v and k not in fuzz_files.GOOD}
    assert not bad, (bad, result["examples"])
    assert sum(counts.values()) == 60
    assert counts["ok"] + counts["ok-unverified"] > 0 and counts["clean-error"] > 0  # both kinds are exercised
    assert not (tmp_path / "PAYLOAD-RAN").exists()


def test_cases_are_deterministic(tmp_path):
    seeds = {"a.keras": _archive({"config.json": json.dumps({"class_name": "Sequential", "config": {"layers": []}}),
                                  "metadata.json": "{}", "model.weights.h5": "x"})}
    first = [fuzz_files.make_case(i, 3, seeds, {}, tmp_path)[1:3] for i in range(20)]
    again = [fuzz_files.make_case(i, 3, seeds, {}, tmp_path)[1:3] for i in range(20)]
    assert first == again


def _archive(members):
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize("code, stderr, expected", [
    (1, "tf2torch: x\nerror: x.keras: not a valid .keras archive (y)\n", "clean-error"),
    (1, "error: 2 problem(s) prevent conversion:\n  - a: b\n  - c: d\n", "clean-error"),
    (1, "error: internal error (KeyError: 'x'); rerun with --debug and report it\n", "internal-error"),
    (1, "Traceback (most recent call last):\n  File ...\n", "traceback"),
    (1, "some noise\nerror: x\n", "traceback"),
    (2, "usage: ...\n", "bad-exit"),
])
def test_classify(code, stderr, expected, tmp_path):
    assert fuzz_files.classify(code, stderr, tmp_path / "out", True, tmp_path / "marker", []) == expected


def test_classify_flags_payloads_and_leftovers(tmp_path):
    (tmp_path / "marker").touch()
    assert fuzz_files.classify(1, "error: x\n", tmp_path / "out", True, tmp_path / "marker", []) == "payload-ran"
    (tmp_path / "marker").unlink()
    (tmp_path / "out").mkdir()
    assert fuzz_files.classify(1, "error: x\n", tmp_path / "out", True, tmp_path / "marker", []) == "half-written"
    assert fuzz_files.classify(0, "", tmp_path / "out", True, tmp_path / "marker", []) == "half-written"
