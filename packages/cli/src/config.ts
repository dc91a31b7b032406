import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.ts';

const fileSchema = z.object({ url: z.string().url(), token: z.string().min(1) });
export type StoredConfig = z.infer<typeof fileSchema>;

export async function loadConfig(path: string): Promise<StoredConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON; run \`dapple login\` again`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      `${path}: ${parsed.error.issues[0]!.path.join('.')} is missing or invalid; run \`dapple login\` again`,
    );
  return parsed.data;
}

/** Writes the token readable by the owner only (directory 0700, file 0600), atomically. */
export async function saveConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600); // mode is masked by umask on create
  await rename(tmp, path);
}
