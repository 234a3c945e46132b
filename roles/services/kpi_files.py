"""Reading a shop's export into rows, bounded (issue 15) and as the shop's back-ends write them (issue 18).

.xlsx (openpyxl, read-only: the sheet streams), .xls (BIFF, 生意参谋's download: xlrd), and text: CSV or tab-separated,
in UTF-8 with or without a BOM, GBK (GB18030) or UTF-16 (Excel's "Unicode text"). The kind is told by the file's
first bytes, not only its name: back-ends name a tab-separated text ".xls" as often as not.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_IMPORT_BYTES = 5 * 1024 * 1024
# The rows below the header and the unpacked size of a workbook are settings (OPSTEAM_IMPORT_MAX_ROWS,
# OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES). Columns past these are not read: an export has a few dozen.
IMPORT_MAX_COLUMNS = 256
# A zip entry this large that unpacks to more than ZIP_MAX_RATIO times its packed size is a bomb, not an export:
# a sheet of figures packs about 5-20 to 1, and a small entry cannot do harm whatever its ratio.
ZIP_RATIO_FROM = 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_MAX_ENTRIES = 1000
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a BIFF .xls is an OLE2 compound document


def rows_read(content: bytes, filename: str) -> Iterator:
    """The file's rows one by one, each at most IMPORT_MAX_COLUMNS cells; a refusal says what to do instead."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than 5 MB: export fewer days at a time."))
    name = filename.lower()
    if name.endswith(".xlsx") or (name.endswith((".xls", ".csv", ".txt", ".tsv")) and content.startswith(ZIP_MAGIC)):
        return _rows_from_xlsx(content)
    if name.endswith((".xls", ".csv", ".txt", ".tsv")) and content.startswith(OLE_MAGIC):
        return _rows_from_xls(content)
    if name.endswith((".csv", ".txt", ".tsv", ".xls")):
        return _rows_from_csv(content)
    raise ValidationError(_("Upload an .xlsx or .csv file, or the .xls the shop's back-end exports."))


def _text_decode(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif len(content) >= 4 and content[1:4:2] == b"\x00\x00" and content[0:4:2] != b"\x00\x00":
        encodings = ("utf-16-le",)  # Excel's "Unicode text" without its BOM: every ASCII character followed by a zero
    else:
        # Shop back-ends export UTF-8 (with or without a BOM) or GBK; GB18030 reads GBK and more.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is neither UTF-8, GBK nor UTF-16 text: save it again as CSV (UTF-8) or as .xlsx."))


def _rows_from_csv(content: bytes) -> Iterator[list]:
    """The rows one by one; a cell past csv's field limit (131,072 characters) or a broken line is a clear error."""
    text = _text_decode(content)
    if text.lstrip()[:200].lower().startswith(("<html", "<!doctype", "<table")):
        raise ValidationError(_("This file is a web page, not a table of figures: open it in Excel and save it as .xlsx."))
    head = text[:4096]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ValidationError(
                    _("Row %(row)d has a cell longer than %(max)s characters: this is not an export of daily figures.")
                    % {"row": reader.line_num, "max": f"{csv.field_size_limit():,}"}
                ) from None
            raise ValidationError(
                _("Row %(row)d cannot be read as CSV: save the file again as CSV (UTF-8) or as .xlsx.") % {"row": reader.line_num}
            ) from None
        yield row[:IMPORT_MAX_COLUMNS]


def _xlsx_unreadable() -> ValidationError:
    return ValidationError(_("This is not an Excel workbook (.xlsx) that can be read: open it in Excel and save it again."))


def _zip_check(content: bytes) -> None:
    """Refuse a workbook that would unpack to far more than an export of daily figures, before anything reads it.

    An .xlsx is a zip of XML parts. The sizes checked are the ones the zip declares, and Python's zipfile never
    unpacks more than an entry declares, so openpyxl cannot be made to read more than this allows.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _xlsx_unreadable() from None
    limit = settings.OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES
    if len(entries) > ZIP_MAX_ENTRIES or sum(entry.file_size for entry in entries) > limit:
        raise ValidationError(
            _("This workbook unpacks to more than %(max)d MB: export fewer days at a time, or save it as CSV.")
            % {"max": limit // (1024 * 1024)}
        )
    if any(entry.file_size > ZIP_RATIO_FROM and entry.file_size > ZIP_MAX_RATIO * max(entry.compress_size, 1) for entry in entries):
        raise ValidationError(
            _("This workbook is packed far tighter than an export (over %(ratio)d to 1): open it in Excel and save it again.")
            % {"ratio": ZIP_MAX_RATIO}
        )


def _rows_from_xlsx(content: bytes) -> Iterator[tuple]:
    """The first worksheet's rows one by one (read-only mode streams the sheet; nothing holds every row at once)."""
    _zip_check(content)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a file that is not a workbook
        raise _xlsx_unreadable() from None
    try:
        if not workbook.worksheets:
            raise ValidationError(
                _("This workbook has no worksheet: open it in Excel, put the figures on the first sheet and save it again.")
            )
        # max_col: a sheet may declare 16,384 columns, and read-only mode pads every row to the declared width.
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=IMPORT_MAX_COLUMNS)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception:  # a sheet that breaks off, or XML openpyxl cannot read, is found only as it is read
                raise _xlsx_unreadable() from None
            yield row
    finally:
        workbook.close()


def _rows_from_xls(content: bytes) -> Iterator[list]:
    """The first sheet of a BIFF workbook (Excel 97-2003, 生意参谋's .xls download), read by xlrd.

    xlrd reads a sheet whole: the 5 MB file limit bounds it (BIFF is not compressed, so a sheet holds no more cells
    than its bytes allow), and the row limit is checked on the sheet's row count before any row is read.
    """
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=content, on_demand=True)
    except Exception:  # xlrd raises XLRDError, CompDocError, struct errors ... for a file that is not a workbook
        raise ValidationError(
            _("This is not an Excel 97-2003 workbook (.xls) that can be read: open it in Excel and save it as .xlsx.")
        ) from None
    try:
        if book.nsheets == 0:
            raise ValidationError(
                _("This workbook has no worksheet: open it in Excel, put the figures on the first sheet and save it again.")
            )
        try:
            sheet = book.sheet_by_index(0)
        except Exception:
            raise ValidationError(
                _("This is not an Excel 97-2003 workbook (.xls) that can be read: open it in Excel and save it as .xlsx.")
            ) from None
        max_rows = settings.OPSTEAM_IMPORT_MAX_ROWS + 20  # the title and note rows above the header
        if sheet.nrows > max_rows:
            raise ValidationError(
                _("The file has more than %(max)s rows below its header: import at most %(max)s days at a time. Nothing was imported.")
                % {"max": f"{settings.OPSTEAM_IMPORT_MAX_ROWS:,}"}
            )
        for index in range(sheet.nrows):
            cells = sheet.row(index)[:IMPORT_MAX_COLUMNS]
            yield [_xls_value(cell, book.datemode) for cell in cells]
    finally:
        book.release_resources()


def _xls_value(cell, datemode: int):
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(cell.value)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return str(bool(cell.value))
    return cell.value


def cell_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    return str(cell).strip().lstrip("\ufeff").strip()
