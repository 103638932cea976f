"""Topic expressions and ItemFilter content filters, in every spelling real clients use (EVENTS.md §5)."""

from __future__ import annotations

import pytest

from device.events import topics
from device.events.itemfilter import ItemFilterError, parse_filter
from device.events.topics import TopicExpressionError, parse_expression


@pytest.mark.parametrize(
    "text",
    [
        "tnsaxis:Storage/Disruption",
        "tnsaxis:Storage/Disruption//.",
        "axis:Storage/axis:Disruption",
        "tnsaxis:Storage/tnsaxis:Disruption",
        "tns1:Storage/tnsaxis:Disruption",  # very old firmware's root
        "tnsaxis:Storage//.",
        "//.",
        "tns1:Device/tnsaxis:IO/VirtualPort | tnsaxis:Storage/Disruption",
    ],
)
def test_every_spelling_of_the_disruption_topic_matches_it(text):
    assert parse_expression(text).matches(topics.STORAGE_DISRUPTION)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("tnsaxis:Storage/Disruption", topics.STORAGE_ALERT),
        ("tnsaxis:Storage", topics.STORAGE_DISRUPTION),  # a level, not the subtree, without //.
        ("tns1:Device/tnsaxis:IO/VirtualInput", topics.MANUAL_TRIGGER),
        ("tnsaxis:Device/tnsaxis:IO/VirtualInput", topics.VIRTUAL_INPUT),  # the root's namespace counts
    ],
)
def test_other_topics_do_not_match(text, topic):
    assert not parse_expression(text).matches(topic)


def test_doc_style_prefixes_on_every_level_match_real_declarations():
    assert parse_expression("tns1:UserAlarm/tnsaxis:Recurring/tnsaxis:Interval").matches(topics.SCHEDULE_INTERVAL)
    assert parse_expression("onvif:Device/axis:IO/VirtualInput//.").matches(topics.VIRTUAL_INPUT)


@pytest.mark.parametrize("text", ["definitely not a topic !@#$", "", "bogus:Storage/Disruption", "a//b"])
def test_unparsable_topics_are_refused_with_firmwares_message(text):
    with pytest.raises(TopicExpressionError, match="failed to parse topic expression"):
        parse_expression(text)


def test_content_filters_combine_source_and_data_items():
    ok = parse_filter(
        'boolean(//SimpleItem[@Name="disk_id" and @Value="SD_DISK"]) and '
        'boolean(//SimpleItem[@Name="disruption" and @Value="0"])'
    )
    assert ok.matches({"disk_id": "SD_DISK", "disruption": "0"})
    assert not ok.matches({"disk_id": "SD_DISK", "disruption": "1"})
    assert not ok.matches({"disk_id": "NetworkShare", "disruption": "0"})


def test_single_quotes_or_and_not_and_boolean_spellings():
    quoted = parse_filter("boolean(//SimpleItem[@Name='active' and @Value='1'])")
    assert quoted.matches({"port": "3", "active": "true"})
    either = parse_filter(
        "boolean(//SimpleItem[@Name='port' and @Value='1']) or boolean(//SimpleItem[@Name='port' and @Value='2'])"
    )
    assert either.matches({"port": "2"})
    assert not either.matches({"port": "3"})
    negated = parse_filter('not(boolean(//SimpleItem[@Name="active" and @Value="1"]))')
    assert negated.matches({"active": "0"})
    assert not negated.matches({"active": "1"})


@pytest.mark.parametrize(
    "text", ["not[valid[xpath", 'boolean(//SimpleItem[@Name="a"]', "boolean(//Other[@Name='a'])", "@Name='x'"]
)
def test_bad_filters_say_where(text):
    with pytest.raises(ItemFilterError, match="around character"):
        parse_filter(text)
