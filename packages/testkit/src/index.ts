export { startEtcd, ETCD_BINARY, type TestEtcd } from './etcd.js';
export { freePort } from './free-port.js';
export { waitFor } from './wait-for.js';
export {
  assertDocumented,
  assertOperationsAnswer,
  documentedOperations,
  routedOperations,
  type OperationsByListener,
} from './openapi.js';
export { issueCert, openssl, selfSigned, type CertOptions } from './pki.js';
