import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDnsLabel, validateName } from '../../src/core/names';
import { CanaryError, exitCodeFor } from '../../src/core/errors';

test('accepts DNS-1123 labels', () => {
  for (const ok of ['test', 'prod', 'jukebox', 'a', 'model-2', '0abc', 'x'.repeat(63)]) {
    assert.equal(isDnsLabel(ok), true, ok);
    assert.equal(validateName('model', ok), ok);
  }
});

test('refuses traversal, separators, spaces, upper case and over-long names', () => {
  for (const bad of ['', '..', '../prod', 'a/b', 'a\\b', 'with space', 'Jukebox', '-x', 'x-', 'a.b', 'x'.repeat(64), 'é', 'a\n']) {
    assert.equal(isDnsLabel(bad), false, bad);
    assert.throws(
      () => validateName('environment', bad),
      (e: unknown) => {
        assert.ok(e instanceof CanaryError);
        assert.equal(e.kind, 'invalid-input');
        assert.match(e.message, /DNS-1123/);
        assert.equal(exitCodeFor(e), 2);
        return true;
      },
    );
  }
});
