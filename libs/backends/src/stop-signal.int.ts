import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('Stop, a listener that throws', () => {
  it('calls every listener when one throws, and throws that error on its own, as an EventTarget does', () => {
    // In a process of its own: the thrown error is an uncaught exception, which the test runner would take as its own.
    const script = `
      const { Stop } = await import(${JSON.stringify(new URL('./stop-signal.js', import.meta.url).href)});
      process.on('uncaughtException', (error) => console.log('uncaught:', error.message));
      const stop = new Stop();
      stop.addEventListener('abort', () => { throw new Error('listener failed'); });
      stop.addEventListener('abort', () => console.log('second listener called'));
      stop.abort('x');
      console.log('abort returned');`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(output.trim().split('\n'), [
      'second listener called',
      'abort returned',
      'uncaught: listener failed',
    ]);
  });
});
