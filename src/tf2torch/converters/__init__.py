"""Converter families: one module per Keras layer family, each with its test in tests/converters/."""
