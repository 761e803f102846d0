"""Text from images: scanned PDF pages and photos (jpg, png, tif, bmp), by OCR.

RapidOCR runs PaddleOCR's PP-OCR detection, orientation and recognition models as ONNX; the models
ship inside the ``rapidocr`` wheel and are named here by path, so the library's download logic is
never reached (it fetches a model only when no path is given and the packaged file is missing).
PDF pages are rendered with pypdfium2.  Recognised lines are put back in reading order; boxes on one
line far apart (cells of a scanned table) are joined with the table cell separator.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from assistant.ingest.budget import Budget
from assistant.ingest.models import OCR_NOTICE, TABLE_CELL_SEPARATOR, IngestError, LoadedDocument, Page  # noqa: F401
from assistant.settings import IngestSettings

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
MAX_IMAGE_PIXELS = 60_000_000  # a 7000 x 8500 scan; larger is a decompression bomb, not a page
# model files inside the rapidocr wheel (rapidocr 3.10: PP-OCRv6 small detection and recognition)
MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
}


def model_paths() -> dict[str, Path]:
    """The packaged ONNX models by RapidOCR parameter, without importing the engine."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise IngestError("ocr_unavailable", "未安装文字识别(OCR)组件 rapidocr,无法识别扫描件和图片",
                          "rapidocr is not installed; scanned pages and images cannot be read")
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    paths = {key: folder / name for key, name in MODEL_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise IngestError("ocr_unavailable", f"文字识别模型文件缺失({'、'.join(missing)}),无法识别扫描件和图片",
                          f"OCR model files missing: {', '.join(missing)}")
    return paths


@lru_cache(maxsize=1)
def _engine():
    from rapidocr import RapidOCR

    params = {key: str(path) for key, path in model_paths().items()}
    params["Global.log_level"] = "error"  # an empty page is not a warning here
    return RapidOCR(params=params)


def recognise(image, min_score: float) -> str:
    """The text of one image (PIL image or numpy array), one line per printed line."""
    import numpy as np

    array = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else image
    result = _engine()(array)
    if result.boxes is None or result.txts is None:
        return ""
    items = []
    for box, text, score in zip(result.boxes, result.txts, result.scores):
        if score < min_score or not text.strip():
            continue
        ys, xs = [p[1] for p in box], [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), max(xs), text.strip()))
    return "\n".join(_reading_order(items))


def _reading_order(items: list[tuple[float, float, float, float, str]]) -> list[str]:
    """Boxes grouped into printed lines (a box whose middle lies within a line's height joins it), top to bottom."""
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for item in sorted(items, key=lambda i: (i[0] + i[1]) / 2):
        middle = (item[0] + item[1]) / 2
        if lines and lines[-1][0][0] <= middle <= lines[-1][0][1]:
            lines[-1].append(item)
        else:
            lines.append([item])
    out = []
    for line in lines:
        line.sort(key=lambda i: i[2])
        height = max(i[1] - i[0] for i in line)
        text = line[0][4]
        for before, after in zip(line, line[1:]):
            gap = after[2] - before[3]
            text += (TABLE_CELL_SEPARATOR if gap > 1.5 * height else "") + after[4]
        out.append(text)
    return out


def open_image(data: bytes):
    """A PIL image, refused when it is not an image or far too large to be a page."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError("damaged", "图片文件已损坏或格式无法识别", f"damaged or unknown image: {exc}") from exc
    if width * height > MAX_IMAGE_PIXELS:
        raise IngestError("too_large", f"图片过大({width}×{height} 像素),上限为 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素",
                          f"image too large ({width}x{height} pixels)")
    return image


def load_image(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    """A photo or scan: one page per frame (a TIFF may hold several), each recognised by OCR."""
    if caps.max_ocr_pages <= 0:
        raise IngestError("needs_ocr", "图片需要文字识别(OCR),但 OCR 已关闭(max_ocr_pages = 0)", "image needs OCR; OCR is off")
    image = open_image(data)
    frames = getattr(image, "n_frames", 1)
    if frames > caps.max_ocr_pages:
        raise IngestError("too_many_pages", f"图片页数过多({frames} 页),文字识别上限为 {caps.max_ocr_pages} 页",
                          f"too many image pages ({frames} > {caps.max_ocr_pages})")
    pages = []
    for frame in range(frames):
        image.seek(frame)
        budget.check()
        try:
            text = recognise(image, caps.ocr_min_score)
        except (OSError, ValueError) as exc:
            raise IngestError("damaged", "图片文件已损坏,无法识别", f"damaged image: {exc}") from exc
        budget.add(text)
        budget.progress(f"文字识别 第 {frame + 1}/{frames} 页", (frame + 1) / frames)
        pages.append(Page(text, page=frame + 1 if frames > 1 else None, ocr=True))
    if not any(p.text.strip() for p in pages):
        raise IngestError("no_text", "图片中没有识别出文字", "no text recognised in the image")
    return LoadedDocument(source=source, pages=pages, laid_out=True)


def ocr_pdf_pages(data: bytes, numbers: list[int], caps: IngestSettings, budget: Budget) -> dict[int, str]:
    """Render the given PDF pages (from 1) and recognise them, one at a time, within the budget."""
    import pypdfium2

    if len(numbers) > caps.max_ocr_pages:
        raise IngestError(
            "too_many_pages",
            f"需要文字识别的扫描页过多({len(numbers)} 页),上限为 {caps.max_ocr_pages} 页",
            f"too many scanned pages to OCR ({len(numbers)} > {caps.max_ocr_pages})",
        )
    texts: dict[int, str] = {}
    document = pypdfium2.PdfDocument(data)
    try:
        for done, number in enumerate(numbers, start=1):
            budget.check()
            page = document[number - 1]
            try:
                image = page.render(scale=caps.ocr_dpi / 72).to_pil()
            finally:
                page.close()
            texts[number] = budget.add(recognise(image, caps.ocr_min_score))
            budget.progress(f"文字识别 第 {done}/{len(numbers)} 页", done / len(numbers))
            log.info("OCR %s page %d (%d/%d)", "pdf", number, done, len(numbers))
    finally:
        document.close()
    return texts
