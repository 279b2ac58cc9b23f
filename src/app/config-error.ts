/** A setting that cannot be used. Start-up stops with this message, which names the variable. */
export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}
