/** Numbers, sizes and dates as people read them. */
export const tokens = (n: number): string => n.toLocaleString("en-US");
export const compact = (n: number): string =>
  n >= 1_000_000 ? `${(n / 1_000_000).toFixed(n % 1_000_000 ? 1 : 0)}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
export const bytes = (n: number): string => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);
export const usd = (n: number): string => `$${n.toFixed(n < 1 ? 4 : 2)}`;
export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : "—");
export const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
