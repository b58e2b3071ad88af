import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConfig, formatIssue } from '../../config/load.js';
import type { Io } from '../main.js';

export const registerConfig = (program: Command, io: Io, setExit: (code: number) => void): void => {
  const config = program.command('config').description('Work with workspace config files');
  config
    .command('check <file>')
    .description('Validate a config file and print every problem with its path and line')
    .action((file: string) => {
      if (!existsSync(file)) {
        io.stderr(`pathwise: config file not found: ${file}\n`);
        setExit(2);
        return;
      }
      const result = parseConfig(readFileSync(file, 'utf8'));
      if (result.ok) {
        const c = result.config;
        io.stdout(
          `${file}: OK (workspace "${c.workspace}", ${c.sources.length} source(s), ${c.computedTraits.length} computed trait(s), ${c.segments.length} segment(s), ${c.placements.length} placement(s), ${c.actions.length} action(s)${c.goal === undefined ? '' : `, goal "${c.goal.event}"`})\n`,
        );
        return;
      }
      for (const issue of result.issues) io.stderr(`${file}: ${formatIssue(issue)}\n`);
      io.stderr(`pathwise: ${file} has ${result.issues.length} problem(s)\n`);
      setExit(2);
    });
};
