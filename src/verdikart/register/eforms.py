"""Needs from eForms procurement notices (the UBL-based XML that TED and Doffin publish).

Source of the layout: the EU Publications Office's eForms SDK (github.com/OP-TED/eForms-SDK,
CC BY 4.0; samples in `../shared/data/eforms/`, see its PROVENANCE.txt): the notice type in
`cbc:NoticeTypeCode`, the buyer in `cac:ContractingParty` / `efac:Organizations`, what is bought
in `cac:ProcurementProject` (`cbc:Name`, `cbc:Description`, `cac:MainCommodityClassification/
cbc:ItemClassificationCode` with listName="cpv", `cac:AdditionalCommodityClassification`), per
lot in `cac:ProcurementProjectLot`, place of performance in `cac:RealizedLocation` (NUTS), the
deadline in `cac:TenderSubmissionDeadlinePeriod/cbc:EndDate` (BT-131; for procedures with a call
for requests to participate, `cac:ParticipationRequestReceptionPeriod/cbc:EndDate`, BT-1311); a
need's deadline is its lots' earliest.

Which notices make a need: contract notices (`ContractNotice`: cn-*, subco, ... a buyer asks for
tenders now) and prior information notices (`PriorInformationNotice`: pin-only and the other pin
types, a buyer announces what it plans to buy, which is when suppliers most need to know). A
contract award notice (`ContractAwardNotice`: can-*, veat) reports a contract already awarded:
no supplier can answer it any more, so it is refused with an error, as is any XML that is not an
eForms notice. Parsing is defusedxml's ElementTree (no entity expansion, no external DTDs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from verdikart.errors import SourceError

MAX_BYTES = 10 * 1024 * 1024
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
ROOTS = {
    "ContractNotice": "urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2",
    "PriorInformationNotice": (
        "urn:oasis:names:specification:ubl:schema:xsd:PriorInformationNotice-2"
    ),
    "ContractAwardNotice": "urn:oasis:names:specification:ubl:schema:xsd:ContractAwardNotice-2",
}
NEED_ROOTS = ("ContractNotice", "PriorInformationNotice")
DEADLINES = (
    "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndDate",
    "cac:TenderingProcess/cac:ParticipationRequestReceptionPeriod/cbc:EndDate",
)


@dataclass
class Notice:
    """What a need takes from one notice (the payload of `needs.NeedIn` plus the notice's
    identity)."""

    path: str
    notice_id: str
    notice_type: str
    payload: dict[str, Any] = field(default_factory=dict)


def _text(node: Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _in_language(nodes: list[Element], language: str) -> str:
    for node in nodes:
        if node.get("languageID") == language and _text(node):
            return _text(node)
    return next((_text(n) for n in nodes if _text(n)), "")


def _cpv(project: Element, path: str, where: str) -> tuple[str | None, list[str]]:
    """(main CPV, additional CPVs) of a cac:ProcurementProject, each 8 digits."""

    def code(node: Element, element: str) -> str:
        value = _text(node)
        if node.get("listName", "cpv") != "cpv" or not (len(value) == 8 and value.isdigit()):
            raise SourceError(
                path, f"a CPV code is 8 digits with listName='cpv', got {value!r}", field=element
            )
        return value

    main_el = f"{where}/cac:MainCommodityClassification/cbc:ItemClassificationCode"
    main_nodes = project.findall("cac:MainCommodityClassification/cbc:ItemClassificationCode", NS)
    main = code(main_nodes[0], main_el) if main_nodes else None
    extra_el = f"{where}/cac:AdditionalCommodityClassification/cbc:ItemClassificationCode"
    extra = [
        code(n, extra_el)
        for n in project.findall(
            "cac:AdditionalCommodityClassification/cbc:ItemClassificationCode", NS
        )
    ]
    return main, extra


def _nuts(project: Element) -> list[str]:
    return [
        _text(n)
        for n in project.findall(
            "cac:RealizedLocation/cac:Address/cbc:CountrySubentityCode[@listName='nuts']", NS
        )
        if _text(n)
    ]


def _date(node: Element | None, path: str, element: str) -> date | None:
    value = _text(node)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])  # '2020-02-04+02:00', '2020-02-03Z'
    except ValueError:
        raise SourceError(path, f"not a date: {value!r}", field=element) from None


def read_notice(path: Path) -> Notice:
    """One notice's need, or SourceError naming the file and the element at fault."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    if size > MAX_BYTES:
        raise SourceError(path, f"{size:,} bytes; a notice may have at most {MAX_BYTES:,}")
    return parse_notice(path.read_bytes(), str(path))


def parse_notice(data: bytes, name: str) -> Notice:
    """Parse the XML bytes of one notice (`name` is used in error messages)."""
    if len(data) > MAX_BYTES:
        raise SourceError(name, f"{len(data):,} bytes; a notice may have at most {MAX_BYTES:,}")
    try:
        root = fromstring(data)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise SourceError(name, f"not well-formed XML: {exc}", line=line) from None
    except DefusedXmlException as exc:
        raise SourceError(name, f"refused XML construct ({type(exc).__name__})") from None
    tag = root.tag.split("}", 1)
    local, namespace = (tag[1], tag[0][1:]) if len(tag) == 2 else (root.tag, "")
    if ROOTS.get(local) != namespace:
        raise SourceError(
            name,
            f"not an eForms notice: the root element is {local!r} (namespace {namespace!r}); "
            "expected ContractNotice, PriorInformationNotice or ContractAwardNotice",
            field=local,
        )
    customization = _text(root.find("cbc:CustomizationID", NS))
    if not customization.startswith("eforms-sdk-"):
        raise SourceError(
            name,
            f"not an eForms notice: CustomizationID is {customization or 'missing'!r}, "
            "expected eforms-sdk-<version>",
            field=f"{local}/cbc:CustomizationID",
        )
    notice_type = _text(root.find("cbc:NoticeTypeCode", NS))
    if not notice_type:
        raise SourceError(name, "missing or empty", field=f"{local}/cbc:NoticeTypeCode")
    if local not in NEED_ROOTS:
        raise SourceError(
            name,
            f"a contract award notice ({notice_type}) reports a contract already awarded, "
            "not a need; import contract notices (cn-*) or prior information notices (pin-*)",
            field=f"{local}/cbc:NoticeTypeCode",
        )
    notice_id = _text(root.find("cbc:ID[@schemeName='notice-id']", NS))
    if not notice_id:
        raise SourceError(
            name, "missing or empty", field=f"{local}/cbc:ID[@schemeName='notice-id']"
        )
    language = _text(root.find("cbc:NoticeLanguageCode", NS))
    project = root.find("cac:ProcurementProject", NS)
    where = f"{local}/cac:ProcurementProject"
    if project is None:
        raise SourceError(name, "missing", field=where)
    title = _in_language(project.findall("cbc:Name", NS), language)
    if not title:
        raise SourceError(name, "missing or empty", field=f"{where}/cbc:Name")
    main, extra = _cpv(project, name, where)
    if main is None:
        raise SourceError(
            name,
            "missing: the notice's main CPV code",
            field=f"{where}/cac:MainCommodityClassification/cbc:ItemClassificationCode",
        )
    nuts = _nuts(project)
    lots: list[dict[str, Any]] = []
    codes: list[str] = [main, *extra]
    deadlines: list[date] = []
    for i, lot in enumerate(root.findall("cac:ProcurementProjectLot", NS), start=1):
        lot_where = f"{local}/cac:ProcurementProjectLot[{i}]"
        lot_id = _text(lot.find("cbc:ID", NS))
        if not lot_id:
            raise SourceError(name, "missing or empty", field=f"{lot_where}/cbc:ID")
        lot_project = lot.find("cac:ProcurementProject", NS)
        lot_cpv: list[str] = []
        lot_nuts: list[str] = []
        lot_title = ""
        if lot_project is not None:
            lot_main, lot_extra = _cpv(lot_project, name, f"{lot_where}/cac:ProcurementProject")
            lot_cpv = [c for c in [lot_main, *lot_extra] if c]
            lot_nuts = _nuts(lot_project)
            lot_title = _in_language(lot_project.findall("cbc:Name", NS), language)
        deadline = None
        for deadline_el in DEADLINES:  # tenders (BT-131), else requests to participate (BT-1311)
            deadline = _date(lot.find(deadline_el, NS), name, f"{lot_where}/{deadline_el}")
            if deadline:
                break
        if deadline:
            deadlines.append(deadline)
        codes += lot_cpv
        nuts += lot_nuts
        lots.append(
            {
                "id": lot_id,
                "title": lot_title,
                "cpv": list(dict.fromkeys(lot_cpv)),
                "nuts": list(dict.fromkeys(lot_nuts)),
                "deadline": deadline,
            }
        )
    payload = {
        "title": title[:1000],
        "description": _in_language(project.findall("cbc:Description", NS), language)[:20000],
        "buyer_name": _buyer(root, language),
        "codes": [{"scheme": "cpv", "code": main, "main": True}]
        + [{"scheme": "cpv", "code": c} for c in dict.fromkeys(codes) if c != main],
        "lots": lots,
        "nuts": list(dict.fromkeys(nuts)),
        "deadline": min(deadlines) if deadlines else None,
    }
    return Notice(path=name, notice_id=notice_id, notice_type=notice_type, payload=payload)


def _buyer(root: Element, language: str) -> str | None:
    """The first buyer's name, looked up by its organisation id in efac:Organizations."""
    ref = _text(root.find("cac:ContractingParty/cac:Party/cac:PartyIdentification/cbc:ID", NS))
    if not ref:
        return None
    for company in root.iter(f"{{{NS['efac']}}}Company"):
        if _text(company.find("cac:PartyIdentification/cbc:ID", NS)) == ref:
            name = _in_language(company.findall("cac:PartyName/cbc:Name", NS), language)
            return name[:500] or None
    return None
