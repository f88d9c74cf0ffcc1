import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { provisionedDatasources } from './grafana-provisioning.js';
import {
  GRAFANA_DASHBOARD_SCHEMA_FILE,
  installedGrafanaSchemaVersion,
  validateGrafanaDashboard,
} from './grafana-schema.js';

/** A small dashboard as we provision them: a Graphite panel, a Prometheus panel, a collapsed row holding one more. */
function goodDashboard(): Record<string, any> {
  return {
    uid: 'sluice-test',
    title: 'Sluice test dashboard',
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: 'now-15m', to: 'now' },
    refresh: '10s',
    tags: ['sluice'],
    templating: {
      list: [
        {
          name: 'model',
          type: 'query',
          datasource: { type: 'graphite', uid: 'graphite' },
          query: 'stats_counts.requests.model.*',
          definition: 'stats_counts.requests.model.*',
          includeAll: true,
          multi: true,
          refresh: 1,
        },
      ],
    },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: 'Requests per model',
        gridPos: { x: 0, y: 0, w: 12, h: 8 },
        datasource: { type: 'graphite', uid: 'graphite' },
        targets: [{ refId: 'A', target: 'aliasByNode(stats_counts.requests.model.$model, 3)' }],
        fieldConfig: { defaults: { unit: 'reqps', custom: { lineWidth: 1 } }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' } },
      },
      {
        id: 2,
        type: 'stat',
        title: 'Gateway requests (Prometheus)',
        gridPos: { x: 12, y: 0, w: 12, h: 8 },
        datasource: { type: 'prometheus', uid: 'prometheus' },
        targets: [{ refId: 'A', expr: 'sum(rate(sluice_requests_total[1m]))', legendFormat: 'all' }],
        fieldConfig: {
          defaults: { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } },
          overrides: [],
        },
      },
      {
        id: 3,
        type: 'row',
        title: 'Latency',
        collapsed: true,
        gridPos: { x: 0, y: 8, w: 24, h: 1 },
        panels: [
          {
            id: 4,
            type: 'timeseries',
            title: 'P99 latency',
            gridPos: { x: 0, y: 9, w: 24, h: 8 },
            datasource: { type: 'graphite', uid: 'graphite' },
            targets: [{ refId: 'A', target: 'stats.timers.request.latency.upper_99' }],
          },
        ],
      },
    ],
  };
}

describe("Grafana dashboard validation (@grafana/schema's Dashboard type + our provisioning rules)", () => {
  it('accepts a well-formed dashboard that uses the provisioned data sources', () => {
    assert.deepEqual(validateGrafanaDashboard(goodDashboard()), []);
  });

  it('the provisioned data sources are read from datasources.yaml, by uid', () => {
    assert.deepEqual(
      provisionedDatasources().map((ds) => [ds.uid, ds.type]),
      [
        ['graphite', 'graphite'],
        ['prometheus', 'prometheus'],
      ],
    );
  });

  it('rejects a schema violation with a message naming where and what: panels not an array, a typo, a bad enum', () => {
    const broken = goodDashboard();
    broken.panels = { first: broken.panels[0] };
    broken.graphTooltip = 7;
    broken.datasouce = 'graphite';
    assert.deepEqual(validateGrafanaDashboard(broken), [
      '/: unknown property "datasouce"',
      '/graphTooltip: must be one of [1,0,2]',
      '/panels: must be array',
    ]);
  });

  it('names the failing property inside a panel, whichever of Panel or RowPanel applies', () => {
    const broken = goodDashboard();
    broken.panels[0].gridPos = { x: 0, y: 0, w: 'wide' };
    broken.panels[0].yaxes = [];
    delete broken.panels[2].collapsed;
    assert.deepEqual(validateGrafanaDashboard(broken), [
      '/panels/0: unknown property "yaxes"',
      '/panels/0/gridPos: missing required property "h"',
      '/panels/0/gridPos/w: must be number',
      '/panels/2: missing required property "collapsed"',
    ]);
  });

  it('rejects a missing title, an unknown datasource uid, and queries in the wrong shape for their data source', () => {
    const broken = goodDashboard();
    delete broken.title;
    broken.panels[0].datasource = { type: 'graphite', uid: 'Graphite' };
    broken.panels[1].targets = [{ refId: 'A', target: 'stats_counts.requests.total' }];
    broken.panels[2].panels[0].targets.push({ refId: 'A', target: '' });
    assert.deepEqual(validateGrafanaDashboard(broken), [
      '/title: missing or empty (Grafana refuses to provision a dashboard without a title)',
      '/panels/0 "Requests per model" datasource: datasource uid "Graphite" is not provisioned; use one of "graphite" (graphite), "prometheus" (prometheus)',
      '/panels/1 "Gateway requests (Prometheus)" target 0: a prometheus query needs a non-empty "expr"',
      '/panels/2/panels/0 "P99 latency" target 1: refId "A" used twice in this panel',
      '/panels/2/panels/0 "P99 latency" target 1: a graphite query needs a non-empty "target"',
    ]);
  });

  it('the committed schema was generated from the installed @grafana/schema', () => {
    const committed = JSON.parse(readFileSync(GRAFANA_DASHBOARD_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    assert.equal(committed['x-grafana-schema-version'], installedGrafanaSchemaVersion());
  });
});
