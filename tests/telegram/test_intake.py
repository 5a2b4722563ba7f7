"""The first stage of a turn: an update classified from itself alone (`bots.telegram.intake`)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bots.engine import events as ev
from bots.telegram.intake import ForModerators, Membership, Nothing, OutsidePrivate, PersonInput, classify
from bots.telegram.render import Pressed

MODERATORS = "-1001234567890"
PERSON = {"id": 501, "is_bot": False, "first_name": "Ala", "language_code": "be"}
PRIVATE = {"id": 501, "type": "private", "first_name": "Ala"}


def _update(**part: Any) -> Update:
    return Update.de_json({"update_id": 1, **part}, None)


def _classify(update: Update) -> Any:
    return classify(update, moderators_chat=MODERATORS, text_event=lambda text: ev.Text(text))


def _message(chat: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 0, "chat": chat, "from": PERSON, **fields}


def _member(chat: dict[str, Any], status: str) -> dict[str, Any]:
    bot = {"id": 9, "is_bot": True, "first_name": "Bot"}
    return {
        "chat": chat,
        "from": PERSON,
        "date": 0,
        "old_chat_member": {"status": "left", "user": bot},
        "new_chat_member": {"status": status, "user": bot, **({"until_date": 0} if status == "kicked" else {})},
    }


def test_a_persons_text_becomes_the_engines_event_with_what_the_step_needs() -> None:
    turn = _classify(_update(message=_message(PRIVATE, text="hello")))
    assert turn == PersonInput(501, ev.Text("hello"), "Ala", "be", message_id=7)


def test_a_button_press_names_the_pressed_message_and_the_query_to_answer() -> None:
    query = {"id": "q1", "from": PERSON, "chat_instance": "c", "data": "b:yes", "message": _message(PRIVATE, text="Sure?")}
    turn = _classify(_update(callback_query=query))
    assert turn == PersonInput(501, ev.Press("b:yes"), "Ala", "be", pressed=Pressed(7, "Sure?"), query_id="q1")


def test_what_is_not_text_is_unsupported_with_its_kind_and_size() -> None:
    photo = [{"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "file_size": 10},
             {"file_id": "b", "file_unique_id": "b", "width": 9, "height": 9, "file_size": 900}]  # fmt: skip
    turn = _classify(_update(message=_message(PRIVATE, photo=photo)))
    assert isinstance(turn, PersonInput) and turn.event == ev.Unsupported("photo", 900) and turn.message_id == 7
    sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False, "is_video": False,
               "type": "regular"}  # fmt: skip
    assert _classify(_update(message=_message(PRIVATE, sticker=sticker))).event == ev.Unsupported("sticker", 0)


def test_the_moderators_chat_is_the_desks_and_other_groups_are_left_when_they_add_the_bot() -> None:
    group = {"id": int(MODERATORS), "type": "supergroup", "title": "Team"}
    assert _classify(_update(message=_message(group, text="/queue"))) == ForModerators()
    other = {"id": -100999, "type": "group", "title": "Elsewhere"}
    assert _classify(_update(my_chat_member=_member(other, "member"))) == OutsidePrivate(-100999, leave=True)
    assert _classify(_update(message=_message(other, text="hi"))) == OutsidePrivate(-100999, leave=False)
    without = classify(
        _update(message=_message(group, text="hi")), moderators_chat="", text_event=lambda text: ev.Text(text)
    )  # no moderators' chat configured: that group is just another group
    assert without == OutsidePrivate(int(MODERATORS), leave=False)


def test_blocking_and_unblocking_the_bot_is_a_membership_change() -> None:
    assert _classify(_update(my_chat_member=_member(PRIVATE, "kicked"))) == Membership(501, blocked=True)
    assert _classify(_update(my_chat_member=_member(PRIVATE, "member"))) == Membership(501, blocked=False)


def test_an_edit_in_a_private_chat_is_nothing_for_the_engine() -> None:
    assert _classify(_update(edited_message={**_message(PRIVATE, text="fixed"), "edit_date": 1})) == Nothing()
