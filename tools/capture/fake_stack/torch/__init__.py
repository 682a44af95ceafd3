"""Fake torch for test_glue.py (numpy underneath). Not PyTorch."""
import contextlib

import numpy as np

__version__ = "0.0-fake"


class dtype:
    def __init__(self, name, np_dtype):
        self.name, self.np = name, np_dtype

    def __str__(self):
        return f"torch.{self.name}"

    __repr__ = __str__


float32 = dtype("float32", np.float32)
float16 = dtype("float16", np.float16)
bfloat16 = dtype("bfloat16", np.float32)  # numpy has none; the glue only passes it around
long = dtype("int64", np.int64)


class device:
    def __init__(self, s="cpu"):
        self.s = s

    def __str__(self):
        return self.s


class Tensor:
    def __init__(self, a, dev="cpu"):
        self.a = np.asarray(a)
        self.device = device(dev) if isinstance(dev, str) else dev

    @property
    def shape(self):
        return self.a.shape

    def dim(self):
        return self.a.ndim

    def __getitem__(self, idx):
        return Tensor(self.a[idx], self.device)

    def detach(self):
        return self

    def to(self, dt=None, **kw):
        dt = kw.get("dtype", dt)
        return Tensor(self.a.astype(dt.np), self.device) if isinstance(dt, dtype) else self

    def float(self):
        return self.to(float32)

    def contiguous(self):
        return Tensor(np.ascontiguousarray(self.a), self.device)

    def cpu(self):
        return Tensor(self.a, "cpu")

    def numpy(self):
        return self.a


def tensor(data, dtype=None, device=None):
    return Tensor(np.asarray(data, dtype=None if dtype is None else dtype.np), device or "cpu")


def cat(ts, dim=0):
    return Tensor(np.concatenate([t.a for t in ts], axis=dim))


_precision = []


def set_float32_matmul_precision(p):
    _precision.append(p)


@contextlib.contextmanager
def inference_mode():
    yield


class _Cuda:
    @staticmethod
    def is_available():
        return False

    @staticmethod
    def device_count():
        return 0


cuda = _Cuda()
