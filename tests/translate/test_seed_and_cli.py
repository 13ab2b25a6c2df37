"""Issue 3 acceptance on the seed programs, and the `tf2torch translate` command line."""
import subprocess
import sys
from pathlib import Path

import pytest

from tf2torch.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("name", ["linear_regression", "cnn", "lstm"])
def test_seed_program_translates_completely_and_runs(name, tmp_path, capsys):
    out = tmp_path / f"{name}.py"
    assert main(["translate", str(EXAMPLES / f"{name}.py"), "-o", str(out), "--strict"]) == 0
    source = out.read_text()
    assert "import tensorflow" not in source and "from tensorflow" not in source and "TODO(tf2torch)" not in source
    run = subprocess.run([sys.executable, str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "loss:" in run.stdout  # one progress line per epoch, as Keras prints


def test_linear_regression_trains_like_keras(tmp_path, capsys):
    code = main(["translate", str(EXAMPLES / "linear_regression.py"), "-o", str(tmp_path / "lr.py"), "--verify", "--timeout", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("\n  ") >= 100  # 100 epochs side by side
    worst = float(out.rsplit("max relative difference ", 1)[1].split()[0])
    assert worst <= 1e-4


def test_todo_lines_are_listed_and_strict_fails(tmp_path, capsys):
    src = tmp_path / "s.py"
    src.write_text("import tensorflow as tf\nx = tf.experimental.numpy.ones(3)\n")
    assert main(["translate", str(src), "-o", str(tmp_path / "o.py")]) == 0
    listed = capsys.readouterr().out
    assert "o.py:2: TODO" in listed
    assert main(["translate", str(src), "-o", str(tmp_path / "o.py"), "--strict"]) == 1


@pytest.mark.parametrize("content, message", [
    pytest.param(b"x = (\n", ":1:5: invalid Python", id="syntax"),
    pytest.param(b"\xff\xfe\x00bad", "binary", id="binary"),
    pytest.param("x = 'é'\n".encode("latin-1"), "not UTF-8", id="latin-1"),
])
def test_unreadable_input_is_one_line_exit_1_and_nothing_written(content, message, tmp_path, capsys):
    src = tmp_path / "bad.py"
    src.write_bytes(content)
    out = tmp_path / "out.py"
    assert main(["translate", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]
    assert not out.exists()


def test_folder_in_folder_out(tmp_path, capsys):
    src = tmp_path / "scripts"
    (src / "sub").mkdir(parents=True)
    (src / "a.py").write_text("import tensorflow as tf\ny = tf.reduce_sum(x, axis=1)\n")
    (src / "sub" / "b.py").write_text("import numpy as np\n")
    assert main(["translate", str(src), "-o", str(tmp_path / "out")]) == 0
    assert "torch.sum(x, dim=1)" in (tmp_path / "out" / "a.py").read_text()
    assert (tmp_path / "out" / "sub" / "b.py").read_text() == "import numpy as np\n"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["translate", "x.py"])  # -o missing
    assert info.value.code == 2
