"""Chroma: the source of truth for which chunks exist (their text, metadata and vectors).

Which documents those chunks belong to, and whether each is complete, is the registry's business
(assistant/index/registry.py); ``PolicyIndex`` writes the two in the order that keeps a killed ingest
finishable.  ``chroma_where`` translates the store-neutral ``Filters`` into Chroma's query syntax.
``VectorStore`` is the seam: what the index and the retriever call, whatever store answers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Iterator

from assistant.index.filters import Filters
from assistant.ingest.models import Chunk, chunk_header
from assistant.settings import ChromaSettings

PAGE_NONE = 0  # Chroma metadata cannot hold None; pages count from 1


class IndexMismatchError(RuntimeError):
    """The index was built with another embedding model; mixing vectors would return garbage."""


class IndexUnavailable(RuntimeError):
    """The index cannot be used right now; the message, in Chinese, says why and what to do."""


class VectorStoreUnavailable(IndexUnavailable):
    """The Chroma server cannot be reached."""


class IndexStorageError(IndexUnavailable):
    """The index folder cannot take writes: the disk is full, it is read-only, or permission is missing."""


_STORAGE_MARKERS = {
    "readonly": "索引目录是只读的",
    "read-only": "索引目录是只读的",
    "disk is full": "磁盘已满",
    "no space left": "磁盘已满",
    "permission denied": "没有写入索引目录的权限",
}


def storage_problem(path: Path, low_disk_mb: float, error: BaseException | None = None) -> str | None:
    """Why the folder at ``path`` cannot take writes (read-only, no permission, disk full), or None.

    Chroma reports these as generic internal errors, so the file system itself is asked.
    """
    text = str(error).lower() if error is not None else ""
    for marker, reason in _STORAGE_MARKERS.items():
        if marker in text:
            return reason
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        fs = os.statvfs(probe)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return "索引目录所在的文件系统是只读的"
    if not os.access(probe, os.W_OK):
        return "没有写入索引目录的权限"
    free_mb = fs.f_bavail * fs.f_frsize / 2**20
    if free_mb < low_disk_mb:
        return f"磁盘空间不足(剩余 {free_mb:.1f} MB)"
    return None


# Chroma reports a full disk as a generic "compaction" error: with this little space left, that is what it is
NEARLY_FULL_MB = 8.0


def _from_storage(exc: BaseException) -> bool:
    """Errors raised by Chroma, SQLite or the OS, as opposed to our own errors or bugs."""
    import sqlite3

    return isinstance(exc, (OSError, sqlite3.Error)) or type(exc).__module__.startswith(("chromadb", "tantivy"))


def storage_error(path: Path, reason: str, exc: BaseException | None = None) -> IndexStorageError:
    detail = f"({exc})" if exc is not None else ""
    return IndexStorageError(
        f"索引目录 {path} 无法写入:{reason}{detail}。已收录的文件不受影响,未写完的文件不会被检索;"
        f"请释放磁盘空间或检查目录权限后重新导入。"
    )


def storage_guarded(method):
    """A Chroma server that is down, or a local index on a full or read-only disk, becomes one clear error.

    For methods of objects with ``location``, ``index_dir`` (None: nothing local to diagnose) and
    ``low_disk_mb``; an object with ``broken`` is marked so, for its owner to open it again."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        import httpx

        try:
            return method(self, *args, **kwargs)
        except httpx.TransportError as exc:
            raise VectorStoreUnavailable(f"向量数据库({self.location})暂时无法连接,请稍后再试:{exc}") from exc
        except Exception as exc:  # noqa: BLE001 - Chroma's storage failures have no type of their own
            nearly_full = min(self.low_disk_mb, NEARLY_FULL_MB)
            reason = storage_problem(self.index_dir, nearly_full, exc) if self.index_dir and _from_storage(exc) else None
            if reason is None:
                raise
            if hasattr(self, "broken"):
                self.broken = True
            raise storage_error(self.index_dir, reason, exc) from exc

    return wrapper


@dataclass
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]

    @property
    def indexed_text(self) -> str:
        return f"{chunk_header(self.metadata.get('title', ''), self.metadata.get('section', ''))}\n{self.text}"


class VectorStore(Protocol):
    """The chunks with their vectors: written per document, searched by vector with ``Filters``."""

    location: str  # where it lives, for stats and messages ("embedded", chroma://host:port/collection)
    broken: bool  # a storage failure was seen: the owner opens the store again

    @property
    def identity(self) -> str:
        """Names this collection of chunks: a keyword index derived from another one is rebuilt."""

    def write_documents(self, doc_ids: list[str], chunks: list[Chunk], vectors, batch: int = 0) -> None:
        """Replace every chunk of ``doc_ids`` by ``chunks``, with their vectors."""

    def delete_documents(self, doc_ids: list[str]) -> None: ...

    def count(self) -> int: ...

    def iter_chunks(self, page_size: int = 2000, doc_ids: list[str] | None = None) -> Iterator[StoredChunk]: ...

    def get_chunks(self, ids: list[str]) -> dict[str, StoredChunk]: ...

    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """All chunks of one document, in reading order."""

    def query(self, vector: list[float], k: int, filters: Filters | None = None) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with their cosine similarity."""

    def close(self) -> None: ...


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    doc = chunk.doc
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "page": chunk.page or PAGE_NONE,
        "section": chunk.section,
        "ordinal": chunk.ordinal,
        "doc_type": doc.doc_type,
        "region": doc.region,
        "date": doc.date,
        "date_int": int(doc.date.replace("-", "")) if doc.date else 0,
        "issuer": doc.issuer,
        "doc_number": doc.doc_number,
        "ocr": chunk.ocr,  # recognised from a scan: the source card says so
        "effective": doc.effective,
        "validity": doc.validity,
    }


def chroma_where(filters: Filters | None) -> dict | None:
    """The filter as a Chroma ``where`` clause (None when nothing is filtered)."""
    if filters is None:
        return None
    clauses: list[dict] = []
    if filters.doc_type:
        clauses.append({"doc_type": filters.doc_type})
    if filters.region:
        clauses.append({"region": filters.region})
    if filters.date_from:
        clauses.append({"date_int": {"$gte": filters.date_from_int}})
    if filters.date_to:
        clauses.append({"date_int": {"$lte": filters.date_to_int}})
        clauses.append({"date_int": {"$gt": 0}})
    if filters.doc_ids is not None:
        clauses.append({"doc_id": {"$in": sorted(filters.doc_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def make_client(settings: ChromaSettings, index_dir: Path, low_disk_mb: float = 0.0):
    """A Chroma client: the configured server, or the embedded store in ``index_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client_settings = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.host:
        try:
            return chromadb.HttpClient(host=settings.host, port=settings.port, settings=client_settings)
        except Exception as exc:  # noqa: BLE001 - connection errors come in many types
            raise VectorStoreUnavailable(f"无法连接向量数据库 {settings.host}:{settings.port}:{exc}") from exc
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=client_settings)
    except Exception as exc:  # noqa: BLE001 - opening writes to disk; a full or read-only one fails here
        reason = storage_problem(index_dir, low_disk_mb, exc) if _from_storage(exc) else None
        if reason is None:
            raise
        raise storage_error(index_dir, reason, exc) from exc


class ChromaStore:
    def __init__(self, client, settings: ChromaSettings, model_name: str, dimension: int,
                 index_dir: Path | None = None, low_disk_mb: float = 0.0):
        self._client = client
        self._settings = settings
        self.model_name = model_name
        self.dimension = dimension
        self.index_dir = None if settings.host else index_dir  # where storage failures are diagnosed
        self.low_disk_mb = low_disk_mb
        self.location = (
            f"chroma://{settings.host}:{settings.port}/{settings.collection}" if settings.host else "embedded"
        )
        # after a full or read-only disk, embedded Chroma can hang on its next write: the owner opens a new client
        self.broken = False
        try:
            self._open_collections()
        except Exception:
            client.close()  # Chroma shares one engine per path: a leaked client would keep a broken one alive
            raise

    def close(self) -> None:
        self._client.close()

    @storage_guarded
    def _open_collections(self) -> None:
        settings = self._settings
        hnsw = {
            "space": "cosine",
            "ef_search": settings.hnsw_ef_search,
            "ef_construction": settings.hnsw_ef_construction,
            "max_neighbors": settings.hnsw_max_neighbors,
        }
        # embedding_function=None: Chroma must never fall back to its own downloading model
        self.chunks = self._client.get_or_create_collection(
            settings.collection,
            configuration={"hnsw": hnsw},
            metadata={"embedding_model": self.model_name, "embedding_dim": self.dimension},
            embedding_function=None,
        )
        built_with = (self.chunks.metadata or {}).get("embedding_model")
        built_dim = (self.chunks.metadata or {}).get("embedding_dim")
        if built_with != self.model_name or built_dim != self.dimension:
            raise IndexMismatchError(
                f"索引由向量模型“{built_with}”({built_dim} 维)构建,当前配置为“{self.model_name}”({self.dimension} 维)。"
                f"请重建索引:python -m assistant ingest --rebuild"
            )

    @property
    def identity(self) -> str:
        return str(self.chunks.id)

    @property
    def registry_name(self) -> str:
        return f"{self._settings.collection}__documents"

    @storage_guarded
    def registry_collection(self, create: bool = True):
        """The collection a ``ChromaRegistry`` keeps its records in (None when absent and not created)."""
        if create:
            return self._client.get_or_create_collection(self.registry_name, embedding_function=None)
        try:
            return self._client.get_collection(self.registry_name, embedding_function=None)
        except Exception:  # noqa: BLE001 - "does not exist" has no stable type across Chroma versions
            return None

    # ------------------------------------------------------------ writes

    @storage_guarded
    def write_documents(self, doc_ids: list[str], chunks: list[Chunk], vectors, batch: int = 0) -> None:
        """Replace every chunk of ``doc_ids`` by ``chunks`` (their vectors alongside), in as few calls as
        Chroma takes; the registry marks these documents pending before and complete after."""
        self.delete_documents(doc_ids)
        batch = batch or min(4000, self._client.get_max_batch_size())
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + batch],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    @storage_guarded
    def delete_documents(self, doc_ids: list[str]) -> None:
        for start in range(0, len(doc_ids), 500):
            part = doc_ids[start : start + 500]
            self.chunks.delete(where={"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}})

    # ------------------------------------------------------------ reads

    @storage_guarded
    def count(self) -> int:
        return self.chunks.count()

    def iter_chunks(self, page_size: int = 2000, doc_ids: list[str] | None = None) -> Iterator[StoredChunk]:
        """Every chunk, or those of ``doc_ids``, a page at a time."""
        where = None if doc_ids is None else ({"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": doc_ids}})
        if doc_ids == []:
            return
        offset = 0
        while True:
            got = self._get_page(where, page_size, offset)
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield StoredChunk(chunk_id, text, meta)
            if len(got["ids"]) < page_size:
                return
            offset += page_size

    @storage_guarded
    def _get_page(self, where, limit: int, offset: int) -> dict:
        return self.chunks.get(where=where, include=["documents", "metadatas"], limit=limit, offset=offset)

    @storage_guarded
    def get_chunks(self, ids: list[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        return {i: StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}

    @storage_guarded
    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """All chunks of one document, in reading order."""
        got = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda chunk: chunk.metadata.get("ordinal", 0))

    @storage_guarded
    def query(self, vector: list[float], k: int, filters: Filters | None = None) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with their cosine similarity (fewer than ``k`` when the collection is smaller)."""
        got = self.chunks.query(
            query_embeddings=[vector],
            n_results=k,
            where=chroma_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        return [
            (StoredChunk(i, t, m), 1.0 - float(d))
            for i, t, m, d in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]


def drop_index(settings) -> None:
    """Delete the chunks, the registry and the keyword index, without loading any model."""
    import shutil

    client = make_client(settings.chroma, Path(settings.paths.index_dir))
    for name in (settings.chroma.collection, f"{settings.chroma.collection}__documents"):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collections raise differently across versions
            pass
    index_dir = Path(settings.paths.index_dir)
    for path in [*index_dir.glob("bm25*"), *index_dir.glob("keyword*"), *index_dir.glob("registry.sqlite3*")]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
