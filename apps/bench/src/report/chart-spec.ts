/**
 * A chart as data, prepared in Node and drawn in the page by draw-charts.ts: the page's script stays generic and
 * small, and every figure in the report comes from the result, computed once.
 */
export interface ChartSeries {
  label: string;
  values: Array<number | null>;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** lines: time series; points: a line through markers (sweeps); bars: histograms; categories: grouped bars. */
  kind: 'lines' | 'points' | 'bars' | 'categories';
  xLabel: string;
  yLabel: string;
  x: number[];
  series: ChartSeries[];
  /** kind categories: the name of each group (x is 0..n−1). */
  categories?: string[];
  /** kind bars: the width of a bar in x units. */
  barWidth?: number;
}

/** A chart section the page could not draw for lack of data, with why (shown in place of the chart). */
export interface MissingChart {
  title: string;
  why: string;
}
