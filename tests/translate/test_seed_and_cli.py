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


@pytest.mark.parametrize("content, message", [
    pytest.param("x = 1\n".encode("utf-16"), "UTF-16", id="utf-16"),
    pytest.param("# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1"), "declares latin-1", id="declared-latin-1"),
    pytest.param(b"# -*- coding: nope -*-\nx = 1\n", ":1:1: invalid Python: unknown encoding", id="unknown-codec"),
    pytest.param(b"x = '\xed\xa0\x80'\n", "not UTF-8", id="surrogate-bytes"),
    pytest.param(b"if True:\n        y = 1\n\tx = 2\n", ":3:", id="tabs-and-spaces"),
])
def test_odd_encodings_are_one_line_errors(content, message, tmp_path, capsys):
    src = tmp_path / "bad.py"
    src.write_bytes(content)
    assert main(["translate", str(src), "-o", str(tmp_path / "out.py")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out.py").exists()


BODY = "import tensorflow as tf\nx = tf.reduce_sum(tf.ones((2, 3)), axis=1)\n"


@pytest.mark.parametrize("content", [
    pytest.param(b"\xef\xbb\xbf" + BODY.encode(), id="bom"),  # was: 'invalid non-printable character U+FEFF'
    pytest.param(BODY.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(BODY.replace("\n", "\r").encode(), id="cr"),
    pytest.param(b"import tensorflow as tf\nif True:\n\tx = tf.reduce_sum(tf.ones(3))\n", id="tabs"),
    pytest.param(b"import tensorflow as tf\n\x0c\nif True:\n  \x0c  x = tf.reduce_sum(tf.ones(3))\n", id="form-feeds"),
    pytest.param("import tensorflow as tf\nﬁle = tf.ones(3)\nΔ = tf.reduce_sum(ﬁle)  # \u2028\ns = 'a\u2028b'\n".encode(), id="unicode"),
    pytest.param(b"import tensorflow as tf\nx = tf.reduce_sum(\\\n  tf.ones(3))", id="continuation-no-newline"),
    pytest.param(b"# -*- coding: latin-1 -*-\nimport tensorflow as tf\nx = tf.ones(3)\n", id="ascii-with-cookie"),
])
def test_odd_but_valid_scripts_translate_to_valid_python(content, tmp_path, capsys):
    src, out = tmp_path / "s.py", tmp_path / "o.py"
    src.write_bytes(content)
    assert main(["translate", str(src), "-o", str(out)]) == 0
    data = out.read_bytes()
    compile(data, str(out), "exec")  # the file as Python reads it
    assert b"torch." in data and b"tf." not in data


@pytest.mark.parametrize("script, name", [
    ("import tensorflow as tf\ntorch = 1\nx = tf.reduce_sum(tf.ones(3))\n", "torch"),
    ("import tensorflow as tf\ndef f(F):\n    return tf.nn.relu(F)\n", "F"),
    ("import tensorflow as torch\nx = torch.reduce_sum(torch.ones(3))\n", "torch"),
])
def test_a_script_name_that_hides_an_added_import_is_a_todo(script, name):
    from tf2torch.translate import translate_source

    t = translate_source(script, "s.py")
    compile(t.source, "s.py", "exec")
    assert any(f"binds `{name}`" in why for _, why in t.todos), t.todos
    assert not t.complete


def test_the_scripts_own_torch_import_is_no_todo():
    from tf2torch.translate import translate_source

    t = translate_source("import tensorflow as tf\nimport torch\nx = tf.reduce_sum(tf.ones(3))\n", "s.py")
    assert t.complete, t.todos


def test_a_keras_name_the_runtime_helper_stands_for_is_no_todo():
    """`from keras.utils import to_categorical` binds the name of the helper that replaces it."""
    from tf2torch.translate import translate_source

    script = ("import numpy as np\nfrom tensorflow.keras.utils import to_categorical\n"
              "y = to_categorical(np.array([0, 2, 1]), 3)\n")
    t = translate_source(script, "s.py")
    assert not any("binds" in why for _, why in t.todos), t.todos
