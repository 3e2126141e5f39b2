import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfigError, createLogger } from '@xmidt/runtime';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes one JSON object per line with service, level name and ISO time', () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: 'petasos', level: 'debug', destination: stream });
    log.debug({ device: 'mac:112233445566' }, 'redirect');
    log.trace('not shown');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.['service'], 'petasos');
    assert.equal(line?.['level'], 'debug');
    assert.equal(line?.['msg'], 'redirect');
    assert.equal(line?.['device'], 'mac:112233445566');
    assert.equal(line?.['pid'], process.pid);
    assert.ok(!Number.isNaN(Date.parse(String(line?.['time']))));
  });

  it('defaults to info and rejects an unknown level', () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: 'x', destination: stream, level: 'info' });
    log.debug('hidden');
    log.info('shown');
    assert.equal(lines.length, 1);
    assert.throws(() => createLogger({ service: 'x', level: 'loud' }), ConfigError);
  });
});
