/*
 * `--result-format json`: the same DoctorResult the command returns for --json, as a string (2-space indent,
 * trailing newline) for stdout or --output-file. Pure.
 */
import type { DoctorResult } from '../doctor/types.js';

export const jsonReport = (result: DoctorResult): string => `${JSON.stringify(result, null, 2)}\n`;
