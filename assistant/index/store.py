"""Chroma: the source of truth for which chunks exist.

Two collections: the chunks (with their vectors) and a registry of documents
(one record per document, with its content hash and a status).  A document is
written as ``pending`` before any of its chunks and marked ``complete`` after
the last, and removed as ``deleting`` before its chunks go; so a killed ingest
leaves a record that says exactly what to finish, and never an orphan chunk.
A ``generation`` counter in the registry changes with every commit; the BM25
side index is rebuilt whenever its generation differs.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from assistant.ingest.models import Chunk, DocumentMeta, chunk_header
from assistant.settings import ChromaSettings

STATE_ID = "__state__"
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
    """Errors raised by Chroma itself or by the OS, as opposed to our own errors or bugs."""
    return isinstance(exc, OSError) or type(exc).__module__.startswith("chromadb")


def storage_error(path: Path, reason: str, exc: BaseException | None = None) -> IndexStorageError:
    detail = f"({exc})" if exc is not None else ""
    return IndexStorageError(
        f"索引目录 {path} 无法写入:{reason}{detail}。已收录的文件不受影响,未写完的文件不会被检索;"
        f"请释放磁盘空间或检查目录权限后重新导入。"
    )


def _unavailable_as_error(method):
    """A Chroma server that is down, or a local index on a full or read-only disk, becomes one clear error."""

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

    @_unavailable_as_error
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
        self.registry = self._client.get_or_create_collection(
            f"{settings.collection}__documents", embedding_function=None
        )
        built_with = (self.chunks.metadata or {}).get("embedding_model")
        built_dim = (self.chunks.metadata or {}).get("embedding_dim")
        if built_with != self.model_name or built_dim != self.dimension:
            raise IndexMismatchError(
                f"索引由向量模型“{built_with}”({built_dim} 维)构建,当前配置为“{self.model_name}”({self.dimension} 维)。"
                f"请重建索引:python -m assistant ingest --rebuild"
            )

    # ------------------------------------------------------------ registry

    @_unavailable_as_error
    def documents(self) -> dict[str, dict[str, Any]]:
        """Every registry record by doc_id (the state record excluded)."""
        got = self.registry.get(include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"]) if i != STATE_ID}

    @_unavailable_as_error
    def generation(self) -> int:
        got = self.registry.get(ids=[STATE_ID], include=["metadatas"])
        return int(got["metadatas"][0]["generation"]) if got["ids"] else 0

    def _bump_generation(self) -> None:
        self.registry.upsert(
            ids=[STATE_ID],
            embeddings=[[1.0]],
            metadatas=[{"generation": self.generation() + 1, "updated": time.time()}],
            documents=["state"],
        )

    def _set_document(self, doc: DocumentMeta, status: str, chunk_count: int) -> None:
        meta = {**doc.as_metadata(), "status": status, "chunk_count": chunk_count, "indexed_at": time.time()}
        self.registry.upsert(ids=[doc.doc_id], embeddings=[[1.0]], metadatas=[meta], documents=[doc.title])

    # ------------------------------------------------------------ writes

    @_unavailable_as_error
    def replace_document(self, doc: DocumentMeta, chunks: list[Chunk], vectors: list[list[float]], batch: int = 256) -> None:
        """Swap a document's chunks for new ones, leaving a record a re-run can finish."""
        self._set_document(doc, "pending", len(chunks))
        self.chunks.delete(where={"doc_id": doc.doc_id})
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + batch],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )
        self._set_document(doc, "complete", len(chunks))
        self._bump_generation()

    @_unavailable_as_error
    def record_failure(self, doc_id: str, source: str, content_hash: str, code: str, reason_zh: str,
                       pipeline: str) -> None:
        """A file that could not be indexed, with the reason: staff see it in the console, and a start does not
        read the same content again (until the ingest pipeline changes).  It holds no chunks, so nothing
        changes for questions."""
        meta = {"doc_id": doc_id, "source": source, "title": Path(source).name, "content_hash": content_hash,
                "status": "failed", "code": code, "reason": reason_zh, "chunk_count": 0, "failed_at": time.time(),
                "pipeline": pipeline}
        self.registry.upsert(ids=[doc_id], embeddings=[[1.0]], metadatas=[meta], documents=[source])

    @_unavailable_as_error
    def delete_document(self, doc_id: str) -> None:
        got = self.registry.get(ids=[doc_id], include=["metadatas"])
        if got["ids"]:
            self.registry.update(ids=[doc_id], metadatas=[{**got["metadatas"][0], "status": "deleting"}])
        self.chunks.delete(where={"doc_id": doc_id})
        self.registry.delete(ids=[doc_id])
        self._bump_generation()

    # ------------------------------------------------------------ reads

    @_unavailable_as_error
    def count(self) -> int:
        return self.chunks.count()

    def iter_chunks(self, page_size: int = 2000) -> Iterator[StoredChunk]:
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page_size, offset=offset)
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield StoredChunk(chunk_id, text, meta)
            if len(got["ids"]) < page_size:
                return
            offset += page_size

    @_unavailable_as_error
    def get_chunks(self, ids: list[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        return {i: StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}

    @_unavailable_as_error
    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """All chunks of one document, in reading order."""
        got = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda chunk: chunk.metadata.get("ordinal", 0))

    @_unavailable_as_error
    def query(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with their cosine similarity (fewer than ``k`` when the collection is smaller)."""
        got = self.chunks.query(
            query_embeddings=[vector],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (StoredChunk(i, t, m), 1.0 - float(d))
            for i, t, m, d in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]


def drop_index(settings) -> None:
    """Delete both collections and the BM25 side, without loading any model."""
    import shutil

    client = make_client(settings.chroma, Path(settings.paths.index_dir))
    for name in (settings.chroma.collection, f"{settings.chroma.collection}__documents"):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collections raise differently across versions
            pass
    for path in Path(settings.paths.index_dir).glob("bm25*"):
        shutil.rmtree(path, ignore_errors=True)
