import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs openssl in `dir`; its errors surface as the thrown error's stderr. */
export function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface CertOptions {
  /** Subject common name. Default: the file name. */
  cn?: string;
  /** Validity in days. Default 2. */
  days?: number;
  /** `rsa` (2048 bits) or `ec` (P-256). Default `ec`. */
  key?: 'rsa' | 'ec';
}

const newKey = (key: CertOptions['key']): string[] =>
  key === 'rsa'
    ? ['-newkey', 'rsa:2048']
    : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/**
 * A self-signed certificate `<name>.pem` with key `<name>.key` in `dir`; a CA (basic
 * constraints and key usage of one) unless `ca` is false.
 */
export function selfSigned(
  dir: string,
  name: string,
  opts: CertOptions & { ca?: boolean } = {},
): void {
  const caExt =
    opts.ca === false
      ? []
      : [
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
        ];
  openssl(
    dir,
    'req',
    '-x509',
    ...newKey(opts.key),
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    String(opts.days ?? 2),
    '-subj',
    `/CN=${opts.cn ?? name}`,
    ...caExt,
  );
}

/**
 * A certificate `<name>.pem` with key `<name>.key` in `dir`, signed by the CA `<signer>.pem`
 * (made with selfSigned); `ext` is an openssl extension file's text (SANs, key usage).
 */
export function issueCert(
  dir: string,
  name: string,
  signer: string,
  opts: CertOptions & { ext?: string } = {},
): void {
  openssl(
    dir,
    'req',
    ...newKey(opts.key),
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${opts.cn ?? name}`,
  );
  const ext: string[] = [];
  if (opts.ext !== undefined) {
    writeFileSync(join(dir, `${name}.ext`), opts.ext);
    ext.push('-extfile', `${name}.ext`);
  }
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${signer}.pem`,
    '-CAkey',
    `${signer}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    String(opts.days ?? 2),
    ...ext,
  );
}
