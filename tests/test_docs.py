"""Docs that match the code: the support table is generated from the registry, the CLI options are documented."""
from pathlib import Path

from tf2torch import registry
from tf2torch.cli import _parser

ROOT = Path(__file__).resolve().parents[1]


def test_support_table_is_generated_from_the_registry():
    text = (ROOT / "docs" / "support.md").read_text()
    assert registry.support_table() in text, "docs/support.md is stale: run `make support`"


def test_every_converter_has_a_test_file_beside_its_family():
    families = {e.family for e in registry.entries()}
    missing = [f for f in families if not (ROOT / "tests" / "converters" / f"test_{f}.py").exists()]
    assert not missing


def test_readme_documents_every_convert_option():
    readme = (ROOT / "README.md").read_text()
    convert = _parser()._subparsers._group_actions[0].choices["convert"]
    for action in convert._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in readme, f"{flag} is not documented in README.md"
