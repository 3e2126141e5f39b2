/** Bounds applied while decoding untrusted input. Every field has a built-in default. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Longest string field, metadata key or value, or header/partner entry, in bytes (default 64 KiB). */
  maxStringLength?: number;
  /** Most entries in any map or array, the message map itself included (default 1024). */
  maxEntries?: number;
  /** Most metadata entries (default 512). */
  maxMetadataEntries?: number;
  /** Deepest nesting of maps/arrays; the message map is depth 1 (default 16). */
  maxDepth?: number;
}

/** Decode options: the limits plus how the payload is returned. */
export interface DecodeOptions extends DecodeLimits {
  /**
   * When true the payload is copied out of the input. By default it is a view sharing the input's
   * memory, which is safe as long as the caller does not reuse the input buffer.
   */
  copyPayload?: boolean;
}

export interface ResolvedLimits {
  readonly maxBytes: number;
  readonly maxStringLength: number;
  readonly maxEntries: number;
  readonly maxMetadataEntries: number;
  readonly maxDepth: number;
  readonly copyPayload: boolean;
}

export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxStringLength: 64 * 1024,
  maxEntries: 1024,
  maxMetadataEntries: 512,
  maxDepth: 16,
  copyPayload: false,
});

const pick = (value: number | undefined, fallback: number): number =>
  value === undefined || !(value >= 0) ? fallback : value;

export function resolveLimits(options: DecodeOptions | undefined): ResolvedLimits {
  if (options === undefined) return DEFAULT_LIMITS;
  return {
    maxBytes: pick(options.maxBytes, DEFAULT_LIMITS.maxBytes),
    maxStringLength: pick(options.maxStringLength, DEFAULT_LIMITS.maxStringLength),
    maxEntries: pick(options.maxEntries, DEFAULT_LIMITS.maxEntries),
    maxMetadataEntries: pick(options.maxMetadataEntries, DEFAULT_LIMITS.maxMetadataEntries),
    maxDepth: pick(options.maxDepth, DEFAULT_LIMITS.maxDepth),
    copyPayload: options.copyPayload === true,
  };
}
