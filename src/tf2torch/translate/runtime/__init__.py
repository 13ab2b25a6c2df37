"""Training runtime copied inline into translated scripts, only what is used (see tf2torch.inline).

Each entry is plain PyTorch that reproduces one Keras behaviour exactly (fit's batching and
shuffling, losses, metrics, callbacks, ...), with comments citing the Keras source.
"""
