/**
 * Checks a Compose file against the README and the deploy guide without a Docker engine: the
 * parts of Compose's behaviour the guide relies on (interpolation from `.env`, env_file, the
 * merge of an overlay, profiles) are modelled here on the documented rules, small enough to read.
 * https://docs.docker.com/reference/compose-file/interpolation/
 * https://docs.docker.com/reference/compose-file/merge/
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly profiles?: readonly string[];
  readonly env_file?: unknown;
  readonly environment?: Readonly<Record<string, string | number | null>> | readonly string[];
  readonly ports?: readonly unknown[];
  readonly expose?: readonly unknown[];
  readonly volumes?: readonly unknown[];
  readonly [key: string]: unknown;
}

export interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly [key: string]: unknown;
}

/** Thrown where Compose would stop: a `${VAR:?message}` whose variable is unset or empty. */
export class RequiredVariableError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`required variable ${variable} is missing a value: ${message}`);
    this.name = 'RequiredVariableError';
  }
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Index just past the `}` that closes the `${` opened before `from`, honouring nesting. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s.startsWith('${', i)) {
      depth++;
      i++;
    } else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unclosed \${ in ${JSON.stringify(s)}`);
}

function braced(expr: string, env: Env): string {
  const name = NAME.exec(expr)?.[0];
  if (name === undefined) throw new Error(`invalid interpolation \${${expr}}`);
  const op = expr.slice(name.length);
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  const arg = (skip: number) => interpolate(op.slice(skip), env);
  if (op === '') return value ?? '';
  if (op.startsWith(':-')) return nonEmpty ? value : arg(2);
  if (op.startsWith('-')) return set ? value : arg(1);
  if (op.startsWith(':?')) {
    if (!nonEmpty) throw new RequiredVariableError(name, arg(2));
    return value;
  }
  if (op.startsWith('?')) {
    if (!set) throw new RequiredVariableError(name, arg(1));
    return value;
  }
  if (op.startsWith(':+')) return nonEmpty ? arg(2) : '';
  if (op.startsWith('+')) return set ? arg(1) : '';
  throw new Error(`unsupported interpolation \${${expr}}`);
}

/** Compose's interpolation of one string: `$$`, `$VAR`, `${VAR}` and the operators, nested. */
export function interpolate(s: string, env: Env): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$') {
      out += s[i];
      continue;
    }
    if (s[i + 1] === '$') {
      out += '$';
      i++;
    } else if (s[i + 1] === '{') {
      const end = closingBrace(s, i + 2);
      out += braced(s.slice(i + 2, end), env);
      i = end;
    } else {
      const name = NAME.exec(s.slice(i + 1))?.[0];
      if (name === undefined) out += '$';
      else {
        out += env[name] ?? '';
        i += name.length;
      }
    }
  }
  return out;
}

/** Interpolates every string value of a parsed file (Compose interpolates values, not keys). */
export function interpolateAll<T>(value: T, env: Env): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  }
  return value;
}

/**
 * `-f base -f overlay`: mappings merge key by key, the overlay's scalars win, and sequences
 * (ports, expose, volumes) are appended without duplicates; `environment` merges by name.
 */
export function mergeCompose(base: ComposeFile, overlay: Partial<ComposeFile>): ComposeFile {
  return mergeValue(base, overlay) as ComposeFile;
}

function mergeValue(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (Array.isArray(a) && Array.isArray(b)) {
    const seen = new Set(a.map((v) => JSON.stringify(v)));
    return [...a, ...b.filter((v) => !seen.has(JSON.stringify(v)))];
  }
  if (isMap(a) && isMap(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergeValue(a[k], v);
    return out;
  }
  return b;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The variables of the README's "Configuration" table, in order. */
export function readmeVariables(readme: string): string[] {
  const start = readme.indexOf('\n## Configuration');
  if (start < 0) throw new Error('README has no "## Configuration" section');
  const rest = readme.slice(start + 1);
  const next = rest.slice(1).search(/\n#{2,3} /);
  const section = next < 0 ? rest : rest.slice(0, next + 1);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (firstCell === undefined) continue;
    for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(m[1]!);
  }
  return names;
}

/** A service's `environment` as a map (Compose allows a map or a list of `KEY=VALUE`). */
export function environmentOf(service: ComposeService): Map<string, string | null> {
  const env = service.environment;
  const out = new Map<string, string | null>();
  if (Array.isArray(env)) {
    for (const entry of env as string[]) {
      const eq = entry.indexOf('=');
      out.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? null : entry.slice(eq + 1));
    }
  } else if (env) {
    for (const [k, v] of Object.entries(env)) out.set(k, v === null ? null : String(v));
  }
  return out;
}

/** Whether the service loads `.env` into its container (short or long env_file syntax). */
export function loadsDotEnv(service: ComposeService): boolean {
  const list = service.env_file === undefined ? [] : [service.env_file].flat();
  return list.some((e) => {
    const path = typeof e === 'string' ? e : isMap(e) ? e.path : undefined;
    return path === '.env' || path === './.env';
  });
}

export interface Unreachable {
  readonly variable: string;
  readonly why: string;
}

/**
 * README variables a value in `.env` would not change in this service: not passed at all, or
 * pinned to a fixed value in the compose file. `setPerService` lists the ones pinned on purpose.
 */
export function unreachableVariables(
  service: ComposeService,
  variables: readonly string[],
  setPerService: ReadonlySet<string>,
): Unreachable[] {
  const env = environmentOf(service);
  const dotEnv = loadsDotEnv(service);
  const out: Unreachable[] = [];
  for (const variable of variables) {
    if (setPerService.has(variable)) continue;
    if (env.has(variable)) {
      const value = env.get(variable);
      // `KEY` alone or `KEY: ${KEY...}` takes the value from the environment Compose reads (.env).
      const fromDotEnv = value === null || new RegExp(`\\$\\{?${variable}\\b`).test(value ?? '');
      if (!fromDotEnv) out.push({ variable, why: `pinned to ${JSON.stringify(value)} in the compose file` });
    } else if (!dotEnv) {
      out.push({ variable, why: 'not passed (no env_file: .env and not in environment)' });
    }
  }
  return out;
}

/**
 * The services that the guide's `docker compose ... build [SERVICE...]` commands name: lines that
 * start with a command (optionally after a `$ ` prompt), each `&&`/`;` part; prose is not read.
 */
export function guideBuildTargets(guide: string): { readonly all: boolean; readonly services: string[] } {
  let all = false;
  const services = new Set<string>();
  for (const line of guide.split('\n')) {
    if (!/^\s*(\$\s+)?docker compose\b/.test(line)) continue;
    for (const part of line.replace(/\s#.*$/, '').split(/&&|;|\|/)) {
      const m = /^\s*(?:\$\s+)?docker compose((?:\s+-f\s+\S+)*)\s+build\b(.*)$/.exec(part);
      if (!m) continue;
      const names = m[2]!
        .trim()
        .split(/\s+/)
        .filter((w) => w !== '' && !w.startsWith('-'));
      if (names.length === 0) all = true;
      for (const n of names) services.add(n);
    }
  }
  return { all, services: [...services] };
}

/**
 * The services that the guide's `docker compose <verb> ... SERVICE` commands (exec, logs, stop,
 * up, run, cp, build) name, so a misspelt one fails here instead of on the operator's VM.
 */
export function guideServiceNames(guide: string): string[] {
  const names = new Set<string>();
  for (const line of guide.split('\n')) {
    if (!/^\s*(\$\s+)?docker compose\b/.test(line)) continue;
    for (const part of line.replace(/\s#.*$/, '').split(/&&|;|\||</)) {
      const m = /^\s*(?:\$\s+)?docker compose(?:\s+-f\s+\S+)*\s+(exec|logs|stop|up|run|cp|build)\b(.*)$/.exec(
        part,
      );
      if (!m) continue;
      const words = m[2]!.trim().split(/\s+/);
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (w === '-v')
          i++; // a volume argument, not a service
        else if (w.startsWith('-') || w === '') continue;
        else {
          names.add(m[1] === 'cp' ? w.split(':')[0]! : w);
          // exec and run take one service; what follows is its command.
          if (m[1] === 'exec' || m[1] === 'run' || m[1] === 'cp') break;
        }
      }
    }
  }
  return [...names];
}

/** Named services that do not exist, or that neither build nor share a built service's image. */
export function servicesThatCannotBuild(compose: ComposeFile, names: readonly string[]): Unreachable[] {
  const out: Unreachable[] = [];
  for (const name of names) {
    const svc = compose.services[name];
    if (svc === undefined) {
      out.push({ variable: name, why: 'no such service' });
      continue;
    }
    if (svc.build !== undefined) continue;
    const sharedWith = Object.entries(compose.services).find(
      ([other, o]) =>
        other !== name && o.build !== undefined && o.image !== undefined && o.image === svc.image,
    );
    if (!sharedWith) {
      out.push({
        variable: name,
        why: `has no build: and shares no built image (${svc.image ?? 'no image'})`,
      });
    }
  }
  return out;
}

/** `KEY=VALUE` lines of a dotenv file (comments, blank lines and an unquoted ` #...` tail dropped). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not a KEY=VALUE line: ${raw}`);
    let value = m[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, '').trim();
    out[m[1]!] = value;
  }
  return out;
}

/** `ENV KEY=VALUE` of a Dockerfile's final stage (values that refer to a build ARG are left out). */
export function dockerfileEnv(dockerfile: string): Record<string, string> {
  const stages = dockerfile.replace(/\\\n/g, ' ').split(/^FROM\s/m);
  const out: Record<string, string> = {};
  for (const line of (stages.at(-1) ?? '').split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const pair of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) {
      if (!pair[2]!.includes('$')) out[pair[1]!] = pair[2]!;
    }
  }
  return out;
}

/**
 * The environment a service's container starts with: the image's ENV, then env_file `.env`, then
 * the service's `environment` (each later one wins, as in Docker).
 */
export function containerEnv(
  service: ComposeService,
  dotEnv: Env,
  imageEnv: Env = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(imageEnv)) if (v !== undefined) out[k] = v;
  if (loadsDotEnv(service)) {
    for (const [k, v] of Object.entries(dotEnv)) if (v !== undefined) out[k] = v;
  }
  for (const [k, v] of environmentOf(service)) {
    const value = v ?? dotEnv[k];
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/** The services a plain `up` starts with these profiles active (no profiles: always). */
export function activeServices(compose: ComposeFile, profiles: readonly string[]): string[] {
  return Object.entries(compose.services)
    .filter(([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name);
}
