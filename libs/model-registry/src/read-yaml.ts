import YAML from 'yaml';
import { RegistryConfigError } from './registry-config-error.js';

/** YAML text to plain data; syntax errors are refused with their line and column, all of them at once. */
export function readYaml(text: string, source: string): unknown {
  const document = YAML.parseDocument(text);
  if (document.errors.length > 0) {
    throw new RegistryConfigError(
      source,
      document.errors.map((error) => ({ path: '', message: describeYamlError(error) })),
    );
  }
  if (document.contents === null) {
    throw new RegistryConfigError(source, [
      {
        path: '',
        message:
          'the file holds no YAML document — write gpus:, readiness:, defaults: and models: (see config/README.md)',
      },
    ]);
  }
  try {
    return document.toJS();
  } catch (error) {
    // toJS throws for unresolved or excessive aliases (*name), which parsing alone does not catch.
    throw new RegistryConfigError(source, [{ path: '', message: `YAML error: ${(error as Error).message}` }]);
  }
}

function describeYamlError(error: YAML.YAMLError): string {
  const [headline = error.message, ...excerpt] = error.message.split('\n');
  const position = error.linePos?.[0];
  const what = headline.replace(/ at line \d+, column \d+:?$/, '');
  const where = position ? ` at line ${position.line}, column ${position.col}` : '';
  const shown = excerpt.filter((line) => line.trim() !== '').map((line) => `      ${line}`);
  return [`YAML syntax error${where}: ${what} (${error.code}) — fix the YAML there`, ...shown].join('\n');
}
