"""Reading back a request's PDFs as a reader and as assistive technologies do: the text of each page (pypdf), and
the PDF/UA structure and fonts (pikepdf)."""

import io
import re

import pikepdf
import pypdf

SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
STYLE_SUFFIX = re.compile(r"-(Bold|Oblique|BoldOblique|Italic|BoldItalic|Book)$")


def squeeze(value):
    """PDF text extraction wraps long lines: compare without any whitespace."""
    return "".join(value.split())


def page_texts(content):
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def _fonts(resources, seen):
    """BaseFont names in these resources and in those of their form XObjects."""
    for font in (resources.get("/Font") or {}).values():
        yield str(font.BaseFont)
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            yield from _fonts(xobject.Resources, seen)


def font_families(content):
    """The families of every font the pages use: "/ABCDEF+DejaVu-Sans-Bold" is of the family "DejaVu-Sans"."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        names = {name for page in pdf.pages for name in _fonts(page.Resources, set())}
    return {STYLE_SUFFIX.sub("", SUBSET_PREFIX.sub("", name.lstrip("/"))) for name in names}


def accessibility(content):
    """What PDF/UA asks of the document as a whole: the structure tree, the marked flag, the language, the title
    (document information and XMP metadata) and the title shown instead of the file name."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root
        with pdf.open_metadata() as xmp:
            xmp_title, ua_part = xmp.get("dc:title"), xmp.get("pdfuaid:part")
        top = root.StructTreeRoot.K if "/StructTreeRoot" in root else None
        if isinstance(top, pikepdf.Array):
            top = top[0] if len(top) == 1 else None
        return {
            "structure": str(top.S) if top is not None else None,  # one element above all: the document
            "marked": bool(root.MarkInfo.Marked) if "/MarkInfo" in root else False,
            "lang": str(root.get("/Lang", "")),
            "title": str(pdf.docinfo.get("/Title", "")),
            "xmp_title": xmp_title,
            "pdf_ua": ua_part,
            "display_title": bool(root.ViewerPreferences.DisplayDocTitle) if "/ViewerPreferences" in root else False,
        }


def structure_tags(content):
    """Every structure type in the tag tree (/H1, /Table, /TH…)."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        found, pending = set(), [pdf.Root.StructTreeRoot]
        while pending:
            node = pending.pop()
            if isinstance(node, pikepdf.Dictionary):
                if "/S" in node:
                    found.add(str(node.S))
                kids = node.get("/K")
                if isinstance(kids, pikepdf.Array):
                    pending.extend(kids)
                elif isinstance(kids, pikepdf.Dictionary):
                    pending.append(kids)
        return found


def page_of(texts, expected):
    """The number (from 1) of the first page whose text holds `expected` (whitespace ignored), or None."""
    return next((number for number, text in enumerate(texts, 1) if squeeze(expected) in squeeze(text)), None)
