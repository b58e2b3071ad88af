// Shared by the launchers: run the CLI, turn its result into the exit code, never crash with a stack trace.
export const launch = (main) =>
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`pathwise: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
