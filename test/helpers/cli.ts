import { main, type Io } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pathwise ...args` in-process, as the binary would, capturing its output. */
export const runCli = async (
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stopSignal?: Promise<void> } = {},
): Promise<CliRun> => {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: opts.env ?? {},
    stopSignal: opts.stopSignal ?? new Promise(() => undefined),
  };
  const code = await main(['node', 'pathwise', ...args], io);
  return { code, stdout, stderr };
};
