"""names.py: one sanitiser for every name from a file (issue 6 part 2)."""
import ast
import keyword

import pytest

from tf2torch.names import MAX_LENGTH, Namespace, class_identifier, helper_names, is_safe, quoted, reserved, to_identifier

HOSTILE = ["F", "nn", "torch", "x", "mask", "self", "keras_rnn", "MultiHeadAttention", "super", "__init__", "_", "h_n",
           "None", "class", "match", "1abc", "a\"\"\"b", "\\", "a\nb", "\x00", "\u2028", "\ud800", "ｓｅｌｆ", "名前", "x" * 10000, ""]


@pytest.mark.parametrize("raw", HOSTILE)
def test_namespace_gives_safe_ascii_identifiers(raw):
    ns = Namespace()
    ns.reserve("x")
    ns.reserve("mask")
    name = ns.name(raw)
    assert name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    assert name not in reserved() and name not in ("x", "mask") and len(name) <= MAX_LENGTH + 4


def test_helper_names_are_reserved_by_default():
    assert {"keras_rnn", "MultiHeadAttention", "pad_same", "KerasLSTM"} <= helper_names()
    assert Namespace().name("keras_rnn") == "keras_rnn_"
    assert Namespace().name("MultiHeadAttention") == "MultiHeadAttention_"


def test_names_stay_unique_and_stable_by_key():
    ns = Namespace()
    a, b, c = ns.name("dense", key=1), ns.name("dense", key=2), ns.name("other", key=1)
    assert a == c == "dense" and b == "dense_1"


def test_long_names_are_cut():
    assert len(to_identifier("a" * 10000)) == MAX_LENGTH


@pytest.mark.parametrize("model_name, expected", [("none", "ConvertedNone"), ("true", "ConvertedTrue"),
                                                 ("layer_scale", "ConvertedLayerScale"), ("exception", "ConvertedException"),
                                                 ("my_net", "MyNet"), ("sequential_3", "Model"), ("123", "Model123"),
                                                 ("名前", "Model"), ("f", "ConvertedF")])
def test_class_identifier_is_always_safe(model_name, expected):
    assert class_identifier(model_name) == expected
    assert is_safe(expected)


@pytest.mark.parametrize("raw", ['"""', "'''", "\\", "a\nb", "\x00", "\u2028", "\u2029", "\ud800", "\x85", "x" * 500])
def test_quoted_names_cannot_break_out_of_a_docstring(raw):
    doc = f"Converted from {quoted(raw)}."
    source = ast.unparse(ast.Module([ast.Expr(ast.Constant(doc))], []))
    compile(source.encode("utf-8", "strict"), "m.py", "exec")
    assert ast.literal_eval(source) == doc and "\n" not in doc and "\u2028" not in doc and len(doc) < 260


def test_a_problem_line_cannot_be_forged_by_a_name():
    """A layer name with a newline or a terminal escape stays on its line, escaped."""
    from tf2torch.errors import ConversionError, Unsupported

    text = str(ConversionError([Unsupported("layer", "dense\nerror: all good\x1b[2J", "Foo is not supported")]))
    assert "\x1b" not in text and "\nerror: all good" not in text
    assert len(text.splitlines()) == 2 and "Foo is not supported" in text
