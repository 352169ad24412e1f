"""Capture a URL as evidence: the exchange as WARC, a text extraction, and the facts.

Web pages and posts disappear or change after publication. A capture keeps the HTTP
request and response exactly as exchanged (WARC 1.1 via warcio: the archival format of
the Internet Archive, Webrecorder and Bellingcat's auto-archiver), every redirect hop, the
capture time, the server's address and, over HTTPS, the TLS version, cipher and the
server's certificate (subject, issuer, validity, SHA-256 fingerprint). The WARC is the
sealed original; the text extraction is a second blob for reading and search.
"""

import io
import ssl
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tidetrace import __version__
from tidetrace.exc import TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.blobs import BlobStore, scratch_dir
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import canonical_json, day_now, new_id, now_iso
from tidetrace.vault.items import (
    AMENDABLE,
    AddResult,
    FileInfo,
    Item,
    ItemMeta,
    parse_grade,
    store_item,
)
from tidetrace.vault.keys import UnlockedUser
from tidetrace.vault.netguard import AddressGuard
from tidetrace.vault.sniff import sniff_bytes
from tidetrace.vault.strip import StripError, make_working_copy
from tidetrace.workspace import Workspace

__all__ = [
    "MAX_CAPTURE",
    "Capture",
    "CaptureError",
    "capture_url",
    "fetch",
    "html_text",
    "platform_of",
]

MAX_CAPTURE = 200 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = 30.0
USER_AGENT = f"Mozilla/5.0 (compatible; tidetrace/{__version__}; evidence capture)"
# Response headers kept in the item's facts (all of them are in the WARC anyway).
FACT_HEADERS = ("server", "date", "last-modified", "content-type", "content-length", "etag")
PLATFORMS = {
    "douyin.com": "Douyin",
    "iesdouyin.com": "Douyin",
    "bilibili.com": "Bilibili",
    "b23.tv": "Bilibili",
    "weixin.qq.com": "WeChat",
    "weibo.com": "Weibo",
    "weibo.cn": "Weibo",
    "kuaishou.com": "Kuaishou",
    "xiaohongshu.com": "Xiaohongshu",
    "tiktok.com": "TikTok",
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "x.com": "X",
    "twitter.com": "X",
    "facebook.com": "Facebook",
    "instagram.com": "Instagram",
    "t.me": "Telegram",
    "vk.com": "VK",
    "naver.com": "Naver",
}


class CaptureError(TidetraceError):
    """The URL could not be captured."""

    STATUS = 422


@dataclass
class Capture:
    """One URL, captured.

    Attributes:
        url: the URL asked for.
        final_url: the URL the last redirect led to.
        status: the final HTTP status.
        captured_at: when the final response arrived (UTC).
        warc: the WARC file (gzip), with every request and response.
        body: the final response body (decoded from gzip/deflate).
        content_type: the final Content-Type.
        facts: server address, HTTP version, TLS facts, redirects, selected headers.
    """

    url: str
    final_url: str
    status: int
    captured_at: str
    warc: bytes = field(repr=False)
    body: bytes = field(repr=False)
    content_type: str
    facts: dict[str, Any]


def platform_of(url: str) -> str | None:
    """The social platform a URL belongs to (Douyin, Bilibili, WeChat …), if known."""
    host = (urlsplit(url).hostname or "").lower()
    for domain, name in PLATFORMS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return None


def _tls_facts(stream: Any) -> dict[str, Any]:
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    # httpcore hands over the C-level SSL object: check what it can do, not its class.
    if ssl_object is None or not hasattr(ssl_object, "getpeercert"):
        return {}
    cipher = ssl_object.cipher()
    facts: dict[str, Any] = {
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
    }
    der = ssl_object.getpeercert(True)  # positional: the C-level object takes no keywords
    if der:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        cert = x509.load_der_x509_certificate(der)
        facts["certificate"] = {
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": format(cert.serial_number, "x"),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        }
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            facts["certificate"]["dns_names"] = san.value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            pass
    return facts


def _decode_body(raw: bytes, encoding: str, limit: int) -> bytes:
    """Undo gzip/deflate, refusing to expand beyond ``limit`` (compression bombs)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise CaptureError(f"unsupported Content-Encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(raw, limit + 1)
    except zlib.error:
        try:
            out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, limit + 1)
        except zlib.error as exc:
            raise CaptureError(f"response body does not decompress: {exc}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise CaptureError(f"response body expands beyond {limit} bytes: refused")
    return out


def fetch(
    url: str,
    verify: bool | ssl.SSLContext = True,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_CAPTURE,
    guard: AddressGuard | None = None,
) -> Capture:
    """GET ``url``, following up to 5 redirects, and record every exchange as WARC.

    Args:
        url: an http(s) URL.
        verify: TLS verification (True, or an SSL context with the CAs). A capture
            over an unverifiable connection fails rather than record an impostor's page.
        timeout: seconds per request.
        max_bytes: largest response body accepted.
        guard: check every hop's address before connecting, and connect to the checked
            address (captures asked for over HTTP); None trusts the caller (the CLI).

    Raises:
        CaptureError: not http(s), unreachable, too many redirects, too large.
        RefusedAddress: the guard refused a hop's address.
    """
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).hostname:
        raise CaptureError(f"{url!r}: only http and https URLs can be captured")
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            "capture.warc.gz",
            {"software": f"tidetrace/{__version__} (warcio)", "format": "WARC File Format 1.1"},
        )
    )
    redirects: list[dict[str, Any]] = []
    current = url
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",
    }
    # A guarded capture ignores proxy variables: a proxy would connect on our behalf to
    # whatever its own resolver says, out of the guard's sight.
    with httpx.Client(
        verify=verify, timeout=timeout, follow_redirects=False, trust_env=guard is None
    ) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise CaptureError(f"{current!r}: a redirect left http(s)")
            request = _request(client, current, headers, guard)
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise CaptureError(f"{current}: {exc}") from None
            try:
                stream = response.extensions.get("network_stream")
                server = stream.get_extra_info("server_addr") if stream is not None else None
                tls = _tls_facts(stream)
                raw = bytearray()
                for block in response.iter_raw():
                    raw += block
                    if len(raw) > max_bytes:
                        raise CaptureError(f"{current}: larger than {max_bytes} bytes")
            except httpx.HTTPError as exc:
                raise CaptureError(f"{current}: {exc}") from None
            finally:
                response.close()
            captured_at = now_iso()
            ip = str(server[0]) if isinstance(server, tuple) and server else None
            _write_exchange(writer, current, request, response, bytes(raw), ip)
            location = response.headers.get("location")
            if response.is_redirect and location:
                redirects.append({"url": current, "status": response.status_code})
                current = urljoin(current, location)
                continue
            body = _decode_body(bytes(raw), response.headers.get("content-encoding", ""), max_bytes)
            facts: dict[str, Any] = {
                "server_ip": ip,
                "server_port": server[1] if isinstance(server, tuple) and len(server) > 1 else None,
                "http_version": response.http_version,
                "status": response.status_code,
                "headers": {k: response.headers[k] for k in FACT_HEADERS if k in response.headers},
                "redirects": redirects,
                "user_agent": USER_AGENT,
            }
            if tls:
                facts["tls"] = tls
            writer.write_record(
                writer.create_warc_record(
                    current,
                    "metadata",
                    payload=io.BytesIO(canonical_json(facts)),
                    warc_content_type="application/json",
                )
            )
            return Capture(
                url=url,
                final_url=current,
                status=response.status_code,
                captured_at=captured_at,
                warc=out.getvalue(),
                body=body,
                content_type=response.headers.get("content-type", ""),
                facts=facts,
            )
    raise CaptureError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _request(
    client: httpx.Client, url: str, headers: dict[str, str], guard: AddressGuard | None
) -> httpx.Request:
    """The request for one hop; with a guard, addressed to the checked IP itself.

    The URL keeps its path and query but names the checked address, so httpx makes no DNS
    lookup of its own; ``Host`` and the TLS server name (which the certificate is verified
    against) stay the original host's.
    """
    if guard is None:
        return client.build_request("GET", url, headers=headers)
    pinned = guard.pin(url)
    original = httpx.URL(url)
    target = original.copy_with(host=pinned.address)
    hop_headers = {**headers, "Host": original.netloc.decode("ascii")}
    extensions = {"sni_hostname": pinned.host} if original.scheme == "https" else {}
    return client.build_request("GET", target, headers=hop_headers, extensions=extensions)


def _write_exchange(
    writer: WARCWriter,
    url: str,
    request: httpx.Request,
    response: httpx.Response,
    raw: bytes,
    ip: str | None,
) -> None:
    target = request.url.raw_path.decode("ascii", "replace")
    req_headers = StatusAndHeaders(
        f"GET {target} HTTP/1.1",
        [(k, v) for k, v in request.headers.items()],
        is_http_request=True,
    )
    resp_headers = StatusAndHeaders(
        f"{response.status_code} {response.reason_phrase}",
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
        protocol=response.http_version,
    )
    warc_headers = {"WARC-IP-Address": ip} if ip else None
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(raw),
        http_headers=resp_headers,
        warc_headers_dict=warc_headers,
    )
    writer.write_record(record)
    req = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), http_headers=req_headers
    )
    req.rec_headers.add_header(
        "WARC-Concurrent-To", record.rec_headers.get_header("WARC-Record-ID")
    )
    writer.write_record(req)


class _TextExtractor(HTMLParser):
    """Visible text and title of an HTML page (scripts, styles and templates skipped)."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def _charset(content_type: str, body: bytes) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    head = body[:2048].lower()
    marker = head.find(b"charset=")
    if marker >= 0:
        found = head[marker + 8 : marker + 40].lstrip(b"\"' ")
        name = bytes(c for c in found.split(b'"')[0].split(b"'")[0].split(b";")[0] if c > 32)
        if name:
            return name.decode("ascii", "replace")
    return "utf-8"


def html_text(body: bytes, content_type: str = "") -> tuple[str | None, str]:
    """The title and visible text of an HTML (or plain text) response."""
    charset = _charset(content_type, body)
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if "html" not in content_type.lower() and sniff_bytes(body[:8192]).family != "html":
        return None, text
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    title = " ".join("".join(parser.title).split()) or None
    return title, "\n".join(line for line in lines if line)


def capture_url(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    url: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    about: list[str] | None = None,
    grade: str | None = None,
    verify: bool | ssl.SSLContext = True,
    tsa_url: str | None = None,
    guard: AddressGuard | None = None,
    **extra: Any,
) -> AddResult:
    """Capture ``url`` into a case as a web page or social post item.

    The WARC is the sealed original; the text extraction is the ``text`` file; when the
    body is itself an image, PDF or video, it gets a metadata-free working copy.

    Args:
        ws: the workspace.
        actor: who captures (signs the entry).
        keyring: the case's keys.
        url: the page or post.
        kind: ``web_page`` or ``social_post`` (default: social post on a known platform).
        title: default: the page title.
        about: entity ids.
        grade: Admiralty grade.
        verify: TLS verification, as for :func:`fetch`.
        tsa_url: timestamp the custody log afterwards.
        guard: refuse non-public addresses, as for :func:`fetch` (web and API captures).
        **extra: platform, account, posted_at, caption, engagement …
    """
    unknown = set(extra) - AMENDABLE
    if unknown:
        raise TidetraceError(f"unknown item fields: {', '.join(sorted(unknown))}")
    capture = fetch(url, verify=verify, guard=guard)
    page_title, text = html_text(capture.body, capture.content_type)
    platform = extra.pop("platform", None) or platform_of(capture.final_url)
    meta = ItemMeta(
        kind=kind or ("social_post" if platform else "web_page"),
        title=(title or page_title or capture.final_url)[:500],
        about=list(about or []),
        collected_by=actor.name,
        collected_at=capture.captured_at,
        method=f"tidetrace URL capture (httpx {httpx.__version__}, warcio WARC 1.1)",
        source_url=url,
        platform=platform,
        captured_at=capture.captured_at,
        grade=parse_grade(grade) if grade else None,
        capture={"final_url": capture.final_url, **capture.facts},
        **extra,
    )
    store = BlobStore.for_workspace(ws)
    host = urlsplit(capture.final_url).hostname or "capture"
    warc_ref = store.put_bytes(keyring, capture.warc)
    meta.files["original"] = FileInfo.from_ref(
        "original", f"{host}-{capture.captured_at}.warc.gz", "application/warc", warc_ref
    )
    text_ref = store.put_bytes(keyring, text.encode("utf-8"))
    meta.files["text"] = FileInfo.from_ref(
        "text",
        "text.txt",
        "text/plain",
        text_ref,
        derived_from=warc_ref.sha256,
        tool="tidetrace html_text (Python html.parser)",
    )
    warnings: list[str] = []
    if capture.status >= 400:
        warnings.append(f"the server answered HTTP {capture.status}")
    detected = sniff_bytes(capture.body[:8192])
    if detected.family in ("image", "pdf", "video"):
        with scratch_dir(ws, len(capture.body)) as scratch:
            body_path = scratch / f"body{detected.extension}"
            body_path.write_bytes(capture.body)
            try:
                copy = make_working_copy(body_path, scratch, detected)
            except StripError as exc:
                warnings.append(f"no working copy of the response body: {exc.detail}")
            else:
                ref = store.put_file(keyring, copy.path)
                meta.files["working"] = FileInfo.from_ref(
                    "working",
                    f"working{copy.path.suffix}",
                    copy.mime,
                    ref,
                    derived_from=warc_ref.sha256,
                    tool=copy.tool,
                    removed=copy.removed,
                    notes=["made from the response body in the WARC", *copy.notes],
                )
    meta.warnings = warnings
    item_id = new_id("ev")
    entry = store_item(ws, actor, keyring, item_id, meta, details={"url": url})
    _cp, cp_warning = custody.checkpoint_if_configured(ws.engine, keyring.case_id, tsa_url)
    if cp_warning:
        warnings.append(cp_warning)
    return AddResult(Item(item_id, keyring.case_id, meta.kind, day_now(), meta), warnings, entry)


def read_warc_records(data: bytes) -> list[dict[str, Any]]:
    """Summaries of the records in a WARC (type, URI, HTTP status), for display and tests."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for record in ArchiveIterator(io.BytesIO(data)):
        status = record.http_headers.get_statuscode() if record.http_headers else None
        out.append(
            {
                "type": record.rec_type,
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "status": status,
                "ip": record.rec_headers.get_header("WARC-IP-Address"),
            }
        )
    return out
