// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { unknownSettings } from '../../src/app/unknown-env.js';
import {
  activeServices,
  type ComposeFile,
  containerEnv,
  dockerfileEnv,
  environmentOf,
  guideBuildTargets,
  guideServiceNames,
  interpolate,
  interpolateAll,
  mergeCompose,
  parseDotEnv,
  RequiredVariableError,
  readmeVariables,
  servicesThatCannotBuild,
  unreachableVariables,
} from './compose-check.js';

// Docker cannot run here: these tests read the files an operator follows (README, the guide,
// the compose files, .env.example) and check them against each other and against the program.

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const yamlOf = (path: string) => parse(read(path)) as ComposeFile;

const readme = read('README.md');
const guide = read('docs/deploy.md');
const base = yamlOf('docker-compose.yml');
const overlay = yamlOf('docker-compose.webhook.yml');
const envExample = read('.env.example');
const imageEnv = dockerfileEnv(read('Dockerfile'));

/** Set by the compose file per service on purpose (docs/deploy.md, "Settings live in .env"). */
const SET_PER_SERVICE = new Set(['ROLE', 'REDIS_URL']);
/** Baked into the image by the build (build args), shown by /version. */
const BUILD_ARGS = ['GIT_COMMIT', 'BUILD_TIME'];
/** The services that run the program. */
const PROGRAM_SERVICES = ['processor', 'bot'];

const TOKEN = '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('compose-check helpers (on small fixtures)', () => {
  it('interpolates like Compose: defaults, nesting, required, $$', () => {
    const env = { A: 'a', EMPTY: '', B: 'b' };
    expect(interpolate('x:${A:-d}', env)).toBe('x:a');
    expect(interpolate('${EMPTY:-d}|${EMPTY-d}|${NOPE-d}', env)).toBe('d||d');
    expect(interpolate('${NOPE:-${EMPTY:-${B}}}', env)).toBe('b');
    expect(interpolate('$A-$$A-${A:+set}', env)).toBe('a-$A-set');
    expect(() => interpolate('${EMPTY:?say it}', env)).toThrow(RequiredVariableError);
    expect(interpolate('${EMPTY?fine when set}', env)).toBe('');
  });

  it('reads the variables of the README configuration table only', () => {
    const fixture = [
      '## Configuration',
      '| variable | default | meaning |',
      '|---|---|---|',
      '| `ALPHA` | `1` | a `NOT_A_VAR` mention |',
      '| `GIT_COMMIT`, `BUILD_TIME` | unset | two |',
      '',
      '| option | meaning |',
      '| `--flag` | x |',
      '## Redis contract',
      '| `LATER` | x |',
    ].join('\n');
    expect(readmeVariables(`intro\n${fixture}`)).toEqual(['ALPHA', 'GIT_COMMIT', 'BUILD_TIME']);
  });

  it('finds a README variable that compose does not pass (the check can fail)', () => {
    const vars = ['TOP_N', 'NEW_SETTING', 'ROLE'];
    const listed = { environment: { ROLE: 'bot', TOP_N: '${TOP_N:-20}' } };
    expect(unreachableVariables(listed, vars, new Set(['ROLE']))).toEqual([
      { variable: 'NEW_SETTING', why: expect.stringContaining('not passed') },
    ]);
    const pinned = { env_file: '.env', environment: ['TOP_N=20', 'ROLE=bot'] };
    expect(unreachableVariables(pinned, vars, new Set(['ROLE'])).map((u) => u.variable)).toEqual(['TOP_N']);
    expect(unreachableVariables({ env_file: [{ path: '.env' }] }, vars, new Set(['ROLE']))).toEqual([]);
    expect(unreachableVariables({ env_file: 'other.env' }, ['X'], new Set())).toHaveLength(1);
  });

  it('finds the services a guide builds, and one that cannot build', () => {
    const text = [
      '$ docker compose build bot   # the bot',
      '$ docker compose -f a.yml -f b.yml build processor && docker compose build extra',
      'prose: `docker compose build bot` builds it.',
    ].join('\n');
    expect(guideBuildTargets(text)).toEqual({ all: false, services: ['bot', 'processor', 'extra'] });
    const fixture: ComposeFile = {
      services: {
        processor: { image: 'p:1', build: { context: '.' } },
        shared: { image: 'p:1' },
        stale: { image: 'p:latest' },
      },
    };
    expect(servicesThatCannotBuild(fixture, ['processor', 'shared', 'stale', 'ghost'])).toEqual([
      { variable: 'stale', why: expect.stringContaining('no build') },
      { variable: 'ghost', why: 'no such service' },
    ]);
  });

  it('reads the service each guide command names', () => {
    const text = [
      '$ docker compose exec -T redis sh < deploy/redis-snapshot.sh',
      '$ docker compose cp redis:/data/dump.rdb backups/x.rdb',
      '$ docker compose run --rm --no-deps -v "$PWD/b:/b:ro" redis sh /deploy/x.sh',
      '$ docker compose stop bot processor',
      '$ docker compose up -d --no-deps bott',
      '$ docker compose logs -f bot | grep x',
    ].join('\n');
    expect(guideServiceNames(text).sort()).toEqual(['bot', 'bott', 'processor', 'redis']);
  });

  it('merges an overlay the way -f base -f overlay does', () => {
    const merged = mergeCompose(
      { services: { bot: { image: 'i', environment: { ROLE: 'bot' }, expose: ['1'] } } },
      {
        services: {
          bot: { environment: { BOT_MODE: 'webhook' }, expose: ['1', '2'] },
          proxy: { image: 'c' },
        },
      },
    );
    expect(merged.services.bot).toEqual({
      image: 'i',
      environment: { ROLE: 'bot', BOT_MODE: 'webhook' },
      expose: ['1', '2'],
    });
    expect(merged.services.proxy).toEqual({ image: 'c' });
  });
});

describe('docker-compose.yml against the README and docs/deploy.md', () => {
  const variables = readmeVariables(readme);

  it('reads a plausible README table', () => {
    expect(variables.length).toBeGreaterThan(30);
    expect(variables).toEqual(expect.arrayContaining(['REDIS_URL', 'TELEGRAM_BOT_TOKEN', 'WEBHOOK_URL']));
  });

  it('every README variable is reachable from .env in the services that run the program', () => {
    const perService = new Set([...SET_PER_SERVICE, ...BUILD_ARGS]);
    for (const name of PROGRAM_SERVICES) {
      const svc = base.services[name]!;
      const unreachable = unreachableVariables(svc, variables, perService);
      // The processor pins BOT_MODE on purpose: it runs no bot (the bot reads it from .env).
      const allowed = name === 'processor' ? ['BOT_MODE'] : [];
      expect(
        unreachable.filter((u) => !allowed.includes(u.variable)),
        name,
      ).toEqual([]);
      for (const v of SET_PER_SERVICE) expect(environmentOf(svc).has(v), `${name} sets ${v}`).toBe(true);
      const args = (svc.build as { args?: Record<string, string> }).args ?? {};
      for (const v of BUILD_ARGS) expect(Object.keys(args), `${name} build args`).toContain(v);
    }
  });

  it('.env.example names every README variable, so an operator finds each one', () => {
    const missing = variables.filter((v) => !new RegExp(`\\b${v}\\b`).test(envExample));
    expect(missing).toEqual([]);
  });

  it('every service the guide builds has a build section or shares a built image', () => {
    const targets = guideBuildTargets(guide);
    expect(targets.services).toEqual(expect.arrayContaining(['bot', 'processor']));
    // A bare `docker compose build` builds both images at once: too much for the 1 GB VM.
    expect(targets.all).toBe(false);
    expect(servicesThatCannotBuild(base, targets.services)).toEqual([]);
  });

  it('every service a guide command names exists (base file and webhook overlay)', () => {
    const all = Object.keys(mergeCompose(base, overlay).services);
    expect(guideServiceNames(guide).filter((n) => !all.includes(n))).toEqual([]);
    expect(guideServiceNames(guide)).toEqual(expect.arrayContaining(['redis', 'processor', 'bot']));
  });

  it('the bot is optional: every command works without a token, and the bot runs only in its profile', () => {
    const noToken = interpolateAll(base, {});
    expect(activeServices(noToken, [])).toEqual(['redis', 'processor']);
    expect(activeServices(noToken, ['bot'])).toEqual(['redis', 'processor', 'bot']);
    expect(read('docker-compose.yml')).not.toMatch(/\$\{[A-Z_]+:?\?/);
    // The processor starts with the example .env as it stands (no token, no bot).
    const env = containerEnv(noToken.services.processor!, parseDotEnv(envExample), imageEnv);
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('tags come from .env: a release or rollback there holds through a plain `up -d`', () => {
    const images = (env: Record<string, string>) => {
      const c = interpolateAll(base, env);
      return { processor: c.services.processor!.image, bot: c.services.bot!.image };
    };
    expect(images({ PULSE_TAG: '4f1c2ab', BOT_TAG: '' })).toEqual({
      processor: 'perp-pulse:4f1c2ab',
      bot: 'perp-pulse:4f1c2ab',
    });
    expect(images({ PULSE_TAG: '4f1c2ab', BOT_TAG: '9d0e1f2' })).toEqual({
      processor: 'perp-pulse:4f1c2ab',
      bot: 'perp-pulse:9d0e1f2',
    });
    expect(images({ PULSE_TAG: '4f1c2ab', PROCESSOR_TAG: '0aa0aa0' }).processor).toBe('perp-pulse:0aa0aa0');
    const commit = (c: ComposeFile, s: string) =>
      (c.services[s]!.build as { args: Record<string, string> }).args.GIT_COMMIT;
    expect(commit(interpolateAll(base, { PULSE_TAG: 'abc', BOT_TAG: 'def' }), 'bot')).toBe('def');
    // The guide edits .env; it never sets a tag for one command only (that would not stick).
    expect(guide).toMatch(/sed -i "s\/\^BOT_TAG=/);
    expect(guide).not.toMatch(/(PULSE|BOT|PROCESSOR)_TAG=\S+\s+docker compose/);
  });

  it('bot and processor start with the example settings and a token (their config is valid)', () => {
    const dotEnv = { ...parseDotEnv(envExample), TELEGRAM_BOT_TOKEN: TOKEN, COMPOSE_PROFILES: 'bot' };
    const c = interpolateAll(base, dotEnv);
    expect(loadConfig(containerEnv(c.services.bot!, dotEnv, imageEnv))).toMatchObject({
      role: 'bot',
      botConsumer: 'bot-1',
      redisUrl: 'redis://redis:6379',
    });
    expect(loadConfig(containerEnv(c.services.processor!, dotEnv, imageEnv)).role).toBe('processor');
    // Every name the example .env and the compose file put into a container is a setting or a
    // known compose name: the start-up line about unknown variables stays silent.
    const everything = {
      ...dotEnv,
      ...Object.fromEntries([...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => [m[1]!, 'x'])),
    };
    for (const service of ['bot', 'processor'] as const)
      expect(unknownSettings(containerEnv(c.services[service]!, everything, imageEnv))).toEqual([]);
  });

  it('a setting in .env reaches both containers; ROLE and REDIS_URL there do not', () => {
    const dotEnv = { TOP_N: '7', ROLE: 'all', REDIS_URL: 'redis://elsewhere:1' };
    for (const name of PROGRAM_SERVICES) {
      const env = containerEnv(interpolateAll(base, dotEnv).services[name]!, dotEnv, imageEnv);
      expect(env).toMatchObject({ TOP_N: '7', ROLE: name, REDIS_URL: 'redis://redis:6379' });
    }
  });

  it('shows an output under every docker compose command of the guide', () => {
    const silent: string[] = [];
    for (const block of guide.matchAll(/```console\n([\s\S]*?)```/g)) {
      const lines = block[1]!.split('\n');
      lines.forEach((line, i) => {
        const next = lines[i + 1];
        if (/^\$ docker compose /.test(line) && (next === undefined || next === '' || next.startsWith('$ ')))
          silent.push(line);
      });
    }
    expect(silent).toEqual([]);
    for (const heading of ['Updating the bot alone', 'Rolling back', 'Webhook', 'Backup', 'Restore']) {
      expect(guide).toContain(heading);
    }
  });
});

describe('docker-compose.webhook.yml', () => {
  const dotEnv = {
    TELEGRAM_BOT_TOKEN: TOKEN,
    COMPOSE_PROFILES: 'bot',
    WEBHOOK_HOST: 'bot.example.com',
    WEBHOOK_PATH: '/tg/pulse-hook',
    WEBHOOK_SECRET: 'a'.repeat(64),
  };
  const merged = interpolateAll(mergeCompose(base, overlay), dotEnv);

  it('only extends services of the base file, and a new one is complete', () => {
    for (const [name, svc] of Object.entries(overlay.services)) {
      if (base.services[name]) continue;
      expect(svc.image ?? svc.build, `${name} is new: a misspelt service would have no image`).toBeDefined();
    }
    expect(Object.keys(overlay.services)).toContain('bot');
    const readmeVars = new Set(readmeVariables(readme));
    for (const v of environmentOf(overlay.services.bot!).keys()) expect(readmeVars).toContain(v);
  });

  it('gives the bot a webhook config the program accepts, served where the proxy sends it', () => {
    const bot = merged.services.bot!;
    // The image sets HTTP_PORT (its HEALTHCHECK probes it); webhook mode serves on it too.
    expect(imageEnv.HTTP_PORT).toBe('8080');
    const cfg = loadConfig(containerEnv(bot, dotEnv, imageEnv));
    expect(cfg.botMode).toBe('webhook');
    expect(cfg.webhook).toMatchObject({
      url: 'https://bot.example.com/tg/pulse-hook',
      path: '/tg/pulse-hook',
    });
    const proxy = merged.services.proxy!;
    const proxyEnv = environmentOf(proxy);
    // The proxy routes by the same host and path, and forwards to the port the bot serves on.
    expect(proxyEnv.get('WEBHOOK_HOST')).toBe('bot.example.com');
    expect(proxyEnv.get('WEBHOOK_PATH')).toBe(cfg.webhook?.path);
    expect(proxyEnv.get('BOT_UPSTREAM')).toBe(`bot:${cfg.httpPort ?? 8080}`);
    expect(bot.expose).toContain(String(cfg.httpPort ?? 8080));
    // The bot's port is for the proxy only: nothing published on the host.
    expect(bot.ports).toBeUndefined();
    expect(proxy.profiles).toEqual(['bot']);
    // The processor is unaffected by the bot's webhook settings.
    expect(loadConfig(containerEnv(merged.services.processor!, dotEnv, imageEnv)).botMode).toBe('polling');
  });

  it('follows HTTP_PORT from .env on both sides', () => {
    const env = { ...dotEnv, HTTP_PORT: '9090' };
    const m = interpolateAll(mergeCompose(base, overlay), env);
    const cfg = loadConfig(containerEnv(m.services.bot!, env, imageEnv));
    expect(cfg.httpPort).toBe(9090);
    expect(m.services.bot!.expose).toContain('9090');
    expect(environmentOf(m.services.proxy!).get('BOT_UPSTREAM')).toBe('bot:9090');
  });

  it('the proxy config keeps the webhook path and forwards nothing else', () => {
    const mounts = (merged.services.proxy!.volumes ?? []) as string[];
    const caddyfile = mounts.find((m) => m.endsWith(':/etc/caddy/Caddyfile:ro'));
    expect(caddyfile).toBeDefined();
    const hostPath = caddyfile!.split(':')[0]!;
    expect(existsSync(new URL(hostPath, root))).toBe(true);
    const text = read(hostPath).replace(/^\s*#.*$/gm, '');
    expect(text).toMatch(/^\{\$WEBHOOK_HOST\} \{/m);
    expect(text).toMatch(/handle \{\$WEBHOOK_PATH\} \{\s*reverse_proxy \{\$BOT_UPSTREAM\}/);
    expect(text).not.toMatch(/handle_path|uri strip_prefix|rewrite/);
    expect(text).toMatch(/respond 404/);
  });

  it('asks for WEBHOOK_HOST instead of serving a webhook nobody can reach', () => {
    const { WEBHOOK_HOST: _, ...withoutHost } = dotEnv;
    expect(() => interpolateAll(mergeCompose(base, overlay), withoutHost)).toThrow(RequiredVariableError);
    // The program itself still refuses a webhook without its secret.
    const { WEBHOOK_SECRET: __, ...noSecret } = dotEnv;
    const bot = interpolateAll(mergeCompose(base, overlay), noSecret).services.bot!;
    expect(() => loadConfig(containerEnv(bot, noSecret, imageEnv))).toThrow(ConfigError);
  });
});
