import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillPlaceholders } from './server-launch.js';

describe('fillPlaceholders', () => {
  it('replaces ${PORT}, ${MODEL_PATH} and ${GPU} inside words, and leaves other ${...} as written', () => {
    const words = ['serve', '--port=${PORT}', '-m', '${MODEL_PATH}', 'CUDA_VISIBLE_DEVICES=${GPU}', '${HOME}'];
    assert.deepEqual(fillPlaceholders(words, { PORT: '8081', MODEL_PATH: '/m/a.gguf', GPU: '0' }), [
      'serve',
      '--port=8081',
      '-m',
      '/m/a.gguf',
      'CUDA_VISIBLE_DEVICES=0',
      '${HOME}',
    ]);
  });
});
