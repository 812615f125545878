"""The register's use cases on the exchange's database: importing Enhetsregisteret files,
looking units up, capability profiles and who may see their details.

Visibility is decided here and only here (`_profile_out`): everyone signed in sees a profile's
public summary and codes; `details` go to the owning organisation and to organisations the
owner shares with (an unrevoked `ProfileShare`), and every such read by another organisation is
audited in the exchange's audit log. Searches return public summaries only and never look into
the details. Each method is one transaction (the exchange's `transaction`), so a change and its
audit event commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from verdikart.errors import (
    DataValidationError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
)
from verdikart.exchange.db import transaction
from verdikart.exchange.models import Organisation
from verdikart.exchange.repository import audit
from verdikart.register.eforms import Notice, parse_notice, read_notice
from verdikart.register.importer import (
    ImportResult,
    UnitFilter,
    import_units,
    normalise_nace,
    orgnr_problem,
)
from verdikart.register.matching import match_need, match_profile
from verdikart.register.models import (
    CapabilityProfile,
    DetailRequest,
    Need,
    NeedCertification,
    NeedCode,
    ProfileCode,
    ProfileShare,
    RegisterNace,
    RegisterUnit,
)
from verdikart.register.needs import NeedIn, code_row, index_details, parse_need
from verdikart.register.schemas import chain_codes, cpv_prefix, normalise_code, parse_profile

if TYPE_CHECKING:
    from verdikart.exchange.auth import Principal
    from verdikart.exchange.service import ExchangeService

MAX_RESULTS = 500


class RegisterService:
    """The supplier register over one exchange service (its engine, users and audit log)."""

    def __init__(self, exchange: ExchangeService) -> None:
        self.exchange = exchange

    def _tx(self, *, write: bool = True) -> AbstractContextManager[Session]:
        return transaction(self.exchange.sessions, write=write)

    # --- Enhetsregisteret --------------------------------------------------------------------

    def import_file(
        self,
        path: Path,
        *,
        unit_filter: UnitFilter | None = None,
        nace_standard: str = "SN2025",
        kind: str = "auto",
    ) -> dict[str, Any]:
        """Import one Enhetsregisteret file, all or nothing (see `importer.import_units`)."""
        with self._tx() as session:
            result: ImportResult = import_units(
                session, path, unit_filter=unit_filter, nace_standard=nace_standard, kind=kind
            )
        return result.as_dict()

    def unit(self, organisation_number: str) -> dict[str, Any]:
        """One unit as imported (register data are public), with its sites when it has any."""
        if problem := orgnr_problem(organisation_number):
            raise SourceError("organisation number", problem, field="organisation_number")
        with self._tx(write=False) as session:
            unit = session.get(RegisterUnit, organisation_number)
            if unit is None:
                raise NotFoundError(f"no unit {organisation_number} in the register")
            out = _unit_out(session, [unit])[0]
            sites = session.scalars(
                select(RegisterUnit)
                .where(RegisterUnit.parent_number == organisation_number)
                .order_by(RegisterUnit.organisation_number)
            ).all()
            out["sites"] = _unit_out(session, list(sites))
            return out

    def search_units(
        self,
        *,
        nace: str | None = None,
        county: str | None = None,
        municipality: str | None = None,
        name: str | None = None,
        include_deleted: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Units by NACE prefix (either standard), county, municipality or a part of the name
        (any case); by number."""
        query = select(RegisterUnit)
        if name and name.strip():
            query = query.where(
                func.lower(RegisterUnit.name).contains(name.strip().lower(), autoescape=True)
            )
        if nace:
            prefix = normalise_nace(nace)
            query = query.where(
                RegisterUnit.organisation_number.in_(
                    select(RegisterNace.organisation_number).where(
                        RegisterNace.code.startswith(prefix, autoescape=True)
                    )
                )
            )
        if county:
            query = query.where(RegisterUnit.municipality.startswith(county, autoescape=True))
        if municipality:
            query = query.where(RegisterUnit.municipality == municipality)
        if not include_deleted:
            query = query.where(RegisterUnit.deleted.is_(False))
        query = query.order_by(RegisterUnit.organisation_number).limit(_limit(limit))
        with self._tx(write=False) as session:
            return _unit_out(session, list(session.scalars(query)))

    # --- capability profiles -----------------------------------------------------------------

    def put_profile(self, principal: Principal, payload: Any) -> dict[str, Any]:
        """Create or replace the caller's organisation's profile (one per organisation)."""
        profile_in, codes = parse_profile(payload)
        with self._tx() as session:
            profile = session.scalars(
                select(CapabilityProfile).where(
                    CapabilityProfile.organisation_id == principal.org_id
                )
            ).first()
            now = datetime.now(UTC)
            if profile is None:
                profile = CapabilityProfile(organisation_id=principal.org_id, created_at=now)
                session.add(profile)
            profile.organisation_number = profile_in.organisation_number
            profile.summary = profile_in.summary
            profile.details = profile_in.details.model_dump(mode="json")
            profile.updated_at = now
            session.flush()
            session.execute(delete(ProfileCode).where(ProfileCode.profile_id == profile.id))
            session.add_all(ProfileCode(profile_id=profile.id, scheme=s, code=c) for s, c in codes)
            index_details(session, profile.id, profile_in.details)
            session.flush()
            audit(
                session,
                principal,
                "profile.update",
                "profile",
                profile.id,
                owner_org_id=principal.org_id,
            )
            return self._profile_out(session, principal, profile)

    def get_profile(self, principal: Principal, profile_id: str) -> dict[str, Any]:
        with self._tx() as session:
            profile = session.get(CapabilityProfile, profile_id)
            if profile is None:
                raise NotFoundError(f"no profile {profile_id!r}")
            return self._profile_out(session, principal, profile)

    def my_profile(self, principal: Principal) -> dict[str, Any]:
        with self._tx(write=False) as session:
            profile = session.scalars(
                select(CapabilityProfile).where(
                    CapabilityProfile.organisation_id == principal.org_id
                )
            ).first()
            if profile is None:
                raise NotFoundError("your organisation has no capability profile yet")
            return self._profile_out(session, principal, profile)

    def search_profiles(
        self,
        *,
        cpv: str | None = None,
        nace: str | None = None,
        hs: str | None = None,
        material: str | None = None,
        stage: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Profiles offering a code (prefix match down the CPV, NACE and HS hierarchies; a
        material also matches its value-chain stages). Public summaries only."""
        conditions = []
        if cpv:
            conditions.append(_code_like("cpv", cpv_prefix(_checked("cpv", cpv))))
        if nace:
            conditions.append(_code_like("nace", _checked("nace", nace)))
        if hs:
            conditions.append(_code_like("hs", _checked("hs", hs)))
        if stage:
            code = _checked("stage", stage)
            conditions.append((ProfileCode.scheme == "stage") & (ProfileCode.code == code))
        if material:
            code = _checked("material", material)
            _materials, stages = chain_codes()
            of_material = sorted(s for s, m in stages.items() if m == code)
            conditions.append(
                ((ProfileCode.scheme == "material") & (ProfileCode.code == code))
                | ((ProfileCode.scheme == "stage") & ProfileCode.code.in_(of_material))
            )
        if not conditions:
            raise SourceError(
                "search", "give at least one of --cpv, --nace, --hs, --material, --stage"
            )
        ids = select(ProfileCode.profile_id).where(or_(*conditions))
        query = (
            select(CapabilityProfile, Organisation.name)
            .join(Organisation, Organisation.id == CapabilityProfile.organisation_id)
            .where(CapabilityProfile.id.in_(ids))
            .order_by(Organisation.name, CapabilityProfile.id)
            .limit(_limit(limit))
        )
        with self._tx(write=False) as session:
            rows = session.execute(query).all()
            codes = _codes_of(session, [p.id for p, _name in rows])
            return [_public(p, name, codes.get(p.id, [])) for p, name in rows]

    def share(self, principal: Principal, profile_id: str, buyer: str) -> dict[str, Any]:
        """The owner shows its profile's details to organisation `buyer` (its name)."""
        with self._tx() as session:
            profile = self._owned(session, principal, profile_id)
            buyer_org = session.scalars(
                select(Organisation).where(Organisation.name == buyer.strip())
            ).first()
            if buyer_org is None:
                raise NotFoundError(f"no organisation named {buyer!r}")
            if buyer_org.id == principal.org_id:
                raise SourceError("buyer", "your own organisation always sees your details")
            share = session.scalars(
                select(ProfileShare).where(
                    ProfileShare.profile_id == profile.id,
                    ProfileShare.buyer_org_id == buyer_org.id,
                )
            ).first()
            if share is None:
                share = ProfileShare(
                    profile_id=profile.id, buyer_org_id=buyer_org.id, granted_by=principal.user_id
                )
                session.add(share)
            share.revoked_at = None
            share.granted_at = datetime.now(UTC)
            share.granted_by = principal.user_id
            session.flush()
            audit(
                session,
                principal,
                "profile.share",
                "profile",
                profile.id,
                owner_org_id=principal.org_id,
                buyer=buyer_org.name,
            )
            return {"profile_id": profile.id, "buyer": buyer_org.name, "shared": True}

    def unshare(self, principal: Principal, profile_id: str, buyer: str) -> dict[str, Any]:
        with self._tx() as session:
            profile = self._owned(session, principal, profile_id)
            share = session.scalars(
                select(ProfileShare)
                .join(Organisation, Organisation.id == ProfileShare.buyer_org_id)
                .where(ProfileShare.profile_id == profile.id, Organisation.name == buyer.strip())
            ).first()
            if share is None or share.revoked_at is not None:
                raise NotFoundError(f"the profile is not shared with {buyer!r}")
            share.revoked_at = datetime.now(UTC)
            audit(
                session,
                principal,
                "profile.unshare",
                "profile",
                profile.id,
                owner_org_id=principal.org_id,
                buyer=buyer.strip(),
            )
            return {"profile_id": profile.id, "buyer": buyer.strip(), "shared": False}

    def shares(self, principal: Principal, profile_id: str) -> list[dict[str, Any]]:
        with self._tx(write=False) as session:
            profile = self._owned(session, principal, profile_id)
            rows = session.execute(
                select(Organisation.name, ProfileShare.granted_at)
                .join(Organisation, Organisation.id == ProfileShare.buyer_org_id)
                .where(ProfileShare.profile_id == profile.id, ProfileShare.revoked_at.is_(None))
                .order_by(Organisation.name)
            ).all()
            return [{"buyer": n, "granted_at": g.isoformat()} for n, g in rows]

    # --- needs -------------------------------------------------------------------------------

    def create_need(self, principal: Principal, payload: Any) -> dict[str, Any]:
        """A need entered by hand; the caller's organisation is the buyer."""
        need_in, _codes = parse_need(payload)
        with self._tx() as session:
            need = _store_need(session, principal, need_in, source="manual")
            audit(
                session, principal, "need.create", "need", need.id, owner_org_id=need.owner_org_id
            )
            return _need_out(session, need)

    def import_eforms(
        self, principal: Principal | None, notices: Sequence[Path | tuple[str, bytes]]
    ) -> list[dict[str, Any]]:
        """Needs from eForms notices (files, or (name, bytes) uploads), all or nothing: every
        notice is read and checked before anything is written. A notice imported again by the
        same buyer replaces its need (same id)."""
        read: list[tuple[Notice, NeedIn]] = []
        for item in notices:
            notice = read_notice(item) if isinstance(item, Path) else parse_notice(item[1], item[0])
            need_in, _codes = parse_need(notice.payload, source=notice.path)
            read.append((notice, need_in))
        out = []
        with self._tx() as session:
            for notice, need_in in read:
                owner = principal.org_id if principal else None
                existing = session.scalars(
                    select(Need).where(
                        Need.source == "eforms",
                        Need.notice_id == notice.notice_id,
                        Need.owner_org_id.is_(None)
                        if owner is None
                        else Need.owner_org_id == owner,
                    )
                ).first()
                need = _store_need(
                    session, principal, need_in, source="eforms", notice=notice, existing=existing
                )
                audit(
                    session,
                    principal,
                    "need.import",
                    "need",
                    need.id,
                    owner_org_id=owner,
                    notice_id=notice.notice_id,
                )
                out.append(
                    {
                        "need_id": need.id,
                        "notice_id": notice.notice_id,
                        "notice_type": notice.notice_type,
                        "title": need.title,
                        "file": Path(notice.path).name,
                        "status": "updated" if existing else "created",
                    }
                )
        return out

    def set_requirements(self, principal: Principal, need_id: str, payload: Any) -> dict[str, Any]:
        """The buyer sets what a supplier must hold (eForms notices state it in prose only):
        required certifications, clearance level, maximum lead time, county."""
        if not isinstance(payload, dict):
            raise DataValidationError(["body: an object"], source="requirements")
        allowed = {"required_certifications", "clearance_level", "max_lead_time_weeks", "region"}
        if unknown := sorted(set(payload) - allowed):
            raise DataValidationError(
                [f"{k}: not a requirement ({', '.join(sorted(allowed))})" for k in unknown],
                source="requirements",
            )
        with self._tx() as session:
            need = self._need(session, need_id)
            if need.owner_org_id != principal.org_id:
                raise PermissionDeniedError("only the need's buyer can change its requirements")
            current = {
                "title": need.title,
                "codes": [{"scheme": "cpv", "code": "00000000"}],  # not changed here
                "required_certifications": need.required_certifications,
                "clearance_level": need.clearance_level,
                "max_lead_time_weeks": need.max_lead_time_weeks,
                "region": need.region,
            }
            checked, _codes = parse_need({**current, **payload}, source="requirements")
            need.required_certifications = list(checked.required_certifications)
            need.clearance_level = checked.clearance_level
            need.max_lead_time_weeks = checked.max_lead_time_weeks
            need.region = checked.region
            session.execute(delete(NeedCertification).where(NeedCertification.need_id == need.id))
            session.add_all(
                NeedCertification(need_id=need.id, standard=s)
                for s in checked.required_certifications
            )
            session.flush()
            audit(session, principal, "need.requirements", "need", need.id,
                  owner_org_id=need.owner_org_id)  # fmt: skip
            return _need_out(session, need)

    def list_needs(
        self, principal: Principal | None = None, *, mine: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        query = select(Need).order_by(Need.created_at.desc(), Need.id).limit(_limit(limit))
        if mine:
            if principal is None:
                raise SourceError("--mine", "needs a token (whose needs?)")
            query = query.where(Need.owner_org_id == principal.org_id)
        with self._tx(write=False) as session:
            return [_need_out(session, n) for n in session.scalars(query)]

    def is_buyer(self, principal: Principal, need_id: str) -> bool:
        """Whether the caller's organisation owns the need (NotFoundError for an unknown id)."""
        with self._tx(write=False) as session:
            return self._need(session, need_id).owner_org_id == principal.org_id

    def get_need(self, need_id: str) -> dict[str, Any]:
        with self._tx(write=False) as session:
            return _need_out(session, self._need(session, need_id))

    def _need(self, session: Session, need_id: str) -> Need:
        need = session.get(Need, need_id)
        if need is None:
            raise NotFoundError(f"no need {need_id!r}")
        return need

    def match_need(
        self, viewer: Principal | None, need_id: str, *, limit: int = 50
    ) -> dict[str, Any]:
        """Suppliers ranked for a need as `viewer` may see them (see `register.matching`):
        public summaries, plus details-based components for profiles shared with the viewer
        (each such read audited for the supplier, as `profile.read-details`)."""
        with self._tx(write=False) as session:  # ranking holds no write lock
            need = self._need(session, need_id)
            rows, total = match_need(
                session,
                need,
                viewer.org_id if viewer else None,
                today=datetime.now(UTC).date(),
                limit=_limit(limit),
            )
            out = {"need": _need_out(session, need), "candidates": total, "matches": rows}
        if viewer is None:
            return out
        with self._tx() as session:  # then the audit events, before the answer goes out
            # the viewer's own record: a need's buyer is not told who looked at its matches
            audit(session, viewer, "need.match", "need", need_id, shown=len(rows))
            owners = dict(
                session.execute(
                    select(CapabilityProfile.id, CapabilityProfile.organisation_id).where(
                        CapabilityProfile.id.in_(
                            [r["profile_id"] for r in rows if r["access"] == "details"]
                        )
                    )
                ).all()
            )
            for pid, org in owners.items():
                if org != viewer.org_id:
                    audit(session, viewer, "profile.read-details", "profile", pid,
                          owner_org_id=org, via="match", need_id=need_id)  # fmt: skip
        return out

    def match_my_profile(self, principal: Principal, *, limit: int = 50) -> dict[str, Any]:
        """Needs ranked for the caller's organisation's profile."""
        with self._tx(write=False) as session:
            profile = session.scalars(
                select(CapabilityProfile).where(
                    CapabilityProfile.organisation_id == principal.org_id
                )
            ).first()
            if profile is None:
                raise NotFoundError("your organisation has no capability profile yet")
            rows, total = match_profile(
                session, profile, today=datetime.now(UTC).date(), limit=_limit(limit)
            )
            return {"profile_id": profile.id, "candidates": total, "matches": rows}

    def request_details(
        self, principal: Principal, profile_id: str, message: str = ""
    ) -> dict[str, Any]:
        """A buyer asks a supplier to share its profile's details (the supplier answers with
        `share`); the request shows in the supplier's audit trail."""
        with self._tx() as session:
            profile = session.get(CapabilityProfile, profile_id)
            if profile is None:
                raise NotFoundError(f"no profile {profile_id!r}")
            if profile.organisation_id == principal.org_id:
                raise SourceError("profile", "this is your own profile")
            request = session.scalars(
                select(DetailRequest).where(
                    DetailRequest.profile_id == profile.id,
                    DetailRequest.requester_org_id == principal.org_id,
                )
            ).first()
            if request is None:
                request = DetailRequest(
                    profile_id=profile.id,
                    requester_org_id=principal.org_id,
                    requested_by=principal.user_id,
                )
                session.add(request)
            request.message = message.strip()[:1000]
            request.requested_at = datetime.now(UTC)
            request.requested_by = principal.user_id
            session.flush()
            audit(session, principal, "profile.request-details", "profile", profile.id,
                  owner_org_id=profile.organisation_id)  # fmt: skip
            return {"profile_id": profile.id, "requested": True, "request_id": request.id}

    def detail_requests(self, principal: Principal) -> list[dict[str, Any]]:
        """Requests for the caller's organisation's profile, with whether each is answered."""
        with self._tx(write=False) as session:
            rows = session.execute(
                select(DetailRequest, Organisation.name, CapabilityProfile.id)
                .join(CapabilityProfile, CapabilityProfile.id == DetailRequest.profile_id)
                .join(Organisation, Organisation.id == DetailRequest.requester_org_id)
                .where(CapabilityProfile.organisation_id == principal.org_id)
                .order_by(DetailRequest.requested_at.desc())
            ).all()
            shared = set(
                session.scalars(
                    select(ProfileShare.buyer_org_id)
                    .join(CapabilityProfile, CapabilityProfile.id == ProfileShare.profile_id)
                    .where(
                        CapabilityProfile.organisation_id == principal.org_id,
                        ProfileShare.revoked_at.is_(None),
                    )
                )
            )
            return [
                {
                    "profile_id": pid,
                    "buyer": name,
                    "message": r.message,
                    "requested_at": r.requested_at.isoformat(),
                    "shared": r.requester_org_id in shared,
                }
                for r, name, pid in rows
            ]

    # --- visibility --------------------------------------------------------------------------

    def _owned(self, session: Session, principal: Principal, profile_id: str) -> CapabilityProfile:
        profile = session.get(CapabilityProfile, profile_id)
        if profile is None:
            raise NotFoundError(f"no profile {profile_id!r}")
        if profile.organisation_id != principal.org_id:
            raise PermissionDeniedError("only the profile's organisation can manage its sharing")
        return profile

    def _profile_out(
        self, session: Session, principal: Principal, profile: CapabilityProfile
    ) -> dict[str, Any]:
        """The public summary; `details` added for the owner and for buyers shared with (that
        read audited). The only place that decides."""
        owner = session.get(Organisation, profile.organisation_id)
        out = _public(
            profile, owner.name if owner else "", _codes_of(session, [profile.id]).get(profile.id)
        )
        if profile.organisation_id == principal.org_id:
            out["details"] = dict(profile.details)
            out["access"] = "owner"
            return out
        shared = session.scalars(
            select(func.count())
            .select_from(ProfileShare)
            .where(
                ProfileShare.profile_id == profile.id,
                ProfileShare.buyer_org_id == principal.org_id,
                ProfileShare.revoked_at.is_(None),
            )
        ).one()
        if shared:
            out["details"] = dict(profile.details)
            out["access"] = "shared"
            audit(
                session,
                principal,
                "profile.read-details",
                "profile",
                profile.id,
                owner_org_id=profile.organisation_id,
            )
        else:
            out["access"] = "public"
        return out


def _store_need(
    session: Session,
    principal: Principal | None,
    need_in: NeedIn,
    *,
    source: str,
    notice: Notice | None = None,
    existing: Need | None = None,
) -> Need:
    need = existing or Need(created_at=datetime.now(UTC))
    if existing is None:
        session.add(need)
    need.owner_org_id = principal.org_id if principal else None
    need.created_by = principal.user_id if principal else None
    need.buyer_name = need_in.buyer_name or (principal.org_name if principal else None)
    need.title = need_in.title
    need.description = need_in.description
    need.cpv_main = next((c.code for c in need_in.codes if c.main and c.scheme == "cpv"), None)
    need.nuts = list(need_in.nuts)
    need.region = need_in.region
    need.deadline = need_in.deadline
    need.required_certifications = list(need_in.required_certifications)
    need.clearance_level = need_in.clearance_level
    need.max_lead_time_weeks = need_in.max_lead_time_weeks
    need.lots = [lot.model_dump(mode="json") for lot in need_in.lots]
    need.source = source
    need.notice_id = notice.notice_id if notice else None
    need.notice_type = notice.notice_type if notice else None
    session.flush()
    session.execute(delete(NeedCode).where(NeedCode.need_id == need.id))
    session.execute(delete(NeedCertification).where(NeedCertification.need_id == need.id))
    seen: set[tuple[str, str]] = set()
    for c in need_in.codes:
        code, prefix, hi, sig = code_row(c.scheme, c.code)
        if (c.scheme, code) in seen:
            continue
        seen.add((c.scheme, code))
        session.add(NeedCode(need_id=need.id, scheme=c.scheme, code=code, main=c.main,
                             prefix=prefix, prefix_hi=hi, sig_len=sig))  # fmt: skip
    session.add_all(
        NeedCertification(need_id=need.id, standard=s) for s in need_in.required_certifications
    )
    session.flush()
    return need


def _need_out(session: Session, need: Need) -> dict[str, Any]:
    codes = session.execute(
        select(NeedCode.scheme, NeedCode.code, NeedCode.main)
        .where(NeedCode.need_id == need.id)
        .order_by(NeedCode.main.desc(), NeedCode.scheme, NeedCode.code)
    ).all()
    return {
        "id": need.id,
        "title": need.title,
        "description": need.description,
        "buyer": need.buyer_name,
        "codes": [{"scheme": s, "code": c, "main": bool(m)} for s, c, m in codes],
        "lots": need.lots,
        "nuts": need.nuts,
        "region": need.region,
        "deadline": need.deadline.isoformat() if need.deadline else None,
        "required_certifications": need.required_certifications,
        "clearance_level": need.clearance_level,
        "max_lead_time_weeks": need.max_lead_time_weeks,
        "source": need.source,
        "notice_id": need.notice_id,
        "notice_type": need.notice_type,
        "created_at": need.created_at.isoformat(),
    }


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_RESULTS))


def _checked(scheme: str, code: str) -> str:
    try:
        return normalise_code(scheme, code)
    except ValueError as exc:
        raise SourceError(f"--{scheme}", str(exc), field=scheme) from exc


def _code_like(scheme: str, prefix: str) -> Any:
    return (ProfileCode.scheme == scheme) & ProfileCode.code.startswith(prefix, autoescape=True)


def _codes_of(session: Session, ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    ids = list(ids)
    out: dict[str, list[dict[str, str]]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(ProfileCode.profile_id, ProfileCode.scheme, ProfileCode.code)
        .where(ProfileCode.profile_id.in_(ids))
        .order_by(ProfileCode.scheme, ProfileCode.code)
    ).all()
    for pid, scheme, code in rows:
        out.setdefault(pid, []).append({"scheme": scheme, "code": code})
    return out


def _public(
    profile: CapabilityProfile, organisation: str, codes: list[dict[str, str]] | None
) -> dict[str, Any]:
    return {
        "id": profile.id,
        "organisation": organisation,
        "organisation_number": profile.organisation_number,
        "summary": profile.summary,
        "codes": codes or [],
        "updated_at": profile.updated_at.isoformat(),
    }


def _unit_out(session: Session, units: list[RegisterUnit]) -> list[dict[str, Any]]:
    numbers = [u.organisation_number for u in units]
    codes: dict[str, dict[str, list[str]]] = {}
    if numbers:
        rows = session.execute(
            select(RegisterNace.organisation_number, RegisterNace.standard, RegisterNace.code)
            .where(RegisterNace.organisation_number.in_(numbers))
            .order_by(RegisterNace.position)
        ).all()
        for number, standard, code in rows:
            codes.setdefault(number, {}).setdefault(standard, []).append(code)
    out = []
    for u in units:
        by_standard = codes.get(u.organisation_number, {})
        out.append(
            {
                "organisation_number": u.organisation_number,
                "name": u.name,
                "kind": u.kind,
                "organisational_form": u.organisational_form,
                "nace": by_standard.get("SN2025") or by_standard.get("SN2007") or [],
                "nace_sn2007": by_standard.get("SN2007", []),
                "nace_sn2025": by_standard.get("SN2025", []),
                "employees": u.employees,
                "municipality": u.municipality,
                "parent_number": u.parent_number,
                "deleted": u.deleted,
                "deleted_date": u.deleted_date.isoformat() if u.deleted_date else None,
                "bankrupt": u.bankrupt,
                "under_liquidation": u.under_liquidation,
            }
        )
    return out
