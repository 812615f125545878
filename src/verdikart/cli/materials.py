"""CLI commands: `verdikart materials ...` and `verdikart countries ...` (printing only).

Everything is read from `verdikart.reference` (materials, lists, countries and groups).
"""

from __future__ import annotations

import re
from typing import Any

import click

from verdikart.cli.common import emit, format_option


def _plain(text: str) -> str:
    """A rationale without the internal reference to our source notes ('(seed 003, l. 235)')."""
    return re.sub(r"\s*\((?:seed|Seed)[^)]*\)", "", text).strip()


@click.group("materials")
def materials() -> None:
    """Raw materials, their HS codes by value-chain stage, and the critical-material lists."""


@materials.command("list")
@click.option(
    "--list",
    "list_id",
    default=None,
    metavar="ID",
    help="Only the entries of one list (eu2011 ... eu2023, crma-critical, crma-strategic, "
    "nato2024, usgs2022, doe2023, norway).",
)
@format_option()
def materials_list(list_id: str | None, fmt: str) -> None:
    """All materials, or exactly the entries of one list."""
    from verdikart.reference.materials import get_material, list_info, list_members
    from verdikart.reference.materials import materials_table as table

    if list_id is None:
        rows = table().to_pylist()
        for material_row in rows:
            material_row["lists"] = ",".join(material_row["lists"])
            material_row["members"] = ",".join(material_row["members"])
        emit(rows, fmt, title="Materials")
        return
    info = list_info(list_id)
    out: list[dict[str, Any]] = []
    for entry in list_members(info.id):
        material = get_material(entry.material)
        row: dict[str, Any] = {
            "list_id": entry.list_id,
            "ref": entry.ref,
            "name_official": entry.name_official,
            "material": entry.material,
            "name_en": material.name_en,
            "name_no": material.name_no,
            "group": material.group,
        }
        if entry.quote:  # the Norwegian additions: why, in the words of the source
            row.update(rationale=_plain(entry.rationale or ""), quote=entry.quote)
        out.append(row)
    emit(out, fmt, title=f"{info.title} ({info.count})")


@materials.command("show")
@click.argument("material")
@format_option()
def materials_show(material: str, fmt: str) -> None:
    """Everything about one material (id, English or Norwegian name)."""
    from verdikart.reference.materials import get_material

    data = get_material(material).as_dict()
    if fmt == "json":
        emit(data, fmt)
        return
    rows = [
        {
            "stage": stage["stage"],
            "what": product["what"],
            "shared": product["shared"],
            "HS92": product["HS92"],
            "HS2017": product["HS2017"],
            "HS2022": product["HS2022"],
        }
        for stage in data["stages"]
        for product in stage["products"]
    ]
    if fmt == "table":
        on = ", ".join(data["on_lists"]) or "none"
        conversions = (
            "; ".join(f"{c['from']} -> {c['to']} x {c['factor']}" for c in data["conversions"])
            or "none"
        )
        head = [
            f"{data['id']}: {data['name_en']} / {data['name_no']} ({data['group']})",
            f"lists: {on}",
            f"EoL-RIR: {data['eol_rir'] if data['eol_rir'] is not None else 'unknown'}",
            f"conversions: {conversions}",
        ]
        if data["members"]:
            head.append(f"members: {', '.join(data['members'])}")
        if data["hs_proxy"]:
            head.append(f"HS proxy: {data['hs_proxy']}")
        for entry in data["norwegian_rationale"]:
            head.append(f"Norway: {_plain(entry['rationale'] or '')} \u201c{entry['quote']}\u201d")
        if data["note"]:
            head.append(f"note: {data['note']}")
        from verdikart.cli.output import wrap

        click.echo(wrap("\n".join(head)))
    if rows:
        emit(rows, fmt, title="Value-chain stages and HS6 codes")


@materials.command("lists")
@format_option()
def materials_lists(fmt: str) -> None:
    """The official lists with their counts and sources."""
    from verdikart.cli.output import tr
    from verdikart.reference.materials import lists

    emit(
        [info.as_dict() for info in lists()],
        fmt,
        title=tr("Critical raw material lists", "Lister over kritiske råvarer"),
    )


@click.group("countries")
def countries() -> None:
    """Countries (ISO, BACI, SSB codes; English and Norwegian names) and country groups."""


@countries.command("list")
@click.option("--group", "group_id", default=None, help="Only the members of one group.")
@click.option("--year", type=int, default=None, help="Group membership in this year.")
@format_option()
def countries_list(group_id: str | None, year: int | None, fmt: str) -> None:
    """All countries, or the members of a group (EU27, EU, EEA, NATO, NORDIC, MSP, G7, ...)."""
    from verdikart.reference.countries import country_table, resolve_country

    rows = country_table().to_pylist()
    title = "Countries"
    if group_id is not None:
        group = resolve_country(group_id)
        members = set(group.members(year))
        rows = [r for r in rows if r["iso3"] in members]
        when = f" in {year}" if year is not None else " (current)"
        title = f"{group.name_en}{when}: {len(rows)} members"
    emit(rows, fmt, title=title)


@countries.command("groups")
@click.option("--year", type=int, default=None, help="Count members in this year.")
@format_option()
def countries_groups(year: int | None, fmt: str) -> None:
    """The country groups (built-in and user-defined)."""
    from verdikart.reference.countries import groups

    rows = [
        {
            "group_id": g.id,
            "name_en": g.name_en,
            "name_no": g.name_no,
            "members": len(g.members(year)),
            "source": g.source,
        }
        for g in groups()
    ]
    emit(rows, fmt, title="Country groups")


@countries.command("show")
@click.argument("country")
@click.option("--year", type=int, default=None, help="Group membership in this year.")
@format_option()
def countries_show(country: str, year: int | None, fmt: str) -> None:
    """One country or group (any code or name: NO, NOR, 578, 579, Norge, EU27 ...)."""
    from verdikart.reference.countries import resolve_country

    ref = resolve_country(country)
    data: dict[str, Any] = {
        "kind": ref.kind,
        "id": ref.id,
        "name_en": ref.name_en,
        "name_no": ref.name_no,
    }
    if ref.kind == "country":
        data.update(
            iso2=ref.iso2,
            iso_numeric=ref.iso_numeric,
            baci_code=ref.baci_code,
            ssb_code=ref.ssb_code,
        )
    else:
        data.update(year=year, members=ref.members(year), source=ref.source)
    emit(data, fmt)


@countries.command("add-group")
@click.argument("group_id")
@click.argument("members", nargs=-1, required=True)
@click.option("--name", "name_en", default=None, help="English name of the group.")
@click.option("--name-no", "name_no", default=None, help="Norwegian name of the group.")
@click.option("--replace", is_flag=True, help="Overwrite an existing user group.")
@format_option()
def countries_add_group(
    group_id: str,
    members: tuple[str, ...],
    name_en: str | None,
    name_no: str | None,
    replace: bool,
    fmt: str,
) -> None:
    """Define a user group (stored in the data dir's groups.json); members: any code/name/group."""
    from verdikart.reference.countries import add_group

    ref = add_group(group_id, members, name_en=name_en, name_no=name_no, replace=replace)
    emit({"group_id": ref.id, "name_en": ref.name_en, "members": ref.members()}, fmt)


@countries.command("remove-group")
@click.argument("group_id")
def countries_remove_group(group_id: str) -> None:
    """Delete a user-defined group."""
    from verdikart.reference.countries import remove_group

    remove_group(group_id)
    click.echo(f"removed user group {group_id}")


COMMANDS: list[click.Command] = [materials, countries]
