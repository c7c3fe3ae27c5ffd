"""Rows kept on disk instead of in memory: a read-only sequence that streams from a temp file.

The streamed import reads a file once, writes its rows here a block at a time (pickled), and
then scans them as often as the header search and the value guesses need, holding one block
in memory at a time. The first rows stay in memory too (the header is looked for there), and so
do the first `KEEP_ROWS` rows in all: a file of ordinary size is never written to disk, and the
memory a bigger one takes stops growing at that budget.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Any, overload

Row = tuple[int, list[Any]]
_BLOCK = 4096
_HEAD = 64  # rows kept in memory: more than the header search looks at
KEEP_ROWS = 32_768  # rows held in memory before spilling (≈ 40 MiB of typical ERP rows)


class SpilledRows(Sequence[Row]):
    """Rows written once to an anonymous temp file; iterating reads them back block by block."""

    def __init__(self, rows: Iterable[Row], block: int = _BLOCK, keep: int = KEEP_ROWS):
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="relance-import-")
        # each block: its rows, while within `keep`, else (offset, size, rows) in the temp file
        self._blocks: list[list[Row] | tuple[int, int, int]] = []
        self.head: list[Row] = []
        self._count = 0
        it = iter(rows)
        try:
            while chunk := list(islice(it, block)):
                if len(self.head) < _HEAD:
                    self.head += chunk[: _HEAD - len(self.head)]
                if self._count + len(chunk) <= keep:
                    self._blocks.append(chunk)
                else:
                    data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
                    self._blocks.append((self._file.tell(), len(data), len(chunk)))
                    self._file.write(data)
                self._count += len(chunk)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Delete the temp file (the rows cannot be read afterwards)."""
        self._file.close()

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Row]:
        return self._from(0)

    def _from(self, start: int) -> Iterator[Row]:
        for block in self._blocks:
            count = len(block) if isinstance(block, list) else block[2]
            if start >= count:
                start -= count
                continue
            if isinstance(block, list):
                chunk = block
            else:
                offset, size, _ = block
                self._file.seek(offset)  # each read seeks: two scans may run interleaved
                chunk = pickle.loads(self._file.read(size))
            yield from chunk[start:] if start else chunk
            start = 0

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return list(islice(self._from(start), 0, stop - start, step))
            if stop <= len(self.head):
                return self.head[start:stop]
            return _View(self, start, stop)
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        if index < len(self.head):
            return self.head[index]
        return next(self._from(index))


class _View(Sequence[Row]):
    """Rows `start:stop` of a SpilledRows, read from disk each time they are iterated."""

    def __init__(self, rows: SpilledRows, start: int, stop: int):
        self._rows, self._start, self._stop = rows, start, max(start, stop)

    def __len__(self) -> int:
        return self._stop - self._start

    def __iter__(self) -> Iterator[Row]:
        return islice(self._rows._from(self._start), len(self))

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(islice(iter(self), start, stop, step))
            return self._rows[self._start + start : self._start + stop]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._rows[self._start + index]
