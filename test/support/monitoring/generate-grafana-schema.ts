import { writeFileSync } from 'node:fs';
import { GRAFANA_DASHBOARD_SCHEMA_FILE } from './grafana-schema.js';
import { generateGrafanaDashboardSchema } from './grafana-dashboard-schema.js';

/**
 * Writes grafana-dashboard.schema.json from the installed @grafana/schema. Run it after upgrading @grafana/schema
 * (validateGrafanaDashboard refuses a file generated from another version):
 *   npm run schema:grafana   (builds with tsconfig.json: this file is test support, not in the runtime build)
 */
const started = Date.now();
const schema = generateGrafanaDashboardSchema();
writeFileSync(GRAFANA_DASHBOARD_SCHEMA_FILE, `${JSON.stringify(schema, null, 2)}\n`);
console.log(
  `wrote ${GRAFANA_DASHBOARD_SCHEMA_FILE} (${schema['x-grafana-schema-version']}) in ${Date.now() - started} ms`,
);
