/**
 * Procfiles: one `name: command` a line. Blank lines and lines starting with `#` are ignored; names
 * are `[A-Za-z0-9_-]+`; `release:` is the release command, not a process type.
 */

export const PROCESS_NAME = /^[A-Za-z0-9_-]+$/;

export interface ProcfileError {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface Procfile {
  processes: Record<string, string>;
  release: string | null;
  errors: ProcfileError[];
}

export function parseProcfile(text: string): Procfile {
  const processes: Record<string, string> = {};
  let release: string | null = null;
  const errors: ProcfileError[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const colon = trimmed.indexOf(':');
    if (colon < 0) {
      errors.push({ line, message: 'expected "<name>: <command>"' });
      return;
    }
    const name = trimmed.slice(0, colon).trim();
    const command = trimmed.slice(colon + 1).trim();
    if (!PROCESS_NAME.test(name)) {
      errors.push({ line, message: `invalid process type name ${JSON.stringify(name)}: use letters, digits, "_" and "-"` });
      return;
    }
    if (command === '') {
      errors.push({ line, message: `process type "${name}" has no command` });
      return;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      errors.push({ line, message: `process type "${name}" is already declared on line ${first}` });
      return;
    }
    seen.set(name, line);
    if (name === 'release') release = command;
    else processes[name] = command;
  });
  return { processes, release, errors };
}

/** A Procfile for the given process types (and release command), names sorted. */
export function formatProcfile(processes: Record<string, string>, release: string | null = null): string {
  const lines = Object.keys(processes)
    .sort()
    .map((name) => `${name}: ${processes[name]}`);
  if (release !== null) lines.push(`release: ${release}`);
  return lines.join('\n') + '\n';
}

/** Problems with process types given by a recipe or a caller (not from a Procfile). */
export function checkProcesses(processes: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, command] of Object.entries(processes)) {
    if (!PROCESS_NAME.test(name)) problems.push(`invalid process type name ${JSON.stringify(name)}: use letters, digits, "_" and "-"`);
    else if (name === 'release') problems.push('"release" is not a process type (it is the Procfile\'s release command)');
    if (typeof command !== 'string' || command.trim() === '') problems.push(`process type "${name}" has no command`);
    else if (/[\r\n]/.test(command)) problems.push(`the command of process type "${name}" spans several lines`);
  }
  return problems;
}
