// The extension is present in the host and activates.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const ID = 'kserve-canary.kserve-canary';

describe('extension', () => {
  it('is installed in the extension host', () => {
    assert.ok(vscode.extensions.getExtension(ID), `extension ${ID} not found`);
  });

  it('activates', async () => {
    const ext = vscode.extensions.getExtension(ID);
    assert.ok(ext, `extension ${ID} not found`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });
});
