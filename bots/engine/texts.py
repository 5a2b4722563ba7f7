"""The engine's own words: hints, default errors and button labels.

They are English gettext message ids in the `bots` domain, translated like flow texts.
Placeholders are `{name}`; their values are escaped before they are put in.
"""

from __future__ import annotations

#: the gettext context (and domain) of these texts
BUILTIN_CONTEXT = "bots"

BUILTIN: dict[str, str] = {
    "button_done": "Done",
    "button_more": "More",
    "button_continue": "Continue",
    "hint_use_buttons": "Please choose one of the buttons.",
    "hint_tick_first": "Tick one or more options, then press Done.",
    "results_found": "Here is what fits. Choose one to see the details:",
    "results_none": "I found nothing that fits.",
    "item_contact": "Contact: {contact}",
    "item_eligibility": "Who can apply: {text}",
    "item_how_to_apply": "How to apply: {text}",
    "error_empty": "Please type your answer.",
    "error_too_long": "That is too long: please keep it under {max_length} characters.",
    "error_not_text": "Please answer with a text message.",
    "error_number": "Please send a number, for example 3.",
    "error_number_range": "Please send a number from {min} to {max}.",
    "error_number_min": "Please send a number of at least {min}.",
    "error_number_max": "Please send a number no greater than {max}.",
    "error_date": "Please send a date like 31.12.2026.",
    "error_date_range": "Please send a date from {min} to {max}.",
    "error_date_min": "Please send a date no earlier than {min}.",
    "error_date_max": "Please send a date no later than {max}.",
    "error_phone": "Please send a phone number with its country code, for example +48 600 123 456.",
    "error_file_too_large": "That file is too large to pass on: please send files of up to {max_mb} MB.",
    "flood_slow_down": "You are sending messages very fast, so I will pause for a few minutes. Please write again a little later.",
    "error_email": "Please send an email address, for example name@example.org.",
    "error_pattern": "That does not look right. Please try again.",
    "expired": "This menu has expired. Here is where we are now:",
    "unknown_command": "I don't know that command. Send /help to see what I understand.",
    "back_none": "There is no earlier question to go back to.",
    "help": (
        "I can guide you step by step. Press a button or type your answer.\n\n"
        "/start: begin again\n/back: go back to the previous question\n"
        "/language: choose another language\n/help: this help"
    ),
    "choose_language": "Choose your language:",
    "language_set": "Done: I will speak this language from now on.",
    "command_start": "Begin again",
    "command_back": "Go back to the previous question",
    "command_help": "What I understand",
    "command_language": "Choose the language",
    "command_end": "End the conversation with a person",
    "help_handoff": "You are talking to a person from our team. Write here; send /end to finish.",
    "handoff_ended": "The conversation with our team has ended.",
    "handoff_returned": "Our team has passed you back to the assistant.",
    "handoff_unavailable": "Sorry, no one from our team can be reached here right now. Please try again later.",
    "handoff_after_hours": "Our team answers {hours}. It is outside those hours now, so expect an answer from {when}.",
    "end_nothing": "You are not talking to a person right now.",
    "flow_changed": "This dialogue has been updated since we last spoke, so let's start again.",
    "command_forget": "Delete everything I keep about you",
    "button_forget": "Forget everything about me",
    "forget_confirm": (
        "Delete everything I keep about you? Your answers and our conversation will be deleted, and so will the "
        "messages in this chat from the last 48 hours (Telegram does not let me delete older ones). If you are "
        "talking to our team, that conversation will be deleted too. This cannot be undone."
    ),
    "forget_yes": "Yes, delete everything",
    "forget_no": "No, keep it",
    "forget_kept": "Nothing was deleted.",
    "forget_done": "Done: I have deleted everything I kept about you. Send /start if you ever want to talk again.",
    # --- the person's own safety controls under /help (bots.engine.asides) --------------------
    "button_safety": "Your safety",
    "button_vanish": "Delete our messages after…",
    "button_exit": "Exit now",
    "command_exit": "Leave at once: delete this chat",
    "vanish_ask": (
        "How old may our messages in this chat get? Once they are that old, I delete them, yours and mine, "
        "on your phone and on mine. Now: {current}."
    ),
    "vanish_hour": "1 hour",
    "vanish_day": "1 day",
    "vanish_never": "Never",
    "vanish_now_never": "they stay",
    "vanish_now_after": "deleted after {duration}",
    "vanish_set": "Done: I will delete our messages here once they are {duration} old.",
    "vanish_set_never": "Done: our messages here stay until you delete them. /forget deletes them at any time.",
    "vanish_notice": "Our messages in this chat are deleted after {duration}.",
    "exit_line": "Weather today: sunny, light wind.",
    "command_subscribe": "Get our news",
    "command_unsubscribe": "Stop the news",
    "subscribed": "Done: you will get our news here, now and then. Send /unsubscribe to stop it.",
    "unsubscribed": "Done: no more news from us. Send /subscribe if you want it again.",
    "apology": "Sorry, something went wrong on our side. Please try again, or send /start to begin again.",
    # --- for the moderators (in the bot's `moderators_locale`) ---------------------------------
    "mod_card_chat": "New conversation: {topic}",
    "mod_card_application": "New application: {topic}",
    "mod_card_person": "Person: {alias} · language: {language}",
    "mod_card_where": "Bot: {bot} · flow {flow}, node {node}",
    "mod_card_since": "Waiting since {time}",
    "mod_card_answers": "Answers:",
    "mod_card_no_answers": "No answers to show (answers marked sensitive are never shown).",
    "mod_card_help_topic": (
        "Write in this topic to answer: everything except commands and lines starting with ! goes to the person, "
        "as the bot. /claim · /close [note] · /return [NODE] · /canned NAME"
    ),
    "mod_card_help_reply": (
        "Reply to this card or to the person's messages to answer: everything except commands and lines starting "
        "with ! goes to the person, as the bot. /claim · /close [note] · /return [NODE] · /canned NAME"
    ),
    "mod_button_claim": "Claim",
    "mod_button_claimed": "Claimed: {name}",
    "mod_button_close": "Close",
    "mod_button_return": "Return to bot",
    "mod_button_accept": "Accept",
    "mod_button_decline": "Decline",
    "mod_claimed": "{name} claimed this conversation after {wait}.",
    "mod_closed": "{name} closed this conversation.",
    "mod_closed_note": "{name} closed this conversation: {note}",
    "mod_returned": "{name} returned the person to the bot (at {node}).",
    "mod_accepted": "{name} accepted the application; the person has been told.",
    "mod_declined": "{name} declined the application; the person has been told.",
    "mod_person_ended": "The person ended the conversation (/end).",
    "mod_person_restarted": "The person started the bot again (/start); this conversation is closed.",
    "mod_person_blocked": "The person has blocked the bot, so nothing more can reach them. This conversation is closed.",
    "mod_not_delivered_closed": "This conversation is closed: your message was not delivered.",
    "mod_not_delivered": "Telegram did not deliver your last message to the person ({reason}).",
    "mod_topic_recreated": "The topic of this conversation was deleted, so it goes on here.",
    "mod_queue_empty": "No open conversations.",
    "mod_queue_title": "Open conversations: {count}",
    "mod_queue_line": "{alias} · {topic} · waiting {wait} · {claimed}",
    "mod_queue_unclaimed": "not claimed",
    "mod_queue_claimed": "claimed by {name}",
    "mod_canned_sent": "Sent the canned reply “{name}” ({language}).",
    "mod_canned_unknown": "There is no canned reply “{name}”. Available: {names}",
    "mod_canned_none": "There are no canned replies yet: organisers add them to knowledge/canned.yaml.",
    "mod_return_unknown": "There is no node “{node}” in {flow}. Its nodes: {nodes}",
    "mod_already_closed": "This conversation is already closed.",
    "mod_use_in_topic": "Use this command in a person's topic, or as a reply to the card or to their message.",
    "mod_commands": (
        "In a person's topic: /claim, /close [note], /return [NODE], /canned NAME; lines starting with ! stay here. "
        "Anywhere in this group: /queue."
    ),
}
