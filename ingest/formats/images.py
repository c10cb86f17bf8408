"""Images of documents (a scan saved as PNG/JPEG, a multi-page TIFF from a scanner, a phone photo): OCR'd
page by page (ingest/ocr.py); a TIFF's frames are its pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.readers import PAGE_BREAK, Read, ReadError

SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def read(path: Path) -> Read:
    from PIL import Image

    from ingest import ocr

    try:
        image = Image.open(path)
        pages = getattr(image, "n_frames", 1)
    except MemoryError:
        raise  # not a broken file: the sandbox reports the memory limit
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken or foreign file
        raise ReadError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc}); re-save it as PNG "
                        "or JPEG, or check the file.") from exc
    with image:
        results = ocr.ocr_pages(path, frames(path, image, pages), pages)
    if not any(r.text.strip() for r in results):
        raise ReadError(f"{path}: OCR found no text in the image; check that it shows a document, scanned at "
                        "150 dpi or more.")
    info = ocr.ocr_info(pages, list(range(pages)), results)
    return Read(PAGE_BREAK.join(r.text for r in results), "ocr", info)


def frames(path: Path, image, pages: int) -> Iterator:
    """Each page of the image, decoded when it is reached, turned upright by its EXIF orientation (a phone
    stores a photo as taken and says how to turn it)."""
    from PIL import ImageOps

    for index in range(pages):
        try:
            image.seek(index)
            page = ImageOps.exif_transpose(image)  # a decoded copy: a damaged page fails here
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a truncated or damaged page: say which
            raise ReadError(f"{path}: page {index + 1} of {pages} is not a readable image "
                            f"({exc.__class__.__name__}: {exc}); re-save the file from the scanner's "
                            "software.") from exc
        yield page
