"""The alert channels against local servers: Slack (a Slack-compatible HTTP server), email (a real aiosmtpd server)
and signed webhooks. Hostile scraped text must arrive inert everywhere; every wait is bounded."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lawwatch.alerts.channels import ChannelOptions, build_channels, channel_for, channel_kinds, deliver
from lawwatch.alerts.channels.base import parse_retry_after
from lawwatch.alerts.channels.email import EmailChannel
from lawwatch.alerts.channels.slack import Pacer, SlackChannel
from lawwatch.alerts.channels.slack_blocks import digest_blocks
from lawwatch.alerts.channels.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    WebhookTarget,
    verify_signature,
)
from lawwatch.alerts.errors import DeliveryError, TargetError
from lawwatch.alerts.escape import header, http_url, mrkdwn, mrkdwn_link
from lawwatch.alerts.message import Alert, AlertDocument, Change, Digest, SnippetPart, Why, parse_snippet
from lawwatch.config import AlertsConfig, EmailConfig, EmailTarget, SlackConfig, SlackTarget
from lawwatch.config_schema import Secret
from tests.helpers.slack_server import (
    DROP,
    TOKEN,
    Fault,
    SlackServer,
    WebhookReceiver,
    api_error,
    http_status,
    rate_limited,
    server_error,
    slack_server_fixture,  # noqa: F401 (fixture "slack_server")
    webhook_receiver_fixture,  # noqa: F401 (fixture "webhook_receiver")
)
from tests.helpers.smtp_server import (
    SMTPServer,
    client_context,
    server_context,
    smtp_server_fixture,  # noqa: F401 (fixture "smtp_server")
    tls_files,
)

pytestmark = pytest.mark.timeout(60)

HOSTILE = "<!channel> <!here> <@U123> <https://evil|click> <script>alert(1)</script> *bold* _it_ ~gone~ `code`"
INJECTION = "Hi\r\nBcc: evil@x"
INERT_NEEDLES = ("<!channel>", "<!here>", "<@U123>", "<https://evil|click>", "<script>", "*bold*", "_it_", "~gone~")
URL = "https://www.justice.gov/opa/pr/letter-chicago?a=1&b=2"


def make_doc(doc_id: int = 7, **changes: Any) -> AlertDocument:
    doc = AlertDocument(
        id=doc_id,
        title="Justice Department warns Chicago over 8 U.S.C. § 1373",
        url=URL,
        source="doj_news",
        doc_type="letter",
        published_at=datetime(2017, 11, 15, 17, 0, tzinfo=UTC),
        jurisdictions=("Chicago, Illinois", "Cook County, Illinois"),
        statutes=("8 U.S.C. § 1373",),
        snippet=parse_snippet("the city's \x02sanctuary\x03 policies under section \x021373\x03 were"),
    )
    return replace(doc, **changes)


def make_alert(outbox_id: int = 1, rule: str = "il-1373", target: str = "team", **doc: Any) -> Alert:
    why = Why(jurisdictions=("Chicago, Illinois",), statutes=("8 U.S.C. § 1373",), words=("sanctuary",))
    return Alert(outbox_id, rule, target, make_doc(**doc), why)


def hostile_alert() -> Alert:
    doc = make_doc(
        title=f"{HOSTILE} {INJECTION}",
        source=HOSTILE,
        jurisdictions=(HOSTILE,),
        statutes=("<!channel>",),
        snippet=(SnippetPart(HOSTILE + " "), SnippetPart("<!here>", match=True), SnippetPart(" *x*")),
    )
    why = Why(jurisdictions=(HOSTILE,), words=("<@U123>",))
    return Alert(9, "rule <!channel>", "team", doc, why, changes=(Change("title", HOSTILE, INJECTION),))


def texts(value: Any) -> list[str]:
    """Every string value under a "text" key, recursively."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def slack(server: SlackServer, pace: float = 0, **kwargs: Any) -> SlackChannel:
    config = SlackConfig(token=Secret(TOKEN), base_url=server.base_url)
    return SlackChannel(config, pace_seconds=pace, server_error_backoff=0.05, **kwargs)


# -- messages and escaping ------------------------------------------------------------------------------------------


def test_message_ids_are_stable_and_hostname_free() -> None:
    alert = make_alert(outbox_id=41, rule="IL 1373!")
    assert alert.message_id == "<alert-41-IL-1373-7@lawwatch>" == make_alert(41, "IL 1373!").message_id
    assert replace(alert, revision=2).message_id == "<alert-41-IL-1373-7-r2@lawwatch>"
    start, end = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)
    digest = Digest("IL 1373!", "team", (replace(alert, target="team"),), start, end)
    assert digest.message_id == Digest("IL 1373!", "team", digest.alerts, start, end).message_id
    assert digest.message_id.startswith("<digest-IL-1373-team-20240502T000000Z-")
    with pytest.raises(ValueError, match="another rule or target"):
        Digest("other", "team", (alert,), start, end)


def test_parse_snippet_and_escaping_helpers() -> None:
    assert parse_snippet("a \x02b\x03 c\x03 \x02d") == (
        SnippetPart("a "),
        SnippetPart("b", True),
        SnippetPart(" c "),
        SnippetPart("d"),
    )
    escaped = mrkdwn(HOSTILE + "\n> quote")
    assert not any(ch in escaped for ch in "<>*_~`") and "&lt;!channel&gt;" in escaped
    assert "\n\u00ad&gt; quote" in escaped
    assert mrkdwn("doj_news a*b ~x~ _y z_") == "doj_news a*b \u223cx\u223c \u02cdy z\u02cd"  # intra-word: inert
    assert mrkdwn_link("javascript:alert(1)", "x") == "x"
    assert mrkdwn_link("https://a.test/x|y>z&q", "t") == "<https://a.test/x%7Cy&gt;z&amp;q|t>"
    assert http_url("https://a.test/ x") is None and http_url("ftp://a.test/") is None
    assert header("Hi\r\nBcc: evil@x\u2028X: y") == "Hi Bcc: evil@x X: y"
    assert parse_retry_after("7") == 7.0 and parse_retry_after("soon") is None
    assert (
        parse_retry_after(
            format_datetime(datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)),
            now=datetime(2030, 1, 1, tzinfo=UTC).timestamp(),
        )
        == 10.0
    )


def test_registry_builds_every_channel_from_the_settings(slack_server: SlackServer) -> None:
    alerts = AlertsConfig(slack=SlackConfig(token=Secret(TOKEN), base_url=slack_server.base_url))
    channels = build_channels(alerts, ChannelOptions(pace_seconds=0))
    assert set(channels) == set(channel_kinds()) == {"slack", "email", "webhook"}
    target = SlackTarget("team", "#alerts")
    assert channel_for(channels, target).kind == "slack"
    assert deliver(channels["slack"], make_alert(), target).provider_id == slack_server.messages[0]["ts"]
    with pytest.raises(TargetError, match='no channel for targets of type "pager"'):
        channel_for(channels, type("Pager", (), {"kind": "pager", "name": "ops"})())


# -- Slack ----------------------------------------------------------------------------------------------------------


def test_slack_message_has_the_blocks(slack_server: SlackServer) -> None:
    channel = slack(slack_server)
    target = SlackTarget("team", "#alerts")
    delivery = channel.send(channel.render(make_alert(), target), target)
    (message,) = slack_server.messages
    assert delivery.provider_id == message["ts"]
    assert slack_server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert message["channel"] == "#alerts" and message["unfurl_links"] is False and message["unfurl_media"] is False
    assert message["text"] == "New: Justice Department warns Chicago over 8 U.S.C. § 1373 (il-1373)"
    blocks = message["blocks"]
    link = URL.replace("&", "&amp;")
    assert blocks[0]["text"] == {
        "type": "mrkdwn",
        "verbatim": True,
        "text": f"*<{link}|Justice Department warns Chicago over 8 U.S.C. § 1373>*",
    }
    assert blocks[1]["elements"][0]["text"] == "2017-11-15 · doj_news · letter"
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields == ["*Jurisdictions*\nChicago, Illinois, Cook County, Illinois", "*Statutes*\n8 U.S.C. § 1373"]
    assert blocks[3]["text"]["text"].startswith("*Rule:* il-1373 — matched jurisdictions: Chicago, Illinois;")
    assert "\u200b*sanctuary*\u200b" in blocks[4]["text"]["text"]
    assert all(t["verbatim"] for b in blocks for t in [b.get("text") or {"verbatim": True}])


def test_slack_is_paced_per_channel(slack_server: SlackServer) -> None:
    channel = slack(slack_server, pace=1.0)
    a, b = SlackTarget("a", "#a"), SlackTarget("b", "#b")
    payload = channel.render(make_alert(), a)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda t: channel.send(payload, t), [a, a, a, b]))
    arrivals = {c: [r.at for r in slack_server.requests if r.payload["channel"] == c] for c in ("#a", "#b")}
    gaps = [later - earlier for earlier, later in zip(arrivals["#a"], arrivals["#a"][1:], strict=False)]
    assert len(arrivals["#a"]) == 3 and all(gap >= 0.99 for gap in gaps), gaps
    assert arrivals["#b"][0] - started < 0.9  # another channel does not wait for #a
    assert time.monotonic() - started < 4.5


def test_slack_pacing_off_sends_at_once(slack_server: SlackServer) -> None:
    channel, target = slack(slack_server, pace=0), SlackTarget("a", "#a")
    started = time.monotonic()
    for _ in range(3):
        channel.send(channel.render(make_alert(), target), target)
    assert len(slack_server.messages) == 3 and time.monotonic() - started < 0.9
    slept: list[float] = []
    pacer = Pacer(1.0, clock=lambda: 100.0, sleep=slept.append)
    for key in ("x", "x", "y"):
        with pacer.slot(key):
            pass
    assert slept == [1.0]  # the second "x" waits a full interval (the clock stands still); "y" does not wait


def test_slack_429_honours_retry_after_and_delivers_once(slack_server: SlackServer) -> None:
    slack_server.fail_next(rate_limited(1))
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    delivery = channel.send(channel.render(make_alert(), target), target)
    first, second = slack_server.requests
    assert (first.status, second.status) == (429, 200) and second.at - first.at >= 0.99
    assert [m["ts"] for m in slack_server.messages] == [delivery.provider_id]


def test_slack_long_retry_after_is_left_to_the_dispatcher(slack_server: SlackServer) -> None:
    slack_server.fail_next(rate_limited(120))
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert caught.value.retry_after == 120.0 and not caught.value.permanent
    assert len(slack_server.requests) == 1 and time.monotonic() - started < 5


def test_slack_500_is_retried_then_delivered_once(slack_server: SlackServer) -> None:
    slack_server.fail_next(server_error())
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    channel.send(channel.render(make_alert(), target), target)
    assert [r.status for r in slack_server.requests] == [500, 200] and len(slack_server.messages) == 1


def test_slack_persistent_500_is_a_retryable_error_after_bounded_retries(slack_server: SlackServer) -> None:
    slack_server.fail_next(server_error(), times=5)
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    with pytest.raises(DeliveryError, match="HTTP 500") as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert not caught.value.permanent and len(slack_server.requests) == 3  # 1 + max_retries


@pytest.mark.parametrize(
    ("fault", "permanent"),
    [
        (api_error("channel_not_found"), True),
        (api_error("internal_error"), False),
        (http_status(403, "forbidden"), True),
    ],
)
def test_slack_api_errors(slack_server: SlackServer, fault: Fault, permanent: bool) -> None:
    slack_server.fail_next(fault)
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    with pytest.raises(DeliveryError) as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert caught.value.permanent is permanent and not slack_server.messages
    assert TOKEN not in str(caught.value)


def test_slack_unknown_channel_and_bad_token_are_permanent() -> None:
    with SlackServer(channels={"#alerts"}) as server:
        channel = slack(server)
        target = SlackTarget("team", "#nope")
        with pytest.raises(DeliveryError, match='"channel_not_found"') as caught:
            channel.send(channel.render(make_alert(), target), target)
        assert caught.value.permanent
        wrong = SlackChannel(SlackConfig(token=Secret("xoxb-wrong"), base_url=server.base_url), pace_seconds=0)
        with pytest.raises(DeliveryError, match='"invalid_auth"') as caught:
            wrong.send(wrong.render(make_alert(), target), SlackTarget("team", "#alerts"))
        assert caught.value.permanent and "xoxb-wrong" not in str(caught.value)


def test_slack_dropped_connection_is_retryable_and_not_resent(slack_server: SlackServer) -> None:
    """Decision: a dropped connection is NOT retried in the call (the post may have landed; Slack has no
    idempotency key) — it is a retryable DeliveryError, and the dispatcher's backoff decides."""
    slack_server.fail_next(DROP)
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    with pytest.raises(DeliveryError, match="cannot reach Slack") as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert not caught.value.permanent and len(slack_server.requests) == 1 and not slack_server.messages


def test_slack_timeout_is_retryable(slack_server: SlackServer) -> None:
    slack_server.fail_next(Fault(delay=3))
    channel, target = slack(slack_server, timeout=1), SlackTarget("team", "#alerts")
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert not caught.value.permanent and time.monotonic() - started < 2.8


@dataclass(frozen=True)
class HookTarget:
    """The proposed shape: ``SlackTarget`` plus ``webhook_url``."""

    kind: ClassVar[str] = "slack"
    name: str
    channel: str = ""
    webhook_url: Secret | None = None


def test_slack_incoming_webhook(slack_server: SlackServer) -> None:
    channel = SlackChannel(SlackConfig(), pace_seconds=0)  # no token needed
    target = HookTarget("hook", webhook_url=Secret(slack_server.webhook_url))
    channel.validate_target(target)
    slack_server.fail_next(rate_limited(1))
    assert channel.send(channel.render(make_alert(), target), target).provider_id == "webhook:200"
    assert len(slack_server.webhook_messages) == 1 and [r.status for r in slack_server.requests] == [429, 200]
    assert slack_server.webhook_messages[0]["unfurl_links"] is False
    broken = HookTarget("hook", webhook_url=Secret(slack_server.url + "/services/none"))
    with pytest.raises(DeliveryError, match="HTTP 404: no_service") as caught:
        channel.send(channel.render(make_alert(), broken), broken)
    assert caught.value.permanent and "/services/none" not in str(caught.value)


def test_slack_target_validation() -> None:
    channel = SlackChannel(SlackConfig(), pace_seconds=0)
    with pytest.raises(TargetError, match=r'target "team": \[alerts.slack\] token is not set'):
        channel.validate_target(SlackTarget("team", "#alerts"))
    with pytest.raises(TargetError, match="webhook_url is not an http"):
        channel.validate_target(HookTarget("hook", webhook_url=Secret("javascript:alert(1)")))


def test_slack_hostile_text_arrives_inert(slack_server: SlackServer) -> None:
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    channel.send(channel.render(hostile_alert(), target), target)
    (message,) = slack_server.messages
    raw = slack_server.requests[0].body.decode()
    for needle in INERT_NEEDLES:
        assert needle not in raw and json.dumps(needle)[1:-1] not in raw, needle
    for text in texts(message):
        assert "\r" not in text
        for start in [i for i, ch in enumerate(text) if ch == "<"]:  # our only link: the document's URL
            assert text.startswith("<https://www.justice.gov/opa/pr/letter-chicago?a=1&amp;b=2|", start)
    assert "&lt;!channel&gt;" in message["text"] and "&lt;!here&gt;" in message["blocks"][0]["text"]["text"]
    javascript = make_alert(url="javascript:alert(1)")
    blocks = channel.render(javascript, target).blocks
    assert "javascript" not in json.dumps(blocks) and "<" not in blocks[0]["text"]["text"]


def test_slack_digest_lists_documents_within_block_limits() -> None:
    start, end = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)
    alerts = tuple(make_alert(i, doc_id=i, title=f"Document {i} " + "x" * 200) for i in range(1, 401))
    blocks = digest_blocks(Digest("il-1373", "team", alerts, start, end))
    assert len(blocks) <= 50 and all(len(t) <= 3000 for t in texts(blocks))
    listed = sum(text.count("• ") for text in texts(blocks))
    assert blocks[-1]["elements"][0]["text"] == f"…and {400 - listed} more"


# -- email ----------------------------------------------------------------------------------------------------------


def email_channel(server: SMTPServer, **config: Any) -> EmailChannel:
    return EmailChannel(
        EmailConfig(host=server.host, port=server.port, timeout=5, from_addr="lawwatch@example.org", **config),
        clock=lambda: datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    # a message parsed from the wire keeps CRLF line ends in decoded quoted-printable text
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_email_is_valid_mime_with_stable_message_id(smtp_server: SMTPServer) -> None:
    channel, target = email_channel(smtp_server), EmailTarget("team", ("a@example.org", "b@example.org"))
    alert = make_alert(outbox_id=12)
    channel.validate_target(target)
    delivery = channel.send(channel.render(alert, target), target)
    (mail,) = smtp_server.wait_for(1)
    msg = mail.message()
    assert mail.rcpt_tos == ["a@example.org", "b@example.org"] and mail.mail_from == "lawwatch@example.org"
    assert msg.get_content_type() == "multipart/alternative" and not msg.defects
    assert msg["Message-ID"] == delivery.provider_id == "<alert-12-il-1373-7@lawwatch>"
    assert channel.render(alert, target)["Message-ID"] == msg["Message-ID"]
    # Python folds this Subject before the encoded "§" and a decoder then shows two spaces: compare words
    assert msg["Subject"].split() == "[lawwatch] Justice Department warns Chicago over 8 U.S.C. § 1373".split()
    assert msg["List-Id"] == "lawwatch alerts <lawwatch.alerts>" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"] == "Wed, 01 May 2024 12:00:00 +0000" and msg["To"] == "a@example.org, b@example.org"
    text, html = parts(msg)
    assert URL in text and "*sanctuary*" in text and "Matched: jurisdictions: Chicago, Illinois" in text
    assert f'<a href="{URL.replace("&", "&amp;")}">' in html and "<mark>sanctuary</mark>" in html


def test_email_hostile_text_is_escaped_and_cannot_inject_headers(smtp_server: SMTPServer) -> None:
    channel, target = email_channel(smtp_server), EmailTarget("team", ("a@example.org",))
    channel.send(channel.render(hostile_alert(), target), target)
    (mail,) = smtp_server.wait_for(1)
    msg = mail.message()
    assert mail.rcpt_tos == ["a@example.org"] and msg["Bcc"] is None and "evil@x" not in (msg["To"] or "")
    assert msg["Subject"].startswith("[lawwatch] Changed: <!channel>") and msg["Subject"].endswith("Hi Bcc: evil@x")
    assert msg["X-Lawwatch-Rule"] == "rule <!channel>"
    text, html = parts(msg)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;!channel&gt;" in html and "<mark>&lt;!here&gt;</mark>" in html
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    javascript = channel.render(make_alert(url="javascript:alert(1)"), target)
    assert "javascript:" not in parts(javascript)[1]


def test_email_digest_lists_every_document(smtp_server: SMTPServer) -> None:
    channel, target = email_channel(smtp_server), EmailTarget("team", ("a@example.org",))
    alerts = tuple(make_alert(i, doc_id=i, title=f"Release number {i}") for i in range(1, 61))
    digest = Digest("il-1373", "team", alerts, datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    channel.send(channel.render(digest, target), target)
    msg = smtp_server.wait_for(1)[0].message()
    text, html = parts(msg)
    assert msg["Subject"] == "[lawwatch] il-1373: 60 documents (2024-05-01 – 2024-05-02)"
    assert msg["Message-ID"] == digest.message_id
    assert all(f"Release number {i}\n" in text and f">Release number {i}</a>" in html for i in range(1, 61))


def test_email_smtp_down_is_retryable_then_delivers_on_the_same_port(smtp_server: SMTPServer) -> None:
    channel, target = email_channel(smtp_server), EmailTarget("team", ("a@example.org",))
    payload = channel.render(make_alert(), target)
    smtp_server.stop()
    with pytest.raises(DeliveryError, match="cannot deliver via 127.0.0.1") as caught:
        channel.send(payload, target)
    assert not caught.value.permanent
    smtp_server.start()
    assert channel.send(payload, target).provider_id == payload["Message-ID"]
    assert len(smtp_server.wait_for(1)) == 1


def test_email_server_replies(smtp_server: SMTPServer) -> None:
    channel, target = email_channel(smtp_server), EmailTarget("team", ("a@example.org", "gone@example.org"))
    payload = channel.render(make_alert(), target)
    smtp_server.fail_next("451 4.3.0 Try again later")
    with pytest.raises(DeliveryError, match="451") as caught:
        channel.send(payload, target)
    assert not caught.value.permanent
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 No such user"
    delivery = channel.send(payload, target)
    assert "gone@example.org (550" in delivery.detail and smtp_server.wait_for(1)[0].rcpt_tos == ["a@example.org"]
    with pytest.raises(DeliveryError, match="refused every recipient") as caught:
        channel.send(payload, EmailTarget("gone", ("gone@example.org",)))
    assert caught.value.permanent


def test_email_starttls_and_login(tmp_path: Path) -> None:
    cert, key = tls_files(tmp_path)
    with SMTPServer(tls_context=server_context(cert, key), credentials=("alerts", "s3cret")) as server:
        config = EmailConfig(
            host="localhost", port=server.port, username="alerts", password=Secret("s3cret"), starttls=True, timeout=5
        )
        channel, target = EmailChannel(config, ssl_context=client_context(cert)), EmailTarget("t", ("a@example.org",))
        channel.send(channel.render(make_alert(), target), target)
        assert server.logins == ["alerts"] and len(server.wait_for(1)) == 1
        wrong = EmailChannel(replace(config, password=Secret("nope")), ssl_context=client_context(cert))
        with pytest.raises(DeliveryError, match="535") as caught:
            wrong.send(wrong.render(make_alert(), target), target)
        assert caught.value.permanent and "nope" not in str(caught.value)


def test_email_implicit_tls(tmp_path: Path) -> None:
    cert, key = tls_files(tmp_path)
    with SMTPServer(implicit_tls=server_context(cert, key)) as server:
        config = EmailConfig(host="localhost", port=server.port, use_ssl=True, timeout=5)
        channel, target = EmailChannel(config, ssl_context=client_context(cert)), EmailTarget("t", ("a@example.org",))
        channel.send(channel.render(make_alert(), target), target)
        assert len(server.wait_for(1)) == 1


def test_email_target_validation() -> None:
    channel = EmailChannel(EmailConfig(username="alerts"))
    with pytest.raises(TargetError, match="needs both username and password"):
        channel.validate_target(EmailTarget("team", ("a@example.org",)))
    with pytest.raises(TargetError, match="not a single email address"):
        EmailChannel(EmailConfig()).validate_target(EmailTarget("team", ("a@example.org\r\nBcc: b@x",)))


# -- webhook --------------------------------------------------------------------------------------------------------


def hook(receiver: WebhookReceiver, secret: str = "hook-secret") -> WebhookTarget:
    return WebhookTarget("hook", Secret(receiver.url + "/hooks/lawwatch"), Secret(secret))


def test_webhook_is_signed_json(webhook_receiver: WebhookReceiver) -> None:
    channel, target = WebhookChannel(timeout=5), hook(webhook_receiver)
    alert = make_alert(outbox_id=3)
    channel.validate_target(target)
    assert channel.send(channel.render(alert, target), target).provider_id == "webhook:200"
    (request,) = webhook_receiver.requests
    headers = request.headers
    assert verify_signature("hook-secret", headers[TIMESTAMP_HEADER], request.body, headers[SIGNATURE_HEADER])
    assert not verify_signature(
        "hook-secret", headers[TIMESTAMP_HEADER], request.body + b" ", headers[SIGNATURE_HEADER]
    )
    assert not verify_signature("other", headers[TIMESTAMP_HEADER], request.body, headers[SIGNATURE_HEADER])
    stale = str(int(headers[TIMESTAMP_HEADER]) - 600)
    assert not verify_signature("hook-secret", stale, request.body, headers[SIGNATURE_HEADER])
    assert headers[DELIVERY_HEADER] == alert.message_id and headers["X-Lawwatch-Event"] == "alert"
    data = request.payload["alert"]
    assert data["rule"] == "il-1373" and data["why"]["words"] == ["sanctuary"]
    assert data["document"]["jurisdictions"] == ["Chicago, Illinois", "Cook County, Illinois"]
    assert data["document"]["published_at"] == "2017-11-15T17:00:00+00:00"
    assert data["document"]["matched"] == ["sanctuary", "1373"]


@pytest.mark.parametrize(
    ("fault", "permanent", "retry_after"),
    [
        (http_status(429, "slow down", {"Retry-After": "7"}), False, 7.0),
        (http_status(503, "busy"), False, None),
        (http_status(400, "bad payload"), True, None),
        (http_status(302, "", {"Location": "http://127.0.0.1:9/elsewhere"}), True, None),
        (DROP, False, None),
    ],
)
def test_webhook_errors(
    webhook_receiver: WebhookReceiver, fault: Fault, permanent: bool, retry_after: float | None
) -> None:
    webhook_receiver.fail_next(fault)
    channel, target = WebhookChannel(timeout=5), hook(webhook_receiver)
    with pytest.raises(DeliveryError) as caught:
        channel.send(channel.render(make_alert(), target), target)
    assert (caught.value.permanent, caught.value.retry_after) == (permanent, retry_after)
    assert len(webhook_receiver.requests) == 1 and "/hooks/lawwatch" not in str(caught.value)


def test_webhook_hostile_text_is_data(webhook_receiver: WebhookReceiver) -> None:
    channel, target = WebhookChannel(timeout=5), hook(webhook_receiver)
    alert = hostile_alert()
    channel.send(channel.render(alert, target), target)
    (request,) = webhook_receiver.requests
    assert b"\r" not in request.body and b"\n" not in request.body  # JSON-escaped, one line
    assert request.payload["alert"]["document"]["title"] == alert.document.title  # exact text, as data
    assert all("evil" not in value for value in request.headers.values())
    with pytest.raises(TargetError, match="url is not an http"):
        channel.validate_target(WebhookTarget("bad", "file:///etc/passwd", Secret("x")))


def test_digests_over_slack_and_webhook(slack_server: SlackServer, webhook_receiver: WebhookReceiver) -> None:
    alerts = tuple(make_alert(i, doc_id=i, title=f"Release {i}") for i in range(1, 4))
    digest = Digest("il-1373", "team", alerts, datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    channel, target = slack(slack_server), SlackTarget("team", "#alerts")
    channel.send(channel.render(digest, target), target)
    (message,) = slack_server.messages
    assert message["text"] == "lawwatch digest for il-1373: 3 documents"
    assert all(f"|Release {i}>*" in message["blocks"][1]["text"]["text"] for i in range(1, 4))
    webhook, hook_target = WebhookChannel(timeout=5), hook(webhook_receiver)
    webhook.send(webhook.render(digest, hook_target), hook_target)
    (request,) = webhook_receiver.requests
    assert request.headers["X-Lawwatch-Event"] == "digest" and request.headers[DELIVERY_HEADER] == digest.message_id
    data = request.payload["digest"]
    assert [a["outbox_id"] for a in data["alerts"]] == [1, 2, 3] and data["period_end"] == "2024-05-02T00:00:00+00:00"
