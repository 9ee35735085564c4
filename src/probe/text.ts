/** A short, printable sample of what the peer sent, for failure details. */
export function excerpt(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** RegExp.test without the lastIndex state that /g or /y would carry between attempts. */
export function matches(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}
