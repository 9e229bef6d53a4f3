/** "Used by 3 applications", "Not used yet". */
export function usageLabel(n: number): string {
  if (n === 0) return 'Not used yet';
  return `Used by ${n} application${n === 1 ? '' : 's'}`;
}
