import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { REPO_ROOT } from '../engine.js';

/** The data sources Grafana provisions (`monitoring/grafana/provisioning/datasources/*.yaml`). */
export interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
}

const DATASOURCES_YAML = `${REPO_ROOT}monitoring/grafana/provisioning/datasources/datasources.yaml`;

export function provisionedDatasources(file = DATASOURCES_YAML): ProvisionedDatasource[] {
  const doc = parse(readFileSync(file, 'utf8')) as { datasources?: Array<Partial<ProvisionedDatasource>> };
  return (doc.datasources ?? []).map((ds, i) => {
    if (!ds.uid || !ds.type || !ds.name)
      throw new Error(`${file}: datasources[${i}] needs name, uid and type (a panel refers to it by uid)`);
    return { name: ds.name, uid: ds.uid, type: ds.type };
  });
}

/** What each data source type we provision needs in a panel target, besides refId. */
const QUERY_FIELD: Record<string, string> = { graphite: 'target', prometheus: 'expr' };
/** Panels that show no query results, so have no targets. */
const NO_QUERY_PANELS = new Set([
  'row',
  'text',
  'news',
  'dashlist',
  'alertlist',
  'annolist',
  'welcome',
  'gettingstarted',
]);
/** Grafana's built-in pseudo data sources. */
const GRAFANA_BUILTIN = '-- Grafana --';
const MIXED = '-- Mixed --';

type Json = Record<string, unknown>;
interface DatasourceRef {
  uid?: unknown;
  type?: unknown;
}

/**
 * Rules Grafana's schema does not state but our provisioning needs: a title and a stable uid, and every panel
 * query aimed at a provisioned data source by uid, in that source's query shape. Assumes `dashboard` passed the
 * schema (objects where objects belong).
 */
export function checkProvisioningRules(dashboard: Json, datasources: ProvisionedDatasource[]): string[] {
  const errors: string[] = [];
  if (typeof dashboard.title !== 'string' || dashboard.title.trim() === '') {
    errors.push('/title: missing or empty (Grafana refuses to provision a dashboard without a title)');
  }
  if (typeof dashboard.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid)) {
    errors.push(
      '/uid: missing or not 1-40 of [A-Za-z0-9_-] (a provisioned dashboard needs a stable uid, or its links change on every start)',
    );
  }
  const byUid = new Map(datasources.map((ds) => [ds.uid, ds]));
  const known = datasources.map((ds) => `"${ds.uid}" (${ds.type})`).join(', ');
  const resolve = (where: string, ref: DatasourceRef | undefined): ProvisionedDatasource | undefined => {
    const source = typeof ref?.uid === 'string' ? byUid.get(ref.uid) : undefined;
    if (!source) {
      errors.push(`${where}: datasource uid ${JSON.stringify(ref?.uid)} is not provisioned; use one of ${known}`);
    } else if (ref?.type !== undefined && ref.type !== source.type) {
      errors.push(`${where}: datasource "${source.uid}" is of type "${source.type}", not ${JSON.stringify(ref.type)}`);
    }
    return source;
  };

  const variables = ((dashboard.templating as Json | undefined)?.list ?? []) as Json[];
  variables.forEach((variable, i) => {
    if (variable.datasource !== undefined)
      resolve(`/templating/list/${i} "${String(variable.name)}"`, variable.datasource as DatasourceRef);
  });
  const annotations = ((dashboard.annotations as Json | undefined)?.list ?? []) as Json[];
  annotations.forEach((annotation, i) => {
    const ref = annotation.datasource as DatasourceRef | undefined;
    if (ref?.uid !== GRAFANA_BUILTIN) resolve(`/annotations/list/${i}`, ref);
  });

  const ids = new Map<number, string>();
  for (const { panel, path } of allPanels(dashboard)) {
    const where = `${path} "${typeof panel.title === 'string' ? panel.title : ''}"`;
    if (typeof panel.id === 'number') {
      if (ids.has(panel.id)) errors.push(`${where}: id ${panel.id} is also used by ${ids.get(panel.id)}`);
      ids.set(panel.id, where);
    }
    if (NO_QUERY_PANELS.has(String(panel.type))) continue;
    const targets = (panel.targets ?? []) as Json[];
    if (targets.length === 0) {
      errors.push(`${where}: a ${String(panel.type)} panel with no targets shows nothing`);
      continue;
    }
    const panelRef = panel.datasource as DatasourceRef | undefined;
    const mixed = panelRef?.uid === MIXED;
    const panelSource = panelRef && !mixed ? resolve(`${where} datasource`, panelRef) : undefined;
    const refIds = new Set<string>();
    targets.forEach((target, i) => {
      const at = `${where} target ${i}`;
      if (typeof target.refId !== 'string' || target.refId === '') errors.push(`${at}: refId missing`);
      else if (refIds.has(target.refId)) errors.push(`${at}: refId "${target.refId}" used twice in this panel`);
      else refIds.add(target.refId);
      const targetRef = target.datasource as DatasourceRef | undefined;
      if (!targetRef && !panelRef) {
        errors.push(`${at}: no datasource on the target or the panel (Grafana would use the default one: name it)`);
        return;
      }
      if (!targetRef && mixed) {
        errors.push(`${at}: a "${MIXED}" panel needs a datasource on each target`);
        return;
      }
      const source = targetRef ? resolve(at, targetRef) : panelSource;
      const field = source && QUERY_FIELD[source.type];
      if (field && (typeof target[field] !== 'string' || target[field].trim() === '')) {
        errors.push(`${at}: a ${source.type} query needs a non-empty "${field}"`);
      }
    });
  }
  return errors;
}

/** Every panel with its JSON pointer, including those inside collapsed rows. */
function allPanels(dashboard: Json): Array<{ panel: Json; path: string }> {
  const out: Array<{ panel: Json; path: string }> = [];
  ((dashboard.panels ?? []) as Json[]).forEach((panel, i) => {
    out.push({ panel, path: `/panels/${i}` });
    ((panel.panels ?? []) as Json[]).forEach((inner, j) =>
      out.push({ panel: inner, path: `/panels/${i}/panels/${j}` }),
    );
  });
  return out;
}
