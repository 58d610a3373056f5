"""The IDX file format of MNIST: a small header, then the numbers, big-endian.

    bytes 0-1   0x00 0x00
    byte  2     the type of the numbers: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     the number of dimensions, d
    then        d sizes, each a big-endian uint32
    then        prod(sizes) numbers, row-major

So MNIST's labels start with the magic number 0x00000801 (uint8, 1 dimension) and its
images with 0x00000803 (uint8, 3 dimensions: N, 28, 28).
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(source):
    """The array stored in an IDX file (``.gz`` compressed or not), in native byte order.

    source: a path, or the file's bytes. Returns an ndarray of the stored shape and type.
    Raises ValueError naming the file when the header is wrong (magic number, type
    code) or the payload does not hold exactly prod(sizes) numbers; the sizes are
    checked before any array is made.
    """
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else repr(os.fspath(source))
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        with open(source, "rb") as file:
            data = file.read()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"read_idx: {name} is a broken gzip file (truncated?): {error}") from None

    if len(data) < 4 or data[:2] != b"\0\0":
        raise ValueError(f"read_idx: {name} is not an IDX file: it must start with two zero bytes, "
                         f"got {data[:4].hex() or 'nothing'}")
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        raise ValueError(f"read_idx: {name} has unknown type code 0x{code:02X} in its magic number "
                         f"0x{data[:4].hex()}; known: {', '.join(f'0x{c:02X}' for c in DTYPES)}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {name} is truncated: its header promises {ndim} sizes "
                         f"({header} bytes) but the file has {len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"read_idx: {name} holds {len(data) - header} bytes of data after its header, "
                         f"but sizes {shape} of {dtype.newbyteorder('=')} need {expected}"
                         + (" (truncated?)" if len(data) - header < expected else ""))
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file at ``path``, gzip-compressed when the name ends in ``.gz``."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in CODES:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; "
                        f"use one of {', '.join(str(d) for d in CODES)}")
    code = CODES[native]
    data = (struct.pack(f">2xBB{array.ndim}I", code, array.ndim, *array.shape)
            + array.astype(DTYPES[code], copy=False).tobytes())
    with open(path, "wb") as file:
        file.write(gzip.compress(data) if os.fspath(path).endswith(".gz") else data)
