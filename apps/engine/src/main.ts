import { ConfigError, parseEngineConfig } from './config.js';
import { EngineMetrics } from './engine-metrics.js';
import { buildEngineServer } from './http/server.js';
import { InferenceService } from './inference.js';
import { ModelRuntime } from './model-runtime.js';
import { hasParentChannel, onParentGone, tellParent } from './parent-channel.js';

/**
 * The local engine: binds its port at once and answers /health 503 while the model loads (so a supervisor can
 * tell "loading" from "dead"), then serves TGI's protocol. A model that cannot be loaded leaves the process up,
 * with the reason on /health, instead of taking it down. A parent with an IPC channel also gets the address and
 * the load's outcome as messages (parent-channel.ts); the log lines are for people.
 */
async function main(): Promise<void> {
  let draft;
  try {
    draft = parseEngineConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const runtime = new ModelRuntime(draft);
  const metrics = new EngineMetrics(() => runtime.pool);
  const inference = new InferenceService(runtime, metrics, draft.maxConcurrentRequests, draft.streamLogprobs);
  const app = buildEngineServer({ config: draft, runtime, inference, metrics });
  const address = await app.listen({ host: draft.host, port: draft.port });
  log(`listening on ${address}, loading ${draft.modelPath}`);
  tellParent({ type: 'listening', url: address });

  runtime.load().then(
    () => {
      const c = runtime.config!;
      const loadMs = Math.round(runtime.loadMs!);
      log(
        `ready in ${loadMs} ms: ${c.contexts} context(s) x ${c.sequencesPerContext} sequence(s), ` +
          `${c.threads} thread(s) each, ${c.contextSize} tokens per sequence`,
      );
      tellParent({ type: 'ready', loadMs });
    },
    (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      log(`model not loaded: ${reason}`);
      tellParent({ type: 'failed', reason });
    },
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log(`${signal}: finishing in-flight requests`);
    await app.close();
    await runtime.dispose();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (hasParentChannel()) {
    // Under a parent (the gateway, a test): Ctrl-C reaches the whole process group, but only the parent decides when
    // engines stop (the gateway: after its in-flight requests); and an engine whose parent died must not live on.
    process.on('SIGINT', () => undefined);
    onParentGone(() => void shutdown('parent gone'));
  } else {
    process.on('SIGINT', () => void shutdown('SIGINT'));
  }
}

function log(message: string): void {
  process.stdout.write(`[engine] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[engine] fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
