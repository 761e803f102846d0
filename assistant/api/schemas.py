"""Request and response shapes of the HTTP API (pydantic), which also make its OpenAPI document.

Requests are validated here (bounded sizes, known values, Chinese messages for our own checks).  Responses
are documented here but sent as the CLI builds them (``Answer.to_json``, ``RetrievedChunk.source_json``,
``stats()``), so a field the CLI gains reaches API callers too and nothing is filtered out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.retrieve.hybrid import Filters

DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
MAX_QUESTION_CHARS = 10_000  # longer is refused as a bad request; the chat's own, shorter cap answers in Chinese
MAX_MESSAGE_CHARS = 20_000
MAX_MESSAGES = 200
TEXT_PART_TYPES = ("text", "input_text")


class FilterFields(BaseModel):
    """The chat's filters, named as the CLI's options (``--doc-type``, ``--region``, ``--date-from``, ``--date-to``)."""

    doc_type: Literal["speech", "news", "policy", "qa"] | None = Field(
        None, description="只在这类文件中查找:speech 讲话、news 新闻、policy 政策文件、qa 问答")
    region: str | None = Field(None, max_length=50, description="只在这个地区的文件中查找,如“山西省”")
    date_from: str | None = Field(None, pattern=DATE, description="发布日期不早于(yyyy、yyyy-mm 或 yyyy-mm-dd)")
    date_to: str | None = Field(None, pattern=DATE, description="发布日期不晚于")

    @field_validator("doc_type", "region", "date_from", "date_to", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    def filters(self) -> Filters:
        return Filters(doc_type=self.doc_type, region=self.region, date_from=self.date_from, date_to=self.date_to)


class ChatMessage(BaseModel):
    """One message of a conversation, in OpenAI's format; ``content`` is text or a list of text parts."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str = Field("", max_length=MAX_MESSAGE_CHARS)

    @field_validator("content", mode="before")
    @classmethod
    def _text_of(cls, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts = []
            for part in value:
                if not isinstance(part, dict) or part.get("type") not in TEXT_PART_TYPES:
                    raise ValueError("只支持文字内容,不支持图片、音频或文件")
                if not isinstance(part.get("text"), str):
                    raise ValueError("文字内容的 text 应为文本")
                texts.append(part["text"])
            return "".join(texts)
        raise ValueError("应为文本,或由文字片段组成的列表")


class AskRequest(FilterFields):
    """The CLI's ``ask`` input line (``{"question", "history"}``) plus its filter options."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"question": "那退役军人呢?", "history": [{"role": "user", "content": "失业保险金能领多久?"},
                                                 {"role": "assistant", "content": "……"}]}]})

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS, description="问题(中文)")
    history: list[ChatMessage] = Field(default_factory=list, max_length=MAX_MESSAGES,
                                       description="此前的对话,按时间顺序;追问(“那退役军人呢?”)据此理解")


class RetrieveRequest(FilterFields):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"question": "失业金能领多久", "k": 5}]})

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int | None = Field(None, ge=1, le=50, description="返回几个片段(默认按设置)")


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(FilterFields):
    """OpenAI's chat completion request.  Sampling options (temperature, max_tokens, …) are accepted and
    ignored: the assistant answers from its documents with its own settings."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"model": "employment-policy-assistant", "messages": [{"role": "user", "content": "失业保险金能领多久?"}]}]})

    model: str = Field(..., min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_MESSAGES,
                                        description="对话,最后一条是用户的问题;system 消息不改变助手的规则")
    stream: bool = False
    stream_options: StreamOptions | None = None


# ---------------------------------------------------------------- responses (documentation)


class Source(BaseModel):
    rank: int = Field(description="出处编号,即回答中的 [n]")
    doc_id: str
    title: str
    source: str = Field(description="文件在语料目录中的路径")
    page: int | None = Field(description="页码(PDF),没有时为 null")
    section: str = Field(description="章节/条款,如“第二章 > 第四条”")
    text: str = Field(description="引用的原文片段")
    score: float
    chunk_id: str = Field(description="片段编号;在浏览器中打开 /documents/{doc_id}/view?chunk={chunk_id} 可查看它在原文中的位置")


class AskResponse(BaseModel):
    question: str
    answer: str = Field(description="回答,带 [n] 出处标记;文件没有依据时为拒答说明(含 12333)")
    refused: bool = Field(description="true:文件中没有依据,未作回答")
    backend: str = Field(description="extractive、openai 或 llamacpp")
    sources: list[Source]
    standalone_question: str = Field(description="结合对话改写后的完整问题")
    notice: str = Field(description="提示(如大模型不可用、改为原文摘录),没有时为空")


class RetrieveResponse(BaseModel):
    question: str
    sources: list[Source]


class Document(BaseModel):
    doc_id: str
    title: str
    source: str
    doc_type: str
    date: str
    region: str
    chunks: int


class DocumentsResponse(BaseModel):
    documents: list[Document]


class FileResult(BaseModel):
    source: str
    status: str = Field(description="indexed、unchanged、failed、skipped")
    chunks: int
    code: str = Field(description="失败原因代码,如 too_large、unsupported、encrypted")
    reason_zh: str
    reason_en: str
    title: str


class UploadResponse(BaseModel):
    files: list[FileResult]
    summary: dict[str, float]


class DeleteResponse(BaseModel):
    doc_id: str
    deleted: bool


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: CompletionMessage
    finish_reason: str


class Usage(BaseModel):
    """Counted in characters, not tokens: the assistant has no tokenizer of its own."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """OpenAI's chat completion, with the assistant's fields added at the top level."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    sources: list[Source]
    refused: bool
    standalone_question: str
    notice: str
    backend: str


class ErrorDetail(BaseModel):
    code: str = Field(description="稳定的错误代码,程序据此判断")
    message: str = Field(description="中文说明")
    type: str
    param: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail
