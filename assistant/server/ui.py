"""The Gradio chat UI: streamed answers with citations, the cited dispatch
with its sentence highlighted, filters, follow-up questions, and a corpus tab
(counts, search, upload). A thin client of ServerContext / Assistant."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.events import Citations, Delta, Error, Final, Rewrite
from assistant.answering.prompting import wording
from assistant.domain import Filters
from assistant.server.context import UPLOAD_SUFFIXES, FileResult, ServerContext
from assistant.server.gate import Busy
from assistant.server.render import (answer_markdown, citation_choice, citations_html, dispatch_html,
                                     rewrite_markdown)

EXAMPLES = [
    "Quando verranno dispiegate le forze occidentali in Ucraina?",
    "Cosa ha detto Lavrov sulle garanzie di sicurezza per l'Ucraina?",
    "Where did Mark Rutte speak about the deployment of Western forces?",
    "What did the Kremlin spokesman say about Western troops?",
]
REWRITE_LABEL = {"it": "Domanda riformulata", "en": "Rewritten question"}
LIST_LIMIT = 100
TABLE_HEADERS = ["id", "date", "agency", "place", "title", "language"]


def parse_filters(since: str, until: str, sources: list[str] | None, languages: list[str] | None) -> Filters:
    """Filters from the UI fields; ValueError with a readable message on bad dates."""
    def day(text: str, name: str) -> date | None:
        text = (text or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{name}' must be a date as YYYY-MM-DD (got {text!r}).") from None
    return Filters(since=day(since, "From"), until=day(until, "To"), sources=list(sources or []),
                   languages=list(languages or []))


class ChatUI:
    """Builds the Blocks and holds the handlers."""

    def __init__(self, ctx: ServerContext):
        self.ctx = ctx
        self.prompts_dir = ctx.settings.prompts_dir

    # --- chat -----------------------------------------------------------------
    def respond(self, question: str, chat: list[dict], conversation: list[dict], since: str, until: str,
                sources: list[str], languages: list[str]):
        """Stream one answer into the chat. Yields (chat, citations html, citation picker,
        dispatch view, model line, conversation, citations, question box)."""
        question = (question or "").strip()
        if not question:
            yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), conversation, gr.skip(), ""
            return
        chat = [*chat, {"role": "user", "content": escape(question)}, {"role": "assistant", "content": "…"}]
        language = self.ctx.assistant.question_language(question)
        state: dict[str, Any] = {"rewrite": "", "text": "", "citations": [], "model": gr.skip()}

        def view(body: str | None = None):
            chat[-1] = {"role": "assistant", "content": body if body is not None else
                        "\n\n".join(x for x in (state["rewrite"], escape(state["text"]) or "…") if x)}
            cites = state["citations"]
            heading = wording(self.prompts_dir, language)["sources_heading"]
            picker = gr.update(choices=[citation_choice(c) for c in cites], value=None, visible=bool(cites))
            return (chat, citations_html(cites, heading), picker, "", state["model"], conversation, cites, "")

        try:
            filters = parse_filters(since, until, sources, languages)
            question = self.ctx.check_question(question)
            ticket = self.ctx.ticket()
        except (ValueError, Busy) as exc:
            yield view(f"⚠️ {escape(str(exc))}")
            return
        yield view()
        history = [dict(m) for m in conversation]
        for event in self.ctx.events(ticket, question, filters, None, history):
            if isinstance(event, Rewrite):
                state["rewrite"] = rewrite_markdown(event.question, REWRITE_LABEL.get(language, "Rewritten"))
            elif isinstance(event, Delta):
                state["text"] += event.text
            elif isinstance(event, Citations):
                state["citations"] = event.citations
            elif isinstance(event, Error):
                state["citations"] = (event.fallback or {}).get("citations", [])
                yield view("\n\n".join(x for x in (state["rewrite"], f"⚠️ {escape(event.message)}") if x))
                return
            elif isinstance(event, Final):
                answer = event.answer
                words = wording(self.prompts_dir, answer.language)
                state["citations"] = [c.model_dump(mode="json") for c in answer.citations]
                state["model"] = self.answer_line(answer)
                conversation = [*conversation, {"role": "user", "content": question},
                                {"role": "assistant", "content": answer.answer}]
                language = answer.language
                body = "\n\n".join(x for x in (state["rewrite"], answer_markdown(answer, words["unsupported"],
                                                                             words["conflicts_heading"])) if x)
                yield view(body)
                return
            yield view()

    @staticmethod
    def answer_line(answer) -> str:
        model = answer.backend or "no model call (answered from retrieval)"
        took = answer.timings.get("total", 0.0)
        return f"**Model:** {escape(model)} · {took:.1f} s" + (
            f" · declined ({escape(answer.abstain_reason or '')})" if answer.abstained else "")

    def show_citation(self, index: int | None, citations: list[dict]) -> str:
        """The cited dispatch with the cited sentence highlighted."""
        if index is None or not citations or index >= len(citations):
            return ""
        cited = citations[index]
        found = self.ctx.assistant.dispatch(cited["doc_id"])
        if found is None:
            return f"<p>{escape('This dispatch is no longer in the index.')}</p>"
        return dispatch_html(*found, highlight=cited["sentence_id"])

    def model_status(self) -> str:
        """Which model answers (and why), shown at the top."""
        try:
            backends = self.ctx.assistant.status()["backends"]
        except Exception as exc:
            return f"**Model:** status unavailable ({escape(str(exc))})"
        loaded = backends.get("llm_loaded")
        names = {"llamacpp": "bundled model via llama.cpp", "ollama": "Ollama", "openai": "OpenAI-compatible server"}
        chosen = loaded or f"{names.get(backends.get('llm'), backends.get('llm'))} ({backends.get('llm_reason')}; loads on first use)"
        return f"**Model:** {escape(str(chosen))}"

    # --- corpus -----------------------------------------------------------------
    def corpus_stats(self) -> str:
        stats = self.ctx.assistant.corpus_stats()
        langs = ", ".join(f"{escape(k)} {v}" for k, v in stats["by_language"].items()) or "—"
        return (f"**{stats['dispatches']}** dispatches and **{stats['sentences']}** sentences indexed "
                f"(by language: {langs}).")

    def source_choices(self) -> list[str]:
        return [s for s in self.ctx.assistant.corpus_stats()["by_source"] if s != "unknown"]

    def search(self, query: str):
        total, items = self.ctx.assistant.list_dispatches((query or "").strip(), None, 0, LIST_LIMIT)
        rows = [[d.id, d.published_at.isoformat() if d.published_at else "", d.agency or "", d.place or "",
                 d.title or "", d.language] for d in items]
        shown = f"{len(rows)} of {total} dispatches" + (" (refine the search to see others)" if total > len(rows) else "")
        return rows, shown

    def open_row(self, evt: gr.SelectData) -> str:
        row = evt.row_value or []
        found = self.ctx.assistant.dispatch(str(row[0])) if row else None
        return dispatch_html(*found) if found else ""

    def upload(self, paths: list[str] | None, progress=gr.Progress()):
        if not paths:
            return [], "Choose one or more .txt or .jsonl files first.", gr.skip(), gr.skip()
        files = [(Path(p).name, Path(p).read_bytes()) for p in paths]
        done = [0]

        def on_file(result: FileResult) -> None:
            done[0] += 1
            progress((done[0], len(files)), desc=f"Indexed {result.name}", unit="files")

        progress((0, len(files)), desc="Indexing", unit="files")
        results, report = self.ctx.ingest_files(files, on_file=on_file)
        rows = [[r.name, "error: " + r.error if r.error else "indexed"] for r in results]
        failed = sum(1 for r in results if r.error)
        summary = f"{len(results) - failed} file(s) indexed, {failed} failed."
        if report is not None:
            summary += (f" Dispatches written: {report.dispatches_written}, unchanged: "
                        f"{report.dispatches_unchanged}; sentences: {report.sentences_written}.")
        return rows, summary, self.corpus_stats(), self.search("")[0]

    # --- layout -------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        with gr.Blocks(title="Dispatch Assistant") as demo:
            gr.Markdown("## Dispatch Assistant\nAsk in Italian or English; answers cite the dispatches' sentences.")
            model_line = gr.Markdown(elem_id="model-line")
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(elem_id="chatbot", height=430, label="Conversation",
                                          feedback_options=None, allow_tags=False)
                        with gr.Row():
                            question = gr.Textbox(elem_id="question", show_label=False, scale=5, max_lines=4,
                                                  placeholder="Fai una domanda / Ask a question", autofocus=True)
                            send = gr.Button("Ask", elem_id="send", variant="primary", scale=1)
                        gr.Examples(EXAMPLES, inputs=[question], label="Examples")
                        with gr.Row():
                            clear = gr.Button("New conversation", elem_id="clear", size="sm")
                        with gr.Accordion("Filters", open=False):
                            with gr.Row():
                                since = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="since")
                                until = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="until")
                            sources = gr.Dropdown(label="Source / agency", multiselect=True, allow_custom_value=True,
                                                  choices=[], elem_id="sources")
                            languages = gr.CheckboxGroup(["it", "en"], label="Language", elem_id="languages")
                    with gr.Column(scale=2):
                        cites_box = gr.HTML(elem_id="citations")
                        pick = gr.Radio(label="Show the dispatch of citation", type="index", choices=[],
                                        visible=False, elem_id="citation-pick")
                        dispatch_view = gr.HTML(elem_id="dispatch-view")
            with gr.Tab("Corpus", id="corpus"):
                stats = gr.Markdown(elem_id="corpus-stats")
                with gr.Row():
                    query = gr.Textbox(label="Search title, text or id", elem_id="corpus-query", scale=4)
                    find = gr.Button("Search", elem_id="corpus-search", scale=1)
                shown = gr.Markdown()
                table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, elem_id="corpus-table",
                                     datatype=["str"] * len(TABLE_HEADERS), wrap=True)
                corpus_view = gr.HTML(elem_id="corpus-dispatch")
                gr.Markdown("### Add dispatches")
                files = gr.File(label="Dispatch files (.txt, .jsonl)", file_count="multiple",
                                file_types=list(UPLOAD_SUFFIXES), elem_id="upload-files")
                ingest = gr.Button("Index files", elem_id="upload-go")
                upload_summary = gr.Markdown(elem_id="upload-summary")
                upload_table = gr.Dataframe(headers=["file", "result"], interactive=False, elem_id="upload-results")

            conversation = gr.State([])
            citations = gr.State([])
            outputs = [chat, cites_box, pick, dispatch_view, model_line, conversation, citations, question]
            inputs = [question, chat, conversation, since, until, sources, languages]
            for trigger in (send.click, question.submit):
                trigger(self.respond, inputs, outputs, show_progress="hidden", concurrency_limit=None)
            clear.click(lambda: ([], "", gr.update(choices=[], value=None, visible=False), "", [], []),
                        None, [chat, cites_box, pick, dispatch_view, conversation, citations])
            pick.change(self.show_citation, [pick, citations], [dispatch_view])
            for trigger in (find.click, query.submit):
                trigger(self.search, [query], [table, shown])
            table.select(self.open_row, None, [corpus_view])
            ingest.click(self.upload, [files], [upload_table, upload_summary, stats, table])
            demo.load(lambda: (self.model_status(), self.corpus_stats(), gr.update(choices=self.source_choices()),
                               *self.search("")), None, [model_line, stats, sources, table, shown])
        return demo


def build_ui(ctx: ServerContext) -> gr.Blocks:
    """The chat UI bound to a server context."""
    return ChatUI(ctx).build()
