/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access --
   the page's DOM and uPlot are untyped here: this project compiles without the DOM library. */
import type { ChartSpec } from './chart-spec.js';

// The page's DOM (this project compiles without the DOM library).
declare const document: any;

/**
 * Runs IN THE REPORT PAGE, not in Node: html-report.ts inlines this function's source (Function.prototype.toString)
 * after uPlot's, and calls it with the chart specs. It must therefore be self-contained: no imports, no closures
 * over module scope. When every chart is drawn it sets <html data-charts-rendered="N">; on any error
 * <html data-report-error="...">. The report test reads both back from headless Chromium.
 */
export function drawCharts(specs: ChartSpec[], uPlot: any): void {
  const root = document.documentElement;
  const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
  let drawn = 0;
  try {
    for (const spec of specs) {
      const el = document.getElementById(spec.id);
      if (!el) throw new Error(`no element for chart ${spec.id}`);
      const width = Math.max(320, (el.clientWidth || 572) - 12); // inside the chart box's padding
      const groups = spec.series.length;
      let x: number[] = spec.x;
      let series: Array<Array<number | null>> = spec.series.map((s) => s.values);
      let xAxis: any = { label: spec.xLabel };
      let xScale: any = { time: false };
      if (spec.kind === 'categories') {
        // Grouped bars: group i occupies slots i·(k+1) … i·(k+1)+k−1, one per series, and a gap.
        const slots = groups + 1;
        const n = spec.categories?.length ?? 0;
        x = [];
        series = spec.series.map(() => []);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < slots; j++) {
            x.push(i * slots + j);
            spec.series.forEach((s, k) => series[k]!.push(k === j ? (s.values[i] ?? null) : null));
          }
        }
        const centers = Array.from({ length: n }, (_, i) => i * slots + (groups - 1) / 2);
        xAxis = {
          label: spec.xLabel,
          splits: () => centers,
          values: (_u: any, splits: number[]) =>
            splits.map((v) => spec.categories![Math.round((v - (groups - 1) / 2) / slots)] ?? ''),
          grid: { show: false },
        };
        xScale = { time: false, range: () => [-1, n * slots - 1] };
      } else if (spec.kind === 'bars') {
        const half = (spec.barWidth ?? 1) / 2;
        xScale = { time: false, range: (_u: any, min: number, max: number) => [min - half, max + half] };
      }
      const bars = spec.kind === 'bars' || spec.kind === 'categories';
      const options = {
        title: spec.title,
        width,
        height: 260,
        scales: {
          x: xScale,
          y: { range: (_u: any, min: number, max: number) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] },
        },
        axes: [xAxis, { label: spec.yLabel, size: 60 }],
        legend: { show: true, live: false },
        cursor: { show: !bars },
        series: [
          { label: spec.xLabel },
          ...spec.series.map((s, i) => ({
            label: s.label,
            stroke: palette[i % palette.length],
            fill: bars ? palette[i % palette.length] + 'cc' : undefined,
            width: bars ? 1 : 2,
            spanGaps: spec.kind !== 'lines',
            points: { show: spec.kind === 'points' || (spec.kind === 'lines' && x.length < 40) },
            paths: bars
              ? uPlot.paths.bars({ size: [spec.kind === 'bars' ? 0.95 : 0.9, Infinity], align: 0 })
              : undefined,
          })),
        ],
      };
      new uPlot(options, [x, ...series], el);
      drawn++;
    }
    root.dataset.chartsRendered = String(drawn);
    document.title = `${document.title} (${drawn} charts)`;
  } catch (error: any) {
    root.dataset.reportError = String(error?.message ?? error);
  }
}
