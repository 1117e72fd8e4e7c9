"""A content-addressed cache in `<project>/.tierdeck-cache/`: safe to delete, never trusted across versions.

Every key is a hash of the exact input bytes and of tierdeck's own fingerprint (its version, the bytes
of every file of its package and the versions of the libraries that shape its output), so a stale entry can
never be found: any change to an input or to tierdeck misses the cache and recomputes. Entries are
written atomically; an unreadable entry is a miss, never an error.

The folder lives in the project, where anybody who can commit to it can plant files, so an entry is data
only and authenticated:
- values are stored as JSON (`encode`/`decode`): plain values, tuples, paths, dicts and the dataclasses
  registered with `@storable`, rebuilt field by field; nothing in an entry can name code to run;
- each entry carries an HMAC-SHA256 of its kind, key and bytes under a secret made on this machine and kept
  outside every project (`secret_path()`, mode 0600), so an entry planted in a repository, copied from
  another machine or with a flipped bit fails the check and is recomputed, and what a build writes is what
  a cold build writes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import operator
import os
import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, partial
from pathlib import Path
from types import UnionType
from typing import Any, ForwardRef, Literal, TypeVar, Union, get_args, get_origin

CACHE_DIR = ".tierdeck-cache"
KEEP_DAYS = 14  # an entry unused for this long is deleted by `Cache.prune`
_REFRESH_SECONDS = 86400  # a used entry's time is refreshed at most daily
_LIBRARIES = ("genanki", "pydantic", "pydantic-core", "pyromark", "nh3", "PyYAML", "yaml-rs")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes with tierdeck's code, its version and the libraries it renders and validates with."""
    from importlib import metadata

    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent
    # every file of the package, subpackages and data (templates, CSS, note types) included
    for source in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


def key(*parts: bytes | str) -> str:
    """A cache key from the fingerprint and `parts` (each length-prefixed, so parts cannot run together)."""
    digest = hashlib.sha256(fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


_digests: ContextVar[dict[tuple, str] | None] = ContextVar("digests", default=None)


@contextmanager
def remembered_digests():
    """Within this block `file_digest` hashes each file once (one build keys every card file several
    times); a file whose size or time changes is hashed again."""
    if _digests.get() is not None:  # already inside one
        yield
        return
    token = _digests.set({})
    try:
        yield
    finally:
        _digests.reset(token)


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes. Raises OSError when the file cannot be read."""
    memo = _digests.get()
    if memo is None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    stat = path.stat()
    marker = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    digest = memo.get(marker)
    if digest is None:
        digest = memo[marker] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


_STORABLE: dict[str, type] = {}
_T = TypeVar("_T", bound=type)


def storable(cls: _T) -> _T:
    """Register a dataclass or NamedTuple whose instances the cache may hold (rebuilt from their fields)."""
    if dataclasses.is_dataclass(cls):
        assert all(f.init for f in dataclasses.fields(cls)), f"{cls.__name__}: every field must be an init field"
    else:
        assert issubclass(cls, tuple) and hasattr(cls, "_fields"), f"{cls.__name__} is not a dataclass or NamedTuple"
    _STORABLE[cls.__qualname__] = cls
    return cls


class Unstorable(TypeError):
    """A value of a type the cache does not hold."""


# How each field of a storable class is stored: "id" (JSON as it is: text, numbers), "gen" (tagged, see _plain), or
# an (encode, decode) pair for tuples and paths whose type the class declares, so reading a unit back needs one
# Python call per object instead of one per tuple: a warm 50,000-card check reads about 400,000 of them.
_Shape = Any
_SHAPES: dict[type, list[_Shape]] = {}


def _shape_of(tp: Any) -> _Shape:
    """How a value of type `tp` is stored: "id", "gen", ("path",), ("obj", storable class) as its bare field
    list, ("seq", item shape, tuple or list), ("fixed", item shapes, tuple), ("set", set or frozenset) of text
    or numbers, or ("opt", shape) for `X | None`."""
    if tp in (str, int, float, bool, type(None)):
        return "id"
    if tp is Path:
        return ("path",)
    if isinstance(tp, type) and _STORABLE.get(tp.__qualname__) is tp:
        return ("obj", tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return "id" if all(isinstance(a, (str, int, bool)) for a in args) else "gen"
    if origin in (Union, UnionType):
        inner = [_shape_of(a) for a in args if a is not type(None)]
        if all(s == "id" for s in inner):
            return "id"
        if len(inner) == 1 and inner[0] != "gen":
            return ("opt", inner[0])
        return "gen"
    if origin is list and len(args) == 1:
        return ("seq", _shape_of(args[0]), list)
    if origin in (frozenset, set) and len(args) == 1 and _shape_of(args[0]) == "id":
        return ("set", origin)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return ("seq", _shape_of(args[0]), tuple)
    if origin is tuple and args and Ellipsis not in args:
        return ("fixed", [_shape_of(a) for a in args], tuple)
    return "gen"


def _shapes(cls: type) -> list[_Shape]:
    shapes = _SHAPES.get(cls)
    if shapes is None:
        module = sys.modules[cls.__module__].__dict__
        names = [(f.name, f.type) for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else [
            (name, cls.__annotations__.get(name, Any)) for name in cls._fields  # type: ignore[attr-defined]
        ]
        shapes = []
        for _, annotation in names:
            try:
                if isinstance(annotation, ForwardRef):  # a NamedTuple's annotations, postponed
                    annotation = annotation.__forward_arg__
                tp = eval(annotation, module) if isinstance(annotation, str) else annotation  # noqa: S307 - our own annotations
                shapes.append(_shape_of(tp))
            except Exception:  # noqa: BLE001 - a type only known to type checkers: stored tagged
                shapes.append("gen")
        _SHAPES[cls] = shapes
    return shapes


def _out(shape: _Shape) -> Any:
    """A function turning a non-None value of `shape` into its stored form, or None when the value is stored
    as it is: text, numbers and tuples or lists of them go to `json.dumps` untouched, which refuses (Unstorable,
    see `encode`) anything its class does not declare."""
    if shape == "id":
        return None
    if shape == "gen":
        return _plain
    kind = shape[0]
    if kind == "path":

        def path(value: Any, refs: dict[int, str]) -> str:
            if not isinstance(value, Path):
                raise Unstorable(f"a {type(value).__qualname__} where its class declares a path")
            return str(value)

        return path
    if kind == "opt":
        return _out(shape[1])
    if kind == "obj":  # its bare field list: no tag to write, and none for the reader's object hook to see
        cls = shape[1]

        def obj(value: Any, refs: dict[int, str]) -> list:
            if type(value) is not cls:
                raise Unstorable(f"a {type(value).__qualname__} where its class declares {cls.__qualname__}")
            return _fields_encoder(cls)(value, refs)

        return obj
    if kind == "set":
        return lambda value, refs: sorted(value)  # sorted: the same set is always stored as the same bytes
    if kind == "seq":
        inner = _out(shape[1])
        if inner is None:
            return None
        return lambda value, refs: [None if v is None else inner(v, refs) for v in value]
    outs = [_out(s) for s in shape[1]]
    count = len(outs)

    def fixed(value: Any, refs: dict[int, str]) -> list:
        if len(value) != count:
            raise Unstorable(f"{len(value)} items where its class declares {count}")
        return [v if out is None or v is None else out(v, refs) for out, v in zip(outs, value)]

    return fixed


_ENCODERS: dict[type, Any] = {}


def _fields_encoder(cls: type) -> Any:
    """Turns an instance of `cls` into its field list, converting only the fields that need it."""
    encode_one = _ENCODERS.get(cls)
    if encode_one is None:
        shapes = _shapes(cls)
        outs = [(i, out) for i, out in enumerate(_out(s) for s in shapes) if out is not None]
        if dataclasses.is_dataclass(cls):
            names = [f.name for f in dataclasses.fields(cls)]
            get = operator.attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)
        else:
            get = tuple

        def encode_one(value: Any, refs: dict[int, str]) -> list:
            values = list(get(value))
            for i, out in outs:
                item = values[i]
                if item is not None:
                    values[i] = out(item, refs)
            return values

        _ENCODERS[cls] = encode_one
    return encode_one


# Paths read back are shared: a unit names its card file once per card and once per note, and building a Path
# costs more than looking one up.
_path = lru_cache(maxsize=4096)(Path)


def _converter(shape: _Shape) -> Any:
    """A function turning the stored form of a non-None value of `shape` back into its value."""
    kind = shape[0]
    if kind == "path":
        return _path
    if kind == "opt":
        return _converter(shape[1])
    if kind == "set":
        return shape[1]
    if kind == "obj":
        cls = shape[1]
        return lambda value: _builder(cls)(value)
    if kind == "seq":
        inner, done = shape[1], shape[2]
        if inner in ("id", "gen"):
            return done
        convert = _converter(inner)
        return lambda value: done([None if v is None else convert(v) for v in value])
    converts = [(i, _converter(s)) for i, s in enumerate(shape[1]) if s not in ("id", "gen")]
    count = len(shape[1])

    def fixed(value: list) -> tuple:  # a list json.loads just made: converted in place
        if len(value) != count:
            raise ValueError(f"{len(value)} items stored, {count} expected")
        for i, convert in converts:
            item = value[i]
            if item is not None:
                value[i] = convert(item)
        return tuple(value)

    return fixed


_BUILDERS: dict[type, Any] = {}


def _builder(cls: type) -> Any:
    """Rebuilds an instance of `cls` from its stored field list, converting only the fields that need it."""
    build = _BUILDERS.get(cls)
    if build is None:
        shapes = _shapes(cls)
        converts = [(i, _converter(s)) for i, s in enumerate(shapes) if s not in ("id", "gen")]
        count = len(shapes)

        def build(values: list) -> Any:
            if len(values) != count:
                raise ValueError(f"{cls.__qualname__}: {len(values)} fields stored, {count} expected")
            for i, convert in converts:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            return cls(*values)

        _BUILDERS[cls] = build
    return build


def _plain(value: Any, refs: dict[int, str]) -> Any:
    """`value` as JSON data: containers and registered classes become one-key tagged objects."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_plain(v, refs) for v in value]
    kind = type(value)
    if id(value) in refs:  # a shared object the reader supplies again (a deck's note types)
        return {"r": refs[id(value)]}
    if kind.__qualname__ in _STORABLE and _STORABLE[kind.__qualname__] is kind:
        return {"c": kind.__qualname__, "f": _fields_encoder(kind)(value, refs)}
    if kind is tuple:
        return {"t": [_plain(v, refs) for v in value]}
    if kind is dict:
        return {"d": [[_plain(k, refs), _plain(v, refs)] for k, v in value.items()]}
    if kind in (frozenset, set):
        return {"s": sorted((_plain(v, refs) for v in value), key=repr)}
    if isinstance(value, Path):
        return {"p": str(value)}
    if kind is bytes:
        return {"b": base64.b64encode(value).decode()}
    raise Unstorable(f"the cache does not hold {kind.__qualname__}")


@lru_cache(maxsize=1)
def _fast_dumps() -> Any:
    """orjson's writer, imported when the first entry is written (a command answering from a record never needs
    it), set to write only what the standard library writes too (dataclasses, dates and subclasses refused, not
    written); None without orjson: it has wheels for the usual platforms, and the standard library serves."""
    try:
        import orjson
    except ImportError:  # pragma: no cover
        return None
    plain_only = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
    return partial(orjson.dumps, option=plain_only)


def _dumps(data: Any) -> bytes:
    """Compact JSON bytes: orjson's (several times faster), else the standard library's, which writes the same."""
    fast = _fast_dumps()
    if fast is not None:
        try:
            return fast(data)
        except TypeError:  # what orjson refuses (an integer beyond 64 bits, ...): the standard library decides
            pass
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encode(value: Any, refs: Mapping[str, Any] | None = None) -> bytes:
    """`value` as JSON bytes; objects in `refs` (name -> object) are stored by name only.

    Raises Unstorable for a value of any other type than plain data, tuples, paths, dicts, sets, bytes and
    the `@storable` classes.
    """
    by_id = {id(obj): name for name, obj in (refs or {}).items()}
    try:
        return _dumps(_plain(value, by_id))
    except (TypeError, ValueError) as exc:  # a field holding what its class does not declare
        raise Unstorable(str(exc)) from exc


def decode(data: bytes, refs: Mapping[str, Any] | None = None) -> Any:
    """The value `encode` stored. Raises ValueError (or KeyError, TypeError) for anything else."""
    refs = refs or {}

    def tagged(obj: dict) -> Any:
        if len(obj) == 2 and "c" in obj:
            return _builder(_STORABLE[obj["c"]])(obj["f"])
        ((tag, inner),) = obj.items()
        if tag == "t":
            return tuple(inner)
        if tag == "d":
            return {(tuple(k) if isinstance(k, list) else k): v for k, v in inner}
        if tag == "p":
            return Path(inner)
        if tag == "s":
            return frozenset(inner)
        if tag == "b":
            return base64.b64decode(inner)
        if tag == "r":
            return refs[inner]
        raise ValueError(f"unknown tag {tag!r}")

    return json.loads(data, object_hook=tagged)


_MAGIC = b"tierdeck-cache 2\n"
_MAC_HEX = 64


def secret_path() -> Path:
    """Where this machine's cache secret is kept: the user's cache folder, outside every project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tierdeck" / "cache-secret"


@lru_cache(maxsize=4)
def _secret(path: Path) -> bytes | None:
    """The secret at `path`, made (32 random bytes, mode 0600) when there is none; None if it cannot be had."""
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        import tempfile

        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
        try:
            os.link(partial, path)  # never replaces a secret another process made first
        except FileExistsError:
            pass
        finally:
            os.unlink(partial)
        data = path.read_bytes()
        return data if len(data) == 32 else None
    except OSError:
        return None


class Cache:
    """Authenticated JSON values by key, in one project's cache folder; disabled with TIERDECK_NO_CACHE=1."""

    def __init__(self, root: Path):
        self.dir = root / CACHE_DIR
        self.secret = _secret(secret_path())
        self.enabled = (
            os.environ.get("TIERDECK_NO_CACHE", "") in ("", "0")
            and self.secret is not None
            and not self.dir.is_symlink()  # a cache folder that points elsewhere is not this project's
        )

    def _path(self, kind: str, name: str) -> Path:
        return self.dir / kind / name[:2] / f"{name}.json"

    def _mac(self, kind: str, name: str, payload: bytes) -> bytes:
        assert self.secret is not None
        mac = hmac.new(self.secret, digestmod=hashlib.sha256)
        for part in (kind.encode(), name.encode(), payload):
            mac.update(len(part).to_bytes(8, "big"))
            mac.update(part)
        return mac.hexdigest().encode()

    def get_bytes(self, kind: str, name: str) -> bytes | None:
        """The bytes stored under `name` if this machine's tierdeck wrote them for this key, else None."""
        if not self.enabled:
            return None
        path = self._path(kind, name)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
                if time.time() - os.fstat(handle.fileno()).st_mtime > _REFRESH_SECONDS:
                    os.utime(path)  # still in use: `prune` keeps it
        except OSError:
            return None
        head = len(_MAGIC) + _MAC_HEX + 1
        if not data.startswith(_MAGIC) or len(data) < head:
            return None
        mac, payload = data[len(_MAGIC) : head - 1], data[head:]
        if not hmac.compare_digest(mac, self._mac(kind, name, payload)):
            return None  # planted, copied from elsewhere, or damaged: recomputed
        return payload

    def get(self, kind: str, name: str, refs: Mapping[str, Any] | None = None) -> Any | None:
        """The value stored under `name`, or None."""
        payload = self.get_bytes(kind, name)
        if payload is None:
            return None
        try:
            return decode(payload, refs)
        except Exception:  # noqa: BLE001 - an entry of another shape (an authentic one from a bug) is a miss
            return None

    def prune(self, max_age_days: float = KEEP_DAYS) -> int:
        """Delete the entries nobody read or wrote for `max_age_days` (old versions of edited files,
        entries of an older tierdeck); returns how many. Each edit leaves one entry behind, so a build
        that stored something calls this."""
        if not self.enabled:
            return 0
        limit, removed = time.time() - max_age_days * 86400, 0
        for pattern in ("*/*/*.json", "*/*/*.pickle", "*/*/.partial-*"):  # .pickle: entries of tierdeck 0.2
            for entry in self.dir.glob(pattern):
                try:
                    if entry.stat().st_mtime < limit:
                        entry.unlink()
                        removed += 1
                except OSError:
                    pass  # gone already, or not ours to delete
        return removed

    def put(self, kind: str, name: str, value: Any, refs: Mapping[str, Any] | None = None) -> None:
        """Store `value` under `name` (silently skipped when it cannot be stored or the folder written)."""
        if not self.enabled:
            return
        try:
            data = encode(value, refs)
        except Unstorable:  # what cannot be stored is recomputed next time
            return
        self.put_bytes(kind, name, data)

    def put_bytes(self, kind: str, name: str, payload: bytes) -> None:
        """Store a value already encoded (`encode`) under `name`."""
        if not self.enabled:
            return
        path = self._path(kind, name)
        partial = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not (self.dir / ".gitignore").exists():
                (self.dir / ".gitignore").write_text("*\n")
            import tempfile

            fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC + self._mac(kind, name, payload) + b"\n" + payload)
            os.replace(partial, path)
        except OSError:  # a cache that cannot be written is only a slower next run
            if partial is not None:
                Path(partial).unlink(missing_ok=True)
