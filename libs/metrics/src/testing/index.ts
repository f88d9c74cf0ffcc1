/** Test helpers for anything that checks the metrics (the gateway's tests too): import them from here. */
export { parsePrometheusText } from './prometheus-text.js';
export { captureStatsd, type StatsdCapture } from './statsd-capture.js';
