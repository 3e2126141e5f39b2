/** Base class of every error in the project: a stable machine-readable `code` plus a message. */
export class XmidtError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Configuration could not be read, parsed or validated. `issues` lists each problem. */
export class ConfigError extends XmidtError {
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super('config_invalid', `invalid configuration: ${issues.join('; ')}`, options);
    this.issues = issues;
  }
}

/** A Go-style duration string could not be parsed. */
export class DurationError extends XmidtError {
  constructor(message: string) {
    super('duration_invalid', message);
  }
}
