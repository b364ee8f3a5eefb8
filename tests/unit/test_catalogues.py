"""The zh-CN and en catalogues (JSON, read by the C decoder at every decision printed) say the same things."""
import string

from gate.i18n import LANGUAGES, catalogue, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert zh.keys() == en.keys()
    assert len(zh) > 40  # the whole catalogue was read, not an empty file
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key


def test_a_decision_reads_in_each_language_and_an_unknown_key_is_shown_as_itself():
    assert t("reason.normal", "zh-CN") == "体温正常，请进入。"
    assert t("reason.normal", "en") != t("reason.normal", "zh-CN")
    assert set(LANGUAGES) == {"zh-CN", "en"}
    assert t("no.such.key", "zh-CN") == "no.such.key"
