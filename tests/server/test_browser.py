"""The chat UI and /embed in a real browser (Playwright driving Debian's Chromium):
a streamed answer about the seed dispatch, a citation opening its dispatch with
the cited sentence highlighted, and dispatch text with HTML shown as text."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.server.conftest import XSS_QUESTION

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
SEED_QUESTION = "Quando verranno dispiegate le forze occidentali in Ucraina?"
ANSWER_TIMEOUT_MS = 900_000  # a loaded shared CPU can take minutes per answer


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.errors = errors
    yield page
    context.close()


def pwned(page) -> object:
    return page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")


@pytest.mark.llm
def test_chat_streams_an_answer_and_a_citation_opens_its_highlighted_sentence(live, page, artifacts_dir):
    page.goto(f"{live.url}/ui/")
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.locator("#model-line").filter(has_text="Model:").wait_for(timeout=60_000)  # the backend is shown
    page.fill("#question textarea", SEED_QUESTION)
    page.click("#send")
    bot = page.locator("#chatbot .bot-row").last
    # watch the answer grow while it streams
    seen: set[str] = set()
    deadline = time.time() + ANSWER_TIMEOUT_MS / 1000
    while time.time() < deadline and page.locator("#citations li.citation").count() == 0:
        if bot.count():
            seen.add(bot.inner_text().strip())
        time.sleep(0.2)
    partial = {t for t in seen if t and t != "…"}
    assert len(partial) >= 2, f"the answer did not stream: {partial}"
    first = page.locator("#citations li.citation").first
    first.wait_for(timeout=60_000)
    page.locator("#model-line").filter(has_text=re.compile(r"\d+\.\d s")).wait_for(timeout=60_000)  # final
    answer = bot.inner_text()
    assert "⚠" not in answer and "[1]" in answer, answer
    cited_id = first.get_attribute("data-sentence-id")
    cited_text = first.locator(".cit-text").inner_text()
    assert "AGENPARL" in first.locator(".cit-meta").inner_text() and "2026-02-03" in first.inner_text()

    page.locator("#citation-pick label").first.click()
    mark = page.locator("#dispatch-view mark.cited")
    mark.wait_for(timeout=30_000)
    assert mark.get_attribute("data-sentence-id") == cited_id
    assert mark.inner_text().strip() == cited_text.strip()
    assert "Rutte" in page.locator("#dispatch-view .dispatch-body").inner_text()
    page.screenshot(path=str(artifacts_dir / "ui-answer-citation.png"), full_page=True)
    assert page.errors == []


def test_dispatch_with_html_shows_as_text_in_the_corpus_tab(live, page, artifacts_dir):
    page.goto(f"{live.url}/ui/")
    page.get_by_role("tab", name="Corpus").click()
    page.wait_for_selector("#corpus-stats:has-text('dispatches')", timeout=60_000)
    assert "sentences indexed" in page.locator("#corpus-stats").inner_text()
    page.fill("#corpus-query input, #corpus-query textarea", "Pavia")
    page.click("#corpus-search")
    cell = page.locator("#corpus-table").get_by_text("Pavia", exact=True).filter(visible=True).first
    cell.wait_for(timeout=30_000)
    cell.click()
    view = page.locator("#corpus-dispatch .dispatch")
    view.wait_for(timeout=30_000)
    text = view.inner_text()
    assert "<img src=x onerror=\"window.__pwned='img'\">" in text
    assert "<script>window.__pwned='script'" in text
    assert "<img src=y onerror=\"window.__pwned='title'\">" in text  # the title too
    assert page.locator("#corpus-dispatch img, #corpus-dispatch script, #corpus-dispatch svg").count() == 0
    page.wait_for_timeout(1000)
    assert pwned(page) is None
    page.screenshot(path=str(artifacts_dir / "ui-corpus-escaped.png"), full_page=True)
    assert page.errors == []


@pytest.mark.llm
def test_embed_page_streams_and_shows_html_as_text(live, page, artifacts_dir):
    page.goto(f"{live.url}/embed")
    page.fill("#q", XSS_QUESTION)
    page.click("#go")
    page.wait_for_function("() => !document.getElementById('go').disabled && "
                           "(document.getElementById('citations').children.length > 0 || "
                           "document.getElementById('error').textContent.length > 0)", timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#error").inner_text() == ""
    cited = page.locator("#citations .citation-text").all_inner_texts()
    assert any("<img src=x onerror=\"window.__pwned='img'\">" in c for c in cited), cited
    assert page.locator("#citations img, #answer img, #citations script").count() == 0
    assert page.locator("#answer").inner_text().strip()
    assert pwned(page) is None
    page.screenshot(path=str(artifacts_dir / "embed-escaped.png"), full_page=True)
    assert page.errors == []


def test_upload_in_the_corpus_tab_reports_each_file(page, tmp_path, artifacts_dir):
    from assistant.server.app import build_app
    from tests.server.conftest import LiveServer, build_index

    good = tmp_path / "torino.txt"
    good.write_text("(ANSA) - Torino, 5 marzo 2026 - La giunta ha approvato il piano per le piste ciclabili.",
                    encoding="utf-8")
    bad = tmp_path / "rotto.txt"
    bad.write_bytes(b"\x00\x01binary\x00" * 40)
    with LiveServer(build_app(build_index(tmp_path / "idx"))) as server:
        page.goto(f"{server.url}/ui/")
        page.get_by_role("tab", name="Corpus").click()
        page.locator("#corpus-stats").filter(has_text="1 dispatches").wait_for(timeout=60_000)
        page.locator("#upload-files input[type=file]").set_input_files([str(good), str(bad)])
        page.locator("#upload-files").filter(has_text="rotto").wait_for(timeout=30_000)
        page.click("#upload-go")
        page.locator("#upload-summary").filter(has_text="1 file(s) indexed, 1 failed").wait_for(timeout=120_000)
        results = page.locator("#upload-results").inner_text()
        assert "torino.txt" in results and "indexed" in results
        assert "rotto.txt" in results and "binary data" in results.split("rotto.txt", 1)[1]
        page.locator("#corpus-stats").filter(has_text="2 dispatches").wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "ui-upload.png"), full_page=True)
    assert page.errors == []


def test_model_down_shows_a_readable_message_not_a_spinner(page, tmp_path):
    from assistant.core import Assistant
    from assistant.server.app import build_app
    from assistant.settings import LLMSettings
    from tests.conftest import make_settings
    from tests.server.conftest import LiveServer, build_index, free_port

    seeded = build_index(tmp_path)
    down = LLMSettings(backend="ollama", ollama_host=f"http://127.0.0.1:{free_port()}", timeout_s=10)
    with LiveServer(build_app(Assistant(make_settings(seeded.settings.home, llm=down)))) as server:
        page.goto(f"{server.url}/ui/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.fill("#question textarea", SEED_QUESTION)
        page.click("#send")
        bot = page.locator("#chatbot .bot-row").last
        bot.filter(has_text="unavailable").wait_for(timeout=60_000)
        text = bot.inner_text()
        assert "⚠" in text and "The language model is unavailable" in text and "127.0.0.1" in text
        assert "Traceback" not in text
        assert page.locator("#citations li.citation").count() >= 1  # the most relevant sentences instead
    assert page.errors == []
