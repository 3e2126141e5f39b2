import {
  constants,
  generateKeyPair,
  type KeyObject,
  type SignKeyObjectInput,
  type SignPrivateKeyInput,
} from 'node:crypto';
import { promisify } from 'node:util';
import { ASYMMETRIC_ALGORITHMS } from '@xmidt/auth';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Signing algorithms Themis can use: exactly those every verifier accepts. HMAC is absent:
 * its key would be published.
 */
export const SIGNING_ALGORITHMS = ASYMMETRIC_ALGORITHMS;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export function isSigningAlgorithm(alg: string): alg is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
}

interface AlgSpec {
  hash: string | null;
  family: 'rsa' | 'rsa-pss' | 'ec' | 'ed';
  curve?: string;
  hashLength?: number;
}

const SPECS: Record<SigningAlgorithm, AlgSpec> = {
  RS256: { hash: 'sha256', family: 'rsa' },
  RS384: { hash: 'sha384', family: 'rsa' },
  RS512: { hash: 'sha512', family: 'rsa' },
  PS256: { hash: 'sha256', family: 'rsa-pss', hashLength: 32 },
  PS384: { hash: 'sha384', family: 'rsa-pss', hashLength: 48 },
  PS512: { hash: 'sha512', family: 'rsa-pss', hashLength: 64 },
  ES256: { hash: 'sha256', family: 'ec', curve: 'P-256' },
  ES384: { hash: 'sha384', family: 'ec', curve: 'P-384' },
  ES512: { hash: 'sha512', family: 'ec', curve: 'P-521' },
  EdDSA: { hash: null, family: 'ed' },
};

/** RSA (RS*, PS*): signatures that cost hundreds of microseconds, not tens. */
export function isRsaAlgorithm(alg: SigningAlgorithm): boolean {
  const family = SPECS[alg].family;
  return family === 'rsa' || family === 'rsa-pss';
}

/** The digest argument of crypto.sign for an algorithm (null for EdDSA). */
export function hashOf(alg: SigningAlgorithm): string | null {
  return SPECS[alg].hash;
}

/** The key argument of crypto.sign: JOSE signature encodings (raw r||s for ECDSA, PSS salt = hash). */
export function signKeyInput(
  alg: SigningAlgorithm,
  key: KeyObject,
): KeyObject | SignKeyObjectInput {
  const spec = SPECS[alg];
  if (spec.family === 'ec')
    return { key, dsaEncoding: 'ieee-p1363' } satisfies SignPrivateKeyInput | SignKeyObjectInput;
  if (spec.family === 'rsa-pss') {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashLength ?? 32 };
  }
  return key;
}

/** Checks that a private key can sign with alg (type and curve). */
export function keyFitsAlgorithm(alg: SigningAlgorithm, key: KeyObject): boolean {
  const spec = SPECS[alg];
  const type = key.asymmetricKeyType;
  if (spec.family === 'rsa' || spec.family === 'rsa-pss') return type === 'rsa';
  if (spec.family === 'ed') return type === 'ed25519' || type === 'ed448';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const want = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[
    spec.curve ?? ''
  ];
  return type === 'ec' && curve === want;
}

/** A new private key for alg: RSA of `rsaBits` (>= 2048), the algorithm's curve, or Ed25519. */
export async function generatePrivateKey(
  alg: SigningAlgorithm,
  rsaBits: number,
): Promise<KeyObject> {
  const spec = SPECS[alg];
  if (spec.family === 'rsa' || spec.family === 'rsa-pss') {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: rsaBits });
    return privateKey;
  }
  if (spec.family === 'ec') {
    const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: spec.curve ?? 'P-256' });
    return privateKey;
  }
  const { privateKey } = await generateKeyPairAsync('ed25519');
  return privateKey;
}
