/**
 * GET /docs: the OpenAPI document as a readable page, rendered on the server (no script, nothing
 * fetched from elsewhere): operations by tag with who may call them, parameters, request and response
 * schemas, and the named schemas they refer to.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { OpenAPIV3_1 } from "openapi-types";

type Operation = OpenAPIV3_1.OperationObject & { "x-winky-caller"?: string };
type Media = Record<string, OpenAPIV3_1.MediaTypeObject> | undefined;

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const json = (v: unknown) => html`<pre>${JSON.stringify(v, null, 2)}</pre>`;
const anchor = (method: string, path: string) => `${method}-${path}`.replace(/[^\w-]+/g, "-");

function media(content: Media) {
  return Object.entries(content ?? {}).map(([type, m]) => html`<div><code>${type}</code>${m.schema ? json(m.schema) : ""}</div>`);
}

function operation(method: string, path: string, op: Operation) {
  const params = (op.parameters ?? []) as OpenAPIV3_1.ParameterObject[];
  const body = op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
  return html`<section id="${anchor(method, path)}">
    <h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${op.summary ?? ""}</p>
    <p class="who">caller: <b>${op["x-winky-caller"] ?? "?"}</b></p>
    ${params.length > 0 ? html`<h4>Parameters</h4><ul>${params.map((p) => html`<li><code>${p.name}</code> (${p.in}${p.required ? ", required" : ""})</li>`)}</ul>` : ""}
    ${body ? html`<h4>Request body</h4>${body.description ? html`<p>${body.description}</p>` : ""}${media(body.content)}` : ""}
    <h4>Responses</h4>
    ${Object.entries(op.responses ?? {}).map(([status, r]) => {
      const res = r as OpenAPIV3_1.ResponseObject;
      return html`<div class="r"><b>${status}</b> ${res.description}${media(res.content)}</div>`;
    })}
  </section>`;
}

export function referencePage(doc: OpenAPIV3_1.Document): HtmlEscapedString | Promise<HtmlEscapedString> {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item?.[m] ? [{ method: m, path, op: item[m] as Operation }] : [])),
  );
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "other"))];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${doc.info.title}</title>
<style>${raw(STYLE)}</style></head>
<body><header><h1>${doc.info.title}</h1><p>${doc.info.description ?? ""}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}). Authenticate with <code>Authorization: Bearer &lt;API key&gt;</code>.</p></header>
<nav>${tags.map((t) => html`<h2>${t}</h2><ul>${ops.filter((o) => (o.op.tags?.[0] ?? "other") === t).map((o) => html`<li><a href="#${anchor(o.method, o.path)}"><span class="m ${o.method}">${o.method.toUpperCase()}</span> ${o.path}</a></li>`)}</ul>`)}</nav>
<main>${tags.map((t) => html`<h2>${t}</h2>${ops.filter((o) => (o.op.tags?.[0] ?? "other") === t).map((o) => operation(o.method, o.path, o.op))}`)}
<h2 id="schemas">Schemas</h2>${Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => html`<section id="schema-${name}"><h3><code>${name}</code></h3>${json(s)}</section>`)}</main>
</body></html>`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --bg: #fff; --muted: #5b6475; --line: #e3e6ec; --code: #f5f6f8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --bg: #14171d; --muted: #9aa3b2; --line: #2a2f39; --code: #1c2028; } }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); display: grid; grid-template-columns: minmax(220px, 300px) 1fr; }
header { grid-column: 1 / -1; padding: 16px 24px; border-bottom: 1px solid var(--line); }
nav { padding: 8px 16px; border-right: 1px solid var(--line); font-size: 13px; } nav ul { list-style: none; padding: 0; } nav a { color: inherit; text-decoration: none; }
main { padding: 8px 24px; min-width: 0; } section { border-bottom: 1px solid var(--line); padding: 8px 0; }
pre { background: var(--code); padding: 8px; overflow: auto; max-height: 320px; font-size: 12px; }
.m { font: 600 11px monospace; padding: 1px 5px; border-radius: 3px; color: #fff; } .get { background: #2b7a3d; } .post { background: #2456a6; } .put, .patch { background: #8a5a00; } .delete { background: #a23030; }
.who { color: var(--muted); } h4 { margin: 8px 0 4px; }
@media (max-width: 700px) { body { display: block; } nav { border: 0; } }
`;
