/** The assembled prompt as text, each `---source:` line a link to the cited lines. */
import { href } from "../lib/route";

const SOURCE = /^---source: ([^,\s]+), (.*?)(?::(\d+)-(\d+)| \(([a-z-]+)\))$/;

export function ContextText({ projectId, text }: { projectId: string; text: string }) {
  const lines = text.split("\n");
  return (
    <pre class="context-text mono" data-testid="context-text">
      {lines.map((line, i) => {
        const m = SOURCE.exec(line);
        const nl = i < lines.length - 1 ? "\n" : "";
        if (!m?.[1]) return line + nl;
        const range: [number, number] | undefined = m[3] ? [Number(m[3]), Number(m[4])] : undefined;
        return (
          <span key={i}>
            <a href={href.chunk(projectId, m[1], range)}>{line}</a>
            {nl}
          </span>
        );
      })}
    </pre>
  );
}
