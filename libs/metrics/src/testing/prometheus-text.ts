/**
 * Prometheus' text exposition format read into `series → value`, the series written as exposed
 * (`sluice_requests_total{model="qwen2",outcome="ok"}`): for asserting exact values without a Prometheus server.
 */
export function parsePrometheusText(exposition: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}
