/**
 * @module A small Prometheus registry: counters, gauges and histograms
 * with labels, collectors that read a value at scrape time, and the text
 * exposition format (version 0.0.4).
 */

/** Label values by label name. */
export type Labels = Record<string, string>;

/** One value a collector reports. */
export interface Sample {
  labels?: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): Promise<string[]> | string[];
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;
}

/** The series of a label set, whatever order its names come in (cheaper than JSON; label values here never hold control characters). */
function key(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let out = "";
  for (const name of names) out += `${name}\u0000${labels[name]}\u0001`;
  return out;
}

function num(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
}

/** A monotonically increasing count per label set. */
export class Counter implements Family {
  readonly type = "counter";
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.values.get(k);
    if (entry) entry.value += by;
    else this.values.set(k, { labels, value: by });
  }

  /** The current value for a label set (for tests and derived metrics). */
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }

  render(): string[] {
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`);
  }
}

/** A value that goes up and down, set directly. */
export class Gauge implements Family {
  readonly type = "gauge";
  private value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  get(): number {
    return this.value;
  }
  render(): string[] {
    return [`${this.name} ${num(this.value)}`];
  }
}

/** Observations counted into cumulative buckets, per label set. */
export class Histogram implements Family {
  readonly type = "histogram";
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText(s.labels, ["le", String(le)])} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** Metrics in registration order, rendered together. */
export class MetricsRegistry {
  private readonly families: Family[] = [];

  /** Labels put on every sample (e.g. `worker`, so the series of processes sharing a port stay apart). */
  constLabels: Labels = {};

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** A metric whose samples are read when scraped (from the database, the process, …). */
  collector(name: string, help: string, type: "counter" | "gauge", collect: () => Promise<Sample[]> | Sample[]): void {
    this.add({
      name,
      help,
      type,
      render: async () => (await collect()).map((s) => `${name}${labelText(s.labels)} ${num(s.value)}`),
    });
  }

  /** The text exposition of every metric. */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const family of this.families) {
      out.push(`# HELP ${family.name} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${family.name} ${family.type}`);
      const lines = await family.render();
      out.push(...(Object.keys(this.constLabels).length === 0 ? lines : lines.map((line) => withLabels(line, this.constLabels))));
    }
    return `${out.join("\n")}\n`;
  }

  private add<F extends Family>(family: F): F {
    if (this.families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} registered twice`);
    this.families.push(family);
    return family;
  }
}

/** A sample line with `labels` added first: `name{a="b"} 1` → `name{worker="1",a="b"} 1`. */
function withLabels(line: string, labels: Labels): string {
  const text = labelText(labels).slice(1, -1);
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  if (brace !== -1 && brace < space) return `${line.slice(0, brace + 1)}${text},${line.slice(brace + 1)}`;
  return `${line.slice(0, space)}{${text}}${line.slice(space)}`;
}

/**
 * One exposition from several processes' (each labelled apart): every
 * family's HELP and TYPE once, followed by the samples of all of them, as
 * the format requires.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const text of texts) {
    let current: { head: string[]; samples: string[] } | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const head = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (head) {
        const name = head[2]!;
        current = families.get(name);
        if (!current) families.set(name, (current = { head: [], samples: [] }));
        if (current.head.length < 2 && !current.head.some((h) => h.startsWith(`# ${head[1]} `))) current.head.push(line);
        continue;
      }
      current?.samples.push(line);
    }
  }
  const out: string[] = [];
  for (const family of families.values()) out.push(...family.head, ...family.samples);
  return `${out.join("\n")}\n`;
}
