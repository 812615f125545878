"""The purchases template of `verdikart company template`: a file to fill in and assess.

The columns are those :func:`verdikart.indicators.company.read_purchases` reads (material or
hs6, origin, year, quantity_t, and value_kusd or value + currency). A workbook has the empty
purchases sheet first (the sheet `company assess` reads) and an instructions sheet with what
each column takes and an example row; a CSV gets the header row only, with the instructions in
a text file beside it, so the filled-in file reads back unchanged.
"""

from __future__ import annotations

from pathlib import Path

from verdikart.errors import UnknownCodeError

# (column, required, English, Norwegian, example)
TEMPLATE_COLUMNS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "material",
        "material or hs6",
        "The raw material: id or name in English or Norwegian (cobalt, kobolt, manganese).",
        "Råvaren: id eller navn på engelsk eller norsk (cobalt, kobolt, mangan).",
        "cobalt",
    ),
    (
        "hs6",
        "material or hs6",
        "Or the product's 6-digit HS code (HS 1992), e.g. 251020 natural phosphates.",
        "Eller varens 6-sifrede HS-kode (HS 1992), f.eks. 251020 naturlige fosfater.",
        "",
    ),
    (
        "origin",
        "yes",
        "Country the material comes from: ISO code or name (CAN, Canada, Sør-Afrika).",
        "Landet råvaren kommer fra: ISO-kode eller navn (CAN, Canada, Sør-Afrika).",
        "CAN",
    ),
    ("year", "yes", "Year of the purchase (2022).", "Året for innkjøpet (2022).", "2022"),
    (
        "quantity_t",
        "no",
        "Quantity in tonnes (may be empty).",
        "Mengde i tonn (kan stå tom).",
        "100",
    ),
    (
        "value",
        "value_kusd or value + currency",
        "Value in the currency of the next column.",
        "Verdi i valutaen i neste kolonne.",
        "5000000",
    ),
    (
        "currency",
        "with value",
        "USD any year; NOK or EUR in the years of the Norges Bank rate table "
        "(see `verdikart company assess --help`).",
        "USD alle år; NOK eller EUR i årene Norges Banks kurstabell dekker "
        "(se `verdikart company assess --help`).",
        "USD",
    ),
    (
        "value_kusd",
        "value_kusd or value + currency",
        "Or the value in thousand US dollars (then leave value and currency empty).",
        "Eller verdien i tusen amerikanske dollar (la da value og currency stå tomme).",
        "",
    ),
)
HEADER = tuple(c[0] for c in TEMPLATE_COLUMNS)


def _instructions(lang: str) -> list[str]:
    nb = lang == "nb"
    lines = [
        "Innkjøpsmal for verdikart company assess"
        if nb
        else "Purchases template for verdikart company assess",
        "Én rad per innkjøp (råvare, opprinnelsesland, år). Kolonnenavnene i første rad må stå."
        if nb
        else "One row per purchase (material, country of origin, year). Keep the first row's "
        "column names.",
        "Deretter: verdikart company assess FIL" if nb else "Then: verdikart company assess FILE",
        "",
    ]
    for name, required, en, no, example in TEMPLATE_COLUMNS:
        text = no if nb else en
        lines.append(
            f"{name} ({'påkrevd: ' if nb else 'required: '}{required}): {text}"
            + (f" {'Eksempel' if nb else 'Example'}: {example}" if example else "")
        )
    return lines


def write_template(path: Path, lang: str = "en") -> list[Path]:
    """Write the template to `path` (.csv or .xlsx); returns the files written."""
    suffix = path.suffix.lower()
    nb = lang == "nb"
    if suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        ws = book.active
        ws.title = "Innkjøp" if nb else "Purchases"
        ws.append(list(HEADER))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, name in enumerate(HEADER, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(name) + 4)
        ws.freeze_panes = "A2"
        info = book.create_sheet("Veiledning" if nb else "Instructions")
        info.column_dimensions["A"].width = 110
        for line in _instructions(lang):
            info.append([line])
        info.append([])
        info.append(["Eksempelrad" if nb else "Example row"])
        info.append(list(HEADER))
        info.append([c[4] for c in TEMPLATE_COLUMNS])
        book.save(path)
        return [path]
    if suffix == ".csv":
        path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
        guide = path.with_name(path.stem + ("-veiledning" if nb else "-instructions") + ".txt")
        guide.write_text("\n".join(_instructions(lang)) + "\n", encoding="utf-8")
        return [path, guide]
    raise UnknownCodeError(f"the template file must end in .csv or .xlsx, not {path.name!r}")


__all__ = ["HEADER", "TEMPLATE_COLUMNS", "write_template"]
