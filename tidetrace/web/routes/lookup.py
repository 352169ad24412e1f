"""The public package-code lookup: ``/lookup`` page and ``/api/lookup`` JSON, no login.

A shopper, buyer or inspector types the code printed on a pack, or uploads a photo of the
stamp, and sees which plant packed it and what is known against it. The page speaks
English, Chinese and Korean (``?lang=`` or the browser's Accept-Language).

Nothing about the visitor is recorded: these routes log nothing, the app logs no query
strings or addresses, and an uploaded photo is read in memory (Starlette spools uploads
over 1 MB to an anonymous temporary file that is gone when the request ends) and never
stored. Uploads are limited in size and their type is taken from their first bytes.

The photo form is a public POST, so it carries the app's double-submit CSRF token. JSON
clients of ``POST /api/lookup/image`` do the same with any random value: the same string
in a ``tidetrace_csrf`` cookie and an ``X-CSRF-Token`` header.

The public answers (``/api/lookup``, ``/api/lookup/image``) are the same for everyone,
signed in or not: list flags but no investigator findings, never evidence. The page adds,
for a signed-in reader, investigators' findings, and for a case member whose keys are
unlocked in the session, "Evidence in your cases" (:mod:`tidetrace.registry.evidence`).
Its JSON twin for members is ``GET /api/lookup/member``, behind a login.
"""

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from tidetrace.exc import TidetraceError
from tidetrace.registry.lookup import LookupResult, MalformedCode, lookup_code
from tidetrace.registry.ocr import MAX_IMAGE_BYTES, ImageRejected, lookup_photo
from tidetrace.registry.trade import GraphTrade
from tidetrace.web.context import doc
from tidetrace.web.csrf import form_token
from tidetrace.web.deps import PUBLIC, READ, Actor, SettingsDep, WorkspaceDep, actor_for
from tidetrace.web.models import ErrorResponse
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

__all__ = ["STRINGS", "LookupContext", "choose_language", "router"]

router = APIRouter()

MIB = 1024 * 1024
# OCR takes a second or more of CPU: a few at a time, the rest are told to retry.
_OCR_SLOTS = threading.BoundedSemaphore(2)
_OCR_WAIT = 20.0

# The page's words in each language. The library's one-line reasons (why a code is
# malformed) stay in English after the translated prefix.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "title": "Who packed this?",
        "intro": "Type the establishment code printed on a seafood pack, or upload a photo "
        "of the stamp, to see which plant packed it and what is known about it.",
        "code_label": "Establishment code",
        "code_hint": "e.g. CN 2100/02153 EC",
        "look_up": "Look up",
        "photo_label": "Photo of the stamp or box print",
        "photo_hint": "JPEG, PNG or WebP, up to {mb} MB",
        "read_photo": "Read photo",
        "privacy": "Nothing about you is recorded. Photos are read in memory and not kept.",
        "error": "Not a code",
        "busy": "Too many photos are being read right now. Please try again in a minute.",
        "code": "Code",
        "province_from_code": "Province (from the code)",
        "not_found": "No plant on the lists in this database has the code {code}.",
        "did_you_mean": "Did you mean",
        "synthetic": "SYNTHETIC entry: invented for demonstration, not a real plant or code.",
        "plant": "Plant",
        "names": "Names",
        "location": "Location",
        "activities": "Activities",
        "lists": "Lists",
        "listed": "listed",
        "delisted": "delisted",
        "mentioned": "mentioned",
        "listed_on": "listed on",
        "delisted_on": "delisted on",
        "seen": "seen",
        "former_names": "Former names",
        "operators": "Operator",
        "owners": "Owners",
        "list_hits": "Sanctions and forced-labour lists",
        "no_list_hits": "No entry on the sanctions or forced-labour lists in this database.",
        "findings": "What investigations found",
        "candidates": "Possibly the same plant (not confirmed)",
        "candidate_note": "A plant named in an investigation matches this entry by name and "
        "place. Nobody has confirmed yet that they are the same plant.",
        "candidate_findings": "{n} findings recorded about that plant",
        "supply": "Where its product goes (asserted by documents)",
        "trade": "Shipments",
        "shipments": "{n} shipments, {t} tonnes, {first} – {last}",
        "trade_to": "Received by",
        "trade_hs": "HS codes declared",
        "trade_source": "From bills of lading in the supply-chain graph ({version}).",
        "trade_none": "No shipments from this plant in the trade records of this database.",
        "trade_stale": "The graph is older than the newest trade records; these numbers may "
        "be incomplete.",
        "consignee_share": "{n} shipments, {t} t",
        "flags": "Flags",
        "flag_since": "since {date}",
        "flag_evidence": "evidence",
        "flag_kind_list": "sanctions list",
        "flag_kind_uflpa": "UFLPA Entity List",
        "flag_kind_wro": "Withhold Release Order",
        "flag_kind_finding": "investigator finding",
        "flag_kind_computed": "computed",
        "evidence": "Evidence in your cases",
        "evidence_note": "Only members of a case see this. Opening it here is recorded on "
        "the case's custody log.",
        "evidence_none": "None of your cases has a claim about this plant.",
        "evidence_locked": "Your evidence keys are not unlocked in this session: log out and "
        "log in again to see evidence from your cases.",
        "evidence_counts": "{s} supporting, {c} contradicting, {n} items",
        "grades": "grades",
        "ocr_read": "Read from the photo",
        "ocr_none": "No establishment code could be read from the photo. Try a sharper, "
        "straighter photo, or type the code.",
        "confidence": "confidence",
        "on_list": "on a list",
        "on_no_list": "on no list",
        "corrected": "corrected",
        "unreviewed": "unreviewed",
        "synthetic_tag": "synthetic",
    },
    "zh": {
        "language_name": "中文",
        "title": "这是哪家工厂包装的？",
        "intro": "输入海产品包装上印的企业注册编号，或上传印章照片，"
        "查看是哪家工厂包装的以及相关信息。",
        "code_label": "企业注册编号",
        "code_hint": "例如 CN 2100/02153 EC",
        "look_up": "查询",
        "photo_label": "印章或箱体印刷的照片",
        "photo_hint": "JPEG、PNG 或 WebP，最大 {mb} MB",
        "read_photo": "识别照片",
        "privacy": "我们不记录您的任何信息。照片只在内存中识别，不会保存。",
        "error": "不是有效编号",
        "busy": "当前识别的照片过多，请一分钟后再试。",
        "code": "编号",
        "province_from_code": "省份（根据编号）",
        "not_found": "本数据库的名录中没有编号为 {code} 的工厂。",
        "did_you_mean": "您是否要查询",
        "synthetic": "合成数据：为演示而虚构，并非真实的工厂或编号。",
        "plant": "工厂",
        "names": "名称",
        "location": "所在地",
        "activities": "经营活动",
        "lists": "名录",
        "listed": "在册",
        "delisted": "已除名",
        "mentioned": "提及",
        "listed_on": "列入日期",
        "delisted_on": "除名日期",
        "seen": "记录时间",
        "former_names": "曾用名",
        "operators": "经营者",
        "owners": "所有者",
        "list_hits": "制裁与强迫劳动名单",
        "no_list_hits": "本数据库的制裁和强迫劳动名单中没有相关记录。",
        "findings": "调查发现",
        "candidates": "可能是同一工厂（尚未确认）",
        "candidate_note": "调查中提到的一家工厂在名称和地点上与此条目相符，"
        "但尚无人确认两者是同一工厂。",
        "candidate_findings": "关于该工厂的记录 {n} 条",
        "supply": "产品去向（文件所称）",
        "trade": "货运记录",
        "shipments": "{n} 批货物，{t} 吨，{first} – {last}",
        "trade_to": "收货方",
        "trade_hs": "申报的 HS 编码",
        "trade_source": "来自供应链图中的提单（{version}）。",
        "trade_none": "本数据库的贸易记录中没有该工厂的货运。",
        "trade_stale": "供应链图早于最新的贸易记录，这些数字可能不完整。",
        "consignee_share": "{n} 批，{t} 吨",
        "flags": "风险标记",
        "flag_since": "自 {date} 起",
        "flag_evidence": "证据",
        "flag_kind_list": "制裁名单",
        "flag_kind_uflpa": "UFLPA 实体清单",
        "flag_kind_wro": "暂扣令",
        "flag_kind_finding": "调查人员发现",
        "flag_kind_computed": "计算得出",
        "evidence": "您的案件中的证据",
        "evidence_note": "只有案件成员能看到此内容。在此查看会记入案件的保管日志。",
        "evidence_none": "您的案件中没有关于该工厂的主张。",
        "evidence_locked": "您的证据密钥在本次会话中未解锁：请退出后重新登录以查看案件证据。",
        "evidence_counts": "{s} 项支持，{c} 项反驳，{n} 件证据",
        "grades": "评级",
        "ocr_read": "照片识别结果",
        "ocr_none": "无法从照片中识别出企业编号。请尝试更清晰、更端正的照片，或直接输入编号。",
        "confidence": "置信度",
        "on_list": "在名录中",
        "on_no_list": "不在名录中",
        "corrected": "已校正",
        "unreviewed": "未审核",
        "synthetic_tag": "合成",
    },
    "ko": {
        "language_name": "한국어",
        "title": "누가 포장했나요?",
        "intro": "수산물 포장에 인쇄된 시설 등록번호를 입력하거나 도장 사진을 올리면 어느 "
        "시설에서 포장했는지와 관련 정보를 볼 수 있습니다.",
        "code_label": "시설 등록번호",
        "code_hint": "예: CN 2100/02153 EC",
        "look_up": "조회",
        "photo_label": "도장 또는 상자 인쇄 사진",
        "photo_hint": "JPEG, PNG 또는 WebP, 최대 {mb} MB",
        "read_photo": "사진 읽기",
        "privacy": "귀하에 관한 정보는 기록되지 않습니다. "
        "사진은 메모리에서만 읽고 보관하지 않습니다.",
        "error": "번호가 아닙니다",
        "busy": "지금 읽고 있는 사진이 너무 많습니다. 잠시 후 다시 시도하세요.",
        "code": "번호",
        "province_from_code": "성(省) (번호 기준)",
        "not_found": "이 데이터베이스의 목록에는 {code} 번호를 가진 시설이 없습니다.",
        "did_you_mean": "혹시 이 번호인가요",
        "synthetic": "합성 데이터: 시연용으로 만든 것이며 실제 시설이나 번호가 아닙니다.",
        "plant": "시설",
        "names": "이름",
        "location": "위치",
        "activities": "활동",
        "lists": "목록",
        "listed": "등재",
        "delisted": "삭제됨",
        "mentioned": "언급",
        "listed_on": "등재일",
        "delisted_on": "삭제일",
        "seen": "확인",
        "former_names": "이전 이름",
        "operators": "운영자",
        "owners": "소유자",
        "list_hits": "제재 및 강제노동 목록",
        "no_list_hits": "이 데이터베이스의 제재·강제노동 목록에 해당 항목이 없습니다.",
        "findings": "조사 결과",
        "candidates": "같은 시설일 수 있음 (미확인)",
        "candidate_note": "조사에서 언급된 시설이 이름과 위치로 이 항목과 일치합니다. 같은 "
        "시설인지는 아직 아무도 확인하지 않았습니다.",
        "candidate_findings": "해당 시설에 관한 기록 {n}건",
        "supply": "제품이 가는 곳 (문서 주장)",
        "trade": "선적 기록",
        "shipments": "{n}건, {t}톤, {first} – {last}",
        "trade_to": "수하인",
        "trade_hs": "신고된 HS 코드",
        "trade_source": "공급망 그래프의 선하증권 기준 ({version}).",
        "trade_none": "이 데이터베이스의 무역 기록에는 이 시설의 선적이 없습니다.",
        "trade_stale": "그래프가 최신 무역 기록보다 오래되어 수치가 불완전할 수 있습니다.",
        "consignee_share": "{n}건, {t}톤",
        "flags": "위험 표시",
        "flag_since": "{date}부터",
        "flag_evidence": "증거",
        "flag_kind_list": "제재 목록",
        "flag_kind_uflpa": "UFLPA 기업 목록",
        "flag_kind_wro": "통관 보류 명령",
        "flag_kind_finding": "조사관 발견",
        "flag_kind_computed": "계산됨",
        "evidence": "내 사건의 증거",
        "evidence_note": "사건 구성원만 볼 수 있습니다. 여기서 열람하면 사건의 보관 기록에 "
        "남습니다.",
        "evidence_none": "내 사건 중 이 시설에 관한 주장은 없습니다.",
        "evidence_locked": "이 세션에서 증거 키가 잠겨 있습니다. 사건 증거를 보려면 로그아웃 "
        "후 다시 로그인하세요.",
        "evidence_counts": "지지 {s}건, 반박 {c}건, 증거 {n}건",
        "grades": "등급",
        "ocr_read": "사진에서 읽은 번호",
        "ocr_none": "사진에서 등록번호를 읽을 수 없습니다. 더 선명하고 반듯한 사진을 올리거나 "
        "번호를 입력하세요.",
        "confidence": "신뢰도",
        "on_list": "목록에 있음",
        "on_no_list": "목록에 없음",
        "corrected": "보정됨",
        "unreviewed": "미검토",
        "synthetic_tag": "합성",
    },
}
LANGUAGES = tuple(STRINGS)


def choose_language(lang: str | None, accept: str | None) -> str:
    """``lang`` when it is one we speak, else the best of Accept-Language, else English."""
    if lang in STRINGS:
        return lang
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept or "")[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in STRINGS and quality > 0:
            ranked.append((-quality, index, primary))
    return sorted(ranked)[0][2] if ranked else "en"


@dataclass
class LanguageLink:
    """One entry of the language switcher."""

    code: str = field(metadata=doc("Language code: en, zh or ko."))
    name: str = field(metadata=doc("The language's name in itself."))
    href: str = field(metadata=doc("This page in that language."))
    current: bool = field(metadata=doc("Whether it is the page's language."))


@dataclass
class LookupContext:
    """What the lookup page shows; its JSON twins are ``/api/lookup`` and ``/api/lookup/image``."""

    lang: str = field(metadata=doc("The page's language: en, zh or ko."))
    t: dict[str, str] = field(metadata=doc("The page's words in that language."))
    languages: list[LanguageLink] = field(metadata=doc("Links to the page in each language."))
    code: str = field(metadata=doc("The code as typed (control characters refused)."))
    result: dict[str, Any] | None = field(
        metadata=doc("The lookup (see LookupResult.to_dict), or None before a query.")
    )
    ocr: dict[str, Any] | None = field(
        metadata=doc("What the photo gave (OcrResult.to_dict), after an upload.")
    )
    error: str | None = field(metadata=doc("Why the input was refused, in one line."))
    evidence_locked: bool = field(
        metadata=doc("A case member whose evidence keys are not unlocked in this session.")
    )
    form_token: str = field(metadata=doc("Pre-session CSRF token of the photo form."))
    max_mb: int = field(metadata=doc("Largest photo accepted, in MB."))


def _for_viewer(ws: Workspace, actor: Actor, result: LookupResult) -> bool:
    """Add a case member's evidence to a page's result; True when their keys are locked.

    Called only for pages: the public JSON answers never carry evidence.
    """
    if not actor.can_write or result.facility is None:
        return False
    from tidetrace.registry.evidence import add_case_evidence
    from tidetrace.vault.keys import VaultLocked, session_user

    try:
        unlocked = session_user(actor.token, actor.user)
    except VaultLocked:
        return True
    add_case_evidence(ws, result, unlocked)
    return False


def _upload_limit(max_upload_mb: int) -> int:
    return min(max_upload_mb * MIB, MAX_IMAGE_BYTES)


def _context(request: Request, lang: str, max_mb: int) -> LookupContext:
    return LookupContext(
        lang=lang,
        t=STRINGS[lang],
        languages=[],
        code="",
        result=None,
        ocr=None,
        error=None,
        evidence_locked=False,
        form_token=form_token(request),
        max_mb=max_mb,
    )


def _language_links(ctx: LookupContext) -> None:
    """The switcher: this page (and its code, if any) in each language."""
    for code in LANGUAGES:
        params = {"lang": code, **({"code": ctx.code} if ctx.code else {})}
        href = f"/lookup?{urlencode(params)}"
        ctx.languages.append(
            LanguageLink(code, STRINGS[code]["language_name"], href, code == ctx.lang)
        )


LangQuery = Annotated[str | None, Query(max_length=8, description="en, zh or ko.")]
CodeQuery = Annotated[
    str,
    Query(
        max_length=1000,
        description="The code as printed, e.g. 'CN 2100/02153 EC'; at most 64 characters count.",
    ),
]


@router.get(
    "/lookup", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)]
)
def lookup_page(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    code: CodeQuery = "",
    lang: LangQuery = None,
) -> HTMLResponse:
    """The lookup form and, with ``?code=``, what the code leads to."""
    language = choose_language(lang, request.headers.get("accept-language"))
    max_mb = _upload_limit(settings.max_upload_mb) // MIB
    status = 200
    typed = code.strip()
    ctx = _context(request, language, max_mb)
    if typed:
        actor = actor_for(request)
        try:
            result = lookup_code(
                ws.engine, typed, trade=GraphTrade(ws), restricted=not actor.can_read
            )
        except MalformedCode as exc:
            ctx.error = exc.detail
            status = 400
        else:
            ctx.evidence_locked = _for_viewer(ws, actor, result)
            ctx.code = result.code
            ctx.result = result.to_dict()
    _language_links(ctx)
    return render_page(request, "lookup.html", ctx, title=ctx.t["title"], status_code=status)


def _read_upload(photo: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refused when over ``limit`` (read at most one byte more)."""
    data = photo.file.read(limit + 1)
    if len(data) > limit:
        raise ImageRejected(f"photo larger than {limit // MIB} MB", status=413)
    return data


def _photo_lookup(ws: WorkspaceDep, data: bytes, restricted: bool = True) -> Any:
    if not _OCR_SLOTS.acquire(timeout=_OCR_WAIT):
        raise TidetraceError(STRINGS["en"]["busy"], status=503)
    try:
        return lookup_photo(ws.engine, data, trade=GraphTrade(ws), restricted=restricted)
    finally:
        _OCR_SLOTS.release()


@router.post(
    "/lookup/image",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(PUBLIC)],
)
def lookup_image_page(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile, File(description="Photo of the stamp.")],
    lang: Annotated[str | None, Form(max_length=8)] = None,
) -> HTMLResponse:
    """Read an uploaded stamp photo and show what its code leads to."""
    language = choose_language(lang, request.headers.get("accept-language"))
    limit = _upload_limit(settings.max_upload_mb)
    ctx = _context(request, language, limit // MIB)
    status = 200
    actor = actor_for(request)
    try:
        found = _photo_lookup(ws, _read_upload(photo, limit), restricted=not actor.can_read)
    except ImageRejected as exc:
        ctx.error = exc.detail
        status = exc.status
    except TidetraceError as exc:
        if exc.status != 503:
            raise
        ctx.error = ctx.t["busy"]
        status = 503
    else:
        ctx.ocr = found.ocr.to_dict()
        if found.result is not None:
            ctx.evidence_locked = _for_viewer(ws, actor, found.result)
            ctx.result = found.result.to_dict()
            ctx.code = found.result.code
    finally:
        photo.file.close()
    _language_links(ctx)
    return render_page(request, "lookup.html", ctx, title=ctx.t["title"], status_code=status)


LOOKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The input cannot be an establishment code."},
    422: {"model": ErrorResponse, "description": "Invalid parameters."},
}


@router.get(
    "/api/lookup",
    summary="Look up an establishment code",
    tags=["lookup"],
    dependencies=[Depends(PUBLIC)],
    responses={
        200: {"description": "The lookup; facility is null for an unknown code."},
        **LOOKUP_ERRORS,
    },
)
def api_lookup(
    ws: WorkspaceDep,
    code: Annotated[str, Query(min_length=1, max_length=1000, description="Code as printed.")],
) -> JSONResponse:
    """The plant a code belongs to, with lists, list hits, flags, trade and near-miss codes.

    An unknown code answers 200 with ``facility: null`` (and ``suggestions``); input that
    cannot be a code answers 400 with a one-line ``detail``. Public: no login, and the same
    answer for everyone: no investigators' findings, ``evidence`` always null.
    """
    return JSONResponse(lookup_code(ws.engine, code, trade=GraphTrade(ws)).to_dict())


@router.get(
    "/api/lookup/member",
    summary="Look up an establishment code, with findings and your cases' evidence",
    tags=["lookup"],
    responses={
        200: {"description": "The lookup, unrestricted; evidence when you hold case keys."},
        401: {"model": ErrorResponse, "description": "Not logged in, or vault keys locked."},
        403: {"model": ErrorResponse, "description": "The role may not read the store."},
        **LOOKUP_ERRORS,
    },
)
def api_lookup_member(
    ws: WorkspaceDep,
    actor: Annotated[Actor, Depends(READ)],
    code: Annotated[str, Query(min_length=1, max_length=1000, description="Code as printed.")],
) -> JSONResponse:
    """``/api/lookup`` for signed-in readers: investigators' findings with their evidence.

    For a case member (investigator, admin) whose vault keys are unlocked in the session,
    ``evidence`` lists the claims in their cases about the plant, each recorded as viewed
    on the case's custody log; for a member whose keys are locked it answers 401. Other
    readers get ``evidence: null``.
    """
    result = lookup_code(ws.engine, code, trade=GraphTrade(ws), restricted=False)
    if _for_viewer(ws, actor, result):
        from tidetrace.vault.keys import VaultLocked

        raise VaultLocked(STRINGS["en"]["evidence_locked"])
    return JSONResponse(result.to_dict())


@router.post(
    "/api/lookup/image",
    summary="Look up the code on a photo of a stamp",
    tags=["lookup"],
    dependencies=[Depends(PUBLIC)],
    responses={
        200: {"description": "What the photo gave, and the lookup of the best code."},
        403: {"model": ErrorResponse, "description": "Missing double-submit CSRF token."},
        413: {"model": ErrorResponse, "description": "Photo too large."},
        415: {"model": ErrorResponse, "description": "Not an image we read."},
        503: {"model": ErrorResponse, "description": "Busy, or OCR unavailable."},
    },
)
def api_lookup_image(
    ws: WorkspaceDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile, File(description="Photo of the stamp (JPEG, PNG, WebP …).")],
) -> JSONResponse:
    """Read the establishment code off a photo and look it up: ``{"ocr": …, "result": …}``.

    Send the same random string as a ``tidetrace_csrf`` cookie and an ``X-CSRF-Token``
    header (the public double-submit token). The photo is not stored.
    """
    try:
        found = _photo_lookup(ws, _read_upload(photo, _upload_limit(settings.max_upload_mb)))
    finally:
        photo.file.close()
    return JSONResponse(found.to_dict())
