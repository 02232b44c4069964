/** Child process for the DATA_DIR lock tests: takes the lock on argv[2], says so, and waits. */
import { lockDataDir } from '../../src/store/data-dir-lock.js';

const lock = lockDataDir(process.argv[2] ?? '', { purpose: 'test holder' });
lock.setPort(4321);
process.stdout.write('locked\n');
setInterval(() => {}, 60_000);
