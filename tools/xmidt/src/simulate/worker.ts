// Worker process of `xmidt simulate`: runs one fleet and reports snapshots to its parent.
import { Fleet, type FleetConfig } from './fleet.js';

type FromParent = { type: 'start'; config: FleetConfig } | { type: 'snapshot' } | { type: 'stop' };

let fleet: Fleet | undefined;
let stopping = false;

process.on('message', (raw: unknown) => {
  const msg = raw as FromParent;
  switch (msg.type) {
    case 'start':
      fleet = new Fleet(msg.config);
      fleet.start();
      break;
    case 'snapshot':
      if (fleet !== undefined) process.send?.({ type: 'snapshot', snapshot: fleet.snapshot() });
      break;
    case 'stop':
      stopping = true;
      void (async () => {
        if (fleet !== undefined) await fleet.stop();
        const final = fleet?.snapshot();
        process.send?.({ type: 'final', snapshot: final }, () => process.exit(0));
      })();
      break;
  }
});
process.on('disconnect', () => {
  // parent went away: stop at once
  if (stopping) return;
  if (fleet !== undefined) void fleet.stop().finally(() => process.exit(0));
  else process.exit(0);
});
process.send?.({ type: 'ready' });
