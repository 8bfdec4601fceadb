import { runReleaseFilesBench, printReleaseFilesBench } from '/work/wt-bigserver/bench/releaseFiles.ts';
const r = await runReleaseFilesBench();
printReleaseFilesBench(r);
