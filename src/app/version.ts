import { readFileSync } from 'node:fs';

export interface VersionInfo {
  readonly version: string;
  readonly commit: string;
  readonly buildTime: string;
  readonly role: string;
  readonly node: string;
}

/** Version from package.json; commit and build time from the image build (GIT_COMMIT, BUILD_TIME). */
export function versionInfo(role: string, env: NodeJS.ProcessEnv = process.env): VersionInfo {
  let version = 'unknown';
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      version = (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string })
        .version;
      break;
    } catch {
      // try the next layout (dist/src/app or src/app)
    }
  }
  return {
    version,
    commit: env.GIT_COMMIT ?? 'unknown',
    buildTime: env.BUILD_TIME ?? 'unknown',
    role,
    node: process.version,
  };
}
