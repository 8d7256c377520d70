/** A small inline-SVG bar chart of values by label (days), with the largest value marked. */
import { compact } from "../lib/format";

const W = 600;
const H = 160;
const PAD = 24;

/** `floor`: the least the y axis reaches, so a few small counts are not drawn full height (1 by default; less for fractions of a dollar). */
export function BarChart({
  title,
  points,
  format = compact,
  floor = 1,
}: {
  title: string;
  points: { label: string; value: number }[];
  format?: (n: number) => string;
  floor?: number;
}) {
  if (points.length === 0) return <div class="empty">No {title.toLowerCase()} in this period.</div>;
  const max = Math.max(...points.map((p) => p.value), floor);
  const step = (W - PAD * 2) / points.length;
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>
        {title} <span class="muted">(max {format(max)})</span>
      </figcaption>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${points.map((p) => `${p.label} ${format(p.value)}`).join(", ")}`}>
        <line class="axis" x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} />
        {points.map((p, i) => {
          const h = ((H - PAD * 2) * p.value) / max;
          return (
            <g key={p.label}>
              <rect class="bar" x={PAD + i * step + 2} y={H - PAD - h} width={Math.max(1, step - 4)} height={h}>
                <title>{`${p.label}: ${format(p.value)}`}</title>
              </rect>
              {points.length <= 14 ? (
                <text x={PAD + i * step + step / 2} y={H - 8} text-anchor="middle">
                  {p.label.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
