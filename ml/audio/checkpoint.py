"""Reads TensorFlow checkpoints (tensor bundles) with numpy alone.

A checkpoint ``PREFIX`` is two files: ``PREFIX.index``, an SSTable (the
LevelDB table format) mapping each variable name to a ``BundleEntryProto``
(dtype, shape, shard, offset, size), and ``PREFIX.data-00000-of-00001``, the
raw little-endian tensor bytes. The empty key holds the ``BundleHeaderProto``.
Only what the published musicnn checkpoints use is supported: one shard,
uncompressed blocks, numeric dtypes; anything else raises
:class:`CheckpointError` saying what was found.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ml.errors import MLError

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_BLOCK_TRAILER_SIZE = 5  # one compression-type byte and a masked CRC32C

# tensorflow/core/framework/types.proto DataType values -> numpy dtypes.
_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}


class CheckpointError(MLError):
    """A checkpoint is missing, truncated, or uses a feature this reader does not handle."""


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``position``; returns (value, next position)."""
    result = 0
    shift = 0
    while True:
        if position >= len(buffer):
            raise CheckpointError("truncated varint in the checkpoint index")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise CheckpointError("malformed varint in the checkpoint index")


def _proto_fields(message: bytes) -> list[tuple[int, int | bytes]]:
    """Top-level (field number, value) pairs of a protobuf message; varints as int, others as bytes."""
    fields: list[tuple[int, int | bytes]] = []
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(message, position)
            fields.append((number, value))
        elif wire_type == 1:
            fields.append((number, message[position : position + 8]))
            position += 8
        elif wire_type == 2:
            length, position = _varint(message, position)
            fields.append((number, message[position : position + length]))
            position += length
        elif wire_type == 5:
            fields.append((number, message[position : position + 4]))
            position += 4
        else:
            raise CheckpointError(f"unsupported protobuf wire type {wire_type} in the checkpoint index")
    return fields


def _shape(message: bytes) -> tuple[int, ...]:
    """Dimensions of a ``TensorShapeProto`` (field 2: repeated Dim, whose field 1 is the size)."""
    dims: list[int] = []
    for number, value in _proto_fields(message):
        if number == 2 and isinstance(value, bytes):
            size = next((v for n, v in _proto_fields(value) if n == 1), 0)
            dims.append(int(size))
        elif number == 3 and value:
            raise CheckpointError("a tensor of unknown rank cannot be read")
    return tuple(dims)


def _block_entries(table: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """Key/value pairs of one SSTable block (prefix-compressed keys, restart array at the end)."""
    if offset + size + _BLOCK_TRAILER_SIZE > len(table):
        raise CheckpointError("the checkpoint index is truncated (a block runs past the end)")
    if table[offset + size] != 0:
        raise CheckpointError(f"compressed checkpoint index blocks (type {table[offset + size]}) are not supported")
    block = table[offset : offset + size]
    (restarts,) = struct.unpack_from("<I", block, size - 4)
    end = size - 4 - 4 * restarts
    entries: list[tuple[bytes, bytes]] = []
    key = b""
    position = 0
    while position < end:
        shared, position = _varint(block, position)
        unshared, position = _varint(block, position)
        value_length, position = _varint(block, position)
        key = key[:shared] + block[position : position + unshared]
        position += unshared
        entries.append((key, block[position : position + value_length]))
        position += value_length
    return entries


def _table_read(table: bytes) -> list[tuple[bytes, bytes]]:
    """Every key/value pair of an SSTable, in key order."""
    if len(table) < _FOOTER_SIZE:
        raise CheckpointError("the checkpoint index is shorter than an SSTable footer")
    footer = table[-_FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, _FOOTER_SIZE - 8)
    if magic != _TABLE_MAGIC:
        raise CheckpointError("not a TensorFlow checkpoint index (bad SSTable magic number)")
    position = 0
    _, position = _varint(footer, position)  # metaindex offset (unused)
    _, position = _varint(footer, position)  # metaindex size
    index_offset, position = _varint(footer, position)
    index_size, position = _varint(footer, position)
    entries: list[tuple[bytes, bytes]] = []
    for _, handle in _block_entries(table, index_offset, index_size):
        block_offset, next_position = _varint(handle, 0)
        block_size, _ = _varint(handle, next_position)
        entries.extend(_block_entries(table, block_offset, block_size))
    return entries


def checkpoint_read(prefix: str | Path) -> dict[str, np.ndarray]:
    """All numeric variables of the checkpoint at ``prefix`` as ``{name: array}``.

    ``prefix`` is the path without the ``.index`` suffix (for the musicnn
    package it is the model folder plus a trailing separator, whose files are
    named ``.index`` and ``.data-00000-of-00001``). Arrays keep the dtype and
    shape stored in the checkpoint.
    """
    prefix = str(prefix)
    index_path = Path(prefix + ".index")
    data_path = Path(prefix + ".data-00000-of-00001")
    for path in (index_path, data_path):
        if not path.is_file():
            raise CheckpointError(f"{path}: no such checkpoint file")
    entries = _table_read(index_path.read_bytes())
    data = np.memmap(data_path, dtype=np.uint8, mode="r")
    variables: dict[str, np.ndarray] = {}
    for raw_key, value in entries:
        if raw_key == b"":
            header = dict(_proto_fields(value))
            if header.get(1, 1) != 1:
                raise CheckpointError(f"{index_path}: checkpoints with {header.get(1)!r} shards are not supported")
            if header.get(2, 0) != 0:
                raise CheckpointError(f"{index_path}: big-endian checkpoints are not supported")
            continue
        name = raw_key.decode("utf-8")
        fields = dict(_proto_fields(value))
        if 7 in fields:
            raise CheckpointError(f"{name}: partitioned (sliced) variables are not supported")
        dtype_code = int(fields.get(1, 0))
        if dtype_code not in _DTYPES:
            raise CheckpointError(f"{name}: unsupported tensor dtype code {dtype_code}")
        dtype = _DTYPES[dtype_code]
        shape = _shape(fields.get(2, b""))  # type: ignore[arg-type]
        offset, size = int(fields.get(4, 0)), int(fields.get(5, 0))
        if int(fields.get(3, 0)) != 0:
            raise CheckpointError(f"{name}: stored in shard {fields.get(3)!r}, only one shard is supported")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size != expected:
            raise CheckpointError(f"{name}: {size} bytes stored for shape {shape} of {dtype} ({expected} expected)")
        if offset + size > data.size:
            raise CheckpointError(f"{data_path}: truncated ({name} needs bytes up to {offset + size}, the file has {data.size})")
        variables[name] = np.frombuffer(data[offset : offset + size].tobytes(), dtype=dtype).reshape(shape).copy()
    return variables
