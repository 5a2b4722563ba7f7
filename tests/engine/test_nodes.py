"""Each node type, driven through the engine as a person would."""

from __future__ import annotations

from bots.engine.outputs import ConversationEnded, OpenHandoff, Say
from tests.support.engine import said

MENU = """\
start: menu
nodes:
  menu:
    type: choice
    text: "Hello, {{ user.first_name }}! What do you need?"
    save: need
    options:
      - {label: "Support", value: support, next: thanks}
      - {label: "Nothing"}
    next: bye
  thanks:
    type: message
    text: "You chose {{ need }}."
    next: bye
  bye:
    type: end
    text: "Goodbye."
    outcome: done
"""


def test_choice_saves_the_value_and_follows_the_option(chat):
    c = chat(MENU)
    assert "Hello, Alex! What do you need?" in said(c.send("/start"))
    assert [b.label for b in c.buttons] == ["Support", "Nothing"]
    outputs = c.press("Support")
    assert "You chose support." in said(outputs)
    assert "Goodbye." in said(outputs)
    assert ConversationEnded("done") in outputs


def test_choice_option_without_next_goes_to_the_node_next(chat):
    c = chat(MENU)
    c.send("/start")
    outputs = c.press("Nothing")
    assert said(outputs) == "Goodbye."
    assert c.state.vars["need"] == "Nothing"  # value defaults to the label


def test_typing_a_label_counts_as_pressing_it(chat):
    c = chat(MENU)
    c.send("/start")
    assert "You chose support." in said(c.send("  support "))


def test_typing_where_buttons_are_expected_shows_them_again_with_a_hint(chat):
    c = chat(MENU)
    c.send("/start")
    outputs = c.send("I want help")
    text = said(outputs)
    assert "Please choose one of the buttons." in text
    assert "What do you need?" in text
    assert [b.label for b in c.buttons] == ["Support", "Nothing"]
    assert "need" not in c.state.vars


MULTIPLE = """\
start: help
nodes:
  help:
    type: choice
    text: "What help do you need?"
    save: needs
    multiple: true
    options:
      - {label: "Legal", value: legal}
      - {label: "Medical", value: medical}
      - {label: "Housing", value: housing}
    next: echo
  echo:
    type: message
    text: "Needs: {{ needs | join(', ') }}"
"""


def test_multiple_choice_ticks_then_done_saves_the_list_in_option_order(chat):
    c = chat(MULTIPLE)
    c.send("/start")
    ticked = c.press("Housing")
    assert ticked[-1].replace is True  # the keyboard is updated in place
    assert [b.label for b in c.buttons] == ["Legal", "Medical", "✅ Housing", "Done"]
    c.press("Legal")
    c.press("Medical")
    c.press("Medical")  # untick
    outputs = c.press("Done")
    assert "Needs: legal, housing" in said(outputs)
    assert c.state.status == "ended"  # the start flow ended quietly


def test_multiple_choice_done_with_nothing_ticked_asks_again(chat):
    c = chat(MULTIPLE)
    c.send("/start")
    text = said(c.press("Done"))
    assert "Tick one or more options, then press Done." in text
    assert "What help do you need?" in text


INPUTS = """\
start: cards
nodes:
  cards:
    type: input
    kind: number
    text: "How many cards?"
    min: 1
    max: 10
    error: "From 1 to 10, please."
    save: cards
    next: when
  when:
    type: input
    kind: date
    text: "When?"
    min: 2020-01-01
    save: when
    next: phone
  phone:
    type: input
    kind: phone
    text: "Phone?"
    save: phone
    next: email
  email:
    type: input
    kind: email
    text: "Email?"
    save: email
    next: code
  code:
    type: input
    text: "Code?"
    pattern: "[A-Z]{3}"
    max_length: 3
    save: code
    sensitive: true
    next: done
  done:
    type: message
    text: "{{ cards }} / {{ when }} / {{ phone }} / {{ email }} / {{ code }}"
"""


def test_input_kinds_check_reask_and_save_normalised_values(chat):
    c = chat(INPUTS)
    assert "How many cards?" in said(c.send("/start"))
    text = said(c.send("eleven"))
    assert text == "From 1 to 10, please.\nHow many cards?"
    assert said(c.send("11")).startswith("From 1 to 10, please.")
    assert "When?" in said(c.send("3"))
    assert "Please send a date like 31.12.2026." in said(c.send("tomorrow-ish"))
    assert "Please send a date no earlier than" in said(c.send("31.12.2019"))
    assert "Phone?" in said(c.send("24.02.2022"))
    assert "Please send a phone number" in said(c.send("call me"))
    assert "Email?" in said(c.send("+375 (29) 123-45-67"))
    assert "Please send an email address" in said(c.send("not-an-email"))
    assert "Code?" in said(c.send("Someone@Example.ORG"))
    assert "That does not look right." in said(c.send("abc"))
    assert "under 3 characters" in said(c.send("ABCD"))
    outputs = c.send("XYZ")
    assert said(outputs) == "3 / 2022-02-24 / +375291234567 / Someone@example.org / XYZ"
    assert c.state.vars["cards"] == 3


def test_a_sensitive_answer_is_wiped_when_its_flow_ends(chat):
    c = chat(INPUTS)
    c.send("/start")
    for answer in ("2", "01.01.2024", "+48600123456", "a@b.cd"):
        c.send(answer)
    assert c.state.sensitive == {}
    c.send("QRS")
    assert "code" not in c.state.vars
    assert all("code" not in snapshot.vars for snapshot in c.state.history)


def test_empty_huge_and_non_text_answers_are_handled_politely(chat):
    from bots.engine.events import Unsupported

    c = chat(INPUTS)
    c.send("/start")
    assert said(c.send("   ")) == "Please type your answer.\nHow many cards?"
    huge = said(c.send("7" * 10_000))
    assert "too long" in huge and "How many cards?" in huge
    sticker = said(c.handle(Unsupported("sticker")))
    assert sticker == "Please answer with a text message.\nHow many cards?"
    assert "cards" not in c.state.vars


BRANCH_SET = """\
start: count
nodes:
  count:
    type: set
    values:
      total: "2 * 3"
      label: "'many'"
      flag: true
      after: "total + 1"
    next: decide
  decide:
    type: branch
    cases:
      - when: "total > 10"
        next: big
      - when: "total > 5 and flag"
        next: medium
    else: small
  big:
    type: end
    text: "big"
  medium:
    type: end
    text: "medium {{ label }} {{ after }}"
  small:
    type: end
    text: "small"
"""


def test_set_then_branch_takes_the_first_true_case(chat):
    c = chat(BRANCH_SET)
    assert said(c.send("/start")) == "medium many 7"


def test_numbers_json_cannot_hold_are_kept_as_the_database_gives_them_back(chat):
    """Infinity and NaN are no JSON: a saved state comes back with null for them, so the state
    keeps None from the start (the store keeps states parsed between steps, and a restart
    must not change what a flow sees)."""
    c = chat(
        """\
        start: s
        nodes:
          s:
            type: set
            values:
              huge: "1e308 * 10"
              odd: "(1e308 * 10) - (1e308 * 10)"
              fine: "1.5 * 2"
              many: "[1e308 * 10, 2]"
            next: show
          show:
            type: end
            text: "{{ huge }} {{ odd }} {{ fine }} {{ many }}"
        """
    )
    assert said(c.send("/start")) == "None None 3.0 [None, 2]"
    assert c.state.vars == {"huge": None, "odd": None, "fine": 3.0, "many": [None, 2]}


def test_branch_without_else_and_no_match_ends_the_flow(chat):
    c = chat(
        """\
        start: b
        nodes:
          b:
            type: branch
            cases:
              - {when: "false", next: x}
          x:
            type: message
            text: x
        """
    )
    outputs = c.send("/start")
    assert said(outputs) == ""
    assert c.state.status == "ended"


CATALOG = (
    """\
catalog: programmes
items:
"""
    + "".join(
        f"""  - id: p{i}
    title: "Programme {i}"
    summary: "Summary {i} & more"
    eligibility: "People in <region> {i}"
    how_to_apply: "Write to us {i}"
    contact: "@example_p{i}_bot"
    url: "https://example.org/p{i}"
    regions: [{"minsk" if i % 2 else "any"}]
"""
        for i in range(1, 8)
    )
    + """  - id: old
    title: "Expired"
    summary: "gone"
    valid_until: 2000-01-01
    regions: [any]
"""
)

RESULTS = """\
start: find
nodes:
  find:
    type: results
    catalog: programmes
    filter: "'any' in item.regions or region in item.regions"
    text: "Programmes for you:"
    limit: 3
    done: "Back"
    empty: none
    next: after
  none:
    type: message
    text: "Nothing fits."
  after:
    type: message
    text: "After."
"""


def test_results_pages_shows_details_and_goes_on(chat):
    c = chat(RESULTS, **{"knowledge/programmes.yaml": CATALOG})
    c.state.vars["region"] = "minsk"
    c.send("/start")
    text = said(c.send("/start"))
    # /start clears variables: region unset, only 'any' items match (2, 4, 6)
    assert [b.label for b in c.buttons] == ["Programme 2", "Programme 4", "Programme 6", "Back"]
    assert "Programmes for you:" in text
    details = said(c.press("Programme 4"))
    assert (
        "Programme 4\n\nSummary 4 & more\n\nWho can apply: People in <region> 4\n\nHow to apply: Write to us 4"
        "\n\nContact: @example_p4_bot\n\nhttps://example.org/p4"
    ) in details
    assert [b.label for b in c.buttons][-1] == "Back"
    assert "After." in said(c.press("Back"))


def test_results_paging_with_more(chat):
    paged = RESULTS.replace(
        "start: find\nnodes:\n",
        "start: set_region\nnodes:\n  set_region:\n    type: set\n    values: {region: \"'minsk'\"}\n    next: find\n",
    )
    c = chat(paged, **{"knowledge/programmes.yaml": CATALOG})
    c.send("/start")
    assert [b.label for b in c.buttons] == ["Programme 1", "Programme 2", "Programme 3", "More", "Back"]
    c.press("More")
    assert [b.label for b in c.buttons] == ["Programme 4", "Programme 5", "Programme 6", "More", "Back"]
    c.press("More")
    assert [b.label for b in c.buttons] == ["Programme 7", "Back"]  # the expired item is never shown


def test_results_with_nothing_matching_goes_to_empty(chat):
    c = chat(RESULTS.replace("'any' in item.regions or ", ""), **{"knowledge/programmes.yaml": CATALOG})
    assert said(c.send("/start")) == "Nothing fits."


SUBFLOWS = """\
start: menu
nodes:
  menu:
    type: choice
    text: "Menu"
    options:
      - {label: "Human", flow: human}
      - {label: "Jump", next: "other:far"}
    next: back_home
  back_home:
    type: message
    text: "Back in main."
    next: call
  call:
    type: flow
    flow: other
    next: finish
  finish:
    type: end
    text: "Finished."
"""

HUMAN = """\
start: ask
nodes:
  ask:
    type: input
    text: "What do you need?"
    save: what
    sensitive: true
    next: hand
  hand:
    type: handoff
    text: "A person will answer here."
    topic: "Demo: {{ what }}"
"""

OTHER = """\
start: near
nodes:
  near:
    type: message
    text: "In other."
  far:
    type: message
    text: "Far away."
"""


def test_option_flow_runs_the_subflow_and_returns_to_the_choice_next(chat):
    c = chat(SUBFLOWS, **{"flows/demo/human.yaml": HUMAN, "flows/demo/other.yaml": OTHER})
    c.send("/start")
    assert "What do you need?" in said(c.press("Human"))
    outputs = c.send("my landlord")
    assert "A person will answer here." in said(outputs)
    opened = [o for o in outputs if isinstance(o, OpenHandoff)]
    assert opened and opened[0].topic == "Demo: my landlord"
    assert "what" not in opened[0].answers  # sensitive answers never reach moderators
    assert c.state.status == "handoff"
    assert said(c.send("hello?")) == ""  # the flow is silent while a person handles it
    from bots.engine.events import HandoffClosed

    outputs = c.handle(HandoffClosed())
    text = said(outputs)
    assert "The conversation with our team has ended." in text
    assert "Back in main." in text and "In other." in text and "Finished." in text


def test_flow_node_jump_to_another_flows_node(chat):
    c = chat(SUBFLOWS, **{"flows/demo/human.yaml": HUMAN, "flows/demo/other.yaml": OTHER})
    c.send("/start")
    outputs = c.press("Jump")
    assert said(outputs) == "Far away."
    assert c.state.status == "ended"


def test_person_can_end_a_handoff_with_end(chat):
    c = chat(SUBFLOWS, **{"flows/demo/human.yaml": HUMAN, "flows/demo/other.yaml": OTHER})
    c.send("/start")
    c.press("Human")
    c.send("x")
    text = said(c.send("/end"))
    assert "The conversation with our team has ended." in text and "Finished." in text


def test_message_with_document(chat):
    c = chat(
        """\
        start: doc
        nodes:
          doc:
            type: message
            text: "Here is the guide."
            document: guides/guide.md
        """,
        **{"knowledge/guides/guide.md": "# Guide\n"},
    )
    outputs = c.send("/start")
    assert outputs[0] == Say("Here is the guide.", document="guides/guide.md")


def test_dates_are_shown_in_the_persons_language(chat):
    from bots.engine.events import SetLanguage

    flow = """\
    start: when
    nodes:
      when:
        type: input
        kind: date
        text: "When?"
        save: day
        next: show
      show:
        type: message
        text: "On {{ day | date }} ({{ day }})"
    """
    c = chat(flow)
    c.send("/start")
    assert said(c.send("24.02.2026")) == "On 24 February 2026 (2026-02-24)"
    c2 = chat(flow, lang="ru")
    c2.send("/start")
    assert said(c2.send("24.02.2026")) == "On 24 февраля 2026 (2026-02-24)"
    c2.send("/start")
    c2.handle(SetLanguage("en"))
    assert said(c2.send("01.03.2026")) == "On 1 March 2026 (2026-03-01)"
