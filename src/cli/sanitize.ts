/*
 * Text a user pasted or an org answered with, echoed back: terminal escape sequences and control characters removed
 * (a pasted error must not clear, recolour or retitle the terminal), whitespace runs folded to one space, and the
 * echo capped so a 100 KB paste prints as a line. Every command that echoes untrusted text uses this.
 */

/** The longest echo of untrusted text, in characters. */
export const ECHO_LIMIT = 200;

// ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and the two-character ones.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 control characters, DEL, and the bidirectional overrides that reorder what a terminal shows.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Untrusted text without escape sequences or control characters, whitespace folded. Not capped. */
export const stripControls = (text: string): string => text.replace(ESCAPES, ' ').replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();

/** Untrusted text made safe to print: stripped, then capped at `limit` characters with a note of what was left out. */
export const sanitizeEcho = (text: string, limit = ECHO_LIMIT): string => {
  const clean = stripControls(text);
  if (clean.length <= limit) return clean;
  return `${clean.slice(0, limit)}… (${clean.length - limit} more characters)`;
};
