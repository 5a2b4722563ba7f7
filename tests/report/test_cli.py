"""`bots report` on the command line: Markdown (with its charts beside it), HTML (one page,
well-formed, its charts inline), JSON; clear messages for what cannot be done; and the short
summary for the moderators' group."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bots import cli
from bots.engine import Project
from bots.report import Report, build_report, render, week_period, weekly_summary_html
from bots.report.summary import NOTE

SVG = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "link", "br", "hr", "img", "input"}

pytestmark = pytest.mark.usefixtures("_restore_logging")


def report(root: Path, db: Path, *args: str) -> int:
    return cli.main(["--project", str(root), "report", "--db", str(db), *args])


class Balanced(HTMLParser):
    """Fails on any element closed out of order or left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def svg_charts(text: str) -> list[ET.Element]:
    return [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", text, re.S)]


def test_html_is_one_well_formed_page_with_its_charts(
    root: Path, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "week.html"
    target.parent.mkdir()
    assert report(root, db, "--week", "2024-W06", "--format", "html", "-o", str(target)) == 0
    assert capsys.readouterr().err == f"wrote {target}\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["week.html"]  # self-contained
    page = target.read_text(encoding="utf-8")
    parser = Balanced()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert {"html", "head", "style", "body", "table", "svg", "title", "rect"} <= set(parser.tags)
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # escaped: the bot's name and a catalog title with < > &
    assert "Demo &amp; Co" in page and "Legal aid &lt;fund&gt; &amp; co" in page and "<fund>" not in page
    text = " ".join(" ".join(parser.text).split())
    assert "Demo & Co helped 1,234 people" in text
    assert "within 15 minutes 20" in text and "4 hours to 1 day fewer than 5" in text
    charts = svg_charts(page)
    assert len(charts) == 2  # demo/main and lib/safety
    main = charts[0]
    assert main.get("role") == "img"
    title = main.find(f"{SVG}title")
    assert title is not None and title.text == "Funnel of demo/main (Demo & Co): entries per node along the main path"
    labels = [t.text for t in main.iter(f"{SVG}text")]
    # the main path (where most went), not the file's order: welcome, menu, bye
    assert labels[1:] == ["welcome", "100 · 20% drop-off", "menu", "80 · 19% drop-off", "bye", "60 · 100% drop-off"]
    bars = [float(r.get("width", "0")) for g in main.findall(f"{SVG}g") for r in g.findall(f"{SVG}rect")]
    assert len(bars) == 3
    assert bars[0] == max(bars) and bars[1] == pytest.approx(bars[0] * 0.8, abs=0.1)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_markdown_with_a_file_writes_the_charts_beside_it(
    root: Path, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "weekly.md"
    assert report(root, db, "--week", "2024-W06", "-o", str(target)) == 0
    main, safety = tmp_path / "weekly-demo-main.svg", tmp_path / "weekly-demo-lib-safety.svg"
    assert capsys.readouterr().err == f"wrote {main}\nwrote {safety}\nwrote {target}\n"
    text = target.read_text(encoding="utf-8")
    assert "![Funnel of demo/main](weekly-demo-main.svg)" in text
    assert "![Funnel of lib/safety](weekly-demo-lib-safety.svg)" in text
    assert "| people (once per day) | 1,234 |" in text
    assert "| Legal aid \\<fund\\> \\& co | programmes | 30 | 300 |" in text
    assert "| `gone` (not in the catalog) | programmes | 7 | 0 |" in text
    assert "| Polish (pl) | 5 or more |" in text and "| Belarusian (be) | fewer than 5 |" in text
    assert "| node | type | main path | entries | went no further | drop-off |" in text
    assert "| menu | choice | yes | 80 | 15 | 18.8% |" in text and "| bye | end | yes | 60 | 60 | 100% |" in text
    assert "| find | results |  | fewer than 5 | 0 | – |" in text
    assert "| mean time to the first reply | 2 h 10 min |" in text
    assert "| mean time to closing | 1 d 1 h |" in text
    chart = ET.parse(main).getroot()
    assert chart.tag == f"{SVG}svg"
    assert chart.find(f"{SVG}title") is not None


def test_markdown_to_standard_output_says_charts_need_a_file(
    root: Path, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(root, db, "--week", "2024-W06", "--bot", "demo") == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("# Report: week 2024-W06 (5–11 February 2024)\n")
    assert "charts are written as SVG files beside the report with `-o FILE`" in out
    assert "![" not in out and not list(tmp_path.glob("*.svg"))


def test_json_on_standard_output(root: Path, db: Path, project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(root, db, "--week", "2024-W06", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"since": "2024-02-05", "until": "2024-02-11", "week": "2024-W06"}
    loaded = Report.from_json(data)
    (demo,) = loaded.bots
    assert demo.people.exact == 1234 and demo.handoffs.answered.exact == 50
    assert data["bots"][0]["funnels"][0]["steps"][3] == {
        "node": "find", "type": "results", "entries": {"fewer_than": 5}, "went_no_further": 0, "drop_off_percent": None,
        "main_path": False,
    }  # fmt: skip
    assert loaded.bots[0].funnels == build_report(project, db, week_period("2024-W06"), ["demo"]).bots[0].funnels


def test_since_and_until(root: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(root, db, "--since", "2024-02-04", "--until", "2024-02-12", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"]["week"] is None
    assert data["bots"][0]["people"] == 7000 + 1234 + 9000


def test_a_missing_database_is_one_clear_line(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.db"
    assert report(root, missing, "--week", "2024-W06") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f"bots: {missing}: no such database; the counters are in the database the bots run with (--db, $BOTS_DB or ./bots.db)\n"
    )
    assert not missing.exists()  # read-only: nothing created


def test_the_database_comes_from_bots_db(
    root: Path, db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOTS_DB", str(db))
    assert cli.main(["--project", str(root), "report", "--week", "2024-W06", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["bots"][0]["people"] == 1234


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2024-6"], "bots: '2024-6' is not an ISO week: write it as YYYY-Www, e.g. 2024-W05\n"),
        (["--week", "2024-W06", "--since", "2024-02-01"], "bots: give either --week or --since/--until, not both\n"),
        (["--bot", "nobody"], "bots: no bot 'nobody'; the bots are: demo\n"),
    ],
)
def test_wrong_options_are_named(root: Path, db: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(root, db, *args) == 2
    assert capsys.readouterr().err == message


# --- the same sections in both formats --------------------------------------------------------


def both(project: Project, db: Path) -> tuple[str, str]:
    """The Markdown and the HTML of demo's 2024-W06, the HTML as its text alone."""
    report = build_report(project, db, week_period("2024-W06"), ["demo"])
    parser = Balanced()
    parser.feed(render(report, "html")[0])
    return render(report, "md")[0], " ".join(" ".join(parser.text).split())


def headings(markdown: str, html: str) -> tuple[list[str], list[str]]:
    return re.findall(r"^#{3,4} (.*)$", markdown, re.M), re.findall(r"<h[34]>(.*?)</h[34]>", html)


def test_markdown_and_html_show_the_same_sections(project: Project, db: Path) -> None:
    report = build_report(project, db, week_period("2024-W06"), ["demo"])
    markdown, html = render(report, "md")[0], render(report, "html")[0]
    expected = ["Outcomes", "Consultations", "Most opened catalog items", "Languages", "Funnels", "demo/main", "lib/safety"]
    assert headings(markdown, html) == (expected, expected)
    # figures, outcomes, 3 on consultations, items, languages, 2 funnels
    assert html.count("<table>") == len(re.findall(r"^\| ---", markdown, re.M)) == 9


def test_what_was_not_counted_is_said_in_words(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([("people", "", 3), ("handoff_answered", "", 3), ("handoff_closed", "closed", 3), ("closing_seconds", "", 600)])
    markdown, html = both(project, db)
    for text in (markdown, html):
        assert "No conversation reached an outcome." in text
        assert "No catalog item was opened." in text
        assert "No languages recorded." in text
        assert text.count("Nobody entered this flow.") == 2
    assert "| mean time to closing | not shown (fewer than 5) |" in markdown
    assert "mean time to closing not shown (fewer than 5)" in html


def test_a_bot_with_nothing_counted_has_only_its_headline(project: Project, counters: Callable[..., Path]) -> None:
    markdown, html = both(project, counters([("people", "", 50)], bot="elsewhere"))
    said = "In the week 2024-W06 (5–11 February 2024) nothing was counted for Demo & Co."
    assert markdown.endswith("## Demo \\& Co (demo)\n\n" + said.replace("&", "\\&") + "\n")
    assert html.endswith(f"Demo & Co (demo) {said}")
    assert "|" not in markdown and "Outcomes" not in html


# --- the summary for the moderators' group -------------------------------------------------------


def test_weekly_summary_for_telegram(project: Project, db: Path) -> None:
    text = weekly_summary_html(project, db, "demo", "2024-W06")
    assert len(text) < 4000
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i", "a"}
    assert text.startswith("<b>Demo &amp; Co: week 2024-W06 (5–11 February 2024)</b>\n\n")
    assert "Demo &amp; Co helped 1,234 people" in text
    assert "opened 56 · answered 50 · closed 48" in text
    assert "• Legal aid &lt;fund&gt; &amp; co: 30\n" in text
    assert "• Food parcels: fewer than 5\n" in text


def test_weekly_summary_stays_short(project: Project, counters: Callable[..., Path]) -> None:
    db = counters([("outcome", "<" * 400 + str(i), 10) for i in range(40)] + [("people", "", 10)])
    text = weekly_summary_html(project, db, "demo", "2024-W06")
    assert len(text) < 4000
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i", "a"}
    title, said, note = text.split("\n\n")
    assert title == "<b>Demo &amp; Co: week 2024-W06 (5–11 February 2024)</b>"
    # the headline cut short where it would not fit, with the note whole after it
    assert said.startswith("In the week 2024-W06 (5–11 February 2024) Demo &amp; Co helped 10 people")
    assert said.endswith("&lt;…") and "&lt" in said[-3000:]
    assert note == f"<i>{NOTE}</i>"
