import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { REPO_ROOT } from '../engine.js';
import { checkProvisioningRules, provisionedDatasources, type ProvisionedDatasource } from './grafana-provisioning.js';

/**
 * JSON Schema of @grafana/schema's classic `Dashboard` type, committed: generating it takes 2-4 s on this machine
 * (the TypeScript compiler), in every test process that validates a dashboard. Made by generate-grafana-schema.ts;
 * what it accepts and why: grafana-dashboard-schema.ts.
 */
export const GRAFANA_DASHBOARD_SCHEMA_FILE = `${REPO_ROOT}test/support/monitoring/grafana-dashboard.schema.json`;

export const GRAFANA_SCHEMA_PACKAGE = dirname(createRequire(import.meta.url).resolve('@grafana/schema/package.json'));

/** The installed @grafana/schema version: the committed schema records the one it was generated from. */
export function installedGrafanaSchemaVersion(): string {
  return (JSON.parse(readFileSync(join(GRAFANA_SCHEMA_PACKAGE, 'package.json'), 'utf8')) as { version: string })
    .version;
}

let validator: ValidateFunction | undefined;

function dashboardValidator(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(GRAFANA_DASHBOARD_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const installed = installedGrafanaSchemaVersion();
  if (schema['x-grafana-schema-version'] !== installed) {
    throw new Error(
      `${GRAFANA_DASHBOARD_SCHEMA_FILE} was generated from @grafana/schema ${String(schema['x-grafana-schema-version'])}, ` +
        `${installed} is installed: regenerate it: npm run schema:grafana`,
    );
  }
  validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return validator;
}

/**
 * Everything wrong with a dashboard JSON (parsed) for our provisioning, as readable lines (`/panels/0: ...`); empty
 * when it is fine. Checks Grafana's schema, then (when the schema passes) our rules: a title and uid, and every
 * panel query on a provisioned data source by uid, with a `target` (Graphite) or `expr` (Prometheus).
 */
export function validateGrafanaDashboard(
  dashboard: unknown,
  options: { datasources?: ProvisionedDatasource[] } = {},
): string[] {
  const validate = dashboardValidator();
  if (!validate(dashboard)) return formatErrors(validate.errors ?? []);
  return checkProvisioningRules(dashboard as Record<string, unknown>, options.datasources ?? provisionedDatasources());
}

function formatErrors(errors: ErrorObject[]): string[] {
  const lines = errors
    // The if/then/else around panels adds 'must match "then"/"else" schema' after the errors that say why.
    .filter((error) => error.keyword !== 'if')
    .map((error) => {
      const at = error.instancePath || '/';
      switch (error.keyword) {
        case 'additionalProperties':
          return `${at}: unknown property "${String(error.params.additionalProperty)}"`;
        case 'required':
          return `${at}: missing required property "${String(error.params.missingProperty)}"`;
        case 'enum':
          return `${at}: must be one of ${JSON.stringify(error.params.allowedValues)}`;
        case 'const':
          return `${at}: must be ${JSON.stringify(error.params.allowedValue)}`;
        default:
          return `${at}: ${error.message ?? error.keyword}`;
      }
    });
  return [...new Set(lines)];
}
