// Types of scripts/lib/cli-build.mjs (used by test/cli/bundle.ts).
import type { BuildOptions } from 'esbuild';

export function cliBuildOptions(where: { absWorkingDir: string; outdir: string; bundleDeps?: boolean }, base?: BuildOptions): BuildOptions;
