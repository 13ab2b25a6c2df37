"""tf.data pipelines in PyTorch: what `DataLoader(dataset, batch_size, shuffle, drop_last)` does not
do by itself, each entry exact to the tf.data semantics it names.

Sources: tensorflow/python/data/ops/structured_function.py (`map` unpacks tuple elements, returned
lists become tuples), shuffle_op.py and core/kernels/data/shuffle_dataset_op.cc (buffer shuffle),
from_tensor_slices_op.py, repeat_op.py, cache_op.py.
"""
from __future__ import annotations

import numpy as np
import torch


def to_tensor(array):
    """One array of a tf.data source as a tensor. Floating data becomes float32: tf.data keeps float64
    but a Keras model casts float inputs to its float32 compute dtype (keras/src/layers/layer.py,
    Layer.__call__), a torch model does not. Integer and bool data keep their dtype."""
    if isinstance(array, (tuple, dict)):
        raise TypeError(f"to_tensor takes one array, got a {type(array).__name__}: use TensorSlices for structures")
    tensor = torch.as_tensor(array)
    return tensor.float() if tensor.is_floating_point() else tensor


class TensorSlices(torch.utils.data.Dataset):
    """`tf.data.Dataset.from_tensor_slices(data)`: element i is every array of `data` at index i of
    its first axis, in `data`'s structure (a tuple stays a tuple, a dict a dict, a list is one array).
    String arrays stay numpy arrays (torch has no string tensors)."""

    def __init__(self, data):
        self.data = self.convert(data)
        sizes = {len(leaf) for leaf in self.leaves(self.data)}
        if len(sizes) != 1:
            raise ValueError(f"from_tensor_slices needs one first-axis size for all arrays, got {sorted(sizes)}")
        self.size = sizes.pop()

    @classmethod
    def convert(cls, data):
        if isinstance(data, tuple):
            items = [cls.convert(item) for item in data]
            return type(data)(*items) if hasattr(data, "_fields") else tuple(items)
        if isinstance(data, dict):
            return {key: cls.convert(value) for key, value in data.items()}
        if not isinstance(data, torch.Tensor) and np.asarray(data).dtype.kind in "USO":
            return np.asarray(data)
        return to_tensor(data)

    @classmethod
    def leaves(cls, data):
        if isinstance(data, tuple):
            return [leaf for item in data for leaf in cls.leaves(item)]
        if isinstance(data, dict):
            return [leaf for value in data.values() for leaf in cls.leaves(value)]
        return [data]

    @classmethod
    def slice(cls, data, index):
        if isinstance(data, tuple):
            items = [cls.slice(item, index) for item in data]
            return type(data)(*items) if hasattr(data, "_fields") else tuple(items)
        if isinstance(data, dict):
            return {key: cls.slice(value, index) for key, value in data.items()}
        return data[index]

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"index {index} out of range for {self.size} elements")
        return self.slice(self.data, index)


class MapDataset(torch.utils.data.Dataset):
    """`dataset.map(fn)` before `batch`: fn runs on each element every time it is read (every epoch,
    like tf.data), a tuple element is unpacked into fn's arguments and a returned list becomes a tuple."""

    def __init__(self, dataset, fn):
        self.dataset, self.fn = dataset, fn

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        element = self.dataset[index]
        result = self.fn(*element) if type(element) is tuple else self.fn(element)
        return tuple(result) if isinstance(result, list) else result


class CachedDataset(torch.utils.data.Dataset):
    """`dataset.cache()` after a `map`: each element is computed once, on its first read, and reused
    in later epochs (a random augmentation in the map is frozen, as in tf.data)."""

    def __init__(self, dataset):
        self.dataset, self.cache = dataset, {}

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        if index not in self.cache:
            self.cache[index] = self.dataset[index]
        return self.cache[index]


class BufferShuffle(torch.utils.data.IterableDataset):
    """`dataset.shuffle(buffer_size, seed, reshuffle_each_iteration)` exactly as tf.data shuffles: a
    buffer is filled with the first `buffer_size` elements, each output is drawn uniformly from the
    buffer and its place is refilled with the next element. A buffer at least as large as the dataset
    gives a uniform permutation (`DataLoader(shuffle=True)`); a smaller one does not. The order is
    drawn from torch's random generator, so it differs from TensorFlow's for the same seed."""

    def __init__(self, dataset, buffer_size, seed=None, reshuffle_each_iteration=True):
        self.dataset, self.buffer_size = dataset, int(buffer_size)
        if self.buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1, got {buffer_size}")
        self.seed = int(torch.randint(2**62, ())) if seed is None else int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.reshuffle_each_iteration = reshuffle_each_iteration

    def __len__(self):
        return len(self.dataset)

    def elements(self):
        if isinstance(self.dataset, torch.utils.data.IterableDataset):
            return iter(self.dataset)
        return (self.dataset[i] for i in range(len(self.dataset)))

    def __iter__(self):
        if not self.reshuffle_each_iteration:  # the same order every epoch
            self.generator.manual_seed(self.seed)
        buffer = []
        for element in self.elements():
            buffer.append(element)
            if len(buffer) == self.buffer_size:
                yield self.draw(buffer)
        while buffer:
            yield self.draw(buffer)

    def draw(self, buffer):
        i = int(torch.randint(len(buffer), (), generator=self.generator))
        buffer[i], buffer[-1] = buffer[-1], buffer[i]
        return buffer.pop()


class MapBatches:
    """`dataset.batch(n).map(fn)`: fn runs on each batch, a tuple batch unpacked into fn's arguments
    (DataLoader collates tuple elements into lists: they are passed as tuples, as tf.data does)."""

    def __init__(self, batches, fn):
        self.batches, self.fn = batches, fn

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            batch = tuple(batch) if isinstance(batch, list) else batch
            result = self.fn(*batch) if type(batch) is tuple else self.fn(batch)
            yield tuple(result) if isinstance(result, list) else result


class Repeat:
    """`dataset.repeat(count)` after `batch`: the batches `count` times (forever when count is None or
    -1), each pass a new epoch of the loader (reshuffled when it shuffles, as tf.data reshuffles each
    repetition). An empty input ends the repetition, as tf.data's repeat does."""

    def __init__(self, batches, count=None):
        self.batches, self.count = batches, count

    def __len__(self):
        if self.count is None or self.count < 0:
            raise TypeError("an infinitely repeated dataset has no length")
        return len(self.batches) * self.count

    def __iter__(self):
        done = 0
        while self.count is None or self.count < 0 or done < self.count:
            empty = True
            for batch in self.batches:
                empty = False
                yield batch
            if empty:
                return
            done += 1
