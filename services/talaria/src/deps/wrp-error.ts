export class WrpError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'WrpError';
    this.code = code;
  }
}
