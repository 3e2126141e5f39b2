import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCert, selfSigned } from '@xmidt/testkit';

export interface TestCerts {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCertFile: string;
  strangerKeyFile: string;
  read(file: string): Buffer;
  cleanup(): void;
}

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, via openssl. */
export function generateCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'xmidt-runtime-certs-'));
  selfSigned(dir, 'ca');
  selfSigned(dir, 'other-ca');
  issueCert(dir, 'server', 'ca', {
    ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  });
  issueCert(dir, 'client', 'ca', { ext: 'extendedKeyUsage=clientAuth\n' });
  issueCert(dir, 'stranger', 'other-ca', { ext: 'extendedKeyUsage=clientAuth\n' });
  const f = (n: string) => join(dir, n);
  return {
    dir,
    caFile: f('ca.pem'),
    serverCertFile: f('server.pem'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    strangerCertFile: f('stranger.pem'),
    strangerKeyFile: f('stranger.key'),
    read: (file) => readFileSync(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
