// dissect backends: which compute backends run here, their threads, and the default.

import { availableBackends } from '../../index.js';
import { defineCommand } from '../command.js';

export const backendsCommand = defineCommand({
  name: 'backends',
  summary: 'List compute backends, which of them run on this machine, and their threads.',
  positionals: [],
  flags: { json: { type: 'boolean', description: 'print JSON' } },
  async run({ flags }, terminal) {
    const rows = availableBackends();
    if (flags.json) {
      terminal.out(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    for (const row of rows) {
      const status = row.ok ? `ok, ${row.threads} thread${row.threads === 1 ? '' : 's'}` : `unavailable: ${row.error}`;
      terminal.out(`${row.default ? '*' : ' '} ${row.name.padEnd(7)} ${status}\n`);
    }
    return 0;
  },
});
