"""``GET /embed``: a compact page for an iframe in a portal. It calls
/api/ask/stream and writes every piece of text with ``textContent``, so
nothing from a dispatch or the model is ever parsed as HTML."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dispatch Assistant</title>
<style>
 body{font:15px/1.45 system-ui,sans-serif;margin:0;padding:10px;color:#1c1c1c;background:#fff}
 form{display:flex;gap:6px} input{flex:1;padding:7px;border:1px solid #bbb;border-radius:6px;font:inherit}
 button{padding:7px 12px;border:0;border-radius:6px;background:#1f5fbf;color:#fff;font:inherit;cursor:pointer}
 button:disabled{background:#8aa6d6} #answer{margin:10px 0;white-space:pre-wrap}
 #rewrite,.meta{color:#666;font-size:13px} #error{color:#a40000}
 ol{padding-left:22px;margin:6px 0} li{margin:4px 0} .unsupported{color:#8a5a00;font-size:13px}
 #conflicts{list-style:none;padding:0;margin:6px 0} .conflict{color:#6b3fa0;font-size:13px}
</style></head><body>
<form id="ask"><input id="q" name="q" autocomplete="off" required maxlength="2000"
 placeholder="Fai una domanda sui dispacci / Ask about the dispatches" aria-label="Question">
<button id="go" type="submit">Chiedi</button></form>
<div id="rewrite"></div><div id="answer" aria-live="polite"></div><div id="unsupported"></div>
<ul id="conflicts"></ul><ol id="citations"></ol><div id="error" role="alert"></div>
<script>
(function(){
  const key = new URLSearchParams(location.search).get("key");
  const $ = (id) => document.getElementById(id);
  function text(el, value){ el.textContent = value == null ? "" : String(value); }
  function item(tag, value, cls){ const e = document.createElement(tag); text(e, value); if(cls) e.className = cls; return e; }
  function showCitations(list){
    const ol = $("citations"); ol.replaceChildren();
    for (const c of list || []) {
      const li = document.createElement("li"); li.value = c.n;
      li.appendChild(item("span", c.text, "citation-text"));
      const where = [c.agency, c.place, c.published_at, c.title].filter(Boolean).join(" · ");
      li.appendChild(document.createElement("br")); li.appendChild(item("span", where, "meta"));
      ol.appendChild(li);
    }
  }
  function handle(name, data){
    if (name === "rewrite") text($("rewrite"), "→ " + data.question);
    else if (name === "delta") $("answer").textContent += data.text;
    else if (name === "citations") showCitations(data.citations);
    else if (name === "final") {
      text($("answer"), data.answer); showCitations(data.citations);
      const u = $("unsupported"); u.replaceChildren();
      for (const s of data.unsupported || []) u.appendChild(item("div", "⚠ " + s, "unsupported"));
      const k = $("conflicts"); k.replaceChildren();
      for (const side of data.conflicts || []) {
        const where = [side.agency, side.published_at].filter(Boolean).join(" · ");
        const marks = (side.citations || []).map((n) => "[" + n + "]").join("");
        k.appendChild(item("li", "⚖ " + side.value + " — " + where + " " + marks, "conflict"));
      }
    } else if (name === "error") text($("error"), data.message);
  }
  async function ask(question){
    for (const id of ["rewrite","answer","error","unsupported"]) text($(id), "");
    $("citations").replaceChildren(); $("conflicts").replaceChildren(); $("go").disabled = true;
    const headers = {"Content-Type": "application/json", "Accept": "text/event-stream"};
    if (key) headers["Authorization"] = "Bearer " + key;
    try {
      const r = await fetch("api/ask/stream", {method: "POST", headers, body: JSON.stringify({question})});
      if (!r.ok) { let m = r.status + " " + r.statusText;
        try { const j = await r.json(); m = (j.error && j.error.message) || j.detail || m; } catch (e) {}
        text($("error"), m); return; }
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read(); if (done) break;
        buffer += value; let cut;
        while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          let name = "message", data = "";
          for (const line of block.split("\\n")) {
            if (line.startsWith("event:")) name = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (data) handle(name, JSON.parse(data));
        }
      }
    } catch (e) { text($("error"), "Connection failed: " + e.message); }
    finally { $("go").disabled = false; }
  }
  $("ask").addEventListener("submit", (ev) => { ev.preventDefault(); const q = $("q").value.trim(); if (q) ask(q); });
})();
</script></body></html>
"""


def build_embed_router() -> APIRouter:
    """The /embed page (API keys: ``/embed?key=...``, passed on to the API)."""
    router = APIRouter(tags=["embed"])

    @router.get("/embed", response_class=HTMLResponse, summary="Compact question page for an iframe")
    def embed() -> HTMLResponse:
        return HTMLResponse(PAGE, headers={"Content-Security-Policy": "default-src 'self'; "
                                           "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                           "frame-ancestors *"})

    return router
