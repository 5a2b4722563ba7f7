"""The engine's own words: hints, default errors and button labels.

They are English gettext message ids in the `bots` domain, translated like flow texts.
Placeholders are `{name}`; their values are escaped before they are put in.
"""

from __future__ import annotations

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
    "end_nothing": "You are not talking to a person right now.",
    "flow_changed": "This dialogue has been updated since we last spoke, so let's start again.",
    "apology": "Sorry, something went wrong on our side. Please try again, or send /start to begin again.",
}
