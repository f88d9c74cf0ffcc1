/** The exit codes of every bench command (also in apps/bench/README.md). */
export const EXIT = {
  /** Done; every SLO held (or none was asked for). */
  ok: 0,
  /** At least one SLO failed (sweep: no rate met them; overhead --check: a goal was missed). */
  sloFailed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The run is not a valid measurement: the client saturated, nothing succeeded, or it was interrupted. */
  invalidRun: 3,
  /** The tool itself failed (a file it could not read or write, a process it could not start). */
  error: 4,
} as const;
