import { writeFileSync } from 'node:fs';
import { GRAFANA_DASHBOARD_SCHEMA_FILE } from './grafana-schema.js';
import { generateGrafanaDashboardSchema } from './grafana-dashboard-schema.js';

/**
 * Writes grafana-dashboard.schema.json from the installed @grafana/schema. Run it after upgrading @grafana/schema
 * (validateGrafanaDashboard refuses a file generated from another version):
 *   npx tsc -p tsconfig.build.json && node dist/test/support/monitoring/generate-grafana-schema.js
 */
const started = Date.now();
const schema = generateGrafanaDashboardSchema();
writeFileSync(GRAFANA_DASHBOARD_SCHEMA_FILE, `${JSON.stringify(schema, null, 2)}\n`);
console.log(
  `wrote ${GRAFANA_DASHBOARD_SCHEMA_FILE} (${schema['x-grafana-schema-version']}) in ${Date.now() - started} ms`,
);
