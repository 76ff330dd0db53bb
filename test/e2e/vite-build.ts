// Builds web/ with Vite's JavaScript API (the same as `npx vite build web`) into a directory.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(resolve(fileURLToPath(new URL('../..', import.meta.url))), 'web');

export async function buildInto(outDir?: string): Promise<void> {
  const { build } = await import('vite');
  await build({ root: WEB, logLevel: 'warn', configFile: join(WEB, 'vite.config.ts'), ...(outDir === undefined ? {} : { build: { outDir, emptyOutDir: true } }) });
}
