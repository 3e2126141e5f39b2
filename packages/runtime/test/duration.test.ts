import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatDuration, parseDuration } from '@xmidt/runtime';

describe('parseDuration', () => {
  it('parses Go duration strings to milliseconds', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['0s', 0],
      ['45s', 45_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['-1m30s', -90_000],
      ['+5s', 5000],
      ['1500us', 1.5],
      ['1500µs', 1.5],
      ['2000000ns', 2],
      ['.5s', 500],
      ['1.s', 1000],
      ['1h1m1s1ms', 3_661_001],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
  });

  it('takes a number as seconds', () => {
    assert.equal(parseDuration(300), 300_000);
    assert.equal(parseDuration(0.25), 250);
  });

  it('rejects what Go rejects', () => {
    for (const bad of ['', '300', '1h30', 's', '1d', '1 s', '--1s', '1s ', 'x'.repeat(100)]) {
      assert.throws(() => parseDuration(bad), DurationError, JSON.stringify(bad));
    }
    assert.throws(() => parseDuration(Number.NaN), { code: 'duration_invalid' });
    assert.throws(() => parseDuration(Number.POSITIVE_INFINITY), DurationError);
  });
});

describe('formatDuration', () => {
  it('formats like Go time.Duration.String()', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [10_000, '10s'],
      [60_000, '1m0s'],
      [90_000, '1m30s'],
      [3_600_000, '1h0m0s'],
      [5_400_500, '1h30m0.5s'],
      [500, '500ms'],
      [1.5, '1.5ms'],
      [0.0015, '1.5µs'],
      [0.000001, '1ns'],
      [-90_000, '-1m30s'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 7_384_000, 0.25]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});
