"""The PDF of a service certificate (志愿服务证明), drawn with reportlab's platypus on A4.

The text is the document's content, in Chinese whatever the language of the request: an official
certificate in the form of the 2021 《志愿服务记录与证明出具办法（试行）》, so its wording lives here and
not in the translation catalogue. The CJK TrueType font named by CERTIFICATE_FONT_PATH is embedded (a
subset), so the file reads the same on any machine and its text can be extracted. Nothing here queries
the database: `certificates.py` hands over a `CertificateDocument`.
"""

from __future__ import annotations

import datetime
import io
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_NAME = "CertificateCJK"

# The names of the ID types as the certificate prints them (volunteers.identity.IdType).
ID_TYPE_NAMES = {
    "resident": "居民身份证",
    "passport": "护照",
    "hk_macao": "港澳居民来往内地通行证",
    "taiwan": "台湾居民来往大陆通行证",
    "foreign_permanent": "外国人永久居留身份证",
}

_registered_font_path: str | None = None
_font_lock = threading.Lock()


@dataclass(frozen=True)
class RecordRow:
    date: datetime.date
    content: str
    hours: Decimal
    unit: str


@dataclass(frozen=True)
class CertificateDocument:
    """Everything the certificate prints, as it is on the day it is issued."""

    number: str
    issued_on: datetime.date
    name: str
    id_type: str  # an IdType value
    id_number_masked: str
    volunteer_number: str
    period_from: datetime.date | None
    period_to: datetime.date | None
    rows: list[RecordRow]
    total_hours: Decimal
    issuer: str
    person_in_charge: str
    handler: str
    contact: str
    verify_url: str  # absolute: it is printed, and scanned from paper
    seal: bytes | None = field(default=None, repr=False)


def hours_text(hours: Decimal) -> str:
    """12.50 → "12.5", 3.00 → "3", 0.25 → "0.25"."""
    text = format(Decimal(hours).normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def font_available() -> bool:
    """Whether the CJK font the certificates embed is there (Debian: fonts-wqy-microhei)."""
    return Path(settings.CERTIFICATE_FONT_PATH).is_file()


def register_font() -> str:
    """Register the CJK font once per process (again if the setting changed); its reportlab name."""
    global _registered_font_path
    path = str(settings.CERTIFICATE_FONT_PATH)
    with _font_lock:  # a worker with threads renders several certificates at once
        if _registered_font_path != path:
            # subfontIndex: a .ttc holds several faces; the first is the regular one.
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
            _registered_font_path = path
    return FONT_NAME


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", base, fontSize=24, leading=32, alignment=TA_CENTER, spaceAfter=4 * mm
        ),
        "number": ParagraphStyle("number", base, fontSize=10, alignment=TA_RIGHT, textColor=colors.grey),
        "body": ParagraphStyle("text", base, firstLineIndent=22, spaceAfter=3 * mm),
        "cell": ParagraphStyle("cell", base, fontSize=9.5, leading=13),
        "head": ParagraphStyle("head", base, fontSize=9.5, leading=13, alignment=TA_CENTER),
        "issuer": ParagraphStyle("issuer", base, fontSize=10.5, leading=17),
        "note": ParagraphStyle("note", base, fontSize=9, leading=13, textColor=colors.grey),
        "caption": ParagraphStyle("caption", base, fontSize=8, leading=11, alignment=TA_CENTER),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _period_text(document: CertificateDocument) -> str:
    first = document.period_from or (document.rows[0].date if document.rows else None)
    last = document.period_to or (document.rows[-1].date if document.rows else None)
    if first is None or last is None:
        return ""
    if first == last:
        return f"于{chinese_date(first)}"
    return f"于{chinese_date(first)}至{chinese_date(last)}期间"


def _qr_image(url: str, size: float) -> Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2)
    code.add_data(url)
    code.make(fit=True)
    png = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(png, format="PNG")
    png.seek(0)
    return Image(png, width=size, height=size)


def _seal_image(seal: bytes, width: float) -> Image:
    reader = ImageReader(io.BytesIO(seal))
    pixels_wide, pixels_high = reader.getSize()
    height = width * pixels_high / pixels_wide
    return Image(io.BytesIO(seal), width=width, height=min(height, width * 1.5))


def _records_table(document: CertificateDocument, styles, width: float) -> Table:
    head = [_p(text, styles["head"]) for text in ("序号", "服务日期", "服务内容", "时长（小时）", "组织单位")]
    rows = [head]
    for index, row in enumerate(document.rows, start=1):
        rows.append(
            [
                str(index),
                row.date.isoformat(),
                _p(row.content, styles["cell"]),
                hours_text(row.hours),
                _p(row.unit, styles["cell"]),
            ]
        )
    rows.append(["", "", _p("合计", styles["cell"]), hours_text(document.total_hours), ""])
    widths = [0.08, 0.15, 0.37, 0.13, 0.27]
    table = Table(rows, colWidths=[width * share for share in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), styles["cell"].fontName, 9.5),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (0, 0), (1, -1), "CENTER"),
                ("ALIGN", (3, 0), (3, -1), "CENTER"),
                ("SPAN", (0, -1), (1, -1)),
            ]
        )
    )
    return table


def _issuer_block(document: CertificateDocument, styles, width: float):
    lines = [
        f"出具单位：{document.issuer}",
        f"负责人：{document.person_in_charge or '—'}",
        f"经办人：{document.handler or '—'}",
        f"联系方式：{document.contact or '—'}",
        f"证明编号：{document.number}",
        f"出具日期：{chinese_date(document.issued_on)}",
    ]
    details = [_p(line, styles["issuer"]) for line in lines]
    seal = _seal_image(document.seal, 38 * mm) if document.seal else ""
    qr = [_qr_image(document.verify_url, 30 * mm), _p("扫码核验本证明", styles["caption"])]
    table = Table(
        [[details, seal, qr]],
        colWidths=[width - 80 * mm, 45 * mm, 35 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (1, 0), (-1, -1), "CENTER"),
            ]
        ),
    )
    return [Spacer(1, 6 * mm), table]


def render_certificate(document: CertificateDocument) -> bytes:
    """The certificate as PDF bytes: a title, who and what is certified, the records (the table goes on
    over as many pages as it needs, its header repeated), the issuer with its seal and the QR code."""
    font = register_font()
    styles = _styles(font)
    buffer = io.BytesIO()
    page = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"志愿服务证明 {document.number}",
        author=document.issuer,
        subject="志愿服务证明",
    )
    width = page.width
    id_type = ID_TYPE_NAMES.get(document.id_type, document.id_type)
    statement = (
        f"兹证明 {document.name}（{id_type}：{document.id_number_masked}；"
        f"志愿者编号：{document.volunteer_number}）{_period_text(document)}参加志愿服务，"
        f"经{document.issuer}核实，累计志愿服务时长 {hours_text(document.total_hours)} 小时。"
        "志愿服务记录如下："
    )
    story = [
        _p("志愿服务证明", styles["title"]),
        _p(f"证明编号：{document.number}", styles["number"]),
        Spacer(1, 4 * mm),
        _p(statement, styles["body"]),
        _records_table(document, styles, width),
        Spacer(1, 4 * mm),
        # The total, the free-of-charge line and the issuer stay on one page.
        KeepTogether(
            [
                _p(
                    f"累计志愿服务时长：{hours_text(document.total_hours)} 小时"
                    f"（共 {len(document.rows)} 条记录）。",
                    styles["body"],
                ),
                _p(
                    "本证明依据《志愿服务条例》和《志愿服务记录与证明出具办法（试行）》出具，免费出具，"
                    "不收取任何费用。扫描二维码可核验本证明的真伪与状态。",
                    styles["note"],
                ),
                *_issuer_block(document, styles, width),
            ]
        ),
    ]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, f"证明编号 {document.number} · 第 {doc.page} 页")
        canvas.restoreState()

    page.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
