"""What the event and action tests send to a running camera: SOAP 1.2 envelopes to /vapix/services over real HTTP
with Digest auth, in the forms real clients write them (EVENTS.md §0.1), and the answers taken apart."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from tests.support.device_process import CREDENTIALS

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
AA = "http://www.axis.com/vapix/ws/action1"
AEV = "http://www.axis.com/vapix/ws/event1"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSTOP = "http://docs.oasis-open.org/wsn/t-1"
WSRFBF = "http://docs.oasis-open.org/wsrf/bf-2"
NS = {"SOAP-ENV": SOAP_ENV, "aa": AA, "aev": AEV, "wsnt": WSNT, "wstop": WSTOP, "wsrfbf": WSRFBF}
CONCRETE = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
ITEM_FILTER = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"


def envelope(body: str) -> str:
    """The rs4a-vapix form: default namespace on the operation, no Header."""
    return f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{body}</soap:Body></soap:Envelope>'


def post(device, body: str, role: str = "admin", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{device.http_url}/vapix/services",
        content=body.encode(),
        headers=headers or {"Content-Type": "application/soap+xml; charset=utf-8"},
        auth=httpx.DigestAuth(*CREDENTIALS[role]),
        timeout=20,
    )


def call(device, body: str, role: str = "admin") -> etree._Element:
    """A call that must succeed: HTTP 200, SOAP 1.2; the Body's response element."""
    response = post(device, envelope(body), role)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/soap+xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope ')
    root = etree.fromstring(response.content)
    (answer,) = root.find("SOAP-ENV:Body", NS)
    return answer


@dataclass(frozen=True)
class Fault:
    code: str
    subcode: str | None
    reason: str
    detail: etree._Element | None  # the element inside Detail
    detail_text: str | None
    raw: bytes


def fault(device, body: str, role: str = "admin") -> Fault:
    """A call that must fail the way AXIS OS 10.12-12.9 fails (EVENTS.md §0.3): HTTP 400 and a Sender fault."""
    response = post(device, envelope(body), role)
    assert response.status_code == 400, response.text
    root = etree.fromstring(response.content)
    node = root.find("SOAP-ENV:Body/SOAP-ENV:Fault", NS)
    assert node is not None, response.text
    detail = node.find("SOAP-ENV:Detail", NS)
    inner = None if detail is None else next((c for c in detail if etree.QName(c).localname != "Text"), None)
    return Fault(
        node.findtext("SOAP-ENV:Code/SOAP-ENV:Value", namespaces=NS) or "",
        node.findtext("SOAP-ENV:Code/SOAP-ENV:Subcode/SOAP-ENV:Value", namespaces=NS),
        node.findtext("SOAP-ENV:Reason/SOAP-ENV:Text", namespaces=NS) or "",
        inner,
        None if detail is None else detail.findtext("SOAP-ENV:Text", namespaces=NS),
        response.content,
    )


def detail_name(found: Fault) -> str:
    assert found.code == "SOAP-ENV:Sender"
    assert found.detail is not None, found.raw
    qname = etree.QName(found.detail)
    prefix = {AA: "aa", AEV: "aev", WSNT: "wsnt"}[qname.namespace or ""]
    return f"{prefix}:{qname.localname}"


# --- requests as real clients write them ----------------------------------------------------------------------


def add_schedule(device, ical: str, name: str | None = None, event_id: str | None = None) -> str:
    parts = (f"<aev:EventID>{event_id}</aev:EventID>" if event_id else "") + (
        f"<aev:Name>{name}</aev:Name>" if name else ""
    )
    body = (
        f'<aev:AddScheduledEvent xmlns:aev="{AEV}"><aev:NewScheduledEvent>{parts}<aev:Schedule>'
        f'<aev:ICalendar Dialect="http://www.axis.com/vapix/ws/ical1">{ical}</aev:ICalendar>'
        "</aev:Schedule></aev:NewScheduledEvent></aev:AddScheduledEvent>"
    )
    answer = call(device, body)
    assert answer.tag == f"{{{AEV}}}AddScheduledEventResponse"
    return answer.findtext("aev:EventID", namespaces=NS) or ""


def scheduled_events(device, kind: str | None = None) -> dict[str, tuple[str | None, str]]:
    body = (
        f'<GetScheduledEvents xmlns="{AEV}"><ScheduleFilter><ScheduleType>{kind}</ScheduleType></ScheduleFilter>'
        "</GetScheduledEvents>"
        if kind
        else f'<GetScheduledEvents xmlns="{AEV}"/>'
    )
    answer = call(device, body)
    return {
        e.findtext("aev:EventID", namespaces=NS): (
            e.findtext("aev:Name", namespaces=NS),
            e.findtext("aev:Schedule/aev:ICalendar", namespaces=NS),
        )
        for e in answer.iterfind("aev:ScheduledEvents/aev:ScheduledEvent", NS)
    }


def add_configuration(device, template: str, name: str | None = "Record Video", **parameters: str) -> int:
    """The Axis web UI's form (EVENTS.md §1.2): TemplateToken before Name, default namespace."""
    params = "".join(f'<Parameter Name="{k}" Value="{v}"></Parameter>' for k, v in parameters.items())
    named = f"<Name>{name}</Name>" if name is not None else ""
    body = (
        f'<aa:AddActionConfiguration xmlns:aa="{AA}" xmlns="{AA}"><NewActionConfiguration>'
        f"<TemplateToken>{template}</TemplateToken>{named}<Parameters>{params}</Parameters>"
        "</NewActionConfiguration></aa:AddActionConfiguration>"
    )
    answer = call(device, body)
    return int(answer.findtext("aa:ConfigurationID", namespaces=NS) or "0")


def recording_configuration(device, template: str = "fixed", pre: int = 0, post: int = 0, **extra: str) -> int:
    return add_configuration(
        device,
        f"com.axis.action.{template}.recording.storage",
        stream_options=extra.pop("stream_options", "resolution=320x180&amp;fps=10"),
        pre_duration=str(pre),
        post_duration=str(post),
        storage_id=extra.pop("storage_id", "SD_DISK"),
    )


def filter_xml(tag: str, topic: str, content: str | None, dialect: str = CONCRETE) -> str:
    body = f'<wsnt:TopicExpression Dialect="{dialect}">{topic}</wsnt:TopicExpression>'
    if content is not None:
        body += f'<wsnt:MessageContent Dialect="{ITEM_FILTER}">{content}</wsnt:MessageContent>'
    return f"<{tag}>{body}</{tag}>"


def rule_body(
    name: str | None,
    action: int,
    start: tuple[str, str | None] | None = None,
    conditions: list[tuple[str, str | None]] | None = None,
    enabled: str = "true",
    timeout: str | None = None,
    dialect: str = CONCRETE,
) -> str:
    """The AddActionRule the Axis web UI sends (EVENTS.md §1.5), element order of the WSDL."""
    inner = f"<Name>{name}</Name>" if name is not None else ""
    inner += f"<Enabled>{enabled}</Enabled>"
    if start is not None:
        inner += filter_xml("StartEvent", *start, dialect=dialect)
    if conditions is not None:
        inner += "<Conditions>" + "".join(filter_xml("Condition", *c, dialect=dialect) for c in conditions)
        inner += "</Conditions>"
    if timeout is not None:
        inner += f"<ActivationTimeout>{timeout}</ActivationTimeout>"
    inner += f"<PrimaryAction>{action}</PrimaryAction>"
    return (
        f'<aa:AddActionRule xmlns:aa="{AA}" xmlns="{AA}" xmlns:wsnt="{WSNT}" '
        'xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:tnsaxis="http://www.axis.com/2009/event/topics">'
        f"<NewActionRule>{inner}</NewActionRule></aa:AddActionRule>"
    )


def add_rule(device, *args, **kwargs) -> int:
    answer = call(device, rule_body(*args, **kwargs))
    return int(answer.findtext("aa:RuleID", namespaces=NS) or "0")


def item(name: str, value: str) -> str:
    return f'boolean(//SimpleItem[@Name="{name}" and @Value="{value}"])'
