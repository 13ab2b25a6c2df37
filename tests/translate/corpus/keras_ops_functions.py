"""Keras 3 backend-agnostic maths with `from keras import ops`: softmax, einsum, logsumexp, top_k."""
import numpy as np
from keras import ops

x = ops.convert_to_tensor(np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(2, 3, 4))
w = ops.ones((4, 5))

print(ops.mean(x, axis=-1), ops.sum(x), ops.max(x, axis=1))
print(ops.matmul(x, w).shape, ops.einsum("bij,jk->bik", x, w).shape)
print(ops.softmax(x, axis=-1), ops.logsumexp(x, axis=-1))
print(ops.concatenate([x, x], axis=1).shape, ops.stack([x, x]).shape)
print(ops.reshape(x, (6, 4)), ops.transpose(x, (0, 2, 1)).shape)
print(ops.where(x > 0, x, 0.0), ops.clip(x, -0.5, 0.5), ops.abs(x), ops.sqrt(ops.abs(x)))
print(ops.argmax(x, axis=-1), ops.one_hot(ops.array([1, 0]), 3))
values, indices = ops.top_k(ops.reshape(x, (6, 4)), k=2)
print(values, indices)
print(ops.relu(x), ops.sigmoid(x), ops.tanh(x), ops.exp(x), ops.log(ops.abs(x) + 1.0))
print(ops.expand_dims(x, 0).shape, ops.squeeze(ops.ones((1, 4))).shape, ops.shape(x))
print(ops.convert_to_numpy(ops.cumsum(x, axis=2)))
