import { Type, type Static } from '@sinclair/typebox';
import { durationSchema, listenerSchema, logSchema } from '@xmidt/runtime';
import { SIGNING_ALGORITHMS } from './algorithms.js';

const claimEntrySchema = Type.Object({
  key: Type.String({ minLength: 1 }),
  header: Type.Optional(Type.String({ minLength: 1 })),
  parameter: Type.Optional(Type.String({ minLength: 1 })),
  value: Type.Optional(Type.Unknown()),
  json: Type.Optional(Type.String()),
});

/** The issuer listener: like every listener, plus the original's mTLS modes. */
const issuerListenerSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 6501 }),
    tls: Type.Optional(
      Type.Object({
        certFile: Type.String({ minLength: 1 }),
        keyFile: Type.String({ minLength: 1 }),
        mtls: Type.Optional(
          Type.Object({
            /** CA bundle the TLS layer verifies client certificates against. */
            clientCACertificateFile: Type.Optional(Type.String({ minLength: 1 })),
            /** Accept clients without a certificate. */
            disableRequire: Type.Boolean({ default: false }),
            /** Do not let the TLS layer reject unverifiable certificates (trust still judged). */
            disableVerify: Type.Boolean({ default: false }),
          }),
        ),
      }),
    ),
    /** Tokens being signed at which /issue and /claims answer 429 (0 = unlimited); per worker. */
    maxConcurrentRequests: Type.Integer({ minimum: 0, default: 2000 }),
    /** Issuer processes (Node cluster) sharing the port; 1 = in this process. */
    workers: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  },
  { default: {} },
);

const trustSchema = Type.Object(
  {
    noCertificates: Type.Integer({ default: 0 }),
    expiredUntrusted: Type.Integer({ default: 0 }),
    expiredTrusted: Type.Integer({ default: 500 }),
    untrusted: Type.Integer({ default: 0 }),
    trusted: Type.Integer({ default: 1000 }),
    untrustedCertIssuerCN: Type.Integer({ default: 0 }),
  },
  { default: {} },
);

export const DEFAULT_CLAIMS = [
  { key: 'mac', header: 'X-Midt-Mac-Address', parameter: 'mac' },
  { key: 'serial', header: 'X-Midt-Serial-Number', parameter: 'serial' },
  { key: 'uuid', header: 'X-Midt-Uuid', parameter: 'uuid' },
  { key: 'iss', value: 'themis' },
  { key: 'sub', value: 'client-supplied' },
  { key: 'aud', value: 'XMiDT' },
];

export const themisConfigSchema = Type.Object({
  log: logSchema(),
  servers: Type.Object(
    {
      /** Key server (`/keys/{kid}`, JWKS): the original's port 6500. */
      key: listenerSchema({ port: 6500 }),
      /** Issuer (`/issue`, `/claims`): the original's port 6501. */
      issuer: issuerListenerSchema,
      /** Health, readiness, metrics, `POST /keys/rotate`. */
      admin: listenerSchema({ host: '127.0.0.1', port: 6503 }),
    },
    { default: {} },
  ),
  token: Type.Object(
    {
      alg: Type.Union(
        SIGNING_ALGORITHMS.map((a) => Type.Literal(a)),
        { default: 'RS256' },
      ),
      nonce: Type.Boolean({ default: true }),
      disableTime: Type.Boolean({ default: false }),
      duration: durationSchema('24h'),
      disableNotBefore: Type.Boolean({ default: false }),
      notBeforeDelta: durationSchema('-15s'),
      key: Type.Object(
        {
          /** kid of `file`, or the prefix of generated kids. */
          kid: Type.String({
            minLength: 1,
            maxLength: 100,
            pattern: '^[A-Za-z0-9_.~:+=@-]+$',
            default: 'themis',
          }),
          /** Key type as in the original; must fit alg when given. */
          type: Type.Optional(
            Type.Union([Type.Literal('rsa'), Type.Literal('ecdsa'), Type.Literal('ed25519')]),
          ),
          bits: Type.Integer({ minimum: 2048, maximum: 8192, default: 2048 }),
          /** PEM private key (PKCS#1/PKCS#8): fixed key, no rotation. */
          file: Type.Optional(Type.String({ minLength: 1 })),
          /** Where generated keys persist ('' = memory only, lost at restart). */
          directory: Type.String({ default: '.data/themis/keys' }),
          /** Rotate the signing key this often (0 = only by `POST /keys/rotate`). */
          rotateEvery: durationSchema(0),
          /** Retired keys stay published for `duration` plus this much. */
          retainGrace: durationSchema('5m'),
        },
        { default: {} },
      ),
      claims: Type.Array(claimEntrySchema, { default: DEFAULT_CLAIMS, maxItems: 256 }),
      /** Partner id claim ('' claim = none), from header, else parameter, else default. */
      partnerID: Type.Object(
        {
          claim: Type.String({ default: 'partner-id' }),
          header: Type.String({ default: 'X-Midt-Partner-ID' }),
          parameter: Type.String({ default: 'pid' }),
          default: Type.String({ default: '' }),
        },
        { default: {} },
      ),
      clientCertificates: Type.Object(
        {
          rootCAFile: Type.Optional(Type.String({ minLength: 1 })),
          intermediatesFile: Type.Optional(Type.String({ minLength: 1 })),
          trust: trustSchema,
          untrustedCertChecks: Type.Array(
            Type.Object({ issuerCNRegex: Type.String({ minLength: 1 }) }),
            {
              default: [],
            },
          ),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  signer: Type.Object(
    {
      /**
       * auto: threadpool for RSA, threads for ECDSA/EdDSA; threadpool: async crypto.sign on
       * libuv's pool; threads: batches per event-loop turn on worker threads; inline: on the
       * event loop.
       */
      mode: Type.Union(
        [
          Type.Literal('auto'),
          Type.Literal('threadpool'),
          Type.Literal('threads'),
          Type.Literal('inline'),
        ],
        { default: 'auto' },
      ),
      /** Worker threads of the `threads` mode. */
      threads: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    },
    { default: {} },
  ),
});

export type ThemisConfig = Static<typeof themisConfigSchema>;
